"""The demo capture that ``make run`` opens when no file is given.

Ordinary office traffic (web page loads over HTTP, DNS lookups, TLS sessions with SNI, NTP)
from several workstations, plus two attacks from one outside host: a TCP SYN port scan of a
server and an SSH password brute force against it. Deterministic for a seed. Nothing is sent
anywhere: packets are bytes written to a file, with RFC 1918 / RFC 5737 addresses only.
"""

from __future__ import annotations

import random
import socket
import struct
from pathlib import Path

from ids_desktop.synth.capture_writer import CaptureWriter
from ids_desktop.synth.packets import (
    BASE_TIME,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    TcpPeers,
    dns_question,
    dns_reply,
    tcp_frame,
    udp_frame,
)

WORKSTATIONS = [f"192.168.10.{i}" for i in range(21, 29)]
RESOLVER = "192.168.10.2"
WEB_SERVERS = {"intranet.example": "192.168.20.10", "wiki.example": "192.168.20.11"}
TLS_SERVERS = {
    "mail.example": "198.51.100.25",
    "docs.example": "198.51.100.26",
    "cdn.example": "198.51.100.27",
}
NTP = "192.168.10.3"
#: The outside host that scans :data:`TARGET` and brute-forces its SSH password.
ATTACKER = "203.0.113.66"
TARGET = "192.168.20.30"


def _mac(ip: str) -> bytes:
    """A locally administered MAC address holding the IPv4 address ``ip``."""
    return b"\x02\x00" + socket.inet_aton(ip)


def _udp(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """A UDP frame between two hosts named by their addresses."""
    return udp_frame(_mac(src), _mac(dst), socket.inet_aton(src), socket.inet_aton(dst),
                     sport, dport, payload)  # fmt: skip


class _Demo:
    """Collects the demo's packets as (timestamp in µs, frame); ports rise from 40000."""

    def __init__(self, writer: CaptureWriter, rng: random.Random) -> None:
        self.w = writer
        self.rng = rng
        self.packets: list[tuple[int, bytes]] = []
        self.next_port = 40000

    def port(self) -> int:
        self.next_port += self.rng.randint(1, 7)
        return self.next_port

    def tcp_session(
        self,
        t: int,
        cip: str,
        sip: str,
        dport: int,
        exchanges: list[tuple[bool, bytes]],
        rtt: int = 2_000,
        think: int = 30_000,
        close: bool = True,
    ) -> int:
        """Handshake, request/response payloads, FIN; returns the end time (µs)."""
        cp = self.port()
        cseq, sseq = self.rng.randrange(1 << 31), self.rng.randrange(1 << 31)
        peers = TcpPeers(lambda ts, frame, _: self.packets.append((ts, frame)),
                         _mac(cip), _mac(sip), socket.inet_aton(cip), socket.inet_aton(sip),
                         cp, dport, cseq, sseq)  # fmt: skip

        peers.c2s(t, TCP_SYN)
        t += rtt
        peers.s2c(t, TCP_SYN | TCP_ACK)
        t += rtt // 2
        peers.c2s(t, TCP_ACK)
        for forward, data in exchanges:
            t += self.rng.randint(think // 4, think)
            for i in range(0, max(len(data), 1), 1448):
                chunk = data[i : i + 1448]
                (peers.c2s if forward else peers.s2c)(t, TCP_PSH | TCP_ACK, chunk)
                t += 120
            t += rtt // 2
            (peers.s2c if forward else peers.c2s)(t, TCP_ACK)
        if close:
            t += self.rng.randint(1_000, 50_000)
            peers.c2s(t, TCP_FIN | TCP_ACK)
            t += rtt
            peers.s2c(t, TCP_FIN | TCP_ACK)
            t += rtt // 2
            peers.c2s(t, TCP_ACK)
        return t

    def dns(self, t: int, cip: str, name: str, answer: str) -> None:
        qid = self.rng.randrange(1 << 16)
        query = dns_question(qid, name)
        resp = dns_reply(qid, name, rdata=socket.inet_aton(answer), ttl=300)
        sport = self.port()
        self.packets.append((t, _udp(cip, RESOLVER, sport, 53, query)))
        reply_at = t + self.rng.randint(300, 4_000)
        self.packets.append((reply_at, _udp(RESOLVER, cip, 53, sport, resp)))

    def web_visit(self, t: int, cip: str) -> int:
        host, sip = self.rng.choice(sorted(WEB_SERVERS.items()))
        self.dns(t, cip, host, sip)
        t += 5_000
        pages = []
        paths = ["/", "/news", "/team/calendar", "/static/app.js", "/img/logo.png"]
        for _ in range(self.rng.randint(1, 4)):
            path = self.rng.choice(paths)
            req = (
                f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0 (X11; Linux "
                "x86_64) Firefox/128.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n"
            ).encode()
            body = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(400, 12_000)))
            resp = (f"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: {len(body)}\r\n"
                    "Content-Type: text/html\r\n\r\n").encode() + body  # fmt: skip
            pages += [(True, req), (False, resp)]
        return self.tcp_session(t, cip, sip, 80, pages)

    def tls_visit(self, t: int, cip: str) -> int:
        host, sip = self.rng.choice(sorted(TLS_SERVERS.items()))
        self.dns(t, cip, host, sip)
        hello = client_hello(host, self.rng)
        server = b"\x16\x03\x03" + struct.pack("!H", 90) + bytes([2]) + bytes(89)
        exchanges = [
            (True, hello),
            (False, server + bytes(self.rng.randrange(256) for _ in range(2_400))),
            (True, b"\x17\x03\x03" + bytes(300)),
        ]
        for _ in range(self.rng.randint(1, 6)):
            exchanges.append((False, b"\x17\x03\x03" + bytes(self.rng.randint(200, 9_000))))
        return self.tcp_session(t + 6_000, cip, sip, 443, exchanges, rtt=18_000)

    def ntp(self, t: int, cip: str) -> None:
        sport = 123
        self.packets.append((t, _udp(cip, NTP, sport, 123, b"\x23" + bytes(47))))
        self.packets.append((t + 900, _udp(NTP, cip, 123, sport, b"\x24" + bytes(47))))

    def port_scan(self, t: int, ports: list[int]) -> None:
        am, tm = _mac(ATTACKER), _mac(TARGET)
        ai, ti = socket.inet_aton(ATTACKER), socket.inet_aton(TARGET)
        sport = 61000
        for p in ports:
            seq = self.rng.randrange(1 << 31)
            self.packets.append((t, tcp_frame(am, tm, ai, ti, sport, p, seq, 0, TCP_SYN)))
            if p in (22, 80, 443):
                syn_ack = tcp_frame(tm, am, ti, ai, p, sport, 7, seq + 1, TCP_SYN | TCP_ACK)
                self.packets.append((t + 400, syn_ack))
                rst = tcp_frame(am, tm, ai, ti, sport, p, seq + 1, 0, TCP_RST)
                self.packets.append((t + 700, rst))
            else:
                rst = tcp_frame(tm, am, ti, ai, p, sport, 0, seq + 1, TCP_RST | TCP_ACK)
                self.packets.append((t + 400, rst))
            t += self.rng.randint(800, 3_000)

    def ssh_bruteforce(self, t: int, attempts: int) -> None:
        for _ in range(attempts):
            exchanges = [
                (False, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
                (True, b"SSH-2.0-libssh_0.10.5\r\n"),
                (True, bytes(1_400)), (False, bytes(1_080)),
                (True, bytes(48)), (False, bytes(564)), (True, bytes(16)),
                (True, bytes(self.rng.choice([84, 100, 116]))), (False, bytes(52)),
                (True, bytes(self.rng.choice([132, 148]))), (False, bytes(36)),
            ]  # fmt: skip
            t = self.tcp_session(t, ATTACKER, TARGET, 22, exchanges, rtt=9_000, think=4_000)
            t += self.rng.randint(150_000, 400_000)


def client_hello(server_name: str, rng: random.Random) -> bytes:
    """A TLS 1.2-style ClientHello carrying ``server_name`` in the SNI extension."""
    name = server_name.encode()
    sni = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    groups = struct.pack("!HHH", 10, 4, 2) + struct.pack("!H", 29)
    exts = sni + groups
    ciphers = struct.pack("!H", 6) + struct.pack("!HHH", 0x1301, 0xC02F, 0x009C)
    body = (b"\x03\x03" + bytes(rng.randrange(256) for _ in range(32)) + b"\x00" + ciphers
            + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)  # fmt: skip
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def write_demo(out: Path, seed: int = 7, minutes: int = 10) -> Path:
    """Write the demo capture to ``out`` and return it.

    Parameters
    ----------
    out
        Output pcap file; its folder is created, and the file appears whole or not at all
        (written beside it as ``.part`` first).
    seed
        Random seed; the same seed and length give a byte-identical file.
    minutes
        Length of the workstations' traffic. The port scan (at minute 3) and the SSH brute
        force (at minute 6) are written whatever the length.

    Returns
    -------
    Path
        ``out``.
    """
    rng = random.Random(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    with tmp.open("wb") as fh:
        demo = _Demo(CaptureWriter(fh, "pcap"), rng)
        start = BASE_TIME * 1_000_000
        end = start + minutes * 60_000_000
        for cip in WORKSTATIONS:
            t = start + rng.randint(0, 20_000_000)
            while t < end:
                kind = rng.random()
                if kind < 0.45:
                    t = demo.web_visit(t, cip)
                elif kind < 0.85:
                    t = demo.tls_visit(t, cip)
                else:
                    demo.ntp(t, cip)
                t += int(rng.expovariate(1 / 15_000_000))
        scanned = sorted(rng.sample(range(1, 1025), 300) + [22, 80, 443])
        demo.port_scan(start + 3 * 60_000_000, scanned)
        demo.ssh_bruteforce(start + 6 * 60_000_000, 40)
        for ts, frame in sorted(demo.packets, key=lambda p: p[0]):
            demo.w.write(ts, frame)
        demo.w.flush()
    tmp.replace(out)
    return out
