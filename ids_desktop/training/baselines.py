"""The tree baselines practitioners reach for: scikit-learn's RandomForest and boosting."""

from __future__ import annotations

from typing import Any

import numpy as np

#: ``kind`` -> the name the model card gives the baseline.
KINDS = {"forest": "RandomForest", "boosting": "HistGradientBoosting"}


def boosting_classifier(seed: int, max_iter: int = 500, early_stopping: bool = True) -> Any:
    """The HistGradientBoosting settings of the boosting baseline (also
    ``scripts/split_ceiling.py``): early stopping, and ``l2_regularization`` because without
    it the multiclass loss diverged from the first rounds on NSL-KDD, whose brute_force and
    u2r classes have 10 and 11 rows (test attack F1 0). ``early_stopping=False``: exactly
    ``max_iter`` rounds (a refit for the rounds an earlier run kept)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=max_iter, early_stopping=early_stopping,
                                          n_iter_no_change=20, l2_regularization=1.0,
                                          random_state=seed)


class TreeBaseline:
    """A tree ensemble on each flow's own scaled features (no sequence context).

    ``kind="forest"``: a RandomForest (200 trees). ``kind="boosting"``: HistGradientBoosting
    with early stopping on the run's own validation rows (up to 500 rounds), or exactly
    ``max_iter`` rounds with ``fixed_rounds``. Both belong to
    the issue's "RandomForest or HistGradientBoosting"; they win on different datasets, so
    the model cards report both.

    ``__init__`` only stores parameters; :meth:`fit` sets ``classes_`` and ``model_``.
    """

    #: The decision threshold on P(attack), chosen on validation rows by the training
    #: context (:meth:`ids_desktop.training.context.FitContext.fit_tree`) after ``fit``.
    threshold_: float

    def __init__(self, *, seed: int = 0, kind: str = "forest", n_estimators: int = 200,
                 n_jobs: int = 2, max_iter: int = 500, fixed_rounds: bool = False) -> None:
        self.seed = seed
        self.kind = kind
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.max_iter = max_iter
        self.fixed_rounds = fixed_rounds

    def fit(
        self, x: np.ndarray, y: np.ndarray, x_val: Any = None, y_val: Any = None
    ) -> TreeBaseline:
        """Fit on ``x``/``y`` (class indices). Boosting stops early on ``x_val``/``y_val``
        when given (rows of validation classes unseen in training are left out)."""
        from sklearn.ensemble import RandomForestClassifier

        if self.kind not in KINDS:
            raise ValueError(
                f"unknown tree baseline kind {self.kind!r}; choose one of {sorted(KINDS)}"
            )
        self.classes_ = np.unique(y)
        if self.kind == "forest":
            self.model_ = RandomForestClassifier(
                n_estimators=self.n_estimators, n_jobs=self.n_jobs, random_state=self.seed
            ).fit(x, y)
            self.n_iter_ = self.n_estimators
            return self
        val = None
        if x_val is not None and y_val is not None:
            keep = np.isin(y_val, self.classes_)
            if keep.any():
                val = {"X_val": x_val[keep], "y_val": y_val[keep]}
        self.model_ = boosting_classifier(self.seed, self.max_iter,
                                          early_stopping=not self.fixed_rounds)
        if len(self.classes_) > 1:
            self.model_.fit(x, y, **(val or {}))
            self.n_iter_ = int(self.model_.n_iter_)
        else:  # one class: nothing to boost
            self.model_.classes_ = self.classes_
            self.n_iter_ = 0
        return self

    def refit(self, x: np.ndarray, y: np.ndarray) -> TreeBaseline:
        """A new baseline of the same kind fitted on ``x``/``y`` for the rounds this one kept
        (no early stopping), with this one's threshold: the tree beside a refit hybrid."""
        again = TreeBaseline(seed=self.seed, kind=self.kind, n_estimators=self.n_estimators,
                             n_jobs=self.n_jobs, max_iter=max(self.n_iter_, 1),
                             fixed_rounds=True).fit(x, y)
        again.threshold_ = self.threshold_
        return again

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probabilities ``(n, C)`` over every class index up to the largest seen in training."""
        n_classes = int(self.classes_.max()) + 1
        out = np.zeros((len(x), n_classes))
        if len(self.model_.classes_) == 1:  # one class seen: it is certain
            out[:, self.model_.classes_[0]] = 1.0
            return out
        out[:, self.model_.classes_] = self.model_.predict_proba(x)
        return out
