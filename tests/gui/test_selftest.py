"""`ids-desktop --selftest` analyses a generated input, explains the top flow and saves a PNG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from tests.test_cli import write_unsw  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def test_selftest_writes_screenshot(tmp_path: Path) -> None:
    if not (REPO / "models" / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    data = write_unsw(tmp_path / "t.csv",
                      [("Normal", 0), ("Exploits", 1), ("DoS", 1), ("Generic", 1)] * 5)
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    proc = subprocess.run(
        [sys.executable, "-m", "ids_desktop.app", "--selftest", str(data),
         "--screenshot", str(out)],
        capture_output=True, text=True, timeout=320, env=env, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 10_000
    # The window has the size the app gives it on this screen (never more than its default),
    # not a size of the selftest's own that a laptop's screen could not show.
    from ids_desktop.gui.main_window import DEFAULT_SIZE

    width, height = (int.from_bytes(out.read_bytes()[i:i + 4], "big") for i in (16, 20))
    assert width <= DEFAULT_SIZE[0] and height <= DEFAULT_SIZE[1]


def test_selftest_fails_cleanly_on_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all" * 10)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run(
        [sys.executable, "-m", "ids_desktop.app", "--selftest", str(bad),
         "--screenshot", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=320, env=env, cwd=REPO,
    )
    assert proc.returncode == 1
    assert "selftest failed" in proc.stderr
    assert "Traceback" not in proc.stderr
