"""One dictionary of readable names: flow-table columns and model features as words with units.

The flows table's headers, the explanation charts and sentences, the PDF and the CSV read
their names here, so "server → client RST packets" means the same column everywhere.

- :func:`label` is a column's header, with its unit: ``"duration (ms)"``,
  ``"server → client RST packets"``, ``"P(attack)"``.
- :func:`term` is the same name without the unit, for conditions whose value carries it
  (``"duration ≤ 3 ms"``, ``"server → client RST packets ≥ 1"``).
- :func:`value_text` turns a code into words where the column has a vocabulary: protocol
  numbers as TCP/UDP/ICMP.

nfstream's ``src2dst``/``dst2src`` are read as client → server and server → client: nfstream's
source is the host that sent the flow's first packet.
"""

from __future__ import annotations

import re

from ids_desktop.core.ingest.flowtable import SIDES, TCP_FLAGS

__all__ = [
    "IDENTITY_COLUMNS",
    "PROTOCOL_NAMES",
    "is_model_feature",
    "label",
    "protocol_name",
    "term",
    "unit",
    "value_text",
]

#: IANA protocol numbers as people write them (Suricata's EVE ``proto`` names).
PROTOCOL_NAMES: dict[int, str] = {
    1: "ICMP", 2: "IGMP", 6: "TCP", 17: "UDP", 41: "IPv6", 47: "GRE", 50: "ESP", 51: "AH",
    58: "IPv6-ICMP", 89: "OSPF", 103: "PIM", 112: "VRRP", 132: "SCTP",
}

#: Columns that are not model features: identity, labels, verdicts, nDPI's text.
_COLUMNS: dict[str, str] = {
    "flow_id": "flow id",
    "community_id": "Community ID",
    "src_ip": "source",
    "src_port": "source port",
    "dst_ip": "destination",
    "dst_port": "destination port",
    "protocol": "protocol",
    "first_seen": "first seen (UTC)",
    "last_seen": "last seen (UTC)",
    "application": "application",
    "label_binary": "label: attack?",
    "label_class": "label: family",
    "label_original": "label as written",
    "pred_class": "verdict",
    "pred_score": "P(attack)",
    "anomaly_score": "anomaly score",
    "flagged": "flagged",
    "severity": "severity",
    "flagged_by": "flagged by",
    "finding": "detector finding",
    "incident_id": "incident",
    "explanation": "explanation",
    "requested_server_name": "server name (SNI/Host)",
    "user_agent": "HTTP user agent",
    "content_type": "content type",
    "client_fingerprint": "client TLS fingerprint",
    "server_fingerprint": "server TLS fingerprint",
    "application_category_name": "application category",
    "application_is_guessed": "application guessed",
    "application_confidence": "application detection confidence",
    "expiration_id": "flow end reason",
    "ip_version": "IP version",
    "vlan_id": "VLAN id",
    "tunnel_id": "tunnel id",
}
#: Columns shown as the table opens; the rest (the model features, ids) are one click away.
IDENTITY_COLUMNS = frozenset(
    {"flow_id", "community_id", "src_ip", "src_port", "dst_ip", "dst_port", "protocol",
     "first_seen", "last_seen", "application", "label_binary", "label_class", "label_original",
     "pred_class", "pred_score", "anomaly_score", "flagged", "severity", "flagged_by",
     "finding", "incident_id", "requested_server_name", "user_agent"}
)

#: Model-input terms with their units: (term, unit or "").
_TERMS: dict[str, tuple[str, str]] = {
    "ctx_gap": ("gap since the host's previous flow", "s"),
    "ctx_peer_gap": ("gap since the host's previous flow to this address", "s"),
    "ctx_peer_prev_gap": ("the gap before that one to this address", "s"),
    # BEHAVIOUR_WINDOW = 16 flows (ids_desktop.core.model.sequences.behaviour)
    "ctx_port_changes": ("port changes in the host's last 16 flows", ""),
    "ctx_host_changes": ("address changes in the host's last 16 flows", ""),
    "ctx_failed": ("failed connections in the host's last 16 flows", ""),
    "ctx_repeats": ("flows to this address and port in the host's last 16", ""),
    "dur": ("duration", "s"),
    "duration": ("duration", "s"),
}

_SIDES = {"bidirectional": "", "src2dst": "client → server ", "dst2src": "server → client "}
_STATS: dict[str, tuple[str, str]] = {
    "duration_ms": ("duration", "ms"),
    "packets": ("packets", ""),
    "bytes": ("bytes", ""),
    "min_ps": ("smallest packet", "bytes"),
    "mean_ps": ("mean packet size", "bytes"),
    "stddev_ps": ("packet size std dev", "bytes"),
    "max_ps": ("largest packet", "bytes"),
    "min_piat_ms": ("shortest gap between packets", "ms"),
    "mean_piat_ms": ("mean gap between packets", "ms"),
    "stddev_piat_ms": ("std dev of gaps between packets", "ms"),
    "max_piat_ms": ("longest gap between packets", "ms"),
}
_NFSTREAM = re.compile(rf"^({'|'.join(SIDES)})_(.+)$")
_FLAG = re.compile(rf"^({'|'.join(TCP_FLAGS)})_packets$")
#: CIC-style time features in microseconds (CICFlowMeter's unit).
_CIC_TIME = ("Duration", "IAT", "Active", "Idle")


def _split(name: str) -> tuple[str, str]:
    """``(term, unit)`` of a column or feature name ("" when it has no unit)."""
    if name in _TERMS:
        return _TERMS[name]
    if name in _COLUMNS:
        return _COLUMNS[name], ""
    if name.endswith("__missing"):
        return f"{_split(name[: -len('__missing')])[0]} missing", ""
    match = _NFSTREAM.match(name)
    if match:
        side, stat = _SIDES[match.group(1)], match.group(2)
        flag = _FLAG.match(stat)
        if flag:
            return f"{side}{flag.group(1).upper()} packets", ""
        if stat in _STATS:
            words, unit_ = _STATS[stat]
            return f"{side}{words}", unit_
    if name.endswith("_ms"):
        return name[:-3].replace("_", " "), "ms"
    if any(part in name for part in _CIC_TIME) and " " in name:
        return name, "µs"
    return name.replace("_", " ") if "_" in name and " " not in name else name, ""


def term(name: str) -> str:
    """The name in words without its unit (for conditions: ``"duration ≤ 3 ms"``)."""
    return _split(name)[0]


def unit(name: str) -> str:
    """The unit of a column or feature (``"ms"``, ``"µs"``, ``"s"``, ``"bytes"``), or ``""``."""
    return _split(name)[1]


def label(name: str) -> str:
    """The name in words with its unit, for headers: ``"server → client RST packets"``,
    ``"duration (ms)"``."""
    words, unit_ = _split(name)
    return f"{words} ({unit_})" if unit_ else words


def is_model_feature(name: str) -> bool:
    """Whether a flows-table column is a model feature (hidden until asked for), not one of
    the identity, label, verdict or text columns."""
    return name not in IDENTITY_COLUMNS and name not in _COLUMNS


def protocol_name(number: object) -> str:
    """``6`` -> ``"TCP"``; an unknown number as itself; missing as ``""``."""
    try:
        n = int(number)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "" if number is None else str(number)
    return PROTOCOL_NAMES.get(n, str(n))


def value_text(column: str, value: object) -> str:
    """A category value in words where the column has a vocabulary (protocols), else as is."""
    if column == "protocol":
        return protocol_name(value)
    return str(value)
