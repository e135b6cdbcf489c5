"""The call into nfstream's meter: built from keyword names that nfstream's signature must know."""

from __future__ import annotations

import inspect
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from ids_desktop.core.ingest.meter import MeterRun, meter_arguments, streamer_settings


def _capture(tmp_path: Path) -> Path:
    """An empty libpcap file: enough for NFStreamer to accept it as a source."""
    path = tmp_path / "empty.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    return path


def _arguments(run: MeterRun, **objects: Any) -> dict[str, Any]:
    defaults = {"channel": object(), "tracker": [], "lock": object(), "group_id": 0}
    return meter_arguments(run.streamer, n_meters=1, index=0, **{**defaults, **objects})


def test_streamer_settings_are_nfstreamer_parameters(tmp_path: Path) -> None:
    from nfstream import NFStreamer

    settings = streamer_settings(_capture(tmp_path), 120, 1800, 1)
    known = inspect.signature(NFStreamer).parameters
    assert [name for name in settings if name not in known] == []  # renamed in nfstream?
    inspect.signature(NFStreamer).bind(**settings)


def test_meter_arguments_are_meter_workflow_parameters(tmp_path: Path) -> None:
    """Fails when an nfstream upgrade renames, removes or adds a parameter of the meter."""
    from nfstream.meter import meter_workflow

    arguments = _arguments(MeterRun(_capture(tmp_path), 120, 1800, n_meters=1))
    params = inspect.signature(meter_workflow).parameters
    assert [name for name in arguments if name not in params] == []  # renamed or removed
    inspect.signature(meter_workflow).bind(**arguments)  # and no new required parameter


class _Started(Exception):
    """Raised by the fake context when nfstream starts its first meter."""


class _RecordingContext:
    """Stands in for nfstream's multiprocessing context: records the first meter's start."""

    def __init__(self) -> None:
        self.target: Any = None
        self.args: tuple[Any, ...] = ()

    # the context's own method names (multiprocessing's)
    def Lock(self) -> Any:  # noqa: N802
        return threading.Lock()

    def Value(self, *args: Any) -> Any:  # noqa: N802
        return object()

    def Queue(self, maxsize: int = 0) -> Any:  # noqa: N802
        return object()

    def Process(self, target: Any, args: tuple[Any, ...]) -> Any:  # noqa: N802
        self.target, self.args = target, args
        raise _Started


def test_meter_arguments_are_what_nfstream_itself_passes(tmp_path: Path) -> None:
    """The same values NFStreamer.__iter__ gives its first meter, by parameter name."""
    from nfstream.meter import meter_workflow

    run = MeterRun(_capture(tmp_path), 120, 1800, n_meters=1)
    context = _RecordingContext()
    run.streamer._mp_context = context  # nfstream's own (private) choice of context, replaced
    with pytest.raises(_Started):
        next(iter(run.streamer))
    assert context.target is meter_workflow
    params = list(inspect.signature(meter_workflow).parameters)
    assert len(context.args) == len(params)
    theirs = dict(zip(params, context.args))
    objects = {name: theirs[name] for name in ("channel", "tracker", "lock", "group_id")}
    assert _arguments(run, **objects) == theirs


def test_a_renamed_meter_parameter_stops_the_start(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A mismatch is a TypeError in this process, before any meter starts (not a silent
    crash of every meter)."""
    import nfstream.meter

    def renamed(source, snapshot_length, **rest):  # type: ignore[no-untyped-def]
        raise AssertionError("never called")

    monkeypatch.setattr(nfstream.meter, "meter_workflow", renamed)
    run = MeterRun(_capture(tmp_path), 120, 1800, n_meters=1)
    try:
        with pytest.raises(TypeError):
            run.start()
        assert run.meters == []
    finally:
        run.close()


def test_flows_travel_in_lists_and_none_after_the_end_marker(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The meter's channel sends flows in lists of at most FLOWS_PER_MESSAGE, flushes what it
    holds before any control message (so no flow arrives after its meter's end marker), and
    sends a list early once FLUSH_S have passed."""
    from types import SimpleNamespace

    from ids_desktop.core.ingest import meter
    from ids_desktop.core.ingest.flowtable import NUM_FIELDS, STR_FIELDS

    sent: list[Any] = []
    channel = meter._TupleChannel(SimpleNamespace(put=sent.append))
    channel._flow_class = SimpleNamespace  # stand-in flows: anything with the table's fields

    def flow(i: int) -> SimpleNamespace:
        return SimpleNamespace(**{f: i for f in NUM_FIELDS}, **{f: str(i) for f in STR_FIELDS})

    n = meter.FLOWS_PER_MESSAGE * 2 + 5
    for i in range(n):
        channel.put(flow(i))
    channel.put(None)  # the end marker
    assert [len(m) for m in sent[:-1]] == [meter.FLOWS_PER_MESSAGE] * 2 + [5]
    assert sent[-1] is None
    assert [nums[0] for m in sent[:-1] for nums, _ in m] == list(range(n))  # order kept

    sent.clear()
    monkeypatch.setattr(meter, "FLUSH_S", 0.0)  # every flow is overdue: one list each
    channel.put(flow(1))
    channel.put(flow(2))
    assert [len(m) for m in sent] == [1, 1]
