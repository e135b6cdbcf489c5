"""Write synthetic packet captures (pcap or pcapng) for tests and benchmarks.

A thin command line over :mod:`ids_desktop.synth`: ``--known`` writes the small capture with
known conversations (:func:`~ids_desktop.synth.known_capture.write_known_capture`), otherwise a
large, realistic, deterministic mixture of the requested size for the ingest benchmark
(:func:`~ids_desktop.synth.mixed_capture.write_mixed_capture`).

Command line::

    python scripts/make_capture.py --size-mb 200 --out bench/out/mixed-200.pcap [--format pcapng]
    python scripts/make_capture.py --known --out /tmp/known.pcap
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ids_desktop.synth.known_capture import write_known_capture
from ids_desktop.synth.mixed_capture import write_mixed_capture


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", required=True, type=Path, help="output capture file")
    parser.add_argument("--size-mb", type=float, default=200.0, help="target size in MiB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("pcap", "pcapng"), default="pcap")
    parser.add_argument("--flow-rate", type=float, default=100.0,
                        help="conversations per second of capture time")  # fmt: skip
    parser.add_argument("--known", action="store_true",
                        help="write the small known-conversation capture instead")  # fmt: skip
    args = parser.parse_args(argv)
    if args.known:
        convs = write_known_capture(args.out, args.format)
        print(f"{args.out}: {len(convs)} conversations, "
              f"{sum(c.packets for c in convs)} packets")  # fmt: skip
        return 0
    stats = write_mixed_capture(
        args.out, args.size_mb, seed=args.seed, fmt=args.format, flow_rate=args.flow_rate
    )
    print(
        f"{stats.path}: {stats.file_bytes / 2**20:.1f} MiB, {stats.packets} packets, "
        f"{stats.conversations} conversations over {stats.duration_s:.0f} s of capture time, "
        f"written in {stats.seconds_to_write:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
