"""The chunked table reader on damaged or odd files: encodings, bad cells, cancel."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.tables import (
    TABLE_FORMATS,
    UNSW_COLUMNS,
    read_table,
)
from ids_desktop.core.options import MAX_CSV_CHUNK_ROWS
from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError, InputError
from tests.core.ingest.table_files import (
    cic_file,
    cic_traffic_file,
    unsw_file,
    write_text,
)


def test_empty_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_table(empty, None)
    blank = write_text(tmp_path / "blank.csv", "\n\n  \n")
    with pytest.raises(InputError, match="empty"):
        read_table(blank, None)
    header_only = write_text(tmp_path / "header.csv", ",".join(UNSW_COLUMNS) + "\n")
    result = read_table(header_only, None)
    assert result.format == "unsw-nb15" and len(result.frame) == 0
    assert any("no data rows" in w for w in result.warnings)
    schema.validate_flows(result.frame)
    assert schema.feature_columns(result.frame) == list(TABLE_FORMATS["unsw-nb15"].features)


def test_coercion_warnings_count_cells_and_keep_rows(tmp_path):
    def mutate(i, row):
        if i == 0:
            row["sbytes"] = "abc"
            row["dbytes"] = "inf"
        if i == 1:
            row["sbytes"] = "12x"
            row["dbytes"] = ""
        if i == 2:
            row["dbytes"] = "-Infinity"

    result = read_table(unsw_file(tmp_path, mutate=mutate), None)
    assert len(result.frame) == 4
    assert "sbytes: 2 non-numeric values set to missing" in result.warnings
    assert "dbytes: 1 NaN and 2 infinite values set to missing" in result.warnings
    assert result.frame["sbytes"].isna().tolist() == [True, True, False, False]
    assert result.frame["dbytes"].dtype == "float64"


def test_chunked_read_is_consistent(tmp_path):
    def mutate(i, row):
        if i == 3:
            row["sbytes"] = "oops"

    path = unsw_file(tmp_path, mutate=mutate)
    whole = read_table(path, None)
    chunked = read_table(path, None, chunk_rows=1)
    pd.testing.assert_frame_equal(whole.frame, chunked.frame)
    assert chunked.warnings == whole.warnings == ["sbytes: 1 non-numeric values set to missing"]


def test_chunk_rows_beyond_the_bound_are_refused_not_capped(tmp_path):
    path = unsw_file(tmp_path)
    with pytest.raises(InputError, match=f"CSV chunk rows must be 1-{MAX_CSV_CHUNK_ROWS:,}"):
        read_table(path, None, chunk_rows=MAX_CSV_CHUNK_ROWS + 1)
    with pytest.raises(InputError, match="CSV chunk rows must be"):
        ingest(path, chunk_rows=0)
    widest = read_table(path, None, chunk_rows=MAX_CSV_CHUNK_ROWS)
    pd.testing.assert_frame_equal(widest.frame, read_table(path, None).frame)


def test_non_utf8_header_and_values(tmp_path):
    path = cic_file(tmp_path)
    raw = path.read_bytes()
    assert b"\x96" in raw
    result = read_table(path, None)
    assert sum("Windows-1252" in w for w in result.warnings) == 1


def test_binary_junk_and_long_lines(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"\x01\x02\x03\x00\xff" * 100)
    with pytest.raises(InputError, match="binary data"):
        read_table(junk, None)

    long_line = tmp_path / "long.csv"
    long_line.write_bytes(b"x" * (2 << 20))
    with pytest.raises(InputError, match="longer than"):
        read_table(long_line, None)

    def mutate(i, row):
        if i == 1:
            row["service"] = "h" * 200_000

    result = read_table(unsw_file(tmp_path, mutate=mutate), None)
    assert len(result.frame["service"][1]) == 200_000


def test_line_with_too_many_fields(tmp_path):
    path = unsw_file(tmp_path)
    text = path.read_bytes().decode()
    lines = text.split("\r\n")
    lines[2] += ",extra"
    path.write_bytes("\r\n".join(lines).encode())
    with pytest.raises(InputError, match="line 3 has 46 fields but the table has 45 columns"):
        read_table(path, None)


def test_corrupt_gzip(tmp_path):
    packed = gzip.compress(unsw_file(tmp_path).read_bytes() * 50)
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match="compressed stream"):
        read_table(path, None)


def test_tab_separated_and_unbalanced_quotes(tmp_path):
    text = unsw_file(tmp_path).read_text().replace(",", "\t")
    result = read_table(write_text(tmp_path / "unsw.tsv", text), None)
    assert result.format == "unsw-nb15" and len(result.frame) == 4
    assert any("separated by" in w for w in result.warnings)

    lines = unsw_file(tmp_path).read_text().splitlines()
    lines[2] = lines[2].replace("http", '"http', 1)
    path = write_text(tmp_path / "quote.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match="quote.csv: a quoted field opened in data row 2"):
        read_table(path, None)


def test_delimiter_only_lines_are_skipped_with_warning(tmp_path):
    path = cic_traffic_file(tmp_path)
    text = path.read_text()
    width = text.splitlines()[0].count(",")
    path.write_text(text + ("," * width + "\n") * 3)
    result = read_table(path, None)
    assert len(result.frame) == 2 and result.frame["flow_id"].tolist() == [0, 1]
    assert "3 lines hold no values at all (only delimiters) and were skipped" in result.warnings
    assert not any("NaN" in w for w in result.warnings)


def test_text_cells_in_numeric_column(tmp_path):
    def mutate(i, row):
        row["sbytes"] = ["Infinity", "n/a?", "7", "-inf"][i]

    result = read_table(unsw_file(tmp_path, mutate=mutate), None)
    assert "sbytes: 2 infinite and 1 non-numeric values set to missing" in result.warnings
    assert result.frame["sbytes"].tolist()[2] == 7.0


def test_utf16_tab_separated_from_excel(tmp_path):
    text = unsw_file(tmp_path).read_text().replace(",", "\t")
    path = tmp_path / "excel.txt"
    path.write_bytes(text.encode("utf-16"))
    result = ingest(path)
    assert result.format == "unsw-nb15" and len(result.frame) == 4
    assert result.frame["proto"].tolist()[0] == "udp"


def test_absurd_numbers_in_identity_columns(tmp_path):
    path = cic_traffic_file(tmp_path)
    text = path.read_text().replace(",54321,", ",inf,").replace(",6,03/07", ",1e300,03/07")
    path.write_text(text)
    result = read_table(path, None)
    assert pd.isna(result.frame["src_port"][0]) and pd.isna(result.frame["protocol"][1])
    assert any("port values" in w for w in result.warnings)
    schema.validate_flows(result.frame)


def test_cancel_mid_read(tmp_path):
    token = CancelToken()
    seen = []

    def progress(done, total, stage):
        seen.append(done)
        if len(seen) == 3:
            token.cancel()

    with pytest.raises(CancelledError):
        read_table(unsw_file(tmp_path), None, progress=progress, cancel=token, chunk_rows=1)
    assert len(seen) == 3
