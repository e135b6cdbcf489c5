"""Write the demo capture that ``make run`` opens when no file is given.

A thin command line over :func:`ids_desktop.synth.demo_capture.write_demo`: office traffic
(web, DNS, TLS with SNI, NTP) from several workstations, a SYN port scan and an SSH password
brute force from one outside host. Deterministic for a seed.

Usage: python scripts/make_demo_capture.py [--out resources/demo/demo.pcap] [--seed 7]
"""

from __future__ import annotations

import argparse
from pathlib import Path

# ATTACKER is re-exported for scripts/train_pcap.py, which imports this module by plain name.
from ids_desktop.synth.demo_capture import ATTACKER, write_demo

__all__ = ["ATTACKER", "DEFAULT_OUT", "main", "write_demo"]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "resources" / "demo" / "demo.pcap"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    path = write_demo(args.out, args.seed)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
