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


def test_a_new_task_cancels_and_disconnects_the_previous_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    import threading

    from ids_desktop.gui.workers import TaskSlot

    slot = TaskSlot()
    release = threading.Event()
    first_done = threading.Event()
    log: list[str] = []

    def stubborn(*, progress, cancel):  # type: ignore[no-untyped-def]
        progress(1, 2, "old")
        release.wait(10)  # ignores the cancel: its result comes late, after the next start
        log.append(f"old ends, cancelled={cancel.is_set()}")
        first_done.set()
        return "old"

    def quick(*, progress, cancel):  # type: ignore[no-untyped-def]
        log.append(f"new starts, old done={first_done.is_set()}")
        progress(1, 1, "new")
        return "new"

    heard: list[object] = []
    for name in ("result_ready", "progress_changed", "errored", "cancelled"):
        getattr(slot, name).connect(lambda *args, n=name: heard.append((n, *args)))
    first = slot.start(stubborn)
    qtbot.waitUntil(lambda: ("progress_changed", 1.0, 2, "old") in heard, timeout=5_000)
    second = slot.start(quick)
    assert first.token.is_set() and slot.busy
    release.set()
    with qtbot.waitSignal(slot.finished, timeout=10_000):
        pass
    qtbot.wait(100)  # anything else the old task sent would have arrived by now
    # the old task finished before the new one started, and none of its late signals arrived
    assert log == ["old ends, cancelled=True", "new starts, old done=True"]
    assert heard == [("progress_changed", 1.0, 2, "old"), ("progress_changed", 1.0, 1, "new"),
                     ("result_ready", "new")]
    assert second.future is not None and not slot.busy
    assert wait_for_all(timeout=5)


def test_only_the_latest_of_many_queued_tasks_runs(qtbot) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.workers import TaskSlot

    slot = TaskSlot()
    ran: list[int] = []

    def task(n: int, *, progress, cancel):  # type: ignore[no-untyped-def]
        ran.append(n)
        time.sleep(0.05)
        return n

    results: list[object] = []
    slot.result_ready.connect(results.append)
    for n in range(5):  # 1-3 are superseded before they start; 0 may be cancelled before it runs
        slot.start(task, n)
    with qtbot.waitSignal(slot.finished, timeout=10_000):
        pass
    assert ran in ([0, 4], [4]) and results == [4]


def test_cancel_reports_the_end_of_the_task(qtbot) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.workers import TaskSlot

    slot = TaskSlot()
    with qtbot.waitSignals([slot.cancelled, slot.finished], order="strict", timeout=10_000):
        slot.start(slow, 10_000)
        time.sleep(0.05)
        slot.cancel()
    assert not slot.busy


def test_errors_pass_the_error_bridge(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ids_desktop.gui.errors import Problem
    from ids_desktop.gui.workers import TaskSlot

    log = tmp_path / "data" / "ids-desktop" / "crash.log"  # XDG_DATA_HOME is tmp_path/data
    slot = TaskSlot()

    def user_error(*, progress, cancel):  # type: ignore[no-untyped-def]
        raise InputError("choose a .pcap file")

    def bug(*, progress, cancel):  # type: ignore[no-untyped-def]
        return 1 / 0

    with qtbot.waitSignal(slot.errored, timeout=10_000) as blocker:
        slot.start(user_error)
    problem = blocker.args[0]
    assert isinstance(problem, Problem) and problem.message == "choose a .pcap file"
    assert problem.crash_log is None and not log.exists()  # a user error is no crash
    with qtbot.waitSignal(slot.errored, timeout=10_000) as blocker:
        slot.start(bug)
    problem = blocker.args[0]
    assert problem.crash_log == str(log) and str(log) in problem.message
    assert problem.message.startswith("ZeroDivisionError: division by zero")
    assert "Traceback" in log.read_text() and "1 / 0" in log.read_text()
