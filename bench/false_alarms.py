"""False alarms on everyday traffic: what the app says about captures with no attack in them.

Each capture goes through the app's one analysis path (``run_analysis``: ingest, the capture
bundle, the host-level detectors, incidents), exactly as ``ids-desktop-cli analyze`` runs it,
with a chosen models folder. The table counts flows that raise an *alert* (a known family with
calibrated confidence, or a detector's finding) and flows marked *unusual* (no confident family),
per folder, and the captures with at least one alert or incident.

The shipped capture bundle trains on both everyday folders (``benign-apps`` and, since
2026-12-07, ``benign-more``; its metadata's ``everyday_folders``), so their rows here are
in-sample: the out-of-fold figures come from ``scripts/train_pcap.py --apps-folds`` over three
seeds (``bench/capture_seeds.py``). A folder a bundle never trained on (``--models`` with an
older bundle, or a capture folder of your own) is the honest check.

    python bench/false_alarms.py [--models DIR] [--folders benign-more benign-apps benign]
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import sys
import time
from pathlib import Path

from ids_desktop.core.model.bundle import default_models_dir
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.workflow import run_analysis
from ids_desktop.errors import IdsError
from ids_desktop.training.locations import shared_data_dir

CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, default=default_models_dir())
    ap.add_argument("--data", type=Path, default=shared_data_dir())
    ap.add_argument("--folders", nargs="+", default=["benign-more", "benign-apps", "benign"])
    ap.add_argument("--top", type=int, default=8, help="list the captures with most alerts")
    args = ap.parse_args(argv)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
          f"{os.cpu_count()} CPUs; models {args.models}", flush=True)
    rows = []
    worst: list[tuple[int, str, str]] = []
    for folder in args.folders:
        files = sorted(p for p in (args.data / "pcaps" / folder).iterdir()
                       if p.suffix.lower() in CAPTURE_SUFFIXES)
        c: collections.Counter[str] = collections.Counter()
        by: collections.Counter[str] = collections.Counter()
        for path in files:
            try:
                a = run_analysis(path, AnalysisOptions(model="pcap"), models_dir=args.models)
            except IdsError as exc:  # an unreadable capture is counted, not fatal
                c["refused"] += 1
                print(f"  refused {folder}/{path.name}: {exc}", flush=True)
                continue
            s = a.summary
            c["captures"] += 1
            c["flows"] += s["flows"]
            c["alerts"] += s["alerts"]
            c["unusual"] += s["unusual"]
            c["findings"] += s["findings"]
            c["with_alert"] += bool(s["alerts"])
            c["with_incident"] += bool(s["incidents"])
            by.update(s["by_flagged_by"])
            if s["alerts"]:
                worst.append((s["alerts"], f"{folder}/{path.name}",
                              ", ".join(f"{k} {v}" for k, v in s["by_class"].items())))
        rows.append((folder, c, by))
    print()
    print("| folder | captures | flows | alerts | unusual | alerts % | alerts+unusual % "
          "| captures with an alert | with an incident | flagged by |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for folder, c, by in rows:
        n = max(c["flows"], 1)
        print(f"| {folder} | {c['captures']} | {c['flows']:,} | {c['alerts']:,} "
              f"| {c['unusual']:,} | {100 * c['alerts'] / n:.2f} "
              f"| {100 * (c['alerts'] + c['unusual']) / n:.2f} | {c['with_alert']} "
              f"| {c['with_incident']} | {', '.join(f'{k} {v}' for k, v in by.most_common())} |")
    if worst:
        print()
        print("captures with most alerts:")
        for n_alerts, name, classes in sorted(worst, reverse=True)[:args.top]:
            print(f"  {n_alerts:4d}  {name}  ({classes})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
