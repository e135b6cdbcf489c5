"""The children of a capture read (meters, walker) end when the process reading is killed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")]


def _read(path: str) -> None:
    from ids_desktop.core.ingest import ingest

    ingest(path)


def test_children_end_when_the_reader_is_killed(tmp_path: Path) -> None:
    """A batch worker killed mid-task (or an out-of-memory kill) never ends its meters itself;
    before, a meter outlived it, blocked on its full queue."""
    from ids_desktop.synth.scale_capture import write_scale_capture

    capture = write_scale_capture(tmp_path / "big.pcap", 120, seed=5).path
    proc = multiprocessing.get_context("spawn").Process(target=_read, args=(str(capture),))
    proc.start()
    try:
        deadline = time.monotonic() + 60
        kids: list[psutil.Process] = []
        while len(kids) < 2 and time.monotonic() < deadline and proc.is_alive():
            kids = psutil.Process(proc.pid).children(recursive=True)
            time.sleep(0.05)
        assert kids, "the read started no child process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        _, alive = psutil.wait_procs(kids, timeout=10)
        assert alive == []
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(5)
