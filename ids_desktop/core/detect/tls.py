"""TLS heartbeat abuse (Heartbleed, CVE-2014-0160): a heartbeat claiming more than it carries.

RFC 6520 makes a heartbeat message its type (1 byte), a payload length (2 bytes), the payload
and at least 16 bytes of padding, so a record holding one is at least ``payload_length + 19``
bytes long. A plaintext heartbeat whose declared payload does not fit its record is the
Heartbleed probe: Zeek's ``policy/protocols/ssl/heartbleed.zeek`` raises
``SSL_Heartbeat_Attack`` on the same test. Heartbeats sent after the handshake are encrypted
and cannot be read; there, a peer that answers heartbeats with records at least
:data:`LEAK_RATIO` (4) times larger than the requests is leaking memory (Zeek's
``SSL_Heartbeat_Attack_Success`` compares the same sizes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.detect.flows import TCP, FlowView

Heartbeat = tuple[float, str, str, int, int, int, int, int]
REQUEST = 1
LEAK_RATIO = 4


def detect(beats: Sequence[Heartbeat], view: FlowView) -> list[Finding]:
    """Heartbleed probes and leaking answers among the heartbeat records the walk kept."""
    conns: dict[tuple[str, str, int, int], list[Heartbeat]] = defaultdict(list)
    for b in beats:
        _ts, src, dst, sport, dport = b[:5]
        key = (src, dst, sport, dport) if sport > dport else (dst, src, dport, sport)
        conns[key].append(b)
    out = []
    for (client, server, cport, sport), seq in conns.items():
        lies = [b for b in seq if b[6] == REQUEST and b[7] >= 0 and b[7] + 19 > b[5]]
        asks = [b for b in seq if b[1] == client]
        answers = [b for b in seq if b[1] == server]
        leak = bool(asks and answers) and max(a[5] for a in answers) >= LEAK_RATIO * max(
            min(a[5] for a in asks), 1
        )
        if not lies and not leak:
            continue
        t0, t1 = min(b[0] for b in seq), max(b[0] for b in seq)
        rows = np.flatnonzero(
            (view.proto == TCP)
            & (
                (
                    (view.src == client)
                    & (view.dst == server)
                    & (view.sport == cport)
                    & (view.dport == sport)
                )
                | (
                    (view.src == server)
                    & (view.dst == client)
                    & (view.sport == sport)
                    & (view.dport == cport)
                )
            )
        )
        parts = []
        if lies:
            b = lies[0]
            parts.append(
                f"{len(lies):,} heartbeat request{'s' if len(lies) > 1 else ''} claiming "
                f"{b[7]:,} bytes of payload in a {b[5]:,}-byte record"
            )
        if leak:
            parts.append(
                f"answers of up to {max(a[5] for a in answers):,} bytes to requests of "
                f"{min(a[5] for a in asks):,}"
            )
        summary = (
            f"{client} sent {server}:{sport} {' and got '.join(parts)} over "
            f"{span(t1 - t0)}: a Heartbleed (CVE-2014-0160) memory read"
        )
        out.append(
            Finding(
                "tls_heartbleed",
                "exploit",
                (client,),
                (server,),
                (sport,),
                t0,
                t1,
                rows,
                summary,
                target_count=1,
                port_count=1,
            )
        )
    return out
