"""One worker shape for all long work: a QRunnable whose signals live on a separate QObject."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError


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


class Worker(QRunnable):
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` on the global thread pool.

    ``run()`` never touches a widget; results reach the GUI thread through queued signals.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.token = CancelToken()
        self.signals = WorkerSignals()

    def cancel(self) -> None:
        self.token.cancel()

    def _progress(self, done: float, total: float | None, stage: str) -> None:
        self.signals.progress_changed.emit(float(done), total, stage)

    def run(self) -> None:  # noqa: D102 - Qt override
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

    def start(self, pool: QThreadPool | None = None) -> None:
        (pool or QThreadPool.globalInstance()).start(self)
