"""The training loop (ids_desktop.training.trainer): bundles written whole, seeded, cancellable."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.model import sequences
from ids_desktop.core.model.preprocess import feature_hash
from tests.synthetic_flows import synthetic_frame

BINARY_KEYS = {"precision", "recall", "f1", "accuracy", "far", "roc_auc"}


@pytest.mark.slow
def test_training_writes_a_complete_bundle(tiny_run) -> None:
    from ids_desktop.training.trainer import TrainResult

    out, result, _ = tiny_run
    assert isinstance(result, TrainResult) and "_model" not in result.metadata
    assert result.model.count_params() == result.metadata["metrics"]["hybrid"]["params"]
    assert {p.name for p in out.iterdir()} >= {"model.keras", "model.onnx", "metadata.json",
                                               "MODEL_CARD.md", "background.npy"}
    bg = np.load(out / "background.npy", allow_pickle=False)
    assert bg.ndim == 3
    assert bg.shape[1:] == (result.metadata["seq_len"], result.metadata["n_inputs"])
    on_disk = json.loads((out / "metadata.json").read_text())
    for key in ("features", "preprocessing", "classes", "seq_len", "threshold", "training_data",
                "metrics", "versions", "model_sha256", "rows"):
        assert key in on_disk
    assert on_disk["seq_len"] in (4, 6) and on_disk["temporal_context"] is True
    assert set(on_disk["metrics"]) >= {"hybrid", "seq2seq", "tree", "boosting", "subsample_20pct"}
    assert set(on_disk["metrics"]["hybrid"]["binary"]) == BINARY_KEYS
    assert on_disk["lofo"][0]["family"] == "scan"
    # What is written is the returned metadata plus the digests of the written files.
    assert set(on_disk) - set(result.metadata) == {"model_sha256", "onnx_sha256", "onnx_check",
                                                   "background_sha256"}
    card = (out / "MODEL_CARD.md").read_text()
    assert "leave one attack family out" in card and "temporal_context: true" in card
    assert "| RandomForest |" in card and "| HistGradientBoosting |" in card


def test_split_never_shares_feature_vectors() -> None:
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.split import grouped_split

    frame = synthetic_frame()
    dup = pd.concat([frame, frame.iloc[:50]], ignore_index=True)
    cols = ["bytes", "packets", "duration", "state"]
    split = grouped_split(dup, cols, TrainOptions(), seed=0)
    h = feature_hash(dup, cols)
    parts = [set(h[split.train]), set(h[split.val]), set(h[split.test])]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert len(split.train) + len(split.val) + len(split.test) == len(dup)


def test_flow_tables_keep_every_flow_as_it_occurs() -> None:
    """Issue 34: a vector repeated k times weighs k times; temporal repeats of one event go."""
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.split import dedup_and_cap

    frame = synthetic_frame()
    dup = pd.concat([frame, *[frame.iloc[:5]] * 20], ignore_index=True)
    cols = ["bytes", "packets", "duration", "state"]
    kept, info = dedup_and_cap(dup, cols, False, TrainOptions(), seed=0)
    assert len(kept) == len(dup) and info["counted_as_they_occur"] is True
    distinct = len(frame.drop_duplicates(subset=[*cols, "label_class"]))
    assert info["distinct"] == distinct
    assert sum(info["class_counts"].values()) == len(dup)
    events, tinfo = dedup_and_cap(dup, cols, True, TrainOptions(), seed=0)
    assert len(events) == len(dup.drop_duplicates(subset=[*cols, "label_class", "src_ip",
                                                          "first_seen"]))
    assert tinfo["counted_as_they_occur"] is False
    # above the cap a flow table keeps its class mix (proportional, no per-class floor)
    capped, cinfo = dedup_and_cap(dup, cols, False, TrainOptions(max_rows=len(dup) // 4), 0)
    assert cinfo["subsampled"] is True and len(capped) <= len(dup) // 4 + 10
    share = dup["label_class"].value_counts(normalize=True)
    got = capped["label_class"].value_counts(normalize=True)
    assert (got - share).abs().max() < 0.02


def test_ceiling_scores_the_majority_label_of_each_vector() -> None:
    from types import SimpleNamespace

    from ids_desktop.training.evaluation import ceiling, distinct_positions
    from ids_desktop.training.split import Split

    # vectors: 0 attack x3 + benign x1 (majority attack), 1 benign x2, 2 attack x1
    groups = np.array([0, 0, 0, 0, 1, 1, 2])
    y = np.array([1, 1, 1, 0, 0, 0, 1])
    rows = np.arange(7)
    ctx = SimpleNamespace(split=Split(rows, rows, rows, groups=groups), is_attack=y == 1,
                          y=y, classes=["benign", "scan"])
    c = ceiling(ctx, rows)  # type: ignore[arg-type]
    assert c["mixed_flows"] == 4
    b = c["binary"]
    assert b["recall"] == 1.0 and b["precision"] == pytest.approx(4 / 5)
    assert b["far"] == pytest.approx(1 / 3)
    assert distinct_positions(ctx, rows).tolist() == [0, 3, 4, 6]  # type: ignore[arg-type]


def test_options_round_trip_through_the_metadata() -> None:
    from ids_desktop.training.options import TrainOptions

    opts = TrainOptions(seq_lens=(4,), lofo_families=("scan",), quantiles=8)
    recorded = json.loads(json.dumps(opts.to_metadata()))
    assert recorded["seq_lens"] == [4] and TrainOptions.from_metadata({"options": recorded}) == opts
    # an older bundle's record: unknown fields ignored, missing ones default
    older = {"options": {"gone": 1, "epochs": 3}}
    assert TrainOptions.from_metadata(older) == TrainOptions(epochs=3)


@pytest.mark.slow
def test_round_trip_with_safe_mode_gives_same_predictions(tiny_run) -> None:
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.core.model.network import predict_batches

    out, result, frame = tiny_run
    bundle = load_bundle(out, backend="keras")  # load_model(..., safe_mode=True) inside
    x = bundle.features(frame, temporal=True)
    w = bundle.windows(frame, temporal=True)
    xt = sequences.to_tensor(x, w)
    fresh = predict_batches(result.model, xt)
    loaded = predict_batches(bundle.model, xt)
    for w_fresh, w_loaded in zip(result.model.get_weights(), bundle.model.get_weights()):
        assert np.array_equal(w_fresh, w_loaded)
    # Same weights; separately compiled graphs may differ in the last float bit.
    np.testing.assert_allclose(fresh[0], loaded[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(fresh[1], loaded[1], rtol=0, atol=1e-5)


@pytest.mark.slow
def test_onnx_export_gives_the_keras_verdicts(tiny_run) -> None:
    """The app scores model.onnx; it must match model.keras within 1e-5 on validation data."""
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.core.model.runtime import max_prob_diff
    from ids_desktop.training.split import validation_inputs

    out, _, frame = tiny_run
    on_disk = json.loads((out / "metadata.json").read_text())
    assert on_disk["onnx_check"]["max_abs_prob_diff"] <= 1e-5
    onnx_b, keras_b = load_bundle(out), load_bundle(out, backend="keras")
    assert onnx_b.backend == "onnx" and onnx_b.model is None and keras_b.backend == "keras"
    x_val = validation_inputs(frame, on_disk, temporal=True)
    assert len(x_val) == on_disk["onnx_check"]["windows"]
    assert max_prob_diff(onnx_b.runner, keras_b.runner, x_val) <= 1e-5
    a = onnx_b.score(frame, temporal=True)
    b = keras_b.score(frame, temporal=True)
    assert np.array_equal(a.flagged, b.flagged)
    np.testing.assert_allclose(a.anomaly_score, b.anomaly_score, rtol=1e-4, atol=1e-6)


@pytest.mark.slow
def test_ensemble_bundle_averages_its_members_and_exports(tmp_path) -> None:
    """``members=2``: two seeds' networks in one model whose probabilities are their mean; the
    bundle saves, exports to ONNX within 1e-5 and scores like any other."""
    import keras

    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.split import validation_inputs
    from ids_desktop.training.trainer import train_frame

    out = tmp_path / "ens"
    opts = TrainOptions(epochs=1, patience=1, seq_lens=(4,), filters=4, batch_size=64,
                        baselines=False, members=2)
    frame = synthetic_frame()
    train_frame(frame, "ton-iot", out, temporal=True, seed=3, options=opts, name="ens")
    model = keras.models.load_model(out / "model.keras")
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert len(members) == 2
    on_disk = json.loads((out / "metadata.json").read_text())
    x = validation_inputs(frame, on_disk, temporal=True)
    mean = np.mean([m.predict(x, verbose=0)[0] for m in members], axis=0)
    np.testing.assert_allclose(model.predict(x, verbose=0)[0], mean, atol=1e-6)
    assert not np.allclose(members[0].predict(x, verbose=0)[0], mean, atol=1e-3)
    assert on_disk["onnx_check"]["max_abs_prob_diff"] <= 1e-5
    assert "in 2 networks trained from different seeds" in (out / "MODEL_CARD.md").read_text()
    a = load_bundle(out).score(frame, temporal=True)
    b = load_bundle(out, backend="keras").score(frame, temporal=True)
    assert np.array_equal(a.flagged, b.flagged)


@pytest.mark.slow
def test_fixed_seed_gives_identical_weights_and_predictions(tmp_path) -> None:
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.reproduce import compare_bundles, weights_sha256
    from ids_desktop.training.trainer import train_frame

    frame = synthetic_frame(n_hosts=6, per_host=30)
    opts = TrainOptions(epochs=2, patience=1, seq_lens=(4,), baselines=False, filters=4,
                        batch_size=32)
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        train_frame(frame, "ton-iot", tmp_path / name, temporal=True, seed=seed, options=opts,
                    name=name)
    a, b = (load_bundle(tmp_path / n).score(frame, temporal=True) for n in "ab")
    assert np.array_equal(a.probs, b.probs)
    assert np.array_equal(a.anomaly_score, b.anomaly_score)
    same = compare_bundles(tmp_path / "a", tmp_path / "b")
    assert same.same_model and same.onnx_max_abs_diff == 0.0
    assert set(same.metadata) == {"name"}  # the run's timings and file digests are not compared
    other = compare_bundles(tmp_path / "a", tmp_path / "c")
    assert not other.weights and not other.same_model and "seed" in other.metadata
    a, c = tmp_path / "a" / "model.keras", tmp_path / "c" / "model.keras"
    assert weights_sha256(a) != weights_sha256(c)


@pytest.mark.slow
def test_training_reports_progress_and_can_be_cancelled(tmp_path) -> None:
    from ids_desktop.core.tasks import CancelToken
    from ids_desktop.errors import CancelledError
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.trainer import train_frame

    token = CancelToken()
    stages: list[str] = []

    def progress(done, total, stage):
        stages.append(stage)
        if "epoch 2/" in stage:
            token.cancel()

    opts = TrainOptions(epochs=5, patience=5, seq_lens=(4,), baselines=False, filters=4)
    with pytest.raises(CancelledError):
        train_frame(synthetic_frame(n_hosts=4, per_host=20), "ton-iot", tmp_path / "x",
                    temporal=True, options=opts, progress=progress, cancel=token)
    assert any("epoch 1/" in s for s in stages)
    assert not (tmp_path / "x").exists()  # nothing half-written
