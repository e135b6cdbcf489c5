"""Train a bundle: flows as they occur, grouped stratified split, hybrid + baselines, honest
test metrics."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.ingest.digest import sha256_file
from ids_desktop.core.model import metrics as M
from ids_desktop.core.model import sequences
from ids_desktop.core.model.bundle import FORMAT_VERSION
from ids_desktop.core.model.preprocess import Preprocessor
from ids_desktop.core.model.runtime import TREE_FILE
from ids_desktop.core.targets import DEFAULT_FAR_TARGET, F1_TARGETS, FAR_TARGETS
from ids_desktop.core.tasks import Cancel, Progress, check_cancel, no_progress
from ids_desktop.errors import ModelError
from ids_desktop.training import evaluation as E
from ids_desktop.training.bundle_writer import library_versions, write_bundle
from ids_desktop.training.context import FitContext, set_determinism
from ids_desktop.training.options import TrainOptions
from ids_desktop.training.split import class_order, rows_and_split


@dataclass(frozen=True)
class TrainResult:
    """What a training run returns.

    Attributes
    ----------
    metadata
        The bundle's metadata with every measured metric (as written to ``metadata.json``,
        less the digests of the written files).
    model
        The trained Keras model (the bundle's ``model.keras``).
    """

    metadata: dict[str, Any]
    model: Any


def train(
    format_name: str,
    data_paths: Sequence[str | Path],
    out_dir: str | Path,
    *,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    options: TrainOptions | None = None,
) -> TrainResult:
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
    TrainResult
        The bundle's metadata (including all measured metrics) and the Keras model.
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
    cancel: Cancel | None = None,
    options: TrainOptions | None = None,
    name: str | None = None,
) -> TrainResult:
    """Train on a canonical labelled ``frame``; write the bundle when ``out_dir`` is given.

    See :func:`train`; this is the same without reading files (tests and the capture
    bundle's recipe use it). ``name`` is the bundle's name (default: the feature format).
    """
    opts = options or TrainOptions()
    t_start = time.perf_counter()
    ctx, pre, dedup_info = prepare_run(frame, feature_format, temporal=temporal, opts=opts,
                                       seed=seed, progress=progress, cancel=cancel)
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

    results: dict[str, Any] = {"hybrid": E.evaluate_hybrid(ctx, hybrid)}
    tree, blend = None, None
    if opts.baselines:
        s2s = ctx.fit_seq2seq(seq_len)
        results["seq2seq"] = E.evaluate_seq2seq(ctx, s2s)
        tree = ctx.fit_tree()
        results["tree"] = E.evaluate_tree(ctx, tree)
        boosting = ctx.fit_tree(kind="boosting")
        results["boosting"] = E.evaluate_tree(ctx, boosting)
        blend = E.choose_blend(ctx, hybrid, {"tree": tree, "boosting": boosting})
    # Issue 34: the average of the hybrid and a tree ships when validation says it beats both.
    ship_blend = (blend if opts.blend and blend is not None and blend.beats_both
                  and len(blend.tree.classes_) > 1 else None)
    if blend is not None:
        results["blend"] = E.evaluate_blend(ctx, hybrid, blend, shipped=ship_blend is not None)
    # The RandomForest is the tree the subsample check measures beside the hybrid.
    results["subsample_20pct"] = E.subsample_check(ctx, hybrid, tree)
    results["ceiling"] = E.ceiling(ctx, split.test)
    lofo = [E.leave_one_family_out(ctx, fam) for fam in opts.lofo_families if fam in classes]
    shipped, refit_info = hybrid, None
    ship_tree = ship_blend.tree if ship_blend is not None else None
    if opts.refit:
        seen = np.sort(np.concatenate([split.train, split.val]))
        check = ctx.refit(hybrid, seen, stage="refit check: train + validation")
        results["refit_check"] = E.evaluate_refit(ctx, check, len(seen))
        if ship_blend is not None:
            results["blend_refit_check"] = E.evaluate_blend(
                ctx, check, ship_blend, shipped=True,
                tree=ship_blend.tree.refit(ctx.x[seen], ctx.y[seen]))
        every = np.sort(np.concatenate([split.train, split.val, split.test]))
        shipped = ctx.refit(hybrid, every, stage="the shipped weights: every row")
        if ship_blend is not None:
            ship_tree = ship_blend.tree.refit(ctx.x[every], ctx.y[every])
        refit_info = {"rows": int(len(every)), "epochs": hybrid.best_epoch}

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
        # With a blend, the app's threshold is the blend's; the hybrid's own is kept beside it.
        "threshold": ship_blend.threshold if ship_blend is not None else hybrid.threshold,
        **({"hybrid_threshold": hybrid.threshold} if ship_blend is not None else {}),
        # A shipped blend flags by its averaged classifier alone (evaluation.Blend.anomaly).
        "anomaly_threshold": (ship_blend.deciding(hybrid).anomaly_threshold
                              if ship_blend is not None else hybrid.anomaly_threshold),
        **({"hybrid_anomaly_threshold": hybrid.anomaly_threshold}
           if ship_blend is not None else {}),
        **({"temperature": hybrid.temperature} if hybrid.temperature != 1.0 else {}),
        **({"min_confidence": hybrid.min_confidence} if hybrid.min_confidence else {}),
        **({"distance": hybrid.distance.to_json()} if hybrid.distance is not None else {}),
        **({"anomaly_error_cap": opts.anomaly_error_cap} if opts.anomaly_error_cap else {}),
        **({"explain_fixed": list(opts.explain_fixed)} if opts.explain_fixed else {}),
        "training_data": data_info or [],
        "rows": {**dedup_info, **split.notes},
        "seed": seed,
        "options": opts.to_metadata(),
        "metrics": results,
        "lofo": lofo,
        **({"refit": refit_info} if refit_info else {}),
        "targets": {"attack_f1": F1_TARGETS.get(feature_format), "far": ctx.far_target},
        **({"blend": {"tree": ship_blend.tree_name, "weight": 0.5, "file": TREE_FILE,
                      "columns": [int(c) for c in ship_tree.model_.classes_]}}
           if ship_blend is not None and ship_tree is not None else {}),
        "versions": library_versions(),
        "train_seconds": round(time.perf_counter() - t_start, 1),
    }
    if out_dir is not None:
        write_bundle(Path(out_dir), shipped.model, meta, background=ctx.background(seq_len),
                     check_inputs=ctx.tensors(ctx.windows(split.val, seq_len))[0],
                     tree=ship_tree.model_ if ship_tree is not None else None,
                     tree_check=ctx.x[split.val])
    return TrainResult(meta, shipped.model)


def prepare_run(
    frame: pd.DataFrame,
    feature_format: str,
    *,
    temporal: bool,
    opts: TrainOptions,
    seed: int,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> tuple[FitContext, Preprocessor, dict[str, Any]]:
    """The set-up every training run shares.

    Seeds, preparation, the rows counted as they occur, the grouped split, preprocessing
    fitted on the training rows, class codes and sequence keys.
    ``scripts/compare_options.py`` uses it to judge variants exactly as :func:`train_frame`
    trains them.

    Returns
    -------
    tuple
        The run's :class:`~ids_desktop.training.context.FitContext`, the fitted
        preprocessor and the deduplication notes.
    """
    set_determinism(seed)
    run = rows_and_split(frame, feature_format, temporal, opts, seed)
    data, split = run.data, run.split
    pre = Preprocessor.fit(data.iloc[split.train], run.numeric, run.categorical,
                           quantiles=opts.quantiles)
    x_all = pre.transform(data)
    classes = sorted(data["label_class"].unique().tolist(), key=class_order)
    y_all = np.array([classes.index(c) for c in data["label_class"]], dtype=np.int64)
    if temporal:
        hosts, times = sequences.host_time_keys(data)
    else:
        hosts, times = np.arange(len(data)), np.zeros(len(data))
    ctx = FitContext(data, x_all, y_all, classes, hosts, times, temporal, split, opts, seed,
                     progress or no_progress, cancel,
                     FAR_TARGETS.get(feature_format, DEFAULT_FAR_TARGET))
    return ctx, pre, run.dedup
