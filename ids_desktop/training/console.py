"""Progress lines for long training runs on a terminal (the scripts' and the CLI's logs)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from ids_desktop.core.tasks import Progress

#: A one-line logger: ``log("message")``.
Log = Callable[[str], None]


def logger(stream: TextIO | None = None) -> Log:
    """A logger printing ``[HH:MM:SS] message`` lines to ``stream`` (default stdout)."""

    def log(msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=stream or sys.stdout, flush=True)

    return log


def printer(name: str, stream: TextIO | None = None) -> Progress:
    """A progress hook printing one ``  [HH:MM:SS] name: stage`` line per stage change."""
    last: dict[str, str | None] = {"stage": None}

    def progress(done: float, total: float | None, stage: str) -> None:
        if stage != last["stage"]:
            last["stage"] = stage
            print(f"  [{time.strftime('%H:%M:%S')}] {name}: {stage}", file=stream or sys.stdout,
                  flush=True)

    return progress


def stage_logger(log: Log) -> Progress:
    """A progress hook passing each new stage to ``log``, indented (the capture recipe's)."""
    last: dict[str, str | None] = {"stage": None}

    def progress(done: float, total: float | None, stage: str) -> None:
        if stage != last["stage"]:
            last["stage"] = stage
            log(f"   {stage}")

    return progress
