"""Table ingest: one or more tests per supported format, on tiny generated files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.tables import (
    CIC_CLEANED_FEATURES,
    CIC_FEATURES,
    KDD_FEATURES,
    TABLE_FORMATS,
    read_table,
)
from tests.core.ingest.table_files import (
    arff_file,
    cic_cleaned_file,
    cic_file,
    cic_traffic_file,
    labels_of,
    nsl_file,
    ton_file,
    unsw_file,
    unsw_raw_file,
    write_text,
)


def test_cic_machine_learning_cve(tmp_path):
    result = read_table(cic_file(tmp_path), None)
    schema.validate_flows(result.frame, CIC_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "cic-ids2017",
        "cic-ids2017",
        False,
    )
    assert schema.feature_columns(result.frame) == list(CIC_FEATURES)
    binary, classes, original = labels_of(result)
    assert binary == [0, 1, 1, 1, 1]
    assert classes == ["benign", "dos", "web_attack", "scan", "botnet"]
    assert original[2] == "Web Attack \u2013 Brute Force"  # cp1252 0x96 decoded, kept as written
    assert result.frame["dst_port"].tolist() == [80, 81, 82, 83, 84]
    assert result.frame["protocol"].isna().all()
    assert result.frame["flow_id"].tolist() == [0, 1, 2, 3, 4]
    assert "Flow Bytes/s: 1 NaN and 1 infinite values set to missing" in result.warnings
    assert any("Windows-1252" in w for w in result.warnings)
    assert np.isnan(result.frame.loc[1, "Flow Bytes/s"])
    assert result.frame["Fwd Header Length.1"].dtype == "float64"
    assert not any("duplicated" in w for w in result.warnings)


def test_cic_traffic_labelling(tmp_path):
    result = read_table(cic_traffic_file(tmp_path), None)
    schema.validate_flows(result.frame, CIC_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "cic-ids2017-traffic",
        "cic-ids2017",
        True,
    )
    f = result.frame
    assert schema.feature_columns(f) == list(CIC_FEATURES)
    assert f["src_ip"].tolist() == ["192.168.10.5", "10.0.0.1"]
    assert f["dst_ip"].tolist() == ["8.8.8.8", "10.0.0.2"]
    assert f["src_port"].tolist() == [54321, 4444]
    assert f["dst_port"].tolist() == [53, 80]
    assert f["protocol"].tolist() == [17, 6]
    # 3 July 2017 (day first), naive times taken as UTC
    assert f["first_seen"].tolist() == [1499072100.0, 1499072158.0]
    assert f["last_seen"].tolist() == [1499072102.0, 1499072162.0]
    assert labels_of(result)[1] == ["benign", "ddos"]


def test_cic_cleaned(tmp_path):
    result = read_table(cic_cleaned_file(tmp_path), None)
    schema.validate_flows(result.frame, CIC_CLEANED_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "cic-ids2017-cleaned",
        "cic-ids2017",
        False,
    )
    features = schema.feature_columns(result.frame)
    assert len(features) == 52 and set(features) <= set(CIC_FEATURES)
    binary, classes, original = labels_of(result)
    assert classes == ["benign", "dos", "ddos", "scan", "brute_force", "web_attack", "botnet"]
    assert binary == [0, 1, 1, 1, 1, 1, 1]
    assert original[0] == "Normal Traffic"


def test_unsw_partitioned(tmp_path):
    result = read_table(unsw_file(tmp_path), None)
    schema.validate_flows(result.frame)
    assert (result.format, result.feature_format, result.temporal) == (
        "unsw-nb15",
        "unsw-nb15",
        False,
    )
    f = result.frame
    features = schema.feature_columns(f)
    assert len(features) == 42 and "id" not in features and features[0] == "dur"
    assert f["proto"].tolist() == ["udp", "tcp", "unas", "tcp"]
    assert str(f["state"].dtype) == "str" and f["sbytes"].dtype == "float64"
    assert f["protocol"].tolist()[:2] == [17, 6] and pd.isna(f["protocol"][2])
    assert f["application"].tolist()[1] == "http" and pd.isna(f["application"][0])
    assert labels_of(result) == (
        [0, 1, 1, 1],
        ["benign", "exploit", "generic", "scan"],
        ["Normal", "Exploits", "Generic", "Reconnaissance"],
    )
    assert result.warnings == []


def test_unsw_raw(tmp_path):
    result = read_table(unsw_raw_file(tmp_path), None)
    schema.validate_flows(result.frame)
    assert (result.format, result.feature_format, result.temporal) == (
        "unsw-nb15-raw",
        "unsw-nb15",
        True,
    )
    f = result.frame
    features = schema.feature_columns(f)
    partitioned = set(TABLE_FORMATS["unsw-nb15"].features)
    assert set(features) == partitioned - {"rate"}
    assert {"spkts", "sload", "smean", "sinpkt", "response_body_len"} <= set(features)
    assert not {"Spkts", "srcip", "Stime", "sport"} & set(features)
    assert f["src_port"].tolist()[:2] == [1390, 11] and pd.isna(f["src_port"][2])
    assert f["dst_port"].tolist() == [53, 12, 80]
    assert f["src_ip"].tolist()[0] == "59.166.0.0"
    assert f["first_seen"].tolist() == [1421927414.0, 1421927415.0, 1421927416.0]
    assert f["last_seen"].tolist() == [1421927416.0, 1421927417.0, 1421927418.0]
    assert labels_of(result) == (
        [0, 1, 1],
        ["benign", "fuzzing", "backdoor"],
        ["Normal", "Fuzzers", "Backdoors"],
    )


def test_ton_iot(tmp_path):
    result = read_table(ton_file(tmp_path), None)
    schema.validate_flows(result.frame)
    assert (result.format, result.feature_format, result.temporal) == (
        "ton-iot",
        "ton-iot",
        False,
    )
    f = result.frame
    features = schema.feature_columns(f)
    assert not {"src_ip", "dst_ip", "src_port", "dst_port", "ts", "label", "type"} & set(features)
    assert f["src_ip"].tolist()[0] == "192.168.1.37" and f["dst_port"].tolist()[1] == 53
    assert f["protocol"].tolist() == [6, 17, 6, 6]
    assert pd.isna(f["application"][0]) and f["application"][1] == "dns"
    assert pd.isna(f["dns_AA"][0]) and f["dns_AA"][1] == "T"  # '-' means missing
    assert f["http_trans_depth"].isna().all()
    assert not any("http_trans_depth" in w for w in result.warnings)
    assert f["first_seen"].isna().all()
    assert labels_of(result) == (
        [1, 0, 1, 1],
        ["backdoor", "benign", "web_attack", "brute_force"],
        ["backdoor", "normal", "xss", "password"],
    )


def test_ton_iot_with_timestamps(tmp_path):
    result = read_table(ton_file(tmp_path, with_ts=True), None)
    assert result.format == "ton-iot" and result.temporal is True
    assert result.frame["first_seen"].tolist() == [1554198358.0 + i for i in range(4)]
    assert result.frame["last_seen"].tolist() == [1554198360.5 + i for i in range(4)]
    assert "ts" not in schema.feature_columns(result.frame)


def test_nsl_kdd_txt(tmp_path):
    result = read_table(nsl_file(tmp_path), None)
    schema.validate_flows(result.frame, KDD_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "nsl-kdd",
        "nsl-kdd",
        False,
    )
    f = result.frame
    assert schema.feature_columns(f) == list(KDD_FEATURES)
    assert f["protocol"].tolist() == [6, 17, 1, 6, 6]
    assert f["application"].tolist()[0] == "ftp_data"
    assert labels_of(result) == (
        [0, 1, 1, 1, 1],
        ["benign", "dos", "dos", "brute_force", "attack"],
        ["normal", "neptune", "smurf", "guess_passwd", "newattack"],
    )
    assert any("newattack" in w for w in result.warnings)


def test_nsl_kdd_txt_without_difficulty(tmp_path):
    result = read_table(nsl_file(tmp_path, difficulty=False), None)
    assert result.format == "nsl-kdd" and len(result.frame) == 5
    assert labels_of(result)[1][:3] == ["benign", "dos", "dos"]


def test_nsl_kdd_arff(tmp_path):
    result = read_table(arff_file(tmp_path), None)
    schema.validate_flows(result.frame, KDD_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "nsl-kdd-arff",
        "nsl-kdd",
        False,
    )
    f = result.frame
    assert f["protocol_type"].tolist() == ["tcp", "icmp", "udp"]
    assert labels_of(result) == (
        [0, 1, 1],
        ["benign", "attack", "attack"],
        ["normal", "anomaly", "anomaly"],
    )


def test_nsl_kdd_with_header_row(tmp_path):
    lines = [",".join([*KDD_FEATURES, "class", "difficulty_level"])]
    lines += nsl_file(tmp_path).read_text().splitlines()
    path = write_text(tmp_path / "nsl_with_header.csv", "\n".join(lines) + "\n")
    result = read_table(path, None)
    assert result.format == "nsl-kdd" and len(result.frame) == 5
    assert labels_of(result)[1] == ["benign", "dos", "dos", "brute_force", "attack"]
    assert schema.feature_columns(result.frame) == list(KDD_FEATURES)
    assert not any("ignored" in w for w in result.warnings)


def test_unlabelled_table(tmp_path):
    result = read_table(cic_file(tmp_path, labelled=False), None)
    assert result.format == "cic-ids2017" and not result.labelled
    assert result.frame[list(schema.LABEL_COLUMNS)].isna().all().all()
    schema.validate_flows(result.frame)
    assert not any("unlabelled" in w for w in result.warnings)


def test_dispatcher_reads_tables(tmp_path):
    result = ingest(unsw_file(tmp_path))
    assert result.format == "unsw-nb15" and result.source is not None


@pytest.mark.parametrize("writer", [unsw_file, ton_file, cic_file])
def test_dataset_parquet_reads_like_its_csv(tmp_path, writer):
    csv_path = writer(tmp_path)
    from_csv = read_table(csv_path, None)
    raw = pd.read_csv(csv_path, encoding="cp1252" if writer is cic_file else "utf-8")
    raw.to_parquet(tmp_path / "table.parquet")
    from_parquet = read_table(tmp_path / "table.parquet", None)
    assert from_parquet.format == from_csv.format
    pd.testing.assert_frame_equal(from_csv.frame, from_parquet.frame)


def test_every_format_is_declared():
    assert set(TABLE_FORMATS) == {
        "cic-ids2017",
        "cic-ids2017-traffic",
        "cic-ids2017-cleaned",
        "unsw-nb15",
        "unsw-nb15-raw",
        "ton-iot",
        "nsl-kdd",
        "nsl-kdd-arff",
        "ids-desktop",
    }
    for spec in TABLE_FORMATS.values():
        assert spec.name and spec.description and set(spec.required) <= set(spec.columns)
