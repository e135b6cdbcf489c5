"""Port scans, TCP host sweeps and ping sweeps: at the threshold, just under it, and look-alikes."""

from __future__ import annotations

import pandas as pd

from ids_desktop.core.detect.flows import FlowView
from ids_desktop.core.detect.scans import (
    PING_SWEEP_HOSTS,
    PORT_SCAN_PORTS,
    SWEEP_HOSTS,
    stealth_kinds,
)
from ids_desktop.synth.attack_captures import (
    ATTACKER,
    STEALTH_FLAGS,
    TARGET,
    write_busy_client,
    write_host_sweep,
    write_ping_sweep,
    write_port_scan,
    write_reflection,
    write_stealth_scan,
    write_traceroute,
)
from tests.core.detect import named, only


def test_a_port_scan_answered_by_resets_is_found(detect) -> None:
    found = only(detect(write_port_scan, ports=PORT_SCAN_PORTS), "port_scan")
    assert found.family == "scan"
    assert found.sources == (ATTACKER,) and found.targets == (TARGET,)
    assert found.port_count == PORT_SCAN_PORTS and len(found.rows) == PORT_SCAN_PORTS
    assert found.summary.startswith(
        f"{ATTACKER} probed {PORT_SCAN_PORTS} TCP ports on {TARGET} in ")
    assert found.summary.endswith(f"{PORT_SCAN_PORTS} got a reset, 0 an answer")


def test_one_port_fewer_is_no_scan(detect) -> None:
    assert detect(write_port_scan, ports=PORT_SCAN_PORTS - 1) == ()


def test_a_busy_client_whose_connections_all_succeed_scans_nothing(detect) -> None:
    assert detect(write_busy_client, ports=PORT_SCAN_PORTS + 5, hosts=SWEEP_HOSTS + 5) == ()


def test_a_host_sweep_nobody_answers_is_found(detect) -> None:
    found = only(detect(write_host_sweep, hosts=SWEEP_HOSTS, port=445), "host_sweep")
    assert found.family == "scan"
    assert found.sources == (ATTACKER,) and found.ports == (445,)
    assert found.target_count == SWEEP_HOSTS and found.targets[0] == "192.168.30.1"
    assert found.summary.startswith(f"{ATTACKER} tried TCP port 445 on {SWEEP_HOSTS} hosts (")
    assert found.summary.endswith("; 0 answered")


def test_one_host_fewer_is_no_sweep(detect) -> None:
    assert detect(write_host_sweep, hosts=SWEEP_HOSTS - 1) == ()


def test_a_ping_sweep_is_found(detect) -> None:
    found = only(detect(write_ping_sweep, hosts=PING_SWEEP_HOSTS, answered=5), "ping_sweep")
    assert found.family == "scan"
    assert found.sources == (ATTACKER,) and found.ports == ()
    assert found.target_count == PING_SWEEP_HOSTS and len(found.rows) == PING_SWEEP_HOSTS
    assert found.summary.startswith(f"{ATTACKER} pinged {PING_SWEEP_HOSTS} hosts (")
    assert found.summary.endswith("; 5 answered")


def test_pinging_one_host_fewer_is_no_sweep(detect) -> None:
    assert detect(write_ping_sweep, hosts=PING_SWEEP_HOSTS - 1) == ()


def test_a_traceroute_is_no_port_scan(detect) -> None:
    assert detect(write_traceroute, hops=PORT_SCAN_PORTS // 3 + 1) == ()


def test_port_unreachable_answers_to_many_hosts_are_no_ping_sweep(detect) -> None:
    hosts = PING_SWEEP_HOSTS + 5
    findings = detect(write_reflection, reflectors=hosts, packets=10 * hosts, unreachable=2 * hosts)
    assert named(findings, "ping_sweep") == []


def test_nmap_os_detection_probes_are_a_stealth_scan(detect) -> None:
    found = only(detect(write_stealth_scan), "stealth_scan")
    assert found.family == "scan"
    assert found.sources == (ATTACKER,) and found.targets == (TARGET,)
    assert len(found.rows) == 3 and found.port_count == 2
    assert found.summary.startswith(
        f"{ATTACKER} sent 3 TCP probes with flags no connection uses (1 NULL, 1 Xmas, "
        f"1 SYN+FIN) to 2 ports of {TARGET} in ")


def test_a_null_scan_is_found_though_it_sends_no_syn(detect) -> None:
    found = only(detect(write_stealth_scan, kinds=("NULL",), ports=tuple(range(20, 60))),
                 "stealth_scan")
    assert found.port_count == 40 and "(40 NULL)" in found.summary


def test_one_odd_packet_alone_is_no_scan(detect) -> None:
    for kind in STEALTH_FLAGS:
        assert detect(write_stealth_scan, kinds=(kind,), ports=(80,)) == ()


def test_a_dataset_table_without_flag_counters_has_no_stealth_probes() -> None:
    view = FlowView(pd.DataFrame({"protocol": [6, 6], "src_ip": ["a", "a"], "dst_ip": ["b", "b"],
                                  "src_port": [1, 2], "dst_port": [3, 4],
                                  "src2dst_packets": [1, 1]}))
    assert list(stealth_kinds(view)) == ["", ""]


def test_odd_probes_from_many_sources_make_one_finding_not_one_each() -> None:
    from ids_desktop.core.detect.scans import STEALTH_MAX_SOURCES, _stealth_scans

    n = 2 * (STEALTH_MAX_SOURCES + 10)
    frame = pd.DataFrame({
        "src_ip": [f"198.51.100.{i // 2}" for i in range(n)], "dst_ip": TARGET,
        "src_port": [40000 + i for i in range(n)], "dst_port": [1 + i for i in range(n)],
        "protocol": 6, "first_seen": [i / 10 for i in range(n)],
        "last_seen": [i / 10 for i in range(n)], "src2dst_packets": 1,
        **{f"src2dst_{f}_packets": 0 for f in ("syn", "fin", "psh", "urg", "ack", "rst", "ece",
                                               "cwr")},
    })
    (found,) = _stealth_scans(FlowView(frame))
    assert len(found.rows) == n and len(found.sources) == 10
    assert found.summary.startswith(f"{STEALTH_MAX_SOURCES + 10} sources (198.51.100.0, ")
