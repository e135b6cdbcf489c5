"""The ARP check: spoofing found in a capture's ARP packets marks the flows it may relay."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from ids_desktop.core.ingest import arp
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


def test_an_ordinary_exchange_and_address_probes_are_not_spoofing() -> None:
    claims = [
        _claim(0, 1, VICTIM_MAC, VICTIM, GW),
        _claim(0.001, 2, GW_MAC, GW, VICTIM, VICTIM_MAC),
        _claim(1, 1, OTHER_MAC, "0.0.0.0", OTHER),  # RFC 5227 probe: claims nothing
        _claim(2, 1, OTHER_MAC, OTHER, OTHER),  # announcement of its own address
        _claim(3, 1, VICTIM_MAC, VICTIM, GW),  # asked again: the same claim
    ]
    assert arp.find_spoofing(claims) == []


def test_a_mac_claiming_the_gateway_besides_its_own_address_is_a_spoofer() -> None:
    claims = [
        _claim(0, 1, VICTIM_MAC, VICTIM, GW),
        _claim(5, 2, ATTACKER_MAC, GW, VICTIM, VICTIM_MAC),  # unsolicited: "the gateway is me"
        _claim(15, 1, ATTACKER_MAC, ATTACKER, GW),  # its own address, asking the real gateway
    ]
    (spoof,) = arp.find_spoofing(claims)
    assert spoof.mac == ATTACKER_MAC
    assert spoof.claimed == (GW, ATTACKER)
    assert spoof.victims == (VICTIM, GW)
    assert spoof.since == T0 + 5 and spoof.taken_from == {}
    assert f"MAC {ATTACKER_MAC} claimed {GW} and {ATTACKER} over ARP" in spoof.describe()


def test_an_address_taken_over_by_a_new_mac_names_the_old_one() -> None:
    claims = [
        _claim(0, 2, GW_MAC, GW, VICTIM, VICTIM_MAC),
        _claim(9, 2, ATTACKER_MAC, GW, GW, "ff:ff:ff:ff:ff:ff"),  # gratuitous: to everyone
    ]
    (spoof,) = arp.find_spoofing(claims)
    assert spoof.mac == ATTACKER_MAC and spoof.taken_from == {GW: GW_MAC}
    assert spoof.victims == (arp.EVERY_HOST,)
    assert f"{GW} had been claimed by {GW_MAC}" in spoof.describe()


def test_notes_mark_the_victim_s_flows_after_the_first_claim_only() -> None:
    import pandas as pd

    spoof = arp.Spoof(ATTACKER_MAC, (GW, ATTACKER), {}, (VICTIM,), T0 + 5)
    frame = pd.DataFrame({
        "src_ip": [VICTIM, VICTIM, OTHER, "8.8.8.8", VICTIM],
        "dst_ip": ["8.8.8.8", "1.1.1.1", "8.8.8.8", VICTIM, "1.1.1.1"],
        "last_seen": [T0 + 1, T0 + 6, T0 + 7, T0 + 8, None],
    })
    notes = arp.relayed_notes(frame, [spoof])
    assert notes.notna().tolist() == [False, True, False, True, False]
    assert notes[1].startswith("ARP check: MAC ") and "a man in the middle" in notes[1]
    everyone = arp.Spoof(ATTACKER_MAC, (GW,), {GW: GW_MAC}, (arp.EVERY_HOST,), T0 + 5)
    assert arp.relayed_notes(frame, [everyone]).notna().tolist() == [False, True, True, True, False]
    assert arp.relayed_notes(frame, []).isna().all()


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
def test_capture_ingest_marks_the_flows_a_spoofer_may_relay(tmp_path: Path, fmt: str) -> None:
    from ids_desktop.core.ingest.capture import read_capture

    path = tmp_path / f"spoofed.{fmt}"
    write_arp_capture(path, fmt, spoof=True)
    result = read_capture(path, n_meters=1)
    frame = result.frame
    noted = frame.loc[frame[arp.NOTE_COLUMN].notna(), ["src_ip", "src_port"]]
    assert noted.values.tolist() == [[VICTIM, 40002]]
    (said,) = result.meta["arp_spoofing"]
    assert said.startswith(
        f"MAC {ATTACKER_MAC} claimed {GW} over ARP; {GW} had been claimed by {GW_MAC}"
    )
    # the first claim (VLAN-tagged in pcapng)
    assert said.endswith("(from 2023-11-14 22:13:25 UTC)")

    clean = tmp_path / f"clean.{fmt}"
    write_arp_capture(clean, fmt, spoof=False)
    result = read_capture(clean, n_meters=1)
    assert arp.NOTE_COLUMN not in result.frame.columns and "arp_spoofing" not in result.meta


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
    row = int(flows.index[flows[arp.NOTE_COLUMN].notna()][0])
    assert flows.at[row, "flagged"] and flows.at[row, "pred_class"] == "mitm"
    assert summary["by_class"].get("mitm") == 1
    before = flows.index[(flows["src_port"] == 40001)][0]
    assert flows.at[before, "pred_class"] != "mitm"
    exp = BundleExplainer.for_analysis(analysis).explain_row(row)
    assert exp.sentence.endswith("(a man in the middle).") and "ARP check: MAC" in exp.sentence


@pytest.mark.shared
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data is absent")
def test_arppoison_capture_s_relayed_flows_are_its_truth_and_no_benign_capture_spoofs() -> None:
    from ids_desktop.core.ingest import ingest
    from ids_desktop.core.ingest.pcapfile import walk_capture
    from ids_desktop.training import truth
    path = SHARED / "pcaps" / "attack" / "arppoison.pcapng"
    frame = ingest(path).frame
    noted = frame[arp.NOTE_COLUMN].notna().to_numpy()
    assert noted.sum() == 15
    assert (noted == truth.attack_mask(frame, path.name)).all()
    benign = (sorted((SHARED / "pcaps" / "benign").iterdir())
              + sorted((SHARED / "pcaps" / "benign-apps").iterdir()))
    spoofing = [p.name for p in benign if p.suffix.lower() in truth.CAPTURE_SUFFIXES
                and arp.find_spoofing(walk_capture(p).arp)]
    assert len(benign) > 150 and spoofing == []
