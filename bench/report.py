"""PDF report speed: 10,000 flagged flows in the table and 20 explanation charts.

The analysis frame is synthetic (the writer's cost depends on row and chart counts, not on
where the numbers came from); explanations carry 10 contributions each, like LIME's top-10.

Usage: .venv/bin/python bench/report.py [--flagged 10000] [--charts 20]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=50_000)
    parser.add_argument("--flagged", type=int, default=10_000)
    parser.add_argument("--charts", type=int, default=20)
    args = parser.parse_args()
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
        report = build_report(flows, source=src, input_format="pcap", model_meta={"name": "bench"},
                              top_n=args.flagged, explanations=items)
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
