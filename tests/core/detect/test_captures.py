"""The attack capture writers are deterministic: the same arguments give the same bytes."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from ids_desktop.synth import attack_captures, packet_attack_captures

WRITERS = [f for module in (attack_captures, packet_attack_captures)
           for name, f in inspect.getmembers(module, inspect.isfunction)
           if name.startswith("write_") and f.__module__ == module.__name__]


@pytest.mark.parametrize("write", WRITERS, ids=lambda f: f.__name__)
def test_a_writer_writes_the_same_small_file_twice(tmp_path: Path, write) -> None:
    first, second = write(tmp_path / "a.pcap"), write(tmp_path / "b.pcap")
    assert first.read_bytes() == second.read_bytes()
    assert 500 < first.stat().st_size < 1_000_000  # floods need 10,000 packets: 580 kB
