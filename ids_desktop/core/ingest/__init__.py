"""Turn whatever the analyst opens into the canonical flow table.

``ingest(path)`` sniffs the file: packet captures (pcap, pcapng) go to
:mod:`.capture`, text tables (CSV, NSL-KDD .txt/.arff, the app's own export) and Parquet go to
:mod:`.tables`. Both return an :class:`IngestResult`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.options import (
    DEFAULT_ACTIVE_TIMEOUT,
    DEFAULT_CSV_CHUNK_ROWS,
    DEFAULT_IDLE_TIMEOUT,
)
from ids_desktop.core.tasks import Cancel, Progress
from ids_desktop.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IngestResult", "ingest", "list_formats", "sniff_kind", "write_flows"]

#: First bytes of the capture containers nfstream reads (libpcap, both byte orders and the
#: nanosecond variant, and pcapng's Section Header Block).
CAPTURE_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "pcap",
    b"\xa1\xb2\xc3\xd4": "pcap",
    b"\x4d\x3c\xb2\xa1": "pcap",
    b"\xa1\xb2\x3c\x4d": "pcap",
    b"\x0a\x0d\x0d\x0a": "pcapng",
}
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"


def sniff_kind(path: Path) -> str:
    """Return ``pcap``, ``pcapng``, ``parquet`` or ``table`` from the file's first bytes.

    Raises
    ------
    InputError
        When the file is missing, empty, a directory or neither a capture nor text.
    """
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; choose a capture (.pcap, .pcapng) or a CSV file")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise InputError(f"{path}: the file is empty")
    if head[:4] in CAPTURE_MAGICS:
        return CAPTURE_MAGICS[head[:4]]
    if head[:4] == PARQUET_MAGIC:
        return "parquet"
    if head[:2] == GZIP_MAGIC:
        return "table"
    if _looks_like_text(head):
        return "table"
    suffix = path.suffix.lower()
    if suffix in (".pcap", ".pcapng", ".cap"):
        raise InputError(
            f"{path}: not a packet capture (unknown magic number {head[:4].hex()}); "
            "choose a .pcap or .pcapng file written by tcpdump, Wireshark or similar"
        )
    raise InputError(
        f"{path}: neither a packet capture (.pcap, .pcapng) nor a text table (CSV, .txt, .arff)"
    )


def _looks_like_text(head: bytes) -> bool:
    """True when the first bytes look like text in some 8-bit or UTF encoding."""
    if not head:
        return False
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13, 12))
    return controls <= len(head) // 100


def ingest(
    path: str | Path,
    fmt: str | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    active_timeout: float | None = DEFAULT_ACTIVE_TIMEOUT,
    meter_nice: int = 0,
    chunk_rows: int = DEFAULT_CSV_CHUNK_ROWS,
    on_flows: Callable[[pd.DataFrame], None] | None = None,
) -> IngestResult:
    """Read a capture or a flow table into the canonical flow table.

    Parameters
    ----------
    path
        A .pcap/.pcapng capture, a dataset CSV (plain or gzip), an NSL-KDD .txt/.arff, or the
        app's own CSV/Parquet export.
    fmt
        Force a format by name (see :func:`list_formats`); ``None`` detects it.
    progress, cancel
        Hooks, see :mod:`ids_desktop.core.tasks`.
    idle_timeout, active_timeout
        Flow timeouts in seconds for captures (``None``, an unset option, means the defaults
        :data:`~ids_desktop.core.options.DEFAULT_IDLE_TIMEOUT` and
        :data:`~ids_desktop.core.options.DEFAULT_ACTIVE_TIMEOUT`).
    meter_nice
        Niceness added to a capture's meter processes (see
        :attr:`~ids_desktop.core.options.AnalysisOptions.meter_nice`); 0 keeps this priority.
    chunk_rows
        Rows per read step of a flow table, at most
        :data:`~ids_desktop.core.options.MAX_CSV_CHUNK_ROWS` (see
        :func:`~ids_desktop.core.ingest.tables.read_table`).
    on_flows
        Optional hook for captures: ``on_flows(batch)`` receives each batch of extracted flows
        while extraction runs (see :func:`~ids_desktop.core.ingest.capture.read_capture`).
        Flow tables are read without calling it.
    """
    path = Path(path)
    kind = sniff_kind(path)
    if kind in ("pcap", "pcapng"):
        if fmt not in (None, "pcap", "pcapng"):
            raise InputError(f"{path}: is a packet capture ({kind}), not format '{fmt}'")
        from ids_desktop.core.ingest.capture import read_capture

        return read_capture(
            path,
            progress=progress,
            cancel=cancel,
            idle_timeout=idle_timeout,
            active_timeout=active_timeout,
            meter_nice=meter_nice,
            on_flows=on_flows,
        )
    if fmt in ("pcap", "pcapng"):
        raise InputError(f"{path}: is not a packet capture; it looks like a {kind} file")
    from ids_desktop.core.ingest.tables import read_table

    return read_table(
        path,
        fmt,
        progress=progress,
        cancel=cancel,
        parquet=(kind == "parquet"),
        chunk_rows=chunk_rows,
    )


def list_formats() -> list[dict[str, str]]:
    """Every supported input format: ``name``, ``kind``, ``feature_format``, ``description``."""
    from ids_desktop.core.ingest.tables import TABLE_FORMATS

    formats = [
        {
            "name": "pcap",
            "kind": "capture",
            "feature_format": "pcap",
            "description": "libpcap capture (.pcap/.cap), flows extracted with nfstream",
        },
        {
            "name": "pcapng",
            "kind": "capture",
            "feature_format": "pcap",
            "description": "pcapng capture (.pcapng), flows extracted with nfstream",
        },
    ]
    for spec in TABLE_FORMATS.values():
        formats.append(
            {
                "name": spec.name,
                "kind": "table",
                "feature_format": spec.feature_format,
                "description": spec.description,
            }
        )
    return formats


def write_flows(result: IngestResult, out: str | Path, *, cancel: Cancel | None = None) -> Path:
    """Write the canonical table as the app's own export (CSV or Parquet, by suffix).

    The export re-ingests to the same table (format ``ids-desktop``). The file appears
    atomically: it is written beside the target and renamed, so a cancel leaves nothing.
    """
    from ids_desktop.core.ingest.tables import write_export

    return write_export(result, Path(out), cancel=cancel)
