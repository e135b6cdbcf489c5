"""Write the demo capture that ``make run`` opens when no file is given.

Ordinary office traffic (web page loads over HTTP, DNS lookups, TLS sessions with SNI, NTP)
from several workstations, plus two attacks from one outside host: a TCP SYN port scan of a
server and an SSH password brute force against it. Deterministic for a seed. Nothing is sent
anywhere: packets are bytes written to a file, with RFC 1918 / RFC 5737 addresses only.

Usage: python scripts/make_demo_capture.py [--out resources/demo/demo.pcap] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import socket
import struct
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_capture import BASE_TIME, CaptureWriter, tcp_frame, udp_frame  # noqa: E402

SYN, RST, PSH, ACK, FIN = 0x02, 0x04, 0x08, 0x10, 0x01
REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "resources" / "demo" / "demo.pcap"

WORKSTATIONS = [f"192.168.10.{i}" for i in range(21, 29)]
RESOLVER = "192.168.10.2"
WEB_SERVERS = {"intranet.example": "192.168.20.10", "wiki.example": "192.168.20.11"}
TLS_SERVERS = {"mail.example": "198.51.100.25", "docs.example": "198.51.100.26", "cdn.example": "198.51.100.27"}
NTP = "192.168.10.3"
ATTACKER = "203.0.113.66"
TARGET = "192.168.20.30"


def mac(ip: str) -> bytes:
    return b"\x02\x00" + socket.inet_aton(ip)


class Demo:
    def __init__(self, writer: CaptureWriter, rng: random.Random) -> None:
        self.w = writer
        self.rng = rng
        self.packets: list[tuple[int, bytes]] = []
        self.next_port = 40000

    def port(self) -> int:
        self.next_port += self.rng.randint(1, 7)
        return self.next_port

    def tcp_session(self, t: int, cip: str, sip: str, dport: int, exchanges: list[tuple[bool, bytes]],
                    rtt: int = 2_000, think: int = 30_000, close: bool = True) -> int:
        """Handshake, request/response payloads, FIN; returns the end time (µs)."""
        cp = self.port()
        cseq, sseq = self.rng.randrange(1 << 31), self.rng.randrange(1 << 31)
        cm, sm, ci, si = mac(cip), mac(sip), socket.inet_aton(cip), socket.inet_aton(sip)

        def c2s(flags: int, data: bytes = b"") -> None:
            nonlocal cseq
            self.packets.append((t, tcp_frame(cm, sm, ci, si, cp, dport, cseq, sseq, flags, data)))
            cseq += len(data) + (1 if flags & (SYN | FIN) else 0)

        def s2c(flags: int, data: bytes = b"") -> None:
            nonlocal sseq
            self.packets.append((t, tcp_frame(sm, cm, si, ci, dport, cp, sseq, cseq, flags, data)))
            sseq += len(data) + (1 if flags & (SYN | FIN) else 0)

        c2s(SYN)
        t += rtt
        s2c(SYN | ACK)
        t += rtt // 2
        c2s(ACK)
        for forward, data in exchanges:
            t += self.rng.randint(think // 4, think)
            for i in range(0, max(len(data), 1), 1448):
                chunk = data[i : i + 1448]
                (c2s if forward else s2c)(PSH | ACK, chunk)
                t += 120
            t += rtt // 2
            (s2c if forward else c2s)(ACK)
        if close:
            t += self.rng.randint(1_000, 50_000)
            c2s(FIN | ACK)
            t += rtt
            s2c(FIN | ACK)
            t += rtt // 2
            c2s(ACK)
        return t

    def dns(self, t: int, cip: str, name: str, answer: str) -> None:
        qid = self.rng.randrange(1 << 16)
        qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
        resp = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + qname + struct.pack("!HH", 1, 1)
        resp += struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + socket.inet_aton(answer)
        sport = self.port()
        self.packets.append((t, udp_frame(mac(cip), mac(RESOLVER), socket.inet_aton(cip),
                                          socket.inet_aton(RESOLVER), sport, 53, query)))
        self.packets.append((t + self.rng.randint(300, 4_000), udp_frame(
            mac(RESOLVER), mac(cip), socket.inet_aton(RESOLVER), socket.inet_aton(cip), 53, sport, resp)))

    def web_visit(self, t: int, cip: str) -> int:
        host, sip = self.rng.choice(sorted(WEB_SERVERS.items()))
        self.dns(t, cip, host, sip)
        t += 5_000
        pages = []
        for _ in range(self.rng.randint(1, 4)):
            path = self.rng.choice(["/", "/news", "/team/calendar", "/static/app.js", "/img/logo.png"])
            req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) "
                   "Firefox/128.0\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n").encode()
            body = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(400, 12_000)))
            resp = (f"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: {len(body)}\r\n"
                    "Content-Type: text/html\r\n\r\n").encode() + body
            pages += [(True, req), (False, resp)]
        return self.tcp_session(t, cip, sip, 80, pages)

    def tls_visit(self, t: int, cip: str) -> int:
        host, sip = self.rng.choice(sorted(TLS_SERVERS.items()))
        self.dns(t, cip, host, sip)
        hello = client_hello(host, self.rng)
        server = b"\x16\x03\x03" + struct.pack("!H", 90) + bytes([2]) + bytes(89)
        exchanges = [(True, hello), (False, server + bytes(self.rng.randrange(256) for _ in range(2_400))),
                     (True, b"\x17\x03\x03" + bytes(300))]
        for _ in range(self.rng.randint(1, 6)):
            exchanges.append((False, b"\x17\x03\x03" + bytes(self.rng.randint(200, 9_000))))
        return self.tcp_session(t + 6_000, cip, sip, 443, exchanges, rtt=18_000)

    def ntp(self, t: int, cip: str) -> None:
        sport = 123
        self.packets.append((t, udp_frame(mac(cip), mac(NTP), socket.inet_aton(cip), socket.inet_aton(NTP),
                                          sport, 123, b"\x23" + bytes(47))))
        self.packets.append((t + 900, udp_frame(mac(NTP), mac(cip), socket.inet_aton(NTP), socket.inet_aton(cip),
                                                123, sport, b"\x24" + bytes(47))))

    def port_scan(self, t: int, ports: list[int]) -> None:
        am, tm, ai, ti = mac(ATTACKER), mac(TARGET), socket.inet_aton(ATTACKER), socket.inet_aton(TARGET)
        sport = 61000
        for p in ports:
            seq = self.rng.randrange(1 << 31)
            self.packets.append((t, tcp_frame(am, tm, ai, ti, sport, p, seq, 0, SYN)))
            if p in (22, 80, 443):
                self.packets.append((t + 400, tcp_frame(tm, am, ti, ai, p, sport, 7, seq + 1, SYN | ACK)))
                self.packets.append((t + 700, tcp_frame(am, tm, ai, ti, sport, p, seq + 1, 0, RST)))
            else:
                self.packets.append((t + 400, tcp_frame(tm, am, ti, ai, p, sport, 0, seq + 1, RST | ACK)))
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
            ]
            t = self.tcp_session(t, ATTACKER, TARGET, 22, exchanges, rtt=9_000, think=4_000) + self.rng.randint(150_000, 400_000)


def client_hello(server_name: str, rng: random.Random) -> bytes:
    """A TLS 1.2-style ClientHello carrying ``server_name`` in the SNI extension."""
    name = server_name.encode()
    sni = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    groups = struct.pack("!HHH", 10, 4, 2) + struct.pack("!H", 29)
    exts = sni + groups
    ciphers = struct.pack("!H", 6) + struct.pack("!HHH", 0x1301, 0xC02F, 0x009C)
    body = (b"\x03\x03" + bytes(rng.randrange(256) for _ in range(32)) + b"\x00" + ciphers
            + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def write_demo(out: Path, seed: int = 7, minutes: int = 10) -> Path:
    """Write the demo capture to ``out`` and return it."""
    rng = random.Random(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    with tmp.open("wb") as fh:
        demo = Demo(CaptureWriter(fh, "pcap"), rng)
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
        demo.port_scan(start + 3 * 60_000_000, sorted(rng.sample(range(1, 1025), 300) + [22, 80, 443]))
        demo.ssh_bruteforce(start + 6 * 60_000_000, 40)
        for ts, frame in sorted(demo.packets, key=lambda p: p[0]):
            demo.w.write(ts, frame)
        demo.w.flush()
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    path = write_demo(args.out, args.seed)
    print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
