"""ExplanationChart: LIME contributions as signed horizontal bars (pyqtgraph)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ids_desktop.core.explain.chart import WEIGHT_AXIS, ChartSpec, spec_from_pairs
from ids_desktop.core.explain.explainer import step_label
from ids_desktop.gui.charts.theme import ThemedPlot, set_category_ticks

#: Lines of text a bar takes (its label and the gap to the next).
BAR_LINES = 1.2
#: Lines the rest of the chart takes: the title, the evidence strip and the weight axis.
CHROME_LINES = 6
#: Bars a chart always has room for (its least height): more would keep a small window from
#: shrinking; fewer, and an explanation shows too little.
MIN_BARS = 3


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
        self.labels: list[str] = []  # every bar's label, drawn or not
        self.shown = 0  # bars drawn: the largest that fit the height (:meth:`bars_that_fit`)
        self.spec = spec_from_pairs([])
        self.set_contributions([])

    def height_for(self, bars: int) -> int:
        """The least height at which ``bars`` labels stand on their own lines, with the title,
        the evidence strip and the weight axis."""
        line = self.fontMetrics().lineSpacing()
        return math.ceil(bars * line * BAR_LINES + CHROME_LINES * line)

    def bars_that_fit(self) -> int:
        """How many bars the chart's height holds with each label on its own line (at least
        one): squeezed further, pyqtgraph draws the labels over each other."""
        line = self.fontMetrics().lineSpacing()
        room = (self.height() - CHROME_LINES * line) / (line * BAR_LINES)
        return max(1, math.floor(room + 1e-6))  # height_for(k) holds k, whatever the rounding

    def set_contributions(self, pairs: Sequence[tuple[str, float]]) -> None:
        """Draw ``(label, weight)`` bars; an empty sequence clears the chart."""
        self.set_spec(spec_from_pairs(list(pairs)))

    def set_spec(self, spec: ChartSpec) -> None:
        """Draw a chart decided by :func:`ids_desktop.core.explain.chart.chart_spec`: the
        largest bars that fit the chart's height, and all of them again when it grows."""
        self.spec = spec
        self._draw()

    def strip_text(self, strip: Sequence[tuple[int, float]], labels: Sequence[str] = ()
                   ) -> str:  # fmt: skip
        """``"evidence per flow: t+1 5%  t-0 60%  t-1 35%"``, in timestep order when it fits
        the chart's width; else the flows carrying most, largest first, as many as fit, and
        the rest summed ("… others 18%"), so a long window is not cut at the right edge.

        The text is centred over the bars, right of their ``labels``: that is its room."""
        head = "evidence per flow: "
        full = head + "  ".join(f"{step_label(t)} {share:.0%}" for t, share in strip)
        metrics = self.fontMetrics()
        left = max((metrics.horizontalAdvance(label) for label in labels), default=0)
        room = self.width() - left - 4 * metrics.averageCharWidth()
        if metrics.horizontalAdvance(full) <= room:
            return full
        ranked = sorted(strip, key=lambda ts: -ts[1])
        for k in range(len(ranked) - 1, 0, -1):
            rest = sum(share for _, share in ranked[k:])
            text = (head + "  ".join(f"{step_label(t)} {share:.0%}" for t, share in ranked[:k])
                    + f"  others {rest:.0%}")
            if metrics.horizontalAdvance(text) <= room:
                return text
        return head + f"{step_label(ranked[0][0])} {ranked[0][1]:.0%}"

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if (len(self.spec.bars) > 1 and event.size().height() != event.oldSize().height()) or (
                len(self.spec.strip) > 1 and event.size().width() != event.oldSize().width()):
            self._draw()

    def _draw(self) -> None:
        spec = self.spec
        self.plot.clear()
        items = list(spec.bars)[: self.bars_that_fit()]
        self.shown = len(items)
        self.labels = [label for label, _, _ in spec.bars]
        left_out = len(spec.bars) - len(items)
        title = spec.title
        if left_out:
            note = f"top {len(items)} of {len(spec.bars)}: enlarge to see all"
            title = f"{title} ({note})" if title else note
        self.plot.setTitle(title or None)
        strip = (self.strip_text(spec.strip, [label[:48] for label, _, _ in items])
                 if len(spec.strip) > 1 else "")
        if strip:
            self.plot.setLabel("top", strip)
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
            (y, label[:48]) for y, (label, _, _) in zip(ys, items, strict=True)
        ]
        set_category_ticks(self.plot, "left", ticks)
        self.plot.addLine(x=0, pen=pg.mkPen((128, 128, 128), width=1))
        peak = max(abs(w) for w in weights) or 1.0
        self.plot.setXRange(-peak * 1.1, peak * 1.1, padding=0)
        self.plot.setYRange(-0.6, n - 0.4, padding=0)
