"""The capture model's validation over seeds: the spread, never the best seed (issue 32).

Reads the validation reports that ``scripts/train_pcap.py --source lab+apps+captures
--apps-folds --seed N`` writes to ``../flow-cache/pcap-validation-N.json`` (one per seed; the
folds hold out each of the 17 shared attack captures once and each everyday-application
capture once) and prints, per seed and as mean and minimum:

- attack captures found with a sensible family, by the model alone and by the model and the
  host-level detectors together, at each fold model's own threshold and at the alert operating
  point (the lowest swept threshold at which the held-out applications stay within 2 % alerts
  and 5 % alerts or unusual flows, chosen per seed from benign flows only);
- the held-out everyday applications' flows raising an alert, and alerts or unusual flows;
- the shared benign captures' flows flagged;
- per attack capture, in how many seeds the model alone, and the model with the detectors,
  missed it at the operating point.

    python bench/capture_seeds.py [--seeds 0 1 2] [--dir ../flow-cache]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from ids_desktop.training.capture_sources import EVERYDAY_FOLDERS, seed_folders_apart
from ids_desktop.training.locations import flow_cache_dir
from ids_desktop.training.pcap import alert_operating_point


def seed_row(report: dict[str, Any]) -> dict[str, Any]:
    """One seed's figures from its validation report."""
    s = report["sources"][report["chosen"]]
    points = report.get("operating_points") or []
    thr = report.get("alert_threshold", alert_operating_point(points))
    at = next((p for p in points if p["threshold"] == thr), None)
    row: dict[str, Any] = {
        "captures": s["attack_captures"],
        "model": s["found_by_model"], "both": s["found"],
        "apps_alerts": s.get("apps_alert_rate"), "apps_flagged": s.get("apps_flag_rate"),
        "benign_flagged": s["benign_flag_rate"], "op": thr,
    }
    if at is not None:
        row.update(op_model=at.get("found_by_model"), op_both=at["found"],
                   op_apps_alerts=at.get("apps_alert_rate"),
                   op_apps_flagged=at.get("apps_flag_rate"),
                   op_benign_flagged=at.get("benign_flag_rate"))
        for folder in EVERYDAY_FOLDERS:  # each everyday folder apart, when the folds held both
            if f"{folder}_flows" in at:
                row[f"op_{folder}_alerts"] = at[f"{folder}_alert_rate"]
                row[f"op_{folder}_flagged"] = at[f"{folder}_flag_rate"]
    return row


def misses(report: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The attack captures missed at the alert operating point: by the model alone, and by the
    model and the detectors together."""
    thr = report.get("alert_threshold")
    model: set[str] = set()
    both: set[str] = set()
    for r in report.get("rows") or []:
        if r["kind"] != "attack":
            continue
        at = (r.get("sweep") or {}).get(str(thr)) if thr is not None else None
        found_by_model, found = (at["found_by_model"], at["found"]) if at else (
            r["found_by_model"], r["found"])
        if not found_by_model:
            model.add(r["capture"])
        if not found:
            both.add(r["capture"])
    return model, both


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.2f} %"


def _n(v: float | None) -> str:
    return "-" if v is None else (f"{v:g}" if float(v).is_integer() else f"{v:.2f}")


COLUMNS = (
    ("model alone", "model", _n), ("model + detectors", "both", _n),
    ("apps alerts", "apps_alerts", _pct), ("apps alerts+unusual", "apps_flagged", _pct),
    ("benign flagged", "benign_flagged", _pct), ("alert threshold", "op", _n),
    ("model alone @", "op_model", _n), ("model + detectors @", "op_both", _n),
    ("apps alerts @", "op_apps_alerts", _pct), ("apps alerts+unusual @", "op_apps_flagged", _pct),
    ("benign flagged @", "op_benign_flagged", _pct),
)


def columns(rows: list[dict[str, Any]]) -> tuple[tuple[str, str, Any], ...]:
    """:data:`COLUMNS`, and each everyday folder's own figures when the reports hold them."""
    apart = tuple((f"{folder} {what} @", f"op_{folder}_{key}", _pct)
                  for folder in seed_folders_apart(rows)
                  for what, key in (("alerts", "alerts"), ("alerts+unusual", "flagged")))
    return COLUMNS + apart


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--dir", type=Path, default=None, help="default: ../flow-cache")
    ap.add_argument("--record", type=Path, default=None, metavar="BUNDLE",
                    help="also write the rows into BUNDLE/metadata.json (validation_seeds) and "
                         "regenerate its MODEL_CARD.md")
    args = ap.parse_args(argv)
    folder = args.dir or flow_cache_dir()
    rows = {}
    missed: dict[str, list[int]] = {}
    for seed in args.seeds:
        path = folder / f"pcap-validation-{seed}.json"
        if not path.is_file():
            print(f"no {path}: run scripts/train_pcap.py --source lab+apps+captures "
                  f"--apps-folds --no-ship --seed {seed}", file=sys.stderr)
            return 2
        report = json.loads(path.read_text())
        rows[seed] = seed_row(report)
        model, both = misses(report)
        for capture in model | both:
            counts = missed.setdefault(capture, [0, 0])
            counts[0] += capture in model
            counts[1] += capture in both
    n = {r["captures"] for r in rows.values()}
    print(f"attack captures per seed: {', '.join(map(str, sorted(n)))}; "
          "'@': at the alert operating point")
    print()
    cols = columns(list(rows.values()))
    print("| seed | " + " | ".join(c for c, _, _ in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for seed, r in rows.items():
        print(f"| {seed} | " + " | ".join(f(r.get(k)) for _, k, f in cols) + " |")
    for label, agg in (("mean", statistics.mean), ("min", min), ("max", max)):
        cells = []
        for _, k, f in cols:
            vals = [r[k] for r in rows.values() if r.get(k) is not None]
            if label != "mean" and f is _pct:
                agg_v = (max if label == "min" else min)(vals) if vals else None  # worst first
            else:
                agg_v = agg(vals) if vals else None
            cells.append(f(agg_v))
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print("min: the worst seed per column (fewest captures found, most flows flagged); "
          "max: the best.")
    print()
    print(f"missed at the alert operating point, in how many of {len(rows)} seeds:")
    print()
    print("| capture | model alone | model + detectors |")
    print("|---|---|---|")
    for capture, (by_model, by_both) in sorted(missed.items()):
        print(f"| {capture} | {by_model} | {by_both} |")
    if args.record is not None:
        from ids_desktop.core.model.bundle import CARD_FILE, METADATA_FILE
        from ids_desktop.training.card import model_card

        meta_path = args.record / METADATA_FILE
        meta = json.loads(meta_path.read_text())
        meta["validation_seeds"] = {str(k): v for k, v in rows.items()}
        meta_path.write_text(json.dumps(meta, indent=2, default=str) + "\n")
        (args.record / CARD_FILE).write_text(model_card(meta))
        print(f"recorded in {meta_path} and {args.record / CARD_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
