"""FilterBar: search text, class, minimum score, flagged only, and the Columns menu of a table."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSlider,
    QTableView,
    QToolButton,
    QWidget,
)

from ids_desktop.gui import pivots
from ids_desktop.gui.flow_table import FlowTableModel, header_text

ALL_CLASSES = "All classes"
#: Pause after the last change before the table is filtered (ms), so typing stays fluid.
DEBOUNCE_MS = 150


class FilterBar(QWidget):
    """The filters over a :class:`QTableView` of a :class:`FlowTableModel`.

    Signals:
        changed(): a filter changed; emitted :data:`DEBOUNCE_MS` after the last change.
    """

    changed = Signal()

    def __init__(self, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(
            "Search address, port, application, server name; host:… port:… incident:… (Ctrl+F)"
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setToolTip(
            "Words are searched in addresses, ports, applications and server names.\n"
            "Exact terms (combined with AND): host:, src:, dst:, port:, sport:, dport:, "
            "incident:, class:, or a column name and ':'.\n"
            "Double-clicking a host, port or incident writes one here."
        )
        self.class_combo = QComboBox()
        self.class_combo.addItem(ALL_CLASSES)
        self.score_slider = QSlider(Qt.Orientation.Horizontal)
        self.score_slider.setRange(0, 100)
        self.score_slider.setFixedWidth(140)
        self.score_label = QLabel("score ≥ 0.00")
        self.flagged_only = QCheckBox("Flagged only")
        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_menu.aboutToShow.connect(self._build_column_menu)  # built when opened
        self.columns_button.setMenu(self.columns_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.filter_edit, 1)
        layout.addWidget(self.class_combo)
        layout.addWidget(self.score_label)
        layout.addWidget(self.score_slider)
        layout.addWidget(self.flagged_only)
        layout.addWidget(self.columns_button)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.changed)
        self.filter_edit.textChanged.connect(self._timer.start)
        self.class_combo.currentIndexChanged.connect(self._timer.start)
        self.score_slider.valueChanged.connect(self._on_slider)
        self.flagged_only.toggled.connect(self._timer.start)

    def apply(self, model: FlowTableModel) -> None:
        """Filter ``model`` as the bar says now (and drop a change still waiting)."""
        self._timer.stop()
        cls = self.class_combo.currentText()
        text, terms = pivots.parse(self.filter_edit.text(), model.frame.columns)
        model.set_filter(
            text,
            flagged_only=self.flagged_only.isChecked(),
            classes=None if cls == ALL_CLASSES else {cls},
            min_score=self.score_slider.value() / 100,
            where=pivots.pivot_mask(model.frame, terms),
        )

    def pivot(self, key: str, value: object) -> None:
        """Show the flows where ``key`` is ``value`` (:mod:`~ids_desktop.gui.pivots`), all of
        them: the search box says so, and the class, score and flagged filters are reset so
        nothing else hides a flow of that host, port or incident. Applied at once."""
        for widget, reset in ((self.class_combo, lambda: self.class_combo.setCurrentIndex(0)),
                              (self.score_slider, lambda: self.score_slider.setValue(0)),
                              (self.flagged_only, lambda: self.flagged_only.setChecked(False)),
                              (self.filter_edit, lambda: self.filter_edit.setText(
                                  pivots.term_text(key, value)))):
            widget.blockSignals(True)
            reset()
            widget.blockSignals(False)
        self.score_label.setText(f"score ≥ {self.score_slider.value() / 100:.2f}")
        self._timer.stop()
        self.changed.emit()

    def clear(self) -> None:
        """Drop the search text (pivots included); the verdict filters stay. Applied at once."""
        self.filter_edit.blockSignals(True)
        self.filter_edit.clear()
        self.filter_edit.blockSignals(False)
        self._timer.stop()
        self.changed.emit()

    def set_classes(self, classes: Iterable[str]) -> None:
        """Offer the predicted ``classes`` besides :data:`ALL_CLASSES`."""
        self.class_combo.addItems(list(classes))

    def disable_verdict_filters(self) -> None:
        """No model ran: the class, score and flagged filters have nothing to filter."""
        for widget in (self.flagged_only, self.class_combo, self.score_slider):
            widget.setEnabled(False)

    def _on_slider(self, value: int) -> None:
        self.score_label.setText(f"score ≥ {value / 100:.2f}")
        self._timer.start()

    def _build_column_menu(self) -> None:
        self.columns_menu.clear()
        model = self.table.model()
        assert isinstance(model, FlowTableModel)
        for i, column in enumerate(model.columns()):
            action = self.columns_menu.addAction(header_text(column))
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(i))
            action.toggled.connect(lambda on, i=i: self.table.setColumnHidden(i, not on))
