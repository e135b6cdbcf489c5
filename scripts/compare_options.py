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
          "| epochs | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, fields in json.loads(args.variants).items():
        rows = [_run_one(frame, args.format, fields, seed, temporal) for seed in args.seed]
        for seed, r in zip(args.seed, rows):
            print(f"| {name} | `{json.dumps(fields)}` | {seed} | {r[0]:.4f} | {r[1]:.4f} | {r[2]:.4f} "
                  f"| {r[3]:.4f} | {r[4]:.4f} | {r[5]} | {r[6]:.0f} |", flush=True)
        if len(rows) > 1:
            m = np.mean(np.array(rows, dtype=np.float64), axis=0)
            print(f"| **{name}** | mean of {len(rows)} | - | **{m[0]:.4f}** | {m[1]:.4f} | {m[2]:.4f} "
                  f"| {m[3]:.4f} | {m[4]:.4f} | {m[5]:.0f} | {m[6]:.0f} |", flush=True)
    return 0


def _pcap_frame(lab: Path):
    """The capture bundle's training frame (lab, benign apps and the shared captures)."""
    sys.path.insert(0, str(REPO / "scripts"))
    import train_pcap as tp

    parts = tp.cap_lab(tp.lab_parts(lab), tp.LAB_CLASS_CAP, 0)
    reported = tp.shared_parts(tp.DATA, "attack") + tp.shared_parts(tp.DATA, "benign")
    parts, _ = tp.source_parts("lab+apps+captures", parts, tp.shared_parts(tp.DATA, "benign-apps"), reported)
    return tp.assemble(parts).drop(columns=["capture"])


def _base_options(fmt: str):
    from ids_desktop.core.model import training as T

    if fmt != "pcap":
        return T.TrainOptions(baselines=False)
    import train_pcap as tp

    return replace(tp.options(False, tp.EPOCHS), seq_lens=())


def _run_one(frame, fmt: str, fields: dict, seed: int, temporal: bool = False):
    """(val attack F1, FAR, ROC-AUC, recall, macro-F1, epochs, seconds) of one variant and seed."""
    import numpy as np

    from ids_desktop.core.model import sequences

    from ids_desktop.core.model import metrics as M
    from ids_desktop.core.model import training as T
    from ids_desktop.core.model.preprocess import Preprocessor, select_features
    from ids_desktop.core.tasks import no_progress

    opts = replace(_base_options(fmt), **fields)
    t0 = time.perf_counter()
    T.set_determinism(seed)
    data = T._prepare(frame, temporal)
    numeric, categorical = select_features(data, fmt)
    data, _ = T._dedup_and_cap(data, numeric + categorical, temporal, opts, seed)
    split = T.grouped_split(data, numeric + categorical, opts, seed)
    pre = Preprocessor.fit(data.iloc[split.train], numeric, categorical,
                           quantiles=opts.quantiles)
    x = pre.transform(data)
    classes = sorted(data["label_class"].unique().tolist(), key=T._class_key)
    y = np.array([classes.index(c) for c in data["label_class"]], dtype=np.int64)
    hosts, times = (sequences.host_time_keys(data) if temporal
                    else (np.arange(len(data)), np.zeros(len(data))))
    ctx = T._Context(data, x, y, classes, hosts, times, temporal,
                     split, opts, seed, no_progress, None, T.FAR_TARGETS.get(fmt, 0.01))
    fitted = ctx.fit_hybrid(8 if temporal else 1)
    scores = ctx.score(fitted, split.val)
    flagged, _ = ctx.decide(fitted, scores)
    b = M.binary_metrics(ctx.is_attack[split.val], flagged, scores["p_attack"])
    macro = M.macro_f1(M.per_class(*ctx.class_names(fitted, split.val)))
    return (b["f1"], b["far"], b["roc_auc"], b["recall"], macro, fitted.epochs, time.perf_counter() - t0)


if __name__ == "__main__":
    raise SystemExit(main())
