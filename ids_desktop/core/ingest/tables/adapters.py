"""Per-dataset adapters: one chunk of a CIC, UNSW, ToN-IoT or NSL-KDD table to canonical rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core import schema
from ids_desktop.core.ingest.tables.columns import (
    ReadStats,
    as_epoch_seconds,
    as_float,
    as_int64,
    as_numeric,
    as_protocol,
    as_text,
    canonical_labels,
)
from ids_desktop.core.ingest.tables.formats import (
    CIC_CLEANED_LABELS,
    CIC_LABELS,
    KDD_LABEL_ALIASES,
    NSL_LABELS,
    TON_LABELS,
    UNSW_LABELS,
    TableFormat,
)

__all__ = ["convert_chunk"]


def _web_attack(key: pd.Series) -> pd.Series:
    return key.mask(key.str.startswith("web attack").fillna(False), "web attack")


def _kdd_key(key: pd.Series) -> pd.Series:
    return key.str.rstrip(".")


# ---------------------------------------------------------------------------------------------
# Per-format adapters: identity and labels from a chunk with canonical column names
# ---------------------------------------------------------------------------------------------


def _col(chunk: pd.DataFrame, name: str) -> pd.Series | None:
    return chunk[name] if name in chunk.columns else None


def _adapt_cic(chunk: pd.DataFrame, spec: TableFormat, stats: ReadStats) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if "Destination Port" in chunk:
        cols["dst_port"] = as_int64(chunk["Destination Port"], stats)
    if spec.name == "cic-ids2017-traffic":
        cols["src_ip"] = as_text(chunk["Source IP"]).astype("string")
        cols["dst_ip"] = as_text(chunk["Destination IP"]).astype("string")
        cols["src_port"] = as_int64(chunk["Source Port"], stats)
        cols["protocol"] = as_protocol(chunk["Protocol"])
        first = as_epoch_seconds(chunk["Timestamp"], stats)
        cols["first_seen"] = first
        if "Flow Duration" in chunk:  # microseconds
            duration = as_float(chunk["Flow Duration"])
            duration[duration < 0] = np.nan
            cols["last_seen"] = first + duration / 1e6
    if spec.name == "cic-ids2017-cleaned":
        cols.update(canonical_labels(_col(chunk, "Attack Type"), None, CIC_CLEANED_LABELS, stats))
    else:
        cols.update(
            canonical_labels(_col(chunk, "Label"), None, CIC_LABELS, stats, normalise=_web_attack)
        )
    return cols


def _adapt_unsw(chunk: pd.DataFrame, spec: TableFormat, stats: ReadStats) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "protocol": as_protocol(chunk["proto"]),
        "application": as_text(chunk["service"], ("-",)).astype("string"),
    }
    binary_name = "label"
    if spec.name == "unsw-nb15-raw":
        binary_name = "Label"
        cols["src_ip"] = as_text(chunk["srcip"]).astype("string")
        cols["dst_ip"] = as_text(chunk["dstip"]).astype("string")
        cols["src_port"] = as_int64(chunk["sport"], stats)
        cols["dst_port"] = as_int64(chunk["dsport"], stats)
        cols["first_seen"] = as_float(chunk["Stime"])
        cols["last_seen"] = as_float(chunk["Ltime"])
    original = _col(chunk, "attack_cat")
    binary = _col(chunk, binary_name)
    if original is not None and binary is not None:
        original = as_text(original)
        normal = original.isna() & (pd.to_numeric(binary, errors="coerce") == 0)
        original = original.mask(normal, "Normal")
    cols.update(canonical_labels(original, binary, UNSW_LABELS, stats))
    return cols


def _adapt_ton(chunk: pd.DataFrame, spec: TableFormat, stats: ReadStats) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "src_ip": as_text(chunk["src_ip"], ("-",)).astype("string"),
        "dst_ip": as_text(chunk["dst_ip"], ("-",)).astype("string"),
        "src_port": as_int64(chunk["src_port"], stats),
        "dst_port": as_int64(chunk["dst_port"], stats),
        "protocol": as_protocol(chunk["proto"]),
        "application": as_text(chunk["service"], ("-",)).astype("string"),
    }
    if "ts" in chunk:
        first = as_epoch_seconds(chunk["ts"], stats)
        cols["first_seen"] = first
        if "duration" in chunk:
            duration = as_float(chunk["duration"])
            duration[duration < 0] = np.nan
            cols["last_seen"] = first + duration
    cols.update(canonical_labels(_col(chunk, "type"), _col(chunk, "label"), TON_LABELS, stats))
    return cols


def _adapt_kdd(chunk: pd.DataFrame, spec: TableFormat, stats: ReadStats) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "protocol": as_protocol(chunk["protocol_type"]),
        "application": as_text(chunk["service"]).astype("string"),
    }
    label = None
    for name in (*spec.label_columns, *KDD_LABEL_ALIASES):
        if name in chunk:
            label = chunk[name]
            break
    cols.update(canonical_labels(label, None, NSL_LABELS, stats, normalise=_kdd_key))
    return cols


_ADAPTERS: dict[str, Callable[[pd.DataFrame, TableFormat, ReadStats], dict[str, Any]]] = {
    "cic-ids2017": _adapt_cic,
    "cic-ids2017-traffic": _adapt_cic,
    "cic-ids2017-cleaned": _adapt_cic,
    "unsw-nb15": _adapt_unsw,
    "unsw-nb15-raw": _adapt_unsw,
    "ton-iot": _adapt_ton,
    "nsl-kdd": _adapt_kdd,
    "nsl-kdd-arff": _adapt_kdd,
}


def convert_chunk(
    chunk: pd.DataFrame, spec: TableFormat, start: int, stats: ReadStats
) -> pd.DataFrame:
    """Turn one chunk (canonical source names) into canonical rows, flow ids from ``start``.

    Rows with no value at all are skipped (and counted); the others keep their data row number
    as ``flow_id``.
    """
    chunk = chunk.reset_index(drop=True)
    ids = np.arange(start, start + len(chunk), dtype="int64")
    if len(chunk.columns) and len(chunk):
        blank = chunk.isna().all(axis=1).to_numpy(dtype=bool)
        if blank.any():
            stats.blank_rows += int(blank.sum())
            chunk = chunk.loc[~blank].reset_index(drop=True)
            ids = ids[~blank]
    if spec.renames:
        chunk = chunk.rename(columns=spec.renames)
    n = len(chunk)
    base = schema.empty_identity(n)
    data: dict[str, Any] = {c: base[c] for c in base.columns}
    data["flow_id"] = pd.Series(ids, dtype="int64")
    for name, values in _ADAPTERS[spec.name](chunk, spec, stats).items():
        dtype = {**schema.IDENTITY_DTYPES, **schema.LABEL_DTYPES}[name]
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        data[name] = series.reset_index(drop=True).astype(dtype)
    categorical = set(spec.categorical)
    for name in spec.features:
        if name not in chunk.columns:
            continue
        if name in categorical:
            data[name] = as_text(chunk[name], spec.missing_tokens).reset_index(drop=True)
        else:
            data[name] = pd.Series(
                as_numeric(chunk[name], name, stats, spec.missing_tokens), dtype="float64"
            )
    return pd.DataFrame(data, index=pd.RangeIndex(n))
