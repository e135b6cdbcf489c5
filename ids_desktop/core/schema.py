"""The canonical flow table that every ingest path produces and every consumer reads.

One row is one flow. Columns come in three groups, in this order:

Identity (always present, possibly missing values when the source lacks them)
    ``flow_id``        int64, stable for the same input (captures: a hash of the 5-tuple and
                       first-seen time; tables: the 0-based data row in the file)
    ``src_ip``         str, or missing
    ``src_port``       Int64 (nullable)
    ``dst_ip``         str, or missing
    ``dst_port``       Int64 (nullable)
    ``protocol``       Int64 (nullable), IANA protocol number (6 TCP, 17 UDP, 1 ICMP, ...)
    ``first_seen``     float64, seconds since the Unix epoch (UTC), NaN when unknown
    ``last_seen``      float64, seconds since the Unix epoch (UTC), NaN when unknown
    ``application``    str, nDPI's application name for captures, the service for tables

Ground truth (present in every frame; missing values when the input is unlabelled)
    ``label_binary``   Int8 (nullable): 0 benign, 1 attack
    ``label_class``    str: one family from :data:`FAMILIES`, the same vocabulary across datasets
    ``label_original`` str: the label exactly as the source wrote it (stripped of whitespace)

Features
    Every other column: the source format's own features under its own (whitespace-stripped)
    names, numeric columns as float64 and categorical ones as str. IP addresses and absolute
    timestamps never appear among the features.

``validate_flows`` checks a frame against this contract before it reaches a model.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from ids_desktop.errors import SchemaError

#: Identity columns and their dtypes, in table order.
IDENTITY_DTYPES: dict[str, str] = {
    "flow_id": "int64",
    "src_ip": "string",
    "src_port": "Int64",
    "dst_ip": "string",
    "dst_port": "Int64",
    "protocol": "Int64",
    "first_seen": "float64",
    "last_seen": "float64",
    "application": "string",
}

#: Ground-truth columns and their dtypes.
LABEL_DTYPES: dict[str, str] = {
    "label_binary": "Int8",
    "label_class": "string",
    "label_original": "string",
}

IDENTITY_COLUMNS: tuple[str, ...] = tuple(IDENTITY_DTYPES)
LABEL_COLUMNS: tuple[str, ...] = tuple(LABEL_DTYPES)
RESERVED_COLUMNS: frozenset[str] = frozenset(IDENTITY_COLUMNS) | frozenset(LABEL_COLUMNS)

#: ``first_seen`` and ``last_seen`` lie in [0, MAX_EPOCH_S): from 1970 to before pandas'
#: datetime limit (April 2262). A time outside is damage that would break every date
#: formatting downstream (reports, the table view), so every ingest path leaves it missing.
MAX_EPOCH_S = 9.2e9

#: The attack-family vocabulary shared by all datasets. ``attack`` is used when a source
#: says only "attack" without a family (e.g. NSL-KDD's ARFF ``anomaly``).
BENIGN = "benign"
FAMILIES: tuple[str, ...] = (
    BENIGN,
    "dos",
    "ddos",
    "scan",
    "brute_force",
    "web_attack",
    "botnet",
    "infiltration",
    "exploit",
    "backdoor",
    "shellcode",
    "worm",
    "fuzzing",
    "generic",
    "analysis",
    "ransomware",
    "mitm",
    "r2l",
    "u2r",
    "attack",
)

PROTOCOL_NUMBERS: dict[str, int] = {
    "hopopt": 0,
    "icmp": 1,
    "igmp": 2,
    "ggp": 3,
    "ipv4": 4,
    "ip": 4,
    "st": 5,
    "tcp": 6,
    "egp": 8,
    "igp": 9,
    "udp": 17,
    "rdp": 27,
    "ipv6": 41,
    "ipv6-route": 43,
    "ipv6-frag": 44,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "ipv6-icmp": 58,
    "icmpv6": 58,
    "ipv6-nonxt": 59,
    "ipv6-opts": 60,
    "eigrp": 88,
    "ospf": 89,
    "pim": 103,
    "vrrp": 112,
    "l2tp": 115,
    "sctp": 132,
    "udplite": 136,
}


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """Return the feature columns of a canonical frame, in table order."""
    return [c for c in frame.columns if c not in RESERVED_COLUMNS]


def protocol_number(values: pd.Series) -> pd.Series:
    """Map protocol names ("tcp", "UDP") or numbers to IANA numbers as nullable Int64."""
    as_num = pd.to_numeric(values, errors="coerce")
    names = values.astype("string").str.strip().str.lower().map(PROTOCOL_NUMBERS)
    out = as_num.where(as_num.notna(), pd.to_numeric(names, errors="coerce"))
    return out.round().astype("Int64")


def empty_identity(n: int, start_id: int = 0) -> pd.DataFrame:
    """An identity + label block of ``n`` rows with every value missing, ids from ``start_id``."""
    data: dict[str, pd.Series] = {}
    index = pd.RangeIndex(n)
    for name, dtype in {**IDENTITY_DTYPES, **LABEL_DTYPES}.items():
        if name == "flow_id":
            data[name] = pd.Series(np.arange(start_id, start_id + n, dtype="int64"), index=index)
        else:
            missing = pd.NA if dtype != "float64" else np.nan
            data[name] = pd.Series(missing, index=index, dtype=dtype)
    return pd.DataFrame(data, index=index)


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Order columns identity, labels, features and cast the reserved columns to their dtypes."""
    missing = [c for c in (*IDENTITY_COLUMNS, *LABEL_COLUMNS) if c not in frame.columns]
    if missing:
        raise SchemaError(f"canonical frame lacks columns: {', '.join(missing)}")
    out = frame.copy() if not frame.index.equals(pd.RangeIndex(len(frame))) else frame
    for name, dtype in {**IDENTITY_DTYPES, **LABEL_DTYPES}.items():
        if str(out[name].dtype) != dtype:
            if dtype in ("Int64", "Int8"):
                out[name] = pd.to_numeric(out[name], errors="coerce").round().astype(dtype)
            else:
                out[name] = out[name].astype(dtype)
    order = [*IDENTITY_COLUMNS, *LABEL_COLUMNS, *feature_columns(out)]
    return out[order].reset_index(drop=True)


def shared_ids(ids: np.ndarray) -> np.ndarray:
    """The ``flow_id`` values held by more than one row, sorted.

    Found by sorting, not hashing as ``Series.is_unique`` does: numpy sorts numbers without
    holding the GIL, so a GUI thread keeps running while a million ids are checked.
    """
    ordered = np.sort(ids)
    return np.unique(ordered[1:][ordered[1:] == ordered[:-1]])


def validate_flows(frame: pd.DataFrame, required_features: Iterable[str] = ()) -> None:
    """Raise :class:`SchemaError` unless ``frame`` follows the canonical contract.

    Parameters
    ----------
    frame
        A canonical flow table.
    required_features
        Feature columns a consumer (a model bundle) needs; each missing one is named.
    """
    for name, dtype in {**IDENTITY_DTYPES, **LABEL_DTYPES}.items():
        if name not in frame.columns:
            raise SchemaError(f"column '{name}' missing from the flow table")
        if str(frame[name].dtype) != dtype:
            raise SchemaError(f"column '{name}' has dtype {frame[name].dtype}, expected {dtype}")
    if len(shared_ids(frame["flow_id"].to_numpy())):
        raise SchemaError("flow_id values are not unique")
    labels = frame["label_binary"].dropna()
    if not labels.isin([0, 1]).all():
        raise SchemaError("label_binary holds values other than 0 and 1")
    classes = frame["label_class"].dropna()
    unknown = sorted(set(classes.unique()) - set(FAMILIES))
    if unknown:
        raise SchemaError(f"label_class holds values outside the family vocabulary: {unknown[:5]}")
    missing = [c for c in required_features if c not in frame.columns]
    if missing:
        shown = ", ".join(f"'{c}'" for c in missing[:8])
        more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
        raise SchemaError(f"the flow table lacks feature columns {shown}{more}")
