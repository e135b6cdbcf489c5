"""How often TCP flows carry the flags a host's TCP stack sets on its own (CWR and ECE for
explicit congestion notification, URG), per training source and label.

Some operating systems negotiate ECN by default (macOS, iOS) and others do not (Linux and
Windows clients as they ship). When the benign and attack sides of the capture bundle's
training data come from different systems, "CWR packets = 0" separates them without saying
anything about behaviour. This prints the share of TCP flows with a CWR or ECE packet, and
with a URG packet, per source (the traffic lab's runs, the shared benign-apps, benign-more,
benign and attack captures) and label.

    python bench/stack_flags.py [--lab ../lab-data] [--data ../shared/data]

Flows are read through the training's cached reader (``training.capture_sources``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ids_desktop.training import locations
from ids_desktop.training.capture_sources import FlowReader


def shares(frame: pd.DataFrame) -> tuple[int, float, float]:
    """TCP flows, and the shares of them with a CWR or ECE packet and with a URG packet."""
    tcp = frame[frame["protocol"] == 6]
    if tcp.empty:
        return 0, float("nan"), float("nan")
    ecn = (tcp["bidirectional_cwr_packets"] > 0) | (tcp["bidirectional_ece_packets"] > 0)
    return len(tcp), float(ecn.mean()), float((tcp["bidirectional_urg_packets"] > 0).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab", type=Path, default=locations.lab_data_dir())
    ap.add_argument("--data", type=Path, default=locations.shared_data_dir())
    args = ap.parse_args()
    reader = FlowReader()
    groups: dict[str, list[pd.DataFrame]] = {"lab": [f for _, f in reader.lab_parts(args.lab)]}
    for kind in ("benign-apps", "benign-more", "benign", "attack"):
        if (args.data / "pcaps" / kind).is_dir():
            groups[kind] = [f for _, f in reader.shared_parts(args.data, kind)]
    print(f"{'source':<12} {'label':<7} {'TCP flows':>9} {'with CWR/ECE':>12} {'with URG':>9}")
    for source, frames in groups.items():
        if not frames:
            continue
        frame = pd.concat(frames, ignore_index=True)
        for label, part in frame.groupby(frame["label_binary"].astype(int)):
            n, ecn, urg = shares(part)
            print(f"{source:<12} {'attack' if label else 'benign':<7} {n:>9} {ecn:>12.1%} "
                  f"{urg:>9.1%}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
