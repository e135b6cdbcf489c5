"""How often an explanation's top-3 terms are a bare category (protocol, application, port),
or a count of the TCP flags that say how a host's stack works rather than what it does (CWR
and ECE, explicit congestion notification, which some operating systems use by default and
others do not; URG).

Issue 32: explanations of scans led with "protocol is 6" at several timesteps, true to the
model but no analyst's reason. For each input, the flagged attack flows (the attacker's, where
the input says who that is) are explained with LIME, and each explanation's three largest
features (weights summed over timesteps, ``Explanation.by_feature``) are checked for the
protocol, application or destination-port category, and for a CWR, ECE or URG count; the
chart's three largest (feature, timestep) terms (``Explanation.contributions``, what the
explanation pane draws first) are checked for those flags too.

    python bench/explain_terms.py [--model pcap|PATH] [--flows 20] [--samples 0]
                                  [--neighbourhood stratified|paired|...]

Inputs: the demo capture's attacker flows and the shared attack captures' attack flows (their
truth from ``ids_desktop.training.truth``); captures absent are skipped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from ids_desktop.core.explain.explainer import NEIGHBOURHOODS
from ids_desktop.core.explain.service import BundleExplainer
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.workflow import run_analysis
from ids_desktop.synth.demo_capture import ATTACKER, write_demo
from ids_desktop.training import truth

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CATEGORIES = ("protocol", "application", "dst_port")
#: The flags an operating system's TCP stack sets on its own, as explanations name their counts
#: ("client → server CWR packets").
STACK_FLAGS = ("CWR packets", "ECE packets", "URG packets")


def stack_flag(name: str) -> bool:
    return name.endswith(STACK_FLAGS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="pcap")
    ap.add_argument("--flows", type=int, default=20, help="explained flows per input, at most")
    ap.add_argument("--samples", type=int, default=0, help="LIME samples (0: the bundle's)")
    ap.add_argument("--neighbourhood", choices=NEIGHBOURHOODS, default=None,
                    help="LIME's neighbourhood (default: the bundle's)")
    args = ap.parse_args()
    inputs: list[tuple[str, Path]] = []
    tmp = Path(tempfile.mkdtemp(prefix="explain-terms-"))
    inputs.append(("demo", write_demo(tmp / "demo.pcap")))
    attack_dir = SHARED / "pcaps" / "attack"
    if attack_dir.is_dir():
        inputs += [(p.name, p) for p in sorted(attack_dir.iterdir()) if p.name in truth.TRUTH]
    options = AnalysisOptions(model=args.model, lime_samples=args.samples)
    print(f"{'input':<34} {'explained':>9} {'top-3 has protocol/app':>23} {'has port':>9} "
          f"{'has CWR/ECE/URG':>16} {'chart top-3 has CWR/ECE/URG':>28}")
    shares, total, cat_total, port_total, flag_total, chart_total = [], 0, 0, 0, 0, 0
    for name, path in inputs:
        analysis = run_analysis(path, options)
        flows = analysis.flows
        if name == "demo":
            attack = ((flows["src_ip"] == ATTACKER) | (flows["dst_ip"] == ATTACKER)).to_numpy()
        else:
            attack = truth.attack_mask(analysis.result.frame, name)
        rows = flows.index[flows["flagged"].to_numpy(dtype=bool) & attack][: args.flows]
        if len(rows) == 0:
            print(f"{name:<34} {0:>9} {'-':>23} {'-':>9} {'-':>16} {'-':>28}")
            continue
        explainer = BundleExplainer.for_analysis(analysis, neighbourhood=args.neighbourhood)
        cat = port = flag = chart = 0
        for row in rows:
            exp = explainer.explain_row(int(row))
            top = list(exp.by_feature)[:3]
            cat += any(t in ("protocol", "application") for t in top)
            port += "dst_port" in top
            flag += any(stack_flag(t) for t in top)
            terms = sorted(exp.contributions, key=lambda c: -abs(c.weight))[:3]
            chart += any(stack_flag(c.feature) for c in terms)
        shares.append(cat / len(rows))
        total += len(rows)
        cat_total += cat
        port_total += port
        flag_total += flag
        chart_total += chart
        print(f"{name:<34} {len(rows):>9} {cat / len(rows):>23.0%} {port / len(rows):>9.0%} "
              f"{flag / len(rows):>16.0%} {chart / len(rows):>28.0%}")
    if total:
        print(f"\nall {total} explanations: a bare protocol or application among the top 3 in "
              f"{cat_total / total:.0%} ({cat_total}); the port in {port_total / total:.0%}; "
              f"mean over inputs {statistics.mean(shares):.0%}; a CWR, ECE or URG count among "
              f"the top-3 features in {flag_total / total:.0%} ({flag_total}), among the "
              f"chart's top-3 terms in {chart_total / total:.0%} ({chart_total})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
