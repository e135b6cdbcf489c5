"""Dataset flow tables (CIC-IDS2017, UNSW-NB15, ToN-IoT, NSL-KDD, the app's export) as flows.

One job per module:

- :mod:`.formats`: every supported format, declared once (columns, labels, :class:`TableFormat`).
- :mod:`.text`: the file as text (gzip, UTF-8 with a Windows-1252 fallback, lines, fields).
- :mod:`.arff`: the header of an ARFF file.
- :mod:`.detect`: which format a file is and how to read it (a :class:`~.detect.ReadPlan`).
- :mod:`.columns`: cells to canonical values (numbers, ports, times, labels).
- :mod:`.adapters`: one chunk of each dataset to canonical rows.
- :mod:`.reader`: :func:`read_table`, the chunked read that ties them together.
- :mod:`.export`: the app's own export, written by :func:`write_export` and read back.
"""

from __future__ import annotations

from ids_desktop.core.ingest.tables.export import write_export
from ids_desktop.core.ingest.tables.formats import (
    CIC_CLEANED_DROPPED,
    CIC_CLEANED_FEATURES,
    CIC_FEATURES,
    EXPORT_FORMAT,
    KDD_FEATURES,
    TABLE_FORMATS,
    TON_COLUMNS,
    UNSW_COLUMNS,
    UNSW_RAW_COLUMNS,
    TableFormat,
)
from ids_desktop.core.ingest.tables.reader import read_table

__all__ = [
    "CIC_CLEANED_DROPPED",
    "CIC_CLEANED_FEATURES",
    "CIC_FEATURES",
    "EXPORT_FORMAT",
    "KDD_FEATURES",
    "TABLE_FORMATS",
    "TON_COLUMNS",
    "UNSW_COLUMNS",
    "UNSW_RAW_COLUMNS",
    "TableFormat",
    "read_table",
    "write_export",
]
