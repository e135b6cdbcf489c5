"""Conversations and endpoints of all traffic, flagged or not, as Wireshark's Statistics shows
them: bytes, packets and duration per host pair and per host, from the flow table."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: :func:`conversations`' columns.
CONVERSATION_COLUMNS = ("address_a", "address_b", "flows", "packets", "bytes", "bytes_a_to_b",
                        "bytes_b_to_a", "first_seen", "last_seen", "duration_s", "flagged_flows")
#: :func:`endpoints`' columns.
ENDPOINT_COLUMNS = ("address", "flows", "packets", "bytes", "tx_bytes", "rx_bytes", "peers",
                    "first_seen", "last_seen", "duration_s", "flagged_flows")


def _number(flows: pd.DataFrame, column: str) -> np.ndarray:
    """``column`` as float64 with missing as 0 (all zeros when the input has no such column)."""
    if column not in flows.columns:
        return np.zeros(len(flows))
    values = pd.to_numeric(flows[column], errors="coerce").fillna(0)
    return np.asarray(values, dtype=np.float64)


def _directional(flows: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Per flow, ``(source to destination, destination to source)`` of ``packets`` or ``bytes``;
    a table with only the two-way total counts it all as the source's."""
    fwd, back = _number(flows, f"src2dst_{what}"), _number(flows, f"dst2src_{what}")
    if f"src2dst_{what}" not in flows.columns:
        fwd = _number(flows, f"bidirectional_{what}")
    return fwd, back


def _base(flows: pd.DataFrame) -> pd.DataFrame:
    """The per-flow numbers both views sum: addresses, directional counts, times, flagged."""
    fwd_p, back_p = _directional(flows, "packets")
    fwd_b, back_b = _directional(flows, "bytes")
    first = _times(flows, "first_seen")
    last = _times(flows, "last_seen")
    flagged = (flows["flagged"].fillna(False).to_numpy(dtype=bool) if "flagged" in flows.columns
               else np.zeros(len(flows), dtype=bool))
    return pd.DataFrame({
        "src": flows["src_ip"].astype("string").to_numpy(dtype=object),
        "dst": flows["dst_ip"].astype("string").to_numpy(dtype=object),
        "fwd_p": fwd_p, "back_p": back_p, "fwd_b": fwd_b, "back_b": back_b,
        "first": first, "last": np.where(np.isnan(last), first, last),
        "flagged": flagged.astype(np.int64),
    }).dropna(subset=["src", "dst"])


def _times(flows: pd.DataFrame, column: str) -> np.ndarray:
    if column not in flows.columns:
        return np.full(len(flows), np.nan)
    return np.asarray(pd.to_numeric(flows[column], errors="coerce"), dtype=np.float64)


def _finish(out: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Integer counts, the duration, biggest first."""
    for column in ("flows", "packets", "bytes", "flagged_flows", "peers", "tx_bytes", "rx_bytes",
                   "bytes_a_to_b", "bytes_b_to_a"):
        if column in out.columns:
            out[column] = out[column].astype(np.int64)
    out["duration_s"] = (out["last_seen"] - out["first_seen"]).clip(lower=0)
    return (out.sort_values(["bytes", "flows"], ascending=False, kind="stable")
            .reset_index(drop=True)[list(columns)])


def conversations(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per pair of hosts that exchanged a flow (``address_a`` sorts before
    ``address_b``), biggest first: its flows, packets and bytes (in total and each way), its
    first and last time, duration (s) and flows the app flagged. Empty without addresses.
    """
    if not {"src_ip", "dst_ip"} <= set(flows.columns) or not len(flows):
        return pd.DataFrame(columns=list(CONVERSATION_COLUMNS))
    base = _base(flows)
    swap = base["src"].to_numpy(dtype=object) > base["dst"].to_numpy(dtype=object)
    frame = pd.DataFrame({
        "address_a": np.where(swap, base["dst"], base["src"]),
        "address_b": np.where(swap, base["src"], base["dst"]),
        "packets": base["fwd_p"] + base["back_p"],
        "bytes_a_to_b": np.where(swap, base["back_b"], base["fwd_b"]),
        "bytes_b_to_a": np.where(swap, base["fwd_b"], base["back_b"]),
        "first_seen": base["first"], "last_seen": base["last"], "flagged_flows": base["flagged"],
    })
    out = frame.groupby(["address_a", "address_b"], sort=False).agg(
        flows=("packets", "size"), packets=("packets", "sum"),
        bytes_a_to_b=("bytes_a_to_b", "sum"), bytes_b_to_a=("bytes_b_to_a", "sum"),
        first_seen=("first_seen", "min"), last_seen=("last_seen", "max"),
        flagged_flows=("flagged_flows", "sum"),
    ).reset_index()
    out["bytes"] = out["bytes_a_to_b"] + out["bytes_b_to_a"]
    return _finish(out, CONVERSATION_COLUMNS)


def endpoints(flows: pd.DataFrame) -> pd.DataFrame:
    """One row per host, biggest first: the flows it took part in, their packets and bytes,
    what it sent (``tx_bytes``) and received (``rx_bytes``), how many hosts it talked with,
    its first and last time, duration (s) and flows the app flagged. Empty without addresses.
    """
    if not {"src_ip", "dst_ip"} <= set(flows.columns) or not len(flows):
        return pd.DataFrame(columns=list(ENDPOINT_COLUMNS))
    base = _base(flows)
    loop = (base["src"] == base["dst"]).to_numpy(dtype=bool)  # a host talking to itself
    sides = []
    for host, peer, tx, rx, keep in (("src", "dst", "fwd_b", "back_b", np.ones(len(base), bool)),
                                     ("dst", "src", "back_b", "fwd_b", ~loop)):
        part = base[keep]
        sides.append(pd.DataFrame({
            "address": part[host], "peer": part[peer],
            "packets": part["fwd_p"] + part["back_p"], "tx_bytes": part[tx],
            "rx_bytes": part[rx], "first_seen": part["first"], "last_seen": part["last"],
            "flagged_flows": part["flagged"],
        }))
    both = pd.concat(sides, ignore_index=True)
    out = both.groupby("address", sort=False).agg(
        flows=("packets", "size"), packets=("packets", "sum"), tx_bytes=("tx_bytes", "sum"),
        rx_bytes=("rx_bytes", "sum"), peers=("peer", "nunique"),
        first_seen=("first_seen", "min"), last_seen=("last_seen", "max"),
        flagged_flows=("flagged_flows", "sum"),
    ).reset_index()
    out["bytes"] = out["tx_bytes"] + out["rx_bytes"]
    return _finish(out, ENDPOINT_COLUMNS)
