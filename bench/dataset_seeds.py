"""The dataset bundles over seeds, flow by flow, beside the trees: the spread, never the best seed.

Issue 34: on each dataset's test split, with every flow counted as it occurs, is the hybrid's
attack F1 at least the better of RandomForest and HistGradientBoosting in the same run, at a
false-alarm rate no worse than that tree's? Each seed is one whole training run of the recipe
(its own split, networks, trees and thresholds). The shipped bundle is the recipe's own seed:
its metrics are read from ``models/NAME/metadata.json`` when that bundle was trained with the
current recipe and seed; the other seeds are trained into a scratch folder and thrown away.

Prints, per dataset, one row per seed and the mean and minimum over seeds of the attack F1 and
FAR of the hybrid, the two trees, the average of the hybrid and a tree (shipped where the
recipe has `blend` and validation says so), and the
ceiling (the majority label of each feature vector), with the hybrid's figure per distinct
feature vector for comparison. ``--json PATH`` writes the rows; ``--record`` writes them into
each bundle's metadata (``seed_spread``) and regenerates its MODEL_CARD.md. Each trained
seed's row is kept under ``--cache`` (``bench/out/dataset-seeds``), so a rerun trains only the
seeds it lacks.

    python bench/dataset_seeds.py [--only NAME ...] [--seeds 0 1 2] [--record]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ids_desktop.training import locations
from ids_desktop.training.card import seed_row, seed_spread_table
from ids_desktop.training.recipes import DATASET_RECIPES, RECIPES


def shipped_meta(name: str, seed: int, models: Path) -> dict[str, Any] | None:
    """The shipped bundle's metadata when it is this recipe's run at ``seed``, counted per flow."""
    path = models / name / "metadata.json"
    if not path.is_file():
        return None
    meta: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    recipe = RECIPES[name]
    same = (meta.get("seed") == seed
            and meta.get("options") == recipe.train_options().to_metadata()
            and meta.get("rows", {}).get("counted_as_they_occur") and "ceiling" in meta["metrics"])
    return meta if same else None


def _same(saved: dict[str, Any], options: dict[str, Any]) -> bool:
    """The saved run's options are these, the keys that do not change the split run aside."""
    aside = ("lofo_families", "refit")
    return ({k: v for k, v in saved.items() if k not in aside}
            == {k: v for k, v in options.items() if k not in aside})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=sorted(DATASET_RECIPES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--data", type=Path, default=locations.shared_data_dir())
    ap.add_argument("--models", type=Path, default=locations.models_dir())
    ap.add_argument("--json", type=Path, default=None, help="write the rows here")
    ap.add_argument("--cache", type=Path, default=Path(__file__).parent / "out" / "dataset-seeds",
                    help="each seed's row, kept so a rerun trains only what changed "
                         "(default bench/out/dataset-seeds)")
    ap.add_argument("--record", action="store_true",
                    help="write the rows into each bundle's metadata and regenerate its card")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 2

    from ids_desktop.training.datasets import recipe_files
    from ids_desktop.training.trainer import train

    t0 = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {}
    for name in args.only or DATASET_RECIPES:
        rows = []
        for seed in args.seeds:
            meta = shipped_meta(name, seed, args.models)
            recipe = RECIPES[name]
            # Split-run figures only: no leave-one-out runs, no refit of the shipped weights.
            options = recipe.train_options(lofo_families=(), refit=False).to_metadata()
            cached = args.cache / f"{name}-seed{seed}.json"
            if meta is None and cached.is_file():
                saved = json.loads(cached.read_text(encoding="utf-8"))
                if (_same(saved["options"], options)
                        and saved["data"] == list(recipe.files)):
                    rows.append(saved["row"])
                    continue
            if meta is None:
                print(f"training {name} seed {seed} ...", file=sys.stderr, flush=True)
                # The leave-one-family-out runs are not part of these figures: skipped here.
                with tempfile.TemporaryDirectory() as tmp:
                    meta = train(recipe.feature_format, recipe_files(recipe, args.data),
                                 Path(tmp) / name, seed=seed,
                                 options=recipe.train_options(lofo_families=(),
                                                              refit=False)).metadata
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_text(json.dumps({"options": options, "data": list(recipe.files),
                                              "row": seed_row(meta)}, indent=2) + "\n",
                                  encoding="utf-8")
            rows.append(seed_row(meta))
        results[name] = rows
        print("\n".join([f"#### {name}", "", *seed_spread_table(rows), ""]), flush=True)
    print(f"{time.perf_counter() - t0:.0f} s; test split of each seed's own run, every flow "
          "counted as it occurs; min: the worst seed per column (lowest F1, highest FAR).")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    if args.record:
        from ids_desktop.core.model.bundle import CARD_FILE, METADATA_FILE
        from ids_desktop.training.card import model_card

        for name, rows in results.items():
            meta_path = args.models / name / METADATA_FILE
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            meta["seed_spread"] = rows
            meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n",
                                 encoding="utf-8")
            (args.models / name / CARD_FILE).write_text(model_card(meta), encoding="utf-8")
            print(f"recorded in {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
