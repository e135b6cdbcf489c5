"""nfstream's meter processes, started and polled here so that a read can be cancelled."""

from __future__ import annotations

import inspect
import operator
import os
import select
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ids_desktop.core.ingest import processes
from ids_desktop.core.ingest.flowtable import NUM_FIELDS, STR_FIELDS
from ids_desktop.core.tasks import Cancel
from ids_desktop.errors import CancelledError, InputError

__all__ = ["MeterRun", "meter_arguments", "streamer_settings"]

#: How long one wait for the meters' queue lasts before ``cancel`` is checked again (s).
POLL_S = 0.2
#: Flows a meter sends in one message at most; and the age (s) of its last message past
#: which the next flow goes out at once with those held (checked when a flow comes, so a
#: flow may wait longer for the next one, or for the end marker, on a capture of few flows).
FLOWS_PER_MESSAGE = 128
FLUSH_S = 0.25

_GET_NUM = operator.attrgetter(*NUM_FIELDS)
_GET_STR = operator.attrgetter(*STR_FIELDS)


def streamer_settings(path: Path, idle: int, active: int, n_meters: int) -> dict[str, Any]:
    """Keyword arguments of ``nfstream.NFStreamer`` for reading the capture at ``path``.

    Parameters
    ----------
    path
        The capture file.
    idle, active
        Flow timeouts in whole seconds.
    n_meters
        Meter processes (0: nfstream's choice).
    """
    return {
        "source": str(path),
        "statistical_analysis": True,
        "splt_analysis": 0,
        "idle_timeout": idle,
        "active_timeout": active,
        "n_meters": n_meters,
    }


def meter_arguments(
    streamer: Any,
    *,
    n_meters: int,
    index: int,
    channel: Any,
    tracker: Any,
    lock: Any,
    group_id: int,
) -> dict[str, Any]:
    """Keyword arguments of ``nfstream.meter.meter_workflow`` for meter ``index`` of a file read.

    They are what ``NFStreamer.__iter__`` passes (positionally) to each meter it starts, read
    from the streamer's public settings and named after ``meter_workflow``'s parameters, so
    that a renamed or new parameter in an nfstream upgrade fails loudly (a ``TypeError`` when
    :meth:`MeterRun.start` binds them) instead of shifting every later argument.

    Parameters
    ----------
    streamer
        An ``nfstream.NFStreamer`` built from :func:`streamer_settings` (never iterated).
    n_meters, index
        How many meters there are and which one this is.
    channel, tracker, lock
        The queue flows come back on, the meter's three performance counters and the start
        lock, all from the streamer's multiprocessing context.
    group_id
        Only used for live capture fanout (``capture_set_fanout`` returns at once for files).
    """
    from nfstream.utils import NFMode

    return {
        "source": streamer.source,
        "snaplen": streamer.snapshot_length,
        "decode_tunnels": streamer.decode_tunnels,
        "bpf_filter": streamer.bpf_filter,
        "promisc": streamer.promiscuous_mode,
        "n_roots": n_meters,
        "root_idx": index,
        # read_capture reads one file, for which the streamer's source setter picks this mode
        "mode": NFMode.SINGLE_FILE,
        "idle_timeout": streamer.idle_timeout * 1000,
        "active_timeout": streamer.active_timeout * 1000,
        "accounting_mode": streamer.accounting_mode,
        "udps": streamer.udps,
        "n_dissections": streamer.n_dissections,
        "statistics": streamer.statistical_analysis,
        "splt": streamer.splt_analysis,
        "channel": channel,
        "tracker": tracker,
        "lock": lock,
        "group_id": group_id,
        "system_visibility_mode": streamer.system_visibility_mode,
        "socket_buffer_size": streamer.socket_buffer_size,
    }


class MeterRun:
    """nfstream's offline metering, driven here so it can be polled and stopped.

    ``NFStreamer.__iter__`` blocks on its queue without a timeout and has no ``finally``;
    breaking out of it leaves the meter processes running. This runs nfstream's own
    ``meter_workflow`` with the same arguments (:func:`meter_arguments`), waits on the queue
    with a short timeout (so a cancel is seen even while no flow is ready) and always
    terminates and joins the processes on the way out. The one change: each meter puts its flows
    on the queue as two plain tuples each, in lists (see :class:`_TupleChannel`), instead of one
    pickled ``NFlow`` object per message, which is cheaper to pickle and send in the meter and
    much cheaper to unpickle here.

    Parameters
    ----------
    path
        The capture file.
    idle, active
        Flow timeouts in whole seconds.
    n_meters
        Meter processes (0: nfstream's choice, one per physical core minus one).
    nice
        Niceness added to the meter processes (see :func:`~.processes.child_start`).
    """

    def __init__(self, path: Path, idle: int, active: int, n_meters: int, nice: int = 0) -> None:
        from nfstream import NFStreamer  # imported late: loads the native engine

        try:
            # The streamer only validates the settings and picks n_meters; it is never iterated.
            self.streamer = NFStreamer(**streamer_settings(path, idle, active, n_meters))
        except ValueError as exc:
            raise InputError(f"{path}: nfstream cannot read this capture ({exc})") from None
        self.path = path
        self.nice = nice
        self.meters: list[Any] = []
        self.channel: Any = None
        self.crashed: list[int] = []
        self.closed = False

    @property
    def n_meters(self) -> int:
        return int(self.streamer.n_meters)

    @property
    def context(self) -> Any:
        """The multiprocessing context nfstream starts its meters with.

        nfstream picks it for its native engine (``spawn`` on Windows, ``fork`` elsewhere) and
        offers it only as the private ``_mp_context``; the meters and the walker follow it.
        """
        return self.streamer._mp_context

    def start(self) -> None:
        """Start the meter processes with the arguments ``NFStreamer.__iter__`` gives them."""
        from nfstream.meter import meter_workflow

        ctx = self.context
        lock = ctx.Lock()
        lock.acquire()
        n = self.n_meters
        perf = [[ctx.Value("I", 0), ctx.Value("I", 0), ctx.Value("I", 0)] for _ in range(n)]
        self.channel = ctx.Queue(maxsize=32767)
        signature = inspect.signature(meter_workflow)
        for i in range(n):
            arguments = meter_arguments(
                self.streamer,
                n_meters=n,
                index=i,
                channel=self.channel,
                tracker=perf[i],
                lock=lock,
                group_id=os.getpid(),
            )
            signature.bind(**arguments)  # a TypeError here, not a silent crash in the meter
            proc = ctx.Process(target=_meter_main, args=(self.nice, arguments))
            proc.daemon = True
            self.meters.append(proc)
            proc.start()

    def flows(self, cancel: Cancel | None) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
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
            if recv.__class__ is list:  # flows, each as (numbers, strings); see _TupleChannel
                yield from recv
                if is_set is not None and is_set():
                    raise CancelledError("cancelled by the user")
            elif recv is None:
                remaining -= 1
            elif recv.id == NFEvent.ERROR:
                message = str(recv.message).strip() or "unknown error"
                raise InputError(f"{self.path}: libpcap cannot read this capture ({message})")
            # ALL_AFFINITY_SET: nfstream pins the calling process to core 0 here; an app must
            # not have its GUI thread pinned, so the event is ignored.

    def _waiter(self) -> Callable[[], bool]:
        """A function that waits up to :data:`POLL_S` for the queue to hold data."""
        # multiprocessing.Queue offers no wait without a get; its pipe's read end (private
        # ``_reader``) can be polled.
        reader = self.channel._reader
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(reader.fileno(), select.POLLIN)
            timeout_ms = int(POLL_S * 1000)
            return lambda: bool(poller.poll(timeout_ms))
        return lambda: bool(reader.poll(POLL_S))  # Windows: a pipe handle, not a file descriptor

    def close(self) -> None:
        """Terminate and join the meters (a no-op for meters that already exited)."""
        if self.closed:
            return
        self.closed = True
        processes.end_processes(self.meters)
        if self.channel is not None:
            self.channel.cancel_join_thread()
            self.channel.close()


def _meter_main(nice: int, arguments: dict[str, Any]) -> None:
    """Meter process entry point: nfstream's ``meter_workflow`` with a tuple channel, after
    :func:`~.processes.child_start`."""
    processes.child_start(nice)
    from nfstream.meter import meter_workflow

    meter_workflow(**{**arguments, "channel": _TupleChannel(arguments["channel"])})


class _TupleChannel:
    """Wraps the meter's queue: flows go out as ``(numbers, strings)`` tuples, in lists.

    The tuples hold exactly the attributes the table needs (:data:`~.flowtable.NUM_FIELDS`,
    :data:`~.flowtable.STR_FIELDS`), read when the meter hands the expired flow over. They
    travel in lists of up to :data:`FLOWS_PER_MESSAGE`: one message per flow cost the meter,
    the bottleneck of a capture read, a queue put, a pickle and a pipe write per flow. A list
    goes out when full, when :data:`FLUSH_S` have passed since the last one went (checked as
    flows come), and before any control message (end marker, errors, affinity events), which
    passes unchanged, so flows never arrive after their meter's end marker.
    """

    def __init__(self, queue: Any) -> None:
        from nfstream.flow import NFlow

        self._queue = queue
        self._flow_class = NFlow
        self._flows: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
        self._sent = time.monotonic()

    def put(self, item: Any) -> None:
        if item.__class__ is self._flow_class:
            self._flows.append((_GET_NUM(item), _GET_STR(item)))
            if len(self._flows) >= FLOWS_PER_MESSAGE or time.monotonic() - self._sent >= FLUSH_S:
                self._flush()
            return
        self._flush()
        self._queue.put(item)

    def _flush(self) -> None:
        if self._flows:
            self._queue.put(self._flows)
            self._flows = []
        self._sent = time.monotonic()
