"""DetailPane: the selected flow's fields, and the explanation chart and sentence of its verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ids_desktop.core.explain.chart import MAX_BARS
from ids_desktop.gui.charts.explanation import MIN_BARS, ExplanationChart
from ids_desktop.gui.flow_table import display_text

if TYPE_CHECKING:
    from ids_desktop.core.explain.explainer import Explanation

#: Fields listed first (verdicts, then labels), before the rest in frame order.
VERDICT_FIELDS = ("pred_class", "pred_score", "anomaly_score", "flagged")
LABEL_FIELDS = ("label_original", "label_class")


class DetailPane(QSplitter):
    """The fields table on the left; the explanation chart over its sentence on the right.

    Attributes:
        fields: Field/value table of the selected flow (its non-missing values).
        chart: The LIME contributions of the selected flow's verdict.
        explanation_text: The explanation's sentence, or why there is none.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.fields = QTableWidget(0, 2)
        self.fields.setHorizontalHeaderLabels(["field", "value"])
        self.fields.verticalHeader().setVisible(False)
        self.fields.horizontalHeader().setStretchLastSection(True)
        self.fields.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.chart = ExplanationChart()
        self.explanation_text = QLabel("Select a flow to see why it got its verdict.")
        self.explanation_text.setWordWrap(True)
        # the sentence quotes addresses and names from the input: never render it as HTML
        self.explanation_text.setTextFormat(Qt.TextFormat.PlainText)
        self.explanation_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation_text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # The chart draws the bars its height holds, each label on its own line (squeezed
        # under a warning banner at 1366x768, all ten were drawn over each other), and gets
        # most of the height; the sentence scrolls below it, and the analyst can move the
        # line between them.
        self.chart.setMinimumHeight(self.chart.height_for(MIN_BARS))
        text_area = QScrollArea()
        text_area.setWidget(self.explanation_text)
        text_area.setWidgetResizable(True)
        text_area.setFrameShape(QScrollArea.Shape.NoFrame)
        text_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        line = self.explanation_text.fontMetrics().lineSpacing()
        text_area.setMinimumHeight(3 * line)
        explain_box = QSplitter(Qt.Orientation.Vertical)
        explain_box.setChildrenCollapsible(False)
        explain_box.addWidget(self.chart)
        explain_box.addWidget(text_area)
        explain_box.setStretchFactor(0, 1)
        explain_box.setStretchFactor(1, 0)
        explain_box.setSizes([self.chart.height_for(MAX_BARS), 4 * line])
        self.addWidget(self.fields)
        self.addWidget(explain_box)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 2)

    def show_fields(self, frame: pd.DataFrame, row: int) -> None:
        """List frame row ``row``: verdicts and labels first, then every field with a value."""
        # one cell per column, not whole columns
        values = {c: frame[c].iat[row] for c in frame.columns}
        first = [c for c in VERDICT_FIELDS if c in frame.columns]
        first += [c for c in LABEL_FIELDS if c in frame.columns and not _missing(values[c])]
        names = first + [c for c in frame.columns if c not in first and not _missing(values[c])]
        self.fields.setRowCount(len(names))
        for r, name in enumerate(names):
            self.fields.setItem(r, 0, QTableWidgetItem(name))
            value = values[name]
            self.fields.setItem(
                r, 1, QTableWidgetItem("" if _missing(value) else display_text(name, value))
            )

    def clear(self, message: str) -> None:
        """No flow is selected: empty the fields and the chart, and say ``message``."""
        self.fields.setRowCount(0)
        self.chart.set_contributions([])
        self.explanation_text.setText(message)

    def show_explaining(self) -> None:
        """An explanation is on its way: clear the chart and say so."""
        self.explanation_text.setText("Explaining… (LIME is querying the model)")
        self.chart.set_contributions([])

    def show_explanation(self, exp: Explanation) -> None:
        """Draw ``exp``'s chart and write its sentence, fidelity and sampling."""
        from ids_desktop.core.explain.chart import chart_spec

        self.chart.set_spec(chart_spec(exp))
        self.explanation_text.setText(
            f"{exp.sentence}\n\nLocal fidelity R² {exp.fidelity_r2:.2f}; "
            f"{exp.num_samples} samples; seed {exp.seed}."
        )

    def show_failed(self, message: str) -> None:
        """The explanation could not be computed."""
        self.explanation_text.setText(f"No explanation: {message}")

    def show_no_verdicts(self, note: str) -> None:
        """No model ran, so there is nothing to explain: say why, without a chart."""
        self.chart.hide()
        self.explanation_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.explanation_text.setText(
            f"No verdicts and no explanations: {note}\n\n"
            "The flows are shown as extracted; File ▸ Settings chooses another model bundle."
        )


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
