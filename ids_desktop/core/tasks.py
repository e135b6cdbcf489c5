"""Progress and cancel hooks shared by every long-running core function.

Long work is a plain function that takes ``progress`` and ``cancel`` keyword arguments:

- ``progress(done, total, stage)`` is called now and then; ``total`` may be ``None`` when unknown.
- ``cancel`` is a :class:`Cancel`: a :class:`CancelToken`, or any object with ``is_set()``;
  the function checks it between units of work and raises
  :class:`~ids_desktop.errors.CancelledError`.

The CLI passes a progress-bar printer, the GUI a worker's signal emitter, tests a stub.
"""

from __future__ import annotations

import threading
from typing import Protocol

from ids_desktop.errors import CancelledError


class Progress(Protocol):
    def __call__(self, done: float, total: float | None, stage: str) -> None: ...


class Cancel(Protocol):
    """What a long-running function asks of its ``cancel`` argument."""

    def is_set(self) -> bool: ...


class CancelToken:
    """A thread-safe flag: ``cancel()`` from any thread, ``is_set()``/``check()`` in the worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`CancelledError` if cancellation was requested."""
        if self._event.is_set():
            raise CancelledError("cancelled by the user")


def no_progress(done: float, total: float | None, stage: str) -> None:
    """The default progress hook: ignore."""


def check_cancel(cancel: Cancel | None) -> None:
    """Raise :class:`CancelledError` when ``cancel`` (a token or ``None``) is set."""
    if cancel is not None and cancel.is_set():
        raise CancelledError("cancelled by the user")
