"""Train a bundle: dedup, grouped stratified split, hybrid + baselines, honest test metrics."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.model import metrics as M
from ids_desktop.core.model import sequences
from ids_desktop.core.model.bundle import (
    BACKGROUND_FILE,
    CARD_FILE,
    FORMAT_VERSION,
    METADATA_FILE,
    MODEL_FILE,
    add_gap_feature,
)
from ids_desktop.core.model.preprocess import (
    GAP_FEATURE,
    Preprocessor,
    feature_hash,
    select_features,
    sha256_file,
)
from ids_desktop.core.model.verdicts import UNKNOWN_ATTACK, decide
from ids_desktop.core.schema import BENIGN
from ids_desktop.core.targets import DEFAULT_FAR_TARGET, F1_TARGETS, FAR_TARGETS
from ids_desktop.core.tasks import Progress, check_cancel, no_progress
from ids_desktop.errors import CancelledError, ModelError



@dataclass
class TrainOptions:
    """Knobs of one training run; the defaults are what ``make train`` uses.

    Attributes
    ----------
    max_rows
        Cap on deduplicated rows used (stratified subsample above it; rare classes kept).
    epochs, patience, batch_size, learning_rate
        Training loop; early stopping on the validation class loss.
    seq_lens
        Candidate ``T`` for temporal inputs, chosen on validation macro-F1. Non-temporal
        inputs always use ``T = 1``.
    context_dropout
        Share of flows dropped at random (per epoch) before building training sequences.
    far_margin
        The validation false-alarm budget is ``far_margin`` times the format's target.
    threshold_rule
        ``"f1"``: the best validation F1 within the budget; ``"recall"``: the most sensitive
        threshold within it (see :func:`ids_desktop.core.model.metrics.choose_threshold`).
    anomaly_far
        Share of benign validation flows the anomaly score alone may flag.
    lofo_families
        Attack families for the leave-one-family-out check (empty: skip it).
    baselines
        Train the plain Seq2Seq and the tree ensemble too.
    filters, head_units
        ConvLSTM filters and the width of the per-flow dense layer.
    context
        The derived context features of temporal inputs
        (:data:`ids_desktop.core.model.preprocess.CONTEXT_FEATURES`): the gap to the host's
        previous flow, and optionally the gaps between the host's flows to one destination.
    members
        Independently initialised copies of the hybrid (each with its own initialiser and
        shuffling seeds; same data and split) whose class probabilities and reconstructions are
        averaged into one model (:func:`ids_desktop.core.model.network.average_members`). 1: a single
        network.
    quantiles
        0, or the knots of a quantile-normal copy of every numeric feature
        (:class:`ids_desktop.core.model.preprocess.Preprocessor`): a second view of each
        value that is spread evenly however skewed or discrete the column is, which the
        dense layers can cut as sharply as a tree splits.
    """

    max_rows: int = 120_000
    epochs: int = 40
    patience: int = 4
    batch_size: int = 256
    learning_rate: float = 2e-3
    seq_lens: tuple[int, ...] = (8, 16)
    context_dropout: float = 0.2
    far_margin: float = 0.85
    anomaly_far: float = 0.002
    lofo_families: tuple[str, ...] = ()
    lofo_epochs: int = 12
    baselines: bool = True
    filters: int = 16
    head_units: int = 128
    head_layers: int = 1
    class_weight_power: float = 0.3
    val_share: float = 0.15
    test_share: float = 0.15
    threshold_rule: str = "f1"
    quantiles: int = 0
    context: tuple[str, ...] = (GAP_FEATURE,)
    members: int = 1


@dataclass
class Split:
    """Row positions of the train, validation and test parts of a frame."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    notes: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# public entry points


def train(
    format_name: str,
    data_paths: list[str | Path],
    out_dir: str | Path,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: object | None = None,
    options: TrainOptions | None = None,
) -> dict[str, Any]:
    """Train a bundle for ``format_name`` from labelled files and write it to ``out_dir``.

    Parameters
    ----------
    format_name
        The feature format the bundle serves (``unsw-nb15``, ``cic-ids2017``, ``ton-iot``,
        ``nsl-kdd``); every file must ingest to it.
    data_paths
        Labelled files readable by :func:`ids_desktop.core.ingest.ingest`.
    out_dir
        The bundle folder (created; ``model.keras``, ``metadata.json``, ``MODEL_CARD.md``).
    seed
        Seeds the split, the initialisers and TensorFlow (with op determinism).
    progress, cancel
        Hooks, see :mod:`ids_desktop.core.tasks`.
    options
        Training knobs; ``None`` uses :class:`TrainOptions` defaults.

    Returns
    -------
    dict
        The bundle's metadata (including all measured metrics).
    """
    from ids_desktop.core.ingest import ingest

    progress = progress or no_progress
    frames, infos, temporal = [], [], True
    for i, p in enumerate(data_paths):
        check_cancel(cancel)
        progress(i, len(data_paths), f"reading {Path(p).name}")
        res = ingest(p)
        if res.feature_format != format_name:
            raise ModelError(
                f"{p}: holds '{res.feature_format}' features, not '{format_name}'; "
                "train one bundle per feature format"
            )
        if not res.labelled:
            raise ModelError(f"{p}: has no labels; training needs a labelled file")
        frames.append(res.frame)
        temporal = temporal and res.temporal
        infos.append({"file": Path(p).name, "sha256": sha256_file(p), "rows": len(res.frame),
                      "format": res.format})
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return train_frame(
        frame, format_name, out_dir, temporal=temporal, data_info=infos, seed=seed,
        progress=progress, cancel=cancel, options=options,
    )


def train_frame(
    frame: pd.DataFrame,
    feature_format: str,
    out_dir: str | Path | None,
    *,
    temporal: bool = False,
    data_info: list[dict[str, Any]] | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: object | None = None,
    options: TrainOptions | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """Train on a canonical labelled ``frame``; write the bundle when ``out_dir`` is given.

    See :func:`train`; this is the same without reading files (tests and scripts use it).
    """
    opts = options or TrainOptions()
    t_start = time.perf_counter()
    ctx, pre, dedup_info = prepare_run(frame, feature_format, temporal=temporal, opts=opts, seed=seed,
                                       progress=progress, cancel=cancel)
    split, classes = ctx.split, ctx.classes

    # Choose T on validation (temporal inputs only).
    seq_len, t_scores = 1, {}
    if temporal and opts.seq_lens:
        best = -1.0
        for t_len in opts.seq_lens:
            fitted = ctx.fit_hybrid(t_len, stage=f"choosing T: trying T={t_len}")
            f1 = M.macro_f1(M.per_class(*ctx.class_names(fitted, split.val)))
            t_scores[t_len] = f1
            if f1 > best:
                best, seq_len, hybrid = f1, t_len, fitted
    else:
        hybrid = ctx.fit_hybrid(1, stage="training the hybrid")

    results: dict[str, Any] = {"hybrid": ctx.evaluate_hybrid(hybrid)}
    if opts.baselines:
        s2s = ctx.fit_seq2seq(seq_len)
        results["seq2seq"] = ctx.evaluate_seq2seq(s2s)
        tree = ctx.fit_tree()
        results["tree"] = ctx.evaluate_tree(tree)
        results["boosting"] = ctx.evaluate_tree(ctx.fit_tree(kind="boosting"), keep=False)
    results["subsample_20pct"] = ctx.subsample_check(hybrid)
    lofo = [ctx.leave_one_family_out(fam) for fam in opts.lofo_families if fam in classes]

    meta = {
        "format_version": FORMAT_VERSION,
        "name": name or feature_format,
        "feature_format": feature_format,
        "temporal_context": bool(temporal and seq_len > 1),
        "features": pre.input_columns,
        "n_inputs": pre.n_outputs,
        "expanded_features": pre.output_names,
        "preprocessing": pre.to_json(),
        "classes": classes,
        "seq_len": seq_len,
        "stride": seq_len,
        "seq_len_scores": {str(k): v for k, v in t_scores.items()},
        "threshold": hybrid.threshold,
        "anomaly_threshold": hybrid.anomaly_threshold,
        "training_data": data_info or [],
        "rows": {**dedup_info, **split.notes},
        "seed": seed,
        "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(opts).items()},
        "metrics": results,
        "lofo": lofo,
        "targets": {"attack_f1": F1_TARGETS.get(feature_format), "far": ctx.far_target},
        "versions": library_versions(),
        "train_seconds": round(time.perf_counter() - t_start, 1),
    }
    if out_dir is not None:
        write_bundle(Path(out_dir), hybrid.model, meta, background=ctx.background(seq_len),
                     check_inputs=ctx.tensors(ctx.windows(split.val, seq_len))[0])
    meta["_model"] = hybrid.model
    return meta


def prepare_run(
    frame: pd.DataFrame,
    feature_format: str,
    *,
    temporal: bool,
    opts: TrainOptions,
    seed: int,
    progress: Progress | None = None,
    cancel: object | None = None,
) -> tuple[_Context, Preprocessor, dict[str, Any]]:
    """The set-up every training run shares: seeds, preparation, deduplication, the grouped
    split, preprocessing fitted on the training rows, class codes and sequence keys.

    Returns the run's context, the fitted preprocessor and the deduplication notes.
    ``scripts/compare_options.py`` uses it to judge variants exactly as :func:`train_frame`
    trains them.
    """
    set_determinism(seed)
    data, numeric, categorical, dedup_info, split = _rows_and_split(frame, feature_format, temporal, opts, seed)
    pre = Preprocessor.fit(data.iloc[split.train], numeric, categorical, quantiles=opts.quantiles)
    x_all = pre.transform(data)
    classes = sorted(data["label_class"].unique().tolist(), key=_class_key)
    y_all = np.array([classes.index(c) for c in data["label_class"]], dtype=np.int64)
    hosts, times = sequences.host_time_keys(data) if temporal else (np.arange(len(data)), np.zeros(len(data)))
    ctx = _Context(data, x_all, y_all, classes, hosts, times, temporal, split, opts, seed,
                   progress or no_progress, cancel, FAR_TARGETS.get(feature_format, DEFAULT_FAR_TARGET))
    return ctx, pre, dedup_info


def _rows_and_split(
    frame: pd.DataFrame, feature_format: str, temporal: bool, opts: TrainOptions, seed: int
) -> tuple[pd.DataFrame, list[str], list[str], dict[str, Any], Split]:
    """Preparation, feature selection, deduplication and the grouped split of a run: the
    rows and split :func:`prepare_run` trains on and :func:`validation_inputs` rebuilds."""
    data = _prepare(frame, temporal, opts.context)
    numeric, categorical = select_features(data, feature_format)
    data, dedup_info = _dedup_and_cap(data, numeric + categorical, temporal, opts, seed)
    return data, numeric, categorical, dedup_info, grouped_split(data, numeric + categorical, opts, seed)


def set_determinism(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and ask TensorFlow for deterministic ops."""
    from ids_desktop.core.tf_import import keras as quiet_keras

    keras = quiet_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # older TF builds lack it; seeds still apply
        pass


def library_versions() -> dict[str, str]:
    """Versions of the libraries a bundle depends on."""
    import keras
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
    }


def write_bundle(
    out_dir: Path,
    model: Any,
    meta: dict[str, Any],
    *,
    background: np.ndarray | None = None,
    check_inputs: np.ndarray | None = None,
) -> None:
    """Save ``model.keras``, its checked ONNX export, the background, metadata and card.

    ``background`` is a ``(n, T, F)`` sample of scaled training sequences (plain ``.npy``,
    no pickle) that LIME explanations perturb towards. ``check_inputs`` (the validation
    windows) are where the ONNX export must match Keras (see
    :func:`ids_desktop.core.model.runtime.export_onnx`); without them no export is written.
    """
    from ids_desktop.core.model.runtime import export_to_bundle

    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / MODEL_FILE
    model.save(model_path)
    meta = {k: v for k, v in meta.items() if not k.startswith("_")}
    meta["model_sha256"] = sha256_file(model_path)
    if check_inputs is not None:
        meta.update(export_to_bundle(model, out_dir, check_inputs))
    if background is not None:
        bg_path = out_dir / BACKGROUND_FILE
        np.save(bg_path, background.astype(np.float32), allow_pickle=False)
        meta["background_sha256"] = sha256_file(bg_path)
    (out_dir / METADATA_FILE).write_text(
        json.dumps(_jsonable(meta), indent=2, sort_keys=False) + "\n", encoding="utf-8"
    )
    from ids_desktop.core.model.card import model_card

    (out_dir / CARD_FILE).write_text(model_card(meta), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# data preparation and splits


def _class_key(name: str) -> tuple[int, str]:
    return (0 if name == BENIGN else 1, name)


def _prepare(frame: pd.DataFrame, temporal: bool, context: tuple[str, ...]) -> pd.DataFrame:
    data = frame[frame["label_class"].notna()].reset_index(drop=True)
    if data.empty:
        raise ModelError("no labelled rows to train on")
    if temporal:
        data = add_gap_feature(data, True, context)
    return data


def _dedup_and_cap(
    data: pd.DataFrame, cols: list[str], temporal: bool, opts: TrainOptions, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    n0 = len(data)
    # Exact duplicates (same features and label) carry no information and inflate test
    # scores. In temporal data two identical flows at different times are different events.
    key = cols + ["label_class"] + (["src_ip", "first_seen"] if temporal else [])
    data = data.drop_duplicates(subset=key).reset_index(drop=True)
    n1 = len(data)
    info: dict[str, Any] = {"input": n0, "after_dedup": n1, "subsampled": False}
    if n1 > opts.max_rows:
        rng = np.random.default_rng(seed)
        frac = opts.max_rows / n1
        keep = []
        for _, idx in data.groupby("label_class", sort=True).indices.items():
            k = max(min(len(idx), 2000), int(round(len(idx) * frac)))
            keep.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
        data = data.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)
        info.update(subsampled=True, after_subsample=len(data))
    info["class_counts"] = {str(k): int(v) for k, v in data["label_class"].value_counts().items()}
    return data, info


def grouped_split(data: pd.DataFrame, cols: list[str], opts: TrainOptions, seed: int) -> Split:
    """Stratified train/val/test split in which identical feature vectors share one side."""
    groups = feature_hash(data, cols)
    uniq, inverse = np.unique(groups, return_inverse=True)
    # A group's stratum is the label of its first row; rare strata merge into one.
    first = np.full(len(uniq), -1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(data))[::-1]
    strata = data["label_class"].to_numpy(dtype=object)[first]
    counts = pd.Series(strata).value_counts()
    rare = set(counts[counts < 10].index)
    strata = np.array(["<rare>" if s in rare else s for s in strata], dtype=object)
    rng = np.random.default_rng(seed)
    part = np.empty(len(uniq), dtype=np.int8)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(len(idx) * opts.test_share))
        n_val = int(round(len(idx) * opts.val_share))
        part[idx[:n_test]] = 2
        part[idx[n_test : n_test + n_val]] = 1
        part[idx[n_test + n_val :]] = 0
    row_part = part[inverse]
    return Split(
        np.flatnonzero(row_part == 0),
        np.flatnonzero(row_part == 1),
        np.flatnonzero(row_part == 2),
        {"train": int((row_part == 0).sum()), "val": int((row_part == 1).sum()),
         "test": int((row_part == 2).sum()), "feature_groups": int(len(uniq)),
         "conflicting_groups": int(
             pd.DataFrame({"g": inverse, "c": data["label_class"].to_numpy(dtype=object)})
             .groupby("g")["c"].nunique().gt(1).sum()
         )},
    )


def validation_inputs(frame: pd.DataFrame, meta: dict[str, Any], *, temporal: bool = False) -> np.ndarray:
    """Rebuild a bundle's validation-split model inputs ``(n, T, F, 2)`` from its training data.

    Repeats :func:`train_frame`'s preparation, deduplication and split with the seed and
    options saved in ``meta``, then scales with the bundle's own preprocessing.
    """
    known = set(TrainOptions.__dataclass_fields__)
    opts = TrainOptions(**{k: (tuple(v) if isinstance(v, list) else v)
                           for k, v in meta.get("options", {}).items() if k in known})
    seed = int(meta.get("seed", 0))
    data, _, _, _, split = _rows_and_split(frame, meta["feature_format"], temporal, opts, seed)
    pre = Preprocessor.from_json(meta["preprocessing"])
    x = pre.transform(data)
    seq_len = int(meta["seq_len"])
    rows = split.val
    if seq_len == 1:
        w = rows[:, None].astype(np.int64)
    else:
        hosts, times = sequences.host_time_keys(data)
        w = sequences.build_windows(hosts[rows], times[rows], seq_len)
        w = np.where(w == sequences.PAD, sequences.PAD, rows[np.clip(w, 0, None)])
    return sequences.to_tensor(x, w)


# --------------------------------------------------------------------------------------------
# models on a prepared frame


@dataclass
class _Fitted:
    model: Any
    seq_len: int
    threshold: float = 0.5
    anomaly_threshold: float = 1e30
    epochs: int = 0
    has_recon: bool = True


class _Context:
    """Everything the fitting and evaluation steps of one run share."""

    def __init__(self, data, x, y, classes, hosts, times, temporal, split, opts, seed,
                 progress, cancel, far_target):
        self.data, self.x, self.y, self.classes = data, x, y, classes
        self.hosts, self.times, self.temporal = hosts, times, temporal
        self.split, self.opts, self.seed = split, opts, seed
        self.progress, self.cancel, self.far_target = progress, cancel, far_target
        self.benign = classes.index(BENIGN) if BENIGN in classes else 0
        self.is_attack = (y != self.benign)
        self.class_arr = np.asarray(classes, dtype=object)
        counts = np.bincount(y[split.train], minlength=len(classes)).astype(float)
        w = (counts.max() / np.maximum(counts, 1.0)) ** opts.class_weight_power
        self.class_weight = w / np.average(w, weights=np.maximum(counts, 1.0))

    # ---- sequences

    def windows(self, rows: np.ndarray, seq_len: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Windows (indices into the full data) over ``rows``; drops context flows if ``rng``."""
        if rng is not None and seq_len > 1 and self.opts.context_dropout > 0:
            rows = rows[sequences.drop_flows(len(rows), self.opts.context_dropout, rng)]
        if seq_len == 1:
            return rows[:, None].astype(np.int64)
        w = sequences.build_windows(self.hosts[rows], self.times[rows], seq_len)
        return np.where(w == sequences.PAD, sequences.PAD, rows[np.clip(w, 0, None)])

    def background(self, seq_len: int, n: int = 256) -> np.ndarray:
        """A seeded sample of ``n`` scaled training sequences ``(n, T, F)`` for explanations."""
        w = self.windows(self.split.train, seq_len)
        rng = np.random.default_rng(self.seed + 31)
        pick = np.sort(rng.choice(len(w), size=min(n, len(w)), replace=False))
        return sequences.to_tensor(self.x, w[pick])[..., 0]

    def tensors(self, windows: np.ndarray):
        xt = sequences.to_tensor(self.x, windows)
        yt = sequences.gather(self.y, windows, fill=0)
        mask = (windows != sequences.PAD).astype(np.float32)
        return xt, yt, mask

    # ---- fitting

    def _fit_loop(self, model, rows_train, rows_val, seq_len, stage, *, recon: bool,
                  epochs: int | None = None, benign_only_recon: bool = True, member: int = 0):
        import keras

        epochs = epochs or self.opts.epochs
        rng = np.random.default_rng(self.seed + 17 + member)
        w_val = self.windows(rows_val, seq_len)
        xv, yv, mv = self.tensors(w_val)
        best_loss, best_weights, stale, done = np.inf, None, 0, 0
        for epoch in range(epochs):
            check_cancel(self.cancel)
            self.progress(epoch, epochs, f"{stage}: epoch {epoch + 1}/{epochs}")
            w_tr = self.windows(rows_train, seq_len, rng)
            w_tr = w_tr[rng.permutation(len(w_tr))]
            xt, yt, mt = self.tensors(w_tr)
            cw = (self.class_weight[yt] * mt).astype(np.float32)
            cb = _CancelCallback(self.cancel)
            if recon:
                rw = (mt * (yt == self.benign)).astype(np.float32) if benign_only_recon else mt
                model.fit(
                    xt, [yt, xt[..., 0]],
                    sample_weight=[cw, rw],
                    batch_size=self.opts.batch_size, epochs=1, verbose=0, shuffle=False,
                    callbacks=[cb],
                )
            else:
                model.fit(xt, yt, sample_weight=cw, batch_size=self.opts.batch_size, epochs=1,
                          verbose=0, shuffle=False, callbacks=[cb])
            if cb.cancelled:
                raise CancelledError("cancelled by the user")
            done = epoch + 1
            probs = self._predict(model, xv, recon)[0]
            p = np.clip(probs[np.arange(len(yv))[:, None], np.arange(seq_len)[None, :], yv], 1e-7, 1)
            loss = float(-(np.log(p) * mv).sum() / max(mv.sum(), 1))
            if loss < best_loss - 1e-4:
                best_loss, best_weights, stale = loss, model.get_weights(), 0
            else:
                stale += 1
                if stale >= self.opts.patience:
                    break
                # Plateau: go back to the best weights and halve the learning rate.
                model.set_weights(best_weights)
                lr = model.optimizer.learning_rate
                lr.assign(float(lr.numpy()) * 0.5)
        if best_weights is not None:
            model.set_weights(best_weights)
        return done

    def _predict(self, model, xt, recon: bool):
        from ids_desktop.core.model.network import predict_batches

        out = predict_batches(model, xt, batch=4096)
        return out if recon else [out]

    def _compile(self, model, recon: bool):
        import keras

        opt = keras.optimizers.Adam(self.opts.learning_rate)
        if recon:
            model.compile(opt, loss=["sparse_categorical_crossentropy", "mse"],
                          loss_weights=[1.0, 0.5])
        else:
            model.compile(opt, loss="sparse_categorical_crossentropy")

    def fit_hybrid(self, seq_len: int, *, stage: str = "training the hybrid",
                   train_rows: np.ndarray | None = None, val_rows: np.ndarray | None = None,
                   epochs: int | None = None) -> _Fitted:
        from ids_desktop.core.model.network import average_members, build_hybrid

        tr = self.split.train if train_rows is None else train_rows
        va = self.split.val if val_rows is None else val_rows
        k = max(1, int(self.opts.members))
        members, n_ep = [], 0
        for j in range(k):
            # Member 0 is the single network's run exactly; build_hybrid spends seeds seed ...
            # seed + 7 + 10 * layers on its layers, so members' initialisers step by 101.
            set_determinism(self.seed + j)
            model = build_hybrid(seq_len, self.x.shape[1], len(self.classes),
                                 filters=self.opts.filters, head_units=self.opts.head_units,
                                 head_layers=self.opts.head_layers, seed=self.seed + 101 * j,
                                 name=None if k == 1 else f"member_{j}")
            self._compile(model, True)
            n_ep = max(n_ep, self._fit_loop(model, tr, va, seq_len,
                                            stage if k == 1 else f"{stage} (member {j + 1}/{k})",
                                            recon=True, epochs=epochs, member=j))
            members.append(model)
        model = members[0] if k == 1 else average_members(members)
        fitted = _Fitted(model, seq_len, epochs=n_ep)
        self._set_thresholds(fitted, va)
        return fitted

    def fit_seq2seq(self, seq_len: int) -> _Fitted:
        from ids_desktop.core.model.network import build_seq2seq

        set_determinism(self.seed)
        model = build_seq2seq(seq_len, self.x.shape[1], len(self.classes), seed=self.seed)
        self._compile(model, False)
        n_ep = self._fit_loop(model, self.split.train, self.split.val, seq_len,
                              "training the Seq2Seq baseline", recon=False)
        fitted = _Fitted(model, seq_len, epochs=n_ep, has_recon=False)
        self._set_thresholds(fitted, self.split.val)
        return fitted

    def fit_tree(self, train_rows=None, val_rows=None, *, kind: str = "forest"):
        from ids_desktop.core.model.baselines import KINDS, TreeBaseline

        check_cancel(self.cancel)
        self.progress(0, 1, f"training the {KINDS[kind]} baseline")
        tr = self.split.train if train_rows is None else train_rows
        va = self.split.val if val_rows is None else val_rows
        tree = TreeBaseline(seed=self.seed, kind=kind).fit(self.x[tr], self.y[tr], self.x[va], self.y[va])
        p = self._tree_proba(tree, va)
        tree.threshold_ = M.choose_threshold(self.is_attack[va], 1 - p[:, self.benign],
                                             max_far=self.far_target * self.opts.far_margin)
        return tree

    def _tree_proba(self, tree, rows):
        p = tree.predict_proba(self.x[rows])
        if p.shape[1] < len(self.classes):
            p = np.hstack([p, np.zeros((len(p), len(self.classes) - p.shape[1]))])
        return p

    # ---- scoring

    def score(self, fitted: _Fitted, rows: np.ndarray) -> dict[str, np.ndarray]:
        """Per-row outputs for ``rows`` (aligned with ``rows``)."""
        w = self.windows(rows, fitted.seq_len)
        # Map windows to positions within ``rows`` for scattering.
        pos_of = np.full(len(self.data), -1, dtype=np.int64)
        pos_of[rows] = np.arange(len(rows))
        w_local = np.where(w == sequences.PAD, sequences.PAD, pos_of[np.clip(w, 0, None)])
        xt = sequences.to_tensor(self.x, w)
        t0 = time.perf_counter()
        out = self._predict(fitted.model, xt, fitted.has_recon)
        seconds = time.perf_counter() - t0
        probs = sequences.scatter(out[0], w_local, len(rows))
        res = {"probs": probs, "p_attack": 1.0 - probs[:, self.benign], "seconds": seconds}
        if fitted.has_recon:
            recon = sequences.scatter(out[1], w_local, len(rows))
            res["anomaly"] = np.mean((self.x[rows] - recon) ** 2, axis=1)
        return res

    def _set_thresholds(self, fitted: _Fitted, val_rows: np.ndarray) -> None:
        s = self.score(fitted, val_rows)
        y_att = self.is_attack[val_rows]
        extra = None
        if fitted.has_recon:
            benign_anom = s["anomaly"][~y_att]
            fitted.anomaly_threshold = (
                float(np.quantile(benign_anom, 1 - self.opts.anomaly_far)) * 1.0 + 1e-9
                if len(benign_anom) else 1e30
            )
            extra = s["anomaly"] >= fitted.anomaly_threshold
        fitted.threshold = M.choose_threshold(
            y_att, s["p_attack"], max_far=self.far_target * self.opts.far_margin, extra_flags=extra,
            rule=self.opts.threshold_rule,
        )

    def decide(self, fitted: _Fitted, s: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(flagged, pred names)`` by the app's verdict rule (:mod:`..verdicts`)."""
        v = decide(s["probs"], s.get("anomaly"), self.classes, fitted.threshold,
                   fitted.anomaly_threshold)
        return v.flagged, v.pred_names()

    def class_names(self, fitted: _Fitted, rows: np.ndarray):
        s = self.score(fitted, rows)
        _, pred = self.decide(fitted, s)
        return self.class_arr[self.y[rows]], pred

    def _report(self, rows, flagged, pred, p_attack, flows_per_s, extra=None) -> dict[str, Any]:
        y_att = self.is_attack[rows]
        truth = self.class_arr[self.y[rows]]
        per = M.per_class(truth, pred)
        out = {
            "binary": M.binary_metrics(y_att, flagged, p_attack),
            "per_class": per,
            "macro_f1": M.macro_f1(per),
            "accuracy_multiclass": M.multiclass_accuracy(truth, pred),
            "confusion": M.confusion(truth, pred),
            "flows_per_s": flows_per_s,
            "n_test": int(len(rows)),
        }
        if extra:
            out.update(extra)
        return out

    def evaluate_hybrid(self, fitted: _Fitted) -> dict[str, Any]:
        rows = self.split.test
        s = self.score(fitted, rows)
        flagged, pred = self.decide(fitted, s)
        by_anom_only = int((flagged & ~(s["p_attack"] >= fitted.threshold)).sum())
        return self._report(rows, flagged, pred, s["p_attack"], self.speed(fitted), {
            "threshold": fitted.threshold, "anomaly_threshold": fitted.anomaly_threshold,
            "epochs": fitted.epochs, "seq_len": fitted.seq_len,
            "flagged_by_anomaly_only": by_anom_only,
            "anomaly_roc_auc": M.roc_auc(self.is_attack[rows], s["anomaly"]),
            "params": int(fitted.model.count_params()),
        })

    def evaluate_seq2seq(self, fitted: _Fitted) -> dict[str, Any]:
        rows = self.split.test
        s = self.score(fitted, rows)
        flagged, pred = self.decide(fitted, s)
        return self._report(rows, flagged, pred, s["p_attack"], self.speed(fitted), {
            "threshold": fitted.threshold, "epochs": fitted.epochs,
            "params": int(fitted.model.count_params()),
        })

    def evaluate_tree(self, tree, *, keep: bool = True) -> dict[str, Any]:
        """Test-split metrics of a tree baseline; ``keep`` makes it the one the 20 %
        subsample check compares with."""
        rows = self.split.test
        p = self._tree_proba(tree, rows)
        p_att = 1 - p[:, self.benign]
        flagged = p_att >= tree.threshold_
        q = p.copy()
        q[:, self.benign] = -1
        pred = np.where(flagged, self.class_arr[q.argmax(axis=1)], BENIGN)
        xs = np.tile(self.x[rows], (max(1, 50_000 // max(len(rows), 1)), 1))
        tree.predict_proba(xs[:1000])
        t0 = time.perf_counter()
        tree.predict_proba(xs)
        fps = len(xs) / (time.perf_counter() - t0)
        if keep:
            self._tree = tree
        return self._report(rows, flagged, pred, p_att, round(fps), {
            "threshold": tree.threshold_, "iterations": tree.n_iter_,
        })

    def speed(self, fitted: _Fitted) -> int:
        """Flows/s of a compiled forward pass over >= 50,000 test flows (warm, batch 4096)."""
        from ids_desktop.core.model.network import compiled_predictor, predict_batches

        w = self.windows(self.split.test, fitted.seq_len)
        reps = max(1, 50_000 // max(int((w != sequences.PAD).sum()), 1))
        xt = np.concatenate([sequences.to_tensor(self.x, w)] * reps)
        n_flows = int((w != sequences.PAD).sum()) * reps
        run = compiled_predictor(fitted.model)
        predict_batches(fitted.model, xt[:8192], batch=4096, predictor=run)
        t0 = time.perf_counter()
        predict_batches(fitted.model, xt, batch=4096, predictor=run)
        return int(round(n_flows / (time.perf_counter() - t0)))

    def subsample_check(self, fitted: _Fitted) -> dict[str, Any]:
        """Metrics on a 20 % random subsample of the test rows (sequences rebuilt from it)."""
        rng = np.random.default_rng(self.seed + 20)
        rows = np.sort(rng.choice(self.split.test, size=max(1, len(self.split.test) // 5),
                                  replace=False))
        s = self.score(fitted, rows)
        flagged, pred = self.decide(fitted, s)
        truth = self.class_arr[self.y[rows]]
        out = {"hybrid": {"n": int(len(rows)),
                          "binary": M.binary_metrics(self.is_attack[rows], flagged, s["p_attack"]),
                          "accuracy_multiclass": M.multiclass_accuracy(truth, pred)}}
        tree = getattr(self, "_tree", None)
        if tree is not None:
            p = self._tree_proba(tree, rows)
            fl = (1 - p[:, self.benign]) >= tree.threshold_
            out["tree"] = {"n": int(len(rows)),
                           "binary": M.binary_metrics(self.is_attack[rows], fl, 1 - p[:, self.benign])}
        return out

    def leave_one_family_out(self, family: str) -> dict[str, Any]:
        """Train without ``family``; report how its test flows are detected (unseen attack)."""
        fam = self.classes.index(family)
        keep_tr = self.split.train[self.y[self.split.train] != fam]
        keep_va = self.split.val[self.y[self.split.val] != fam]
        fitted = self.fit_hybrid(self.x_seq_len_for_lofo(), stage=f"leave-out '{family}'",
                                 train_rows=keep_tr, val_rows=keep_va, epochs=self.opts.lofo_epochs)
        rows_fam = self.split.test[self.y[self.split.test] == fam]
        rows_ben = self.split.test[self.y[self.split.test] == self.benign]
        s_f = self.score(fitted, rows_fam)
        s_b = self.score(fitted, rows_ben)
        clf_f = s_f["p_attack"] >= fitted.threshold
        an_f = s_f["anomaly"] >= fitted.anomaly_threshold
        clf_b = s_b["p_attack"] >= fitted.threshold
        an_b = s_b["anomaly"] >= fitted.anomaly_threshold
        out = {
            "family": family,
            "n_test_family": int(len(rows_fam)),
            "hybrid": {
                "detected_by_classifier": float(clf_f.mean()) if len(rows_fam) else None,
                "detected_by_anomaly": float(an_f.mean()) if len(rows_fam) else None,
                "detected_combined": float((clf_f | an_f).mean()) if len(rows_fam) else None,
                "far_combined": float((clf_b | an_b).mean()) if len(rows_ben) else None,
                # Threshold-free: how well each score ranks the unseen family above benign.
                "auc_classifier": _auc_vs_benign(s_f["p_attack"], s_b["p_attack"]),
                "auc_anomaly": _auc_vs_benign(s_f["anomaly"], s_b["anomaly"]),
            },
        }
        if self.opts.baselines:
            tree = self.fit_tree(keep_tr, keep_va)
            p_f = self._tree_proba(tree, rows_fam)
            p_b = self._tree_proba(tree, rows_ben)
            out["tree"] = {
                "detected": float(((1 - p_f[:, self.benign]) >= tree.threshold_).mean())
                if len(rows_fam) else None,
                "far": float(((1 - p_b[:, self.benign]) >= tree.threshold_).mean())
                if len(rows_ben) else None,
                "auc": _auc_vs_benign(1 - p_f[:, self.benign], 1 - p_b[:, self.benign]),
            }
        return out

    def x_seq_len_for_lofo(self) -> int:
        return 1 if not self.temporal else min(self.opts.seq_lens or (1,))


def _auc_vs_benign(family_scores: np.ndarray, benign_scores: np.ndarray) -> float | None:
    y = np.r_[np.ones(len(family_scores)), np.zeros(len(benign_scores))]
    return M.roc_auc(y, np.r_[family_scores, benign_scores])


class _CancelCallback:
    """Keras callback stopping ``fit`` at the next batch once ``cancel`` is set."""

    def __new__(cls, cancel):
        import keras

        class _CB(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.cancelled = False

            def on_train_batch_end(self, batch, logs=None):
                if cancel is not None and cancel.is_set():
                    self.cancelled = True
                    self.model.stop_training = True

        return _CB()


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return None if not np.isfinite(v) else v
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    return obj
