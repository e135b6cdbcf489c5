"""The Incidents page on the demo capture: opens first, selects, filters, explains, pivots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import Qt  # noqa: E402

from ids_desktop.core.analysis import Analysis  # noqa: E402
from ids_desktop.core.explain.explainer import Explanation  # noqa: E402
from ids_desktop.core.incidents import Incident  # noqa: E402
from ids_desktop.core.options import AnalysisOptions  # noqa: E402
from ids_desktop.core.tasks import CancelToken  # noqa: E402
from ids_desktop.gui import tab_tasks  # noqa: E402
from ids_desktop.gui.analysis_tab import AnalysisTab  # noqa: E402
from ids_desktop.gui.incidents_view import (  # noqa: E402
    MODEL_SOURCES,
    SOURCE,
    TARGETS,
    IncidentsPage,
    IncidentTableModel,
    representative_row,
)
from ids_desktop.synth.demo_capture import ATTACKER, TARGET, write_demo  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, tab_tasks.ViewData]:
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "pcap" / "metadata.json").is_file():
        pytest.skip("no pcap bundle")
    path = write_demo(tmp_path_factory.mktemp("demo") / "demo.pcap", seed=7, minutes=4)
    return tab_tasks.analyse_for_view(path, AnalysisOptions(), progress=lambda *a: None,
                                      cancel=CancelToken())


def open_tab(qtbot, analysis: Analysis, view: tab_tasks.ViewData,  # type: ignore[no-untyped-def]
             monkeypatch) -> AnalysisTab:
    asked: list[int] = []
    monkeypatch.setattr(AnalysisTab, "explain", lambda self, row: asked.append(row))
    tab = AnalysisTab(analysis.path)
    qtbot.addWidget(tab)
    tab.show_analysis(analysis, view)
    tab.asked = asked  # type: ignore[attr-defined]
    return tab


@pytest.fixture
def tab(qtbot, demo, monkeypatch) -> AnalysisTab:  # type: ignore[no-untyped-def]
    return open_tab(qtbot, *demo, monkeypatch)


def without_the_model(analysis: Analysis, family: str) -> Analysis:
    """``analysis`` as if neither the model nor the anomaly score had flagged any flow of its
    ``family`` incident: the detectors' part alone (the demo's SSH brute force was that with
    the bundle of 2026-12-06; the bundle of 2026-12-07 names most of its flows too)."""
    import dataclasses

    position, incident = by_family(analysis, family)
    flows = analysis.flows.copy()
    rows = np.asarray(incident.rows, dtype=np.int64)
    col = flows.columns.get_loc("flagged_by")
    flows.iloc[rows, col] = [",".join(x for x in str(v).split(",") if x not in MODEL_SOURCES)
                             for v in flows.iloc[rows, col]]
    alone = dataclasses.replace(
        incident, flagged_by=tuple(x for x in incident.flagged_by if x not in MODEL_SOURCES))
    incidents = (*analysis.incidents[:position], alone, *analysis.incidents[position + 1:])
    return dataclasses.replace(analysis, flows=flows, incidents=incidents)


def by_family(analysis: Analysis, family: str) -> tuple[int, Incident]:
    return next((i, inc) for i, inc in enumerate(analysis.incidents) if inc.family == family)


def incident_ids(tab: AnalysisTab) -> set[str]:
    col = tab.model.columns().index("incident_id")
    return {tab.model.frame["incident_id"].iat[tab.model.row_of(r)]
            for r in range(tab.model.rowCount())} if col >= 0 else set()


def test_the_tab_opens_on_the_incidents_with_the_scan_and_the_brute_force(tab: AnalysisTab) -> None:
    assert tab.pages.currentWidget() is tab.incidents
    assert tab.pages.tabText(0) == "Incidents"
    model = tab.incidents.model
    rows = {model.data(model.index(r, 1)): r for r in range(model.rowCount())}
    for family in ("scan", "brute_force"):
        r = rows[family]
        assert model.data(model.index(r, SOURCE)) == ATTACKER
        assert model.data(model.index(r, TARGETS)) == TARGET
    assert tab.incidents.headline.text().startswith(f"{model.rowCount()} incidents")


def test_selecting_an_incident_filters_its_flows_and_clearing_shows_all(tab: AnalysisTab) -> None:
    analysis = tab.analysis
    assert analysis is not None
    position, scan = by_family(analysis, "scan")
    tab.incidents.select(position)
    assert tab.filters.filter_edit.text() == f"incident:{scan.id}"
    assert tab.model.rowCount() == scan.flows and incident_ids(tab) == {scan.id}
    assert tab.incidents.timeline.selected == position
    # its explanation is the model's, for its highest-scored flow the model flagged
    row = representative_row(analysis.flows, scan)
    assert row is not None and tab.asked[-1] == row and tab.selected_row() == row
    scores = analysis.flows["pred_score"].to_numpy()[scan.rows]
    assert analysis.flows["pred_score"].iat[row] == np.nanmax(scores)
    assert "Detector port_scan" in tab.incidents.reason.text()
    assert tab.incidents.chart.isVisibleTo(tab.incidents)
    tab.incidents.select(None)
    assert tab.filters.filter_edit.text() == ""
    assert tab.model.rowCount() == len(analysis.flows)


def test_a_detector_incident_is_explained_by_the_detectors_reason(  # type: ignore[no-untyped-def]
    qtbot, demo, monkeypatch,
) -> None:
    analysis, view = demo
    assert "ssh_guessing" in by_family(analysis, "brute_force")[1].flagged_by
    analysis = without_the_model(analysis, "brute_force")
    tab = open_tab(qtbot, analysis, view, monkeypatch)
    position, brute = by_family(analysis, "brute_force")
    assert brute.flagged_by == ("ssh_guessing",)
    tab.incidents.select(position)
    assert representative_row(analysis.flows, brute) is None and tab.asked == []
    assert "Detector ssh_guessing (brute_force)" in tab.incidents.reason.text()
    assert "40 SSH logins" in tab.incidents.reason.text() or "SSH" in brute.summary
    assert not tab.incidents.chart.isVisibleTo(tab.incidents)
    assert incident_ids(tab) == {brute.id}


def test_the_explanation_reaches_the_incident_only_for_its_representative(
    tab: AnalysisTab,
) -> None:
    analysis = tab.analysis
    assert analysis is not None
    position, scan = by_family(analysis, "scan")
    tab.incidents.select(position)
    row = representative_row(analysis.flows, scan)
    exp = Explanation("scan", 0.99, [], {}, {}, 0.9, 0, 100, sentence="Because it probes.")
    tab._on_explained((row + 1, exp))  # another flow's explanation
    assert "Because it probes." not in tab.incidents.reason.text()
    tab._on_explained((row, exp))
    assert tab.incidents.reason.text().endswith("flow: Because it probes.")


def test_clearing_the_incidents_filter_clears_its_selection(tab: AnalysisTab) -> None:
    analysis = tab.analysis
    assert analysis is not None
    tab.incidents.select(by_family(analysis, "scan")[0])
    tab.filters.clear()
    assert tab.incidents.current() is None and tab.model.rowCount() == len(analysis.flows)


def test_the_timeline_selects_what_the_list_selects(tab: AnalysisTab) -> None:
    analysis = tab.analysis
    assert analysis is not None
    position, brute = by_family(analysis, "brute_force")
    timeline = tab.incidents.timeline
    n = len(analysis.incidents)
    assert timeline.position_at(brute.first_seen, n - 1 - position) == position
    assert timeline.position_at(brute.first_seen, n - 1 - position + 0.5) is None
    timeline.clicked.emit(position)
    assert tab.incidents.current() is brute and timeline.selected == position
    axis = timeline.plot.getAxis("bottom")
    assert axis.__class__.__name__ == "DateAxisItem"


def test_double_clicking_hosts_and_ports_pivots_the_flows(tab: AnalysisTab, qtbot) -> None:  # type: ignore[no-untyped-def]
    analysis = tab.analysis
    assert analysis is not None
    # a source host in the incidents list
    position, scan = by_family(analysis, "scan")
    page = tab.incidents
    index = page.proxy.mapFromSource(page.model.index(position, SOURCE))
    page._on_double_click(index)
    assert tab.filters.filter_edit.text() == f"host:{ATTACKER}"
    assert tab.pages.currentWidget() is tab.flows_page
    flows = analysis.flows
    expected = int(((flows["src_ip"] == ATTACKER) | (flows["dst_ip"] == ATTACKER)).sum())
    assert tab.model.rowCount() == expected and not tab.flagged_only.isChecked()
    # a port cell of the flows table
    port_col = tab.model.columns().index("dst_port")
    tab._on_double_click(tab.model.index(0, port_col))
    port = tab.model.frame["dst_port"].iat[tab.model.row_of(0)]
    assert tab.filters.filter_edit.text() == f"port:{port}"
    # a host of the overview's top sources
    assert tab.view is not None and tab.view.overview is not None
    tab.overview.set_data(tab.view.overview)
    from PySide6.QtWidgets import QGroupBox, QTableWidget

    box = next(b for b in tab.overview.findChildren(QGroupBox) if b.title() == "Top source hosts")
    table = box.findChild(QTableWidget)
    table.cellDoubleClicked.emit(0, 0)
    assert tab.filters.filter_edit.text() == f"src:{table.item(0, 0).text()}"
    # an address of the traffic page
    traffic = tab.traffic
    col = traffic.conversations.columns().index("address_a")
    traffic._on_double_click(traffic.conversations, traffic.conversations.index(0, col))
    first = traffic.conversations.frame["address_a"].iat[traffic.conversations.row_of(0)]
    assert tab.filters.filter_edit.text() == f"host:{first}"


def test_the_flows_menu_filters_copies_and_saves_packets(tab: AnalysisTab, qtbot,
                                                         tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dpkt = pytest.importorskip("dpkt")
    analysis = tab.analysis
    assert analysis is not None
    _, brute = by_family(analysis, "brute_force")
    tab.pivot("incident", brute.id)
    menu = tab.context_menu(tab.model.index(0, tab.model.columns().index("dst_ip")))
    texts = [a.text() for a in menu.actions() if a.text()]
    assert texts == [f"Filter by this value (host:{TARGET})", "Copy", "Copy rows",
                     "Save this flow's packets as pcap…", "Save this incident's packets as pcap…"]
    assert all(a.isEnabled() for a in menu.actions())
    menu.actions()[1].trigger()
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == TARGET
    target = tmp_path / "brute.pcap"
    with qtbot.waitSignal(tab.packets_task.finished, timeout=60_000):
        tab.save_packets(list(brute.rows), target)
    with target.open("rb") as fh:
        got = sum(1 for _ in dpkt.pcap.Reader(fh))
    assert got == int(analysis.flows["bidirectional_packets"].iloc[brute.rows].sum())
    assert f"{got:,} packets of {brute.flows} flows" in tab.summary.text()


def test_conversations_and_endpoints_of_all_traffic(tab: AnalysisTab) -> None:
    assert tab.view is not None
    traffic = tab.traffic
    assert traffic.conversations.rowCount() == len(tab.view.conversations) > 1
    assert traffic.endpoints.rowCount() == len(tab.view.endpoints)
    hosts = set(tab.view.endpoints["address"])
    assert {ATTACKER, TARGET} <= hosts
    flows = tab.analysis.flows if tab.analysis is not None else None
    assert flows is not None and int(tab.view.endpoints["flows"].sum()) == 2 * len(flows) - int(
        (flows["src_ip"] == flows["dst_ip"]).sum())


def test_a_loaded_tab_fits_a_1366_by_768_screen(tab: AnalysisTab) -> None:
    hint = tab.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 640


def test_an_empty_list_says_there_are_no_incidents(qtbot) -> None:  # type: ignore[no-untyped-def]
    page = IncidentsPage()
    qtbot.addWidget(page)
    page.set_incidents(())
    assert page.headline.text().startswith("No incidents")
    assert not page.splitter.isVisibleTo(page)


def incident(severity: str, family: str, t: float) -> Incident:
    return Incident(id=f"INC-{family}", family=family, severity=severity, sources=("10.0.0.9",),
                    targets=("10.0.0.1",), ports=(22,), target_count=1, port_count=1,
                    first_seen=t, last_seen=t + 1, flows=1, packets=2, bytes=100,
                    flagged_by=("model",), summary="s", rows=np.array([0]))


def test_the_list_sorts_severity_by_urgency(qtbot, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    page = IncidentsPage()
    qtbot.addWidget(page)
    page.set_incidents([incident("low", "scan", 3.0), incident("high", "exploit", 2.0),
                        incident("medium", "dos", 1.0)])
    qtmodeltester.check(page.model)
    page.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    shown = [page.proxy.data(page.proxy.index(r, 0)) for r in range(3)]
    assert shown == ["high", "medium", "low"]  # not alphabetical
    page.table.sortByColumn(5, Qt.SortOrder.AscendingOrder)
    assert [page.proxy.data(page.proxy.index(r, 1)) for r in range(3)] == ["dos", "exploit",
                                                                           "scan"]
    assert isinstance(page.model, IncidentTableModel)


def test_the_timeline_draws_the_most_severe_rows_of_a_long_list(qtbot) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.charts.timeline import MAX_ROWS

    page = IncidentsPage()
    qtbot.addWidget(page)
    many = [incident("low", f"f{i}", float(i)) for i in range(MAX_ROWS + 5)]
    page.set_incidents(many)
    assert page.model.rowCount() == MAX_ROWS + 5
    assert len(page.timeline.incidents) == MAX_ROWS and page.timeline.left_out == 5
    page.select(MAX_ROWS + 2)  # listed, not drawn
    assert page.current() is many[MAX_ROWS + 2] and page.timeline.selected is None


def test_clicking_a_bar_of_the_timeline_selects_its_incident(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPointF

    page = IncidentsPage()
    qtbot.addWidget(page)
    incidents = [incident("high", "exploit", 0.0), incident("medium", "dos", 10.0),
                 incident("low", "scan", 20.0)]
    page.set_incidents(incidents)
    page.resize(1200, 700)
    page.show()
    qtbot.waitExposed(page)
    plot = page.timeline.plot
    box = plot.getPlotItem().vb
    scene = box.mapViewToScene(QPointF(10.5, 1.0))  # the middle row: the second incident
    where = plot.mapFromScene(scene)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert page.current() is incidents[1] and page.timeline.selected == 1


def test_the_timeline_labels_only_the_rows_a_line_of_text_fits(qtbot) -> None:  # type: ignore[no-untyped-def]
    """200 row labels on a laptop-sized chart overlapped into a black block: the chart labels
    one row in k, says so in its title, and labels every row again when they fit."""
    from ids_desktop.gui.charts.timeline import MAX_ROWS

    page = IncidentsPage()
    qtbot.addWidget(page)
    page.resize(1366, 768)
    page.show()
    qtbot.waitExposed(page)
    page.set_incidents([incident("low", f"f{i}", float(i)) for i in range(MAX_ROWS + 5)])
    timeline = page.timeline
    step = timeline.label_step()
    (ticks,) = timeline.plot.getAxis("left")._tickLevels
    assert step > 1 and len(ticks) == -(-MAX_ROWS // step)  # one row in `step`, from the top
    assert f"1 row in {step} labelled" in timeline.plot.getPlotItem().titleLabel.text
    assert "most severe of 205 incidents" in timeline.plot.getPlotItem().titleLabel.text

    page.set_incidents([incident("high", "exploit", 0.0), incident("low", "scan", 20.0)])
    (ticks,) = timeline.plot.getAxis("left")._tickLevels
    assert timeline.label_step() == 1 and len(ticks) == 2
    title = timeline.plot.getPlotItem().titleLabel  # setTitle(None) hides it, text kept
    assert not title.isVisible() or "labelled" not in title.text


def test_the_explanation_chart_draws_the_bars_its_height_holds(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Squeezed under a warning banner at 1366x768, ten bar labels were drawn over each
    other: a short chart draws its largest bars and says how many it left out; grown, it
    draws them all."""
    from ids_desktop.core.explain.chart import spec_from_pairs
    from ids_desktop.gui.charts.explanation import MIN_BARS, ExplanationChart

    chart = ExplanationChart()
    qtbot.addWidget(chart)
    chart.resize(500, chart.height_for(4))
    chart.show()
    qtbot.waitExposed(chart)
    pairs = [(f"feature {i}", 1.0 - i / 20) for i in range(10)]
    chart.set_spec(spec_from_pairs(pairs))
    assert chart.shown == chart.bars_that_fit() == 4 and len(chart.labels) == 10
    (ticks,) = chart.plot.getAxis("left")._tickLevels
    assert sorted(label for _, label in ticks) == [f"feature {i}" for i in range(4)]
    assert "top 4 of 10" in chart.plot.getPlotItem().titleLabel.text
    chart.resize(500, chart.height_for(10))
    qtbot.waitUntil(lambda: chart.shown == 10)
    title = chart.plot.getPlotItem().titleLabel  # setTitle(None) hides it, text kept
    assert not title.isVisible() or "top" not in title.text
    chart.resize(500, chart.height_for(MIN_BARS) // 3)
    qtbot.waitUntil(lambda: chart.shown == 1)  # never none


def test_an_unusual_incident_gets_its_sentence_without_a_chart(qtbot) -> None:  # type: ignore[no-untyped-def]
    """An incident flagged by the anomaly score alone is explained in words, as in the PDF:
    the chart would explain the classifier's benign verdict."""
    from ids_desktop.core.explain.explainer import Contribution

    page = IncidentsPage()
    qtbot.addWidget(page)
    page.resize(1366, 700)
    page.show()
    qtbot.waitExposed(page)
    unusual = Incident(
        id="INC-anomaly", family="anomaly", severity="low", sources=("10.0.0.9",),
        targets=("10.0.0.1",), ports=(123,), target_count=1, port_count=1, first_seen=0.0,
        last_seen=1.0, flows=1, packets=2, bytes=100, flagged_by=("anomaly",), summary="s",
        rows=np.array([0]))
    exp = Explanation(
        "benign", 1.0, [Contribution("a", 0, 0.5, "a > 1")], {"a": 0.5}, {0: 0.5}, 0.5, 0, 100,
        sentence="The classifier judges it benign. Flagged by its anomaly score (1.1 >= 0.8). "
                 "Furthest from what it expected: bytes 10 (about 1 expected).")
    page.show_reason(unusual, [], explaining=True)
    page.show_explanation(exp)
    assert not page.chart.isVisible()
    assert "Furthest from what it expected" in page.reason.text()
    page.show_reason(incident("low", "scan", 0.0), [], explaining=True)
    page.show_explanation(exp)
    assert page.chart.isVisible()


def test_the_evidence_strip_fits_the_chart_s_width(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Eight flows' shares ran past the right edge at 1366x768: a narrow chart lists the
    flows carrying most and sums the rest; a wide one lists every flow in time order."""
    from ids_desktop.gui.charts.explanation import ExplanationChart

    chart = ExplanationChart()
    qtbot.addWidget(chart)
    strip = [(-6, 0.08), (-5, 0.10), (-4, 0.10), (-3, 0.17), (-2, 0.05), (-1, 0.05), (0, 0.34),
             (1, 0.11)]
    labels = ["server → client RST packets ≥ 1"]
    chart.resize(2000, 300)
    wide = chart.strip_text(strip, labels)
    assert wide.startswith("evidence per flow: t+6 8%") and "others" not in wide
    chart.resize(640, 300)
    narrow = chart.strip_text(strip, labels)
    assert narrow.startswith("evidence per flow: t-0 34%  t+3 17%") and "others" in narrow
    room = 640 - chart.fontMetrics().horizontalAdvance(labels[0])
    assert chart.fontMetrics().horizontalAdvance(narrow) <= room
