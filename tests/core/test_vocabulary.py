"""The shared dictionary of readable names."""

from __future__ import annotations

import pytest

from ids_desktop.core import vocabulary


@pytest.mark.parametrize(
    ("name", "label", "term"),
    [
        ("dst2src_rst_packets", "server → client RST packets", "server → client RST packets"),
        ("src2dst_syn_packets", "client → server SYN packets", "client → server SYN packets"),
        ("bidirectional_duration_ms", "duration (ms)", "duration"),
        ("src2dst_bytes", "client → server bytes", "client → server bytes"),
        ("dst2src_max_piat_ms", "server → client longest gap between packets (ms)",
         "server → client longest gap between packets"),
        ("ctx_gap", "gap since the host's previous flow (s)", "gap since the host's previous flow"),
        ("Flow Duration", "Flow Duration (µs)", "Flow Duration"),
        ("pred_score", "P(attack)", "P(attack)"),
        ("first_seen", "first seen (UTC)", "first seen (UTC)"),
        ("dst_port", "destination port", "destination port"),
    ],
)
def test_names_read_as_words_with_units(name: str, label: str, term: str) -> None:
    assert vocabulary.label(name) == label
    assert vocabulary.term(name) == term


def test_protocols_by_name() -> None:
    assert [vocabulary.protocol_name(p) for p in (6, 17, 1, "6", 250, None)] == [
        "TCP", "UDP", "ICMP", "TCP", "250", ""]
    assert vocabulary.value_text("protocol", "17") == "UDP"
    assert vocabulary.value_text("dst_port", "22") == "22"


def test_model_features_are_told_from_table_columns() -> None:
    assert vocabulary.is_model_feature("dst2src_rst_packets")
    assert not vocabulary.is_model_feature("src_ip")
    assert not vocabulary.is_model_feature("incident_id")


def test_every_column_of_an_analysed_capture_has_its_own_name(demo_analysis) -> None:  # type: ignore[no-untyped-def]
    columns = list(demo_analysis.flows.columns)
    assert "community_id" in columns and len(columns) > 80
    labels = [vocabulary.label(c) for c in columns]
    repeated = sorted({x for x in labels if labels.count(x) > 1})
    assert not repeated, repeated
    # words, not nfstream's identifiers
    assert not [x for x in labels if "src2dst" in x or "dst2src" in x or "bidirectional" in x]


def test_explanations_speak_the_vocabulary(demo_analysis) -> None:  # type: ignore[no-untyped-def]
    """A LIME condition reads "server → client RST packets ≥ 1", not "dst2src_rst_packets"."""
    from ids_desktop.core.explain.service import BundleExplainer

    flows = demo_analysis.flows
    row = int(flows.index[(flows["src_ip"] == "203.0.113.66") & flows["flagged"]][0])
    exp = BundleExplainer.for_analysis(demo_analysis, num_samples=600).explain_row(row)
    conditions = " ".join(c.condition for c in exp.contributions)
    assert "_" not in conditions, conditions
    feature_terms = {vocabulary.term(n) for n in flows.columns}
    assert any(c.feature in feature_terms for c in exp.contributions)
