"""Table ingest on the real dataset samples in ../shared/data (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest.tables import CIC_FEATURES, KDD_FEATURES, TABLE_FORMATS, read_table

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is not available"),
]

# Counts exactly as PROVENANCE.md states them.
UNSW_COUNTS = {
    "Normal": 29_722,
    "Generic": 15_098,
    "Exploits": 8_848,
    "Fuzzers": 4_876,
    "DoS": 3_197,
    "Reconnaissance": 2_765,
    "Analysis": 546,
    "Backdoor": 467,
    "Shellcode": 311,
    "Worms": 33,
}
CIC_COUNTS = {
    "BENIGN": 4_000,
    "PortScan": 1_500,
    "DoS Hulk": 1_500,
    "DDoS": 1_000,
    "DoS GoldenEye": 800,
    "FTP-Patator": 500,
    "SSH-Patator": 400,
    "Web Attack \ufffd Brute Force": 150,
    "Web Attack \ufffd XSS": 100,
    "Web Attack \ufffd Sql Injection": 21,
}
TON_COUNTS = {
    "normal": 34_145,
    "ransomware": 16_224,
    "xss": 16_164,
    "ddos": 16_160,
    "backdoor": 16_081,
    "injection": 16_046,
    "dos": 16_033,
    "scanning": 16_011,
    "password": 15_971,
    "mitm": 829,
}
NSL_COUNTS = {
    "normal": 13_449,
    "neptune": 8_282,
    "ipsweep": 710,
    "satan": 691,
    "portsweep": 587,
    "smurf": 529,
    "nmap": 301,
    "back": 196,
    "teardrop": 188,
    "warezclient": 181,
    "pod": 38,
    "guess_passwd": 10,
    "warezmaster": 7,
    "buffer_overflow": 6,
    "imap": 5,
    "rootkit": 4,
    "multihop": 2,
    "phf": 2,
    "ftp_write": 1,
    "land": 1,
    "loadmodule": 1,
    "spy": 1,
}


def _binary(result) -> dict[int, int]:
    return {int(k): int(v) for k, v in result.frame["label_binary"].value_counts().items()}


def test_unsw_nb15_partition():
    result = read_table(DATA / "unsw_nb15" / "UNSW_NB15_training-set.dev80.csv.gz", None)
    schema.validate_flows(result.frame, TABLE_FORMATS["unsw-nb15"].features)
    assert (result.format, result.feature_format, result.temporal) == (
        "unsw-nb15",
        "unsw-nb15",
        False,
    )
    assert len(result.frame) == 65_863
    assert result.label_counts() == UNSW_COUNTS
    assert _binary(result) == {0: 29_722, 1: 36_141}
    assert result.frame["label_class"].isin(schema.FAMILIES).all()
    assert result.warnings == []


def test_cic_ids2017_sample():
    result = read_table(DATA / "cic_ids2017" / "cic_ids2017_multiclass.csv.gz", None)
    schema.validate_flows(result.frame, CIC_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "cic-ids2017",
        "cic-ids2017",
        False,
    )
    assert len(result.frame) == 9_971
    assert result.label_counts() == CIC_COUNTS
    assert _binary(result) == {0: 4_000, 1: 5_971}
    classes = result.frame["label_class"].value_counts().to_dict()
    assert classes["web_attack"] == 271 and classes["dos"] == 2_300
    # 6 NaN and 12 infinite cells in the rate columns, as PROVENANCE.md says
    assert "Flow Bytes/s: 6 NaN and 3 infinite values set to missing" in result.warnings
    assert "Flow Packets/s: 9 infinite values set to missing" in result.warnings
    assert result.frame["dst_port"].notna().all()


def test_ton_iot_sample():
    result = read_table(DATA / "ton_iot" / "train_test_network.dev80.csv.gz", None)
    schema.validate_flows(result.frame)
    assert (result.format, result.feature_format, result.temporal) == (
        "ton-iot",
        "ton-iot",
        False,
    )
    assert len(result.frame) == 163_664
    assert result.label_counts() == TON_COUNTS
    assert _binary(result) == {0: 34_145, 1: 129_519}
    features = schema.feature_columns(result.frame)
    assert not {"src_ip", "dst_ip", "src_port", "dst_port"} & set(features)
    assert result.frame["src_ip"].notna().all() and result.frame["protocol"].notna().all()


def test_nsl_kdd_txt_sample():
    result = read_table(DATA / "nsl_kdd" / "KDDTrain+_20Percent.txt", None)
    schema.validate_flows(result.frame, KDD_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "nsl-kdd",
        "nsl-kdd",
        False,
    )
    assert len(result.frame) == 25_192
    assert result.label_counts() == NSL_COUNTS
    assert _binary(result) == {0: 13_449, 1: 11_743}
    assert "attack" not in set(result.frame["label_class"])  # every name is known
    assert result.warnings == []


def test_nsl_kdd_arff_sample():
    result = read_table(DATA / "nsl_kdd" / "KDDTrain+_20Percent.arff", None)
    schema.validate_flows(result.frame, KDD_FEATURES)
    assert (result.format, result.feature_format, result.temporal) == (
        "nsl-kdd-arff",
        "nsl-kdd",
        False,
    )
    assert len(result.frame) == 25_192
    assert result.label_counts() == {"normal": 13_449, "anomaly": 11_743}
    assert _binary(result) == {0: 13_449, 1: 11_743}


def test_txt_and_arff_agree():
    txt = read_table(DATA / "nsl_kdd" / "KDDTrain+_20Percent.txt", None).frame
    arff = read_table(DATA / "nsl_kdd" / "KDDTrain+_20Percent.arff", None).frame
    features = list(KDD_FEATURES)
    pd.testing.assert_frame_equal(txt[features], arff[features])
    assert txt["label_binary"].equals(arff["label_binary"])


def test_cic_export_round_trip(tmp_path):
    from ids_desktop.core.ingest.tables import write_export

    original = read_table(DATA / "cic_ids2017" / "cic_ids2017_multiclass.csv.gz", None)
    for suffix in (".csv.gz", ".parquet"):
        again = read_table(write_export(original, tmp_path / f"cic{suffix}"), None)
        assert again.feature_format == "cic-ids2017"
        pd.testing.assert_frame_equal(original.frame, again.frame)
