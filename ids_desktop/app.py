"""GUI entry point. Until the main window lands, it explains itself and shows the CLI help."""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    from ids_desktop import cli

    print("IDS Desktop: the window is not built yet; here is the command line.\n", file=sys.stderr)
    return cli.main(["--help"] if not argv else argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
