"""Generated captures for the batch tests: a port scan cut in two by a file rotation, an SSH
brute force, a host sweep in a subfolder, and files a folder scan must leave alone."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO


def split_pcap(src: Path, first: Path, second: Path) -> None:
    """Write the first half of ``src``'s packets to ``first`` and the rest to ``second``, as a
    sensor rotating its capture file would (classic little-endian pcap)."""
    data = src.read_bytes()
    header, pos, records = data[:24], 24, []
    while pos + 16 <= len(data):
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        records.append(data[pos:pos + 16 + incl])
        pos += 16 + incl
    half = len(records) // 2
    first.write_bytes(header + b"".join(records[:half]))
    second.write_bytes(header + b"".join(records[half:]))


@pytest.fixture(scope="session")
def pcap_bundle() -> None:
    if not (REPO / "models" / "pcap" / "metadata.json").is_file():
        pytest.skip("models/pcap is not built (scripts/train_pcap.py)")


@pytest.fixture(scope="session")
def captures(tmp_path_factory: pytest.TempPathFactory, pcap_bundle: None) -> Path:
    """A folder of generated captures (module docstring)."""
    from ids_desktop.synth import attack_captures as A

    folder = tmp_path_factory.mktemp("captures")
    whole = tmp_path_factory.mktemp("whole") / "scan.pcap"
    A.write_port_scan(whole, ports=40)
    split_pcap(whole, folder / "sensor-0001.pcap", folder / "sensor-0002.pcap")
    A.write_ssh_guessing(folder / "ssh.pcap")
    (folder / "sub").mkdir()
    A.write_host_sweep(folder / "sub" / "sweep.pcap")
    (folder / "README.txt").write_text("notes from the incident\n")
    (folder / ".hidden.pcap").write_bytes(whole.read_bytes())
    return folder


def child_processes() -> list[psutil.Process]:
    """This process's living descendants, except multiprocessing's resource tracker (one per
    process that ever spawned, alive until it exits)."""
    out = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if "resource_tracker" in " ".join(proc.cmdline()):
                continue
        except psutil.Error:
            continue
        out.append(proc)
    return out
