"""Save the packets of chosen flows from a capture as a new pcap (both directions).

The capture is read by the project's own walker (:func:`~ids_desktop.core.ingest.pcapfile.
walk_capture`, through its ``on_packet`` hook), so every container it reads (pcap in both byte
orders and resolutions, pcapng with several sections and interfaces) and every damage it
tolerates works here too. A packet belongs to a flow when its protocol, addresses and ports
are the flow's, in either direction, and its time lies within the flow's ``first_seen`` ..
``last_seen`` (widened by :data:`SLACK_S`, as nfstream keeps milliseconds): the same 5-tuple
reused later is another flow and is left out.
"""

from __future__ import annotations

import socket
import struct
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ids_desktop.core.atomic import atomic_path
from ids_desktop.core.ingest.pcapfile import read_header, walk_capture
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import CancelledError, InputError

#: The columns a flow needs to be found in its capture.
FLOW_KEY_COLUMNS = ("src_ip", "dst_ip", "src_port", "dst_port", "protocol", "first_seen",
                    "last_seen")
#: Times are widened by this much (s): nfstream's flow times are whole milliseconds.
SLACK_S = 0.001
#: Packets between two progress reports.
_REPORT_EVERY = 20_000

#: Link type -> bytes before the network header, or ``None`` when the header says (below).
_LINK_HEADER: dict[int, int] = {1: 14, 113: 16, 276: 20, 0: 4, 108: 4, 12: 0, 14: 0, 101: 0,
                                228: 0, 229: 0}
_TRANSPORT_PORTS = frozenset({6, 17, 132})  # TCP, UDP, SCTP: ports after the IP header
_IPV6_EXTENSIONS = frozenset({0, 43, 60})  # hop-by-hop, routing, destination options

Endpoint = tuple[str, int]
FlowKey = tuple[int, Endpoint, Endpoint]


@dataclass(frozen=True)
class Extracted:
    """What :func:`extract_packets` wrote.

    Attributes
    ----------
    path
        The new pcap.
    packets, bytes
        Packet records written and their captured bytes.
    flows
        Flows asked for.
    """

    path: Path
    packets: int
    bytes: int
    flows: int


def flow_key(protocol: int, a: str, pa: int, b: str, pb: int) -> FlowKey:
    """The direction-free key of a flow or packet: the protocol and the two endpoints, ordered."""
    one, two = (a, int(pa)), (b, int(pb))
    return (int(protocol), *sorted((one, two)))  # type: ignore[return-value]


def packet_key(buf: bytes, at: int, incl: int, linktype: int) -> FlowKey | None:
    """:func:`flow_key` of the IPv4 or IPv6 packet ``buf[at : at + incl]`` on ``linktype``;
    ``None`` for anything else (ARP, a later fragment, a packet cut short by the snapshot).

    One or two VLAN tags are looked through; protocols without ports get port 0, as in the
    flow table.
    """
    end = at + incl
    skip = _LINK_HEADER.get(linktype)
    if skip is None:
        return None
    ip = at + skip
    if linktype == 1:
        ethertype = int.from_bytes(buf[at + 12 : at + 14], "big") if incl >= 14 else 0
        while ethertype in (0x8100, 0x88A8) and ip + 4 <= end:
            ethertype = int.from_bytes(buf[ip + 2 : ip + 4], "big")
            ip += 4
        if ethertype not in (0x0800, 0x86DD):
            return None
    if ip + 20 > end:
        return None
    version = buf[ip] >> 4
    if version == 4:
        ihl = (buf[ip] & 0x0F) * 4
        if (buf[ip + 6] & 0x1F) or buf[ip + 7]:  # a later fragment: no ports, in no flow
            return None
        proto = buf[ip + 9]
        src = socket.inet_ntop(socket.AF_INET, buf[ip + 12 : ip + 16])
        dst = socket.inet_ntop(socket.AF_INET, buf[ip + 16 : ip + 20])
        payload = ip + ihl
    elif version == 6:
        if ip + 40 > end:
            return None
        proto = buf[ip + 6]
        src = socket.inet_ntop(socket.AF_INET6, buf[ip + 8 : ip + 24])
        dst = socket.inet_ntop(socket.AF_INET6, buf[ip + 24 : ip + 40])
        payload = ip + 40
        while proto in _IPV6_EXTENSIONS and payload + 8 <= end:
            proto, payload = buf[payload], payload + (buf[payload + 1] + 1) * 8
        if proto == 44:  # fragment header: only the first fragment has the ports
            if payload + 8 > end or struct.unpack_from("!H", buf, payload + 2)[0] & 0xFFF8:
                return None
            proto, payload = buf[payload], payload + 8
    else:
        return None
    sport = dport = 0
    if proto in _TRANSPORT_PORTS:
        if payload + 4 > end:
            return None
        sport, dport = struct.unpack_from("!HH", buf, payload)
    return flow_key(proto, src, sport, dst, dport)


def flow_spans(flows: pd.DataFrame) -> dict[FlowKey, list[tuple[float, float]]]:
    """Per :func:`flow_key`: the ``(first, last)`` times of ``flows``' rows with that key.

    Raises
    ------
    InputError
        When ``flows`` lacks an address, port, protocol or time column, or a row has none.
    """
    missing = [c for c in FLOW_KEY_COLUMNS if c not in flows.columns]
    if missing:
        raise InputError(
            f"these flows cannot be found in a capture: no {', '.join(missing)} column"
        )
    part = flows[list(FLOW_KEY_COLUMNS)]
    if part.isna().to_numpy().any():
        raise InputError("some of these flows have no address, port, protocol or time, so "
                         "their packets cannot be found in the capture")
    first = part["first_seen"].to_numpy(dtype=np.float64)
    last = part["last_seen"].to_numpy(dtype=np.float64)
    spans: dict[FlowKey, list[tuple[float, float]]] = defaultdict(list)
    for i, (src, dst, sport, dport, proto) in enumerate(
        zip(part["src_ip"].astype(str), part["dst_ip"].astype(str),
            part["src_port"].astype(int), part["dst_port"].astype(int),
            part["protocol"].astype(int), strict=True)
    ):
        spans[flow_key(proto, src, sport, dst, dport)].append(
            (float(first[i]) - SLACK_S, float(last[i]) + SLACK_S)
        )
    return dict(spans)


def extract_packets(
    capture: str | Path,
    flows: pd.DataFrame,
    target: str | Path,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Extracted:
    """Write the packets of ``flows`` (rows of the capture's flow table) from ``capture`` to
    the classic pcap ``target``, in capture order, with their original times and lengths.

    The pcap appears at ``target`` only when the whole capture was read (it is written beside
    it and renamed); a cancel or an error leaves any existing ``target`` untouched.

    Parameters
    ----------
    capture
        The pcap or pcapng file the flows were read from.
    flows
        Rows with :data:`FLOW_KEY_COLUMNS` (``first_seen``/``last_seen`` in seconds).
    target
        The pcap to write (microsecond timestamps, the capture's link type).
    progress, cancel
        Called with the bytes of the capture read so far; polled between chunks of it.

    Raises
    ------
    InputError
        When the flows cannot be located (:func:`flow_spans`), the capture is unreadable,
        or the matching packets come from interfaces of different link types.
    CancelledError
        When ``cancel`` is set before the capture was read.
    """
    capture, target = Path(capture), Path(target)
    if capture.resolve() == target.resolve():
        raise InputError(f"{target}: choose another file than the capture itself")
    spans = flow_spans(flows)
    size = max(read_header(capture).file_size, 1)  # unreadable captures fail here, early
    check_cancel(cancel)
    links: set[int] = set()
    written = captured = seen = 0
    header = struct.Struct("<IIII")
    with atomic_path(target) as tmp, tmp.open("wb") as out:
        out.write(bytes(24))  # the file header, written once the link type is known
        read = [0]  # bytes of packets walked, for progress (the walker hides its offset)

        def visit(ts: float, linktype: int, buf: bytes, at: int, incl: int, orig: int) -> None:
            nonlocal written, captured, seen
            seen += 1
            read[0] += incl + 16
            if progress is not None and seen % _REPORT_EVERY == 0:
                progress(min(read[0], size), size, "saving packets")
            key = packet_key(buf, at, incl, linktype)
            if key is None:
                return
            times = spans.get(key)
            if times is None or not any(t0 <= ts <= t1 for t0, t1 in times):
                return
            links.add(linktype)
            us = round(ts * 1e6)
            out.write(header.pack(us // 1_000_000, us % 1_000_000, incl, orig))
            out.write(buf[at : at + incl])
            written += 1
            captured += incl

        def stop() -> bool:
            return cancel is not None and cancel.is_set()

        walked = walk_capture(capture, stop=stop, on_packet=visit)
        if not walked.done:
            raise CancelledError("saving packets cancelled")
        if len(links) > 1:
            raise InputError(
                "these flows' packets come from interfaces of different link types "
                f"({', '.join(map(str, sorted(links)))}); a pcap holds one"
            )
        kinds = links or set(walked.link_types[:1]) or {1}
        linktype = kinds.pop()
        snaplen = max(walked.snaplen or 0, 65535)
        out.seek(0)
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
    if progress is not None:
        progress(size, size, "saving packets")
    return Extracted(path=target, packets=written, bytes=captured, flows=len(flows))
