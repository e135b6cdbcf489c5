"""The main window: wiring only. Files open into tabs; long work runs on workers."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ids_desktop import APP_NAME, __version__
from ids_desktop.core.workflow import Analysis, run_analysis
from ids_desktop.gui.charts.explanation import ExplanationChart
from ids_desktop.gui.errors import show_error
from ids_desktop.gui.flow_table import FlowTableModel
from ids_desktop.gui.workers import Worker, wait_for_all

MAX_RECENT = 10
OPEN_FILTER = (
    "Captures and flow tables (*.pcap *.pcapng *.cap *.csv *.csv.gz *.gz *.txt *.arff *.parquet);;"
    "Packet captures (*.pcap *.pcapng *.cap);;Flow tables (*.csv *.csv.gz *.txt *.arff *.parquet);;"
    "All files (*)"
)


class AnalysisTab(QWidget):
    """One opened file: its progress while loading, then its flows table and explanations.

    Signals:
        loaded(object): the :class:`Analysis` arrived.
        closed_work(): the worker finished (success, error or cancel).
        explained(object): an explanation for the selected flow arrived.
    """

    loaded = Signal(object)
    closed_work = Signal()
    explained = Signal(object)

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.analysis: Analysis | None = None
        self.worker: Worker | None = None
        self.explain_worker: Worker | None = None
        self._explainer: object | None = None
        self._explanations: dict[int, object] = {}
        self._started = 0.0

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.stage = QLabel("waiting")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_button.clicked.connect(self.cancel)
        bar = QHBoxLayout()
        bar.addWidget(self.stage, 1)
        bar.addWidget(self.progress, 2)
        bar.addWidget(self.cancel_button)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: text in any shown column (Ctrl+F)")
        self.flagged_only = QCheckBox("Flagged only")
        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.flagged_only)

        self.model = FlowTableModel(parent=self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.summary = QLabel("")
        self.chart = ExplanationChart()
        self.explanation_text = QLabel("Select a flagged flow to see why it was flagged.")
        self.explanation_text.setWordWrap(True)
        self.explanation_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        details = QWidget()
        details_layout = QHBoxLayout(details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        details_layout.addWidget(self.chart, 3)
        details_layout.addWidget(self.explanation_text, 2)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        self.filter_edit.textChanged.connect(self._apply_filter)
        self.flagged_only.toggled.connect(self._apply_filter)
        find = QAction(self, shortcut=QKeySequence.StandardKey.Find)
        find.triggered.connect(self.filter_edit.setFocus)
        self.addAction(find)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(filters)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.summary)

    def start(self) -> None:
        self._started = time.monotonic()
        self.worker = Worker(run_analysis, self.path)
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
        if self.worker is not None:
            self.stage.setText("cancelling…")
            self.worker.cancel()
        if self.explain_worker is not None:
            self.explain_worker.cancel()

    @property
    def busy(self) -> bool:
        return self.worker is not None or self.explain_worker is not None

    @property
    def result(self):  # type: ignore[no-untyped-def]
        return None if self.analysis is None else self.analysis.result

    def _apply_filter(self) -> None:
        self.model.set_filter(self.filter_edit.text(), flagged_only=self.flagged_only.isChecked())
        shown = self.model.rowCount()
        if self.analysis is not None:
            self.summary.setText(f"{self.result.format}: {shown:,} of {len(self.analysis.flows):,} flows shown")

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
            self.stage.setText(f"{stage}: {done:,.0f}")

    def _on_result(self, analysis: Analysis) -> None:
        self.analysis = analysis
        result = analysis.result
        self.model.set_frame(analysis.flows)
        warn = f" — {len(result.warnings)} warning(s)" if result.warnings else ""
        if analysis.summary is not None:
            s = analysis.summary
            verdict = f"{s['flagged']:,} flagged by model '{s['model']}'"
            self.model.sort(self.model.columns().index("pred_score"), Qt.SortOrder.DescendingOrder)
            self.table.horizontalHeader().setSortIndicator(
                self.model.columns().index("pred_score"), Qt.SortOrder.DescendingOrder
            )
            if s["flagged"]:
                self.flagged_only.setChecked(True)
        else:
            verdict = f"no verdicts ({analysis.note})"
            self.flagged_only.setEnabled(False)
            self.explanation_text.setText("No model serves this input, so there is nothing to explain.")
        # Columns the source never fills (addresses in a table without them) only take room.
        for i, column in enumerate(self.model.columns()):
            self.table.setColumnHidden(i, bool(analysis.flows[column].isna().all()))
        self.table.resizeColumnsToContents()
        self.summary.setText(f"{result.format}: {len(analysis.flows):,} flows, {verdict}{warn}")
        if result.warnings:
            self.summary.setToolTip("\n".join(result.warnings))
        self.loaded.emit(analysis)

    # --- export ----------------------------------------------------------------------------
    def export(self, kind: str, target: Path) -> None:
        """Write one report for this tab's analysis in the background."""
        from ids_desktop.core.report.export import ExportRequest, export_reports

        if self.analysis is None or self.worker is not None:
            return
        request = ExportRequest(**{kind: target})
        self._started = time.monotonic()
        self.worker = Worker(export_reports, self.analysis, request)
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

    # --- explanations ----------------------------------------------------------------------
    def _on_row_changed(self, current, previous) -> None:  # type: ignore[no-untyped-def]
        if self.analysis is None or self.analysis.summary is None or not current.isValid():
            return
        row = self.model.row_of(current.row())
        self.explain(row)

    def explain(self, row: int) -> None:
        """Explain frame row ``row`` in the background (cached per row)."""
        if row in self._explanations:
            self._show_explanation(self._explanations[row])
            return
        if self.explain_worker is not None:
            self.explain_worker.cancel()
        self.explanation_text.setText("Explaining…")
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
            self._explainer = BundleExplainer(bundle, analysis.result.frame, analysis.result.temporal)
        return self._explainer.explain_row(row, cancel=cancel)  # type: ignore[attr-defined]

    def _on_explained(self, row: int, exp: object) -> None:
        self._explanations[row] = exp
        self._show_explanation(exp)
        self.explained.emit(exp)

    def _show_explanation(self, exp) -> None:  # type: ignore[no-untyped-def]
        self.chart.set_contributions([(c.label, c.weight) for c in exp.contributions])
        self.explanation_text.setText(
            f"{exp.sentence}\n\nLocal fidelity R² {exp.fidelity_r2:.2f}, "
            f"{exp.num_samples} samples, seed {exp.seed}."
        )

    def _on_explain_error(self, exc: BaseException) -> None:
        self.explanation_text.setText(f"No explanation: {exc}")

    def _explain_finished(self, worker: Worker) -> None:
        if self.explain_worker is worker:
            self.explain_worker = None

    def _on_error(self, exc: BaseException) -> None:
        self.stage.setText("failed")
        show_error(self, exc)

    def _on_cancelled(self) -> None:
        self.stage.setText("cancelled")

    def _on_finished(self) -> None:
        self.worker = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.result is not None else 0)
        self.cancel_button.setEnabled(False)
        if self.result is not None:
            self.stage.setText(f"done in {time.monotonic() - self._started:.1f} s")
        self.closed_work.emit()


class MainWindow(QMainWindow):
    """Tabs of opened files, the File menu, drag-and-drop and recent files."""

    def __init__(self, settings: QSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("IDS Desktop", "ids-desktop")
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.setAcceptDrops(True)
        self.resize(1200, 760)

        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.placeholder = QLabel(
            "Open a packet capture or a flow table: File ▸ Open (Ctrl+O), or drop files here."
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(self.tabs)
        self.tabs.addTab(self.placeholder, "Start")
        self.tabs.setTabsClosable(True)
        self._build_menus()
        self.statusBar().showMessage("Ready")
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)

    # --- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = QAction("&Open…", self, shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_dialog)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._refresh_recent()
        export_menu = file_menu.addMenu("&Export")
        for label, kind, shortcut in (
            ("PDF report…", "pdf", "Ctrl+E"),
            ("CSV of flagged flows…", "csv", None),
            ("JSON Lines alerts (SIEM)…", "jsonl", None),
        ):
            action = QAction(label, self)
            if shortcut:
                action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda _=False, k=kind: self.export_dialog(k))
            export_menu.addAction(action)
        file_menu.addSeparator()
        close_action = QAction("&Close Tab", self, shortcut=QKeySequence.StandardKey.Close)
        close_action.triggered.connect(lambda: self.close_tab(self.tabs.currentIndex()))
        file_menu.addAction(close_action)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\nOffline network intrusion detection workbench.",
        )

    # --- opening files ---------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.settings.value("paths/last_dir", str(Path.home())))
        paths, _ = QFileDialog.getOpenFileNames(self, "Open captures or flow tables", start, OPEN_FILTER)
        for p in paths:
            self.open_path(Path(p))

    def open_path(self, path: Path) -> AnalysisTab:
        """Open ``path`` in a new tab and start loading it in the background."""
        path = Path(path)
        if self.tabs.indexOf(self.placeholder) >= 0:
            self.tabs.removeTab(self.tabs.indexOf(self.placeholder))
        tab = AnalysisTab(path)
        index = self.tabs.addTab(tab, path.name)
        self.tabs.setTabToolTip(index, str(path))
        self.tabs.setCurrentIndex(index)
        tab.loaded.connect(lambda result, p=path: self._on_loaded(p, result))
        self._remember(path)
        tab.start()
        return tab

    def _on_loaded(self, path: Path, analysis: Analysis) -> None:
        self.statusBar().showMessage(
            f"{path.name}: {len(analysis.flows):,} flows ({analysis.result.format})", 10000
        )

    def close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if isinstance(widget, AnalysisTab) and widget.busy:
            widget.cancel()
        if widget is not None and widget is not self.placeholder:
            self.tabs.removeTab(index)
            widget.deleteLater()

    # --- export ----------------------------------------------------------------------------
    def current_tab(self) -> AnalysisTab | None:
        widget = self.tabs.currentWidget()
        return widget if isinstance(widget, AnalysisTab) else None

    def export_dialog(self, kind: str) -> None:
        tab = self.current_tab()
        if tab is None or tab.analysis is None or tab.analysis.summary is None:
            QMessageBox.information(self, "Export", "Open a file that a model has analysed first.")
            return
        filters = {"pdf": "PDF report (*.pdf)", "csv": "CSV (*.csv)", "jsonl": "JSON Lines (*.jsonl)"}
        default = str(Path(str(self.settings.value("paths/last_dir", str(Path.home())))) / f"{tab.path.stem}.{kind}")
        target, _ = QFileDialog.getSaveFileName(self, "Export", default, filters[kind])
        if target:
            tab.export(kind, Path(target))

    # --- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent/files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        files = [str(path.resolve())] + [f for f in self.recent_files() if f != str(path.resolve())]
        self.settings.setValue("recent/files", files[:MAX_RECENT])
        self.settings.setValue("paths/last_dir", str(path.resolve().parent))
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        files = self.recent_files()
        for i, f in enumerate(files, start=1):
            action = QAction(f"&{i % 10} {Path(f).name}", self)
            action.setToolTip(f)
            action.triggered.connect(lambda _=False, f=f: self.open_path(Path(f)))
            self.recent_menu.addAction(action)
        self.recent_menu.setEnabled(bool(files))

    # --- drag and drop ---------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile():
                self.open_path(Path(url.toLocalFile()))
        event.acceptProposedAction()

    # --- shutdown --------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if isinstance(widget, AnalysisTab) and widget.busy:
                widget.cancel()
        wait_for_all(timeout=10)
        self.settings.setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)
