"""PDF report speed: 10,000 flagged flows in the table and 20 explanation charts; and the
whole PDF export of the demo capture, before and after issue 35.

The analysis frame is synthetic (the writer's cost depends on row and chart counts, not on
where the numbers came from); explanations carry 10 contributions each, like LIME's top-10.

``--demo`` times exporting the demo capture's PDF as the window does it, in one run:
before (the 20 highest-scoring flagged flows explained one after another, as until issue 35)
and after (each incident's top flow, anomaly-only incidents stated rather than explained, two
flows at a time; then again with the explanations cached, as after a first export or after
clicking the flows in the window), and what stating the anomaly-only incidents' unexpected
values costs within each export (one model pass, never cached).

Usage: .venv/bin/python bench/report.py [--flagged 10000] [--charts 20] [--demo]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.report.build import ExplanationItem, build_report
from ids_desktop.core.report.csv_writer import write_csv
from ids_desktop.core.report.eve import write_jsonl
from ids_desktop.core.report.pdf_writer import write_pdf


def frame(n: int, flagged: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    mask = np.zeros(n, dtype=bool)
    mask[rng.choice(n, flagged, replace=False)] = True
    t0 = 1_700_000_000.0
    return pd.DataFrame({
        "flow_id": np.arange(n, dtype="int64"),
        "src_ip": pd.array([f"10.{i % 200}.{(i // 200) % 250}.{i % 251}" for i in range(n)],
                           dtype="string"),
        "src_port": pd.array(rng.integers(1024, 65535, n), dtype="Int64"),
        "dst_ip": pd.array([f"192.168.{i % 7}.{i % 13}" for i in range(n)], dtype="string"),
        "dst_port": pd.array(rng.choice([22, 53, 80, 443, 8080], n), dtype="Int64"),
        "protocol": pd.array(rng.choice([6, 17], n), dtype="Int64"),
        "first_seen": t0 + np.sort(rng.random(n)) * 86_400,
        "last_seen": t0 + 86_400 + rng.random(n),
        "application": pd.array(rng.choice(["HTTP", "TLS", "DNS", "SSH"], n), dtype="string"),
        "pred_class": pd.array(np.where(mask, rng.choice(["scan", "dos", "brute_force"], n),
                                        "benign"), dtype="string"),
        "pred_score": np.where(mask, 0.8 + 0.2 * rng.random(n), 0.2 * rng.random(n)),
        "anomaly_score": rng.random(n),
        "flagged": mask,
    })


def scored(flows: pd.DataFrame, source: Path) -> Any:
    """``flows`` as an analysis a bundle called ``bench`` scored (no model needed)."""
    from types import SimpleNamespace

    from ids_desktop.core.analysis import Analysis, ModelRun
    from ids_desktop.core.ingest.result import IngestResult
    from ids_desktop.core.model.bundle import Scores
    from ids_desktop.core.options import AnalysisOptions

    bundle = SimpleNamespace(name="bench", path=source.parent / "no-bundle",
                             metadata={"name": "bench"}, threshold=0.5, anomaly_threshold=1.0)
    n = len(flows)
    scores = Scores(np.zeros((n, 1)), flows["pred_score"].to_numpy(),
                    flows["anomaly_score"].to_numpy(), flows["flagged"].to_numpy(dtype=bool),
                    pd.array(flows["pred_class"], dtype="string"))
    result = IngestResult(flows, "pcap", "pcap", False, [], source, {}, sha256="0" * 64)
    run = ModelRun(bundle, np.zeros((n, 0)), np.zeros((n, 1), dtype=np.int64), scores, 0.5, 0.0)
    return Analysis(source, AnalysisOptions(), result, flows, run)


def demo_export() -> int:
    """Time the demo capture's PDF export, before and after, and print the ratio."""
    from ids_desktop.core.explain.service import ExplanationCache
    from ids_desktop.core.report.export import (
        ExportRequest,
        explain_top,
        explain_unusual,
        export_reports,
    )
    from ids_desktop.core.workflow import run_analysis
    from ids_desktop.synth.demo_capture import write_demo

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        analysis = run_analysis(write_demo(work / "demo.pcap"))
        t0 = time.perf_counter()
        items, _ = explain_top(analysis, 20)
        report = build_report(analysis, explanations=items)
        write_pdf(report, work / "before.pdf")
        before = time.perf_counter() - t0
        cache = ExplanationCache(None)  # memory only, like the window's within a session
        request = ExportRequest(pdf=work / "after.pdf", cache=cache, cache_key=("demo", "pcap"))
        t1 = time.perf_counter()
        export_reports(analysis, request)
        cold = time.perf_counter() - t1
        t2 = time.perf_counter()
        export_reports(analysis, request)
        warm = time.perf_counter() - t2
        explained = len(cache._memory)
        t3 = time.perf_counter()
        unusual = explain_unusual(analysis)
        stated = time.perf_counter() - t3
    print(f"{'demo capture PDF export':<52} {'seconds':>8} {'ratio':>6}")
    print(f"{'before: top 20 by score, one after another':<52} {before:>8.2f} {1:>6.2f}")
    print(f"{f'after: {explained} incidents explained, two at a time':<52} {cold:>8.2f} "
          f"{before / cold:>6.2f}")
    print(f"{'after, explanations cached':<52} {warm:>8.2f} {before / warm:>6.2f}")
    print(f"{f'of which: {len(unusual)} unusual incidents stated (no LIME)':<52} {stated:>8.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=50_000)
    parser.add_argument("--flagged", type=int, default=10_000)
    parser.add_argument("--charts", type=int, default=20)
    parser.add_argument("--demo", action="store_true",
                        help="time the demo capture's PDF export, before and after issue 35")
    args = parser.parse_args()
    if args.demo:
        return demo_export()
    flows = frame(args.flows, args.flagged)
    items = [
        ExplanationItem(int(fid),
                        f"Flagged as scan (p=0.97) mainly because Dst port ≤ 1024 (flow {fid})",
                        [(f"feature {k} > {k * 1.5:.1f}", (-1) ** k / (k + 1)) for k in range(10)])
        for fid in flows.loc[flows["flagged"], "flow_id"].head(args.charts)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "capture.pcap"
        src.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(1 << 20))
        t0 = time.perf_counter()
        report = build_report(scored(flows, src), top_n=args.flagged, explanations=items)
        t1 = time.perf_counter()
        out = write_pdf(report, Path(tmp) / "r.pdf")
        t2 = time.perf_counter()
        write_csv(flows, Path(tmp) / "r.csv")
        t3 = time.perf_counter()
        write_jsonl(flows, Path(tmp) / "r.jsonl", model="bench")
        t4 = time.perf_counter()
        pages = out.read_bytes().count(b"/Type /Page\n") or out.read_bytes().count(b"/Type /Page")
        size = out.stat().st_size
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'step':<34} {'seconds':>8}")
    print(f"{'summarise (build_report)':<34} {t1 - t0:>8.2f}")
    pdf_step = f"PDF: {args.flagged} rows, {args.charts} charts"
    print(f"{pdf_step:<34} {t2 - t1:>8.2f}")
    print(f"{'CSV (flagged rows)':<34} {t3 - t2:>8.2f}")
    print(f"{'JSON Lines (flagged rows)':<34} {t4 - t3:>8.2f}")
    print(f"PDF pages ~{pages}, {size / 1e6:.1f} MB; peak RSS {rss:.0f} MiB; "
          f"total PDF path {t2 - t0:.2f} s (target < 15 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
