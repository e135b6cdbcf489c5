"""A fixed, seeded subset of the fuzz corpus through ``ids-desktop-cli ingest`` and ``analyze``.

Each input (``scripts/make_fuzz_corpus.py``, seed 0) runs as a subprocess, as a user would run
it. A run must print no traceback, end within 60 s, and either exit 0 (stderr holds only
``warning:`` lines) or exit 2 with exactly one line on stderr. The whole corpus (hundreds of
inputs, real ones too when ``../shared/data`` exists) runs with ``bench/fuzz.py``.

The subset covers one of each kind of damage, and the inputs that once failed: a CSV whose
first row has 100,000 fields (took 45-60 s and shifted every column), a cut gzip export
(internal error), pre-1970 packet times (numpy cast warnings on stderr).
"""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ids_desktop.synth.fuzz_corpus import build_corpus

CLI = Path(sys.executable).parent / "ids-desktop-cli"
LIMIT_S = 60.0

SUBSET = (
    # captures: cuts, header damage, odd lengths, odd times
    "gen-known-pcap--cut-in-record-body.pcap",
    "gen-known-pcapng--cut-in-record-header.pcapng",
    "gen-mixed-pcap--huge-snaplen.pcap",
    "gen-demo--wrong-magic-2.pcap",
    "gen-known-pcap--negative-timestamps.pcap",
    "gen-mixed-pcap--oversized-packet-200k.pcap",
    # tables: formulas, encodings, structure, size, compression, junk
    "gen-cic-ids2017--hostile-cells-formulas.csv",
    "gen-unsw-nb15--utf16-le-bom.csv",
    "gen-ton-iot--latin1.csv",
    "gen-cic-ids2017--line-100k-fields.csv",
    "gen-ton-iot--no-label-columns.csv",
    "gen-export--gzip-truncated.csv.gz",
    "generic--random-bytes.csv",
    # real damage, when ../shared/data is present
    "malformed--fuzz-2021-06-07-c6c72a0a56.pcap",
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    items = build_corpus(folder, seed=0, only=set(SUBSET))
    names = {i.name for i in items}
    missing = [n for n in SUBSET if n not in names and not n.startswith("malformed--")]
    assert not missing, f"the corpus generator no longer makes {missing}"
    return folder


def _run(path: Path, command: str) -> tuple[str, str, int | None, str, str, float]:
    start = time.perf_counter()
    try:
        proc = subprocess.run([str(CLI), command, str(path)], capture_output=True, text=True,
                              timeout=LIMIT_S + 5, stdin=subprocess.DEVNULL)  # fmt: skip
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired:
        rc, out, err = None, "", ""
    return path.name, command, rc, out, err, time.perf_counter() - start


def test_fuzz_subset(corpus: Path) -> None:
    jobs = [(corpus / name, cmd) for name in SUBSET if (corpus / name).exists()
            for cmd in ("ingest", "analyze")]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda job: _run(*job), jobs))
    problems = []
    for name, cmd, rc, out, err, seconds in results:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        why = None
        if rc is None or seconds > LIMIT_S:
            why = f"took more than {LIMIT_S:.0f} s"
        elif "Traceback" in out or "Traceback" in err:
            why = "printed a traceback"
        elif rc == 0 and any(not ln.startswith("warning: ") for ln in lines):
            why = "exit 0 with stderr lines that are not warnings"
        elif rc == 2 and (len(lines) != 1 or not lines[0].startswith("ids-desktop-cli: error: ")):
            why = f"exit 2 with {len(lines)} stderr lines"
        elif rc not in (0, 2):
            why = f"exit {rc}"
        if why:
            problems.append(f"{cmd} {name}: {why}; stderr: {err.strip()[-300:]!r}")
    assert not problems, "\n".join(problems)
    assert len(results) >= 2 * 13
