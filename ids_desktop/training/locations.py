"""Where training finds its inputs and writes its outputs, beside the source tree.

Training runs from the source tree only (the installed app leaves this package out), so these
are folders of the checkout (``models/``, ``resources/demo/``, ``bench/RESULTS.md``) and its
neighbours (``../shared/data``, ``../lab-data``, ``../flow-cache``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ids_desktop.paths import app_root


def shared_data_dir() -> Path:
    """The shared datasets folder, ``../shared/data`` beside the checkout."""
    return app_root().parent / "shared" / "data"


def lab_data_dir() -> Path:
    """Traffic-lab runs (``make lab``): ``$IDS_LAB_DATA``, default ``../lab-data``."""
    return Path(os.environ.get("IDS_LAB_DATA", app_root().parent / "lab-data"))


def flow_cache_dir() -> Path:
    """The captures' flow cache (Parquet, outside the checkout), created on first use.

    ``$IDS_FLOW_CACHE``, default ``../flow-cache``; the capture recipe's validation reports
    are written there too.
    """
    env = os.environ.get("IDS_FLOW_CACHE")
    path = Path(env) if env else app_root().parent / "flow-cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    """The checkout's ``models/`` folder, where shipped bundles are rebuilt."""
    return app_root() / "models"


def demo_capture() -> Path:
    """The demo capture ``make run`` opens (``resources/demo/demo.pcap``)."""
    return app_root() / "resources" / "demo" / "demo.pcap"


def results_file() -> Path:
    """``bench/RESULTS.md``, whose model section ``make train`` rewrites."""
    return app_root() / "bench" / "RESULTS.md"
