"""Model bundles on disk (``models/<name>/``): load with checks, score a canonical frame."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.ingest.digest import sha256_file
from ids_desktop.core.model import sequences
from ids_desktop.core.model.calibration import Distance, apply_temperature
from ids_desktop.core.model.preprocess import (
    BEHAVIOUR_FEATURES,
    CONTEXT_FEATURES,
    GAP_FEATURE,
    PEER_GAP_FEATURE,
    PEER_PREV_GAP_FEATURE,
    Preprocessor,
)
from ids_desktop.core.model.verdicts import Verdicts, decide, reconstruction_error
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import ModelError

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
CARD_FILE = "MODEL_CARD.md"
#: Scaled training sequences ``(n, T, F)`` that explanations perturb towards (plain .npy).
BACKGROUND_FILE = "background.npy"
FORMAT_VERSION = 1
#: Rows preprocessed at a time (bounds float64 intermediates on large inputs).
FEATURE_CHUNK_ROWS = 131072
#: Flow positions (windows x T) scored per runner call; bounds memory on large inputs.
CHUNK_POSITIONS = 131072


def default_models_dir() -> Path:
    """The bundled ``models/`` folder (``ids_desktop.paths`` decides where it is)."""
    from ids_desktop import paths

    return paths.models_dir()


@dataclass
class Scores:
    """Per-flow outputs of a bundle, all aligned with the input frame's rows."""

    probs: np.ndarray
    pred_score: np.ndarray
    anomaly_score: np.ndarray
    flagged: np.ndarray
    pred_class: pd.api.extensions.ExtensionArray  #: pandas ``string`` array
    #: Rows out of the training distribution (``None`` for bundles without a distance).
    unusual: np.ndarray | None = None


class CalibratedRunner:
    """A runner whose class probabilities are temperature-scaled
    (:func:`~ids_desktop.core.model.calibration.apply_temperature`); reconstructions pass."""

    def __init__(self, runner: Any, temperature: float) -> None:
        self.runner = runner
        self.temperature = float(temperature)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        out = list(self.runner(x))
        out[0] = apply_temperature(out[0], self.temperature)
        return out

    def __getattr__(self, name: str) -> Any:  # input_shape and the like
        return getattr(self.runner, name)


class Bundle:
    """A loaded bundle: the network's runner, its preprocessing and decision thresholds.

    Use :func:`load_bundle`; ``__init__`` only stores what it is given.

    Attributes
    ----------
    runner
        ``runner(x)`` -> ``[probs, recon]`` for model inputs ``x`` ``(n, T, F, 2)``: an
        :class:`~ids_desktop.core.model.runtime.OnnxRunner` or a ``KerasRunner``.
    backend
        ``"onnx"`` or ``"keras"``.
    model
        The Keras model when the backend is Keras, else ``None``.
    """

    def __init__(self, path: Path, runner: Any, metadata: dict[str, Any], *,
                 backend: str = "onnx", model: Any = None, tree: Any = None) -> None:
        self.path = path
        self.runner = runner
        self.backend = backend
        self.model = model
        self.metadata = metadata
        self.preprocessor = Preprocessor.from_json(metadata["preprocessing"])
        self.classes: list[str] = list(metadata["classes"])
        self.seq_len = int(metadata["seq_len"])
        self.stride = int(metadata.get("stride", self.seq_len))
        self.threshold = float(metadata["threshold"])
        self.anomaly_threshold = float(metadata["anomaly_threshold"])
        #: Each input's squared reconstruction error counts at most this much in the anomaly
        #: score (:func:`~ids_desktop.core.model.verdicts.reconstruction_error`); ``None``: no cap.
        self.anomaly_error_cap: float | None = (float(metadata["anomaly_error_cap"])
                                                if metadata.get("anomaly_error_cap") else None)
        #: Calibration and the distance from the training data (:mod:`.calibration`); bundles
        #: trained before them have neither.
        self.temperature = float(metadata.get("temperature", 1.0))
        self.min_confidence = float(metadata.get("min_confidence", 0.0))
        distance = metadata.get("distance")
        self.distance = Distance.from_json(distance) if distance else None
        if self.temperature != 1.0:
            self.runner = CalibratedRunner(runner, self.temperature)
        #: The blend's tree (:class:`~ids_desktop.core.model.runtime.TreeRunner`) when the
        #: bundle ships the average of the network and a tree (issue 34), else ``None``.
        self.tree = tree
        if tree is not None:
            from ids_desktop.core.model.runtime import BlendedRunner

            self.runner = BlendedRunner(self.runner, tree,
                                        float(metadata["blend"].get("weight", 0.5)))

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def feature_format(self) -> str:
        return str(self.metadata["feature_format"])

    def windows(self, frame: pd.DataFrame, temporal: bool) -> np.ndarray:
        """Row-index windows for ``frame`` (one flow per window unless temporal and T > 1)."""
        if temporal and self.seq_len > 1:
            hosts, times = sequences.host_time_keys(frame)
            return sequences.build_windows(hosts, times, self.seq_len, self.stride)
        return np.arange(len(frame), dtype=np.int64)[:, None] if self.seq_len == 1 else (
            sequences.build_windows(np.arange(len(frame)), np.zeros(len(frame)), self.seq_len)
        )

    def features(self, frame: pd.DataFrame, temporal: bool) -> np.ndarray:
        """The scaled feature matrix, with the context features (host gap, peer gaps) the
        bundle reads computed from the frame's hosts and times.

        Transformed in row chunks, so a million-flow capture never holds a second copy of
        its table or float64 intermediates for every row at once.
        """
        pre = self.preprocessor
        need = [c for c in CONTEXT_FEATURES if c in pre.input_columns and c not in frame.columns]
        ctx = context_columns(frame, temporal, need)
        cols = [c for c in pre.input_columns if c not in ctx]
        n = len(frame)
        if n <= FEATURE_CHUNK_ROWS:
            return pre.transform(frame[cols].assign(**ctx) if ctx else frame)
        out = np.empty((n, pre.n_outputs), dtype=np.float32)
        for a in range(0, n, FEATURE_CHUNK_ROWS):
            b = min(a + FEATURE_CHUNK_ROWS, n)
            part = frame.iloc[a:b][cols]
            if ctx:
                part = part.assign(**{k: v[a:b] for k, v in ctx.items()})
            out[a:b] = pre.transform(part)
        return out

    def score(
        self,
        frame: pd.DataFrame,
        *,
        temporal: bool = False,
        threshold: float | None = None,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Scores:
        """Score every flow of a canonical ``frame``.

        Parameters
        ----------
        frame
            Canonical flow table holding the bundle's feature columns.
        temporal
            Whether rows carry real times and hosts (``IngestResult.temporal``).
        threshold
            Override of the bundle's decision threshold on ``pred_score``.
        progress, cancel
            Hooks, see :mod:`ids_desktop.core.tasks`.
        """
        x = self.features(frame, temporal)
        windows = self.windows(frame, temporal)
        return self.scores(x, windows, threshold, progress=progress, cancel=cancel)

    def scores(
        self,
        x: np.ndarray,
        windows: np.ndarray,
        threshold: float | None = None,
        *,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> Scores:
        """:class:`Scores` of the rows of ``x`` (scaled features) read in ``windows``."""
        probs, anomaly = self.score_windows(x, windows, progress=progress, cancel=cancel)
        unusual = self.unusual(x)
        v = self.verdicts(probs, anomaly, threshold, unusual=unusual)
        return Scores(probs, v.p_attack, anomaly.astype(np.float64), v.flagged, v.pred_class(),
                      unusual)

    def unusual(self, x: np.ndarray) -> np.ndarray | None:
        """Rows of ``x`` out of the training distribution, or ``None`` without a distance."""
        if self.distance is None:
            return None
        out = np.zeros(len(x), dtype=bool)
        for a in range(0, len(x), FEATURE_CHUNK_ROWS):
            out[a : a + FEATURE_CHUNK_ROWS] = self.distance.unusual(x[a : a + FEATURE_CHUNK_ROWS])
        return out

    def verdicts(
        self, probs: np.ndarray, anomaly: np.ndarray, threshold: float | None = None, *,
        unusual: np.ndarray | None = None,
    ) -> Verdicts:
        """The verdict rule (:mod:`ids_desktop.core.model.verdicts`) at ``threshold`` (the
        bundle's own by default). Scoring once and calling this per threshold reads several
        operating points off one pass."""
        thr = self.threshold if threshold is None else float(threshold)
        return decide(probs, anomaly, self.classes, thr, self.anomaly_threshold,
                      unusual=unusual, min_confidence=self.min_confidence)

    def score_windows(
        self,
        x: np.ndarray,
        windows: np.ndarray,
        *,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-row class probabilities ``(n, C)`` and anomaly scores ``(n,)``.

        Windows go through the runner in chunks; each chunk is reduced at once to what a row
        keeps (its probabilities and its reconstruction error at the position with the most
        context), so memory follows the rows, not ``windows x T x F`` reconstructions.
        """
        n, c = len(x), len(self.classes)
        probs = np.zeros((n, c), dtype=np.float32)
        anomaly = np.zeros(n, dtype=np.float64)
        if n == 0 or len(windows) == 0:
            return probs, anomaly
        owner = sequences.owners(windows)  # the position each row takes its outputs from
        n_w = len(windows)
        step = max(1, CHUNK_POSITIONS // windows.shape[1])
        for start in range(0, n_w, step):
            check_cancel(cancel)
            part = windows[start : start + step]
            tensor = sequences.to_tensor(x, part)
            p_w, recon = self.runner(tensor)[:2]
            if x.shape[1]:
                err = reconstruction_error(tensor[..., 0], recon, self.anomaly_error_cap)
            else:
                err = np.zeros(part.shape)
            rows = owner[start : start + step]
            sel = rows >= 0
            probs[rows[sel]] = p_w[sel]
            anomaly[rows[sel]] = err[sel]
            del tensor, recon, p_w, err
            if progress is not None:
                progress(min(start + step, n_w), n_w, "scoring flows")
        return probs, anomaly


def context_columns(
    frame: pd.DataFrame, temporal: bool, names: Collection[str]
) -> dict[str, np.ndarray]:
    """The context features ``names`` (of :data:`CONTEXT_FEATURES`) of ``frame``'s rows."""
    out: dict[str, np.ndarray] = {}
    if GAP_FEATURE in names:
        out[GAP_FEATURE] = sequences.frame_gaps(frame, temporal)
    if PEER_GAP_FEATURE in names or PEER_PREV_GAP_FEATURE in names:
        gap, prev = sequences.frame_pair_gaps(frame, temporal)
        if PEER_GAP_FEATURE in names:
            out[PEER_GAP_FEATURE] = gap
        if PEER_PREV_GAP_FEATURE in names:
            out[PEER_PREV_GAP_FEATURE] = prev
    if any(name in names for name in BEHAVIOUR_FEATURES):
        for key, values in sequences.behaviour(frame, temporal).items():
            if f"ctx_{key}" in names:
                out[f"ctx_{key}"] = values
    return out


def add_gap_feature(frame: pd.DataFrame, temporal: bool,
                    names: tuple[str, ...] = (GAP_FEATURE,)) -> pd.DataFrame:
    """A copy of ``frame`` with the context features ``names`` (by default
    :data:`GAP_FEATURE`: seconds since the host's previous flow)."""
    out = frame.copy()
    for name, values in context_columns(frame, temporal, names).items():
        out[name] = values
    return out


def read_metadata(path: Path) -> dict[str, Any]:
    """Read and sanity-check ``metadata.json`` of the bundle folder ``path``."""
    meta_path = path / METADATA_FILE
    if not meta_path.is_file():
        raise ModelError(f"{path}: not a model bundle (no {METADATA_FILE})")
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{meta_path}: unreadable metadata ({exc})") from None
    required = ("name", "feature_format", "features", "preprocessing", "classes", "seq_len",
                "threshold", "anomaly_threshold", "model_sha256")
    missing = [k for k in required if k not in meta]
    if missing:
        raise ModelError(f"{meta_path}: metadata lacks {', '.join(missing)}")
    return meta


def verify_bundle(path: Path, meta: dict[str, Any]) -> None:
    """Refuse a bundle whose model file hash or feature list disagrees with its metadata."""
    model_path = path / MODEL_FILE
    if not model_path.is_file():
        raise ModelError(f"{path}: model bundle lacks {MODEL_FILE}")
    digest = sha256_file(model_path)
    if digest != meta["model_sha256"]:
        raise ModelError(
            f"{model_path}: SHA-256 {digest[:12]}... does not match the bundle's metadata "
            f"({str(meta['model_sha256'])[:12]}...); the model file was changed or corrupted. "
            "Retrain it or restore the original bundle."
        )
    pre = Preprocessor.from_json(meta["preprocessing"])
    if list(meta["features"]) != pre.input_columns:
        raise ModelError(
            f"{path}: the feature list in {METADATA_FILE} does not match the bundle's "
            "preprocessing; the metadata was edited. Retrain or restore the bundle."
        )
    if meta.get("n_inputs") is not None and int(meta["n_inputs"]) != pre.n_outputs:
        raise ModelError(f"{path}: metadata says {meta['n_inputs']} model inputs, "
                         f"preprocessing gives {pre.n_outputs}")


def load_blend_tree(path: Path, meta: dict[str, Any], n_inputs: int) -> Any:
    """The bundle's tree (:class:`~ids_desktop.core.model.runtime.TreeRunner`) when its
    metadata names a blend, verified against the recorded SHA-256 and the ``n_inputs``
    scaled features the preprocessing gives; else ``None``."""
    from ids_desktop.core.model.runtime import TREE_FILE, TreeRunner

    blend = meta.get("blend")
    if not blend:
        return None
    tree_path = path / str(blend.get("file", TREE_FILE))
    if not tree_path.is_file():
        raise ModelError(f"{path}: the bundle ships a blend but lacks {tree_path.name}; "
                         "restore the bundle or retrain it")
    digest = sha256_file(tree_path)
    if digest != blend.get("sha256"):
        raise ModelError(
            f"{tree_path}: SHA-256 {digest[:12]}... does not match the bundle's metadata; the "
            "tree file was changed or corrupted. Retrain the bundle or restore it."
        )
    tree = TreeRunner(tree_path, list(blend["columns"]), len(meta["classes"]))
    if tree.n_features is not None and tree.n_features != n_inputs:
        raise ModelError(f"{path}: the tree reads {tree.n_features} features, "
                         f"the preprocessing gives {n_inputs}")
    return tree


def load_bundle(path: str | Path, backend: str = "auto") -> Bundle:
    """Load and verify the bundle folder ``path``.

    Parameters
    ----------
    path
        The bundle folder.
    backend
        ``"auto"`` scores the verified ONNX export when the bundle has one (no TensorFlow
        import) and falls back to Keras; ``"onnx"`` requires the export; ``"keras"`` loads
        ``model.keras`` (``safe_mode=True``), as training and the export check do.

    Raises
    ------
    ModelError
        When the folder is not a bundle, a file's hash or the features disagree with the
        metadata, or the runtime cannot load the model.
    """
    from ids_desktop.core.model.runtime import ONNX_FILE, OnnxRunner

    path = Path(path)
    meta = read_metadata(path)
    verify_bundle(path, meta)
    pre = Preprocessor.from_json(meta["preprocessing"])
    onnx_path = path / ONNX_FILE
    has_onnx = onnx_path.is_file() and bool(meta.get("onnx_sha256"))
    if backend == "onnx" and not has_onnx:
        raise ModelError(f"{path}: the bundle has no verified ONNX export ({ONNX_FILE}); "
                         "run scripts/export_onnx.py")
    if backend in ("auto", "onnx") and has_onnx:
        digest = sha256_file(onnx_path)
        if digest != meta["onnx_sha256"]:
            raise ModelError(
                f"{onnx_path}: SHA-256 {digest[:12]}... does not match the bundle's metadata "
                f"({str(meta['onnx_sha256'])[:12]}...); the model file was changed or "
                "corrupted. Re-export it (scripts/export_onnx.py) or restore the bundle."
            )
        runner = OnnxRunner(onnx_path)
        shape = runner.input_shape
        if len(shape) != 4 or shape[1] != int(meta["seq_len"]) or shape[2] != pre.n_outputs:
            raise ModelError(f"{path}: model input shape does not match the bundle's metadata")
        return Bundle(path, runner, meta, backend="onnx",
                      tree=load_blend_tree(path, meta, pre.n_outputs))
    from ids_desktop.core.model.runtime import KerasRunner
    from ids_desktop.core.tf_import import keras as quiet_keras

    try:
        keras = quiet_keras()  # late and quiet: TensorFlow import costs seconds, chatters on fd 2
    except ImportError:
        raise ModelError(
            f"{path}: the bundle has no ONNX export ({ONNX_FILE}) and this installation has no "
            "TensorFlow to load model.keras; re-export it with scripts/export_onnx.py"
        ) from None

    try:
        model = keras.saving.load_model(path / MODEL_FILE, compile=False, safe_mode=True)
    except Exception as exc:  # noqa: BLE001 - Keras raises many types for a bad file
        raise ModelError(f"{path / MODEL_FILE}: Keras cannot load it ({exc})") from None
    n_in = int(model.inputs[0].shape[2])
    if n_in != pre.n_outputs or int(model.inputs[0].shape[1]) != int(meta["seq_len"]):
        raise ModelError(f"{path}: model input shape does not match the bundle's metadata")
    return Bundle(path, KerasRunner(model), meta, backend="keras", model=model,
                  tree=load_blend_tree(path, meta, pre.n_outputs))


def shipped_metrics(meta: dict[str, Any]) -> dict[str, Any]:
    """The test-split binary metrics of the verdicts the bundle gives: the blend's when it
    ships one (issue 34), else the hybrid's."""
    metrics = meta.get("metrics", {})
    blend = metrics.get("blend") or {}
    key = "blend" if meta.get("blend") and blend.get("shipped") else "hybrid"
    binary: dict[str, Any] = metrics.get(key, {}).get("binary", {})
    return binary


def list_bundles(models_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every bundle under ``models_dir`` with its headline metrics (no TensorFlow needed)."""
    root = Path(models_dir) if models_dir is not None else default_models_dir()
    out = []
    for folder in sorted(p for p in root.glob("*") if (p / METADATA_FILE).is_file()):
        try:
            meta = read_metadata(folder)
        except ModelError:
            continue
        hybrid = shipped_metrics(meta)
        out.append(
            {
                "name": meta["name"],
                "path": str(folder),
                "feature_format": meta["feature_format"],
                "classes": meta["classes"],
                "seq_len": meta["seq_len"],
                "attack_f1": hybrid.get("f1"),
                "far": hybrid.get("far"),
            }
        )
    return out


def resolve_bundle_path(
    model: str | Path, feature_format: str | None, models_dir: str | Path | None = None
) -> Path:
    """Find the bundle folder: ``model`` as a path or name, or by ``feature_format`` for auto."""
    root = Path(models_dir) if models_dir is not None else default_models_dir()
    if str(model) == "auto":
        if not feature_format:
            raise ModelError("cannot pick a model automatically: the input format is unknown")
        for folder in sorted(root.glob("*")):
            if (folder / METADATA_FILE).is_file():
                try:
                    if read_metadata(folder)["feature_format"] == feature_format:
                        return folder
                except ModelError:
                    continue
        raise ModelError(
            f"no model bundle in {root} serves the '{feature_format}' format; "
            "train one with `ids-desktop-cli train` or pass --model"
        )
    candidate = Path(model)
    if candidate.is_dir():
        return candidate
    if (root / str(model)).is_dir():
        return root / str(model)
    names = ", ".join(b["name"] for b in list_bundles(root)) or "none"
    raise ModelError(f"no model bundle named '{model}' (available: {names})")
