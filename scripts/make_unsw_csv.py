"""Write a small UNSW-NB15 partition CSV: the table input of the installer's checks.

A thin command line over :func:`ids_desktop.synth.tables.write_unsw`, stdlib only, so a bare
Python can run it from the source tree (``scripts/smoke_bundle.sh``, ``bench/bundle.py``).
Each repeat adds four rows: Normal, Exploits, DoS and Generic.

Usage: python -m scripts.make_unsw_csv --out unsw.csv [--repeat 5]   (from the repository root)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ids_desktop.synth.tables import write_unsw

#: One repeat: (attack_cat, label) of four rows.
CLASSES = [("Normal", 0), ("Exploits", 1), ("DoS", 1), ("Generic", 1)]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="output CSV file")
    parser.add_argument("--repeat", type=int, default=5, help="rows per class (default 5)")
    args = parser.parse_args(argv)
    write_unsw(args.out, CLASSES * args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
