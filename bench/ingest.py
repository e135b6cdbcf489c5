"""Benchmark capture ingest: the app's ingest() against bare nfstream on the same captures.

Each measurement runs in a fresh subprocess (``--worker``) so that peak memory is per run; the
parent samples the resident memory of the worker and its meter processes every 50 ms, and the
worker reports its own and its children's CPU time and ``ru_maxrss``.

Usage::

    python bench/ingest.py                      # 200 MiB + 100 MiB generated, shared captures
    python bench/ingest.py --size-mb 200 --small-mb 100 --repeat 5 [--no-shared]

Generated captures go to bench/out/ (git-ignored); they are rebuilt only when missing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
SHARED = REPO.parent / "shared" / "data" / "pcaps"
SHARED_SETS = ("attack", "benign", "benign-apps")


# --------------------------------------------------------------------------------------------
# Worker side (one process per measurement)
# --------------------------------------------------------------------------------------------


def _peak_concurrent(frame, idle_timeout: float) -> int:
    """Most flows a meter held at once: each is cached from first_seen to last_seen + idle."""
    import numpy as np

    if len(frame) == 0:
        return 0
    starts = frame["first_seen"].to_numpy()
    ends = frame["last_seen"].to_numpy() + idle_timeout
    times = np.concatenate([starts, ends])
    steps = np.concatenate([np.ones(len(starts)), -np.ones(len(ends))])
    order = np.lexsort((steps, times))  # ends before starts at equal times
    return int(np.cumsum(steps[order]).max())


def worker(mode: str, files: list[str]) -> dict:
    """Ingest ``files`` one after another with ``mode`` (``app`` or ``bare``)."""
    # Import everything first so both modes time only the work.
    import pandas  # noqa: F401
    from nfstream import NFStreamer

    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.options import DEFAULT_ACTIVE_TIMEOUT, DEFAULT_IDLE_TIMEOUT

    # capture to verdicts: ingest + the auto-chosen bundle (bench/capture_model.py)
    if mode == "verdicts":
        import onnxruntime  # noqa: F401  (imports are not the work being timed)

        from ids_desktop.core.workflow import run_analysis

    idle, active = int(DEFAULT_IDLE_TIMEOUT), int(DEFAULT_ACTIVE_TIMEOUT)
    flows = packets = 0
    peak_cache = 0
    cpu0 = time.process_time()
    start = time.perf_counter()
    for path in files:
        if mode == "bare":
            streamer = NFStreamer(
                source=path, statistical_analysis=True, idle_timeout=idle, active_timeout=active
            )
            for flow in streamer:
                flows += 1
                packets += flow.bidirectional_packets
        elif mode == "verdicts":
            analysis = run_analysis(path)
            flows += len(analysis.flows)
            packets += int(analysis.result.meta["packets_in_flows"])
            flagged = int(analysis.flows["flagged"].sum())
        else:
            result = ingest(path)
            flows += len(result.frame)
            packets += int(result.meta["packets_in_flows"])
            if len(files) == 1:
                peak_cache = _peak_concurrent(result.frame, idle)
    wall = time.perf_counter() - start
    cpu_self = time.process_time() - cpu0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "mode": mode,
        "wall": wall,
        "flows": flows,
        "packets": packets,
        "cpu_self": cpu_self,
        "cpu_children": children.ru_utime + children.ru_stime,
        "maxrss_self_mb": me.ru_maxrss / 1024,
        "maxrss_children_mb": children.ru_maxrss / 1024,
        "peak_cache_flows": peak_cache,
        **({"flagged": flagged, "bundle": analysis.model_name} if mode == "verdicts" else {}),
    }


# --------------------------------------------------------------------------------------------
# Parent side
# --------------------------------------------------------------------------------------------


def sample_rss(
    pid: int, stop: threading.Event, peaks: dict[str, float], every: float = 0.05
) -> None:
    """Track peak RSS (MiB) of the process, of its children (meters) and of the whole tree.

    ``peaks`` gets the keys ``parent``, ``children`` and ``tree``; bench/scale.py reuses it.
    """
    import psutil

    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    children: list = []
    refresh_at = 0.0
    while not stop.is_set():
        try:
            own = proc.memory_info().rss
            now = time.monotonic()
            if now >= refresh_at:  # listing children scans /proc: do it less often
                children = proc.children(recursive=True)
                refresh_at = now + 0.25
            kids = 0
            for child in children:
                try:
                    kids += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        peaks["parent"] = max(peaks["parent"], own / 2**20)
        peaks["children"] = max(peaks["children"], kids / 2**20)
        peaks["tree"] = max(peaks["tree"], (own + kids) / 2**20)
        stop.wait(every)


def measure(mode: str, files: list[Path]) -> dict:
    """Run one worker subprocess and return its report plus sampled peak RSS."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as fh:
        fh.write("\n".join(str(p) for p in files))
        listing = fh.name
    try:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", mode, "--files-from", listing],
            stdout=subprocess.PIPE,
            text=True,
            cwd=tempfile.gettempdir(),  # nfstream must not litter the repo
        )
        peaks = {"parent": 0.0, "children": 0.0, "tree": 0.0}
        stop = threading.Event()
        sampler = threading.Thread(target=sample_rss, args=(proc.pid, stop, peaks), daemon=True)
        sampler.start()
        out, _ = proc.communicate()
        stop.set()
        sampler.join()
    finally:
        os.unlink(listing)
    if proc.returncode != 0:
        raise SystemExit(f"worker {mode} failed with exit code {proc.returncode}")
    report = json.loads(out.strip().splitlines()[-1])
    report.update({f"rss_{k}_mb": v for k, v in peaks.items()})
    return report


def ensure_capture(size_mb: float, seed: int) -> Path:
    """The mixed capture of this size and seed in bench/out, generated when missing."""
    # Imported here, not at the top: the measured worker re-runs this file and must load
    # nothing but what each mode measures.
    from ids_desktop.synth.mixed_capture import write_mixed_capture

    path = OUT / f"mixed-{size_mb:g}mb-seed{seed}.pcap"
    if not path.is_file():
        stats = write_mixed_capture(path, size_mb, seed=seed)
        print(
            f"generated {path.name}: {stats.packets:,} packets, {stats.conversations:,} "
            f"conversations, {stats.duration_s:.0f} s of traffic, "
            f"in {stats.seconds_to_write:.1f} s",
            flush=True,
        )
    return path


def _fmt_rate(x: float) -> str:
    return f"{x / 1000:,.1f}k"


def run(args: argparse.Namespace) -> int:
    """Measure every dataset in both modes and print a Markdown table."""
    datasets: list[tuple[str, list[Path]]] = []
    big = ensure_capture(args.size_mb, 0)
    datasets.append((f"generated {args.size_mb:g} MiB", [big]))
    if args.small_mb:
        small = ensure_capture(args.small_mb, 0)
        datasets.append((f"generated {args.small_mb:g} MiB", [small]))
    if not args.no_shared and SHARED.is_dir():
        files = sorted(p for s in SHARED_SETS for p in (SHARED / s).iterdir() if p.is_file())
        datasets.append((f"shared attack+benign+benign-apps ({len(files)} files)", files))

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average at start {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    started = time.perf_counter()
    rows = []
    summary = []
    for name, files in datasets:
        size = sum(p.stat().st_size for p in files)
        runs: dict[str, list[dict]] = {"app": [], "bare": []}
        for rep in range(args.repeat):
            order = ("bare", "app") if rep % 2 == 0 else ("app", "bare")
            for mode in order:
                report = measure(mode, files)
                runs[mode].append(report)
                print(f"  {name} {mode} run {rep + 1}: {report['wall']:.2f} s, "
                      f"{report['flows']:,} flows", flush=True)  # fmt: skip
        med = {}
        for mode in ("bare", "app"):
            rs = runs[mode]
            wall = statistics.median(r["wall"] for r in rs)
            cpu = statistics.median(r["cpu_self"] + r["cpu_children"] for r in rs)
            med[mode] = (wall, cpu)
            r0 = rs[0]
            rows.append(
                f"| {name} | {size / 2**20:,.1f} | {mode} | {r0['packets']:,} | {r0['flows']:,} "
                f"| {wall:.2f} ({min(r['wall'] for r in rs):.2f}-{max(r['wall'] for r in rs):.2f}) "
                f"| {_fmt_rate(r0['packets'] / wall)} | {_fmt_rate(r0['flows'] / wall)} "
                f"| {cpu:.2f} "
                f"| {max(r['rss_tree_mb'] for r in rs):,.0f} "
                f"| {max(r['rss_parent_mb'] for r in rs):,.0f} "
                f"| {max(r['rss_children_mb'] for r in rs):,.0f} "
                f"| {max(r['maxrss_children_mb'] for r in rs):,.0f} |"
            )
        wall_ratio = med["bare"][0] / med["app"][0]
        best_ratio = min(r["wall"] for r in runs["bare"]) / min(r["wall"] for r in runs["app"])
        # Each repetition runs bare and app back to back, so they share the machine's load.
        pair_ratio = statistics.median(
            b["wall"] / a["wall"] for b, a in zip(runs["bare"], runs["app"])
        )
        cpu_ratio = med["bare"][1] / med["app"][1]
        summary.append(
            f"| {name} | {wall_ratio:.2f}x | {pair_ratio:.2f}x | {best_ratio:.2f}x "
            f"| {cpu_ratio:.2f}x | {runs['app'][0]['peak_cache_flows'] or '-'} |"
        )
    print()
    print("| captures | MiB | mode | packets | flows | wall s median (min-max) | packets/s "
          "| flows/s | CPU s (worker + meters) | peak RSS tree MiB | peak RSS worker MiB "
          "| peak RSS meters MiB | meter ru_maxrss MiB |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print("| captures | app/bare throughput (median wall) | median of paired runs "
          "| best wall | CPU time | peak flows held by the meter |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    print("\n".join(summary))
    print(f"\n{time.perf_counter() - started:.0f} s in all; load average at end "
          f"{os.getloadavg()[0]:.2f}")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size-mb", type=float, default=200.0)
    parser.add_argument(
        "--small-mb", type=float, default=100.0,
        help="second generated capture for the memory comparison (0: skip)",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-shared", action="store_true")
    parser.add_argument("--worker", choices=("app", "bare", "verdicts"), help=argparse.SUPPRESS)
    parser.add_argument("--files-from", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        files = Path(args.files_from).read_text().splitlines()
        print(json.dumps(worker(args.worker, files)))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
