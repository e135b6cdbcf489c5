"""How high can tree ensembles go on each dataset sample, split by split (issue 3's targets).

Prints, per dataset recipe, a RandomForest on a plain random split (with and without exact
duplicates) and three ensembles on the bundles' grouped split
(:mod:`ids_desktop.training.ceiling`). No TensorFlow: about a minute per dataset on 2 cores.

    .venv/bin/python scripts/split_ceiling.py [--only unsw-nb15 ...] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ids_desktop.training.recipes import DATASET_RECIPES, RECIPES


def main(argv: list[str] | None = None) -> int:
    from ids_desktop.core.targets import F1_TARGETS
    from ids_desktop.training.ceiling import measure
    from ids_desktop.training.locations import shared_data_dir

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=sorted(DATASET_RECIPES))
    ap.add_argument("--data", type=Path, default=shared_data_dir())
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 2
    print("| dataset | split | model | test rows | attack F1 | FAR | issue 3 target F1 |")
    print("|---|---|---|---|---|---|---|")
    for fmt in args.only or DATASET_RECIPES:
        t0 = time.perf_counter()
        for split, model, n, f1, far in measure(fmt, args.data / RECIPES[fmt].files[0], args.seed):
            print(f"| {fmt} | {split} | {model} | {n:,} | {f1:.4f} | {far:.4f} "
                  f"| {F1_TARGETS.get(fmt)} |", flush=True)
        print(f"<!-- {fmt}: {time.perf_counter() - t0:.0f} s -->", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
