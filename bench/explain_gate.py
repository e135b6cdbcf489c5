"""The capture bundle's shipping-gate measure of its explanations, per LIME neighbourhood and
sample count: on each of the gate's inputs (the demo capture and the lab's attack capture,
``training.gate.stability_inputs``), the top-5 features Jaccard over the 50 highest-scored
flagged flows and 5 seeds (``core.explain.stability.feature_stability``'s measure) and the
median wall seconds of seed 0's explanations (``bench/explain.py``'s ``measure``), beside the
top-5 (feature, timestep) Jaccard (which earlier flows the explanation names) and the
surrogate's median R². "top5 units J" is the top-5 Jaccard with each feature's weight added to
its ``grouped`` unit's (the three direction views of one nfstream measure), so that the
``grouped`` neighbourhood, whose terms are those units, is compared at its own granularity.
Neighbourhoods: ``explain.explainer.NEIGHBOURHOODS`` (``grouped`` and ``context`` were tried
for the capture bundle and not kept: ``bench/RESULTS.md``, "Tried and not kept: explanation
units").

Usage: .venv/bin/python bench/explain_gate.py
       [--runs stratified:3000,paired:2000,paired:3000] [--model pcap] [--flows 50] [--seeds 5]
       [--inputs CAPTURE ...]

The lab run is read from ``$IDS_LAB_DATA`` (default ``../lab-data``); without one, only the
demo capture is measured. ``--inputs`` measures other captures instead of the gate's, the check
of a setting chosen on the gate's inputs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    from explain import measure  # bench/explain.py: seed 0's seconds and the Jaccard indices

    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.core.explain.stability import top_flagged
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis
    from ids_desktop.synth.demo_capture import write_demo
    from ids_desktop.training.gate import stability_inputs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="stratified:3000,paired:2000,paired:3000",
                        help="neighbourhood:samples pairs, comma-separated")
    parser.add_argument("--model", default="pcap")
    parser.add_argument("--flows", type=int, default=50)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--inputs", type=Path, nargs="+", default=None,
                        help="captures to measure instead of the gate's two")
    args = parser.parse_args()
    runs = [(hood, int(n)) for hood, n in (r.split(":") for r in args.runs.split(","))]
    lab = Path(os.environ.get("IDS_LAB_DATA", REPO.parent / "lab-data"))
    print(f"{'input':<20} {'neighbourhood':<13} {'samples':>7} {'flows':>5} {'median s':>9} "
          f"{'top5 features J':>16} {'top5 units J':>13} {'top5 (feature, t) J':>20} {'R2':>5} "
          f"{'load':>5}")
    with tempfile.TemporaryDirectory() as tmp:
        demo = write_demo(Path(tmp) / "demo.pcap")
        for path in args.inputs or stability_inputs(lab, demo):
            analysis = run_analysis(path, AnalysisOptions(model=args.model))
            rows = top_flagged(analysis.flows, args.flows)
            for hood, n in runs:
                explainer = BundleExplainer.for_analysis(analysis, num_samples=n,
                                                         neighbourhood=hood)
                explainer.explain_row(rows[0])  # warm-up
                m = measure(explainer, rows, args.seeds, unit_of=explainer.unit_of())
                print(f"{path.name:<20} {hood:<13} {n:>7} {len(rows):>5} {m['median']:>9.3f} "
                      f"{m['features']:>16.3f} {m['units']:>13.3f} {m['jaccard']:>20.3f} "
                      f"{m['r2']:>5.2f} "
                      f"{os.getloadavg()[0]:>5.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
