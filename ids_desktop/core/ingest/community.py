"""Community ID v1 of flows (github.com/corelight/community-id-spec), a whole column at once.

The Community ID is the flow hash Zeek, Suricata, Arkime and Elastic share: a SIEM joins our
alerts to their records on it. The ``communityid`` package is the reference implementation,
but it parses the addresses and packs the tuple in Python for every flow (34 µs a flow: half
a minute for a million flows). Here the addresses are parsed once per distinct address, the
endpoints ordered and the hashed bytes packed with numpy, and only SHA-1 and base64 run per
flow (~2 µs). Tuples the column path does not cover (a protocol without ports, an ICMP type
and code) go to the package itself. ``tests/core/ingest/test_community.py`` checks the column
against the spec's published vectors and against the package on random tuples.
"""

from __future__ import annotations

import base64
import hashlib
import socket

import numpy as np
import pandas as pd

__all__ = ["PORT_PROTOCOLS", "community_ids"]

#: Protocols whose two 16-bit ports enter the hash as they are (TCP, UDP, SCTP). ICMP and
#: ICMPv6 carry a type and code in their place, mapped by the spec: the package does those.
PORT_PROTOCOLS = (6, 17, 132)
_ICMP = (1, 58)


def _packed(addresses: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codes, bytes, v6)``: each row's code into the distinct addresses (-1 when missing or
    not an address), their 16-byte big-endian form (IPv4 in the last 4) and which are IPv6."""
    codes, uniques = pd.factorize(addresses, use_na_sentinel=True)
    raw = np.zeros((len(uniques) + 1, 16), dtype=np.uint8)  # the last row: missing
    v6 = np.zeros(len(uniques) + 1, dtype=bool)
    bad = np.zeros(len(uniques) + 1, dtype=bool)
    bad[-1] = True
    pton, inet, inet6 = socket.inet_pton, socket.AF_INET, socket.AF_INET6
    for i, text in enumerate(np.asarray(uniques, dtype=object).tolist()):
        text = str(text).strip().split("%", 1)[0]  # a zone ("fe80::1%eth0") is not hashed
        try:
            raw[i, 12:] = np.frombuffer(pton(inet, text), dtype=np.uint8)
        except OSError:
            try:
                raw[i] = np.frombuffer(pton(inet6, text), dtype=np.uint8)
                v6[i] = True
            except OSError:
                bad[i] = True
    codes = np.where(codes < 0, len(uniques), codes)
    codes = np.where(bad[codes], -1, codes)
    return codes, raw, v6


def _less(a: np.ndarray, a_port: np.ndarray, b: np.ndarray, b_port: np.ndarray) -> np.ndarray:
    """Per row, whether endpoint ``a`` sorts before ``b`` (address bytes, then port)."""
    differs = a != b
    first = np.argmax(differs, axis=1)
    rows = np.arange(len(a))
    any_diff = differs.any(axis=1)
    by_addr = a[rows, first] < b[rows, first]
    result: np.ndarray = np.where(any_diff, by_addr, a_port < b_port)
    return result


def community_ids(
    src_ip: pd.Series,
    dst_ip: pd.Series,
    protocol: pd.Series,
    src_port: pd.Series,
    dst_port: pd.Series,
    *,
    seed: int = 0,
) -> pd.Series:
    """The Community ID v1 (``"1:<base64 SHA-1>"``) of every flow, missing where it is undefined.

    Parameters
    ----------
    src_ip, dst_ip
        Addresses as text (IPv4 or IPv6).
    protocol
        IANA protocol numbers.
    src_port, dst_port
        Ports; for ICMP and ICMPv6 the message type and code (the spec's mapping applies).
        Missing for a protocol with ports leaves that flow's ID missing.
    seed
        The Community ID seed (0 unless every tool in the deployment uses another).
    """
    n = len(src_ip)
    index = src_ip.index
    out = np.full(n, None, dtype=object)
    if n == 0:
        return pd.Series(out, index=index, dtype="string")
    src_codes, src_raw, src_v6 = _packed(src_ip)
    dst_codes, dst_raw, dst_v6 = _packed(dst_ip)
    proto = pd.to_numeric(protocol, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    sport = pd.to_numeric(src_port, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    dport = pd.to_numeric(dst_port, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    known = (src_codes >= 0) & (dst_codes >= 0) & np.isfinite(proto) & (proto >= 0) & (proto < 256)
    known &= src_v6[src_codes] == dst_v6[dst_codes]
    has_ports = np.isin(proto, PORT_PROTOCOLS)
    ports_ok = (np.isfinite(sport) & np.isfinite(dport) & (sport >= 0) & (sport < 65536)
                & (dport >= 0) & (dport < 65536))
    fast = known & has_ports & ports_ok
    seed_bytes = int(seed).to_bytes(2, "big")
    for v6 in (False, True):
        rows = np.flatnonzero(fast & (src_v6[src_codes] == v6))
        if not len(rows):
            continue
        width = 16 if v6 else 4
        a = src_raw[src_codes[rows], 16 - width :]
        b = dst_raw[dst_codes[rows], 16 - width :]
        pa, pb = sport[rows].astype(np.uint16), dport[rows].astype(np.uint16)
        keep = _less(a, pa, b, pb) | ((a == b).all(axis=1) & (pa == pb))
        first = np.where(keep[:, None], a, b)
        second = np.where(keep[:, None], b, a)
        p1, p2 = np.where(keep, pa, pb), np.where(keep, pb, pa)
        msg = np.empty((len(rows), 2 + 2 * width + 2 + 4), dtype=np.uint8)
        msg[:, :2] = np.frombuffer(seed_bytes, dtype=np.uint8)
        msg[:, 2 : 2 + width] = first
        msg[:, 2 + width : 2 + 2 * width] = second
        msg[:, 2 + 2 * width] = proto[rows].astype(np.uint8)
        msg[:, 3 + 2 * width] = 0
        msg[:, 4 + 2 * width :] = np.stack([p1, p2], axis=1).astype(">u2").view(np.uint8)
        data = msg.tobytes()
        step = msg.shape[1]
        sha1, b64 = hashlib.sha1, base64.b64encode
        out[rows] = [
            "1:" + b64(sha1(data[i : i + step]).digest()).decode("ascii")
            for i in range(0, len(data), step)
        ]
    # the rest (ICMP type/code, protocols without ports) through the reference package
    slow = np.flatnonzero(known & ~has_ports & (~np.isin(proto, _ICMP) | ports_ok))
    if len(slow):
        import communityid

        algo = communityid.CommunityID(seed=int(seed))
        src_text, dst_text = src_ip.to_numpy(dtype=object), dst_ip.to_numpy(dtype=object)
        for i in slow:
            p = int(proto[i])
            if p in _ICMP:
                tpl = communityid.FlowTuple(p, str(src_text[i]).strip(), str(dst_text[i]).strip(),
                                            int(sport[i]), int(dport[i]))
            else:
                tpl = communityid.FlowTuple(p, str(src_text[i]).strip(), str(dst_text[i]).strip())
            out[i] = algo.calc(tpl)
    return pd.Series(out, index=index, dtype="string")
