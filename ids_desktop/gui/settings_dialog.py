"""Settings dialog: edits the analysis options (model, threshold, LIME samples, flow timeouts)."""

from __future__ import annotations

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

from ids_desktop.core.options import MAX_LIME_SAMPLES, MAX_TIMEOUT_S, AnalysisOptions
from ids_desktop.errors import InputError
from ids_desktop.gui.errors import show_error

#: The shortest flow timeout offered (s): nfstream counts in whole seconds.
MIN_TIMEOUT_S = 1.0


class SettingsDialog(QDialog):
    """Edits an :class:`AnalysisOptions`; the options it does not show pass through unchanged.

    The window saves the result (:func:`ids_desktop.config.save_options`); it applies to the
    files opened afterwards.
    """

    def __init__(
        self, options: AnalysisOptions, bundles: list[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._base = options
        form = QFormLayout(self)
        self.model = QComboBox()
        self.model.addItems(["auto", *bundles])
        self.model.setCurrentText(options.model)
        self.model.setToolTip("auto picks the bundle that serves the input's format")
        form.addRow("Model bundle", self.model)
        self.own_threshold = QCheckBox("Override the bundle's threshold")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(3)
        self.threshold.setValue(0.5 if options.threshold is None else options.threshold)
        self.own_threshold.setChecked(options.threshold is not None)
        self.threshold.setEnabled(self.own_threshold.isChecked())
        self.own_threshold.toggled.connect(self.threshold.setEnabled)
        form.addRow(self.own_threshold)
        form.addRow("Decision threshold on P(attack)", self.threshold)
        self.samples = QSpinBox()
        self.samples.setRange(0, MAX_LIME_SAMPLES)
        self.samples.setSingleStep(500)
        self.samples.setSpecialValueText("auto (10,000 / sequence length)")
        self.samples.setValue(options.lime_samples)
        form.addRow("LIME samples per explanation", self.samples)
        self.idle = QDoubleSpinBox()
        self.idle.setRange(MIN_TIMEOUT_S, MAX_TIMEOUT_S)
        self.idle.setValue(options.idle_timeout)
        form.addRow("Capture flow idle timeout (s)", self.idle)
        self.active = QDoubleSpinBox()
        self.active.setRange(MIN_TIMEOUT_S, MAX_TIMEOUT_S)
        self.active.setValue(options.active_timeout)
        form.addRow("Capture flow active timeout (s)", self.active)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> AnalysisOptions:
        """The options as edited.

        Raises
        ------
        InputError
            When they are invalid (a LIME sample count below the minimum).
        """
        return self._base.replace(
            model=self.model.currentText(),
            threshold=self.threshold.value() if self.own_threshold.isChecked() else None,
            lime_samples=self.samples.value(),
            idle_timeout=self.idle.value(),
            active_timeout=self.active.value(),
        )

    def accept(self) -> None:
        """Close only with valid options; otherwise say what is wrong and stay open."""
        try:
            self.options()
        except InputError as exc:
            show_error(self, exc, "Invalid settings")
            return
        super().accept()
