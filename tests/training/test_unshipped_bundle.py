"""``bench/unshipped_bundle.py`` never writes into the shipped models folder."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ids_desktop.training import locations

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "unshipped_bundle.py"


def test_unshipped_bundle_refuses_the_shipped_models_folder(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("unshipped_bundle", SCRIPT)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    before = sorted(p.name for p in (locations.models_dir() / "pcap").iterdir())
    with pytest.raises(SystemExit) as exc:
        mod.main(["--out", str(locations.models_dir()), "--lab", str(tmp_path)])
    assert exc.value.code == 2
    assert sorted(p.name for p in (locations.models_dir() / "pcap").iterdir()) == before
