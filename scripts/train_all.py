"""Rebuild every model bundle from ../shared/data and the model section of bench/RESULTS.md."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "bench" / "RESULTS.md"
START = "<!-- model-section:start (scripts/train_all.py writes this; do not edit) -->"
END = "<!-- model-section:end -->"

#: Bundle name -> (data files under shared/data, attack families for leave-one-out).
JOBS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "nsl-kdd": (["nsl_kdd/KDDTrain+_20Percent.txt"], ("scan", "r2l")),
    "cic-ids2017": (["cic_ids2017/cic_ids2017_multiclass.csv.gz"], ("web_attack", "brute_force")),
    "unsw-nb15": (["unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz"], ("scan",)),
    "ton-iot": (["ton_iot/train_test_network.dev80.csv.gz"], ()),
}

#: Per-bundle TrainOptions beside the defaults, each chosen on validation splits alone by
#: ``scripts/compare_options.py`` (the tables are in bench/RESULTS.md, "Training options"):
#: first the head (defaults vs a two-layer 256-unit head vs that head without class weights),
#: then the quantile-normal feature copies, kept where they raised the mean validation attack
#: F1 over several seeds (all but nsl-kdd) and the explanation budget allows: on cic-ids2017
#: they pushed the LIME median (10,000 samples) from 0.23 s to 0.52 s, past issue 6's 0.5 s, for
#: +0.0012 test attack F1, so that bundle stays without them (bench/RESULTS.md). cic-ids2017's
#: 32 ConvLSTM filters without class weights: the best mean validation attack F1 of ten variants
#: over three seeds (2026-12-05; 0.9964 against the defaults' 0.9866). ton-iot's 512-unit head:
#: mean validation attack F1 0.9969 against 0.9955 over two seeds (2026-12-05, exact thresholds);
#: unsw-nb15's: 0.9516 against 0.9488 over three seeds, ahead on each.
OPTIONS: dict[str, dict[str, object]] = {
    "nsl-kdd": {"head_units": 256, "head_layers": 2},
    "cic-ids2017": {"filters": 32, "class_weight_power": 0.0},
    "unsw-nb15": {"head_units": 512, "head_layers": 2, "class_weight_power": 0.0, "quantiles": 256},
    "ton-iot": {"head_units": 512, "head_layers": 2, "class_weight_power": 0.0, "quantiles": 256},
}


def printer(name: str):
    """A progress hook printing one line per stage change."""
    last = {"stage": None}

    def progress(done, total, stage):
        if stage != last["stage"]:
            last["stage"] = stage
            print(f"  [{time.strftime('%H:%M:%S')}] {name}: {stage}", flush=True)

    return progress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", choices=sorted(JOBS), help="bundles to rebuild")
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--models", type=Path, default=REPO / "models", help="bundle folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-results", action="store_true", help="leave bench/RESULTS.md alone")
    args = parser.parse_args(argv)

    from ids_desktop.core.model.training import TrainOptions, train

    if not args.data.is_dir():
        print(f"no shared data at {args.data}", file=sys.stderr)
        return 2
    names = args.only or list(JOBS)
    t0 = time.perf_counter()
    for name in names:
        files, lofo = JOBS[name]
        print(f"== {name}", flush=True)
        opts = TrainOptions(lofo_families=lofo, **OPTIONS.get(name, {}))  # type: ignore[arg-type]
        meta = train(name, [args.data / f for f in files], args.models / name, seed=args.seed,
                     progress=printer(name), options=opts)
        hyb = meta["metrics"]["hybrid"]["binary"]
        print(f"   attack F1 {hyb['f1']:.4f}  FAR {hyb['far']:.4f}  "
              f"({meta['train_seconds']} s)", flush=True)
    print(f"all done in {time.perf_counter() - t0:.0f} s")
    if not args.no_results:
        write_results(args.models)
    return 0


def results_section(models: Path) -> str:
    """The model section of bench/RESULTS.md from every bundle's metadata."""
    from ids_desktop.core.model.card import results_table, target_lines

    lines = [
        "## Model (issue 3)",
        "",
        START,
        "",
        "Written by `scripts/train_all.py` (`make train`) from the bundles' measured metrics; "
        "test split of each dataset (70/15/15, deduplicated, grouped by feature vector, "
        "thresholds from the validation split). The flows/s column is measured inside the "
        "training run (op determinism on, and on a shared machine other jobs may compete for "
        "the 2 cores, so it is noisy); the inference-speed table from `bench/model.py` below "
        "is the one to quote.",
        "",
    ]
    for meta_path in sorted(models.glob("*/metadata.json")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        rows = meta["rows"]
        lines += [
            f"### {meta['name']}",
            "",
            f"{rows['test']:,} test flows; T = {meta['seq_len']}, temporal_context "
            f"{str(meta['temporal_context']).lower()}; training {meta['train_seconds']} s.",
            "",
            *results_table(meta),
            "",
            *target_lines(meta),
        ]
        sub = meta["metrics"].get("subsample_20pct", {}).get("hybrid")
        if sub:
            lines.append(f"- 20 % test subsample ({sub['n']:,} flows): hybrid accuracy "
                         f"{sub['binary']['accuracy']:.4f}, attack F1 {sub['binary']['f1']:.4f}.")
        for r in meta.get("lofo", []):
            h, t = r["hybrid"], r.get("tree", {})
            fmt = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
            lines.append(
                f"- Left out `{r['family']}` ({r['n_test_family']:,} test flows): hybrid detects "
                f"{fmt(h['detected_combined'])} (classifier {fmt(h['detected_by_classifier'])}, "
                f"anomaly {fmt(h['detected_by_anomaly'])}, FAR {fmt(h['far_combined'])}); RandomForest "
                f"{fmt(t.get('detected'))} (FAR {fmt(t.get('far'))}). Threshold-free ROC-AUC of "
                f"that family vs benign: hybrid P(attack) {fmt(h.get('auc_classifier'))}, "
                f"anomaly score {fmt(h.get('auc_anomaly'))}, RandomForest {fmt(t.get('auc'))}."
            )
        lines.append("")
    lines += [END, ""]
    return "\n".join(lines)


def write_results(models: Path) -> None:
    """Replace (or append) the model section of bench/RESULTS.md, leaving the rest alone."""
    section = results_section(models)
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmarks\n"
    # Keep the speed table bench/model.py wrote inside this section.
    b_start, b_end = "<!-- model-bench:start", "<!-- model-bench:end -->"
    if b_start in text and b_end in text:
        bench = text[text.index(b_start) : text.index(b_end) + len(b_end)]
        section = section.replace(END, bench + "\n\n" + END)
    header = "## Model (issue 3)\n\n" + START
    if START in text and END in text:
        begin = text.index(header) if header in text else text.index(START)
        end = text.index(END) + len(END)
        text = text[:begin] + section.rstrip("\n") + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text, encoding="utf-8")
    print(f"updated {RESULTS}")


if __name__ == "__main__":
    sys.exit(main())
