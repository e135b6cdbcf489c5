"""Cells to canonical values: text, float64 features, ports, protocols, times, labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core import schema

__all__ = [
    "ReadStats",
    "as_epoch_seconds",
    "as_float",
    "as_int64",
    "as_numeric",
    "as_protocol",
    "as_text",
    "canonical_labels",
    "is_text",
]


@dataclass
class ReadStats:
    """What a read learned chunk by chunk, turned into warnings at the end."""

    nan: Counter[str] = field(default_factory=Counter)
    inf: Counter[str] = field(default_factory=Counter)
    bad: Counter[str] = field(default_factory=Counter)
    unknown_labels: Counter[str] = field(default_factory=Counter)
    bad_times: int = 0
    bad_ports: int = 0
    blank_rows: int = 0
    inconsistent_labels: int = 0

    def feature_warnings(self) -> list[str]:
        """One line per numeric feature that had NaN, infinite or non-numeric cells."""
        out = []
        for name in dict.fromkeys([*self.nan, *self.inf, *self.bad]):
            parts = []
            if self.nan[name]:
                parts.append(f"{self.nan[name]} NaN")
            if self.inf[name]:
                parts.append(f"{self.inf[name]} infinite")
            if self.bad[name]:
                parts.append(f"{self.bad[name]} non-numeric")
            if parts:
                joined = " and ".join(
                    [", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts
                )
                out.append(f"{name}: {joined} values set to missing")
        return out


def is_text(series: pd.Series) -> bool:
    """True unless ``series`` holds numbers or booleans (object and string columns are text)."""
    return not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    )


def as_text(series: pd.Series, tokens: tuple[str, ...] = ()) -> pd.Series:
    """Whitespace-stripped text (dtype ``str``); empty cells and ``tokens`` become missing."""
    if not is_text(series) and pd.api.types.is_float_dtype(series.dtype):
        # numbers in a text column (e.g. from Parquet): 46.0 reads "46", as the CSV would
        values = series.astype("float64")
        whole = values.notna() & (values == values.round())
        out = values.astype("str")
        if whole.any():
            out[whole] = values[whole].astype("int64").astype("str")
        series = out
    out = series.astype("str").str.strip()
    drop = out.eq("")
    if tokens:
        drop |= out.isin(tokens)
    return out.mask(drop.fillna(False))


def as_numeric(
    series: pd.Series, name: str, stats: ReadStats, tokens: tuple[str, ...] = ()
) -> np.ndarray:
    """float64 values; NaN, infinite and non-numeric cells become NaN and are counted.

    Cells equal to one of ``tokens`` (the format's own "missing" marker) become NaN uncounted.
    """
    if is_text(series):
        text = series.astype("str").str.strip()
        missing = (text.isna() | text.eq("") | text.str.lower().isin(("nan", "na"))).to_numpy(
            dtype=bool
        )
        skip = missing | (text.isin(tokens).to_numpy(dtype=bool) if tokens else False)
        values: np.ndarray = pd.to_numeric(text.mask(skip), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        bad = int((np.isnan(values) & ~skip).sum())
        nan = int(missing.sum())
    else:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        bad = 0
        nan = int(np.isnan(values).sum())
    inf = np.isinf(values)
    n_inf = int(inf.sum())
    if n_inf:
        values = values.copy()
        values[inf] = np.nan
    if nan:
        stats.nan[name] += nan
    if n_inf:
        stats.inf[name] += n_inf
    if bad:
        stats.bad[name] += bad
    return values


_MAX_INT = 2.0**53  # larger numbers are not exact in float64 and are no port or protocol


def _finite(values: pd.Series) -> pd.Series:
    """float64 values with infinite and absurdly large ones set to NaN."""
    numbers = pd.to_numeric(values, errors="coerce")
    out = pd.Series(numbers.to_numpy(dtype="float64", na_value=np.nan), index=values.index)
    return out.where(out.abs() < _MAX_INT)


def as_int64(series: pd.Series, stats: ReadStats | None = None) -> pd.Series:
    """Nullable Int64; text cells may be decimal or hex (``0x000b``)."""
    if not is_text(series):
        values = _finite(series)
        if stats is not None:
            stats.bad_ports += int((values.isna() & series.notna()).sum())
        return values.round().astype("Int64")
    text = series.astype("str").str.strip()
    values = _finite(text)
    hexed = text.str.lower().str.startswith("0x").fillna(False) & values.isna()
    if hexed.any():
        # the raw UNSW-NB15 files write a few ports in hex; a small subset, so a loop is fine
        values[hexed] = [_hex(v) for v in text[hexed]]
        values = values.where(values.abs() < _MAX_INT)
    if stats is not None:
        stats.bad_ports += int((values.isna() & text.notna() & ~text.isin(("-", ""))).sum())
    return values.round().astype("Int64")


def as_protocol(series: pd.Series) -> pd.Series:
    """IANA protocol numbers (:func:`schema.protocol_number`) with absurd numbers missing."""
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return schema.protocol_number(series.mask(np.abs(numbers) >= _MAX_INT))


def _hex(text: str) -> float:
    try:
        return float(int(text, 16))
    except ValueError:
        return float("nan")


def as_float(series: pd.Series) -> np.ndarray:
    """float64 values; cells that are not numbers and infinite ones become NaN (uncounted)."""
    values = pd.to_numeric(series, errors="coerce")
    if not isinstance(values, pd.Series):
        values = pd.Series(values)
    out = np.array(values.to_numpy(dtype="float64", na_value=np.nan), dtype="float64", copy=True)
    out[np.isinf(out)] = np.nan
    return out


def as_epoch_seconds(series: pd.Series, stats: ReadStats) -> np.ndarray:
    """Parse timestamps to UTC epoch seconds; day-first CIC styles, ISO 8601 or numbers."""
    out = np.full(len(series), np.nan)
    if not is_text(series):
        return _plausible_times(as_float(series), stats)
    text = series.astype("str").str.strip()
    present = text.notna().to_numpy(dtype=bool)
    numbers = _finite(text).to_numpy(dtype="float64", na_value=np.nan)
    done = ~np.isnan(numbers)
    out[done] = numbers[done]
    for fmt in (
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %I:%M:%S %p",
        "%d/%m/%Y %I:%M %p",
        "ISO8601",
    ):
        todo = present & np.isnan(out)
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce", utc=True)
        secs = (parsed - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
        out[todo] = secs.to_numpy(dtype="float64", na_value=np.nan)
    stats.bad_times += int((present & np.isnan(out)).sum())
    return _plausible_times(out, stats)


def _plausible_times(seconds: np.ndarray, stats: ReadStats) -> np.ndarray:
    """``seconds`` outside 1970-2261 (:data:`schema.MAX_EPOCH_S`) set to NaN, counted as bad."""
    seconds = np.asarray(seconds, dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ~np.isnan(seconds) & ~((seconds >= 0) & (seconds < schema.MAX_EPOCH_S))
    if bad.any():
        stats.bad_times += int(bad.sum())
        seconds = np.where(bad, np.nan, seconds)
    return seconds


def canonical_labels(
    original: pd.Series | None,
    binary: pd.Series | None,
    mapping: dict[str, str],
    stats: ReadStats,
    *,
    normalise: Callable[[pd.Series], pd.Series] | None = None,
) -> dict[str, Any]:
    """Canonical ``label_binary``, ``label_class`` and ``label_original`` from source labels."""
    cols: dict[str, Any] = {}
    source = original if original is not None else binary
    if source is None:
        return cols
    n = len(source)
    index = pd.RangeIndex(n)
    bin_values = None
    if binary is not None:
        bin_values = pd.to_numeric(
            binary.astype("str").str.strip() if is_text(binary) else binary, errors="coerce"
        )
        bin_values = bin_values.where(bin_values.isin([0, 1])).reset_index(drop=True)
    if original is not None:
        orig = as_text(original).reset_index(drop=True)
        key = orig.str.lower()
        if normalise is not None:
            key = normalise(key)
        cls = key.map(mapping)
        unknown = orig.notna() & cls.isna()
        if unknown.any():
            stats.unknown_labels.update(orig[unknown].value_counts().to_dict())
            cls = cls.mask(unknown, "attack")
    else:
        orig = pd.Series(pd.NA, index=index, dtype="string")
        cls = pd.Series(np.nan, index=index, dtype="object")
    derived = (cls != schema.BENIGN).astype("float64").where(cls.notna())
    if bin_values is None:
        bin_values = derived
    else:
        from_binary = bin_values.map({0: schema.BENIGN, 1: "attack"})
        cls = cls.where(cls.notna(), from_binary)
        stats.inconsistent_labels += int(
            ((bin_values == 0) & cls.notna() & (cls != schema.BENIGN)).sum()
            + ((bin_values == 1) & (cls == schema.BENIGN)).sum()
        )
        derived = (cls != schema.BENIGN).astype("float64").where(cls.notna())
        bin_values = bin_values.where(bin_values.notna(), derived)
    cols["label_binary"] = bin_values.round().astype("Int8")
    cols["label_class"] = cls.astype("string")
    cols["label_original"] = orig.astype("string")
    return cols
