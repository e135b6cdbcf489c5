"""The traffic lab's newer attack kinds: the plan wiring (no root needed), the simulated
Heartbleed endpoint's record handling (over a socket pair) and, where the lab can run, the
``probe`` scenario that runs each new kind once for real."""

from __future__ import annotations

import json
import random
import socket
import struct
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from scripts.lab import attacks as A
from scripts.lab import heartbleed as HB
from scripts.lab import scenario as SC
from scripts.lab import servers as SV
from scripts.lab.netns import Host
from tests.lab.test_lab_smoke import REPO, lab_namespaces, skip_unless_lab_can_run

NEW = {"TlsBeacon": "botnet", "PostCheckin": "botnet", "ZoneTransfer": "scan",
       "Heartbleed": "exploit", "ManualSqli": "web_attack"}


def plan_hosts(plan) -> dict:
    """Every host a plan names (servers, clients, attackers), built without a lab."""
    hosts = {n: Host(n, n, SC.FIXED_IPS[n], "server") for n in plan.servers}
    hosts.update({f"c{i}": Host(f"c{i}", "c", f"10.213.0.{100 + i}", "client")
                  for i in range(plan.n_clients)})
    hosts.update({f"att{i}": Host(f"att{i}", "a", f"10.213.0.{180 + i}", "attacker")
                  for i in range(plan.n_attackers)})
    return hosts


@pytest.mark.parametrize("clients", [52, 7])
def test_full_plan_runs_new_attacks_in_the_attack_mixes(clients: int) -> None:
    plan = SC.full_plan(random.Random(1), clients=clients)
    assert plan.zones and "heartbleed" in plan.servers["app"] and "c2tls" in plan.servers["cnc"]
    hosts = plan_hosts(plan)
    for mix in plan.mixes:
        plan.on_mix()
        atks = [f(hosts, random.Random(2)) for _, f in mix.attacks]  # raises if out of hosts
        kinds = Counter(type(a).__name__ for a in atks)
        if mix.name == "benign-busy":
            assert not atks
            continue
        assert set(NEW) <= set(kinds), mix.name
        for a in atks:
            if type(a).__name__ in NEW:
                assert a.family == NEW[type(a).__name__]
                assert a.rules() and all(r.a == [a.attacker.ip] for r in a.rules())
                if a.hidden:  # from a benign user's host: told apart by source port
                    assert a.attacker.role == "client"
                    assert all(r.a_ports == A.ATTACK_SPORTS for r in a.rules())
        # small families: a bounded number of events per mix
        assert sum(kinds[k] for k in NEW) <= 14


def test_full_plan_has_direct_tunnels_and_beacons_that_look_their_c2_up() -> None:
    """The shapes of two shared captures the lab lacked: an iodine client talking to its name
    server directly (one long UDP/53 flow), and hidden TLS beacons that resolve the C2 name
    before each check-in (DNS flows between the beacons, as in test-cc-capture-2.pcap)."""
    plan = SC.full_plan(random.Random(1))
    hosts = plan_hosts(plan)
    for mix in plan.mixes:
        plan.on_mix()
        if not mix.attacks:
            continue
        atks = [f(hosts, random.Random(2)) for _, f in mix.attacks]
        direct = [a for a in atks if a.name == "iodine-direct"]
        assert len(direct) == 2, mix.name
        for a in direct:
            assert a.params["dns"] is hosts["tun"] and a.attacker.role == "attacker"
            assert any(r.b == [SC.FIXED_IPS["tun"]] and r.b_ports == [53] for r in a.rules())
        relayed = [a for a in atks if a.name == "iodine-tunnel"]
        assert [a.params["dns"] for a in relayed] == [hosts["dns"]]
        for a in atks:
            if isinstance(a, A.TlsBeacon):
                assert bool(a.params.get("lookup")) == a.hidden, mix.name


def _serve_pair():
    srv, cli = socket.socketpair()
    t = threading.Thread(target=HB.serve_conn, args=(srv, [b"\x30" * 900, b"\x30" * 700], 1),
                         daemon=True)
    t.start()
    cli.settimeout(2)
    cli.sendall(HB.client_hello(0x0302, random.Random(0)))
    types = []
    while 14 not in types:
        ctype, _, body = HB.read_record(cli)
        assert ctype == HB.HANDSHAKE
        types.append(body[0])
    assert types == [2, 11, 12, 14]  # ServerHello, Certificate, ServerKeyExchange, Done
    return cli, t


def test_ssh_servers_use_pam_and_differ_in_tries_per_connection(tmp_path: Path) -> None:
    """PAM's failed-password delay makes lab brute-force flows last seconds, as real ones do;
    the full plan's two SSH servers allow different numbers of tries per connection."""
    tries = set()
    for name in ("files", "shell"):
        cfg = SV.sshd_config(tmp_path, SC.FIXED_IPS[name], tmp_path / "key").read_text()
        assert "UsePAM yes" in cfg.splitlines()
        tries |= {line.split()[1] for line in cfg.splitlines() if line.startswith("MaxAuthTries")}
    assert len(tries) == 2


def test_simulated_heartbleed_leaks_echoes_and_drops() -> None:
    cli, t = _serve_pair()
    # over-long payload_length: the bug's answer, payload_length bytes (+ 3 + 16 padding)
    cli.sendall(HB.record(HB.HEARTBEAT, 0x0302, struct.pack("!BH", 1, 0x4000)))
    got = 0
    while got < 0x4000 + 19:
        ctype, _, body = HB.read_record(cli)
        assert ctype == HB.HEARTBEAT
        got += len(body)
    assert got == 0x4000 + 19
    # well-formed: echoed
    payload = b"ping" * 4
    cli.sendall(HB.record(HB.HEARTBEAT, 0x0302, struct.pack("!BH", 1, 16) + payload
                          + b"\x00" * 16))
    ctype, _, body = HB.read_record(cli)
    assert ctype == HB.HEARTBEAT and body[0] == 2 and body[3:19] == payload
    # no room for padding: dropped silently (RFC 6520), the Zeek trace's shape
    cli.sendall(HB.record(HB.HEARTBEAT, 0x0302, struct.pack("!BH", 1, 100) + b"x" * 100))
    cli.settimeout(0.5)
    with pytest.raises(socket.timeout):
        HB.read_record(cli)
    cli.close()
    t.join(timeout=5)
    assert not t.is_alive()


def test_heartbleed_tool_refuses_non_lab_addresses(capsys) -> None:
    assert HB.main(["probe", "--host", "8.8.8.8"]) == 2
    assert HB.main(["serve", "--bind", "127.0.0.1", "--cert", "/dev/null"]) == 2


@pytest.mark.slow
def test_lab_probe_runs_and_labels_each_new_attack(tmp_path: Path) -> None:
    skip_unless_lab_can_run()
    out = tmp_path / "lab-data"
    r = subprocess.run([sys.executable, "-m", "scripts.lab", "probe", "--seed", "5",
                        "--out", str(out)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    last = json.loads(r.stdout.strip().splitlines()[-1])
    assert {"botnet", "scan", "exploit", "web_attack"} <= set(last["families"])
    summary = json.loads((out / "probe-seed5" / "summary.json").read_text())
    tools = summary["by_tool"]
    for tool in ("c2-beacon-tls", "c2-post-checkin", "dig-axfr", "heartbleed-sim", "curl-sqli",
                 "nmap"):
        assert tools.get(tool, 0) >= 1, tools
    assert not summary["events_failed"]
    assert lab_namespaces() == []
