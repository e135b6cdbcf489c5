"""Attacks in single packets: DHCP starvation, Heartbleed, attack URIs and HTTP 401 runs."""

from __future__ import annotations

import pytest

from ids_desktop.core.detect.dhcp import STARVATION_CLIENTS
from ids_desktop.core.detect.web import GUESSES_401
from ids_desktop.synth.attack_captures import ATTACKER, CLIENT
from ids_desktop.synth.packet_attack_captures import (
    ORDINARY_URI,
    SPOOFER,
    SQL_INJECTION_URI,
    TLS_SERVER,
    WEB,
    mac_of,
    write_dhcp_starvation,
    write_heartbeat,
    write_http_401s,
    write_http_request,
)
from tests.core.detect import only


@pytest.mark.parametrize("one_sender", [False, True], ids=["dhcpstarv", "yersinia"])
def test_discovers_for_many_hardware_addresses_are_starvation(detect, one_sender: bool) -> None:
    findings = detect(write_dhcp_starvation, clients=STARVATION_CLIENTS, one_sender=one_sender)
    found = only(findings, "dhcp_starvation")
    assert found.family == "dos"
    assert found.targets == ("DHCP server",) and found.ports == (67,)
    if one_sender:
        assert found.sources == (mac_of(SPOOFER),)
        who = f"from MAC {mac_of(SPOOFER)}"
    else:
        assert len(found.sources) == 5
        who = f"from {STARVATION_CLIENTS} sending MACs"
    assert found.summary.startswith(f"{STARVATION_CLIENTS} DHCP lease requests for distinct "
                                    f"client hardware addresses {who} in ")


def test_one_hardware_address_fewer_is_no_starvation(detect) -> None:
    assert detect(write_dhcp_starvation, clients=STARVATION_CLIENTS - 1) == ()


@pytest.mark.parametrize(("claimed", "carried", "record"), [(16365, 16365, 16368), (16384, 0, 3)],
                         ids=["no padding", "no payload"])
def test_a_heartbeat_claiming_more_than_it_carries_is_heartbleed(detect, claimed: int,
                                                                 carried: int, record: int) -> None:
    found = only(detect(write_heartbeat, payload_length=claimed, padding=0, carried=carried),
                 "tls_heartbleed")
    assert found.family == "exploit"
    assert found.sources == (CLIENT,) and found.targets == (TLS_SERVER,) and found.ports == (443,)
    assert len(found.rows) == 1
    assert found.summary.startswith(
        f"{CLIENT} sent {TLS_SERVER}:443 1 heartbeat request claiming {claimed:,} bytes of payload "
        f"in a {record:,}-byte record")
    assert found.summary.endswith(": a Heartbleed (CVE-2014-0160) memory read")


def test_an_honest_heartbeat_with_its_padding_is_no_heartbleed(detect) -> None:
    assert detect(write_heartbeat, payload_length=16365, padding=16) == ()


def test_sql_injection_in_a_uri_is_a_web_attack(detect) -> None:
    found = only(detect(write_http_request, uri=SQL_INJECTION_URI), "web_attack_uri")
    assert found.family == "web_attack"
    assert found.sources == (CLIENT,) and found.targets == (WEB,) and found.ports == (80,)
    assert len(found.rows) == 1
    assert found.summary.startswith(
        f"{CLIENT} sent {WEB}:80 1 HTTP request with attack code in the URI over ")
    assert found.summary.endswith(f", e.g. GET {SQL_INJECTION_URI}")


def test_an_ordinary_request_of_the_same_page_is_no_web_attack(detect) -> None:
    assert detect(write_http_request, uri=ORDINARY_URI) == ()


def test_many_401_answers_are_web_password_guessing(detect) -> None:
    found = only(detect(write_http_401s, answers=GUESSES_401), "http_guessing")
    assert found.family == "brute_force"
    assert found.sources == (ATTACKER,) and found.targets == (WEB,) and found.ports == (80,)
    assert len(found.rows) == 1
    assert found.summary.startswith(f"{ATTACKER} was refused {GUESSES_401} times (HTTP 401) by "
                                    f"{WEB}:80 in ")
    assert found.summary.endswith(": password guessing against a web login")


def test_one_401_fewer_is_no_guessing(detect) -> None:
    assert detect(write_http_401s, answers=GUESSES_401 - 1) == ()
