"""The row a view shows while it works: what it is doing, a progress bar and Cancel (Esc)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton


@dataclass(frozen=True)
class ProgressRow:
    """The widgets of :func:`progress_row` and the layout that holds them."""

    stage: QLabel
    progress: QProgressBar
    cancel_button: QPushButton
    layout: QHBoxLayout


def progress_row(on_cancel: Callable[[], None]) -> ProgressRow:
    """A stage label (plain text: it may quote a file name), a progress bar and a Cancel
    button bound to Esc that calls ``on_cancel``."""
    stage = QLabel("waiting")
    stage.setTextFormat(Qt.TextFormat.PlainText)
    progress = QProgressBar()
    cancel_button = QPushButton("Cancel")
    cancel_button.setShortcut(QKeySequence(Qt.Key.Key_Escape))
    cancel_button.clicked.connect(on_cancel)
    layout = QHBoxLayout()
    layout.addWidget(stage, 1)
    layout.addWidget(progress, 2)
    layout.addWidget(cancel_button)
    return ProgressRow(stage, progress, cancel_button, layout)
