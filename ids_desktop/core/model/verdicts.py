"""The verdict rule: class probabilities and anomaly scores -> flagged, family, P(attack).

Training (thresholds, validation, test metrics), inference (:meth:`Bundle.score`) and the
capture validation all decide through :func:`decide`, so what a card reports is what the app
does.

The rule
--------
- ``P(attack) = 1 - P(benign)``. A bundle without a benign class has nothing benign to
  give: every flow's P(attack) is 1.
- A flow is flagged when ``P(attack) >= threshold`` (by the classifier) or its anomaly
  score reaches ``anomaly_threshold``.
- A flow flagged by the classifier is an *alert*, named after its most probable attack
  class, when the model is sure of that family and the flow is like its training data: the
  family's (calibrated) probability reaches ``min_confidence``, and the flow is not out of
  distribution (``unusual``, :class:`~ids_desktop.core.model.calibration.Distance`).
- Every other flagged flow is *unusual*, :data:`UNUSUAL` (``anomaly``): flagged by its anomaly
  score alone, or by the classifier without a family it can stand by. The rest are benign.

Bundles trained before calibration have no ``min_confidence`` (0) and no distance: for them
the classifier's flags are all alerts, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from ids_desktop.core.schema import BENIGN

#: ``pred_class`` of a flow flagged with no family: only its anomaly score flagged it (the
#: classifier saw nothing it knows). Not ``attack``, which reads like a family.
UNUSUAL = "anomaly"


@dataclass(frozen=True)
class Verdicts:
    """Per-flow decisions, aligned with the rows of the probabilities they came from.

    Attributes
    ----------
    p_attack
        ``1 - P(benign)`` (float64).
    flagged
        The flow is flagged (bool).
    by_classifier
        Flagged because ``p_attack`` reached the threshold (bool).
    code
        The verdict's position in ``names``: ``classes + [UNUSUAL, BENIGN]``.
    names
        The vocabulary ``code`` indexes.
    """

    p_attack: np.ndarray
    flagged: np.ndarray
    by_classifier: np.ndarray
    code: np.ndarray
    names: tuple[str, ...]

    def pred_class(self) -> pd.api.extensions.ExtensionArray:
        """The verdicts as a pandas ``string`` array.

        Named in Arrow: an object array of a million strings would hold the GIL (and a GUI
        thread) for 0.1 s.
        """
        names = pa.array(list(self.names), type=pa.large_string())
        return pd.array(names.take(pa.array(self.code)), dtype="string")

    def pred_names(self) -> np.ndarray:
        """The verdicts as an object array of names (for metrics)."""
        names: np.ndarray = np.asarray(self.names, dtype=object)[self.code]
        return names


def reconstruction_error(x: np.ndarray, recon: np.ndarray,
                         cap: float | None = None) -> np.ndarray:  # fmt: skip
    """The anomaly score: the mean over the last axis of the squared reconstruction error.

    ``cap`` (a bundle's ``anomaly_error_cap``): each input's squared error counts at most
    this much, so a flow scores high when many inputs are missed, not when one volume is far
    out (a large but ordinary transfer). ``None`` or 0: no cap (bundles before the option).
    """
    err = (x - recon) ** 2
    if cap:
        err = np.minimum(err, cap)
    out: np.ndarray = np.mean(err, axis=-1)
    return out


def p_attack(probs: np.ndarray, classes: list[str] | tuple[str, ...]) -> np.ndarray:
    """``1 - P(benign)`` per row of ``probs`` ``(n, C)``; 1 when there is no benign class."""
    if BENIGN in classes:
        return (1.0 - probs[:, list(classes).index(BENIGN)]).astype(np.float64)
    return np.ones(len(probs), dtype=np.float64)


def decide(
    probs: np.ndarray,
    anomaly: np.ndarray | None,
    classes: list[str] | tuple[str, ...],
    threshold: float,
    anomaly_threshold: float,
    *,
    unusual: np.ndarray | None = None,
    min_confidence: float = 0.0,
) -> Verdicts:
    """Apply the verdict rule (module docstring) to ``probs`` ``(n, C)`` and ``anomaly`` ``(n,)``.

    ``anomaly`` is ``None`` for models without a reconstruction (the plain Seq2Seq
    baseline): only the classifier flags then. ``unusual`` marks the rows out of the training
    distribution (``None``: none are).
    """
    classes = tuple(classes)
    p = p_attack(probs, classes)
    by_clf = p >= float(threshold)
    flagged = by_clf if anomaly is None else by_clf | (anomaly >= float(anomaly_threshold))
    attack_probs = np.array(probs, copy=True)
    if BENIGN in classes:
        attack_probs[:, classes.index(BENIGN)] = -1.0
    n_cls = len(classes)
    best = attack_probs.argmax(axis=1) if len(attack_probs) else np.zeros(0, dtype=np.int64)
    named = by_clf
    if min_confidence > 0 and len(attack_probs):
        named = named & (attack_probs.max(axis=1) >= float(min_confidence))
    if unusual is not None:
        named = named & ~np.asarray(unusual, dtype=bool)
    code = np.where(flagged, np.where(named, best, n_cls), n_cls + 1).astype(np.int64)
    return Verdicts(p, flagged, by_clf, code, (*classes, UNUSUAL, BENIGN))
