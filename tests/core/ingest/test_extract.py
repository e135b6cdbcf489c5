"""Saving flows' packets as a pcap: exactly the flows' packets, both directions, atomically."""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest

dpkt = pytest.importorskip("dpkt")

from ids_desktop.core.ingest.extract import extract_packets, flow_key  # noqa: E402
from ids_desktop.core.tasks import CancelToken  # noqa: E402
from ids_desktop.errors import CancelledError, InputError  # noqa: E402
from ids_desktop.synth.attack_captures import (  # noqa: E402
    ATTACKER,
    TARGET,
    Capture,
    write_ssh_guessing,
)
from ids_desktop.synth.capture_writer import CaptureWriter  # noqa: E402
from ids_desktop.synth.packets import LINKTYPE_LINUX_SLL, relink  # noqa: E402


def packets(path: Path) -> list[tuple[float, bytes]]:
    """Every packet of ``path`` as dpkt reads it: (time, bytes)."""
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(0)
        reader = dpkt.pcapng.Reader(fh) if head == b"\x0a\x0d\x0d\x0a" else dpkt.pcap.Reader(fh)
        return [(float(ts), bytes(buf)) for ts, buf in reader]


def key_of(frame: bytes) -> tuple[int, tuple[str, int], tuple[str, int]] | None:
    """The flow key of an Ethernet frame, decoded by dpkt (independently of the app)."""
    ip = dpkt.ethernet.Ethernet(frame).data
    if not isinstance(ip, dpkt.ip.IP):
        return None
    l4 = ip.data
    sport, dport = (l4.sport, l4.dport) if isinstance(l4, (dpkt.tcp.TCP, dpkt.udp.UDP)) else (0, 0)
    return flow_key(ip.p, socket.inet_ntoa(ip.src), sport, socket.inet_ntoa(ip.dst), dport)


def flows_of(path: Path) -> pd.DataFrame:
    """A flow table of ``path`` the way the ingest reports it: one row per 5-tuple, the first
    packet's direction, times in seconds (rounded down to the millisecond, as nfstream)."""
    rows: dict[tuple, dict] = {}
    for ts, frame in packets(path):
        key = key_of(frame)
        if key is None:
            continue
        if key not in rows:
            ip = dpkt.ethernet.Ethernet(frame).data
            l4 = ip.data
            rows[key] = {"src_ip": socket.inet_ntoa(ip.src), "dst_ip": socket.inet_ntoa(ip.dst),
                         "src_port": l4.sport, "dst_port": l4.dport, "protocol": ip.p,
                         "first_seen": int(ts * 1000) / 1000, "last_seen": ts}
        rows[key]["last_seen"] = int(ts * 1000) / 1000
    return pd.DataFrame(list(rows.values()))


@pytest.fixture(scope="module")
def ssh_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ssh_guessing(tmp_path_factory.mktemp("extract") / "ssh.pcap", attempts=6)


def test_one_flow_gives_exactly_its_packets_in_both_directions(ssh_capture: Path,
                                                               tmp_path: Path) -> None:
    flows = flows_of(ssh_capture)
    assert len(flows) == 6
    chosen = flows.iloc[[2]]
    key = flow_key(*chosen[["protocol", "src_ip", "src_port", "dst_ip", "dst_port"]].iloc[0])
    expected = [p for p in packets(ssh_capture) if key_of(p[1]) == key]
    done = extract_packets(ssh_capture, chosen, tmp_path / "one.pcap")
    got = packets(tmp_path / "one.pcap")
    assert [b for _, b in got] == [b for _, b in expected]
    assert [round(t, 6) for t, _ in got] == [round(t, 6) for t, _ in expected]
    assert done.packets == len(expected) and done.flows == 1
    directions = {dpkt.ethernet.Ethernet(b).data.src for _, b in got}
    assert directions == {socket.inet_aton(ATTACKER), socket.inet_aton(TARGET)}


def test_several_flows_from_a_pcapng_keep_capture_order(tmp_path: Path) -> None:
    cap = Capture(seed=9)
    t = 1_700_000_000 * 1_000_000
    for _ in range(3):
        t = cap.session(t, ATTACKER, TARGET, 22, [(True, b"x" * 100), (False, b"y" * 50)]) + 5_000
    cap.udp(t, ATTACKER, "192.168.20.31", 5353, 53, b"q")
    source = cap.write(tmp_path / "mixed.pcapng", fmt="pcapng")
    flows = flows_of(source)
    assert len(flows) == 4
    chosen = flows.iloc[[0, 3]]
    keys = {flow_key(*r) for r in chosen[["protocol", "src_ip", "src_port", "dst_ip",
                                          "dst_port"]].itertuples(index=False)}
    expected = [b for _, b in packets(source) if key_of(b) in keys]
    extract_packets(source, chosen, tmp_path / "two.pcap")
    assert [b for _, b in packets(tmp_path / "two.pcap")] == expected


def test_the_same_five_tuple_outside_the_flows_span_is_left_out(ssh_capture: Path,
                                                                tmp_path: Path) -> None:
    flow = flows_of(ssh_capture).iloc[[0]].copy()
    key = flow_key(*flow[["protocol", "src_ip", "src_port", "dst_ip", "dst_port"]].iloc[0])
    all_of_it = [(t, b) for t, b in packets(ssh_capture) if key_of(b) == key]
    cut = all_of_it[4][0]  # the flow as if it had ended at its fifth packet
    flow["last_seen"] = int(cut * 1000) / 1000
    extract_packets(ssh_capture, flow, tmp_path / "part.pcap")
    assert [b for _, b in packets(tmp_path / "part.pcap")] == [b for _, b in all_of_it[:5]]


def test_other_link_types_are_read_and_kept(tmp_path: Path) -> None:
    cap = Capture(seed=3)
    cap.session(1_700_000_000 * 1_000_000, ATTACKER, TARGET, 80, [(True, b"GET / HTTP/1.0\r\n")])
    ethernet = cap.write(tmp_path / "eth.pcap")
    flows = flows_of(ethernet)
    cooked = [(t, relink(f, LINKTYPE_LINUX_SLL)) for t, f in sorted(cap.frames)]
    sll = tmp_path / "sll.pcap"
    with sll.open("wb") as fh:
        writer = CaptureWriter(fh, "pcap", linktype=LINKTYPE_LINUX_SLL)
        for t, frame in cooked:
            writer.write(t, frame)
        writer.flush()
    extract_packets(sll, flows, tmp_path / "out.pcap")
    with (tmp_path / "out.pcap").open("rb") as fh:
        reader = dpkt.pcap.Reader(fh)
        assert reader.datalink() == LINKTYPE_LINUX_SLL
        assert [bytes(b) for _, b in reader] == [f for _, f in cooked]


def test_progress_cancel_and_an_untouched_target(ssh_capture: Path, tmp_path: Path) -> None:
    target = tmp_path / "kept.pcap"
    target.write_bytes(b"before")
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        extract_packets(ssh_capture, flows_of(ssh_capture), target, cancel=token)
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.pcap"]  # no temporary file left
    seen: list[tuple[float, float | None, str]] = []
    extract_packets(ssh_capture, flows_of(ssh_capture), target,
                    progress=lambda d, t, s: seen.append((d, t, s)))
    assert seen and seen[-1][0] == seen[-1][1]
    assert len(packets(target)) == len(packets(ssh_capture))


def test_flows_without_addresses_or_times_are_refused(ssh_capture: Path, tmp_path: Path) -> None:
    flows = flows_of(ssh_capture)
    with pytest.raises(InputError, match="no first_seen"):
        extract_packets(ssh_capture, flows.drop(columns="first_seen"), tmp_path / "x.pcap")
    flows.loc[0, "src_ip"] = None
    with pytest.raises(InputError, match="no address"):
        extract_packets(ssh_capture, flows, tmp_path / "x.pcap")
    with pytest.raises(InputError, match="another file"):
        extract_packets(ssh_capture, flows.iloc[1:], ssh_capture)
