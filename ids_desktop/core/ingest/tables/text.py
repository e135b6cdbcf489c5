"""A table file as text: gzip, UTF-8 with a Windows-1252 fallback, lines, fields, safe quoting."""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import io
import re
import threading
import zlib
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from ids_desktop.core.ingest.digest import file_digest, open_hashed
from ids_desktop.errors import InputError

__all__ = [
    "MAX_HEADER_CHARS",
    "MAX_ROW_CHARS",
    "STREAM_ERRORS",
    "TableSource",
    "error_line",
    "fallback_count",
    "first_nonblank",
    "is_number",
    "printable",
    "quote_list",
    "read_line",
    "read_piece",
    "reset_fallbacks",
    "skip_lines",
    "sniff_sep",
    "split_fields",
]

#: Longest header line accepted (characters); a longer first line is not a table header.
MAX_HEADER_CHARS = 1 << 20
#: Longest first data row checked for its field count (see
#: :func:`~ids_desktop.core.ingest.tables.detect.check_first_row`).
MAX_ROW_CHARS = 64 << 20

#: What a corrupt or cut-short gzip stream raises while it is read.
STREAM_ERRORS: tuple[type[BaseException], ...] = (gzip.BadGzipFile, EOFError, zlib.error, OSError)

# ---------------------------------------------------------------------------------------------
# Decoding: UTF-8 with a Windows-1252 fallback
# ---------------------------------------------------------------------------------------------

_FALLBACK_ERRORS = "ids_desktop_cp1252"
# A codec error handler is registered once for the process and cannot tell which file it
# decodes, so the count of fallbacks is kept per thread (one read runs on one thread).
_decode_state = threading.local()


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: decode bytes that are not UTF-8 as cp1252 (Latin-1 if undefined)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    chunk = exc.object[exc.start : exc.end]
    _decode_state.fallbacks = getattr(_decode_state, "fallbacks", 0) + 1
    chars = []
    for byte in chunk:
        try:
            chars.append(bytes((byte,)).decode("cp1252"))
        except UnicodeDecodeError:
            chars.append(chr(byte))
    return "".join(chars), exc.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


def reset_fallbacks() -> None:
    """Start counting this thread's undecodable bytes (see :func:`fallback_count`) from 0."""
    _decode_state.fallbacks = 0


def fallback_count() -> int:
    """Byte runs this thread decoded as Windows-1252 since :func:`reset_fallbacks`."""
    return int(getattr(_decode_state, "fallbacks", 0))


# ---------------------------------------------------------------------------------------------
# The open file
# ---------------------------------------------------------------------------------------------


class TableSource:
    """An open table file: raw bytes (for progress), optional gzip layer, decoded text.

    Attributes
    ----------
    path
        The file.
    total
        Its size in bytes (compressed bytes for gzip): the progress total.
    compressed
        True for a gzip file.
    encoding
        ``utf-16`` (a byte-order mark, as Excel's "Unicode text" has) or ``utf-8-sig``.
    text
        The decoded text stream; undecodable bytes are read as Windows-1252.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.total = path.stat().st_size
            self.raw: BinaryIO = open_hashed(path)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        magic = self.raw.read(2)
        self.raw.seek(0)
        self.compressed = magic == b"\x1f\x8b"
        inner: Any = gzip.GzipFile(fileobj=self.raw) if self.compressed else self.raw
        try:
            bom = inner.peek(2)[:2]
        except STREAM_ERRORS as exc:
            self.raw.close()
            raise InputError(f"{path.name}: the compressed stream is corrupt ({exc})") from None
        # Excel's "Unicode text" is UTF-16 with a byte-order mark; everything else UTF-8.
        encoding = "utf-16" if bom in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
        self.encoding = encoding
        self.text: TextIO = io.TextIOWrapper(
            inner, encoding=encoding, errors=_FALLBACK_ERRORS, newline=""
        )

    def digest(self) -> str:
        """The file's SHA-256 (the bytes read so far hashed as they were, the rest now)."""
        return file_digest(self.raw)  # type: ignore[arg-type]

    def position(self) -> int:
        """Raw bytes consumed so far (0 when the file cannot tell)."""
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a corrupt gzip stream may raise again
            self.text.close()
        self.raw.close()

    def __enter__(self) -> TableSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_piece(source: TableSource) -> str:
    """The next line, or its next :data:`MAX_HEADER_CHARS` characters when it is longer.

    Raises
    ------
    InputError
        For a corrupt compressed stream.
    """
    try:
        return source.text.readline(MAX_HEADER_CHARS)
    except STREAM_ERRORS as exc:
        raise InputError(f"{source.path.name}: the compressed stream is corrupt ({exc})") from None


def read_line(source: TableSource) -> str:
    """One line from the text stream, refusing lines longer than :data:`MAX_HEADER_CHARS`.

    Raises
    ------
    InputError
        For a longer line or a corrupt compressed stream.
    """
    line = read_piece(source)
    if len(line) >= MAX_HEADER_CHARS and not line.endswith(("\n", "\r")):
        raise InputError(
            f"{source.path.name}: the first line is longer than {MAX_HEADER_CHARS} characters; "
            "this is not a text table (choose a CSV, .txt or .arff file)"
        )
    return line


def first_nonblank(source: TableSource) -> tuple[str, int]:
    """The first non-blank line (``""`` at the end of the file) and how many lines were read."""
    count = 0
    while True:
        line = read_line(source)
        if not line:
            return "", count
        count += 1
        if line.strip().lstrip("\ufeff"):
            return line, count


def skip_lines(source: TableSource, lines: int) -> None:
    """Read and drop ``lines`` lines (a header already planned)."""
    for _ in range(lines):
        read_line(source)


# ---------------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------------


def sniff_sep(line: str) -> str:
    """The field delimiter of a header line: a comma unless there is none but tabs or ';'."""
    if "," in line:
        return ","
    counts = {sep: line.count(sep) for sep in ("\t", ";", "|")}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else ","


def split_fields(line: str, sep: str = ",") -> list[str]:
    """The fields of one delimited line, whitespace-stripped."""
    try:
        row = next(csv.reader([line.rstrip("\r\n")], delimiter=sep))
    except (csv.Error, StopIteration):
        row = line.rstrip("\r\n").split(sep)
    return [" ".join(f.split()) for f in row]


def is_number(text: str) -> bool:
    """True when ``text`` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------
# The file's own strings in messages
# ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, limit: int = 80) -> str:
    """A file's own string made safe for a message: control characters (a terminal escape
    sequence hidden in a label or column name) shown as ``\\x1b``, length bounded."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[:limit] + "…"


def quote_list(names: list[str] | tuple[str, ...], limit: int = 8) -> str:
    """``'a', 'b' and 3 more``: at most ``limit`` names, each :func:`printable`."""
    shown = ", ".join(f"'{printable(str(n))}'" for n in names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return shown + more


def error_line(exc: BaseException) -> str:
    """The last line of an exception's message, :func:`printable` (or its type's name)."""
    text = str(exc).strip().splitlines()
    # parser messages quote the offending cell: bound it and show control characters escaped
    return printable(text[-1], 300) if text else type(exc).__name__
