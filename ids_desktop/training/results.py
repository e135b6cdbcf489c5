"""The model section of ``bench/RESULTS.md``, written from every bundle's metadata."""

from __future__ import annotations

import json
from pathlib import Path

from ids_desktop.training.card import ceiling_lines, results_table, target_lines

START = "<!-- model-section:start (scripts/train_all.py writes this; do not edit) -->"
END = "<!-- model-section:end -->"


def results_section(models: Path) -> str:
    """The model section of bench/RESULTS.md from every bundle's metadata under ``models``."""
    lines = [
        "## Model (issue 3)",
        "",
        START,
        "",
        "Written by `scripts/train_all.py` (`make train`) from the bundles' measured metrics; "
        "test split of each dataset (70/15/15, grouped by feature vector so identical vectors "
        "never straddle splits, thresholds from the validation split). Flow tables count every "
        "flow as it occurs (issue 34): these are per-flow figures; each card also gives them "
        "with each feature vector counted once, and `bench/dataset_seeds.py` the spread over "
        "seeds. The flows/s column is measured inside the "
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
            *ceiling_lines(meta),
            *target_lines(meta),
        ]
        sub = meta["metrics"].get("subsample_20pct", {}).get("hybrid")
        if sub:
            lines.append(f"- 20 % test subsample ({sub['n']:,} flows): hybrid accuracy "
                         f"{sub['binary']['accuracy']:.4f}, attack F1 {sub['binary']['f1']:.4f}.")
        for r in meta.get("lofo", []):
            h, t = r["hybrid"], r.get("tree", {})
            lines.append(
                f"- Left out `{r['family']}` ({r['n_test_family']:,} test flows): hybrid detects "
                f"{fmt(h['detected_combined'])} (classifier {fmt(h['detected_by_classifier'])}, "
                f"anomaly {fmt(h['detected_by_anomaly'])}, FAR {fmt(h['far_combined'])}); "
                f"RandomForest {fmt(t.get('detected'))} (FAR {fmt(t.get('far'))}). "
                "Threshold-free ROC-AUC of that family vs benign: "
                f"hybrid P(attack) {fmt(h.get('auc_classifier'))}, "
                f"anomaly score {fmt(h.get('auc_anomaly'))}, RandomForest {fmt(t.get('auc'))}."
            )
        lines.append("")
    lines += [END, ""]
    return "\n".join(lines)


def fmt(v: float | None) -> str:
    """A share with three decimals, or ``n/a``."""
    return "n/a" if v is None else f"{v:.3f}"


def write_results(models: Path, results: Path) -> None:
    """Replace (or append) the model section of ``results``, leaving the rest alone.

    The speed table ``bench/model.py`` wrote inside the section is kept.
    """
    section = results_section(models)
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmarks\n"
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
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(text, encoding="utf-8")
