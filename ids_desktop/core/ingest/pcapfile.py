"""Walk the record headers of a pcap or pcapng file: packet count, link types, damage.

What a packet record's link layer says (link-type names, the packets nfstream's parser skips,
ARP claims) is read by :mod:`~ids_desktop.core.ingest.linklayer`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ids_desktop.core.ingest.digest import file_digest, open_hashed
from ids_desktop.core.ingest.linklayer import (
    ARP,
    ETHERTYPE_AT,
    LATER_FRAGMENT,
    NFSTREAM_LINKTYPES,
    ZERO_LENGTH_IP,
    arp_claim,
    unmetered,
)
from ids_desktop.core.ingest.packets import PacketFacts
from ids_desktop.errors import InputError

#: libpcap refuses records longer than this unless the header's snaplen is larger.
MAX_RECORD = 262_144
#: A snaplen above this is nonsensical (libpcap caps snapshot lengths at 256 KiB).
ABSURD_SNAPLEN = 1 << 20
#: pcapng blocks larger than this are treated as damage (libpcap's limit is 16 MiB).
MAX_BLOCK = 16 * 1024 * 1024

_CHUNK = 1 << 20
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
_PCAPNG_SHB = 0x0A0D0D0A

#: ``walk_capture``'s ``on_packet``: ``(time, link type, buffer, start, captured length, original
#: length)`` of each packet record; the packet is ``buffer[start : start + captured length]``.
PacketVisitor = Callable[[float, int, bytes, int, int, int], None]
#: ARP packets read per capture (see :attr:`CaptureInfo.arp`). A spoofer's claims sit among a
#: capture's first ARP packets; an ARP flood beyond this is not kept packet by packet.
MAX_ARP = 50_000


@dataclass
class CaptureInfo:
    """What walking the container told us.

    Attributes
    ----------
    format
        ``"pcap"`` or ``"pcapng"``.
    file_size
        Size of the file in bytes.
    byte_order
        ``"little"`` or ``"big"`` (pcapng: of the first section).
    nanosecond
        Classic pcap with nanosecond timestamps.
    snaplen
        Largest snapshot length declared (file header or Interface Description Blocks).
    link_types
        Link type of each interface in file order (classic pcap: one).
    packets
        Complete packet records.
    captured_bytes, wire_bytes
        Sums of captured (``incl_len``) and original (``orig_len``) packet lengths.
    snap_truncated
        Records captured shorter than the packet on the wire.
    truncated_at
        Offset of the record the file ends inside, ``None`` when the file ends cleanly.
    corrupt_at, corrupt_reason
        Offset and description of the first record header that makes no sense; the walk
        stops there.
    first_ts, last_ts
        First and last packet time (seconds since the epoch), ``None`` without packets.
    backwards_ts
        Records whose time is earlier than the previous record's.
    unknown_interface
        pcapng packet blocks naming an interface that was never described.
    zero_length_ip, later_fragments
        IPv4 packets that nfstream's parser skips without a trace (see
        :func:`~ids_desktop.core.ingest.linklayer.unmetered`): total length 0 (sent with TCP
        segmentation offload) and non-first fragments. Counted on Ethernet, Linux cooked and
        raw-IP links.
    arp
        The first :data:`MAX_ARP` Ethernet/IPv4 ARP packets as ``(time, opcode, sender MAC,
        sender IP, target MAC, target IP)``: nfstream meters IP only, so this is the
        capture's one view of who claims which address (:mod:`ids_desktop.core.detect.arp`).
    done
        True once the walk reached the end (or the damage); False when it was stopped.
    sha256
        The file's SHA-256, hashed as the walk read it ("" when the walk was stopped).
    facts
        What the host-level detectors need from the IPv4 packets
        (:mod:`ids_desktop.core.ingest.packets`).
    """

    format: str
    file_size: int
    byte_order: str = "little"
    nanosecond: bool = False
    snaplen: int | None = None
    link_types: list[int] = field(default_factory=list)
    packets: int = 0
    captured_bytes: int = 0
    wire_bytes: int = 0
    snap_truncated: int = 0
    truncated_at: int | None = None
    corrupt_at: int | None = None
    corrupt_reason: str | None = None
    first_ts: float | None = None
    last_ts: float | None = None
    backwards_ts: int = 0
    unknown_interface: int = 0
    zero_length_ip: int = 0
    later_fragments: int = 0
    arp: list[tuple[float, int, str, str, str, str]] = field(default_factory=list)
    done: bool = False
    sha256: str = ""
    facts: PacketFacts = field(default_factory=PacketFacts)

    @property
    def unsupported_link_types(self) -> list[int]:
        """Link types present in the file that nfstream cannot decode, in file order."""
        seen: list[int] = []
        for lt in self.link_types:
            if lt not in NFSTREAM_LINKTYPES and lt not in seen:
                seen.append(lt)
        return seen


def read_header(path: str | Path) -> CaptureInfo:
    """Parse the container's file header (pcap) or first blocks (pcapng).

    Raises
    ------
    InputError
        When the header is missing, cut short or inconsistent, so the file cannot be a
        readable capture.
    """
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    magic = head[:4]
    if magic in _PCAP_MAGICS:
        endian, nano = _PCAP_MAGICS[magic]
        if len(head) < 24:
            raise InputError(
                f"{path}: the pcap file header is cut short ({len(head)} of 24 bytes); "
                "the capture is empty or damaged"
            )
        major, minor, _zone, _sigfigs, snaplen, linktype = struct.unpack_from(
            endian + "HHiIII", head, 4
        )
        if major != 2:
            raise InputError(
                f"{path}: unsupported pcap version {major}.{minor} (expected 2.4); "
                "the file is damaged or not a libpcap capture"
            )
        return CaptureInfo(
            format="pcap",
            file_size=size,
            byte_order="little" if endian == "<" else "big",
            nanosecond=nano,
            snaplen=snaplen,
            # The upper 16 bits hold FCS length and flags (pcap 2.4 "LinkType and additional
            # information"); the link type proper is the low 16 bits.
            link_types=[linktype & 0xFFFF],
        )
    if magic == b"\x0a\x0d\x0d\x0a":
        info = CaptureInfo(format="pcapng", file_size=size)
        if len(head) < 28:
            raise InputError(
                f"{path}: the pcapng Section Header Block is cut short; "
                "the capture is empty or damaged"
            )
        bom = head[8:12]
        if bom == b"\x4d\x3c\x2b\x1a":
            endian = "<"
        elif bom == b"\x1a\x2b\x3c\x4d":
            endian = ">"
        else:
            raise InputError(
                f"{path}: the pcapng Section Header Block has no valid byte-order magic "
                f"({bom.hex()}); the file is damaged or not a pcapng capture"
            )
        info.byte_order = "little" if endian == "<" else "big"
        (shb_len,) = struct.unpack_from(endian + "I", head, 4)
        if shb_len < 28 or shb_len % 4 or shb_len > MAX_BLOCK:
            raise InputError(
                f"{path}: the pcapng Section Header Block declares an impossible length "
                f"({shb_len}); the file is damaged"
            )
        return info
    raise InputError(f"{path}: not a pcap or pcapng capture (magic {magic.hex()})")


def walk_capture(
    path: str | Path,
    *,
    stop: Callable[[], bool] | None = None,
    on_packet: PacketVisitor | None = None,
) -> CaptureInfo:
    """Walk every record header of a capture without reading packet bodies.

    Parameters
    ----------
    path
        A pcap or pcapng file.
    stop
        Polled every few thousand records; the walk returns early (``done`` False) when it
        returns True.
    on_packet
        Called with every packet record that has a timestamp, in file order (see
        :data:`PacketVisitor`); pcapng Simple Packet Blocks, which have none, are skipped.
        :func:`ids_desktop.core.ingest.extract.extract_packets` reads packets through it.

    Returns
    -------
    CaptureInfo
        Counts and damage found; the walk never raises for damage after the header.

    Raises
    ------
    InputError
        When the file header itself is unreadable (see :func:`read_header`).
    """
    info = read_header(path)
    with open_hashed(Path(path)) as fh:
        if info.format == "pcap":
            _walk_pcap(fh, info, stop, on_packet)
        else:
            _walk_pcapng(fh, info, stop, on_packet)
        if info.done:  # a walk stopped by the caller is not worth finishing the hash for
            info.sha256 = file_digest(fh)
    return info


def _walk_pcap(fh: BinaryIO, info: CaptureInfo, stop: Callable[[], bool] | None,
               visit: PacketVisitor | None = None) -> None:
    """Classic pcap: a 24-byte file header, then 16-byte record headers and bodies."""
    endian = "<" if info.byte_order == "little" else ">"
    rec = struct.Struct(endian + "IIII")
    unpack = rec.unpack_from
    size = info.file_size
    frac = 1e-9 if info.nanosecond else 1e-6
    limit = max(MAX_RECORD, info.snaplen or 0)
    off = 24
    buf = b""
    buf_start = off
    packets = captured = wire = snapped = backwards = 0
    prev_s = prev_f = -1
    first_s = first_f = None
    linktype = info.link_types[0] if info.link_types else -1
    check = unmetered if linktype in ETHERTYPE_AT else None
    skipped = [0, 0, 0, 0]
    while True:
        rel = off - buf_start
        if rel + 16 > len(buf):
            fh.seek(off)
            buf = fh.read(_CHUNK)
            buf_start, rel = off, 0
            if not buf:
                break
            if len(buf) < 16:
                info.truncated_at = off
                break
            if stop is not None and stop():
                info.zero_length_ip += skipped[ZERO_LENGTH_IP]
                info.later_fragments += skipped[LATER_FRAGMENT]
                _store_pcap(info, packets, captured, wire, snapped, backwards,
                            first_s, first_f, prev_s, prev_f, frac)  # fmt: skip
                return
        ts_s, ts_f, incl, orig = unpack(buf, rel)
        if incl > limit:
            info.corrupt_at = off
            info.corrupt_reason = (
                f"a packet record claims {incl:,} captured bytes, more than the snapshot "
                f"length allows ({limit:,})"
            )
            break
        end = off + 16 + incl
        if end > size:
            info.truncated_at = off
            break
        packets += 1
        captured += incl
        wire += orig
        if incl < orig:
            snapped += 1
        if ts_s < prev_s or (ts_s == prev_s and ts_f < prev_f):
            backwards += 1
        elif first_s is None:
            first_s, first_f = ts_s, ts_f
        prev_s, prev_f = ts_s, ts_f
        if visit is not None:
            if rel + 16 + incl > len(buf):  # the body runs past the chunk: read it whole
                fh.seek(off)
                buf = fh.read(max(_CHUNK, 16 + incl))
                buf_start, rel = off, 0
            visit(ts_s + ts_f * frac, linktype, buf, rel + 16, incl, orig)
        if check is not None and rel + 16 + incl <= len(buf):
            ts = ts_s + ts_f * frac
            kind = check(buf, rel + 16, incl, linktype, ts, info.facts)
            skipped[kind] += 1
            if kind == ARP:
                _keep_arp(info, ts, buf, rel + 16, incl, linktype)
        off = end
    info.zero_length_ip += skipped[ZERO_LENGTH_IP]
    info.later_fragments += skipped[LATER_FRAGMENT]
    info.done = True
    _store_pcap(info, packets, captured, wire, snapped, backwards,
                first_s, first_f, prev_s, prev_f, frac)  # fmt: skip


def _store_pcap(info: CaptureInfo, packets: int, captured: int, wire: int, snapped: int,
                backwards: int, first_s: int | None, first_f: int | None, last_s: int,
                last_f: int, frac: float) -> None:  # fmt: skip
    info.packets, info.captured_bytes, info.wire_bytes = packets, captured, wire
    info.snap_truncated, info.backwards_ts = snapped, backwards
    if packets:
        if first_s is not None:
            info.first_ts = first_s + (first_f or 0) * frac
        info.last_ts = last_s + last_f * frac


def _walk_pcapng(fh: BinaryIO, info: CaptureInfo, stop: Callable[[], bool] | None,
                 visit: PacketVisitor | None = None) -> None:
    """pcapng: blocks of (type, total length, body, total length); sections may change the
    byte order and each section has its own interfaces."""
    size = info.file_size
    off = 0
    buf = b""
    buf_start = 0
    endian = "<"
    u32 = struct.Struct("<I")
    head = struct.Struct("<II")
    epb = struct.Struct("<IIIII")
    # Per-interface (snaplen, seconds per timestamp unit) of the current section.
    ifaces: list[tuple[int, float]] = []
    packets = captured = wire = snapped = backwards = unknown = 0
    skipped = [0, 0, 0, 0]
    # Link type of each interface of the current section.
    if_links: list[int] = []
    prev_ts = float("-inf")
    checked = 0
    stopped = False
    while True:
        rel = off - buf_start
        if rel + 12 > len(buf):
            fh.seek(off)
            buf = fh.read(_CHUNK)
            buf_start, rel = off, 0
            if not buf:
                break
            if len(buf) < 12:
                info.truncated_at = off
                break
        btype, blen = head.unpack_from(buf, rel)
        if btype == _PCAPNG_SHB:
            bom = buf[rel + 8 : rel + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                info.corrupt_at = off
                info.corrupt_reason = "a Section Header Block has no valid byte-order magic"
                break
            u32 = struct.Struct(endian + "I")
            head = struct.Struct(endian + "II")
            epb = struct.Struct(endian + "IIIII")
            (blen,) = u32.unpack_from(buf, rel + 4)
            ifaces = []
            if_links = []
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            if off + 12 <= size and blen > size - off and blen % 4 == 0 and blen >= 12:
                info.truncated_at = off
            else:
                info.corrupt_at = off
                info.corrupt_reason = f"a block (type {btype:#x}) declares length {blen:,}"
            break
        end = off + blen
        if end > size:
            info.truncated_at = off
            break
        if rel + blen > len(buf):
            fh.seek(off)
            buf = fh.read(max(_CHUNK, blen))
            buf_start, rel = off, 0
        (trailer,) = u32.unpack_from(buf, rel + blen - 4)
        if trailer != blen:
            info.corrupt_at = off
            info.corrupt_reason = (
                f"a block (type {btype:#x}) has mismatched lengths ({blen:,} and {trailer:,})"
            )
            break
        if btype == 6 or btype == 2:  # Enhanced Packet Block / obsolete Packet Block
            if blen < 32:
                info.corrupt_at = off
                info.corrupt_reason = f"a packet block is too short ({blen} bytes)"
                break
            if btype == 6:
                iface, ts_hi, ts_lo, incl, orig = epb.unpack_from(buf, rel + 8)
            else:
                iface_drops, ts_hi, ts_lo, incl, orig = epb.unpack_from(buf, rel + 8)
                iface = iface_drops & 0xFFFF if endian == "<" else iface_drops >> 16
            if incl > blen - 32:
                info.corrupt_at = off
                info.corrupt_reason = (
                    f"a packet block claims {incl:,} captured bytes in a {blen:,}-byte block"
                )
                break
            packets += 1
            captured += incl
            wire += orig
            if incl < orig:
                snapped += 1
            if iface < len(ifaces):
                ts = ((ts_hi << 32) | ts_lo) * ifaces[iface][1]
                if if_links[iface] in ETHERTYPE_AT:
                    kind = unmetered(buf, rel + 28, incl, if_links[iface], ts, info.facts)
                    skipped[kind] += 1
                    if kind == ARP:
                        _keep_arp(info, ts, buf, rel + 28, incl, if_links[iface])
                if visit is not None:
                    visit(ts, if_links[iface], buf, rel + 28, incl, orig)
            else:
                unknown += 1
                ts = ((ts_hi << 32) | ts_lo) * 1e-6
            if ts < prev_ts:
                backwards += 1
            elif info.first_ts is None:
                info.first_ts = ts
            prev_ts = ts
            info.last_ts = ts
        elif btype == 3:  # Simple Packet Block: original length only
            if blen < 16:
                info.corrupt_at = off
                info.corrupt_reason = "a Simple Packet Block is too short"
                break
            (orig,) = u32.unpack_from(buf, rel + 8)
            snap = ifaces[0][0] if ifaces else 0
            incl = min(orig, snap) if snap else orig
            incl = min(incl, blen - 16)
            packets += 1
            captured += incl
            wire += orig
            if incl < orig:
                snapped += 1
        elif btype == 1:  # Interface Description Block
            if blen < 20:
                info.corrupt_at = off
                info.corrupt_reason = "an Interface Description Block is too short"
                break
            linktype = struct.unpack_from(endian + "H", buf, rel + 8)[0]
            (snaplen,) = u32.unpack_from(buf, rel + 12)
            resol = _if_tsresol(buf, rel + 16, rel + blen - 4, endian)
            ifaces.append((snaplen, resol))
            if_links.append(linktype)
            info.link_types.append(linktype)
            if info.snaplen is None or snaplen > info.snaplen:
                info.snaplen = snaplen
        off = end
        checked += 1
        if stop is not None and checked % 8192 == 0 and stop():
            stopped = True
            break
    info.done = not stopped
    info.packets, info.captured_bytes, info.wire_bytes = packets, captured, wire
    info.snap_truncated, info.backwards_ts = snapped, backwards
    info.unknown_interface = unknown
    info.zero_length_ip, info.later_fragments = skipped[ZERO_LENGTH_IP], skipped[LATER_FRAGMENT]


def _keep_arp(info: CaptureInfo, ts: float, buf: bytes, at: int, incl: int, linktype: int) -> None:
    """Keep an ARP packet's claim in ``info.arp``, up to :data:`MAX_ARP` of them."""
    if len(info.arp) >= MAX_ARP:
        return
    claim = arp_claim(buf, at, incl, linktype)
    if claim is not None:
        info.arp.append((ts, *claim))


def _if_tsresol(buf: bytes, start: int, end: int, endian: str) -> float:
    """Seconds per timestamp unit from an IDB's options (``if_tsresol``, default 1 µs)."""
    pos = start
    opt = struct.Struct(endian + "HH")
    while pos + 4 <= end:
        code, length = opt.unpack_from(buf, pos)
        if code == 0:
            break
        if code == 9 and length >= 1 and pos + 5 <= end:
            value = buf[pos + 4]
            exponent = value & 0x7F
            return 2.0 ** -exponent if value & 0x80 else 10.0 ** -exponent
        pos += 4 + length + ((-length) % 4)
    return 1e-6
