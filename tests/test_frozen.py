"""The installer's contracts that hold without building it (issue 9).

Building and running the frozen app is `make bundle` + `scripts/smoke_bundle.sh`; these check
the pieces it relies on: bundled paths resolve inside the bundle when frozen, the entry points
call freeze_support first, TensorFlow stays out of the spec, training fails cleanly without it.
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ids_desktop import cli, paths
from ids_desktop.core.model.bundle import default_models_dir

REPO = Path(__file__).resolve().parent.parent


def test_frozen_paths_resolve_inside_the_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delenv("IDS_DESKTOP_MODELS", raising=False)
    assert paths.is_frozen()
    assert paths.app_root() == tmp_path
    assert paths.models_dir() == tmp_path / "models"
    assert default_models_dir() == tmp_path / "models"  # the bundle lookup goes through paths
    assert paths.resource_path("demo", "demo.pcap") == tmp_path / "resources" / "demo" / "demo.pcap"


def test_source_tree_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.delenv("IDS_DESKTOP_MODELS", raising=False)
    assert not paths.is_frozen()
    assert paths.app_root() == REPO
    assert default_models_dir() == REPO / "models"


@pytest.mark.parametrize("script", ["frozen_gui.py", "frozen_cli.py"])
def test_entry_scripts_call_freeze_support_first(script: str) -> None:
    tree = ast.parse((REPO / "scripts" / script).read_text(encoding="utf-8"))
    main_block = next(n for n in tree.body if isinstance(n, ast.If))
    first = main_block.body[0]
    assert isinstance(first, ast.Expr) and ast.unparse(first) == "multiprocessing.freeze_support()"


def test_spec_leaves_tensorflow_out() -> None:
    spec = (REPO / "build.spec").read_text(encoding="utf-8")
    excludes = spec[spec.index("EXCLUDES = [") : spec.index("CLI_EXCLUDES")]
    for name in ('"tensorflow"', '"keras"', '"tf2onnx"', '"onnx"'):
        assert name in excludes
    assert 'collect_submodules("tensorflow' not in spec


def test_spec_leaves_the_development_packages_out() -> None:
    """Synthetic inputs and training are source-tree tools: the installer leaves them out."""
    spec = (REPO / "build.spec").read_text(encoding="utf-8")
    excludes = spec[spec.index("EXCLUDES = [") : spec.index("CLI_EXCLUDES")]
    for name in ('"ids_desktop.synth"', '"ids_desktop.training"'):
        assert name in excludes


def test_train_without_keras_is_a_clean_user_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "keras" else real(name, *a))
    code = cli.run(["train", "--format", "unsw-nb15", "--data", str(tmp_path / "x.csv"),
                    "--out", str(tmp_path / "m")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "development install" in err[0]


def test_smoke_script_parses() -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    proc = subprocess.run([bash, "-n", str(REPO / "scripts" / "smoke_bundle.sh")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
