"""JSON Lines alerts in Suricata EVE style, so SIEMs (Elastic, Splunk, ...) ingest them as is."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ids_desktop.core import vocabulary
from ids_desktop.core.atomic import atomic_text
from ids_desktop.core.schema import FAMILIES
from ids_desktop.core.severity import LOW, SURICATA
from ids_desktop.core.tasks import Cancel, Progress, check_cancel

#: Readable categories for the family vocabulary (Suricata's classtype style).
CATEGORIES = {
    "dos": "Denial of Service",
    "ddos": "Distributed Denial of Service",
    "scan": "Network Scan / Reconnaissance",
    "brute_force": "Password Brute Force",
    "web_attack": "Web Application Attack",
    "botnet": "Botnet / Command and Control",
    "infiltration": "Infiltration",
    "exploit": "Exploit Attempt",
    "backdoor": "Backdoor",
    "shellcode": "Shellcode",
    "worm": "Worm",
    "fuzzing": "Fuzzing",
    "generic": "Generic Attack",
    "analysis": "Analysis / Probing",
    "ransomware": "Ransomware",
    "mitm": "Man in the Middle",
    "r2l": "Remote to Local",
    "u2r": "User to Root",
    "attack": "Anomalous Traffic",
    "anomaly": "Anomalous Traffic",
    "benign": "Anomalous Traffic",
}
#: What flags a flow, in a fixed order: the model, the anomaly score, then every detector
#: (:mod:`ids_desktop.core.detect`). A signature's id is ``9_100_000 + 100 * family + source``,
#: each an index in its fixed tuple, so it is the same in every file and every release.
SOURCES = (
    "model", "anomaly", "port_scan", "host_sweep", "ping_sweep", "ssh_guessing", "ftp_guessing",
    "telnet_guessing", "rdp_guessing", "smb_guessing", "kerberos_guessing", "mysql_guessing",
    "postgresql_guessing", "mssql_guessing", "redis_guessing", "mongodb_guessing",
    "ldap_guessing", "imap_guessing", "pop3_guessing", "smtp_guessing", "vnc_guessing",
    "http_guessing", "syn_flood", "udp_flood", "icmp_flood", "reflection", "beacon",
    "dns_tunnel", "dns_exfiltration", "zone_transfer", "arp_spoofing", "arp_scan",
    "dhcp_starvation", "tls_heartbleed", "web_attack_uri", "stealth_scan",
)
_FAMILY_ORDER = (*FAMILIES, "anomaly")


def signature_id(family: str, source: str) -> int:
    """The stable EVE ``signature_id`` of a family flagged by a source (:data:`SOURCES`)."""
    fam = _FAMILY_ORDER.index(family) if family in _FAMILY_ORDER else len(_FAMILY_ORDER)
    src = SOURCES.index(source) if source in SOURCES else len(SOURCES)
    return 9_100_000 + 100 * fam + src


def _iso(seconds: Any) -> str | None:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return None
    if not abs(float(seconds)) < 9.2e9:  # a damaged time, beyond any date pandas has
        return None
    # to the microsecond Suricata writes, rounded: 1700000007.257 is .257000, not .256999
    stamp = pd.Timestamp(round(float(seconds) * 1e6), unit="us", tz="UTC")
    text: str = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")
    return text


#: The flow-table columns :func:`alerts` reads.
_READ = ("flow_id", "first_seen", "incident_id", "src_ip", "src_port", "dst_ip", "dst_port",
         "protocol", "community_id", "application", "pred_class", "pred_score", "anomaly_score",
         "flagged_by", "severity", "finding")


def _scalar(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def alerts(
    flows: pd.DataFrame,
    *,
    model: str,
    contributions: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
    unexpected: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
) -> Iterator[dict[str, Any]]:
    """One EVE ``alert`` event per flagged flow of an analysis frame.

    ``contributions`` (LIME's top features) and ``unexpected`` (the inputs the model expected
    least, for a flow flagged by its anomaly score alone) are keyed by ``flow_id``.
    """
    flagged = flows[flows["flagged"].fillna(False).astype(bool)] if "flagged" in flows else flows
    # only the columns an event reads: iterating all ~100 (Arrow-backed) columns cost 10x more
    flagged = flagged[[c for c in _READ if c in flagged.columns]]
    columns = flagged.columns
    for row in flagged.itertuples(index=False):
        rec = dict(zip(columns, row, strict=True))
        cls = str(_scalar(rec.get("pred_class")) or "anomaly")
        score = float(_scalar(rec.get("pred_score")) or 0.0)
        sources = str(_scalar(rec.get("flagged_by")) or "model").split(",")
        # the signature names the source that decided the family: a detector's when one did
        source = sources[-1] if len(sources) > 1 else sources[0]
        level = str(_scalar(rec.get("severity")) or LOW)
        proto = _scalar(rec.get("protocol"))
        flow_id = int(rec["flow_id"])
        app = _scalar(rec.get("application"))
        event = {
            "timestamp": _iso(_scalar(rec.get("first_seen"))),
            "flow_id": flow_id,
            "incident_id": _scalar(rec.get("incident_id")),
            "event_type": "alert",
            "src_ip": _scalar(rec.get("src_ip")),
            "src_port": _scalar(rec.get("src_port")),
            "dest_ip": _scalar(rec.get("dst_ip")),
            "dest_port": _scalar(rec.get("dst_port")),
            "proto": vocabulary.protocol_name(proto) if proto is not None else None,
            "community_id": _scalar(rec.get("community_id")),
            "app_proto": str(app).lower() if app else None,
            "alert": {
                "action": "allowed",
                "signature_id": signature_id(cls, source),
                "signature": _signature(cls, source),
                "category": CATEGORIES.get(cls, "Anomalous Traffic"),
                "severity": SURICATA.get(level, 3),
            },
            "ids_desktop": {
                "severity": level,
                "flagged_by": sources,
                "finding": _scalar(rec.get("finding")),
            },
            "ml": {
                "model": model,
                "class": cls,
                "score": round(score, 6),
                "anomaly_score": _round(_scalar(rec.get("anomaly_score"))),
                "top_contributions": list((contributions or {}).get(flow_id, [])),
                "unexpected": list((unexpected or {}).get(flow_id, [])),
            },
        }
        yield event


def _signature(family: str, source: str) -> str:
    if source == "model":
        return f"IDS Desktop ML {family} detection"
    if source == "anomaly":
        return "IDS Desktop ML traffic unlike the training data"
    return f"IDS Desktop {source.replace('_', ' ')} ({family})"


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


def write_jsonl(
    flows: pd.DataFrame,
    out: str | Path,
    *,
    model: str,
    contributions: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
    unexpected: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> Path:
    """Write one EVE alert per flagged flow as JSON Lines, atomically."""
    if "flagged" in flows:
        total = int(flows["flagged"].fillna(False).astype(bool).sum())
    else:
        total = len(flows)
    with atomic_text(out, newline="\n") as fh:
        for i, event in enumerate(alerts(flows, model=model, contributions=contributions,
                                               unexpected=unexpected), start=1):
            fh.write(json.dumps(event, ensure_ascii=False) + "\n")
            if i % 10_000 == 0:
                check_cancel(cancel)
                if progress is not None:
                    progress(i, total, "writing alerts")
        check_cancel(cancel)
    return Path(out)
