"""``ids-desktop-cli batch``: usage errors and the installer's clean refusal, without a cluster."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ids_desktop import cli


def test_without_dask_batch_refuses_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    code = cli.run(["batch", str(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USER
    assert "development or pip install with Dask" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, message", [
    (["batch", "--out", "o"], "the following arguments are required: PATH"),
    (["batch", "x.pcap"], "the following arguments are required: --out"),
    (["batch", "x.pcap", "--out", "o", "--workers", "0"], "--workers must be at least 1"),
])
def test_usage_errors(argv: list[str], message: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(argv) == cli.EXIT_USER
    assert message in capsys.readouterr().err


def test_nothing_to_analyse_is_bad_input(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("no captures here\n")
    assert cli.run(["batch", str(tmp_path), "--out", str(tmp_path / "out")]) == cli.EXIT_USER
    assert "no captures or flow tables found" in capsys.readouterr().err
