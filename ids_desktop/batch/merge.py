"""Incidents across files: one source's incidents in several captures joined into one.

Each file's incidents come from the one-file rule (:mod:`ids_desktop.core.incidents`). Across
files the same rule applies one level up: incidents of the same sources and family join when
the next one starts at most :data:`~ids_desktop.core.incidents.GAP_S` (30 min) after the
last one seen ends, wherever its file, which is how rule 2 joins flagged flows inside a file.
A port scan cut by a sensor's file rotation is one incident that lists both files; the same
attacker two hours later is a second one. Two incidents of one file are never joined: the
one-file rule already kept them apart (two detectors' findings, say). An incident seen in
one file only keeps its id; a joined one gets ``INC-`` and a digest of its parts' ids,
stable for the same inputs.

Counts that files cannot add up are lower bounds: ``target_count`` and ``port_count`` are
the largest of one file's count and the distinct targets and ports the parts list.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ids_desktop.core import severity as S
from ids_desktop.core.detect.finding import names, span
from ids_desktop.core.incidents import GAP_S, LISTED


@dataclass
class _Joined:
    family: str
    sources: tuple[str, ...]
    t0: float
    t1: float
    parts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def join_incidents(files: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The incidents of every analysed file (``{"path", "incidents"}`` each, as the tasks
    return them), joined across files (module docstring), most severe first, then by time."""
    items = [(str(f["path"]), inc) for f in files for inc in f.get("incidents") or ()]
    items.sort(key=lambda item: (_t(item[1].get("first_seen"), math.inf), item[0],
                                 str(item[1].get("id"))))
    joined: list[_Joined] = []
    open_group: dict[tuple[tuple[str, ...], str], _Joined] = {}
    for path, inc in items:
        key = (tuple(sorted(inc.get("sources") or ())), str(inc.get("family")))
        t0 = _t(inc.get("first_seen"), math.nan)
        t1 = _t(inc.get("last_seen"), t0)
        grp = open_group.get(key)
        timed = not math.isnan(t0)
        if (grp is None or not timed or math.isnan(grp.t1) or t0 - grp.t1 > GAP_S
                or any(p == path for p, _ in grp.parts)):
            grp = _Joined(key[1], key[0], t0, t1)
            joined.append(grp)
            if timed:
                open_group[key] = grp
        else:
            grp.t1 = max(grp.t1, t1)
        grp.parts.append((path, inc))
    records = [_record(g) for g in joined]
    records.sort(key=lambda r: (S.ORDER.index(r["severity"]) if r["severity"] in S.ORDER
                                else len(S.ORDER), _t(r["first_seen"], math.inf), r["id"]))
    return records


def part_ids(incidents: Sequence[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """``(file, the file's incident id)`` -> the joined incident's id."""
    return {(p["file"], p["incident_id"]): inc["id"] for inc in incidents for p in inc["parts"]}


def _record(g: _Joined) -> dict[str, Any]:
    incs = [inc for _, inc in g.parts]
    files = list(dict.fromkeys(path for path, _ in g.parts))
    sources = list(dict.fromkeys(s for inc in incs for s in inc.get("sources") or ()))
    targets = list(dict.fromkeys(t for inc in incs for t in inc.get("targets") or ()))
    ports = list(dict.fromkeys(int(p) for inc in incs for p in inc.get("ports") or ()))
    flagged_by = list(dict.fromkeys(b for inc in incs for b in inc.get("flagged_by") or ()))
    flows = sum(int(inc.get("flows") or 0) for inc in incs)
    first = [inc["first_seen"] for inc in incs if inc.get("first_seen") is not None]
    last = [inc["last_seen"] for inc in incs if inc.get("last_seen") is not None]
    if len(incs) == 1:
        inc_id = str(incs[0]["id"])
        summary = str(incs[0].get("summary", ""))
    else:
        inc_id = "INC-" + hashlib.sha256(
            "|".join(sorted(str(i["id"]) for i in incs)).encode()).hexdigest()[:10]
        seconds = (max(last) - min(first)) if first and last else math.nan
        over = f" over {span(seconds)}" if math.isfinite(seconds) else ""
        summary = (f"{names(sources)}: {g.family} in {len(files)} files{over}, {flows:,} flows "
                   f"to {names(targets[:LISTED]) if targets else 'no address'}; first "
                   f"({Path(files[0]).name}): {incs[0].get('summary', '')}")
    return {
        "id": inc_id,
        "family": g.family,
        "severity": S.highest([str(i.get("severity", S.LOW)) for i in incs]),
        "sources": sources,
        "targets": targets[:LISTED],
        "ports": ports[:LISTED],
        "target_count": max([len(targets), *(int(i.get("target_count") or 0) for i in incs)]),
        "port_count": max([len(ports), *(int(i.get("port_count") or 0) for i in incs)]),
        "first_seen": min(first) if first else None,
        "last_seen": max(last) if last else None,
        "flows": flows,
        "packets": sum(int(i.get("packets") or 0) for i in incs),
        "bytes": sum(int(i.get("bytes") or 0) for i in incs),
        "flagged_by": flagged_by,
        "summary": summary,
        "files": files,
        "parts": [{"file": path, "incident_id": str(inc["id"]), "flows": inc.get("flows"),
                   "first_seen": inc.get("first_seen"), "last_seen": inc.get("last_seen"),
                   "summary": inc.get("summary")} for path, inc in g.parts],
    }


def _t(value: Any, default: float) -> float:
    return default if value is None else float(value)
