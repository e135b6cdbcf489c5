"""A small capture with known conversations and their ground truth, for tests.

Three TCP conversations (handshake, data, FIN) and two UDP conversations; each is one flow for
nfstream, and :func:`write_known_capture` returns what each one holds.
"""

from __future__ import annotations

import builtins
import socket
from dataclasses import dataclass, field
from pathlib import Path

from ids_desktop.synth.capture_writer import CaptureWriter
from ids_desktop.synth.packets import (
    BASE_TIME,
    LINKTYPE_ETHERNET,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_SYN,
    TcpPeers,
    mac,
    relink,
    udp_frame,
)


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
    # builtins.bytes: in the class body, ``bytes`` is the byte count above
    frames: list[tuple[int, builtins.bytes]] = field(default_factory=list, repr=False)

    def add(self, ts_us: int, frame: builtins.bytes, forward: bool) -> None:
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


def _tcp_conversation(
    conv: Conversation, t0_us: int, exchanges: list[tuple[bool, int]], step_us: int = 10_000
) -> None:
    """Fill ``conv`` with a TCP handshake, data exchanges (each answered by an ACK) and FIN."""
    cmac, smac = mac(1), mac(2)
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
    cmac, smac = mac(3), mac(4)
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
        Link type of the file; frames are re-encapsulated with
        :func:`ids_desktop.synth.packets.relink`. Byte counts in the returned truth are for
        Ethernet framing.

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
