"""Explanation latency and stability per bundle: median/p95 seconds and top-5 Jaccard over seeds.

For each bundle with a matching input, it analyses the input, takes the flagged flows with the
highest scores, and explains them with LIME:
- latency: wall seconds per explanation (the explainer built once and reused), for several
  ``num_samples`` values, so the default can be chosen by measurement; also the median CPU
  seconds of the process per explanation (all threads), which other jobs on a shared machine
  do not inflate as much;
- fidelity: the median R² of LIME's local surrogate on its own weighted neighbourhood;
- stability: for each of N flows, the top-5 (feature, timestep) sets from 5 seeds, and the
  mean Jaccard index against the first seed; also the same for the top-5 features of the
  spatial summary (weights summed over timesteps, ``by_feature``), and for its top 3 (to tell
  a near-tie at the 5th place from a ranking that moves as a whole).

``--t1-curve`` is the case of the T = 1 bundles (issue 34, part 5): every bundle with
sequences of one flow, over a seeded random sample of its input's flagged flows (30 by
default; not the top-scored ones, which are near-copies of one flow), 3 seeds, and the sample
counts 500-10,000 (``--flow-seed`` draws other flows, to check a choice on flows it was not
made on). It prints the curve with the load average, then per bundle the smallest
count that meets the targets of ``ids_desktop.core.targets`` (top-5 features Jaccard and the
median CPU seconds per explanation, a bound on the wall seconds on an idle 2-core machine) and
sits on the plateau (R² within 0.02 and Jaccard within 0.03 of the largest count's), and the
count that serves them all. ``--samples default`` measures each bundle's own default
(``default_samples``).

``--neighbourhood`` overrides the bundle's neighbourhood (``default_neighbourhood``: ``paired``
for T = 1, ``stratified`` otherwise): ``stratified`` redraws every column of every sample, a
Latin hypercube per column; ``paired`` keeps the flow's bin in half the samples per column and
pairs every sample with its complement; ``local`` redraws a random share of the columns per
sample;
``grouped`` draws the direction views of one nfstream measure together from one background
flow, one term per unit; ``context`` keeps or replaces each other flow of the window whole, one
term per flow (both tried for the capture bundle, not kept);
``iid`` keeps the one-pass sampler but draws i.i.d. like LIME (other samples, so the Jaccard
columns differ); ``lime`` draws with LIME's own per-column loop (the i.i.d. samples, so only
the seconds may differ).
``--per-flow`` also prints, per explained flow, its verdict, its top-5 features Jaccard and
seed 0's seven largest feature weights (log-odds), to see where rankings trade places.
``--models-dir`` reads the bundles from another folder (e.g. an older commit's ``models``, or a
retrained set).

Usage: .venv/bin/python bench/explain.py [--flows 50] [--samples 250,500,1000,2000|default]
       [--seeds 5] [--neighbourhood stratified|local|paired|grouped|context|iid|lime]
       [--per-flow] [--models-dir DIR] [--only NAME ...]
       .venv/bin/python bench/explain.py --t1-curve [--flows 30] [--seeds 3]
       [--samples 500,1000,2000,3000,5000,10000] [--neighbourhood ...] [--only NAME ...]
       [--models-dir DIR] [--network-only] [--flow-seed N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path
from typing import Any

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
#: ``--t1-curve``'s sample counts.
CURVE_SAMPLES = "500,1000,2000,3000,5000,10000"
#: On the plateau: R² and Jaccard this close to the largest count's.
PLATEAU_R2, PLATEAU_JACCARD = 0.02, 0.03


def unit_top(by_feature: dict[str, float], unit_of: dict[str, str], k: int = 5) -> set[str]:
    """The ``k`` largest explanation units of a spatial summary: each feature's weight added
    to its unit's (``unit_of``: feature name -> unit name; other features are their own)."""
    summed: dict[str, float] = {}
    for name, weight in by_feature.items():
        unit = unit_of.get(name, name)
        summed[unit] = summed.get(unit, 0.0) + weight
    return set(sorted(summed, key=lambda u: -abs(summed[u]))[:k])


def measure(explainer: Any, rows: list[int], seeds: int, flows: Any = None,
            unit_of: dict[str, str] | None = None) -> dict[str, float]:
    """Explain ``rows`` with seeds ``0 .. seeds-1``: seconds, R² and Jaccard indices.

    Seconds are seed 0's explanation (the explainer built and warmed up already). With
    ``flows`` (the analysis' flow table) each flow's Jaccard and top weights are printed.
    ``units`` is the top-5 Jaccard of the spatial summary with each feature's weight added to
    its unit's (``unit_of``; the ``grouped`` neighbourhood's units, whatever the run's).
    """
    from ids_desktop.core.explain.stability import mean_jaccard

    unit_of = unit_of or {}
    times, cpus, r2s, jac, jac_f, jac_f3, jac_u = [], [], [], [], [], [], []
    for row in rows:
        t0, c0 = time.perf_counter(), time.process_time()
        exp = explainer.explain_row(row, seed=0)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        r2s.append(exp.fidelity_r2)
        runs = [exp] + [explainer.explain_row(row, seed=s) for s in range(1, seeds)]
        jac.append(mean_jaccard([set(e.top_features(5)) for e in runs]))
        jac_f.append(mean_jaccard([set(list(e.by_feature)[:5]) for e in runs]))
        jac_f3.append(mean_jaccard([set(list(e.by_feature)[:3]) for e in runs]))
        jac_u.append(mean_jaccard([unit_top(e.by_feature, unit_of) for e in runs]))
        if flows is not None:
            top = " ".join(f"{k}:{v:+.2f}" for k, v in list(exp.by_feature.items())[:7])
            print(f"  row {row} {flows.at[row, 'pred_class']} P={exp.probability:.4f} "
                  f"R2={exp.fidelity_r2:.2f} J={jac_f[-1]:.2f} {top}")
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))],
        "cpu": statistics.median(cpus),
        "r2": statistics.median(r2s),
        "jaccard": statistics.mean(jac),
        "features": statistics.mean(jac_f),
        "features3": statistics.mean(jac_f3),
        "units": statistics.mean(jac_u),
    }


def curve_choice(curve: dict[int, dict[str, float]]) -> int | None:
    """The smallest sample count that meets the targets and sits on the curve's plateau."""
    from ids_desktop.core.targets import EXPLAIN_MEDIAN_S, STABILITY_TARGET

    last = curve[max(curve)]
    for samples in sorted(curve):
        m = curve[samples]
        if (m["features"] >= STABILITY_TARGET and m["cpu"] <= EXPLAIN_MEDIAN_S
                and abs(m["r2"] - last["r2"]) <= PLATEAU_R2
                and m["features"] >= last["features"] - PLATEAU_JACCARD):
            return samples
    return None


def sample_rows(flows: Any, n: int, seed: int = 0) -> list[int]:
    """Frame rows of ``n`` flagged flows drawn at random (seeded), in frame order."""
    flagged = flows.index[flows["flagged"].to_numpy(dtype=bool)]
    if len(flagged) > n:
        flagged = flagged.to_series().sample(n, random_state=seed).sort_values().index
    return [int(r) for r in flagged]


def main() -> int:
    from ids_desktop.core.explain.explainer import NEIGHBOURHOODS
    from ids_desktop.core.explain.service import (
        BundleExplainer,
        default_neighbourhood,
        default_samples,
    )
    from ids_desktop.core.explain.stability import top_flagged
    from ids_desktop.core.model.bundle import list_bundles
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=None,
                        help="flagged flows explained per bundle (50; --t1-curve: 30)")
    parser.add_argument("--samples", default=None,
                        help="LIME sample counts, comma-separated, or 'default' (the bundle's "
                             f"own); 250,500,1000,2000 (--t1-curve: {CURVE_SAMPLES})")
    parser.add_argument("--seeds", type=int, default=None,
                        help="LIME seeds per flow for the Jaccard indices (5; --t1-curve: 3)")
    parser.add_argument("--t1-curve", action="store_true",
                        help="the T = 1 bundles: seconds, R² and Jaccard against the sample "
                             "count, and the smallest count meeting the targets")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--neighbourhood", choices=NEIGHBOURHOODS, default=None,
                        help="how LIME's neighbourhood is drawn (default: the bundle's, "
                             "default_neighbourhood; stratified: every column redrawn, a Latin "
                             "hypercube; paired: half the samples keep each column, in "
                             "complementary pairs; local: a random share of the columns "
                             "redrawn; iid: "
                             "LIME's own draws in one pass; lime: LIME's per-column loop)")
    parser.add_argument("--per-flow", action="store_true",
                        help="each flow's Jaccard and top weights")
    parser.add_argument("--models-dir", default=None,
                        help="bundles folder (default: the app's models/)")
    parser.add_argument("--flow-seed", type=int, default=0,
                        help="--t1-curve: the seed that draws the flagged flows (0; another "
                             "seed gives flows no choice was made on)")
    parser.add_argument("--network-only", action="store_true",
                        help="explain a blended bundle's network alone, without its tree "
                             "(issue 34; what the blend costs, measured in one run)")
    args = parser.parse_args()
    curve_mode = bool(args.t1_curve)
    n_flows = args.flows or (30 if curve_mode else 50)
    seeds = args.seeds or (3 if curve_mode else 5)
    samples_arg = args.samples or (CURVE_SAMPLES if curve_mode else "250,500,1000,2000")
    bundles = {b["name"]: b for b in list_bundles(args.models_dir)}
    print(f"{'bundle':<12} {'samples':>7} {'n':>4} {'median s':>9} {'p95 s':>7} {'CPU s':>6} "
          f"{'R2 med':>7} {'top5 Jaccard':>13} {'top5 features J':>16} {'top3 features J':>16}"
          f" {'load':>5}")
    choices: dict[str, int | None] = {}
    for name, path in INPUTS.items():
        if name not in bundles or not path.exists() or (args.only and name not in args.only):
            continue
        seq_len = int(bundles[name]["seq_len"])
        if curve_mode and seq_len != 1:
            continue
        if samples_arg == "default":
            sample_sizes = [default_samples(seq_len)]
        else:
            sample_sizes = [int(s) for s in samples_arg.split(",")]
        analysis = run_analysis(path, AnalysisOptions(model=name), models_dir=args.models_dir)
        flows = analysis.flows
        rows = (sample_rows(flows, n_flows, args.flow_seed) if curve_mode
                else top_flagged(flows, n_flows))
        if not rows:
            print(f"{name:<12} no flagged flows in {path.name}")
            continue
        curve: dict[int, dict[str, float]] = {}
        for samples in sample_sizes:
            explainer = BundleExplainer.for_analysis(analysis, num_samples=samples,
                                                     neighbourhood=args.neighbourhood)
            if args.network_only and getattr(explainer.bundle, "tree", None) is not None:
                explainer.bundle.runner = explainer.bundle.runner.runner  # BlendedRunner's
            explainer.explain_row(rows[0])  # warm-up: traces the compiled predict function
            m = curve[samples] = measure(explainer, rows, seeds,
                                         flows if args.per_flow else None)
            print(f"{name:<12} {samples:>7} {len(rows):>4} {m['median']:>9.3f} {m['p95']:>7.3f} "
                  f"{m['cpu']:>6.3f} {m['r2']:>7.2f} {m['jaccard']:>13.3f} "
                  f"{m['features']:>16.3f} {m['features3']:>16.3f} {os.getloadavg()[0]:>5.2f}",
                  flush=True)
        if curve_mode:
            choices[name] = curve_choice(curve)
            hood = args.neighbourhood or default_neighbourhood(seq_len)
            print(f"{name:<12} {hood} neighbourhood; smallest count on the plateau meeting the "
                  f"targets: {choices[name] or 'none'} (default_samples(1) = "
                  f"{default_samples(1)})", flush=True)
    if curve_mode and choices:
        needed = [c for c in choices.values() if c is not None]
        every = max(needed) if len(needed) == len(choices) else None
        print(f"T = 1 default that serves every bundle: {every or 'none'} "
              f"(default_samples(1) = {default_samples(1)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
