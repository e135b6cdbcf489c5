"""ARP spoofing and ARP scans, and the ordinary address changes that look like spoofing."""

from __future__ import annotations

import pytest

from ids_desktop.core.detect.arp import SCAN_TARGETS
from ids_desktop.synth.packet_attack_captures import (
    GATEWAY,
    SPOOFER,
    VICTIM,
    mac_of,
    write_arp_multihomed,
    write_arp_renumbering,
    write_arp_scan,
    write_arp_spoofing,
    write_proxy_arp,
)
from ids_desktop.synth.packets import BASE_TIME
from tests.core.detect import only


def test_unsolicited_replies_claiming_the_gateway_are_spoofing(detect) -> None:
    found = only(detect(write_arp_spoofing, replies=10, flows_after=3), "arp_spoofing")
    assert found.family == "mitm"
    assert found.sources == (mac_of(SPOOFER),) and found.targets == (VICTIM,)
    assert found.first_seen == BASE_TIME + 10  # the first reply the victim had not asked for
    assert len(found.rows) == 3  # the victim's flows after it, not the two before
    assert found.summary.startswith(
        f"MAC {mac_of(SPOOFER)} sent {VICTIM} unsolicited ARP replies claiming {GATEWAY}, which "
        f"{mac_of(GATEWAY)} had claimed (from 2023-11-14 22:13:30 UTC); ")
    assert found.summary.endswith(
        f"3 flows of {VICTIM} ran after that and may have passed through it")


@pytest.mark.parametrize("write", [write_arp_renumbering, write_arp_multihomed, write_proxy_arp],
                         ids=["link-local to lease", "two addresses", "proxy ARP"])
def test_ordinary_address_changes_are_no_spoofing(detect, write) -> None:
    assert detect(write) == ()


def test_asking_for_many_addresses_is_an_arp_scan(detect) -> None:
    found = only(detect(write_arp_scan, targets=SCAN_TARGETS, answered=5), "arp_scan")
    assert found.family == "scan"
    assert found.sources == (mac_of(SPOOFER),)
    assert found.target_count == SCAN_TARGETS and len(found.targets) == 20
    assert len(found.rows) == 0  # below IP: no flow
    assert found.summary.startswith(
        f"MAC {mac_of(SPOOFER)} asked over ARP for {SCAN_TARGETS} addresses (192.168.1.1, ")
    assert found.summary.endswith(": a host discovery scan of the local network")


def test_one_address_fewer_is_no_arp_scan(detect) -> None:
    assert detect(write_arp_scan, targets=SCAN_TARGETS - 1) == ()
