"""The command line's outputs did not change: issue 31's redesign kept every verdict.

The golden records in ``tests/data/golden`` were written by ``python -m tests.golden --record``
at commit a5fa28f, before the redesign, and the redesign left them unchanged. A deliberate
change of behaviour re-records them in its own commit, which says why: the host-level detectors
of issue 33 (flows they cover are flagged; the summary's alerts, unusual, by_flagged_by and
findings; the CSV's severity, flagged_by and finding; the EVE severity rule and signature ids;
the anomaly-only verdict named ``anomaly``, not ``attack``), and the inputs the model expected
least for the top flow of each incident flagged by the anomaly score alone (the CSV's
explanation, EVE's ``ml.unexpected``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import golden

pytestmark = pytest.mark.slow


def _load(name: str) -> dict:
    return json.loads((golden.GOLDEN_DIR / f"{name}.json").read_text())


def _same(got: dict, want: dict) -> None:
    assert got["analyze"] == want["analyze"]
    assert got["evaluate"] == want["evaluate"]
    for part in ("csv", "eve"):
        if "content" in want[part] and got[part]["sha256"] != want[part]["sha256"]:
            # a readable first difference instead of two digests
            for i, (g, w) in enumerate(zip(got[part]["content"], want[part]["content"])):
                assert g == w, f"{part} line {i} differs"
        assert {k: v for k, v in got[part].items() if k != "content"} == {
            k: v for k, v in want[part].items() if k != "content"}


def test_the_demo_capture_gives_the_recorded_outputs(tmp_path: Path) -> None:
    _same(golden.demo_outputs(tmp_path), _load("demo"))


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(golden.SHARED_INPUTS))
def test_each_shared_format_gives_the_recorded_outputs(
    name: str, shared_data: Path, tmp_path: Path
) -> None:
    got = golden.outputs(shared_data / golden.SHARED_INPUTS[name], tmp_path, whole=False)
    _same(got, _load(name))
