"""Run ``ids-desktop-cli ingest --json`` on every file in ../shared/data and check it.

Captures: the format must be pcap/pcapng and the flow count must equal the one
PROVENANCE.md gives (nfstream 6.6.0, default timeouts). Malformed captures may instead exit 2
with one line. Tables: the format, row count and label counts are printed for review (the
exact counts are asserted by tests/core/ingest/test_tables_shared.py).

Usage: .venv/bin/python scripts/check_shared.py [--data ../shared/data] [--only attack,benign]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def provenance_flows(provenance: Path) -> dict[str, int]:
    """File name -> nfstream flow count, from every capture table in PROVENANCE.md."""
    flows: dict[str, int] = {}
    column = None
    for line in provenance.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if "flows" in cells and cells[0] == "file":
            column = cells.index("flows")
            continue
        if column is None or set(cells[0]) <= set("-: "):
            continue
        match = re.match(r"`([^`]+)`", cells[0])
        if match and column < len(cells):
            number = cells[column].replace(",", "")
            if number.isdigit():
                flows[match.group(1)] = int(number)
    return flows


def run_ingest(path: Path) -> tuple[int, dict | None, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "ids_desktop.cli", "ingest", str(path), "--json"],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    obj = json.loads(proc.stdout) if proc.returncode == 0 else None
    return proc.returncode, obj, proc.stderr.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--only", default="", help="comma-separated pcap folders to check")
    args = parser.parse_args()
    expected = provenance_flows(args.data / "PROVENANCE.md")
    failures = 0
    folders = ([f for f in args.only.split(",") if f]
               or ["attack", "benign", "malformed", "benign-apps"])
    print(f"{'file':<58} {'rc':>2} {'format':<20} {'flows':>8} {'expect':>8} {'s':>6}  note")
    for folder in folders:
        for path in sorted((args.data / "pcaps" / folder).iterdir()):
            t0 = time.perf_counter()
            rc, obj, err = run_ingest(path)
            secs = time.perf_counter() - t0
            want = expected.get(path.name)
            note = ""
            if rc == 0 and obj is not None:
                ok = obj["format"] in ("pcap", "pcapng") and (want is None or obj["flows"] == want)
                note = "; ".join(obj["warnings"])[:80]
                flows = obj["flows"]
                fmt = obj["format"]
            else:
                ok = folder == "malformed" and rc == 2 and len(err.splitlines()) == 1
                flows, fmt, note = -1, "-", err[:80]
            failures += not ok
            mark = "" if ok else "  <-- MISMATCH"
            print(f"{folder + '/' + path.name:<58} {rc:>2} {fmt:<20} {flows:>8} {str(want):>8} "
                  f"{secs:>6.1f}  {note}{mark}")
    tables = (p for p in args.data.rglob("*")
              if p.is_file() and "pcaps" not in p.parts and p.name != "PROVENANCE.md")
    for table in sorted(tables):
        rc, obj, err = run_ingest(table)
        if rc != 0 or obj is None:
            failures += 1
            print(f"{table.name}: exit {rc}: {err}  <-- FAILED")
            continue
        top = ", ".join(f"{k} {v}" for k, v in list(obj["label_counts"].items())[:6])
        print(f"{table.name:<44} {obj['format']:<16} {obj['flows']:>8} rows  {top}")
    print(f"\n{failures} mismatch(es)")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
