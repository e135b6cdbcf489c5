"""Compare hybrid training options on a dataset's validation split only (model selection).

Each variant is a set of :class:`~ids_desktop.training.options.TrainOptions` fields. The hybrid
is trained exactly as ``make train`` trains it (same rows, grouped split, seed and
threshold rule), then judged on the validation split: attack F1, false-alarm rate, ROC-AUC and
recall at the validation-chosen thresholds. The test split is never scored, so the choice this
informs does not look at the numbers the model card reports.

For the capture bundle (``pcap``) the training frame is the capture recipe's
``lab+apps+captures`` source (host sequences, T = 8, its options as the base of every variant);
only its validation split is scored, never the per-capture validation the model card reports.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.model import metrics as M
from ids_desktop.training.options import TrainOptions
from ids_desktop.training.trainer import prepare_run


@dataclass(frozen=True)
class VariantScore:
    """One variant and seed on the validation split.

    ``log_loss`` is the binary cross-entropy of P(attack) on the validation flows: a
    threshold-free figure that moves with the separation even where a few hundred benign flows
    make the false-alarm rate jump in steps.
    """

    f1: float
    far: float
    roc_auc: float
    recall: float
    macro_f1: float
    log_loss: float
    epochs: int
    seconds: float
    #: Validation flows per (true class, predicted class): rows the truth, columns the verdict.
    confusion: pd.DataFrame | None = None
    #: With ``trees``: validation ``{"f1", "far"}`` of each tree baseline (``tree``,
    #: ``boosting``), of the hybrid + tree average (``blend``, with ``blend_tree`` the tree
    #: it averages), as :func:`ids_desktop.training.evaluation.choose_blend` judges them, and
    #: ``blend_anomaly``: the same average with the hybrid's anomaly score also flagging.
    trees: dict[str, Any] | None = None

    def as_row(self) -> tuple[float, ...]:
        """The figures in the table's column order."""
        return (self.f1, self.far, self.roc_auc, self.recall, self.macro_f1, self.log_loss,
                self.epochs, self.seconds)


def pcap_frame(lab: Path, data: Path) -> pd.DataFrame:
    """The capture bundle's training frame (lab, benign apps and the shared captures)."""
    from ids_desktop.training.capture_sources import load_sources, source_parts
    from ids_desktop.training.oversampling import assemble

    lab_parts, apps, attack, benign = load_sources(lab, data, seed=0)
    parts, _ = source_parts("lab+apps+captures", lab_parts, apps, attack + benign)
    return assemble(parts).drop(columns=["capture"])


def base_options(fmt: str) -> TrainOptions:
    """The options every variant starts from: the defaults without baselines, or the capture
    recipe's fold-model options."""
    if fmt != "pcap":
        return TrainOptions(baselines=False)
    from ids_desktop.training.pcap import EPOCHS, options

    return options(False, EPOCHS)


def score_variant(frame: pd.DataFrame, fmt: str, fields: Mapping[str, Any], seed: int,
                  temporal: bool = False, trees: bool = False) -> VariantScore:  # fmt: skip
    """Train one variant's hybrid with ``seed`` and score it on the validation split.

    ``trees``: also fit the two tree baselines on the same rows and score them, and the
    average of the hybrid and the tree whose average scores better (:attr:`VariantScore.trees`).
    """
    opts = replace(base_options(fmt), **fields)
    t0 = time.perf_counter()
    ctx, _, _ = prepare_run(frame, fmt, temporal=temporal, opts=opts, seed=seed)
    # the first candidate T (train_frame tries each; the capture bundle has one)
    fitted = ctx.fit_hybrid(opts.seq_lens[0] if temporal and opts.seq_lens else 1)
    val = ctx.split.val
    scores = ctx.score(fitted, val)
    flagged, _ = ctx.decide(fitted, scores)
    b = M.binary_metrics(ctx.is_attack[val], flagged, scores["p_attack"])
    truth, pred = ctx.class_names(fitted, val)
    macro = M.macro_f1(M.per_class(truth, pred))
    confusion = pd.crosstab(pd.Series(truth, name="truth"), pd.Series(pred, name="verdict"))
    p = np.clip(scores["p_attack"], 1e-7, 1 - 1e-7)
    y = ctx.is_attack[val]
    loss = float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))
    return VariantScore(b["f1"], b["far"], b["roc_auc"], b["recall"], macro, loss, fitted.epochs,
                        time.perf_counter() - t0, confusion,
                        tree_scores(ctx, fitted) if trees else None)


def tree_scores(ctx: Any, fitted: Any) -> dict[str, Any]:
    """Validation attack F1 and FAR of both tree baselines and of the hybrid + tree average."""
    from ids_desktop.training.evaluation import choose_blend, tree_validation

    fitted_trees = {"tree": ctx.fit_tree(), "boosting": ctx.fit_tree(kind="boosting")}
    out: dict[str, Any] = {name: tree_validation(ctx, tree)
                           for name, tree in fitted_trees.items()}
    blend = choose_blend(ctx, fitted, fitted_trees)
    out["blend"] = blend.validation["blend"]
    out["blend_tree"] = blend.tree_name
    out["blend_anomaly"] = choose_blend(ctx, fitted, fitted_trees,
                                        anomaly=True).validation["blend"]
    return out
