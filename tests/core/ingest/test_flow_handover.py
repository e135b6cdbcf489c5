"""The optional ``on_flows`` hook hands unscored flows over before the analysis finishes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ids_desktop.core.ingest.capture import read_capture
from ids_desktop.core.workflow import run_analysis
from ids_desktop.synth.mixed_capture import write_mixed_capture
from tests.test_cli import write_unsw


def test_capture_hands_every_flow_over_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # a batch per 256 flows
    monkeypatch.setattr("ids_desktop.core.ingest.capture.HANDOVER_EVERY_S", 0.0)
    path = tmp_path / "mixed.pcap"
    write_mixed_capture(path, 1.0, seed=3)
    batches: list[pd.DataFrame] = []
    result = read_capture(path, n_meters=1, on_flows=batches.append)
    assert batches and all(len(b) for b in batches)
    seen = pd.concat(batches, ignore_index=True)
    assert len(seen) == len(result.frame)
    assert sorted(seen["flow_id"]) == sorted(result.frame["flow_id"])  # no shared ids here
    assert list(seen.columns) == list(result.frame.columns)
    # handed over in pieces, not at the end only
    assert len(result.frame) > 256 and len(batches) > 1


def test_run_analysis_hands_a_table_over_once_before_scoring(tmp_path: Path) -> None:
    path = write_unsw(tmp_path / "t.csv", [("Normal", 0), ("Exploits", 1), ("DoS", 1)])
    batches: list[pd.DataFrame] = []
    run_analysis(path, on_flows=batches.append)
    assert len(batches) == 1 and len(batches[0]) == 3
    assert "pred_class" not in batches[0].columns  # unscored


def test_without_hook_nothing_changes(tmp_path: Path) -> None:
    path = write_unsw(tmp_path / "t.csv", [("Normal", 0)])
    assert len(run_analysis(path).flows) == 1
