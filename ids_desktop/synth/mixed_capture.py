"""A large, realistic, deterministic mixed capture of a requested size, for the ingest benchmark.

Many hosts; DNS, HTTP, HTTPS-like and bulk TCP, NTP; one embedded SYN port scan. Web-like
transfers make about 7 KiB per conversation (see :mod:`.scale_capture` for many small flows).
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
    TCP_SYN,
    TcpPeers,
    dns_question,
    dns_reply,
    mac,
    syn_port_scan,
    udp_frame,
)


@dataclass
class MixedStats:
    """What :func:`write_mixed_capture` wrote."""

    path: Path
    packets: int
    conversations: int
    file_bytes: int
    duration_s: float
    seconds_to_write: float


class _Mixer(TimeOrdered):
    """Generates interleaved conversations and writes them in time order."""

    def __init__(self, writer: CaptureWriter, rng: random.Random) -> None:
        super().__init__(writer, rng)
        self.clients = [
            (socket.inet_aton(f"10.{1 + i // 250 % 8}.{i // 8 % 250}.{1 + i % 250}"), mac(i))
            for i in range(0, 4000 * 8, 8)
        ]
        self.web = [socket.inet_aton(f"198.51.100.{i}") for i in range(1, 255)]
        self.web += [socket.inet_aton(f"203.0.113.{i}") for i in range(1, 255)]
        self.resolver = socket.inet_aton("10.0.0.2")
        self.ntp = socket.inet_aton("192.0.2.123")
        self.gw = mac(0xFFFF)

    def _client(self) -> tuple[bytes, bytes, int]:
        ip, cmac = self.clients[self.rng.randrange(len(self.clients))]
        return ip, cmac, self.rng.randrange(32768, 61000)

    def dns(self, t: int, n: int) -> None:
        cip, cmac, cport = self._client()
        name = f"host{n % 5000}.example.com"
        query = dns_question(n & 0xFFFF, name)
        answer = dns_reply(n & 0xFFFF, name, rdata=self.web[n % len(self.web)], ttl=3600)
        self.push(t, udp_frame(cmac, self.gw, cip, self.resolver, cport, 53, query))
        rtt = self.rng.randrange(1_000, 30_000)
        self.push(t + rtt, udp_frame(self.gw, cmac, self.resolver, cip, 53, cport, answer))

    def ntp_exchange(self, t: int) -> None:
        cip, cmac, cport = self._client()
        req = b"\x23" + b"\0" * 47
        resp = b"\x24\x02" + self.payload(46)
        self.push(t, udp_frame(cmac, self.gw, cip, self.ntp, cport, 123, req))
        self.push(t + 15_000, udp_frame(self.gw, cmac, self.ntp, cip, 123, cport, resp))

    def tcp(
        self,
        t: int,
        dport: int,
        requests: list[int],
        responses: list[int],
        first: bytes | None = None,
        reply: bytes | None = None,
    ) -> None:
        """One TCP conversation: handshake, request/response rounds, FIN close."""
        rng = self.rng
        cip, cmac, cport = self._client()
        sip = self.web[rng.randrange(len(self.web))]
        rtt = rng.randrange(2_000, 80_000)
        cseq, sseq = rng.randrange(1 << 32), rng.randrange(1 << 32)
        push = self.push
        peers = TcpPeers(
            lambda ts, frame, _: push(ts, frame), cmac, self.gw, cip, sip, cport, dport, cseq, sseq
        )
        c2s, s2c = peers.c2s, peers.s2c

        c2s(t, TCP_SYN)
        s2c(t + rtt, TCP_SYN | TCP_ACK)
        t += rtt + 200
        c2s(t, TCP_ACK)
        for i, (req, resp) in enumerate(zip(requests, responses, strict=False)):
            t += 300
            c2s(t, TCP_PSH | TCP_ACK, first if (i == 0 and first) else self.payload(req))
            t += rtt
            body = reply if (i == 0 and reply) else b""
            remaining = resp
            seg = 0
            while remaining > 0 or body:
                size = min(1448, remaining) if not body else len(body)
                data = body or self.payload(size)
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
        scanner = (socket.inet_aton("192.0.2.66"), mac(0x6666))
        return syn_port_scan(self.push, t, scanner, (socket.inet_aton("10.0.9.9"), mac(0x0909)))


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
