"""AnalysisTab: one opened file — incidents, flows with filters and details, traffic, overview,
evaluation.

The pieces live beside it: the incidents list, timeline and explanation in
:mod:`~ids_desktop.gui.incidents_view`, the filters in :mod:`~ids_desktop.gui.filter_bar` (with
the pivots of :mod:`~ids_desktop.gui.pivots`), the selected flow's fields and explanation in
:mod:`~ids_desktop.gui.detail_pane`, conversations and endpoints in
:mod:`~ids_desktop.gui.traffic_view`, the flows table's menu, copying and saving packets in
:mod:`~ids_desktop.gui.flows_menu`, the unscored flows shown while the file is read in
:mod:`~ids_desktop.gui.live_preview`, and the background tasks with the
:class:`~ids_desktop.gui.tab_tasks.ViewData` they compute in :mod:`~ids_desktop.gui.tab_tasks`.

An analysed file opens on its incidents. Selecting one filters the flows to it (an
``incident:`` term in the filter bar, which the analyst sees and can clear) and explains it:
the detectors' reasons, and the model's LIME explanation of its highest-scored flow.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QLabel,
    QSizePolicy,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ids_desktop.core.analysis import Analysis
from ids_desktop.core.incidents import Incident
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.gui import pivots, tab_tasks
from ids_desktop.gui.detail_pane import DetailPane
from ids_desktop.gui.errors import Problem, show_problem
from ids_desktop.gui.filter_bar import FilterBar
from ids_desktop.gui.flow_table import FlowTableModel, fit_columns, shown_by_default
from ids_desktop.gui.flows_menu import FlowsTableActions
from ids_desktop.gui.incidents_view import IncidentsPage, findings_of, representative_row
from ids_desktop.gui.live_preview import NEXT_TURN_MS, LivePreview
from ids_desktop.gui.overview import EvaluationPage, OverviewPage
from ids_desktop.gui.progress_row import progress_row
from ids_desktop.gui.tab_tasks import Explainers, ViewData
from ids_desktop.gui.traffic_view import TrafficPage
from ids_desktop.gui.workers import TaskSlot

if TYPE_CHECKING:
    from ids_desktop.core.explain.explainer import Explanation
    from ids_desktop.core.ingest.result import IngestResult
    from ids_desktop.gui.charts.explanation import ExplanationChart


class AnalysisTab(FlowsTableActions):
    """One opened file (a :class:`~ids_desktop.gui.flows_menu.FlowsTableActions`, whose flows
    table menu, copy and packet saving it wires up).

    Each kind of background work has its :class:`~ids_desktop.gui.workers.TaskSlot`:
    ``analysis`` (its partial results feed the live preview), ``explanation``,
    ``evaluation``, ``export`` and ``packets`` (saving flows' packets as a pcap).

    Signals:
        loaded(object): the :class:`Analysis` arrived.
        closed_work(): the analysis or an export finished (success, error or cancel).
        explained(object): an explanation for the selected flow arrived.
        evaluated(object): the evaluation report of a labelled input arrived.
    """

    loaded = Signal(object)
    closed_work = Signal()
    explained = Signal(object)
    evaluated = Signal(object)

    def __init__(
        self,
        path: Path,
        options: AnalysisOptions | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.options = options or AnalysisOptions()
        self.settings = settings
        self.analysis: Analysis | None = None
        self.view: ViewData | None = None
        self._explainers: Explainers | None = None
        self._started = 0.0
        self.analysis_task = TaskSlot(self, partial=True)
        self.explain_task = TaskSlot(self)
        self.evaluation_task = TaskSlot(self)
        self.export_task = TaskSlot(self)
        self.packets_task = TaskSlot(self)
        self._incident: Incident | None = None  # the incident selected in the list
        self._incident_row: int | None = None  # the flow that explains it (LIME)
        self._shown_row: int | None = None  # the flow in the detail pane
        self._hidden_row: int | None = None  # the selected flow a filter hid

        # progress bar row
        row = progress_row(self.cancel)
        self.stage, self.progress, self.cancel_button = row.stage, row.progress, row.cancel_button
        bar = row.layout
        # the input's warnings stay in sight above the pages (the status bar forgets them)
        self.banner = QLabel("")
        self.banner.setTextFormat(Qt.TextFormat.PlainText)  # quotes the input
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #fff3cd; color: #5c4400; "
                                  "border: 1px solid #e0c36a; padding: 3px; }")
        self.banner.hide()

        # table, filters, details
        self.model = FlowTableModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._on_double_click)
        # PySide6 takes Qt properties (shortcut=) as keywords; its stubs' overloads do not
        copy = QAction("Copy rows", self.table,  # type: ignore[call-overload]
                       shortcut=QKeySequence.StandardKey.Copy)
        copy.triggered.connect(self.copy_selection)
        self.table.addAction(copy)
        self.filters = FilterBar(self.table)
        self.filters.changed.connect(self.apply_filters)
        self.details = DetailPane()
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([500, 400])  # table and details share the height
        self.details.setSizes([360, 640])
        flows_page = QWidget()
        flows_layout = QVBoxLayout(flows_page)
        flows_layout.setContentsMargins(0, 0, 0, 0)
        flows_layout.addWidget(self.filters)
        flows_layout.addWidget(self.splitter, 1)

        self.incidents = IncidentsPage()
        self.incidents.selected.connect(self._on_incident)
        self.incidents.pivot_requested.connect(self.pivot)
        self.incidents.flows_requested.connect(self.show_incident_flows)
        self.incidents.save_requested.connect(self._save_incident_dialog)
        self.traffic = TrafficPage()
        self.traffic.pivot_requested.connect(self.pivot)
        self.overview = OverviewPage()
        self.overview.pivot_requested.connect(self.pivot)
        self.evaluation = EvaluationPage()
        self.flows_page = flows_page
        self.pages = QTabWidget()
        self.pages.addTab(self.incidents, "Incidents")
        self.pages.addTab(flows_page, "Flows")
        self.pages.addTab(self.traffic, "Traffic")
        self.pages.addTab(self.overview, "Overview")
        self.pages.setCurrentWidget(flows_page)  # the live preview, until the incidents are in
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # quotes warnings about the input
        # a long line (the detectors' sentences) must not widen the window past the screen
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.stage.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.summary)

        self.preview = LivePreview(self.model, self.table, self)
        self.preview.status_changed.connect(self.summary.setText)
        find = QAction(self, shortcut=QKeySequence.StandardKey.Find)  # type: ignore[call-overload]
        find.triggered.connect(self.filters.filter_edit.setFocus)
        self.addAction(find)
        self._connect_tasks()
        self._restore_layout()

    # the filters and the detail pane's widgets that callers reach through the tab
    @property
    def flagged_only(self) -> QCheckBox:
        return self.filters.flagged_only

    @property
    def chart(self) -> ExplanationChart:
        return self.details.chart

    @property
    def explanation_text(self) -> QLabel:
        return self.details.explanation_text

    def _connect_tasks(self) -> None:
        a = self.analysis_task
        a.progress_changed.connect(self._on_progress)
        a.partial_result.connect(self.preview.add)
        a.result_ready.connect(self._on_result)
        a.errored.connect(self._on_error)
        a.cancelled.connect(self._on_cancelled)
        a.finished.connect(self._on_finished)
        e = self.explain_task
        e.result_ready.connect(self._on_explained)
        e.errored.connect(self._on_explain_failed)
        v = self.evaluation_task
        v.result_ready.connect(self._on_evaluated)
        v.errored.connect(lambda problem: self.evaluation.set_failed(problem.message))
        x = self.export_task
        x.progress_changed.connect(self._on_progress)
        x.result_ready.connect(
            lambda paths: self.summary.setText(f"wrote {', '.join(map(str, paths))}")
        )
        x.errored.connect(lambda problem: show_problem(self, problem, "Could not export"))
        x.cancelled.connect(lambda: self.stage.setText("cancelled"))
        x.finished.connect(self._on_finished)
        k = self.packets_task
        k.progress_changed.connect(self._on_progress)
        k.result_ready.connect(self._on_packets_saved)
        k.errored.connect(lambda problem: show_problem(self, problem, "Could not save packets"))
        k.cancelled.connect(lambda: self.stage.setText("cancelled"))
        k.finished.connect(self._on_finished)

    # --- persistence -----------------------------------------------------------------------
    def _splitters(self) -> tuple[tuple[str, QSplitter], ...]:
        return (("layout/flows_splitter", self.splitter), ("layout/details_splitter", self.details))

    def _restore_layout(self) -> None:
        if self.settings is None:
            return
        for key, splitter in self._splitters():
            state = self.settings.value(key)
            if state is not None:
                splitter.restoreState(state)
            splitter.splitterMoved.connect(lambda *_: self.save_layout())

    def save_layout(self) -> None:
        """Remember the splitter positions for the next tab and the next session."""
        if self.settings is not None:
            for key, splitter in self._splitters():
                self.settings.setValue(key, splitter.saveState())

    # --- loading ---------------------------------------------------------------------------
    def start(self) -> None:
        """Analyse the file in the background; unscored flows show while it is read."""
        self._started = time.monotonic()
        self.stage.setText("starting…")
        self.progress.setRange(0, 0)
        self.analysis_task.start(tab_tasks.analyse_for_view, self.path, self.options)

    def cancel(self) -> None:
        """Cancel whatever runs in the background."""
        for task in self._tasks():
            task.cancel()
        if self.analysis_task.busy or self.export_task.busy or self.packets_task.busy:
            self.stage.setText("cancelling…")

    def _tasks(self) -> tuple[TaskSlot, ...]:
        return (self.analysis_task, self.explain_task, self.evaluation_task, self.export_task,
                self.packets_task)

    @property
    def busy(self) -> bool:
        """Some background work of this tab has not finished."""
        return any(task.busy for task in self._tasks())

    @property
    def result(self) -> IngestResult | None:
        return None if self.analysis is None else self.analysis.result

    def _on_progress(self, done: float, total: object, stage: str) -> None:
        if isinstance(total, (int, float)) and total > 0:
            self.progress.setRange(0, 1000)
            frac = min(1.0, done / float(total))
            self.progress.setValue(int(frac * 1000))
            elapsed = time.monotonic() - self._started
            eta = elapsed * (1 - frac) / frac if frac > 0.02 else None
            eta_text = f", about {eta:.0f} s left" if eta is not None else ""
            self.stage.setText(f"{stage}: {done:,.0f} of {float(total):,.0f}{eta_text}")
        else:
            self.progress.setRange(0, 0)
            self.stage.setText(f"{stage}…" if not done else f"{stage}: {done:,.0f}")

    def _on_result(self, payload: tuple[Analysis, ViewData]) -> None:
        self.show_analysis(*payload)

    def show_analysis(self, analysis: Analysis, view: ViewData) -> None:
        """Show a finished analysis (the analysis task's result) in place of the preview."""
        self.preview.finish()
        self.analysis, self.view = analysis, view
        self._explainers = Explainers(analysis) if analysis.run is not None else None
        result = analysis.result
        self.model.set_frame(analysis.flows, order=view.order, search=view.search)
        warn = f" — {len(result.warnings)} warning(s)" if result.warnings else ""
        header = self.table.horizontalHeader()
        if analysis.summary is not None:
            s = analysis.summary
            verdict = (f"{s['flagged']:,} flagged ({s['alerts']:,} alerts, {s['unusual']:,} "
                       f"unusual) by model '{s['model']}'")
            if analysis.findings:  # what the host-level detectors found, in their words
                verdict += (f" and {len(analysis.findings)} detector finding"
                            f"{'s' if len(analysis.findings) > 1 else ''}: "
                            + "; ".join(f.summary for f in analysis.findings[:3]))
            self.filters.set_classes(view.classes)
            header.blockSignals(True)  # the rows are already in this order; do not sort again
            header.setSortIndicator(
                self.model.columns().index("pred_score"), Qt.SortOrder.DescendingOrder
            )
            header.blockSignals(False)
            self.flagged_only.setChecked(bool(s["flagged"]))
            # the overview's charts, then the evaluation, are built on later turns of the event
            # loop, so the table appears first and no single step blocks the loop for long (an
            # evaluation task started while the charts were built made them wait for the GIL)
            if result.labelled:
                self.pages.addTab(self.evaluation, "Evaluation")

            def overview_then_evaluation() -> None:
                if view.overview is not None:
                    self.overview.set_data(view.overview)
                if result.labelled:
                    QTimer.singleShot(NEXT_TURN_MS, self, self._start_evaluation)

            QTimer.singleShot(NEXT_TURN_MS, self, overview_then_evaluation)
            self.incidents.set_incidents(analysis.incidents)
            self.pages.setCurrentWidget(self.incidents)  # what happened comes first
        else:
            verdict = f"no verdicts ({analysis.note})"
            self.filters.disable_verdict_filters()
            header.blockSignals(True)  # rows stay in the file's order: no column is sorted
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            header.blockSignals(False)
            self.details.show_no_verdicts(analysis.note)
            self.incidents.set_incidents((), note=f"No incidents: no model ran ({analysis.note}).")
        self.incidents.set_capture(self.is_capture)
        self.traffic.set_data(view.conversations, view.endpoints)
        for i, column in enumerate(self.model.columns()):
            hidden = column in view.empty_columns or not shown_by_default(column)
            self.table.setColumnHidden(i, hidden)
        fit_columns(self.table)
        self.summary.setText(f"{result.format}: {len(analysis.flows):,} flows, {verdict}{warn}")
        self.summary.setToolTip(self.summary.text())
        if result.warnings:
            self.summary.setToolTip("\n".join([self.summary.text(), "", *result.warnings]))
            more = f" (and {len(result.warnings) - 1} more; hover for all)" \
                if len(result.warnings) > 1 else ""
            self.banner.setText(f"⚠ {result.warnings[0]}{more}")
            self.banner.setToolTip("\n".join(result.warnings))
            self.banner.show()
        self.apply_filters()  # now, not debounced: the flagged-only toggle above asked for it
        self.loaded.emit(analysis)

    def _on_error(self, problem: Problem) -> None:
        self.stage.setText("failed")
        self.preview.stop("failed")
        show_problem(self, problem)

    def _on_cancelled(self) -> None:
        self.stage.setText("cancelled")
        self.preview.stop("cancelled")

    def _on_finished(self) -> None:
        """The analysis or an export finished, whatever the outcome."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.analysis is not None else 0)
        self.cancel_button.setEnabled(self.busy)
        if self.analysis is not None and self.stage.text() not in ("cancelled", "failed"):
            self.stage.setText(f"done in {time.monotonic() - self._started:.1f} s")
        self.closed_work.emit()

    # --- filters, columns, copy ------------------------------------------------------------
    def apply_filters(self) -> None:
        """Filter the table as the filter bar says, now (not debounced).

        The selected flow stays selected when it passes the filters; when it does not, the
        detail pane is cleared, so the pane never shows a flow the table does not.
        """
        selected = self.selected_row()
        self.filters.apply(self.model)
        if selected is not None:
            if not self.select_row(selected, or_clear=True):
                self._hidden_row = selected  # selected again if a later filter shows it
        elif self._hidden_row is not None and self.select_row(self._hidden_row):
            self._hidden_row = None
        if self.analysis is not None:
            total = len(self.analysis.flows)
            self.stage.setText(f"{self.model.rowCount():,} of {total:,} flows shown")
        if self._incident is not None and pivots.term_text("incident", self._incident.id) \
                not in self.filters.filter_edit.text():
            self._incident = self._incident_row = None  # the analyst cleared its filter
            self.incidents.clear_selection()

    def selected_row(self) -> int | None:
        """The frame row of the flow the table's current row shows, if any."""
        current = self.table.currentIndex()
        if not current.isValid() or current.row() >= self.model.rowCount():
            return None
        return self.model.row_of(current.row())

    def select_row(self, row: int, *, or_clear: bool = False) -> bool:
        """Select frame row ``row`` in the table (the detail pane follows); ``False`` when it
        is filtered out, and then, with ``or_clear``, the selection and the pane are cleared."""
        view_row = self.model.view_row_of(row)
        sm = self.table.selectionModel()
        if view_row is None:
            if or_clear:
                sm.clear()
                self.explain_task.discard()
                self._shown_row = None
                self.details.clear("The selected flow is hidden by the filters; it is selected "
                                   "again when they show it.")
            return False
        index = self.model.index(view_row, max(self.table.currentIndex().column(), 0))
        if self.table.currentIndex() == index:
            return True
        sm.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                           | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)
        return True

    # --- pivots, incidents (the flows table's menu is in flows_menu) -----------------------
    def pivot(self, key: str, value: object) -> None:
        """Show all flows where ``key`` (``host``, ``port``, ``incident`` or a column) is
        ``value``, through the filter bar, and switch to the flows."""
        self.filters.pivot(key, value)
        self.pages.setCurrentWidget(self.flows_page)

    def _on_incident(self, incident: Incident | None) -> None:
        """An incident was selected in the list or the timeline (``None``: deselected)."""
        self._incident = incident
        if incident is None:
            self._incident_row = None
            self.filters.clear()
            return
        analysis = self.analysis
        assert analysis is not None
        row = representative_row(analysis.flows, incident) if analysis.run is not None else None
        self._incident_row = row
        self.filters.pivot("incident", incident.id)
        self.incidents.show_reason(incident, findings_of(incident, analysis.findings),
                                   explaining=row is not None)
        if row is not None:
            self.select_row(row)  # the pane shows the flow, and its explanation is asked for

    def show_incident_flows(self, incident: Incident) -> None:
        """Switch to the flows, filtered to ``incident``."""
        if self._incident is not incident:
            self.incidents.select(self.analysis.incidents.index(incident)
                                  if self.analysis is not None else None)
        self.pages.setCurrentWidget(self.flows_page)

    # --- details and explanations ----------------------------------------------------------
    def _on_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid() or current.row() >= self.model.rowCount():
            return
        row = self.model.row_of(current.row())
        if row == self._shown_row:  # the same flow, selected again after a filter change
            return
        self._shown_row = row
        self._hidden_row = None
        self.details.show_fields(self.model.frame, row)
        if self.analysis is not None and self.analysis.summary is not None:
            self.explain(row)

    def explain(self, row: int) -> None:
        """Explain frame row ``row`` in the background; a cached explanation shows at once.

        Either way the explanation asked for before is superseded: its result never reaches
        the pane.
        """
        key = None if self.view is None else self.view.cache_key(row)
        cached = None if key is None else tab_tasks.explanation_cache().get(key)
        if cached is not None:
            self.explain_task.discard()
            self.details.show_explanation(cached)
            if row == self._incident_row:
                self.incidents.show_explanation(cached)
            self.explained.emit(cached)
            return
        if self._explainers is None:
            return
        self.details.show_explaining()
        self.explain_task.start(tab_tasks.explain_row, self._explainers, row)

    def _on_explained(self, payload: tuple[int, Explanation]) -> None:
        row, exp = payload
        key = None if self.view is None else self.view.cache_key(row)
        if key is not None:
            try:
                tab_tasks.explanation_cache().put(key, exp)
            except OSError:  # an unwritable cache folder only costs the disk copy: put()
                pass  # keeps the explanation in memory before it writes the file
        if self.selected_row() == row:  # the selection may have gone with a new filter
            self.details.show_explanation(exp)
        if row == self._incident_row:
            self.incidents.show_explanation(exp)
        self.explained.emit(exp)

    def _on_explain_failed(self, problem: Problem) -> None:
        self.details.show_failed(problem.message)
        if self._incident_row is not None:
            self.incidents.show_failed(problem.message)

    # --- evaluation ------------------------------------------------------------------------
    def _start_evaluation(self) -> None:
        assert self.analysis is not None
        self.evaluation.status.setText("Evaluating against the file's labels…")
        self.evaluation_task.start(tab_tasks.evaluate, self.analysis)

    def _on_evaluated(self, report: dict[str, Any] | None) -> None:
        if report is None:
            return
        self.evaluation.set_report(report)
        self.evaluated.emit(report)

    # --- export ----------------------------------------------------------------------------
    def export(self, kind: str, target: Path) -> None:
        """Write one report for this tab's analysis in the background."""
        from ids_desktop.core.report.export import export_reports

        if self.analysis is None or self.analysis_task.busy or self.export_task.busy:
            return
        targets: dict[str, Any] = {kind: target}  # kind is "pdf", "csv" or "jsonl"
        request = tab_tasks.export_request(self.view, **targets)  # reuses the tab's explanations
        self._started = time.monotonic()
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.stage.setText(f"exporting {target.name}…")
        self.export_task.start(export_reports, self.analysis, request)
