"""GUI entry point: freeze_support, excepthook, QApplication, MainWindow, and the self-test hook."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt and the window load in main(), after freeze_support
    from PySide6.QtCore import QCoreApplication, QSettings

    from ids_desktop.core.analysis import Analysis
    from ids_desktop.gui.main_window import MainWindow

SELFTEST_TIMEOUT_S = 300


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ids-desktop", description="IDS Desktop window")
    parser.add_argument("files", nargs="*", help="captures or flow tables to open")
    parser.add_argument("--no-crash-dialog", action="store_true",
                        help="log crashes without a dialog")
    parser.add_argument("--selftest", metavar="PATH",
                        help="analyse PATH, explain the top flagged flow, exit")
    parser.add_argument("--screenshot", metavar="OUT.png",
                        help="with --selftest: save the window here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # first: nfstream starts worker processes in frozen builds
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from ids_desktop import APP_NAME
    from ids_desktop.gui.errors import install_excepthook

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("IDS Desktop")
    if args.selftest:
        shot = Path(args.screenshot) if args.screenshot else None
        return selftest(app, Path(args.selftest), shot)
    install_excepthook(show_dialog=not args.no_crash_dialog)
    window = open_window(args.files, QSettings())  # noqa: F841 - kept alive while the app runs
    return int(app.exec())


def open_window(files: list[str], settings: QSettings | None = None) -> MainWindow:
    """Show the main window, then open each file given on the command line in its own tab.

    The files open from the event loop, once the window has had its first paint; the
    analysis modules are warmed up in the background meanwhile.
    """
    from PySide6.QtCore import QTimer

    from ids_desktop.gui.main_window import MainWindow, warm_up

    window = MainWindow(settings)
    window.show()
    warm_up()
    if files:
        QTimer.singleShot(50, lambda: [window.open_path(Path(f)) for f in files])
    return window


def selftest(app: QCoreApplication, path: Path, screenshot: Path | None) -> int:
    """Open the window, analyse ``path``, explain the top flagged flow, save a screenshot.

    Exits 0 only when every step worked; 1 on any failure or after 300 s.
    """
    import tempfile

    from PySide6.QtCore import QSettings, QTimer

    from ids_desktop.gui.main_window import MainWindow

    scratch = Path(tempfile.mkdtemp(prefix="ids-selftest-"))  # the default options, a fresh window
    window = MainWindow(QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat),
                        options_file=scratch / "options.json")
    window.fit_to_screen()  # the size an analyst's window gets on this screen, so the
    window.show()           # screenshot shows what a 1366x768 laptop shows
    outcome: dict[str, int | str] = {"code": 1, "why": "timed out after 300 s"}

    def finish(code: int, why: str = "") -> None:
        outcome.update(code=code, why=why)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            if not window.grab().save(str(screenshot)):
                outcome.update(code=1, why=f"could not save {screenshot}")
        app.quit()

    def grab_after_paint() -> None:
        QTimer.singleShot(300, lambda: finish(0))

    tab = window.open_path(path)

    def on_loaded(analysis: Analysis) -> None:
        if analysis.summary is None:
            finish(1, f"no model analysed the file: {analysis.note}")
            return
        if not analysis.summary["flagged"]:
            finish(1, "the model flagged no flow, so there is nothing to explain")
            return
        tab.explained.connect(lambda exp: grab_after_paint())
        QTimer.singleShot(400, lambda: tab.table.selectRow(0))  # after the debounced filter

    def on_closed() -> None:
        if tab.analysis is None:
            finish(1, tab.stage.text() or "analysis failed")

    tab.loaded.connect(on_loaded)
    tab.closed_work.connect(on_closed)
    QTimer.singleShot(SELFTEST_TIMEOUT_S * 1000, lambda: finish(1, "timed out after 300 s"))
    app.exec()
    if outcome["code"] != 0:
        print(f"ids-desktop: selftest failed: {outcome['why']}", file=sys.stderr)
    else:
        print(f"ids-desktop: selftest passed on {path}", file=sys.stderr)
    return int(outcome["code"])


if __name__ == "__main__":
    raise SystemExit(main())
