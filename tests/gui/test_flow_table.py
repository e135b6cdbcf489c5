"""FlowTableModel: Qt model contract, numeric sorting, missing values last."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import Qt  # noqa: E402

from ids_desktop.gui.flow_table import SORT_ROLE, FlowTableModel, sort_order  # noqa: E402


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "bytes": pd.array([10, 9, None, 100], dtype="Int64"),
            "src_ip": pd.array(["10.0.0.2", None, "10.0.0.10", "10.0.0.1"], dtype="string"),
            "pred_score": [0.5, np.nan, 0.9, 0.1],
        }
    )


def test_model_passes_qt_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    model = FlowTableModel(frame())
    qtmodeltester.check(model)


def test_numeric_sort_is_numeric_with_missing_last(qapp) -> None:  # type: ignore[no-untyped-def]
    model = FlowTableModel(frame())
    col = model.columns().index("bytes")
    model.sort(col, Qt.SortOrder.AscendingOrder)
    shown = [model.data(model.index(r, col)) for r in range(model.rowCount())]
    assert shown == ["9", "10", "100", ""]
    model.sort(col, Qt.SortOrder.DescendingOrder)
    shown = [model.data(model.index(r, col)) for r in range(model.rowCount())]
    assert shown == ["100", "10", "9", ""]


def test_string_sort_and_row_mapping(qapp) -> None:  # type: ignore[no-untyped-def]
    model = FlowTableModel(frame())
    col = model.columns().index("src_ip")
    model.sort(col, Qt.SortOrder.AscendingOrder)
    assert [model.row_of(r) for r in range(4)] == [3, 2, 0, 1]


def test_sort_order_million_rows_is_fast_enough_to_be_vectorised() -> None:
    values = pd.Series(np.random.default_rng(0).random(1_000_000))
    order = sort_order(values)
    assert np.all(np.diff(values.to_numpy()[order]) >= 0)


def test_filter_text_and_flagged_only_keep_sort(qapp) -> None:  # type: ignore[no-untyped-def]
    df = frame().assign(flagged=[True, False, True, False])
    model = FlowTableModel(df)
    model.sort(model.columns().index("pred_score"), Qt.SortOrder.DescendingOrder)
    model.set_filter("", flagged_only=True)
    assert [model.row_of(r) for r in range(model.rowCount())] == [2, 0]
    model.set_filter("10.0.0.1", flagged_only=False)
    assert sorted(model.row_of(r) for r in range(model.rowCount())) == [2, 3]
    model.set_filter("")
    assert model.rowCount() == 4


@pytest.mark.parametrize("column", ["pred_score", "dst_port", "src_ip"])
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_appended_rows_keep_the_sort_as_a_full_sort_would(qapp, column, order) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)

    def batch(n: int) -> pd.DataFrame:
        score = rng.choice([0.1, 0.5, 0.9, np.nan], n)  # many ties and missing values
        port = pd.array(rng.choice([53, 80, 443, None], n), dtype="Int64")
        ip = pd.array(rng.choice(["10.0.0.2", "10.0.0.10", "192.168.1.1", None], n), dtype="string")
        return pd.DataFrame({"pred_score": score, "dst_port": port, "src_ip": ip})

    def cells(m: FlowTableModel) -> list[list[object]]:
        return [
            [m.data(m.index(r, c), role) for c in range(m.columnCount()) for role in roles]
            for r in range(m.rowCount())
        ]

    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole, SORT_ROLE)
    flagged = pd.array([True, False, None] * 16 + [True] * 2)
    model = FlowTableModel(batch(50).assign(flagged=flagged))
    model.sort(model.columns().index(column), order)
    batches = [batch(n).assign(flagged=pd.array([None] * n, dtype="boolean"))
               for n in (1, 40, 0, 4200)]
    for rows in batches:
        cells(model)  # converted cells are kept across appends: they must stay right
        model.append_rows(rows)
    whole = pd.concat([model.frame.iloc[:50], *batches], ignore_index=True)
    expected = sort_order(whole[column], descending=order == Qt.SortOrder.DescendingOrder)
    assert model.rowCount() == len(whole) == 4291
    assert [model.row_of(r) for r in range(model.rowCount())] == expected.tolist()
    pd.testing.assert_frame_equal(model.frame, whole)
    fresh = FlowTableModel(whole)
    fresh.sort(fresh.columns().index(column), order)
    assert cells(model) == cells(fresh)


def test_appended_rows_without_a_sort_stay_in_arrival_order(qapp) -> None:  # type: ignore[no-untyped-def]
    model = FlowTableModel()
    model.append_rows(pd.DataFrame({"a": [3.0, 1.0]}))
    model.append_rows(pd.DataFrame({"a": [2.0]}))
    assert [model.row_of(r) for r in range(3)] == [0, 1, 2]
    assert model.frame["a"].tolist() == [3.0, 1.0, 2.0]


def test_headers_are_words_and_cells_read_as_people_write_them(qapp, demo_analysis) -> None:  # type: ignore[no-untyped-def]
    """Over every column of an analysed capture: no two headers alike, no nfstream ids in
    them; ``flagged`` a mark, protocols by name; flow id and model features hidden at first."""
    from ids_desktop.gui.flow_table import FLAGGED_MARK, shown_by_default

    model = FlowTableModel(demo_analysis.flows)
    h = Qt.Orientation.Horizontal
    heads = [model.headerData(i, h) for i in range(model.columnCount())]
    assert len(set(heads)) == len(heads), sorted(x for x in heads if heads.count(x) > 1)
    assert not [x for x in heads if "_" in x], heads
    at = {c: i for i, c in enumerate(model.columns())}
    assert heads[at["dst2src_rst_packets"]] == "server → client RST packets"
    assert heads[at["bidirectional_duration_ms"]] == "duration (ms)"
    assert model.headerData(at["dst2src_rst_packets"], h, Qt.ItemDataRole.ToolTipRole) == (
        "dst2src_rst_packets")
    shown = {model.data(model.index(r, at["flagged"])) for r in range(model.rowCount())}
    assert shown == {FLAGGED_MARK, ""}
    protocols = {model.data(model.index(r, at["protocol"])) for r in range(model.rowCount())}
    assert protocols == {"TCP", "UDP"}
    visible = [c for c in model.columns() if shown_by_default(c)]
    assert "flow_id" not in visible and "dst2src_rst_packets" not in visible
    assert {"src_ip", "dst_port", "protocol", "flagged", "incident_id", "severity"} <= set(visible)
    assert len(visible) < 25 and len(model.columns()) > 80
