"""Compare hybrid training options on a dataset's validation split only (model selection).

Each variant is a JSON object of :class:`ids_desktop.core.model.training.TrainOptions`
fields. The hybrid is trained exactly as ``make train`` trains it (same deduplication, grouped
split, seed and threshold rule), then judged on the validation split: attack F1, false-alarm
rate, ROC-AUC and recall at the validation-chosen thresholds. The test split is never scored,
so the choice this script informs does not look at the numbers the model card reports.

    .venv/bin/python scripts/compare_options.py ton-iot \\
        ../shared/data/ton_iot/train_test_network.dev80.csv.gz \\
        '{"default": {}, "wide2_cw0": {"head_units": 256, "head_layers": 2, "class_weight_power": 0}}'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.model import metrics as M
    from ids_desktop.core.model import training as T
    from ids_desktop.core.model.preprocess import Preprocessor, select_features
    from ids_desktop.core.tasks import no_progress

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", help="feature format (unsw-nb15, cic-ids2017, ton-iot, nsl-kdd)")
    parser.add_argument("data", type=Path, help="a labelled file of that format")
    parser.add_argument("variants", help='JSON: {"name": {TrainOptions fields}, ...}')
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    frame = ingest(args.data).frame
    print("| variant | options | val attack F1 | val FAR | val ROC-AUC | val recall | epochs | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    for name, fields in json.loads(args.variants).items():
        opts = replace(T.TrainOptions(baselines=False), **fields)
        t0 = time.perf_counter()
        T.set_determinism(args.seed)
        data = T._prepare(frame, False)
        numeric, categorical = select_features(data, args.format)
        data, _ = T._dedup_and_cap(data, numeric + categorical, False, opts, args.seed)
        split = T.grouped_split(data, numeric + categorical, opts, args.seed)
        pre = Preprocessor.fit(data.iloc[split.train], numeric, categorical)
        x = pre.transform(data)
        classes = sorted(data["label_class"].unique().tolist(), key=T._class_key)
        y = np.array([classes.index(c) for c in data["label_class"]], dtype=np.int64)
        ctx = T._Context(data, x, y, classes, np.arange(len(data)), np.zeros(len(data)), False,
                         split, opts, args.seed, no_progress, None,
                         T.FAR_TARGETS.get(args.format, 0.01))
        fitted = ctx.fit_hybrid(1)
        scores = ctx.score(fitted, split.val)
        flagged, _ = ctx.decide(fitted, scores)
        b = M.binary_metrics(ctx.is_attack[split.val], flagged, scores["p_attack"])
        print(f"| {name} | `{json.dumps(fields)}` | {b['f1']:.4f} | {b['far']:.4f} | {b['roc_auc']:.4f} "
              f"| {b['recall']:.4f} | {fitted.epochs} | {time.perf_counter() - t0:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
