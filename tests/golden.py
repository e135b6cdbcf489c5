"""Golden outputs of the command line: what ``analyze``/``evaluate`` print and write.

Recorded before the issue-31 redesign (``python -m tests.golden --record``) and checked by
``tests/test_golden.py`` after it: the redesign must not change a verdict, a metric, a CSV
row or an EVE line. The outputs go through the CLI in-process, so the check does not depend
on how the core is arranged inside.

Floats are compared at 6 significant digits: onnxruntime's last bits may differ between CPUs,
and what an analyst reads never shows more. Files from ``../shared/data`` are kept as
canonical digests only (no rows of the datasets are copied into the repository); the demo
capture's outputs are kept whole, so a diff shows what changed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from ids_desktop.synth.demo_capture import write_demo

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = REPO / "tests" / "data" / "golden"
SHARED = REPO.parent / "shared" / "data"

#: Golden name -> file under ../shared/data (one per shared format, plus a capture with ARP).
SHARED_INPUTS = {
    "unsw-nb15": "unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz",
    "ton-iot": "ton_iot/train_test_network.dev80.csv.gz",
    "cic-ids2017": "cic_ids2017/cic_ids2017_multiclass.csv.gz",
    "nsl-kdd": "nsl_kdd/KDDTrain+_20Percent.txt",
    "nsl-kdd-arff": "nsl_kdd/KDDTrain+_20Percent.arff",
    "arppoison": "pcaps/attack/arppoison.pcapng",
}
#: Keys of ``analyze --json`` that measure the machine, not the analysis.
VOLATILE = {"seconds", "wall_seconds"}


def canon(value: Any) -> Any:
    """``value`` with floats at 6 significant digits (recursively)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    return value


def _canon_cell(cell: str) -> str:
    try:
        number = float(cell)
    except ValueError:
        return cell
    if cell.strip() != cell or not any(ch.isdigit() for ch in cell):
        return cell  # "nan", "inf" and padded text stay as written
    return f"{number:.6g}" if ("." in cell or "e" in cell.lower()) else cell


def canon_csv(text: str) -> list[list[str]]:
    return [[_canon_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]


def canon_jsonl(text: str) -> list[Any]:
    return [canon(json.loads(line)) for line in text.splitlines() if line.strip()]


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def _cli(argv: list[str]) -> tuple[int, str]:
    from ids_desktop.cli import run

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run(argv)
    return code, out.getvalue()


def outputs(path: Path, workdir: Path, *, whole: bool) -> dict[str, Any]:
    """The golden record of one input: analyze/evaluate JSON, CSV report, EVE lines."""
    csv_path, eve_path = workdir / f"{path.name}.csv", workdir / f"{path.name}.jsonl"
    code, text = _cli(["analyze", str(path), "--json", "--csv", str(csv_path),
                       "--jsonl", str(eve_path)])
    assert code == 0, f"analyze {path} exited {code}"
    summary = {k: v for k, v in json.loads(text).items() if k not in VOLATILE}
    record: dict[str, Any] = {"analyze": canon(summary)}
    code, text = _cli(["evaluate", str(path), "--json"])
    record["evaluate"] = canon(json.loads(text)) if code == 0 else {"exit": code}
    rows = canon_csv(csv_path.read_text(encoding="utf-8"))
    alerts = canon_jsonl(eve_path.read_text(encoding="utf-8"))
    record["csv"] = {"rows": len(rows) - 1, "sha256": _digest(rows)}
    record["eve"] = {"lines": len(alerts), "sha256": _digest(alerts)}
    if whole:
        record["csv"]["content"] = rows
        record["eve"]["content"] = alerts
    return record


def demo_outputs(workdir: Path) -> dict[str, Any]:
    """The golden record of the demo capture ``make run`` opens (generated here)."""
    demo = write_demo(workdir / "demo.pcap")
    return outputs(demo, workdir, whole=True)


def record(names: list[str] | None = None) -> None:
    import tempfile

    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        todo = names or ["demo", *SHARED_INPUTS]
        for name in todo:
            rec = demo_outputs(work) if name == "demo" else outputs(
                SHARED / SHARED_INPUTS[name], work, whole=False)
            text = json.dumps(rec, indent=1, sort_keys=True) + "\n"
            (GOLDEN_DIR / f"{name}.json").write_text(text)
            print(f"recorded {name}: {rec['analyze']}", file=sys.stderr)


if __name__ == "__main__":
    if "--record" not in sys.argv:
        raise SystemExit("usage: python -m tests.golden --record [NAME ...]")
    record([a for a in sys.argv[1:] if a != "--record"] or None)
