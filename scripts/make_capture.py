"""Write synthetic packet captures (pcap or pcapng) for tests and benchmarks.

Nothing here touches the network: packets are bytes built with :mod:`struct` and written to a
file. Every address comes from private (RFC 1918) or documentation (RFC 5737) ranges and every
MAC address is locally administered.

Two generators:

- :func:`write_known_capture` writes a small capture with known conversations (three TCP
  conversations with handshakes, data and FIN, two UDP conversations) and returns the ground
  truth per conversation, for tests.
- :func:`write_mixed_capture` writes a large, realistic, deterministic mixture (many hosts, DNS,
  HTTP, HTTPS-like and bulk TCP, NTP, one embedded SYN port scan) of a requested size, for the
  ingest benchmark.

Command line::

    python scripts/make_capture.py --size-mb 200 --out bench/out/mixed-200.pcap [--format pcapng]
    python scripts/make_capture.py --known --out /tmp/known.pcap
"""

from __future__ import annotations

import argparse
import heapq
import io
import random
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Base time of every synthetic capture: 2023-11-14 22:13:20 UTC.
BASE_TIME = 1_700_000_000

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_NULL = 0
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_ETH_IP_TCP = struct.Struct("!6s6sHBBHHHBBH4s4sHHIIBBHHH")
_ETH_IP_UDP = struct.Struct("!6s6sHBBHHHBBH4s4sHHHH")
_IP_WORDS = struct.Struct("!10H")
_PCAP_REC = struct.Struct("<IIII")
_EPB_HEAD = struct.Struct("<IIIIIII")
_U32 = struct.Struct("<I")


# --------------------------------------------------------------------------------------------
# Packet building
# --------------------------------------------------------------------------------------------


def _mac(host_id: int) -> bytes:
    """A locally administered unicast MAC address derived from a host number."""
    return b"\x02\x00" + host_id.to_bytes(4, "big")


def _ip_checksum(header: bytes) -> int:
    """The ones'-complement checksum of a 20-byte IPv4 header whose checksum field is zero."""
    total = sum(_IP_WORDS.unpack(header))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_frame(
    src_mac: bytes,
    dst_mac: bytes,
    src_ip: bytes,
    dst_ip: bytes,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    payload: bytes = b"",
    ip_id: int = 0,
) -> bytes:
    """An Ethernet II / IPv4 / TCP frame (IP checksum set, TCP checksum left zero)."""
    total = 40 + len(payload)
    head = bytearray(
        _ETH_IP_TCP.pack(
            dst_mac, src_mac, 0x0800,
            0x45, 0, total, ip_id & 0xFFFF, 0x4000, 64, 6, 0, src_ip, dst_ip,
            sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0,
        )
    )  # fmt: skip
    struct.pack_into("!H", head, 24, _ip_checksum(bytes(head[14:34])))
    return bytes(head) + payload


def udp_frame(
    src_mac: bytes,
    dst_mac: bytes,
    src_ip: bytes,
    dst_ip: bytes,
    sport: int,
    dport: int,
    payload: bytes,
    ip_id: int = 0,
) -> bytes:
    """An Ethernet II / IPv4 / UDP frame (IP checksum set, UDP checksum zero, i.e. unused)."""
    total = 28 + len(payload)
    head = bytearray(
        _ETH_IP_UDP.pack(
            dst_mac, src_mac, 0x0800,
            0x45, 0, total, ip_id & 0xFFFF, 0x4000, 64, 17, 0, src_ip, dst_ip,
            sport, dport, 8 + len(payload), 0,
        )
    )  # fmt: skip
    struct.pack_into("!H", head, 24, _ip_checksum(bytes(head[14:34])))
    return bytes(head) + payload


def relink(frame: bytes, linktype: int) -> bytes:
    """Re-encapsulate an Ethernet II / IPv4 frame for another link type.

    Supported: Ethernet (1, unchanged), raw IP (101, 12, 228), BSD loopback NULL (0, host byte
    order, written little-endian) and LOOP (108, network byte order), Linux cooked SLL (113)
    and SLL2 (276).
    """
    ip = frame[14:]
    if linktype == LINKTYPE_ETHERNET:
        return frame
    if linktype in (LINKTYPE_RAW, 12, 14, 228):
        return ip
    if linktype == LINKTYPE_NULL:
        return struct.pack("<I", socket.AF_INET) + ip
    if linktype == LINKTYPE_LOOP:
        return struct.pack("!I", socket.AF_INET) + ip
    if linktype == LINKTYPE_LINUX_SLL:
        return struct.pack("!HHH8sH", 0, 1, 6, frame[6:12] + b"\0\0", 0x0800) + ip
    if linktype == LINKTYPE_LINUX_SLL2:
        return struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, frame[6:12] + b"\0\0") + ip
    raise ValueError(f"cannot re-encapsulate for link type {linktype}")


# --------------------------------------------------------------------------------------------
# Container writers
# --------------------------------------------------------------------------------------------


class CaptureWriter:
    """Buffered writer for classic pcap (microsecond, little-endian) or pcapng files.

    Parameters
    ----------
    fh
        A binary file object.
    fmt
        ``"pcap"`` or ``"pcapng"``.
    linktype
        The link type written in the file header (pcap) or the Interface Description Block.
    snaplen
        The snapshot length declared in the header.
    """

    def __init__(self, fh: io.BufferedIOBase, fmt: str = "pcap", linktype: int = 1,
                 snaplen: int = 262144) -> None:  # fmt: skip
        if fmt not in ("pcap", "pcapng"):
            raise ValueError(f"unknown capture format {fmt!r}")
        self.fh = fh
        self.fmt = fmt
        self.packets = 0
        self.bytes = 0
        self._parts: list[bytes] = []
        self._pending = 0
        if fmt == "pcap":
            header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)
        else:
            shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
            shb = struct.pack("<II", 0x0A0D0D0A, 12 + len(shb_body)) + shb_body
            shb += _U32.pack(12 + len(shb_body))
            idb_body = struct.pack("<HHI", linktype, 0, snaplen)
            idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body
            idb += _U32.pack(12 + len(idb_body))
            header = shb + idb
        self._emit(header)

    def _emit(self, data: bytes) -> None:
        self._parts.append(data)
        self._pending += len(data)
        self.bytes += len(data)
        if self._pending >= 1 << 22:
            self.flush()

    def write(self, ts_us: int, frame: bytes, orig_len: int | None = None) -> None:
        """Append one packet record with timestamp ``ts_us`` (microseconds since the epoch)."""
        orig = len(frame) if orig_len is None else orig_len
        if self.fmt == "pcap":
            rec = _PCAP_REC.pack(ts_us // 1_000_000, ts_us % 1_000_000, len(frame), orig)
            self._parts.append(rec)
            self._parts.append(frame)
            size = 16 + len(frame)
        else:
            pad = (-len(frame)) % 4
            total = 32 + len(frame) + pad
            self._parts.append(
                _EPB_HEAD.pack(6, total, 0, ts_us >> 32, ts_us & 0xFFFFFFFF, len(frame), orig)
            )
            self._parts.append(frame + b"\0" * pad + _U32.pack(total))
            size = total
        self.packets += 1
        self.bytes += size
        self._pending += size
        if self._pending >= 1 << 22:
            self.flush()

    def flush(self) -> None:
        """Write buffered records to the file."""
        if self._parts:
            self.fh.write(b"".join(self._parts))
            self._parts.clear()
            self._pending = 0


# --------------------------------------------------------------------------------------------
# Known conversations (tests)
# --------------------------------------------------------------------------------------------


@dataclass
class Conversation:
    """Ground truth for one generated conversation (one nfstream flow).

    Byte counts are frame lengths on the wire (Ethernet header included), which is what
    nfstream's default ``accounting_mode=0`` sums; ``ip_bytes`` is the IP-level total.
    """

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    protocol: int
    first_seen: float = 0.0
    last_seen: float = 0.0
    packets: int = 0
    bytes: int = 0
    ip_bytes: int = 0
    src2dst_packets: int = 0
    dst2src_packets: int = 0
    src2dst_bytes: int = 0
    dst2src_bytes: int = 0
    frames: list[tuple[int, bytes]] = field(default_factory=list, repr=False)

    def add(self, ts_us: int, frame: bytes, forward: bool) -> None:
        """Record one frame of this conversation."""
        if not self.frames:
            self.first_seen = ts_us / 1e6
        self.last_seen = ts_us / 1e6
        self.frames.append((ts_us, frame))
        self.packets += 1
        self.bytes += len(frame)
        self.ip_bytes += len(frame) - 14
        if forward:
            self.src2dst_packets += 1
            self.src2dst_bytes += len(frame)
        else:
            self.dst2src_packets += 1
            self.dst2src_bytes += len(frame)


class TcpPeers:
    """Both ends of one TCP connection: frames numbered as a TCP stack numbers them.

    ``send(ts, frame, from_client)`` takes each frame. Each side's sequence number advances by
    its payload, and by one for SYN and FIN; each frame acknowledges all the other side sent.
    """

    def __init__(self, send: Callable[[int, bytes, bool], None], cmac: bytes, smac: bytes,
                 cip: bytes, sip: bytes, cport: int, sport: int, cseq: int, sseq: int) -> None:  # fmt: skip
        self.send = send
        self.cmac, self.smac, self.cip, self.sip = cmac, smac, cip, sip
        self.cport, self.sport = cport, sport
        self.cseq, self.sseq = cseq, sseq

    def c2s(self, ts: int, flags: int, payload: bytes = b"") -> None:
        frame = tcp_frame(self.cmac, self.smac, self.cip, self.sip, self.cport, self.sport,
                          self.cseq, self.sseq, flags, payload)  # fmt: skip
        self.send(ts, frame, True)
        self.cseq += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)

    def s2c(self, ts: int, flags: int, payload: bytes = b"") -> None:
        frame = tcp_frame(self.smac, self.cmac, self.sip, self.cip, self.sport, self.cport,
                          self.sseq, self.cseq, flags, payload)  # fmt: skip
        self.send(ts, frame, False)
        self.sseq += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)


def _tcp_conversation(
    conv: Conversation, t0_us: int, exchanges: list[tuple[bool, int]], step_us: int = 10_000
) -> None:
    """Fill ``conv`` with a TCP handshake, data exchanges (each answered by an ACK) and FIN."""
    cmac, smac = _mac(1), _mac(2)
    cip, sip = socket.inet_aton(conv.src_ip), socket.inet_aton(conv.dst_ip)
    peers = TcpPeers(conv.add, cmac, smac, cip, sip, conv.src_port, conv.dst_port, 1000, 5000)
    t = t0_us

    def c2s(flags: int, payload: bytes = b"") -> None:
        nonlocal t
        peers.c2s(t, flags, payload)
        t += step_us

    def s2c(flags: int, payload: bytes = b"") -> None:
        nonlocal t
        peers.s2c(t, flags, payload)
        t += step_us

    c2s(TCP_SYN)
    s2c(TCP_SYN | TCP_ACK)
    c2s(TCP_ACK)
    for forward, size in exchanges:
        payload = bytes((i * 7 + size) & 0xFF for i in range(size))
        if forward:
            c2s(TCP_PSH | TCP_ACK, payload)
            s2c(TCP_ACK)
        else:
            s2c(TCP_PSH | TCP_ACK, payload)
            c2s(TCP_ACK)
    c2s(TCP_FIN | TCP_ACK)
    s2c(TCP_FIN | TCP_ACK)
    c2s(TCP_ACK)


def _udp_conversation(
    conv: Conversation, t0_us: int, datagrams: list[tuple[bool, int]], step_us: int = 20_000
) -> None:
    """Fill ``conv`` with UDP datagrams in the given directions and payload sizes."""
    cmac, smac = _mac(3), _mac(4)
    cip, sip = socket.inet_aton(conv.src_ip), socket.inet_aton(conv.dst_ip)
    t = t0_us
    for forward, size in datagrams:
        payload = bytes((i * 3 + size) & 0xFF for i in range(size))
        if forward:
            frame = udp_frame(cmac, smac, cip, sip, conv.src_port, conv.dst_port, payload)
        else:
            frame = udp_frame(smac, cmac, sip, cip, conv.dst_port, conv.src_port, payload)
        conv.add(t, frame, forward)
        t += step_us


def known_conversations() -> list[Conversation]:
    """The conversations of :func:`write_known_capture`, with their frames, in start order."""
    base = BASE_TIME * 1_000_000
    convs = []
    a = Conversation("10.0.0.10", 50001, "192.0.2.10", 80, 6)
    _tcp_conversation(a, base, [(True, 120), (False, 1000), (False, 600)])
    convs.append(a)
    b = Conversation("10.0.0.11", 50002, "198.51.100.20", 443, 6)
    _tcp_conversation(b, base + 35_000, [(True, 300), (False, 1400), (True, 50), (False, 900)])
    convs.append(b)
    c = Conversation("10.0.0.12", 50003, "203.0.113.30", 22, 6)
    _tcp_conversation(c, base + 2_000_000, [(True, 40)])
    convs.append(c)
    d = Conversation("10.0.0.10", 53001, "192.0.2.53", 53, 17)
    _udp_conversation(d, base + 5_000, [(True, 40), (False, 120)])
    convs.append(d)
    e = Conversation("10.0.0.13", 40000, "198.51.100.7", 5000, 17)
    _udp_conversation(
        e, base + 3_000_000, [(True, 200), (True, 200), (False, 64), (True, 200), (False, 64),
                              (True, 200), (False, 64), (True, 10)]
    )  # fmt: skip
    convs.append(e)
    return convs


def write_known_capture(
    path: str | Path, fmt: str = "pcap", linktype: int = LINKTYPE_ETHERNET
) -> list[Conversation]:
    """Write the known-conversation capture and return its ground truth.

    Parameters
    ----------
    path
        Output file.
    fmt
        ``"pcap"`` or ``"pcapng"``.
    linktype
        Link type of the file; frames are re-encapsulated with :func:`relink`. Byte counts in
        the returned truth are for Ethernet framing.

    Returns
    -------
    list of Conversation
        One entry per conversation (each is one flow for nfstream), in start order.
    """
    convs = known_conversations()
    packets = sorted(
        ((ts, i, frame) for i, conv in enumerate(convs) for ts, frame in conv.frames),
        key=lambda item: (item[0], item[1]),
    )
    with open(path, "wb") as fh:
        writer = CaptureWriter(fh, fmt, linktype)
        for ts, _, frame in packets:
            writer.write(ts, relink(frame, linktype))
        writer.flush()
    return convs


# --------------------------------------------------------------------------------------------
# Large mixed capture (benchmarks)
# --------------------------------------------------------------------------------------------


@dataclass
class MixedStats:
    """What :func:`write_mixed_capture` wrote."""

    path: Path
    packets: int
    conversations: int
    file_bytes: int
    duration_s: float
    seconds_to_write: float


class _Mixer:
    """Generates interleaved conversations and writes them in time order."""

    def __init__(self, writer: CaptureWriter, rng: random.Random) -> None:
        self.writer = writer
        self.rng = rng
        self.heap: list[tuple[int, int, bytes]] = []
        self.seq = 0
        self.pool = rng.randbytes(1 << 16)
        self.clients = [
            (socket.inet_aton(f"10.{1 + i // 250 % 8}.{i // 8 % 250}.{1 + i % 250}"), _mac(i))
            for i in range(0, 4000 * 8, 8)
        ]
        self.web = [socket.inet_aton(f"198.51.100.{i}") for i in range(1, 255)]
        self.web += [socket.inet_aton(f"203.0.113.{i}") for i in range(1, 255)]
        self.resolver = socket.inet_aton("10.0.0.2")
        self.ntp = socket.inet_aton("192.0.2.123")
        self.gw = _mac(0xFFFF)

    def _push(self, ts: int, frame: bytes) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (ts, self.seq, frame))

    def flush_until(self, ts: int | None) -> None:
        """Write every queued packet with a timestamp before ``ts`` (all when ``None``)."""
        heap, write = self.heap, self.writer.write
        while heap and (ts is None or heap[0][0] < ts):
            t, _, frame = heapq.heappop(heap)
            write(t, frame)

    def _payload(self, size: int) -> bytes:
        off = self.rng.randrange(0, len(self.pool) - size)
        return self.pool[off : off + size]

    def _client(self) -> tuple[bytes, bytes, int]:
        ip, mac = self.clients[self.rng.randrange(len(self.clients))]
        return ip, mac, self.rng.randrange(32768, 61000)

    def dns(self, t: int, n: int) -> None:
        cip, cmac, cport = self._client()
        name = f"host{n % 5000}.example.com"
        qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        txid = n & 0xFFFF
        query = struct.pack("!HHHHHH", txid, 0x0100, 1, 0, 0, 0) + qname + b"\0\x01\0\x01"
        answer = (
            struct.pack("!HHHHHH", txid, 0x8180, 1, 1, 0, 0) + qname + b"\0\x01\0\x01"
            + b"\xc0\x0c\0\x01\0\x01\0\0\x0e\x10\0\x04" + self.web[n % len(self.web)]
        )  # fmt: skip
        self._push(t, udp_frame(cmac, self.gw, cip, self.resolver, cport, 53, query))
        rtt = self.rng.randrange(1_000, 30_000)
        self._push(t + rtt, udp_frame(self.gw, cmac, self.resolver, cip, 53, cport, answer))

    def ntp_exchange(self, t: int) -> None:
        cip, cmac, cport = self._client()
        req = b"\x23" + b"\0" * 47
        resp = b"\x24\x02" + self._payload(46)
        self._push(t, udp_frame(cmac, self.gw, cip, self.ntp, cport, 123, req))
        self._push(t + 15_000, udp_frame(self.gw, cmac, self.ntp, cip, 123, cport, resp))

    def tcp(self, t: int, dport: int, requests: list[int], responses: list[int],
            first: bytes | None = None, reply: bytes | None = None) -> None:  # fmt: skip
        """One TCP conversation: handshake, request/response rounds, FIN close."""
        rng = self.rng
        cip, cmac, cport = self._client()
        sip = self.web[rng.randrange(len(self.web))]
        rtt = rng.randrange(2_000, 80_000)
        cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
        push = self._push
        peers = TcpPeers(lambda ts, frame, _: push(ts, frame), cmac, self.gw, cip, sip, cport,
                         dport, cseq, sseq)  # fmt: skip
        c2s, s2c = peers.c2s, peers.s2c

        c2s(t, TCP_SYN)
        s2c(t + rtt, TCP_SYN | TCP_ACK)
        t += rtt + 200
        c2s(t, TCP_ACK)
        for i, (req, resp) in enumerate(zip(requests, responses)):
            t += 300
            c2s(t, TCP_PSH | TCP_ACK, first if (i == 0 and first) else self._payload(req))
            t += rtt
            body = reply if (i == 0 and reply) else b""
            remaining = resp
            seg = 0
            while remaining > 0 or body:
                size = min(1448, remaining) if not body else len(body)
                data = body or self._payload(size)
                body = b""
                s2c(t, TCP_ACK | (TCP_PSH if remaining <= size else 0), data)
                remaining -= len(data)
                seg += 1
                t += rng.randrange(100, 1_500)
                if seg % 2 == 0 or remaining <= 0:
                    c2s(t, TCP_ACK)
        t += rng.randrange(1_000, 200_000)
        c2s(t, TCP_FIN | TCP_ACK)
        s2c(t + rtt, TCP_FIN | TCP_ACK)
        c2s(t + rtt + 200, TCP_ACK)

    def http(self, t: int, n: int) -> None:
        host = f"www{n % 300}.example.org"
        req = (
            f"GET /page/{n % 9973}.html HTTP/1.1\r\nHost: {host}\r\n"
            "User-Agent: Mozilla/5.0 (X11; Linux x86_64) synthetic/1.0\r\nAccept: */*\r\n\r\n"
        ).encode()
        size = int(self.rng.paretovariate(1.3) * 2_000) % 60_000 + 200
        hdr = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n"
        self.tcp(t, 80, [len(req)], [size], first=req, reply=hdr.encode())

    def https(self, t: int) -> None:
        rounds = self.rng.randrange(1, 5)
        reqs = [self.rng.randrange(80, 900) for _ in range(rounds)]
        resps = [self.rng.randrange(100, 6_000) for _ in range(rounds)]
        self.tcp(t, 443, reqs, resps)

    def bulk(self, t: int) -> None:
        self.tcp(t, 443, [500], [self.rng.randrange(100_000, 500_000)])

    def port_scan(self, t: int) -> int:
        """A SYN scan of ports 1-1024 from 192.0.2.66 against 10.0.9.9; returns packets."""
        sip, smac = socket.inet_aton("192.0.2.66"), _mac(0x6666)
        tip, tmac = socket.inet_aton("10.0.9.9"), _mac(0x0909)
        open_ports = {22, 80, 443}
        count = 0
        for port in range(1, 1025):
            ts = t + port * 1_000
            sport = 40000 + (port % 7)
            self._push(ts, tcp_frame(smac, tmac, sip, tip, sport, port, 77, 0, TCP_SYN))
            if port in open_ports:
                self._push(ts + 300, tcp_frame(tmac, smac, tip, sip, port, sport, 9, 78,
                                               TCP_SYN | TCP_ACK))  # fmt: skip
                self._push(ts + 600, tcp_frame(smac, tmac, sip, tip, sport, port, 78, 0, TCP_RST))
                count += 3
            else:
                self._push(ts + 300, tcp_frame(tmac, smac, tip, sip, port, sport, 0, 78,
                                               TCP_RST | TCP_ACK))  # fmt: skip
                count += 2
        return count


def write_mixed_capture(
    path: str | Path,
    size_mb: float,
    *,
    seed: int = 0,
    fmt: str = "pcap",
    flow_rate: float = 100.0,
) -> MixedStats:
    """Write a large realistic mixed capture of about ``size_mb`` MiB.

    Conversations start as a Poisson process of ``flow_rate`` per second of capture time, so
    the number of flows alive at once (what nfstream keeps in memory) depends on the rate and
    the flow timeouts, not on the file size: a larger file only covers a longer time span.

    Parameters
    ----------
    path
        Output file (its folder is created).
    size_mb
        Target size in MiB; the file ends at the first conversation boundary past it.
    seed
        Random seed; the same seed, size and format give a byte-identical file.
    fmt
        ``"pcap"`` or ``"pcapng"``.
    flow_rate
        Conversations started per second of capture time.

    Returns
    -------
    MixedStats
    """
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    target = int(size_mb * 1024 * 1024)
    with open(path, "wb", buffering=1 << 20) as fh:
        writer = CaptureWriter(fh, fmt)
        mixer = _Mixer(writer, rng)
        t = BASE_TIME * 1_000_000
        n = 0
        scan_at = max(target // 2, 1)
        scanned = False
        while writer.bytes < target:
            t += int(rng.expovariate(flow_rate) * 1_000_000) + 1
            mixer.flush_until(t)
            n += 1
            kind = rng.random()
            if kind < 0.40:
                mixer.dns(t, n)
            elif kind < 0.65:
                mixer.http(t, n)
            elif kind < 0.90:
                mixer.https(t)
            elif kind < 0.99:
                mixer.ntp_exchange(t)
            else:
                mixer.bulk(t)
            if not scanned and writer.bytes >= scan_at:
                mixer.port_scan(t)
                scanned = True
        if not scanned:
            mixer.port_scan(t)
        mixer.flush_until(None)
        writer.flush()
        packets, file_bytes = writer.packets, writer.bytes
    return MixedStats(
        path=path,
        packets=packets,
        conversations=n,
        file_bytes=file_bytes,
        duration_s=(t / 1e6) - BASE_TIME,
        seconds_to_write=time.perf_counter() - started,
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", required=True, type=Path, help="output capture file")
    parser.add_argument("--size-mb", type=float, default=200.0, help="target size in MiB")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=("pcap", "pcapng"), default="pcap")
    parser.add_argument("--flow-rate", type=float, default=100.0,
                        help="conversations per second of capture time")  # fmt: skip
    parser.add_argument("--known", action="store_true",
                        help="write the small known-conversation capture instead")  # fmt: skip
    args = parser.parse_args(argv)
    if args.known:
        convs = write_known_capture(args.out, args.format)
        print(f"{args.out}: {len(convs)} conversations, "
              f"{sum(c.packets for c in convs)} packets")  # fmt: skip
        return 0
    stats = write_mixed_capture(
        args.out, args.size_mb, seed=args.seed, fmt=args.format, flow_rate=args.flow_rate
    )
    print(
        f"{stats.path}: {stats.file_bytes / 2**20:.1f} MiB, {stats.packets} packets, "
        f"{stats.conversations} conversations over {stats.duration_s:.0f} s of capture time, "
        f"written in {stats.seconds_to_write:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
