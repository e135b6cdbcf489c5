"""Table ingest on tiny generated fixtures, one or more per supported format."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.tables import export as export_module
from ids_desktop.core.ingest.tables import (
    CIC_CLEANED_FEATURES,
    CIC_FEATURES,
    KDD_FEATURES,
    TABLE_FORMATS,
    TON_COLUMNS,
    UNSW_COLUMNS,
    UNSW_RAW_COLUMNS,
    read_table,
    write_export,
)
from ids_desktop.core.options import MAX_CSV_CHUNK_ROWS
from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError, InputError, SchemaError

# ---------------------------------------------------------------------------------------------
# Fixture writers
# ---------------------------------------------------------------------------------------------


def _write(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    data = text.replace("\n", newline).encode(encoding)
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def _cic_header(
    features: tuple[str, ...], label: str = "Label", *, spaced: bool = True
) -> list[str]:
    names = ["Fwd Header Length" if f == "Fwd Header Length.1" else f for f in features]
    names = [*names, label]
    return [f" {n}" if spaced and i else n for i, n in enumerate(names)]


def _cic_values(features: tuple[str, ...], row: int) -> list[str]:
    return [str(row * 10 + i) for i in range(len(features))]


CIC_LABELS = ["BENIGN", "DoS Hulk", "Web Attack \u2013 Brute Force", "PortScan", "Bot"]


def cic_file(tmp_path: Path, *, labelled: bool = True, name: str = "Tuesday.csv") -> Path:
    """MachineLearningCVE: spaced headers, literal duplicate header, Infinity/NaN, cp1252 dash."""
    header = _cic_header(CIC_FEATURES)
    if not labelled:
        header = header[:-1]
    lines = [",".join(header)]
    flow_bytes = CIC_FEATURES.index("Flow Bytes/s")
    for row, label in enumerate(CIC_LABELS):
        values = _cic_values(CIC_FEATURES, row)
        values[0] = str(80 + row)
        if row == 1:
            values[flow_bytes] = "Infinity"
        if row == 2:
            values[flow_bytes] = "NaN"
        lines.append(",".join(values + ([label] if labelled else [])))
    return _write(tmp_path / name, "\n".join(lines) + "\n", encoding="cp1252")


def cic_traffic_file(tmp_path: Path) -> Path:
    features = CIC_FEATURES[1:]
    header = [
        "Flow ID",
        " Source IP",
        " Source Port",
        " Destination IP",
        " Destination Port",
        " Protocol",
        " Timestamp",
        *(f" {n}" for n in _cic_header(features, spaced=False)),
    ]
    rows = [
        (
            "192.168.10.5-8.8.8.8-54321-53-17",
            "192.168.10.5",
            "54321",
            "8.8.8.8",
            "53",
            "17",
            "3/7/2017 8:55",
            "BENIGN",
        ),
        (
            "10.0.0.1-10.0.0.2-4444-80-6",
            "10.0.0.1",
            "4444",
            "10.0.0.2",
            "80",
            "6",
            "03/07/2017 08:55:58",
            "DDoS",
        ),
    ]
    lines = [",".join(header)]
    for i, (fid, sip, sport, dip, dport, proto, ts, label) in enumerate(rows):
        values = _cic_values(features, i)
        values[0] = str(2_000_000 * (i + 1))  # Flow Duration in microseconds
        lines.append(",".join([fid, sip, sport, dip, dport, proto, ts, *values, label]))
    return _write(tmp_path / "Friday-traffic.csv", "\n".join(lines) + "\n")


def cic_cleaned_file(tmp_path: Path) -> Path:
    header = [*CIC_CLEANED_FEATURES, "Attack Type"]
    labels = [
        "Normal Traffic",
        "DoS",
        "DDoS",
        "Port Scanning",
        "Brute Force",
        "Web Attacks",
        "Bots",
    ]
    lines = [",".join(header)]
    for row, label in enumerate(labels):
        lines.append(",".join([*_cic_values(CIC_CLEANED_FEATURES, row), label]))
    return _write(tmp_path / "cicids2017_cleaned.csv", "\n".join(lines) + "\n")


UNSW_ROWS = [
    ("udp", "-", "INT", "Normal", "0"),
    ("tcp", "http", "FIN", "Exploits", "1"),
    ("unas", "-", "INT", "Generic", "1"),
    ("tcp", "ftp", "CON", "Reconnaissance", "1"),
]


def unsw_file(tmp_path: Path, *, mutate=None, name: str = "UNSW_NB15_testing-set.csv") -> Path:
    header = list(UNSW_COLUMNS)
    lines = [",".join(header)]
    for i, (proto, service, state, cat, label) in enumerate(UNSW_ROWS):
        row = {c: str(i + k * 0.5) for k, c in enumerate(header)}
        row.update(
            id=str(i + 1), proto=proto, service=service, state=state, attack_cat=cat, label=label
        )
        if mutate:
            mutate(i, row)
        lines.append(",".join(row[c] for c in header))
    return _write(tmp_path / name, "\n".join(lines) + "\n", newline="\r\n")


def unsw_raw_file(tmp_path: Path) -> Path:
    rows = [
        ("59.166.0.0", "1390", "149.171.126.6", "53", "udp", "CON", "dns", "", "0"),
        ("175.45.176.1", "0x000b", "149.171.126.16", "0x000c", "tcp", "FIN", "-", " Fuzzers ", "1"),
        ("175.45.176.3", "-", "149.171.126.18", "80", "tcp", "FIN", "http", "Backdoors", "1"),
    ]
    lines = []
    for i, (sip, sport, dip, dport, proto, state, service, cat, label) in enumerate(rows):
        row = {c: str(i + k) for k, c in enumerate(UNSW_RAW_COLUMNS)}
        row.update(
            srcip=sip,
            sport=sport,
            dstip=dip,
            dsport=dport,
            proto=proto,
            state=state,
            service=service,
            attack_cat=cat,
            Label=label,
            Stime=str(1421927414 + i),
            Ltime=str(1421927416 + i),
        )
        lines.append(",".join(row[c] for c in UNSW_RAW_COLUMNS))
    return _write(tmp_path / "UNSW-NB15_1.csv", "\n".join(lines) + "\n")


def ton_file(tmp_path: Path, *, with_ts: bool = False) -> Path:
    header = (["ts"] if with_ts else []) + list(TON_COLUMNS)
    rows = [
        ("192.168.1.37", "4444", "192.168.1.193", "49178", "tcp", "-", "1", "backdoor"),
        ("192.168.1.30", "51234", "192.168.1.1", "53", "udp", "dns", "0", "normal"),
        ("192.168.1.31", "1111", "192.168.1.2", "80", "tcp", "http", "1", "xss"),
        ("192.168.1.32", "2222", "192.168.1.3", "22", "tcp", "-", "1", "password"),
    ]
    lines = [",".join(header)]
    for i, (sip, sport, dip, dport, proto, service, label, kind) in enumerate(rows):
        row = {c: str(i + k) for k, c in enumerate(TON_COLUMNS)}
        for name in TABLE_FORMATS["ton-iot"].categorical:
            row[name] = "-"
        row.update(
            src_ip=sip,
            src_port=sport,
            dst_ip=dip,
            dst_port=dport,
            proto=proto,
            service=service,
            label=label,
            type=kind,
            http_trans_depth="-",
            dns_AA="T" if i else "-",
            duration="2.5",
        )
        if with_ts:
            row["ts"] = str(1554198358 + i)
        lines.append(",".join(row[c] for c in header))
    return _write(tmp_path / "train_test_network.csv", "\n".join(lines) + "\n")


NSL_ROWS = [
    ("tcp", "ftp_data", "SF", "normal", "20"),
    ("udp", "other", "SF", "neptune", "15"),
    ("icmp", "ecr_i", "SF", "smurf", "21"),
    ("tcp", "http", "SF", "guess_passwd", "19"),
    ("tcp", "telnet", "S0", "newattack", "3"),
]


def nsl_file(tmp_path: Path, *, difficulty: bool = True) -> Path:
    lines = []
    for i, (proto, service, flag, label, level) in enumerate(NSL_ROWS):
        values = [str(i)] * len(KDD_FEATURES)
        values[1:4] = [proto, service, flag]
        values += [label] + ([level] if difficulty else [])
        lines.append(",".join(values))
    return _write(tmp_path / "KDDTest+.txt", "\n".join(lines) + "\n")


def arff_file(tmp_path: Path) -> Path:
    head = ["% NSL-KDD", "@relation 'KDDTrain'"]
    for name in KDD_FEATURES:
        kind = "{'tcp','udp', 'icmp'}" if name == "protocol_type" else "real"
        head.append(f"@attribute '{name}' {kind}")
    head += ["@attribute 'class' {'normal', 'anomaly'}", "", "@data"]
    rows = []
    for i, (proto, service, flag, cls) in enumerate(
        [
            ("tcp", "http", "SF", "normal"),
            ("'icmp'", "ecr_i", "SF", "anomaly"),
            ("udp", "private", "SF", "'anomaly'"),
        ]
    ):
        values = [str(i)] * len(KDD_FEATURES)
        values[1:4] = [proto, service, flag]
        rows.append(",".join([*values, cls]))
    rows.insert(1, "% a comment line")
    return _write(tmp_path / "KDDTrain+.arff", "\n".join(head + rows) + "\n")


# ---------------------------------------------------------------------------------------------
# One test per format
# ---------------------------------------------------------------------------------------------


def _labels(result) -> tuple[list, list, list]:
    f = result.frame
    return (
        f["label_binary"].tolist(),
        f["label_class"].tolist(),
        f["label_original"].tolist(),
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
    binary, classes, original = _labels(result)
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
    assert _labels(result)[1] == ["benign", "ddos"]


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
    binary, classes, original = _labels(result)
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
    assert _labels(result) == (
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
    assert _labels(result) == (
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
    assert _labels(result) == (
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
    assert _labels(result) == (
        [0, 1, 1, 1, 1],
        ["benign", "dos", "dos", "brute_force", "attack"],
        ["normal", "neptune", "smurf", "guess_passwd", "newattack"],
    )
    assert any("newattack" in w for w in result.warnings)


def test_nsl_kdd_txt_without_difficulty(tmp_path):
    result = read_table(nsl_file(tmp_path, difficulty=False), None)
    assert result.format == "nsl-kdd" and len(result.frame) == 5
    assert _labels(result)[1][:3] == ["benign", "dos", "dos"]


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
    assert _labels(result) == (
        [0, 1, 1],
        ["benign", "attack", "attack"],
        ["normal", "anomaly", "anomaly"],
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


def test_dispatcher_reads_tables(tmp_path):
    result = ingest(unsw_file(tmp_path))
    assert result.format == "unsw-nb15" and result.source is not None


# ---------------------------------------------------------------------------------------------
# Robustness
# ---------------------------------------------------------------------------------------------


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
    path = _write(
        tmp_path / "partial.csv", ",".join(header) + "\n" + ",".join("1" * len(header)) + "\n"
    )
    with pytest.raises(SchemaError) as info:
        read_table(path, None)
    message = str(info.value)
    assert "match no supported table format" in message and "cic-ids2017" in message
    assert "Closest is unsw-nb15" in message and "'sttl', 'dttl', 'ct_srv_src'" in message
    assert "\n" not in message

    other = _write(tmp_path / "other.csv", "alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(SchemaError, match="no known column names"):
        read_table(other, None)


def test_empty_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_table(empty, None)
    blank = _write(tmp_path / "blank.csv", "\n\n  \n")
    with pytest.raises(InputError, match="empty"):
        read_table(blank, None)
    header_only = _write(tmp_path / "header.csv", ",".join(UNSW_COLUMNS) + "\n")
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


def test_duplicated_headers_warn(tmp_path):
    header = [*UNSW_COLUMNS, "sbytes"]
    row = ",".join(["1"] * len(UNSW_COLUMNS) + ["2"])
    path = _write(tmp_path / "dup.csv", ",".join(header) + "\n" + row + "\n")
    result = read_table(path, None)
    assert any("duplicated column names 'sbytes'" in w for w in result.warnings)
    assert result.frame["sbytes"].tolist() == [1.0]


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


def test_unlabelled_table(tmp_path):
    result = read_table(cic_file(tmp_path, labelled=False), None)
    assert result.format == "cic-ids2017" and not result.labelled
    assert result.frame[list(schema.LABEL_COLUMNS)].isna().all().all()
    schema.validate_flows(result.frame)
    assert not any("unlabelled" in w for w in result.warnings)


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


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------


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
    original = read_table(_write(tmp_path / "h.csv", ",".join(UNSW_COLUMNS) + "\n"), None)
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


class _CancelAfter:
    """A cancel token that trips on its n-th check."""

    def __init__(self, n: int) -> None:
        self.calls = 0
        self.n = n

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls >= self.n


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


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_cancel_mid_export_leaves_nothing(tmp_path, monkeypatch, suffix):
    result = read_table(nsl_file(tmp_path), None)
    monkeypatch.setattr(export_module, "EXPORT_WRITE_ROWS", 1)  # a cancel check per row
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(CancelledError):
        write_export(result, out_dir / f"flows{suffix}", cancel=_CancelAfter(3))
    assert list(out_dir.iterdir()) == []


def test_nsl_kdd_with_header_row(tmp_path):
    lines = [",".join([*KDD_FEATURES, "class", "difficulty_level"])]
    lines += nsl_file(tmp_path).read_text().splitlines()
    path = _write(tmp_path / "nsl_with_header.csv", "\n".join(lines) + "\n")
    result = read_table(path, None)
    assert result.format == "nsl-kdd" and len(result.frame) == 5
    assert _labels(result)[1] == ["benign", "dos", "dos", "brute_force", "attack"]
    assert schema.feature_columns(result.frame) == list(KDD_FEATURES)
    assert not any("ignored" in w for w in result.warnings)


def test_forced_export_format_on_dataset(tmp_path):
    with pytest.raises(SchemaError, match="not a ids-desktop table.*'flow_id'"):
        read_table(unsw_file(tmp_path), "ids-desktop")


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


def test_arff_errors(tmp_path):
    sparse = arff_file(tmp_path).read_text().replace("0,tcp,http", "{0 1, 2 x}\n0,tcp,http", 1)
    path = _write(tmp_path / "sparse.arff", sparse)
    with pytest.raises(InputError, match="sparse ARFF"):
        read_table(path, None)
    other = _write(tmp_path / "iris.arff", "@relation iris\n@attribute a real\n@data\n1\n")
    with pytest.raises(SchemaError, match="not an nsl-kdd-arff file.*'duration'"):
        read_table(other, None)
    cut = _write(tmp_path / "cut.arff", "@relation x\n@attribute a real\n")
    with pytest.raises(InputError, match="no @data"):
        read_table(cut, None)


def test_tab_separated_and_unbalanced_quotes(tmp_path):
    text = unsw_file(tmp_path).read_text().replace(",", "\t")
    result = read_table(_write(tmp_path / "unsw.tsv", text), None)
    assert result.format == "unsw-nb15" and len(result.frame) == 4
    assert any("separated by" in w for w in result.warnings)

    lines = unsw_file(tmp_path).read_text().splitlines()
    lines[2] = lines[2].replace("http", '"http', 1)
    path = _write(tmp_path / "quote.csv", "\n".join(lines) + "\n")
    with pytest.raises(InputError, match="quote.csv: a quoted field opened in data row 2"):
        read_table(path, None)


@pytest.mark.parametrize("writer", [unsw_file, ton_file, cic_file])
def test_dataset_parquet_reads_like_its_csv(tmp_path, writer):
    csv_path = writer(tmp_path)
    from_csv = read_table(csv_path, None)
    raw = pd.read_csv(csv_path, encoding="cp1252" if writer is cic_file else "utf-8")
    raw.to_parquet(tmp_path / "table.parquet")
    from_parquet = read_table(tmp_path / "table.parquet", None)
    assert from_parquet.format == from_csv.format
    pd.testing.assert_frame_equal(from_csv.frame, from_parquet.frame)


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
