"""Desktop habits: settings, recent files, drop, command line, tabs, shortcuts, layout, crashes,
export."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QAction, QDropEvent, QKeySequence  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ids_desktop import config  # noqa: E402
from ids_desktop.core.options import GUI_METER_NICE, AnalysisOptions  # noqa: E402
from ids_desktop.gui.main_window import AnalysisTab, MainWindow  # noqa: E402
from ids_desktop.gui.settings_dialog import SettingsDialog  # noqa: E402
from tests.test_cli import write_unsw  # noqa: E402


def ini(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    win = MainWindow(ini(tmp_path))
    qtbot.addWidget(win)
    return win


def wait_done(qtbot, tab: AnalysisTab) -> None:  # type: ignore[no-untyped-def]
    if tab.analysis_task.busy or tab.export_task.busy:
        with qtbot.waitSignal(tab.closed_work, timeout=120_000):
            pass


def test_settings_dialog_round_trips_through_config(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "options.json"
    defaults, problem = config.load_options(path)
    assert defaults == AnalysisOptions() and problem is None
    dialog = SettingsDialog(defaults.replace(csv_chunk_rows=1000), ["unsw-nb15", "ton-iot"])
    qtbot.addWidget(dialog)
    dialog.model.setCurrentText("ton-iot")
    dialog.own_threshold.setChecked(True)
    dialog.threshold.setValue(0.7)
    dialog.samples.setValue(2500)
    dialog.idle.setValue(30)
    dialog.active.setValue(600)
    config.save_options(dialog.options(), path)
    again, problem = config.load_options(path)
    assert problem is None
    assert again == AnalysisOptions(model="ton-iot", threshold=0.7, lime_samples=2500,
                                    idle_timeout=30.0, active_timeout=600.0,
                                    csv_chunk_rows=1000)  # what the dialog does not show stays
    dialog.own_threshold.setChecked(False)
    config.save_options(dialog.options(), path)
    assert config.load_options(path)[0].threshold is None


def test_settings_saved_from_the_window_reach_the_next_session(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = MainWindow(ini(tmp_path))
    qtbot.addWidget(first)
    assert first.options == AnalysisOptions() and first.statusBar().currentMessage() == "Ready"

    def edit(dialog: SettingsDialog) -> int:
        dialog.samples.setValue(700)
        dialog.idle.setValue(15)
        return 1  # OK

    monkeypatch.setattr(SettingsDialog, "exec", edit)
    first.settings_dialog()
    assert first.options == AnalysisOptions(lime_samples=700, idle_timeout=15.0)
    assert config.settings_path().is_relative_to(tmp_path)  # the test's own user folder
    assert config.load_options()[0] == first.options
    second = MainWindow(ini(tmp_path))
    qtbot.addWidget(second)
    assert second.options == first.options
    assert AnalysisOptions().meter_nice == 0  # nothing global changed


def test_an_unreadable_settings_file_is_said_in_the_status_bar(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config.settings_path().parent.mkdir(parents=True)
    config.settings_path().write_text('{"lime_samples": 5}', encoding="utf-8")
    win = MainWindow(ini(tmp_path))
    qtbot.addWidget(win)
    assert win.options == AnalysisOptions()
    assert "settings not read" in win.statusBar().currentMessage()
    assert "LIME samples must be 0" in win.statusBar().currentMessage()


def test_the_dialog_refuses_invalid_options(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr("ids_desktop.gui.errors.QMessageBox.warning",
                        lambda parent, title, text: shown.append(text))
    dialog = SettingsDialog(AnalysisOptions(), [])
    qtbot.addWidget(dialog)
    dialog.samples.setValue(50)  # under the smallest LIME neighbourhood
    dialog.accept()
    assert shown and "LIME samples must be 0" in shown[0]
    assert dialog.result() != dialog.DialogCode.Accepted


def test_settings_reach_the_analysis(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config.save_options(AnalysisOptions(threshold=0.25, lime_samples=700, idle_timeout=15.0,
                                        active_timeout=90.0))
    window = MainWindow(ini(tmp_path))
    qtbot.addWidget(window)
    tab = window.open_path(write_unsw(tmp_path / "t.csv", [("Normal", 0)]))
    assert tab.options == AnalysisOptions(threshold=0.25, lime_samples=700, idle_timeout=15.0,
                                          active_timeout=90.0, meter_nice=GUI_METER_NICE)
    wait_done(qtbot, tab)
    assert tab.analysis is not None and tab.analysis.options == tab.options


def test_several_files_open_as_tabs_and_recent_menu_reopens(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write_unsw(tmp_path / "a.csv", [("Normal", 0)])
    b = write_unsw(tmp_path / "b.csv", [("Normal", 0), ("DoS", 1)])
    for path in (a, b):
        wait_done(qtbot, window.open_path(path))
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == ["a.csv", "b.csv"]
    assert window.recent_files()[:2] == [str(b.resolve()), str(a.resolve())]
    actions = window.recent_menu.actions()
    assert [act.toolTip() for act in actions[:2]] == [str(b.resolve()), str(a.resolve())]
    actions[1].trigger()  # reopen a.csv
    assert window.tabs.count() == 3 and window.tabs.tabText(2) == "a.csv"
    wait_done(qtbot, window.current_tab())
    next_tab = next(a for a in window.findChildren(QAction) if a.text() == "&Next Tab")
    next_tab.trigger()  # Ctrl+Tab wraps around
    assert window.tabs.currentIndex() == 0
    window.close_tab(0)
    assert window.tabs.count() == 2


def test_dropping_files_opens_them(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = write_unsw(tmp_path / "dropped.csv", [("Normal", 0)])
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    tab = window.current_tab()
    assert tab is not None and tab.path == path
    wait_done(qtbot, tab)


def test_command_line_paths_open_in_tabs(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.app import open_window, parse_args

    a = write_unsw(tmp_path / "a.csv", [("Normal", 0)])
    b = write_unsw(tmp_path / "b.csv", [("Normal", 0)])
    args = parse_args([str(a), str(b)])
    win = open_window(args.files, ini(tmp_path))
    qtbot.addWidget(win)
    assert win.isVisible()
    qtbot.waitUntil(lambda: win.tabs.count() == 2, timeout=5_000)  # opened once the window is up
    for i in range(2):
        wait_done(qtbot, win.tabs.widget(i))


def test_standard_shortcuts(window) -> None:  # type: ignore[no-untyped-def]
    actions = window.findChildren(type(window.open_action))
    bound = {a.text().replace("&", ""): a.shortcuts() for a in actions}
    assert QKeySequence("Ctrl+O") in bound["Open…"]
    close_tab = bound["Close Tab"]
    assert QKeySequence("Ctrl+W") in close_tab or QKeySequence("Ctrl+F4") in close_tab
    assert bound["Quit"] and bound["Settings…"]  # a fallback where the platform has none
    assert QKeySequence("Ctrl+Tab") in bound["Next Tab"]


def test_geometry_and_splitters_persist(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = MainWindow(ini(tmp_path))
    qtbot.addWidget(first)
    first.resize(640, 480)  # inside the offscreen screen, which restoreGeometry clamps to
    first.show()
    tab = first.open_path(write_unsw(tmp_path / "t.csv", [("Normal", 0)]))
    wait_done(qtbot, tab)
    tab.splitter.setSizes([200, 500])
    wanted = tab.splitter.sizes()
    first.close()
    second = MainWindow(ini(tmp_path))
    qtbot.addWidget(second)
    assert (second.size().width(), second.size().height()) == (640, 480)
    again = second.open_path(write_unsw(tmp_path / "u.csv", [("Normal", 0)]))
    sizes = again.splitter.sizes()  # the new tab is laid out at its own height: compare shares
    assert sizes[0] / sum(sizes) == pytest.approx(wanted[0] / sum(wanted), abs=0.02)
    wait_done(qtbot, again)


def test_unexpected_error_opens_crash_dialog_naming_the_log(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ids_desktop.gui.errors import show_error

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    shown: list[str] = []
    monkeypatch.setattr("ids_desktop.gui.errors.QMessageBox.critical",
                        lambda parent, title, text: shown.append(text))
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError as exc:
        show_error(None, exc)
    log = tmp_path / "data" / "ids-desktop" / "crash.log"
    assert shown and str(log) in shown[0]
    assert "Traceback" in log.read_text() and "ZeroDivisionError: boom" in log.read_text()


def test_export_writes_the_report(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    tab = window.open_path(write_unsw(tmp_path / "t.csv", [("Normal", 0), ("DoS", 1)]))
    wait_done(qtbot, tab)
    out = tmp_path / "alerts.csv"
    tab.export("csv", out)
    wait_done(qtbot, tab)
    assert out.is_file() and "wrote" in tab.summary.text()
    assert tab.stage.text().startswith("done in")


def test_the_pdf_export_of_a_labelled_input_carries_its_evaluation(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    from ids_desktop.core.model.bundle import default_models_dir

    pypdf = pytest.importorskip("pypdf")
    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    labelled = write_unsw(tmp_path / "t.csv", [("Normal", 0), ("DoS", 1), ("Exploits", 1)])
    tab = window.open_path(labelled)
    with qtbot.waitSignal(tab.evaluated, timeout=120_000):
        pass
    out = tmp_path / "report.pdf"
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        tab.export("pdf", out)
    text = "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(str(out)).pages)
    assert "Evaluation against the file's labels" in text
    assert tab.summary.text() == f"wrote {out}"


def test_the_dialog_shows_each_bundles_own_threshold_and_what_it_is(qtbot) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.core.model.bundle import list_bundles, read_metadata

    bundles = {b["name"]: b for b in list_bundles()}
    if not {"pcap", "unsw-nb15"} <= set(bundles):
        pytest.skip("the pcap and unsw-nb15 bundles are not here")
    own = {n: float(read_metadata(Path(b["path"]))["threshold"]) for n, b in bundles.items()}
    dialog = SettingsDialog(AnalysisOptions(model="unsw-nb15"), list(bundles.values()))
    qtbot.addWidget(dialog)
    assert dialog.threshold.value() == pytest.approx(own["unsw-nb15"], abs=1e-4)
    described = dialog.description.text()
    assert "UNSW-NB15" in described and "attack families" in described
    dialog.model.setCurrentText("pcap")
    assert dialog.threshold.value() == pytest.approx(own["pcap"], abs=1e-4)  # not 0.500
    assert f"{own['pcap']:.4f}" in dialog.threshold_note.text()
    tips = [dialog.model.itemData(i, Qt.ItemDataRole.ToolTipRole)
            for i in range(dialog.model.count())]
    assert all(tips)
    # overriding starts from the bundle's own value: OK without a change keeps it
    dialog.own_threshold.setChecked(True)
    assert dialog.options().threshold == own["pcap"]  # exactly, not its 4-decimal display
    # an override saved before is shown as it is, whatever the bundle
    again = SettingsDialog(AnalysisOptions(model="pcap", threshold=0.25), list(bundles.values()))
    qtbot.addWidget(again)
    assert again.threshold.value() == 0.25 and again.own_threshold.isChecked()
    auto = SettingsDialog(AnalysisOptions(), list(bundles.values()))
    qtbot.addWidget(auto)
    assert auto.threshold.value() == pytest.approx(own["pcap"], abs=1e-4)
    assert "unsw-nb15" in auto.threshold_note.text()
