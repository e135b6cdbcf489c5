"""Show errors to the user in one place: a message box for actionable ones, a crash dialog otherwise."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from ids_desktop.errors import IdsError
from ids_desktop.paths import crash_log_path


def show_error(parent: QWidget | None, exc: BaseException, title: str = "Could not open the file") -> None:
    """A user error as a warning box with its one-line message; a bug as a crash dialog."""
    if isinstance(exc, IdsError):
        QMessageBox.warning(parent, title, str(exc))
        return
    log = write_crash_log(type(exc), exc, exc.__traceback__)
    QMessageBox.critical(
        parent,
        "Internal error",
        f"Something went wrong inside IDS Desktop:\n\n{type(exc).__name__}: {exc}\n\n"
        f"Details were written to {log}. Your open files are unaffected.",
    )


def write_crash_log(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> str:
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
        print(f"ids-desktop: internal error: {exc_type.__name__}: {exc} (details in {log})", file=sys.stderr)
        if show_dialog:
            show_error(None, exc)

    sys.excepthook = hook
