"""The analysis tab's background tasks and the :class:`ViewData` they compute: no widgets.

Each task is a plain function with ``progress`` and ``cancel`` hooks, run by a
:class:`~ids_desktop.gui.workers.TaskSlot` of the tab, and testable without an event loop.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ids_desktop.core.analysis import Analysis
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.tasks import Cancel, Progress
from ids_desktop.core.workflow import run_analysis
from ids_desktop.gui.flow_table import search_index, sort_order
from ids_desktop.gui.live_preview import preview_columns

if TYPE_CHECKING:
    from ids_desktop.core.explain.explainer import Explanation
    from ids_desktop.core.explain.service import BundleExplainer, ExplanationCache
    from ids_desktop.core.report.build import ReportData
    from ids_desktop.core.report.export import ExportRequest

#: Key of one flow's explanation in :func:`explanation_cache`.
CacheKey = tuple[str, int, str, int]


@dataclass(frozen=True)
class ViewData:
    """What the tab shows besides the flows, computed off the GUI thread (whole-column work
    is slow at a million rows).

    Attributes
    ----------
    empty_columns
        Columns with no value at all (hidden in the table).
    classes
        The predicted classes, sorted (the class filter's choices); empty without verdicts.
    order
        Rows by descending score (the table's first sort); ``None`` without verdicts.
    search
        The text filter's index (:func:`~ids_desktop.gui.flow_table.search_index`).
    overview
        The Overview page's data; ``None`` when no model ran.
    explain_key
        ``(input key, model key)`` of the explanation cache (:func:`explain_key`); ``None``
        when no model ran.
    conversations, endpoints
        All traffic per host pair and per host (:mod:`ids_desktop.core.report.traffic`).
    """

    empty_columns: frozenset[str] = frozenset()
    classes: tuple[str, ...] = ()
    order: np.ndarray | None = None
    search: Mapping[str, tuple[np.ndarray, pd.Series]] = field(default_factory=dict)
    overview: ReportData | None = None
    explain_key: tuple[str, str] | None = None
    conversations: pd.DataFrame = field(default_factory=pd.DataFrame)
    endpoints: pd.DataFrame = field(default_factory=pd.DataFrame)

    def cache_key(self, row: int) -> CacheKey | None:
        """The explanation cache's key of frame row ``row``."""
        key = self.explain_key
        return None if key is None else (key[0], int(row), key[1], 0)


def view_data(
    analysis: Analysis,
    overview: ReportData | None = None,
    explain_key: tuple[str, str] | None = None,
) -> ViewData:
    """The whole-column facts of ``analysis.flows`` the tab needs, with ``overview`` and
    ``explain_key`` as given."""
    from ids_desktop.core.report.traffic import conversations, endpoints

    flows = analysis.flows
    classes: tuple[str, ...] = ()
    if "pred_class" in flows.columns:
        classes = tuple(sorted(str(c) for c in flows["pred_class"].dropna().unique()))
    order = (
        sort_order(flows["pred_score"], descending=True) if "pred_score" in flows.columns else None
    )
    return ViewData(
        empty_columns=frozenset(c for c in flows.columns if not flows[c].notna().any()),
        classes=classes,
        order=order,
        search=search_index(flows),
        overview=overview,
        explain_key=explain_key,
        conversations=conversations(flows),
        endpoints=endpoints(flows),
    )


def analyse_for_view(
    path: Path,
    options: AnalysisOptions,
    *,
    progress: Progress,
    cancel: Cancel,
    partial: Callable[[pd.DataFrame], None] | None = None,
) -> tuple[Analysis, ViewData]:
    """The tab's analysis task: ingest, score, and summarise for the overview.

    ``partial`` receives the identity columns of unscored flows as they are read (the live
    preview).
    """
    analysis = run_analysis(
        path,
        options,
        progress=progress,
        cancel=cancel,
        on_flows=None if partial is None else (lambda batch: partial(preview_columns(batch))),
    )
    overview = None
    if analysis.run is not None:
        from ids_desktop.core.report.build import build_report

        progress(0, None, "summarising")
        overview = build_report(analysis, top_n=0)
    return analysis, view_data(analysis, overview, explain_key(analysis))


def explain_key(analysis: Analysis) -> tuple[str, str] | None:
    """(input key, model key) for the explanation cache; ``None`` when no model ran.

    A row number means the same flow only for the same file read the same way (capture flow
    timeouts change the rows); an explanation depends on the model file and the LIME samples.
    """
    bundle = analysis.bundle
    model_sha256 = None if bundle is None else bundle.metadata.get("model_sha256")
    if not analysis.file_sha256 or not model_sha256:
        return None
    options = analysis.options
    read = f"{analysis.file_sha256}|{analysis.result.format}"
    if analysis.result.feature_format == "pcap":
        read += f"|idle={float(options.idle_timeout)}|active={float(options.active_timeout)}"
    samples = int(options.lime_samples or 0) or "auto"  # auto: fixed per bundle
    model = f"{model_sha256}|samples={samples}"
    return (hashlib.sha256(read.encode()).hexdigest(), hashlib.sha256(model.encode()).hexdigest())


@functools.cache
def explanation_cache() -> ExplanationCache:
    """The process-wide explanation cache: memory, plus JSON files in the user's cache folder."""
    from ids_desktop.core.explain.service import ExplanationCache
    from ids_desktop.paths import user_cache_dir

    return ExplanationCache(user_cache_dir() / "explanations")


class Explainers:
    """Builds an analysis's :class:`BundleExplainer` on first use, once, whichever thread
    asks first (building it reads the bundle's background sample: not on the GUI thread)."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self._lock = threading.Lock()
        self._explainer: BundleExplainer | None = None

    def get(self) -> BundleExplainer:
        with self._lock:
            if self._explainer is None:
                from ids_desktop.core.explain.service import BundleExplainer

                self._explainer = BundleExplainer.for_analysis(self.analysis)
            return self._explainer


def explain_row(
    explainers: Explainers, row: int, *, progress: Progress, cancel: Cancel
) -> tuple[int, Explanation]:
    """The explanation task: ``(row, explanation)`` of frame row ``row``."""
    return row, explainers.get().explain_row(row, cancel=cancel)


def export_request(view: ViewData | None, **targets: Any) -> ExportRequest:
    """What an export writes (``pdf=``, ``csv=`` or ``jsonl=`` paths), reusing the explanations
    the tab has computed (:func:`explanation_cache`) and adding the report's to them."""
    from ids_desktop.core.report.export import ExportRequest

    key = None if view is None else view.explain_key
    return ExportRequest(**targets, cache=explanation_cache() if key else None, cache_key=key)


def evaluate(analysis: Analysis, *, progress: Progress, cancel: Cancel) -> dict[str, Any] | None:
    """The evaluation task: the analysis against the file's labels (computed on first use)."""
    return analysis.evaluation
