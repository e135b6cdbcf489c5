"""The core stays headless: no Qt, pyqtgraph or GUI import reaches it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
HEADLESS_MODULES = [
    "ids_desktop.cli",
    "ids_desktop.config",
    "ids_desktop.paths",
    "ids_desktop.errors",
    "ids_desktop.core.schema",
    "ids_desktop.core.tasks",
    "ids_desktop.core.ingest",
    "ids_desktop.core.ingest.tables",
    "ids_desktop.core.ingest.capture",
]


def test_import_linter_contract_holds() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed")
    proc = subprocess.run([exe], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_core_modules_load_no_qt_at_runtime() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {HEADLESS_MODULES!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""


def test_cli_help_does_not_import_tensorflow() -> None:
    """--help must stay fast: heavy libraries load on first use only."""
    code = (
        "import sys\n"
        "from ids_desktop import cli\n"
        "cli.run(['formats'])\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False False"
