"""Calibrated probabilities and a distance from the training data, fitted at training time.

- **Temperature scaling** (Guo et al., "On Calibration of Modern Neural Networks", 2017): one
  number ``T`` fitted on the validation split to minimise the negative log-likelihood of the
  true classes. The network's softmax ``p`` becomes ``p ** (1 / T)``, renormalised: the
  softmax of the logits divided by ``T``, so the ranking of classes never changes, only how
  sure the probabilities say the model is.
- **Out of distribution** (the Mahalanobis distance on principal components, as in Lee et al.,
  "A Simple Unified Framework for Detecting Out-of-Distribution Samples", 2018, on the scaled
  features rather than an embedding): the training rows' mean and top principal components;
  a flow's score is its squared distance in those components, each in units of its spread, plus
  its squared distance from their span in units of the training rows' own. The threshold is a
  high quantile of the validation rows' scores (benign and attack alike): a flow past it is
  unlike anything the model was trained on, and the verdict rule withholds a family from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: Temperatures searched (log-spaced): sharper (under 1) to much softer.
_TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(20.0), 200))


def apply_temperature(probs: np.ndarray, temperature: float) -> np.ndarray:
    """``probs`` (rows of softmax outputs, any leading shape) at ``temperature``."""
    if temperature == 1.0:
        return probs
    logp = np.log(np.clip(probs, 1e-12, 1.0)) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    out = np.exp(logp)
    return np.asarray(out / out.sum(axis=-1, keepdims=True), dtype=probs.dtype)


def fit_temperature(probs: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the mean negative log-likelihood of ``truth`` (class
    indices) under ``probs`` ``(n, C)``."""
    if len(probs) == 0:
        return 1.0
    logp = np.log(np.clip(probs, 1e-12, 1.0)).astype(np.float64)
    best, best_nll = 1.0, np.inf
    for t in _TEMPERATURES:
        z = logp / t
        z -= z.max(axis=1, keepdims=True)
        nll = float(np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(z)), truth]))
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


@dataclass(frozen=True)
class Distance:
    """The fitted out-of-distribution score (module docstring); every field is JSON.

    Attributes
    ----------
    mean
        The training rows' mean ``(F,)``.
    components, spreads
        The top principal components ``(k, F)`` and their standard deviations ``(k,)``.
    residual
        The training rows' mean squared distance from the components' span.
    threshold
        Scores at or above it are out of distribution.
    """

    mean: np.ndarray
    components: np.ndarray
    spreads: np.ndarray
    residual: float
    threshold: float

    @classmethod
    def fit(cls, train: np.ndarray, validation: np.ndarray, *, components: int = 16,
            quantile: float = 0.99, sample: int = 50_000, seed: int = 0) -> Distance:
        """Fit on ``train`` rows ``(n, F)``; the threshold is ``quantile`` of ``validation``'s
        scores. At most ``sample`` training rows are used (seeded)."""
        rng = np.random.default_rng(seed)
        x = np.asarray(train, dtype=np.float64)
        if len(x) > sample:
            x = x[rng.choice(len(x), sample, replace=False)]
        mean = x.mean(axis=0)
        centred = x - mean
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        k = int(min(components, len(s)))
        spreads = np.maximum(s[:k] / np.sqrt(max(len(x) - 1, 1)), 1e-6)
        proj = centred @ vt[:k].T
        residual = float(max(np.mean(np.sum(centred**2, axis=1) - np.sum(proj**2, axis=1)), 1e-9))
        fitted = cls(mean, vt[:k], spreads, residual, np.inf)
        scores = fitted.score(validation)
        threshold = float(np.quantile(scores, quantile)) if len(scores) else np.inf
        return cls(mean, vt[:k], spreads, residual, threshold)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Each row's distance from the training data (module docstring)."""
        x = np.asarray(x, dtype=np.float64)
        if len(x) == 0:
            return np.zeros(0)
        centred = x - self.mean
        proj = centred @ self.components.T
        inside = np.sum((proj / self.spreads) ** 2, axis=1)
        outside = np.maximum(np.sum(centred**2, axis=1) - np.sum(proj**2, axis=1), 0.0)
        return np.asarray(inside + outside / self.residual, dtype=np.float64)

    def unusual(self, x: np.ndarray) -> np.ndarray:
        """Rows at or past the threshold."""
        return self.score(x) >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {"mean": self.mean.round(6).tolist(),
                "components": self.components.round(6).tolist(),
                "spreads": self.spreads.round(6).tolist(), "residual": self.residual,
                "threshold": self.threshold}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Distance:
        return cls(np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["components"], dtype=np.float64),
                   np.asarray(data["spreads"], dtype=np.float64), float(data["residual"]),
                   float(data["threshold"]))
