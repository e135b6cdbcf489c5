"""Web attacks in request URIs, and HTTP login guessing (401 answers).

- **Attack in a URI**: an HTTP request whose URI, decoded once, holds SQL injection, cross-site
  scripting, path traversal or command injection
  (:data:`~ids_desktop.core.ingest.packets.SUSPICIOUS_URI`, the shapes Zeek's
  ``match_sql_injection_uri`` and Suricata's ET WEB_SERVER rules match). One such request is a
  finding: benign pages do not put ``' or 0=0 union select`` in their links.
- **HTTP login guessing**: one server answers one client with at least
  :data:`GUESSES_401` (20, as for the other login services) 401 Unauthorized within 30 min.
  WebDAV clients that retry without credentials get a few (7 in ``benign-more/webdav.pcap``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from ids_desktop.core.detect.finding import Finding, span
from ids_desktop.core.detect.flows import TCP, FlowView

GUESSES_401 = 20
WINDOW_S = 1800.0


def detect(
    requests: Sequence[tuple[float, str, str, int, str, str]],
    unauthorized: Sequence[tuple[float, str, str, int]],
    view: FlowView,
) -> list[Finding]:
    """Attack URIs and 401 runs among the HTTP facts the walk kept."""
    out = []
    groups: dict[tuple[str, str, int], list[tuple[float, str, str, int, str, str]]] = defaultdict(
        list
    )
    for r in requests:
        groups[(r[1], r[2], r[3])].append(r)
    for (src, dst, port), seq in groups.items():
        t0, t1 = min(r[0] for r in seq), max(r[0] for r in seq)
        rows = _flows(view, src, dst, port, t0, t1)
        example = seq[0][5]
        summary = (
            f"{src} sent {dst}:{port} {len(seq):,} HTTP request{'s' if len(seq) > 1 else ''} "
            f"with attack code in the URI over {span(t1 - t0)}, e.g. {seq[0][4]} "
            f"{example[:160]}"
        )
        out.append(
            Finding(
                "web_attack_uri",
                "web_attack",
                (src,),
                (dst,),
                (port,),
                t0,
                t1,
                rows,
                summary,
                target_count=1,
                port_count=1,
            )
        )
    answers: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    for ts, server, client, port in unauthorized:
        answers[(client, server, port)].append(ts)
    for (client, server, port), times in answers.items():
        times.sort()
        arr = np.array(times)
        ends = np.searchsorted(arr, arr + WINDOW_S, side="right")
        best = int(np.argmax(ends - np.arange(len(arr))))
        n = int(ends[best] - best)
        if n < GUESSES_401:
            continue
        t0, t1 = float(arr[best]), float(arr[ends[best] - 1])
        rows = _flows(view, client, server, port, t0, t1)
        summary = (
            f"{client} was refused {n:,} times (HTTP 401) by {server}:{port} in "
            f"{span(t1 - t0)}: password guessing against a web login"
        )
        out.append(
            Finding(
                "http_guessing",
                "brute_force",
                (client,),
                (server,),
                (port,),
                t0,
                t1,
                rows,
                summary,
                target_count=1,
                port_count=1,
            )
        )
    return out


def _flows(view: FlowView, src: str, dst: str, port: int, t0: float, t1: float) -> np.ndarray:
    """The TCP flows from ``src`` to ``dst:port`` that were open between ``t0`` and ``t1``."""
    return np.flatnonzero(
        (view.proto == TCP)
        & (view.src == src)
        & (view.dst == dst)
        & (view.dport == port)
        & (view.start <= t1 + 1)
        & (view.end >= t0 - 1)
    )
