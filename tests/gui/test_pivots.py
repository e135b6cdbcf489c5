"""Pivot terms in the search box: exact hosts, ports and incidents, ANDed, visible and clearable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ids_desktop.gui.pivots import cell_term, parse, pivot_mask, term_text


def flows() -> pd.DataFrame:
    return pd.DataFrame({
        "src_ip": pd.array(["10.0.0.1", "10.0.0.10", "10.0.0.2", None], dtype="string"),
        "dst_ip": pd.array(["10.0.0.2", "10.0.0.1", "10.0.0.3", "10.0.0.1"], dtype="string"),
        "src_port": [5000, 22, 5001, 0], "dst_port": [22, 5000, 53, 0],
        "application": pd.array(["SSH", "SSH", "DNS Google", None], dtype="string"),
        "pred_score": [0.25, 0.5, 0.75, np.nan],
        "incident_id": pd.array(["INC-a", "INC-a", None, None], dtype="string"),
    })


def test_a_host_is_an_exact_address_at_either_end() -> None:
    text, terms = parse("host:10.0.0.1", flows().columns)
    assert (text, terms) == ("", [("host", "10.0.0.1")])
    # 10.0.0.10 contains "10.0.0.1" as text but is another host
    assert pivot_mask(flows(), terms).tolist() == [True, True, False, True]


def test_terms_combine_with_and_and_the_rest_stays_a_search() -> None:
    text, terms = parse('dns port:53 src:10.0.0.2', flows().columns)
    assert text == "dns" and terms == [("port", "53"), ("src", "10.0.0.2")]
    assert pivot_mask(flows(), terms).tolist() == [False, False, True, False]
    assert pivot_mask(flows(), [("incident", "INC-a"), ("dport", "22")]).tolist() == [
        True, False, False, False]
    assert pivot_mask(flows(), []) is None


def test_any_column_by_name_quoted_values_and_numbers() -> None:
    term = cell_term("application", "DNS Google")
    assert term == ("application", "DNS Google")
    text = term_text(*term)
    assert text == "application:'DNS Google'"
    assert parse(text, flows().columns) == ("", [term])
    assert pivot_mask(flows(), [term]).tolist() == [False, False, True, False]
    score = cell_term("pred_score", 0.75)
    assert pivot_mask(flows(), [score]).tolist() == [False, False, True, False]
    assert cell_term("src_port", 5000.0) == ("port", "5000")
    assert cell_term("pred_score", float("nan")) is None


@pytest.mark.parametrize("text", ["fe80::1", "nohost:1.2.3.4", 'unclosed "quote'])
def test_words_that_are_not_terms_stay_plain_text(text: str) -> None:
    free, terms = parse(text, flows().columns)
    assert terms == [] and free.replace('"', "") == text.replace('"', "")


def test_a_term_on_a_column_the_table_lacks_matches_nothing() -> None:
    assert not pivot_mask(flows().drop(columns="incident_id"), [("incident", "INC-a")]).any()
