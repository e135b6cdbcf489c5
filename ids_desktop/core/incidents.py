"""Incidents: flagged flows and detector findings grouped into what happened, one line each.

The grouping rule
-----------------
1. Every host-level finding is an incident: its sources (one host, or the many sources of a
   distributed flood) acting on its targets with its family, over its span. The flows it
   covers are the incident's.
2. A flagged flow no finding covers joins the incident of its source and family (the model's
   family, or ``anomaly``) whose last flow is at most :data:`GAP_S` (30 min) before it;
   otherwise it opens a new one. One port scan is one incident, however many flows it has;
   the same attacker coming back two hours later is a second.
3. Model-only flows of a finding's source and family within :data:`GAP_S` of the finding's
   span join the finding's incident (the model saw part of what the detector saw).

An incident's severity is the highest of its flows' (:mod:`ids_desktop.core.severity`); its
``flagged_by`` lists every source that flagged one of its flows. Its id is stable for the same
file and model: a digest of the file's and the model's SHA-256, the family, the sources and the
first flow's time.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core import severity as S
from ids_desktop.core.detect.finding import Finding, names, span
from ids_desktop.core.detect.flows import TCP, UDP, floats

#: Flows of one source and family further apart than this are separate incidents.
GAP_S = 1800.0
#: Targets and ports an incident lists (it counts all of them).
LISTED = 10
UNKNOWN = "?"  # the source of a flow whose input names none (a table without addresses)


@dataclass(frozen=True, eq=False)
class Incident:
    """One source (or source set) acting on its targets with one family in one time window.

    Attributes
    ----------
    id
        Stable for the same file and model (``INC-`` and 10 hex digits).
    family, severity
        The attack family (or ``anomaly``) and the most urgent of its flows' severities.
    sources, targets, ports
        The acting hosts, the hosts and destination ports acted on (most active first, at most
        :data:`LISTED` each); ``target_count`` and ``port_count`` count all of them.
    first_seen, last_seen
        The time span (seconds since the epoch).
    flows, packets, bytes
        Its flows and their packets and bytes.
    flagged_by
        Who flagged its flows: ``model``, ``anomaly`` and detector names.
    summary
        The evidence in one plain sentence with numbers.
    rows
        Positions of its flows in the analysed flow table.
    """

    id: str
    family: str
    severity: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    ports: tuple[int, ...]
    target_count: int
    port_count: int
    first_seen: float
    last_seen: float
    flows: int
    packets: int
    bytes: int
    flagged_by: tuple[str, ...]
    summary: str
    rows: np.ndarray

    def to_json(self) -> dict[str, object]:
        """The incident as ``analyze --json`` lists it."""
        return {
            "id": self.id, "family": self.family, "severity": self.severity,
            "sources": list(self.sources), "targets": list(self.targets),
            "first_seen": _time(self.first_seen), "last_seen": _time(self.last_seen),
            "flows": self.flows, "flagged_by": list(self.flagged_by), "summary": self.summary,
        }


@dataclass
class _Group:
    """An incident while it is being assembled."""

    family: str
    sources: tuple[str, ...]
    finding: Finding | None
    t0: float
    t1: float
    rows: list[int] = field(default_factory=list)


def group(flows: pd.DataFrame, findings: Sequence[Finding], *, file_sha256: str = "",
          model_sha256: str = "") -> tuple[Incident, ...]:
    """The incidents of an analysed flow table (with verdict columns) and its findings, most
    severe first, then by time (module docstring)."""
    if "flagged" not in flows.columns or len(flows) == 0:
        return ()
    n = len(flows)
    flagged = flows["flagged"].to_numpy(dtype=bool)
    src = (flows["src_ip"].astype("string").fillna(UNKNOWN) if "src_ip" in flows.columns
           else pd.Series(UNKNOWN, index=flows.index)).to_numpy(dtype=object)
    fam = flows["pred_class"].astype("string").fillna("anomaly").to_numpy(dtype=object)
    cols = _Columns(flows)
    start = cols.first
    owner = np.full(n, -1, dtype=np.int64)
    groups: list[_Group] = []
    for f in sorted(findings, key=lambda f: (f.first_seen, f.detector)):
        rows = np.asarray(f.rows, dtype=np.int64)
        rows = rows[owner[rows] < 0]
        owner[rows] = len(groups)
        groups.append(_Group(f.family, f.sources, f, f.first_seen, f.last_seen, rows.tolist()))
    open_group: dict[tuple[str, str], _Group] = {}
    for grp in groups:  # rule 3: model flows of a finding's source and family join it
        for s in grp.sources:
            open_group[(s, grp.family)] = grp
    loose = np.flatnonzero(flagged & (owner < 0))
    loose = loose[np.lexsort((loose, np.nan_to_num(start[loose], nan=np.inf)))]
    for r in loose:
        key = (str(src[r]), str(fam[r]))
        t = float(start[r]) if not np.isnan(start[r]) else 0.0
        found = open_group.get(key)
        if found is None or t - found.t1 > GAP_S or found.t0 - t > GAP_S:
            found = _Group(key[1], (key[0],), None, t, t)
            groups.append(found)
            open_group[key] = found
        found.rows.append(int(r))
        found.t0, found.t1 = min(found.t0, t), max(found.t1, t)
    out = [_incident(cols, g, file_sha256, model_sha256)
           for g in groups if g.rows or g.finding is not None]
    return tuple(sorted(out, key=lambda i: (S.ORDER.index(i.severity), _time(i.first_seen) or 0.0,
                                            i.id)))


def incident_ids(incidents: Sequence[Incident], n: int) -> pd.api.extensions.ExtensionArray:
    """Per flow of a table of ``n`` flows: the id of its incident, or missing."""
    ids = np.full(n, None, dtype=object)
    for inc in incidents:
        ids[inc.rows] = inc.id
    return pd.array(ids, dtype="string")


class _Columns:
    """The flow-table columns an incident reads, converted once as numpy arrays: per incident
    only its rows are taken. (Converting pandas slices per incident cost about 9 ms each, 3 of
    4.5 s on a capture with 1,677 mostly one-flow incidents.) Text columns keep ``None`` for a
    missing cell, which an incident leaves out (the detectors' ``FlowView`` reads ``""``)."""

    def __init__(self, flows: pd.DataFrame) -> None:
        def text(name: str) -> np.ndarray | None:
            if name not in flows.columns:
                return None
            return np.asarray(flows[name].astype("string").to_numpy(dtype=object, na_value=None))

        self.dst = text("dst_ip")
        self.flagged_by = text("flagged_by")
        self.severity = text("severity")
        self.ported = (np.isin(floats(flows, "protocol"), [TCP, UDP])
                       if "protocol" in flows.columns else np.ones(len(flows), dtype=bool))
        self.port = floats(flows, "dst_port") if "dst_port" in flows.columns else None
        self.first = floats(flows, "first_seen")
        self.last = floats(flows, "last_seen")
        self.packets = floats(flows, "bidirectional_packets", 0.0)
        self.bytes = floats(flows, "bidirectional_bytes", 0.0)


def _incident(cols: _Columns, g: _Group, file_sha: str, model_sha: str) -> Incident:
    rows = np.asarray(sorted(set(g.rows)), dtype=np.int64)
    finding = g.finding
    family = g.family
    dst = [] if cols.dst is None else [d for d in cols.dst[rows] if d is not None]
    if cols.port is None:
        ports: list[int] = []
    else:
        picked = cols.port[rows[cols.ported[rows]]]
        ports = picked[~np.isnan(picked)].astype(int).tolist()
    t0 = _extreme(np.min, cols.first[rows], finding.first_seen if finding else np.nan)
    t1 = _extreme(np.max, cols.last[rows], finding.last_seen if finding else np.nan)
    by_dst = [d for d, _ in Counter(dst).most_common()]
    by_port = [p for p, _ in Counter(ports).most_common()]
    if finding is not None:
        sources = finding.sources
        targets = finding.targets or tuple(by_dst[:LISTED])
        port_list = finding.ports or tuple(by_port[:LISTED])
        target_count = max(finding.target_count, len(set(targets)))
        port_count = max(finding.port_count, len(port_list))
    else:
        sources = g.sources
        targets = tuple(by_dst[:LISTED])
        port_list = tuple(by_port[:LISTED])
        target_count, port_count = len(by_dst), len(by_port)
    by: list[str] = []
    for value in ([] if cols.flagged_by is None else cols.flagged_by[rows]):
        for s in (value or "").split(","):
            if s and s not in by:
                by.append(s)
    if finding is not None and finding.detector not in by:
        by.append(finding.detector)
    sev = [] if cols.severity is None else [v for v in cols.severity[rows] if v is not None]
    level = S.highest([*sev, *([S.of_family(family)] if finding is not None else [])])
    digest = hashlib.sha256(
        f"{file_sha}|{model_sha}|{family}|{','.join(sorted(sources))}|{t0:.3f}".encode()
    ).hexdigest()[:10]
    summary = finding.summary if finding is not None else _model_sentence(
        sources, family, len(rows), targets, target_count, port_list, port_count, t1 - t0)
    return Incident(
        id=f"INC-{digest}", family=family, severity=level, sources=tuple(sources),
        targets=tuple(targets)[:LISTED], ports=tuple(port_list)[:LISTED],
        target_count=target_count, port_count=port_count, first_seen=t0, last_seen=t1,
        flows=len(rows), packets=int(cols.packets[rows].sum()),
        bytes=int(cols.bytes[rows].sum()), flagged_by=tuple(by), summary=summary,
        rows=rows,
    )


def _extreme(pick: Callable[[np.ndarray], Any], values: np.ndarray, also: float) -> float:
    """``pick`` (min or max) of ``values`` and ``also``, missing ones left out; NaN if none."""
    known = np.append(values, also)
    known = known[~np.isnan(known)]
    return float(pick(known)) if len(known) else float("nan")


def _model_sentence(sources: Sequence[str], family: str, flows: int, targets: Sequence[str],
                    target_count: int, ports: Sequence[int], port_count: int,
                    seconds: float) -> str:
    who = names(list(sources)) if set(sources) != {UNKNOWN} else "A source the file does not name"
    where = (f"{names(list(targets))}" if target_count <= len(targets) else
             f"{target_count:,} hosts ({names(list(targets))})") if targets else "no address"
    on = (f" on port{'s' if port_count > 1 else ''} {', '.join(map(str, ports[:5]))}"
          + (f" and {port_count - 5:,} more" if port_count > 5 else "")) if ports else ""
    noun = "flow" if flows == 1 else "flows"
    what = (f"{noun} unlike the training data" if family == "anomaly"
            else f"{noun} the model calls {family}")
    when = f" over {span(seconds)}" if np.isfinite(seconds) else ""
    return f"{who} sent {flows:,} {what} to {where}{on}{when}"


def _time(t: float) -> float | None:
    """A time for JSON: rounded to the microsecond, or ``None`` when the input has none."""
    return round(t, 6) if np.isfinite(t) else None
