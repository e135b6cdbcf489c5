"""The demo capture `make run` opens: ordinary traffic plus a port scan and an SSH brute force."""

from __future__ import annotations

from pathlib import Path

from ids_desktop.core.ingest import ingest
from ids_desktop.synth.demo_capture import ATTACKER, TARGET, write_demo


def test_demo_capture_holds_benign_apps_and_both_attacks(tmp_path: Path) -> None:
    path = write_demo(tmp_path / "demo.pcap", seed=7, minutes=4)
    frame = ingest(path).frame
    apps = set(frame["application"].dropna())
    assert {"HTTP", "TLS", "DNS"} <= apps
    attack = frame[frame["src_ip"] == ATTACKER]
    assert (attack["dst_ip"] == TARGET).all()
    scan_ports = attack.loc[attack["dst_port"] != 22, "dst_port"].nunique()
    assert scan_ports >= 250
    assert (attack["dst_port"] == 22).sum() >= 40
    names = ["mail.example", "docs.example", "cdn.example"]
    assert frame["requested_server_name"].isin(names).any()
    assert write_demo(tmp_path / "again.pcap", seed=7, minutes=4).read_bytes() == path.read_bytes()
