"""SYN, UDP and ICMP floods and reflection: at the threshold, and just under it."""

from __future__ import annotations

import pytest

from ids_desktop.core.detect.floods import (
    DISTRIBUTED_SOURCES,
    FLOOD_PACKETS,
    REFLECTED_PACKETS,
    REFLECTORS,
    SYN_ATTEMPTS,
    WINDOW_S,
)
from ids_desktop.synth.attack_captures import (
    ATTACKER,
    TARGET,
    write_icmp_flood,
    write_reflection,
    write_syn_flood,
    write_udp_flood,
)
from tests.core.detect import named, only


@pytest.mark.parametrize("sources", [1, SYN_ATTEMPTS])
def test_a_syn_flood_is_found_from_one_source_or_many_spoofed_ones(detect, sources: int) -> None:
    found = only(detect(write_syn_flood, attempts=SYN_ATTEMPTS, sources=sources), "syn_flood")
    assert found.family == ("ddos" if sources >= DISTRIBUTED_SOURCES else "dos")
    assert found.targets == (TARGET,) and found.ports == (80,)
    assert found.extra["sources"] == sources and len(found.rows) == SYN_ATTEMPTS
    if sources == 1:
        assert found.sources == (ATTACKER,)
    else:
        assert len(found.sources) == 5 and all(s.startswith("10.") for s in found.sources)
    who = ATTACKER if sources == 1 else f"{sources:,} sources ("
    assert found.summary.startswith(
        f"{TARGET} received {SYN_ATTEMPTS:,} half-open TCP connections from {who}")
    assert found.summary.endswith(", to port 80")


@pytest.mark.parametrize("sources", [1, SYN_ATTEMPTS - 1])
def test_one_syn_fewer_is_no_flood(detect, sources: int) -> None:
    assert detect(write_syn_flood, attempts=SYN_ATTEMPTS - 1, sources=sources) == ()


def test_a_spoofed_syn_flood_of_an_open_port_is_found(detect) -> None:
    findings = detect(write_syn_flood, attempts=SYN_ATTEMPTS, sources=SYN_ATTEMPTS, answer="synack")
    assert only(findings, "syn_flood").family == "ddos"


def test_a_udp_flood_is_found(detect) -> None:
    found = only(detect(write_udp_flood, packets=FLOOD_PACKETS), "udp_flood")
    assert found.family == "dos"
    assert found.sources == (ATTACKER,) and found.targets == (TARGET,) and found.ports == (9999,)
    assert found.summary.startswith(
        f"{TARGET} received {FLOOD_PACKETS:,} unanswered UDP packets from {ATTACKER} in ")
    assert found.summary.endswith(", to port 9999")


def test_one_udp_packet_fewer_is_no_flood(detect) -> None:
    assert detect(write_udp_flood, packets=FLOOD_PACKETS - 1) == ()


def test_an_icmp_flood_is_found(detect) -> None:
    found = only(detect(write_icmp_flood, packets=FLOOD_PACKETS), "icmp_flood")
    assert found.family == "dos"
    assert found.sources == (ATTACKER,) and found.targets == (TARGET,)
    assert found.summary.startswith(
        f"{TARGET} received {FLOOD_PACKETS:,} ICMP packets from {ATTACKER} in 20 s")


def test_one_icmp_packet_fewer_is_no_flood(detect) -> None:
    assert detect(write_icmp_flood, packets=FLOOD_PACKETS - 1) == ()


def test_an_icmp_flood_names_no_port(detect) -> None:
    found = only(detect(write_icmp_flood, packets=FLOOD_PACKETS), "icmp_flood")
    assert found.ports == () and "port" not in found.summary


@pytest.mark.parametrize("write", [write_udp_flood, write_icmp_flood])
def test_the_threshold_spread_over_twice_the_window_is_no_flood(detect, write) -> None:
    assert detect(write, packets=FLOOD_PACKETS, seconds=2 * WINDOW_S) == ()


def test_replies_nobody_asked_for_from_many_reflectors_are_reflection(detect) -> None:
    findings = detect(write_reflection, reflectors=REFLECTORS, packets=REFLECTED_PACKETS)
    (found,) = named(findings, "reflection")
    assert found.family == "dos" and found.targets == (TARGET,)
    assert found.extra["sources"] == REFLECTORS and len(found.sources) == 5
    assert found.summary.startswith(
        f"{TARGET} received {REFLECTED_PACKETS:,} unsolicited replies from {REFLECTORS} sources (")


def test_one_reflector_fewer_is_no_reflection(detect) -> None:
    findings = detect(write_reflection, reflectors=REFLECTORS - 1, packets=REFLECTED_PACKETS)
    assert named(findings, "reflection") == []


def test_reflection_is_not_also_a_port_scan(detect) -> None:
    findings = detect(write_reflection, reflectors=REFLECTORS, packets=REFLECTED_PACKETS)
    assert only(findings, "reflection")
