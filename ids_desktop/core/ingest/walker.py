"""The container walk of a capture (packet count, damage) in a child process beside the meters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ids_desktop.core.ingest import processes
from ids_desktop.core.ingest.pcapfile import CaptureInfo, walk_capture

__all__ = ["Walker"]


class Walker:
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
        self._proc = context.Process(
            target=_walk_main, args=(str(path), send, nice), name="capture-walk", daemon=True
        )

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
            processes.end_processes([self._proc])
            self._started = False  # a second stop is a no-op
        else:
            self._send.close()
        self._recv.close()


def _walk_main(path: str, send: Any, nice: int) -> None:
    """Walker process entry point: walk the container, send ``("info", CaptureInfo)`` or
    ``("error", exception)``, after :func:`~.processes.child_start`."""
    processes.child_start(nice)
    try:
        message: tuple[str, Any] = ("info", walk_capture(Path(path)))
    except BaseException as exc:  # noqa: BLE001 - reported by Walker.result()
        message = ("error", exc)
    try:
        send.send(message)
    except Exception as exc:  # noqa: BLE001 - an exception that does not pickle
        send.send(("error", RuntimeError(f"capture walk failed: {message[1]!r} ({exc})")))
    send.close()
