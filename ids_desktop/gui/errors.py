"""The one error bridge: user errors become messages, anything else also a crash log."""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from ids_desktop.errors import IdsError
from ids_desktop.paths import crash_log_path


@dataclass(frozen=True)
class Problem:
    """An exception, as the user is told about it.

    Attributes:
        error: The exception.
        message: One line for a label or a message box: an :class:`IdsError`'s own message;
            for anything else its type and message and where the details went.
        crash_log: Where the traceback was written; ``None`` for a user error.
    """

    error: BaseException
    message: str
    crash_log: str | None = None


def triage(exc: BaseException) -> Problem:
    """``exc`` as a :class:`Problem`; a bug (not an :class:`IdsError`) is written to the crash
    log first. Every exception of the GUI's background tasks passes through here."""
    if isinstance(exc, IdsError):
        return Problem(exc, str(exc))
    log = write_crash_log(type(exc), exc, exc.__traceback__)
    return Problem(exc, f"{type(exc).__name__}: {exc} (details in {log})", log)


def show_problem(
    parent: QWidget | None, problem: Problem, title: str = "Could not open the file"
) -> None:
    """A user error as a warning box with its one-line message; a bug as a crash dialog."""
    if problem.crash_log is None:
        QMessageBox.warning(parent, title, problem.message)
        return
    exc = problem.error
    QMessageBox.critical(
        parent,
        "Internal error",
        f"Something went wrong inside IDS Desktop:\n\n{type(exc).__name__}: {exc}\n\n"
        f"Details were written to {problem.crash_log}. Your open files are unaffected.",
    )


def show_error(
    parent: QWidget | None, exc: BaseException, title: str = "Could not open the file"
) -> None:
    """:func:`show_problem` of :func:`triage` of ``exc``."""
    show_problem(parent, triage(exc), title)


def write_crash_log(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
    """Append the traceback to the crash log; returns the log's path (or why it was not written)."""
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc_type, exc, tb)))
    except OSError:
        return "(crash log not writable)"
    return str(path)


def install_excepthook(show_dialog: bool = True) -> None:
    """Route uncaught exceptions on the GUI thread to the crash log (and a dialog)."""

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log = write_crash_log(exc_type, exc, tb)
        print(
            f"ids-desktop: internal error: {exc_type.__name__}: {exc} (details in {log})",
            file=sys.stderr,
        )
        if show_dialog:  # logged once, above; a user error that got this far is shown as one
            if isinstance(exc, IdsError):
                show_problem(None, Problem(exc, str(exc)))
            else:
                show_problem(None, Problem(exc, f"{exc_type.__name__}: {exc}", log))

    sys.excepthook = hook
