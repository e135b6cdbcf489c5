"""How much the capture bundle's verdicts lean on ECN: the same flows, with and without it.

In the capture bundle's training data only everyday-application flows negotiate explicit
congestion notification (``bench/stack_flags.py``), so the model may read a CWR or ECE packet
as a sign of benign traffic. This rescores real flows with their ECN counts changed, every
other feature left as it was:

- attack flows (the shared attack captures' truth, and the lab's attack capture's labels) that
  the model flags with a family, given the counts of a connection that negotiated ECN (the
  client's SYN carries ECE and CWR, the server's SYN-ACK ECE), as if the attacker's operating
  system used ECN: how many keep their family, take another, keep only the flag of an unusual
  flow (``anomaly``, no family) or are no longer flagged;
- everyday-application flows (``pcaps/benign-apps``) that carry ECN, with it taken away: how
  many does the model start flagging, as if the same applications ran on a system without it.

Only the model's own verdict (``Bundle.score``) is counted; detectors do not read ECN.
Since 2026-12-07 the capture bundle does not read CWR or ECE (``PCAP_DROPS``); every alert
then keeps its family, and this is the check that a bundle stays that way.

    python bench/ecn_flip.py [--model pcap] [--data ../shared/data] [--lab ../lab-data]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

from ids_desktop.core.ingest import ingest
from ids_desktop.core.model.bundle import load_bundle, resolve_bundle_path
from ids_desktop.core.model.preprocess import ECN_COLUMNS
from ids_desktop.training import locations, truth

#: A connection that negotiated ECN: the client's SYN with ECE and CWR, the SYN-ACK with ECE.
NEGOTIATED = {"src2dst_cwr_packets": 1, "src2dst_ece_packets": 1, "dst2src_ece_packets": 1,
              "bidirectional_cwr_packets": 1, "bidirectional_ece_packets": 2}
#: Verdicts that name no family.
NOT_A_FAMILY = ("benign", "anomaly")


def rescored(bundle: object, frame: pd.DataFrame, temporal: bool, rows: np.ndarray,
             values: dict[str, int] | None) -> tuple[Any, Any]:  # fmt: skip
    """The model's :class:`Scores` of ``frame`` as it is, and with ``rows``' ECN counts set to
    ``values`` (``None``: to 0)."""
    before = bundle.score(frame, temporal=temporal)  # type: ignore[attr-defined]
    changed = frame.copy()
    for col in ECN_COLUMNS:
        if col in changed.columns:
            value = 0 if values is None else values.get(col, 0)
            changed.loc[rows, col] = value
    return before, bundle.score(changed, temporal=temporal)  # type: ignore[attr-defined]


def outcomes(before: Any, after: Any, rows: np.ndarray) -> dict[str, int]:
    """Of ``rows`` flagged with a family before: how many keep it, take another family, are
    flagged as unusual only (``anomaly``) or are no longer flagged."""
    fam0 = np.asarray(before.pred_class, dtype=object)[rows]
    fam1 = np.asarray(after.pred_class, dtype=object)[rows]
    alert = np.asarray(before.flagged, dtype=bool)[rows] & ~np.isin(fam0, NOT_A_FAMILY)
    flagged1 = np.asarray(after.flagged, dtype=bool)[rows]
    return {"alerts": int(alert.sum()),
            "same": int((alert & flagged1 & (fam1 == fam0)).sum()),
            "other": int((alert & flagged1 & (fam1 != fam0) & ~np.isin(fam1, NOT_A_FAMILY)).sum()),
            "anomaly": int((alert & flagged1 & np.isin(fam1, NOT_A_FAMILY)).sum()),
            "cleared": int((alert & ~flagged1).sum())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="pcap")
    ap.add_argument("--data", type=Path, default=locations.shared_data_dir())
    ap.add_argument("--lab", type=Path, default=locations.lab_data_dir())
    args = ap.parse_args()
    bundle = load_bundle(resolve_bundle_path(args.model, "pcap"))
    keys = ("alerts", "same", "other", "anomaly", "cleared")
    print(f"{'input':<34} {'TCP attack alerts':>17} {'same family':>11} {'other family':>12} "
          f"{'anomaly only':>12} {'not flagged':>11}")
    inputs = [(p.name, p) for p in sorted((args.data / "pcaps" / "attack").glob("*"))
              if p.name in truth.TRUTH]
    lab = sorted(args.lab.glob("*/pcaps/attacks-only.pcap"))[:1]
    total = dict.fromkeys(keys, 0)
    for name, path in inputs + [("lab " + p.parent.parent.name, p) for p in lab]:
        result = ingest(path)
        frame = result.frame
        if name.startswith("lab "):
            labels = pd.read_parquet(path.parent.parent / "flows" / "attacks-only.parquet")
            attack = labels["label_binary"].to_numpy(dtype=int) == 1
            if len(attack) != len(frame):  # the lab's flows are its own extraction
                print(f"{name:<34} lab flows and capture differ ({len(attack)} / {len(frame)})")
                continue
        else:
            attack = truth.attack_mask(frame, name)
        tcp = frame["protocol"].to_numpy(dtype=float) == 6
        rows = np.flatnonzero(attack & tcp)
        if not len(rows):
            continue
        got = outcomes(*rescored(bundle, frame, result.temporal, frame.index[rows], NEGOTIATED),
                       rows)
        total = {k: total[k] + got[k] for k in keys}
        print(f"{name:<34} {got['alerts']:>17} {got['same']:>11} {got['other']:>12} "
              f"{got['anomaly']:>12} {got['cleared']:>11}", flush=True)
    if total["alerts"]:
        print(f"\nall: of {total['alerts']} TCP attack alerts, with ECN negotiated "
              f"{total['same']} keep their family, {total['other']} take another, "
              f"{total['anomaly']} are flagged as unusual only and {total['cleared']} are not "
              "flagged")
    apps = sorted((args.data / "pcaps" / "benign-apps").glob("*.pcap*"))
    with_ecn = newly = 0
    for path in apps:
        result = ingest(path)
        frame = result.frame
        ecn = ((frame["bidirectional_cwr_packets"] > 0)
               | (frame["bidirectional_ece_packets"] > 0)).to_numpy(dtype=bool)
        rows = np.flatnonzero(ecn & (frame["protocol"].to_numpy(dtype=float) == 6))
        if not len(rows):
            continue
        before, after = rescored(bundle, frame, result.temporal, frame.index[rows], None)
        with_ecn += len(rows)
        newly += int((~np.asarray(before.flagged, dtype=bool)[rows]
                      & np.asarray(after.flagged, dtype=bool)[rows]).sum())
    if with_ecn:
        print(f"benign-apps: {with_ecn} TCP flows carry ECN; with it taken away the model "
              f"flags {newly} more of them ({newly / with_ecn:.1%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
