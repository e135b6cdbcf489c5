"""The evaluation page states the binary metrics, with a note when some are undefined."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from pytestqt.qtbot import QtBot  # noqa: E402

from ids_desktop.gui.overview import BINARY_METRICS, EvaluationPage  # noqa: E402


def report(**binary: float | None) -> dict[str, Any]:
    """An ``evaluate`` report on three flows with the given binary metrics (0.5 otherwise)."""
    return {
        "model": "unsw-nb15",
        "n": 3,
        "binary": {k: binary.get(k, 0.5) for k in BINARY_METRICS},
        "per_class": {"Normal": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 3}},
        "confusion": {"labels": ["Normal"], "matrix": [[3]]},
    }


def test_every_metric_defined_reads_in_full_without_the_note(qtbot: QtBot) -> None:
    page = EvaluationPage()
    qtbot.addWidget(page)
    page.set_report(report(roc_auc=0.9))
    text = page.status.text()
    assert text.startswith("Model <b>unsw-nb15</b> on 3 labelled flows — attack precision 0.5000")
    assert text.endswith("false-alarm rate 0.5000, ROC-AUC 0.9000")


def test_an_undefined_metric_reads_n_a_and_says_why(qtbot: QtBot) -> None:
    page = EvaluationPage()
    qtbot.addWidget(page)
    page.set_report(report(roc_auc=None))
    text = page.status.text()
    assert text.startswith("Model <b>unsw-nb15</b> on 3 labelled flows")
    assert text.endswith(
        "ROC-AUC n/a (n/a: undefined for these labels, e.g. no attack in the file)"
    )
