"""Tests of the detector's core: sequences, preprocessing, metrics, network, bundles, analysis."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.analysis import PREDICTION_COLUMNS
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.model import metrics as M
from ids_desktop.core.model import sequences
from ids_desktop.core.model.preprocess import Preprocessor, feature_hash, select_features
from ids_desktop.errors import ModelError, SchemaError
from tests.synthetic_flows import synthetic_frame

SUMMARY_KEYS = {"format", "model", "flows", "flagged", "alerts", "unusual", "by_class",
                "by_flagged_by", "findings", "incidents", "temporal_context", "seconds"}
EVAL_KEYS = {"model", "n", "binary", "per_class", "unusual", "confusion"}
BINARY_KEYS = {"precision", "recall", "f1", "accuracy", "far", "roc_auc"}


# ------------------------------------------------------------------------------ sequences


def test_windows_follow_host_time_order_with_padding() -> None:
    frame = synthetic_frame(n_hosts=4, per_host=7)
    hosts, times = sequences.host_time_keys(frame)
    win = sequences.build_windows(hosts, times, seq_len=3, stride=1)
    assert win.shape == (len(frame), 3)
    # every flow ends exactly one window
    assert sorted(win[:, -1].tolist()) == list(range(len(frame)))
    ips = frame["src_ip"].to_numpy(dtype=object)
    for row in win:
        real = row[row != sequences.PAD]
        # padding only on the left
        assert (row[: 3 - len(real)] == sequences.PAD).all()
        # no cross-host leakage, strictly increasing time
        assert len(set(ips[real])) == 1
        assert np.all(np.diff(times[real]) > 0)
        # the context is exactly the flows right before the last one in time
        same = np.flatnonzero(ips == ips[real[-1]])
        before = same[times[same] < times[real[-1]]]
        expected = before[np.argsort(times[before])][-2:]
        assert real[:-1].tolist() == expected.tolist()
    first_flows = [r for r in win if (r == sequences.PAD).sum() == 2]
    assert len(first_flows) == 4  # one per host


def test_windows_stride_cover_each_flow_once_and_scatter_back() -> None:
    frame = synthetic_frame(n_hosts=3, per_host=10)
    hosts, times = sequences.host_time_keys(frame)
    win = sequences.build_windows(hosts, times, seq_len=4)
    real = win[win != sequences.PAD]
    assert sorted(real.tolist()) == list(range(len(frame)))
    values = sequences.gather(np.arange(len(frame), dtype=float) * 10, win, fill=-1.0)
    back = sequences.scatter(values[..., None], win, len(frame))[:, 0]
    assert np.array_equal(back, np.arange(len(frame)) * 10.0)


def test_flows_without_host_or_time_stand_alone() -> None:
    frame = synthetic_frame(n_hosts=2, per_host=5)
    frame.loc[[0, 1], "src_ip"] = pd.NA
    frame.loc[2, "first_seen"] = np.nan
    hosts, times = sequences.host_time_keys(frame)
    win = sequences.build_windows(hosts, times, seq_len=4, stride=1)
    for r in (0, 1, 2):
        row = win[win[:, -1] == r][0]
        assert (row[:-1] == sequences.PAD).all()
        assert not np.isin(r, win[win[:, -1] != r]).any()


def test_host_gaps_are_relative_per_host() -> None:
    hosts = np.array([0, 1, 0, 0, 1])
    times = np.array([10.0, 100.0, 13.0, 11.0, 101.5])
    gaps = sequences.host_gaps(hosts, times)
    assert gaps.tolist() == [0.0, 0.0, 2.0, 1.0, 1.5]


def test_peer_gaps_follow_one_host_and_destination_whatever_is_interleaved() -> None:
    """A beacon every ~3 s to one server keeps its rhythm between unrelated lookups."""
    hosts = np.array([0, 0, 0, 0, 0, 0, 1])
    peers = np.array([7, 9, 7, 9, 7, 9, 7])  # 7: the C2 server, 9: the resolver
    times = np.array([0.0, 0.5, 3.0, 3.2, 6.1, 6.3, 4.0])
    gap, prev = sequences.pair_gaps(hosts, peers, times)
    np.testing.assert_allclose(gap, [np.nan, np.nan, 3.0, 2.7, 3.1, 3.1, np.nan], equal_nan=True)
    np.testing.assert_allclose(prev, [np.nan, np.nan, np.nan, np.nan, 3.0, 2.7, np.nan],
                               equal_nan=True)


def test_peer_gaps_of_a_frame_need_real_time_order() -> None:
    import pandas as pd

    frame = pd.DataFrame({"src_ip": ["a", "a", "a"], "dst_ip": ["s", None, "s"],
                          "first_seen": [1.0, 2.0, 5.0]})
    gap, prev = sequences.frame_pair_gaps(frame, True)
    np.testing.assert_allclose(gap, [np.nan, np.nan, 4.0], equal_nan=True)  # no address: alone
    assert np.isnan(prev).all()
    assert np.isnan(sequences.frame_pair_gaps(frame, False)[0]).all()


# ------------------------------------------------------------------------------ preprocessing


def test_preprocessor_json_round_trip_and_missing_column() -> None:
    frame = synthetic_frame()
    frame.loc[0, "bytes"] = np.inf
    frame.loc[1, "packets"] = np.nan
    num, cat = select_features(frame, "ton-iot")
    assert "first_seen" not in num and "src_ip" not in cat
    pre = Preprocessor.fit(frame, num, cat, top_k=3, min_count=1)
    x = pre.transform(frame)
    assert x.shape == (len(frame), pre.n_outputs) and np.isfinite(x).all()
    again = Preprocessor.from_json(json.loads(json.dumps(pre.to_json())))
    assert np.array_equal(again.transform(frame), x)
    with pytest.raises(SchemaError, match="bytes"):
        pre.transform(frame.drop(columns=["bytes"]))


def test_quantile_copies_match_scikit_learn_and_survive_json() -> None:
    from sklearn.preprocessing import QuantileTransformer

    rng = np.random.default_rng(5)
    n = 2000
    frame = pd.DataFrame({
        "bytes": rng.lognormal(6, 2, n),  # skewed
        "flags": rng.choice([0, 0, 0, 1, 2, 7], n).astype(float),  # discrete, mostly zero
        "proto": rng.choice(["tcp", "udp"], n),
    })
    pre = Preprocessor.fit(frame, ["bytes", "flags"], ["proto"], min_count=1, quantiles=101)
    x = pre.transform(frame)
    assert pre.output_names[-2:] == ["bytes__q", "flags__q"] and x.shape[1] == pre.n_outputs
    # an independent reference fitted on the same standardised values (the continuous
    # column; on a discrete one scikit-learn sends the minimum's ties to the bottom level)
    # (it applies the normal quantile function between knots, this interpolates it: the two
    # agree closely away from the outermost knots)
    qt = QuantileTransformer(n_quantiles=101, output_distribution="normal").fit(x[:, :1])
    ref = qt.transform(x[:, :1])[:, 0]
    inner = np.abs(ref) < 2.0
    assert inner.mean() > 0.9 and np.abs(x[inner, -2] - ref[inner]).max() < 0.02
    assert np.corrcoef(x[:, -2], ref)[0, 1] > 0.99
    # the discrete column: one copy per value, increasing, the half-zero column's zeros near
    # the middle of their half (the normal quantile of 0.25, -0.67)
    values = frame["flags"].to_numpy()
    copies = [np.unique(x[values == v, -1]) for v in (0, 1, 2, 7)]
    assert all(len(c) == 1 for c in copies) and np.all(np.diff([c[0] for c in copies]) > 0)
    assert -1.2 < copies[0][0] < -0.3
    # the copies are a function of the standardised values alone (what the explainer uses)
    assert np.array_equal(pre.quantile_copies(x[:, :2]), x[:, -2:])
    # a larger value never gets a smaller copy
    order = np.argsort(frame["bytes"].to_numpy())
    assert (np.diff(x[order, -2]) >= -1e-6).all()
    again = Preprocessor.from_json(json.loads(json.dumps(pre.to_json())))
    assert np.array_equal(again.transform(frame), x)
    # without the option the layout is the old one
    plain = Preprocessor.fit(frame, ["bytes", "flags"], ["proto"], min_count=1)
    assert plain.n_outputs == pre.n_outputs - 2
    assert np.array_equal(plain.transform(frame), x[:, :-2])


def test_the_gap_feature_is_selected_once() -> None:
    from ids_desktop.core.model.bundle import add_gap_feature
    from ids_desktop.core.model.preprocess import GAP_FEATURE

    num, _ = select_features(add_gap_feature(synthetic_frame(), True), "ton-iot")
    assert num.count(GAP_FEATURE) == 1


def test_optional_context_features_are_selected_once() -> None:
    from ids_desktop.core.model.bundle import add_gap_feature
    from ids_desktop.core.model.preprocess import CONTEXT_FEATURES

    num, _ = select_features(add_gap_feature(synthetic_frame(), True, CONTEXT_FEATURES), "ton-iot")
    assert [c for c in num if c in CONTEXT_FEATURES] == list(CONTEXT_FEATURES)


def test_feature_hash_equal_for_identical_vectors() -> None:
    df = pd.DataFrame({"a": [1.0, 1.0, 2.0], "b": ["x", "x", "x"]})
    h = feature_hash(df, ["a", "b"])
    assert h[0] == h[1] != h[2]


# ------------------------------------------------------------------------------ metrics


def test_metrics_match_scikit_learn() -> None:
    from sklearn import metrics as skm

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    score = np.round(np.clip(y * 0.3 + rng.random(500) * 0.8, 0, 1), 2)  # with ties
    pred = score > 0.5
    b = M.binary_metrics(y, pred, score)
    assert b["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert b["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert b["f1"] == pytest.approx(skm.f1_score(y, pred))
    assert b["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    assert b["far"] == pytest.approx(fp / (fp + tn))
    assert b["roc_auc"] == pytest.approx(skm.roc_auc_score(y, score))
    names = np.array(["benign", "dos", "scan", "r2l"], dtype=object)
    t = names[rng.integers(0, 4, 300)]
    p = np.where(rng.random(300) < 0.7, t, names[rng.integers(0, 4, 300)])
    labels = ["benign", "dos", "r2l", "scan"]
    per = M.per_class(t, p, labels)
    pr, rc, f1, sup = skm.precision_recall_fscore_support(t, p, labels=labels, zero_division=0)
    for i, lab in enumerate(labels):
        assert per[lab]["precision"] == pytest.approx(pr[i])
        assert per[lab]["recall"] == pytest.approx(rc[i])
        assert per[lab]["f1"] == pytest.approx(f1[i])
        assert per[lab]["support"] == sup[i]
    assert M.confusion(t, p, labels)["matrix"] == skm.confusion_matrix(t, p, labels=labels).tolist()
    assert M.macro_f1(per) == pytest.approx(skm.f1_score(t, p, average="macro"))
    assert M.roc_auc(np.ones(3), np.arange(3)) is None


def test_choose_threshold_respects_false_alarm_budget() -> None:
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(1000), np.ones(1000)].astype(bool)
    s = np.r_[rng.normal(0.3, 0.15, 1000), rng.normal(0.7, 0.15, 1000)]
    thr = M.choose_threshold(y, s, max_far=0.01)
    assert ((s >= thr) & ~y).sum() / 1000 <= 0.01
    assert M.choose_threshold(y, s, max_far=0.5) < thr


@pytest.mark.parametrize("rule", ["f1", "recall"])
def test_choose_threshold_finds_the_best_of_all_thresholds(rule: str) -> None:
    """Against a brute force over every distinct score (ties and anomaly flags included):
    the chosen threshold uses the whole false-alarm budget where that pays."""
    rng = np.random.default_rng(4)  # a case where a 401-quantile grid missed the optimum
    n = 3000
    y = rng.random(n) < 0.7
    s = np.round(np.where(y, rng.beta(8, 1.5, n), rng.beta(1.5, 8, n)), 3)  # many ties
    extra = rng.random(n) < 0.002
    budget = 0.012
    flags = lambda t: (s >= t) | extra  # noqa: E731
    best = None
    for t in np.unique(s):
        f = flags(t)
        fp, tp = int((f & ~y).sum()), int((f & y).sum())
        if fp / (~y).sum() > budget:
            continue
        key = t if rule == "recall" else 2 * tp / (2 * tp + fp + int((~f & y).sum()))
        if best is None or (key < best[0] if rule == "recall" else key > best[0]):
            best = (key, f)
    thr = M.choose_threshold(y, s, max_far=budget, extra_flags=extra, rule=rule)
    assert np.array_equal(flags(thr), best[1])
    assert ((flags(thr) & ~y).sum()) / (~y).sum() <= budget
    # strictest when even the anomaly flags alone break the budget
    assert not (s >= M.choose_threshold(y, s, max_far=0.0, extra_flags=extra)).any()


# ------------------------------------------------------------------------------ network + bundles


@pytest.mark.slow
def test_tiny_hybrid_builds_and_fits() -> None:
    import keras

    from ids_desktop.core.model.network import build_hybrid, predict_batches

    keras.utils.set_random_seed(0)
    model = build_hybrid(4, 10, 3, filters=4)
    x = np.random.default_rng(0).random((64, 4, 10, 2)).astype("float32")
    y = np.random.default_rng(1).integers(0, 3, (64, 4))
    model.compile("adam", loss=["sparse_categorical_crossentropy", "mse"])
    hist = model.fit(x, [y, x[..., 0]], epochs=2, batch_size=32, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    probs, recon = predict_batches(model, x, batch=16)
    assert probs.shape == (64, 4, 3) and recon.shape == (64, 4, 10)
    assert np.allclose(probs.sum(-1), 1.0, atol=1e-5)
    assert not any(type(layer).__name__ == "Lambda" for layer in model.layers)


@pytest.mark.slow
def test_explainer_recomputes_quantile_copies_from_the_values_it_perturbs(tiny_bundle) -> None:
    """LIME perturbs each numeric value once; the model's quantile copy follows it."""
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.core.model.bundle import load_bundle

    out, meta, frame = tiny_bundle
    bundle = load_bundle(out)
    pre = bundle.preprocessor
    assert pre.quantile_levels and meta["n_inputs"] == pre.n_outputs
    explainer = BundleExplainer(bundle, frame, True, num_samples=200)
    x = bundle.features(frame, temporal=True)
    z = explainer.to_lime(x)
    one_hot = sum(len(c["values"]) for c in pre.categorical)
    assert z.shape[1] == pre.n_outputs - len(pre.numeric) - one_hot
    np.testing.assert_allclose(explainer.from_lime(z), x, atol=1e-6)
    # move one numeric value: its copy moves with it, monotonically, and nothing else does
    bumped = z.copy()
    bumped[:, 0] += 1.0
    back = explainer.from_lime(bumped)
    q0 = pre.n_outputs - len(pre.numeric)
    assert (back[:, q0] >= x[:, q0] - 1e-6).all() and (back[:, q0] > x[:, q0]).any()
    np.testing.assert_allclose(back[:, q0 + 1 :], x[:, q0 + 1 :], atol=1e-6)
    exp = explainer.explain_row(int(np.flatnonzero(frame["label_class"] != "benign")[0]))
    assert exp.by_feature and not any(name.endswith("__q") for name in exp.by_feature)


@pytest.mark.slow
def test_tampered_onnx_export_is_refused(tiny_bundle, tmp_path) -> None:
    from ids_desktop.core.model.bundle import load_bundle

    out, _, _ = tiny_bundle
    bad = tmp_path / "onnx"
    shutil.copytree(out, bad)
    with open(bad / "model.onnx", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="SHA-256"):
        load_bundle(bad)
    (bad / "model.onnx").unlink()
    with pytest.raises(ModelError, match="no verified ONNX export"):
        load_bundle(bad, backend="onnx")


@pytest.mark.slow
def test_tampered_bundles_are_refused(tiny_bundle, tmp_path) -> None:
    from ids_desktop.core.model.bundle import load_bundle

    out, _, _ = tiny_bundle
    bad_hash = tmp_path / "hash"
    shutil.copytree(out, bad_hash)
    with open(bad_hash / "model.keras", "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="SHA-256"):
        load_bundle(bad_hash)
    bad_feat = tmp_path / "feat"
    shutil.copytree(out, bad_feat)
    meta = json.loads((bad_feat / "metadata.json").read_text())
    meta["features"] = list(reversed(meta["features"]))
    (bad_feat / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="feature list"):
        load_bundle(bad_feat)
    with pytest.raises(ModelError, match="not a model bundle"):
        load_bundle(tmp_path)


def test_seed_changes_initial_weights() -> None:
    """The seed reaches the initialisers, so the identical-predictions check can fail."""
    from ids_desktop.core.model.network import build_hybrid

    w5 = build_hybrid(4, 10, 3, filters=4, seed=5).get_weights()
    w5b = build_hybrid(4, 10, 3, filters=4, seed=5).get_weights()
    w6 = build_hybrid(4, 10, 3, filters=4, seed=6).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(w5, w5b))
    assert not all(np.array_equal(x, y) for x, y in zip(w5, w6))


@pytest.mark.slow
def test_analyze_and_evaluate_return_exact_keys(tiny_bundle, tmp_path) -> None:
    from ids_desktop.core.ingest import write_flows
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis

    out, meta, frame = tiny_bundle
    models = out.parent

    def analyze(result: IngestResult, **options: object):  # type: ignore[no-untyped-def]
        path = write_flows(result, tmp_path / f"flows-{len(list(tmp_path.iterdir()))}.parquet")
        a = run_analysis(path, AnalysisOptions(**options), models_dir=models)  # type: ignore[arg-type]
        return a.summary, a.flows, a

    result = IngestResult(frame=frame, format="ton-iot", feature_format="ton-iot", temporal=True)
    summary, flows, analysis = analyze(result, model="tiny")
    assert set(summary) == SUMMARY_KEYS
    assert summary["flows"] == len(frame) and summary["temporal_context"] is True
    assert summary["flagged"] == int(flows["flagged"].sum())
    assert sum(summary["by_class"].values()) == summary["flagged"]
    assert list(flows.columns[-8:]) == [*PREDICTION_COLUMNS, "incident_id"]
    assert flows["pred_score"].between(0, 1).all()
    auto, _, _ = analyze(result)  # picked by feature format
    assert auto["model"] == "tiny"
    strict, _, strict_analysis = analyze(result, model=str(out), threshold=1.0)
    assert strict["flagged"] <= summary["flagged"]
    report = analysis.evaluation
    # the evaluation is at the bundle's own threshold, whatever the analysis's override
    assert strict_analysis.evaluation == report
    assert set(report) == EVAL_KEYS and set(report["binary"]) == BINARY_KEYS
    assert report["n"] == len(frame)
    assert set(report["confusion"]) == {"labels", "matrix"}
    for v in report["per_class"].values():
        assert set(v) == {"precision", "recall", "f1", "support"}
    # issue 34: only the file's and the model's classes; anomaly-only flags are not a class
    truth = set(frame["label_class"].dropna())
    assert set(report["per_class"]) <= truth | set(meta["classes"])
    assert "anomaly" not in report["per_class"]
    assert report["unusual"]["flagged"] == int((flows["pred_class"] == "anomaly").sum())
    flat = IngestResult(frame=frame, format="ton-iot", feature_format="ton-iot", temporal=False)
    assert analyze(flat, model="tiny")[0]["temporal_context"] is False
    no_model = analyze(IngestResult(frame, "x", "nsl-kdd", False))[2]
    assert no_model.run is None and "no model bundle" in no_model.note
    with pytest.raises(ModelError, match="no model bundle named"):
        analyze(result, model="no-such-bundle")


def test_import_of_analysis_does_not_load_tensorflow() -> None:
    import subprocess
    import sys

    code = ("import sys, ids_desktop.core.analysis; "
            "print('tensorflow' in sys.modules or 'keras' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"
