"""A bundle that ships the average of the hybrid and a tree (issue 34): exported, verified,
scored the same way by both backends, and described as a blend by its card."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ids_desktop.errors import ModelError
from tests.synthetic_flows import synthetic_frame


def _forest(classes: int = 3, n: int = 600, seed: int = 0):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 7)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (classes > 2) * (x[:, 1] > 1)
    return HistGradientBoostingClassifier(max_iter=30, random_state=seed).fit(x, y), x


def test_tree_export_matches_scikit_learn(tmp_path) -> None:
    """HistGradientBoosting (which skl2onnx 1.20 cannot write without the leaf-flag shim) goes
    to ONNX and gives scikit-learn's probabilities; the runner puts them in the bundle's
    class columns."""
    from ids_desktop.core.model.runtime import TreeRunner
    from ids_desktop.training.tree_export import MAX_ABS_DIFF, export_tree

    model, x = _forest()
    path = tmp_path / "tree.onnx"
    diff = export_tree(model, path, x)
    assert diff <= MAX_ABS_DIFF and path.is_file()
    # The tree knew classes 0-2 of a five-class bundle, as columns 0, 2 and 4.
    runner = TreeRunner(path, [0, 2, 4], 5)
    p = runner(x[:50])
    assert p.shape == (50, 5)
    np.testing.assert_allclose(p[:, [0, 2, 4]], model.predict_proba(x[:50]), atol=1e-5)
    assert not p[:, [1, 3]].any()
    with pytest.raises(ModelError, match="needs feature rows"):
        export_tree(model, tmp_path / "none.onnx", x[:0])
    with pytest.raises(ModelError, match="do not fit"):
        TreeRunner(path, [0, 2, 5], 5)


def test_the_blend_ships_only_when_validation_puts_it_level_with_both() -> None:
    from ids_desktop.training.evaluation import Blend

    def blend(b: float, h: float, t: float, b_far: float = 0.002) -> Blend:
        return Blend("boosting", None, 0.5, {"blend": {"f1": b, "far": b_far},
                                             "hybrid": {"f1": h, "far": 0.001},
                                             "tree": {"f1": t, "far": 0.002}})

    assert blend(0.99, 0.98, 0.99).beats_both
    assert blend(0.995, 0.99, 0.98, b_far=0.0).beats_both
    assert not blend(0.989, 0.98, 0.99).beats_both
    assert not blend(0.989, 0.99, 0.98).beats_both
    # level on F1, but more false alarms than the tree
    assert not blend(0.99, 0.98, 0.99, b_far=0.003).beats_both


@pytest.fixture(scope="module")
def blend_run(tmp_path_factory):
    """A T = 1 bundle trained with ``blend`` and ``refit`` on the synthetic frame.

    The rule (tested above) is made to say "ship" whatever these easy rows give, to test
    what shipping writes and how the app reads it.
    """
    from ids_desktop.training import evaluation
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.trainer import train_frame

    out = tmp_path_factory.mktemp("models") / "blend"
    opts = TrainOptions(epochs=2, patience=1, filters=4, batch_size=64, blend=True, refit=True)
    frame = synthetic_frame(n_hosts=24, per_host=60)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(evaluation.Blend, "beats_both", property(lambda self: True))
        result = train_frame(frame, "ton-iot", out, temporal=False, seed=2, options=opts,
                             name="blend")
    return out, result.metadata, frame


@pytest.mark.slow
def test_blend_ships_with_its_tree_and_both_backends_blend(blend_run) -> None:
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.core.model.runtime import BlendedRunner

    out, meta, frame = blend_run
    on_disk = json.loads((out / "metadata.json").read_text())
    m = on_disk["metrics"]
    assert set(m["blend"]["validation"]) == {"blend", "hybrid", "tree"}
    assert m["blend"]["shipped"] is True and "blend_refit_check" in m
    blend = on_disk["blend"]
    assert (out / blend["file"]).is_file() and blend["check"]["max_abs_prob_diff"] <= 1e-4
    assert on_disk["threshold"] == m["blend"]["threshold"]
    assert on_disk["hybrid_threshold"] == m["hybrid"]["threshold"]
    # the blend flags by its classifier alone; the hybrid's anomaly threshold is kept beside it
    assert on_disk["anomaly_threshold"] >= 1e29 and m["blend"]["anomaly_flags"] is False
    assert on_disk["hybrid_anomaly_threshold"] == m["hybrid"]["anomaly_threshold"]
    card = (out / "MODEL_CARD.md").read_text()
    assert "**Shipped as a blend**" in card and "shipped (the app's verdicts)" in card
    assert "hybrid ConvLSTM-Seq2Seq |" in card  # the hybrid alone is still reported

    bundle = load_bundle(out)
    assert isinstance(bundle.runner, BlendedRunner)
    x = bundle.features(frame, False)
    tensor = bundle.windows(frame, False)
    from ids_desktop.core.model import sequences

    inputs = sequences.to_tensor(x, tensor)
    blended = bundle.runner(inputs)[0][:, 0, :]
    hybrid = bundle.runner.runner(inputs)[0][:, 0, :]
    np.testing.assert_allclose(blended, (hybrid + bundle.tree(x)) / 2, atol=1e-6)
    a = bundle.score(frame)
    b = load_bundle(out, backend="keras").score(frame)
    assert np.array_equal(a.flagged, b.flagged)
    np.testing.assert_allclose(a.probs, b.probs, atol=1e-4)


@pytest.mark.slow
def test_a_changed_tree_file_is_refused(blend_run, tmp_path) -> None:
    import shutil

    from ids_desktop.core.model.bundle import load_bundle

    out, meta, _ = blend_run
    copy = tmp_path / "blend"
    shutil.copytree(out, copy)
    tree = copy / meta["blend"]["file"]
    tree.write_bytes(tree.read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelError, match="tree file was changed"):
        load_bundle(copy)
    tree.unlink()
    with pytest.raises(ModelError, match="lacks tree.onnx"):
        load_bundle(copy)


@pytest.mark.slow
def test_without_the_option_the_blend_is_reported_not_shipped(tiny_run) -> None:
    out, result, _ = tiny_run
    meta = result.metadata
    assert "blend" not in meta and not (out / "tree.onnx").exists()
    assert meta["metrics"]["blend"]["shipped"] is False
    assert "not shipped: average of the hybrid" in (out / "MODEL_CARD.md").read_text()


@pytest.mark.slow
def test_analysis_and_report_of_a_blend_bundle(blend_run, tmp_path) -> None:
    """The core's one analysis path scores with the blend; the report says the verdicts are a
    blend's and names no anomaly threshold (the anomaly score flags nothing there)."""
    from ids_desktop.core.ingest import IngestResult, write_flows
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.report.build import build_report
    from ids_desktop.core.workflow import run_analysis

    out, _, frame = blend_run
    path = tmp_path / "flows.parquet"
    write_flows(IngestResult(frame, "ton-iot", "ton-iot", True), path)
    analysis = run_analysis(path, AnalysisOptions(model=str(out)))
    assert analysis.run.bundle.tree is not None
    report = build_report(analysis)
    assert report.anomaly_threshold is None
    assert "HistGradientBoosting" in report.model_note or "RandomForest" in report.model_note
    assert "flags nothing" in report.model_note


def test_the_headline_is_of_the_verdicts_the_bundle_gives() -> None:
    from ids_desktop.core.model.bundle import shipped_metrics

    metrics = {"hybrid": {"binary": {"f1": 0.99}}, "blend": {"binary": {"f1": 0.999},
                                                             "shipped": True}}
    assert shipped_metrics({"metrics": metrics, "blend": {"tree": "boosting"}})["f1"] == 0.999
    # an unshipped blend's figures never stand for the bundle
    assert shipped_metrics({"metrics": metrics})["f1"] == 0.99
    unshipped = {**metrics, "blend": {**metrics["blend"], "shipped": False}}
    assert shipped_metrics({"metrics": unshipped, "blend": {"tree": "boosting"}})["f1"] == 0.99
    assert shipped_metrics({}) == {}
