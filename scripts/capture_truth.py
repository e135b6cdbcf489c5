"""Print the per-flow ground truth of the shared attack captures and check its counts.

The table and its rules live in :mod:`ids_desktop.training.truth`; this command line prints
it (measured counts beside the stored ones when the captures are there) and exits 1 when a
capture's counts differ from the table's.

    python scripts/capture_truth.py [--data DIR] [--markdown] [--no-ingest]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from ids_desktop.training import truth


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=truth.__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=truth.SHARED_DATA, help="the shared data folder")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--no-ingest", action="store_true",
                    help="print the stored counts without ingesting the captures")
    args = ap.parse_args(argv)
    df = truth.table(None if args.no_ingest or not args.data.is_dir() else args.data)
    if args.markdown:
        print(truth.markdown_table(df))
    else:
        cols = ["capture", "family", "rule", "attack_flows", "total_flows"]
        cols += [c for c in ("measured_attack", "measured_total") if c in df]
        with pd.option_context("display.width", 250, "display.max_colwidth", 70):
            print(df[cols].to_string(index=False))
    mismatched = truth.mismatched_counts(df)
    if mismatched:
        print(f"{mismatched} capture(s) differ from the stored counts", file=sys.stderr)
    return 1 if mismatched else 0


if __name__ == "__main__":
    raise SystemExit(main())
