"""Averages of the hybrid and the tree baselines, per flow, on a dataset recipe's own split.

For each seed: the recipe's hybrid (T = 1) and both tree baselines (RandomForest,
HistGradientBoosting), fitted as the trainer fits them on the recipe's grouped split; then the
plain averages of their class probabilities (hybrid + each tree, the two trees, all three). Each
model's threshold is chosen on the validation split by the recipe's rule and false-alarm budget,
on the averaged classifier alone (no anomaly flags, as a shipped blend decides), and applied to
the test split. Prints one JSON object per seed; ``--table`` prints a markdown table instead.

    .venv/bin/python scripts/compare_blends.py unsw-nb15 --seed 0 1 2 --table

Issue 34 allows "a plain average of the hybrid and a tree when that beats both"; the
``trees`` row (the two trees averaged, no hybrid) says whether a gain is the hybrid's or tree
ensembling's.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

COMBOS = ("hybrid", "rf", "hgb", "hybrid+rf", "hybrid+hgb", "trees", "hybrid+rf+hgb")


def run(name: str, seed: int) -> dict[str, Any]:
    """One seed's figures: ``{"combo": {"thr", "val_f1", "val_far", "test_f1", "test_far"}}``."""
    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.model import metrics as M
    from ids_desktop.training.locations import shared_data_dir
    from ids_desktop.training.recipes import get_recipe
    from ids_desktop.training.trainer import prepare_run

    recipe = get_recipe(name)
    frame = ingest(shared_data_dir() / recipe.files[0]).frame
    opts = recipe.train_options(baselines=False, refit=False, lofo_families=())
    t0 = time.perf_counter()
    ctx, _, _ = prepare_run(frame, recipe.feature_format, temporal=False, opts=opts, seed=seed)
    hybrid = ctx.fit_hybrid(1)
    forest, boosting = ctx.fit_tree(), ctx.fit_tree(kind="boosting")
    p_attack: dict[str, dict[str, np.ndarray]] = {}
    for part, rows in (("val", ctx.split.val), ("test", ctx.split.test)):
        h = ctx.score(hybrid, rows)["probs"]
        rf, hgb = ctx.tree_proba(forest, rows), ctx.tree_proba(boosting, rows)
        probs = dict(zip(COMBOS, (h, rf, hgb, (h + rf) / 2, (h + hgb) / 2, (rf + hgb) / 2,
                                  (h + rf + hgb) / 3), strict=True))
        p_attack[part] = {k: 1.0 - p[:, ctx.benign] for k, p in probs.items()}
    y_val, y_test = ctx.is_attack[ctx.split.val], ctx.is_attack[ctx.split.test]
    out: dict[str, Any] = {"dataset": name, "seed": seed, "val_rows": int(len(y_val)),
                           "test_rows": int(len(y_test))}
    for k in COMBOS:
        pv, pt = p_attack["val"][k], p_attack["test"][k]
        thr = M.choose_threshold(y_val, pv, max_far=ctx.far_target * ctx.opts.far_margin,
                                 rule=ctx.opts.threshold_rule)
        v, t = M.binary_metrics(y_val, pv >= thr, pv), M.binary_metrics(y_test, pt >= thr, pt)
        out[k] = {"thr": round(float(thr), 4), "val_f1": round(float(v["f1"]), 4),
                  "val_far": round(float(v["far"]), 4), "test_f1": round(float(t["f1"]), 4),
                  "test_far": round(float(t["far"]), 4)}
    out["seconds"] = round(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", help="a dataset recipe: unsw-nb15, ton-iot, cic-ids2017, nsl-kdd")
    parser.add_argument("--seed", type=int, nargs="+", default=[0])
    parser.add_argument("--table", action="store_true", help="a markdown table, not JSON")
    args = parser.parse_args(argv)
    if args.table:
        print("| seed | model | val attack F1 | val FAR | test attack F1 | test FAR |")
        print("|---|---|---|---|---|---|")
    for seed in args.seed:
        res = run(args.recipe, seed)
        if not args.table:
            print(json.dumps(res), flush=True)
            continue
        for k in COMBOS:
            r = res[k]
            print(f"| {seed} | {k} | {r['val_f1']:.4f} | {r['val_far']:.4f} | {r['test_f1']:.4f} "
                  f"| {r['test_far']:.4f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
