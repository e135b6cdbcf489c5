"""Flows shown while they arrive, the explanation cache, and charts in a dark palette."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ids_desktop import config  # noqa: E402
from ids_desktop.core.options import AnalysisOptions  # noqa: E402
from ids_desktop.gui import live_preview, tab_tasks  # noqa: E402
from ids_desktop.gui.main_window import AnalysisTab, MainWindow  # noqa: E402
from ids_desktop.synth.mixed_capture import write_mixed_capture  # noqa: E402
from tests.test_cli import write_unsw  # noqa: E402


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    config.save_options(AnalysisOptions(lime_samples=500))  # quick explanations
    win = MainWindow(settings)
    qtbot.addWidget(win)
    return win


def batch(start: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "flow_id": np.arange(start, start + n, dtype=np.int64),
        "src_ip": pd.array([f"10.0.0.{i % 250}" for i in range(start, start + n)], dtype="string"),
        "dst_port": pd.array(np.full(n, 443), dtype="Int64"),
        "first_seen": np.arange(start, start + n, dtype=float),
    })


def test_batches_are_shown_unscored_and_throttled(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = AnalysisTab(tmp_path / "x.pcap")
    qtbot.addWidget(tab)
    for i in range(40):  # a burst of batches: one refresh of the table, not forty
        tab.preview.add(batch(i * 100, 100))
    assert tab.model.rowCount() == 0
    qtbot.waitUntil(lambda: tab.preview.updates == 1, timeout=3_000)
    qtbot.wait(live_preview.PREVIEW_MIN_INTERVAL_MS + 100)
    assert tab.preview.updates == 1
    assert tab.model.rowCount() == 4000
    cols = tab.model.columns()
    assert {"flagged", "pred_class", "pred_score", "anomaly_score"} <= set(cols)
    assert tab.model.data(tab.model.index(0, cols.index("pred_score"))) == ""  # verdicts empty
    tab.preview.add(batch(4000, 10))
    qtbot.waitUntil(lambda: tab.model.rowCount() == 4010, timeout=3_000)
    assert tab.preview.updates == 2


def test_the_preview_stops_growing_at_its_bound_and_keeps_counting(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_preview, "PREVIEW_MAX_ROWS", 250)
    monkeypatch.setattr(live_preview, "PREVIEW_MIN_INTERVAL_MS", 0)
    tab = AnalysisTab(tmp_path / "x.pcap")
    qtbot.addWidget(tab)
    tab.preview.add(batch(0, 100))
    qtbot.waitUntil(lambda: tab.model.rowCount() == 100, timeout=3_000)
    for i in range(1, 4):  # 300 more rows: 150 fit
        tab.preview.add(batch(i * 100, 100))
    qtbot.waitUntil(lambda: "400 flows read so far" in tab.summary.text(), timeout=3_000)
    assert tab.model.rowCount() == 250
    assert tab.model.frame["flow_id"].tolist() == list(range(250))  # the first rows, in order
    assert "(the first 250 shown)" in tab.summary.text()
    tab.preview.stop("cancelled")  # what the end of a cancelled analysis does
    assert "400 flows were read until then; the first 250 are shown, unscored" in tab.summary.text()


def test_capture_flows_appear_before_the_analysis_ends(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ids_desktop.core.ingest.capture.HANDOVER_EVERY_S", 0.0)
    monkeypatch.setattr(live_preview, "PREVIEW_MIN_INTERVAL_MS", 0)
    path = tmp_path / "mixed.pcap"
    write_mixed_capture(path, 1.0, seed=3)
    tab = window.open_path(path)
    seen: list[tuple[int, bool]] = []
    tab.model.modelReset.connect(lambda: seen.append((tab.model.rowCount(), tab.analysis is None)))
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    assert tab.analysis is not None
    early = [rows for rows, before in seen if before and rows]
    assert early, "no flows were shown before the analysis finished"
    assert tab.model.frame is tab.analysis.flows or len(tab.model.frame) == len(tab.analysis.flows)
    assert max(early) <= len(tab.analysis.flows)


def test_second_look_at_a_row_is_instant_from_the_cache(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, private_user_dirs: Path
) -> None:
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    path = write_unsw(tmp_path / "t.csv",
                      [("Normal", 0), ("Exploits", 1), ("DoS", 1), ("Generic", 1)])
    tab = window.open_path(path)
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    tab.flagged_only.setChecked(False)
    tab.apply_filters()
    with qtbot.waitSignal(tab.explained, timeout=120_000) as first:
        tab.table.selectRow(0)
    with qtbot.waitSignal(tab.explained, timeout=120_000):
        tab.table.selectRow(1)
    qtbot.waitUntil(lambda: not tab.explain_task.busy, timeout=10_000)
    files = list(private_user_dirs.rglob("*.json"))
    assert len(files) == 2  # written to the user's cache folder

    def instant(row: int) -> object:
        got: list[object] = []
        tab.explained.connect(got.append)
        t0 = time.perf_counter()
        tab.table.selectRow(row)
        took = time.perf_counter() - t0
        tab.explained.disconnect(got.append)
        assert got and not tab.explain_task.busy and took < 0.5  # no background work at all
        return got[0]

    assert instant(0) == first.args[0]  # from memory
    tab_tasks.explanation_cache.cache_clear()  # a new session: memory empty, the disk copy remains
    tab.table.selectRow(1)
    assert instant(0) == first.args[0]  # from disk

    # another LIME sample count is another explanation: not served from the cache
    other = dataclasses.replace(tab.analysis,
                                options=tab.analysis.options.replace(lime_samples=600))
    assert tab_tasks.explain_key(other) != tab_tasks.explain_key(tab.analysis)


def test_charts_and_rows_follow_a_dark_palette(qtbot) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.charts.explanation import ExplanationChart
    from ids_desktop.gui.overview import bar_plot

    app = QApplication.instance()
    light = app.palette()
    dark = QPalette(light)
    dark.setColor(QPalette.ColorRole.Base, QColor(30, 30, 30))
    dark.setColor(QPalette.ColorRole.Window, QColor(45, 45, 45))
    dark.setColor(QPalette.ColorRole.Text, QColor(230, 230, 230))
    dark.setColor(QPalette.ColorRole.WindowText, QColor(230, 230, 230))
    try:
        app.setPalette(dark)
        chart = ExplanationChart()
        qtbot.addWidget(chart)
        chart.set_contributions([("a", 0.5), ("b", -0.2)])
        plot = bar_plot([("scan", 3)], "classes")
        qtbot.addWidget(plot)
        for p in (chart.plot, plot):
            assert p.backgroundBrush().color() == QColor(30, 30, 30)
            assert p.getAxis("left").textPen().color() == QColor(230, 230, 230)
        app.setPalette(light)  # a live theme switch repaints existing charts
        base = light.color(QPalette.ColorRole.Base)
        qtbot.waitUntil(lambda: chart.plot.backgroundBrush().color() == base, timeout=2_000)
    finally:
        app.setPalette(light)
    from ids_desktop.gui.flow_table import FLAGGED_BRUSH

    # a tint over the palette's base, never an opaque light colour
    assert FLAGGED_BRUSH.alpha() < 128


def test_cancel_keeps_the_flows_read_so_far_and_leaves_no_worker(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ids_desktop.gui.workers import active_count, wait_for_all

    monkeypatch.setattr("ids_desktop.core.ingest.capture.HANDOVER_EVERY_S", 0.0)
    monkeypatch.setattr(live_preview, "PREVIEW_MIN_INTERVAL_MS", 0)
    path = tmp_path / "mixed.pcap"
    write_mixed_capture(path, 4.0, seed=5)
    tab = window.open_path(path)
    qtbot.waitUntil(lambda: tab.model.rowCount() > 0 or not tab.analysis_task.busy, timeout=60_000)
    with qtbot.waitSignal(tab.closed_work, timeout=60_000):
        tab.cancel()
    if tab.analysis is None:  # cancelled before the end (a fast machine may finish first)
        assert tab.stage.text() == "cancelled"
        assert "unscored" in tab.summary.text()
    assert wait_for_all(timeout=10) and active_count() == 0
