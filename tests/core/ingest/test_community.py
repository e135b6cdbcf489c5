"""Community ID v1 of flow columns: the spec's published vectors and the reference package."""

from __future__ import annotations

import communityid
import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.ingest.community import community_ids

#: Published Community ID v1 values (seed 0): the spec's README and baseline, as the
#: Elasticsearch community_id processor tests and the C/JS implementations repeat them.
#: (src, sport, dst, dport, proto, expected); ICMP carries type and code in the ports.
VECTORS = [
    ("128.232.110.120", 34855, "66.35.250.204", 80, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    ("66.35.250.204", 80, "128.232.110.120", 34855, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
    ("192.168.1.52", 54585, "8.8.8.8", 53, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    ("8.8.8.8", 53, "192.168.1.52", 54585, 17, "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
    ("192.168.170.8", 7, "192.168.170.56", 7, 132, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
    ("2001:470:e5bf:dead:4957:2174:e82c:4887", 63943, "2607:f8b0:400c:c03::1a", 25, 6,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
    ("192.168.0.89", 8, "192.168.0.1", 0, 1, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
    ("fe80::260:97ff:fe07:69ea", 134, "ff02::1", 0, 58, "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
]


def _frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "src_ip": pd.array([r[0] for r in rows], dtype="string"),
            "src_port": pd.array([r[1] for r in rows], dtype="Int64"),
            "dst_ip": pd.array([r[2] for r in rows], dtype="string"),
            "dst_port": pd.array([r[3] for r in rows], dtype="Int64"),
            "protocol": pd.array([r[4] for r in rows], dtype="Int64"),
        }
    )


def _ids(frame: pd.DataFrame) -> list[object]:
    got = community_ids(frame["src_ip"], frame["dst_ip"], frame["protocol"], frame["src_port"],
                        frame["dst_port"])
    return got.astype(object).where(got.notna(), None).tolist()


@pytest.mark.parametrize("row", VECTORS, ids=lambda r: f"{r[4]}-{r[0]}")
def test_published_vectors(row: tuple[object, ...]) -> None:
    assert _ids(_frame([row])) == [row[-1]]


def test_vectors_together_in_one_column() -> None:
    """Mixed v4/v6, TCP/UDP/SCTP/ICMP rows in one call keep each row's own value."""
    assert _ids(_frame(VECTORS)) == [r[-1] for r in VECTORS]


def test_matches_the_reference_package_on_random_tuples() -> None:
    rng = np.random.default_rng(7)
    hosts = ["10.0.0.1", "10.0.0.2", "192.168.1.200", "255.255.255.255", "0.0.0.0",
             "2001:db8::1", "2001:db8::2", "fe80::1", "::1"]
    rows = []
    for _ in range(400):
        v6 = rng.random() < 0.4
        pool = [h for h in hosts if (":" in h) == v6]
        src, dst = rng.choice(pool), rng.choice(pool)
        rows.append((str(src), int(rng.integers(0, 65536)), str(dst),
                     int(rng.choice([int(rng.integers(0, 65536)), 80])),
                     int(rng.choice([6, 17, 132])), None))
    rows.append(("10.0.0.1", 5, "10.0.0.1", 5, 6, None))  # both endpoints equal
    rows.append(("10.0.0.1", 7, "10.0.0.1", 5, 17, None))  # same address, ports decide
    algo = communityid.CommunityID()
    want = [algo.calc(communityid.FlowTuple(r[4], r[0], r[2], r[1], r[3])) for r in rows]
    assert _ids(_frame(rows)) == want


def test_portless_protocol_goes_through_the_package() -> None:
    frame = _frame([("10.0.0.1", None, "10.0.0.2", None, 47, None)])
    want = communityid.CommunityID().calc(communityid.FlowTuple(47, "10.0.0.1", "10.0.0.2"))
    assert _ids(frame) == [want]


def test_undefined_flows_get_no_id() -> None:
    rows = [
        (None, 1, "10.0.0.2", 2, 6, None),  # no address
        ("not-an-ip", 1, "10.0.0.2", 2, 6, None),
        ("10.0.0.1", None, "10.0.0.2", 2, 6, None),  # TCP without ports
        ("10.0.0.1", 1, "2001:db8::1", 2, 6, None),  # v4 with v6
        ("10.0.0.1", None, "10.0.0.2", None, 1, None),  # ICMP without type/code
        ("10.0.0.1", 1, "10.0.0.2", 2, None, None),  # no protocol
    ]
    assert _ids(_frame(rows)) == [None] * len(rows)


def test_empty_column() -> None:
    assert _ids(_frame([])) == []
