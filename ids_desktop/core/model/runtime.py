"""Run a bundle's network without TensorFlow: an ONNX export scored by onnxruntime.

TensorFlow/Keras define and train the hybrid (``model.keras`` stays the source of truth in
each bundle). The app, LIME and the frozen installer score the ``model.onnx`` export instead:
onnxruntime imports in a fraction of a second, releases the GIL while it computes (the GUI's
event loop keeps running during an analysis) and is a tenth of TensorFlow's size.

Every export is checked against the Keras model before it is written (:func:`export_onnx`)
and the bundle records the largest probability difference it measured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ids_desktop.errors import ModelError

ONNX_FILE = "model.onnx"
#: A tree ensemble's ONNX export, averaged with the network when the bundle ships a blend
#: (issue 34; :class:`BlendedRunner`).
TREE_FILE = "tree.onnx"
#: The tree ensembles a bundle may blend with: training's baseline keys -> their names.
TREE_NAMES = {"tree": "RandomForest", "boosting": "HistGradientBoosting"}
#: Largest tolerated |p_onnx - p_keras| on the check inputs.
MAX_ABS_DIFF = 1e-5
#: Windows per runtime call; bounds the activations' memory.
RUN_BATCH = 4096
#: Flow positions (windows x T) per onnxruntime call. The unrolled graph is a chain of
#: small memory-bound ops; its tensors stay in the CPU caches at a few hundred positions
#: per call: 512 scored 1.3-1.5x faster than 4,096 on every bundle (``bench/RESULTS.md``).
RUN_POSITIONS = 512
#: Most calls run at once, each on one onnxruntime thread. The graph's ops are too small for
#: intra-op threads to pay (2,000 ``pcap`` windows: 232 ms on one thread, 193-222 ms on two);
#: two calls side by side on one thread each took 114 ms (``bench/RESULTS.md``).
MAX_PARALLEL_CALLS = 8


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # macOS and Windows have no sched_getaffinity
        return max(1, os.cpu_count() or 1)


class OnnxRunner:
    """A loaded ONNX export: ``runner(x)`` -> list of numpy outputs, Keras output order.

    Parameters
    ----------
    path
        The ``.onnx`` file.
    threads
        Intra-op threads, one call at a time. ``None``: one intra-op thread per call and up
        to one call per core at once (:data:`MAX_PARALLEL_CALLS`), each on its own slice of
        the batch; the session is shared (onnxruntime's ``run`` is thread-safe).
    """

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a dependency
            raise ModelError(f"onnxruntime is not installed ({exc})") from None
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.intra_op_num_threads = int(threads) if threads else 1
        opts.inter_op_num_threads = 1
        self.parallel = 1 if threads else min(MAX_PARALLEL_CALLS, available_cores())
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(f"{path}: onnxruntime cannot load it ({exc})") from None
        self.input_name = self.session.get_inputs()[0].name
        self.input_shape = list(self.session.get_inputs()[0].shape)
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        x = np.ascontiguousarray(x, dtype=np.float32)
        batch = max(1, RUN_POSITIONS // max(int(x.shape[1]) if x.ndim > 1 else 1, 1))
        if len(x) <= batch:
            return list(self.session.run(self.output_names, {self.input_name: x}))
        starts = range(0, len(x), batch)

        def run(i: int) -> list[np.ndarray]:
            out: list[np.ndarray] = self.session.run(
                self.output_names, {self.input_name: x[i : i + batch]}
            )
            return out

        if self.parallel > 1:
            from concurrent.futures import ThreadPoolExecutor

            # A pool per call: no thread outlives the call (it costs ~0.1 ms per thread).
            with ThreadPoolExecutor(min(self.parallel, len(starts)),
                                    thread_name_prefix="ids-onnx") as pool:
                parts = list(pool.map(run, starts))
        else:
            parts = [run(i) for i in starts]
        return [np.concatenate([p[k] for p in parts]) for k in range(len(self.output_names))]


class TreeRunner:
    """A tree ensemble exported to ONNX (``TreeEnsembleClassifier``, skl2onnx with
    ``zipmap`` off): ``runner(x)`` -> class probabilities ``(n, C)`` for flat features
    ``(n, F)``, one column per bundle class.

    ``columns``: the bundle class index of each of the export's output columns (the tree
    was trained on class indices, and a class absent from its training rows has no column).
    """

    def __init__(self, path: str | Path, columns: list[int], n_classes: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a dependency
            raise ModelError(f"onnxruntime is not installed ({exc})") from None
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        # The ensemble's own threads split the rows; it is one op, unlike the network.
        opts.intra_op_num_threads = available_cores()
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
            raise ModelError(f"{path}: onnxruntime cannot load it ({exc})") from None
        names = [o.name for o in self.session.get_outputs()]
        if "probabilities" not in names:
            raise ModelError(f"{path}: not a tree export with a 'probabilities' output")
        self.input_name = self.session.get_inputs()[0].name
        n_in = self.session.get_inputs()[0].shape[-1]
        self.n_features = int(n_in) if isinstance(n_in, int) else None
        self.columns = np.asarray(columns, dtype=np.int64)
        self.n_classes = int(n_classes)
        if len(self.columns) and (self.columns.min() < 0 or self.columns.max() >= n_classes):
            raise ModelError(f"{path}: tree columns {columns} do not fit {n_classes} classes")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        out = np.zeros((len(x), self.n_classes), dtype=np.float32)
        if len(x):
            p = self.session.run(["probabilities"], {self.input_name: x})[0]
            if p.shape[1] != len(self.columns):
                raise ModelError(f"the tree export gives {p.shape[1]} columns, "
                                 f"its metadata names {len(self.columns)}")
            out[:, self.columns] = p
        return out


class BlendedRunner:
    """The network's runner with its class probabilities averaged with a tree's.

    ``runner(x)`` for model inputs ``(n, T, F, 2)`` gives the network's outputs with the
    first (class probabilities ``(n, T, C)``) replaced by ``(1 - w) * network + w * tree``,
    the tree reading each position's own scaled features (channel 0). Reconstructions, and so
    the anomaly score, stay the network's. Wraps the calibrated runner: the average is of
    the probabilities the network's thresholds were chosen on.
    """

    def __init__(self, runner: Any, tree: TreeRunner, weight: float = 0.5) -> None:
        self.runner = runner
        self.tree = tree
        self.weight = float(weight)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        out = list(self.runner(x))
        n, t, f = x.shape[0], x.shape[1], x.shape[2]
        p_tree = self.tree(np.asarray(x[..., 0]).reshape(n * t, f)).reshape(n, t, -1)
        out[0] = ((1.0 - self.weight) * out[0] + self.weight * p_tree).astype(np.float32)
        return out

    def __getattr__(self, name: str) -> Any:  # input_shape and the like
        return getattr(self.runner, name)


class KerasRunner:
    """The Keras model behind the same call shape as :class:`OnnxRunner` (training, checks)."""

    def __init__(self, model: Any) -> None:
        from ids_desktop.core.model.network import compiled_predictor

        self.model = model
        self._predictor = compiled_predictor(model)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        from ids_desktop.core.model.network import predict_batches

        batch = RUN_BATCH if len(x) > RUN_BATCH else max(len(x), 1)
        out = predict_batches(self.model, x, batch=batch, predictor=self._predictor)
        return out if isinstance(out, list) else [out]


def export_onnx(model: Any, path: str | Path, check_inputs: np.ndarray) -> float:
    """Export the Keras ``model`` to ONNX at ``path`` and check it against Keras.

    Parameters
    ----------
    model
        A Keras model (the hybrid: outputs class probabilities and reconstructions).
    path
        Where to write the ``.onnx`` file (written to a temporary name, then renamed).
    check_inputs
        Model inputs ``(n, T, F, 2)`` on which both must agree (the validation windows).

    Returns
    -------
    float
        The largest absolute difference in class probabilities on ``check_inputs``.

    Raises
    ------
    ModelError
        When the export fails or differs by more than :data:`MAX_ABS_DIFF`.
    """
    from ids_desktop.core.tf_import import keras as quiet_keras

    quiet_keras()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.onnx")
    try:
        from ids_desktop.core.model.network import unrolled_for_export

        try:
            model(check_inputs[:1], training=False)  # a loaded model must be built by a call
            unrolled = unrolled_for_export(model)
            unrolled(check_inputs[:1], training=False)
            unrolled.export(str(tmp), format="onnx", verbose=False)
        except Exception as exc:  # noqa: BLE001 - tf2onnx raises many types
            raise ModelError(f"ONNX export failed ({exc})") from None
        diff = max_prob_diff(KerasRunner(model), OnnxRunner(tmp), check_inputs)
        return accept_export(tmp, path, diff, MAX_ABS_DIFF, "the Keras model")
    finally:
        tmp.unlink(missing_ok=True)


def accept_export(tmp: Path, path: Path, diff: float, limit: float, source: str) -> float:
    """Rename the checked export ``tmp`` to ``path`` and return ``diff``, its largest
    probability difference from ``source``; refuse it (``ModelError``) above ``limit``."""
    if not diff <= limit:
        raise ModelError(f"the ONNX export differs from {source} by {diff:.2e} (> {limit:.0e})")
    os.replace(tmp, path)
    return diff


def export_to_bundle(model: Any, folder: str | Path, check_inputs: np.ndarray) -> dict[str, Any]:
    """Write the checked ``model.onnx`` into a bundle folder; return its metadata entries.

    ``onnx_sha256`` (verified by :func:`~ids_desktop.core.model.bundle.load_bundle`) and
    ``onnx_check`` (what the export was compared on and the largest difference found).
    """
    from ids_desktop.core.ingest.digest import sha256_file

    path = Path(folder) / ONNX_FILE
    diff = export_onnx(model, path, check_inputs)
    return {
        "onnx_sha256": sha256_file(path),
        "onnx_check": {"inputs": "validation split", "windows": int(len(check_inputs)),
                       "max_abs_prob_diff": diff},
    }


def max_prob_diff(a: Any, b: Any, x: np.ndarray, batch: int = RUN_BATCH) -> float:
    """Largest |p_a - p_b| of the first output (class probabilities) over ``x``."""
    worst = 0.0
    for start in range(0, len(x), batch):
        chunk = x[start : start + batch]
        pa, pb = a(chunk)[0], b(chunk)[0]
        worst = max(worst, float(np.max(np.abs(pa - pb))) if pa.size else 0.0)
    return worst
