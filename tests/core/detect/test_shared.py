"""The detectors on the shared captures: each attack capture's detector speaks, and no detector
speaks on the captures of everyday traffic and applications."""

from __future__ import annotations

from pathlib import Path

import pytest

from ids_desktop.core.detect import detect_all
from ids_desktop.core.ingest import ingest

#: Attack capture (``pcaps/attack``) -> the detector that must find it.
ATTACKS = {
    "synscan.pcap": "port_scan",
    "test12-icmp-portscan.pcap": "ping_sweep",
    "test7-malicious.pcap": "host_sweep",
    "malicious-ssh-bruteforce.pcap": "ssh_guessing",
    "zeek_ftp_bruteforce.pcap": "ftp_guessing",
    "test-cc-capture-2.pcap": "beacon",
    "dns-tunnel-iodine.pcap": "dns_tunnel",
    "dns_axfr.pcapng": "zone_transfer",
    "arppoison.pcapng": "arp_spoofing",
    "zeek_nmap-vsn.pcap": "arp_scan",
    "zeek_heartbleed.pcap": "tls_heartbleed",
    "WebattackSQLinj.pcap": "web_attack_uri",
    "http_dvwa_sqlinjection.pcapng": "web_attack_uri",
    "activeosfingerprinting.pcapng": "stealth_scan",
}
BENIGN_FOLDERS = ("benign", "benign-apps")
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")


@pytest.mark.shared
@pytest.mark.parametrize(("name", "detector"), sorted(ATTACKS.items()))
def test_the_attack_capture_s_detector_finds_it(shared_data: Path, name: str,
                                                detector: str) -> None:
    findings = detect_all(ingest(shared_data / "pcaps" / "attack" / name))
    assert detector in {f.detector for f in findings}, [f.summary for f in findings]


@pytest.mark.shared
@pytest.mark.slow
def test_no_detector_speaks_on_everyday_captures(shared_data: Path) -> None:
    folders = [shared_data / "pcaps" / folder for folder in BENIGN_FOLDERS]
    paths = [p for folder in folders for p in sorted(folder.iterdir())
             if p.suffix.lower() in CAPTURE_SUFFIXES]
    assert len(paths) > 150
    spoken = {}
    for path in paths:
        findings = detect_all(ingest(path))
        if findings:
            spoken[f"{path.parent.name}/{path.name}"] = [f.summary for f in findings]
    assert spoken == {}
