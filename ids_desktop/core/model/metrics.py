"""Detection metrics in plain numpy (attack is the positive class), checked against scikit-learn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _safe_div(a: float, b: float) -> float:
    return float(a) / float(b) if b else 0.0


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney U with average ranks); ``None`` if one class."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    sorted_s = s[order]
    ranks = np.empty(len(s), dtype=np.float64)
    # Average ranks over ties.
    starts = np.flatnonzero(np.r_[True, sorted_s[1:] != sorted_s[:-1]])
    ends = np.r_[starts[1:], len(s)]
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def binary_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray | None = None
) -> dict[str, Any]:
    """``precision``, ``recall``, ``f1``, ``accuracy``, ``far`` and ``roc_auc`` for attack=1.

    ``far`` is the false-alarm rate, the share of benign flows flagged. ``roc_auc`` is
    ``None`` when ``score`` is missing or ``y_true`` holds one class.
    """
    y = np.asarray(y_true).astype(bool)
    p = np.asarray(y_pred).astype(bool)
    tp = int((y & p).sum())
    fp = int((~y & p).sum())
    fn = int((y & ~p).sum())
    tn = int((~y & ~p).sum())
    precision = _safe_div(tp, tp + fp)
    recall = _safe_div(tp, tp + fn)
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": _safe_div(tp + tn, len(y)),
        "far": _safe_div(fp, fp + tn),
        "roc_auc": roc_auc(y, score) if score is not None else None,
    }


def confusion(
    y_true: Sequence[str] | np.ndarray,
    y_pred: Sequence[str] | np.ndarray,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Confusion matrix: ``labels`` and ``matrix`` (rows true, columns predicted)."""
    t = np.asarray(y_true, dtype=object)
    p = np.asarray(y_pred, dtype=object)
    if labels is None:
        labels = sorted(set(t.tolist()) | set(p.tolist()))
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    ti = np.array([index.get(v, -1) for v in t], dtype=np.int64)
    pi = np.array([index.get(v, -1) for v in p], dtype=np.int64)
    keep = (ti >= 0) & (pi >= 0)
    matrix = np.bincount(ti[keep] * k + pi[keep], minlength=k * k).reshape(k, k)
    return {"labels": list(labels), "matrix": matrix.tolist()}


def per_class(
    y_true: Sequence[str] | np.ndarray,
    y_pred: Sequence[str] | np.ndarray,
    labels: Sequence[str] | None = None,
) -> dict[str, dict[str, float]]:
    """Per class: ``precision``, ``recall``, ``f1`` and ``support`` (true count)."""
    conf = confusion(y_true, y_pred, labels)
    m = np.asarray(conf["matrix"], dtype=np.int64)
    out: dict[str, dict[str, float]] = {}
    for i, lab in enumerate(conf["labels"]):
        tp = int(m[i, i])
        pred = int(m[:, i].sum())
        true = int(m[i, :].sum())
        precision = _safe_div(tp, pred)
        recall = _safe_div(tp, true)
        out[lab] = {
            "precision": precision,
            "recall": recall,
            "f1": _safe_div(2 * precision * recall, precision + recall),
            "support": true,
        }
    return out


def macro_f1(per: dict[str, dict[str, float]]) -> float:
    """Unweighted mean F1 over the classes that occur in the truth."""
    f1s = [v["f1"] for v in per.values() if v["support"] > 0]
    return float(np.mean(f1s)) if f1s else 0.0


def multiclass_accuracy(
    y_true: Sequence[str] | np.ndarray, y_pred: Sequence[str] | np.ndarray
) -> float:
    t = np.asarray(y_true, dtype=object)
    p = np.asarray(y_pred, dtype=object)
    return float((t == p).mean()) if len(t) else 0.0


def choose_threshold(
    y_true: np.ndarray,
    score: np.ndarray,
    *,
    max_far: float,
    extra_flags: np.ndarray | None = None,
    rule: str = "f1",
) -> float:
    """The score threshold with the best attack F1 whose false-alarm rate stays <= ``max_far``.

    ``extra_flags`` are flows flagged anyway (by the anomaly score); they count towards the
    F1 and the false-alarm rate. Use validation rows only. ``rule="recall"`` takes the most
    sensitive threshold within the budget instead (for models that meet traffic unlike their
    validation data, where the budget, not the in-domain F1, should set the operating point).

    Every distinct score is a candidate (a grid of quantiles skips the thresholds between its
    points, and with them part of the budget). The threshold returned sits halfway between
    the lowest flagged score and the next lower one, so a flow scoring a hair below a
    flagged validation flow is treated like it.
    """
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(score, dtype=np.float64)
    if not len(s):
        return 0.5
    extra = np.zeros(len(y), bool) if extra_flags is None else np.asarray(extra_flags, bool)
    n_neg = max(int((~y).sum()), 1)
    n_pos = int(y.sum())
    order = np.argsort(-s, kind="stable")
    ss, yy, ee = s[order], y[order], extra[order]
    last = np.r_[ss[1:] != ss[:-1], True]  # the last row of each run of equal scores
    thresholds = ss[last]  # distinct scores, descending; flagging s >= thresholds[k]
    tp = int((y & extra).sum()) + np.cumsum(yy & ~ee)[last]
    fp = int((~y & extra).sum()) + np.cumsum(~yy & ~ee)[last]
    ok = fp / n_neg <= max_far
    if not ok.any():
        # No threshold meets the false-alarm budget: take the strictest one.
        return float(np.nextafter(ss[0], np.inf))
    if rule == "recall":
        k = int(np.flatnonzero(ok)[-1])  # fp grows as the threshold falls
    else:
        f1 = np.where(ok, 2 * tp / np.maximum(2 * tp + fp + (n_pos - tp), 1), -1.0)
        best = np.flatnonzero(f1 >= f1.max() - 1e-12)
        k = int(best[np.argmin(np.abs(thresholds[best] - 0.5))])
    if k + 1 < len(thresholds):
        return float((thresholds[k] + thresholds[k + 1]) / 2)
    return float(thresholds[k])
