"""Which format a table is, and how to read it: header and headerless matching, ARFF plans."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ids_desktop.core.ingest.tables.arff import ArffHeader, read_header
from ids_desktop.core.ingest.tables.formats import (
    EXPORT_FORMAT,
    KDD_DIFFICULTY_ALIASES,
    KDD_FEATURES,
    KDD_LABEL_ALIASES,
    TABLE_FORMATS,
    TableFormat,
)
from ids_desktop.core.ingest.tables.text import (
    MAX_HEADER_CHARS,
    MAX_ROW_CHARS,
    TableSource,
    is_number,
    quote_list,
    read_line,
    read_piece,
    split_fields,
)
from ids_desktop.errors import InputError, SchemaError

__all__ = ["ReadPlan", "check_first_row", "detect_format", "plan_arff", "plan_for"]

_HEADERLESS_FIELD_COUNTS: dict[str, tuple[int, ...]] = {
    "nsl-kdd": (43, 42, 41),
    "unsw-nb15-raw": (49, 47),
}
_HEADERLESS_SHAPES: dict[str, str] = {
    "nsl-kdd": "42 or 43 fields (41 when unlabelled)",
    "unsw-nb15-raw": "49 fields (47 when unlabelled)",
}


@dataclass
class ReadPlan:
    """How to read one file: its format, the column names to give pandas, what to skip.

    Attributes
    ----------
    spec
        The format.
    names
        Column names for pandas, in file order (the format's spelling, repeats renamed).
    header_lines
        Lines before the first data row.
    has_header
        False for a headerless file (its first line is data).
    arff
        The ARFF header, for an ARFF file.
    ignored, missing_optional
        Columns not part of the format; optional columns the file lacks (both warned about).
    warnings
        Warnings found while planning.
    sep
        The field delimiter.
    encoding
        The text encoding, known once the file is read.
    """

    spec: TableFormat
    names: list[str]
    header_lines: int
    has_header: bool
    arff: ArffHeader | None = None
    ignored: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sep: str = ","
    encoding: str = "utf-8"


def _dedupe(names: list[str]) -> tuple[list[str], list[str]]:
    """Rename repeated names pandas-style (``X``, ``X.1``, ...); also return the repeats."""
    seen: Counter[str] = Counter()
    taken = set(names)
    out, repeats = [], []
    for name in names:
        if seen[name]:
            k = seen[name]
            candidate = f"{name}.{k}"
            while candidate in taken:
                k += 1
                candidate = f"{name}.{k}"
            seen[name] = k + 1
            taken.add(candidate)
            out.append(candidate)
            repeats.append(name)
        else:
            seen[name] = 1
            out.append(name)
    return out, repeats


def _canonical_names(spec: TableFormat, names: list[str]) -> list[str]:
    """Map file column names to the spec's spelling, matching case-insensitively."""
    lookup = {c.lower(): c for c in spec.columns}
    return [lookup.get(n.lower(), n) for n in names]


def _match_header(spec: TableFormat, names: list[str]) -> tuple[int, list[str]]:
    """How many of ``spec.required`` the header has, and which are missing."""
    present = {n.lower() for n in names}
    missing = [c for c in spec.required if c.lower() not in present]
    return len(spec.required) - len(missing), missing


def _headerless_match(name: str, fields: list[str]) -> bool:
    """True when a first line of data fits a headerless format's shape."""
    if len(fields) not in _HEADERLESS_FIELD_COUNTS[name]:
        return False
    if name == "nsl-kdd":
        return is_number(fields[0]) and fields[1].lower() in ("tcp", "udp", "icmp")
    # unsw-nb15-raw: source address, then ports, Stime/Ltime numbers
    return (
        ("." in fields[0] or ":" in fields[0])
        and not is_number(fields[0])
        and is_number(fields[28])
        and is_number(fields[29])
    )


def _header_formats() -> list[TableFormat]:
    return [s for s in TABLE_FORMATS.values() if s.name not in (EXPORT_FORMAT, "nsl-kdd-arff")]


def plan_for(spec: TableFormat, fields: list[str], path: Path) -> ReadPlan:
    """Decide how to read a file whose first line has ``fields`` as format ``spec``."""
    name = path.name
    if not spec.header:
        matched, _ = _match_header(spec, fields)
        if matched < max(1, len(spec.required) // 2):
            counts = _HEADERLESS_FIELD_COUNTS[spec.name]
            if len(fields) not in counts or not _headerless_match(spec.name, fields):
                raise SchemaError(
                    f"{name}: not a {spec.name} table: it has no header and its lines should "
                    f"have {_HEADERLESS_SHAPES[spec.name]}, but the first has {len(fields)}"
                    + ("" if len(fields) not in counts else " with unexpected values")
                )
            names = list(spec.columns[: len(fields)])
            if spec.name == "nsl-kdd" and len(fields) < 43:
                names = [*KDD_FEATURES, "label"][: len(fields)]
            if spec.name == "unsw-nb15-raw" and len(fields) == 47:
                names = list(spec.columns[:47])
            return ReadPlan(spec, names, 0, False)
    names, repeats = _dedupe(_canonical_names(spec, fields))
    matched, missing = _match_header(spec, names)
    if missing:
        raise SchemaError(
            f"{name}: not a {spec.name} table: {len(missing)} of its {len(spec.required)} "
            f"expected columns are missing: {quote_list(missing)}"
        )
    plan = ReadPlan(spec, names, 1, True)
    known_repeat = spec.feature_format == "cic-ids2017"
    odd = [r for r in repeats if not (known_repeat and r == "Fwd Header Length")]
    if odd:
        plan.warnings.append(
            f"duplicated column names {quote_list(sorted(set(odd)))}; later copies were "
            "renamed (X.1, X.2, ...) and ignored"
        )
    wanted = {c.lower() for c in spec.columns}
    if spec.name == "ton-iot":
        wanted.add("ts")
    if spec.name == "nsl-kdd":
        wanted |= set(KDD_LABEL_ALIASES) | set(KDD_DIFFICULTY_ALIASES)
    plan.ignored = [n for n in names if n.lower() not in wanted]
    plan.missing_optional = [
        c
        for c in spec.columns
        if c not in spec.required and c not in spec.label_columns and c not in names
    ]
    return plan


def detect_format(fields: list[str], path: Path) -> ReadPlan:
    """Pick the format whose columns the first line matches; raise a helpful error if none."""
    lowered = {f.lower() for f in fields}
    export = TABLE_FORMATS[EXPORT_FORMAT]
    if all(c.lower() in lowered for c in export.required):
        return plan_for(export, fields, path)
    best: tuple[int, TableFormat] | None = None
    closest: tuple[float, TableFormat, list[str]] | None = None
    for spec in _header_formats():
        matched, missing = _match_header(spec, fields)
        if not missing and (best is None or matched > best[0]):
            best = (matched, spec)
        share = matched / len(spec.required)
        if closest is None or share > closest[0]:
            closest = (share, spec, missing)
    if best is not None:
        return plan_for(best[1], fields, path)
    for name in ("nsl-kdd", "unsw-nb15-raw"):
        if _headerless_match(name, fields):
            return plan_for(TABLE_FORMATS[name], fields, path)
    supported = ", ".join(TABLE_FORMATS)
    hint = ""
    if closest is not None and closest[0] > 0:
        share, spec, missing = closest
        hint = (
            f" Closest is {spec.name}, which also needs {len(missing)} columns: "
            f"{quote_list(missing)}."
        )
    else:
        hint = (
            f" The first line has {len(fields)} fields and no known column names "
            "(headerless files: nsl-kdd has 42 or 43 fields, unsw-nb15-raw 49)."
        )
    raise SchemaError(
        f"{path.name}: the columns match no supported table format ({supported}).{hint} "
        "Use --format to force one."
    )


def check_first_row(source: TableSource, plan: ReadPlan, header_at: int) -> str:
    """Refuse a first data row with more non-empty fields than the header has columns.

    pandas reads later too-long rows as a ParserError (reported as an InputError), but with
    ``index_col=False`` it silently drops the extra fields of the first data row; an empty
    trailing field (a delimiter at the end of every line) is harmless and allowed. Returns
    the row ("" when there is none).
    """
    skipped = 0
    while True:
        line = read_piece(source)
        skipped += 1
        if not line or line.strip():
            break
    if not line:
        return ""
    if len(line) >= MAX_HEADER_CHARS and not line.endswith(("\n", "\r")):
        parts = [line]  # a very long row: read the rest of it, within a bound
        for _ in range(MAX_ROW_CHARS // MAX_HEADER_CHARS):
            more = read_piece(source)
            parts.append(more)
            if not more or more.endswith(("\n", "\r")):
                break
        else:
            raise InputError(
                f"{source.path.name}: line {header_at + skipped} is longer than "
                f"{MAX_ROW_CHARS:,} characters; this is not a flow table"
            )
        line = "".join(parts)
    fields = split_fields(line, plan.sep)
    extra = fields[len(plan.names) :]
    if any(extra):
        raise InputError(
            f"{source.path.name}: line {header_at + skipped} has {len(fields)} fields but the "
            f"table has {len(plan.names)} columns; the file is not a consistent CSV table"
        )
    return line


def plan_arff(path: Path, source: TableSource) -> ReadPlan:
    """Plan an ARFF read: the header's attribute names, the spec's label column."""
    source.text.seek(0)
    try:
        header = read_header(source.text, MAX_HEADER_CHARS)
    except InputError as exc:
        raise InputError(f"{path.name}: {exc}") from None
    spec = TABLE_FORMATS["nsl-kdd-arff"]
    names, repeats = _dedupe(_canonical_names(spec, header.names))
    _, missing = _match_header(spec, names)
    if missing:
        raise SchemaError(
            f"{path.name}: not an nsl-kdd-arff file: {len(missing)} of its "
            f"{len(spec.required)} expected attributes are missing: {quote_list(missing)}"
        )
    line = read_line(source)
    while line and (not line.strip() or line.lstrip().startswith("%")):
        line = read_line(source)
    if line.lstrip().startswith("{"):
        raise InputError(f"{path.name}: sparse ARFF data ({{index value, ...}}) is not supported")
    # The first data row must not be longer than the header (see check_first_row).
    fields = next(csv.reader([line.rstrip("\r\n")], quotechar="'", skipinitialspace=True), [])
    if any(f.strip() for f in fields[len(names) :]):
        raise InputError(
            f"{path.name}: the first data row has {len(fields)} fields but the header declares "
            f"{len(names)} attributes; the file is not a consistent ARFF table"
        )
    plan = ReadPlan(spec, names, header.lines, True, arff=header)
    wanted = {c.lower() for c in spec.columns} | set(KDD_LABEL_ALIASES)
    plan.ignored = [n for n in names if n.lower() not in wanted]
    if repeats:
        plan.warnings.append(f"duplicated attribute names {quote_list(sorted(set(repeats)))}")
    return plan
