"""DNS tunnels, exfiltration in names and zone transfers, each beside its near miss."""

from __future__ import annotations

import re

from ids_desktop.core.detect.dns import DATA_LABEL_CHARS, EXFIL_NAMES, TUNNEL_PACKETS
from ids_desktop.synth.attack_captures import (
    ATTACKER,
    CLIENT,
    DNS_A,
    EXFIL_DOMAIN,
    NAME_SERVER,
    RESOLVER,
    ZONE,
    write_dns_exfiltration,
    write_dns_tunnel,
    write_zone_transfer,
)
from tests.core.detect import only


def test_one_long_dns_conversation_is_a_tunnel(detect) -> None:
    found = only(detect(write_dns_tunnel, queries=TUNNEL_PACKETS // 2), "dns_tunnel")
    assert found.family == "backdoor"
    assert found.sources == (CLIENT,) and found.targets == (RESOLVER,) and found.ports == (53,)
    assert len(found.rows) == 1
    assert found.summary.startswith(f"{CLIENT} kept one DNS conversation with {RESOLVER} for ")
    assert f": {TUNNEL_PACKETS} packets, " in found.summary
    assert f", names under {EXFIL_DOMAIN}; " in found.summary


def test_one_packet_fewer_is_no_tunnel(detect) -> None:
    half = TUNNEL_PACKETS // 2
    assert detect(write_dns_tunnel, queries=half, answers=TUNNEL_PACKETS - 1 - half) == ()


def test_many_encoded_names_under_one_domain_are_exfiltration(detect) -> None:
    findings = detect(write_dns_exfiltration, names=EXFIL_NAMES, label_chars=DATA_LABEL_CHARS)
    found = only(findings, "dns_exfiltration")
    assert found.family == "infiltration"
    assert found.sources == (CLIENT,) and found.targets == (RESOLVER,) and found.ports == (53,)
    assert len(found.rows) == EXFIL_NAMES
    assert found.summary.startswith(
        f"{CLIENT} asked for {EXFIL_NAMES} encoded-looking names under {EXFIL_DOMAIN} in ")
    assert found.summary.endswith(
        f" ({EXFIL_NAMES * DATA_LABEL_CHARS:,} characters of data in their first labels)")


def test_many_ordinary_names_under_one_domain_are_no_exfiltration(detect) -> None:
    assert detect(write_dns_exfiltration, names=EXFIL_NAMES + 10, encoded=False) == ()


def test_an_axfr_question_over_tcp_is_a_zone_transfer(detect) -> None:
    found = only(detect(write_zone_transfer), "zone_transfer")
    assert found.family == "scan"
    assert found.sources == (ATTACKER,) and found.targets == (NAME_SERVER,) and found.ports == (53,)
    assert len(found.rows) == 1
    assert re.fullmatch(rf"{ATTACKER} asked {NAME_SERVER} for a zone transfer \(AXFR\) of {ZONE} "
                        r"and received [\d,]+ bytes: the list of the zone's names and addresses",
                        found.summary), found.summary


def test_an_ordinary_question_over_tcp_is_no_zone_transfer(detect) -> None:
    assert detect(write_zone_transfer, qtype=DNS_A) == ()


def test_a_flow_table_without_packets_finds_exfiltration_from_its_names(tmp_path) -> None:
    """A flow table has no DNS questions, only each flow's requested name: the same finding
    comes from those (``detect(view, None)``), and ordinary names give none."""
    from ids_desktop.core.detect import dns
    from ids_desktop.core.detect.flows import FlowView
    from ids_desktop.core.ingest import ingest

    def findings(**kw: object) -> list:
        path = write_dns_exfiltration(tmp_path / "x.pcap", names=EXFIL_NAMES + 5, **kw)
        return dns.detect(FlowView(ingest(path).frame), None)

    found = only(tuple(findings(label_chars=DATA_LABEL_CHARS)), "dns_exfiltration")
    assert found.family == "infiltration" and found.ports == (53,)
    assert re.match(rf"\S+ asked for {EXFIL_NAMES + 5} encoded-looking names under "
                    rf"{re.escape(EXFIL_DOMAIN)} in ", found.summary)
    assert findings(encoded=False) == []
