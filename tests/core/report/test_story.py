"""The PDF tells the story first: page 1, incidents sampled fairly, readable axes, the card."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ids_desktop.core.explain.explainer import Contribution, Explanation
from ids_desktop.core.explain.service import ExplanationCache
from ids_desktop.core.report import export
from ids_desktop.core.report.build import build_report, confirmed
from ids_desktop.core.report.export import explain_rows, flow_heading, report_rows
from ids_desktop.core.report.pdf_charts import bar_chart, time_ticks
from ids_desktop.core.report.pdf_writer import write_pdf

pypdf = pytest.importorskip("pypdf")
ATTACKER, TARGET = "203.0.113.66", "192.168.20.30"


def _page_text(path: Path, page: int) -> str:
    return pypdf.PdfReader(str(path)).pages[page].extract_text() or ""


def test_page_one_shows_the_scan_and_the_brute_force(demo_analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = build_report(demo_analysis)
    out = write_pdf(report, tmp_path / "r.pdf")
    page1 = " ".join(_page_text(out, 0).split())
    # the one-sentence story names both attacks, attacker and target
    assert report.headline.startswith(f"{len(demo_analysis.incidents)} incidents: ")
    assert "SSH logins" in report.headline and "probed 300 TCP ports" in report.headline
    assert report.headline.count(ATTACKER) == 2 and TARGET in report.headline
    assert "Incidents by severity" in page1 and "Incidents over time" in page1
    assert f"{ATTACKER} → {TARGET} port 22" in page1
    assert f"{ATTACKER} → {TARGET} 300 ports" in page1
    assert "brute_force" in page1 and "scan" in page1
    assert "SHA-256" not in page1  # the file and model in one line, digests later


def test_every_incident_is_told_with_its_own_flows(demo_analysis) -> None:  # type: ignore[no-untyped-def]
    """One loud incident (300 scan flows) does not crowd out the others."""
    report = build_report(demo_analysis, top_n=200)
    assert len(report.incidents) == len(demo_analysis.incidents)
    by_id = {i.id: i for i in demo_analysis.incidents}
    ids = demo_analysis.flows["flow_id"].to_numpy()
    for item in report.incidents:
        assert 1 <= len(item.top_flows) <= 10
        assert set(item.top_flows["flow_id"]) <= set(ids[by_id[item.id].rows])
    # the detector-confirmed incidents lead their severity
    sev = [i.severity for i in report.incidents]
    assert sev == sorted(sev, key=["high", "medium", "low"].index)
    assert confirmed(demo_analysis.incidents[0]) or report.incidents[0].confirmed
    # each incident the classifier or a detector flagged gets its top flow explained
    rows = report_rows(demo_analysis, 20)
    flagged_by_model = [i for i in demo_analysis.incidents if set(i.flagged_by) != {"anomaly"}]
    assert len(rows) == len(flagged_by_model)
    owners = {int(r): i.id for i in demo_analysis.incidents for r in i.rows}
    assert len({owners[r] for r in rows}) == len(rows)


def test_explanations_are_headed_by_who_where_when(demo_analysis) -> None:  # type: ignore[no-untyped-def]
    flows = demo_analysis.flows
    row = int(np.flatnonzero((flows["src_ip"] == ATTACKER) & (flows["dst_port"] == 22))[0])
    heading = flow_heading(flows, row)
    assert re.fullmatch(rf"{ATTACKER}:\d+ → {TARGET}:22 TCP, 2023-11-14 \d\d:\d\d:\d\d UTC",
                        heading), heading


def test_cached_explanations_are_reused_not_recomputed(demo_analysis, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.core.explain import service

    def no_lime(*args: object, **kwargs: object) -> object:
        raise AssertionError("explained again")

    monkeypatch.setattr(service.BundleExplainer, "for_analysis", no_lime)
    rows = report_rows(demo_analysis, 20)
    cache = ExplanationCache(None)
    exp = Explanation("scan", 0.9, [Contribution("SYN packets", 0, 0.5, "SYN packets ≥ 1")],
                      {}, {0: 0.5}, 0.8, 0, 100, sentence="cached.")
    for r in rows:
        cache.put(("in", r, "model", 0), exp)
    found = explain_rows(demo_analysis, rows, cache=cache, cache_key=("in", "model"))
    assert set(found) == set(rows)
    items, _ = export.explain_incidents(demo_analysis, 20, cache=cache, cache_key=("in", "model"))
    assert [i.sentence for i in items] == ["cached."] * len(rows)
    assert all(i.r2 == 0.8 and " → " in i.heading for i in items)


@pytest.mark.parametrize(
    ("span", "pattern"),
    [(30, r"\d\d:\d\d:\d\d"), (600, r"\d\d:\d\d"), (3 * 86400, r"\d\d-\d\d \d\d:\d\d"),
     (40 * 86400, r"\d{4}-\d\d-\d\d"), (0.5, r"\d\d:\d\d:\d\d\.\d")],
)
def test_time_ticks_fit_the_span(span: float, pattern: str) -> None:
    lo = 1_700_000_000.3
    ticks, title = time_ticks(lo, lo + span)
    labels = [label for _, label in ticks]
    assert 2 <= len(labels) <= 7
    assert len(set(labels)) == len(labels)  # never "22:47" five times
    assert all(re.fullmatch(pattern, x) for x in labels), labels
    assert all(lo <= t <= lo + span for t, _ in ticks)
    assert title.startswith("UTC")


def test_benign_is_never_drawn_in_attack_red() -> None:
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.lib import colors

    drawing = bar_chart([("benign", 500), ("scan", 300)], 400, 150, "classes")
    chart = next(c for c in drawing.contents if isinstance(c, HorizontalBarChart))
    names = chart.categoryAxis.categoryNames
    fills = {n: chart.bars[(0, i)].fillColor for i, n in enumerate(names)}
    assert fills["benign"] != colors.HexColor("#c0392b")
    assert fills["scan"] == colors.HexColor("#c0392b")
    assert chart.valueAxis.labelTextFormat(12000) == "12,000"


def test_model_card_is_rendered_as_text_without_hashes(tmp_path: Path) -> None:
    from tests.core.report.test_pdf import make_report

    _, report = make_report(tmp_path)
    digest = "d8f88c2c1e3c37257269b471cad1ff7283fae564132b4930b8f1b1b1b208115c"
    report.model_card_summary = (
        "# Model card: `pcap`\n\n## Data and split\n\n"
        f"- `lab:full` (pcap): 6,719 rows, SHA-256 `{digest}`.\n\n"
        "## Results\n\n| model | attack F1 |\n|---|---|\n| hybrid | 0.9490 |\n"
    )
    out = write_pdf(report, tmp_path / "card.pdf")
    reader = pypdf.PdfReader(str(out))
    text = " ".join((reader.pages[-1].extract_text() or "").split())
    assert "Data and split" in text and "6,719 rows" in text and "0.9490" in text
    assert "##" not in text and "|---" not in text and "| model |" not in text
    assert digest not in text and "SHA-256 `" not in text
