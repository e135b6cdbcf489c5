"""File ▸ Open Folder: every capture of a folder analysed on the local Dask cluster, with
progress and Cancel, and the incidents found across its files.

The page is a thin view of :func:`ids_desktop.batch.run_batch` (the ``batch`` command's
function), run on a worker thread through a :class:`~ids_desktop.gui.workers.TaskSlot`. Its
results go to the user's data folder (``batch/NAME-HASH``), so opening the same folder again
skips the files already analysed there. Each incident lists the files it was seen in;
opening one (double-click, Enter or "Open its file") opens that file in its own tab, on the
incident.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ids_desktop.core.options import AnalysisOptions
from ids_desktop.gui.errors import Problem, show_problem
from ids_desktop.gui.progress_row import progress_row
from ids_desktop.gui.workers import TaskSlot
from ids_desktop.paths import user_data_dir

COLUMNS = ("Severity", "Family", "Source → targets", "Files", "Flows", "Start (UTC)",
           "What happened")
#: Role of an item's ``(file, the file's incident id)``.
TARGET_ROLE = Qt.ItemDataRole.UserRole + 1


def output_folder(folder: Path) -> Path:
    """Where the window keeps a folder's batch results: one folder per input folder."""
    digest = hashlib.sha256(str(Path(folder).resolve()).encode()).hexdigest()[:8]
    return user_data_dir() / "batch" / f"{Path(folder).name or 'folder'}-{digest}"


def run_folder(folder: Path, out: Path, options: AnalysisOptions, *, workers: int | None,
               progress: Any, cancel: Any) -> Any:
    """The page's background task: :func:`~ids_desktop.batch.run_batch` on the local cluster
    (imported here: Dask loads only when a folder is opened)."""
    from ids_desktop.batch import run_batch

    return run_batch([folder], out, options, workers=workers, progress=progress, cancel=cancel)


class BatchPage(QWidget):
    """A folder's batch run and its incidents across files.

    Signals:
        open_requested(object, str): open this file (a Path) on this incident id.
        closed_work(): the run ended (done, failed or cancelled).
    """

    open_requested = Signal(object, str)
    closed_work = Signal()

    def __init__(self, folder: Path, options: AnalysisOptions, *, out: Path | None = None,
                 workers: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.out = out or output_folder(self.folder)
        self.options = options
        self.workers = workers
        self.result: Any = None
        self._started = 0.0
        row = progress_row(self.cancel)
        self.stage, self.progress, self.cancel_button = row.stage, row.progress, row.cancel_button
        bar = row.layout
        self.headline = QLabel(f"Analysing every capture and flow table in {self.folder} on "
                               "this computer's cores…")
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.open_button = QPushButton("Open its file")
        self.open_button.setEnabled(False)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.currentItemChanged.connect(
            lambda item, _: self.open_button.setEnabled(item is not None))
        self.open_button.clicked.connect(lambda: self._on_activated(self.tree.currentItem(), 0))
        self.failures = QLabel("")
        self.failures.setTextFormat(Qt.TextFormat.PlainText)
        self.failures.setWordWrap(True)
        self.failures.setStyleSheet("QLabel { color: #8a1f11; }")
        self.failures.hide()
        self.where = QLabel(f"Results: {self.out}")
        self.where.setTextFormat(Qt.TextFormat.PlainText)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        foot = QHBoxLayout()
        foot.addWidget(self.where, 1)
        foot.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.headline)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.failures)
        layout.addLayout(foot)
        self.task = TaskSlot(self)
        self.task.progress_changed.connect(self._on_progress)
        self.task.result_ready.connect(self._on_result)
        self.task.errored.connect(self._on_error)
        self.task.cancelled.connect(self._on_cancelled)
        self.task.finished.connect(self._on_finished)

    # --- the run ---------------------------------------------------------------------------
    def start(self) -> None:
        self._started = time.monotonic()
        self.stage.setText("starting the local cluster…")
        self.progress.setRange(0, 0)
        self.task.start(run_folder, self.folder, self.out, self.options, workers=self.workers)

    def cancel(self) -> None:
        if self.task.busy:
            self.task.cancel()
            self.stage.setText("cancelling: stopping the workers…")

    @property
    def busy(self) -> bool:
        return self.task.busy

    def _on_progress(self, done: float, total: object, stage: str) -> None:
        if isinstance(total, (int, float)) and total > 0 and stage == "analysing files":
            self.progress.setRange(0, int(total))
            self.progress.setValue(int(done))
            self.stage.setText(f"{stage}: {done:,.0f} of {float(total):,.0f}")
        else:
            self.progress.setRange(0, 0)
            self.stage.setText(f"{stage}…")

    def _on_error(self, problem: Problem) -> None:
        self.stage.setText("failed")
        self.headline.setText(problem.message)
        show_problem(self, problem, "Could not analyse the folder")

    def _on_cancelled(self) -> None:
        self.stage.setText("cancelled")
        self.headline.setText("Cancelled: the workers were stopped. Files finished before are "
                              f"kept in {self.out} and skipped when this folder is opened again.")

    def _on_finished(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if self.result is not None else 0)
        self.cancel_button.setEnabled(False)
        self.closed_work.emit()

    def _on_result(self, result: Any) -> None:
        self.result = result
        s = result.summary
        self.stage.setText(f"done in {time.monotonic() - self._started:.1f} s")
        self.headline.setText(
            f"{s['captures']:,} files ({s['skipped']:,} already analysed before), "
            f"{s['flows']:,} flows, {s['flagged']:,} flagged: {s['incidents']:,} incident"
            f"{'' if s['incidents'] == 1 else 's'} across the folder. Open one to see its "
            "file.")
        self.show_incidents(result.incidents)
        if s["failures"]:
            lines = [f"{Path(f['path']).name}: {f['category']}: {f['reason']}"
                     for f in s["failures"]]
            self.failures.setText(f"{len(lines)} file(s) could not be analysed:\n"
                                  + "\n".join(lines[:10]))
            self.failures.show()

    # --- the incidents ---------------------------------------------------------------------
    def show_incidents(self, incidents: list[dict[str, Any]]) -> None:
        """One row per incident across files; its parts (one per file) below it."""
        self.tree.clear()
        for inc in incidents:
            files = [Path(f).name for f in inc["files"]]
            row = QTreeWidgetItem([
                inc["severity"], inc["family"], _who(inc),
                files[0] if len(files) == 1 else f"{len(files)} files", f"{inc['flows']:,}",
                _when(inc.get("first_seen")), inc["summary"]])
            first = inc["parts"][0]
            row.setData(0, TARGET_ROLE, (first["file"], first["incident_id"]))
            row.setToolTip(6, inc["summary"])
            row.setToolTip(3, "\n".join(inc["files"]))
            for part in inc["parts"] if len(inc["parts"]) > 1 else ():
                child = QTreeWidgetItem([
                    "", "", "", Path(part["file"]).name, f"{part['flows'] or 0:,}",
                    _when(part.get("first_seen")), part.get("summary") or ""])
                child.setData(0, TARGET_ROLE, (part["file"], part["incident_id"]))
                child.setToolTip(3, part["file"])
                row.addChild(child)
            self.tree.addTopLevelItem(row)
        for col in range(len(COLUMNS) - 1):
            self.tree.resizeColumnToContents(col)
            self.tree.setColumnWidth(col, min(self.tree.columnWidth(col), 240))
        first = self.tree.topLevelItem(0)
        if first is not None:
            self.tree.setCurrentItem(first)

    def _on_activated(self, item: QTreeWidgetItem | None, _column: int) -> None:
        target = None if item is None else item.data(0, TARGET_ROLE)
        if target:
            path, incident_id = target
            self.open_requested.emit(Path(path), str(incident_id))


def _who(inc: dict[str, Any]) -> str:
    sources = ", ".join(inc["sources"][:2]) + (" …" if len(inc["sources"]) > 2 else "")
    targets = ", ".join(inc["targets"][:2])
    more = inc.get("target_count", 0) - min(2, len(inc["targets"]))
    return f"{sources} → {targets}" + (f" and {more:,} more" if more > 0 else "")


def _when(seconds: Any) -> str:
    if seconds is None:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(seconds)))
