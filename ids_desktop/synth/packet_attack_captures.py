"""Small captures of attacks seen in single packets or below IP: ARP, DHCP, TLS heartbeats, HTTP."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

from ids_desktop.synth.attack_captures import (
    ATTACKER,
    CLIENT,
    SECOND,
    T0,
    Capture,
    arp_frame,
    host_mac,
)
from ids_desktop.synth.demo_capture import client_hello
from ids_desktop.synth.packets import mac, udp_frame

#: The local network of the ARP captures: its gateway, a victim and the attacking machine.
GATEWAY = "192.168.1.1"
VICTIM = "192.168.1.7"
SPOOFER = "192.168.1.66"
#: A server on the internet the victim talks to through the gateway.
OUTSIDE = "198.51.100.25"
#: The web server of the HTTP captures, and the TLS server of the heartbeat captures.
WEB = "192.168.20.80"
TLS_SERVER = "192.168.20.43"
NO_MAC = "00:00:00:00:00:00"
ARP_REQUEST, ARP_REPLY = 1, 2
DHCP_DISCOVER = 1
#: The SQL injection DVWA's low-security page takes, and an ordinary request of that page.
SQL_INJECTION_URI = "/dvwa/vulnerabilities/sqli/?id=1%27+or+%271%27%3D%271&Submit=Submit"
ORDINARY_URI = "/dvwa/vulnerabilities/sqli/?id=1&Submit=Submit"
UNAUTHORIZED = (b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"admin\"\r\n"
                b"Content-Length: 0\r\n\r\n")


def mac_of(ip: str) -> str:
    """The MAC address (``aa:bb:...`` text) of the host holding ``ip`` in these captures."""
    return host_mac(ip).hex(":")


def _arp(cap: Capture, t: int, op: int, sender: str, sip: str, target: str, tip: str) -> None:
    cap.add(t, arp_frame(op, sender, sip, target, tip))


def _ask(cap: Capture, t: int, asker: str, ip: str, owner_mac: str, owner_ip: str | None = None,
         answer: bool = True) -> None:
    """``asker`` asks who has ``ip``; ``owner_mac`` answers 1 ms later (claiming ``ip``)."""
    _arp(cap, t, ARP_REQUEST, mac_of(asker), asker, NO_MAC, ip)
    if answer:
        _arp(cap, t + 1_000, ARP_REPLY, owner_mac, owner_ip or ip, mac_of(asker), asker)


# --- ARP ----------------------------------------------------------------------------------


def write_arp_spoofing(path: Path, replies: int = 10, flows_after: int = 3, *,
                       seed: int = 21) -> Path:
    """After the gateway answered :data:`VICTIM`, :data:`SPOOFER` resolves the victim from its
    own address and sends it ``replies`` unsolicited replies (every 2 s from second 10)
    claiming :data:`GATEWAY` (arpspoof); the victim talks to :data:`OUTSIDE` twice before, and
    ``flows_after`` times after, the first of them."""
    cap = Capture(seed)
    _ask(cap, T0, VICTIM, GATEWAY, mac_of(GATEWAY))
    for k in range(2):
        cap.session(T0 + (1 + k) * SECOND // 2, VICTIM, OUTSIDE, 443,
                    [(True, bytes(200)), (False, bytes(600))])
    _ask(cap, T0 + 3 * SECOND, SPOOFER, VICTIM, mac_of(VICTIM))
    for k in range(replies):
        _arp(cap, T0 + (10 + 2 * k) * SECOND, ARP_REPLY, mac_of(SPOOFER), GATEWAY, mac_of(VICTIM),
             VICTIM)
    for k in range(flows_after):
        cap.session(T0 + (11 + 2 * k) * SECOND, VICTIM, OUTSIDE, 443,
                    [(True, bytes(200)), (False, bytes(600))])
    return cap.write(path)


def write_arp_renumbering(path: Path, *, seed: int = 22) -> Path:
    """:data:`VICTIM`'s machine probes and announces a link-local 169.254.x.x address, then
    probes and announces its DHCP lease, and resolves the gateway from the lease."""
    cap = Capture(seed)
    own = mac_of(VICTIM)
    for k, ip in enumerate(("169.254.23.45", VICTIM)):
        t = T0 + 20 * k * SECOND
        for probe in range(3):  # RFC 5227: probes from 0.0.0.0, then announcements
            _arp(cap, t + probe * SECOND, ARP_REQUEST, own, "0.0.0.0", NO_MAC, ip)
        for note in range(2):
            _arp(cap, t + (5 + 2 * note) * SECOND, ARP_REQUEST, own, ip, NO_MAC, ip)
    _ask(cap, T0 + 30 * SECOND, VICTIM, GATEWAY, mac_of(GATEWAY))
    return cap.write(path)


def write_arp_multihomed(path: Path, rounds: int = 3, *, seed: int = 23) -> Path:
    """One machine holds 192.168.1.20 and 192.168.1.21 and answers two hosts' requests for
    either, ``rounds`` times a minute apart."""
    cap = Capture(seed)
    both = mac_of("192.168.1.20")
    for k in range(rounds):
        t = T0 + 60 * k * SECOND
        _ask(cap, t, VICTIM, "192.168.1.20", both)
        _ask(cap, t + 2 * SECOND, "192.168.1.8", "192.168.1.21", both)
    return cap.write(path)


def write_proxy_arp(path: Path, hosts: int = 4, *, seed: int = 24) -> Path:
    """A router at :data:`GATEWAY` answers :data:`VICTIM`'s requests for itself and for
    ``hosts`` addresses of 192.168.5.0/24 behind it with its own MAC (proxy ARP)."""
    cap = Capture(seed)
    router = mac_of(GATEWAY)
    _ask(cap, T0, VICTIM, GATEWAY, router)
    for k in range(hosts):
        _ask(cap, T0 + (k + 1) * SECOND, VICTIM, f"192.168.5.{10 + k}", router)
    return cap.write(path)


def write_arp_scan(path: Path, targets: int = 60, answered: int = 5, *, seed: int = 25) -> Path:
    """:data:`SPOOFER` asks for 192.168.1.1, .2, ... (``targets`` addresses) 5 ms apart; the
    first ``answered`` answer (nmap's host discovery on a LAN)."""
    cap = Capture(seed)
    for k in range(targets):
        ip = f"192.168.{1 + (k + 1) // 255}.{(k + 1) % 255}"
        _ask(cap, T0 + k * 5_000, SPOOFER, ip, mac_of(ip), answer=k < answered)
    return cap.write(path)


# --- DHCP ---------------------------------------------------------------------------------


def dhcp_discover(xid: int, chaddr: bytes) -> bytes:
    """A DHCPDISCOVER message (BOOTP request, magic cookie, option 53) from ``chaddr``."""
    head = struct.pack("!BBBBIHH", 1, 1, 6, 0, xid, 0, 0x8000) + bytes(16)
    options = b"\x63\x82\x53\x63" + bytes([53, 1, DHCP_DISCOVER, 55, 3, 1, 3, 6, 255])
    return head + chaddr + bytes(10) + bytes(192) + options


def write_dhcp_starvation(path: Path, clients: int = 60, *, seconds: float = 20.0,
                          one_sender: bool = False, seed: int = 26) -> Path:
    """DHCPDISCOVERs for ``clients`` made-up hardware addresses over ``seconds``, each sent from
    that address (dhcpstarv) or, ``one_sender``, all from :data:`SPOOFER`'s MAC (Yersinia)."""
    cap = Capture(seed)
    step = int(seconds * SECOND / max(clients, 1))
    for k in range(clients):
        chaddr = mac(0x1000_0000 + cap.rng.randrange(1 << 28))
        sender = host_mac(SPOOFER) if one_sender else chaddr
        frame = udp_frame(sender, b"\xff" * 6, b"\0" * 4, b"\xff" * 4, 68, 67,
                          dhcp_discover(cap.rng.randrange(1 << 32), chaddr))
        cap.add(T0 + k * step, frame)
    return cap.write(path)


# --- TLS heartbeats -----------------------------------------------------------------------


def write_heartbeat(path: Path, payload_length: int = 16365, padding: int = 0, *,
                    carried: int | None = None, seed: int = 27) -> Path:
    """:data:`CLIENT` says hello to :data:`TLS_SERVER`:443 and, before the handshake ends, sends
    a plaintext heartbeat request declaring ``payload_length`` bytes and carrying ``carried``
    (as many by default) plus ``padding`` (RFC 6520 asks for 16; Heartbleed sends none, or no
    payload at all); the server echoes ``payload_length`` bytes with 16 of padding."""
    cap = Capture(seed)
    carried = payload_length if carried is None else carried
    request = b"\x01" + struct.pack("!H", payload_length) + bytes(carried + padding)
    response = b"\x02" + struct.pack("!H", payload_length) + bytes(payload_length + 16)
    server_hello = b"\x16\x03\x02" + struct.pack("!H", 90) + b"\x02" + bytes(89)
    cap.session(T0, CLIENT, TLS_SERVER, 443, [
        (True, client_hello("secure.example", cap.rng)), (False, server_hello),
        (True, b"\x18\x03\x02" + struct.pack("!H", len(request)) + request),
        (False, b"\x18\x03\x02" + struct.pack("!H", len(response)) + response),
    ])
    return cap.write(path)


# --- HTTP ---------------------------------------------------------------------------------


def write_http_request(path: Path, uri: str = SQL_INJECTION_URI, *, seed: int = 28) -> Path:
    """:data:`CLIENT` sends ``GET uri`` to :data:`WEB`:80 and gets a small page."""
    cap = Capture(seed)
    request = (f"GET {uri} HTTP/1.1\r\nHost: {WEB}\r\nUser-Agent: Mozilla/5.0\r\n"
               "Accept: */*\r\n\r\n").encode()
    body = b"<html><body>User ID: 1</body></html>"
    response = (f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(body)}\r\n"
                "\r\n").encode() + body
    cap.session(T0, CLIENT, WEB, 80, [(True, request), (False, response)])
    return cap.write(path)


def write_http_401s(path: Path, answers: int = 25, *, seed: int = 29) -> Path:
    """:data:`ATTACKER` tries ``answers`` passwords for ``admin`` on :data:`WEB`:80 over one
    kept-alive connection (HTTP Basic); each is refused with 401."""
    cap = Capture(seed)
    exchanges: list[tuple[bool, bytes]] = []
    for k in range(answers):
        token = base64.b64encode(f"admin:guess{k}".encode()).decode()
        exchanges.append((True, (f"GET /admin/ HTTP/1.1\r\nHost: {WEB}\r\nAuthorization: Basic "
                                 f"{token}\r\n\r\n").encode()))
        exchanges.append((False, UNAUTHORIZED))
    cap.session(T0, ATTACKER, WEB, 80, exchanges, think=60_000)
    return cap.write(path)
