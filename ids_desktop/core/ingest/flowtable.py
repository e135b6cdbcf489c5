"""The capture's flow table: flow tuples to typed chunks, then one table with stable flow ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

from ids_desktop.core import schema
from ids_desktop.core.ingest.community import community_ids

__all__ = [
    "CONVERT_ROWS",
    "NUMERIC_FEATURES",
    "NUM_FIELDS",
    "PACKETS_AT",
    "STRING_FEATURES",
    "STR_FIELDS",
    "SIDES",
    "TCP_FLAGS",
    "TUNNEL_AT",
    "VLAN_AT",
    "Chunk",
    "build_table",
    "capture_community_ids",
    "chunk_arrays",
    "flag_columns",
    "dedupe_ids",
    "rehash_id",
]

#: nfstream's flow directions and the TCP flags it counts packets of, in its column order.
SIDES: tuple[str, ...] = ("bidirectional", "src2dst", "dst2src")
TCP_FLAGS: tuple[str, ...] = ("syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin")


def flag_columns(flags: tuple[str, ...] = TCP_FLAGS) -> tuple[str, ...]:
    """nfstream's packet-count columns of ``flags`` in every direction, side by side."""
    return tuple(f"{side}_{flag}_packets" for side in SIDES for flag in flags)


#: nfstream flow attributes turned into float64 feature columns, under nfstream's names.
NUMERIC_FEATURES: tuple[str, ...] = (
    "expiration_id",
    "ip_version",
    "vlan_id",
    "tunnel_id",
    *(f"{side}_{stat}" for side in SIDES for stat in ("duration_ms", "packets", "bytes")),
    *(f"{side}_{stat}_ps" for side in SIDES for stat in ("min", "mean", "stddev", "max")),
    *(f"{side}_{stat}_piat_ms" for side in SIDES for stat in ("min", "mean", "stddev", "max")),
    *flag_columns(),
    "application_is_guessed",
    "application_confidence",
)

#: nDPI strings kept as str feature columns (empty strings become missing values).
STRING_FEATURES: tuple[str, ...] = (
    "application_category_name",
    "requested_server_name",
    "client_fingerprint",
    "server_fingerprint",
    "user_agent",
    "content_type",
)

#: Attributes read from each flow, the layout of the ``(numbers, strings)`` tuples a meter
#: sends: numbers (one float64 block) and strings. Left out on purpose: nfstream's ``id``
#: (arrival order, not stable), MAC addresses and OUIs, and the per-direction absolute
#: ``*_first_seen_ms``/``*_last_seen_ms`` timestamps.
NUM_FIELDS: tuple[str, ...] = (
    "src_port",
    "dst_port",
    "protocol",
    "bidirectional_first_seen_ms",
    "bidirectional_last_seen_ms",
    *NUMERIC_FEATURES,
)
STR_FIELDS: tuple[str, ...] = ("src_ip", "dst_ip", "application_name", *STRING_FEATURES)
#: Where ``bidirectional_packets`` sits in a flow's numbers (progress counts packets).
PACKETS_AT = NUM_FIELDS.index("bidirectional_packets")
_N_ID = 5  # leading identity numbers in NUM_FIELDS
#: Where the VLAN and tunnel ids sit in a flow's numbers (both are part of the flow key).
VLAN_AT = NUM_FIELDS.index("vlan_id")
TUNNEL_AT = NUM_FIELDS.index("tunnel_id")


@dataclass
class Chunk:
    """One chunk of flows: ids, a float64 block of numbers (a row per flow), string columns.

    ``text`` holds the canonical string arrays of :data:`STR_FIELDS` (nfstream's empty
    strings already missing values where the table wants that); ``community`` each flow's
    Community ID, hashed once here for both the live batches and the finished table.
    """

    ids: np.ndarray
    block: np.ndarray
    text: list[ExtensionArray]
    community: ExtensionArray

    def frame(self) -> pd.DataFrame:
        """This chunk as a canonical table, in arrival order (for ``on_flows``), with the
        columns :func:`build_table` gives the whole table."""
        frame = _assemble(self.ids, self.block.T, self.text)
        frame["community_id"] = self.community
        return frame


#: Flow tuples turned into numbers per numpy call. Such a call holds the GIL throughout
#: (a few ms per thousand rows), and the GUI thread must not wait long for it.
CONVERT_ROWS = 1_024


def chunk_arrays(nums: list[tuple[Any, ...]], strs: list[tuple[Any, ...]]) -> Chunk:
    """Turn flow tuples (:data:`NUM_FIELDS`, :data:`STR_FIELDS`) into arrays and ids."""
    n = len(nums)
    block = np.empty((n, len(NUM_FIELDS)), dtype=np.float64)
    for start in range(0, n, CONVERT_ROWS):
        block[start : start + CONVERT_ROWS] = nums[start : start + CONVERT_ROWS]
    text = [np.array(col, dtype=object) for col in zip(*strs)]
    # Damaged captures give absurd times (a pre-1970 packet becomes ~1.8e19 ms in nfstream's
    # unsigned arithmetic): clip before the int64 cast, which would otherwise be undefined.
    keys = np.nan_to_num(
        block[:, [0, 1, 2, 3, VLAN_AT, TUNNEL_AT]], nan=0.0, posinf=0.0, neginf=0.0
    )
    ints = np.clip(keys, -(2.0**62), 2.0**62).astype(np.int64).T.tolist()
    sport, dport, proto, first_ms, vlan, tunnel = ints
    ids = np.fromiter(
        map(_flow_hash, text[0], sport, text[1], dport, proto, vlan, tunnel, first_ms),
        dtype=np.int64,
        count=n,
    )
    # addresses as they are; application and the nDPI strings with "" as missing
    strings = [pd.array(text[0], dtype="string"), pd.array(text[1], dtype="string")]
    strings += [_strings(col) for col in text[2:]]
    sport, dport, proto = (pd.Series(block[:, i]) for i in range(3))
    community = _community_ids(pd.Series(strings[0]), pd.Series(strings[1]), proto, sport, dport)
    return Chunk(ids, block, strings, community.array)


def _strings(values: np.ndarray) -> ExtensionArray:
    """A string array with nfstream's empty strings as missing values."""
    values = values.copy()
    values[values == ""] = None
    return pd.array(values, dtype="string")


def _flow_hash(
    src_ip: str, src_port: int, dst_ip: str, dst_port: int, proto: int, vlan: int,
    tunnel: int, first_ms: int,
) -> int:  # fmt: skip
    """63-bit BLAKE2b of the flow key and its first-seen millisecond."""
    key = f"{src_ip}|{src_port}|{dst_ip}|{dst_port}|{proto}|{vlan}|{tunnel}|{first_ms}"
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> 1


def build_table(chunks: list[Chunk]) -> pd.DataFrame:
    """Join the chunks into one frame ordered by ``first_seen`` then ``flow_id``, conformed.

    A GUI thread waits for every numpy, pandas or Arrow call that holds the GIL, so with a
    million flows no step here is one such call over the whole table: ids are checked and
    rows ordered by sorting (numpy releases the GIL to sort numbers; hashing, as ``np.unique``
    and pandas do, holds it), the numbers are copied chunk by chunk into one row per field and
    each row is reordered on its own, and the strings are reordered in Arrow, which releases
    the GIL. The chunk list is emptied as the numbers are copied, so they exist about once.
    """
    ids = np.concatenate([c.ids for c in chunks]) if chunks else np.empty(0, dtype=np.int64)
    key = np.concatenate([c.block[:, 3] for c in chunks]) if chunks else np.empty(0)
    shared = schema.shared_ids(ids)
    if len(shared):
        ids = _rehash_shared(chunks, ids, shared)
        # the order such tables always had: by the table's first_seen, missing times last
        key = _epoch_seconds(key)
    order = np.lexsort((ids, key))  # first_seen, then flow_id
    text = [_take_strings([c.text[j] for c in chunks], order) for j in range(len(STR_FIELDS))]
    community = _take_strings([c.community for c in chunks], order)
    blocks = [c.block for c in chunks]
    chunks.clear()
    frame = schema.conform(_assemble(ids[order], _numbers_in_order(blocks, order), text))
    frame["community_id"] = community
    return frame


def capture_community_ids(frame: pd.DataFrame) -> pd.Series:
    """The Community ID of each capture flow (:mod:`ids_desktop.core.ingest.community`).

    nfstream's flow key has no ICMP type and code (its ports are 0 there), which the ICMP
    Community ID hashes, so ICMP and ICMPv6 flows get none rather than a wrong one.
    """
    return _community_ids(frame["src_ip"], frame["dst_ip"], frame["protocol"],
                          frame["src_port"], frame["dst_port"])


def _community_ids(src_ip: pd.Series, dst_ip: pd.Series, protocol: pd.Series,
                   src_port: pd.Series, dst_port: pd.Series) -> pd.Series:
    """:func:`capture_community_ids` of the columns (ICMP and ICMPv6 flows get none)."""
    icmp = protocol.isin([1, 58]).fillna(False).to_numpy(dtype=bool)
    return community_ids(src_ip, dst_ip, protocol, src_port.mask(icmp), dst_port.mask(icmp))


def _numbers_in_order(blocks: list[np.ndarray], order: np.ndarray) -> np.ndarray:
    """The chunks' number blocks joined as one row per field, columns reordered by ``order``.

    ``blocks`` is emptied as it is copied. Each field is reordered in place, through a
    temporary of one field: at most one copy of the numbers is alive.
    """
    cols = np.empty((len(NUM_FIELDS), len(order)), dtype=np.float64)
    at = 0
    while blocks:
        block = blocks.pop(0)
        cols[:, at : at + len(block)] = block.T
        at += len(block)
    for row in cols:
        row[:] = row[order]
    return cols


def _take_strings(parts: list[ExtensionArray], order: np.ndarray) -> ExtensionArray:
    """The string arrays ``parts`` joined and reordered by ``order``, as one string array."""
    joined = pa.chunked_array([pa.array(p) for p in parts], type=pa.large_string())
    return pd.array(joined.combine_chunks().take(order), dtype="string")


def _rehash_shared(chunks: list[Chunk], ids: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """``ids`` (the chunks' ids, joined) with the ``shared`` ones re-hashed (:func:`dedupe_ids`).

    Only the rows holding a shared id are built into a table; they keep their arrival order,
    which breaks ties in :func:`dedupe_ids` as it did when the whole table was passed.
    """
    rows = []
    for chunk in chunks:
        hit = np.isin(chunk.ids, shared)
        if hit.any():
            rows.append(_assemble(chunk.ids[hit], chunk.block[hit].T, [t[hit] for t in chunk.text]))
    part = pd.concat(rows, ignore_index=True)
    ordered = np.sort(ids)
    others = ordered[~np.isin(ordered, shared)]  # sorted: the ids held by one row each
    out: np.ndarray = ids.copy()
    out[np.isin(ids, shared)] = dedupe_ids(part, others)["flow_id"].to_numpy()
    return out


def _assemble(ids: np.ndarray, cols: np.ndarray, text: list[ExtensionArray]) -> pd.DataFrame:
    """Build the table in canonical column order with the canonical dtypes.

    ``cols`` holds the numbers of :data:`NUM_FIELDS`, one row per field; the feature rows
    become the frame's float64 block without a copy. ``text`` holds the canonical string
    arrays of :data:`STR_FIELDS`.
    """
    n = len(ids)
    ports = cols[:3].astype(np.int64)
    missing_text = pa.nulls(n, type=pa.large_string())
    head: dict[str, Any] = {
        "flow_id": ids,
        "src_ip": text[0],
        "src_port": pd.array(ports[0], dtype="Int64"),
        "dst_ip": text[1],
        "dst_port": pd.array(ports[1], dtype="Int64"),
        "protocol": pd.array(ports[2], dtype="Int64"),
        "first_seen": _epoch_seconds(cols[3]),
        "last_seen": _epoch_seconds(cols[4]),
        "application": text[2],
        "label_binary": pd.arrays.IntegerArray(np.zeros(n, dtype=np.int8), np.ones(n, dtype=bool)),
        "label_class": pd.array(missing_text, dtype="string"),
        "label_original": pd.array(missing_text, dtype="string"),
    }
    features = pd.DataFrame(cols[_N_ID:].T, columns=list(NUMERIC_FEATURES), copy=False)
    strings = pd.DataFrame(dict(zip(STRING_FEATURES, text[3:])))
    return pd.concat([pd.DataFrame(head), features, strings], axis=1)


def _epoch_seconds(ms: np.ndarray) -> np.ndarray:
    """Milliseconds to seconds; times before 1970 or after 2261 (damaged timestamps) -> NaN."""
    seconds = ms / 1000.0
    return np.where((seconds >= 0) & (seconds < schema.MAX_EPOCH_S), seconds, np.nan)


def dedupe_ids(frame: pd.DataFrame, others: np.ndarray | None = None) -> pd.DataFrame:
    """Re-hash ``flow_id`` values shared by several rows, in a stable order.

    Two flows share an id only when they share key and first-seen millisecond (or on a 63-bit
    hash collision). The rows are ordered by content; the first keeps its id and the k-th gets
    the hash of ``"<id>#k"`` (probing further while that is taken), so the ids do not depend on
    the order in which meters emitted the flows. ``others``, when given, are the sorted ids of
    rows outside ``frame``: taken as well.
    """
    ids = frame["flow_id"]
    dup = ids.duplicated(keep=False)
    if not dup.any():
        return frame
    order = [
        "flow_id", "first_seen", "last_seen", "bidirectional_packets", "bidirectional_bytes",
        "src2dst_packets", "src2dst_bytes", "src_ip", "src_port", "dst_ip", "dst_port",
    ]  # fmt: skip
    part = frame.loc[dup].sort_values(order, kind="mergesort")
    taken = set(ids[~dup].tolist())
    outside = np.empty(0, dtype=np.int64) if others is None else others

    def is_taken(value: int) -> bool:
        at = int(np.searchsorted(outside, value))
        return value in taken or (at < len(outside) and outside[at] == value)

    new_ids = []
    rank: dict[int, int] = {}
    for old in part["flow_id"].tolist():
        k = rank.get(old, 0)
        rank[old] = k + 1
        new = old if k == 0 else rehash_id(old, k)
        while is_taken(new):
            k += 1
            new = rehash_id(old, k)
        taken.add(new)
        new_ids.append(new)
    frame = frame.copy()
    frame.loc[part.index, "flow_id"] = np.asarray(new_ids, dtype=np.int64)
    return frame


def rehash_id(old: int, k: int) -> int:
    """The ``k``-th replacement for the shared flow id ``old``: 63 bits of BLAKE2b(``old#k``)."""
    data = f"{old}#{k}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") >> 1
