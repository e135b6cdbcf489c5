"""Workers relay results, errors and cancellation to the GUI thread."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6")
pytestmark = pytest.mark.gui

from ids_desktop.errors import InputError  # noqa: E402
from ids_desktop.gui.workers import Worker, active_count, wait_for_all  # noqa: E402


def slow(n: int, *, progress, cancel):  # type: ignore[no-untyped-def]
    for i in range(n):
        if cancel.is_set():
            from ids_desktop.errors import CancelledError

            raise CancelledError("stop")
        progress(i + 1, n, "counting")
        time.sleep(0.01)
    return n * 2


def test_result_and_progress(qtbot) -> None:  # type: ignore[no-untyped-def]
    worker = Worker(slow, 5)
    seen: list[float] = []
    worker.signals.progress_changed.connect(lambda done, total, stage: seen.append(done))
    with qtbot.waitSignal(worker.signals.result_ready, timeout=10_000) as blocker:
        worker.start()
    assert blocker.args == [10]
    qtbot.waitUntil(lambda: seen == [1, 2, 3, 4, 5], timeout=5_000)


def test_cancel_emits_cancelled_not_result(qtbot) -> None:  # type: ignore[no-untyped-def]
    worker = Worker(slow, 10_000)
    results: list[object] = []
    worker.signals.result_ready.connect(results.append)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=10_000):
        worker.start()
        time.sleep(0.05)
        worker.cancel()
    assert results == []
    assert wait_for_all(timeout=5)
    assert active_count() == 0


def test_errors_are_relayed(qtbot) -> None:  # type: ignore[no-untyped-def]
    def bad(*, progress, cancel):  # type: ignore[no-untyped-def]
        raise InputError("nope")

    worker = Worker(bad)
    with qtbot.waitSignal(worker.signals.errored, timeout=10_000) as blocker:
        worker.start()
    assert isinstance(blocker.args[0], InputError)
