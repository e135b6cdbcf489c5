"""Run ``ingest`` and ``analyze`` on the whole fuzz corpus and print a table (issue 10).

Every input of ``scripts/make_fuzz_corpus.py`` (generated and, when ``../shared/data`` exists,
real captures and tables, mutated, plus every file in ``pcaps/malformed``) goes through
``ids-desktop-cli ingest PATH`` and ``ids-desktop-cli analyze PATH``, each a fresh subprocess
with a 60 s limit. A run passes when:

- neither stdout nor stderr holds a Python traceback,
- it ends within 60 s,
- it exits 0 (stderr holds only ``warning:`` lines) or exits 2 with exactly one stderr line.

Anything else (exit 1 = internal error, a crash, a hang, a multi-line error) is a failure and
is listed with its stderr.

Usage::

    .venv/bin/python bench/fuzz.py                      # corpus in a temporary folder, -j 2
    .venv/bin/python bench/fuzz.py --corpus /tmp/ids-fuzz --jobs 1 --only malformed--
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "ids-desktop-cli"
LIMIT_S = 60.0


@dataclass
class Outcome:
    name: str
    command: str
    rc: int | None
    seconds: float
    verdict: str  # "ok", "warned", "rejected" or "FAIL: why"
    stderr: str


def judge(rc: int | None, out: str, err: str, seconds: float) -> str:
    """``ok``/``warned``/``rejected``, or ``FAIL: reason``."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if rc is None:
        return f"FAIL: no exit within {LIMIT_S:.0f} s"
    if "Traceback" in out or "Traceback" in err:
        return "FAIL: traceback printed"
    if seconds > LIMIT_S:
        return f"FAIL: took {seconds:.1f} s"
    if rc == 0:
        if any(not ln.startswith("warning: ") for ln in lines):
            return "FAIL: exit 0 with stderr lines that are not warnings"
        return "warned" if lines else "ok"
    if rc == 2:
        if len(lines) != 1:
            return f"FAIL: exit 2 with {len(lines)} stderr lines"
        if not lines[0].startswith("ids-desktop-cli: error: "):
            return "FAIL: exit 2 without an error line"
        return "rejected"
    return f"FAIL: exit {rc}"


def run_one(path: Path, command: str, env: dict[str, str]) -> Outcome:
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [str(CLI), command, str(path)], capture_output=True, timeout=LIMIT_S + 5, env=env,
            stdin=subprocess.DEVNULL,
        )
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = None, exc.stdout or b"", exc.stderr or b""
    seconds = time.perf_counter() - start
    out_s = out.decode("utf-8", "replace")
    err_s = err.decode("utf-8", "replace")
    verdict = judge(rc, out_s, err_s, seconds)
    return Outcome(path.name, command, rc, seconds, verdict, err_s.strip()[-400:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path,
                        help="an existing corpus folder (default: build one)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", "-j", type=int, default=2)
    parser.add_argument("--only", default="", help="only inputs whose name contains this")
    parser.add_argument("--json-out", type=Path, help="write every outcome here")
    parser.add_argument("--rerun", type=Path, metavar="OUTCOMES.json",
                        help="only the inputs that failed in an earlier --json-out")  # fmt: skip
    args = parser.parse_args(argv)
    # Imported after the arguments: the corpus generator loads the app's ingest (pandas,
    # nfstream), which --help does not need.
    from ids_desktop.synth.fuzz_corpus import build_corpus

    tmp = None
    corpus = args.corpus
    if corpus is None or not (corpus / "manifest.json").is_file():
        if corpus is None:
            tmp = tempfile.TemporaryDirectory(prefix="ids-fuzz-")
            corpus = Path(tmp.name)
        build_corpus(corpus, seed=args.seed)
    items = json.loads((corpus / "manifest.json").read_text())
    items = [i for i in items if args.only in i["name"]]
    if args.rerun:
        failed = {o["name"] for o in json.loads(args.rerun.read_text())
                  if o["verdict"].startswith("FAIL")}
        items = [i for i in items if i["name"] in failed]
    env = dict(os.environ)  # stderr is a pipe, so the CLI draws no progress bar
    jobs = [(corpus / i["name"], cmd) for i in items for cmd in ("ingest", "analyze")]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda job: run_one(job[0], job[1], env), jobs))
    wall = time.perf_counter() - started
    kind = {i["name"]: (i["kind"], i["source"]) for i in items}

    groups: dict[tuple[str, str], collections.Counter] = collections.defaultdict(
        collections.Counter
    )
    slowest: dict[tuple[str, str], float] = collections.defaultdict(float)
    for o in outcomes:
        k, src = kind[o.name]
        origin = ("real" if src.startswith("real-") else
                  "generated" if src.startswith("gen-") else "no")
        group = "shared malformed" if src.startswith("shared:") else f"{k}s from {origin} sources"
        key = (group, o.command)
        groups[key]["FAIL" if o.verdict.startswith("FAIL") else o.verdict] += 1
        slowest[key] = max(slowest[key], o.seconds)
    print(f"{len(items)} inputs, {len(outcomes)} runs in {wall:.0f} s with {args.jobs} jobs "
          f"(load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs)")  # fmt: skip
    print("| inputs | command | runs | exit 0 | exit 0 with warnings | exit 2 (one line) "
          "| failures | slowest s |")
    print("|---|---|---|---|---|---|---|---|")
    for (group, cmd), c in sorted(groups.items()):
        print(f"| {group} | {cmd} | {sum(c.values())} | {c['ok']} | {c['warned']} "
              f"| {c['rejected']} | {c['FAIL']} | {slowest[(group, cmd)]:.1f} |")  # fmt: skip
    failures = [o for o in outcomes if o.verdict.startswith("FAIL")]
    total = collections.Counter("FAIL" if o.verdict.startswith("FAIL") else o.verdict
                                for o in outcomes)
    slowest_all = max((o.seconds for o in outcomes), default=0)
    print(f"| all | both | {len(outcomes)} | {total['ok']} | {total['warned']} "
          f"| {total['rejected']} | {total['FAIL']} | {slowest_all:.1f} |")  # fmt: skip
    for o in failures:
        print(f"FAIL {o.command} {o.name}: {o.verdict}; rc {o.rc}; {o.seconds:.1f} s; "
              f"stderr: {o.stderr!r}")
    if args.json_out:
        args.json_out.write_text(json.dumps([o.__dict__ for o in outcomes], indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
