"""The PDF report (reportlab): cover, summary, charts, flagged flows, explanations, evaluation.

Every dynamic string is escaped before it reaches reportlab's Paragraph mini-markup, because
hostnames, SNI and user agents are attacker-controlled.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd

from ids_desktop import APP_NAME
from ids_desktop.core.atomic import atomic_path
from ids_desktop.core.report.build import ReportData
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import ReportError

PAGE_SIZES = ("A4", "letter")

METHOD_TEXT = (
    "Flows are scored by a hybrid deep model: a sequence-to-sequence encoder-decoder whose "
    "cells are ConvLSTM units. Convolution runs across each flow's feature vector (the spatial "
    "part) and the recurrence runs across the time-ordered flows from the same source host (the "
    "temporal part). The decoder labels every flow of the sequence; a reconstruction head gives "
    "an anomaly score, high for traffic unlike anything seen in training. A flow is flagged when "
    "its attack probability passes the bundle's threshold, chosen on validation data."
)
READING_TEXT = (
    "Each explanation is a LIME local surrogate: the model is queried on perturbed copies of the "
    "flow and its context, and a weighted linear model is fitted around the verdict. Bars to the "
    "right pushed the verdict towards the predicted class, bars to the left against it. A label "
    "such as 'Dst port @ t-3' refers to the flow three places before the flagged one from the "
    "same source host, and 't+1' to the next one in the same model window. The surrogate's "
    "R\u00b2 says how faithful the explanation is locally."
)


#: Longest dynamic text drawn in a table cell: a longer one (a hostile 100 kB "hostname")
#: would make the row taller than a page, which reportlab cannot lay out.
CELL_CHARS = 500
#: Longest free-standing paragraph (explanations, warnings, card lines).
PARAGRAPH_CHARS = 5000


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def _p(text: Any, style: Any, limit: int = CELL_CHARS) -> Any:
    """A Paragraph of ``text`` as literal text: markup escaped, length bounded."""
    from reportlab.platypus import Paragraph

    return Paragraph(escape(_clip(str(text), limit)), style)


def _fmt_time(seconds: float | None) -> str:
    if seconds is None or pd.isna(seconds):
        return ""
    try:
        stamp = dt.datetime.fromtimestamp(float(seconds), dt.timezone.utc)
        return stamp.strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):  # a damaged time, beyond any calendar date
        return ""


def _bar_chart(pairs: list[tuple[str, int]], width: float, height: float, title: str) -> Any:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName="Helvetica-Bold", fontSize=9))
    if not pairs:
        drawing.add(String(0, height / 2, "nothing to show", fontSize=8))
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y = 110, 10
    chart.width, chart.height = width - 130, height - 30
    chart.data = [[v for _, v in reversed(pairs)]]
    chart.categoryAxis.categoryNames = [k[:22] for k, _ in reversed(pairs)]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#c0392b")
    drawing.add(chart)
    return drawing


def _time_chart(points: list[tuple[float, int]], width: float, height: float) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 10, "Flagged flows over time (UTC)",
                       fontName="Helvetica-Bold", fontSize=9))
    if not points:
        drawing.add(String(0, height / 2, "no timestamps in this input", fontSize=8))
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 25
    chart.width, chart.height = width - 40, height - 45
    chart.data = [[c for _, c in points]]
    step = max(1, len(points) // 6)
    chart.categoryAxis.categoryNames = [
        _fmt_time(t)[11:16] if i % step == 0 else "" for i, (t, _) in enumerate(points)
    ]
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#2c3e50")
    chart.barSpacing = 0
    drawing.add(chart)
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


def write_pdf(
    report: ReportData,
    out: str | Path,
    *,
    page_size: str = "A4",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Render ``report`` to a PDF at ``out``, atomically.

    Parameters
    ----------
    page_size
        ``"A4"`` or ``"letter"``.
    """
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        LongTable,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    if page_size not in PAGE_SIZES:
        raise ReportError(f"page size must be one of {', '.join(PAGE_SIZES)}, not '{page_size}'")
    size = A4 if page_size == "A4" else letter
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=8.5, wordWrap="CJK")
    h1, h2 = styles["Title"], styles["Heading2"]
    width = size[0] - 30 * mm

    def step(done: int, stage: str) -> None:
        check_cancel(cancel)
        if progress is not None:
            progress(done, 6, stage)

    grid = TableStyle(
        [
            ("FONTSIZE", (0, 0), (-1, -1), 7),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#ecf0f1")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ]
    )

    def kv_table(rows: list[tuple[str, Any]]) -> Any:
        data = [[_p(k, small), _p(v, small)] for k, v in rows]
        table = Table(data, colWidths=[45 * mm, width - 45 * mm])
        table.setStyle(grid)
        return table

    story: list[Any] = []
    step(0, "cover")
    story += [Paragraph(escape(f"{APP_NAME} — intrusion detection report"), h1), Spacer(1, 6 * mm)]
    tr = report.time_range
    time_range = f"{_fmt_time(tr[0])} – {_fmt_time(tr[1])}" if tr else "no timestamps"
    headline = ", ".join(f"{k} {v:.4f}" for k, v in report.model_headline.items()) or "n/a"
    story.append(
        kv_table(
            [
                ("File", report.file_name),
                ("Size", f"{report.file_size:,} bytes"),
                ("SHA-256", report.file_sha256),
                ("Input format", report.input_format),
                ("Capture time range (UTC)", time_range),
                ("Analysed", report.analysed_at),
                ("App version", report.app_version),
                ("Model bundle", f"{report.model_name} (version {report.model_version})"),
                ("Model headline metrics", headline),
            ]
        )
    )
    if report.findings:
        story += [Spacer(1, 4 * mm), Paragraph("Host-level detectors", h2)]
        story += [_p(f, small, PARAGRAPH_CHARS) for f in report.findings[:30]]
    if report.warnings:
        story += [Spacer(1, 4 * mm), Paragraph("Input warnings", h2)]
        story += [_p(w, small, PARAGRAPH_CHARS) for w in report.warnings[:30]]

    step(1, "summary")
    story += [PageBreak(), Paragraph("Summary", h2)]
    share = f" ({report.flagged / report.flows:.2%})" if report.flows else ""
    story.append(kv_table([("Flows", f"{report.flows:,}"),
                           ("Flagged flows", f"{report.flagged:,}{share}")]))
    story.append(Spacer(1, 3 * mm))

    def counts_table(title: str, pairs: list[tuple[str, int]]) -> Any:
        data = [[_p(title, small), _p("flows", small)]]
        data += [[_p(k, small), f"{v:,}"] for k, v in pairs]
        table = Table(data, colWidths=[width / 2 - 30 * mm, 22 * mm])
        table.setStyle(grid)
        return table

    pairs = [
        ("Flagged by class", list(report.flagged_by_class.items())),
        ("Top source hosts", report.top_sources),
        ("Top destination hosts", report.top_destinations),
        ("Top destination ports", report.top_ports),
        ("Top applications", report.top_applications),
    ]
    cells = [counts_table(t, p) for t, p in pairs] + [Spacer(1, 1)]
    layout = Table([cells[i : i + 2] for i in range(0, len(cells), 2)], colWidths=[width / 2] * 2)
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(layout)

    step(2, "charts")
    story += [Spacer(1, 4 * mm)]
    story.append(_bar_chart(list(report.class_distribution.items())[:12], width, 150,
                            "Predicted class distribution (all flows)"))
    story.append(Spacer(1, 3 * mm))
    story.append(_time_chart(report.flagged_over_time, width, 150))

    step(3, "flagged flows")
    story += [PageBreak(),
              Paragraph(f"Flagged flows (top {len(report.top_flagged):,} by score)", h2)]
    header = ["first seen (UTC)", "source", "destination", "proto", "class", "p(attack)", "anomaly"]
    rows: list[list[Any]] = [header]
    for rec in report.top_flagged.itertuples(index=False):
        r = rec._asdict()
        src = f"{_s(r.get('src_ip'))}:{_s(r.get('src_port'))}"
        dst = f"{_s(r.get('dst_ip'))}:{_s(r.get('dst_port'))}"
        rows.append(
            [
                _fmt_time(r.get("first_seen")),
                _wrap(src, 22, small),
                _wrap(dst, 22, small),
                _s(r.get("protocol")),
                _wrap(_s(r.get("pred_class")), 14, small),
                f"{float(r.get('pred_score', 0) or 0):.3f}",
                f"{float(r.get('anomaly_score', 0) or 0):.3f}",
            ]
        )
    col = [25 * mm, 42 * mm, 42 * mm, 10 * mm, 25 * mm, 15 * mm, 15 * mm]
    scale = width / sum(col)
    flows_table = LongTable(rows, colWidths=[c * scale for c in col], repeatRows=1)
    flows_table.setStyle(grid)
    story.append(flows_table)

    step(4, "explanations")
    if report.explanations:
        story += [PageBreak(), Paragraph("Explanations", h2)]
        for item in report.explanations:
            check_cancel(cancel)
            story.append(
                KeepTogether(
                    [
                        _p(f"Flow {item.flow_id}", styles["Heading4"]),
                        _p(item.sentence, body, PARAGRAPH_CHARS),
                        explanation_drawing(item.contributions, width,
                                            13 * min(10, len(item.contributions)) + 4),
                        Spacer(1, 3 * mm),
                    ]
                )
            )

    if report.evaluation:
        ev = report.evaluation
        story += [PageBreak(), Paragraph("Evaluation against the file's labels", h2)]
        b = ev.get("binary", {})
        story.append(kv_table([(k, f"{v:.4f}" if isinstance(v, float) else str(v))
                               for k, v in b.items()]))
        story.append(Spacer(1, 3 * mm))
        per = [["class", "precision", "recall", "F1", "support"]]
        for name, m in ev.get("per_class", {}).items():
            per.append([_p(name, small), f"{m['precision']:.3f}", f"{m['recall']:.3f}",
                        f"{m['f1']:.3f}", f"{m['support']:,}"])
        t = Table(per)
        t.setStyle(grid)
        story += [t, Spacer(1, 3 * mm)]
        conf = ev.get("confusion")
        if conf:
            labels = [str(x) for x in conf["labels"]]
            data = [["true \\ predicted"] + [_p(x, small) for x in labels]]
            for name, row in zip(labels, conf["matrix"], strict=True):
                data.append([_p(name, small)] + [f"{int(v):,}" for v in row])
            t = Table(data)
            t.setStyle(grid)
            story.append(t)

    step(5, "appendix")
    story += [PageBreak(), Paragraph("Appendix: method", h2),
              _p(METHOD_TEXT, body, PARAGRAPH_CHARS), Spacer(1, 2 * mm)]
    story += [Paragraph("How to read an explanation", h2), _p(READING_TEXT, body, PARAGRAPH_CHARS)]
    if report.model_card_summary:
        story += [Paragraph("Model card summary", h2)]
        story += [_p(line, small, PARAGRAPH_CHARS)
                  for line in report.model_card_summary.splitlines() if line.strip()]

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawRightString(size[0] - 15 * mm, 10 * mm, f"page {doc.page}")
        canvas.drawString(15 * mm, 10 * mm,
                          f"{APP_NAME} {report.app_version} — {report.file_name[:80]}")
        canvas.restoreState()

    with atomic_path(out) as tmp:
        doc = SimpleDocTemplate(
            str(tmp), pagesize=size, leftMargin=15 * mm, rightMargin=15 * mm,
            topMargin=15 * mm, bottomMargin=18 * mm, title=f"{APP_NAME} report: {report.file_name}",
        )
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
        step(6, "done")
    return Path(out)


def _wrap(text: str, limit: int, style: Any) -> Any:
    """Plain text when short (cheap to lay out), an escaped wrapping Paragraph when long."""
    return text if len(text) <= limit else _p(text, style)


def _s(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)
