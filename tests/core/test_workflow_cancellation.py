"""Cancelling ingest, predict, explain or export at any moment leaves nothing behind.

"Nothing" is: no child process (nfstream's meters) still alive, no file in the temporary
folder, no file (partial or complete) in the output folder. "At any moment" is tested by a
token that turns set at its k-th ``is_set()`` call: a dry run counts the checks a stage makes
(N), then the stage is cancelled at the first, a middle and the last of them. Every input is
generated here, so the tests always run; predict, explain and export need a dataset model
bundle in ``models/`` and skip without one.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import psutil
import pytest

from ids_desktop.core.ingest import capture as capture_module
from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.capture import read_capture
from ids_desktop.errors import CancelledError
from ids_desktop.synth.mixed_capture import write_mixed_capture
from ids_desktop.synth.tables import synthetic_table

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
BUNDLE = "cic-ids2017"


class CountdownToken:
    """A cancel token that is set from its ``at``-th ``is_set()`` call on (never when 0)."""

    def __init__(self, at: int = 0) -> None:
        self.at = at
        self.calls = 0

    def is_set(self) -> bool:
        self.calls += 1
        return bool(self.at) and self.calls >= self.at

    def check(self) -> None:
        if self.is_set():
            raise CancelledError("cancelled by the user")

    def cancel(self) -> None:
        self.at = max(1, self.calls)


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _settle(before: set[int], seconds: float = 5.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    return _children() - before


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A fresh, empty temporary folder for everything the code under test creates."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def _leftover_tmp(folder: Path) -> list[str]:
    # multiprocessing keeps one empty per-process "pymp-*" folder until the interpreter exits
    # (it backs the meters' shared counters); it is removed at exit and holds no file.
    return [f for f in _files(folder) if not (f.startswith("pymp-") and "/" not in f)]


def cancel_points(run: Callable[[CountdownToken], object]) -> list[int]:
    """Run once uncancelled; return the checks to cancel at: first, middle, last."""
    probe = CountdownToken()
    run(probe)
    n = probe.calls
    assert n >= 1, "the stage never checked its cancel token"
    return sorted({1, max(1, n // 2), n})


def assert_cancelled_cleanly(run: Callable[[CountdownToken], object], at: int, out_dir: Path | None,
                             tmp: Path) -> None:  # fmt: skip
    before = _children()
    out_before = _files(out_dir) if out_dir is not None else []
    with pytest.raises(CancelledError):
        run(CountdownToken(at))
    assert not _settle(before), f"child processes left after a cancel at check {at}"
    assert not _leftover_tmp(tmp), f"temporary files left after a cancel at check {at}"
    if out_dir is not None:
        assert _files(out_dir) == out_before, f"output written despite a cancel at check {at}"


# --------------------------------------------------------------------------------------------
# ingest
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cancel") / "mixed.pcap"
    write_mixed_capture(path, 6, seed=4)
    return path


def test_cancel_capture_ingest_at_any_check(capture, private_tmp) -> None:
    def run(token: CountdownToken) -> object:
        return read_capture(capture, cancel=token, n_meters=1)

    points = cancel_points(run)
    assert len(points) == 3
    for at in points[:-1]:  # the last check is after the meters finished: covered below
        assert_cancelled_cleanly(run, at, None, private_tmp)


def test_cancel_capture_ingest_from_progress_with_two_meters(
    capture: Path, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GUI's way: the token is set from another thread while the meters are working."""
    # Progress is reported at most every 0.1 s; a fast machine read the whole small capture
    # within the first 0.1 s (1 run in 4 on 2026-12-05), so no report came before the end.
    monkeypatch.setattr(capture_module, "PROGRESS_EVERY_S", 0.0)
    token = CountdownToken()
    seen: list[set[int]] = []
    before = _children()

    def on_progress(done: float, total: float | None, stage: str) -> None:
        if done > 0 and not token.at:
            seen.append(_children() - before)
            token.cancel()

    with pytest.raises(CancelledError):
        ingest(capture, progress=on_progress, cancel=token)
    assert seen and seen[0], "no meter was running when the cancel came"
    assert not _settle(before)
    assert not _leftover_tmp(private_tmp)


def test_cancel_table_ingest(tmp_path, private_tmp) -> None:
    import random

    path = tmp_path / "flows.csv"
    path.write_text(synthetic_table("cic-ids2017", 3000, random.Random(1)))

    def run(token: CountdownToken) -> object:
        return ingest(path, cancel=token, chunk_rows=500)  # several chunks, several checks

    for at in cancel_points(run):
        assert_cancelled_cleanly(run, at, None, private_tmp)


def test_sigint_stops_the_cli_and_its_meters(tmp_path) -> None:
    """Ctrl+C on ``ids-desktop-cli ingest`` ends it with 130 and takes the meters with it."""
    path = tmp_path / "big.pcap"
    write_mixed_capture(path, 40, seed=8)
    cli = Path(sys.executable).parent / "ids-desktop-cli"
    proc = subprocess.Popen([str(cli), "ingest", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    meters: list[psutil.Process] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None and not meters:
        meters = psutil.Process(proc.pid).children(recursive=True)
        time.sleep(0.05)
    if proc.poll() is not None:
        pytest.skip("the capture was read before the meters could be observed")
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode in (130, 0), err  # 0: it finished before the signal landed
    assert "Traceback" not in err
    gone, alive = psutil.wait_procs(meters, timeout=5)
    assert not alive, f"meter processes outlived the CLI: {[p.pid for p in alive]}"


def test_a_ctrl_c_after_the_command_finished_changes_nothing() -> None:
    """A SIGINT landing while the CLI exits (after ``main`` returned) is ignored: exit 0 and
    no traceback, not death by SIGINT (-2), which made the test above flaky."""
    code = ("import os, signal, time; from ids_desktop.cli import main; code = main(['formats']); "
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(0.2); raise SystemExit(code)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "KeyboardInterrupt" not in proc.stderr


# --------------------------------------------------------------------------------------------
# predict, explain, export (need a dataset bundle)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    if not (MODELS / BUNDLE / "metadata.json").is_file():
        pytest.skip(f"models/{BUNDLE} is absent")
    import random

    path = tmp_path_factory.mktemp("cancel-model") / "flows.csv"
    path.write_text(synthetic_table("cic-ids2017", 400, random.Random(2)))
    from ids_desktop.core.workflow import run_analysis

    analysis = run_analysis(path)
    assert analysis.summary is not None, analysis.note
    return analysis


def test_cancel_predict_at_any_check(scored, private_tmp) -> None:
    from ids_desktop.core.model import bundle as bundle_mod

    bundle = scored.bundle
    # Many windows in small chunks, so scoring checks the token several times.
    frame = pd.concat([scored.result.frame] * 10, ignore_index=True)
    chunk = bundle_mod.CHUNK_POSITIONS
    bundle_mod.CHUNK_POSITIONS = 500
    try:
        def run(token: CountdownToken) -> object:
            return bundle.score(frame, temporal=scored.result.temporal, cancel=token)

        points = cancel_points(run)
        assert points[-1] >= 3
        for at in points:
            assert_cancelled_cleanly(run, at, None, private_tmp)
    finally:
        bundle_mod.CHUNK_POSITIONS = chunk


def test_cancel_explain_at_any_check(scored, private_tmp) -> None:
    from ids_desktop.core.explain.service import BundleExplainer

    explainer = BundleExplainer.for_analysis(scored, num_samples=2000)
    row = int(scored.flows["pred_score"].to_numpy().argmax())

    def run(token: CountdownToken) -> object:
        return explainer.explain_row(row, cancel=token)

    for at in cancel_points(run):
        assert_cancelled_cleanly(run, at, None, private_tmp)


def test_cancel_export_at_any_check(scored, tmp_path, private_tmp) -> None:
    from ids_desktop.core.report.export import ExportRequest, export_reports

    out = tmp_path / "reports"
    out.mkdir()
    (out / "keep.txt").write_text("an unrelated file the export must not touch")
    request = ExportRequest(pdf=out / "r.pdf", csv=out / "r.csv", jsonl=out / "r.jsonl",
                            all_flows=True, top_n=20, explain_k=1)  # fmt: skip
    dry = tmp_path / "dry"
    dry_request = ExportRequest(pdf=dry / "r.pdf", csv=dry / "r.csv", jsonl=dry / "r.jsonl",
                                all_flows=True, top_n=20, explain_k=1)  # fmt: skip

    probe = CountdownToken()
    written = export_reports(scored, dry_request, cancel=probe)
    assert sorted(p.name for p in written) == ["r.csv", "r.jsonl", "r.pdf"]
    assert sorted(_files(dry)) == ["r.csv", "r.jsonl", "r.pdf"]
    n = probe.calls
    points = sorted({1, max(1, n // 2), max(1, 5 * n // 6), n})
    for at in points:
        assert_cancelled_cleanly(lambda t: export_reports(scored, request, cancel=t), at, out,
                                 private_tmp)
    assert _files(out) == ["keep.txt"]


def test_failed_export_leaves_no_partial_set(scored, tmp_path, private_tmp) -> None:
    """An error in the last report (here: the PDF's folder is a file) removes the others."""
    from ids_desktop.core.report.export import ExportRequest, export_reports

    out = tmp_path / "reports"
    out.mkdir()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    request = ExportRequest(csv=out / "r.csv", jsonl=out / "r.jsonl", pdf=blocker / "r.pdf",
                            explain_k=0)
    with pytest.raises(Exception):  # noqa: B017 - any error; the point is what is left
        export_reports(scored, request)
    assert _files(out) == []
    assert not _leftover_tmp(private_tmp)
