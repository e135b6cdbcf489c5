"""The PDF report's drawings (reportlab graphics): the class bar chart, flagged flows over
time, the incident timeline and the LIME explanation bars, with their UTC time axis.

Their colours and fonts are the report's: :mod:`~ids_desktop.core.report.pdf_writer` lays the
drawings out among its tables and text.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np

from ids_desktop.core.report.build import IncidentItem
from ids_desktop.core.schema import BENIGN

#: Severity colours: the incident timeline and table (high red, medium orange, low amber).
SEVERITY_COLOURS = {"high": "#c0392b", "medium": "#e67e22", "low": "#d4ac0d"}
ATTACK_COLOUR = "#c0392b"
BENIGN_COLOUR = "#7f8c8d"  # benign is never drawn in attack red
INK = "#2c3e50"
#: The body text's font, used for chart text too.
FONT = "Helvetica"
BOLD = "Helvetica-Bold"

#: Tick steps a time axis may take, in seconds (sub-second to weeks).
_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
          10800, 21600, 43200, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400)


_LAST_DATE = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC, the last time datetime has


def time_ticks(lo: float, hi: float, most: int = 6) -> tuple[list[tuple[float, str]], str]:
    """Ticks for a UTC time axis from ``lo`` to ``hi`` (epoch seconds), and the axis title.

    The step is the smallest round one giving at most ``most`` ticks, and the labels are
    as fine as the step: seconds for a 30-s capture ("22:47:05", "22:47:10"), minutes for an
    hour, dates for weeks, so no two ticks read the same.
    """
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo <= hi < _LAST_DATE):
        return [], "time (UTC)"  # no times, or damaged ones beyond any calendar date
    if hi - lo < 0.2:
        lo, hi = lo - 0.1, hi + 0.1
    step = next((s for s in _STEPS if (hi - lo) / s <= most), _STEPS[-1])
    first = math.ceil(lo / step) * step
    day0 = dt.datetime.fromtimestamp(lo, dt.timezone.utc).strftime("%Y-%m-%d")
    day1 = dt.datetime.fromtimestamp(hi, dt.timezone.utc).strftime("%Y-%m-%d")
    ticks = []
    t = first
    while t <= hi + 1e-9:
        stamp = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        if step < 1:
            label = stamp.strftime("%H:%M:%S.%f")[:-5]
        elif step < 60:
            label = stamp.strftime("%H:%M:%S")
        elif step < 86400:
            label = stamp.strftime("%H:%M" if day0 == day1 else "%m-%d %H:%M")
        else:
            label = stamp.strftime("%Y-%m-%d")
        ticks.append((t, label))
        t = first + len(ticks) * step
    title = "UTC" if step >= 86400 or day0 != day1 else f"UTC, {day0}"
    return ticks, title


def _count(value: float) -> str:
    """An axis count with thousands separators (no ".0")."""
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def bar_chart(pairs: list[tuple[str, int]], width: float, height: float, title: str) -> Any:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=BOLD, fontSize=9))
    if not pairs:
        drawing.add(String(0, height / 2, "nothing to show", fontName=FONT, fontSize=8))
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 10
    chart.width, chart.height = width - 130, height - 30
    shown = list(reversed(pairs))
    chart.data = [[v for _, v in shown]]
    chart.categoryAxis.categoryNames = [k[:22] for k, _ in shown]
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = _count
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor(ATTACK_COLOUR)
    chart.bars.strokeColor = None
    for i, (name, _) in enumerate(shown):
        if name == BENIGN:
            chart.bars[(0, i)].fillColor = colors.HexColor(BENIGN_COLOUR)
    drawing.add(chart)
    return drawing


def time_axis(drawing: Any, x0: float, x1: float, y: float, lo: float, hi: float) -> None:
    """A UTC time axis under a chart from ``x0`` to ``x1`` (``lo``..``hi`` epoch seconds)."""
    from reportlab.graphics.shapes import Line, String
    from reportlab.lib import colors

    ticks, title = time_ticks(lo, hi)
    span = max(hi - lo, 1e-9)
    drawing.add(Line(x0, y, x1, y, strokeColor=colors.grey, strokeWidth=0.5))
    for t, label in ticks:
        x = x0 + (t - lo) / span * (x1 - x0)
        drawing.add(Line(x, y, x, y - 3, strokeColor=colors.grey, strokeWidth=0.5))
        drawing.add(String(x, y - 11, label, fontName=FONT, fontSize=7, textAnchor="middle"))
    drawing.add(String(x1, y - 21, title, fontName=FONT, fontSize=7, textAnchor="end"))


def time_chart(points: list[tuple[float, int]], width: float, height: float,
                end: float | None = None) -> Any:
    """Flagged flows over time: one bar per bin, a UTC time axis whose ticks fit the span."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, "Flagged flows over time", fontName=BOLD, fontSize=9))
    if not points:
        drawing.add(String(0, height / 2, "no timestamps in this input", fontName=FONT,
                           fontSize=8))
        return drawing
    lo = points[0][0]
    width_bin = points[1][0] - points[0][0] if len(points) > 1 else 1.0
    hi = end if end is not None and end > lo else points[-1][0] + width_bin
    x0, x1, y0, y1 = 40.0, width - 10.0, 30.0, height - 18.0
    peak = max(c for _, c in points) or 1
    span = max(hi - lo, 1e-9)
    for t, c in points:
        if not c:
            continue
        xa = x0 + (t - lo) / span * (x1 - x0)
        xb = x0 + (t + width_bin - lo) / span * (x1 - x0)
        drawing.add(Rect(xa, y0, max(xb - xa - 0.5, 0.8), (y1 - y0) * c / peak,
                         fillColor=colors.HexColor(ATTACK_COLOUR), strokeColor=None))
    for v in (0, peak / 2, peak):
        y = y0 + (y1 - y0) * v / peak
        drawing.add(Line(x0 - 3, y, x0, y, strokeColor=colors.grey, strokeWidth=0.5))
        drawing.add(String(x0 - 5, y - 2.5, _count(v), fontName=FONT, fontSize=7,
                           textAnchor="end"))
    drawing.add(Line(x0, y0, x0, y1, strokeColor=colors.grey, strokeWidth=0.5))
    time_axis(drawing, x0, x1, y0, lo, hi)
    return drawing


def incident_timeline(incidents: list[IncidentItem], width: float,
                      time_range: tuple[float, float] | None, rows: int = 14) -> Any:
    """One bar per incident over the capture's span, coloured by severity, in table order."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    shown = [i for i in incidents if np.isfinite(i.first_seen)][:rows]
    row_h = 11.0
    height = 40 + row_h * max(len(shown), 1)
    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, "Incidents over time", fontName=BOLD, fontSize=9))
    if not shown:
        drawing.add(String(0, height / 2 - 10, "no timestamps in this input", fontName=FONT,
                           fontSize=8))
        return drawing
    lo = min(i.first_seen for i in shown)
    hi = max(i.last_seen if np.isfinite(i.last_seen) else i.first_seen for i in shown)
    if time_range is not None:
        lo, hi = min(lo, time_range[0]), max(hi, time_range[1])
    x0, x1 = width * 0.32, width - 10.0
    span = max(hi - lo, 1e-9)
    top = height - 18
    for k, inc in enumerate(shown):
        y = top - (k + 1) * row_h
        label = f"{k + 1}. {inc.family} · {', '.join(inc.sources[:2])}"
        drawing.add(String(0, y + 2, label[:48], fontName=FONT, fontSize=7))
        last = inc.last_seen if np.isfinite(inc.last_seen) else inc.first_seen
        xa = x0 + (inc.first_seen - lo) / span * (x1 - x0)
        xb = x0 + (last - lo) / span * (x1 - x0)
        colour = colors.HexColor(SEVERITY_COLOURS.get(inc.severity, INK))
        drawing.add(Rect(xa, y + 1, max(xb - xa, 2.0), row_h - 3, fillColor=colour,
                         strokeColor=None))
    drawing.add(Line(x0, top, x0, 30, strokeColor=colors.grey, strokeWidth=0.5))
    time_axis(drawing, x0, x1, 30, lo, hi)
    return drawing


def explanation_drawing(contributions: list[tuple[str, float]], width: float, height: float) -> Any:
    """A signed horizontal bar chart of LIME contributions (positive = towards the verdict)."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    from ids_desktop.core.explain.chart import spec_from_pairs

    bars = spec_from_pairs(contributions).bars
    if not bars:
        return drawing
    items = [(label, weight) for label, weight, _ in bars]
    colour = {label: c for label, _, c in bars}
    label_w = width * 0.45
    mid = label_w + (width - label_w) / 2
    span = (width - label_w) / 2 - 4
    peak = max(abs(w) for _, w in items) or 1.0
    row = (height - 4) / len(items)
    for i, (label, weight) in enumerate(items):
        y = height - (i + 1) * row
        drawing.add(String(0, y + row * 0.3, label[:60], fontName="Helvetica", fontSize=7))
        length = (span - 30) * abs(weight) / peak
        x = mid if weight >= 0 else mid - length
        fill = colors.HexColor(colour[label])
        drawing.add(Rect(x, y + row * 0.15, length, row * 0.7, fillColor=fill, strokeColor=None))
        text_x = x + length + 2 if weight >= 0 else x - 2
        anchor = "start" if weight >= 0 else "end"
        drawing.add(
            String(text_x, y + row * 0.3, f"{weight:+.3f}", fontName="Helvetica", fontSize=6,
                   textAnchor=anchor)
        )
    drawing.add(Line(mid, 0, mid, height, strokeColor=colors.grey, strokeWidth=0.5))
    return drawing
