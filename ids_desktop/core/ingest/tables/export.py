"""The app's own export (format ``ids-desktop``): write it as CSV or Parquet, read it back."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core import schema
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.ingest.tables.columns import is_text
from ids_desktop.core.ingest.tables.detect import ReadPlan
from ids_desktop.core.ingest.tables.formats import (
    CATEGORICAL_BY_FEATURE_FORMAT,
    EXPORT_FORMAT,
    SOURCE_DTYPES_COLUMN,
    SOURCE_FORMAT_COLUMN,
    SOURCE_TEMPORAL_COLUMN,
)
from ids_desktop.core.ingest.tables.text import (
    STREAM_ERRORS,
    TableSource,
    error_line,
    quote_list,
    read_line,
    split_fields,
)
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import InputError, SchemaError

__all__ = [
    "EXPORT_WRITE_ROWS",
    "ExportInfo",
    "export_result",
    "parquet_export_info",
    "peek_export_info",
    "read_export_csv",
    "write_export",
]

#: Rows written per step of a CSV export and per row group of a Parquet export; a cancel is
#: seen between steps. Independent of the read step (``chunk_rows``): the row groups are part
#: of the file written.
EXPORT_WRITE_ROWS = 100_000

_EXPORT_DTYPES: dict[str, str] = {**schema.IDENTITY_DTYPES, **schema.LABEL_DTYPES}
_EXPORT_EXTRA = (SOURCE_FORMAT_COLUMN, SOURCE_TEMPORAL_COLUMN, SOURCE_DTYPES_COLUMN)


@dataclass
class ExportInfo:
    """What an export says about itself: feature format, temporal flag, feature dtypes."""

    feature_format: str = ""
    temporal: bool = False
    dtypes: dict[str, str] = field(default_factory=dict)


def _is_text_dtype(name: str) -> bool:
    return name in ("str", "string", "object") or name.startswith("string[")


def _json_dict(text: object) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, (str, bytes)) else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _export_info(frame: pd.DataFrame, path: Path, fallback: ExportInfo) -> ExportInfo:
    """The export's own description, from its extra columns or else from ``fallback``."""
    info = ExportInfo(fallback.feature_format, fallback.temporal, dict(fallback.dtypes))
    formats = frame[SOURCE_FORMAT_COLUMN].dropna().astype("str").unique()
    if len(formats) > 1:
        raise SchemaError(
            f"{path.name}: the export mixes feature formats ({', '.join(sorted(formats))})"
        )
    if len(formats):
        info.feature_format = str(formats[0])
    if SOURCE_TEMPORAL_COLUMN in frame.columns:
        flags = pd.to_numeric(frame[SOURCE_TEMPORAL_COLUMN], errors="coerce").dropna()
        if len(flags):
            info.temporal = bool(flags.iloc[0])
    if SOURCE_DTYPES_COLUMN in frame.columns:
        stored = frame[SOURCE_DTYPES_COLUMN].dropna()
        if len(stored):
            info.dtypes = {str(k): str(v) for k, v in _json_dict(stored.iloc[0]).items()}
    return info


def _export_features(frame: pd.DataFrame, info: ExportInfo) -> pd.DataFrame:
    """Give export feature columns their recorded dtypes (else: numbers float64, text str)."""
    categorical = CATEGORICAL_BY_FEATURE_FORMAT.get(info.feature_format, frozenset())
    for name in schema.feature_columns(frame):
        col = frame[name]
        dtype = info.dtypes.get(name)
        if dtype is None:
            text = name in categorical or (is_text(col) and not col.isna().all())
            dtype = "str" if text else "float64"
        try:
            if _is_text_dtype(dtype):
                frame[name] = col.astype(dtype)
            else:
                frame[name] = pd.to_numeric(col, errors="coerce").astype(dtype)
        except (TypeError, ValueError):
            frame[name] = pd.to_numeric(col, errors="coerce").astype("float64")
    return frame


def peek_export_info(source: TableSource, plan: ReadPlan, line: str | None = None) -> ExportInfo:
    """What an export CSV's first data row (``line``, else read here) says about it."""
    if line is None:
        line = read_line(source)
        while line and not line.strip():
            line = read_line(source)
    fields = split_fields(line, plan.sep) if line else []

    def cell(name: str) -> str:
        index = plan.names.index(name) if name in plan.names else len(fields)
        return fields[index] if index < len(fields) else ""

    dtypes = _json_dict(cell(SOURCE_DTYPES_COLUMN))
    return ExportInfo(
        feature_format=cell(SOURCE_FORMAT_COLUMN),
        temporal=cell(SOURCE_TEMPORAL_COLUMN) == "1",
        dtypes={str(k): str(v) for k, v in dtypes.items()},
    )


def read_export_csv(
    source: TableSource,
    plan: ReadPlan,
    info: ExportInfo,
    *,
    chunk_rows: int,
    report: Progress,
    cancel: Cancel | None,
) -> IngestResult:
    """Read the app's own CSV export; text features are read as text, numbers inferred.

    Parameters
    ----------
    source
        The open file, positioned after the header.
    plan
        The read plan (column names, delimiter, header lines).
    info
        What the first data row says about the export (:func:`peek_export_info`).
    chunk_rows, report, cancel
        Rows per read step, the progress hook (bytes), the cancel token.
    """
    categorical = CATEGORICAL_BY_FEATURE_FORMAT.get(info.feature_format, frozenset())
    dtype: dict[str, Any] = {n: d for n, d in _EXPORT_DTYPES.items() if n in plan.names}
    dtype.update({n: "str" for n in (SOURCE_FORMAT_COLUMN, SOURCE_DTYPES_COLUMN)})
    for name in plan.names:
        if name in dtype or name == SOURCE_TEMPORAL_COLUMN:
            continue
        recorded = info.dtypes.get(name)
        if (recorded is not None and _is_text_dtype(recorded)) or (
            recorded is None and name in categorical
        ):
            dtype[name] = "str"
    dtype = {n: d for n, d in dtype.items() if n in plan.names}
    pieces = []
    try:
        reader = pd.read_csv(
            source.text,
            sep=plan.sep,
            header=None,
            names=plan.names,
            dtype=dtype,
            chunksize=chunk_rows,
            low_memory=False,
            keep_default_na=False,
            na_values=[""],
            index_col=False,  # no implicit index from a too-long first row (see reader.py)
        )
        with reader:
            while True:
                check_cancel(cancel)
                chunk = next(reader, None)
                if chunk is None:
                    break
                pieces.append(chunk)
                report(source.position(), source.total, "reading")
    except pd.errors.EmptyDataError:
        pass
    except STREAM_ERRORS as exc:  # before ValueError: zlib.error and EOFError are not ones
        raise InputError(
            f"{source.path.name}: the compressed stream is corrupt or cut short ({exc})"
        ) from None
    except (pd.errors.ParserError, ValueError, TypeError, OverflowError) as exc:
        raise InputError(
            f"{source.path.name}: not a valid ids-desktop export ({error_line(exc)})"
        ) from None
    if pieces:
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
    else:
        frame = pd.DataFrame({n: pd.Series(dtype=dtype.get(n, "float64")) for n in plan.names})
    report(source.total, source.total, "reading")
    return export_result(frame, source.path, info, compressed=source.compressed)


def export_result(
    frame: pd.DataFrame, path: Path, fallback: ExportInfo, *, compressed: bool
) -> IngestResult:
    """Strip the export's extra columns and restore the canonical frame and its facts."""
    try:
        info = _export_info(frame, path, fallback)
        frame = frame.drop(columns=[c for c in _EXPORT_EXTRA if c in frame.columns])
        frame = schema.conform(_export_features(frame, info))
    except (TypeError, ValueError, OverflowError) as exc:
        raise InputError(
            f"{path.name}: not a valid ids-desktop export ({error_line(exc)})"
        ) from None
    warnings = [] if len(frame) else ["the table has a header but no data rows: 0 flows"]
    if not info.feature_format:
        warnings.append("the export does not say which feature format it carries")
    return IngestResult(
        frame=frame,
        format=EXPORT_FORMAT,
        feature_format=info.feature_format,
        temporal=info.temporal,
        warnings=warnings,
        source=path,
        meta={"rows": len(frame), "compressed": compressed, "header": True},
    )


def write_export(result: IngestResult, out: Path, *, cancel: Cancel | None = None) -> Path:
    """Write ``result`` as the app's own export, CSV (``.csv``, ``.csv.gz``) or ``.parquet``.

    The table gains three columns that a re-read strips again: ``source_format`` (the feature
    format), ``source_temporal`` (0/1) and ``source_dtypes`` (JSON of the feature dtypes, in the
    first row only), so reading the export gives back the same canonical frame, feature format
    and temporal flag. Parquet also stores these facts in its schema metadata. The file is
    written beside ``out`` under a temporary name and renamed into place; on cancel or error
    the temporary file is removed and nothing is left at ``out``.

    Parameters
    ----------
    result
        What an ingest returned.
    out
        Target path; its suffix picks the format.
    cancel
        Checked between steps of :data:`EXPORT_WRITE_ROWS` rows.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    InputError
        For an unsupported suffix or a file that cannot be written.
    CancelledError
        ``cancel`` was set; nothing is written.
    """
    out = Path(out)
    name = out.name.lower()
    if name.endswith(".parquet"):
        kind = "parquet"
    elif name.endswith(".csv.gz"):
        kind = "csv.gz"
    elif name.endswith(".csv"):
        kind = "csv"
    else:
        raise InputError(
            f"{out.name}: choose a file name ending in .csv, .csv.gz or .parquet for the export"
        )
    if not out.parent.is_dir():
        raise InputError(f"{out.parent}: no such folder to write the export into")
    source = result.frame
    clash = [c for c in _EXPORT_EXTRA if c in source.columns]
    if clash:
        raise InputError(f"cannot export: the flow table already has columns {quote_list(clash)}")
    info = ExportInfo(
        feature_format=result.feature_format,
        temporal=bool(result.temporal),
        dtypes={c: str(source[c].dtype) for c in schema.feature_columns(source)},
    )
    n = len(source)
    frame = source.copy(deep=False)
    frame[SOURCE_FORMAT_COLUMN] = pd.Series(
        [info.feature_format] * n, index=frame.index, dtype="str"
    )
    frame[SOURCE_TEMPORAL_COLUMN] = np.full(n, int(info.temporal), dtype="int8")
    dtypes_json = json.dumps(info.dtypes, separators=(",", ":"))
    frame[SOURCE_DTYPES_COLUMN] = pd.Series(
        [dtypes_json] + [None] * (n - 1) if n else [], index=frame.index, dtype="str"
    )
    tmp = out.with_name(f".{out.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        check_cancel(cancel)
        if kind == "parquet":
            _write_parquet(frame, info, tmp, EXPORT_WRITE_ROWS, cancel)
        else:
            _write_csv(frame, tmp, EXPORT_WRITE_ROWS, cancel, gz=(kind == "csv.gz"))
        check_cancel(cancel)
        os.replace(tmp, out)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise InputError(f"{out}: cannot be written ({exc.strerror or exc})") from None
        raise
    return out


_PARQUET_META_KEY = b"ids_desktop"


def _parquet_meta(metadata: dict[bytes, bytes] | None) -> dict[str, Any]:
    """The export facts stored in a Parquet schema's metadata (empty when absent)."""
    return _json_dict((metadata or {}).get(_PARQUET_META_KEY, b"{}"))


def parquet_export_info(metadata: dict[bytes, bytes] | None) -> ExportInfo:
    """What a Parquet export's schema metadata says about it (nothing when absent)."""
    stored = _parquet_meta(metadata)
    dtypes = stored.get("dtypes")
    return ExportInfo(
        feature_format=str(stored.get("feature_format", "")),
        temporal=bool(stored.get("temporal", False)),
        dtypes={str(k): str(v) for k, v in dtypes.items()} if isinstance(dtypes, dict) else {},
    )


def _write_csv(
    frame: pd.DataFrame, tmp: Path, step: int, cancel: Cancel | None, *, gz: bool
) -> None:
    """Write ``frame`` as UTF-8 CSV (gzip when ``gz``), ``step`` rows at a time."""
    opener: Callable[..., Any] = gzip.open if gz else open
    with opener(tmp, "wt", encoding="utf-8", newline="") as fh:
        if len(frame) == 0:
            frame.to_csv(fh, index=False, lineterminator="\n")
        for start in range(0, len(frame), step):
            check_cancel(cancel)
            frame.iloc[start : start + step].to_csv(
                fh, index=False, header=(start == 0), lineterminator="\n"
            )


def _write_parquet(
    frame: pd.DataFrame, info: ExportInfo, tmp: Path, step: int, cancel: Cancel | None
) -> None:
    """Write ``frame`` as Parquet, one row group per ``step`` rows, facts in the metadata."""
    import pyarrow as pa  # pyarrow loads on first Parquet use only: it adds to startup time
    import pyarrow.parquet as pq

    arrow_schema = pa.Schema.from_pandas(frame, preserve_index=False)
    stored = {
        "format": EXPORT_FORMAT,
        "feature_format": info.feature_format,
        "temporal": info.temporal,
        "dtypes": info.dtypes,
    }
    arrow_schema = arrow_schema.with_metadata(
        {**(arrow_schema.metadata or {}), _PARQUET_META_KEY: json.dumps(stored).encode()}
    )

    def table(part: pd.DataFrame) -> pa.Table:
        return pa.Table.from_pandas(part, schema=arrow_schema, preserve_index=False)

    with pq.ParquetWriter(tmp, arrow_schema) as writer:
        if len(frame) == 0:
            writer.write_table(table(frame))
        for start in range(0, len(frame), step):
            check_cancel(cancel)
            writer.write_table(table(frame.iloc[start : start + step]))
