"""One worker shape for all long work: a task on a Python thread whose signals live on a QObject.

Why Python threads and not ``QThreadPool``: TensorFlow keeps per-OS-thread state that refers
to the Python thread state. ``QThreadPool`` reuses its OS threads but PySide gives each
``run()`` a fresh Python thread state, and the second model call on a reused thread crashed
(segfault while tracing a ``tf.function``; reproduced with an analysis followed by an
explanation). Threads from :class:`concurrent.futures.ThreadPoolExecutor` keep one Python
thread state for their whole life, and signals emitted from them reach the GUI thread as
queued calls, as from any other thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError

_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ids-worker")
_ACTIVE: set[Future[None]] = set()
_LOCK = threading.Lock()


class WorkerSignals(QObject):
    """Signals of a :class:`Worker`.

    Signals:
        progress_changed(float, object, str): done, total (or None) and stage.
        result_ready(object): the task's return value.
        errored(object): the exception the task raised (never CancelledError).
        cancelled(): the task stopped because it was cancelled.
        finished(): emitted last, whatever happened.
    """

    progress_changed = Signal(float, object, str)
    result_ready = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()


class Worker:
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` on a background thread.

    ``run()`` never touches a widget; results reach the GUI thread through the signals,
    which must be created (and connected) on the GUI thread.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.token = CancelToken()
        self.signals = WorkerSignals()
        self.future: Future[None] | None = None

    def cancel(self) -> None:
        self.token.cancel()

    def _progress(self, done: float, total: float | None, stage: str) -> None:
        self.signals.progress_changed.emit(float(done), total, stage)

    def run(self) -> None:
        try:
            result = self.fn(*self.args, progress=self._progress, cancel=self.token, **self.kwargs)
        except CancelledError:
            self.signals.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - relayed to the GUI thread
            self.signals.errored.emit(exc)
        else:
            if self.token.is_set():
                self.signals.cancelled.emit()
            else:
                self.signals.result_ready.emit(result)
        finally:
            self.signals.finished.emit()

    def start(self) -> None:
        future = _EXECUTOR.submit(self.run)
        with _LOCK:
            _ACTIVE.add(future)
        future.add_done_callback(_forget)
        self.future = future


def _forget(future: Future[None]) -> None:
    with _LOCK:
        _ACTIVE.discard(future)


def active_count() -> int:
    """Tasks queued or running."""
    with _LOCK:
        return len(_ACTIVE)


def wait_for_all(timeout: float | None = None) -> bool:
    """Wait until every started task has finished; False on timeout."""
    from concurrent.futures import wait

    with _LOCK:
        pending = list(_ACTIVE)
    done, not_done = wait(pending, timeout=timeout)
    return not not_done
