"""The analysis tab's tasks: plain functions without an event loop, and their slots in the tab."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from ids_desktop.core.analysis import (  # noqa: E402
    Analysis,
    ModelRun,
    verdict_columns,
    with_verdicts,
)
from ids_desktop.core.ingest.result import IngestResult  # noqa: E402
from ids_desktop.core.model.bundle import Scores  # noqa: E402
from ids_desktop.core.options import AnalysisOptions  # noqa: E402
from ids_desktop.core.tasks import CancelToken  # noqa: E402
from ids_desktop.gui import tab_tasks  # noqa: E402
from ids_desktop.gui.analysis_tab import AnalysisTab  # noqa: E402
from tests.test_cli import write_unsw  # noqa: E402


def no_progress(done, total, stage):  # type: ignore[no-untyped-def]
    pass


def fake_analysis(
    feature_format: str = "pcap", options: AnalysisOptions | None = None, *, labelled: bool = False
) -> Analysis:
    """Two flows scored by a stand-in bundle (no model file is read)."""
    frame = pd.DataFrame(
        {
            "src_ip": pd.array(["10.0.0.1", None], dtype="string"),
            "empty": [np.nan, np.nan],
            "label_binary": pd.array([0, 1] if labelled else [None, None], dtype="Int8"),
        }
    )
    result = IngestResult(
        frame=frame, format=feature_format, feature_format=feature_format, temporal=True,
        sha256="f" * 64,
    )
    bundle = SimpleNamespace(metadata={"model_sha256": "m" * 64}, name="fake", seq_len=1)
    scores = Scores(
        np.array([[0.9, 0.1], [0.2, 0.8]]),
        np.array([0.1, 0.8]),
        np.zeros(2),
        np.array([False, True]),
        pd.array(["benign", "scan"], dtype="string"),
    )
    run = ModelRun(bundle, np.zeros((2, 1)), np.zeros((2, 1)), scores, 0.5, 0.0)  # type: ignore[arg-type]
    return Analysis(
        Path("x.pcap"),
        options or AnalysisOptions(),
        result,
        with_verdicts(frame, verdict_columns(scores, (), len(frame))),
        run,
    )


def test_the_explanation_key_is_the_one_cached_explanations_were_saved_under() -> None:
    key = tab_tasks.explain_key(fake_analysis())
    digest = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    assert key == (
        digest(f"{'f' * 64}|pcap|idle=120.0|active=1800.0"),
        digest(f"{'m' * 64}|samples=auto"),
    )
    other = tab_tasks.explain_key(fake_analysis(options=AnalysisOptions(idle_timeout=60)))
    assert other is not None and other[0] != key[0] and other[1] == key[1]
    table = tab_tasks.explain_key(fake_analysis("unsw-nb15", AnalysisOptions(idle_timeout=60)))
    assert table == (digest(f"{'f' * 64}|unsw-nb15"), key[1])  # timeouts only shape captures


def test_view_data_of_a_scored_analysis() -> None:
    view = tab_tasks.view_data(fake_analysis())
    assert view.empty_columns == {"empty", "label_binary", "finding"}  # no detector finding
    assert view.classes == ("benign", "scan")
    assert view.order.tolist() == [1, 0]  # by descending score
    assert set(view.search) == {"src_ip", "pred_class"} and view.overview is None
    assert view.cache_key(3) is None  # no explain key given


def test_the_analysis_task_runs_without_an_event_loop(tmp_path: Path) -> None:
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    path = write_unsw(tmp_path / "t.csv", [("Normal", 0), ("Exploits", 1), ("DoS", 1)])
    batches: list[pd.DataFrame] = []
    analysis, view = tab_tasks.analyse_for_view(
        path, AnalysisOptions(), progress=no_progress, cancel=CancelToken(), partial=batches.append
    )
    assert sum(len(b) for b in batches) == len(analysis.flows) == 3  # the preview's batches
    assert "pred_score" not in batches[0].columns  # unscored identity columns
    flows = analysis.flows
    assert view.classes == tuple(sorted(flows["pred_class"].unique()))
    assert flows["pred_score"].to_numpy()[view.order].tolist() == sorted(
        flows["pred_score"], reverse=True
    )
    assert view.overview is not None and view.overview.flows == 3
    assert view.overview.file_sha256 == analysis.file_sha256
    assert view.explain_key == tab_tasks.explain_key(analysis) and view.explain_key is not None


def scored_tab(qtbot, tmp_path: Path, *, labelled: bool = False) -> AnalysisTab:  # type: ignore[no-untyped-def]
    """A tab showing a scored analysis, as after its analysis task."""
    tab = AnalysisTab(tmp_path / "x.pcap")
    qtbot.addWidget(tab)
    analysis = fake_analysis(labelled=labelled)
    tab.show_analysis(analysis, tab_tasks.view_data(analysis))  # no cache key: always computed
    return tab


def test_a_late_explanation_never_reaches_the_pane(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()

    def explain_row(explainers, row, *, progress, cancel):  # type: ignore[no-untyped-def]
        if row == 0:
            release.wait(10)  # the first explanation ignores its cancel and comes late
        return row, f"explanation of row {row}"

    monkeypatch.setattr(tab_tasks, "explain_row", explain_row)
    tab = scored_tab(qtbot, tmp_path)
    heard: list[object] = []
    tab.explained.connect(heard.append)
    tab.explain(0)
    tab.explain(1)  # the user moved on
    assert tab.explanation_text.text() == "Explaining… (LIME is querying the model)"
    release.set()
    qtbot.waitUntil(lambda: not tab.explain_task.busy, timeout=10_000)
    qtbot.wait(100)
    assert heard == ["explanation of row 1"]


def test_a_bug_in_an_explanation_reaches_the_crash_log(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def explain_row(explainers, row, *, progress, cancel):  # type: ignore[no-untyped-def]
        raise KeyError("no such window")

    monkeypatch.setattr(tab_tasks, "explain_row", explain_row)
    tab = scored_tab(qtbot, tmp_path)
    tab.explain(0)
    qtbot.waitUntil(
        lambda: tab.explanation_text.text().startswith("No explanation"), timeout=10_000
    )
    log = tmp_path / "data" / "ids-desktop" / "crash.log"
    assert (
        tab.explanation_text.text()
        == f"No explanation: KeyError: 'no such window' (details in {log})"
    )
    assert "Traceback" in log.read_text() and "KeyError: 'no such window'" in log.read_text()


def test_a_user_error_in_an_evaluation_is_said_without_a_crash_log(
    qtbot, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.errors import ModelError

    def evaluate(analysis, *, progress, cancel):  # type: ignore[no-untyped-def]
        raise ModelError("the bundle cannot read these labels")

    monkeypatch.setattr(tab_tasks, "evaluate", evaluate)
    tab = scored_tab(qtbot, tmp_path, labelled=True)  # the evaluation starts by itself
    qtbot.waitUntil(
        lambda: tab.evaluation.status.text().startswith("No evaluation"), timeout=10_000
    )
    assert tab.evaluation.status.text() == "No evaluation: the bundle cannot read these labels"
    assert tab.pages.tabText(tab.pages.count() - 1) == "Evaluation"
    assert not (tmp_path / "data" / "ids-desktop" / "crash.log").exists()


def test_an_export_reuses_the_tabs_explanations(tmp_path: Path) -> None:
    """The export gets the tab's explanation cache and key, so flows already explained (and
    explained by an earlier export) are not explained again."""
    view = tab_tasks.ViewData(explain_key=("input", "model"))
    request = tab_tasks.export_request(view, pdf=tmp_path / "r.pdf")
    assert request.pdf == tmp_path / "r.pdf"
    assert request.cache is tab_tasks.explanation_cache()
    assert request.cache_key == ("input", "model")
    bare = tab_tasks.export_request(tab_tasks.ViewData(), csv=tmp_path / "r.csv")
    assert bare.cache is None and bare.cache_key is None and bare.csv == tmp_path / "r.csv"
    assert tab_tasks.export_request(None, jsonl=tmp_path / "a.jsonl").cache is None
