"""The app's own export: round trips in CSV and Parquet, empty tables, cancel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest.tables import (
    UNSW_COLUMNS,
    read_table,
    write_export,
)
from ids_desktop.core.ingest.tables import export as export_module
from ids_desktop.errors import CancelledError, InputError
from tests.core.ingest.table_files import (
    arff_file,
    cic_traffic_file,
    nsl_file,
    ton_file,
    unsw_raw_file,
    write_text,
)


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
@pytest.mark.parametrize("writer", [cic_traffic_file, ton_file, unsw_raw_file, arff_file])
def test_export_round_trip(tmp_path, suffix, writer):
    original = read_table(writer(tmp_path), None)
    out = write_export(original, tmp_path / f"export{suffix}")
    again = read_table(out, None)
    assert again.format == "ids-desktop"
    assert again.feature_format == original.feature_format
    assert again.temporal == original.temporal
    pd.testing.assert_frame_equal(original.frame, again.frame)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_of_empty_table(tmp_path):
    original = read_table(write_text(tmp_path / "h.csv", ",".join(UNSW_COLUMNS) + "\n"), None)
    for suffix in (".csv", ".parquet"):
        again = read_table(write_export(original, tmp_path / f"e{suffix}"), None)
        assert len(again.frame) == 0 and again.format == "ids-desktop"
        assert list(again.frame.columns) == list(original.frame.columns)
        if suffix == ".parquet":  # a CSV without rows has nowhere to say its feature format
            assert again.feature_format == "unsw-nb15"
            pd.testing.assert_frame_equal(original.frame, again.frame)


def test_export_rejects_unknown_suffix(tmp_path):
    result = read_table(nsl_file(tmp_path), None)
    with pytest.raises(InputError, match=r"\.csv, \.csv\.gz or \.parquet"):
        write_export(result, tmp_path / "flows.xlsx")
    assert not (tmp_path / "flows.xlsx").exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_export_keeps_any_feature_dtypes(tmp_path, suffix):
    """A capture-like frame: 'string' text features, an all-missing text column, odd values."""
    from ids_desktop.core.ingest.result import IngestResult

    frame = schema.empty_identity(3)
    frame["src_ip"] = pd.array(["10.0.0.1", None, "fe80::1"], dtype="string")
    frame["first_seen"] = [1.5, np.nan, 1e9 + 0.123456789]
    frame["bidirectional_bytes"] = [0.1 + 0.2, np.nan, 1e-300]
    frame["user_agent"] = pd.array([None, None, None], dtype="string")
    frame["requested_server_name"] = pd.array(["a,b", 'q"uote', "NA"], dtype="string")
    frame["service_code"] = pd.Series(["046", None, "7"], dtype="str")
    original = IngestResult(
        frame=schema.conform(frame), format="pcap", feature_format="pcap", temporal=True
    )
    again = read_table(write_export(original, tmp_path / f"flows{suffix}"), None)
    assert (again.feature_format, again.temporal) == ("pcap", True)
    pd.testing.assert_frame_equal(original.frame, again.frame)


class _CancelAfter:
    """A cancel token that trips on its n-th check."""

    def __init__(self, n: int) -> None:
        self.calls = 0
        self.n = n

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls >= self.n


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_cancel_mid_export_leaves_nothing(tmp_path, monkeypatch, suffix):
    result = read_table(nsl_file(tmp_path), None)
    monkeypatch.setattr(export_module, "EXPORT_WRITE_ROWS", 1)  # a cancel check per row
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(CancelledError):
        write_export(result, out_dir / f"flows{suffix}", cancel=_CancelAfter(3))
    assert list(out_dir.iterdir()) == []
