"""Packet facts the host-level detectors need, read during the container walk.

nfstream's flow features cannot show what lives inside single packets (a TLS heartbeat that
claims more than it carries, a DHCP request with a made-up hardware address, the name a DNS
query asks for, the URI of an HTTP request). The container walk
(:func:`~ids_desktop.core.ingest.pcapfile.walk_capture`) already reads every packet once;
:func:`inspect_ipv4` looks into the IPv4 packets it passes on Ethernet, Linux cooked and
raw-IP links (where :func:`~ids_desktop.core.ingest.linklayer.unmetered` found their header)
and keeps, each list bounded:

- DHCP client messages (message type, client hardware address);
- DNS questions (name, type), over UDP and TCP;
- TLS heartbeat records at the start of a TCP segment (declared record length, and for a
  plaintext request or response its declared payload length);
- HTTP request lines whose URI looks like an attack (:data:`SUSPICIOUS_URI`), and HTTP 401
  answers.

IPv6 packets are not inspected.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field

#: Facts kept per kind; past this a capture's flood of one kind is counted, not listed.
MAX_FACTS = 50_000
#: SQL injection, cross-site scripting, path traversal and command injection in a request URI
#: (decoded once): the shapes Zeek's ``match_sql_injection_uri`` and Suricata's ET
#: WEB_SERVER rules look for. Benign URIs rarely hold SQL keywords next to quotes or
#: comment marks.
SUSPICIOUS_URI = re.compile(
    r"(?i)("
    r"union(\s|\+|/\*.*?\*/)+(all(\s|\+)+)?select"
    r"|['\"`]\s*(\)\s*)*(or|and)(\s|\+)+['\"`]?\w*['\"`]?\s*(=|like|>|<)"
    r"|['\"`](\s|\+)*(or|and)(\s|\+)+\d+(\s|\+)*=(\s|\+)*\d+"
    r"|(sleep|benchmark|pg_sleep|waitfor(\s|\+)+delay)(\s|\+)*\("
    r"|information_schema|@@version|\bchar\(\d+\)|0x[0-9a-f]{16,}"
    r"|<\s*script|javascript:|on(error|load)\s*="
    r"|(\.\./|\.\.%2f){2,}|/etc/passwd"
    r"|[;|`]\s*(cat|id|whoami|uname|wget|curl|nc|bash|sh)\b"
    r")"
)


@dataclass
class PacketFacts:
    """What :func:`inspect` kept from a capture's packets (times in seconds since the epoch).

    Attributes
    ----------
    dhcp
        ``(time, message type, client hardware address, source MAC)`` of DHCP client messages.
    dns
        ``(time, source, destination, source port, transport, name, query type)`` of DNS
        questions.
    heartbeats
        ``(time, source, destination, source port, destination port, record length, message
        type, declared payload length)``; type and payload length are -1 when encrypted.
    http
        ``(time, source, destination, destination port, method, URI)`` of requests whose URI
        matched :data:`SUSPICIOUS_URI`.
    http_401
        ``(time, server, client, server port)`` of HTTP 401 answers.
    dropped
        Facts of each kind not kept past :data:`MAX_FACTS`.
    """

    dhcp: list[tuple[float, int, str, str]] = field(default_factory=list)
    dns: list[tuple[float, str, str, int, str, str, int]] = field(default_factory=list)
    heartbeats: list[tuple[float, str, str, int, int, int, int, int]] = field(default_factory=list)
    http: list[tuple[float, str, str, int, str, str]] = field(default_factory=list)
    http_401: list[tuple[float, str, str, int]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)

    def keep(self, kind: str, fact: tuple) -> None:  # type: ignore[type-arg]
        facts = getattr(self, kind)
        if len(facts) < MAX_FACTS:
            facts.append(fact)
        else:
            self.dropped[kind] = self.dropped.get(kind, 0) + 1


_HTTP_METHODS = (b"GET ", b"POST", b"PUT ", b"HEAD", b"DELE", b"PATC", b"OPTI")
#: First payload bytes worth a closer look in a TCP segment (besides any to port 53): a TLS
#: heartbeat record (0x18), an HTTP request or answer (G, P, H, D, O).
_TCP_FIRST_BYTES = frozenset(b"\x18GPHDO")


def inspect_ipv4(
    buf: bytes, ip: int, end: int, ts: float, facts: PacketFacts, frame: int = -1
) -> None:
    """Keep what the detectors need from the IPv4 packet at ``buf[ip:end]``, a first (or
    only) fragment; ``frame`` is the offset of its Ethernet header (-1 on other links)."""
    l4 = ip + (buf[ip] & 0x0F) * 4
    proto = buf[ip + 9]
    if proto == 17:
        if l4 + 8 > end:
            return
        sport, dport = buf[l4] << 8 | buf[l4 + 1], buf[l4 + 2] << 8 | buf[l4 + 3]
        if dport == 53:
            _dns(
                buf, l4 + 8, end, ts, _addr(buf, ip + 12), _addr(buf, ip + 16), sport, "udp", facts
            )
        elif dport == 67 and sport == 68:
            _dhcp(buf, l4 + 8, end, ts, frame, facts)
    elif proto == 6:
        if l4 + 20 > end:
            return
        data = l4 + (buf[l4 + 12] >> 4) * 4
        if data + 5 > end:
            return
        first = buf[data]
        if first not in _TCP_FIRST_BYTES and (buf[l4 + 2] or buf[l4 + 3] != 53):
            return  # most segments: encrypted or binary payload, nothing to read
        sport, dport = buf[l4] << 8 | buf[l4 + 1], buf[l4 + 2] << 8 | buf[l4 + 3]
        if first == 0x18 and buf[data + 1] == 3:
            _heartbeat(buf, data, end, ts, ip, sport, dport, facts)
        elif dport == 53:
            # DNS over TCP: a two-byte length, then the message; some stacks send the length
            # in a segment of its own
            prefixed = (buf[data] << 8 | buf[data + 1]) == end - data - 2
            _dns(
                buf,
                data + 2 if prefixed else data,
                end,
                ts,
                _addr(buf, ip + 12),
                _addr(buf, ip + 16),
                sport,
                "tcp",
                facts,
            )
        elif buf[data : data + 4] in _HTTP_METHODS:
            _http_request(buf, data, end, ts, ip, dport, facts)
        elif buf[data : data + 12] in (b"HTTP/1.1 401", b"HTTP/1.0 401"):
            facts.keep("http_401", (ts, _addr(buf, ip + 12), _addr(buf, ip + 16), sport))


def _addr(buf: bytes, at: int) -> str:
    return socket.inet_ntoa(buf[at : at + 4])


def _dns(
    buf: bytes,
    msg: int,
    end: int,
    ts: float,
    src: str,
    dst: str,
    sport: int,
    transport: str,
    facts: PacketFacts,
) -> None:
    if msg + 12 > end or buf[msg + 2] & 0x80 or not (buf[msg + 4] << 8 | buf[msg + 5]):
        return  # a response, or no question
    labels: list[str] = []
    at = msg + 12
    while at < end and len(labels) < 128:
        n = buf[at]
        if n == 0:
            break
        if n & 0xC0 or at + 1 + n > end:
            return  # compression in a question, or cut short: not a name we can read
        labels.append(buf[at + 1 : at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    if at + 3 > end:
        return
    qtype = buf[at + 1] << 8 | buf[at + 2]
    facts.keep("dns", (ts, src, dst, sport, transport, ".".join(labels).lower(), qtype))


def _dhcp(buf: bytes, msg: int, end: int, ts: float, frame: int, facts: PacketFacts) -> None:
    if msg + 240 > end or buf[msg] != 1 or buf[msg + 236 : msg + 240] != b"\x63\x82\x53\x63":
        return
    chaddr = buf[msg + 28 : msg + 34].hex(":")
    src_mac = buf[frame + 6 : frame + 12].hex(":") if frame >= 0 else ""
    at, mtype = msg + 240, 0
    while at + 2 <= end and buf[at] != 255:
        code = buf[at]
        if code == 0:
            at += 1
            continue
        size = buf[at + 1]
        if code == 53 and size >= 1 and at + 2 < end:
            mtype = buf[at + 2]
            break
        at += 2 + size
    facts.keep("dhcp", (ts, mtype, chaddr, src_mac))


def _heartbeat(
    buf: bytes, rec: int, end: int, ts: float, ip: int, sport: int, dport: int, facts: PacketFacts
) -> None:
    length = buf[rec + 3] << 8 | buf[rec + 4]
    hb_type = claimed = -1
    if rec + 8 <= end and buf[rec + 5] in (1, 2):  # plaintext: type, then payload_length
        hb_type, claimed = buf[rec + 5], buf[rec + 6] << 8 | buf[rec + 7]
    facts.keep(
        "heartbeats",
        (ts, _addr(buf, ip + 12), _addr(buf, ip + 16), sport, dport, length, hb_type, claimed),
    )


def _http_request(
    buf: bytes, data: int, end: int, ts: float, ip: int, dport: int, facts: PacketFacts
) -> None:
    line_end = buf.find(b"\r\n", data, min(end, data + 4096))
    line = buf[data : line_end if line_end > 0 else min(end, data + 4096)]
    parts = line.split(b" ")
    if len(parts) < 2:
        return
    uri = parts[1].decode("latin-1")
    from urllib.parse import unquote_plus

    if SUSPICIOUS_URI.search(unquote_plus(uri)):
        facts.keep(
            "http",
            (
                ts,
                _addr(buf, ip + 12),
                _addr(buf, ip + 16),
                dport,
                parts[0].decode("latin-1"),
                uri[:500],
            ),
        )
