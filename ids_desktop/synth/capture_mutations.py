"""Capture mutations for the fuzz corpus: a pcap/pcapng parsed into records, then damaged.

Record-aware, so cuts land where they should: cuts at a record boundary and inside a record
header or body, flipped file-header bytes, wrong magic numbers, huge/zero snapshot lengths,
wrong version, odd link types, zero-length and oversized packets, captured length above the
original length, negative (pre-1970), backwards and shuffled timestamps, sub-second fields out of
range, random byte flips in packet bodies, pcapng block-length and byte-order damage, two files
concatenated, empty and header-only files.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable
from dataclasses import dataclass

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": "<",
    b"\xa1\xb2\xc3\xd4": ">",
    b"\x4d\x3c\xb2\xa1": "<",
    b"\xa1\xb2\x3c\x4d": ">",
}


@dataclass
class Container:
    """A parsed capture: the file header and each record's bytes (record header and body)."""

    fmt: str  # "pcap" or "pcapng"
    endian: str
    header: bytes  # pcap: 24-byte file header; pcapng: bytes before the first packet block
    records: list[bytes]  # complete records (pcap: 16-byte header + body; pcapng: whole block)

    def offsets(self) -> list[int]:
        """The file offset of each record."""
        out, off = [], len(self.header)
        for rec in self.records:
            out.append(off)
            off += len(rec)
        return out

    def build(self, records: list[bytes] | None = None, header: bytes | None = None) -> bytes:
        """The file bytes, with other records and/or another header when given."""
        return (self.header if header is None else header) + b"".join(
            self.records if records is None else records
        )


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
    head = struct.pack(c.endian + "IIIIIII", 6, total, iface, (ts >> 32) & 0xFFFFFFFF,
                       ts & 0xFFFFFFFF, incl & 0xFFFFFFFF, orig & 0xFFFFFFFF)  # fmt: skip
    return head + body + b"\0" * pad + struct.pack(c.endian + "I", total)


def _retime(c: Container, rec: bytes, fn: Callable[[int, int], tuple[int, int]]) -> bytes:
    """Rewrite one record's timestamp with ``fn(seconds_or_hi, fraction_or_lo)``."""
    if c.fmt == "pcap":
        ts_s, ts_f, incl, orig, body = _pcap_rec(c, rec)
        s, f = fn(ts_s, ts_f)
        return _pcap_pack(c, s, f, incl, orig, body)
    fields = _epb_fields(c, rec)
    if fields is None:
        return rec
    _, _iface, hi, lo, _incl, _orig, _body = fields
    nhi, nlo = fn(hi, lo)
    out = bytearray(rec)
    struct.pack_into(c.endian + "II", out, 12, nhi & 0xFFFFFFFF, nlo & 0xFFFFFFFF)
    return bytes(out)


def _relen(
    c: Container, rec: bytes, body: bytes, incl: int | None = None, orig: int | None = None
) -> bytes:
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

    def pick() -> int:
        return rng.randrange(n)

    # cuts
    out.append(("cut-at-boundary", data[: offs[min(n - 1, max(1, n // 2))]]))
    out.append(("cut-after-first-record", data[: offs[1] if n > 1 else len(data)]))
    i = pick()
    rec_hdr = 16 if c.fmt == "pcap" else 28
    out.append(("cut-in-record-header", data[: offs[i] + rng.randrange(1, rec_hdr)]))
    i = pick()
    out.append(
        (
            "cut-in-record-body",
            data[: offs[i] + rec_hdr + max(1, (len(c.records[i]) - rec_hdr) // 2)],
        )
    )
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
    for k, magic in enumerate(
        (b"\xa1\xb2\xc3\xd5", b"\x0a\x0d\x0d\x0b", b"PK\x03\x04", rng.randbytes(4))
    ):
        out.append((f"wrong-magic-{k}", magic + data[4:]))
    if c.fmt == "pcap":
        e = c.endian
        snaplens = (("huge-snaplen", 0xFFFFFFFF), ("big-snaplen", 0x10000000),
                    ("zero-snaplen", 0), ("snaplen-1", 1))  # fmt: skip
        for name, snap in snaplens:
            h = bytearray(c.header)
            struct.pack_into(e + "I", h, 16, snap)
            out.append((name, c.build(header=bytes(h))))
        linktypes = (("linktype-sll2", 276), ("linktype-usb", 189), ("linktype-huge", 0xFFFF),
                     ("linktype-raw-on-ethernet", 101),
                     ("linktype-fcs-bits", 0x10000001))  # fmt: skip
        for name, lt in linktypes:
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
        if (
            idb_at + 20 <= len(c.header)
            and struct.unpack_from(c.endian + "I", c.header, idb_at)[0] == 1
        ):
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
        recs.insert(
            i,
            struct.pack(c.endian + "II", 0x0BADF00D, 16)
            + b"\0\0\0\0"
            + struct.pack(c.endian + "I", 16),
        )
        out.append(("pcapng-unknown-block", c.build(recs)))
        recs = list(c.records)
        recs.insert(
            pick(),
            struct.pack(c.endian + "II", 6, 32) + b"\0" * 20 + struct.pack(c.endian + "I", 32),
        )
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
    body = (
        recs[i][16:] if c.fmt == "pcap" else (_epb_fields(c, recs[i]) or [b""] * 7)[6]
    ) or b"\0" * 60
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
        negative = [_retime(c, r, lambda s, f: (0x80000000 + s % 1000, f)) for r in c.records]
        out.append(("negative-timestamps", c.build(negative)))
        out.append(
            (
                "timestamps-all-zero",
                c.build([_retime(c, r, lambda s, f: (0, 0)) for r in c.records]),
            )
        )
        out.append(
            (
                "timestamps-max",
                c.build([_retime(c, r, lambda s, f: (0xFFFFFFFF, 999_999)) for r in c.records]),
            )
        )
        out.append(
            (
                "fraction-out-of-range",
                c.build([_retime(c, r, lambda s, f: (s, 0xFFFFFFF0)) for r in c.records]),
            )
        )
        base = _pcap_rec(c, c.records[0])[0]

        def seconds_back(k: int) -> Callable[[int, int], tuple[int, int]]:
            return lambda s, f: (base + n - k, f)

        out.append(
            (
                "timestamps-run-backwards",
                c.build([_retime(c, r, seconds_back(k)) for k, r in enumerate(c.records)]),
            )
        )
    else:
        out.append(
            (
                "timestamps-all-zero",
                c.build([_retime(c, r, lambda h, lo: (0, 0)) for r in c.records]),
            )
        )
        out.append(
            (
                "timestamps-max",
                c.build([_retime(c, r, lambda h, lo: (0xFFFFFFFF, 0xFFFFFFFF)) for r in c.records]),
            )
        )
        def second_back(k: int) -> Callable[[int, int], tuple[int, int]]:
            return lambda h, lo: (h, (lo - k * 1_000_000) & 0xFFFFFFFF)

        backwards = [_retime(c, r, second_back(k)) for k, r in enumerate(c.records)]
        out.append(("timestamps-run-backwards", c.build(backwards)))
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
