"""ARP spoofing from the walk's ARP claims, and the victims' flows the finding covers."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ids_desktop.core.detect import Finding, arp
from ids_desktop.core.detect.flows import FlowView
from ids_desktop.synth.capture_writer import CaptureWriter
from ids_desktop.synth.packets import mac, udp_frame

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "data"
T0 = 1_700_000_000.0

GW, VICTIM, ATTACKER, OTHER = "10.9.0.1", "10.9.0.7", "10.9.0.66", "10.9.0.8"
GW_MAC, VICTIM_MAC, ATTACKER_MAC, OTHER_MAC = (mac(i).hex(":") for i in (1, 7, 66, 8))


def _claim(
    dt: float, op: int, mac: str, ip: str, target_ip: str, target_mac: str = "00:00:00:00:00:00"
) -> tuple[float, int, str, str, str, str]:
    return (T0 + dt, op, mac, ip, target_mac, target_ip)


def _spoofers(claims: list[tuple[float, int, str, str, str, str]]) -> list[Finding]:
    return [f for f in arp.detect(claims, FlowView(pd.DataFrame())) if f.detector == "arp_spoofing"]


def test_an_ordinary_exchange_and_address_probes_are_not_spoofing() -> None:
    claims = [
        _claim(0, 1, VICTIM_MAC, VICTIM, GW),
        _claim(0.001, 2, GW_MAC, GW, VICTIM, VICTIM_MAC),
        _claim(1, 1, OTHER_MAC, "0.0.0.0", OTHER),  # RFC 5227 probe: claims nothing
        _claim(2, 1, OTHER_MAC, OTHER, OTHER),  # announcement of its own address
        _claim(3, 1, VICTIM_MAC, VICTIM, GW),  # asked again: the same claim
    ]
    assert _spoofers(claims) == []


def test_a_mac_claiming_the_gateway_besides_its_own_address_is_a_spoofer() -> None:
    claims = [
        _claim(0, 1, VICTIM_MAC, VICTIM, GW),
        _claim(10, 2, ATTACKER_MAC, GW, VICTIM, VICTIM_MAC),  # unsolicited: "the gateway is me"
        _claim(15, 1, ATTACKER_MAC, ATTACKER, GW),  # its own address, asking the real gateway
    ]
    (spoof,) = _spoofers(claims)
    assert spoof.sources == (ATTACKER_MAC,) and spoof.family == "mitm"
    assert spoof.targets == (VICTIM,) and spoof.first_seen == T0 + 10
    assert f"sent {VICTIM} unsolicited ARP replies claiming {GW}" in spoof.summary
    assert f"also asked, as {ATTACKER}, which MAC has {GW}" in spoof.summary


def test_an_address_another_mac_still_uses_names_the_old_one() -> None:
    claims = [
        _claim(0, 2, GW_MAC, GW, VICTIM, VICTIM_MAC),
        _claim(9, 2, ATTACKER_MAC, GW, GW, "ff:ff:ff:ff:ff:ff"),  # gratuitous: to everyone
        _claim(11.5, 1, OTHER_MAC, OTHER, GW),  # another host asks for the gateway...
        _claim(12, 2, GW_MAC, GW, OTHER, OTHER_MAC),  # ... and the gateway still answers for it
    ]
    (spoof,) = _spoofers(claims)
    assert spoof.sources == (ATTACKER_MAC,)
    assert f"took over {GW}, which {GW_MAC} still uses" in spoof.summary
    # without the old owner's later claim it may be a replaced machine: no finding
    assert _spoofers(claims[:2]) == []


def _arp_frame(
    op: int, mac: str, ip: str, target_mac: str, target_ip: str, *, vlan: bool = False
) -> bytes:
    sha, tha = bytes.fromhex(mac.replace(":", "")), bytes.fromhex(target_mac.replace(":", ""))
    body = (struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + socket.inet_aton(ip)
            + tha + socket.inet_aton(target_ip))
    dst = b"\xff" * 6 if op == 1 else tha
    tag = b"\x81\x00\x00\x05" if vlan else b""
    return dst + sha + tag + b"\x08\x06" + body + bytes(18)  # padded to the 60-byte minimum


def _udp(ts: float, src: str, dst: str, sport: int, dport: int) -> tuple[int, bytes]:
    frame = udp_frame(mac(7), mac(1), socket.inet_aton(src), socket.inet_aton(dst),
                      sport, dport, bytes(40))
    return int(ts * 1e6), frame


def write_arp_capture(path: Path, fmt: str, spoof: bool) -> None:
    """A capture of DNS flows from two hosts; with ``spoof``, :data:`ATTACKER_MAC` claims the
    gateway's address to the victim between its first and second flow."""
    packets = [
        (int(T0 * 1e6), _arp_frame(1, VICTIM_MAC, VICTIM, "00:00:00:00:00:00", GW)),
        (int((T0 + 0.001) * 1e6), _arp_frame(2, GW_MAC, GW, VICTIM_MAC, VICTIM)),
        _udp(T0 + 1, VICTIM, "8.8.8.8", 40001, 53),  # before any spoofing
        _udp(T0 + 1.01, "8.8.8.8", VICTIM, 53, 40001),
    ]
    if spoof:
        packets += [
            (int((T0 + 5) * 1e6),
             _arp_frame(2, ATTACKER_MAC, GW, VICTIM_MAC, VICTIM, vlan=fmt == "pcapng")),
            (int((T0 + 6) * 1e6), _arp_frame(2, ATTACKER_MAC, GW, VICTIM_MAC, VICTIM)),
        ]
    packets += [
        _udp(T0 + 7, VICTIM, "8.8.8.8", 40002, 53),  # after it: relayed if spoofed
        _udp(T0 + 7.01, "8.8.8.8", VICTIM, 53, 40002),
        _udp(T0 + 8, OTHER, "8.8.4.4", 40003, 53),  # another host, never told anything
    ]
    with path.open("wb") as fh:
        w = CaptureWriter(fh, fmt)
        for ts_us, frame in sorted(packets, key=lambda p: p[0]):
            w.write(ts_us, frame)
        w.flush()


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_the_walk_keeps_the_claims_and_the_finding_covers_the_victim_s_later_flows(
    tmp_path: Path, fmt: str
) -> None:
    from ids_desktop.core.detect import detect_all
    from ids_desktop.core.ingest.capture import read_capture

    path = tmp_path / f"spoofed.{fmt}"
    write_arp_capture(path, fmt, spoof=True)
    result = read_capture(path, n_meters=1)
    (spoof,) = detect_all(result)
    covered = result.frame.iloc[spoof.rows][["src_ip", "src_port"]]
    assert covered.values.tolist() == [[VICTIM, 40002]]
    assert spoof.summary.startswith(f"MAC {ATTACKER_MAC} sent {VICTIM} unsolicited ARP replies")
    assert "(from 2023-11-14 22:13:25 UTC)" in spoof.summary  # the first (VLAN-tagged in pcapng)

    clean = tmp_path / f"clean.{fmt}"
    write_arp_capture(clean, fmt, spoof=False)
    assert detect_all(read_capture(clean, n_meters=1)) == ()


def test_analysis_flags_relayed_flows_as_mitm_and_says_why(tmp_path: Path) -> None:
    if not (REPO / "models" / "pcap" / "metadata.json").is_file():
        pytest.skip("models/pcap is not built")
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.core.options import AnalysisOptions
    from ids_desktop.core.workflow import run_analysis

    path = tmp_path / "spoofed.pcapng"
    write_arp_capture(path, "pcapng", spoof=True)
    analysis = run_analysis(path, AnalysisOptions(model="pcap", lime_samples=300))
    summary, flows = analysis.summary, analysis.flows
    row = int(flows.index[flows["finding"].notna()][0])
    assert flows.at[row, "flagged"] and flows.at[row, "pred_class"] == "mitm"
    assert "arp_spoofing" in flows.at[row, "flagged_by"] and flows.at[row, "severity"] == "high"
    assert summary["by_class"].get("mitm") == 1 and summary["by_flagged_by"]["arp_spoofing"] == 1
    before = flows.index[(flows["src_port"] == 40001)][0]
    assert flows.at[before, "pred_class"] != "mitm"
    exp = BundleExplainer.for_analysis(analysis).explain_row(row)
    assert "A host-level detector flagged it as well: MAC" in exp.sentence
    assert exp.sentence.endswith("may have passed through it")


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent")
def test_arppoison_capture_s_relayed_flows_are_its_truth_and_no_benign_capture_spoofs() -> None:
    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.ingest.pcapfile import walk_capture
    from ids_desktop.training import truth
    path = SHARED / "pcaps" / "attack" / "arppoison.pcapng"
    from ids_desktop.core.detect import detect_all

    result = ingest(path)
    frame = result.frame
    noted = np.zeros(len(frame), dtype=bool)
    noted[[r for f in detect_all(result) for r in f.rows]] = True
    assert noted.sum() == 15
    assert (noted == truth.attack_mask(frame, path.name)).all()
    benign = (sorted((SHARED / "pcaps" / "benign").iterdir())
              + sorted((SHARED / "pcaps" / "benign-apps").iterdir()))
    spoofing = [p.name for p in benign if p.suffix.lower() in truth.CAPTURE_SUFFIXES
                and _spoofers(walk_capture(p).arp)]
    assert len(benign) > 150 and spoofing == []
