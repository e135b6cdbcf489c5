"""Settings dialog: edits the analysis options (model, threshold, LIME samples, flow timeouts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from ids_desktop.core.model.bundle import read_metadata, resolve_bundle_path, shipped_metrics
from ids_desktop.core.options import MAX_LIME_SAMPLES, MAX_TIMEOUT_S, AnalysisOptions
from ids_desktop.errors import IdsError, InputError
from ids_desktop.gui.errors import show_error

#: The shortest flow timeout offered (s): nfstream counts in whole seconds.
MIN_TIMEOUT_S = 1.0
#: What each bundle's feature format reads, for its one-line description.
FORMAT_TEXT = {
    "pcap": "packet captures (.pcap, .pcapng)",
    "cic-ids2017": "CIC-IDS2017 flow CSVs (CICFlowMeter)",
    "unsw-nb15": "UNSW-NB15 flow CSVs",
    "nsl-kdd": "NSL-KDD records (.txt, .arff)",
    "ton-iot": "TON_IoT network CSVs",
}
#: The threshold the spin box starts at when no bundle says one (a bundle always does).
FALLBACK_THRESHOLD = 0.5


@dataclass(frozen=True)
class BundleFacts:
    """What the dialog says about one bundle, read from its metadata."""

    name: str
    threshold: float | None
    description: str


def bundle_facts(entry: str | Mapping[str, Any]) -> BundleFacts:
    """The threshold and one-line description of a bundle, given by name or as a
    :func:`~ids_desktop.core.model.bundle.list_bundles` entry; an unreadable bundle says so."""
    name = entry if isinstance(entry, str) else str(entry["name"])
    try:
        folder = (Path(str(entry["path"])) if not isinstance(entry, str)
                  else resolve_bundle_path(name, None))
        meta = read_metadata(folder)
    except (IdsError, OSError, KeyError) as exc:
        return BundleFacts(name, None, f"cannot read its metadata: {exc}")
    fmt = str(meta.get("feature_format", "?"))
    families = [c for c in meta.get("classes", []) if c != "benign"]
    rows = meta.get("rows", {})
    trained = rows.get("input") if isinstance(rows, dict) else None
    binary = shipped_metrics(meta)
    parts = [f"reads {FORMAT_TEXT.get(fmt, fmt)}", f"{len(families)} attack families"]
    if isinstance(trained, int):
        parts.append(f"trained on {trained:,} flows")
    if isinstance(binary.get("f1"), (int, float)):
        parts.append(f"attack F1 {binary['f1']:.3f}")
    if isinstance(binary.get("far"), (int, float)):
        parts.append(f"false alarms {binary['far']:.2%}")
    return BundleFacts(name, float(meta["threshold"]), "; ".join(parts))


class SettingsDialog(QDialog):
    """Edits an :class:`AnalysisOptions`; the options it does not show pass through unchanged.

    The window saves the result (:func:`ids_desktop.config.save_options`); it applies to the
    files opened afterwards.

    Each bundle is offered with a one-line description, and the threshold shown is the
    selected bundle's own (from its metadata) until the analyst overrides it, so "Override"
    starts from the value in use instead of silently lowering it.
    """

    def __init__(
        self, options: AnalysisOptions, bundles: Sequence[str | Mapping[str, Any]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._base = options
        self.facts = {f.name: f for f in map(bundle_facts, bundles)}
        form = QFormLayout(self)
        self.model = QComboBox()
        self.model.addItem("auto")
        self.model.setItemData(0, "picks the bundle that serves the input's format",
                               Qt.ItemDataRole.ToolTipRole)
        for facts in self.facts.values():
            self.model.addItem(facts.name)
            self.model.setItemData(self.model.count() - 1, facts.description,
                                   Qt.ItemDataRole.ToolTipRole)
        self.model.setCurrentText(options.model)
        form.addRow("Model bundle", self.model)
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.PlainText)
        form.addRow("", self.description)
        self.own_threshold = QCheckBox("Override the bundle's threshold")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setDecimals(4)
        self.own_threshold.setChecked(options.threshold is not None)
        self.threshold.setEnabled(self.own_threshold.isChecked())
        self.own_threshold.toggled.connect(self.threshold.setEnabled)
        form.addRow(self.own_threshold)
        form.addRow("Decision threshold on P(attack)", self.threshold)
        self.threshold_note = QLabel("")
        self.threshold_note.setWordWrap(True)
        form.addRow("", self.threshold_note)
        self.model.currentTextChanged.connect(self._on_model)
        self._on_model(self.model.currentText())
        if options.threshold is not None:
            self.threshold.setValue(options.threshold)
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

    def own_threshold_of(self, name: str) -> float | None:
        """The bundle's own threshold; for ``auto``, the capture bundle's (captures are what
        the app reads most; the note lists every bundle's)."""
        if name == "auto":
            name = "pcap" if "pcap" in self.facts else next(iter(self.facts), "")
        facts = self.facts.get(name)
        return None if facts is None else facts.threshold

    def _on_model(self, name: str) -> None:
        own = self.own_threshold_of(name)
        if name == "auto":
            self.description.setText("Picks the bundle that serves the input's format.")
            listed = ", ".join(f"{f.name} {f.threshold:.4f}" for f in self.facts.values()
                               if f.threshold is not None)
            self.threshold_note.setText(f"Each bundle's own threshold: {listed or 'none found'}."
                                        " An override applies to whichever bundle is picked.")
        else:
            facts = self.facts.get(name)
            self.description.setText(facts.description if facts else "")
            self.threshold_note.setText(
                f"{name}'s own threshold: {own:.4f}." if own is not None
                else f"{name}'s own threshold is unknown.")
        if not self.own_threshold.isChecked():  # show the value in use; an override starts there
            self.threshold.setValue(FALLBACK_THRESHOLD if own is None else own)

    def options(self) -> AnalysisOptions:
        """The options as edited.

        Raises
        ------
        InputError
            When they are invalid (a LIME sample count below the minimum).
        """
        threshold: float | None = None
        if self.own_threshold.isChecked():
            threshold = self.threshold.value()
            own = self.own_threshold_of(self.model.currentText())
            if own is not None and round(own, self.threshold.decimals()) == threshold:
                threshold = own  # left at the bundle's value: keep it exactly, not rounded
        return self._base.replace(
            model=self.model.currentText(),
            threshold=threshold,
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
