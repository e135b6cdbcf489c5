"""CSV of analysed flows, safe to open in Excel (OWASP CSV-injection advice)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from ids_desktop.core import vocabulary
from ids_desktop.core.atomic import atomic_text
from ids_desktop.core.tasks import Cancel, Progress, check_cancel

#: Cells starting with these can be read as formulas by spreadsheet software.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_SKIPPED = " \n\x0b\x0c" + "".join(chr(c) for c in range(32) if chr(c) not in "\t\r") + "\x7f"
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")

#: Report columns: (header, source column or None when derived).
CSV_COLUMNS: tuple[str, ...] = (
    "flow_id",
    "first_seen",
    "last_seen",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "protocol",
    "community_id",
    "application",
    "server_name",
    "user_agent",
    "pred_class",
    "pred_score",
    "anomaly_score",
    "flagged",
    "severity",
    "flagged_by",
    "incident_id",
    "label_original",
    "finding",
    "explanation",
)


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet could run as a formula with an apostrophe.

    Numbers are returned as they are, so real negative numbers stay numbers; a text cell that
    is just a plain number (``"-3.5"``) is left alone too.
    """
    if not isinstance(value, str) or not value:
        return value
    # Spreadsheets may skip leading blanks and control characters before reading "=" etc.
    head = value.lstrip(_SKIPPED)
    if head.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def report_frame(flows: pd.DataFrame, explanations: dict[int, str] | None = None) -> pd.DataFrame:
    """The report's columns from an analysis frame (missing sources become empty columns).

    ``server_name`` is nDPI's requested server name (TLS SNI or HTTP Host); ``user_agent`` the
    HTTP user agent; ``severity`` and ``flagged_by`` the verdict's (see
    :mod:`ids_desktop.core.analysis`); ``finding`` what a host-level detector found;
    ``explanation`` the plain-language sentence for a flow, when given. Protocols are named
    (TCP, UDP; an unnamed number as itself) and times are ISO 8601 UTC, to the millisecond
    when every time of the column is a whole millisecond (captures), else the microsecond:
    never the float noise of a division (``.256999``).
    """
    out = pd.DataFrame(index=flows.index)
    sources = {"server_name": "requested_server_name", "user_agent": "user_agent"}
    texts = explanations or {}
    for column in CSV_COLUMNS:
        source = sources.get(column, column)
        if column == "explanation":
            out[column] = flows["flow_id"].map(lambda fid: texts.get(int(fid), ""))
        elif source in flows.columns:
            out[column] = flows[source]
        else:
            out[column] = pd.Series(pd.NA, index=flows.index, dtype="object")
    for column in ("first_seen", "last_seen"):
        out[column] = iso_times(out[column])
    protocols = pd.to_numeric(out["protocol"], errors="coerce").astype("Int64")
    named = protocols.map(vocabulary.protocol_name, na_action="ignore")
    out["protocol"] = named.astype("string").where(protocols.notna(), pd.NA)
    return out


def iso_times(values: pd.Series) -> pd.Series:
    """Seconds since the epoch as ISO 8601 UTC text (``2023-11-14T22:13:20.250Z``), ``""``
    when missing; milliseconds when all are whole milliseconds, else microseconds."""
    seconds = pd.to_numeric(values, errors="coerce")
    seconds = seconds.where(seconds.abs() < 9.2e9)  # damaged times: beyond any date pandas has
    micros = (seconds * 1e6).round()
    stamps = pd.to_datetime(micros, unit="us", utc=True)
    text = stamps.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    known = micros.dropna()
    if bool((known % 1000 == 0).all()):
        text = text.str.slice(0, -3)
    return (text + "Z").where(seconds.notna(), "")


def write_csv(
    flows: pd.DataFrame,
    out: str | Path,
    *,
    flagged_only: bool = True,
    explanations: dict[int, str] | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    chunk_rows: int = 50_000,
) -> Path:
    """Write the flagged flows (or all flows) as an Excel-safe CSV, atomically.

    Parameters
    ----------
    flows
        An analysis frame: canonical columns plus ``pred_class``, ``pred_score``,
        ``anomaly_score`` and ``flagged``.
    out
        Target path; it appears only when the whole file is written.
    flagged_only
        Only rows with ``flagged`` true (the default), else every row.
    explanations
        ``flow_id`` -> plain-language sentence, for the ``explanation`` column.
    """
    rows = flows
    if flagged_only and "flagged" in flows.columns:
        rows = flows[flows["flagged"].fillna(False).astype(bool)]
    table = report_frame(rows, explanations)
    text_columns = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c].dtype)]
    total = len(table)
    with atomic_text(out, newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(table.columns)
        for start in range(0, max(total, 1), chunk_rows):
            check_cancel(cancel)
            chunk = table.iloc[start : start + chunk_rows].copy()
            for column in text_columns:
                chunk[column] = chunk[column].map(neutralise, na_action="ignore")
            values = chunk.astype(object).where(chunk.notna(), "").to_numpy()
            writer.writerows(values)
            if progress is not None:
                progress(min(start + chunk_rows, total), total, "writing CSV")
    return Path(out)
