"""The main window opens files in the background, into tabs, and remembers them."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QSettings  # noqa: E402

from ids_desktop.gui.main_window import AnalysisTab, MainWindow  # noqa: E402
from tests.test_cli import write_unsw  # noqa: E402


def test_open_csv_fills_table_and_recent(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_unsw(tmp_path / "t.csv", [("Normal", 0), ("Exploits", 1), ("DoS", 1)])
    tab = window.open_path(path)
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    assert tab.result is not None
    assert tab.model.rowCount() == 3
    assert window.recent_files()[0] == str(path.resolve())
    assert window.tabs.count() == 1 and isinstance(window.tabs.widget(0), AnalysisTab)


def test_bad_file_shows_error_not_crash(window, qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(
        "ids_desktop.gui.errors.QMessageBox.warning", lambda parent, title, text: shown.append(text)
    )
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\x00\x01garbage" * 50)
    tab = window.open_path(bad)
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    assert tab.result is None
    assert shown and "not a packet capture" in shown[0]


def test_selecting_a_flagged_row_explains_it(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    path = write_unsw(tmp_path / "t.csv",
                      [("Normal", 0), ("Exploits", 1), ("DoS", 1), ("Generic", 1)])
    tab = window.open_path(path)
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    assert tab.analysis is not None and tab.analysis.summary is not None
    assert {"pred_class", "pred_score", "flagged"} <= set(tab.model.columns())
    tab.flagged_only.setChecked(False)
    qtbot.wait(400)  # the filter is debounced (150 ms); let it apply before selecting
    assert tab.model.rowCount() == 4
    with qtbot.waitSignal(tab.explained, timeout=120_000) as blocker:
        tab.table.selectRow(0)
    exp = blocker.args[0]
    assert exp.contributions and exp.sentence
    assert tab.chart.labels == [c.display for c in exp.contributions]


def test_labelled_input_gets_an_evaluation_tab(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    path = write_unsw(tmp_path / "t.csv", [("Normal", 0), ("Exploits", 1), ("DoS", 1)])
    tab = window.open_path(path)
    with qtbot.waitSignal(tab.evaluated, timeout=120_000) as blocker:
        pass
    report = blocker.args[0]
    assert set(report) == {"model", "n", "binary", "per_class", "unusual", "confusion"}
    assert report["n"] == 3
    assert tab.pages.tabText(tab.pages.count() - 1) == "Evaluation"


def test_a_spoofed_capture_says_the_arp_check_flagged_flows(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.core.model.bundle import default_models_dir
    from tests.core.detect.test_arp_claims import ATTACKER_MAC, write_arp_capture

    if not (default_models_dir() / "pcap" / "metadata.json").is_file():
        pytest.skip("no pcap bundle")
    path = tmp_path / "spoofed.pcapng"
    write_arp_capture(path, "pcapng", spoof=True)
    tab = window.open_path(path)
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    assert tab.analysis is not None and tab.analysis.summary is not None
    text = tab.summary.text()
    assert "by model 'pcap' and 1 detector finding: MAC " + ATTACKER_MAC in text
    assert tab.analysis.flows["pred_class"].eq("mitm").sum() == 1


def test_the_first_window_fits_the_screen(window) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.main_window import DECORATION, DEFAULT_SIZE

    area = window.available()
    assert window.width() == min(DEFAULT_SIZE[0], area.width() - DECORATION[0])
    assert window.height() == min(DEFAULT_SIZE[1], area.height() - DECORATION[1])
    assert area.contains(window.geometry())


def test_a_window_saved_on_a_larger_screen_is_fitted(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    big = MainWindow(settings)
    qtbot.addWidget(big)
    area = big.available()
    big.setGeometry(0, 0, area.width() + 600, area.height() + 400)
    settings.setValue("window/geometry", big.saveGeometry())
    again = MainWindow(settings)
    qtbot.addWidget(again)
    assert again.available().contains(again.geometry())
