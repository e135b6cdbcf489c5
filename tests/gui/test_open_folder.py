"""File ▸ Open Folder: the batch on the local cluster with progress and Cancel, its incidents
across files, and opening one opens its file's tab on the incident."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("distributed")
pytestmark = [pytest.mark.gui, pytest.mark.slow]


from ids_desktop.batch.task import DELAY_ENV  # noqa: E402
from ids_desktop.gui.batch_view import TARGET_ROLE  # noqa: E402
from ids_desktop.gui.main_window import AnalysisTab  # noqa: E402
from tests.batch.conftest import child_processes, split_pcap  # noqa: E402
from tests.conftest import REPO  # noqa: E402


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if not (REPO / "models" / "pcap" / "metadata.json").is_file():
        pytest.skip("models/pcap is not built")
    from ids_desktop.synth import attack_captures as A

    whole = A.write_port_scan(tmp_path / "whole.pcap", ports=40)
    folder = tmp_path / "sensor"
    folder.mkdir()
    split_pcap(whole, folder / "rot-0001.pcap", folder / "rot-0002.pcap")
    A.write_ssh_guessing(folder / "ssh.pcap")
    return folder


def test_open_folder_lists_incidents_across_files_and_opens_one(window, qtbot,  # type: ignore[no-untyped-def]
                                                                folder: Path) -> None:
    assert window.open_folder_action.shortcut().toString() == "Ctrl+Shift+O"
    page = window.open_folder(folder, workers=1)
    with qtbot.waitSignal(page.closed_work, timeout=180_000):
        pass
    assert page.result is not None and page.result.summary["captures"] == 3
    assert page.stage.text().startswith("done")
    assert page.tree.topLevelItemCount() == len(page.result.incidents) >= 2
    rotated = next(page.tree.topLevelItem(i) for i in range(page.tree.topLevelItemCount())
                   if page.tree.topLevelItem(i).childCount() == 2)
    assert rotated.text(3) == "2 files"
    second = rotated.child(1)
    assert second.text(3) == "rot-0002.pcap"
    page.tree.setCurrentItem(second)
    page.open_button.click()
    tab = window.tabs.currentWidget()
    assert isinstance(tab, AnalysisTab) and tab.path.name == "rot-0002.pcap"
    with qtbot.waitSignal(tab.closed_work, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: tab.incidents.current() is not None, timeout=5_000)
    assert tab.incidents.current().id == second.data(0, TARGET_ROLE)[1]


def test_cancel_stops_the_workers(window, qtbot, folder: Path,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DELAY_ENV, "*.pcap=60")
    page = window.open_folder(folder, workers=1)
    qtbot.waitUntil(lambda: page.stage.text().startswith("analysing files"), timeout=60_000)
    time.sleep(0.5)
    with qtbot.waitSignal(page.closed_work, timeout=60_000):
        page.cancel_button.click()
    assert page.stage.text() == "cancelled" and page.result is None
    assert child_processes() == []
    assert not list(page.out.rglob("*.parquet"))
