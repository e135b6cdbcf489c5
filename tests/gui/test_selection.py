"""The detail pane always shows the flow the table highlights: after sorting and filtering."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402

from ids_desktop.gui.analysis_tab import AnalysisTab  # noqa: E402
from ids_desktop.gui.flow_table import FlowTableModel  # noqa: E402
from tests.gui.test_flow_table import frame  # noqa: E402
from tests.gui.test_tab_tasks import scored_tab  # noqa: E402


def shown_field(tab: AnalysisTab, name: str) -> str | None:
    fields = tab.details.fields
    for r in range(fields.rowCount()):
        if fields.item(r, 0).text() == name:
            return fields.item(r, 1).text()
    return None


def highlighted(tab: AnalysisTab, column: str) -> str:
    current = tab.table.currentIndex()
    return tab.model.data(tab.model.index(current.row(), tab.model.columns().index(column)))


def select(tab: AnalysisTab, view_row: int) -> None:
    tab.table.selectionModel().setCurrentIndex(
        tab.model.index(view_row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


@pytest.fixture
def tab(qtbot, tmp_path: Path, monkeypatch) -> AnalysisTab:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(AnalysisTab, "explain", lambda self, row: None)  # fields only
    tab = scored_tab(qtbot, tmp_path)
    tab.flagged_only.setChecked(False)
    tab.apply_filters()
    assert tab.model.rowCount() == 2
    return tab


def test_sorting_keeps_the_highlight_and_the_pane_on_one_flow(tab: AnalysisTab) -> None:
    select(tab, 0)  # by descending score: the scan flow
    assert shown_field(tab, "pred_class") == highlighted(tab, "pred_class") == "scan"
    tab.table.sortByColumn(tab.model.columns().index("pred_score"), Qt.SortOrder.AscendingOrder)
    assert tab.table.currentIndex().row() == 1  # the scan flow moved down, the highlight too
    assert shown_field(tab, "pred_class") == highlighted(tab, "pred_class") == "scan"


def test_a_filter_keeps_a_shown_flow_and_clears_the_pane_of_a_hidden_one(tab: AnalysisTab) -> None:
    select(tab, 1)  # the benign flow
    assert shown_field(tab, "pred_class") == "benign"
    tab.filters.filter_edit.setText("scan")
    tab.apply_filters()
    assert tab.model.rowCount() == 1
    assert not tab.table.currentIndex().isValid()
    assert tab.details.fields.rowCount() == 0
    assert "hidden by the filters" in tab.details.explanation_text.text()
    tab.filters.filter_edit.setText("")
    tab.apply_filters()  # the flow is back: so are its highlight and pane
    assert shown_field(tab, "pred_class") == highlighted(tab, "pred_class") == "benign"
    select(tab, 0)
    tab.filters.filter_edit.setText("scan")  # the scan flow stays: so do the highlight and pane
    tab.apply_filters()
    assert tab.table.currentIndex().isValid()
    assert shown_field(tab, "pred_class") == highlighted(tab, "pred_class") == "scan"


def test_warnings_stay_in_sight_above_the_pages(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    from ids_desktop.gui import tab_tasks
    from tests.gui.test_tab_tasks import fake_analysis

    analysis = fake_analysis()
    result = dataclasses.replace(analysis.result, warnings=["the capture ends mid-packet", "w2"])
    analysis = dataclasses.replace(analysis, result=result)
    tab = AnalysisTab(tmp_path / "x.pcap")
    qtbot.addWidget(tab)
    tab.show_analysis(analysis, tab_tasks.view_data(analysis))
    assert tab.banner.isVisibleTo(tab)
    assert tab.banner.text() == "⚠ the capture ends mid-packet (and 1 more; hover for all)"
    assert "w2" in tab.banner.toolTip()
    # no incident in these two flows: the page says so plainly, and still comes first
    assert tab.pages.currentWidget() is tab.incidents
    assert tab.incidents.headline.text().startswith("No incidents")


def test_the_selection_follows_its_flow_when_the_view_sorts(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QTableView

    model = FlowTableModel(frame())
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    col = model.columns().index("bytes")
    view.selectionModel().setCurrentIndex(
        model.index(1, col),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert model.row_of(1) == 1  # the flow with 9 bytes
    view.sortByColumn(col, Qt.SortOrder.DescendingOrder)  # 100, 10, 9, missing
    current = view.currentIndex()
    assert model.row_of(current.row()) == 1 and current.row() == 2
    assert [model.row_of(i.row()) for i in view.selectionModel().selectedRows()] == [1]
    assert model.view_row_of(1) == 2
    model.set_filter("10.0.0.1")  # 10.0.0.1 and 10.0.0.10: the 9-byte flow has no address
    assert model.view_row_of(1) is None
