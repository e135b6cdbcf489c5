"""Option comparison (ids_desktop.training.compare): scored on the validation split alone."""

from __future__ import annotations

import pytest

from tests.synthetic_flows import synthetic_frame


@pytest.mark.slow
def test_a_variant_is_scored_on_validation_with_its_confusion_table() -> None:
    from dataclasses import replace

    from ids_desktop.training.compare import base_options, score_variant
    from ids_desktop.training.trainer import prepare_run

    frame = synthetic_frame()
    fields = {"epochs": 1, "patience": 1, "filters": 4, "batch_size": 64}
    score = score_variant(frame, "ton-iot", fields, seed=2)
    assert 0.0 <= score.f1 <= 1.0 and 0.0 <= score.far <= 1.0 and score.epochs == 1
    table = score.confusion
    assert table is not None
    assert table.index.name == "truth" and table.columns.name == "verdict"
    assert set(table.index) == {"benign", "scan"}
    # every validation flow once, and no flow of the training or test split
    ctx, _, _ = prepare_run(frame, "ton-iot", temporal=False,
                            opts=replace(base_options("ton-iot"), **fields), seed=2)
    assert int(table.to_numpy().sum()) == len(ctx.split.val)
    assert len(ctx.split.val) < len(frame)
