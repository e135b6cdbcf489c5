"""IncidentTimeline: one bar per incident over time, coloured by severity, with a brush to zoom."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ids_desktop.core.incidents import Incident
from ids_desktop.gui.charts.theme import ThemedPlot, set_category_ticks

#: Severity -> colour. Red is kept for high; nothing benign is ever drawn (incidents are what
#: was flagged), and low is amber, not red, so a scan does not read like a break-in.
SEVERITY_COLOURS: dict[str, tuple[int, int, int]] = {
    "high": (204, 0, 0),
    "medium": (232, 125, 0),
    "low": (196, 160, 0),
}
#: The colour of a severity the table does not know (never red).
OTHER_COLOUR = (120, 120, 120)
#: Rows drawn at most: the most severe incidents (the list holds them all), so a file with
#: thousands of incidents does not stall the window. Rows are labelled as densely as a line of
#: text fits (:meth:`IncidentTimeline.label_step`).
MAX_ROWS = 200
#: An incident shorter than this share of the whole span is drawn this wide, so it shows.
MIN_WIDTH_SHARE = 0.006


def severity_colour(severity: str) -> tuple[int, int, int]:
    return SEVERITY_COLOURS.get(severity, OTHER_COLOUR)


def incident_label(incident: Incident, width: int = 32) -> str:
    """A row label: family and source(s)."""
    who = incident.sources[0] if len(incident.sources) == 1 else f"{len(incident.sources)} sources"
    return f"{incident.family} {who}"[:width]


class IncidentTimeline(QWidget):
    """Incidents as horizontal bars from first to last flow, one row each, in the list's order;
    below, the whole span with a brush (a ``LinearRegionItem``) that sets the range shown above.

    Signals:
        clicked(int): the position (in the list given to :meth:`set_incidents`) of the
            incident whose row was clicked.
    """

    clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = ThemedPlot(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.plot.setLabel("bottom", "time (UTC)")
        self.overview = ThemedPlot(axisItems={"bottom": pg.DateAxisItem(utcOffset=0)})
        self.overview.setMouseEnabled(x=False, y=False)
        self.overview.setMaximumHeight(70)
        self.overview.hideAxis("left")
        self.region = pg.LinearRegionItem(brush=(52, 101, 164, 50))
        self.region.setZValue(10)
        self.region.sigRegionChanged.connect(self._on_region)
        self.plot.sigXRangeChanged.connect(self._on_range)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.overview)
        self.incidents: list[Incident] = []
        self.left_out = 0  # incidents past MAX_ROWS, not drawn
        self.plot.getViewBox().sigResized.connect(lambda _box: self._label_rows())
        self.selected: int | None = None
        self._bars: pg.BarGraphItem | None = None
        self._spans = np.zeros((0, 2))

    def set_incidents(self, incidents: Sequence[Incident]) -> None:
        """Draw ``incidents``, the first :data:`MAX_ROWS` of them (those without times are left
        out of the chart)."""
        self.incidents = list(incidents)[:MAX_ROWS]
        self.left_out = max(len(incidents) - MAX_ROWS, 0)
        self.selected = None
        spans = np.array([[i.first_seen, i.last_seen] for i in self.incidents],
                         dtype=np.float64).reshape(-1, 2)
        self._spans = spans
        timed = np.isfinite(spans).all(axis=1)
        self.overview.clear()
        self._bars = None
        self.plot.clear()
        if not timed.any():
            self.plot.setTitle("Timeline: no incident has times" if self.incidents else None)
            for name in ("left", "bottom"):
                self.plot.showAxis(name, False)
            self.overview.hide()
            return
        for name in ("left", "bottom"):
            self.plot.showAxis(name, True)
        self.overview.show()
        lo, hi = float(spans[timed, 0].min()), float(spans[timed, 1].max())
        whole = max(hi - lo, 1.0)
        n = len(self.incidents)
        self._label_rows()
        self._draw()
        small = pg.BarGraphItem(**self._bar_args(whole, height=0.9))
        self.overview.addItem(small)
        self.overview.setYRange(-0.5, n - 0.5, padding=0)
        pad = whole * 0.03
        self.overview.setXRange(lo - pad, hi + pad, padding=0)
        self.region.setRegion((lo - pad, hi + pad))
        self.region.setBounds((lo - pad, hi + pad))
        self.overview.addItem(self.region)
        self.plot.setYRange(-0.6, n - 0.4, padding=0)
        self.plot.setXRange(lo - pad, hi + pad, padding=0)

    def label_step(self) -> int:
        """Label every k-th row: 1 while a line of text fits each row at the plot's height,
        more when rows are closer (200 labels on a laptop's chart were a black block)."""
        n = len(self.incidents)
        height = self.plot.getViewBox().height()
        if n == 0 or height <= 0:
            return 1
        line = QFontMetrics(self.plot.getAxis("left").font()).height() + 2
        return max(1, math.ceil(n * line / height))

    def _label_rows(self) -> None:
        """Row labels that fit (:meth:`label_step`), and a title that says what is drawn."""
        n = len(self.incidents)
        if not n or not np.isfinite(self._spans).all(axis=1).any():
            return  # nothing drawn: set_incidents' title stands
        step = self.label_step()
        set_category_ticks(self.plot, "left", [
            (n - 1 - i, incident_label(inc)) for i, inc in enumerate(self.incidents)
            if i % step == 0])
        parts = []
        if self.left_out:
            parts.append(f"{n} most severe of {n + self.left_out:,} incidents")
        if step > 1:
            parts.append(f"1 row in {step} labelled")
        # small: the chart has half a laptop window's width
        self.plot.setTitle("; ".join(parts) or None, size="9pt")

    def _bar_args(self, whole: float, height: float, selected: int | None = None) -> dict[str, Any]:
        spans = np.nan_to_num(self._spans, nan=0.0)
        n = len(self.incidents)
        width = np.maximum(spans[:, 1] - spans[:, 0], whole * MIN_WIDTH_SHARE)
        brushes = [pg.mkBrush(severity_colour(i.severity)) for i in self.incidents]
        pens = [pg.mkPen(self.palette().text().color(), width=2.5) if k == selected else
                pg.mkPen(None) for k in range(n)]
        return {"x0": spans[:, 0], "y": np.arange(n - 1, -1, -1, dtype=np.float64),
                "width": width, "height": height, "brushes": brushes, "pens": pens}

    def _draw(self) -> None:
        if self._bars is not None:
            self.plot.removeItem(self._bars)
        finite = self._spans[np.isfinite(self._spans).all(axis=1)]
        whole = max(float(finite[:, 1].max() - finite[:, 0].min()), 1.0) if len(finite) else 1.0
        self._bars = pg.BarGraphItem(**self._bar_args(whole, 0.6, self.selected))
        self.plot.addItem(self._bars)

    def select(self, position: int | None) -> None:
        """Outline the incident at ``position`` (``None``, or one past :data:`MAX_ROWS`: none)."""
        if position is not None and position >= len(self.incidents):
            position = None
        if position == self.selected:
            return
        self.selected = position
        if self._bars is not None:
            self._draw()

    def _on_region(self) -> None:
        lo, hi = self.region.getRegion()
        self.plot.blockSignals(True)
        self.plot.setXRange(lo, hi, padding=0)
        self.plot.blockSignals(False)

    def _on_range(self, _view: Any, bounds: tuple[float, float]) -> None:
        self.region.blockSignals(True)
        self.region.setRegion(bounds)
        self.region.blockSignals(False)

    def _on_click(self, event: Any) -> None:
        if not self.incidents or self._bars is None:
            return
        box = self.plot.getPlotItem().vb
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return
        point = box.mapSceneToView(event.scenePos())
        position = self.position_at(point.x(), point.y())
        if position is not None:
            self.clicked.emit(position)

    def position_at(self, x: float, y: float) -> int | None:
        """The incident drawn at view coordinates ``(x, y)``: the row under ``y`` (a click
        beside a short bar still picks its row's incident)."""
        n = len(self.incidents)
        row = int(round(y))
        if not 0 <= row < n or abs(y - row) > 0.45:
            return None
        return n - 1 - row
