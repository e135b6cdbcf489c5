"""Re-exporting bundles (ids_desktop.training.export) and the shipped exports' validation check.

The validation split is rebuilt from the recipe's data, the export checked on it, the metadata
and card brought up to date.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ids_desktop.training.recipes import RECIPES, Recipe

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
DATASET_BUNDLES = sorted(
    p.parent.name for p in MODELS.glob("*/model.onnx")
    if RECIPES.get(p.parent.name, None) and RECIPES[p.parent.name].kind == "dataset"
)


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("name", DATASET_BUNDLES)
def test_shipped_onnx_matches_keras_on_validation_split(name: str, shared_data: Path) -> None:
    """The validation split rebuilt from the recipe's training file, as the export checked it."""
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.core.model.runtime import max_prob_diff
    from ids_desktop.training.export import training_frame
    from ids_desktop.training.split import validation_inputs

    onnx_b, keras_b = load_bundle(MODELS / name), load_bundle(MODELS / name, backend="keras")
    frame, temporal = training_frame(name, shared_data, onnx_b.metadata)
    x_val = validation_inputs(frame, onnx_b.metadata, temporal=temporal)
    assert len(x_val) == onnx_b.metadata["onnx_check"]["windows"]
    assert max_prob_diff(onnx_b.runner, keras_b.runner, x_val) <= 1e-5


@pytest.mark.slow
def test_refresh_export_rechecks_and_rewrites_metadata_and_card(
    tiny_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ids_desktop.core.ingest import IngestResult, write_flows
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.training.card import model_card
    from ids_desktop.training.export import refresh_export

    out, _, frame = tiny_run
    data = tmp_path / "shared"
    data.mkdir()
    write_flows(IngestResult(frame, "ton-iot", "ton-iot", True), data / "tiny.parquet")
    monkeypatch.setitem(RECIPES, "tiny", Recipe("tiny", "dataset", "ton-iot", ("tiny.parquet",)))
    folder = tmp_path / "tiny"
    shutil.copytree(out, folder)
    before = json.loads((folder / "metadata.json").read_text())
    (folder / "model.onnx").unlink()
    check = refresh_export(folder, data)
    after = json.loads((folder / "metadata.json").read_text())
    assert check.windows == before["onnx_check"]["windows"] == after["onnx_check"]["windows"]
    assert check.max_abs_prob_diff <= 1e-5 and check.onnx_bytes > 0
    assert {k: v for k, v in after.items() if k not in ("onnx_sha256", "onnx_check")} == \
        {k: v for k, v in before.items() if k not in ("onnx_sha256", "onnx_check")}
    assert (folder / "MODEL_CARD.md").read_text() == model_card(after)
    assert load_bundle(folder).backend == "onnx"  # the new export verifies
