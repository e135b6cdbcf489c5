"""GUI entry point: freeze_support, excepthook, QApplication, MainWindow."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # first: nfstream starts worker processes in frozen builds
    argv = list(sys.argv[1:] if argv is None else argv)
    from ids_desktop.cli import quiet_native_logs

    quiet_native_logs()
    from PySide6.QtWidgets import QApplication

    from ids_desktop import APP_NAME
    from ids_desktop.gui.errors import install_excepthook
    from ids_desktop.gui.main_window import MainWindow

    no_crash_dialog = "--no-crash-dialog" in argv
    files = [a for a in argv if not a.startswith("--")]
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("IDS Desktop")
    install_excepthook(show_dialog=not no_crash_dialog)
    window = MainWindow()
    window.show()
    for f in files:
        window.open_path(Path(f))
    return int(app.exec())


if __name__ == "__main__":
    raise SystemExit(main())
