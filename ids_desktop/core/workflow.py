"""The analyst's workflow as one function: open (ingest), detect (model), ready to display."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ids_desktop.core.ingest import IngestResult, ingest
from ids_desktop.core.tasks import Progress, check_cancel


@dataclass
class Analysis:
    """An opened file and, when a model serves its format, the model's verdicts.

    Attributes
    ----------
    result
        The ingest result (canonical frame, format, warnings).
    flows
        The frame to display: canonical columns, plus ``pred_class``, ``pred_score``,
        ``anomaly_score`` and ``flagged`` when a model ran.
    summary
        ``analyze``'s summary, or ``None`` when no model ran.
    note
        Why no model ran, in one line ("" when one did).
    """

    result: IngestResult
    flows: pd.DataFrame
    summary: dict[str, Any] | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def model_name(self) -> str | None:
        return None if self.summary is None else str(self.summary["model"])


def run_analysis(
    path: str | Path,
    *,
    model: str = "auto",
    threshold: float | None = None,
    models_dir: str | Path | None = None,
    idle_timeout: float | None = None,
    active_timeout: float | None = None,
    progress: Progress | None = None,
    cancel: object | None = None,
    on_flows: Callable[[pd.DataFrame], None] | None = None,
) -> Analysis:
    """Ingest ``path`` and score it with the bundle serving its format.

    When no bundle serves the input's format (``model == "auto"``), the flows are returned
    without verdicts and ``note`` says why; any other model problem (a tampered bundle, a
    wrong explicit ``model``) raises :class:`~ids_desktop.errors.ModelError`.

    ``on_flows(batch)``, when given, receives the unscored flows before the model runs, so a
    viewer can show them early: batches while a capture's flows are extracted, or the whole
    table at once after a flow table is read. Every flow is handed over exactly once, on the
    calling thread; the returned :class:`Analysis` supersedes the batches.
    """
    handed = [0]

    def hand_over(batch: pd.DataFrame) -> None:
        handed[0] += len(batch)
        if on_flows is not None:
            on_flows(batch)

    result = ingest(
        path,
        progress=progress,
        cancel=cancel,
        idle_timeout=idle_timeout,
        active_timeout=active_timeout,
        on_flows=hand_over if on_flows is not None else None,
    )
    check_cancel(cancel)
    if on_flows is not None and handed[0] == 0 and len(result.frame):
        on_flows(result.frame)
    from ids_desktop.core.analysis import analyze
    from ids_desktop.core.model.bundle import resolve_bundle_path
    from ids_desktop.errors import ModelError

    if model == "auto":
        try:
            resolve_bundle_path("auto", result.feature_format, models_dir)
        except ModelError as exc:
            return Analysis(result=result, flows=result.frame, note=str(exc))
    summary, flows = analyze(
        result, model=model, threshold=threshold, models_dir=models_dir, progress=progress, cancel=cancel
    )
    return Analysis(result=result, flows=flows, summary=summary)
