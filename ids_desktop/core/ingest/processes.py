"""The child processes of a capture read (meters, walker): how they start and how they end."""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

__all__ = ["child_start", "end_processes"]


def child_start(nice: int) -> None:
    """First steps of a child process of a capture read (a meter or the walker).

    Forked children inherit the parent's heap, including garbage not yet collected there that
    may hold onnxruntime or TensorFlow objects. Finalising those in the child calls into
    native locks that the fork copied in a held state (abseil aborted "Mutex::Fer while
    waiting on Condition"). ``gc.freeze()`` first keeps every inherited object out of the
    child's collections; the child's own objects are collected as usual.

    ``nice`` (the ``meter_nice`` option) lowers the child's priority: the desktop app uses it
    so the children do not take the CPU from its window for as long as a big capture is read.
    """
    import gc

    gc.freeze()
    _end_with_parent()
    if nice > 0 and hasattr(os, "nice"):
        try:
            os.nice(nice)
        except OSError:  # not allowed here: run at the parent's priority
            pass


def _end_with_parent() -> None:
    """Linux: have the kernel send this child SIGTERM when the process that started it dies.

    A parent that is killed (a batch worker killed mid-task, an out-of-memory kill) never
    runs :func:`end_processes`, and a meter whose reader is gone blocks on its full queue
    for ever. The signal follows the parent *thread* that started the child; each read starts
    and ends its children on one thread, which outlives them. Elsewhere this does nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import multiprocessing

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - no prctl: keep running
        return
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # it died before prctl took effect
        os._exit(1)


def end_processes(procs: list[Any], grace_s: float = 3.0) -> None:
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
