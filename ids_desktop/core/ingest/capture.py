"""Packet captures (pcap, pcapng) to the canonical flow table, with nfstream as the meter."""

from __future__ import annotations

import hashlib
import inspect
import math
import operator
import os
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.extensions import ExtensionArray

from ids_desktop.core import options as DEFAULTS_  # noqa: N812 (until the ingest split)
from ids_desktop.core import schema
from ids_desktop.core.ingest import arp
from ids_desktop.core.ingest.pcapfile import (
    ABSURD_SNAPLEN,
    NFSTREAM_LINKTYPES,
    CaptureInfo,
    linktype_name,
    read_header,
    walk_capture,
)
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.tasks import Progress
from ids_desktop.errors import CancelledError, InputError

STAGE = "extracting flows"

#: nfstream flow attributes turned into float64 feature columns, under nfstream's names.
NUMERIC_FEATURES: tuple[str, ...] = (
    "expiration_id",
    "ip_version",
    "vlan_id",
    "tunnel_id",
    *(
        f"{side}_{stat}"
        for side in ("bidirectional", "src2dst", "dst2src")
        for stat in ("duration_ms", "packets", "bytes")
    ),
    *(
        f"{side}_{stat}_ps"
        for side in ("bidirectional", "src2dst", "dst2src")
        for stat in ("min", "mean", "stddev", "max")
    ),
    *(
        f"{side}_{stat}_piat_ms"
        for side in ("bidirectional", "src2dst", "dst2src")
        for stat in ("min", "mean", "stddev", "max")
    ),
    *(
        f"{side}_{flag}_packets"
        for side in ("bidirectional", "src2dst", "dst2src")
        for flag in ("syn", "cwr", "ece", "urg", "ack", "psh", "rst", "fin")
    ),
    "application_is_guessed",
    "application_confidence",
)

#: nDPI strings kept as str feature columns (empty strings become missing values).
STRING_FEATURES: tuple[str, ...] = (
    "application_category_name",
    "requested_server_name",
    "client_fingerprint",
    "server_fingerprint",
    "user_agent",
    "content_type",
)

#: Attributes read from each flow: numbers (one float64 block) and strings. Left out on
#: purpose: nfstream's ``id`` (arrival order, not stable), MAC addresses and OUIs, and the
#: per-direction absolute ``*_first_seen_ms``/``*_last_seen_ms`` timestamps.
_NUM_FIELDS: tuple[str, ...] = (
    "src_port",
    "dst_port",
    "protocol",
    "bidirectional_first_seen_ms",
    "bidirectional_last_seen_ms",
    *NUMERIC_FEATURES,
)
_STR_FIELDS: tuple[str, ...] = ("src_ip", "dst_ip", "application_name", *STRING_FEATURES)
_GET_NUM = operator.attrgetter(*_NUM_FIELDS)
_GET_STR = operator.attrgetter(*_STR_FIELDS)
_PACKETS_AT = _NUM_FIELDS.index("bidirectional_packets")
_N_ID = 5  # leading identity numbers in _NUM_FIELDS
_VLAN_AT = _NUM_FIELDS.index("vlan_id")
_TUNNEL_AT = _NUM_FIELDS.index("tunnel_id")

#: Flows per column chunk: rows are kept as tuples until a chunk is full, then turned into
#: typed columns, so memory holds at most one chunk of Python objects.
CHUNK_ROWS = 8_192

_PROGRESS_EVERY_S = 0.1
_POLL_S = 0.2
#: With an ``on_flows`` hook, a partial chunk is also handed over after this many seconds.
HANDOVER_EVERY_S = 0.5


def read_capture(
    path: str | Path,
    *,
    progress: Progress | None = None,
    cancel: object | None = None,
    idle_timeout: float | None = None,
    active_timeout: float | None = None,
    n_meters: int = 0,
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
        Flow timeouts in seconds (``None``: the configured defaults); rounded up to whole
        seconds because nfstream takes integers.
    n_meters
        nfstream meter processes (0: nfstream's choice, one per physical core minus one).
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
        When the file cannot be read as a capture, or none of its link types can be decoded.
    CancelledError
        When ``cancel`` was set.
    """
    path = Path(path)
    idle = _timeout("idle_timeout", DEFAULTS_.DEFAULT_IDLE_TIMEOUT if idle_timeout is None else idle_timeout)
    active = _timeout(
        "active_timeout", DEFAULTS_.DEFAULT_ACTIVE_TIMEOUT if active_timeout is None else active_timeout
    )
    header = read_header(path)
    if header.format == "pcap" and header.link_types[0] not in NFSTREAM_LINKTYPES:
        raise InputError(_unsupported_message(path, header.link_types))
    _check_cancel(cancel)

    run = _MeterRun(path, idle, active, n_meters)
    walker = _Walker(path, run.streamer._mp_context, 0)
    report = _Reporter(progress)
    chunks: list[_Chunk] = []
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
            done_packets += row[_PACKETS_AT]
            if len(nums) & 255 == 0:
                report(done_packets, walker.total())
                due = on_flows is not None and time.monotonic() - handed_at >= HANDOVER_EVERY_S
                if len(nums) >= CHUNK_ROWS or due:
                    chunks.append(_chunk_arrays(nums, strs))
                    nums, strs = [], []
                    add_num, add_str = nums.append, strs.append
                    if on_flows is not None:
                        on_flows(chunks[-1].frame())
                        handed_at = time.monotonic()
        if nums:
            chunks.append(_chunk_arrays(nums, strs))
            nums, strs = [], []
            if on_flows is not None:
                on_flows(chunks[-1].frame())
        info = walker.result()
    finally:
        walker.stop()
        run.close()
    _check_cancel(cancel)

    warnings = _warnings(path, info, run)
    frame = _finish(chunks)
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
    spoofs = arp.find_spoofing(info.arp) if info is not None else []
    # ARP poisoning leaves no trace in IP flows: mark the flows it may have relayed.
    frame = arp.with_notes(frame, spoofs)
    schema.validate_flows(frame)
    meta = _meta(info, run, idle, active, frame, done_packets)
    if spoofs:
        meta["arp_spoofing"] = [s.describe() for s in spoofs]
    return IngestResult(
        frame=frame,
        format=header.format,
        feature_format="pcap",
        temporal=True,
        warnings=warnings,
        source=path,
        meta=meta,
    )


# --------------------------------------------------------------------------------------------
# The meter processes
# --------------------------------------------------------------------------------------------


class _MeterRun:
    """nfstream's offline metering, driven here so it can be polled and stopped.

    ``NFStreamer.__iter__`` blocks on its queue without a timeout and has no ``finally``;
    breaking out of it leaves the meter processes running. This runs nfstream's own
    ``meter_workflow`` with the same arguments, waits on the queue with a short timeout (so a
    cancel is seen even while no flow is ready) and always terminates and joins the processes
    on the way out. The one change: each meter puts a flow on the queue as two plain tuples
    (see :class:`_TupleChannel`) instead of the pickled ``NFlow`` object, which is cheaper to
    pickle in the meter and much cheaper to unpickle here.
    """

    def __init__(self, path: Path, idle: int, active: int, n_meters: int) -> None:
        from nfstream import NFStreamer  # imported late: loads the native engine

        try:
            # The streamer only validates the settings and picks n_meters; it is never iterated.
            self.streamer = NFStreamer(
                source=str(path),
                statistical_analysis=True,
                splt_analysis=0,
                idle_timeout=idle,
                active_timeout=active,
                n_meters=n_meters,
            )
        except ValueError as exc:
            raise InputError(f"{path}: nfstream cannot read this capture ({exc})") from None
        self.path = path
        self.meters: list[Any] = []
        self.channel: Any = None
        self.crashed: list[int] = []
        self.closed = False

    @property
    def n_meters(self) -> int:
        return int(self.streamer.n_meters)

    def start(self) -> None:
        """Start the meter processes with the arguments ``NFStreamer.__iter__`` gives them."""
        from nfstream.meter import meter_workflow

        s = self.streamer
        ctx = s._mp_context
        lock = ctx.Lock()
        lock.acquire()
        n = self.n_meters
        perf = [[ctx.Value("I", 0), ctx.Value("I", 0), ctx.Value("I", 0)] for _ in range(n)]
        self.channel = ctx.Queue(maxsize=32767)
        group_id = os.getpid() + s._idx  # only used for live capture fanout
        channel_at = list(inspect.signature(meter_workflow).parameters).index("channel")
        for i in range(n):
            proc = ctx.Process(
                target=_meter_main,
                args=(
                    channel_at,
                    0,
                    s.source, s.snapshot_length, s.decode_tunnels, s.bpf_filter,
                    s.promiscuous_mode, n, i, s._mode, s.idle_timeout * 1000,
                    s.active_timeout * 1000, s.accounting_mode, s.udps, s.n_dissections,
                    s.statistical_analysis, s.splt_analysis, self.channel, perf[i], lock,
                    group_id, s.system_visibility_mode, s.socket_buffer_size,
                ),
            )  # fmt: skip
            proc.daemon = True
            self.meters.append(proc)
            proc.start()

    def flows(self, cancel: object | None) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
        """Yield flows as (numbers, strings) until every meter has finished; check ``cancel``.

        Waiting uses one ``poll`` on the queue's pipe with a timeout and then a blocking
        ``get``: ``Queue.get(timeout=...)`` builds a selector per call, which costs more than
        the flow itself on captures with many small flows.
        """
        from nfstream.utils import NFEvent

        wait = self._waiter()
        get = self.channel.get
        remaining = self.n_meters
        is_set = getattr(cancel, "is_set", None)
        seen = 0
        while remaining:
            if not wait():
                if is_set is not None and is_set():
                    raise CancelledError("cancelled by the user")
                if not any(m.is_alive() for m in self.meters) and not wait():
                    # Every meter exited without its end-of-stream marker: it crashed.
                    self.crashed = [m.exitcode for m in self.meters if m.exitcode]
                    return
                continue
            recv = get()
            if recv.__class__ is tuple:  # a flow, as (numbers, strings); see _TupleChannel
                yield recv
                seen += 1
                if seen & 63 == 0 and is_set is not None and is_set():
                    raise CancelledError("cancelled by the user")
            elif recv is None:
                remaining -= 1
            elif recv.id == NFEvent.ERROR:
                message = str(recv.message).strip() or "unknown error"
                raise InputError(f"{self.path}: libpcap cannot read this capture ({message})")
            # ALL_AFFINITY_SET: nfstream pins the calling process to core 0 here; an app must
            # not have its GUI thread pinned, so the event is ignored.

    def _waiter(self) -> Callable[[], bool]:
        """A function that waits up to the poll interval for the queue to hold data."""
        reader = self.channel._reader
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(reader.fileno(), select.POLLIN)
            timeout_ms = int(_POLL_S * 1000)
            return lambda: bool(poller.poll(timeout_ms))
        return lambda: bool(reader.poll(_POLL_S))  # Windows: a pipe handle, not a file descriptor

    def close(self) -> None:
        """Terminate and join the meters (a no-op for meters that already exited)."""
        if self.closed:
            return
        self.closed = True
        _end_processes(self.meters)
        if self.channel is not None:
            self.channel.cancel_join_thread()
            self.channel.close()


def _end_processes(procs: list[Any], grace_s: float = 3.0) -> None:
    """Terminate the processes still running, join them (killing any that outlive
    ``grace_s``) and release each one that exited."""
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + grace_s
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():  # pragma: no cover - SIGTERM is not ignored by the meters
            proc.kill()
            proc.join(1.0)
    for proc in procs:
        if proc.exitcode is not None:
            proc.close()


def _child_start(nice: int) -> None:
    """First steps of a child process of a capture read (a meter or the walker).

    Forked children inherit the parent's heap, including garbage not yet collected there that
    may hold onnxruntime or TensorFlow objects. Finalising those in the child calls into
    native locks that the fork copied in a held state (abseil aborted "Mutex::Fer while
    waiting on Condition"). ``gc.freeze()`` first keeps every inherited object out of the
    child's collections; the child's own objects are collected as usual.

    ``nice`` (the ``meter_nice`` setting) lowers the child's priority: the desktop app uses it
    so the children do not take the CPU from its window for as long as a big capture is read.
    """
    import gc

    gc.freeze()
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:  # not allowed here: run at the parent's priority
            pass


def _meter_main(channel_at: int, nice: int, *args: Any) -> None:
    """Meter process entry point: nfstream's ``meter_workflow`` with a tuple channel, after
    :func:`_child_start`."""
    _child_start(nice)
    from nfstream.meter import meter_workflow

    args_list = list(args)
    args_list[channel_at] = _TupleChannel(args_list[channel_at])
    meter_workflow(*args_list)


class _TupleChannel:
    """Wraps the meter's queue: flows go out as ``(numbers, strings)`` tuples.

    The tuples hold exactly the attributes the table needs (:data:`_NUM_FIELDS`,
    :data:`_STR_FIELDS`), read when the meter hands the expired flow over. Control messages
    (end marker, errors, affinity events) pass unchanged.
    """

    def __init__(self, queue: Any) -> None:
        from nfstream.flow import NFlow

        self._queue = queue
        self._flow_class = NFlow

    def put(self, item: Any) -> None:
        if item.__class__ is self._flow_class:
            item = (_GET_NUM(item), _GET_STR(item))
        self._queue.put(item)


# --------------------------------------------------------------------------------------------
# The container walk
# --------------------------------------------------------------------------------------------


class _Walker:
    """Runs :func:`walk_capture` in a child process beside the meters.

    The walk is a pure-Python loop over every packet record. In a thread of the app it held
    the GIL in 5 ms slices for its whole run, and a window thread, which gives the GIL back
    around each Qt call and waits up to a slice to take it again, froze for 0.2-0.9 s at a time
    while a 1 GiB capture was read (``bench/RESULTS.md``, GUI). In its own process it costs the
    app nothing but a fork (or, where processes are spawned, an interpreter start), like a
    meter. The child sends back the :class:`CaptureInfo` (or the exception) once.
    """

    def __init__(self, path: Path, context: Any, nice: int = 0) -> None:
        self._info: CaptureInfo | None = None
        self._error: BaseException | None = None
        self._received = False
        self._started = False
        self._recv, send = context.Pipe(duplex=False)
        self._send = send
        self._proc = context.Process(target=_walk_main, args=(str(path), send, nice),
                                     name="capture-walk", daemon=True)

    def start(self) -> None:
        self._proc.start()
        self._started = True
        self._send.close()  # the child holds the only write end: EOF when it exits

    def _take(self, wait: bool) -> None:
        if self._received or not self._started or (not wait and not self._recv.poll()):
            return
        self._received = True
        try:
            kind, value = self._recv.recv()
        except (EOFError, OSError) as exc:  # the child died without an answer
            self._error = exc
            return
        if kind == "info":
            self._info = value
        else:
            self._error = value

    def total(self) -> int | None:
        """Packets in the file once the walk finished, else ``None``."""
        self._take(wait=False)
        info = self._info
        return info.packets if info is not None and info.done else None

    def result(self) -> CaptureInfo | None:
        """Wait for the walk; ``None`` when it failed (the meters read the file anyway)."""
        self._take(wait=True)
        return self._info if self._error is None else None

    def stop(self) -> None:
        """End the child (at once if it is still walking) and release the pipe."""
        if self._started:
            _end_processes([self._proc])
            self._started = False  # a second stop is a no-op
        else:
            self._send.close()
        self._recv.close()


def _walk_main(path: str, send: Any, nice: int) -> None:
    """Walker process entry point: walk the container, send ``("info", CaptureInfo)`` or
    ``("error", exception)``, after :func:`_child_start`."""
    _child_start(nice)
    try:
        message: tuple[str, Any] = ("info", walk_capture(Path(path)))
    except BaseException as exc:  # noqa: BLE001 - reported by _Walker.result()
        message = ("error", exc)
    try:
        send.send(message)
    except Exception as exc:  # noqa: BLE001 - an exception that does not pickle
        send.send(("error", RuntimeError(f"capture walk failed: {message[1]!r} ({exc})")))
    send.close()


# --------------------------------------------------------------------------------------------
# Building the table
# --------------------------------------------------------------------------------------------


@dataclass
class _Chunk:
    """One chunk of flows: ids, a float64 block of numbers (a row per flow), string columns.

    ``text`` holds the canonical string arrays of :data:`_STR_FIELDS` (nfstream's empty
    strings already missing values where the table wants that).
    """

    ids: np.ndarray
    block: np.ndarray
    text: list[ExtensionArray]

    def frame(self) -> pd.DataFrame:
        """This chunk as a canonical table, in arrival order (for ``on_flows``)."""
        return _assemble(self.ids, self.block.T, self.text)


#: Flow tuples turned into numbers per numpy call. Such a call holds the GIL throughout
#: (a few ms per thousand rows), and the GUI thread must not wait long for it.
_CONVERT_ROWS = 1_024


def _chunk_arrays(nums: list[tuple[Any, ...]], strs: list[tuple[Any, ...]]) -> _Chunk:
    """Turn flow tuples (:data:`_NUM_FIELDS`, :data:`_STR_FIELDS`) into arrays and ids."""
    n = len(nums)
    block = np.empty((n, len(_NUM_FIELDS)), dtype=np.float64)
    for start in range(0, n, _CONVERT_ROWS):
        block[start : start + _CONVERT_ROWS] = nums[start : start + _CONVERT_ROWS]
    text = [np.array(col, dtype=object) for col in zip(*strs)]
    # Damaged captures give absurd times (a pre-1970 packet becomes ~1.8e19 ms in nfstream's
    # unsigned arithmetic): clip before the int64 cast, which would otherwise be undefined.
    keys = np.nan_to_num(block[:, [0, 1, 2, 3, _VLAN_AT, _TUNNEL_AT]], nan=0.0, posinf=0.0, neginf=0.0)
    ints = np.clip(keys, -(2.0**62), 2.0**62).astype(np.int64).T.tolist()
    sport, dport, proto, first_ms, vlan, tunnel = ints
    ids = np.fromiter(
        map(_flow_hash, text[0], sport, text[1], dport, proto, vlan, tunnel, first_ms),
        dtype=np.int64,
        count=n,
    )
    # addresses as they are; application and the nDPI strings with "" as missing
    strings = [pd.array(text[0], dtype="string"), pd.array(text[1], dtype="string")]
    strings += [_strings(col) for col in text[2:]]
    return _Chunk(ids, block, strings)


def _strings(values: np.ndarray) -> ExtensionArray:
    """A string array with nfstream's empty strings as missing values."""
    values = values.copy()
    values[values == ""] = None
    return pd.array(values, dtype="string")


def _flow_hash(
    src_ip: str, src_port: int, dst_ip: str, dst_port: int, proto: int, vlan: int,
    tunnel: int, first_ms: int,
) -> int:  # fmt: skip
    """63-bit BLAKE2b of the flow key and its first-seen millisecond."""
    key = f"{src_ip}|{src_port}|{dst_ip}|{dst_port}|{proto}|{vlan}|{tunnel}|{first_ms}"
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big") >> 1


def _finish(chunks: list[_Chunk]) -> pd.DataFrame:
    """Join the chunks into one frame ordered by ``first_seen`` then ``flow_id``, conformed.

    A GUI thread waits for every numpy, pandas or Arrow call that holds the GIL, so with a
    million flows no step here is one such call over the whole table: ids are checked and
    rows ordered by sorting (numpy releases the GIL to sort numbers; hashing, as ``np.unique``
    and pandas do, holds it), the numbers are copied chunk by chunk into one row per field and
    each row is reordered on its own, and the strings are reordered in Arrow, which releases
    the GIL. The chunk list is emptied as the numbers are copied, so they exist about once.
    """
    ids = np.concatenate([c.ids for c in chunks]) if chunks else np.empty(0, dtype=np.int64)
    key = np.concatenate([c.block[:, 3] for c in chunks]) if chunks else np.empty(0)
    shared = schema.shared_ids(ids)
    if len(shared):
        ids = _rehash_shared(chunks, ids, shared)
        # the order such tables always had: by the table's first_seen, missing times last
        key = _epoch_seconds(key)
    order = np.lexsort((ids, key))  # first_seen, then flow_id
    text = [_take_strings([c.text[j] for c in chunks], order) for j in range(len(_STR_FIELDS))]
    blocks = [c.block for c in chunks]
    chunks.clear()
    return schema.conform(_assemble(ids[order], _numbers_in_order(blocks, order), text))


def _numbers_in_order(blocks: list[np.ndarray], order: np.ndarray) -> np.ndarray:
    """The chunks' number blocks joined as one row per field, columns reordered by ``order``.

    ``blocks`` is emptied as it is copied. Each field is reordered in place, through a
    temporary of one field: at most one copy of the numbers is alive.
    """
    cols = np.empty((len(_NUM_FIELDS), len(order)), dtype=np.float64)
    at = 0
    while blocks:
        block = blocks.pop(0)
        cols[:, at : at + len(block)] = block.T
        at += len(block)
    for row in cols:
        row[:] = row[order]
    return cols


def _take_strings(parts: list[ExtensionArray], order: np.ndarray) -> ExtensionArray:
    """The string arrays ``parts`` joined and reordered by ``order``, as one string array."""
    joined = pa.chunked_array([pa.array(p) for p in parts], type=pa.large_string())
    return pd.array(joined.combine_chunks().take(order), dtype="string")


def _rehash_shared(chunks: list[_Chunk], ids: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """``ids`` (the chunks' ids, joined) with the ``shared`` ones re-hashed (:func:`_dedupe_ids`).

    Only the rows holding a shared id are built into a table; they keep their arrival order,
    which breaks ties in :func:`_dedupe_ids` as it did when the whole table was passed.
    """
    rows = []
    for chunk in chunks:
        hit = np.isin(chunk.ids, shared)
        if hit.any():
            rows.append(_assemble(chunk.ids[hit], chunk.block[hit].T, [t[hit] for t in chunk.text]))
    part = pd.concat(rows, ignore_index=True)
    ordered = np.sort(ids)
    others = ordered[~np.isin(ordered, shared)]  # sorted: the ids held by one row each
    out = ids.copy()
    out[np.isin(ids, shared)] = _dedupe_ids(part, others)["flow_id"].to_numpy()
    return out


def _assemble(ids: np.ndarray, cols: np.ndarray, text: list[ExtensionArray]) -> pd.DataFrame:
    """Build the table in canonical column order with the canonical dtypes.

    ``cols`` holds the numbers of :data:`_NUM_FIELDS`, one row per field; the feature rows
    become the frame's float64 block without a copy. ``text`` holds the canonical string
    arrays of :data:`_STR_FIELDS`.
    """
    n = len(ids)
    ports = cols[:3].astype(np.int64)
    missing_text = pa.nulls(n, type=pa.large_string())
    head: dict[str, Any] = {
        "flow_id": ids,
        "src_ip": text[0],
        "src_port": pd.array(ports[0], dtype="Int64"),
        "dst_ip": text[1],
        "dst_port": pd.array(ports[1], dtype="Int64"),
        "protocol": pd.array(ports[2], dtype="Int64"),
        "first_seen": _epoch_seconds(cols[3]),
        "last_seen": _epoch_seconds(cols[4]),
        "application": text[2],
        "label_binary": pd.arrays.IntegerArray(np.zeros(n, dtype=np.int8), np.ones(n, dtype=bool)),
        "label_class": pd.array(missing_text, dtype="string"),
        "label_original": pd.array(missing_text, dtype="string"),
    }
    features = pd.DataFrame(cols[_N_ID:].T, columns=list(NUMERIC_FEATURES), copy=False)
    strings = pd.DataFrame(dict(zip(STRING_FEATURES, text[3:])))
    return pd.concat([pd.DataFrame(head), features, strings], axis=1)


#: Latest time kept (seconds): pandas' datetime range ends in April 2262.
MAX_EPOCH_S = 9.2e9


def _epoch_seconds(ms: np.ndarray) -> np.ndarray:
    """Milliseconds to seconds; times before 1970 or after 2261 (damaged timestamps) -> NaN."""
    seconds = ms / 1000.0
    return np.where((seconds >= 0) & (seconds < MAX_EPOCH_S), seconds, np.nan)


def _dedupe_ids(frame: pd.DataFrame, others: np.ndarray | None = None) -> pd.DataFrame:
    """Re-hash ``flow_id`` values shared by several rows, in a stable order.

    Two flows share an id only when they share key and first-seen millisecond (or on a 63-bit
    hash collision). The rows are ordered by content; the first keeps its id and the k-th gets
    the hash of ``"<id>#k"`` (probing further while that is taken), so the ids do not depend on
    the order in which meters emitted the flows. ``others``, when given, are the sorted ids of
    rows outside ``frame``: taken as well.
    """
    ids = frame["flow_id"]
    dup = ids.duplicated(keep=False)
    if not dup.any():
        return frame
    order = [
        "flow_id", "first_seen", "last_seen", "bidirectional_packets", "bidirectional_bytes",
        "src2dst_packets", "src2dst_bytes", "src_ip", "src_port", "dst_ip", "dst_port",
    ]  # fmt: skip
    part = frame.loc[dup].sort_values(order, kind="mergesort")
    taken = set(ids[~dup].tolist())
    outside = np.empty(0, dtype=np.int64) if others is None else others

    def is_taken(value: int) -> bool:
        at = int(np.searchsorted(outside, value))
        return value in taken or (at < len(outside) and outside[at] == value)

    new_ids = []
    rank: dict[int, int] = {}
    for old in part["flow_id"].tolist():
        k = rank.get(old, 0)
        rank[old] = k + 1
        new = old if k == 0 else _rehash(old, k)
        while is_taken(new):
            k += 1
            new = _rehash(old, k)
        taken.add(new)
        new_ids.append(new)
    frame = frame.copy()
    frame.loc[part.index, "flow_id"] = np.asarray(new_ids, dtype=np.int64)
    return frame


def _rehash(old: int, k: int) -> int:
    data = f"{old}#{k}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big") >> 1


# --------------------------------------------------------------------------------------------
# Warnings, metadata, helpers
# --------------------------------------------------------------------------------------------


def _warnings(path: Path, info: CaptureInfo | None, run: _MeterRun) -> list[str]:
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
    run: _MeterRun,
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
        self.next_at = now + _PROGRESS_EVERY_S
        self.progress(done, total, STAGE)


def _timeout(name: str, value: float) -> int:
    """Whole seconds for nfstream, rounded up; rejects negative or non-finite values."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(f"{name} must be a non-negative number of seconds, not {value!r}")
    return int(math.ceil(seconds))


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _check_cancel(cancel: object | None) -> None:
    if cancel is not None and cancel.is_set():  # type: ignore[attr-defined]
        raise CancelledError("cancelled by the user")


def _unsupported_message(path: Path, link_types: list[int]) -> str:
    names = ", ".join(linktype_name(lt) for lt in dict.fromkeys(link_types))
    return (
        f"{path}: link type {names} is not supported by the flow extractor (nfstream decodes "
        "Ethernet, raw IP, Linux cooked capture v1, BSD loopback, PPP/Cisco HDLC and 802.11 "
        "radiotap); convert the capture first, e.g. with `tcprewrite --dlt=enet`, or capture "
        "on an Ethernet interface"
    )
