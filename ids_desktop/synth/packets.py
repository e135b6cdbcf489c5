"""Ethernet II / IPv4 / TCP and UDP frames built with :mod:`struct`, for synthetic captures."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

#: Base time of every synthetic capture: 2023-11-14 22:13:20 UTC.
BASE_TIME = 1_700_000_000

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_NULL = 0
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_LINUX_SLL2 = 276

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
#: DNS query types.
DNS_A, DNS_TXT, DNS_AXFR = 1, 16, 252

_ETH_IP_TCP = struct.Struct("!6s6sHBBHHHBBH4s4sHHIIBBHHH")
_ETH_IP_UDP = struct.Struct("!6s6sHBBHHHBBH4s4sHHHH")
_IP_WORDS = struct.Struct("!10H")


def mac(host_id: int) -> bytes:
    """A locally administered unicast MAC address derived from a host number."""
    return b"\x02\x00" + host_id.to_bytes(4, "big")


def ip_checksum(header: bytes) -> int:
    """The ones'-complement checksum of a 20-byte IPv4 header whose checksum field is zero."""
    total = sum(_IP_WORDS.unpack(header))
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def dns_name(name: str) -> bytes:
    """``name`` in DNS wire format: length-prefixed labels and a closing zero byte."""
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


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
    struct.pack_into("!H", head, 24, ip_checksum(bytes(head[14:34])))
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
    struct.pack_into("!H", head, 24, ip_checksum(bytes(head[14:34])))
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


class TcpPeers:
    """Both ends of one TCP connection: frames numbered as a TCP stack numbers them.

    ``send(ts, frame, from_client)`` takes each frame. Each side's sequence number advances by
    its payload, and by one for SYN and FIN; each frame acknowledges all the other side sent.
    """

    def __init__(
        self,
        send: Callable[[int, bytes, bool], None],
        cmac: bytes,
        smac: bytes,
        cip: bytes,
        sip: bytes,
        cport: int,
        sport: int,
        cseq: int,
        sseq: int,
    ) -> None:
        self.send = send
        self.cmac, self.smac, self.cip, self.sip = cmac, smac, cip, sip
        self.cport, self.sport = cport, sport
        self.cseq, self.sseq = cseq, sseq

    def c2s(self, ts: int, flags: int, payload: bytes = b"") -> None:
        """Send one segment from the client at ``ts`` (microseconds)."""
        frame = tcp_frame(self.cmac, self.smac, self.cip, self.sip, self.cport, self.sport,
                          self.cseq, self.sseq, flags, payload)  # fmt: skip
        self.send(ts, frame, True)
        self.cseq += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)

    def s2c(self, ts: int, flags: int, payload: bytes = b"") -> None:
        """Send one segment from the server at ``ts`` (microseconds)."""
        frame = tcp_frame(self.smac, self.cmac, self.sip, self.cip, self.sport, self.cport,
                          self.sseq, self.cseq, flags, payload)  # fmt: skip
        self.send(ts, frame, False)
        self.sseq += len(payload) + (1 if flags & (TCP_SYN | TCP_FIN) else 0)


def dns_question(qid: int, name: str, qtype: int = DNS_A) -> bytes:
    """A DNS query message (recursion desired) with one question."""
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + dns_name(name) + struct.pack(
        "!HH", qtype, 1)


def dns_reply(qid: int, name: str, qtype: int = DNS_A, rdata: bytes = b"", rcode: int = 0,
              ttl: int = 60) -> bytes:
    """A DNS response echoing the question, with one answer of ``rdata`` (``ttl`` seconds)
    when given."""
    head = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 1 if rdata else 0, 0, 0)
    msg = head + dns_name(name) + struct.pack("!HH", qtype, 1)
    if rdata:
        msg += struct.pack("!HHHIH", 0xC00C, qtype, 1, ttl, len(rdata)) + rdata
    return msg


def syn_port_scan(
    push: Callable[[int, bytes], None],
    t: int,
    scanner: tuple[bytes, bytes],
    target: tuple[bytes, bytes],
    open_ports: frozenset[int] = frozenset({22, 80, 443}),
) -> int:
    """A SYN scan of ports 1-1024, one port a millisecond from ``t``, sent through ``push``.

    ``scanner`` and ``target`` are ``(IPv4 address, MAC)``. Open ports answer SYN+ACK and the
    scanner resets them; closed ports answer RST+ACK. Returns the packets pushed.
    """
    (sip, smac), (tip, tmac) = scanner, target
    count = 0
    for port in range(1, 1025):
        ts = t + port * 1_000
        sport = 40000 + (port % 7)
        push(ts, tcp_frame(smac, tmac, sip, tip, sport, port, 77, 0, TCP_SYN))
        if port in open_ports:
            push(ts + 300, tcp_frame(tmac, smac, tip, sip, port, sport, 9, 78, TCP_SYN | TCP_ACK))
            push(ts + 600, tcp_frame(smac, tmac, sip, tip, sport, port, 78, 0, TCP_RST))
            count += 3
        else:
            push(ts + 300, tcp_frame(tmac, smac, tip, sip, port, sport, 0, 78, TCP_RST | TCP_ACK))
            count += 2
    return count
