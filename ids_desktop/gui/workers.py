"""Background work: tasks on Python threads, and one :class:`TaskSlot` per kind of work.

Why Python threads and not ``QThreadPool``: TensorFlow keeps per-OS-thread state that refers
to the Python thread state. ``QThreadPool`` reuses its OS threads but PySide gives each
``run()`` a fresh Python thread state, and the second model call on a reused thread crashed
(segfault while tracing a ``tf.function``; reproduced with an analysis followed by an
explanation). Threads from :class:`concurrent.futures.ThreadPoolExecutor` keep one Python
thread state for their whole life, and signals emitted from them reach the GUI thread as
queued calls, as from any other thread.

A widget owns one :class:`TaskSlot` per kind of work (an analysis, an explanation, an
evaluation, an export), as Orange's ``ConcurrentWidgetMixin`` does: starting a task cancels
and disconnects the previous one of its kind, partial results travel with the task, and every
exception passes through the error bridge (:func:`ids_desktop.gui.errors.triage`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError
from ids_desktop.gui.errors import triage

_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ids-worker")
_ACTIVE: set[Future[None]] = set()
_LOCK = threading.Lock()


class WorkerSignals(QObject):
    """Signals of a :class:`Worker`.

    Signals:
        progress_changed(float, object, str): done, total (or None) and stage.
        partial_result(object): a part of the result, handed over while the task runs.
        result_ready(object): the task's return value.
        errored(object): the exception the task raised (never CancelledError).
        cancelled(): the task stopped because it was cancelled.
        finished(): emitted last, whatever happened.
    """

    progress_changed = Signal(float, object, str)
    partial_result = Signal(object)
    result_ready = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()


class Worker:
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` on a background thread.

    With ``partial=True`` the task also gets ``partial=``, a callable that hands a part of
    the result to the GUI thread (:attr:`WorkerSignals.partial_result`).

    ``run()`` never touches a widget; results reach the GUI thread through the signals,
    which must be created (and connected) on the GUI thread. A task cancelled before it
    started does not run at all.
    """

    def __init__(
        self, fn: Callable[..., Any], *args: Any, partial: bool = False, **kwargs: Any
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.token = CancelToken()
        self.signals = WorkerSignals()
        self.future: Future[None] | None = None
        if partial:
            self.kwargs["partial"] = self.signals.partial_result.emit

    def cancel(self) -> None:
        self.token.cancel()

    def _progress(self, done: float, total: float | None, stage: str) -> None:
        self.signals.progress_changed.emit(float(done), total, stage)

    def run(self) -> None:
        try:
            if self.token.is_set():
                raise CancelledError("cancelled before it started")
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


class TaskSlot(QObject):
    """One kind of background work of a widget: only its latest task is heard.

    :meth:`start` cancels the task started before it and disconnects it, so nothing that task
    emits later (progress, a partial or late result, an error) reaches the widget. The new
    task runs once the old one has stopped: two tasks of one kind never run at the same time,
    so they can share state built by the first (an explainer), and the second executor thread
    stays free for other kinds of work. Exceptions pass through
    :func:`~ids_desktop.gui.errors.triage` (bugs are written to the crash log) before
    :attr:`errored` hands the :class:`~ids_desktop.gui.errors.Problem` on.

    Signals:
        progress_changed(float, object, str): done, total (or None) and stage.
        partial_result(object): a part of the result (slots made with ``partial=True``).
        result_ready(object): the task's return value.
        errored(object): a :class:`~ids_desktop.gui.errors.Problem`.
        cancelled(): the task stopped because it was cancelled.
        finished(): emitted last for every task that was not superseded.
    """

    progress_changed = Signal(float, object, str)
    partial_result = Signal(object)
    result_ready = Signal(object)
    errored = Signal(object)
    cancelled = Signal()
    finished = Signal()

    def __init__(self, parent: QObject | None = None, *, partial: bool = False) -> None:
        super().__init__(parent)
        self._partial = partial
        self._current: Worker | None = None  # the task whose signals are relayed
        self._running: Worker | None = None  # the task on a thread (maybe superseded)

    @property
    def busy(self) -> bool:
        """A task of this kind was started and has not finished."""
        return self._current is not None

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Worker:
        """Run ``fn(*args, progress=, cancel=[, partial=], **kwargs)`` in the background,
        superseding the task started before (see the class docstring)."""
        self.discard()
        worker = Worker(fn, *args, partial=self._partial, **kwargs)
        sig = worker.signals
        sig.progress_changed.connect(
            lambda d, t, s, w=worker: self._relay(w, self.progress_changed, d, t, s)
        )
        sig.partial_result.connect(lambda part, w=worker: self._relay(w, self.partial_result, part))
        sig.result_ready.connect(lambda result, w=worker: self._relay(w, self.result_ready, result))
        sig.errored.connect(lambda exc, w=worker: self._on_errored(w, exc))
        sig.cancelled.connect(lambda w=worker: self._relay(w, self.cancelled))
        sig.finished.connect(lambda w=worker: self._on_finished(w))
        self._current = worker
        if self._running is None:
            self._launch(worker)
        return worker

    def cancel(self) -> None:
        """Ask the current task to stop; it still reports its end (:attr:`cancelled`, then
        :attr:`finished`)."""
        if self._current is not None:
            self._current.cancel()

    def discard(self) -> None:
        """Cancel the current task and stop listening to it: nothing it emits reaches the
        widget any more, not even :attr:`finished`."""
        old, self._current = self._current, None
        if old is not None:
            old.cancel()
            for signal in (
                old.signals.progress_changed,
                old.signals.partial_result,
                old.signals.result_ready,
                old.signals.errored,
                old.signals.cancelled,
            ):
                signal.disconnect()  # ``finished`` stays: it frees the slot for the next task

    def _launch(self, worker: Worker) -> None:
        self._running = worker
        worker.start()

    def _heard(self, worker: Worker) -> bool:
        # A signal queued before its task was discarded is dropped, and so is any signal that
        # arrives after the slot's widget was deleted (a tab closed while its task ran on).
        return worker is self._current and isValid(self)

    def _relay(self, worker: Worker, signal: Any, *args: Any) -> None:
        if self._heard(worker):
            signal.emit(*args)

    def _on_errored(self, worker: Worker, exc: BaseException) -> None:
        if self._heard(worker):
            self.errored.emit(triage(exc))

    def _on_finished(self, worker: Worker) -> None:
        if not isValid(self):
            return
        if worker is self._running:
            self._running = None
        if worker is self._current:
            self._current = None
            self.finished.emit()
        elif self._current is not None and self._running is None:
            self._launch(self._current)  # the superseded task has stopped: run the latest


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
