"""onnxruntime speed of the bundles' ``model.onnx`` exports: positions/s per call size, and
where the time goes (onnxruntime's own per-operator profile).

Inputs are random model inputs of each bundle's shape (the graph's cost does not depend on
the values). Several model folders can be compared in one run, e.g. the exports of an older
checkout against this one's:

    .venv/bin/python bench/runtime.py [--models models /tmp/old/models] [--only pcap]
        [--windows 2000] [--sizes 16000,4096,2048,1024,512,256] [--ops 6]

``--runner`` instead times the app's ``OnnxRunner`` as it scores: calls of
``RUN_POSITIONS`` one after another on two intra-op threads (``threads=2``) against the
default (one thread per call, calls side by side), on the same inputs, and checks that the
outputs are identical:

    .venv/bin/python bench/runtime.py --runner [--windows 2000]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def session(path: Path, profile_dir: str | None = None):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if profile_dir:
        opts.enable_profiling = True
        opts.profile_file_prefix = os.path.join(profile_dir, "ort")
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def best_of(fn, repeats: int = 5) -> float:
    best = float("inf")
    fn()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_batches(sess, input_name: str, x, batch: int) -> None:
    """Score ``x`` through ``sess`` in calls of ``batch`` windows."""
    for i in range(0, len(x), batch):
        sess.run(None, {input_name: x[i : i + batch]})


def compare_runners(folders: list[Path], only: list[str] | None, windows: int) -> int:
    """``OnnxRunner(threads=2)`` (serial calls) against the default runner, best of 5."""
    import numpy as np

    from ids_desktop.core.model.runtime import OnnxRunner

    print("| bundle | T | windows | serial, 2 intra-op threads ms | default runner ms | speed-up "
          "| outputs |")
    print("|---|---|---|---|---|---|---|")
    for folder in folders:
        for onnx in sorted(folder.glob("*/model.onnx")):
            if only and onnx.parent.name not in only:
                continue
            serial, default = OnnxRunner(onnx, threads=2), OnnxRunner(onnx)
            steps, feats = int(serial.input_shape[1]), int(serial.input_shape[2])
            n = windows if steps > 1 else windows * 8  # about the same flow positions
            x = np.random.default_rng(0).random((n, steps, feats, 2)).astype(np.float32)
            a, b = best_of(partial(serial, x)), best_of(partial(default, x))
            same = all(np.array_equal(p, q) for p, q in zip(serial(x), default(x), strict=True))
            print(f"| {onnx.parent.name} | {steps} | {n:,} | {a * 1000:.1f} | {b * 1000:.1f} | "
                  f"{a / b:.2f}x | {'identical' if same else 'DIFFERENT'} |", flush=True)
    return 0


def main() -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", type=Path, default=[REPO / "models"])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--windows", type=int, default=2000, help="windows per measurement")
    parser.add_argument("--sizes", default="16000,4096,2048,1024,512,256",
                        help="flow positions (windows x T) per onnxruntime call")
    parser.add_argument("--ops", type=int, default=6, help="operators listed per export")
    parser.add_argument("--runner", action="store_true",
                        help="time the app's OnnxRunner: serial calls against side-by-side calls")
    args = parser.parse_args()
    if args.runner:
        return compare_runners(args.models, args.only, args.windows)
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
                seconds = best_of(partial(run_batches, sess, inp.name, x, batch))
                rates.append(len(x) * steps / seconds)
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
            ops = ", ".join(f"{op} {100 * d / total:.0f} %"
                            for op, d in per_op.most_common(args.ops))
            label = f"{folder}/{name}" if len(args.models) > 1 else name
            print(f"| {label} | {steps} | {feats} | {len(x):,} | "
                  + " | ".join(f"{r:,.0f}" for r in rates) + f" | {ops} |", flush=True)
    print("\n(cells: flow positions per second, best of 5; onnxruntime's default threads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
