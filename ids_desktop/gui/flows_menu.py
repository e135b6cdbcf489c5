"""The flows table's own actions, the base of :class:`~ids_desktop.gui.analysis_tab.AnalysisTab`:
its context menu (filter by a cell, copy, save packets), pivoting on a double-clicked cell,
copying rows, and saving flows' or an incident's packets as a pcap in the background.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QModelIndex, QPoint, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableView,
    QWidget,
)

from ids_desktop.core.analysis import Analysis
from ids_desktop.core.incidents import Incident
from ids_desktop.gui import pivots
from ids_desktop.gui.filter_bar import FilterBar
from ids_desktop.gui.flow_table import FlowTableModel, display_text
from ids_desktop.gui.workers import TaskSlot

if TYPE_CHECKING:
    from ids_desktop.core.ingest.extract import Extracted


class FlowsTableActions(QWidget):
    """What the flows table offers beyond showing flows. The tab that derives from it builds
    the widgets, the analysis and the ``packets`` task declared here."""

    path: Path
    settings: QSettings | None
    analysis: Analysis | None
    model: FlowTableModel
    table: QTableView
    filters: FilterBar
    packets_task: TaskSlot
    progress: QProgressBar
    stage: QLabel
    summary: QLabel
    cancel_button: QPushButton
    _started: float

    if TYPE_CHECKING:
        def select_row(self, row: int, *, or_clear: bool = False) -> bool: ...

    def _on_double_click(self, index: QModelIndex) -> None:
        column = self.model.columns()[index.column()]
        if column in pivots.COLUMN_KEYS:
            term = pivots.cell_term(column, self.model.frame[column].iat[
                self.model.row_of(index.row())])
            if term is not None:
                self.filters.pivot(*term)

    @property
    def is_capture(self) -> bool:
        """The analysed input is a packet capture (its packets can be saved)."""
        return self.analysis is not None and self.analysis.result.format in ("pcap", "pcapng")

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid() or self.analysis is None:
            return
        self.select_row(self.model.row_of(index.row()))
        menu = self.context_menu(index)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def context_menu(self, index: QModelIndex) -> QMenu:
        """The flows table's menu for the cell at ``index``."""
        menu = QMenu(self.table)
        row = self.model.row_of(index.row())
        column = self.model.columns()[index.column()]
        value = self.model.frame[column].iat[row]
        term = pivots.cell_term(column, value)
        shown = display_text(column, None if term is None else value)
        by_value = menu.addAction(f"Filter by this value ({pivots.term_text(*term)})"
                                  if term is not None else "Filter by this value")
        by_value.setEnabled(term is not None)
        if term is not None:
            by_value.triggered.connect(lambda: self.filters.pivot(*term))
        copy = menu.addAction("Copy")
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(shown))
        rows_copy = menu.addAction("Copy rows")
        rows_copy.triggered.connect(self.copy_selection)
        if self.is_capture:
            menu.addSeparator()
            flow = menu.addAction("Save this flow's packets as pcap…")
            flow.triggered.connect(lambda: self._save_packets_dialog([row], "flow"))
            incident = self._incident_of(row)
            whole = menu.addAction("Save this incident's packets as pcap…")
            whole.setEnabled(incident is not None)
            if incident is not None:
                whole.triggered.connect(lambda: self._save_incident_dialog(incident))
        return menu

    def _incident_of(self, row: int) -> Incident | None:
        if self.analysis is None or "incident_id" not in self.analysis.flows.columns:
            return None
        value = self.analysis.flows["incident_id"].iat[row]
        return next((i for i in self.analysis.incidents if i.id == value), None)

    def _save_incident_dialog(self, incident: Incident) -> None:
        self._save_packets_dialog(list(incident.rows), incident.id)

    def _save_packets_dialog(self, rows: list[int], name: str) -> None:
        folder = self.path.parent
        if self.settings is not None:
            folder = Path(str(self.settings.value("paths/last_dir", str(folder))))
        target, _ = QFileDialog.getSaveFileName(
            self, "Save packets as pcap", str(folder / f"{self.path.stem}-{name}.pcap"),
            "Packet capture (*.pcap)")
        if target:
            self.save_packets(rows, Path(target))

    def save_packets(self, rows: list[int], target: Path) -> None:
        """Write the packets of the flows at frame ``rows`` to the pcap ``target`` in the
        background (:func:`ids_desktop.core.ingest.extract.extract_packets`)."""
        from ids_desktop.core.ingest.extract import extract_packets

        if self.analysis is None or not self.is_capture or self.packets_task.busy:
            return
        flows = self.analysis.flows.iloc[np.asarray(rows, dtype=np.int64)]
        self._started = time.monotonic()
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.stage.setText(f"saving packets to {target.name}…")
        self.packets_task.start(extract_packets, self.path, flows, target)

    def _on_packets_saved(self, done: Extracted) -> None:
        flows = "flow" if done.flows == 1 else "flows"
        self.summary.setText(f"wrote {done.path}: {done.packets:,} packets of {done.flows:,} "
                             f"{flows}")

    def visible_columns(self) -> list[str]:
        return [c for i, c in enumerate(self.model.columns()) if not self.table.isColumnHidden(i)]

    def copy_selection(self) -> None:
        """Copy the selected rows (visible columns) to the clipboard as tab-separated text."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if rows:
            QGuiApplication.clipboard().setText(
                self.model.rows_as_text(rows, self.visible_columns())
            )
