"""Benchmark ``batch`` on the local cluster against a plain loop of ``analyze`` (issue 36).

The folder: ``--files`` generated captures (default 20) of ``--min-mb`` to ``--max-mb`` MiB
(default 10-50), alternately many small flows (``ids_desktop.synth.scale_capture``) and web
traffic with large transfers (``ids_desktop.synth.mixed_capture``), deterministic, kept in
``--dir`` (default ``bench/out/batch-captures``) for reruns.

- **loop**: what an analyst does without ``batch``: ``ids-desktop-cli analyze FILE --json``,
  one fresh process per file, one after another.
- **batch**: ``ids-desktop-cli batch DIR --out TMP --workers N --json``, one process that
  starts a LocalCluster of N worker processes, into an empty output folder.

Both run as subprocesses of this script, loop first, then batch (``--repeat`` alternates the
order). Peak memory is sampled every 0.2 s with psutil: for the loop, the analyze process
with its meters; for batch, each worker process with its meters (the largest is reported),
and the driver. CPU seconds are those of every process of a run (``RUSAGE_CHILDREN``: the
workers and meters are reaped by their parents), which a busy machine does not change
much. Target: batch >= 1.7x the loop's files/s on 2 cores.

With ``--ceiling`` it also runs ``analyze`` on the files in pairs, one after the other and
then two side by side: what two processes at once gain on this machine with no scheduler,
no outputs and no Dask, the ceiling of any two-worker scheme before the interpreter starts
a worker saves.

    python bench/batch.py [--files 20] [--workers 2] [--repeat 1] [--ceiling]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "bench" / "out" / "batch-captures"


def ensure_folder(folder: Path, files: int, min_mb: float, max_mb: float) -> list[Path]:
    """The benchmark's captures, generated when missing (module docstring)."""
    from ids_desktop.synth.mixed_capture import write_mixed_capture
    from ids_desktop.synth.scale_capture import write_scale_capture

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(files):
        size = min_mb + (max_mb - min_mb) * (i * 7 % files) / max(1, files - 1)
        kind = "scale" if i % 2 == 0 else "mixed"
        path = folder / f"capture-{i:03d}-{kind}-{size:.0f}mb.pcap"
        if not path.is_file():
            writer = write_scale_capture if kind == "scale" else write_mixed_capture
            writer(path, size, seed=100 + i)
        paths.append(path)
    return paths


def _tree_rss(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 2**20


def run_sampled(cmd: list[str], per_worker: bool) -> tuple[float, str, dict[str, float]]:
    """Run ``cmd``; return wall seconds, stdout and peak RSS (MiB): ``tree`` (everything),
    ``driver`` (the process alone) and, for batch, ``worker`` (the largest worker process with
    its children)."""
    peaks = {"tree": 0.0, "driver": 0.0, "worker": 0.0, "cpu": 0.0}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=tempfile.gettempdir())
    stop = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            try:
                peaks["tree"] = max(peaks["tree"], _tree_rss(root))
                peaks["driver"] = max(peaks["driver"], root.memory_info().rss / 2**20)
                if per_worker:
                    for child in root.children():
                        if "spawn_main" in " ".join(child.cmdline()) and \
                                "resource_tracker" not in " ".join(child.cmdline()):
                            peaks["worker"] = max(peaks["worker"], _tree_rss(child))
            except psutil.Error:
                pass
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of every process of the run (workers and meters are reaped by their parents)
    peaks["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} ... failed with exit code {proc.returncode}")
    return wall, out, peaks


def analyze_command(path: Path) -> list[str]:
    """What an analyst runs on one file: ``ids-desktop-cli analyze FILE --json``."""
    return [sys.executable, "-m", "ids_desktop.cli", "analyze", str(path), "--json"]


def run_loop(paths: list[Path]) -> dict[str, float]:
    wall = flows = flagged = cpu = 0.0
    peak = 0.0
    for path in paths:
        seconds, out, peaks = run_sampled(analyze_command(path), False)
        summary = json.loads(out.strip().splitlines()[-1])
        wall += seconds
        cpu += peaks["cpu"]
        flows += summary["flows"]
        flagged += summary["flagged"]
        peak = max(peak, peaks["tree"])
    return {"wall": wall, "flows": flows, "flagged": flagged, "peak_worker": peak,
            "peak_driver": peak, "cpu": cpu}


def run_batch_cli(folder: Path, workers: int) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix="ids-bench-batch-"))
    try:
        seconds, stdout, peaks = run_sampled(
            [sys.executable, "-m", "ids_desktop.cli", "batch", str(folder), "--out",
             str(out / "out"), "--workers", str(workers), "--json"], True)
        summary = json.loads(stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)
    if summary["failed"]:
        raise SystemExit(f"batch: {summary['failed']} files failed")
    return {"wall": seconds, "flows": summary["flows"], "flagged": summary["flagged"],
            "peak_worker": peaks["worker"], "peak_driver": peaks["driver"],
            "peak_tree": peaks["tree"], "cpu": peaks["cpu"]}


def run_pairs(paths: list[Path]) -> tuple[float, float]:
    """The ceiling of any two-worker scheme on this machine, without a scheduler: the files
    in pairs, ``analyze`` on the two of a pair one after the other (seconds summed) against
    the two side by side (the pair's wall seconds summed)."""
    serial = side = 0.0
    for a, b in zip(paths[0::2], paths[1::2], strict=False):
        cmds = [analyze_command(a), analyze_command(b)]
        for cmd in cmds:
            t0 = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, cwd=tempfile.gettempdir())
            serial += time.perf_counter() - t0
        t0 = time.perf_counter()
        procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
                 for cmd in cmds]
        if any(p.wait() != 0 for p in procs):
            raise SystemExit("analyze failed")
        side += time.perf_counter() - t0
    return serial, side


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--min-mb", type=float, default=10.0)
    ap.add_argument("--max-mb", type=float, default=50.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--ceiling", action="store_true",
                    help="also run analyze on the files in pairs, one after the other and side "
                         "by side: what two processes at once gain here without Dask")
    args = ap.parse_args(argv)
    paths = ensure_folder(args.dir, args.files, args.min_mb, args.max_mb)
    mib = sum(p.stat().st_size for p in paths) / 2**20
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load average at start "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    print(f"# {len(paths)} captures, {mib:,.0f} MiB in {args.dir}", flush=True)
    runs: dict[str, list[dict[str, float]]] = {"loop": [], "batch": []}
    for rep in range(args.repeat):
        order = ("loop", "batch") if rep % 2 == 0 else ("batch", "loop")
        for mode in order:
            r = run_loop(paths) if mode == "loop" else run_batch_cli(args.dir, args.workers)
            runs[mode].append(r)
            print(f"  {mode} run {rep + 1}: {r['wall']:.1f} s, {r['cpu']:.1f} CPU-s, "
                  f"{r['flows']:,.0f} flows, "
                  f"load average now {os.getloadavg()[0]:.2f}", flush=True)
    print()
    print("| mode | files | flows | flagged | wall s | CPU s | files/s | flows/s | peak RSS per "
          "worker (with meters) MiB | driver MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    best = {}
    for mode, rs in runs.items():
        r = min(rs, key=lambda x: x["wall"])
        best[mode] = r
        label = "loop of analyze (one process per file)" if mode == "loop" else \
            f"batch, LocalCluster of {args.workers} workers"
        print(f"| {label} | {len(paths)} | {r['flows']:,.0f} | {r['flagged']:,.0f} "
              f"| {r['wall']:.1f} | {r['cpu']:.1f} | {len(paths) / r['wall']:.3f} "
              f"| {r['flows'] / r['wall']:,.0f} "
              f"| {max(x['peak_worker'] for x in rs):,.0f} "
              f"| {max(x['peak_driver'] for x in rs):,.0f} |")
    ratio = best["loop"]["wall"] / best["batch"]["wall"]
    # each repeat's loop and batch ran back to back: their ratio is the one least moved by
    # a neighbour's load on a shared machine; the spread over repeats is reported with it
    pairs = [lo["wall"] / ba["wall"] for lo, ba in zip(runs["loop"], runs["batch"], strict=True)]
    print()
    print(f"batch / loop files per second: {ratio:.2f}x, best run of each (target >= 1.7x on 2 "
          f"cores); per repeat {', '.join(f'{x:.2f}x' for x in pairs)} (median "
          f"{statistics.median(pairs):.2f}x, lowest {min(pairs):.2f}x); load average at end "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    same = best["loop"]["flows"] == best["batch"]["flows"] and \
        best["loop"]["flagged"] == best["batch"]["flagged"]
    print(f"same flows and flagged in both: {same}")
    if args.ceiling:
        serial, side = run_pairs(paths)
        print(f"ceiling: analyze on the {len(paths)} files in pairs, one after the other "
              f"{serial:.1f} s, two side by side {side:.1f} s: {serial / side:.2f}x "
              f"(load average now {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
