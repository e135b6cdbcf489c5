"""Small captures of one attack behaviour each (scans, guessing, floods, beacons, DNS abuse)."""

from __future__ import annotations

import base64
import ipaddress
import random
import socket
import struct
from pathlib import Path

from ids_desktop.synth.capture_writer import CaptureWriter
from ids_desktop.synth.demo_capture import client_hello
from ids_desktop.synth.packets import (
    BASE_TIME,
    DNS_A,
    DNS_AXFR,
    DNS_TXT,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    TCP_URG,
    TcpPeers,
    dns_name,
    dns_question,
    dns_reply,
    ip_checksum,
    mac,
    tcp_frame,
    udp_frame,
)

#: The acting host of every capture, and the server it acts on.
ATTACKER = "203.0.113.66"
TARGET = "192.168.20.30"
#: A workstation of the local network (a beacon's and a DNS client's source).
CLIENT = "192.168.10.21"
RESOLVER = "192.168.10.2"
#: The command-and-control server a beacon checks in with.
C2 = "198.51.100.77"
#: The domain exfiltrated data and tunnels are spelled under.
EXFIL_DOMAIN = "exfil.example"
#: The name server that hands out zone transfers, and its zone.
NAME_SERVER = "192.168.20.53"
ZONE = "corp.example"
#: Start of every capture, in microseconds since the epoch.
T0 = BASE_TIME * 1_000_000
SECOND = 1_000_000
ICMP_ECHO_REPLY, ICMP_ECHO = 0, 8


def host_mac(ip: str) -> bytes:
    """The locally administered MAC address of the host holding ``ip``."""
    return mac(int(ipaddress.IPv4Address(ip)))


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def icmp_frame(src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes, icmp_type: int,
               ident: int, seq: int, payload: bytes = b"", ip_id: int = 0) -> bytes:
    """An Ethernet II / IPv4 / ICMP echo (type 8) or echo reply (type 0) frame, checksums set."""
    body = struct.pack("!BBHHH", icmp_type, 0, 0, ident, seq) + payload
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ip_id & 0xFFFF, 0x4000,
                               64, 1, 0, src_ip, dst_ip))
    struct.pack_into("!H", ip, 10, ip_checksum(bytes(ip)))
    return dst_mac + src_mac + b"\x08\x00" + bytes(ip) + body


def icmp_error_frame(src_mac: bytes, dst_mac: bytes, src_ip: bytes, dst_ip: bytes,
                     icmp_type: int, code: int, original: bytes) -> bytes:
    """An Ethernet II / IPv4 / ICMP error (type 3, unreachable, or 11, time exceeded) quoting
    the IP header and first 8 data bytes of the ``original`` Ethernet frame."""
    body = struct.pack("!BBHI", icmp_type, code, 0, 0) + original[14:42]
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(body), 0, 0, 64, 1,
                               0, src_ip, dst_ip))
    struct.pack_into("!H", ip, 10, ip_checksum(bytes(ip)))
    return dst_mac + src_mac + b"\x08\x00" + bytes(ip) + body


def arp_frame(op: int, sender_mac: str, sender_ip: str, target_mac: str, target_ip: str) -> bytes:
    """An Ethernet II / ARP request (1, broadcast) or reply (2, to ``target_mac``), MACs as
    ``aa:bb:...`` text, padded to the 60-byte minimum frame."""
    sha = bytes.fromhex(sender_mac.replace(":", ""))
    tha = bytes.fromhex(target_mac.replace(":", ""))
    body = (struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + socket.inet_aton(sender_ip) + tha
            + socket.inet_aton(target_ip))
    dst = b"\xff" * 6 if op == 1 else tha
    return dst + sha + b"\x08\x06" + body + bytes(18)


class Capture:
    """The frames of one synthetic capture, ``(time in µs, frame)``, written in time order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.frames: list[tuple[int, bytes]] = []
        self.next_port = 40000

    def add(self, t: int, frame: bytes) -> None:
        """Keep ``frame`` sent at ``t`` (µs since the epoch)."""
        self.frames.append((t, frame))

    def port(self) -> int:
        """A fresh client port (they rise from 40000, wrapping at 65000)."""
        self.next_port += self.rng.randint(1, 7)
        if self.next_port > 65000:
            self.next_port = 20000
        return self.next_port

    def udp(self, t: int, src: str, dst: str, sport: int, dport: int, payload: bytes = b"") -> None:
        """One UDP datagram."""
        self.add(t, udp_frame(host_mac(src), host_mac(dst), socket.inet_aton(src),
                              socket.inet_aton(dst), sport, dport, payload))

    def icmp(self, t: int, src: str, dst: str, icmp_type: int, ident: int, seq: int,
             payload: bytes = b"") -> None:
        """One ICMP echo or echo reply."""
        self.add(t, icmp_frame(host_mac(src), host_mac(dst), socket.inet_aton(src),
                               socket.inet_aton(dst), icmp_type, ident, seq, payload))

    def syn(self, t: int, src: str, dst: str, sport: int, dport: int, answer: str = "") -> None:
        """A lone SYN, and 0.4 ms on the target's ``answer``: none (``""``), a reset
        (``"rst"``, a closed port) or a SYN-ACK (``"synack"``, an open port), which the
        source resets 0.3 ms later with ``"synack+rst"`` (its kernel never sent that SYN)."""
        seq = self.rng.randrange(1 << 31)
        sm, dm, si, di = host_mac(src), host_mac(dst), socket.inet_aton(src), socket.inet_aton(dst)
        self.add(t, tcp_frame(sm, dm, si, di, sport, dport, seq, 0, TCP_SYN))
        if answer == "rst":
            self.add(t + 400, tcp_frame(dm, sm, di, si, dport, sport, 0, seq + 1,
                                        TCP_RST | TCP_ACK))
        elif answer.startswith("synack"):
            self.add(t + 400, tcp_frame(dm, sm, di, si, dport, sport, self.rng.randrange(1 << 31),
                                        seq + 1, TCP_SYN | TCP_ACK))
            if answer == "synack+rst":
                self.add(t + 700, tcp_frame(sm, dm, si, di, sport, dport, seq + 1, 0, TCP_RST))

    def session(self, t: int, cip: str, sip: str, dport: int, exchanges: list[tuple[bool, bytes]],
                *, rtt: int = 2_000, think: int = 20_000, linger: int = 0) -> int:
        """A TCP connection: handshake, each ``(from client, data)`` in turn (in segments of
        1,448 bytes, acknowledged by the other side), ``linger`` µs idle, then FIN from the
        client. Returns the time of its last packet."""
        peers = TcpPeers(lambda ts, frame, _c: self.add(ts, frame), host_mac(cip), host_mac(sip),
                         socket.inet_aton(cip), socket.inet_aton(sip), self.port(), dport,
                         self.rng.randrange(1 << 31), self.rng.randrange(1 << 31))
        peers.c2s(t, TCP_SYN)
        t += rtt
        peers.s2c(t, TCP_SYN | TCP_ACK)
        t += rtt // 2
        peers.c2s(t, TCP_ACK)
        for from_client, data in exchanges:
            t += self.rng.randint(think // 4, think)
            for i in range(0, max(len(data), 1), 1448):
                (peers.c2s if from_client else peers.s2c)(t, TCP_PSH | TCP_ACK, data[i : i + 1448])
                t += 120
            t += rtt // 2
            (peers.s2c if from_client else peers.c2s)(t, TCP_ACK)
        t += linger + self.rng.randint(1_000, 20_000)
        peers.c2s(t, TCP_FIN | TCP_ACK)
        t += rtt
        peers.s2c(t, TCP_FIN | TCP_ACK)
        t += rtt // 2
        peers.c2s(t, TCP_ACK)
        return t

    def write(self, path: Path, fmt: str = "pcap") -> Path:
        """Write the frames to ``path`` in time order and return it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            writer = CaptureWriter(fh, fmt)
            for t, frame in sorted(self.frames, key=lambda f: f[0]):
                writer.write(t, frame)
            writer.flush()
        return path


def _hosts(network: str, n: int) -> list[str]:
    """The first ``n`` host addresses of ``network``."""
    hosts = ipaddress.IPv4Network(network).hosts()
    return [str(next(hosts)) for _ in range(n)]


# --- scans --------------------------------------------------------------------------------


def write_port_scan(path: Path, ports: int = 20, *, seed: int = 1) -> Path:
    """:data:`ATTACKER` sends SYNs to ``ports`` closed ports of :data:`TARGET`; each is reset."""
    cap = Capture(seed)
    t = T0
    for port in sorted(cap.rng.sample(range(1, 1025), ports)):
        cap.syn(t, ATTACKER, TARGET, 61000, port, answer="rst")
        t += cap.rng.randint(800, 3_000)
    return cap.write(path)


def write_host_sweep(path: Path, hosts: int = 30, port: int = 445, *, seed: int = 2) -> Path:
    """:data:`ATTACKER` sends SYNs to ``port`` of ``hosts`` hosts of 192.168.30.0/24; none answers
    (each SYN is sent again after a second)."""
    cap = Capture(seed)
    t = T0
    am, ai = host_mac(ATTACKER), socket.inet_aton(ATTACKER)
    for host in _hosts("192.168.30.0/24", hosts):
        sport = cap.port()
        syn = tcp_frame(am, host_mac(host), ai, socket.inet_aton(host), sport, port, 1000, 0,
                        TCP_SYN)
        for retry in range(2):
            cap.add(t + retry * SECOND, syn)
        t += cap.rng.randint(5_000, 40_000)
    return cap.write(path)


def write_ping_sweep(path: Path, hosts: int = 20, answered: int = 5, *, seed: int = 3) -> Path:
    """:data:`ATTACKER` pings ``hosts`` hosts of 192.168.30.0/24 once each; the first ``answered``
    reply."""
    cap = Capture(seed)
    t = T0
    for k, host in enumerate(_hosts("192.168.30.0/24", hosts)):
        cap.icmp(t, ATTACKER, host, ICMP_ECHO, 0x4242, k + 1, bytes(32))
        if k < answered:
            cap.icmp(t + 700, host, ATTACKER, ICMP_ECHO_REPLY, 0x4242, k + 1, bytes(32))
        t += cap.rng.randint(2_000, 20_000)
    return cap.write(path)


#: Flags of the odd probes of :func:`write_stealth_scan`, by the kind of probe.
STEALTH_FLAGS = {"NULL": 0, "FIN": TCP_FIN, "Xmas": TCP_FIN | TCP_PSH | TCP_URG,
                 "SYN+FIN": TCP_SYN | TCP_FIN | TCP_PSH | TCP_URG}


def write_stealth_scan(path: Path, kinds: tuple[str, ...] = ("NULL", "SYN+FIN", "Xmas"),
                       ports: tuple[int, ...] = (135, 41296), *, seed: int = 16) -> Path:
    """:data:`ATTACKER` probes :data:`TARGET` as nmap's OS detection does: for each of
    ``kinds`` (keys of :data:`STEALTH_FLAGS`) one probe from a fresh port, sent twice, to the
    ports in turn; closed ports (all but the first) reset. With one kind and many ports this is
    a NULL, FIN or Xmas scan."""
    cap = Capture(seed)
    am, tm, ai, ti = host_mac(ATTACKER), host_mac(TARGET), socket.inet_aton(ATTACKER), \
        socket.inet_aton(TARGET)
    t = T0
    for i, kind in enumerate(kinds):
        for port in ports if len(kinds) == 1 else (ports[i % len(ports)],):
            sport = cap.port()
            probe = tcp_frame(am, tm, ai, ti, sport, port, 1000, 0, STEALTH_FLAGS[kind])
            for retry in range(2):
                cap.add(t + retry * 200_000, probe)
            if port != ports[0]:
                cap.add(t + 400, tcp_frame(tm, am, ti, ai, port, sport, 0, 1001,
                                           TCP_RST | TCP_ACK))
            t += cap.rng.randint(1_000, 20_000)
    return cap.write(path)


def write_traceroute(path: Path, hops: int = 8, probes: int = 3, *, seed: int = 15) -> Path:
    """:data:`CLIENT` traces the route to :data:`TARGET` as Linux ``traceroute`` does: ``probes``
    UDP datagrams per hop to ports 33434, 33435, ...; the routers (10.0.k.1) answer ICMP time
    exceeded, the target port unreachable (a port scan's benign look-alike)."""
    cap = Capture(seed)
    cm, tm = host_mac(CLIENT), host_mac(TARGET)
    ci, ti = socket.inet_aton(CLIENT), socket.inet_aton(TARGET)
    sport, port, t = cap.port(), 33434, T0
    for hop in range(1, hops + 1):
        router = TARGET if hop == hops else f"10.0.{hop}.1"
        for _ in range(probes):
            probe = udp_frame(cm, tm, ci, ti, sport, port, bytes(32))
            cap.add(t, probe)
            kind, code = (3, 3) if hop == hops else (11, 0)
            answer = icmp_error_frame(host_mac(router), cm, socket.inet_aton(router), ci, kind,
                                      code, probe)
            cap.add(t + hop * 1_500, answer)
            port += 1
            t += cap.rng.randint(20_000, 60_000)
    return cap.write(path)


def write_busy_client(path: Path, ports: int = 20, hosts: int = 30, *, seed: int = 4) -> Path:
    """:data:`CLIENT` uses ``ports`` services of :data:`TARGET` and ``hosts`` web servers on
    port 443 within a minute, and every connection succeeds (a scanner's benign look-alike)."""
    cap = Capture(seed)
    t = T0
    for port in sorted(cap.rng.sample(range(1, 1025), ports)):
        cap.session(t, CLIENT, TARGET, port, [(True, b"hello\r\n"), (False, b"+OK ready\r\n")])
        t += cap.rng.randint(100_000, 1_000_000)
    for host in _hosts("198.51.100.0/24", hosts):
        cap.session(t, CLIENT, host, 443, [(True, bytes(300)), (False, bytes(900))])
        t += cap.rng.randint(100_000, 1_000_000)
    return cap.write(path)


# --- password guessing --------------------------------------------------------------------


def write_ssh_guessing(path: Path, attempts: int = 40, *, session_s: float = 0.0,
                       every_s: float = 0.4, seed: int = 5) -> Path:
    """:data:`ATTACKER` opens ``attempts`` SSH sessions to :data:`TARGET` ``every_s`` seconds,
    each a banner exchange, key exchange and two password tries (idle ``session_s`` seconds
    before closing: long sessions are logins that worked)."""
    cap = Capture(seed)
    t = T0
    for _ in range(attempts):
        exchanges = [
            (False, b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"), (True, b"SSH-2.0-libssh_0.10.5\r\n"),
            (True, bytes(400)), (False, bytes(300)), (True, bytes(48)), (False, bytes(200)),
            (True, bytes(cap.rng.choice([84, 100, 116]))), (False, bytes(52)),
            (True, bytes(cap.rng.choice([132, 148]))), (False, bytes(36)),
        ]
        cap.session(t, ATTACKER, TARGET, 22, exchanges, rtt=9_000, think=4_000,
                    linger=int(session_s * SECOND))
        t += int(every_s * SECOND) + cap.rng.randint(0, 100_000)
    return cap.write(path)


def write_ftp_guessing(path: Path, attempts: int = 25, *, seed: int = 6) -> Path:
    """:data:`ATTACKER` opens ``attempts`` FTP sessions to :data:`TARGET`, each a greeting, two
    refused USER/PASS pairs and QUIT."""
    cap = Capture(seed)
    t = T0
    for k in range(attempts):
        exchanges = [(False, b"220 ProFTPD Server (Debian) [192.168.20.30]\r\n")]
        for guess in (2 * k, 2 * k + 1):
            exchanges += [(True, b"USER admin\r\n"),
                          (False, b"331 Password required for admin\r\n"),
                          (True, f"PASS secret{guess}\r\n".encode()),
                          (False, b"530 Login incorrect.\r\n")]
        exchanges += [(True, b"QUIT\r\n"), (False, b"221 Goodbye.\r\n")]
        t = cap.session(t, ATTACKER, TARGET, 21, exchanges, think=3_000)
        t += cap.rng.randint(50_000, 300_000)
    return cap.write(path)


# --- floods -------------------------------------------------------------------------------


def write_syn_flood(path: Path, attempts: int = 1000, *, sources: int = 1, seconds: float = 10.0,
                    answer: str = "", seed: int = 7) -> Path:
    """``attempts`` SYNs to :data:`TARGET`:80 over ``seconds`` from :data:`ATTACKER` (``sources``
    1) or from ``sources`` spoofed addresses of 10.0.0.0/8; the target answers as
    :meth:`Capture.syn` says (by default not at all)."""
    cap = Capture(seed)
    spoofed = [str(ipaddress.IPv4Address((10 << 24) + n))
               for n in cap.rng.sample(range(1, 1 << 24), sources)] if sources > 1 else [ATTACKER]
    step = int(seconds * SECOND / max(attempts, 1))
    for k in range(attempts):
        src = spoofed[k % len(spoofed)]
        cap.syn(T0 + k * step, src, TARGET, cap.port(), 80, answer=answer)
    return cap.write(path)


def write_udp_flood(path: Path, packets: int = 10_000, *, seconds: float = 20.0, flows: int = 50,
                    seed: int = 8) -> Path:
    """``packets`` empty UDP datagrams from :data:`ATTACKER` to :data:`TARGET`:9999 over
    ``seconds``, from ``flows`` source ports in turn; nothing comes back."""
    cap = Capture(seed)
    ports = [cap.port() for _ in range(flows)]
    step = seconds * SECOND / max(packets, 1)
    for k in range(packets):
        cap.udp(T0 + int(k * step), ATTACKER, TARGET, ports[k % flows], 9999)
    return cap.write(path)


def write_icmp_flood(path: Path, packets: int = 10_000, *, seconds: float = 20.0,
                     seed: int = 9) -> Path:
    """``packets`` ICMP echo requests from :data:`ATTACKER` to :data:`TARGET` over ``seconds``
    (``ping -f``); none is answered."""
    cap = Capture(seed)
    step = seconds * SECOND / max(packets, 1)
    for k in range(packets):
        cap.icmp(T0 + int(k * step), ATTACKER, TARGET, ICMP_ECHO, 0x0F0F, k & 0xFFFF)
    return cap.write(path)


def write_reflection(path: Path, reflectors: int = 12, packets: int = 1200, *,
                     seconds: float = 20.0, unreachable: int = 0, seed: int = 10) -> Path:
    """``packets`` DNS answers from ``reflectors`` open resolvers (198.51.100.0/24) to
    :data:`TARGET`, each to a port of its own: replies to queries the target never sent. The
    target answers the first ``unreachable`` with ICMP port unreachable, as a host does."""
    cap = Capture(seed)
    sources = _hosts("198.51.100.0/24", reflectors)
    step = seconds * SECOND / max(packets, 1)
    tm, ti = host_mac(TARGET), socket.inet_aton(TARGET)
    for k in range(packets):
        qid = cap.rng.randrange(1 << 16)
        answer = dns_reply(qid, ZONE, DNS_TXT, b"\x3f" + bytes(63))
        src, t = sources[k % reflectors], T0 + int(k * step)
        frame = udp_frame(host_mac(src), tm, socket.inet_aton(src), ti, 53, cap.port(), answer)
        cap.add(t, frame)
        if k < unreachable:
            cap.add(t + 200, icmp_error_frame(tm, host_mac(src), ti, socket.inet_aton(src), 3, 3,
                                              frame))
    return cap.write(path)


# --- beacons ------------------------------------------------------------------------------


def write_beacon(path: Path, checkins: int = 30, *, period_s: float = 60.0, jitter: float = 0.3,
                 regular: bool = True, seed: int = 11) -> Path:
    """:data:`CLIENT` opens ``checkins`` short TLS sessions to :data:`C2`:443, every ``period_s``
    seconds ± ``jitter`` (uniform), or, not ``regular``, after exponential gaps of that mean."""
    cap = Capture(seed)
    t = T0
    for _ in range(checkins):
        hello = client_hello("updates.example", cap.rng)
        server = b"\x16\x03\x03" + struct.pack("!H", 90) + b"\x02" + bytes(89)
        cap.session(t, CLIENT, C2, 443, [(True, hello), (False, server),
                                         (True, b"\x17\x03\x03\x00\x40" + bytes(64)),
                                         (False, b"\x17\x03\x03\x00\x20" + bytes(32))],
                    rtt=30_000)
        if regular:
            gap = period_s * (1 + cap.rng.uniform(-jitter, jitter))
        else:
            gap = cap.rng.expovariate(1 / period_s)
        t += int(gap * SECOND)
    return cap.write(path)


# --- DNS ----------------------------------------------------------------------------------


def _data_label(rng: random.Random, chars: int) -> str:
    """``chars`` characters of base32 text spelling random bytes (encoded data)."""
    raw = bytes(rng.randrange(256) for _ in range(chars))
    return base64.b32encode(raw).decode().rstrip("=").lower()[:chars]


def write_dns_tunnel(path: Path, queries: int = 60, answers: int | None = None, *,
                     label_chars: int = 16, seed: int = 12) -> Path:
    """:data:`CLIENT` sends ``queries`` TXT questions for ``<data>.t.``:data:`EXFIL_DOMAIN`
    to :data:`RESOLVER` from one source port (iodine's way); the first ``answers`` (all by
    default) are answered."""
    cap = Capture(seed)
    answers = queries if answers is None else answers
    sport = cap.port()
    t = T0
    for k in range(queries):
        name = f"{_data_label(cap.rng, label_chars)}.t.{EXFIL_DOMAIN}"
        qid = cap.rng.randrange(1 << 16)
        cap.udp(t, CLIENT, RESOLVER, sport, 53, dns_question(qid, name, DNS_TXT))
        if k < answers:
            cap.udp(t + 20_000, RESOLVER, CLIENT, 53, sport,
                    dns_reply(qid, name, DNS_TXT, b"\x20" + bytes(32)))
        t += cap.rng.randint(50_000, 250_000)
    return cap.write(path)


def write_dns_exfiltration(path: Path, names: int = 40, *, encoded: bool = True,
                           label_chars: int = 32, seed: int = 13) -> Path:
    """:data:`CLIENT` asks :data:`RESOLVER` for ``names`` distinct A names under
    :data:`EXFIL_DOMAIN`, each from a new port: data spelled in ``label_chars``-character
    base32 labels, or, not ``encoded``, ordinary host names (``www``, ``mail-3``, ...)."""
    cap = Capture(seed)
    words = ["www", "mail", "intranet", "files", "vpn", "cdn", "wiki", "git", "build", "print"]
    t = T0
    for k in range(names):
        label = _data_label(cap.rng, label_chars) if encoded else f"{words[k % 10]}-{k // 10}"
        name = f"{label}.{EXFIL_DOMAIN}"
        qid, sport = cap.rng.randrange(1 << 16), cap.port()
        cap.udp(t, CLIENT, RESOLVER, sport, 53, dns_question(qid, name))
        cap.udp(t + 15_000, RESOLVER, CLIENT, 53, sport, dns_reply(qid, name, rcode=3))
        t += cap.rng.randint(200_000, 2_000_000)
    return cap.write(path)


def write_zone_transfer(path: Path, qtype: int = DNS_AXFR, *, seed: int = 14) -> Path:
    """:data:`ATTACKER` asks :data:`NAME_SERVER` over TCP/53 (two-byte length prefix) for
    :data:`ZONE` with query type ``qtype`` (252, AXFR, by default) and gets a few records."""
    cap = Capture(seed)
    qid = cap.rng.randrange(1 << 16)
    query = dns_question(qid, ZONE, qtype)
    records = [struct.pack("!HHHIH", 0xC00C, DNS_A, 1, 3600, 4)
               + socket.inet_aton(f"192.168.20.{k}") for k in range(10, 18)]
    reply = (struct.pack("!HHHHHH", qid, 0x8480, 1, len(records), 0, 0) + dns_name(ZONE)
             + struct.pack("!HH", qtype, 1) + b"".join(records))
    cap.session(T0, ATTACKER, NAME_SERVER, 53, [
        (True, struct.pack("!H", len(query)) + query),
        (False, struct.pack("!H", len(reply)) + reply),
    ])
    return cap.write(path)
