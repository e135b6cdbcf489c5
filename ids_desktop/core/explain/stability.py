"""How steady an explanation stays across LIME seeds (issue 6: top-5 features, Jaccard >= 0.8).

LIME draws a random neighbourhood for each explanation, so two seeds can rank features
differently. The measure here is the one ``bench/explain.py`` reports: for each flagged flow,
the top features from seed 0 against each later seed's, as a Jaccard index, averaged. The
capture bundle's shipping gate uses it to refuse a bundle whose explanations wander.
"""

from __future__ import annotations

import statistics
from typing import Any

import pandas as pd

from ids_desktop.core.analysis import Analysis
from ids_desktop.core.tasks import Cancel, Progress, check_cancel, no_progress


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


def mean_jaccard(sets: list[set[str]]) -> float:
    """Mean Jaccard index of the first seed's set against each later seed's."""
    return statistics.mean(jaccard(sets[0], t) for t in sets[1:])


def top_flagged(flows: pd.DataFrame, n: int) -> list[int]:
    """Frame rows of the ``n`` flagged flows with the highest scores (ties in frame order)."""
    flagged = flows[flows["flagged"]].sort_values("pred_score", ascending=False, kind="stable")
    return [int(r) for r in flagged.index[:n]]


def feature_stability(
    analysis: Analysis,
    *,
    flows: int = 50,
    seeds: int = 5,
    k: int = 5,
    num_samples: int | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> dict[str, Any]:
    """Top-``k`` features' Jaccard index across ``seeds`` LIME seeds, on one analysed input.

    The ``flows`` highest-scored flagged flows of ``analysis`` are each explained with seeds
    ``0 .. seeds-1`` (the bundle's default neighbourhood size unless ``num_samples``), and the
    top ``k`` of the spatial summary (weights summed over timesteps) compared. Returns
    ``flows`` (explained), ``jaccard`` (mean over them; ``None`` when nothing was flagged) and
    ``num_samples``.
    """
    from ids_desktop.core.explain.service import BundleExplainer, default_samples

    rows = top_flagged(analysis.flows, flows)
    explainer = BundleExplainer.for_analysis(analysis, num_samples=num_samples)
    assert analysis.bundle is not None  # for_analysis raised otherwise
    num_samples = num_samples or default_samples(int(analysis.bundle.seq_len))
    progress = progress or no_progress
    per_flow = []
    for i, row in enumerate(rows):
        check_cancel(cancel)
        runs = [explainer.explain_row(row, seed=s) for s in range(seeds)]
        per_flow.append(mean_jaccard([set(list(e.by_feature)[:k]) for e in runs]))
        progress(i + 1, len(rows), "explaining")
    return {"flows": len(rows), "jaccard": statistics.mean(per_flow) if per_flow else None,
            "num_samples": num_samples}
