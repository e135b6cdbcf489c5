"""Overview and evaluation pages of an analysis tab: plain data in, pyqtgraph and tables out."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ids_desktop.core.report.build import ReportData
from ids_desktop.gui.charts.theme import ThemedPlot, set_category_ticks


def counts_table(pairs: list[tuple[str, Any]], headers: tuple[str, str]) -> QTableWidget:
    """A small read-only two-column table ("none in this input" when ``pairs`` is empty)."""
    table = QTableWidget(len(pairs), 2)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    if not pairs:
        table.setRowCount(1)
        empty = QTableWidgetItem("none in this input")
        empty.setFlags(Qt.ItemFlag.NoItemFlags)
        table.setItem(0, 0, empty)
    for r, (key, value) in enumerate(pairs):
        table.setItem(r, 0, QTableWidgetItem(str(key)))
        text = f"{value:,}" if isinstance(value, int) else str(value)
        table.setItem(r, 1, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def bar_plot(pairs: list[tuple[str, int]], title: str) -> pg.PlotWidget:
    """Horizontal bars, largest on top, with category labels on the left (never overlapping)."""
    plot = ThemedPlot(title=title)
    plot.setMouseEnabled(x=False, y=False)
    if pairs:
        ys = list(range(len(pairs) - 1, -1, -1))
        plot.addItem(pg.BarGraphItem(x0=[0] * len(pairs), y=ys, width=[v for _, v in pairs],
                                     height=0.7, brush=(52, 101, 164)))
        ticks: list[tuple[float, str]] = [
            (y, str(k)[:24]) for y, (k, _) in zip(ys, pairs, strict=True)
        ]
        set_category_ticks(plot, "left", ticks)
        plot.setYRange(-0.6, len(pairs) - 0.4, padding=0)
    return plot


class OverviewPage(QWidget):
    """Class distribution, flagged flows over time, top hosts, ports and applications, model.

    Signals:
        pivot_requested(str, object): a host, port, application or class of a top-N table was
            double-clicked: ``(key, value)`` for :mod:`~ids_desktop.gui.pivots`.
    """

    pivot_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.placeholder = QLabel("The overview appears when a model has analysed the file.")
        self.grid.addWidget(self.placeholder, 0, 0)
        self.data: ReportData | None = None

    def set_data(self, data: ReportData) -> None:
        self.data = data
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        headline = ", ".join(f"{k} {v:.4f}" for k, v in data.model_headline.items()) or "n/a"
        share = f" ({data.flagged / data.flows:.1%})" if data.flows else ""
        info = QLabel(
            f"<b>{data.flows:,}</b> flows, <b>{data.flagged:,}</b> flagged{share} — model "
            f"<b>{data.model_name}</b> (test-split headline: {headline})"
        )
        info.setWordWrap(True)
        self.grid.addWidget(info, 0, 0, 1, 3)
        classes = bar_plot(list(data.class_distribution.items())[:12], "Predicted classes")
        self.grid.addWidget(classes, 1, 0)
        over = ThemedPlot(title="Flagged flows over time (UTC)")
        if data.flagged_over_time:
            xs = [t for t, _ in data.flagged_over_time]
            width = (xs[1] - xs[0]) if len(xs) > 1 else 1.0
            over.addItem(pg.BarGraphItem(x=xs, height=[c for _, c in data.flagged_over_time],
                                         width=width * 0.9, brush=(204, 0, 0)))
            over.setAxisItems({"bottom": pg.DateAxisItem(utcOffset=0)})
            over.apply_palette()
        else:
            over.setTitle("Flagged flows over time: the input has no timestamps")
            over.hideAxis("left")
            over.hideAxis("bottom")
        self.grid.addWidget(over, 1, 1, 1, 2)
        boxes = [
            ("Top source hosts", data.top_sources, "src"),
            ("Top destination hosts", data.top_destinations, "dst"),
            ("Top destination ports", data.top_ports, "dport"),
            ("Top applications", data.top_applications, "application"),
            ("Flagged by class", list(data.flagged_by_class.items()), "class"),
        ]
        for i, (title, pairs, key) in enumerate(boxes):
            box = QGroupBox(title)
            layout = QVBoxLayout(box)
            table = counts_table(pairs, ("value", "flagged flows"))
            table.setToolTip("Double-click a value to show its flows")
            table.cellDoubleClicked.connect(
                lambda r, _c, p=pairs, k=key: self.pivot_requested.emit(k, p[r][0])
                if r < len(p) else None
            )
            layout.addWidget(table)
            self.grid.addWidget(box, 2 + i // 3, i % 3)
        # the top-N tables are what the analyst double-clicks: at 768 px they showed two rows
        for row, stretch in ((1, 3), (2, 2), (3, 2)):
            self.grid.setRowStretch(row, stretch)


#: The binary metrics ``evaluate`` reports, in the order the evaluation page lists them.
BINARY_METRICS = ("precision", "recall", "f1", "accuracy", "far", "roc_auc")


class EvaluationPage(QWidget):
    """Binary metrics, per-class table and confusion matrix: the numbers of ``evaluate``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.layout_ = QVBoxLayout(self)
        self.status = QLabel("Evaluation runs for labelled inputs once the analysis is done.")
        self.layout_.addWidget(self.status)
        self.report: dict[str, Any] | None = None

    def set_report(self, report: dict[str, Any]) -> None:
        self.report = report
        b = report["binary"]
        # the note is added, not concatenated: adjacent literals join before `*` applies, which
        # blanked the whole line whenever every metric was defined
        undefined = any(b.get(k) is None for k in BINARY_METRICS)
        self.status.setText(
            f"Model <b>{report['model']}</b> on {report['n']:,} labelled flows — attack precision "
            f"{metric(b['precision'])}, recall {metric(b['recall'])}, F1 {metric(b['f1'])}, "
            f"accuracy {metric(b['accuracy'])}, false-alarm rate {metric(b['far'])}, "
            f"ROC-AUC {metric(b['roc_auc'])}"
            + " (n/a: undefined for these labels, e.g. no attack in the file)" * undefined
        )
        per = report["per_class"]
        table = QTableWidget(len(per), 4)
        table.setHorizontalHeaderLabels(["precision", "recall", "F1", "support"])
        table.setVerticalHeaderLabels(list(per))
        for r, m in enumerate(per.values()):
            for c, key in enumerate(("precision", "recall", "f1")):
                table.setItem(r, c, QTableWidgetItem(metric(m[key])))
            table.setItem(r, 3, QTableWidgetItem(f"{m['support']:,}"))
        conf = report["confusion"]
        labels = [str(x) for x in conf["labels"]]
        matrix = QTableWidget(len(labels), len(labels))
        matrix.setHorizontalHeaderLabels([f"→ {x}" for x in labels])
        matrix.setVerticalHeaderLabels(labels)
        for r, row in enumerate(conf["matrix"]):
            for c, v in enumerate(row):
                matrix.setItem(r, c, QTableWidgetItem(f"{int(v):,}"))
        for widget in (table, matrix):
            widget.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.layout_.addWidget(QLabel("Per class (true label families):"))
        self.layout_.addWidget(table)
        self.layout_.addWidget(QLabel("Confusion matrix (rows: truth, columns: prediction):"))
        self.layout_.addWidget(matrix)

    def set_failed(self, message: str) -> None:
        self.status.setText(f"No evaluation: {message}")


def metric(value: Any) -> str:
    """A metric with four decimals; ``n/a`` when it is undefined (``None`` or NaN)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if number != number else f"{number:.4f}"
