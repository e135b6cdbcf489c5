"""The link layer of a packet record: link-type names, which link types nfstream decodes,
and the packets its parser drops silently (zero-length IPv4, later fragments, ARP).

:func:`~ids_desktop.core.ingest.pcapfile.walk_capture` classes every record it walks with
:func:`unmetered` and keeps the ARP claims :func:`arp_claim` reads.
"""

from __future__ import annotations

from ids_desktop.core.ingest.packets import PacketFacts, inspect_ipv4

#: Link-type names (LINKTYPE_* values as written in files) for messages.
LINKTYPE_NAMES: dict[int, str] = {
    0: "NULL, BSD loopback",
    1: "EN10MB, Ethernet",
    3: "AX25",
    6: "IEEE802_5, Token Ring",
    7: "ARCNET_BSD",
    8: "SLIP",
    9: "PPP",
    10: "FDDI",
    12: "RAW, raw IP",
    14: "RAW, raw IP, OpenBSD numbering",
    50: "PPP_HDLC",
    51: "PPP_ETHER, PPPoE",
    100: "ATM_RFC1483",
    101: "RAW, raw IP",
    104: "C_HDLC, Cisco HDLC",
    105: "IEEE802_11, Wi-Fi without radio header",
    107: "FRELAY",
    108: "LOOP, OpenBSD loopback",
    113: "LINUX_SLL, Linux cooked capture",
    119: "PRISM_HEADER, Wi-Fi",
    127: "IEEE802_11_RADIOTAP, Wi-Fi with radiotap",
    143: "DOCSIS",
    163: "IEEE802_11_AVS, Wi-Fi",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    192: "PPI",
    195: "IEEE802_15_4, ZigBee",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    215: "IEEE802_15_4_NOFCS",
    220: "USB_LINUX_MMAPPED",
    228: "IPV4, raw IPv4",
    229: "IPV6, raw IPv6",
    249: "USBPCAP",
    253: "NETLINK",
    276: "LINUX_SLL2, Linux cooked capture v2",
    290: "ETW",
}
for _user in range(16):
    LINKTYPE_NAMES[147 + _user] = f"USER{_user} (private use)"

#: Link types nfstream 6.6's packet parser decodes (its engine's datalink switch: NULL,
#: Ethernet, PPP, PPP_HDLC, C_HDLC, raw IP in its three numberings, Linux SLL, radiotap, IPV4,
#: IPV6). Anything else yields no flows: every packet is silently ignored.
NFSTREAM_LINKTYPES: frozenset[int] = frozenset({0, 1, 9, 12, 50, 101, 104, 113, 127, 228, 229})


#: Link type -> offset of the EtherType (-1: raw IP, the version nibble says which).
ETHERTYPE_AT = {1: 12, 113: 14, 12: -1, 14: -1, 101: -1, 228: -1}
#: ``unmetered`` results.
ZERO_LENGTH_IP, LATER_FRAGMENT, ARP = 1, 2, 3


def unmetered(buf: bytes, at: int, incl: int, linktype: int, ts: float = 0.0,
              facts: PacketFacts | None = None) -> int:
    """Whether nfstream's packet parser drops this packet silently, and why.

    Returns :data:`ZERO_LENGTH_IP` for an IPv4 packet whose total length is 0 (a sender with
    TCP segmentation offload hands the capture one large frame before the NIC splits it),
    :data:`LATER_FRAGMENT` for an IPv4 fragment other than the first, :data:`ARP` for an ARP
    packet (never in a flow either; :func:`arp_claim` reads it), else 0. Neither IPv4 kind is
    counted in any flow (``tests/core/ingest/test_capture_fidelity.py`` pins both).

    ``buf[at : at + incl]`` is the captured packet; one VLAN tag is looked through. With
    ``facts``, an IPv4 packet nfstream meters is also read for the detectors
    (:func:`~ids_desktop.core.ingest.packets.inspect_ipv4`), here where its header was found.
    """
    et_at = ETHERTYPE_AT.get(linktype)
    if et_at is None:
        return 0
    if et_at < 0:
        ip = at
        if incl < 20 or buf[ip] >> 4 != 4:
            return 0
    else:
        ip = at + et_at + 2
        ethertype = buf[at + et_at] << 8 | buf[at + et_at + 1] if incl >= et_at + 2 else 0
        if ethertype in (0x8100, 0x88A8) and incl >= et_at + 6:
            ethertype = buf[at + et_at + 4] << 8 | buf[at + et_at + 5]
            ip += 4
        if ethertype == 0x0806:
            return ARP
        if ethertype != 0x0800 or ip + 8 > at + incl:
            return 0
    if buf[ip + 2] == 0 and buf[ip + 3] == 0:
        return ZERO_LENGTH_IP
    if (buf[ip + 6] & 0x1F) or buf[ip + 7]:
        return LATER_FRAGMENT
    if facts is not None and ip + 20 <= at + incl and buf[ip] >> 4 == 4:
        inspect_ipv4(buf, ip, at + incl, ts, facts, at if et_at == 12 else -1)
    return 0


def arp_claim(
    buf: bytes, at: int, incl: int, linktype: int
) -> tuple[int, str, str, str, str] | None:
    """``(opcode, sender MAC, sender IPv4, target MAC, target IPv4)`` of an Ethernet/IPv4 ARP
    packet that :func:`unmetered` classed as :data:`ARP`; ``None`` for any other ARP (other
    hardware or protocol types, or cut short by the snapshot length)."""
    et_at = ETHERTYPE_AT[linktype]
    arp = at + et_at + 2
    if buf[at + et_at] << 8 | buf[at + et_at + 1] != 0x0806:  # behind a VLAN tag
        arp += 4
    if arp + 28 > at + incl or buf[arp + 2 : arp + 6] != b"\x08\x00\x06\x04":
        return None
    op = buf[arp + 6] << 8 | buf[arp + 7]
    body = buf[arp + 8 : arp + 28]
    return (op, body[0:6].hex(":"), ".".join(map(str, body[6:10])),
            body[10:16].hex(":"), ".".join(map(str, body[16:20])))


def linktype_name(linktype: int) -> str:
    """``"276 (LINUX_SLL2, Linux cooked capture v2)"``-style label for messages."""
    name = LINKTYPE_NAMES.get(linktype)
    return f"{linktype} ({name})" if name else f"{linktype} (unknown)"
