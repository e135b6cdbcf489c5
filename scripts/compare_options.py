"""Compare hybrid training options on a dataset's validation split only (model selection).

Each variant is a JSON object of :class:`ids_desktop.core.model.training.TrainOptions`
fields. The hybrid is trained exactly as ``make train`` trains it (same deduplication, grouped
split, seed and threshold rule), then judged on the validation split: attack F1, false-alarm
rate, ROC-AUC and recall at the validation-chosen thresholds. The test split is never scored,
so the choice this script informs does not look at the numbers the model card reports.

    .venv/bin/python scripts/compare_options.py ton-iot \\
        ../shared/data/ton_iot/train_test_network.dev80.csv.gz \\
        '{"default": {}, "wide2_cw0": {"head_units": 256, "head_layers": 2, "class_weight_power": 0}}'

For the capture bundle, ``pcap`` with the traffic-lab folder as ``data`` builds the training
frame of ``scripts/train_pcap.py --source lab+apps+captures`` (host sequences, T = 8, its
options as the base of every variant); only its validation split is scored, never the
per-capture validation the model card reports:

    .venv/bin/python scripts/compare_options.py pcap ../lab-data '{"base": {}, "q": {"quantiles": 256}}'
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
sys.path.insert(0, str(REPO / "scripts"))  # train_pcap, for the capture bundle


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from ids_desktop.core.ingest import ingest

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("format", help="feature format (unsw-nb15, cic-ids2017, ton-iot, nsl-kdd)")
    parser.add_argument("data", type=Path, help="a labelled file of that format")
    parser.add_argument("variants", help='JSON: {"name": {TrainOptions fields}, ...}')
    parser.add_argument("--seed", type=int, nargs="+", default=[0],
                        help="one or more seeds (each gives its own split and initialisation); "
                             "with several, a mean row follows each variant's rows")
    args = parser.parse_args(argv)

    temporal = args.format == "pcap"
    frame = _pcap_frame(args.data) if temporal else ingest(args.data).frame
    print("| variant | options | seed | val attack F1 | val FAR | val ROC-AUC | val recall | val macro-F1 "
          "| val log-loss | epochs | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, fields in json.loads(args.variants).items():
        rows = [_run_one(frame, args.format, fields, seed, temporal) for seed in args.seed]
        for seed, r in zip(args.seed, rows):
            print(f"| {name} | `{json.dumps(fields)}` | {seed} | {r[0]:.4f} | {r[1]:.4f} | {r[2]:.4f} "
                  f"| {r[3]:.4f} | {r[4]:.4f} | {r[5]:.4f} | {r[6]} | {r[7]:.0f} |", flush=True)
        if len(rows) > 1:
            m = np.mean(np.array(rows, dtype=np.float64), axis=0)
            print(f"| **{name}** | mean of {len(rows)} | - | **{m[0]:.4f}** | {m[1]:.4f} | {m[2]:.4f} "
                  f"| {m[3]:.4f} | {m[4]:.4f} | {m[5]:.4f} | {m[6]:.0f} | {m[7]:.0f} |", flush=True)
    return 0


def _pcap_frame(lab: Path):
    """The capture bundle's training frame (lab, benign apps and the shared captures)."""
    import train_pcap as tp

    lab_parts, apps, attack, benign = tp.load_sources(lab, tp.DATA, seed=0)
    parts, _ = tp.source_parts("lab+apps+captures", lab_parts, apps, attack + benign)
    return tp.assemble(parts).drop(columns=["capture"])


def _base_options(fmt: str):
    from ids_desktop.core.model import training as T

    if fmt != "pcap":
        return T.TrainOptions(baselines=False)
    import train_pcap as tp

    return tp.options(False, tp.EPOCHS)


def _run_one(frame, fmt: str, fields: dict, seed: int, temporal: bool = False):
    """(val attack F1, FAR, ROC-AUC, recall, macro-F1, log-loss, epochs, seconds) of one variant
    and seed. The log-loss is the binary cross-entropy of P(attack) on the validation flows: a
    threshold-free figure that moves with the separation even where a few hundred benign
    flows make the false-alarm rate jump in steps."""
    import numpy as np

    from ids_desktop.core.model import metrics as M
    from ids_desktop.core.model import training as T

    opts = replace(_base_options(fmt), **fields)
    t0 = time.perf_counter()
    ctx, _, _ = T.prepare_run(frame, fmt, temporal=temporal, opts=opts, seed=seed)
    # the first candidate T (train_frame tries each; the capture bundle has one)
    fitted = ctx.fit_hybrid(opts.seq_lens[0] if temporal and opts.seq_lens else 1)
    val = ctx.split.val
    scores = ctx.score(fitted, val)
    flagged, _ = ctx.decide(fitted, scores)
    b = M.binary_metrics(ctx.is_attack[val], flagged, scores["p_attack"])
    macro = M.macro_f1(M.per_class(*ctx.class_names(fitted, val)))
    p = np.clip(scores["p_attack"], 1e-7, 1 - 1e-7)
    y = ctx.is_attack[val]
    loss = float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))
    return (b["f1"], b["far"], b["roc_auc"], b["recall"], macro, loss, fitted.epochs,
            time.perf_counter() - t0)


if __name__ == "__main__":
    raise SystemExit(main())
