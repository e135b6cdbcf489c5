"""Evaluation reports of a run: test-split metrics, speed, the 20 % subsample, leave-one-out."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ids_desktop.core.model import metrics as M
from ids_desktop.core.model import sequences
from ids_desktop.core.schema import BENIGN
from ids_desktop.training.context import NEVER_FLAGS, FitContext, Fitted


def report(ctx: FitContext, rows: np.ndarray, flagged: np.ndarray, pred: np.ndarray,
           p_attack: np.ndarray, flows_per_s: int,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """The metrics of one model's verdicts on ``rows`` (binary, per class, confusion).

    Every row counts as the flow it is (issue 34: flows as they occur). ``distinct`` repeats
    the binary metrics with each feature vector and label counted once, the figure the
    earlier cards reported.
    """
    y_att = ctx.is_attack[rows]
    truth = ctx.class_arr[ctx.y[rows]]
    per = M.per_class(truth, pred)
    once = distinct_positions(ctx, rows)
    out = {
        "binary": M.binary_metrics(y_att, flagged, p_attack),
        "per_class": per,
        "macro_f1": M.macro_f1(per),
        "accuracy_multiclass": M.multiclass_accuracy(truth, pred),
        "confusion": M.confusion(truth, pred),
        "flows_per_s": flows_per_s,
        "n_test": int(len(rows)),
        "distinct": {"n": int(len(once)),
                     "binary": M.binary_metrics(y_att[once], flagged[once], p_attack[once])},
    }
    if extra:
        out.update(extra)
    return out


def evaluate_hybrid(ctx: FitContext, fitted: Fitted) -> dict[str, Any]:
    """Test-split metrics of the hybrid, with its thresholds and anomaly-score figures."""
    rows = ctx.split.test
    s = ctx.score(fitted, rows)
    flagged, pred = ctx.decide(fitted, s)
    by_anom_only = int((flagged & ~(s["p_attack"] >= fitted.threshold)).sum())
    return report(ctx, rows, flagged, pred, s["p_attack"], speed(ctx, fitted), {
        "threshold": fitted.threshold, "anomaly_threshold": fitted.anomaly_threshold,
        "epochs": fitted.epochs, "seq_len": fitted.seq_len,
        "flagged_by_anomaly_only": by_anom_only,
        "anomaly_roc_auc": M.roc_auc(ctx.is_attack[rows], s["anomaly"]),
        "params": int(fitted.model.count_params()),
    })


def evaluate_refit(ctx: FitContext, fitted: Fitted, rows_trained: int) -> dict[str, Any]:
    """Test-split metrics of the hybrid refit on train + validation (:meth:`FitContext.refit`)
    at the split run's thresholds: how the shipped weights' procedure does on unseen rows."""
    rows = ctx.split.test
    s = ctx.score(fitted, rows)
    flagged, pred = ctx.decide(fitted, s)
    return report(ctx, rows, flagged, pred, s["p_attack"], 0,
                  {"epochs": fitted.best_epoch, "rows_trained": rows_trained})


def evaluate_seq2seq(ctx: FitContext, fitted: Fitted) -> dict[str, Any]:
    """Test-split metrics of the plain Seq2Seq baseline."""
    rows = ctx.split.test
    s = ctx.score(fitted, rows)
    flagged, pred = ctx.decide(fitted, s)
    return report(ctx, rows, flagged, pred, s["p_attack"], speed(ctx, fitted), {
        "threshold": fitted.threshold, "epochs": fitted.epochs,
        "params": int(fitted.model.count_params()),
    })


def evaluate_tree(ctx: FitContext, tree: Any) -> dict[str, Any]:
    """Test-split metrics of a tree baseline, with its ``predict_proba`` speed."""
    rows = ctx.split.test
    p = ctx.tree_proba(tree, rows)
    p_att = 1 - p[:, ctx.benign]
    flagged = p_att >= tree.threshold_
    pred = named_verdicts(ctx, p, flagged)
    xs = np.tile(ctx.x[rows], (max(1, 50_000 // max(len(rows), 1)), 1))
    tree.predict_proba(xs[:1000])
    t0 = time.perf_counter()
    tree.predict_proba(xs)
    fps = len(xs) / (time.perf_counter() - t0)
    return report(ctx, rows, flagged, pred, p_att, round(fps), {
        "threshold": tree.threshold_, "iterations": tree.n_iter_,
    })


@dataclass
class Blend:
    """The average of the hybrid and a tree, chosen on the validation split (issue 34).

    ``tree_name``/``tree``: the tree (of the run's baselines) whose average with the hybrid
    scores the higher validation attack F1; ``threshold``: the blend's decision threshold
    on P(attack), chosen there by the run's own rule and budget (counting the hybrid's
    anomaly flags only when :attr:`anomaly`). ``validation``: attack F1 and FAR on the
    validation split of the blend, the hybrid alone and that tree alone.
    """

    tree_name: str
    tree: Any
    threshold: float
    validation: dict[str, dict[str, float]]
    #: Whether the hybrid's anomaly score also flags (the hybrid's own rule), or the
    #: averaged classifier decides alone (what a shipped blend does).
    anomaly: bool = False

    @property
    def beats_both(self) -> bool:
        """Whether, on validation, the blend's attack F1 is at least the hybrid's and the
        tree's at a false-alarm rate no higher than the tree's: the condition on which a
        recipe with ``blend`` ships it."""
        v = self.validation
        return (v["blend"]["f1"] >= max(v["hybrid"]["f1"], v["tree"]["f1"])
                and v["blend"]["far"] <= v["tree"]["far"])

    def deciding(self, fitted: Fitted) -> Fitted:
        """``fitted`` with the blend's thresholds (no anomaly flags unless :attr:`anomaly`)."""
        return replace(fitted, threshold=self.threshold,
                       anomaly_threshold=fitted.anomaly_threshold if self.anomaly else NEVER_FLAGS)


def blend_scores(ctx: FitContext, fitted: Fitted, tree: Any, rows: np.ndarray) -> dict[str, Any]:
    """The hybrid's scores of ``rows`` with its class probabilities averaged with ``tree``'s
    (what :class:`~ids_desktop.core.model.runtime.BlendedRunner` gives in the app)."""
    return _averaged(ctx, ctx.score(fitted, rows), ctx.tree_proba(tree, rows))


def _averaged(ctx: FitContext, s: dict[str, Any], tree_probs: np.ndarray) -> dict[str, Any]:
    probs = (s["probs"] + tree_probs) / 2
    return {**s, "probs": probs, "p_attack": 1.0 - probs[:, ctx.benign]}


def tree_validation(ctx: FitContext, tree: Any, probs: np.ndarray | None = None
                    ) -> dict[str, float]:  # fmt: skip
    """A tree baseline's validation attack F1 and FAR at its own threshold (``probs``: its
    class probabilities of the validation rows, when already computed)."""
    va = ctx.split.val
    p = 1 - (ctx.tree_proba(tree, va) if probs is None else probs)[:, ctx.benign]
    return _f1_far(ctx.is_attack[va], p >= tree.threshold_, p)


def choose_blend(ctx: FitContext, fitted: Fitted, trees: dict[str, Any], *,
                 anomaly: bool = False) -> Blend:
    """The tree and threshold of the hybrid + tree average, both chosen on validation.

    ``trees``: name -> fitted baseline. The blend flags by its averaged P(attack) at its own
    threshold; ``anomaly=True`` also flags by the hybrid's anomaly score, as the hybrid does
    (``scripts/compare_options.py --trees`` reports both; on cic-ids2017 the anomaly flags
    cost the blend validation F1 in each of five seeds, bench/RESULTS.md).
    """
    va = ctx.split.val
    y = ctx.is_attack[va]
    s_h = ctx.score(fitted, va)
    h_flag, _ = ctx.decide(fitted, s_h)
    best: Blend | None = None
    for name, tree in trees.items():
        p_tree = ctx.tree_proba(tree, va)
        s = _averaged(ctx, s_h, p_tree)
        extra = (s["anomaly"] >= fitted.anomaly_threshold
                 if anomaly and "anomaly" in s else None)
        thr = M.choose_threshold(y, s["p_attack"], max_far=ctx.far_target * ctx.opts.far_margin,
                                 extra_flags=extra, rule=ctx.opts.threshold_rule)
        candidate = Blend(name, tree, float(thr), {}, anomaly)
        flagged, _ = ctx.decide(candidate.deciding(fitted), s)
        candidate.validation.update({"blend": _f1_far(y, flagged, s["p_attack"]),
                                     "hybrid": _f1_far(y, h_flag, s_h["p_attack"]),
                                     "tree": tree_validation(ctx, tree, p_tree)})
        if best is None or candidate.validation["blend"]["f1"] > best.validation["blend"]["f1"]:
            best = candidate
    assert best is not None
    return best


def _f1_far(y: np.ndarray, flagged: np.ndarray, score: np.ndarray) -> dict[str, float]:
    b = M.binary_metrics(y, flagged, score)
    return {"f1": float(b["f1"]), "far": float(b["far"])}


def evaluate_blend(ctx: FitContext, fitted: Fitted, blend: Blend, *, shipped: bool,
                   tree: Any = None) -> dict[str, Any]:
    """Test-split metrics of the hybrid + tree average at the blend's validation threshold.

    ``tree``: the tree to average with (default ``blend.tree``; the refit check passes the
    tree fitted again on train + validation, with ``fitted`` the hybrid fitted the same way).
    ``shipped``: whether the bundle ships this blend (recorded for the card).
    """
    te = ctx.split.test
    s = blend_scores(ctx, fitted, blend.tree if tree is None else tree, te)
    flagged, pred = ctx.decide(blend.deciding(fitted), s)
    return report(ctx, te, flagged, pred, s["p_attack"], 0,
                  {"threshold": blend.threshold, "tree": blend.tree_name,
                   "anomaly_flags": blend.anomaly, "validation": blend.validation,
                   "shipped": shipped})


def named_verdicts(ctx: FitContext, probs: np.ndarray, flagged: np.ndarray) -> np.ndarray:
    """Each flagged row named after its most probable attack class, the rest benign."""
    q = probs.copy()
    q[:, ctx.benign] = -1
    return np.where(flagged, ctx.class_arr[q.argmax(axis=1)], BENIGN)


def speed(ctx: FitContext, fitted: Fitted) -> int:
    """Flows/s of a compiled forward pass over >= 50,000 test flows (warm, batch 4096)."""
    from ids_desktop.core.model.network import compiled_predictor, predict_batches

    w = ctx.windows(ctx.split.test, fitted.seq_len)
    reps = max(1, 50_000 // max(int((w != sequences.PAD).sum()), 1))
    xt = np.concatenate([sequences.to_tensor(ctx.x, w)] * reps)
    n_flows = int((w != sequences.PAD).sum()) * reps
    run = compiled_predictor(fitted.model)
    predict_batches(fitted.model, xt[:8192], batch=4096, predictor=run)
    t0 = time.perf_counter()
    predict_batches(fitted.model, xt, batch=4096, predictor=run)
    return int(round(n_flows / (time.perf_counter() - t0)))


def subsample_check(ctx: FitContext, fitted: Fitted, tree: Any = None) -> dict[str, Any]:
    """Metrics on a 20 % random subsample of the test rows (sequences rebuilt from it).

    ``tree``: the RandomForest baseline, measured on the same rows when given.
    """
    rng = np.random.default_rng(ctx.seed + 20)
    rows = np.sort(rng.choice(ctx.split.test, size=max(1, len(ctx.split.test) // 5),
                              replace=False))
    s = ctx.score(fitted, rows)
    flagged, pred = ctx.decide(fitted, s)
    truth = ctx.class_arr[ctx.y[rows]]
    out = {"hybrid": {"n": int(len(rows)),
                      "binary": M.binary_metrics(ctx.is_attack[rows], flagged, s["p_attack"]),
                      "accuracy_multiclass": M.multiclass_accuracy(truth, pred)}}
    if tree is not None:
        p = ctx.tree_proba(tree, rows)
        fl = (1 - p[:, ctx.benign]) >= tree.threshold_
        out["tree"] = {"n": int(len(rows)),
                       "binary": M.binary_metrics(ctx.is_attack[rows], fl, 1 - p[:, ctx.benign])}
    return out


def leave_one_family_out(ctx: FitContext, family: str) -> dict[str, Any]:
    """Train without ``family``; report how its test flows are detected (unseen attack)."""
    fam = ctx.classes.index(family)
    keep_tr = ctx.split.train[ctx.y[ctx.split.train] != fam]
    keep_va = ctx.split.val[ctx.y[ctx.split.val] != fam]
    fitted = ctx.fit_hybrid(ctx.lofo_seq_len(), stage=f"leave-out '{family}'",
                            train_rows=keep_tr, val_rows=keep_va, epochs=ctx.opts.lofo_epochs)
    rows_fam = ctx.split.test[ctx.y[ctx.split.test] == fam]
    rows_ben = ctx.split.test[ctx.y[ctx.split.test] == ctx.benign]
    s_f = ctx.score(fitted, rows_fam)
    s_b = ctx.score(fitted, rows_ben)
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
            "auc_classifier": auc_vs_benign(s_f["p_attack"], s_b["p_attack"]),
            "auc_anomaly": auc_vs_benign(s_f["anomaly"], s_b["anomaly"]),
        },
    }
    if ctx.opts.baselines:
        tree = ctx.fit_tree(keep_tr, keep_va)
        p_f = ctx.tree_proba(tree, rows_fam)
        p_b = ctx.tree_proba(tree, rows_ben)
        out["tree"] = {
            "detected": float(((1 - p_f[:, ctx.benign]) >= tree.threshold_).mean())
            if len(rows_fam) else None,
            "far": float(((1 - p_b[:, ctx.benign]) >= tree.threshold_).mean())
            if len(rows_ben) else None,
            "auc": auc_vs_benign(1 - p_f[:, ctx.benign], 1 - p_b[:, ctx.benign]),
        }
    return out


def auc_vs_benign(family_scores: np.ndarray, benign_scores: np.ndarray) -> float | None:
    """ROC-AUC of a family's scores against the benign flows' (``None`` if undefined)."""
    y = np.r_[np.ones(len(family_scores)), np.zeros(len(benign_scores))]
    return M.roc_auc(y, np.r_[family_scores, benign_scores])


def distinct_positions(ctx: FitContext, rows: np.ndarray) -> np.ndarray:
    """Positions within ``rows`` of the first row of each distinct feature vector and label."""
    groups = ctx.split.groups
    if groups is None:
        return np.arange(len(rows))
    key = groups[rows] * len(ctx.classes) + ctx.y[rows]
    _, first = np.unique(key, return_index=True)
    return np.sort(first)


def ceiling(ctx: FitContext, rows: np.ndarray) -> dict[str, Any]:
    """The best any model of these features can do on ``rows``, flow by flow.

    A model sees only the feature vector, so every flow of one vector gets one verdict. Where
    a vector carries benign and attack labels, the best verdict is the majority by count (ties
    go to benign); this scores those majority verdicts.
    """
    groups = ctx.split.groups
    y_att = ctx.is_attack[rows]
    if groups is None:
        return {"binary": M.binary_metrics(y_att, y_att, y_att.astype(float)), "mixed_flows": 0}
    _, g = np.unique(groups[rows], return_inverse=True)
    n = np.bincount(g)
    share = np.bincount(g, weights=y_att.astype(float)) / n
    best = share[g] > 0.5
    mixed = (share > 0) & (share < 1)
    return {"binary": M.binary_metrics(y_att, best, share[g]),
            "mixed_flows": int(n[mixed].sum())}
