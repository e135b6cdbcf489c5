"""Overview and evaluation pages of an analysis tab: plain data in, pyqtgraph and tables out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyqtgraph as pg
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


def counts_table(pairs: list[tuple[str, Any]], headers: tuple[str, str]) -> QTableWidget:
    """A small read-only two-column table."""
    table = QTableWidget(len(pairs), 2)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for r, (key, value) in enumerate(pairs):
        table.setItem(r, 0, QTableWidgetItem(str(key)))
        text = f"{value:,}" if isinstance(value, int) else str(value)
        table.setItem(r, 1, QTableWidgetItem(text))
    table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def bar_plot(pairs: list[tuple[str, int]], title: str) -> pg.PlotWidget:
    """Vertical bars with category labels."""
    plot = pg.PlotWidget(title=title)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    if pairs:
        xs = list(range(len(pairs)))
        plot.addItem(pg.BarGraphItem(x=xs, height=[v for _, v in pairs], width=0.7, brush=(52, 101, 164)))
        plot.getAxis("bottom").setTicks([[(x, k[:14]) for x, (k, _) in zip(xs, pairs, strict=True)]])
    return plot


class OverviewPage(QWidget):
    """Class distribution, flagged flows over time, top hosts, ports and applications, model."""

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
            if item.widget() is not None:
                item.widget().deleteLater()
        headline = ", ".join(f"{k} {v:.4f}" for k, v in data.model_headline.items()) or "n/a"
        share = f" ({data.flagged / data.flows:.1%})" if data.flows else ""
        info = QLabel(
            f"<b>{data.flows:,}</b> flows, <b>{data.flagged:,}</b> flagged{share} — model "
            f"<b>{data.model_name}</b> (test-split headline: {headline})"
        )
        info.setWordWrap(True)
        self.grid.addWidget(info, 0, 0, 1, 3)
        self.grid.addWidget(bar_plot(list(data.class_distribution.items())[:12], "Predicted classes"), 1, 0)
        over = pg.PlotWidget(title="Flagged flows over time (UTC)")
        over.setMenuEnabled(False)
        if data.flagged_over_time:
            xs = [t for t, _ in data.flagged_over_time]
            width = (xs[1] - xs[0]) if len(xs) > 1 else 1.0
            over.addItem(pg.BarGraphItem(x=xs, height=[c for _, c in data.flagged_over_time],
                                         width=width * 0.9, brush=(204, 0, 0)))
            over.setAxisItems({"bottom": pg.DateAxisItem(utcOffset=0)})
        else:
            over.setTitle("Flagged flows over time: the input has no timestamps")
        self.grid.addWidget(over, 1, 1, 1, 2)
        boxes = [
            ("Top source hosts", data.top_sources),
            ("Top destination hosts", data.top_destinations),
            ("Top destination ports", data.top_ports),
            ("Top applications", data.top_applications),
            ("Flagged by class", list(data.flagged_by_class.items())),
        ]
        for i, (title, pairs) in enumerate(boxes):
            box = QGroupBox(title)
            layout = QVBoxLayout(box)
            layout.addWidget(counts_table(pairs, ("value", "flagged flows")))
            self.grid.addWidget(box, 2 + i // 3, i % 3)


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
        self.status.setText(
            f"Model <b>{report['model']}</b> on {report['n']:,} labelled flows — attack precision "
            f"{b['precision']:.4f}, recall {b['recall']:.4f}, F1 {b['f1']:.4f}, accuracy "
            f"{b['accuracy']:.4f}, false-alarm rate {b['far']:.4f}, ROC-AUC {b['roc_auc']:.4f}"
        )
        per = report["per_class"]
        table = QTableWidget(len(per), 4)
        table.setHorizontalHeaderLabels(["precision", "recall", "F1", "support"])
        table.setVerticalHeaderLabels(list(per))
        for r, m in enumerate(per.values()):
            for c, key in enumerate(("precision", "recall", "f1")):
                table.setItem(r, c, QTableWidgetItem(f"{m[key]:.4f}"))
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


def format_time(seconds: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(seconds), dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
