"""A large capture with many small flows (issue 10: reliability at scale).

:func:`ids_desktop.synth.mixed_capture.write_mixed_capture` models web traffic with large
transfers (about 7 KiB per conversation), so 1 GiB holds only ~150,000 flows. This generator
aims at about 1 KiB per flow, so 1 GiB holds more than a million flows: DNS and NTP exchanges,
short HTTP and HTTPS-like TCP conversations, refused connections (SYN answered by RST), short
UDP exchanges (syslog, SNMP, QUIC-like) and occasional bulk transfers, between 8,000 clients and
1,000 servers, plus one embedded SYN port scan (ports 1-1024 of one host, from one outside
address) in the middle.

Packets are written in time order as they are generated: memory holds only the packets of
conversations still in progress (a few thousand), whatever the file size.

Conversations start as a Poisson process (``flow_rate`` per second of capture time, 300 by
default), so the number of flows nfstream keeps open at once depends on the rate and the flow
timeouts, not on the file size. Deterministic: the same seed and size give the same bytes.
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ids_desktop.synth.capture_writer import CaptureWriter, TimeOrdered
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
    syn_port_scan,
    tcp_frame,
    udp_frame,
)

SCANNER = "192.0.2.66"
SCAN_TARGET = "10.20.9.9"


@dataclass
class ScaleStats:
    """What :func:`write_scale_capture` wrote (``scan_started_at``: epoch seconds)."""

    path: Path
    packets: int
    conversations: int
    file_bytes: int
    duration_s: float
    seconds_to_write: float
    scan_started_at: float


def _mac(n: int) -> bytes:
    """A locally administered MAC address (prefix 02:01, apart from :func:`.packets.mac`)."""
    return b"\x02\x01" + n.to_bytes(4, "big")


class _Gen(TimeOrdered):
    """Generates conversations into a time-ordered heap and writes what is due."""

    def __init__(self, writer: CaptureWriter, rng: random.Random) -> None:
        super().__init__(writer, rng)
        self.clients = [
            (socket.inet_aton(f"10.{10 + i // 62500}.{i // 250 % 250}.{1 + i % 250}"), _mac(i))
            for i in range(0, 8000 * 97, 97)
        ]
        self.servers = [socket.inet_aton(f"198.51.100.{1 + i % 254}") for i in range(254)]
        self.servers += [socket.inet_aton(f"203.0.113.{1 + i % 254}") for i in range(254)]
        self.servers += [socket.inet_aton(f"172.16.{i // 250}.{1 + i % 250}") for i in range(492)]
        self.resolvers = [socket.inet_aton(f"10.0.0.{i}") for i in (2, 3)]
        self.ntp = socket.inet_aton("192.0.2.123")
        self.gw = _mac(0xFFFFFF)

    def client(self) -> tuple[bytes, bytes, int]:
        ip, mac = self.clients[self.rng.randrange(len(self.clients))]
        return ip, mac, self.rng.randrange(1024, 65535)

    def server(self) -> bytes:
        return self.servers[self.rng.randrange(len(self.servers))]

    # --- UDP ---------------------------------------------------------------------------------
    def dns(self, t: int, n: int) -> None:
        cip, cmac, cport = self.client()
        name = f"h{n % 20011}.example.com"
        query = dns_question(n & 0xFFFF, name)
        answer = dns_reply(n & 0xFFFF, name, rdata=self.server(), ttl=3600)
        res = self.resolvers[n & 1]
        self.push(t, udp_frame(cmac, self.gw, cip, res, cport, 53, query))
        reply = udp_frame(self.gw, cmac, res, cip, 53, cport, answer)
        self.push(t + self.rng.randrange(500, 30_000), reply)

    def ntp_exchange(self, t: int) -> None:
        cip, cmac, cport = self.client()
        self.push(t, udp_frame(cmac, self.gw, cip, self.ntp, cport, 123, b"\x23" + b"\0" * 47))
        reply = b"\x24\x02" + self.payload(46)
        self.push(t + 12_000, udp_frame(self.gw, cmac, self.ntp, cip, 123, cport, reply))

    def udp_misc(self, t: int) -> None:
        """Syslog (one way), SNMP (get/response) or a QUIC-like burst on 443."""
        rng = self.rng
        cip, cmac, cport = self.client()
        sip = self.server()
        gw, payload = self.gw, self.payload
        kind = rng.random()
        if kind < 0.3:
            self.push(t, udp_frame(cmac, gw, cip, sip, cport, 514, payload(rng.randrange(60, 300))))
        elif kind < 0.6:
            self.push(t, udp_frame(cmac, gw, cip, sip, cport, 161, payload(rng.randrange(40, 90))))
            response = payload(rng.randrange(60, 400))
            self.push(t + 3_000, udp_frame(gw, cmac, sip, cip, 161, cport, response))
        else:
            for i in range(rng.randrange(2, 5)):
                t += rng.randrange(1_000, 20_000)
                if i % 2 == 0:
                    data = payload(rng.randrange(200, 1200))
                    self.push(t, udp_frame(cmac, gw, cip, sip, cport, 443, data))
                else:
                    data = payload(rng.randrange(40, 900))
                    self.push(t, udp_frame(gw, cmac, sip, cip, 443, cport, data))

    # --- TCP ---------------------------------------------------------------------------------
    def refused(self, t: int) -> None:
        cip, cmac, cport = self.client()
        sip, dport = self.server(), self.rng.choice((23, 25, 139, 445, 3389, 8080, 8443))
        self.push(t, tcp_frame(cmac, self.gw, cip, sip, cport, dport, 1, 0, TCP_SYN))
        rst = tcp_frame(self.gw, cmac, sip, cip, dport, cport, 0, 2, TCP_RST | TCP_ACK)
        self.push(t + 800, rst)

    def tcp(self, t: int, dport: int, rounds: list[tuple[int, int]]) -> None:
        """Handshake, request/response rounds (responses in 1448-byte segments), FIN close."""
        rng = self.rng
        cip, cmac, cport = self.client()
        sip = self.server()
        rtt = rng.randrange(1_000, 60_000)
        cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
        push = self.push
        peers = TcpPeers(
            lambda ts, frame, _: push(ts, frame), cmac, self.gw, cip, sip, cport, dport, cseq, sseq
        )
        c2s, s2c = peers.c2s, peers.s2c

        c2s(t, TCP_SYN)
        s2c(t + rtt, TCP_SYN | TCP_ACK)
        t += rtt + 100
        c2s(t, TCP_ACK)
        for req, resp in rounds:
            t += 200
            c2s(t, TCP_PSH | TCP_ACK, self.payload(req))
            t += rtt
            left = resp
            while left > 0:
                size = min(1448, left)
                s2c(t, TCP_ACK | (TCP_PSH if left <= size else 0), self.payload(size))
                left -= size
                t += rng.randrange(50, 800)
            c2s(t, TCP_ACK)
        t += rng.randrange(500, 100_000)
        c2s(t, TCP_FIN | TCP_ACK)
        s2c(t + rtt, TCP_FIN | TCP_ACK)
        c2s(t + rtt + 100, TCP_ACK)

    def port_scan(self, t: int) -> None:
        scanner = (socket.inet_aton(SCANNER), _mac(0x6666))
        syn_port_scan(self.push, t, scanner, (socket.inet_aton(SCAN_TARGET), _mac(0x0909)))


def write_scale_capture(
    path: str | Path,
    size_mb: float,
    *,
    seed: int = 0,
    fmt: str = "pcap",
    flow_rate: float = 300.0,
) -> ScaleStats:
    """Write about ``size_mb`` MiB of many-small-flows traffic; see the module docstring.

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
    ScaleStats
    """
    started = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    target = int(size_mb * 1024 * 1024)
    scan_time = 0.0
    with open(path, "wb", buffering=1 << 20) as fh:
        writer = CaptureWriter(fh, fmt)
        gen = _Gen(writer, rng)
        t = BASE_TIME * 1_000_000
        n = 0
        scanned = False
        while writer.bytes < target:
            t += int(rng.expovariate(flow_rate) * 1_000_000) + 1
            gen.flush_until(t)
            n += 1
            k = rng.random()
            if k < 0.33:
                gen.dns(t, n)
            elif k < 0.42:
                gen.ntp_exchange(t)
            elif k < 0.52:
                gen.refused(t)
            elif k < 0.77:
                gen.udp_misc(t)
            elif k < 0.88:
                gen.tcp(t, 443, [(rng.randrange(100, 600), rng.randrange(200, 1500))])
            elif k < 0.998:
                gen.tcp(t, 80, [(rng.randrange(150, 450), rng.randrange(300, 2000))])
            else:
                gen.tcp(t, 443, [(500, rng.randrange(30_000, 80_000))])
            if not scanned and writer.bytes >= target // 2:
                gen.port_scan(t)
                scan_time = t / 1e6
                scanned = True
        if not scanned:
            gen.port_scan(t)
            scan_time = t / 1e6
        gen.flush_until(None)
        writer.flush()
    return ScaleStats(
        path=path,
        packets=writer.packets,
        conversations=n + 1024,
        file_bytes=writer.bytes,
        duration_s=t / 1e6 - BASE_TIME,
        seconds_to_write=time.perf_counter() - started,
        scan_started_at=scan_time,
    )
