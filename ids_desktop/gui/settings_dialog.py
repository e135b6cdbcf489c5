"""Settings dialog: decision threshold, model choice, LIME samples and capture flow timeouts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)

from ids_desktop.config import DEFAULTS

KEYS = {
    "model": ("analysis/model", "auto"),
    "threshold": ("analysis/threshold", None),
    "lime_samples": ("analysis/lime_samples", 0),  # 0: the bundle's default (10,000 / T)
    "idle_timeout": ("analysis/idle_timeout", DEFAULTS.idle_timeout),
    "active_timeout": ("analysis/active_timeout", DEFAULTS.active_timeout),
}


def load_options(settings: QSettings) -> dict[str, Any]:
    """The analysis options saved in ``settings`` (defaults where unset)."""
    out: dict[str, Any] = {}
    for name, (key, default) in KEYS.items():
        value = settings.value(key, default)
        if name == "threshold":
            out[name] = None if value in (None, "", "None") else float(value)
        elif name == "model":
            out[name] = str(value or "auto")
        elif name == "lime_samples":
            out[name] = int(value)
        else:
            out[name] = float(value)
    return out


def save_options(settings: QSettings, options: dict[str, Any]) -> None:
    for name, (key, _) in KEYS.items():
        value = options.get(name)
        settings.setValue(key, "" if value is None else value)


class SettingsDialog(QDialog):
    """Edits the analysis options; applies to files opened afterwards."""

    def __init__(self, options: dict[str, Any], bundles: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)
        self.model = QComboBox()
        self.model.addItems(["auto", *bundles])
        self.model.setCurrentText(str(options.get("model", "auto")))
        self.model.setToolTip("auto picks the bundle that serves the input's format")
        form.addRow("Model bundle", self.model)
        self.own_threshold = QCheckBox("Override the bundle's threshold")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(3)
        self.threshold.setValue(options.get("threshold") or 0.5)
        self.own_threshold.setChecked(options.get("threshold") is not None)
        self.threshold.setEnabled(self.own_threshold.isChecked())
        self.own_threshold.toggled.connect(self.threshold.setEnabled)
        form.addRow(self.own_threshold)
        form.addRow("Decision threshold on P(attack)", self.threshold)
        self.samples = QSpinBox()
        self.samples.setRange(0, 20_000)
        self.samples.setSingleStep(500)
        self.samples.setSpecialValueText("auto (10,000 / sequence length)")
        self.samples.setValue(int(options.get("lime_samples", 0)))
        form.addRow("LIME samples per explanation", self.samples)
        self.idle = QDoubleSpinBox()
        self.idle.setRange(1, 86_400)
        self.idle.setValue(float(options.get("idle_timeout", DEFAULTS.idle_timeout)))
        form.addRow("Capture flow idle timeout (s)", self.idle)
        self.active = QDoubleSpinBox()
        self.active.setRange(1, 864_000)
        self.active.setValue(float(options.get("active_timeout", DEFAULTS.active_timeout)))
        form.addRow("Capture flow active timeout (s)", self.active)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> dict[str, Any]:
        return {
            "model": self.model.currentText(),
            "threshold": self.threshold.value() if self.own_threshold.isChecked() else None,
            "lime_samples": self.samples.value(),
            "idle_timeout": self.idle.value(),
            "active_timeout": self.active.value(),
        }
