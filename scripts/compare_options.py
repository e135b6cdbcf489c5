"""Compare hybrid training options on a dataset's validation split only (model selection).

Each variant is a JSON object of :class:`ids_desktop.training.options.TrainOptions` fields,
scored by :func:`ids_desktop.training.compare.score_variant` (the test split is never scored):

    .venv/bin/python scripts/compare_options.py ton-iot \\
        ../shared/data/ton_iot/train_test_network.dev80.csv.gz \\
        '{"default": {},
          "wide2_cw0": {"head_units": 256, "head_layers": 2, "class_weight_power": 0}}'

For the capture bundle, ``pcap`` with the traffic-lab folder as ``data`` builds the training
frame of ``scripts/train_pcap.py --source lab+apps+captures`` (host sequences, T = 8, its
options as the base of every variant):

    .venv/bin/python scripts/compare_options.py pcap ../lab-data \\
        '{"base": {}, "q": {"quantiles": 256}}'
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from ids_desktop.core.ingest import ingest
    from ids_desktop.training.compare import pcap_frame, score_variant
    from ids_desktop.training.locations import shared_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", help="feature format (unsw-nb15, cic-ids2017, ton-iot, nsl-kdd)")
    parser.add_argument("data", type=Path, help="a labelled file of that format")
    parser.add_argument("variants", help='JSON: {"name": {TrainOptions fields}, ...}')
    parser.add_argument("--seed", type=int, nargs="+", default=[0],
                        help="one or more seeds (each gives its own split and initialisation); "
                             "with several, a mean row follows each variant's rows")
    parser.add_argument("--confusion", action="store_true",
                        help="after the table, each run's validation flows per true class and "
                             "verdict")
    parser.add_argument("--trees", action="store_true",
                        help="also fit the RandomForest and HistGradientBoosting baselines on "
                             "each run's rows, and print a second table: their validation F1 "
                             "and FAR beside the hybrid's and those of the hybrid + tree average")
    args = parser.parse_args(argv)

    temporal = args.format == "pcap"
    frame = pcap_frame(args.data, shared_data_dir()) if temporal else ingest(args.data).frame
    print("| variant | options | seed | val attack F1 | val FAR | val ROC-AUC | val recall "
          "| val macro-F1 | val log-loss | epochs | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    confusions: list = []
    tree_rows: list = []
    for name, fields in json.loads(args.variants).items():
        scores = [score_variant(frame, args.format, fields, seed, temporal, args.trees)
                  for seed in args.seed]
        confusions += [(name, seed, s.confusion) for seed, s in zip(args.seed, scores, strict=True)]
        tree_rows += [(name, seed, s) for seed, s in zip(args.seed, scores, strict=True)]
        rows = [s.as_row() for s in scores]
        for seed, r in zip(args.seed, rows):
            print(f"| {name} | `{json.dumps(fields)}` | {seed} | {r[0]:.4f} | {r[1]:.4f} "
                  f"| {r[2]:.4f} | {r[3]:.4f} | {r[4]:.4f} | {r[5]:.4f} | {r[6]} | {r[7]:.0f} |",
                  flush=True)
        if len(rows) > 1:
            m = np.mean(np.array(rows, dtype=np.float64), axis=0)
            print(f"| **{name}** | mean of {len(rows)} | - | **{m[0]:.4f}** | {m[1]:.4f} "
                  f"| {m[2]:.4f} | {m[3]:.4f} | {m[4]:.4f} | {m[5]:.4f} | {m[6]:.0f} "
                  f"| {m[7]:.0f} |",
                  flush=True)
    if args.trees:
        print_tree_table(tree_rows)
    for name, seed, table in confusions if args.confusion else []:
        print(f"\n{name}, seed {seed}: validation flows, true class (rows) by verdict\n")
        print(table.to_string())
    return 0


def print_tree_table(rows: list) -> None:
    """Validation F1 / FAR of the hybrid, both trees and their average, per run, then means."""
    import numpy as np

    cols = (("hybrid", None), ("RandomForest", "tree"), ("HistGB", "boosting"),
            ("hybrid+tree avg", "blend"), ("avg + hybrid's anomaly flags", "blend_anomaly"))
    print("\n| variant | seed | " + " | ".join(f"{c} F1 | {c} FAR" for c, _ in cols)
          + " | avg's tree |")
    print("|---" * (2 + 2 * len(cols) + 1) + "|")
    per_variant: dict[str, list[list[float]]] = {}
    for name, seed, s in rows:
        vals = [s.f1, s.far] + [s.trees[k][m] for _, k in cols[1:] for m in ("f1", "far")]
        per_variant.setdefault(name, []).append(vals)
        print(f"| {name} | {seed} | " + " | ".join(f"{v:.4f}" for v in vals)
              + f" | {s.trees['blend_tree']} |")
    for name, vals in per_variant.items():
        a = np.array(vals)
        worst = [a[:, i].min() if i % 2 == 0 else a[:, i].max() for i in range(a.shape[1])]
        print(f"| **{name}** | mean of {len(a)} | "
              + " | ".join(f"{v:.4f}" for v in a.mean(axis=0)) + " | |")
        print(f"| **{name}** | worst | " + " | ".join(f"{v:.4f}" for v in worst) + " | |")


if __name__ == "__main__":
    raise SystemExit(main())
