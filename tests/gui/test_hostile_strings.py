"""Attacker-controlled strings in the window: table cells show them as literal text.

Qt item views draw ``DisplayRole`` strings as plain text (no markup), so the flow table is safe
as long as the model hands the value over unchanged; these tests pin that down, including
control characters and very long values, and the clipboard copy. Labels are different: a
``QLabel`` in its default ``AutoText`` format renders anything that looks like HTML.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from PySide6.QtCore import Qt  # noqa: E402

from ids_desktop.gui.flow_table import FlowTableModel  # noqa: E402

HOSTILE = [
    "<b>x</b>",
    "<img src='file:///etc/passwd'>",
    "=cmd|' /C calc'!A0",
    "&amp;",
    "a\x00b\x01c\x1bd",
    "line\nbreak",
    "A" * 200_000,
]


def hostile_frame() -> pd.DataFrame:
    n = len(HOSTILE)
    text = pd.array(HOSTILE, dtype="string")
    return pd.DataFrame(
        {
            "flow_id": np.arange(n, dtype="int64"),
            "src_ip": text,
            "application": text,
            "requested_server_name": text,
            "user_agent": text,
            "first_seen": np.full(n, 1_700_000_000.0),
            "pred_score": np.linspace(0, 1, n),
        }
    )


def test_table_cells_hold_the_literal_strings(qapp) -> None:  # type: ignore[no-untyped-def]
    model = FlowTableModel(hostile_frame())
    for name in ("src_ip", "application", "requested_server_name", "user_agent"):
        col = model.columns().index(name)
        shown = [model.data(model.index(r, col)) for r in range(model.rowCount())]
        assert shown == HOSTILE
    text = model.rows_as_text(list(range(model.rowCount())), ["src_ip"])
    assert "<b>x</b>" in text and "&amp;" in text


def test_table_view_paints_hostile_rows_quickly(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QTableView

    view = QTableView()
    model = FlowTableModel(hostile_frame())
    view.setModel(model)
    view.resize(900, 400)
    view.show()
    started = time.monotonic()
    view.resizeColumnsToContents()
    view.viewport().grab()  # paint every visible cell
    qapp.processEvents()
    assert time.monotonic() - started < 10
    view.close()


def test_explanation_label_is_plain_text(qapp, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.analysis_tab import AnalysisTab

    tab = AnalysisTab(tmp_path / "x.pcap")
    label = tab.explanation_text
    assert label.textFormat() == Qt.TextFormat.PlainText or not Qt.mightBeRichText(label.text())
    label.setText("Flagged as scan (p=0.99) mainly because the flows from <b>x</b> ...")
    assert label.textFormat() == Qt.TextFormat.PlainText
