"""Flow tables in the app's dataset layouts, for tests, benchmarks and the fuzz corpus."""

from __future__ import annotations

import random
from pathlib import Path

#: The header of a UNSW-NB15 partition file (training-set / testing-set layout).
UNSW_HEADER = (
    "id,dur,proto,service,state,spkts,dpkts,sbytes,dbytes,rate,sttl,dttl,sload,dload,sloss,dloss,"
    "sinpkt,dinpkt,sjit,djit,swin,stcpb,dtcpb,dwin,tcprtt,synack,ackdat,smean,dmean,trans_depth,"
    "response_body_len,ct_srv_src,ct_state_ttl,ct_dst_ltm,ct_src_dport_ltm,ct_dst_sport_ltm,"
    "ct_dst_src_ltm,is_ftp_login,ct_ftp_cmd,ct_flw_http_mthd,ct_src_ltm,ct_srv_dst,is_sm_ips_ports,"
    "attack_cat,label"
)


def write_unsw(path: Path, rows: list[tuple[str, int]]) -> Path:
    """Write a tiny UNSW-NB15 partition file: one row per (attack_cat, label).

    Parameters
    ----------
    path
        Output CSV (CRLF line endings, as the published files).
    rows
        ``(attack_cat, label)`` of each row; the numeric cells are a fixed pattern of the row
        number.

    Returns
    -------
    Path
        ``path``.
    """
    n_numeric = len(UNSW_HEADER.split(",")) - 6  # id, proto, service, state, attack_cat, label
    lines = [UNSW_HEADER]
    for i, (cat, label) in enumerate(rows, start=1):
        nums = ",".join(str((i * 7 + j) % 13) for j in range(n_numeric - 1))
        lines.append(f"{i},0.5,tcp,http,FIN,{nums},{cat},{label}")
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def synthetic_table(fmt: str, rows: int, rng: random.Random) -> str:
    """A CSV (text) in one of the app's table layouts, with made-up but plausible values.

    Parameters
    ----------
    fmt
        A key of ``ids_desktop.core.ingest.tables.TABLE_FORMATS`` (``"cic-ids2017"``,
        ``"unsw-nb15"``, ``"ton-iot"``, ``"nsl-kdd"``).
    rows
        Data rows to write.
    rng
        The random source; the same seed gives the same text.

    Returns
    -------
    str
        The whole file, with a header line when the layout has one.
    """
    # Imported here, not at the top: it brings pandas, and write_unsw (above) must run on a
    # bare Python for the installer's smoke test (scripts/smoke_bundle.sh, bench/bundle.py).
    from ids_desktop.core.ingest.tables import TABLE_FORMATS

    spec = TABLE_FORMATS[fmt]
    labels_by_format: dict[str, dict[str, tuple[str, ...]]] = {
        "cic-ids2017": {"Label": ("BENIGN", "PortScan", "DDoS", "DoS Hulk")},
        "unsw-nb15": {
            "attack_cat": ("Normal", "Exploits", "Generic", "Reconnaissance"),
            "label": ("0", "1"),
        },
        "ton-iot": {"label": ("0", "1"), "type": ("normal", "scanning", "ddos", "password")},
        "nsl-kdd": {},
    }
    labels = labels_by_format[fmt]
    text_values = {
        "proto": ("tcp", "udp", "icmp"), "service": ("-", "http", "dns", "ftp"),
        "state": ("FIN", "INT", "CON"), "protocol_type": ("tcp", "udp", "icmp"),
        "flag": ("SF", "S0", "REJ"), "conn_state": ("SF", "S0", "REJ"),
        "dns_query": ("example.com", "-"), "http_user_agent": ("-", "curl/8"),
        "ssl_subject": ("-",), "ssl_issuer": ("-",), "http_uri": ("-", "/index.html"),
        "src_ip": ("10.0.0.1", "192.168.1.5"), "dst_ip": ("10.0.0.2", "203.0.113.9"),
    }  # fmt: skip
    cat = set(spec.categorical) | set(text_values)
    lines = []
    if spec.header:
        names = enumerate(spec.columns)
        lines.append(",".join((" " + c) if fmt == "cic-ids2017" and i else c for i, c in names))
    for _ in range(rows):
        cells = []
        for c in spec.columns:
            if c in labels:
                cells.append(rng.choice(labels[c]))
            elif c in cat:
                cells.append(rng.choice(text_values.get(c, ("a", "b", "-"))))
            elif fmt == "nsl-kdd" and c == spec.columns[-2]:
                cells.append(rng.choice(("normal", "neptune", "smurf", "satan")))
            else:
                count, measure = rng.randrange(100_000), round(rng.random() * 1000, 3)
                cells.append(str(rng.choice((0, 1, 2, 80, 443, count, measure))))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"
