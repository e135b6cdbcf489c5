"""The traffic lab's office and server-room services (issue 32): the plan wiring and the
labeller's link-scope addresses (no root needed) and, where the lab can run with the office
tools and the ``lab`` extra's Python packages, the ``office`` scenario that runs every new
service for real."""

from __future__ import annotations

import importlib.util
import inspect
import ipaddress
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scripts.lab import benign as B
from scripts.lab import cli as CLI
from scripts.lab import office as O
from scripts.lab import scenario as SC
from scripts.lab.label import label_flows
from scripts.lab.netns import HOST_NET, is_link_scope
from tests.lab.test_lab_attacks import plan_hosts
from tests.lab.test_lab_smoke import REPO, lab_namespaces, skip_unless_lab_can_run

ORIGINAL_TARGETS = {"dns", "www", "app", "files", "shell", "cnc", "tun"}


def test_office_hosts_have_their_own_addresses_and_are_no_attack_target() -> None:
    ips = [ipaddress.ip_address(SC.FIXED_IPS[n]) for n in SC.OFFICE_SERVERS]
    ips += [ipaddress.ip_address(v) for v in SC.OFFICE_DEVICES.values() if v != "dhcp"]
    assert len(set(ips)) == len(ips)
    taken = {ipaddress.ip_address(SC.FIXED_IPS[n]) for n in ORIGINAL_TARGETS}
    clients = {HOST_NET.network_address + 100 + i for i in range(80)}
    attackers = {HOST_NET.network_address + 180 + i for i in range(45)}
    pool = {ipaddress.ip_address(a) for a in O.DHCP_POOL}
    for ip in ips:
        assert ip in HOST_NET and ip not in taken | clients | attackers
    assert all(ipaddress.ip_address(a) not in attackers | clients for a in pool)
    plan = SC.full_plan(random.Random(1))
    hosts = plan_hosts(plan)
    for mix in plan.mixes:
        plan.on_mix()
        for _, f in mix.attacks:
            a = f(hosts, random.Random(2))
            for t in a.targets:
                assert t.name not in SC.OFFICE_SERVERS, (mix.name, a.name, t.name)


def test_full_plan_runs_the_office_side_next_to_the_original_servers() -> None:
    plan = SC.full_plan(random.Random(1))
    for name, services in SC.OFFICE_SERVERS.items():
        assert plan.servers[name] == services
    assert plan.servers["files"] == ["ssh", "ftp"] and plan.servers["www"] == ["web"]
    assert "mail" not in plan.aliases  # the mail server's own name now
    assert set(plan.laptops) == {"lap0", "lap1", "lap2"}
    assert {p for _, p, _ in plan.workers} == {"monitor", "backup", "secondary", "hmi", "sensor"}
    assert all(h in plan.servers or h in plan.devices for h, _, _ in plan.workers)


def test_every_profile_activity_is_a_user_method() -> None:
    for name, weights in B.PROFILES.items():
        for act in weights:
            assert inspect.isfunction(getattr(B.User, act, None)), (name, act)
    for act in (*B.OFFICE, *B.ADMIN):
        assert act in B.PROFILES["office_probe"] or act in B.ADMIN


def test_link_scope_addresses_are_lab_only() -> None:
    for ip in ("0.0.0.0", "255.255.255.255", "10.213.0.255", "224.0.0.251", "224.0.0.22"):
        assert is_link_scope(ip)
    for ip in ("224.0.1.1", "239.255.255.250", "8.8.8.8", "10.0.0.255", "10.213.0.5"):
        assert not is_link_scope(ip)


def test_labeller_keeps_dhcp_and_mdns_flows_as_benign_and_drops_outside_addresses() -> None:
    rows = [("0.0.0.0", 68, "255.255.255.255", 67, 17, "DHCP"),
            ("10.213.0.11", 67, "10.213.0.240", 68, 17, "DHCP"),
            ("10.213.0.10", 5353, "224.0.0.251", 5353, 17, "MDNS"),
            ("10.213.0.13", 30000, "10.213.0.2", 53, 6, "DNS"),   # the secondary's AXFR
            ("10.213.0.100", 30001, "8.8.8.8", 53, 17, "DNS")]
    frame = pd.DataFrame(rows, columns=["src_ip", "src_port", "dst_ip", "dst_port", "protocol",
                                        "application"])
    frame["first_seen"], frame["last_seen"] = 100.0, 101.0
    frame["flow_id"] = np.arange(len(frame))
    out, labels, drop = label_flows(frame, [], {"10.213.0.180"}, "benign-busy")
    assert list(out["application"]) == ["DHCP", "DHCP", "MDNS", "DNS"]
    assert set(labels["label_class"]) == {"benign"} and drop["non_lab_address"] == 1


def test_protocol_mix_table_lists_every_application_per_mix() -> None:
    s = {"by_application": {"DNS": 6, "SMTP": 2}, "benign_by_application": {"DNS": 6, "SMTP": 2},
         "mixes": [{"mix": "a", "flows": 4, "by_application": {"DNS": 4}},
                   {"mix": "b", "flows": 4, "by_application": {"DNS": 2, "SMTP": 2}}]}
    lines = CLI.protocol_mix_markdown(s)
    assert lines[4] == "| application | all flows | share | a | b |"
    assert "| DNS | 6 | 75.00% | 4 (100.0%) | 2 (50.0%) |" in lines
    assert "| SMTP | 2 | 25.00% |  | 2 (50.0%) |" in lines


def _office_missing() -> str | None:
    tools = [t for t in CLI.TOOLS_OFFICE if shutil.which(t) is None]
    mods = [m for m in ("aiosmtpd", "websockets", "pymodbus", "vncdotool")
            if importlib.util.find_spec(m) is None]
    if tools or mods:
        return f"office tools or packages missing: {', '.join(tools + mods)}"
    return None


@pytest.mark.slow
def test_lab_office_runs_every_new_service_and_labels_it_benign(tmp_path: Path) -> None:
    skip_unless_lab_can_run()
    why = _office_missing()
    if why:
        pytest.skip(why + "; run scripts/lab/install-deps.sh and install the 'lab' extra")
    out = tmp_path / "lab-data"
    r = subprocess.run([sys.executable, "-m", "scripts.lab", "office", "--seed", "6",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=420)
    assert r.returncode == 0, r.stderr[-2000:]
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert last["attack"] == 0 and last["benign"] == last["flows"] > 100
    summary = json.loads((out / "office-seed6" / "summary.json").read_text())
    apps = set(summary["by_application"]) - {"Unknown"}
    # the infrastructure jobs run every time: monitoring (SNMP), the secondary DNS, the HMI
    # (Modbus), sensors (MQTT), the laptop (DHCP) and the mDNS responders
    assert {"SNMP", "DNS", "Modbus", "MQTT", "DHCP", "MDNS"} <= apps, apps
    assert len(apps) >= 20, apps
    assert summary["dropped"].get("non_lab_address", 0) == 0
    run = out / "office-seed6"
    flows = pd.concat(pd.read_parquet(f) for f in (run / "flows").glob("*.parquet"))
    # a time daemon's polls (``ntp_daemon``): from port 123, several packets in one flow
    daemon = flows[(flows["src_port"] == 123) & (flows["dst_port"] == 123)]
    assert len(daemon) and (daemon["bidirectional_packets"] >= 4).all()
    labels = pd.read_csv(out / "office-seed6" / "labels.csv.gz")
    for col in ("src_ip", "dst_ip"):
        ok = labels[col].map(lambda ip: ipaddress.ip_address(ip) in HOST_NET or is_link_scope(ip))
        assert ok.all(), labels.loc[~ok, col].unique()
    assert lab_namespaces() == []
