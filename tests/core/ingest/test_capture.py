"""Capture ingest: known conversations, stable ids, truncation, progress, cancel without orphans."""

from __future__ import annotations

import random
import struct
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from ids_desktop.core import schema
from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.capture import read_capture
from ids_desktop.core.ingest.flowtable import dedupe_ids
from ids_desktop.core.ingest.pcapfile import walk_capture
from ids_desktop.core.tasks import CancelToken
from ids_desktop.errors import CancelledError, InputError
from ids_desktop.synth.capture_writer import CaptureWriter
from ids_desktop.synth.known_capture import write_known_capture
from ids_desktop.synth.mixed_capture import write_mixed_capture
from ids_desktop.synth.packets import (
    BASE_TIME,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
)

REPO = Path(__file__).resolve().parents[3]
SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"


@pytest.fixture(scope="module", params=["pcap", "pcapng"])
def known(request, tmp_path_factory):
    """(path, truth) for the known-conversation capture in both containers."""
    path = tmp_path_factory.mktemp("known") / f"known.{request.param}"
    truth = write_known_capture(path, request.param)
    return path, truth


@pytest.fixture(scope="module")
def known_result(known):
    path, truth = known
    return read_capture(path, n_meters=1), truth, path


def _key(row) -> tuple:
    return (row["src_ip"], int(row["src_port"]), row["dst_ip"], int(row["dst_port"]))


def test_known_conversations_match_the_truth(known_result) -> None:
    result, truth, path = known_result
    frame = result.frame
    schema.validate_flows(frame)
    assert result.format == path.suffix[1:]
    assert result.feature_format == "pcap"
    assert result.temporal is True
    assert result.warnings == []
    assert len(frame) == len(truth) == 5
    assert result.meta["packets"] == sum(c.packets for c in truth) == 44
    assert result.meta["packets_in_flows"] == 44
    rows = {_key(r): r for _, r in frame.iterrows()}
    for conv in truth:
        row = rows[(conv.src_ip, conv.src_port, conv.dst_ip, conv.dst_port)]
        assert row["protocol"] == conv.protocol
        assert row["bidirectional_packets"] == conv.packets
        assert row["src2dst_packets"] == conv.src2dst_packets
        assert row["dst2src_packets"] == conv.dst2src_packets
        # accounting_mode=0: frame lengths on the wire, Ethernet header included.
        assert row["bidirectional_bytes"] == conv.bytes
        assert row["src2dst_bytes"] == conv.src2dst_bytes
        assert row["dst2src_bytes"] == conv.dst2src_bytes
        assert row["first_seen"] == pytest.approx(conv.first_seen, abs=1e-3)
        assert row["last_seen"] == pytest.approx(conv.last_seen, abs=1e-3)
        assert row["bidirectional_duration_ms"] == pytest.approx(
            (conv.last_seen - conv.first_seen) * 1000, abs=1
        )
    tcp = frame[frame["protocol"] == 6]
    assert (tcp["bidirectional_syn_packets"] == 2).all()
    assert (tcp["bidirectional_fin_packets"] == 2).all()


def test_rows_are_ordered_and_labels_missing(known_result) -> None:
    frame = known_result[0].frame
    assert frame["first_seen"].is_monotonic_increasing
    assert frame["label_binary"].isna().all()
    assert frame["label_class"].isna().all()
    assert frame["label_original"].isna().all()
    assert not known_result[0].labelled


def test_features_hold_no_addresses_or_absolute_times(known_result) -> None:
    features = schema.feature_columns(known_result[0].frame)
    assert "bidirectional_mean_piat_ms" in features
    assert "application_category_name" in features
    for banned in ("id", "src_ip", "dst_ip", "src_mac", "dst_mac", "src_oui", "dst_oui"):
        assert banned not in features
    assert not [c for c in features if c.endswith(("_first_seen_ms", "_last_seen_ms"))]
    frame = known_result[0].frame
    for column in features:
        assert str(frame[column].dtype) in ("float64", "string"), column


def test_flow_id_is_stable_across_runs(known) -> None:
    path, _ = known
    first = read_capture(path, n_meters=1).frame
    second = read_capture(path, n_meters=0).frame
    pd.testing.assert_frame_equal(first, second)
    assert first["flow_id"].dtype == np.int64
    assert (first["flow_id"] >= 0).all()


def test_other_link_layers_give_the_same_flows(tmp_path, known_result) -> None:
    expected = known_result[0].frame.set_index(["src_ip", "src_port"])["bidirectional_packets"]
    for linktype in (LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_NULL):
        path = tmp_path / f"lt{linktype}.pcap"
        write_known_capture(path, "pcap", linktype)
        frame = read_capture(path, n_meters=1).frame
        got = frame.set_index(["src_ip", "src_port"])["bidirectional_packets"]
        pd.testing.assert_series_equal(got.sort_index(), expected.sort_index())


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_unsupported_link_type_is_named(tmp_path, fmt) -> None:
    path = tmp_path / f"sll2.{fmt}"
    write_known_capture(path, fmt, LINKTYPE_LINUX_SLL2)
    with pytest.raises(InputError, match="276"):
        ingest(path)


def _cut_inside_a_record(src: Path, dst: Path, fraction: float = 0.6) -> int:
    """Copy the first part of ``src`` to ``dst``, ending inside a packet record."""
    data = src.read_bytes()
    cut = int(len(data) * fraction)
    while True:
        dst.write_bytes(data[:cut])
        if walk_capture(dst).truncated_at is not None:
            return cut
        cut += 7


def _capture_to_cut(fmt: str, tmp_path: Path) -> Path:
    shared = {"pcap": SHARED / "pcaps" / "benign" / "ftp.pcap",
              "pcapng": SHARED / "pcaps" / "benign" / "http_espn.pcapng"}[fmt]  # fmt: skip
    if shared.is_file():
        return shared
    path = tmp_path / f"mixed.{fmt}"
    write_mixed_capture(path, 2, seed=3, fmt=fmt)
    return path


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_truncated_capture_keeps_flows_and_warns(tmp_path, fmt) -> None:
    source = _capture_to_cut(fmt, tmp_path)
    full = read_capture(source, n_meters=1)
    cut_path = tmp_path / f"cut.{fmt}"
    cut = _cut_inside_a_record(source, cut_path)
    result = ingest(cut_path)
    schema.validate_flows(result.frame)
    assert 0 < len(result.frame) <= len(full.frame)
    assert result.meta["packets"] < full.meta["packets"]
    truncation = [w for w in result.warnings if "truncated at byte" in w]
    assert len(truncation) == 1
    assert f"of {cut:,}" in truncation[0]
    assert "flows before the cut were kept" in truncation[0]
    assert result.meta["truncated_at"] < cut


def test_random_bytes_named_pcap_are_rejected(tmp_path) -> None:
    path = tmp_path / "noise.pcap"
    path.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises(InputError, match="not a packet capture"):
        ingest(path)


def test_header_only_capture_gives_an_empty_canonical_frame(tmp_path, known_result) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    result = ingest(path)
    assert len(result.frame) == 0
    assert list(result.frame.columns) == list(known_result[0].frame.columns)
    assert (result.frame.dtypes == known_result[0].frame.dtypes).all()
    schema.validate_flows(result.frame)
    assert result.warnings == ["the capture holds no packets"]


def test_no_ip_flows_is_a_warning(tmp_path) -> None:
    path = tmp_path / "arp.pcap"
    with open(path, "wb") as fh:
        writer = CaptureWriter(fh, "pcap")
        arp = b"\xff" * 6 + b"\x02\0\0\0\0\1" + b"\x08\x06" + bytes(28)
        for i in range(3):
            writer.write(BASE_TIME * 1_000_000 + i * 1000, arp)
        writer.flush()
    result = ingest(path)
    assert len(result.frame) == 0
    assert "no IP flows found in 3 packets" in result.warnings


def test_bad_timeouts_are_rejected(known) -> None:
    with pytest.raises(InputError, match="idle_timeout"):
        read_capture(known[0], idle_timeout=-1)


@pytest.mark.parametrize("nice", [-1, 20, 2.5])
def test_bad_meter_niceness_is_rejected(known, nice) -> None:
    with pytest.raises(InputError, match="meter niceness must be 0-19"):
        read_capture(known[0], meter_nice=nice)
    with pytest.raises(InputError, match="meter niceness must be 0-19"):
        ingest(known[0], meter_nice=nice)


def test_progress_counts_packets_against_the_total(known) -> None:
    calls: list[tuple[float, float | None, str]] = []
    read_capture(known[0], progress=lambda d, t, s: calls.append((d, t, s)), n_meters=1)
    assert calls, "progress was never called"
    assert {stage for _, _, stage in calls} == {"extracting flows"}
    dones = [d for d, _, _ in calls]
    assert dones == sorted(dones)
    assert {t for _, t, _ in calls} <= {None, 44}
    assert calls[-1][:2] == (44, 44)


def test_progress_on_a_larger_capture(tmp_path) -> None:
    path = tmp_path / "mixed.pcap"
    stats = write_mixed_capture(path, 8, seed=5)
    calls: list[tuple[float, float | None]] = []
    result = read_capture(path, progress=lambda d, t, s: calls.append((d, t)), n_meters=1)
    dones = [d for d, _ in calls]
    assert dones == sorted(dones)
    assert calls[-1] == (stats.packets, stats.packets)
    assert {t for _, t in calls} <= {None, stats.packets}
    assert result.meta["packets"] == stats.packets
    assert result.meta["packets_in_flows"] == stats.packets  # every synthetic packet is IP
    assert result.frame["flow_id"].is_unique


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def test_cancel_stops_the_meters_and_leaves_no_orphans(tmp_path) -> None:
    path = tmp_path / "big.pcap"
    write_mixed_capture(path, 120, seed=11)
    before = _children()
    token = CancelToken()
    during: list[set[int]] = []
    outcome: dict[str, object] = {}

    def on_progress(done: float, total: float | None, stage: str) -> None:
        if done > 0 and not token.is_set():
            during.append(_children() - before)
            token.cancel()

    def run() -> None:
        try:
            outcome["result"] = ingest(path, progress=on_progress, cancel=token)
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    assert isinstance(outcome.get("error"), CancelledError), outcome
    assert during and during[0], "no meter process was running when cancel was requested"
    deadline = time.monotonic() + 3
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (_children() - before)
    assert time.monotonic() - started < 30


def test_cancel_before_start(known) -> None:
    token = CancelToken()
    token.cancel()
    before = _children()
    with pytest.raises(CancelledError):
        read_capture(known[0], cancel=token)
    assert not (_children() - before)


def test_duplicate_ids_are_rehashed_stably() -> None:
    frame = pd.DataFrame(
        {
            "flow_id": np.array([5, 5, 7, 5], dtype=np.int64),
            "first_seen": [1.0, 1.0, 2.0, 1.0],
            "last_seen": [3.0, 2.0, 2.0, 4.0],
            "bidirectional_packets": [1.0, 1.0, 1.0, 1.0],
            "bidirectional_bytes": [60.0, 60.0, 60.0, 60.0],
            "src2dst_packets": [1.0, 1.0, 1.0, 1.0],
            "src2dst_bytes": [60.0, 60.0, 60.0, 60.0],
            "src_ip": ["a", "a", "b", "a"],
            "src_port": [1, 1, 2, 1],
            "dst_ip": ["c", "c", "d", "c"],
            "dst_port": [3, 3, 4, 3],
        }
    )
    out = dedupe_ids(frame)
    assert out["flow_id"].is_unique
    assert out.loc[1, "flow_id"] == 5  # earliest last_seen keeps the id
    shuffled = dedupe_ids(frame.iloc[[3, 2, 1, 0]])
    pd.testing.assert_series_equal(shuffled["flow_id"].sort_index(), out["flow_id"])


def test_values_match_bare_nfstream(tmp_path) -> None:
    """The meters send tuples instead of NFlow objects; the numbers must not change."""
    from nfstream import NFStreamer

    from ids_desktop.core.ingest.flowtable import NUMERIC_FEATURES, STRING_FEATURES

    path = tmp_path / "mixed.pcap"
    write_mixed_capture(path, 1, seed=9)
    frame = read_capture(path, n_meters=1).frame
    bare = {
        (f.src_ip, f.src_port, f.dst_ip, f.dst_port, f.protocol, f.bidirectional_first_seen_ms): f
        for f in NFStreamer(str(path), statistical_analysis=True, n_meters=1)
    }
    assert len(bare) == len(frame)
    for row in frame.itertuples(index=False):
        key = (row.src_ip, row.src_port, row.dst_ip, row.dst_port, row.protocol,
               round(row.first_seen * 1000))  # fmt: skip
        flow = bare[key]
        app = row.application
        assert (app if not pd.isna(app) else "") == flow.application_name
        for name in NUMERIC_FEATURES:
            assert getattr(row, name) == pytest.approx(float(getattr(flow, name))), name
        for name in STRING_FEATURES:
            value = getattr(row, name)
            assert (value if not pd.isna(value) else "") == getattr(flow, name), name
