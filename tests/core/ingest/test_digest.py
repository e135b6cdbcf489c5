"""The ingest names every file by its SHA-256, hashed as it reads the file, never twice."""

from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path

import pytest

from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.digest import file_digest, open_hashed, sha256_file
from ids_desktop.synth.mixed_capture import write_mixed_capture
from ids_desktop.synth.tables import synthetic_table


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reads_that_go_back_skip_ahead_or_stop_early_hash_each_byte_once(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(random.Random(3).randbytes(3_000_000))
    with open_hashed(path) as fh:  # back over bytes already hashed, then a skip forward
        fh.read(1000)
        fh.seek(10)
        fh.read(5000)
        fh.seek(2_500_000)
        fh.read(100)
        assert file_digest(fh) == _sha(path)
        assert fh.tell() == 2_500_100  # the digest did not move the reader
    with open_hashed(path) as fh:  # nothing read at all
        assert file_digest(fh) == _sha(path)
    assert sha256_file(path) == _sha(path)


def test_captures_and_tables_carry_their_sha256(tmp_path: Path) -> None:
    capture = tmp_path / "mixed.pcapng"
    write_mixed_capture(capture, 0.05, seed=1, fmt="pcapng")
    assert ingest(capture).sha256 == _sha(capture)
    cut = tmp_path / "cut.pcapng"  # cut inside a block: the walk stops at the damage
    cut.write_bytes(capture.read_bytes()[: capture.stat().st_size * 2 // 3])
    assert ingest(cut).sha256 == _sha(cut)
    table = tmp_path / "flows.csv.gz"
    table.write_bytes(gzip.compress(synthetic_table("cic-ids2017", 300, random.Random(1)).encode()))
    assert ingest(table, chunk_rows=50).sha256 == _sha(table)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_the_container_walk_hashes_the_file(tmp_path: Path, fmt: str) -> None:
    from ids_desktop.core.ingest.pcapfile import walk_capture

    capture = tmp_path / f"m.{fmt}"
    write_mixed_capture(capture, 0.05, seed=2, fmt=fmt)
    assert walk_capture(capture).sha256 == _sha(capture)
