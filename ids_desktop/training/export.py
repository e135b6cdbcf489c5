"""Add (or refresh) the checked ONNX export of existing bundles without retraining them.

For each bundle: rebuild its validation split from the training data it names, export
``model.keras`` to ``model.onnx``, require |p_onnx - p_keras| <= 1e-5 on every validation
window, then record the export's SHA-256 and the measured difference in ``metadata.json``
and the model card. Training does the same for new bundles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.training.locations import lab_data_dir
from ids_desktop.training.recipes import get_recipe


@dataclass(frozen=True)
class ExportCheck:
    """One bundle's refreshed export: the windows it was checked on and the difference."""

    name: str
    windows: int
    max_abs_prob_diff: float
    onnx_bytes: int


def lab_present(lab: Path | None = None) -> bool:
    """Whether a traffic-lab run (``$IDS_LAB_DATA``, default ``../lab-data``) is on disk."""
    from ids_desktop.training.capture_sources import lab_runs

    return bool(lab_runs(lab_data_dir() if lab is None else lab))


def capture_inputs(bundle: Any, data: Path) -> np.ndarray:
    """Model inputs of every shared capture's analysis windows (the check without a lab run).

    The capture bundle's validation split is rebuilt from the traffic-lab run it was trained
    on; lab runs live outside the repository, so on a machine without one the export is
    checked on the windows the app itself builds from the real shared captures (attack,
    benign and benign-apps).
    """
    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.model import sequences

    parts = []
    for kind in ("attack", "benign", "benign-apps"):
        for path in sorted((data / "pcaps" / kind).iterdir()):
            if path.suffix.lower() not in (".pcap", ".pcapng", ".cap"):
                continue
            result = ingest(path)
            if not len(result.frame):
                continue
            x = bundle.features(result.frame, result.temporal)
            parts.append(sequences.to_tensor(x, bundle.windows(result.frame, result.temporal)))
    return np.concatenate(parts)


def training_frame(name: str, data: Path, meta: dict[str, Any]) -> tuple[pd.DataFrame, bool]:
    """The canonical training frame of bundle ``name`` and whether it is temporal."""
    from ids_desktop.core.ingest import ingest

    recipe = get_recipe(name)
    if recipe.kind == "capture":
        from ids_desktop.training.capture_sources import load_training_flows

        return load_training_flows(meta, lab_data_dir(), data), True
    results = [ingest(data / f) for f in recipe.files]
    frame = pd.concat([r.frame for r in results], ignore_index=True)
    return frame, all(r.temporal for r in results)


def refresh_export(folder: Path, data: Path) -> ExportCheck:
    """Re-export one bundle folder's ``model.onnx``, checked, and update its metadata and card.

    Parameters
    ----------
    folder
        The bundle (its name picks the recipe that rebuilds the validation split).
    data
        The shared data folder.

    Returns
    -------
    ExportCheck
        What the export was checked on and the largest difference found.
    """
    from ids_desktop.core.model.bundle import CARD_FILE, METADATA_FILE, load_bundle
    from ids_desktop.core.model.runtime import ONNX_FILE, export_to_bundle
    from ids_desktop.training.card import model_card
    from ids_desktop.training.split import validation_inputs

    name = folder.name
    bundle = load_bundle(folder, backend="keras")
    meta = bundle.metadata
    if name == "pcap" and not lab_present():
        x_val = capture_inputs(bundle, data)
        meta.update(export_to_bundle(bundle.model, folder, x_val))
        meta["onnx_check"]["inputs"] = "shared-capture analysis"  # card: "N ... windows"
    else:
        frame, temporal = training_frame(name, data, meta)
        x_val = validation_inputs(frame, meta, temporal=temporal)
        meta.update(export_to_bundle(bundle.model, folder, x_val))
    (folder / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (folder / CARD_FILE).write_text(model_card(meta), encoding="utf-8")
    return ExportCheck(name, len(x_val), meta["onnx_check"]["max_abs_prob_diff"],
                       (folder / ONNX_FILE).stat().st_size)
