"""GUI responsiveness: time to the main window, the event loop's longest stall, a million rows.

1. Time to window: a fresh interpreter builds the main window and paints it once.
2. Stalls: a 10 ms QTimer heartbeat runs while a tab analyses each input and then explains
   its top flow; the longest gap between two beats is how long the GUI froze, and its "app"
   share excludes the time the GUI thread waited for a CPU taken by other processes (see
   ``heartbeat``). Inputs: an idle control, a generated capture (scripts/make_capture.py)
   and, when ../shared/data is present, the largest dataset tables (which also run the model).
3. A million rows: a synthetic 1,000,000-row scored frame is handed to a tab as a finished
   analysis (as the worker would), then sorted, filtered and scrolled, each step timed.

Usage: .venv/bin/python bench/gui.py [--capture-mb 200 | --capture PATH] [--rows 1000000]
[--skip-inputs] [--dump-ms 80 --dump-file stalls.txt]

``--dump-ms`` is a diagnostic: each heartbeat re-arms a :mod:`faulthandler` watchdog, so when
the GUI thread misses that many ms every thread's Python stack goes to ``--dump-file`` (the
thread holding the GIL is the one not waiting in ``take_gil``/``sleep``/``wait``).
Prints tables; results go in bench/RESULTS.md by hand with the command.
"""

from __future__ import annotations

import argparse
import atexit
import faulthandler
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# explanations are computed, never read from the user's cache of an earlier run
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="ids-bench-gui-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)

STARTUP_PROBE = """
import threading, time, sys
t_start = float(sys.argv[1])
from PySide6.QtWidgets import QApplication, QMainWindow
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, QTimer, QSettings
app = QApplication([])
result = {}
clock = QElapsedTimer()
gaps = []

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        painted = event.type() == QEvent.Type.Paint and isinstance(obj, QMainWindow)
        if painted and "paint" not in result:
            result["paint"] = time.time() - t_start
            result["tf"] = "tensorflow" in sys.modules
            clock.start()
            beat.start()
        return False

def sched():
    try:
        with open("/proc/thread-self/schedstat") as fh:
            return int(fh.read().split()[1])
    except (OSError, ValueError):
        return 0

last_wait = [0]

def on_beat():
    waited = sched()
    gap = clock.restart()
    # minus the run-queue wait
    gaps.append(gap - (waited - last_wait[0]) / 1e6 if last_wait[0] else gap)
    last_wait[0] = waited
    warm = [t for t in threading.enumerate() if t.name == "ids-warm-up"]
    if not warm and len(gaps) > 50:  # the background warm-up is over: report
        print(f"{result['paint']:.3f}", result["tf"], int(max(gaps)))
        app.quit()

beat = QTimer(interval=10)
beat.timeout.connect(on_beat)
probe = FirstPaint()
app.installEventFilter(probe)
from ids_desktop.app import open_window  # what ids-desktop runs: window, then background warm-up
w = open_window([], QSettings(sys.argv[2], QSettings.Format.IniFormat))
QTimer.singleShot(60000, app.quit)
app.exec()
"""


def time_to_window(runs: int = 3) -> list[tuple[float, bool, int]]:
    """Seconds from launching a fresh interpreter to the main window's first paint; whether
    TensorFlow was imported by then; the longest event-loop stall (ms, minus the GUI thread's
    wait for a CPU, see :func:`heartbeat`) while the analysis modules are warmed up in the
    background after the window shows."""
    out = []
    for i in range(runs):
        t0 = time.time()
        proc = subprocess.run(
            [sys.executable, "-c", STARTUP_PROBE, str(t0), f"/tmp/ids-bench-gui-{i}.ini"],
            capture_output=True, text=True, timeout=120, cwd=REPO,
        )
        secs, tf, stall = proc.stdout.split()
        out.append((float(secs), tf == "True", int(stall)))
    return out


def schedstat() -> tuple[int, int] | None:
    """(ns on CPU, ns waiting in the run queue) of the calling thread; None off Linux."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as fh:
            on_cpu, waiting, _ = fh.read().split()
        return int(on_cpu), int(waiting)
    except (OSError, ValueError):
        return None


def others_waiting() -> dict[str, int]:
    """Run-queue wait (ns) of every thread of this process, by thread id; {} off Linux."""
    out = {}
    try:
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/schedstat", encoding="ascii") as fh:
                    out[task] = int(fh.read().split()[1])
            except (OSError, ValueError, IndexError):
                continue
    except OSError:
        pass
    return out


def heartbeat(path: Path | None, timeout_s: float = 900, idle_s: float = 10,
              dump_ms: float = 0, dump_file: Any = None) -> dict[str, Any]:
    """Analyse ``path`` in a tab; return total seconds, max and p99 heartbeat gaps (ms).

    With ``path=None`` the window idles for ``idle_s`` seconds: the control run, which shows
    how late a timer fires on this machine when the app itself does nothing.

    On a shared machine the GUI thread also waits for a CPU: each gap is split, from the GUI
    thread's ``/proc`` schedstat, into time *on CPU* (the GUI thread itself was busy), time
    *in the run queue* (runnable, but the machine's CPUs were taken by other processes) and
    the rest (blocked: waiting for the GIL, or idle sleep). A thread holding the GIL can itself
    be waiting for a CPU; the longest run-queue wait of the process's other threads during the
    gap (capped at the blocked time) is counted as the machine's too. ``max_app_ms`` is the
    longest gap minus both, i.e. the part the app is responsible for.
    """
    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ids_desktop.app import open_window

    app = QApplication.instance() or QApplication([])
    # as ids-desktop starts: the window, then the background warm-up of the analysis modules,
    # which a user who opens a file a couple of seconds after launch finds finished
    window = open_window([], QSettings("/tmp/ids-bench-gui-hb.ini", QSettings.Format.IniFormat))
    warm = [t for t in threading.enumerate() if t.name == "ids-warm-up"]
    while any(t.is_alive() for t in warm):
        app.processEvents()
        time.sleep(0.01)
    clock = QElapsedTimer()
    clock.start()
    gaps: list[int] = []
    app_gaps: list[float] = []  # gap minus run-queue wait (ms)
    # beats over 100 ms: (gap, on-CPU, run-queue, the GIL holder's run-queue ms, stage)
    late: list[tuple[int, float, float, float, str]] = []
    last = [clock.elapsed()]
    last_sched = [schedstat()]
    last_others = [others_waiting()]
    me = str(threading.get_native_id())
    holder: dict[str, Any] = {}

    def beat() -> None:
        now = clock.elapsed()
        sched = schedstat()
        others = others_waiting()
        gap = now - last[0]
        gaps.append(gap)
        on_cpu = queued = 0.0
        if sched is not None and last_sched[0] is not None:
            on_cpu = (sched[0] - last_sched[0][0]) / 1e6
            queued = (sched[1] - last_sched[0][1]) / 1e6
        blocked = max(0.0, gap - on_cpu - queued)
        holder_queued = max([(w - last_others[0].get(t, w)) / 1e6
                             for t, w in others.items() if t != me] or [0.0])
        app_gaps.append(max(0.0, gap - queued - min(blocked, holder_queued)))
        if gap > 100:
            late.append((gap, on_cpu, queued, min(blocked, holder_queued),
                         holder["tab"].stage.text() if "tab" in holder else "idle"))
        last[0] = now
        last_sched[0] = sched
        last_others[0] = others
        if dump_ms and dump_file is not None:
            if gap > dump_ms:  # the stacks just above were dumped during this beat
                dump_file.write(f"=== that was a {gap} ms beat ({on_cpu:.0f} on CPU, "
                                f"{queued:.0f} queued)\n")
            faulthandler.dump_traceback_later(dump_ms / 1000, file=dump_file)

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    t0 = time.perf_counter()
    if path is None:
        while time.perf_counter() - t0 < idle_s:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        faulthandler.cancel_dump_traceback_later()
        window.close()
        ordered = sorted(gaps)
        return {"seconds": idle_s, "rows": 0, "max_gap_ms": max(gaps or [0]),
                "p99_gap_ms": ordered[int(0.99 * (len(ordered) - 1))], "sort_s": 0.0,
                "first_rows_s": float("nan"), "previews": 0, "late": worst_beats(late),
                "max_app_ms": max(app_gaps or [0]), "explain_app_ms": float("nan")}
    tab = window.open_path(path)
    holder["tab"] = tab
    preview = {"first_s": None}
    tab.model.modelReset.connect(
        lambda: preview["first_s"] is None and tab.model.rowCount()
        and preview.update(first_s=time.perf_counter() - t0)
    )
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
    # Explain the top flow, as an analyst would next, still under the heartbeat.
    explain_gap = float("nan")
    if tab.analysis is not None and tab.analysis.summary is not None and tab.model.rowCount():
        explained: list[object] = []
        tab.explained.connect(explained.append)
        before = len(gaps)
        tab.table.selectRow(0)
        t_exp = time.perf_counter()
        while not explained and time.perf_counter() - t_exp < 120:
            app.processEvents()
            time.sleep(0.001)
        explain_gap = max(app_gaps[before:] or [0])
    timer.stop()
    faulthandler.cancel_dump_traceback_later()
    rows = len(tab.analysis.flows) if tab.analysis is not None else 0
    window.close()
    ordered = sorted(gaps)
    p99 = ordered[int(0.99 * (len(ordered) - 1))] if ordered else 0
    return {"seconds": total, "rows": rows, "max_gap_ms": max(gaps or [0]), "p99_gap_ms": p99,
            "sort_s": sort_s, "first_rows_s": preview["first_s"] or float("nan"),
            "previews": tab.preview.updates,
            "late": worst_beats(late), "max_app_ms": max(app_gaps or [0]),
            "explain_app_ms": explain_gap}


def worst_beats(late: list[tuple[int, float, float, float, str]], n: int = 3) -> list:
    """The ``n`` late beats with the largest app share (the gap minus the machine's waits)."""
    return sorted(late, key=lambda beat: beat[0] - beat[2] - beat[3], reverse=True)[:n]


def clock() -> tuple[float, float]:
    """(wall, this thread's CPU) seconds."""
    return time.perf_counter(), time.thread_time()


def since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = clock()
    return wall - start[0], cpu - start[1]


def synthetic_scored_frame(rows: int, features: int = 60, seed: int = 0):  # type: ignore[no-untyped-def]
    """A scored analysis frame shaped like a capture's: identity, verdicts, ``features`` numbers."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    hosts = np.array([f"10.0.{i // 250}.{i % 250 + 1}" for i in range(5000)], dtype=object)
    classes = np.array(["benign", "scan", "dos", "brute-force", "exploit", "botnet"], dtype=object)
    apps = np.array(["HTTP", "TLS", "DNS", "SSH", "NTP", "QUIC", "SMB", None], dtype=object)
    score = rng.random(rows)
    cls = np.where(score > 0.8, classes[rng.integers(1, len(classes), rows)], "benign")
    t0 = 1_700_000_000.0 + np.sort(rng.random(rows)) * 86_400
    data = {
        "flow_id": rng.integers(0, 2**62, rows),
        "src_ip": pd.array(hosts[rng.integers(0, len(hosts), rows)], dtype="string"),
        "src_port": pd.array(rng.integers(1024, 65535, rows), dtype="Int64"),
        "dst_ip": pd.array(hosts[rng.integers(0, len(hosts), rows)], dtype="string"),
        "dst_port": pd.array(rng.choice([22, 53, 80, 123, 443, 445, 8080], rows), dtype="Int64"),
        "protocol": pd.array(rng.choice([6, 17], rows), dtype="Int64"),
        "first_seen": t0,
        "last_seen": t0 + rng.exponential(2.0, rows),
        "application": pd.array(apps[rng.integers(0, len(apps), rows)], dtype="string"),
        "label_binary": pd.array([pd.NA] * rows, dtype="Int8"),
        "label_class": pd.array([pd.NA] * rows, dtype="string"),
        "label_original": pd.array([pd.NA] * rows, dtype="string"),
    }
    for j in range(features):
        data[f"feature_{j:02d}"] = rng.lognormal(3, 2, rows)
    data["pred_class"] = pd.array(cls, dtype="string")
    data["pred_score"] = score
    data["anomaly_score"] = rng.random(rows)
    data["flagged"] = score > 0.8
    return pd.DataFrame(data)


class StandInBundle:
    """Names the model of the synthetic table; its flows are explained as those of a missing
    bundle would be: not at all (a :class:`~ids_desktop.errors.ModelError` in the pane)."""

    name = "synthetic"
    seq_len = 1
    metadata: ClassVar[dict[str, Any]] = {}

    @property
    def preprocessor(self) -> Any:
        from ids_desktop.errors import ModelError

        raise ModelError("the synthetic table has no model bundle to explain with")


def million_rows(rows: int, repeats: int = 3) -> dict[str, tuple[float, float]]:
    """Load, sort, filter and scroll a ``rows``-row scored frame in a tab.

    Each step gives (wall seconds, GUI-thread CPU seconds): on a shared machine the wall time
    includes waiting for a CPU, the CPU time is what the step itself costs.
    """
    import statistics

    import numpy as np
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from ids_desktop.core.analysis import Analysis, ModelRun
    from ids_desktop.core.ingest.result import IngestResult
    from ids_desktop.core.model.bundle import Scores
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.gui.analysis_tab import AnalysisTab
    from ids_desktop.gui.tab_tasks import view_data

    app = QApplication.instance() or QApplication([])
    frame = synthetic_scored_frame(rows)
    result = IngestResult(frame=frame, format="pcap", feature_format="pcap", temporal=True,
                          source=Path("synthetic.pcap"))
    # a scored analysis as run_analysis returns it, from a stand-in bundle (no model runs)
    n = len(frame)
    scores = Scores(np.zeros((n, 1)), frame["pred_score"].to_numpy(),
                    frame["anomaly_score"].to_numpy(), frame["flagged"].to_numpy(),
                    frame["pred_class"].array)
    bundle = StandInBundle()
    run = ModelRun(bundle, np.zeros((0, 0)), np.zeros((0, 0)), scores, 0.5, 0.0)  # type: ignore[arg-type]
    analysis = Analysis(Path("synthetic.pcap"), AnalysisOptions(), result, "", frame, run)
    out: dict[str, float] = {}
    settings = QSettings("/tmp/ids-bench-gui-1m.ini", QSettings.Format.IniFormat)
    tab = AnalysisTab(Path("synthetic.pcap"), None, settings)
    tab.resize(1400, 900)
    tab.show()
    app.processEvents()
    t = clock()
    view = view_data(analysis)  # the analysis task's share, off the GUI thread
    out["worker prepare (off GUI thread)"] = since(t)
    t = clock()
    tab.show_analysis(analysis, view)  # what the analysis task's result does
    tab.table.viewport().repaint()
    out["swap in result + first paint"] = since(t)
    cols = tab.model.columns()

    def timed(label: str, fn) -> None:  # type: ignore[no-untyped-def]
        runs = []
        for _ in range(repeats):
            t0 = clock()
            fn()
            tab.table.viewport().repaint()
            runs.append(since(t0))
        out[label] = min(runs)
        out[label + " (worst)"] = max(runs)

    tab.flagged_only.setChecked(False)
    tab.apply_filters()
    timed("sort pred_score (numeric, desc)",
          lambda: tab.table.sortByColumn(cols.index("pred_score"), Qt.SortOrder.DescendingOrder))
    timed("sort feature_07 (numeric, asc)",
          lambda: tab.table.sortByColumn(cols.index("feature_07"), Qt.SortOrder.AscendingOrder))
    timed("sort src_ip (text)",
          lambda: tab.table.sortByColumn(cols.index("src_ip"), Qt.SortOrder.AscendingOrder))
    tab.table.sortByColumn(cols.index("pred_score"), Qt.SortOrder.DescendingOrder)

    def set_filter(text: str = "", flagged: bool = False, cls: str | None = None) -> None:
        tab.model.set_filter(text, flagged_only=flagged, classes=None if cls is None else {cls},
                             min_score=None)

    timed("filter flagged only", lambda: set_filter(flagged=True))
    timed("filter class = scan", lambda: set_filter(cls="scan"))
    timed("filter text '10.0.7.'", lambda: set_filter("10.0.7."))
    timed("clear filter", lambda: set_filter())
    # scroll: jump across the whole table, and page down through the middle, painting each step
    n = tab.model.rowCount()
    jumps = []
    for step in range(41):
        t0 = clock()
        tab.table.scrollTo(tab.model.index(min(n - 1, step * (n - 1) // 40), 0))
        tab.table.viewport().repaint()
        jumps.append(since(t0))
    bar = tab.table.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    pages = []
    for _ in range(60):
        t0 = clock()
        bar.setValue(bar.value() + bar.pageStep())
        tab.table.viewport().repaint()
        pages.append(since(t0))
    for label, steps in (("scroll jump", jumps), ("page down", pages)):
        out[f"{label}, median paint"] = (statistics.median(w for w, _ in steps),
                                         statistics.median(c for _, c in steps))
        out[f"{label}, worst paint"] = max(steps)
    t = clock()
    tab.table.selectRow(0)
    out["select a row (fields pane)"] = since(t)
    tab.close()
    tab.deleteLater()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capture-mb", type=float, default=200)
    parser.add_argument("--capture", type=Path,
                        help="analyse this capture instead of generating one")
    parser.add_argument("--rows", type=int, default=1_000_000,
                        help="rows of the synthetic table (0: skip)")
    parser.add_argument("--skip-inputs", action="store_true",
                        help="skip the heartbeat over real inputs")
    parser.add_argument("--dump-ms", type=float, default=0,
                        help="diagnostic: dump every thread's stack when a beat is this late")
    parser.add_argument("--dump-file", type=Path, default=Path("gui-stalls.txt"))
    args = parser.parse_args()
    dump_file = open(args.dump_file, "w", buffering=1) if args.dump_ms else None
    print("time to main window's first paint (fresh interpreter):")
    for secs, tf, stall in time_to_window():
        print(f"  {secs:6.2f} s   tensorflow imported before window: {tf}; "
              f"longest stall (app share) during the background warm-up: {stall} ms")
    if args.rows:
        print(f"\n{args.rows:,} scored rows in a tab "
              "(best of 3, and worst; wall ms / GUI-thread CPU ms):")
        for label, (wall, cpu) in million_rows(args.rows).items():
            print(f"  {label:<40} {wall * 1000:9.1f} {cpu * 1000:9.1f}")
    if args.skip_inputs:
        return 0
    inputs: list[Path] = []
    cap = args.capture or REPO / "bench" / "out" / f"gui-mixed-{int(args.capture_mb)}.pcap"
    if args.capture is not None and not cap.exists():
        parser.error(f"{cap}: no such capture")
    if not cap.exists():
        from ids_desktop.synth.mixed_capture import write_mixed_capture

        cap.parent.mkdir(parents=True, exist_ok=True)
        write_mixed_capture(cap, args.capture_mb, seed=1)
    inputs.append(cap)
    shared = REPO.parent / "shared" / "data"
    for rel in ("ton_iot/train_test_network.dev80.csv.gz",
                "unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz"):
        if (shared / rel).exists():
            inputs.append(shared / rel)
    print(f"\n{'input':<48} {'rows':>10} {'total s':>8} {'first rows s':>12} {'previews':>8} "
          f"{'max stall ms':>13} {'app ms':>7} {'p99 gap ms':>11} {'sort s':>7} "
          f"{'explain app ms':>15}")
    for path in [None, *inputs]:
        r = heartbeat(path, dump_ms=args.dump_ms, dump_file=dump_file)
        name = "(control: idle window, no analysis, 10 s)" if path is None else path.name
        print(f"{name:<48} {r['rows']:>10,} {r['seconds']:>8.1f} {r['first_rows_s']:>12.1f} "
              f"{r['previews']:>8} {r['max_gap_ms']:>13.0f} {r['max_app_ms']:>7.0f} "
              f"{r['p99_gap_ms']:>11.0f} {r['sort_s']:>7.3f} {r['explain_app_ms']:>15.0f}")
        for gap, on_cpu, queued, holder_queued, stage in r["late"]:
            blocked = max(0.0, gap - on_cpu - queued)
            print(f"    late beat: {gap} ms (app {gap - queued - holder_queued:.0f}) = "
                  f"{on_cpu:.0f} on CPU + {queued:.0f} in the run queue + "
                  f"{blocked:.0f} blocked (GIL; of which {holder_queued:.0f} while another "
                  f"thread of the app waited for a CPU); tab said {stage!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
