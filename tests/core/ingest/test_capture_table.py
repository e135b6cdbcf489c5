"""Building the capture table from chunks: the result does not depend on how flows were chunked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest import capture, flowtable, processes
from ids_desktop.core.ingest.capture import read_capture
from ids_desktop.core.ingest.flowtable import build_table, chunk_arrays, dedupe_ids
from ids_desktop.core.ingest.walker import Walker
from ids_desktop.synth.mixed_capture import write_mixed_capture

N_NUM = len(flowtable.NUM_FIELDS)
N_STR = len(flowtable.STR_FIELDS)


def _flows(n: int, seed: int, damaged: float = 0.0) -> tuple[list[tuple], list[tuple]]:
    """``n`` flows as the meters send them: (numbers, strings) tuples, a few sharing a key.

    A ``damaged`` share has a pre-1970 first time as nfstream reports it (~1.8e19 ms): the
    table's ``first_seen`` is then missing, and those flows' ids share the clipped time.
    """
    rng = np.random.default_rng(seed)
    nums, strs = [], []
    for i in range(n):
        first_ms = 1_700_000_000_000 + int(rng.integers(0, 50))  # many equal first times
        if rng.random() < damaged:
            first_ms = 18_446_744_073_000_000_000 + int(rng.integers(0, 3)) * 10**6
        row = [int(rng.integers(1024, 1030)), 80, 6, first_ms, first_ms + int(rng.integers(0, 9))]
        row += [float(x) for x in rng.integers(0, 4, N_NUM - len(row))]
        row[flowtable.VLAN_AT] = row[flowtable.TUNNEL_AT] = 0  # part of the key: keep it shared
        nums.append(tuple(row))
        text = [f"10.0.0.{rng.integers(1, 3)}", "10.0.1.1", "HTTP"]
        text += [("" if rng.random() < 0.5 else f"s{i % 7}") for _ in range(N_STR - 3)]
        strs.append(tuple(text))
    return nums, strs


def _chunks(nums: list[tuple], strs: list[tuple], size: int) -> list[flowtable.Chunk]:
    starts = range(0, len(nums), size)
    return [chunk_arrays(nums[a : a + size], strs[a : a + size]) for a in starts]


def _reference(nums: list[tuple], strs: list[tuple]) -> pd.DataFrame:
    """The table built the plain way: one frame of every flow, re-hashed, sorted by pandas."""
    whole = chunk_arrays(nums, strs).frame()
    whole = dedupe_ids(whole)
    whole = whole.sort_values(["first_seen", "flow_id"], kind="mergesort", ignore_index=True)
    whole = schema.conform(whole)
    whole["community_id"] = flowtable.capture_community_ids(whole)
    return whole


def test_capture_flows_carry_their_community_id() -> None:
    """The reference package's ID for TCP flows; none for ICMP, whose type nfstream drops."""
    import communityid

    nums, strs = _flows(40, seed=5)
    nums[0] = (0, 0, 1, *nums[0][3:])  # an ICMP flow: nfstream reports its ports as 0
    frame = build_table(_chunks(nums, strs, 16))
    algo = communityid.CommunityID()
    for row in frame.itertuples():
        if row.protocol == 1:
            assert pd.isna(row.community_id)
        else:
            tpl = communityid.FlowTuple(6, row.src_ip, row.dst_ip, int(row.src_port),
                                       int(row.dst_port))
            assert row.community_id == algo.calc(tpl)
    assert frame["protocol"].eq(1).sum() == 1


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_shared_ids_match_the_plain_build(size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids shared across chunks and within one, some of them by flows with damaged times."""
    monkeypatch.setattr(flowtable, "CONVERT_ROWS", 5)  # tuples converted in several slices
    nums, strs = _flows(300, seed=size, damaged=0.1)
    chunks = _chunks(nums, strs, size)
    assert len(schema.shared_ids(np.concatenate([c.ids for c in chunks]))) > 5  # what is tested
    frame = build_table(chunks)
    assert chunks == []  # emptied as it was consumed
    schema.validate_flows(frame)
    pd.testing.assert_frame_equal(frame, _reference(nums, strs), check_exact=True)


def test_a_new_id_never_takes_the_id_of_another_row(monkeypatch: pytest.MonkeyPatch) -> None:
    nums, strs = _flows(300, seed=4)
    ids = np.concatenate([c.ids for c in _chunks(nums, strs, 300)])
    single = int(np.setdiff1d(ids, schema.shared_ids(ids))[0])  # held by one row only
    rehash = flowtable.rehash_id
    # every first re-hash collides with that row's id, so the next one must be taken
    monkeypatch.setattr(flowtable, "rehash_id", lambda old, k: single if k == 1 else rehash(old, k))
    frame = build_table(_chunks(nums, strs, 16))
    assert frame["flow_id"].is_unique and single in set(frame["flow_id"])
    pd.testing.assert_frame_equal(frame, _reference(nums, strs), check_exact=True)


def test_ids_do_not_depend_on_arrival_order() -> None:
    nums, strs = _flows(200, seed=1)
    frame = build_table(_chunks(nums, strs, 16))
    back = build_table(_chunks(nums[::-1], strs[::-1], 16))
    pd.testing.assert_frame_equal(frame, back, check_exact=True)


def test_unique_ids_keep_the_first_seen_then_id_order() -> None:
    nums, strs = _flows(300, seed=2)
    keep = []
    seen: set[tuple] = set()
    for n, s in zip(nums, strs):  # drop repeated keys (ports, protocol, first time, addresses)
        key = (n[:4], s[:2])
        if key not in seen:
            seen.add(key)
            keep.append((n, s))
    nums, strs = [k[0] for k in keep], [k[1] for k in keep]
    chunks = _chunks(nums, strs, 32)
    assert len(schema.shared_ids(np.concatenate([c.ids for c in chunks]))) == 0
    frame = build_table(chunks)
    assert len(frame) == len(nums)
    pd.testing.assert_frame_equal(frame, _reference(nums, strs), check_exact=True)


def test_no_chunks_give_the_canonical_empty_table() -> None:
    nums, strs = _flows(3, seed=3)
    empty = build_table([])
    assert len(empty) == 0
    assert list(empty.columns) == list(_reference(nums, strs).columns)
    assert list(empty.dtypes) == list(_reference(nums, strs).dtypes)
    schema.validate_flows(empty)


def test_chunk_size_does_not_change_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "mixed.pcap"
    write_mixed_capture(path, 1.0, seed=5)
    whole = read_capture(path, n_meters=1).frame
    monkeypatch.setattr(capture, "CHUNK_ROWS", 256)  # a chunk per 256 flows
    monkeypatch.setattr(flowtable, "CONVERT_ROWS", 100)
    batches: list[pd.DataFrame] = []
    chunked = read_capture(path, n_meters=1, on_flows=batches.append).frame
    assert len(whole) > 3 * 256 and len(batches) > 3
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    seen = pd.concat(batches, ignore_index=True)  # the batches hold the same rows, unsorted
    seen = seen.sort_values(["first_seen", "flow_id"], ignore_index=True)
    # every column of the finished table, the Community ID included, is in the batches
    pd.testing.assert_frame_equal(seen, whole, check_exact=True)


def test_meters_run_at_the_configured_priority(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``meter_nice`` lowers the priority of the read's child processes, the meters and the
    container walker (the GUI sets it); 0 leaves it alone."""
    import os

    real = processes.child_start
    marks = tmp_path / "marks"
    marks.mkdir()

    def spy(nice):  # type: ignore[no-untyped-def]
        real(nice)
        # In the child (forked), before it does any work: a mark written when the meter ends
        # could lose the race with the parent's terminate() once the flows are all in.
        (marks / str(os.getpid())).write_text(str(os.nice(0)))

    monkeypatch.setattr(processes, "child_start", spy)
    path = tmp_path / "tiny.pcap"
    write_mixed_capture(path, 0.05, seed=1)
    base = os.nice(0)
    for nice in (0, 3):
        for old in marks.iterdir():
            old.unlink()
        assert len(read_capture(path, meter_nice=nice).frame)
        seen = [int(p.read_text()) for p in marks.iterdir()]
        assert seen and all(s == min(base + nice, 19) for s in seen), (nice, seen)


def test_the_container_walk_runs_outside_this_process(tmp_path: Path) -> None:
    """The walk (a pure-Python loop over every record) runs in a child process, so it never
    holds this process's GIL; its :class:`CaptureInfo` comes back the same as a walk here."""
    import multiprocessing
    import threading

    from ids_desktop.core.ingest.pcapfile import walk_capture

    path = tmp_path / "tiny.pcap"
    write_mixed_capture(path, 0.05, seed=1)
    truncated = tmp_path / "cut.pcap"
    truncated.write_bytes(path.read_bytes()[:-7])
    context = multiprocessing.get_context()
    for source in (path, truncated):
        walker = Walker(source, context)
        walker.start()
        try:
            assert not any(t.name == "capture-walk" for t in threading.enumerate())
            info = walker.result()
        finally:
            walker.stop()
        assert info == walk_capture(source)
        assert walker.total() == info.packets > 0
    assert walk_capture(truncated).truncated_at is not None


def test_a_failed_or_unstarted_walk_gives_no_info(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context()
    walker = Walker(tmp_path / "missing.pcap", context)
    walker.start()
    try:
        assert walker.result() is None  # the child's error comes back, nothing hangs
    finally:
        walker.stop()
    Walker(tmp_path / "missing.pcap", context).stop()  # stopping before start is fine
