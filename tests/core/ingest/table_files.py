"""Small table files, one or more per supported format, written for the table tests."""

from __future__ import annotations

import gzip
from pathlib import Path

from ids_desktop.core.ingest.tables import (
    CIC_CLEANED_FEATURES,
    CIC_FEATURES,
    KDD_FEATURES,
    TABLE_FORMATS,
    TON_COLUMNS,
    UNSW_COLUMNS,
    UNSW_RAW_COLUMNS,
)


def write_text(path: Path, text: str, *, encoding: str = "utf-8", newline: str = "\n") -> Path:
    """Write ``text`` to ``path`` in ``encoding`` with ``newline`` line ends (gzip for .gz)."""
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
    return write_text(tmp_path / name, "\n".join(lines) + "\n", encoding="cp1252")


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
    return write_text(tmp_path / "Friday-traffic.csv", "\n".join(lines) + "\n")


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
    return write_text(tmp_path / "cicids2017_cleaned.csv", "\n".join(lines) + "\n")


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
    return write_text(tmp_path / name, "\n".join(lines) + "\n", newline="\r\n")


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
    return write_text(tmp_path / "UNSW-NB15_1.csv", "\n".join(lines) + "\n")


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
    return write_text(tmp_path / "train_test_network.csv", "\n".join(lines) + "\n")


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
    return write_text(tmp_path / "KDDTest+.txt", "\n".join(lines) + "\n")


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
    return write_text(tmp_path / "KDDTrain+.arff", "\n".join(head + rows) + "\n")


def labels_of(result) -> tuple[list, list, list]:
    """``label_binary``, ``label_class`` and ``label_original`` of a result, as lists."""
    f = result.frame
    return (
        f["label_binary"].tolist(),
        f["label_class"].tolist(),
        f["label_original"].tolist(),
    )
