"""Packet captures (pcap, pcapng) to the canonical flow table, with nfstream as the meter.

:func:`read_capture` runs three jobs side by side and joins their results: the meters
(:mod:`.meter`, nfstream's flow extraction), the container walk (:mod:`.walker`, packet count
and damage) and the table assembly (:mod:`.flowtable`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from ids_desktop.core import schema
from ids_desktop.core.ingest.digest import sha256_file
from ids_desktop.core.ingest.flowtable import PACKETS_AT, Chunk, build_table, chunk_arrays
from ids_desktop.core.ingest.linklayer import NFSTREAM_LINKTYPES, linktype_name
from ids_desktop.core.ingest.meter import MeterRun
from ids_desktop.core.ingest.pcapfile import ABSURD_SNAPLEN, CaptureInfo, read_header
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.ingest.walker import Walker
from ids_desktop.core.options import DEFAULT_ACTIVE_TIMEOUT, DEFAULT_IDLE_TIMEOUT
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import InputError

__all__ = ["CHUNK_ROWS", "HANDOVER_EVERY_S", "PROGRESS_EVERY_S", "STAGE", "read_capture"]

STAGE = "extracting flows"

#: Flows per column chunk: rows are kept as tuples until a chunk is full, then turned into
#: typed columns, so memory holds at most one chunk of Python objects.
CHUNK_ROWS = 8_192

#: Least time between two calls of the ``progress`` hook (s).
PROGRESS_EVERY_S = 0.1
#: With an ``on_flows`` hook, a partial chunk is also handed over after this many seconds.
HANDOVER_EVERY_S = 0.5


def read_capture(
    path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    active_timeout: float | None = DEFAULT_ACTIVE_TIMEOUT,
    n_meters: int = 0,
    meter_nice: int = 0,
    on_flows: Callable[[pd.DataFrame], None] | None = None,
) -> IngestResult:
    """Extract flows from a pcap or pcapng capture into the canonical flow table.

    Flows come from nfstream (``statistical_analysis=True``, nDPI dissection on, default
    ``accounting_mode=0`` so byte counts are link-layer frame lengths as sent). The container
    is walked concurrently to count packets (the progress total) and to find damage that
    libpcap passes over silently: a file cut inside a record, a nonsensical record header,
    snapshot-truncated packets, odd link types, timestamps that run backwards.

    Parameters
    ----------
    path
        A .pcap or .pcapng file.
    progress
        ``progress(done, total, stage)``: packets in flows emitted so far against the packets
        in the file (``total`` is ``None`` until the container walk finishes).
    cancel
        An object with ``is_set()``; when set, the meter processes are stopped and joined and
        :class:`~ids_desktop.errors.CancelledError` is raised.
    idle_timeout, active_timeout
        Flow timeouts in seconds (``None``, an unset option, means the defaults of
        :mod:`ids_desktop.core.options`); rounded up to whole seconds because nfstream takes
        integers.
    n_meters
        nfstream meter processes (0: nfstream's choice, one per physical core minus one).
    meter_nice
        Niceness (0-19) added to the meter processes and the container walker (POSIX; see
        :attr:`~ids_desktop.core.options.AnalysisOptions.meter_nice`). 0 keeps this priority.
    on_flows
        Optional ``on_flows(batch)``, called on the calling thread with each batch of flows
        as they are extracted (canonical columns, in arrival order, not yet sorted or
        de-duplicated; at least every :data:`HANDOVER_EVERY_S` seconds while flows come).
        Every flow is handed over once; the returned frame is the authoritative table.

    Returns
    -------
    IngestResult
        ``format`` is ``pcap`` or ``pcapng``, ``feature_format`` ``pcap``, ``temporal`` True.
        Rows are ordered by ``first_seen`` then ``flow_id``; labels are all missing.

    Raises
    ------
    InputError
        When the file cannot be read as a capture, none of its link types can be decoded, or
        a timeout or ``meter_nice`` is out of range.
    CancelledError
        When ``cancel`` was set.
    """
    path = Path(path)
    idle = _timeout("idle_timeout", DEFAULT_IDLE_TIMEOUT if idle_timeout is None else idle_timeout)
    active = _timeout(
        "active_timeout", DEFAULT_ACTIVE_TIMEOUT if active_timeout is None else active_timeout
    )
    if not isinstance(meter_nice, int) or not 0 <= meter_nice <= 19:
        raise InputError(f"meter niceness must be 0-19, not {meter_nice!r}")
    header = read_header(path)
    if header.format == "pcap" and header.link_types[0] not in NFSTREAM_LINKTYPES:
        raise InputError(_unsupported_message(path, header.link_types))
    check_cancel(cancel)

    run = MeterRun(path, idle, active, n_meters, meter_nice)
    walker = Walker(path, run.context, meter_nice)
    report = _Reporter(progress)
    chunks: list[Chunk] = []
    nums: list[tuple[Any, ...]] = []
    strs: list[tuple[Any, ...]] = []
    done_packets = 0
    handed_at = time.monotonic()
    try:
        run.start()
        walker.start()  # after forking the meters: no thread is copied into a child
        report(0, None)
        add_num, add_str = nums.append, strs.append
        for row, text in run.flows(cancel):
            add_num(row)
            add_str(text)
            done_packets += row[PACKETS_AT]
            if len(nums) & 255 == 0:
                report(done_packets, walker.total())
                due = on_flows is not None and time.monotonic() - handed_at >= HANDOVER_EVERY_S
                if len(nums) >= CHUNK_ROWS or due:
                    chunks.append(chunk_arrays(nums, strs))
                    nums, strs = [], []
                    add_num, add_str = nums.append, strs.append
                    if on_flows is not None:
                        on_flows(chunks[-1].frame())
                        handed_at = time.monotonic()
        if nums:
            chunks.append(chunk_arrays(nums, strs))
            nums, strs = [], []
            if on_flows is not None:
                on_flows(chunks[-1].frame())
        info = walker.result()
    finally:
        walker.stop()
        run.close()
    check_cancel(cancel)

    warnings = _warnings(path, info, run)
    frame = build_table(chunks)
    untimed = int((frame["first_seen"].isna() | frame["last_seen"].isna()).sum())
    if untimed:
        warnings.append(
            f"{_plural(untimed, 'flow')} with a first or last time outside 1970-2261 (damaged "
            "packet timestamps): those times were left empty; the other features are as extracted"
        )
    if len(frame) == 0:
        if info is not None and info.link_types and not (set(info.link_types) & NFSTREAM_LINKTYPES):
            raise InputError(_unsupported_message(path, info.link_types))
        packets = info.packets if info is not None else None
        damaged = info is not None and (
            info.truncated_at is not None or info.corrupt_at is not None
        )
        if packets == 0 and damaged:
            warnings.append("no packet could be read before the damage")
        elif packets == 0:
            warnings.append("the capture holds no packets")
        elif packets is not None:
            warnings.append(f"no IP flows found in {_plural(packets, 'packet')}")
        else:
            warnings.append("no IP flows found")
    total = info.packets if info is not None else done_packets
    report(total, total, force=True)
    schema.validate_flows(frame)
    meta = _meta(info, run, idle, active, frame, done_packets)
    return IngestResult(
        frame=frame,
        format=header.format,
        feature_format="pcap",
        temporal=True,
        warnings=warnings,
        source=path,
        meta=meta,
        sha256=info.sha256 if info is not None and info.sha256 else sha256_file(path),
        packets=info.facts if info is not None else None,
        arp=list(info.arp) if info is not None else [],
    )


# --------------------------------------------------------------------------------------------
# Warnings, metadata, helpers
# --------------------------------------------------------------------------------------------


def _warnings(path: Path, info: CaptureInfo | None, run: MeterRun) -> list[str]:
    """Human-readable warnings from the container walk and the meters."""
    out: list[str] = []
    if run.crashed:
        out.append(
            f"the flow extractor stopped unexpectedly (exit code {run.crashed[0]}); "
            "flows emitted before that were kept, the rest of the capture is missing"
        )
    if info is None:
        out.append("the capture's record headers could not be walked; packet counts are unknown")
        return out
    size = info.file_size
    if info.truncated_at is not None:
        out.append(
            f"capture is truncated at byte {info.truncated_at:,} of {size:,} (cut inside a "
            "packet record); flows before the cut were kept"
        )
    if info.corrupt_at is not None:
        out.append(
            f"capture is damaged at byte {info.corrupt_at:,} of {size:,} ({info.corrupt_reason}); "
            "flows before that point were kept, packets after it may be missing"
        )
    if info.snaplen is not None and (info.snaplen > ABSURD_SNAPLEN or info.snaplen < 28):
        out.append(
            f"the capture declares a nonsensical snapshot length ({info.snaplen:,} bytes); "
            "it may have been written by a broken or fuzzing tool"
        )
    if info.snap_truncated:
        out.append(
            f"{info.snap_truncated:,} of {_plural(info.packets, 'packet')} captured shorter than "
            "sent (snapshot length); byte counts use the original lengths, but "
            "application detection and header parsing may be incomplete for them"
        )
    if info.backwards_ts:
        out.append(
            f"{_plural(info.backwards_ts, 'packet')} with a timestamp earlier than the packet "
            "before; nfstream counts such packets at the previous time, so durations and "
            "inter-arrival times around them are approximate"
        )
    bad = info.unsupported_link_types
    if bad and set(info.link_types) & NFSTREAM_LINKTYPES:
        names = ", ".join(linktype_name(lt) for lt in bad)
        out.append(
            f"packets on interfaces with link type {names} were skipped: the flow extractor "
            "cannot decode that link layer"
        )
    if info.unknown_interface:
        out.append(
            f"{_plural(info.unknown_interface, 'packet block')} naming an interface the "
            "capture never describes; their times are read as microseconds"
        )
    if info.zero_length_ip:
        out.append(
            f"the flow extractor skipped {_plural(info.zero_length_ip, 'IPv4 packet')} with total "
            "length 0 (captured on a sender with TCP segmentation offload); packet and byte "
            "counts of their flows are too low"
        )
    if info.later_fragments:
        out.append(
            f"the flow extractor skipped {_plural(info.later_fragments, 'IPv4 fragment')} "
            "after the first of a datagram; packet and byte counts of fragmented flows are "
            "too low"
        )
    return out


def _meta(
    info: CaptureInfo | None,
    run: MeterRun,
    idle: int,
    active: int,
    frame: pd.DataFrame,
    packets_in_flows: int,
) -> dict[str, Any]:
    import nfstream

    meta: dict[str, Any] = {
        "extractor": f"nfstream {getattr(nfstream, '__version__', '?')}",
        "idle_timeout": idle,
        "active_timeout": active,
        "n_meters": run.n_meters,
        "accounting_mode": run.streamer.accounting_mode,
        "flows": len(frame),
        "packets_in_flows": packets_in_flows,
    }
    if info is not None:
        meta.update(
            packets=info.packets,
            file_bytes=info.file_size,
            captured_bytes=info.captured_bytes,
            wire_bytes=info.wire_bytes,
            link_types=[linktype_name(lt) for lt in info.link_types],
            snaplen=info.snaplen,
            truncated_at=info.truncated_at,
            corrupt_at=info.corrupt_at,
            snap_truncated=info.snap_truncated,
            backwards_timestamps=info.backwards_ts,
            unmetered_zero_length_ip=info.zero_length_ip,
            unmetered_later_fragments=info.later_fragments,
            first_packet=info.first_ts,
            last_packet=info.last_ts,
        )
    return meta


class _Reporter:
    """Calls ``progress`` at most every 0.1 s, with ``done`` never decreasing."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.next_at = 0.0
        self.last_done = -1.0

    def __call__(self, done: float, total: float | None, *, force: bool = False) -> None:
        if self.progress is None:
            return
        now = time.monotonic()
        if not force and now < self.next_at:
            return
        if total is not None:
            done = min(done, total)
        done = max(done, self.last_done, 0)
        self.last_done = done
        self.next_at = now + PROGRESS_EVERY_S
        self.progress(done, total, STAGE)


def _timeout(name: str, value: float) -> int:
    """Whole seconds for nfstream, rounded up; rejects negative or non-finite values."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(f"{name} must be a non-negative number of seconds, not {value!r}")
    return math.ceil(seconds)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _unsupported_message(path: Path, link_types: list[int]) -> str:
    names = ", ".join(linktype_name(lt) for lt in dict.fromkeys(link_types))
    return (
        f"{path}: link type {names} is not supported by the flow extractor (nfstream decodes "
        "Ethernet, raw IP, Linux cooked capture v1, BSD loopback, PPP/Cisco HDLC and 802.11 "
        "radiotap); convert the capture first, e.g. with `tcprewrite --dlt=enet`, or capture "
        "on an Ethernet interface"
    )
