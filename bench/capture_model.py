"""Benchmark capture to verdicts: the app's whole analysis against bare nfstream (issue 5).

"verdicts" is what `ids-desktop-cli analyze capture.pcap` does: the capture ingest, host
sequences, the `pcap` bundle on onnxruntime and the decision rule. "bare" iterates nfstream's
own NFStreamer over the same file with the same timeouts and statistics. Both run in fresh
subprocesses, back to back per repetition, alternating which goes first, so each pair shares
the machine's load; the table gives the ratio of paired wall times (target <= 1.2x since
issues 32 and 33, ``ids_desktop.core.targets.CAPTURE_TO_VERDICTS_RATIO``).

    python bench/capture_model.py [--size-mb 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import ingest as ingest_bench  # bench/ingest.py, beside this script

from ids_desktop.core.targets import CAPTURE_TO_VERDICTS_RATIO


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=200.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    capture = ingest_bench.ensure_capture(args.size_mb, 0)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}", flush=True)
    runs: dict[str, list[dict]] = {"bare": [], "verdicts": []}
    for rep in range(args.repeat):
        for mode in (("bare", "verdicts") if rep % 2 == 0 else ("verdicts", "bare")):
            r = ingest_bench.measure(mode, [capture])
            runs[mode].append(r)
            print(f"  {mode} run {rep + 1}: {r['wall']:.2f} s, {r['flows']:,} flows", flush=True)
    size = capture.stat().st_size / 2**20
    print()
    print("| mode | MiB | flows | flagged | wall s median (min-max) | peak RSS tree MiB |")
    print("|---|---|---|---|---|---|")
    for mode, rs in runs.items():
        walls = [r["wall"] for r in rs]
        bundle = f" ({rs[0].get('bundle')} bundle)" if mode == "verdicts" else ""
        print(f"| {mode}{bundle} "
              f"| {size:,.1f} | {rs[0]['flows']:,} | {rs[0].get('flagged', '-')} "
              f"| {statistics.median(walls):.2f} ({min(walls):.2f}-{max(walls):.2f}) "
              f"| {max(r['rss_tree_mb'] for r in rs):,.0f} |")
    pairs = [v["wall"] / b["wall"] for b, v in zip(runs["bare"], runs["verdicts"])]
    print()
    print(f"verdicts / bare nfstream, median of paired runs: {statistics.median(pairs):.2f}x "
          f"(each pair: {', '.join(f'{p:.2f}' for p in pairs)}; "
          f"target <= {CAPTURE_TO_VERDICTS_RATIO}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
