"""A GUI process survives PySide6 6.12's dropped references to None (Python < 3.12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

REPO = Path(__file__).resolve().parents[2]

# Many void Qt calls and many data() overrides returning None to Qt: each dropped a reference
# to None with PySide6 6.12.0 on Python 3.11, and CPython aborted ("none_dealloc") long before
# a million of them.
SCRIPT = """
import ids_desktop.gui
from PySide6.QtCore import QSortFilterProxyModel
from PySide6.QtWidgets import QApplication, QLabel
import pandas as pd
from ids_desktop.gui.flow_table import FlowTableModel
app = QApplication([])
label = QLabel("x")
for _ in range(400_000):
    label.setText("y")
proxy = QSortFilterProxyModel()
proxy.setSourceModel(FlowTableModel(pd.DataFrame({"a": [1.0, None]})))
index = proxy.index(1, 0)
for _ in range(20_000):
    proxy.data(index, 8)  # BackgroundRole: the model returns None
print("alive")
"""


def test_none_is_not_freed_by_binding_refcount_bugs() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "alive" in proc.stdout
