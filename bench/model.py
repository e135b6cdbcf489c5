"""Inference flows/s of every bundle on the shared data, against a tree baseline in the same run.

Usage: ``.venv/bin/python bench/model.py [--rows N] [--write]``. ``--write`` also puts the
table into the model section of bench/RESULTS.md (between this script's own markers).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
FILES = {
    "nsl-kdd": "nsl_kdd/KDDTrain+_20Percent.txt",
    "cic-ids2017": "cic_ids2017/cic_ids2017_multiclass.csv.gz",
    "unsw-nb15": "unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz",
    "ton-iot": "ton_iot/train_test_network.dev80.csv.gz",
}
START = "<!-- model-bench:start (bench/model.py --write) -->"
END = "<!-- model-bench:end -->"


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_one(name: str, rows: int) -> dict:
    """Measure one bundle: model forward pass, end-to-end scoring, and the tree baseline."""
    import numpy as np

    from ids_desktop.core.analysis import get_bundle
    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.model import sequences
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.training.baselines import TreeBaseline

    result = ingest(DATA / FILES[name])
    frame = result.frame
    if len(frame) < rows:  # repeat the file to reach the row count
        reps = -(-rows // len(frame))
        import pandas as pd

        frame = pd.concat([frame] * reps, ignore_index=True)
        frame["flow_id"] = range(len(frame))
    frame = frame.iloc[:rows].reset_index(drop=True)
    bundle = get_bundle(name)
    x = bundle.features(frame, result.temporal)
    w = bundle.windows(frame, result.temporal)
    xt = sequences.to_tensor(x, w)
    bundle.runner(xt[:8192])  # the app's runtime (onnxruntime)
    t_model = _best_of(lambda: bundle.runner(xt))
    # A blended bundle (issue 34): the network alone in the same run, for the blend's cost.
    t_network = _best_of(lambda: bundle.runner.runner(xt)) if bundle.tree is not None else None
    keras_run = load_bundle(bundle.path, backend="keras").runner  # TF, for comparison
    keras_run(xt[:8192])
    t_keras = _best_of(lambda: keras_run(xt))
    bundle.score(frame.iloc[:8192], temporal=result.temporal)
    t_e2e = _best_of(lambda: bundle.score(frame, temporal=result.temporal), repeats=2)
    y = frame["label_class"].astype(str).to_numpy()
    classes, yi = np.unique(y, return_inverse=True)
    n_fit = min(len(x), 20_000)
    tree = TreeBaseline(seed=0).fit(x[:n_fit], yi[:n_fit])
    tree.predict_proba(x[:1000])
    t_tree = _best_of(lambda: tree.predict_proba(x))
    return {
        "bundle": name,
        "flows": rows,
        "seq_len": bundle.seq_len,
        "model_flows_s": rows / t_model,
        "network_flows_s": rows / t_network if t_network else None,
        "keras_flows_s": rows / t_keras,
        "end_to_end_flows_s": rows / t_e2e,
        "tree_flows_s": rows / t_tree,
        "tree_iterations": tree.n_iter_,
    }


def table(results: list[dict]) -> str:
    lines = [
        "| bundle | flows | T | hybrid forward pass flows/s (onnxruntime, the app) | same model "
        "on Keras/TF | hybrid end to end flows/s (preprocess + model + anomaly score) | "
        "RandomForest predict_proba flows/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        # a blend's forward pass is the network's and its tree's; the network alone beside it
        alone = (f" (blend; network alone {r['network_flows_s']:,.0f})"
                 if r.get("network_flows_s") else "")
        lines.append(
            f"| {r['bundle']} | {r['flows']:,} | {r['seq_len']} | "
            f"{r['model_flows_s']:,.0f}{alone} | "
            f"{r['keras_flows_s']:,.0f} | "
            f"{r['end_to_end_flows_s']:,.0f} | {r['tree_flows_s']:,.0f} |"
        )
    return "\n".join(lines)


def write(results: list[dict]) -> None:
    path = REPO / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    block = "\n".join([
        START,
        "",
        "### Inference speed (`bench/model.py`)",
        "",
        f"{os.cpu_count()} CPU cores, onnxruntime (the app's runtime; TF compiled `tf.function` "
        "for comparison, batch 4096), best of 3 runs; the "
        "tree is fitted in the same run on the same scaled features (20,000 rows). Load "
        f"average when written: {os.getloadavg()[0]:.1f} (other jobs share this machine).",
        "",
        table(results),
        "",
        END,
    ])
    if START in text and END in text:
        text = text[: text.index(START)] + block + text[text.index(END) + len(END):]
    elif "<!-- model-section:end -->" in text:
        marker = "<!-- model-section:end -->"
        text = text.replace(marker, block + "\n\n" + marker)
    else:
        text = text.rstrip("\n") + "\n\n## Model (issue 3)\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")
    print(f"updated {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", nargs="*", choices=sorted(FILES))
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"no shared data at {DATA}", file=sys.stderr)
        return 2
    results = [bench_one(n, args.rows) for n in (args.only or FILES)]
    print(json.dumps(results, indent=2) if args.json else table(results))
    if args.write:
        write(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
