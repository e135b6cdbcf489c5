"""The capture bundle's shipping gate: benign captures, the demo capture, steady explanations.

The shipped bundle is retrained with the next seed, at most :data:`SHIP_SEEDS` times in all,
when it

- flags more than ``BENIGN_FLAG_LIMIT`` of the flows of the benign captures it trained on
  (bench/RESULTS.md, "Rare lab tools repeated");
- on the demo capture ``make run`` opens, flags more than ``DEMO_OFFICE_LIMIT`` of the office
  flows or fewer than ``DEMO_ATTACKER_MIN`` of the attacker's (the same bounds as
  ``tests/core/test_pcap_bundle.py`` on a generated demo);
- or explains 50 flagged flows with top-5 features that move across LIME seeds (Jaccard index
  under issue 6's 0.8) on the demo capture or the lab's attack capture ("SSH brute force with
  PAM's delay").

When no seed passes, nothing is shipped. The per-capture table comes from the fold models and
never depends on this. The bounds are :mod:`ids_desktop.core.targets`'.

When the app's explanation setting for the bundle changes (LIME's neighbourhood or sample
count, ``core.explain.service``), :func:`recheck_explanations` reruns the last check on the
shipped bundle, so its card says how its explanations behave as the app draws them.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ids_desktop.core.model.bundle import CARD_FILE, METADATA_FILE
from ids_desktop.core.targets import (
    BENIGN_FLAG_LIMIT,
    DEMO_ATTACKER_MIN,
    DEMO_OFFICE_LIMIT,
    STABILITY_TARGET,
)
from ids_desktop.training.console import Log
from ids_desktop.training.locations import demo_capture

#: Seeds tried, one after the other, before giving up.
SHIP_SEEDS = 6
#: Flagged flows explained (5 seeds each) for the stability gate, as ``bench/explain.py``.
STABILITY_FLOWS = 50


@dataclass(frozen=True)
class DemoCapture:
    """The demo capture the gate checks, and the address of its attacker.

    Attributes
    ----------
    path
        The capture (``resources/demo/demo.pcap`` for the shipped bundle).
    attacker
        The outside host whose flows the bundle must flag; all other flows are office traffic.
    """

    path: Path
    attacker: str


def shipped_demo() -> DemoCapture:
    """The demo capture ``make run`` opens, written as ``make run`` writes it when missing."""
    # The demo writer is a development tool beside this package (issue 31: ids_desktop.synth).
    from ids_desktop.synth.demo_capture import ATTACKER, write_demo

    path = demo_capture()
    if not path.is_file():
        write_demo(path)
    return DemoCapture(path, ATTACKER)


def stability_inputs(lab: Path, demo: Path | None = None) -> list[Path]:
    """The captures the shipping gate explains: the demo capture and, as ``bench/explain.py``
    picks it, the first lab run's capture of the attack tools alone."""
    return [demo or demo_capture(), *sorted(lab.glob("*/pcaps/attacks-only.pcap"))[:1]]


def demo_flags(bundle_dir: Path, demo: DemoCapture) -> dict[str, float]:
    """Shares of the demo capture's office flows and of its attacker's flows that are flagged."""
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis

    flows = run_analysis(demo.path, AnalysisOptions(model=str(bundle_dir))).flows
    attacker = (flows["src_ip"] == demo.attacker) | (flows["dst_ip"] == demo.attacker)
    return {"office": float(flows.loc[~attacker, "flagged"].mean()),
            "attacker": float(flows.loc[attacker, "flagged"].mean())}


def explanation_stability(bundle_dir: Path, inputs: list[Path],
                          log: Log) -> dict[str, float | None]:  # fmt: skip
    """Top-5 features Jaccard across 5 LIME seeds, per gate input (``None``: nothing flagged)."""
    from ids_desktop.core.explain.stability import feature_stability
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis

    out = {}
    for path in inputs:
        analysis = run_analysis(path, AnalysisOptions(model=str(bundle_dir)))
        got = feature_stability(analysis, flows=STABILITY_FLOWS)
        out[path.name] = got["jaccard"]
        log(f"   explanations on {path.name}: top-5 features Jaccard {got['jaccard']} over "
            f"{got['flows']} flagged flows, {got['num_samples']} samples")
    return out


#: Shared attack captures whose explanations are measured as the gate's are, and reported in
#: the card, but do not gate: a bundle chosen among seeds by its figures on the gate's two
#: inputs can be much less steady elsewhere (test7: 0.840 -> 0.481 between the last two
#: bundles, ``bench/RESULTS.md``). The bundle trains on them, so they are not unseen traffic.
BEYOND_GATE = ("synscan.pcap", "malicious-ssh-bruteforce.pcap", "test7-malicious.pcap")


def explanations_beyond_gate(bundle_dir: Path, data: Path, log: Log) -> dict[str, Any] | None:
    """The gate's explanation measure on :data:`BEYOND_GATE` (those under ``data``), with the
    date and the app's setting; ``None`` when none of them is there."""
    inputs = [data / "pcaps" / "attack" / name for name in BEYOND_GATE]
    inputs = [p for p in inputs if p.is_file()]
    if not inputs:
        return None
    steady = explanation_stability(bundle_dir, inputs, log)
    return {"date": datetime.date.today().isoformat(), **explanation_setting(bundle_dir),
            "explanation_stability": steady}


def steady_enough(steady: dict[str, float | None]) -> bool:
    """Every input's top-5 features Jaccard meets the target (``None``: nothing flagged)."""
    return all(j is not None and j >= STABILITY_TARGET for j in steady.values())


def explanation_setting(bundle_dir: Path) -> dict[str, Any]:
    """The neighbourhood and sample count the app explains the bundle's flows with."""
    from ids_desktop.core.explain.service import default_neighbourhood, default_samples

    seq_len = int(json.loads((bundle_dir / METADATA_FILE).read_text())["seq_len"])
    return {"neighbourhood": default_neighbourhood(seq_len),
            "num_samples": default_samples(seq_len)}


def recheck_explanations(bundle_dir: Path, lab: Path, demo: Path,
                         log: Log) -> dict[str, Any]:  # fmt: skip
    """The gate's explanation check, rerun on a shipped bundle with the app's current setting.

    Returns the record a bundle keeps as ``explanation_check``: the date, the setting
    (:func:`explanation_setting`), the Jaccard index per input and whether every one met
    the target.
    """
    steady = explanation_stability(bundle_dir, stability_inputs(lab, demo), log)
    return {"date": datetime.date.today().isoformat(), **explanation_setting(bundle_dir),
            "explanation_stability": steady,
            "passed": steady_enough(steady)}


def record_explanation_check(bundle_dir: Path, check: dict[str, Any],
                             beyond: dict[str, Any] | None = None) -> None:
    """Keep ``check`` in the bundle's metadata as ``explanation_check`` (and ``beyond``, from
    :func:`explanations_beyond_gate`, as ``explanations_beyond_gate``); rewrite its card."""
    from ids_desktop.training.card import model_card

    meta = json.loads((bundle_dir / METADATA_FILE).read_text())
    meta["explanation_check"] = check
    if beyond is not None:
        meta["explanations_beyond_gate"] = beyond
    (bundle_dir / METADATA_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    (bundle_dir / CARD_FILE).write_text(model_card(meta))


def shipping_gate(shipped: dict[str, Any], bundle_dir: Path, lab: Path, demo: DemoCapture,
                  log: Log) -> tuple[dict[str, Any], bool]:  # fmt: skip
    """One seed's record for ``shipping_attempts`` and whether its bundle may ship.

    The checks run cheapest first and stop at the first miss: the benign captures
    (``shipped``: the bundle's validation summary on the reported captures), the demo
    capture, then explanation stability on :func:`stability_inputs`.
    """
    fits = shipped["benign_flag_rate"] <= BENIGN_FLAG_LIMIT
    flags = demo_flags(bundle_dir, demo) if fits else {}
    if flags:
        log(f"   demo capture, flows flagged: {json.dumps(flags)}")
    fits = fits and flags["office"] <= DEMO_OFFICE_LIMIT and flags["attacker"] >= DEMO_ATTACKER_MIN
    inputs = stability_inputs(lab, demo.path)
    steady = explanation_stability(bundle_dir, inputs, log) if fits else {}
    attempt = {"found": shipped["found"], "benign_flagged": shipped["benign_flagged"],
               "benign_flag_rate": shipped["benign_flag_rate"],
               "demo_flag_rate": flags, "explanation_stability": steady}
    if steady:
        attempt["explanation_setting"] = explanation_setting(bundle_dir)
    return attempt, fits and steady_enough(steady)


def gate_metadata() -> dict[str, float | int]:
    """The gate's bounds as the bundle records them (``shipping_gate``)."""
    return {"benign_flag_limit": BENIGN_FLAG_LIMIT,
            "demo_office_limit": DEMO_OFFICE_LIMIT,
            "demo_attacker_min": DEMO_ATTACKER_MIN,
            "stability_target": STABILITY_TARGET,
            "stability_flows": STABILITY_FLOWS}
