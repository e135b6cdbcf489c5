"""Feature fidelity of the capture ingest: the flow features mean what they say.

A model trained on capture flows and served by the capture ingest only works if each feature
has one meaning at training and at inference, and if that meaning is the documented one.
Two checks:

1. **Exact truth, generated capture** (always runs). The test writes its own capture with
   known packets (times, directions, sizes, TCP flags) and compares every per-flow statistic
   the ingest reports with the value computed here from the packet list. The definitions
   pinned down (nfstream 6.6.0 as configured by ``ids_desktop.core.ingest.capture``):

   - time: packet times are truncated to whole milliseconds (``ts_us // 1000``) before
     anything else; ``*_duration_ms`` = last ms - first ms, ``*_piat_ms`` are differences of
     those ms times (so sub-millisecond gaps read 0), ``first_seen``/``last_seen`` are the ms
     times / 1000;
   - bytes: ``accounting_mode=0``, i.e. the packet's original length on the wire including the
     Ethernet header (the pcap record's ``orig_len``, not the captured length); the same
     sizes feed ``*_ps`` (min/mean/max, and a sample standard deviation with n - 1);
   - piat stddev: sample standard deviation over the n - 1 gaps (divisor n - 2);
   - flags: ``*_<flag>_packets`` count packets with that TCP flag set, per direction;
   - the flow's direction is that of its first packet (src = the sender of the first packet);
   - a flow ends on the idle timeout (120 s) or active timeout (1800 s) only; a FIN or RST
     does not end it, so a reused 5-tuple within the idle timeout continues the same flow.

2. **Independent reference, real captures** (skips without ``../shared/data`` or without
   ``tshark`` on PATH). tshark reads each shared capture; its packets are grouped by the
   bidirectional 5-tuple plus VLAN id (nfstream's key), split where the gap exceeds the idle
   timeout as nfstream does, and compared with the ingest's flows. Tolerances: flow set,
   packets and bytes (total and per direction) exact; first/last seen within 1 ms and
   durations within < 1 ms (nfstream truncates packet times to ms; tshark keeps µs).
   tshark's ``frame.len`` is the original length, the same accounting as nfstream's mode 0.

   Run over all 209 shared captures (attack, benign, benign-apps), this comparison is exact
   except for these systematic differences, none of them in the captures tested below:

   - tunnels (IP-in-IP, 6in4, GTP-U, CAPWAP): nfstream meters the inner packets
     (``decode_tunnels=True``), tshark's outer header is used here;
   - non-first IP fragments are dropped by nfstream (xfail test below; the ingest warns);
   - IPv4 frames with total length 0 (TCP segmentation offload on the capturing sender)
     are dropped by nfstream (xfail test below; the ingest warns);
   - packets whose timestamp runs backwards are counted at the previous packet's time
     (the ingest warns), so such flows' first_seen/durations differ;
   - Cisco FabricPath frames (``ajp.pcap``) are misparsed by nfstream into junk flows.
"""

from __future__ import annotations

import math
import shutil
import socket
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.ingest import ingest
from ids_desktop.core.ingest.capture import read_capture
from ids_desktop.core.options import DEFAULT_ACTIVE_TIMEOUT, DEFAULT_IDLE_TIMEOUT
from ids_desktop.synth.capture_writer import CaptureWriter
from ids_desktop.synth.packets import BASE_TIME, ip_checksum, mac, tcp_frame, udp_frame

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
PCAPS = SHARED / "pcaps"

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
FLAG_NAMES = {"fin": FIN, "syn": SYN, "rst": RST, "psh": PSH, "ack": ACK, "urg": URG,
              "ece": ECE, "cwr": CWR}  # fmt: skip
BASE_US = BASE_TIME * 1_000_000


# --------------------------------------------------------------------------------------------
# 1. A capture written here, with the truth computed here
# --------------------------------------------------------------------------------------------


@dataclass
class Pkt:
    ts_us: int
    forward: bool  # sent by the flow's initiator
    frame: bytes
    flags: int = 0  # TCP flags (0 for UDP)
    orig_len: int | None = None  # wire length when the record is snapshot-truncated

    @property
    def wire_len(self) -> int:
        return len(self.frame) if self.orig_len is None else self.orig_len


@dataclass
class Flow:
    """One expected flow: its key and packets; the statistics are computed from the packets."""

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    protocol: int
    packets: list[Pkt] = field(default_factory=list)

    def tcp(self, ts_us: int, forward: bool, flags: int, payload: int = 0, **kw) -> None:
        c, s = socket.inet_aton(self.src_ip), socket.inet_aton(self.dst_ip)
        cm, sm = mac(1), mac(2)
        data = bytes(i & 0xFF for i in range(payload))
        if forward:
            frame = tcp_frame(cm, sm, c, s, self.src_port, self.dst_port, 1, 1, flags, data)
        else:
            frame = tcp_frame(sm, cm, s, c, self.dst_port, self.src_port, 1, 1, flags, data)
        self.packets.append(Pkt(ts_us, forward, frame, flags, **kw))

    def udp(self, ts_us: int, forward: bool, payload: int, **kw) -> None:
        c, s = socket.inet_aton(self.src_ip), socket.inet_aton(self.dst_ip)
        cm, sm = mac(3), mac(4)
        data = bytes(i & 0xFF for i in range(payload))
        if forward:
            frame = udp_frame(cm, sm, c, s, self.src_port, self.dst_port, data)
        else:
            frame = udp_frame(sm, cm, s, c, self.dst_port, self.src_port, data)
        self.packets.append(Pkt(ts_us, forward, frame, 0, **kw))

    # ---- the truth, from the packet list --------------------------------------------------

    def expected(self) -> dict[str, float]:
        out: dict[str, float] = {
            "first_seen": self.packets[0].ts_us // 1000 / 1000,
            "last_seen": self.packets[-1].ts_us // 1000 / 1000,
        }
        sides = {
            "bidirectional": self.packets,
            "src2dst": [p for p in self.packets if p.forward],
            "dst2src": [p for p in self.packets if not p.forward],
        }
        for side, pkts in sides.items():
            ms = [p.ts_us // 1000 for p in pkts]  # nfstream's clock: whole milliseconds
            sizes = [p.wire_len for p in pkts]
            gaps = [b - a for a, b in zip(ms, ms[1:])]
            out[f"{side}_packets"] = len(pkts)
            out[f"{side}_bytes"] = sum(sizes)
            out[f"{side}_duration_ms"] = ms[-1] - ms[0] if ms else 0
            out[f"{side}_min_ps"] = min(sizes) if sizes else 0
            out[f"{side}_max_ps"] = max(sizes) if sizes else 0
            out[f"{side}_mean_ps"] = float(np.mean(sizes)) if sizes else 0
            out[f"{side}_stddev_ps"] = float(np.std(sizes, ddof=1)) if len(sizes) > 1 else 0
            out[f"{side}_min_piat_ms"] = min(gaps) if gaps else 0
            out[f"{side}_max_piat_ms"] = max(gaps) if gaps else 0
            out[f"{side}_mean_piat_ms"] = float(np.mean(gaps)) if gaps else 0
            out[f"{side}_stddev_piat_ms"] = float(np.std(gaps, ddof=1)) if len(gaps) > 1 else 0
            for name, bit in FLAG_NAMES.items():
                out[f"{side}_{name}_packets"] = sum(1 for p in pkts if p.flags & bit)
        return out


def _known_flows() -> list[Flow]:
    """Flows with irregular timing, mixed sizes and every TCP flag, plus edge cases."""
    t = BASE_US + 123_456  # not on a millisecond boundary: truncation matters
    flows = []

    # A: full TCP conversation with handshake, uneven data, FIN close (client initiates).
    a = Flow("10.1.0.1", 40001, "10.1.0.2", 80, 6)
    for dt, fwd, flags, size in [
        (0, True, SYN, 0), (1_250, False, SYN | ACK, 0), (2_020, True, ACK, 0),
        (7_900, True, PSH | ACK, 310), (40_500, False, ACK, 0), (41_000, False, PSH | ACK, 1400),
        (41_300, False, PSH | ACK, 1400), (41_800, False, PSH | ACK, 77), (55_000, True, ACK, 0),
        (302_000, True, FIN | ACK, 0), (303_400, False, FIN | ACK, 0), (304_999, True, ACK, 0),
    ]:  # fmt: skip
        a.tcp(t + dt, fwd, flags, size)
    flows.append(a)

    # B: refused connection (SYN answered by RST-ACK), then two SYN retries: one flow.
    b = Flow("10.1.0.1", 40002, "10.1.0.3", 22, 6)
    for dt, fwd, flags in [(5_000, True, SYN), (5_700, False, RST | ACK),
                           (1_005_000, True, SYN), (1_005_600, False, RST | ACK),
                           (3_005_000, True, SYN)]:  # fmt: skip
        b.tcp(t + dt, fwd, flags)
    flows.append(b)

    # C: odd flags (URG, ECE, CWR) in both directions, nothing else.
    c = Flow("10.1.0.4", 40003, "10.1.0.5", 8080, 6)
    c.tcp(t + 9_000, True, SYN | ECE | CWR)
    c.tcp(t + 9_500, False, SYN | ACK | ECE)
    c.tcp(t + 10_000, True, ACK | URG | PSH, 5)
    c.tcp(t + 12_000, True, ACK | CWR, 0)
    flows.append(c)

    # D: UDP request/response exchanges; the server side answers.
    d = Flow("10.1.0.6", 53001, "10.1.0.7", 53, 17)
    for dt, fwd, size in [(20_000, True, 40), (20_800, False, 120), (520_000, True, 33),
                          (521_999, False, 250), (2_520_000, True, 47), (2_520_400, False, 1)]:
        d.udp(t + dt, fwd, size)
    flows.append(d)

    # E: a single packet (one-packet flows have zero duration and no gaps).
    e = Flow("10.1.0.8", 123, "10.1.0.9", 123, 17)
    e.udp(t + 30_000, True, 48)
    flows.append(e)

    # F: sub-millisecond spacing: 3 packets inside 0.9 ms straddling a ms boundary.
    f = Flow("10.1.0.10", 40004, "10.1.0.11", 9000, 17)
    base_f = BASE_US + 40_000_000 + 700  # .700 ms
    for dt, fwd, size in [(0, True, 10), (250, False, 20), (900, True, 30), (1_400, True, 30)]:
        f.udp(base_f + dt, fwd, size)
    flows.append(f)

    # G: snapshot-truncated records: bytes count the original (wire) length.
    g = Flow("10.1.0.12", 40005, "10.1.0.13", 9001, 17)
    g.udp(t + 50_000, True, 1000)
    g.udp(t + 51_000, False, 1400)
    for p in g.packets:
        p.orig_len = len(p.frame)
        p.frame = p.frame[:96]
    flows.append(g)
    return flows


def _idle_split_flows() -> tuple[list[Flow], list[Flow]]:
    """The same 5-tuple with a gap longer than the idle timeout, and a very long flow.

    Returns (packets as written, expected flows after nfstream's timeouts).
    """
    idle_us = int(DEFAULT_IDLE_TIMEOUT * 1_000_000)
    active_us = int(DEFAULT_ACTIVE_TIMEOUT * 1_000_000)
    t = BASE_US + 100_000_000
    whole = Flow("10.2.0.1", 41000, "10.2.0.2", 5000, 17)
    first = Flow("10.2.0.1", 41000, "10.2.0.2", 5000, 17)
    second = Flow("10.2.0.1", 41000, "10.2.0.2", 5000, 17)
    for dt, fwd, size in [(0, True, 10), (1_000, False, 20), (2_000, True, 30)]:
        whole.udp(t + dt, fwd, size)
        first.udp(t + dt, fwd, size)
    gap = idle_us + 30_000_000
    for dt, fwd, size in [(gap, True, 40), (gap + 3_000, False, 50)]:
        whole.udp(t + dt, fwd, size)
        second.udp(t + dt, fwd, size)

    # Active timeout: one packet every 60 s (under the idle timeout) for 1.5 active timeouts.
    long_all = Flow("10.2.0.3", 41001, "10.2.0.4", 5001, 17)
    step = 60_000_000
    n = int(1.5 * active_us // step)
    for i in range(n):
        long_all.udp(t + 1_000_000 + i * step, i % 2 == 0, 64)
    return [whole, long_all], [first, second]


def _write(path: Path, fmt: str, packets: list[Pkt]) -> None:
    with path.open("wb") as fh:
        w = CaptureWriter(fh, fmt)
        for p in sorted(packets, key=lambda p: p.ts_us):
            w.write(p.ts_us, p.frame, p.orig_len)
        w.flush()


def _row(frame: pd.DataFrame, flow: Flow) -> pd.DataFrame:
    m = (
        (frame["src_ip"] == flow.src_ip) & (frame["src_port"] == flow.src_port)
        & (frame["dst_ip"] == flow.dst_ip) & (frame["dst_port"] == flow.dst_port)
        & (frame["protocol"] == flow.protocol)
    )  # fmt: skip
    return frame[m.fillna(False).to_numpy(dtype=bool)]


@pytest.fixture(scope="module", params=["pcap", "pcapng"])
def known(request, tmp_path_factory):
    flows = _known_flows()
    path = tmp_path_factory.mktemp("fidelity") / f"known.{request.param}"
    _write(path, request.param, [p for f in flows for p in f.packets])
    return flows, read_capture(path, n_meters=1)


def test_ingest_configuration_is_what_the_features_assume(known) -> None:
    _, result = known
    meta = result.meta
    assert meta["extractor"] == "nfstream 6.6.0"
    assert meta["accounting_mode"] == 0  # link layer: frame bytes on the wire
    assert meta["idle_timeout"] == DEFAULT_IDLE_TIMEOUT == 120
    assert meta["active_timeout"] == DEFAULT_ACTIVE_TIMEOUT == 1800


def test_every_feature_of_every_flow_is_exact(known) -> None:
    flows, result = known
    frame = result.frame
    assert len(frame) == len(flows)
    assert result.meta["packets_in_flows"] == sum(len(f.packets) for f in flows)
    mismatches = []
    for flow in flows:
        rows = _row(frame, flow)
        assert len(rows) == 1, (flow.src_ip, flow.src_port)
        row = rows.iloc[0]
        for name, want in flow.expected().items():
            got = float(row[name])
            if not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
                where = f"{flow.src_ip}:{flow.src_port}"
                mismatches.append(f"{where} {name}: ingest {got}, truth {want}")
    assert not mismatches, "\n".join(mismatches)


def test_sub_millisecond_times_are_truncated_to_ms(known) -> None:
    flows, result = known
    row = _row(result.frame, flows[5]).iloc[0]
    # Packets at .700, .950, 1.600, 2.100 ms after a whole second: ms clock 0, 0, 1, 2.
    assert row["bidirectional_duration_ms"] == 2  # not 1.4
    assert row["bidirectional_min_piat_ms"] == 0  # 0.25 ms apart reads as 0
    assert row["src2dst_duration_ms"] == 2


def test_snapshot_truncated_packets_count_their_wire_length(known) -> None:
    flows, result = known
    row = _row(result.frame, flows[6]).iloc[0]
    assert row["src2dst_bytes"] == 14 + 28 + 1000
    assert row["dst2src_bytes"] == 14 + 28 + 1400


def test_flow_timeouts_split_flows_as_configured(tmp_path) -> None:
    written, split = _idle_split_flows()
    whole, long_all = written
    path = tmp_path / "timeouts.pcap"
    _write(path, "pcap", whole.packets + long_all.packets)
    frame = read_capture(path, n_meters=1).frame

    # Idle timeout: the gap > 120 s makes two flows, each with its own statistics.
    rows = _row(frame, whole).sort_values("first_seen")
    assert len(rows) == 2
    for (_, row), flow in zip(rows.iterrows(), split):
        for name, want in flow.expected().items():
            assert float(row[name]) == pytest.approx(want, abs=1e-9), name

    # Active timeout: a flow never idle for 120 s is cut after 1800 s; no packet is lost.
    rows = _row(frame, long_all).sort_values("first_seen")
    assert len(rows) == 2
    assert rows["bidirectional_packets"].sum() == len(long_all.packets)
    assert rows["bidirectional_duration_ms"].max() <= DEFAULT_ACTIVE_TIMEOUT * 1000
    assert set(rows["expiration_id"].tolist()) >= {1.0}  # 1 = active timeout (nfstream)


def _ipv4_frame(src: str, dst: str, proto: int, payload: bytes, frag: int = 0x4000,
                total_len: int | None = None) -> bytes:  # fmt: skip
    """Ethernet/IPv4 frame around an L4 payload; ``frag`` is the IP flags+offset word."""
    total = 20 + len(payload) if total_len is None else total_len
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 7, frag, 64, proto, 0,
                               socket.inet_aton(src), socket.inet_aton(dst)))  # fmt: skip
    struct.pack_into("!H", ip, 10, ip_checksum(bytes(ip)))
    return mac(2) + mac(1) + b"\x08\x00" + bytes(ip) + payload


@pytest.mark.xfail(strict=True, reason=(
    "nfstream drops non-first IP fragments (lib_engine: frag_off & 0x1FFF -> packet ignored): "
    "a fragmented datagram counts 1 packet and only its first fragment's bytes. Seen in "
    "benign-apps/dns_fragmented.pcap and dnscrypt-v1-and-resolver-pings.pcap"))
def test_ip_fragments_are_counted(tmp_path) -> None:
    udp = struct.pack("!HHHH", 41000, 53, 8 + 2000, 0) + bytes(2000)
    first, rest = udp[:1480], udp[1480:]
    frames = [
        _ipv4_frame("10.3.0.1", "10.3.0.2", 17, first, frag=0x2000),  # MF, offset 0
        _ipv4_frame("10.3.0.1", "10.3.0.2", 17, rest, frag=1480 // 8),  # last fragment
        udp_frame(mac(2), mac(1), socket.inet_aton("10.3.0.2"),
                  socket.inet_aton("10.3.0.1"), 53, 41000, bytes(100)),
    ]  # fmt: skip
    path = tmp_path / "frag.pcap"
    _write(path, "pcap", [Pkt(BASE_US + i * 1000, True, f) for i, f in enumerate(frames)])
    frame = read_capture(path, n_meters=1).frame
    assert frame["bidirectional_packets"].sum() == 3
    assert frame["bidirectional_bytes"].sum() == sum(len(f) for f in frames)


def test_skipped_fragments_and_tso_frames_are_reported(tmp_path) -> None:
    """What nfstream drops silently (the two xfails around this test), the ingest says."""
    udp = struct.pack("!HHHH", 41000, 53, 8 + 2000, 0) + bytes(2000)
    frag = [
        _ipv4_frame("10.3.0.1", "10.3.0.2", 17, udp[:1480], frag=0x2000),
        _ipv4_frame("10.3.0.1", "10.3.0.2", 17, udp[1480:], frag=1480 // 8),
    ]
    flow = Flow("10.4.0.1", 42000, "10.4.0.2", 443, 6)
    flow.tcp(BASE_US, True, SYN)
    flow.tcp(BASE_US + 1000, True, ACK | PSH, 4000)
    tso = bytearray(flow.packets[-1].frame)
    struct.pack_into("!H", tso, 16, 0)  # IP total length 0
    frames = [*frag, flow.packets[0].frame, bytes(tso)]
    for fmt in ("pcap", "pcapng"):
        path = tmp_path / f"lost.{fmt}"
        _write(path, fmt, [Pkt(BASE_US + i * 1000, True, f) for i, f in enumerate(frames)])
        result = read_capture(path, n_meters=1)
        assert result.meta["unmetered_later_fragments"] == 1
        assert result.meta["unmetered_zero_length_ip"] == 1
        text = " | ".join(result.warnings)
        assert "skipped 1 IPv4 fragment after the first" in text
        assert "skipped 1 IPv4 packet with total length 0" in text
    clean = tmp_path / "clean.pcap"
    _write(clean, "pcap", flow.packets[:1])
    assert not read_capture(clean, n_meters=1).warnings


@pytest.mark.xfail(strict=True, reason=(
    "nfstream drops frames whose IPv4 total length is 0, as written by captures taken on a "
    "sending host with TCP segmentation offload (Windows/npcap): 438 of 2,521 packets and "
    "1.80 of 2.15 MB are missing from benign-apps/anydesk-2.pcap's only TCP flow, silently"))
def test_tso_frames_with_zero_ip_length_are_counted(tmp_path) -> None:
    flow = Flow("10.4.0.1", 42000, "10.4.0.2", 443, 6)
    flow.tcp(BASE_US, True, SYN)
    flow.tcp(BASE_US + 1000, False, SYN | ACK)
    flow.tcp(BASE_US + 2000, True, ACK | PSH, 4000)
    big = bytearray(flow.packets[-1].frame)
    struct.pack_into("!H", big, 16, 0)  # IP total length 0 (TSO)
    struct.pack_into("!H", big, 24, 0)
    struct.pack_into("!H", big, 24, ip_checksum(bytes(big[14:34])))
    flow.packets[-1].frame = bytes(big)
    path = tmp_path / "tso.pcap"
    _write(path, "pcap", flow.packets)
    row = _row(read_capture(path, n_meters=1).frame, flow).iloc[0]
    assert row["bidirectional_packets"] == 3
    assert row["bidirectional_bytes"] == sum(len(p.frame) for p in flow.packets)


# --------------------------------------------------------------------------------------------
# 2. Real captures against tshark
# --------------------------------------------------------------------------------------------

TSHARK = shutil.which("tshark")
REAL = [
    "benign/ssh.pcap",
    "benign/ftp.pcap",
    "benign/http_espn.pcapng",
    "benign/dropbox.pcap",
    "attack/synscan.pcap",
    "attack/zeek_ftp_bruteforce.pcap",
    "attack/test-cc-capture-2.pcap",
    "attack/test7-malicious.pcap",
    "attack/malicious-ssh-bruteforce.pcap",
    "benign-apps/mongodb.pcap",  # the same 5-tuple on two VLANs: two flows
]
needs_real = pytest.mark.skipif(
    TSHARK is None or not PCAPS.is_dir(),
    reason="needs tshark on PATH and ../shared/data/pcaps",
)

#: Tolerances against tshark. Packets and bytes: exact. Times: nfstream truncates packet
#: times to whole milliseconds, so first_seen/last_seen are up to 1 ms early and durations
#: differ by less than 1 ms.
TIME_TOL_S = 0.001
DURATION_TOL_MS = 1.0


def _tshark_packets(path: Path) -> pd.DataFrame:
    """One row per IPv4/IPv6 TCP/UDP/ICMP packet: time, addresses, ports, protocol, length."""
    fields = ["frame.time_epoch", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
              "ip.proto", "ipv6.nxt", "tcp.srcport", "tcp.dstport", "udp.srcport",
              "udp.dstport", "icmpv6.type", "vlan.id"]  # fmt: skip
    cmd = [TSHARK, "-r", str(path), "-n", "-T", "fields", "-E", "separator=\t",
           "-E", "occurrence=a", "-E", "aggregator=;", "-o", "ip.defragment:FALSE",
           "-o", "tcp.analyze_sequence_numbers:FALSE", "-Y", "ip or ipv6"]  # fmt: skip
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    rows = [line.split("\t") for line in out.splitlines() if line]
    df = pd.DataFrame(rows, columns=fields)
    # Outermost header for addresses/ports (an ICMP error also carries the quoted header);
    # innermost 802.1Q tag for the VLAN, which nfstream makes part of the flow key.
    for f in fields:
        pick = -1 if f == "vlan.id" else 0
        df[f] = df[f].str.split(";").str[pick].fillna("")
    v6 = df["ip.src"] == ""
    df["src"] = df["ip.src"].where(~v6, df["ipv6.src"])
    df["dst"] = df["ip.dst"].where(~v6, df["ipv6.dst"])
    proto = df["ip.proto"].where(~v6, df["ipv6.nxt"])
    # IPv6 extension headers (e.g. hop-by-hop before an MLD report): nfstream keys the flow
    # by the upper-layer protocol, not by the first next-header value.
    proto = proto.where(~v6 | (df["udp.srcport"] == ""), "17")
    proto = proto.where(~v6 | (df["tcp.srcport"] == ""), "6")
    proto = proto.where(~v6 | (df["icmpv6.type"] == ""), "58")  # last: errors quote TCP/UDP
    df["proto"] = pd.to_numeric(proto, errors="coerce").fillna(-1).astype(int)
    sport = df["tcp.srcport"].where(df["tcp.srcport"] != "", df["udp.srcport"])
    dport = df["tcp.dstport"].where(df["tcp.dstport"] != "", df["udp.dstport"])
    # Ports only for TCP/UDP: an ICMP error quotes the offending packet's header, whose
    # ports tshark would report; nfstream keys ICMP flows with ports 0.
    l4 = df["proto"].isin([6, 17])
    df["sport"] = pd.to_numeric(sport, errors="coerce").fillna(0).astype(int).where(l4, 0)
    df["dport"] = pd.to_numeric(dport, errors="coerce").fillna(0).astype(int).where(l4, 0)
    df["t"] = df["frame.time_epoch"].astype(float)
    df["len"] = df["frame.len"].astype(int)
    df["vlan"] = pd.to_numeric(df["vlan.id"], errors="coerce").fillna(0).astype(int)
    return df[["t", "len", "src", "dst", "proto", "sport", "dport", "vlan"]]


def _tshark_flows(pk: pd.DataFrame, idle_s: float) -> pd.DataFrame:
    """Group tshark packets into bidirectional 5-tuple flows, split at idle gaps > idle_s."""
    a = list(zip(pk["src"], pk["sport"]))
    b = list(zip(pk["dst"], pk["dport"]))
    keys = [(min(x, y), max(x, y), p, v) for x, y, p, v in zip(a, b, pk["proto"], pk["vlan"])]
    open_: dict[tuple, dict] = {}
    done: list[dict] = []
    for key, t, n, src, sp in zip(keys, pk["t"], pk["len"], pk["src"], pk["sport"]):
        fl = open_.get(key)
        if fl is not None and t - fl["last"] > idle_s:
            done.append(open_.pop(key))
            fl = None
        if fl is None:
            fl = open_[key] = {"key": key, "src": src, "sport": sp, "first": t, "last": t,
                               "packets": 0, "bytes": 0, "fwd_packets": 0, "fwd_bytes": 0}
        fl["last"] = t
        fl["packets"] += 1
        fl["bytes"] += n
        if (src, sp) == (fl["src"], fl["sport"]):
            fl["fwd_packets"] += 1
            fl["fwd_bytes"] += n
    done.extend(open_.values())
    return pd.DataFrame(done)


def _ingest_flows(frame: pd.DataFrame) -> pd.DataFrame:
    a = list(zip(frame["src_ip"].astype(str), frame["src_port"].astype(int)))
    b = list(zip(frame["dst_ip"].astype(str), frame["dst_port"].astype(int)))
    out = pd.DataFrame({
        "key": [(min(x, y), max(x, y), int(p), int(v))
                for x, y, p, v in zip(a, b, frame["protocol"], frame["vlan_id"])],
        "src": frame["src_ip"].astype(str).to_numpy(),
        "sport": frame["src_port"].astype(int).to_numpy(),
        "first": frame["first_seen"].to_numpy(), "last": frame["last_seen"].to_numpy(),
        "packets": frame["bidirectional_packets"].to_numpy(),
        "bytes": frame["bidirectional_bytes"].to_numpy(),
        "fwd_packets": frame["src2dst_packets"].to_numpy(),
        "fwd_bytes": frame["src2dst_bytes"].to_numpy(),
        "duration_ms": frame["bidirectional_duration_ms"].to_numpy(),
    })  # fmt: skip
    return out


@needs_real
@pytest.mark.parametrize("rel", REAL)
def test_flows_match_tshark(rel) -> None:
    path = PCAPS / rel
    if not path.is_file():
        pytest.skip(f"{rel} is absent")
    result = ingest(path)
    ours = _ingest_flows(result.frame)
    ref = _tshark_flows(_tshark_packets(path), DEFAULT_IDLE_TIMEOUT)

    # Same flows: match by key and first-seen time (nfstream's first_seen is the ms floor).
    ref["ms"] = np.floor(ref["first"] * 1000 + 1e-6).astype(np.int64)
    ours["ms"] = np.round(ours["first"] * 1000).astype(np.int64)
    merged = ours.merge(ref, on=["key", "ms"], how="outer", suffixes=("", "_ts"),
                        indicator=True)  # fmt: skip
    only = merged[merged["_merge"] != "both"]
    assert only.empty, f"{rel}: unmatched flows\n{only[['key', 'ms', '_merge']].head(10)}"
    assert len(merged) == len(result.frame)

    m = merged
    assert (m["packets"] == m["packets_ts"]).all(), rel
    assert (m["bytes"] == m["bytes_ts"]).all(), rel
    # Direction: nfstream's src is the sender of the flow's first packet, as here.
    assert (m["fwd_packets"] == m["fwd_packets_ts"]).all(), rel
    assert (m["fwd_bytes"] == m["fwd_bytes_ts"]).all(), rel
    assert np.all(np.abs(m["first"] - m["first_ts"]) <= TIME_TOL_S + 1e-9), rel
    assert np.all(np.abs(m["last"] - m["last_ts"]) <= TIME_TOL_S + 1e-9), rel
    dur_ts = (m["last_ts"] - m["first_ts"]) * 1000
    assert np.all(np.abs(m["duration_ms"] - dur_ts) < DURATION_TOL_MS + 1e-6), rel
    # Every IP packet tshark saw is in exactly one flow.
    assert result.meta["packets_in_flows"] == m["packets_ts"].sum()
