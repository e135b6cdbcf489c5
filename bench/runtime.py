"""onnxruntime speed of the bundles' ``model.onnx`` exports: positions/s per call size, and
where the time goes (onnxruntime's own per-operator profile).

Inputs are random model inputs of each bundle's shape (the graph's cost does not depend on
the values). Several model folders can be compared in one run, e.g. the exports of an older
checkout against this one's:

    .venv/bin/python bench/runtime.py [--models models /tmp/old/models] [--only pcap]
        [--windows 2000] [--sizes 16000,4096,2048,1024,512,256] [--ops 6]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def session(path: Path, profile_dir: str | None = None):  # noqa: ANN201
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if profile_dir:
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(profile_dir, "ort")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def best_of(fn, repeats: int = 5) -> float:  # noqa: ANN001
    best = float("inf")
    fn()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", type=Path, default=[REPO / "models"])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--windows", type=int, default=2000, help="windows per measurement")
    parser.add_argument("--sizes", default="16000,4096,2048,1024,512,256",
                        help="flow positions (windows x T) per onnxruntime call")
    parser.add_argument("--ops", type=int, default=6, help="operators listed per export")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    print("| export | T | F | windows | " + " | ".join(f"{s:,}/call" for s in sizes)
          + " | top operators (share of node time) |")
    print("|---|---|---|---|" + "---|" * len(sizes) + "---|")
    for folder in args.models:
        for onnx in sorted(folder.glob("*/model.onnx")):
            name = onnx.parent.name
            if args.only and name not in args.only:
                continue
            sess = session(onnx)
            inp = sess.get_inputs()[0]
            steps, feats = int(inp.shape[1]), int(inp.shape[2])
            x = rng.normal(size=(args.windows, steps, feats, 2)).astype(np.float32)
            x[..., 1] = 1.0
            rates = []
            for size in sizes:
                batch = max(1, size // steps)

                def run(batch: int = batch) -> None:
                    for i in range(0, len(x), batch):
                        sess.run(None, {inp.name: x[i : i + batch]})

                rates.append(len(x) * steps / best_of(run))
            with tempfile.TemporaryDirectory() as tmp:
                prof = session(onnx, tmp)
                for _ in range(3):
                    prof.run(None, {inp.name: x})
                events = json.loads(Path(prof.end_profiling()).read_text())
            per_op: collections.Counter[str] = collections.Counter()
            for ev in events:
                if ev.get("cat") == "Node" and ev["name"].endswith("_kernel_time"):
                    per_op[ev["args"].get("op_name", "?")] += ev["dur"]
            total = sum(per_op.values()) or 1
            ops = ", ".join(f"{op} {100 * d / total:.0f} %" for op, d in per_op.most_common(args.ops))
            label = f"{folder}/{name}" if len(args.models) > 1 else name
            print(f"| {label} | {steps} | {feats} | {len(x):,} | "
                  + " | ".join(f"{r:,.0f}" for r in rates) + f" | {ops} |", flush=True)
    print("\n(cells: flow positions per second, best of 5; onnxruntime's default threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
