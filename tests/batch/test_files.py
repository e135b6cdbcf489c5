"""A batch's inputs: files, folders searched recursively, globs; what a folder scan leaves alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from ids_desktop.batch.files import expand_inputs, input_kind
from ids_desktop.errors import InputError
from tests.test_cli import write_unsw


def test_folder_is_searched_recursively_for_captures_and_tables(captures: Path,
                                                                tmp_path: Path) -> None:
    table = write_unsw(captures / "sub" / "flows.csv", [("Normal", 0), ("DoS", 1)])
    try:
        found = expand_inputs([captures])
    finally:
        table.unlink()
    names = [p.relative_to(captures).as_posix() for p in found]
    assert names == ["sensor-0001.pcap", "sensor-0002.pcap", "ssh.pcap", "sub/flows.csv",
                     "sub/sweep.pcap"]


def test_named_files_globs_and_duplicates(captures: Path, tmp_path: Path) -> None:
    notes = captures / "README.txt"
    found = expand_inputs([str(captures / "sensor-*.pcap"), captures / "ssh.pcap", notes,
                           captures / "ssh.pcap", str(captures / "**" / "sweep.pcap")])
    assert [p.name for p in found] == ["sensor-0001.pcap", "sensor-0002.pcap", "ssh.pcap",
                                       "README.txt", "sweep.pcap"]
    assert input_kind(notes) is None  # named on the command line: its task says why it fails


def test_output_folder_inside_the_inputs_is_skipped(captures: Path) -> None:
    out = captures / "results"
    (out / "flows").mkdir(parents=True)
    (out / "flows" / "old.pcap").write_bytes((captures / "ssh.pcap").read_bytes())
    try:
        found = expand_inputs([captures], exclude=[out])
    finally:
        (out / "flows" / "old.pcap").unlink()
        (out / "flows").rmdir()
        out.rmdir()
    assert all("results" not in p.parts for p in found)


def test_nothing_found_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see\n")
    with pytest.raises(InputError, match="no captures or flow tables"):
        expand_inputs([tmp_path])
    with pytest.raises(InputError, match="no such file or folder"):
        expand_inputs([tmp_path / "missing.pcap"])
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.pcapng")])
