"""Rebuild every model bundle from ../shared/data and the model section of bench/RESULTS.md.

The recipes (data files, options, leave-one-out families, seeds) are in
:mod:`ids_desktop.training.recipes`; ``ids-desktop-cli train --recipe NAME`` rebuilds one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ids_desktop.errors import IdsError
from ids_desktop.training import locations
from ids_desktop.training.recipes import DATASET_RECIPES, RECIPES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(DATASET_RECIPES),
                        help="bundles to rebuild")
    parser.add_argument("--data", type=Path, default=locations.shared_data_dir(),
                        help="the shared data folder")
    parser.add_argument("--models", type=Path, default=locations.models_dir(), help="bundle folder")
    parser.add_argument("--seed", type=int, default=None, help="default: each recipe's own")
    parser.add_argument("--no-results", action="store_true", help="leave bench/RESULTS.md alone")
    args = parser.parse_args(argv)

    from ids_desktop.training.console import printer
    from ids_desktop.training.datasets import train_recipe
    from ids_desktop.training.results import write_results

    if not args.data.is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    for name in args.only or DATASET_RECIPES:
        print(f"== {name}", flush=True)
        try:
            result = train_recipe(RECIPES[name], args.data, args.models / name, seed=args.seed,
                                  progress=printer(name))
        except IdsError as exc:
            print(exc, file=sys.stderr)
            return 2
        meta = result.metadata
        hyb = meta["metrics"]["hybrid"]["binary"]
        print(f"   attack F1 {hyb['f1']:.4f}  FAR {hyb['far']:.4f}  "
              f"({meta['train_seconds']} s)", flush=True)
    print(f"all done in {time.perf_counter() - t0:.0f} s")
    if not args.no_results:
        write_results(args.models, locations.results_file())
        print(f"updated {locations.results_file()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
