"""Flow facts the detectors share: failed connection attempts, services, windows of time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

TCP, UDP, ICMP, ICMP6 = 6, 17, 1, 58


class FlowView:
    """Plain numpy columns of a canonical flow table, read once for every detector.

    Attributes
    ----------
    n
        Flows.
    src, dst
        Addresses (object arrays of str; "" when missing).
    sport, dport, proto
        Ports and IP protocol (int64; -1 when missing).
    start, end
        First and last packet times (float64 seconds; NaN when missing).
    application, app
        nDPI's application name, and the same without its sub-protocol (``TLS`` for
        ``TLS.Google``).
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)
        self.src = _text(frame, "src_ip")
        self.dst = _text(frame, "dst_ip")
        self.sport = _ints(frame, "src_port")
        self.dport = _ints(frame, "dst_port")
        self.proto = _ints(frame, "protocol")
        self.start = floats(frame, "first_seen")
        self.end = floats(frame, "last_seen")
        self.application = _text(frame, "application")
        self.app = np.array([a.split(".", 1)[0] for a in self.application], dtype=object)
        self.s2d_packets = floats(frame, "src2dst_packets", 0.0)
        self.d2s_packets = floats(frame, "dst2src_packets", 0.0)
        self.s2d_bytes = floats(frame, "src2dst_bytes", 0.0)
        self.d2s_bytes = floats(frame, "dst2src_bytes", 0.0)
        self.packets = floats(frame, "bidirectional_packets", 0.0)
        self.bytes = floats(frame, "bidirectional_bytes", 0.0)
        self.duration_s = floats(frame, "bidirectional_duration_ms", 0.0) / 1000.0
        self.s2d_syn = floats(frame, "src2dst_syn_packets", 0.0)
        self.s2d_ack = floats(frame, "src2dst_ack_packets", 0.0)
        self.d2s_syn = floats(frame, "dst2src_syn_packets", 0.0)
        self.d2s_rst = floats(frame, "dst2src_rst_packets", 0.0)
        self.name = _text(frame, "requested_server_name")

    def failed_tcp(self) -> np.ndarray:
        """TCP attempts that never became a conversation, as Zeek's scan policy counts them:
        the target stayed silent, or it answered with a reset and no data flowed
        (``is_failed_conn``: states S0, REJ, and RSTO/RSTR without data)."""
        silent = self.d2s_packets == 0
        refused = (self.d2s_rst > 0) & (self.s2d_bytes + self.d2s_bytes <= self._headers())
        return np.asarray((self.proto == TCP) & (self.s2d_syn > 0) & (silent | refused), dtype=bool)

    def unanswered_udp(self) -> np.ndarray:
        return np.asarray((self.proto == UDP) & (self.d2s_packets == 0), dtype=bool)

    def half_open(self) -> np.ndarray:
        """TCP attempts whose client never completed the handshake: it sent a SYN and no ACK
        (a flood's spoofed or reset SYNs, even against an open port that answered)."""
        return np.asarray(
            (self.proto == TCP) & (self.s2d_syn > 0) & (self.s2d_ack == 0), dtype=bool
        )

    def answers_back(self) -> np.ndarray:
        """Flows from a host to a peer that had opened a flow to it first (an ICMP error or a
        reply keyed the other way round): ``src -> dst`` where ``dst -> src`` started earlier."""
        opened: dict[tuple[str, str], float] = {}
        for s, d, t in zip(self.src, self.dst, self.start, strict=True):
            if not np.isnan(t):
                opened[(s, d)] = min(opened.get((s, d), t), t)
        return np.array(
            [
                opened.get((d, s), np.inf) <= t + 1.0
                for s, d, t in zip(self.src, self.dst, self.start, strict=True)
            ],
            dtype=bool,
        )

    def _headers(self) -> np.ndarray:
        # IPv4 + TCP headers with options: no payload in a flow of this many bytes
        return self.packets * 80.0


def windows(times: np.ndarray, width: float) -> Iterator[tuple[int, int]]:
    """``(i, j)`` index ranges of ``times`` (sorted) that each start a window of ``width``
    seconds and are not inside the previous window: greedy, left to right."""
    i, n = 0, len(times)
    while i < n:
        j = int(np.searchsorted(times, times[i] + width, side="right"))
        yield i, j
        i = j


def densest_window(times: np.ndarray, keys: np.ndarray, width: float) -> tuple[int, int, int]:
    """The window of ``width`` seconds holding the most distinct ``keys`` (``times`` sorted):
    ``(start index, end index, distinct keys)``."""
    best = (0, 0, 0)
    n = len(times)
    counts: dict[object, int] = {}
    j = 0
    for i in range(n):
        while j < n and times[j] <= times[i] + width:
            counts[keys[j]] = counts.get(keys[j], 0) + 1
            j += 1
        if len(counts) > best[2]:
            best = (i, j, len(counts))
        k = keys[i]
        counts[k] -= 1
        if not counts[k]:
            del counts[k]
    return best


def top(values: np.ndarray, limit: int) -> list[Any]:
    """The most frequent values, most frequent first, at most ``limit``."""
    if len(values) == 0:
        return []
    uniq, counts = np.unique(values, return_counts=True)
    order = np.lexsort((uniq.astype(str), -counts))
    return [v.item() if hasattr(v, "item") else v for v in uniq[order][:limit]]


def _text(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    return np.asarray(frame[name].astype("string").fillna("").to_numpy(dtype=object))


def _ints(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(frame), -1, dtype=np.int64)
    return np.asarray(pd.to_numeric(frame[name], errors="coerce").fillna(-1), dtype=np.int64)


def floats(frame: pd.DataFrame, name: str, missing: float = np.nan) -> np.ndarray:
    """Column ``name`` of ``frame`` as float64, ``missing`` for cells that are not numbers and
    for every row when the column is absent."""
    if name not in frame.columns:
        return np.full(len(frame), missing, dtype=np.float64)
    return np.asarray(pd.to_numeric(frame[name], errors="coerce").fillna(missing), dtype=np.float64)
