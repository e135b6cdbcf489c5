"""GUI responsiveness: time to the main window, and the event loop's longest stall during analysis.

A 10 ms QTimer heartbeat runs while a tab analyses each input; the longest gap between two
beats is how long the GUI froze. Inputs: a generated capture (scripts/make_capture.py) and,
when ../shared/data is present, the largest dataset tables (which also run the model).

Usage: .venv/bin/python bench/gui.py [--capture-mb 200]
Prints a table; results go in bench/RESULTS.md by hand with the command.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STARTUP_PROBE = """
import time, sys
t_start = float(sys.argv[1])
from PySide6.QtWidgets import QApplication
from PySide6.QtCore import QTimer, QSettings
app = QApplication([])
from ids_desktop.gui.main_window import MainWindow
w = MainWindow(QSettings(sys.argv[2], QSettings.Format.IniFormat))
w.show()
def done():
    print(f"{time.time() - t_start:.3f}", "tensorflow" in sys.modules)
    app.quit()
QTimer.singleShot(0, done)
app.exec()
"""


def time_to_window(runs: int = 3) -> list[tuple[float, bool]]:
    """Seconds from launching a fresh interpreter to the main window being shown."""
    out = []
    for i in range(runs):
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", STARTUP_PROBE, str(t0), f"/tmp/ids-bench-gui-{i}.ini"],
            capture_output=True, text=True, timeout=120, cwd=REPO,
        )
        secs, tf = proc.stdout.split()
        out.append((float(secs), tf == "True"))
    return out


def heartbeat(path: Path, timeout_s: float = 900) -> dict[str, float]:
    """Analyse ``path`` in a tab; return total seconds, max and p99 heartbeat gaps (ms)."""
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ids_desktop.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(QSettings("/tmp/ids-bench-gui-hb.ini", QSettings.Format.IniFormat))
    window.show()
    clock = QElapsedTimer()
    clock.start()
    gaps: list[int] = []
    last = [clock.elapsed()]

    def beat() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    t0 = time.perf_counter()
    tab = window.open_path(path)
    done = {"flag": False}
    tab.closed_work.connect(lambda: done.update(flag=True))
    while not done["flag"] and time.perf_counter() - t0 < timeout_s:
        app.processEvents()
        time.sleep(0.001)
    total = time.perf_counter() - t0
    # Sort the largest column once, as an analyst would, inside the measured loop.
    t_sort = time.perf_counter()
    if tab.model.columnCount():
        tab.model.sort(0)
    sort_s = time.perf_counter() - t_sort
    for _ in range(20):
        app.processEvents()
        time.sleep(0.01)
    timer.stop()
    rows = len(tab.analysis.flows) if tab.analysis is not None else 0
    window.close()
    ordered = sorted(gaps)
    p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0
    return {"seconds": total, "rows": rows, "max_gap_ms": max(gaps or [0]), "p99_gap_ms": p99, "sort_s": sort_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture-mb", type=float, default=200)
    args = parser.parse_args()
    print("time to main window (fresh interpreter):")
    for secs, tf in time_to_window():
        print(f"  {secs:6.2f} s   tensorflow imported before window: {tf}")
    inputs: list[Path] = []
    cap = REPO / "bench" / "out" / f"gui-mixed-{int(args.capture_mb)}.pcap"
    if not cap.exists():
        from make_capture import write_mixed_capture

        cap.parent.mkdir(parents=True, exist_ok=True)
        write_mixed_capture(cap, args.capture_mb, seed=1)
    inputs.append(cap)
    shared = REPO.parent / "shared" / "data"
    for rel in ("ton_iot/train_test_network.dev80.csv.gz", "unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz"):
        if (shared / rel).exists():
            inputs.append(shared / rel)
    print(f"\n{'input':<48} {'rows':>10} {'total s':>8} {'max stall ms':>13} {'p99 gap ms':>11} {'sort s':>7}")
    for path in inputs:
        r = heartbeat(path)
        print(f"{path.name:<48} {r['rows']:>10,} {r['seconds']:>8.1f} {r['max_gap_ms']:>13.0f} "
              f"{r['p99_gap_ms']:>11.0f} {r['sort_s']:>7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
