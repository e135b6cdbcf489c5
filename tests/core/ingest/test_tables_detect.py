"""Format detection: forced formats, near misses, duplicated and ARFF headers."""

from __future__ import annotations

import gzip

import pytest

from ids_desktop.core.ingest.tables import (
    UNSW_COLUMNS,
    read_table,
)
from ids_desktop.errors import InputError, SchemaError
from tests.core.ingest.table_files import (
    arff_file,
    cic_file,
    unsw_file,
    write_text,
)


def test_format_override_and_gzip(tmp_path):
    plain = unsw_file(tmp_path)
    packed = tmp_path / "unsw.csv.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    calls = []
    result = read_table(packed, "unsw-nb15", progress=lambda d, t, s: calls.append((d, t, s)))
    assert result.format == "unsw-nb15" and len(result.frame) == 4
    total = packed.stat().st_size
    assert calls[-1] == (total, total, "reading")
    assert all(d <= total and t == total for d, t, _ in calls)


def test_forced_format_mismatch_lists_missing_columns(tmp_path):
    with pytest.raises(SchemaError, match="not a unsw-nb15 table.*'dur', 'proto'"):
        read_table(cic_file(tmp_path), "unsw-nb15")
    with pytest.raises(SchemaError, match="not a nsl-kdd table.*42 or 43 fields"):
        read_table(unsw_file(tmp_path), "nsl-kdd")
    with pytest.raises(SchemaError, match="nsl-kdd-arff"):
        read_table(unsw_file(tmp_path), "nsl-kdd-arff")


def test_unknown_format_name(tmp_path):
    with pytest.raises(InputError, match="unknown format 'cic'"):
        read_table(unsw_file(tmp_path), "cic")


def test_unknown_schema_names_closest_format(tmp_path):
    header = [c for c in UNSW_COLUMNS if c not in ("sttl", "dttl", "ct_srv_src")]
    path = write_text(
        tmp_path / "partial.csv", ",".join(header) + "\n" + ",".join("1" * len(header)) + "\n"
    )
    with pytest.raises(SchemaError) as info:
        read_table(path, None)
    message = str(info.value)
    assert "match no supported table format" in message and "cic-ids2017" in message
    assert "Closest is unsw-nb15" in message and "'sttl', 'dttl', 'ct_srv_src'" in message
    assert "\n" not in message

    other = write_text(tmp_path / "other.csv", "alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(SchemaError, match="no known column names"):
        read_table(other, None)


def test_duplicated_headers_warn(tmp_path):
    header = [*UNSW_COLUMNS, "sbytes"]
    row = ",".join(["1"] * len(UNSW_COLUMNS) + ["2"])
    path = write_text(tmp_path / "dup.csv", ",".join(header) + "\n" + row + "\n")
    result = read_table(path, None)
    assert any("duplicated column names 'sbytes'" in w for w in result.warnings)
    assert result.frame["sbytes"].tolist() == [1.0]


def test_forced_export_format_on_dataset(tmp_path):
    with pytest.raises(SchemaError, match="not a ids-desktop table.*'flow_id'"):
        read_table(unsw_file(tmp_path), "ids-desktop")


def test_arff_errors(tmp_path):
    sparse = arff_file(tmp_path).read_text().replace("0,tcp,http", "{0 1, 2 x}\n0,tcp,http", 1)
    path = write_text(tmp_path / "sparse.arff", sparse)
    with pytest.raises(InputError, match="sparse ARFF"):
        read_table(path, None)
    other = write_text(tmp_path / "iris.arff", "@relation iris\n@attribute a real\n@data\n1\n")
    with pytest.raises(SchemaError, match="not an nsl-kdd-arff file.*'duration'"):
        read_table(other, None)
    cut = write_text(tmp_path / "cut.arff", "@relation x\n@attribute a real\n")
    with pytest.raises(InputError, match="no @data"):
        read_table(cut, None)
