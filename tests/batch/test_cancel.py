"""Cancel mid-run: no worker or meter process left, no partial output file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ids_desktop.batch import run_batch
from ids_desktop.batch.task import DELAY_ENV
from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError
from tests.batch.conftest import child_processes

pytestmark = pytest.mark.slow


def test_cancel_while_tasks_run_leaves_nothing_behind(captures: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ids_desktop.synth.mixed_capture import write_mixed_capture

    # one capture big enough for nfstream's meters to be busy when the cancel comes, and the
    # small ones held back by the test hook: every worker is inside a task
    big = tmp_path / "in" / "big.pcap"
    write_mixed_capture(big, 40, seed=3)
    for p in sorted(captures.glob("*.pcap")):
        (tmp_path / "in" / f"slow-{p.name}").write_bytes(p.read_bytes())
    monkeypatch.setenv(DELAY_ENV, "slow-*=60")
    token = CancelToken()
    stages: list[tuple[float, str]] = []
    out = tmp_path / "out"
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            run_batch([tmp_path / "in"], out, workers=2,
                      progress=lambda d, t, s: stages.append((d, s)), cancel=token)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 60
    while not any(s == "analysing files" for _, s in stages) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)  # the tasks have started: the big capture is being read
    t0 = time.monotonic()
    token.cancel()
    thread.join(90)
    assert not thread.is_alive()
    assert isinstance(outcome[0], CancelledError)
    assert time.monotonic() - t0 < 40
    assert child_processes() == []
    assert not list(out.rglob("*.part")) and not list(out.rglob(".*"))
    assert not (out / "summary.json").exists()
    # nothing was half written: any file a task finished is whole (its manifest last)
    for manifest in (out / "flows").glob("*.json"):
        assert manifest.with_suffix(".parquet").is_file()
