"""The main window: wiring only. Files open into tabs; long work runs on workers.

The window itself imports only Qt and light modules, so it appears fast; the analysis tab
(pandas, pyqtgraph, the core) is imported on a background thread right after the window is
shown, so neither the first paint nor the first opened file waits for those imports.
"""

from __future__ import annotations

import gc
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget

from ids_desktop import APP_NAME, __version__, config
from ids_desktop.core.options import GUI_METER_NICE, AnalysisOptions
from ids_desktop.gui.settings_dialog import SettingsDialog
from ids_desktop.gui.workers import wait_for_all

MAX_RECENT = 10
#: The window's size on first launch, when the screen has room for it.
DEFAULT_SIZE = (1280, 820)
#: Width and height a window manager's frame adds (borders, title bar), allowed for when the
#: window has not been shown yet and its frame is unknown.
DECORATION = (8, 36)
OPEN_FILTER = (
    "Captures and flow tables (*.pcap *.pcapng *.cap *.csv *.csv.gz *.gz *.txt *.arff *.parquet);;"
    "Packet captures (*.pcap *.pcapng *.cap);;Flow tables (*.csv *.csv.gz *.txt *.arff *.parquet);;"
    "All files (*)"
)

if TYPE_CHECKING:
    from ids_desktop.core.analysis import Analysis
    from ids_desktop.gui.analysis_tab import AnalysisTab
    from ids_desktop.gui.batch_view import BatchPage

__all__ = ["AnalysisTab", "MainWindow"]

#: Modules an analysis needs, imported on a background thread once the window shows (importing
#: them creates no QObject, so the thread does not matter; it measured <= 42 ms stalls).
WARM_UP_MODULES = ("numpy", "pandas", "pyqtgraph", "ids_desktop.core.workflow",
                   "ids_desktop.core.ingest.tables", "ids_desktop.core.report.build",
                   "ids_desktop.gui.analysis_tab",
                   # last, as the first explanation needs them: LIME and scikit-learn (~1 s)
                   "ids_desktop.core.explain.service", "lime.lime_tabular")


def __getattr__(name: str) -> Any:  # ``from ids_desktop.gui.main_window import AnalysisTab``
    if name == "AnalysisTab":
        from ids_desktop.gui.analysis_tab import AnalysisTab

        return AnalysisTab
    raise AttributeError(name)


def is_tab(widget: object) -> TypeGuard[AnalysisTab]:
    """True for an :class:`AnalysisTab` (without importing it when no tab was ever opened)."""
    module = sys.modules.get("ids_desktop.gui.analysis_tab")
    return module is not None and isinstance(widget, module.AnalysisTab)


def _busy(widget: object) -> bool:
    """A tab (a file's or a folder's) whose background work has not finished."""
    return (is_tab(widget) or type(widget).__name__ == "BatchPage") and bool(
        getattr(widget, "busy", False))


def warm_up() -> threading.Thread:
    """Import :data:`WARM_UP_MODULES` on a daemon thread; returns the thread."""
    import importlib

    def run() -> None:
        # The ~100k objects of the imported modules live as long as the process: keep them
        # out of the cyclic collector, whose full passes over them took ~150 ms (under load)
        # and froze the event loop whichever thread triggered them. Collection is off while
        # they are imported (imports make next to no garbage; a pass midway cost 57-74 ms).
        gc.freeze()
        gc.disable()
        try:
            for name in WARM_UP_MODULES:
                try:
                    importlib.import_module(name)
                except Exception:  # noqa: BLE001 - the real import later reports any problem
                    return
        finally:
            gc.freeze()
            gc.enable()

    thread = threading.Thread(target=run, name="ids-warm-up", daemon=True)
    thread.start()
    return thread


def keys(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's standard shortcut, or ``fallback`` where the platform defines none
    (Quit and Preferences have no standard key on Windows and some Linux desktops)."""
    bound = QKeySequence.keyBindings(standard)
    return bound if bound else [QKeySequence(fallback)]


class MainWindow(QMainWindow):
    """Tabs of opened files, the menus, drag-and-drop, recent files and settings.

    Attributes:
        options: The analysis options of the files opened from now on, loaded from
            ``options_file`` and saved there by the Settings dialog.
        settings: Window state (geometry, splitters, recent files), not options.
    """

    def __init__(self, settings: QSettings | None = None, options_file: Path | None = None) -> None:
        super().__init__()
        self.settings = settings or QSettings("IDS Desktop", "ids-desktop")
        self.options_file = options_file  # None: the user's settings file (config.settings_path)
        self.options, problem = config.load_options(options_file)
        self.setWindowTitle(f"{APP_NAME} {__version__}")
        self.setAcceptDrops(True)
        self.resize(*DEFAULT_SIZE)
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
        self._build_menus()
        self.statusBar().showMessage(problem or "Ready")
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.fit_to_screen()
        elif not self.available().contains(self.frameGeometry()):  # saved on a larger screen
            self.fit_to_screen()

    def available(self) -> QRect:
        """The screen area the window may use (without panels and docks)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry() if screen is not None else QRect(0, 0, *DEFAULT_SIZE)

    def fit_to_screen(self) -> None:
        """Size the window to :data:`DEFAULT_SIZE`, or less to fit the available screen area
        (a 1366x768 laptop has ~740 px of height), frame included, and centre it there."""
        area = self.available()
        # before the first show the frame is unknown: allow for a title bar and borders
        frame_w = self.frameGeometry().width() - self.geometry().width() or DECORATION[0]
        frame_h = self.frameGeometry().height() - self.geometry().height() or DECORATION[1]
        width = min(DEFAULT_SIZE[0], area.width() - frame_w)
        height = min(DEFAULT_SIZE[1], area.height() - frame_h)
        self.resize(width, height)
        self.move(area.x() + (area.width() - width - frame_w) // 2,
                  area.y() + (area.height() - height - frame_h) // 2)

    # --- menus -----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        # PySide6 takes Qt properties (shortcut=) as keywords; its stubs' overloads do not
        self.open_action = QAction("&Open…", self,  # type: ignore[call-overload]
                                   shortcut=QKeySequence.StandardKey.Open)
        self.open_action.triggered.connect(self.open_dialog)
        file_menu.addAction(self.open_action)
        self.open_folder_action = QAction("Open &Folder…", self)
        self.open_folder_action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.open_folder_action.setToolTip("Analyse every capture in a folder at once, on all "
                                           "cores, and list the incidents across its files")
        self.open_folder_action.triggered.connect(self.open_folder_dialog)
        file_menu.addAction(self.open_folder_action)
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
        settings_action = QAction("&Settings…", self)
        settings_action.setShortcuts(keys(QKeySequence.StandardKey.Preferences, "Ctrl+,"))
        settings_action.triggered.connect(self.settings_dialog)
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        close_action = QAction("&Close Tab", self)
        close_action.setShortcuts(keys(QKeySequence.StandardKey.Close, "Ctrl+W"))
        close_action.triggered.connect(lambda: self.close_tab(self.tabs.currentIndex()))
        file_menu.addAction(close_action)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcuts(keys(QKeySequence.StandardKey.Quit, "Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        view_menu = self.menuBar().addMenu("&View")
        for label, standard, fallback, step in (
            ("&Next Tab", QKeySequence.StandardKey.NextChild, "Ctrl+Tab", 1),
            ("&Previous Tab", QKeySequence.StandardKey.PreviousChild, "Ctrl+Shift+Tab", -1),
        ):
            action = QAction(label, self)
            action.setShortcuts(keys(standard, fallback))
            action.triggered.connect(lambda _=False, d=step: self._step_tab(d))
            view_menu.addAction(action)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _step_tab(self, step: int) -> None:
        if self.tabs.count():
            self.tabs.setCurrentIndex((self.tabs.currentIndex() + step) % self.tabs.count())

    def _about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"{APP_NAME} {__version__}\nOffline network intrusion detection workbench.\n"
            "Hybrid ConvLSTM-Seq2Seq detector with LIME explanations.",
        )

    def settings_dialog(self) -> None:
        from ids_desktop.core.model.bundle import list_bundles

        dialog = SettingsDialog(self.options, list_bundles(), self)
        if dialog.exec():
            self.options = dialog.options()
            try:
                config.save_options(self.options, self.options_file)
            except OSError as exc:
                self.statusBar().showMessage(
                    f"Settings apply to files opened from now on, but were not saved: {exc}", 15000)
                return
            self.statusBar().showMessage(
                "Settings saved; they apply to files opened from now on.", 8000)

    def analysis_options(self) -> AnalysisOptions:
        """The options a file opened now is analysed with: :attr:`options`, with the capture
        meters yielding the CPU to the window (:data:`~ids_desktop.core.options.GUI_METER_NICE`)."""
        return self.options.replace(meter_nice=GUI_METER_NICE)

    # --- opening files ---------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.settings.value("paths/last_dir", str(Path.home())))
        paths, _ = QFileDialog.getOpenFileNames(self, "Open captures or flow tables", start,
                                                OPEN_FILTER)
        for p in paths:
            self.open_path(Path(p))

    def open_path(self, path: Path) -> AnalysisTab:
        """Open ``path`` in a new tab and start analysing it in the background."""
        path = Path(path)
        if self.tabs.indexOf(self.placeholder) >= 0:
            self.tabs.removeTab(self.tabs.indexOf(self.placeholder))
        from ids_desktop.gui.analysis_tab import AnalysisTab

        tab = AnalysisTab(path, self.analysis_options(), self.settings)
        index = self.tabs.addTab(tab, path.name)
        self.tabs.setTabToolTip(index, str(path))
        self.tabs.setCurrentIndex(index)
        tab.loaded.connect(lambda analysis, p=path: self._on_loaded(p, analysis))
        self._remember(path)
        tab.start()
        return tab

    def open_folder_dialog(self) -> None:
        start = str(self.settings.value("paths/last_dir", str(Path.home())))
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of captures", start)
        if folder:
            self.open_folder(Path(folder))

    def open_folder(self, folder: Path, *, workers: int | None = None) -> BatchPage | None:
        """Analyse every capture and flow table in ``folder`` on the local Dask cluster, in a
        new tab of its incidents across files (:mod:`ids_desktop.gui.batch_view`)."""
        import importlib.util

        if importlib.util.find_spec("distributed") is None:  # the installer leaves Dask out
            QMessageBox.information(
                self, "Open Folder",
                "Analysing a folder at once needs the development or pip install with Dask "
                "(pip install -e . from the source tree). Open the files one by one instead.")
            return None
        from ids_desktop.gui.batch_view import BatchPage

        if self.tabs.indexOf(self.placeholder) >= 0:
            self.tabs.removeTab(self.tabs.indexOf(self.placeholder))
        folder = Path(folder)
        page = BatchPage(folder, self.options, workers=workers)
        index = self.tabs.addTab(page, f"{folder.name or folder} (folder)")
        self.tabs.setTabToolTip(index, str(folder))
        self.tabs.setCurrentIndex(index)
        page.open_requested.connect(self.open_incident)
        self.settings.setValue("paths/last_dir", str(folder.resolve()))
        page.start()
        return page

    def open_incident(self, path: Path, incident_id: str) -> AnalysisTab:
        """Open ``path`` in a tab and select its incident ``incident_id`` once it is analysed
        (ids are stable for the same file and model, so the batch's id is the tab's)."""
        tab = self.open_path(path)

        def select(analysis: Analysis) -> None:
            ids = [inc.id for inc in analysis.incidents]
            if incident_id in ids:
                tab.incidents.select(ids.index(incident_id))

        tab.loaded.connect(select)
        return tab

    def _on_loaded(self, path: Path, analysis: Analysis) -> None:
        self.statusBar().showMessage(
            f"{path.name}: {len(analysis.flows):,} flows ({analysis.result.format})", 10000
        )

    def close_tab(self, index: int) -> None:
        widget = self.tabs.widget(index)
        if _busy(widget):
            widget.cancel()  # type: ignore[union-attr]
        if widget is not None and widget is not self.placeholder:
            self.tabs.removeTab(index)
            widget.deleteLater()

    # --- export ----------------------------------------------------------------------------
    def current_tab(self) -> AnalysisTab | None:
        widget = self.tabs.currentWidget()
        return widget if is_tab(widget) else None

    def export_dialog(self, kind: str) -> None:
        tab = self.current_tab()
        if tab is None or tab.analysis is None or tab.analysis.summary is None:
            QMessageBox.information(self, "Export", "Open a file that a model has analysed first.")
            return
        filters = {"pdf": "PDF report (*.pdf)", "csv": "CSV (*.csv)",
                   "jsonl": "JSON Lines (*.jsonl)"}
        folder = Path(str(self.settings.value("paths/last_dir", str(Path.home()))))
        suggested = str(folder / f"{tab.path.stem}.{kind}")
        target, _ = QFileDialog.getSaveFileName(self, "Export", suggested, filters[kind])
        if target:
            tab.export(kind, Path(target))

    # --- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self.settings.value("recent/files", [])
        if isinstance(value, str):  # QSettings gives one entry back as a str, more as a list
            value = [value]
        return [str(v) for v in cast("list[Any]", value or [])]

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
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if _busy(widget):
                widget.cancel()  # type: ignore[union-attr]
        wait_for_all(timeout=30)  # a folder's run needs a few seconds to stop its workers
        tab = self.current_tab()
        if tab is not None:
            tab.save_layout()
        self.settings.setValue("window/geometry", self.saveGeometry())
        super().closeEvent(event)
