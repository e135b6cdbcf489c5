"""AnalysisTab: one opened file — progress, flows with filters and details, overview, evaluation."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ids_desktop.core.workflow import Analysis, run_analysis
from ids_desktop.gui.charts.explanation import ExplanationChart
from ids_desktop.gui.errors import show_error
from ids_desktop.gui.flow_table import PREFERRED_COLUMNS, FlowTableModel, _display, search_index, sort_order
from ids_desktop.gui.overview import EvaluationPage, OverviewPage
from ids_desktop.gui.workers import Worker

ALL_CLASSES = "All classes"

#: Columns of the unscored preview shown while a file is read (besides PREFERRED_COLUMNS).
PREVIEW_EXTRA = (
    "last_seen",
    "bidirectional_packets",
    "bidirectional_bytes",
    "bidirectional_duration_ms",
    "requested_server_name",
)
#: Verdict columns shown empty in the preview, so the layout does not jump when scores arrive.
VERDICT_COLUMNS = ("flagged", "pred_class", "pred_score", "anomaly_score")
#: Shortest pause between two preview refreshes of the table (ms); longer if refreshes are slow.
PREVIEW_MIN_INTERVAL_MS = 400
#: Unscored flows shown at most while a file is read. Each refresh copies and merges the rows
#: shown so far on the GUI thread, competing for the GIL with the extraction: at a million
#: rows one refresh blocked the event loop for 0.1-0.5 s. The rest appear with the verdicts.
PREVIEW_MAX_ROWS = 200_000
#: Delay (ms) before the next step of work split over several turns of the event loop. A
#: timer, not a zero-delay call: Qt runs zero-delay calls as posted events, all in the same
#: pass, so repaints and other timers only got their turn after every step had run.
NEXT_TURN_MS = 1

_CACHE: Any = None


def explanation_cache():  # type: ignore[no-untyped-def]
    """The process-wide explanation cache: memory, plus JSON files in the user's cache folder."""
    global _CACHE
    if _CACHE is None:
        from ids_desktop.core.explain.service import ExplanationCache
        from ids_desktop.paths import user_cache_dir

        _CACHE = ExplanationCache(user_cache_dir() / "explanations")
    return _CACHE


def preview_columns(batch: pd.DataFrame) -> pd.DataFrame:
    """The identity columns of a batch of unscored flows (cheap to join and show)."""
    keep = [c for c in (*PREFERRED_COLUMNS, *PREVIEW_EXTRA) if c in batch.columns]
    return batch[keep]


def explain_key(analysis: Analysis, file_sha256: str, model_sha256: str,
                options: dict[str, Any]) -> tuple[str, str]:
    """(input key, model key) for the explanation cache.

    A row number means the same flow only for the same file read the same way (capture flow
    timeouts change the rows); an explanation depends on the model file and the LIME samples.
    """
    read = f"{file_sha256}|{analysis.result.format}"
    if analysis.result.feature_format == "pcap":
        read += f"|idle={options.get('idle_timeout')}|active={options.get('active_timeout')}"
    samples = int(options.get("lime_samples") or 0) or "auto"  # auto: fixed per bundle
    model = f"{model_sha256}|samples={samples}"
    return (hashlib.sha256(read.encode()).hexdigest(), hashlib.sha256(model.encode()).hexdigest())


def analyse_for_view(  # type: ignore[no-untyped-def]
    path: Path,
    *,
    options: dict[str, Any],
    progress,
    cancel,
    on_flows: Callable[[pd.DataFrame], None] | None = None,
):
    """The tab's background job: ingest, score, and summarise for the overview.

    ``on_flows`` receives the identity columns of unscored flows as they are read.
    """
    from ids_desktop.core.report.build import build_report

    analysis = run_analysis(
        path,
        model=options.get("model", "auto"),
        threshold=options.get("threshold"),
        idle_timeout=options.get("idle_timeout"),
        active_timeout=options.get("active_timeout"),
        progress=progress,
        cancel=cancel,
        on_flows=None if on_flows is None else (lambda batch: on_flows(preview_columns(batch))),
    )
    overview = None
    if analysis.summary is not None:
        progress(0, None, "summarising")
        from ids_desktop.core.analysis import get_bundle

        from ids_desktop.core.report.export import headline_metrics

        meta = dict(get_bundle(analysis.summary["model"], analysis.result.feature_format).metadata)
        meta["headline"] = headline_metrics(meta)
        overview = build_report(
            analysis.flows, source=path, input_format=analysis.result.format, model_meta=meta, top_n=0
        )
        if overview.file_sha256 and meta.get("model_sha256"):
            analysis.extra["explain_key"] = explain_key(
                analysis, overview.file_sha256, str(meta["model_sha256"]), options
            )
    prepare_for_view(analysis)
    return analysis, overview


def prepare_for_view(analysis: Analysis) -> None:
    """Whole-column facts the tab needs, computed off the GUI thread (slow at a million rows).

    Sets ``analysis.extra``: ``empty_columns`` (columns with no value, hidden in the table),
    ``classes`` (predicted classes, for the class filter), ``order`` (rows by descending
    score, the table's first sort) and ``search`` (the text filter's index).
    """
    flows = analysis.flows
    analysis.extra["empty_columns"] = [c for c in flows.columns if not flows[c].notna().any()]
    analysis.extra["search"] = search_index(flows)
    if "pred_class" in flows.columns:
        analysis.extra["classes"] = sorted(str(c) for c in flows["pred_class"].dropna().unique())
    if "pred_score" in flows.columns:
        analysis.extra["order"] = sort_order(flows["pred_score"], descending=True)


class _FlowFeed(QObject):
    """Carries batches of unscored flows from the worker thread to the tab."""

    arrived = Signal(object)


class AnalysisTab(QWidget):
    """One opened file.

    Signals:
        loaded(object): the :class:`Analysis` arrived.
        closed_work(): the main worker finished (success, error or cancel).
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
        options: dict[str, Any] | None = None,
        settings: QSettings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.options = dict(options or {})
        self.settings = settings
        self.analysis: Analysis | None = None
        self.worker: Worker | None = None
        self.explain_worker: Worker | None = None
        self.eval_worker: Worker | None = None
        self._explainer: object | None = None
        self._started = 0.0
        self._feed = _FlowFeed(self)
        self._feed.arrived.connect(self._on_flows)
        self._pending: list[pd.DataFrame] = []
        self._preview_rows = 0  # unscored flows shown so far
        self._queued_rows = 0  # ... and those waiting to be shown (at most PREVIEW_MAX_ROWS)
        self._read_rows = 0  # unscored flows read so far
        self._staged: tuple[Any, int, float] | None = None  # rows prepared, shown next turn
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_MIN_INTERVAL_MS)
        self._preview_timer.timeout.connect(self._show_preview)
        self.preview_updates = 0

        # progress bar row
        self.progress = QProgressBar()
        self.stage = QLabel("waiting")
        self.stage.setTextFormat(Qt.TextFormat.PlainText)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.cancel)
        bar = QHBoxLayout()
        bar.addWidget(self.stage, 1)
        bar.addWidget(self.progress, 2)
        bar.addWidget(self.cancel_button)

        # filters
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Search address, port, application, server name (Ctrl+F)")
        self.class_combo = QComboBox()
        self.class_combo.addItem(ALL_CLASSES)
        self.score_slider = QSlider(Qt.Orientation.Horizontal)
        self.score_slider.setRange(0, 100)
        self.score_slider.setFixedWidth(140)
        self.score_label = QLabel("score ≥ 0.00")
        self.flagged_only = QCheckBox("Flagged only")
        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_menu.aboutToShow.connect(self._build_column_menu)  # built when opened
        self.columns_button.setMenu(self.columns_menu)
        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.class_combo)
        filters.addWidget(self.score_label)
        filters.addWidget(self.score_slider)
        filters.addWidget(self.flagged_only)
        filters.addWidget(self.columns_button)

        # table + details
        self.model = FlowTableModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        copy = QAction("Copy rows", self.table, shortcut=QKeySequence.StandardKey.Copy)
        copy.triggered.connect(self.copy_selection)
        self.table.addAction(copy)
        self.fields = QTableWidget(0, 2)
        self.fields.setHorizontalHeaderLabels(["field", "value"])
        self.fields.verticalHeader().setVisible(False)
        self.fields.horizontalHeader().setStretchLastSection(True)
        self.fields.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.chart = ExplanationChart()
        self.explanation_text = QLabel("Select a flow to see why it got its verdict.")
        self.explanation_text.setWordWrap(True)
        # the sentence quotes addresses and names from the input: never render it as HTML
        self.explanation_text.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        explain_box = QWidget()
        explain_layout = QVBoxLayout(explain_box)
        explain_layout.setContentsMargins(0, 0, 0, 0)
        explain_layout.addWidget(self.chart, 1)
        explain_layout.addWidget(self.explanation_text, 0)
        self.details = QSplitter(Qt.Orientation.Horizontal)
        self.details.addWidget(self.fields)
        self.details.addWidget(explain_box)
        self.details.setStretchFactor(0, 1)
        self.details.setStretchFactor(1, 2)
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
        flows_layout.addLayout(filters)
        flows_layout.addWidget(self.splitter, 1)

        self.overview = OverviewPage()
        self.evaluation = EvaluationPage()
        self.pages = QTabWidget()
        self.pages.addTab(flows_page, "Flows")
        self.pages.addTab(self.overview, "Overview")
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # quotes warnings about the input
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.summary)

        # filtering is debounced so typing stays fluid on large tables
        self._filter_timer = QTimer(self, singleShot=True, interval=150)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(self._filter_timer.start)
        self.class_combo.currentIndexChanged.connect(self._filter_timer.start)
        self.score_slider.valueChanged.connect(self._on_slider)
        self.flagged_only.toggled.connect(self._filter_timer.start)
        find = QAction(self, shortcut=QKeySequence.StandardKey.Find)
        find.triggered.connect(self.filter_edit.setFocus)
        self.addAction(find)
        self._restore_layout()

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
        self._started = time.monotonic()
        self.worker = Worker(analyse_for_view, self.path, options=self.options, on_flows=self._feed.arrived.emit)
        sig = self.worker.signals
        sig.progress_changed.connect(self._on_progress)
        sig.result_ready.connect(self._on_result)
        sig.errored.connect(self._on_error)
        sig.cancelled.connect(self._on_cancelled)
        sig.finished.connect(self._on_finished)
        self.stage.setText("starting…")
        self.progress.setRange(0, 0)
        self.worker.start()

    def cancel(self) -> None:
        for worker in (self.worker, self.explain_worker, self.eval_worker):
            if worker is not None:
                worker.cancel()
        if self.worker is not None:
            self.stage.setText("cancelling…")

    @property
    def busy(self) -> bool:
        return any(w is not None for w in (self.worker, self.explain_worker, self.eval_worker))

    @property
    def result(self):  # type: ignore[no-untyped-def]
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

    # --- unscored flows while the file is read -------------------------------------------
    def _on_flows(self, batch: pd.DataFrame) -> None:
        """Queue a batch of unscored flows; the table refreshes a few times a second at most."""
        if self.analysis is not None or self.worker is None:
            return
        self._read_rows += len(batch)
        room = PREVIEW_MAX_ROWS - self._queued_rows
        batch = batch.iloc[: max(0, room)]
        self._queued_rows += len(batch)
        if not self._preview_timer.isActive():
            self._preview_timer.start()
        if not len(batch):
            return
        # all-missing verdict columns, so preview rows have the analysis table's columns
        n = len(batch)
        empty: dict[str, Any] = {c: np.full(n, np.nan) for c in VERDICT_COLUMNS if c not in batch.columns}
        if "flagged" in empty:
            empty["flagged"] = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
        self._pending.append(batch.assign(**empty))

    def _show_preview(self) -> None:
        """Show every flow read so far, unscored, keeping the sort and scroll position.

        New rows are prepared on this turn of the event loop and shown on the next
        (:meth:`_commit_preview`): at a million rows each half takes ~40 ms.
        """
        if self.analysis is not None:
            self._pending.clear()
            return
        if not self._pending:  # the table is full: only the count moves
            if self._preview_rows:
                self._say_read()
            return
        if self._staged is not None:  # the previous batch is not shown yet: wait for it
            self._preview_timer.start()
            return
        t0 = time.perf_counter()
        batch = self._pending[0] if len(self._pending) == 1 else pd.concat(self._pending, ignore_index=True)
        self._pending = []
        if self._preview_rows == 0:
            header = self.table.horizontalHeader()
            self.model.set_frame(batch)
            if "first_seen" in batch.columns:  # flows in time order until the user sorts
                header.blockSignals(True)
                header.setSortIndicator(self.model.columns().index("first_seen"), Qt.SortOrder.AscendingOrder)
                header.blockSignals(False)
            section, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
            if 0 <= section < self.model.columnCount():
                self.model.sort(section, order)
            self._fit_columns()
            self._preview_shown(len(batch), t0)
            return
        self._staged = (self.model.stage_rows(batch), len(batch), time.perf_counter() - t0)
        QTimer.singleShot(NEXT_TURN_MS, self, self._commit_preview)

    def _commit_preview(self) -> None:
        staged, rows, spent = self._staged or (None, 0, 0.0)
        self._staged = None
        if staged is None or self.analysis is not None:
            return
        t0 = time.perf_counter()
        scroll = self.table.verticalScrollBar().value()
        if self.model.commit(staged):
            self.table.verticalScrollBar().setValue(scroll)
            self._preview_shown(rows, t0 - spent)

    def _say_read(self) -> None:
        shown = "" if self._read_rows <= self._preview_rows else f" (the first {self._preview_rows:,} shown)"
        self.summary.setText(
            f"{self._read_rows:,} flows read so far{shown}; verdicts appear when the model has scored them"
        )

    def _preview_shown(self, rows: int, t0: float) -> None:
        self._preview_rows += rows
        self._say_read()
        self.preview_updates += 1
        # refresh less often when a refresh itself takes long (very large captures)
        spent_ms = (time.perf_counter() - t0) * 1000
        self._preview_timer.setInterval(max(PREVIEW_MIN_INTERVAL_MS, int(spent_ms * 8)))

    def _on_result(self, payload: tuple[Analysis, Any]) -> None:
        analysis, overview = payload
        self._preview_timer.stop()
        self._pending.clear()
        self._staged = None
        self._preview_rows = self._queued_rows = self._read_rows = 0
        self.analysis = analysis
        result = analysis.result
        if "empty_columns" not in analysis.extra:
            prepare_for_view(analysis)
        self.model.set_frame(analysis.flows, order=analysis.extra.get("order"), search=analysis.extra["search"])
        warn = f" — {len(result.warnings)} warning(s), hover for details" if result.warnings else ""
        if analysis.summary is not None:
            s = analysis.summary
            verdict = f"{s['flagged']:,} flagged by model '{s['model']}'"
            spoofing = result.meta.get("arp_spoofing") or []
            if spoofing:  # flows flagged by the ARP check, not the model: say so, and why
                verdict += f" and the ARP check ({'; '.join(spoofing)})"
            self.class_combo.addItems(analysis.extra["classes"])
            header = self.table.horizontalHeader()
            header.blockSignals(True)  # the rows are already in this order; do not sort again
            header.setSortIndicator(self.model.columns().index("pred_score"), Qt.SortOrder.DescendingOrder)
            header.blockSignals(False)
            self.flagged_only.setChecked(bool(s["flagged"]))
            # the overview's charts, then the evaluation, are built on later turns of the event
            # loop, so the table appears first and no single step blocks the loop for long (an
            # evaluation worker started while the charts were built made them wait for the GIL)
            if result.labelled:
                self.pages.addTab(self.evaluation, "Evaluation")

            def overview_then_evaluation() -> None:
                if overview is not None:
                    self.overview.set_data(overview)
                if result.labelled:
                    QTimer.singleShot(NEXT_TURN_MS, self, self._start_evaluation)

            QTimer.singleShot(NEXT_TURN_MS, self, overview_then_evaluation)
        else:
            verdict = f"no verdicts ({analysis.note})"
            for widget in (self.flagged_only, self.class_combo, self.score_slider):
                widget.setEnabled(False)
            header = self.table.horizontalHeader()
            header.blockSignals(True)  # rows stay in the file's order: no column is sorted
            header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            header.blockSignals(False)
            self.chart.hide()
            self.explanation_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.explanation_text.setText(
                f"No verdicts and no explanations: {analysis.note}\n\n"
                "The flows are shown as extracted; File ▸ Settings chooses another model bundle."
            )
        empty = set(analysis.extra["empty_columns"])
        for i, column in enumerate(self.model.columns()):
            self.table.setColumnHidden(i, column in empty)
        self._fit_columns()
        self.summary.setText(f"{result.format}: {len(analysis.flows):,} flows, {verdict}{warn}")
        if result.warnings:
            self.summary.setToolTip("\n".join(result.warnings))
        self._apply_filter()
        self._filter_timer.stop()  # the flagged-only toggle above queued the same filter again
        self.loaded.emit(analysis)

    def _fit_columns(self, sample_rows: int = 30, first: int = 16) -> None:
        """Size the leading columns to their header and the first rows' text.

        ``resizeColumnsToContents`` asks the model for 1,000 rows of every column, which
        stalled the GUI for seconds on captures with a hundred feature columns; even
        ``resizeColumnToContents`` on 16 columns cost ~60 ms of data() calls per role. Here
        the widths come straight from the font metrics of the displayed strings (~2 ms).
        """
        header = self.table.horizontalHeader()
        cells = self.table.fontMetrics()
        heads = header.fontMetrics()
        rows = min(sample_rows, self.model.rowCount())
        columns = self.model.columns()
        for i in range(min(first, len(columns))):
            if self.table.isColumnHidden(i):
                continue
            texts = self.model.column_texts(i, rows)
            width = max([cells.horizontalAdvance(t) for t in texts] + [heads.horizontalAdvance(columns[i]) + 18])
            header.resizeSection(i, max(40, min(width + 14, 360)))

    def _stop_preview(self, why: str) -> None:
        """The analysis ended without a result: keep the flows read so far, say they are unscored."""
        self._preview_timer.stop()
        self._pending.clear()
        self._commit_preview()  # rows prepared are shown too
        if self._preview_rows and self.analysis is None:
            if self._read_rows <= self._preview_rows:
                said = f"the {self._preview_rows:,} flows read until then are shown, unscored"
            else:
                said = f"{self._read_rows:,} flows were read until then; the first {self._preview_rows:,} are shown, unscored"
            self.summary.setText(f"{why}: {said}")

    def _on_error(self, exc: BaseException) -> None:
        self.stage.setText("failed")
        self._stop_preview("failed")
        show_error(self, exc)

    def _on_cancelled(self) -> None:
        self.stage.setText("cancelled")
        self._stop_preview("cancelled")

    def _on_finished(self) -> None:
        self.worker = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.analysis is not None else 0)
        self.cancel_button.setEnabled(self.busy)
        if self.analysis is not None and self.stage.text() not in ("cancelled", "failed"):
            self.stage.setText(f"done in {time.monotonic() - self._started:.1f} s")
        self.closed_work.emit()

    # --- filters, columns, copy ------------------------------------------------------------
    def _on_slider(self, value: int) -> None:
        self.score_label.setText(f"score ≥ {value / 100:.2f}")
        self._filter_timer.start()

    def _apply_filter(self) -> None:
        cls = self.class_combo.currentText()
        self.model.set_filter(
            self.filter_edit.text(),
            flagged_only=self.flagged_only.isChecked(),
            classes=None if cls == ALL_CLASSES else {cls},
            min_score=self.score_slider.value() / 100,
        )
        if self.analysis is not None:
            total = len(self.analysis.flows)
            self.stage.setText(f"{self.model.rowCount():,} of {total:,} flows shown")

    def _build_column_menu(self) -> None:
        self.columns_menu.clear()
        for i, column in enumerate(self.model.columns()):
            action = self.columns_menu.addAction(column)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(i))
            action.toggled.connect(lambda on, i=i: self.table.setColumnHidden(i, not on))

    def visible_columns(self) -> list[str]:
        return [c for i, c in enumerate(self.model.columns()) if not self.table.isColumnHidden(i)]

    def copy_selection(self) -> None:
        """Copy the selected rows (visible columns) to the clipboard as tab-separated text."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if rows:
            QGuiApplication.clipboard().setText(self.model.rows_as_text(rows, self.visible_columns()))

    # --- details and explanations ----------------------------------------------------------
    def _on_row_changed(self, current, previous) -> None:  # type: ignore[no-untyped-def]
        if not current.isValid():
            return
        row = self.model.row_of(current.row())
        self._show_fields(row)
        if self.analysis is not None and self.analysis.summary is not None:
            self.explain(row)

    def _show_fields(self, row: int) -> None:
        frame = self.model.frame
        values = {c: frame[c].iat[row] for c in frame.columns}  # one cell per column, not whole columns
        first = [c for c in ("pred_class", "pred_score", "anomaly_score", "flagged") if c in frame.columns]
        first += [c for c in ("label_original", "label_class") if c in frame.columns and not _missing(values[c])]
        names = first + [c for c in frame.columns if c not in first and not _missing(values[c])]
        self.fields.setRowCount(len(names))
        for r, name in enumerate(names):
            self.fields.setItem(r, 0, QTableWidgetItem(name))
            value = values[name]
            self.fields.setItem(r, 1, QTableWidgetItem("" if _missing(value) else _display(name, value)))

    def _cache_key(self, row: int) -> tuple[str, int, str, int] | None:
        key = None if self.analysis is None else self.analysis.extra.get("explain_key")
        return None if key is None else (key[0], int(row), key[1], 0)

    def explain(self, row: int) -> None:
        """Explain frame row ``row`` in the background; a cached explanation shows at once."""
        key = self._cache_key(row)
        cached = None if key is None else explanation_cache().get(key)
        if cached is not None:
            if self.explain_worker is not None:
                self.explain_worker.cancel()
            self._show_explanation(cached)
            self.explained.emit(cached)
            return
        if self.explain_worker is not None:
            self.explain_worker.cancel()
        self.explanation_text.setText("Explaining… (LIME is querying the model)")
        self.chart.set_contributions([])
        worker = Worker(self._explain_job, row)
        worker.signals.result_ready.connect(lambda exp, r=row: self._on_explained(r, exp))
        worker.signals.errored.connect(self._on_explain_error)
        worker.signals.finished.connect(lambda w=worker: self._explain_finished(w))
        self.explain_worker = worker
        worker.start()

    def _explain_job(self, row: int, *, progress, cancel):  # type: ignore[no-untyped-def]
        from ids_desktop.core.analysis import get_bundle
        from ids_desktop.core.explain.service import BundleExplainer

        if self._explainer is None:
            analysis = self.analysis
            assert analysis is not None and analysis.summary is not None
            bundle = get_bundle(analysis.summary["model"], analysis.result.feature_format)
            samples = int(self.options.get("lime_samples") or 0) or None  # None: per bundle
            self._explainer = BundleExplainer(
                bundle, analysis.result.frame, analysis.result.temporal, num_samples=samples
            )
        return self._explainer.explain_row(row, cancel=cancel)  # type: ignore[attr-defined]

    def _on_explained(self, row: int, exp: object) -> None:
        key = self._cache_key(row)
        if key is not None:
            try:
                explanation_cache().put(key, exp)
            except OSError:  # an unwritable cache folder only costs the disk copy
                explanation_cache()._remember(key, exp)
        current = self.table.currentIndex()
        if current.isValid() and self.model.row_of(current.row()) == row:
            self._show_explanation(exp)
        self.explained.emit(exp)

    def _show_explanation(self, exp) -> None:  # type: ignore[no-untyped-def]
        from ids_desktop.core.explain.chart import chart_spec

        self.chart.set_spec(chart_spec(exp))
        self.explanation_text.setText(
            f"{exp.sentence}\n\nLocal fidelity R² {exp.fidelity_r2:.2f}; {exp.num_samples} samples; seed {exp.seed}."
        )

    def _on_explain_error(self, exc: BaseException) -> None:
        self.explanation_text.setText(f"No explanation: {exc}")

    def _explain_finished(self, worker: Worker) -> None:
        if self.explain_worker is worker:
            self.explain_worker = None

    # --- evaluation ------------------------------------------------------------------------
    def _start_evaluation(self) -> None:
        from ids_desktop.core.analysis import evaluate, evaluate_flows

        analysis = self.analysis
        assert analysis is not None and analysis.summary is not None
        if self.options.get("threshold") is None:  # verdicts at the bundle's threshold: reuse them
            worker = Worker(lambda *, progress, cancel: evaluate_flows(
                analysis.result, analysis.flows, analysis.summary["model"]))
        else:
            worker = Worker(evaluate, analysis.result, model=analysis.summary["model"])
        worker.signals.result_ready.connect(self._on_evaluated)
        worker.signals.errored.connect(lambda exc: self.evaluation.set_failed(str(exc)))
        worker.signals.finished.connect(self._eval_finished)
        self.eval_worker = worker
        self.evaluation.status.setText("Evaluating against the file's labels…")
        worker.start()

    def _on_evaluated(self, report: dict[str, Any]) -> None:
        self.evaluation.set_report(report)
        self.evaluated.emit(report)

    def _eval_finished(self) -> None:
        self.eval_worker = None

    # --- export ----------------------------------------------------------------------------
    def export(self, kind: str, target: Path) -> None:
        """Write one report for this tab's analysis in the background."""
        from ids_desktop.core.report.export import ExportRequest, export_reports

        if self.analysis is None or self.worker is not None:
            return
        request = ExportRequest(**{kind: target})
        self._started = time.monotonic()
        self.worker = Worker(export_reports, self.analysis, request, evaluation=self.evaluation.report)
        sig = self.worker.signals
        sig.progress_changed.connect(self._on_progress)
        sig.result_ready.connect(lambda paths: self.summary.setText(f"wrote {', '.join(map(str, paths))}"))
        sig.errored.connect(lambda exc: show_error(self, exc, "Could not export"))
        sig.cancelled.connect(self._on_cancelled)
        sig.finished.connect(self._on_finished)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.stage.setText(f"exporting {target.name}…")
        self.worker.start()


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
