"""The Incidents page: what happened, one line per incident, its timeline and its explanation.

The list and the timeline share one selection. The tab (:mod:`~ids_desktop.gui.analysis_tab`)
answers a selection by filtering the flows to the incident and asking for the explanation of
its representative flow (:func:`representative_row`); the page only shows what it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ids_desktop.core import severity as S
from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.incidents import Incident
from ids_desktop.core.report.build import anomaly_only
from ids_desktop.gui.charts.explanation import MIN_BARS, ExplanationChart
from ids_desktop.gui.charts.timeline import IncidentTimeline, severity_colour
from ids_desktop.gui.flow_table import SORT_ROLE

if TYPE_CHECKING:
    from ids_desktop.core.explain.explainer import Explanation

Index = QModelIndex | QPersistentModelIndex
#: Bars of the incident pane's explanation chart.
INCIDENT_BARS = 5

#: The list's columns: (header, what double-clicking the cell pivots to, if anything).
COLUMNS = ("Severity", "Family", "Source", "→ Targets", "Ports", "Start (UTC)", "Lasted",
           "Flows", "Flagged by", "What happened")
SOURCE, TARGETS, PORTS = 2, 3, 4
#: Widest a column is fitted to (px), so the sentence keeps room on a 1366-px screen.
MAX_WIDTH = {TARGETS: 170, PORTS: 110, 8: 130}
#: Sources of a verdict whose flows the model's LIME explains (the others are detectors).
MODEL_SOURCES = ("model", "anomaly")


def when(t: float) -> str:
    """A time for the list: UTC to the second; "" without one."""
    if not np.isfinite(t):
        return ""
    return pd.Timestamp(t, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M:%S")


def listed(values: Sequence[Any], count: int) -> str:
    """``a, b and 3 more``: the listed values and how many more there are."""
    shown = ", ".join(map(str, values[:3]))
    more = count - min(len(values), 3)
    return f"{shown} and {more:,} more" if more > 0 else shown


def representative_row(flows: pd.DataFrame, incident: Incident) -> int | None:
    """The flow that stands for ``incident`` in an explanation: of its flows the model flagged,
    the one with the highest ``pred_score``; ``None`` when the model flagged none of them
    (a detector's incident, explained by the detector's reason)."""
    rows = np.asarray(incident.rows, dtype=np.int64)
    if not len(rows) or "pred_score" not in flows.columns or "flagged_by" not in flows.columns:
        return None
    by = flows["flagged_by"].iloc[rows].astype("string").fillna("")
    mine = by.str.split(",").map(lambda xs: any(x in MODEL_SOURCES for x in xs)).to_numpy(bool)
    if not mine.any():
        return None
    scores = pd.to_numeric(flows["pred_score"].iloc[rows[mine]], errors="coerce").to_numpy(float)
    if np.isnan(scores).all():
        return int(rows[mine][0])
    return int(rows[mine][int(np.nanargmax(scores))])


def findings_of(incident: Incident, findings: Sequence[Finding]) -> list[Finding]:
    """The detectors' findings an incident was built from (same family and sources, within
    its span, by a detector it lists)."""
    return [f for f in findings
            if f.family == incident.family and tuple(f.sources) == tuple(incident.sources)
            and f.detector in incident.flagged_by
            and incident.first_seen - 1e-6 <= f.first_seen <= incident.last_seen + 1e-6]


def reason_text(incident: Incident, findings: Sequence[Finding]) -> str:
    """Why the incident is one: its sentence, then each detector's evidence in numbers."""
    lines = [incident.summary + "."]
    for f in findings:
        targets = listed(f.targets, f.target_count) or "many hosts"
        ports = f" on port{'s' if f.port_count > 1 else ''} {listed(f.ports, f.port_count)}" \
            if f.ports else ""
        lines.append(
            f"Detector {f.detector} ({f.family}): {names(f.sources)} → {targets}{ports}, "
            f"{len(f.rows):,} flows over {span(max(f.last_seen - f.first_seen, 0.0))}."
        )
    if not findings and not any(s in MODEL_SOURCES for s in incident.flagged_by):
        lines.append(f"Flagged by {', '.join(incident.flagged_by)}.")
    return "\n".join(lines)


def names(values: Sequence[str]) -> str:
    return listed(list(values), len(values))


class IncidentTableModel(QAbstractTableModel):
    """The incidents, read-only; :data:`SORT_ROLE` gives raw values (severity by urgency)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.incidents: list[Incident] = []

    def set_incidents(self, incidents: Sequence[Incident]) -> None:
        self.beginResetModel()
        self.incidents = list(incidents)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.incidents)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        inc = self.incidents[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(inc, col)
        if role == SORT_ROLE:
            return self._key(inc, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col in (SOURCE, TARGETS, PORTS):
                return f"{self._text(inc, col)}\nDouble-click to show all flows of the first one"
            return f"{inc.summary}\n{inc.id}; double-click to show its flows"
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return QColor(*severity_colour(inc.severity))
        if role == Qt.ItemDataRole.ForegroundRole and col == 0 and inc.severity == S.HIGH:
            return QBrush(QColor(*severity_colour(inc.severity)))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (6, 7):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(inc: Incident, col: int) -> str:
        return (
            inc.severity,
            inc.family,
            names(inc.sources),
            listed(inc.targets, inc.target_count),
            listed(inc.ports, inc.port_count),
            when(inc.first_seen),
            span(max(inc.last_seen - inc.first_seen, 0.0)) if np.isfinite(inc.first_seen)
            and np.isfinite(inc.last_seen) else "",
            f"{inc.flows:,}",
            ", ".join(inc.flagged_by),
            inc.summary,
        )[col]

    @staticmethod
    def _key(inc: Incident, col: int) -> Any:
        if col == 0:
            return -S.ORDER.index(inc.severity) if inc.severity in S.ORDER else -len(S.ORDER)
        if col == 4:
            return inc.port_count
        if col == 5:
            return inc.first_seen if np.isfinite(inc.first_seen) else float("inf")
        if col == 6:
            return inc.last_seen - inc.first_seen
        if col == 7:
            return inc.flows
        return IncidentTableModel._text(inc, col)

    def pivot_of(self, row: int, col: int) -> tuple[str, Any] | None:
        """``(key, value)`` a double-click on this cell pivots the flows to, if any."""
        inc = self.incidents[row]
        if col == SOURCE and inc.sources:
            return "host", inc.sources[0]
        if col == TARGETS and inc.targets:
            return "host", inc.targets[0]
        if col == PORTS and inc.ports:
            return "port", inc.ports[0]
        return None


class IncidentsPage(QWidget):
    """The incidents list over the timeline and the selected incident's explanation.

    Signals:
        selected(object): the selected :class:`Incident`, or ``None`` when none is.
        pivot_requested(str, object): a host or port was double-clicked: ``(key, value)``.
        flows_requested(object): show the flows of this :class:`Incident`.
        save_requested(object): save the packets of this :class:`Incident` as a pcap.
    """

    selected = Signal(object)
    pivot_requested = Signal(str, object)
    flows_requested = Signal(object)
    save_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = QLabel("Incidents appear here once the file is analysed.")
        self.headline.setTextFormat(Qt.TextFormat.PlainText)
        self.headline.setWordWrap(True)
        self.model = IncidentTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the core's order first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(self._on_double_click)
        self.timeline = IncidentTimeline()
        self.timeline.clicked.connect(self.select)

        self.title = QLabel("")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.reason = QLabel("Select an incident to see why it was raised and filter the "
                             "flows to it.")
        self.reason.setTextFormat(Qt.TextFormat.PlainText)  # quotes addresses from the input
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._reason = ""  # the selected incident's reason, above its explanation's sentence
        self._chart_wanted = False  # the selected incident's chart explains why it was flagged
        self.chart = ExplanationChart()
        self.chart.hide()
        self.show_flows = QPushButton("Show its flows")
        self.show_flows.clicked.connect(lambda: self._emit_current(self.flows_requested))
        self.save_packets = QPushButton("Save its packets as pcap…")
        self.save_packets.clicked.connect(lambda: self._emit_current(self.save_requested))
        self.save_packets.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_flows)
        buttons.addWidget(self.save_packets)
        buttons.addStretch(1)
        explain = QWidget()
        explain_layout = QVBoxLayout(explain)
        explain_layout.setContentsMargins(4, 0, 0, 0)
        # A long reason (an unusual flow's sentence names what the model expected) scrolls in
        # its own area, and the chart draws the bars its height holds: at 1366x768 with a
        # warning banner, the labels of a squeezed chart were drawn over each other.
        reason_area = QScrollArea()
        reason_area.setWidget(self.reason)
        reason_area.setWidgetResizable(True)
        reason_area.setFrameShape(QScrollArea.Shape.NoFrame)
        reason_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        reason_area.setMinimumHeight(3 * self.reason.fontMetrics().lineSpacing())
        self.reason.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.chart.setMinimumHeight(self.chart.height_for(MIN_BARS))
        self.explain_split = QSplitter(Qt.Orientation.Vertical)
        self.explain_split.setChildrenCollapsible(False)
        self.explain_split.addWidget(reason_area)
        self.explain_split.addWidget(self.chart)
        self.explain_split.setStretchFactor(0, 1)
        self.explain_split.setStretchFactor(1, 1)
        line = self.reason.fontMetrics().lineSpacing()
        self.explain_split.setSizes([4 * line, self.chart.height_for(INCIDENT_BARS)])
        explain_layout.addWidget(self.title)
        explain_layout.addWidget(self.explain_split, 1)  # the reason alone when no chart
        explain_layout.addLayout(buttons)
        self.bottom = QSplitter(Qt.Orientation.Horizontal)
        self.bottom.addWidget(self.timeline)
        self.bottom.addWidget(explain)
        self.bottom.setStretchFactor(0, 1)
        self.bottom.setStretchFactor(1, 1)
        self.bottom.setSizes([560, 640])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.bottom)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([270, 330])  # a dozen incidents in sight on a 768-px screen
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.splitter, 1)
        self._set_enabled_buttons(False)

    # --- data ------------------------------------------------------------------------------
    def set_incidents(self, incidents: Sequence[Incident], *, note: str = "") -> None:
        """List ``incidents`` (most severe first, as the core orders them); an empty list says
        plainly that there are none (``note`` says why, e.g. no model ran)."""
        self.model.set_incidents(incidents)
        self.timeline.set_incidents(incidents)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.proxy.sort(-1)
        if incidents:
            counts = {s: sum(i.severity == s for i in incidents) for s in S.ORDER}
            parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
            self.headline.setText(
                f"{len(incidents)} incident{'s' if len(incidents) > 1 else ''} ({parts}). "
                "Select one to see why and to filter the flows to it; double-click a host or "
                "port to show all its flows."
            )
        else:
            self.headline.setText(note or "No incidents: nothing in this file was flagged by "
                                  "the model or the detectors.")
        self.splitter.setVisible(bool(incidents))
        self.table.resizeColumnsToContents()
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS) - 1):  # the sentence gets the room; cells have tooltips
            header.resizeSection(col, min(header.sectionSize(col), MAX_WIDTH.get(col, 200)))

    def set_capture(self, is_capture: bool) -> None:
        """Offer saving packets only when the input is a capture."""
        self.save_packets.setVisible(is_capture)

    # --- selection -------------------------------------------------------------------------
    def current(self) -> Incident | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.incidents[self.proxy.mapToSource(rows[0]).row()]

    def select(self, position: int | None) -> None:
        """Select the incident at ``position`` in the core's order (``None``: clear)."""
        sm = self.table.selectionModel()
        if position is None or not 0 <= position < len(self.model.incidents):
            sm.clearSelection()
            return
        index = self.proxy.mapFromSource(self.model.index(position, 0))
        sm.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                           | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def clear_selection(self) -> None:
        """Clear the selection without telling anyone (the flows' filter was changed)."""
        sm = self.table.selectionModel()
        sm.blockSignals(True)
        sm.clearSelection()
        sm.blockSignals(False)
        self.table.viewport().update()
        self.timeline.select(None)
        self._show_none()

    def _on_selection(self, *_: Any) -> None:
        inc = self.current()
        self.timeline.select(None if inc is None else self.model.incidents.index(inc))
        if inc is None:
            self._show_none()
        self._set_enabled_buttons(inc is not None)
        self.selected.emit(inc)

    def _show_none(self) -> None:
        self.title.setText("")
        self.reason.setText("Select an incident to see why it was raised and filter the flows "
                            "to it.")
        self.chart.hide()
        self._set_enabled_buttons(False)

    def _set_enabled_buttons(self, on: bool) -> None:
        self.show_flows.setEnabled(on)
        self.save_packets.setEnabled(on)

    def _emit_current(self, signal: Any) -> None:
        inc = self.current()
        if inc is not None:
            signal.emit(inc)

    def _on_double_click(self, index: QModelIndex) -> None:
        source = self.proxy.mapToSource(index)
        pivot = self.model.pivot_of(source.row(), source.column())
        if pivot is not None:
            self.pivot_requested.emit(*pivot)
        else:
            self.flows_requested.emit(self.model.incidents[source.row()])

    # --- explanation -----------------------------------------------------------------------
    def show_reason(self, incident: Incident, findings: Sequence[Finding], *,
                    explaining: bool) -> None:
        """Title and reason of ``incident``; the chart waits for an explanation if
        ``explaining`` (the model flagged some of its flows), else it is hidden.

        An incident flagged by the anomaly score alone gets the explanation's sentence (what
        the model expected least) but no chart, as in the PDF: LIME explains the classifier,
        which judged its flows benign. The Flows tab still charts that verdict."""
        self._chart_wanted = explaining and not anomaly_only(incident.flagged_by)
        self.title.setText(
            f"{incident.severity.upper()} {incident.family}: {names(incident.sources)} → "
            f"{listed(incident.targets, incident.target_count) or 'no address'} ({incident.id})"
        )
        text = reason_text(incident, findings)
        if explaining:
            text += "\nExplaining the model's verdict on its highest-scored flow… (LIME)"
        self.reason.setText(text)
        self._reason = reason_text(incident, findings)
        self.chart.set_contributions([])
        self.chart.setVisible(self._chart_wanted)

    def show_explanation(self, exp: Explanation) -> None:
        """The LIME explanation of the selected incident's representative flow."""
        from ids_desktop.core.explain.chart import chart_spec

        self.chart.setVisible(self._chart_wanted)
        # the pane shares the page with the list and the timeline: five bars stay legible
        # at 1366x768 where ten overlapped (the Flows tab's pane shows all of them)
        self.chart.set_spec(chart_spec(exp, max_bars=INCIDENT_BARS))
        self.reason.setText(f"{self._reason}\nThe model, on its highest-scored "
                            f"flow: {exp.sentence}")

    def show_failed(self, message: str) -> None:
        self.reason.setText(f"{self._reason}\nNo explanation: {message}")
        self.chart.hide()
