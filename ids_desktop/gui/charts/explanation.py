"""ExplanationChart: LIME contributions as signed horizontal bars (pyqtgraph)."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ids_desktop.core.explain.chart import WEIGHT_AXIS, ChartSpec, spec_from_pairs
from ids_desktop.core.explain.explainer import step_label
from ids_desktop.gui.charts.theme import ThemedPlot, set_category_ticks


class ExplanationChart(QWidget):
    """Draws a :class:`ChartSpec`: bars largest |weight| on top, coloured by the spec."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.plot = ThemedPlot()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=True, y=False, alpha=0.3)
        self.plot.setLabel("bottom", WEIGHT_AXIS)
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.showAxis("top", False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.labels: list[str] = []
        self.set_contributions([])

    def set_contributions(self, pairs: Sequence[tuple[str, float]]) -> None:
        """Draw ``(label, weight)`` bars; an empty sequence clears the chart."""
        self.set_spec(spec_from_pairs(list(pairs)))

    def set_spec(self, spec: ChartSpec) -> None:
        """Draw a chart decided by :func:`ids_desktop.core.explain.chart.chart_spec`."""
        self.plot.clear()
        items = list(spec.bars)
        self.labels = [label for label, _, _ in items]
        self.plot.setTitle(spec.title or None)
        strip = ""
        if len(spec.strip) > 1:
            strip = "  ".join(f"{step_label(t)} {share:.0%}" for t, share in spec.strip)
        if strip:
            self.plot.setLabel("top", f"evidence per flow: {strip}")
            self.plot.getAxis("top").setStyle(showValues=False)
        self.plot.showAxis("top", bool(strip))
        for name in ("left", "bottom"):  # no empty axes and grid while there is nothing to show
            self.plot.showAxis(name, bool(items))
        if not items:
            self.plot.getAxis("left").setTicks(None)
            return
        n = len(items)
        ys = list(range(n - 1, -1, -1))
        weights = [w for _, w, _ in items]
        brushes = [pg.mkBrush(colour) for _, _, colour in items]
        bars = pg.BarGraphItem(x0=[0] * n, y=ys, width=weights, height=0.7, brushes=brushes,
                               pens=[None] * n)
        self.plot.addItem(bars)
        ticks: list[tuple[float, str]] = [
            (y, label[:48]) for y, label in zip(ys, self.labels, strict=True)
        ]
        set_category_ticks(self.plot, "left", ticks)
        self.plot.addLine(x=0, pen=pg.mkPen((128, 128, 128), width=1))
        peak = max(abs(w) for w in weights) or 1.0
        self.plot.setXRange(-peak * 1.1, peak * 1.1, padding=0)
        self.plot.setYRange(-0.6, n - 0.4, padding=0)
