"""Read a flow table chunk by chunk (CSV, gzip, ARFF or Parquet) into the canonical table."""

from __future__ import annotations

import dataclasses
import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from ids_desktop.core import schema
from ids_desktop.core.ingest.digest import sha256_file
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.ingest.tables.adapters import convert_chunk
from ids_desktop.core.ingest.tables.arff import looks_like_arff
from ids_desktop.core.ingest.tables.columns import ReadStats
from ids_desktop.core.ingest.tables.detect import (
    ReadPlan,
    check_first_row,
    detect_format,
    plan_arff,
    plan_for,
)
from ids_desktop.core.ingest.tables.export import (
    ExportInfo,
    export_result,
    parquet_export_info,
    peek_export_info,
    read_export_csv,
)
from ids_desktop.core.ingest.tables.formats import EXPORT_FORMAT, KDD_LABEL_ALIASES, TABLE_FORMATS
from ids_desktop.core.ingest.tables.text import (
    TableSource,
    error_line,
    fallback_count,
    first_nonblank,
    quote_list,
    reset_fallbacks,
    skip_lines,
    sniff_sep,
    split_fields,
)
from ids_desktop.core.options import DEFAULT_CSV_CHUNK_ROWS, MAX_CSV_CHUNK_ROWS
from ids_desktop.core.tasks import Cancel, Progress, check_cancel, no_progress
from ids_desktop.errors import InputError, SchemaError

__all__ = ["read_table"]


def read_table(
    path: Path,
    fmt: str | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    parquet: bool = False,
    chunk_rows: int = DEFAULT_CSV_CHUNK_ROWS,
) -> IngestResult:
    """Read a dataset table or the app's own export into the canonical flow table.

    Parameters
    ----------
    path
        A CSV (plain or gzip), NSL-KDD .txt/.arff, or Parquet file.
    fmt
        Force a format from :data:`TABLE_FORMATS`; ``None`` detects it from the header or the
        first line.
    progress
        ``progress(done, total, "reading")`` after each chunk: bytes of the file consumed (the
        compressed bytes for gzip), rows for Parquet.
    cancel
        A :class:`~ids_desktop.core.tasks.CancelToken`, checked between chunks.
    parquet
        True when the file is Parquet (the dispatcher sniffs the magic number).
    chunk_rows
        Rows read and converted per step, 1 to
        :data:`~ids_desktop.core.options.MAX_CSV_CHUNK_ROWS`. The reader's and the
        converters' pandas calls each hold the GIL in proportion to a step's rows (ToN-IoT
        text columns: about 70 ms per 100,000 rows on an idle machine), and a GUI thread waits
        for every one of them. Smaller steps also read faster (CIC-IDS2017, 1.2 M rows: 8.5 s
        at 25,000, 12.4 s at 100,000).

    Returns
    -------
    IngestResult
        The canonical frame, the format, feature format, temporal flag and warnings.

    Raises
    ------
    InputError
        The file is missing, empty, corrupt or not text, or ``chunk_rows`` is out of range.
    SchemaError
        The columns match no supported format, or not the forced one.
    CancelledError
        ``cancel`` was set.

    Notes
    -----
    Every format is declared once in :data:`TABLE_FORMATS`. Reading is chunked and vectorised.
    Choices worth knowing:

    - Numeric features are float64 (as :mod:`ids_desktop.core.schema` says); NaN, infinite and
      non-numeric cells become missing and are counted per column in the warnings.
    - Text is decoded as UTF-8; bytes that are not UTF-8 are decoded as Windows-1252 (Latin-1
      for the five bytes cp1252 leaves undefined) and one warning says so.
    - A file with a header but no data rows gives an empty table (0 flows) and a warning; a
      file with no content at all is an :class:`~ids_desktop.errors.InputError`.
    - A data line with more fields than the header is an error naming the line (the columns
      would be shifted); a shorter line is kept and its missing cells are missing. No row with
      a value is dropped; lines holding nothing but delimiters (CIC-IDS2017's TrafficLabelling
      files have many) are skipped with a warning, and ``flow_id`` stays the data row number.
    - Memory: chunks become canonical rows as they are read and are concatenated once at the
      end, so the peak is about twice the kept frame.
    - The export format (``ids-desktop``) is described in
      :func:`~ids_desktop.core.ingest.tables.export.write_export`. An export without rows
      keeps its feature format only in Parquet (schema metadata).
    """
    if not isinstance(chunk_rows, int) or not 1 <= chunk_rows <= MAX_CSV_CHUNK_ROWS:
        raise InputError(f"CSV chunk rows must be 1-{MAX_CSV_CHUNK_ROWS:,}, not {chunk_rows!r}")
    path = Path(path)
    if fmt is not None and fmt not in TABLE_FORMATS:
        raise InputError(f"unknown format '{fmt}'; choose one of: {', '.join(TABLE_FORMATS)}")
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; choose a CSV, .txt, .arff or .parquet file")
    if not parquet:
        try:
            with path.open("rb") as fh:
                parquet = fh.read(4) == b"PAR1"
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    report = progress or no_progress
    reset_fallbacks()
    if parquet:
        result = _read_parquet(path, fmt, chunk_rows, report, cancel)
        # pyarrow reads the file itself: hash it apart (Parquet inputs are the app's exports)
        return dataclasses.replace(result, sha256=sha256_file(path))
    return _read_text(path, fmt, chunk_rows, report, cancel)


# ---------------------------------------------------------------------------------------------
# Text tables
# ---------------------------------------------------------------------------------------------


def _read_text(
    path: Path, fmt: str | None, chunk_rows: int, report: Progress, cancel: Cancel | None
) -> IngestResult:
    export_info: ExportInfo | None = None
    with TableSource(path) as source:
        report(0, source.total, "reading")
        first, consumed = first_nonblank(source)
        if not first:
            raise InputError(f"{path}: the file is empty (no header and no rows)")
        if "\x00" in first or sum(ch < " " and ch not in "\t\r\n" for ch in first) > 2:
            raise InputError(
                f"{path.name}: binary data, not a text table (choose a CSV, .txt or .arff file)"
            )
        is_arff = looks_like_arff(first)
        if fmt == "nsl-kdd-arff" or (fmt is None and is_arff):
            if not is_arff:
                raise SchemaError(
                    f"{path.name}: not an nsl-kdd-arff file: it has no @relation/@attribute header"
                )
            plan = plan_arff(path, source)
        elif is_arff:
            raise SchemaError(
                f"{path.name}: is an ARFF file, not a {fmt} table; use --format nsl-kdd-arff"
            )
        else:
            sep = sniff_sep(first)
            fields = split_fields(first, sep)
            plan = (
                detect_format(fields, path)
                if fmt is None
                else plan_for(TABLE_FORMATS[fmt], fields, path)
            )
            plan.header_lines = consumed if plan.has_header else consumed - 1
            plan.sep = sep
            if sep != ",":
                plan.warnings.append(f"fields are separated by {sep!r}, not commas")
            row = check_first_row(source, plan, consumed) if plan.has_header else None
            if plan.spec.name == EXPORT_FORMAT:
                export_info = peek_export_info(source, plan, row)
    # Reopen: headerless formats need their first line back, and the counts must start fresh.
    with TableSource(path) as source:
        reset_fallbacks()  # count each undecodable byte once, in this full pass
        skip_lines(source, plan.header_lines)
        if plan.spec.name == EXPORT_FORMAT:
            result = read_export_csv(
                source,
                plan,
                export_info or ExportInfo(),
                chunk_rows=chunk_rows,
                report=report,
                cancel=cancel,
            )
            return dataclasses.replace(result, sha256=source.digest())
        options: dict[str, Any] = {}
        if plan.arff is not None:
            options.update(quotechar="'", skipinitialspace=True, comment="%", na_values=["?"])
        stats = ReadStats()
        pieces: list[pd.DataFrame] = []
        rows = 0
        chunks = _csv_chunks(source, plan, chunk_rows, **options)
        while True:
            check_cancel(cancel)
            chunk = next(chunks, None)
            if chunk is None:
                break
            pieces.append(convert_chunk(chunk, plan.spec, rows, stats))
            rows += len(chunk)
            report(source.position(), source.total, "reading")
        report(source.total, source.total, "reading")
        plan.encoding = source.encoding
        result = _finish(path, plan, pieces, stats, compressed=source.compressed)
        return dataclasses.replace(result, sha256=source.digest())


_PARSER_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_PARSER_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def _csv_chunks(
    source: TableSource,
    plan: ReadPlan,
    chunk_rows: int,
    **options: Any,
) -> Iterator[pd.DataFrame]:
    """Yield raw chunks with ``plan.names`` as columns, pandas' C parser, errors explained."""
    dtype: dict[str, Any] = {n: "str" for n in plan.names if n in plan.spec.categorical}
    for name in (*plan.spec.label_columns, *KDD_LABEL_ALIASES):
        if name in plan.names:
            dtype[name] = "str"
    if plan.spec.name == "cic-ids2017-traffic":
        dtype.update({n: "str" for n in ("Flow ID", "Source IP", "Destination IP", "Timestamp")})
    if plan.spec.name == "unsw-nb15-raw":
        dtype.update({n: "str" for n in ("srcip", "dstip", "sport", "dsport")})
    if plan.spec.name == "ton-iot":
        dtype.update({n: "str" for n in ("src_ip", "dst_ip")})
    dtype.update(options.pop("dtype", {}))
    dtype = {n: d for n, d in dtype.items() if n in plan.names}
    try:
        reader = pd.read_csv(
            source.text,
            sep=plan.sep,
            header=None,
            names=plan.names,
            dtype=dtype,
            chunksize=chunk_rows,
            low_memory=False,
            engine="c",
            skip_blank_lines=True,
            # Never an implicit index: when the first data row has more fields than the
            # header, pandas would otherwise turn the extra leading fields into a (Multi)Index,
            # shifting every column (and a 100,000-field row took 45 s to build that index).
            # Too-long first rows are refused by check_first_row; later ones raise ParserError.
            index_col=False,
            **options,
        )
        with reader:
            yield from reader
    except pd.errors.ParserError as exc:
        match = _PARSER_LINE.search(str(exc))
        if match:
            expected, line, saw = (int(g) for g in match.groups())
            raise InputError(
                f"{source.path.name}: line {line + plan.header_lines} has {saw} fields but the "
                f"table has {expected} columns; the file is not a consistent CSV table"
            ) from None
        quote = _PARSER_QUOTE.search(str(exc))
        if quote:
            raise InputError(
                f"{source.path.name}: a quoted field opened in data row {int(quote.group(1)) + 1} "
                "is never closed; the file is not a consistent CSV table"
            ) from None
        raise InputError(f"{source.path.name}: malformed table ({error_line(exc)})") from None
    except pd.errors.EmptyDataError:
        return
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(
            f"{source.path.name}: the compressed stream is corrupt or cut short ({exc})"
        ) from None
    except (ValueError, TypeError, UnicodeError, OverflowError) as exc:
        raise InputError(
            f"{source.path.name}: cannot be parsed as a table ({error_line(exc)})"
        ) from None


# ---------------------------------------------------------------------------------------------
# Parquet
# ---------------------------------------------------------------------------------------------


def _read_parquet(
    path: Path, fmt: str | None, chunk_rows: int, report: Progress, cancel: Cancel | None
) -> IngestResult:
    """Read a Parquet file: the app's export, or a dataset table with one of the known headers."""
    import pyarrow as pa  # pyarrow loads on first Parquet use only: it adds to startup time
    import pyarrow.parquet as pq

    # A damaged file can make pyarrow raise almost anything (its own errors, JSON, Unicode or
    # key errors from the pandas metadata); all of them mean "corrupt file" here.
    broken = (OSError, ValueError, KeyError, TypeError, IndexError, pa.ArrowException)
    try:
        pf = pq.ParquetFile(path)
        names = list(pf.schema_arrow.names)
        total_rows = pf.metadata.num_rows
    except broken as exc:
        raise InputError(f"{path}: not a readable Parquet file ({error_line(exc)})") from None
    fields = [" ".join(str(n).split()) for n in names]
    if fmt is None:
        plan = detect_format(fields, path)
    else:
        if TABLE_FORMATS[fmt].name == "nsl-kdd-arff":
            raise SchemaError(f"{path.name}: is a Parquet file, not an ARFF file")
        plan = plan_for(TABLE_FORMATS[fmt], fields, path)
    if not plan.has_header:
        raise SchemaError(f"{path.name}: Parquet columns do not match {plan.spec.name}")
    export = plan.spec.name == EXPORT_FORMAT
    report(0, total_rows, "reading")
    stats = ReadStats()
    pieces: list[pd.DataFrame] = []
    rows = 0
    try:
        batches = pf.iter_batches(batch_size=chunk_rows)
        while True:
            check_cancel(cancel)
            batch = next(batches, None)
            if batch is None:
                break
            chunk = pa.Table.from_batches([batch]).to_pandas()
            chunk.columns = plan.names
            if not export:
                chunk = convert_chunk(chunk, plan.spec, rows, stats)
            pieces.append(chunk)
            rows += len(batch)
            report(rows, total_rows, "reading")
        if export and not pieces:
            empty = pf.schema_arrow.empty_table().to_pandas()
            empty.columns = plan.names
            pieces.append(empty)
    except broken as exc:
        raise InputError(f"{path}: the Parquet file is corrupt ({error_line(exc)})") from None
    if export:
        frame = pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0]
        fallback = parquet_export_info(pf.schema_arrow.metadata)
        return export_result(frame, path, fallback, compressed=False)
    return _finish(path, plan, pieces, stats, compressed=False)


# ---------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------


def _finish(
    path: Path,
    plan: ReadPlan,
    pieces: list[pd.DataFrame],
    stats: ReadStats,
    *,
    compressed: bool,
) -> IngestResult:
    """Concatenate canonical pieces and gather warnings and meta into an :class:`IngestResult`.

    No pieces (a header without rows) give the format's canonical empty table.
    """
    if not pieces:
        empty = pd.DataFrame({n: pd.Series(dtype="str") for n in plan.names})
        pieces = [convert_chunk(empty, plan.spec, 0, stats)]
    frame = pieces[0] if len(pieces) == 1 else pd.concat(pieces, ignore_index=True)
    frame = schema.conform(frame)
    spec = plan.spec
    warnings = list(plan.warnings)
    fallbacks = fallback_count()
    if fallbacks:
        warnings.append(
            f"{fallbacks} characters are not valid UTF-8; they were read as Windows-1252 text"
        )
    if len(frame) == 0:
        warnings.append("the table has a header but no data rows: 0 flows")
    if plan.missing_optional:
        warnings.append(f"expected columns missing: {quote_list(plan.missing_optional)}")
    if plan.ignored:
        warnings.append(f"columns not part of {spec.name} were ignored: {quote_list(plan.ignored)}")
    warnings.extend(stats.feature_warnings())
    if stats.unknown_labels:
        names = [str(k) for k, _ in stats.unknown_labels.most_common()]
        warnings.append(
            f"{sum(stats.unknown_labels.values())} rows have labels unknown to {spec.name} "
            f"({quote_list(names, 5)}); their class is 'attack'"
        )
    if stats.inconsistent_labels:
        warnings.append(
            f"{stats.inconsistent_labels} rows have a binary label that contradicts their "
            "attack class; both were kept as the source wrote them"
        )
    if stats.blank_rows:
        warnings.append(
            f"{stats.blank_rows} lines hold no values at all (only delimiters) and were skipped"
        )
    if stats.bad_times:
        warnings.append(
            f"{stats.bad_times} timestamps could not be parsed or fall outside 1970-2261 "
            "and are missing"
        )
    if stats.bad_ports:
        warnings.append(f"{stats.bad_ports} port values are not numbers and are missing")
    has_labels = any(c in plan.names for c in (*spec.label_columns, *KDD_LABEL_ALIASES))
    temporal = spec.temporal or (spec.name == "ton-iot" and "ts" in plan.names)
    meta: dict[str, Any] = {
        "rows": len(frame),
        "compressed": compressed,
        "header": plan.has_header,
        "labelled": bool(has_labels),
        "encoding": plan.encoding.replace("-sig", "")
        + (" with cp1252 fallback" if fallbacks else ""),
    }
    if plan.ignored:
        meta["ignored_columns"] = list(plan.ignored)
    if plan.missing_optional:
        meta["missing_columns"] = list(plan.missing_optional)
    if spec.name == "nsl-kdd":
        meta["difficulty_dropped"] = "difficulty" in plan.names
    return IngestResult(
        frame=frame,
        format=spec.name,
        feature_format=spec.feature_format,
        temporal=bool(temporal),
        warnings=warnings,
        source=path,
        meta=meta,
    )
