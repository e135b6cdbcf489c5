"""The PDF report (reportlab): cover, summary, charts, flagged flows, explanations, evaluation.

The charts are drawn by :mod:`~ids_desktop.core.report.pdf_charts`. Every dynamic string is
escaped before it reaches reportlab's Paragraph mini-markup, because hostnames, SNI and user
agents are attacker-controlled.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

from ids_desktop import APP_NAME
from ids_desktop.core import vocabulary
from ids_desktop.core.atomic import atomic_path
from ids_desktop.core.report.build import (
    ExplanationItem,
    IncidentItem,
    ReportData,
    anomaly_only,
)
from ids_desktop.core.report.card import card_flowables
from ids_desktop.core.report.pdf_charts import (
    FONT,
    INK,
    SEVERITY_COLOURS,
    bar_chart,
    explanation_drawing,
    incident_timeline,
    time_chart,
)
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
    "Each explanation is a LIME local surrogate: the model is queried on perturbed copies of "
    "the flow and its context, and a weighted linear model is fitted around the verdict. Bars "
    "to the right pushed the verdict towards the predicted class, bars to the left against it. "
    "A label such as 'protocol is TCP @ t-3' refers to the flow three places before the "
    "flagged one from the same source host, and 't+1' to the next one in the same model "
    "window. The surrogate's R\u00b2, printed after each explanation, says how faithful it is "
    "locally: near 1 the linear surrogate follows the model around the flow, near 0 the "
    "explanation is a rough guide only. Feature names are those of the flows table (e.g. "
    "'server \u2192 client RST packets' counts the server's resets)."
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


def write_pdf(
    report: ReportData,
    out: str | Path,
    *,
    page_size: str = "A4",
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Render ``report`` to a PDF at ``out``, atomically.

    Page 1 tells the story: what happened in one sentence, the incidents by severity and
    their timeline. Then the counts and charts, each incident with its top flows and the
    explanation of its top flow, the evaluation, and the appendix (method, model card).

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
    lead = ParagraphStyle("lead", parent=body, fontSize=11, leading=14.5, spaceAfter=4)
    meta = ParagraphStyle("meta", parent=body, fontSize=8, leading=10, textColor=colors.grey)
    h1, h2, h3 = styles["Title"], styles["Heading2"], styles["Heading3"]
    h4 = styles["Heading4"]
    width = size[0] - 30 * mm

    def step(done: int, stage: str) -> None:
        check_cancel(cancel)
        if progress is not None:
            progress(done, 6, stage)

    grid = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), FONT),
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

    def scaled(cols: list[float]) -> list[float]:
        k = width / sum(cols)
        return [c * k for c in cols]

    story: list[Any] = []
    step(0, "summary")
    tr = report.time_range
    story += [Paragraph(escape(f"{APP_NAME} — intrusion detection report"), h1)]
    span_text = (f"{_fmt_time(tr[0])} – {_fmt_time(tr[1])[11:]} UTC ({_span(tr[1] - tr[0])})"
                 if tr else "no timestamps")
    story.append(_p(
        f"{report.file_name} ({_size(report.file_size)}, {report.input_format}, {span_text}) · "
        f"model {report.model_name} ({report.model_version.split(' ')[0]}) · "
        f"analysed {report.analysed_at} · {APP_NAME} {report.app_version}", meta, CELL_CHARS))
    story += [Spacer(1, 3 * mm), _p(report.headline or _no_incidents(report), lead,
                                    PARAGRAPH_CHARS)]
    share = f" ({report.flagged / report.flows:.2%})" if report.flows else ""
    story.append(_p(f"{report.flows:,} flows, {report.flagged:,} flagged{share}; "
                    f"{len(report.incidents):,} incidents.", body))
    if report.incidents:
        story += [Spacer(1, 2 * mm), Paragraph("Incidents by severity", h3)]
        head = ["#", "severity", "family", "source → targets", "when (UTC)", "flows",
                "what happened"]
        rows: list[list[Any]] = [[_p(h, small) for h in head]]
        listed = report.incidents[:PAGE1_INCIDENTS]
        one_day = tr is not None and _fmt_time(tr[0])[:10] == _fmt_time(tr[1])[:10]
        for k, inc in enumerate(listed, start=1):
            rows.append([
                str(k),
                _p(inc.severity, small),
                _p(inc.family + ("" if inc.confirmed else " (model)"), small),
                _p(_who(inc), small),
                _p(_when(inc, one_day), small),
                f"{inc.flows:,}",
                _p(inc.summary, small),
            ])
        table = Table(rows, colWidths=scaled([5, 13, 24, 42, 20, 10, 76]), repeatRows=1)
        table.setStyle(grid)
        for k, inc in enumerate(listed, start=1):
            colour = colors.HexColor(SEVERITY_COLOURS.get(inc.severity, INK))
            table.setStyle(TableStyle([("BACKGROUND", (1, k), (1, k), colour),
                                       ("TEXTCOLOR", (1, k), (1, k), colors.white)]))
        story.append(table)
        if len(report.incidents) > len(listed):
            story.append(_p(f"… and {len(report.incidents) - len(listed):,} more incidents, "
                            "listed under Incidents.", small))
        story += [Spacer(1, 3 * mm), incident_timeline(report.incidents, width, tr)]

    story += [PageBreak(), Paragraph("The analysis", h2)]
    headline = ", ".join(f"{k} {v:.4f}" for k, v in report.model_headline.items()) or "n/a"
    story.append(
        kv_table(
            [
                ("File", report.file_name),
                ("Size", f"{report.file_size:,} bytes"),
                ("SHA-256", report.file_sha256),
                ("Input format", report.input_format),
                ("Capture time range (UTC)", span_text),
                ("Analysed", report.analysed_at),
                ("App version", report.app_version),
                ("Model bundle", f"{report.model_name} (version {report.model_version})"),
                ("Model headline metrics", headline),
                ("Flows", f"{report.flows:,}"),
                ("Flagged flows", f"{report.flagged:,}{share}"),
            ]
        )
    )
    if report.warnings:
        story += [Spacer(1, 3 * mm), Paragraph("Input warnings", h3)]
        story += [_p(w, small, PARAGRAPH_CHARS) for w in report.warnings[:30]]
    if report.findings and not report.incidents:
        story += [Spacer(1, 3 * mm), Paragraph("Host-level detectors", h3)]
        story += [_p(f, small, PARAGRAPH_CHARS) for f in report.findings[:30]]
    story.append(Spacer(1, 3 * mm))

    def counts_table(title: str, pairs: list[tuple[str, int]]) -> Any:
        data = [[_p(title, small), _p("flows", small)]]
        data += [[_p(k, small), f"{v:,}"] for k, v in pairs]
        table = Table(data, colWidths=[width / 2 - 30 * mm, 22 * mm])
        table.setStyle(grid)
        return table

    pairs = [
        ("Flagged by class", list(report.flagged_by_class.items())),
        ("Top source hosts (flagged)", report.top_sources),
        ("Top destination hosts (flagged)", report.top_destinations),
        ("Top destination ports (flagged)", report.top_ports),
        ("Top applications (flagged)", report.top_applications),
    ]
    cells = [counts_table(t, p) for t, p in pairs] + [Spacer(1, 1)]
    layout = Table([cells[i : i + 2] for i in range(0, len(cells), 2)], colWidths=[width / 2] * 2)
    layout.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story.append(layout)

    step(1, "charts")
    story += [Spacer(1, 4 * mm)]
    story.append(bar_chart(list(report.class_distribution.items())[:12], width, 150,
                           "Predicted class distribution (all flows)"))
    story.append(Spacer(1, 3 * mm))
    story.append(time_chart(report.flagged_over_time, width, 150,
                            end=tr[1] if tr else None))

    step(2, "incidents")
    flow_head = [vocabulary.label(c) for c in ("first_seen", "src_ip", "dst_ip", "protocol",
                                               "pred_class", "pred_score", "anomaly_score")]
    flow_cols = [25 * mm, 42 * mm, 42 * mm, 12 * mm, 25 * mm, 15 * mm, 15 * mm]

    def flows_table(frame: pd.DataFrame) -> Any:
        rows: list[list[Any]] = [[_p(h, small) for h in flow_head]]
        for rec in frame.itertuples(index=False):
            r = rec._asdict()
            src = _endpoint(_s(r.get("src_ip")), _s(r.get("src_port")))
            dst = _endpoint(_s(r.get("dst_ip")), _s(r.get("dst_port")))
            rows.append(
                [
                    _fmt_time(r.get("first_seen")),
                    _wrap(src, 22, small),
                    _wrap(dst, 22, small),
                    vocabulary.protocol_name(r.get("protocol")) if _s(r.get("protocol")) else "",
                    _wrap(_s(r.get("pred_class")), 14, small),
                    f"{float(r.get('pred_score', 0) or 0):.3f}",
                    f"{float(r.get('anomaly_score', 0) or 0):.3f}",
                ]
            )
        table = LongTable(rows, colWidths=scaled(flow_cols), repeatRows=1)
        table.setStyle(grid)
        return table

    def explanation_block(item: ExplanationItem) -> list[Any]:
        r2 = f" Local surrogate R² {item.r2:.2f}." if item.r2 is not None else ""
        title = f"Why {item.heading} was flagged" if item.heading else f"Flow {item.flow_id}"
        sentence = item.sentence.rstrip()
        sentence += "" if sentence.endswith(".") else "."
        return [
            _p(title, styles["Heading5"]),
            _p(sentence + r2, body, PARAGRAPH_CHARS),
            explanation_drawing(item.contributions, width,
                                13 * min(10, len(item.contributions)) + 4),
        ]

    if report.incidents:
        story += [PageBreak(), Paragraph("Incidents", h2),
                  _p("Each incident with its highest-scoring flows and why the model flagged "
                     "its top flow. Flows are sampled per incident, so a loud incident does "
                     "not hide a quiet one.", small, PARAGRAPH_CHARS)]
        for k, inc in enumerate(report.incidents[:MAX_INCIDENTS], start=1):
            check_cancel(cancel)
            block: list[Any] = [
                _p(f"{k}. {inc.family} ({inc.severity}): {_who(inc)}", h4),
                _p(inc.summary + ".", body, PARAGRAPH_CHARS),
                _p(f"{_when(inc)} UTC · {inc.flows:,} flow{'' if inc.flows == 1 else 's'} · "
                   f"flagged by {', '.join(inc.flagged_by) or 'model'} · {inc.id}", meta),
                Spacer(1, 1.5 * mm),
            ]
            if len(inc.top_flows):
                more = inc.flows - len(inc.top_flows)
                block.append(flows_table(inc.top_flows))
                if more > 0:
                    block.append(_p(f"… and {more:,} more flows of this incident (all are in "
                                    "the CSV, by incident id).", small))
            if anomaly_only(inc.flagged_by):
                block.append(_p(_anomaly_note(inc, report.anomaly_threshold), small,
                                PARAGRAPH_CHARS))
            story.append(KeepTogether(block))
            if inc.explanation is not None:
                story.append(KeepTogether(explanation_block(inc.explanation)))
            story.append(Spacer(1, 4 * mm))
        if len(report.incidents) > MAX_INCIDENTS:
            story.append(_p(f"… and {len(report.incidents) - MAX_INCIDENTS:,} more incidents "
                            "(the CSV and EVE files list every one).", small))
    else:
        story += [PageBreak(),
                  Paragraph(f"Flagged flows (top {len(report.top_flagged):,} by score)", h2),
                  flows_table(report.top_flagged)]

    step(3, "explanations")
    attached = {i.explanation.flow_id for i in report.incidents if i.explanation is not None}
    loose = [e for e in report.explanations if e.flow_id not in attached]
    if loose:
        story += [PageBreak(), Paragraph("Explanations", h2)]
        for item in loose:
            check_cancel(cancel)
            story.append(KeepTogether([*explanation_block(item), Spacer(1, 3 * mm)]))

    step(4, "evaluation")
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
    if report.model_note:
        story += [_p(report.model_note, body, PARAGRAPH_CHARS), Spacer(1, 2 * mm)]
    story += [Paragraph("How to read an explanation", h2), _p(READING_TEXT, body, PARAGRAPH_CHARS)]
    if report.model_card_summary:
        story += [Paragraph("Model card", h2)]
        story += card_flowables(report.model_card_summary, styles, small, grid, width)

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
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


#: Incidents in page 1's table and timeline (the Incidents section lists up to MAX_INCIDENTS).
PAGE1_INCIDENTS = 14
MAX_INCIDENTS = 60


def _anomaly_note(inc: IncidentItem, threshold: float | None) -> str:
    """Why an anomaly-only incident has no LIME chart, with its top flow's score."""
    score = ""
    if len(inc.top_flows) and "anomaly_score" in inc.top_flows.columns:
        top = float(pd.to_numeric(inc.top_flows["anomaly_score"], errors="coerce").max())
        if np.isfinite(top):
            bar = f", at or above the threshold {threshold:.2f}" if threshold is not None else ""
            score = f" (top anomaly score {top:.2f}{bar})"
    one = inc.flows == 1
    missed = ("" if not inc.unexpected else (" It" if one else " Its top flow") + " is furthest "
              "from what the model expected in " + "; ".join(inc.unexpected) + ".")
    return ("Flagged by the anomaly score alone" + score + (": this flow is" if one else
            ": these flows are") + " unlike the traffic the model was trained on, while its "
            "classifier judged " + ("it" if one else "them") + " benign." + missed + " LIME "
            "explains the classifier, so no feature chart is drawn for "
            + ("it." if one else "them."))


def _no_incidents(report: ReportData) -> str:
    if report.flagged:
        return f"{report.flagged:,} flows were flagged; they form no incident."
    return "Nothing was flagged."


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:,} bytes"


def _span(seconds: float) -> str:
    if not np.isfinite(seconds):
        return ""
    from ids_desktop.core.detect.finding import span

    return span(float(seconds))


def _who(inc: IncidentItem) -> str:
    """``"203.0.113.66 → 192.168.20.30:22"`` (sources, targets and ports, counted past 3)."""
    def listing(items: tuple[str, ...] | tuple[int, ...], count: int) -> str:
        shown = ", ".join(str(x) for x in items[:3])
        return shown + (f" (+{count - 3:,})" if count > 3 else "")

    ports = ""
    if inc.ports:
        ports = f" port {inc.ports[0]}" if inc.port_count == 1 else \
            f" {inc.port_count:,} ports"
    return f"{listing(inc.sources, len(inc.sources))} → " \
           f"{listing(inc.targets, inc.target_count) or '?'}{ports}"


def _when(inc: IncidentItem, one_day: bool = False) -> str:
    """``"2023-11-14 22:16:20 for 0.6 s"``; without the date when the capture has one day."""
    if not np.isfinite(inc.first_seen):
        return "no time"
    start = _fmt_time(inc.first_seen)[11 if one_day else 0 :]
    last = inc.last_seen if np.isfinite(inc.last_seen) else inc.first_seen
    return f"{start} for {_span(last - inc.first_seen)}"


def _endpoint(ip: str, port: str) -> str:
    if not port:
        return ip
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _wrap(text: str, limit: int, style: Any) -> Any:
    """Plain text when short (cheap to lay out), an escaped wrapping Paragraph when long."""
    return text if len(text) <= limit else _p(text, style)


def _s(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)
