"""Write a large capture with many small flows (issue 10: reliability at scale).

A thin command line over :func:`ids_desktop.synth.scale_capture.write_scale_capture` (about
1 KiB per flow, so 1 GiB holds more than a million flows, with one embedded SYN port scan).
Deterministic: the same seed and size give the same bytes. Keep the output outside the repo.

Usage::

    python scripts/make_scale_capture.py --size-mb 1024 --out /work/scale-data/scale-1024.pcap
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ids_desktop.synth.scale_capture import write_scale_capture


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", required=True, type=Path,
                        help="output capture (keep it outside the repo)")  # fmt: skip
    parser.add_argument("--size-mb", type=float, default=1024.0,
                        help="target size in MiB (default 1024)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("pcap", "pcapng"), default="pcap")
    parser.add_argument("--flow-rate", type=float, default=300.0,
                        help="conversations per second of capture time")  # fmt: skip
    args = parser.parse_args(argv)
    s = write_scale_capture(
        args.out, args.size_mb, seed=args.seed, fmt=args.format, flow_rate=args.flow_rate
    )
    print(
        f"{s.path}: {s.file_bytes / 2**20:.1f} MiB, {s.packets:,} packets, {s.conversations:,} "
        f"conversations over {s.duration_s:.0f} s of capture time "
        f"(scan at {s.scan_started_at:.0f}), written in {s.seconds_to_write:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
