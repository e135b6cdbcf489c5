"""CSV and JSON Lines reports: injection-safe cells, EVE field names and types, atomic writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.atomic import atomic_text
from ids_desktop.core.report.csv_writer import neutralise, write_csv
from ids_desktop.core.report.eve import signature_id, write_jsonl
from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError


def analysis_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "flow_id": np.array([11, 12, 13], dtype="int64"),
            "src_ip": pd.array(["10.0.0.5", "10.0.0.6", "10.0.0.7"], dtype="string"),
            "src_port": pd.array([40000, 40001, None], dtype="Int64"),
            "dst_ip": pd.array(["10.0.0.9", "10.0.0.9", "10.0.0.9"], dtype="string"),
            "dst_port": pd.array([80, 22, 443], dtype="Int64"),
            "protocol": pd.array([6, 6, 17], dtype="Int64"),
            "first_seen": [1_700_000_000.25, 1_700_000_001.0, np.nan],
            "last_seen": [1_700_000_002.0, 1_700_000_003.0, np.nan],
            "application": pd.array(["HTTP", "SSH", None], dtype="string"),
            "requested_server_name": pd.array(["=HYPERLINK(\"http://x\")", "ok.example", "@SUM(1)"],
                                              dtype="string"),
            "user_agent": pd.array(["+cmd|' /C calc'!A0", "-2+3", "-12.5"], dtype="string"),
            "pred_class": pd.array(["web_attack", "benign", "brute_force"], dtype="string"),
            "pred_score": [0.97, 0.1, 0.75],
            "anomaly_score": [-1.5, 0.2, 3.0],
            "flagged": [True, False, True],
            "severity": pd.array(["high", None, "medium"], dtype="string"),
            "flagged_by": pd.array(["model", None, "model,ssh_guessing"], dtype="string"),
            "finding": pd.array([None, None, "10.0.0.5 tried 40 SSH logins"], dtype="string"),
        }
    )


def test_neutralise_follows_owasp() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("\rx") == "'\rx"
    assert neutralise("-2+3") == "'-2+3"
    assert neutralise("-12.5") == "-12.5"
    assert neutralise(-3.0) == -3.0
    assert neutralise("plain") == "plain"


def test_csv_neutralises_injection_and_keeps_negative_numbers(tmp_path: Path) -> None:
    out = write_csv(analysis_frame(), tmp_path / "flows.csv", explanations={11: "=evil sentence"})
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["flow_id"] for r in rows] == ["11", "13"]
    first = rows[0]
    assert first["server_name"].startswith("'=")
    assert first["user_agent"].startswith("'+")
    assert first["explanation"] == "'=evil sentence"
    assert first["anomaly_score"] == "-1.5"
    assert first["first_seen"] == "2023-11-14T22:13:20.250Z"
    assert first["protocol"] == "TCP"
    assert rows[1]["server_name"] == "'@SUM(1)"
    assert rows[1]["user_agent"] == "-12.5"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")) or value == ""


def test_csv_all_flows(tmp_path: Path) -> None:
    out = write_csv(analysis_frame(), tmp_path / "all.csv", flagged_only=False)
    assert len(pd.read_csv(out)) == 3


def test_jsonl_fields_and_types(tmp_path: Path) -> None:
    out = write_jsonl(
        analysis_frame(),
        tmp_path / "alerts.jsonl",
        model="unit",
        contributions={11: [{"feature": "dst_port @ t-0", "weight": 0.4}]},
    )
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(events) == 2
    e = events[0]
    for key, kind in {
        "timestamp": str, "flow_id": int, "src_ip": str, "src_port": int, "dest_ip": str,
        "dest_port": int, "proto": str, "app_proto": str, "alert": dict, "ml": dict,
    }.items():
        assert isinstance(e[key], kind), key
    assert e["timestamp"] == "2023-11-14T22:13:20.250000+0000"
    assert e["proto"] == "TCP" and e["app_proto"] == "http"
    assert set(e["alert"]) >= {"signature", "category", "severity"}
    assert isinstance(e["alert"]["severity"], int) and e["alert"]["severity"] == 1  # high
    assert e["alert"]["signature_id"] == signature_id("web_attack", "model")
    # a detector's family is named by the detector's signature, with both sources kept
    assert events[1]["alert"]["signature_id"] == signature_id("brute_force", "ssh_guessing")
    assert events[1]["alert"]["severity"] == 2
    assert events[1]["ids_desktop"]["flagged_by"] == ["model", "ssh_guessing"]
    assert events[1]["ids_desktop"]["finding"] == "10.0.0.5 tried 40 SSH logins"
    assert len({signature_id(f, s) for f in ("scan", "dos") for s in ("model", "syn_flood")}) == 4
    assert set(e["ml"]) >= {"model", "class", "score", "anomaly_score", "top_contributions"}
    assert e["ml"]["top_contributions"][0]["feature"] == "dst_port @ t-0"
    assert events[1]["src_port"] is None and events[1]["timestamp"] is None


def test_failed_write_leaves_no_partial_and_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_text("good old report\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_text(target) as fh:
        fh.write("half a report")
        raise RuntimeError("writer failed midway")
    assert target.read_text(encoding="utf-8") == "good old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.csv"]


def test_cancelled_csv_leaves_nothing(tmp_path: Path) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        write_csv(analysis_frame(), tmp_path / "x.csv", cancel=token)
    assert list(tmp_path.iterdir()) == []


def test_csv_times_have_no_float_noise_and_protocols_are_named() -> None:
    from ids_desktop.core.report.csv_writer import iso_times, report_frame

    # 1700000007.257 is 1700000007.2569999 as a float: printed as .256999 before
    ms = pd.Series([1_700_000_007.257, 1_700_000_000.0, np.nan])
    assert iso_times(ms).tolist() == ["2023-11-14T22:13:27.257Z", "2023-11-14T22:13:20.000Z", ""]
    us = pd.Series([1_700_000_007.257001])
    assert iso_times(us).tolist() == ["2023-11-14T22:13:27.257001Z"]
    flows = analysis_frame().assign(protocol=pd.array([6, 132, None], dtype="Int64"))
    assert report_frame(flows)["protocol"].tolist() == ["TCP", "SCTP", pd.NA]
