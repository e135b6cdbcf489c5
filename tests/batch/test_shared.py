"""``batch`` on the shared attack captures gives every file the flow and flagged counts of
``analyze`` (issue 36, "Done when")."""

from __future__ import annotations

from pathlib import Path

import pytest

from ids_desktop.batch import run_batch
from ids_desktop.core.workflow import run_analysis
from ids_desktop.errors import IdsError

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def test_batch_on_the_shared_attack_captures_counts_like_analyze(
        shared_data: Path, pcap_bundle: None, tmp_path: Path) -> None:
    folder = shared_data / "pcaps" / "attack"
    if not folder.is_dir():
        pytest.skip("../shared/data/pcaps/attack is absent")
    batch = run_batch([folder], tmp_path / "out", workers=2)
    assert batch.summary["captures"] == len([p for p in folder.iterdir()
                                             if p.suffix in (".pcap", ".pcapng")])
    for rec in batch.files:
        try:
            one = run_analysis(rec["path"]).summary
        except IdsError as exc:
            assert rec["status"] == "failed" and rec["category"] == "bad input", (rec, exc)
            continue
        assert one is not None
        assert (rec["status"], rec["flows"], rec["flagged"]) == (
            "analysed", one["flows"], one["flagged"]), rec["path"]
