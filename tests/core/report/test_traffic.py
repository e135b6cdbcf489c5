"""Conversations and endpoints: per host pair and per host, both directions, all traffic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ids_desktop.core.report.traffic import (
    CONVERSATION_COLUMNS,
    ENDPOINT_COLUMNS,
    conversations,
    endpoints,
)


def flows() -> pd.DataFrame:
    """Three hosts: A talks to B twice (once each way round), B to C once (flagged)."""
    return pd.DataFrame({
        "src_ip": ["10.0.0.1", "10.0.0.2", "10.0.0.2"],
        "dst_ip": ["10.0.0.2", "10.0.0.1", "10.0.0.3"],
        "src2dst_packets": [3, 2, 1], "dst2src_packets": [2, 1, 0],
        "src2dst_bytes": [300, 200, 60], "dst2src_bytes": [1000, 100, 0],
        "bidirectional_packets": [5, 3, 1], "bidirectional_bytes": [1300, 300, 60],
        "first_seen": [10.0, 20.0, 15.0], "last_seen": [12.0, 30.0, 15.5],
        "flagged": [False, False, True],
    })


def test_a_pair_is_one_conversation_whichever_side_started() -> None:
    out = conversations(flows())
    assert tuple(out.columns) == CONVERSATION_COLUMNS
    assert out[["address_a", "address_b"]].values.tolist() == [
        ["10.0.0.1", "10.0.0.2"], ["10.0.0.2", "10.0.0.3"]]
    ab = out.iloc[0]
    assert (ab["flows"], ab["packets"], ab["bytes"]) == (2, 8, 1600)
    # A sent 300 in the first flow and 100 (the answer) in the second
    assert (ab["bytes_a_to_b"], ab["bytes_b_to_a"]) == (400, 1200)
    assert (ab["first_seen"], ab["last_seen"], ab["duration_s"]) == (10.0, 30.0, 20.0)
    assert ab["flagged_flows"] == 0 and out.iloc[1]["flagged_flows"] == 1


def test_endpoints_count_what_each_host_sent_and_received() -> None:
    out = endpoints(flows()).set_index("address")
    assert tuple(out.reset_index().columns) == ENDPOINT_COLUMNS
    b = out.loc["10.0.0.2"]
    assert (b["flows"], b["peers"], b["packets"]) == (3, 2, 9)
    assert (b["tx_bytes"], b["rx_bytes"]) == (1000 + 200 + 60, 300 + 100)
    assert b["bytes"] == 1660 and b["flagged_flows"] == 1
    assert out.loc["10.0.0.3", "duration_s"] == 0.5
    assert list(out.index) == ["10.0.0.2", "10.0.0.1", "10.0.0.3"]  # biggest first


def test_tables_without_directions_or_addresses() -> None:
    frame = flows().drop(columns=["src2dst_bytes", "dst2src_bytes", "src2dst_packets",
                                  "dst2src_packets"])
    out = conversations(frame)
    assert out.iloc[0]["bytes"] == 1600 and out.iloc[0]["packets"] == 8
    assert conversations(frame.drop(columns="src_ip")).empty
    assert endpoints(frame.iloc[:0]).columns.tolist() == list(ENDPOINT_COLUMNS)


def test_a_host_talking_to_itself_counts_once() -> None:
    frame = flows().iloc[:1].assign(dst_ip="10.0.0.1", first_seen=np.nan)
    out = endpoints(frame)
    assert out["flows"].tolist() == [1] and out["bytes"].tolist() == [1300]
