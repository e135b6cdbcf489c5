"""``batch`` on a LocalCluster: the same counts as one analysis per file, the outputs, bad
input, resume, the command line and its exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ids_desktop import cli
from ids_desktop.batch import BatchResult, run_batch
from ids_desktop.batch import outputs as O
from ids_desktop.core.workflow import run_analysis
from tests.batch.conftest import child_processes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(captures: Path, tmp_path_factory: pytest.TempPathFactory) -> BatchResult:
    out = tmp_path_factory.mktemp("batch") / "out"
    return run_batch([captures], out, workers=2)


def test_counts_match_one_analysis_per_file(batch: BatchResult, captures: Path) -> None:
    assert batch.summary["captures"] == 4 and batch.summary["failed"] == 0
    assert batch.summary["workers"] == 2 and batch.summary["scheduler"] == "local"
    for rec in batch.files:
        one = run_analysis(rec["path"]).summary
        assert one is not None
        assert (rec["status"], rec["flows"], rec["flagged"]) == ("analysed", one["flows"],
                                                                 one["flagged"]), rec["path"]
    assert batch.summary["flows"] == sum(r["flows"] for r in batch.files)


def test_outputs_per_file_and_combined(batch: BatchResult) -> None:
    out = batch.out
    for rec in batch.files:
        flows = pd.read_parquet(out / rec["parquet"])
        assert len(flows) == rec["flows"]
        assert {"flagged", "pred_class", "severity", "incident_id", "community_id"} <= set(flows)
        assert int(flows["flagged"].sum()) == rec["flagged"]
        manifest = json.loads(O.manifest_path(out, rec["stem"]).read_text())
        assert manifest["sha256"] == rec["sha256"] and manifest["model_sha256"]
    summary = json.loads((out / O.SUMMARY).read_text())
    assert summary == batch.summary
    alerts = [json.loads(line) for line in (out / O.ALERTS).read_text().splitlines()]
    assert len(alerts) == summary["flagged"] == summary["alerts"]
    assert all(a["event_type"] == "alert" and a["ids_desktop"]["file"] for a in alerts)
    incidents = [json.loads(line) for line in (out / O.INCIDENTS).read_text().splitlines()]
    assert len(incidents) == summary["incidents"]
    known = {i["id"] for i in incidents}
    assert {a["ids_desktop"]["batch_incident_id"] for a in alerts} <= known
    assert not list(out.rglob("*.part"))
    assert child_processes() == []  # the cluster's workers and the meters are gone


def test_a_scan_cut_by_rotation_is_one_incident(batch: BatchResult) -> None:
    names = [sorted(Path(f).name for f in i["files"]) for i in batch.incidents]
    assert ["sensor-0001.pcap", "sensor-0002.pcap"] in [n[:2] for n in names if len(n) >= 2]
    scan = next(i for i in batch.incidents if any("sensor-0001" in f for f in i["files"]))
    assert len(scan["parts"]) >= 2 and scan["family"] == "scan"


def test_rerun_skips_what_is_done_and_bad_input_is_reported(
        batch: BatchResult, captures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "broken.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 3)  # a capture's magic, then nothing
    before = {p: p.stat().st_mtime_ns for p in (batch.out / O.FLOWS).iterdir()}
    code = cli.run(["batch", str(captures), str(bad), "--out", str(batch.out), "--workers", "1",
                    "--json"])
    captured = capsys.readouterr()
    assert code == cli.EXIT_USER
    shown = json.loads(captured.out)
    assert list(shown) == ["captures", "failed", "flows", "flagged", "incidents", "seconds",
                           "scheduler", "workers"]
    assert shown["captures"] == 5 and shown["failed"] == 1 and shown["workers"] == 1
    assert shown["flows"] == batch.summary["flows"]
    assert "broken.pcap: bad input:" in captured.err and len(captured.err.splitlines()) == 1
    summary = json.loads((batch.out / O.SUMMARY).read_text())
    assert summary["skipped"] == 4 and summary["analysed"] == 0
    (failure,) = summary["failures"]
    assert failure["category"] == "bad input" and "\n" not in failure["reason"]
    after = {p: p.stat().st_mtime_ns for p in before}
    assert after == before  # skipped files were not written again


def test_a_changed_file_is_analysed_again(captures: Path, tmp_path: Path) -> None:
    from ids_desktop.synth import attack_captures as A

    one = tmp_path / "in" / "scan.pcap"
    one.parent.mkdir()
    A.write_port_scan(one, ports=20)
    out = tmp_path / "out"
    first = run_batch([one.parent], out, workers=1)
    A.write_port_scan(one, ports=25, seed=9)
    second = run_batch([one.parent], out, workers=1)
    assert first.files[0]["status"] == second.files[0]["status"] == "analysed"
    assert first.files[0]["sha256"] != second.files[0]["sha256"]
    assert len(list((out / O.FLOWS).glob("*.json"))) == 2  # both versions kept, by digest


def test_a_batch_alert_of_an_unusual_incident_says_what_was_unexpected(
    demo_analysis, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """One file through the batch task (no cluster) writes the same ``ml.unexpected`` as the
    report export: the top flow of each incident flagged by the anomaly score alone."""
    from ids_desktop.batch.task import analyse_file
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.report.export import explain_unusual, unexpected_json

    want = unexpected_json(explain_unusual(demo_analysis))
    if not want:
        pytest.skip("the shipped pcap bundle flags no demo flow by its anomaly score alone")
    rec = analyse_file(str(demo_analysis.path), str(tmp_path), AnalysisOptions().to_dict())
    assert rec["status"] == "analysed", rec
    part = O.alerts_part(tmp_path, O.output_stem(demo_analysis.path, demo_analysis.file_sha256))
    alerts = [json.loads(line) for line in part.read_text().splitlines()]
    got = {a["flow_id"]: a["ml"]["unexpected"] for a in alerts if a["ml"]["unexpected"]}
    assert got == want
