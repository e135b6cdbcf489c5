"""Pivots: ``key:value`` terms in the flows' search box that keep exact matches (no Qt).

Double-clicking a host, a port or an incident anywhere in the tab writes a term such as
``host:203.0.113.66`` into the filter bar's search box, where the analyst sees it and can clear
it. The terms:

- ``host:``, ``src:``, ``dst:`` an address (either end, the source, the destination);
- ``port:``, ``sport:``, ``dport:`` a port (either end, source, destination);
- ``incident:`` an incident's id; ``class:`` a predicted class;
- ``<column>:`` any column of the flow table, by its name (what "Filter by this value" writes).

Terms are combined with AND; the other words of the box stay a substring search. Values with
spaces are quoted (``application:"TLS Google"``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

#: Pivot keys and the columns each one looks in (a row matches when any of them equals).
KEYS: dict[str, tuple[str, ...]] = {
    "host": ("src_ip", "dst_ip"),
    "src": ("src_ip",),
    "dst": ("dst_ip",),
    "port": ("src_port", "dst_port"),
    "sport": ("src_port",),
    "dport": ("dst_port",),
    "incident": ("incident_id",),
    "class": ("pred_class",),
}
#: The key a cell of these columns pivots with.
COLUMN_KEYS = {"src_ip": "host", "dst_ip": "host", "src_port": "port", "dst_port": "port",
               "incident_id": "incident", "pred_class": "class"}

Term = tuple[str, str]


def term_text(key: str, value: Any) -> str:
    """The search-box text of one term (quoted when the value needs it)."""
    text = _value_text(value)
    if not text or any(c.isspace() or c in "\"'" for c in text):
        text = shlex.quote(text)
    return f"{key}:{text}"


def cell_term(column: str, value: Any) -> Term | None:
    """The pivot term of one cell of the flow table; ``None`` for an empty cell."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return COLUMN_KEYS.get(column, column), _value_text(value)


def parse(text: str, columns: Iterable[str]) -> tuple[str, list[Term]]:
    """``(free text, terms)`` of a search box: words ``key:value`` whose key is a pivot key or
    one of ``columns`` are terms, the rest is the free text (substring search)."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unclosed quote: all of it is plain text for now
        return text, []
    names = set(columns)
    free: list[str] = []
    terms: list[Term] = []
    for word in words:
        key, sep, value = word.partition(":")
        if sep and value and (key.lower() in KEYS or key in names):
            terms.append((key.lower() if key.lower() in KEYS else key, value))
        else:
            free.append(word)
    return " ".join(free), terms


def pivot_mask(frame: pd.DataFrame, terms: list[Term]) -> np.ndarray | None:
    """Rows of ``frame`` matching every term (a term on a column the frame lacks matches
    nothing); ``None`` when there are no terms."""
    if not terms:
        return None
    mask = np.ones(len(frame), dtype=bool)
    for key, value in terms:
        hit = np.zeros(len(frame), dtype=bool)
        for column in KEYS.get(key, (key,)):
            if column in frame.columns:
                hit |= _equals(frame[column], value)
        mask &= hit
    return mask


def _equals(series: pd.Series, value: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        wanted = value.strip().lower() in ("true", "1", "yes")
        return series.fillna(not wanted).to_numpy(dtype=bool) == wanted
    if pd.api.types.is_numeric_dtype(series.dtype):
        try:
            number = float(value)
        except ValueError:
            return np.zeros(len(series), dtype=bool)
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        return np.isclose(values, number, rtol=1e-12, atol=0.0)
    return np.asarray((series.astype("string") == value).fillna(False), dtype=bool)


def _value_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return str(value)
