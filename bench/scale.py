"""Scale benchmark (issue 10): wall time and peak RSS of ``ids-desktop-cli analyze`` at 100 MB,
500 MB and 1 GB captures written by ``scripts/make_scale_capture.py``.

Each run is ``ids-desktop-cli analyze CAPTURE --json`` in a fresh process (under ``nice -n 10``
unless ``--no-nice``). Memory is sampled every 100 ms over the whole process tree (the CLI and
nfstream's meter processes): "tree" is the largest sum of RSS seen at one instant (a
conservative figure: pages shared between a forked meter and its parent count twice), "CLI" the
largest RSS of the CLI process alone, "meters" the largest sum over its children. ``ru_maxrss``
of the children (kernel's own high-water mark, largest single child) is recorded too.

When no model bundle serves the ``pcap`` format yet, ``analyze`` cannot score captures; the
benchmark then runs ``ingest --json`` instead and says so in the table (``mode`` column).

The captures are large and live outside the repository (default ``../scale-data`` beside the
repository, or ``$IDS_SCALE_DATA``); missing ones are generated first.

Usage::

    .venv/bin/python bench/scale.py                       # 100, 500, 1024 MiB
    .venv/bin/python bench/scale.py --sizes 100 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

from ingest import sample_rss  # bench/ingest.py's tree sampler, beside this script

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLI = BIN / "ids-desktop-cli"
DATA = Path(os.environ.get("IDS_SCALE_DATA", REPO.parent / "scale-data"))
LIMIT_RSS_MB = 3 * 1024


def capture_for(size_mb: int, seed: int = 0) -> Path:
    path = DATA / f"scale-{size_mb}mb-seed{seed}.pcap"
    if not path.exists() or path.stat().st_size < size_mb * 1024 * 1024 * 0.99:
        cmd = [sys.executable, str(REPO / "scripts" / "make_scale_capture.py"),
               "--size-mb", str(size_mb), "--seed", str(seed), "--out", str(path)]  # fmt: skip
        print("generating:", " ".join(cmd), file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)
    return path


def has_pcap_bundle() -> bool:
    out = subprocess.run([str(CLI), "models", "--json"], capture_output=True, text=True,
                         check=False)
    try:
        models = json.loads(out.stdout)["models"]
    except (ValueError, KeyError):
        return False
    return any(m.get("feature_format") == "pcap" for m in models)


def measure(command: str, path: Path, nice: bool, timeout: float) -> dict:
    cmd = [str(CLI), command, str(path), "--json"]
    if nice:
        cmd = ["nice", "-n", "10", *cmd]
    peaks = {"tree": 0.0, "parent": 0.0, "children": 0.0}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    # With `nice`, the CLI is nice's exec'd image: same pid, so the tree is the same.
    sampler = threading.Thread(target=sample_rss, args=(proc.pid, stop, peaks, 0.1), daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\n(timed out after {timeout:.0f} s)"
    wall = time.perf_counter() - start
    stop.set()
    sampler.join(2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict = {
        "command": command,
        "file": str(path),
        "file_mib": path.stat().st_size / 2**20,
        "rc": proc.returncode,
        "wall_s": wall,
        "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "rss_tree_mb": peaks["tree"],
        "rss_cli_mb": peaks["parent"],
        "rss_meters_mb": peaks["children"],
        "maxrss_children_mb": after.ru_maxrss / 1024,
        "stderr": err.strip()[-500:],
    }
    try:
        summary = json.loads(out.strip().splitlines()[-1])
        result["flows"] = summary.get("flows")
        result["flagged"] = summary.get("flagged")
        result["model"] = summary.get("model")
    except (ValueError, IndexError):
        result["flows"] = None
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="100,500,1024", help="capture sizes in MiB")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-nice", action="store_true")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--command", choices=("auto", "analyze", "ingest"), default="auto")
    parser.add_argument("--json-out", type=Path, help="also write the raw results here")
    args = parser.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    command = args.command
    if command == "auto":
        command = "analyze" if has_pcap_bundle() else "ingest"
        if command == "ingest":
            print("no model bundle serves 'pcap': measuring `ingest` instead of `analyze`",
                  file=sys.stderr)
    rows = []
    for size in sizes:
        path = capture_for(size)
        for _ in range(args.repeat):
            r = measure(command, path, not args.no_nice, args.timeout)
            rows.append(r)
            print(json.dumps(r), file=sys.stderr, flush=True)
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=1))

    print(f"load average at the end: {os.getloadavg()[0]:.1f}; {os.cpu_count()} CPUs")
    print("| capture MiB | mode | exit | flows | wall s | s per 100 MiB | flows/s | CPU s | "
          "peak RSS tree MiB | peak RSS CLI MiB | peak RSS meters MiB "
          "| children ru_maxrss MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        flows = r.get("flows")
        rate = f"{flows / r['wall_s']:,.0f}" if flows else "-"
        shown = flows if flows is None else f"{flows:,}"
        print(
            f"| {r['file_mib']:,.0f} | {r['command']} | {r['rc']} | {shown} "
            f"| {r['wall_s']:.1f} | {r['wall_s'] / r['file_mib'] * 100:.1f} | {rate} "
            f"| {r['cpu_s']:.1f} "
            f"| {r['rss_tree_mb']:,.0f} | {r['rss_cli_mb']:,.0f} | {r['rss_meters_mb']:,.0f} "
            f"| {r['maxrss_children_mb']:,.0f} |"
        )
    worst = max((r["rss_tree_mb"] for r in rows), default=0)
    failed = [r for r in rows if r["rc"] != 0]
    for r in failed:
        print(f"FAILED ({r['rc']}): {r['file']}: {r['stderr']}")
    print(f"peak RSS (tree) {worst:,.0f} MiB; limit {LIMIT_RSS_MB:,} MiB: "
          f"{'met' if worst < LIMIT_RSS_MB else 'NOT met'}")  # fmt: skip
    return 1 if failed or worst >= LIMIT_RSS_MB else 0


if __name__ == "__main__":
    sys.exit(main())
