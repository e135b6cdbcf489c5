"""The command line: exit codes, one-line errors, and the exact --json keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ids_desktop import __version__, cli
from ids_desktop.synth.tables import write_unsw


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ids_desktop.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("ingest", "formats", "analyze", "evaluate", "train", "models"):
        assert command in out


def test_no_command_is_a_usage_error() -> None:
    assert cli.run([]) == 2


def test_unknown_command_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["frobnicate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ids-desktop-cli: error:")


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("missing.csv", None, "no such file"),
        ("empty.csv", b"", "empty"),
        ("random.pcap", bytes(range(256)) * 8, "not a packet capture"),
        ("image.bin", b"\x89PNG\r\n\x1a\n" + bytes(200), "neither a packet capture"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None,
    needle: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert cli.run(["ingest", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert needle in lines[0]


def test_folder_is_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["ingest", str(tmp_path)]) == 2
    assert "folder" in capsys.readouterr().err


def test_internal_error_exits_1_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ids_desktop.core.ingest as ingest_mod

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(ingest_mod, "ingest", boom)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = write_unsw(tmp_path / "t.csv", [("Normal", 0)])
    assert cli.run(["ingest", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [err.strip()]
    assert "internal error: RuntimeError: simulated bug" in err
    assert (tmp_path / "xdg" / "ids-desktop" / "crash.log").read_text().count("simulated bug") >= 1


def test_formats_json_lists_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["formats", "--json"]) == 0
    names = {f["name"] for f in json.loads(capsys.readouterr().out)["formats"]}
    expected = {
        "pcap", "pcapng", "cic-ids2017", "cic-ids2017-traffic", "cic-ids2017-cleaned",
        "unsw-nb15", "unsw-nb15-raw", "ton-iot", "nsl-kdd", "nsl-kdd-arff", "ids-desktop",
    }
    assert expected <= names


def test_ingest_json_has_exactly_the_documented_keys(tmp_path: Path) -> None:
    path = write_unsw(tmp_path / "tiny.csv", [("Normal", 0), ("Normal", 0), ("Exploits", 1)])
    proc = run_cli("ingest", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    obj = json.loads(proc.stdout)
    assert set(obj) == {"format", "flows", "labelled", "label_counts", "warnings", "seconds"}
    assert obj["format"] == "unsw-nb15"
    assert obj["flows"] == 3
    assert obj["labelled"] is True
    assert obj["label_counts"] == {"Normal": 2, "Exploits": 1}
    assert isinstance(obj["warnings"], list)
    assert isinstance(obj["seconds"], float)


def test_ingest_out_round_trips(tmp_path: Path) -> None:
    src = write_unsw(tmp_path / "tiny.csv", [("Normal", 0), ("DoS", 1)])
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"flows{suffix}"
        proc = run_cli("ingest", str(src), "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        again = json.loads(run_cli("ingest", str(out), "--json").stdout)
        assert again["format"] == "ids-desktop"
        assert again["flows"] == 2
        assert again["label_counts"] == {"Normal": 1, "DoS": 1}


def test_forced_wrong_format_is_a_user_error(tmp_path: Path) -> None:
    path = write_unsw(tmp_path / "tiny.csv", [("Normal", 0)])
    proc = run_cli("ingest", str(path), "--format", "nsl-kdd")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1


def test_explain_json_keys(tmp_path: Path) -> None:
    from ids_desktop.core.model.bundle import default_models_dir

    if not (default_models_dir() / "unsw-nb15" / "metadata.json").is_file():
        pytest.skip("no unsw-nb15 bundle")
    path = write_unsw(tmp_path / "tiny.csv", [("Normal", 0), ("Exploits", 1), ("DoS", 1)])
    png = tmp_path / "e.png"
    proc = run_cli("explain", str(path), "--row", "1", "--samples", "500", "--json",
                   "--png", str(png))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    obj = json.loads(proc.stdout)
    assert set(obj) == {
        "row", "pred_class", "probability", "contributions", "by_feature", "by_timestep",
        "fidelity_r2", "seconds",
    }
    assert obj["row"] == 1
    assert set(obj["contributions"][0]) == {"feature", "timestep", "weight", "condition"}
    assert png.read_bytes()[:4] == b"\x89PNG"
    bad = run_cli("explain", str(path), "--row", "7")
    assert bad.returncode == 2 and "outside" in bad.stderr


def test_analyze_reports_the_wall_time_of_the_whole_command(
    demo_analysis, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not only the scoring step: reading and the detectors (here a 0.4 s stand-in) count."""
    import time

    from ids_desktop.core import workflow

    def slow(*args: object, **kwargs: object) -> object:
        time.sleep(0.4)
        return demo_analysis

    monkeypatch.setattr(workflow, "run_analysis", slow)
    assert cli.run(["analyze", str(demo_analysis.path), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["wall_seconds"] >= 0.4 > obj["seconds"]
    assert cli.run(["analyze", str(demo_analysis.path)]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    wall = float(line.split(" in ")[1].split(" s")[0])
    assert wall >= 0.4 and "(scoring " in line
