"""Explanation latency and stability per bundle: median/p95 seconds and top-5 Jaccard over seeds.

For each bundle with a matching input, it analyses the input, takes the flagged flows with the
highest scores, and explains them with LIME:
- latency: wall seconds per explanation (the explainer built once and reused), for several
  ``num_samples`` values, so the default can be chosen by measurement; also the median CPU
  seconds of the process per explanation (all threads), which other jobs on a shared machine
  do not inflate as much;
- stability: for each of N flows, the top-5 (feature, timestep) sets from 5 seeds, and the
  mean Jaccard index against the first seed; also the same for the top-5 features of the
  spatial summary (weights summed over timesteps, ``by_feature``), and for its top 3 (to tell
  a near-tie at the 5th place from a ranking that moves as a whole).

``--lime-loop`` draws the perturbed samples with LIME's own per-column loop instead of the
app's one-pass sampler (the same samples for a seed, so only the seconds may differ).
``--iid`` keeps the one-pass sampler but draws i.i.d. like LIME, instead of the app's Latin
hypercube (other samples, so the Jaccard columns differ).
``--per-flow`` also prints, per explained flow, its verdict, its top-5 features Jaccard and
seed 0's seven largest feature weights (log-odds), to see where rankings trade places.
``--models-dir`` reads the bundles from another folder (e.g. an older commit's ``models``).

Usage: .venv/bin/python bench/explain.py [--flows 50] [--samples 250,500,1000,2000] [--lime-loop]
       [--iid] [--per-flow] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
from ids_desktop.training.gate import stability_inputs  # the capture bundle's shipping gate

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"

INPUTS = {
    "cic-ids2017": SHARED / "cic_ids2017" / "cic_ids2017_multiclass.csv.gz",
    "unsw-nb15": SHARED / "unsw_nb15" / "UNSW_NB15_training-set.dev80.csv.gz",
    "nsl-kdd": SHARED / "nsl_kdd" / "KDDTrain+_20Percent.txt",
    "ton-iot": SHARED / "ton_iot" / "train_test_network.dev80.csv.gz",
    # Real attack tools' traffic from the traffic lab when a run exists, else the demo capture:
    # the last of the captures the capture bundle's shipping gate explains.
    "pcap": stability_inputs(Path(os.environ.get("IDS_LAB_DATA", REPO.parent / "lab-data")))[-1],
}


def main() -> int:
    from ids_desktop.core.explain.explainer import NEIGHBOURHOODS
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.core.explain.stability import mean_jaccard, top_flagged
    from ids_desktop.core.model.bundle import list_bundles
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=50)
    parser.add_argument("--samples", default="250,500,1000,2000")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--neighbourhood", choices=NEIGHBOURHOODS, default="stratified",
                        help="how LIME's neighbourhood is drawn (iid: LIME's own draws in one "
                             "pass; lime: LIME's per-column loop)")
    parser.add_argument("--per-flow", action="store_true",
                        help="each flow's Jaccard and top weights")
    parser.add_argument("--models-dir", default=None,
                        help="bundles folder (default: the app's models/)")
    args = parser.parse_args()
    sample_sizes = [int(s) for s in args.samples.split(",")]
    names = {b["name"] for b in list_bundles(args.models_dir)}
    print(f"{'bundle':<12} {'samples':>7} {'n':>4} {'median s':>9} {'p95 s':>7} {'CPU s':>6} "
          f"{'R2 med':>7} {'top5 Jaccard':>13} {'top5 features J':>16} {'top3 features J':>16}")
    for name, path in INPUTS.items():
        if name not in names or not path.exists() or (args.only and name not in args.only):
            continue
        analysis = run_analysis(path, AnalysisOptions(model=name), models_dir=args.models_dir)
        flows = analysis.flows
        rows = top_flagged(flows, args.flows)
        for samples in sample_sizes:
            explainer = BundleExplainer.for_analysis(analysis, num_samples=samples,
                                                     neighbourhood=args.neighbourhood)
            explainer.explain_row(rows[0])  # warm-up: traces the compiled predict function
            times, cpus, r2s, jac, jac_f, jac_f3 = [], [], [], [], [], []
            for row in rows:
                t0, c0 = time.perf_counter(), time.process_time()
                exp = explainer.explain_row(row, seed=0)
                times.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                r2s.append(exp.fidelity_r2)
                runs = [exp] + [explainer.explain_row(row, seed=s) for s in range(1, 5)]
                jac.append(mean_jaccard([set(e.top_features(5)) for e in runs]))
                jac_f.append(mean_jaccard([set(list(e.by_feature)[:5]) for e in runs]))
                jac_f3.append(mean_jaccard([set(list(e.by_feature)[:3]) for e in runs]))
                if args.per_flow:
                    top = " ".join(f"{k}:{v:+.2f}" for k, v in list(exp.by_feature.items())[:7])
                    print(f"  row {row} {flows.at[row, 'pred_class']} P={exp.probability:.4f} "
                          f"J={jac_f[-1]:.2f} {top}")
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"{name:<12} {samples:>7} {len(rows):>4} {statistics.median(times):>9.3f} "
                  f"{p95:>7.3f} {statistics.median(cpus):>6.3f} {statistics.median(r2s):>7.2f} "
                  f"{statistics.mean(jac):>13.3f} "
                  f"{statistics.mean(jac_f):>16.3f} {statistics.mean(jac_f3):>16.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
