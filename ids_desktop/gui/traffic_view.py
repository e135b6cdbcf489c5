"""The Traffic page: conversations and endpoints of all traffic, as sortable tables."""

from __future__ import annotations

import pandas as pd
from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTableView, QVBoxLayout, QWidget

from ids_desktop.gui.flow_table import FlowTableModel, fit_columns

#: Columns holding a host address: double-clicking one pivots the flows to that host.
ADDRESS_COLUMNS = ("address", "address_a", "address_b")


class TrafficPage(QWidget):
    """Conversations (host pairs) over endpoints (hosts), each sortable by any column, biggest
    first (:mod:`ids_desktop.core.report.traffic`).

    Signals:
        pivot_requested(str, object): an address was double-clicked: ``("host", address)``.
    """

    pivot_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = QLabel("Conversations and endpoints appear once the file is read.")
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.conversations = FlowTableModel(parent=self)
        self.endpoints = FlowTableModel(parent=self)
        self.conversation_table = self._table(self.conversations)
        self.endpoint_table = self._table(self.endpoints)
        splitter = QSplitter(Qt.Orientation.Vertical)
        for title, table in (("Conversations (host pairs, all traffic)", self.conversation_table),
                             ("Endpoints (hosts, all traffic)", self.endpoint_table)):
            box = QWidget()
            layout = QVBoxLayout(box)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(QLabel(title))
            layout.addWidget(table, 1)
            splitter.addWidget(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.note)
        layout.addWidget(splitter, 1)

    def _table(self, model: FlowTableModel) -> QTableView:
        table = QTableView()
        table.setModel(model)
        table.setSortingEnabled(True)
        table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setDefaultSectionSize(22)
        table.horizontalHeader().setStretchLastSection(True)
        table.doubleClicked.connect(lambda index, m=model: self._on_double_click(m, index))
        return table

    def set_data(self, conversations: pd.DataFrame, endpoints: pd.DataFrame) -> None:
        """Show the two tables (empty when the input names no addresses)."""
        self.conversations.set_frame(conversations)
        self.endpoints.set_frame(endpoints)
        for table in (self.conversation_table, self.endpoint_table):
            table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
            fit_columns(table)
        if len(endpoints):
            self.note.setText(
                f"{len(endpoints):,} hosts in {len(conversations):,} conversations, flagged or "
                "not; biggest first. Double-click an address to show its flows."
            )
        else:
            self.note.setText("This input names no addresses: no conversations or endpoints.")

    def _on_double_click(self, model: FlowTableModel, index: QModelIndex) -> None:
        column = model.columns()[index.column()]
        if column in ADDRESS_COLUMNS:
            value = model.frame[column].iat[model.row_of(index.row())]
            if isinstance(value, str) and value:
                self.pivot_requested.emit("host", value)
