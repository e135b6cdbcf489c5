"""Plots that follow the application palette, so charts read well in light and dark themes."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QFontMetrics, QPalette

_PALETTE_EVENTS = (
    QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange, QEvent.Type.StyleChange
)


def plot_colours(palette: QPalette) -> tuple[QColor, QColor]:
    """(background, foreground) for a plot: the palette's Base and Text roles."""
    return palette.color(QPalette.ColorRole.Base), palette.color(QPalette.ColorRole.Text)


def set_category_ticks(plot: pg.PlotWidget, axis_name: str, ticks: list[tuple[float, str]]) -> None:
    """Label ``axis_name`` with ``ticks`` and make it wide enough for the longest label.

    pyqtgraph sizes an axis from the labels it drew last and silently skips labels that do
    not fit, so a fresh chart showed only its shortest category names.
    """
    axis = plot.getAxis(axis_name)
    axis.setTicks([ticks])
    if axis_name in ("left", "right"):
        metrics = QFontMetrics(axis.font() if hasattr(axis, "font") else plot.font())
        longest = max((metrics.horizontalAdvance(text) for _, text in ticks), default=0)
        axis.setWidth(longest + 14)


class ThemedPlot(pg.PlotWidget):
    """A ``PlotWidget`` drawn in the palette's colours, repainted when the palette changes.

    pyqtgraph otherwise draws on its global default (black, or whatever the last
    ``setConfigOptions`` said), which ignores the system light or dark theme.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.apply_palette()

    def apply_palette(self) -> None:
        item = getattr(self, "plotItem", None)
        if item is None:  # a palette event during the base class's __init__
            return
        background, foreground = plot_colours(self.palette())
        self.setBackground(background)
        pen = pg.mkPen(foreground)
        for name in ("left", "bottom", "top", "right"):
            axis = item.getAxis(name)
            axis.setPen(pen)
            axis.setTextPen(pen)
        item.titleLabel.setAttr("color", foreground.name())
        item.titleLabel.setText(item.titleLabel.text)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() in _PALETTE_EVENTS:
            self.apply_palette()
