"""FlowTableModel: Qt model contract, numeric sorting, missing values last."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import Qt  # noqa: E402

from ids_desktop.gui.flow_table import FlowTableModel, sort_order  # noqa: E402


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
