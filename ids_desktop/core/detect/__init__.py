"""Host-level detectors beside the model: what no single flow shows, or what lives in one packet.

Each detector reads the flow table (and, for captures, the packet facts the container walk
kept: :class:`~ids_desktop.core.ingest.packets.PacketFacts` and the ARP claims) and returns
:class:`~ids_desktop.core.detect.finding.Finding` objects: the detector, the family, who acted
on whom, the time span, the flows covered and one sentence with the numbers.

======================  ===============  ==================================================
detector                family           module (thresholds and their pedigree there)
======================  ===============  ==================================================
port_scan, host_sweep,  scan             :mod:`.scans` (Zeek's scan policy)
ping_sweep
stealth_scan            scan             :mod:`.scans` (Snort's NULL, FIN, SYN FIN, XMAS rules)
ssh_guessing, ...       brute_force      :mod:`.guessing` (Zeek's SSH and FTP policies)
http_guessing           brute_force      :mod:`.web`
syn_flood, udp_flood,   dos / ddos       :mod:`.floods`
icmp_flood, reflection
beacon                  botnet           :mod:`.beacons` (RITA's dispersion measure)
dns_tunnel              backdoor         :mod:`.dns`
dns_exfiltration        infiltration     :mod:`.dns`
zone_transfer           scan             :mod:`.dns`
arp_spoofing            mitm             :mod:`.arp` (arpwatch's flip flop and more)
arp_scan                scan             :mod:`.arp`
dhcp_starvation         dos              :mod:`.dhcp`
tls_heartbleed          exploit          :mod:`.tls` (Zeek's heartbleed policy)
web_attack_uri          web_attack       :mod:`.web` (Zeek's and Suricata's URI checks)
======================  ===============  ==================================================
"""

from __future__ import annotations

from ids_desktop.core.detect import arp, beacons, dhcp, dns, floods, guessing, scans, tls, web
from ids_desktop.core.detect.finding import Finding
from ids_desktop.core.detect.flows import FlowView
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.tasks import Cancel, check_cancel

__all__ = ["Finding", "detect_all"]


def detect_all(result: IngestResult, *, cancel: Cancel | None = None) -> tuple[Finding, ...]:
    """Every detector's findings in one ingested file, in time order."""
    view = FlowView(result.frame)
    facts = result.packets
    out: list[Finding] = []
    for flow_check in (scans.detect, guessing.detect, floods.detect, beacons.detect):
        check_cancel(cancel)
        out += flow_check(view)
    check_cancel(cancel)
    out += dns.detect(view, None if facts is None else facts.dns)
    if facts is not None:
        out += tls.detect(facts.heartbeats, view)
        out += web.detect(facts.http, facts.http_401, view)
        out += dhcp.detect(facts.dhcp, view)
    out += arp.detect(result.arp, view)
    return tuple(sorted(out, key=lambda f: (f.first_seen, f.detector)))
