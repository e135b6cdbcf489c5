"""Frozen entry point of ``ids-desktop`` (the window); PyInstaller's script for build.spec.

``freeze_support()`` runs before anything else: on Windows nfstream starts its meter processes
with the "spawn" method, which re-runs this executable; such a child must stop here.
"""

import multiprocessing

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from ids_desktop.app import main

    raise SystemExit(main())
