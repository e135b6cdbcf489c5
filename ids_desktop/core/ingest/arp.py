"""ARP spoofing in a capture, and the flows it may have put a man in the middle of.

nfstream meters IP flows only, so ARP poisoning (an L2 attack) leaves nothing in a flow's
features: the victim's flows look as they always do, they just travel through the attacker's
machine. The container walk (:func:`~ids_desktop.core.ingest.pcapfile.walk_capture`) keeps the
capture's ARP packets; this module reads them for two signs of spoofing (the second is
``arpwatch``'s "changed ethernet address"):

- one MAC address claims two or more IPv4 addresses (as an ARP sender), or
- an IPv4 address another MAC claimed earlier in the capture is claimed by a new MAC.

Such a MAC is a *spoofer*. Its claims were addressed to *victims* (the ARP target addresses;
every host when it announced to itself, a gratuitous ARP). A victim's flow with a packet at or
after the spoofer's first claim may have been relayed by it; the flow gets an ``arp_note``
that says why, and :func:`ids_desktop.core.analysis.analyze` flags it as ``mitm``.

Address 0.0.0.0 (an ARP probe before an address is taken, RFC 5227) claims nothing. A host
that legitimately changes its address (DHCP renumbering) or a proxy-ARP router looks the same
as a spoofer to this rule: the note names the MAC and the addresses, so an analyst can tell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd

#: The flow column holding the reason a flow may have been relayed by a spoofer.
NOTE_COLUMN = "arp_note"
#: The family of a flow flagged by this check.
FAMILY = "mitm"
#: A victim set meaning every host (the spoofer announced to itself: gratuitous ARP).
EVERY_HOST = "*"

Claim = tuple[float, int, str, str, str, str]  # time, opcode, sender MAC, IP, target MAC, IP


@dataclass(frozen=True)
class Spoof:
    """A MAC address whose ARP claims conflict.

    Attributes
    ----------
    mac
        The spoofer's MAC address.
    claimed
        The IPv4 addresses it claimed, in the order first claimed.
    taken_from
        Claimed address -> the MAC address that had claimed it before, when any did.
    victims
        The addresses its ARP packets were sent to (:data:`EVERY_HOST` for a gratuitous one).
    since
        Time (seconds since the epoch) of its first claim.
    """

    mac: str
    claimed: tuple[str, ...]
    taken_from: dict[str, str]
    victims: tuple[str, ...]
    since: float

    def describe(self) -> str:
        """One sentence: who claimed what, and since when."""
        claims = _and(self.claimed)
        why = [f"MAC {self.mac} claimed {claims} over ARP"]
        why += [f"{ip} had been claimed by {old}" for ip, old in self.taken_from.items()]
        when = datetime.fromtimestamp(self.since, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"{'; '.join(why)} (from {when})"


def find_spoofing(claims: Iterable[Claim]) -> list[Spoof]:
    """The MAC addresses whose ARP claims conflict (see the module docstring), in the order
    of their first claim."""
    owner: dict[str, str] = {}  # IP -> the first MAC that claimed it
    claimed: dict[str, list[str]] = {}  # MAC -> IPs in claim order
    taken: dict[str, dict[str, str]] = {}  # MAC -> {IP: the MAC that had it before}
    targets: dict[str, list[str]] = {}
    first: dict[str, float] = {}
    for ts, _op, mac, ip, _tmac, tip in sorted(claims, key=lambda c: c[0]):
        if ip == "0.0.0.0" or mac in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
            continue  # an address probe claims nothing
        first.setdefault(mac, ts)
        ips = claimed.setdefault(mac, [])
        if ip not in ips:
            ips.append(ip)
        previous = owner.setdefault(ip, mac)
        if previous != mac:
            taken.setdefault(mac, {}).setdefault(ip, previous)
        victim = EVERY_HOST if tip == ip else tip
        if victim != "0.0.0.0" and victim not in targets.setdefault(mac, []):
            targets[mac].append(victim)
    spoofs = [
        Spoof(mac, tuple(ips), dict(taken.get(mac, {})), tuple(targets.get(mac, [])), first[mac])
        for mac, ips in claimed.items()
        if len(ips) > 1 or taken.get(mac)
    ]
    return sorted(spoofs, key=lambda s: s.since)


def relayed_notes(frame: pd.DataFrame, spoofs: list[Spoof]) -> pd.Series:
    """Per flow of ``frame`` (canonical capture flows): why it may have been relayed by a
    spoofer, or missing. A flow qualifies when one of its endpoints is a victim (any flow, for
    a gratuitous claim) and its last packet came at or after the spoofer's first claim."""
    notes = pd.Series(pd.NA, index=frame.index, dtype="string")
    if not spoofs or frame.empty:
        return notes
    src = frame["src_ip"].astype("string").fillna("").to_numpy(dtype=object)
    dst = frame["dst_ip"].astype("string").fillna("").to_numpy(dtype=object)
    last = frame["last_seen"].to_numpy(dtype="float64", na_value=np.nan)
    for spoof in reversed(spoofs):  # the earliest spoofer's note wins where they overlap
        if EVERY_HOST in spoof.victims:
            near = np.ones(len(frame), dtype=bool)
        else:
            near = np.isin(src, list(spoof.victims)) | np.isin(dst, list(spoof.victims))
        hit = near & (last >= spoof.since)
        if hit.any():
            victims = "every host" if EVERY_HOST in spoof.victims else _and(spoof.victims)
            notes[hit] = (f"ARP check: {spoof.describe()}, and sent those claims to {victims}; "
                          "this flow ran after that, so its packets may have passed through that "
                          "machine (a man in the middle).")
    return notes


def with_notes(frame: pd.DataFrame, spoofs: list[Spoof]) -> pd.DataFrame:
    """``frame`` with the :data:`NOTE_COLUMN` of :func:`relayed_notes`, or ``frame`` itself
    when no spoofer was found (a clean capture's flows get no such column)."""
    return frame.assign(**{NOTE_COLUMN: relayed_notes(frame, spoofs)}) if spoofs else frame


def _and(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
