"""The CSV and EVE of the analysed demo capture carry the incident, severity and Community ID."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from ids_desktop.core import severity
from ids_desktop.core.report.csv_writer import write_csv
from ids_desktop.core.report.eve import signature_id, write_jsonl


def _alerts(analysis, tmp_path: Path) -> list[dict]:  # type: ignore[no-untyped-def]
    out = write_jsonl(analysis.flows, tmp_path / "alerts.jsonl", model="pcap")
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_every_alert_names_its_incident_and_community_id(demo_analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    events = _alerts(demo_analysis, tmp_path)
    incidents = {i.id: i for i in demo_analysis.incidents}
    flows = demo_analysis.flows.set_index("flow_id")
    assert len(events) == int(demo_analysis.flows["flagged"].sum()) > 0
    for e in events:
        assert e["incident_id"] in incidents
        assert e["community_id"] == flows.at[e["flow_id"], "community_id"]
        assert re.fullmatch(r"1:[A-Za-z0-9+/]{27}=", e["community_id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+0000", e["timestamp"])
    by_incident: dict[str, list[dict]] = {}
    for e in events:
        by_incident.setdefault(e["incident_id"], []).append(e)
    assert set(by_incident) == set(incidents)  # every incident has its alerts
    for inc_id, alerts in by_incident.items():
        levels = [a["ids_desktop"]["severity"] for a in alerts]
        # one severity rule: the incident is its most urgent flow, and the EVE number matches
        assert incidents[inc_id].severity == severity.highest(levels)
        assert all(a["alert"]["severity"] == severity.SURICATA[a["ids_desktop"]["severity"]]
                   for a in alerts)


def test_signature_ids_are_one_per_family_and_detector(demo_analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    events = _alerts(demo_analysis, tmp_path)
    seen: dict[tuple[str, str], set[int]] = {}
    for e in events:
        sources = e["ids_desktop"]["flagged_by"]
        decisive = sources[-1] if len(sources) > 1 else sources[0]
        seen.setdefault((e["ml"]["class"], decisive), set()).add(e["alert"]["signature_id"])
        assert e["alert"]["signature_id"] == signature_id(e["ml"]["class"], decisive)
    assert all(len(ids) == 1 for ids in seen.values())
    ids = [next(iter(v)) for v in seen.values()]
    assert len(ids) == len(set(ids))  # two (family, detector) pairs never share one
    # the demo's scan is decided by the port-scan detector, the SSH guessing by its own
    assert ("scan", "port_scan") in seen and ("brute_force", "ssh_guessing") in seen



def test_csv_carries_incident_severity_and_readable_cells(demo_analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = write_csv(demo_analysis.flows, tmp_path / "flows.csv")
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and {"incident_id", "severity", "flagged_by", "community_id"} <= set(rows[0])
    incidents = {i.id for i in demo_analysis.incidents}
    assert {r["incident_id"] for r in rows} == incidents
    assert {r["severity"] for r in rows} <= set(severity.ORDER)
    assert {r["protocol"] for r in rows} <= {"TCP", "UDP"}
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
    assert all(stamp.fullmatch(r["first_seen"]) and stamp.fullmatch(r["last_seen"]) for r in rows)
    ssh = [r for r in rows if r["flagged_by"] and "ssh_guessing" in r["flagged_by"]]
    assert ssh and all(r["src_ip"] == "203.0.113.66" and r["dst_port"] == "22" for r in ssh)


def test_unusual_incidents_say_what_the_model_expected_least(demo_analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An incident flagged by the anomaly score alone gets no LIME chart; its top flow's
    reports still say which inputs the model expected least: the CSV's explanation, the EVE
    line's ``unexpected`` and the PDF's note. Other flows get none."""
    from ids_desktop.core.report.build import anomaly_only, build_report
    from ids_desktop.core.report.export import (
        ExportRequest,
        explain_unusual,
        export_reports,
        unusual_rows,
    )

    unusual = [i for i in demo_analysis.incidents if anomaly_only(i.flagged_by)]
    if not unusual:
        pytest.skip("the shipped pcap bundle flags no demo flow by its anomaly score alone")
    rows = unusual_rows(demo_analysis)
    assert len(rows) == len(unusual)
    found = explain_unusual(demo_analysis)
    ids = demo_analysis.flows["flow_id"].to_numpy()
    assert set(found) == {int(ids[r]) for r in rows}
    for missed in found.values():
        assert 1 <= len(missed) <= 3
        for m in missed:
            assert m.feature in demo_analysis.run.features or m.feature in demo_analysis.flows
            assert " (about " in m.text and m.text.endswith(" expected)")
            assert m.value != pytest.approx(m.expected, rel=0.05)

    export_reports(demo_analysis, ExportRequest(csv=tmp_path / "f.csv", jsonl=tmp_path / "a.jsonl",
                                                explain_k=0))
    with (tmp_path / "f.csv").open(encoding="utf-8", newline="") as fh:
        told = {int(r["flow_id"]): r["explanation"] for r in csv.DictReader(fh)}
    events = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text("utf-8").splitlines()]
    for flow_id, missed in found.items():
        assert told[flow_id].endswith(
            "Furthest from what it expected: " + "; ".join(m.text for m in missed) + ".")
    assert all(not text for f, text in told.items() if f not in found)
    for e in events:
        listed = e["ml"]["unexpected"]
        if e["flow_id"] in found:
            assert [x["feature"] for x in listed] == [m.feature for m in found[e["flow_id"]]]
            assert all(isinstance(x["value"], float) and isinstance(x["expected"], float)
                       for x in listed)
        else:
            assert listed == []

    report = build_report(demo_analysis, unexpected={
        f: [m.text for m in ms] for f, ms in found.items()})
    shown = [i for i in report.incidents if i.unexpected]
    assert len(shown) == len(found)
    assert all(anomaly_only(i.flagged_by) for i in shown)

    pypdf = pytest.importorskip("pypdf")
    from ids_desktop.core.report.pdf_writer import write_pdf

    write_pdf(report, tmp_path / "r.pdf")
    text = " ".join(" ".join(p.extract_text() or "" for p in pypdf.PdfReader(
        str(tmp_path / "r.pdf")).pages).split())
    assert text.count("furthest from what the model expected in") == len(found), text[-3000:]
