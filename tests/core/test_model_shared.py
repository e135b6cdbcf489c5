"""evaluate()/analyze() with the committed bundles on every shared dataset file (skips without it)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
MODELS = Path(__file__).resolve().parents[2] / "models"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent"),
]

#: Shared file -> the bundle auto-selection must pick.
FILES = {
    "nsl_kdd/KDDTrain+_20Percent.txt": "nsl-kdd",
    "nsl_kdd/KDDTrain+_20Percent.arff": "nsl-kdd",
    "cic_ids2017/cic_ids2017_multiclass.csv.gz": "cic-ids2017",
    "unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz": "unsw-nb15",
    "ton_iot/train_test_network.dev80.csv.gz": "ton-iot",
}
BINARY_KEYS = {"precision", "recall", "f1", "accuracy", "far", "roc_auc"}


@pytest.fixture(scope="module")
def ingested():
    from ids_desktop.core.ingest import ingest

    cache: dict[str, object] = {}

    def get(rel: str):
        if rel not in cache:
            cache[rel] = ingest(SHARED / rel)
        return cache[rel]

    return get


@pytest.mark.parametrize("rel", sorted(FILES))
def test_evaluate_on_shared_file(rel, ingested) -> None:
    from ids_desktop.core.analysis import evaluate

    report = evaluate(ingested(rel), models_dir=MODELS)
    assert set(report) == {"model", "n", "binary", "per_class", "confusion"}
    assert report["model"] == FILES[rel]
    assert set(report["binary"]) == BINARY_KEYS
    assert report["n"] == len(ingested(rel).frame)
    labels = report["confusion"]["labels"]
    assert len(report["confusion"]["matrix"]) == len(labels)
    assert sum(map(sum, report["confusion"]["matrix"])) == report["n"]
    for v in report["per_class"].values():
        assert set(v) == {"precision", "recall", "f1", "support"}
    # The bundles saw (most of) these rows in training: they must separate them well. This
    # is a sanity floor, not the held-out result (that is in each MODEL_CARD.md).
    assert report["binary"]["roc_auc"] > 0.9


@pytest.mark.parametrize("rel", ["cic_ids2017/cic_ids2017_multiclass.csv.gz",
                                 "nsl_kdd/KDDTrain+_20Percent.txt"])
def test_analyze_on_shared_file(rel, ingested) -> None:
    from ids_desktop.core.analysis import analyze

    summary, flows = analyze(ingested(rel), models_dir=MODELS)
    assert set(summary) == {"format", "model", "flows", "flagged", "by_class",
                            "temporal_context", "seconds"}
    assert summary["temporal_context"] is False
    assert summary["flows"] == len(flows)
    assert list(flows.columns[-4:]) == ["pred_class", "pred_score", "anomaly_score", "flagged"]
    assert sum(summary["by_class"].values()) == summary["flagged"]


def test_evaluate_flows_equals_evaluate(ingested) -> None:
    """Reusing analyze's verdicts (GUI, analyze --report) gives evaluate's exact report."""
    from ids_desktop.core.analysis import analyze, evaluate, evaluate_flows

    result = ingested("nsl_kdd/KDDTrain+_20Percent.txt")
    summary, flows = analyze(result, models_dir=MODELS)
    assert evaluate_flows(result, flows, summary["model"]) == evaluate(result, models_dir=MODELS)


def test_bundles_load_and_list() -> None:
    from ids_desktop.core.model.bundle import list_bundles, load_bundle

    names = {b["name"] for b in list_bundles(MODELS)}
    assert names >= {"unsw-nb15", "cic-ids2017", "ton-iot", "nsl-kdd"}
    for name in names:
        bundle = load_bundle(MODELS / name)
        # The dataset tables carry no per-flow times; only the capture bundle has sequences.
        assert bundle.metadata["temporal_context"] is (bundle.feature_format == "pcap")
