"""Per-capture validation of a capture model: captures found, benign flows flagged, folds.

Each shared capture is found or not, benign flows are flagged or not, the same at fixed
thresholds; the folds keep a capture out of the model that reports it.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.analysis import verdict_columns
from ids_desktop.core.detect import Finding, detect_all
from ids_desktop.core.ingest import ingest
from ids_desktop.core.model.verdicts import UNUSUAL
from ids_desktop.training import truth
from ids_desktop.training.capture_sources import EVERYDAY_FOLDERS
from ids_desktop.training.locations import shared_data_dir
from ids_desktop.training.oversampling import Part

#: Fixed decision thresholds at which the validation also re-reads each model's scores: the
#: operating points on the card (captures found against benign flows flagged), for choosing a
#: threshold override. Each model keeps the threshold it calibrated on its own validation split.
SWEEP = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.97, 0.99)


def validate(bundle: Any, parts: list[Part], trained_families: set[str], *,
             data: Path | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Per-capture rows: flows, flagged, top family, found, anomaly rise; and the same counts
    at each ``SWEEP`` threshold (``sweep``), from the same scores.

    Parameters
    ----------
    bundle
        A scoring :class:`~ids_desktop.core.model.bundle.Bundle`.
    parts
        Shared captures' labelled flows, named ``<kind>/<file>``.
    trained_families
        The classes the model trained on (a family it never saw may be found as ``anomaly``).
    data
        The shared data folder the captures are in (read again for the host-level detectors,
        which need the packets); ``None``: ``../shared/data``.
    """
    data = shared_data_dir() if data is None else data
    rows: list[dict[str, Any]] = []
    benign_anom = []
    for name, frame in parts:
        # The app's verdicts: the model's, plus the host-level detectors' (as run_analysis).
        model_only = bundle.score(frame, temporal=True)
        findings = capture_findings(data / "pcaps" / name, len(frame))
        s = verdict_columns(model_only, findings, len(frame))
        kind, file = name.split("/", 1)
        row: dict[str, Any] = {"capture": file, "kind": kind, "flows": len(frame),
                               "flagged": int(s["flagged"].sum()),
                               "alerts": _alerts(s["flagged"], s["pred_class"]),
                               "threshold": float(bundle.threshold),
                               "detectors": sorted({f.detector for f in findings})}
        at = {}
        for thr in SWEEP:
            v = bundle.verdicts(model_only.probs, model_only.anomaly_score, thr,
                                unusual=model_only.unusual)
            swept = verdict_columns(dataclasses.replace(
                model_only, pred_score=v.p_attack, flagged=v.flagged, pred_class=v.pred_class()),
                findings, len(frame))
            at[thr] = (swept["flagged"], swept["pred_class"], v)
        if kind == "attack":
            t = truth.truth_for(file)
            mask = truth.attack_mask(frame, file)
            unseen = t.family not in trained_families
            accepted = set(t.accepted) | ({UNUSUAL} if unseen else set())
            hit, top, found = found_family(s["flagged"], s["pred_class"], mask, accepted)
            by_model = found_family(model_only.flagged, model_only.pred_class, mask, accepted)[2]
            alone = verdict_columns(None, findings, len(frame))
            by_detectors = found_family(alone["flagged"], alone["pred_class"], mask, accepted)[2]
            row.update(
                family=t.family, attack_flows=int(mask.sum()), attack_flagged=int(hit.sum()),
                top_family=top, unseen_family=unseen, found=found, found_by_model=by_model,
                found_by_detectors=by_detectors,
                flow_visible=t.flow_visible, disputed=t.disputed,
                anomaly_median=(float(np.median(model_only.anomaly_score[mask]))
                                if mask.any() else None),
                incidental_flagged=int((s["flagged"] & ~mask).sum()),
            )
            row["sweep"] = {}
            for thr, (flagged, pred, v) in at.items():
                hit_t, _, found_t = found_family(flagged, pred, mask, accepted)
                row["sweep"][str(thr)] = {
                    "flagged": int(flagged.sum()), "alerts": _alerts(flagged, pred),
                    "attack_flagged": int(hit_t.sum()), "found": found_t,
                    "found_by_model": found_family(v.flagged, v.pred_class(), mask,
                                                   accepted)[2]}
        else:
            if kind == "benign":  # the anomaly baseline stays the reported benign captures'
                benign_anom.append(model_only.anomaly_score)
            fams = pd.Series(s["pred_class"][s["flagged"]]).value_counts()
            row.update(top_family=str(fams.index[0]) if len(fams) else "",
                       sweep={str(thr): {"flagged": int(flagged.sum()),
                                         "alerts": _alerts(flagged, pred)}
                              for thr, (flagged, pred, _) in at.items()})
        rows.append(row)
    base = float(np.median(np.concatenate(benign_anom))) if benign_anom else None
    for r in rows:
        if r["kind"] == "attack" and r.get("anomaly_median") is not None and base:
            r["anomaly_ratio"] = r["anomaly_median"] / base
    return rows


def capture_findings(path: Path, flows: int) -> tuple[Finding, ...]:
    """The host-level detectors' findings in a shared capture, read once per run (every fold
    and every shipping attempt validates on it). ``flows``: the cached flow table's length,
    which must be the fresh ingest's (the findings name its rows)."""
    findings, fresh = _findings(path)
    if fresh != flows:
        raise RuntimeError(f"{path.name}: {fresh} flows now, {flows} in the flow cache")
    return findings


@functools.cache
def _findings(path: Path) -> tuple[tuple[Finding, ...], int]:
    result = ingest(path)
    return detect_all(result), len(result.frame)


def _alerts(flagged: np.ndarray, pred_class: Any) -> int:
    """Flagged flows with a family (alerts), not the unusual ones."""
    return int((np.asarray(flagged, dtype=bool)
                & (np.asarray(pred_class, dtype=object) != UNUSUAL)).sum())


def found_family(flagged: np.ndarray, pred_class: Any, mask: np.ndarray,
                 accepted: set[str]) -> tuple[np.ndarray, str, bool]:  # fmt: skip
    """(attack flows flagged, their most frequent verdict, whether the capture counts as found)."""
    hit = flagged & mask
    fams = pd.Series(pred_class[hit]).value_counts()
    top = str(fams.index[0]) if len(fams) else ""
    return hit, top, bool(hit.any() and top in accepted)


def operating_points(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per ``SWEEP`` threshold: attack captures found, benign-capture flows flagged (and the
    everyday applications' when the folds held them out), over the rows that carry a sweep."""
    att = [r for r in rows if r["kind"] == "attack" and "sweep" in r]
    out = []
    for thr in SWEEP:
        key = str(thr)
        point = {"threshold": thr, "found": sum(r["sweep"][key]["found"] for r in att),
                 "found_by_model": sum(r["sweep"][key].get("found_by_model", False)
                                       for r in att),
                 "attack_captures": len(att)}
        groups = [("benign", ("benign",)), ("apps", EVERYDAY_FOLDERS),
                  *((kind, (kind,)) for kind in everyday_apart(rows))]
        for label, kinds in groups:
            part = [r for r in rows if r["kind"] in kinds and "sweep" in r]
            if part:
                flows = sum(r["flows"] for r in part)
                flagged = sum(r["sweep"][key]["flagged"] for r in part)
                alerts = sum(r["sweep"][key].get("alerts", 0) for r in part)
                point.update({f"{label}_flows": flows, f"{label}_flagged": flagged,
                              f"{label}_flag_rate": flagged / max(flows, 1),
                              f"{label}_alerts": alerts,
                              f"{label}_alert_rate": alerts / max(flows, 1)})
        out.append(point)
    return out


def everyday_apart(rows: list[dict[str, Any]]) -> list[str]:
    """The everyday folders among ``rows`` to report each apart: none when fewer than two are
    there (their pooled ``apps_...`` figures say it all)."""
    kinds = [k for k in EVERYDAY_FOLDERS if any(r["kind"] == k for r in rows)]
    return kinds if len(kinds) > 1 else []


def flag_stats(rows: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Flows, flagged flows, their share and the captures with a flag, over ``rows``, as
    ``<kind>_...`` keys of the summary."""
    flows, flagged = sum(r["flows"] for r in rows), sum(r["flagged"] for r in rows)
    alerts = sum(r.get("alerts", 0) for r in rows)
    return {f"{kind}_flows": flows, f"{kind}_flagged": flagged,
            f"{kind}_flag_rate": flagged / max(flows, 1),
            f"{kind}_alerts": alerts, f"{kind}_alert_rate": alerts / max(flows, 1),
            f"{kind}_captures_with_flags": sum(r["flagged"] > 0 for r in rows)}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Captures found (all, flow-visible and undisputed), benign flows flagged, held-out apps."""
    att = [r for r in rows if r["kind"] == "attack"]
    visible = [r for r in att if r["flow_visible"] and not r["disputed"]]
    ben = [r for r in rows if r["kind"] == "benign"]
    apps = [r for r in rows if r["kind"] in EVERYDAY_FOLDERS]
    extra: dict[str, Any] = {}
    if apps:  # held out by the folds (run_source): everyday applications, out of sample
        fams = pd.Series([r["top_family"] for r in apps if r["flagged"]]).value_counts()
        extra = {"apps_captures": len(apps), **flag_stats(apps, "apps"),
                 "apps_top_families": {str(k): int(n) for k, n in fams.items()}}
        for kind in everyday_apart(apps):  # ``<folder>_...`` keys
            mine = [r for r in apps if r["kind"] == kind]
            extra.update({f"{kind}_captures": len(mine), **flag_stats(mine, kind)})
    return {
        "attack_captures": len(att),
        "found": sum(r["found"] for r in att),
        "found_share": sum(r["found"] for r in att) / max(len(att), 1),
        # Found by the model alone, and by the host-level detectors alone (rows that say).
        "found_by_model": sum(r.get("found_by_model", r["found"]) for r in att),
        "found_by_detectors": sum(r.get("found_by_detectors", False) for r in att),
        "visible_captures": len(visible),
        "visible_found": sum(r["found"] for r in visible),
        "visible_found_share": sum(r["found"] for r in visible) / max(len(visible), 1),
        **flag_stats(ben, "benign"),
        **extra,
    }


def folds_of(names: list[str], k: int | str, seed: int) -> list[list[str]]:
    """Held-out capture names per fold: ``k`` random folds, or leave-one-capture-out.

    ``k == "loco"``: one fold per attack capture (``attack/...``) holding out that capture
    alone among the attacks; the other captures (benign) are shared out over those folds in a
    seeded order, so each is still held out by exactly one fold.
    """
    rng = np.random.default_rng(seed)
    order = [names[i] for i in rng.permutation(len(names))]
    if k != "loco":
        return [order[i::int(k)] for i in range(int(k))]
    attacks = sorted(n for n in names if n.startswith("attack/"))
    others = [n for n in order if not n.startswith("attack/")]
    if not attacks:
        return [others] if others else []
    folds = [[a] for a in attacks]
    for i, name in enumerate(others):
        folds[i % len(folds)].append(name)
    return folds
