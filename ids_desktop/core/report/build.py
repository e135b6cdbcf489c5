"""Results -> a plain ``ReportData`` value that the PDF writer (and anything else) renders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop import __version__
from ids_desktop.core import severity
from ids_desktop.core.analysis import Analysis
from ids_desktop.core.incidents import Incident


@dataclass
class ExplanationItem:
    """One explained flow, as the report shows it.

    Attributes
    ----------
    flow_id
        The flow's id in the analysis frame.
    sentence
        The plain-language explanation.
    contributions
        ``(label, signed weight)`` pairs, largest magnitude first.
    heading
        Who, where and when: ``"203.0.113.66:40112 → 192.168.20.30:22 TCP, 2023-11-14
        22:19:20 UTC"`` (the report's heading for it, not an internal id).
    r2
        The local surrogate's R² (how faithful the explanation is around the flow).
    """

    flow_id: int
    sentence: str
    contributions: list[tuple[str, float]]
    heading: str = ""
    r2: float | None = None


@dataclass
class IncidentItem:
    """One incident as the report shows it (see :class:`ids_desktop.core.incidents.Incident`).

    Attributes
    ----------
    confirmed
        A host-level detector flagged it (not the model's verdict alone).
    top_flows
        Its highest-scoring flows (report columns), at most the report's per-incident share.
    explanation
        The explanation of its top flow, when one was computed.
    """

    id: str
    family: str
    severity: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    target_count: int
    ports: tuple[int, ...]
    port_count: int
    first_seen: float
    last_seen: float
    flows: int
    flagged_by: tuple[str, ...]
    summary: str
    confirmed: bool
    top_flows: pd.DataFrame
    explanation: ExplanationItem | None = None
    #: For an incident flagged by the anomaly score alone: what the model expected least of
    #: its top flow (``"client → server bytes 10,300,000 bytes (about 11,900 bytes
    #: expected)"``), most missed first.
    unexpected: tuple[str, ...] = ()


@dataclass
class ReportData:
    """Everything a report shows, as plain data (no Qt, no reportlab objects)."""

    file_name: str
    file_size: int
    file_sha256: str
    input_format: str
    time_range: tuple[float, float] | None
    analysed_at: str
    app_version: str
    model_name: str
    model_version: str
    model_headline: dict[str, float]
    flows: int
    flagged: int
    flagged_by_class: dict[str, int]
    class_distribution: dict[str, int]
    top_sources: list[tuple[str, int]]
    top_destinations: list[tuple[str, int]]
    top_ports: list[tuple[str, int]]
    top_applications: list[tuple[str, int]]
    flagged_over_time: list[tuple[float, int]]
    top_flagged: pd.DataFrame
    explanations: list[ExplanationItem] = field(default_factory=list)
    evaluation: dict[str, Any] | None = None
    model_card_summary: str = ""
    warnings: list[str] = field(default_factory=list)
    #: What the host-level detectors found, one sentence each.
    findings: list[str] = field(default_factory=list)
    #: The incidents, most urgent first (:func:`story_order`).
    incidents: list[IncidentItem] = field(default_factory=list)
    #: What happened, in one sentence (:func:`headline`).
    headline: str = ""
    #: The bundle's anomaly-score threshold (flows at or above it are flagged); ``None`` when
    #: the anomaly score flags nothing (a blend).
    anomaly_threshold: float | None = None
    #: How the bundle's verdicts differ from the hybrid alone (a blend, issue 34), or "".
    model_note: str = ""


def _top(series: pd.Series, n: int) -> list[tuple[str, int]]:
    # counted on the values, named afterwards: astype(str) first walked every cell in Python
    counts = series.dropna().value_counts().head(n)
    return [(str(k), int(v)) for k, v in counts.items()]


#: The columns of flagged flows that :func:`build_report` counts and charts.
_SUMMARISED = (
    "first_seen", "dst_port", "pred_score", "anomaly_score", "pred_class", "src_ip", "dst_ip",
    "application",
)


def build_report(
    analysis: Analysis,
    *,
    top_n: int = 200,
    explanations: list[ExplanationItem] | None = None,
    evaluation: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
    time_bins: int = 48,
    unexpected: dict[int, list[str]] | None = None,
) -> ReportData:
    """Summarise a scored analysis for a report.

    Parameters
    ----------
    analysis
        A scored analysis (``analysis.run`` set).
    top_n
        How many flagged flows the table lists, highest score first.
    explanations, evaluation
        What the report shows besides the counts (explained flows; the evaluation against
        the file's labels).
    warnings
        Warnings besides the ingest's.
    unexpected
        ``flow_id`` -> what the model expected least of that flow (for the top flows of
        incidents flagged by the anomaly score alone; ``export.explain_unusual``).
    """
    if analysis.run is None:
        from ids_desktop.errors import ReportError

        raise ReportError(f"nothing to report: no model scored this input ({analysis.note})")
    flows = analysis.flows
    bundle = analysis.run.bundle
    meta = bundle.metadata
    blend = meta.get("blend") or {}
    source = analysis.path
    flagged_mask = flows["flagged"].fillna(False).astype(bool).to_numpy()
    at = np.flatnonzero(flagged_mask)
    # only the columns summarised here: copying every column of the flagged rows held the
    # GIL (and a GUI thread waiting for it) for 30-60 ms on a 160k-row table
    summarised = [c for c in _SUMMARISED if c in flows.columns]
    flagged = flows[summarised].take(at)
    times = pd.to_numeric(flows["first_seen"], errors="coerce")
    time_range: tuple[float, float] | None = None
    if times.notna().any():
        last = pd.to_numeric(flows["last_seen"], errors="coerce")
        time_range = (float(times.min()), float(last.max()))
    over_time: list[tuple[float, int]] = []
    ftimes = pd.to_numeric(flagged["first_seen"], errors="coerce").dropna().to_numpy()
    if time_range is not None and len(ftimes):
        lo, hi = time_range
        hi = max(hi, lo + 1e-3)
        counts, edges = np.histogram(ftimes, bins=time_bins, range=(lo, hi))
        over_time = [(float(edges[i]), int(c)) for i, c in enumerate(counts)]
    ports = flagged["dst_port"] if "dst_port" in flagged else pd.Series(dtype="Int64")
    keys = flagged[["pred_score", "anomaly_score"]].reset_index(drop=True)
    ranked = keys.sort_values(["pred_score", "anomaly_score"], ascending=False, kind="stable").index
    top_flagged = flows.take(at[ranked.to_numpy()[:top_n]])
    incidents = story_order(analysis.incidents)
    per_incident = per_incident_flows(top_n, len(incidents))
    by_flow = {item.flow_id: item for item in explanations or []}
    unexpected = unexpected or {}
    keys = ranking(flows) if incidents else None
    none = flows.iloc[:0]  # the overview asks for no flows (top_n=0): one empty frame for all
    items = []
    for inc in incidents:
        rows = top_rows(flows, inc.rows, max(per_incident, 1), keys)
        ids = flows["flow_id"].to_numpy()[rows]
        explained = next((by_flow[int(f)] for f in ids if int(f) in by_flow), None)
        missed = next((unexpected[int(f)] for f in ids if int(f) in unexpected), [])
        items.append(IncidentItem(
            id=inc.id, family=inc.family, severity=inc.severity, sources=inc.sources,
            targets=inc.targets, target_count=inc.target_count, ports=inc.ports,
            port_count=inc.port_count, first_seen=inc.first_seen, last_seen=inc.last_seen,
            flows=inc.flows, flagged_by=inc.flagged_by, summary=inc.summary,
            confirmed=confirmed(inc),
            top_flows=flows.take(rows[:per_incident]) if per_incident else none,
            explanation=explained, unexpected=tuple(missed),
        ))
    return ReportData(
        file_name=source.name,
        file_size=source.stat().st_size if source.exists() else 0,
        file_sha256=analysis.file_sha256,
        input_format=analysis.result.format,
        time_range=time_range,
        analysed_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        app_version=__version__,
        model_name=bundle.name,
        model_version=f"{str(meta.get('model_sha256', ''))[:12]} (model.keras SHA-256)",
        model_headline=headline_metrics(meta),
        flows=len(flows),
        flagged=int(flagged_mask.sum()),
        flagged_by_class=dict(_top(flagged["pred_class"], 50)),
        class_distribution=dict(_top(flows["pred_class"], 50)),
        top_sources=_top(flagged["src_ip"], 10),
        top_destinations=_top(flagged["dst_ip"], 10),
        top_ports=_top(ports, 10),
        top_applications=_top(flagged["application"], 10),
        flagged_over_time=over_time,
        top_flagged=top_flagged,
        explanations=list(explanations or []),
        evaluation=evaluation,
        model_card_summary=card_summary(Path(bundle.path)),
        warnings=list(analysis.result.warnings) + list(warnings or []),
        findings=[f.summary for f in analysis.findings],
        incidents=items,
        headline=headline(incidents),
        anomaly_threshold=(None if blend else _float(getattr(bundle, "anomaly_threshold", None))),
        model_note=blend_note(blend) if blend else "",
    )


def blend_note(blend: dict[str, Any]) -> str:
    """One paragraph on a bundle that ships the average of the hybrid and a tree."""
    from ids_desktop.core.model.runtime import TREE_NAMES

    tree = TREE_NAMES.get(str(blend.get("tree")), str(blend.get("tree")))
    return (f"This bundle's verdicts come from a blend: the plain average of the hybrid's class "
            f"probabilities and those of a {tree} tree ensemble trained on the same flows, "
            f"because on validation data the average was at least as accurate as either model "
            f"alone at no more false alarms. The anomaly score is the hybrid's and is shown, but "
            f"it flags nothing in this bundle. Explanations are of the blend's probabilities.")


#: Sources that are the model's verdicts, not a host-level detector's rule.
MODEL_SOURCES = frozenset({"model", "anomaly"})


def anomaly_only(flagged_by: Sequence[str]) -> bool:
    """Whether only the anomaly score flagged (the classifier judged the flows benign)."""
    return set(flagged_by) == {"anomaly"}


def confirmed(incident: Incident) -> bool:
    """Whether a host-level detector flagged the incident (a documented rule with numbers)."""
    return bool(set(incident.flagged_by) - MODEL_SOURCES)


def story_order(incidents: Sequence[Incident]) -> list[Incident]:
    """Incidents as a report tells them: most severe first; within a severity, those a
    detector confirmed before the model's alone, then the larger, then the earlier."""
    def key(inc: Incident) -> tuple[int, int, int, float]:
        first = inc.first_seen if np.isfinite(inc.first_seen) else np.inf
        return (severity.ORDER.index(inc.severity) if inc.severity in severity.ORDER else 9,
                0 if confirmed(inc) else 1, -inc.flows, first)

    return sorted(incidents, key=key)


def per_incident_flows(top_n: int, incidents: int) -> int:
    """Flows listed per incident: ``top_n`` shared out, 3 to 10 each (0 when ``top_n`` is 0)."""
    if top_n <= 0:
        return 0
    return int(min(10, max(3, top_n // max(incidents, 1))))


def ranking(flows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``(P(attack), anomaly score)`` of every flow as float arrays (for :func:`top_rows`)."""
    score = pd.to_numeric(flows["pred_score"], errors="coerce").to_numpy(dtype=float)
    anomaly = (pd.to_numeric(flows["anomaly_score"], errors="coerce").to_numpy(dtype=float)
               if "anomaly_score" in flows.columns else np.zeros(len(flows)))
    return score, anomaly


def top_rows(flows: pd.DataFrame, rows: np.ndarray, n: int,
             keys: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """The ``n`` of ``rows`` with the highest P(attack), then anomaly score (stable).

    ``keys`` is :func:`ranking` of ``flows``, computed once for many calls (a report asks once
    per incident, and converting a million-row column each time would dominate).
    """
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return rows
    score, anomaly = ranking(flows) if keys is None else keys
    order = np.lexsort((np.arange(len(rows)), -np.nan_to_num(anomaly[rows], nan=-np.inf),
                        -np.nan_to_num(score[rows], nan=-np.inf)))
    out: np.ndarray = rows[order[:n]]
    return out


def headline(incidents: Sequence[Incident], listed: int = 3) -> str:
    """What happened in one sentence: the detector-confirmed incidents in words, the model's
    own alerts counted by family.

    e.g. "11 incidents: 203.0.113.66 tried 40 SSH logins on 192.168.20.30 in 15 s (40 closed
    within 2 s) and 203.0.113.66 probed 300 TCP ports on 192.168.20.30 in 0.6 s (297 got a
    reset, 3 an answer). 9 more are the model's alone: 6 unlike the training data, 3 exploit."
    """
    if not incidents:
        return "No incidents: nothing was flagged."
    ordered = story_order(incidents)
    sure = [i for i in ordered if confirmed(i)]
    rest = [i for i in ordered if not confirmed(i)]
    count = f"{len(incidents):,} incident{'s' if len(incidents) != 1 else ''}"
    if not sure:
        told = ordered[:1]
        rest = ordered[1:]
    else:
        told = sure[:listed]
        rest = sure[listed:] + rest
    parts = [_clause(i.summary) for i in told]
    text = f"{count}: " + (parts[0] if len(parts) == 1
                            else "; ".join(parts[:-1]) + " and " + parts[-1]) + "."
    if rest:
        families: dict[str, int] = {}
        for i in rest:
            name = "unlike the training data" if i.family == "anomaly" else i.family
            families[name] = families.get(name, 0) + 1
        listing = ", ".join(f"{n:,} {name}" for name, n in
                            sorted(families.items(), key=lambda kv: (-kv[1], kv[0])))
        alone = all(not confirmed(i) for i in rest)
        verb = "are the model's alone" if alone else "follow"
        text += f" {len(rest):,} more {verb}: {listing}."
    return text


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _clause(sentence: str) -> str:
    """A summary as a clause: its detail after the first ";" in brackets."""
    head, _, detail = sentence.strip().rstrip(".").partition(";")
    return f"{head} ({detail.strip()})" if detail.strip() else head


def headline_metrics(meta: dict[str, Any]) -> dict[str, float]:
    """A bundle's test-split headline (attack F1, FAR, ROC-AUC of the verdicts it gives: the
    hybrid's, or its blend's) from its metadata."""
    from ids_desktop.core.model.bundle import shipped_metrics

    binary = shipped_metrics(meta)
    return {
        k: float(binary[k])
        for k in ("f1", "far", "roc_auc")
        if isinstance(binary.get(k), (int, float))
    }


def card_summary(bundle_path: Path, max_lines: int = 400) -> str:
    """The bundle's model card (Markdown, at most ``max_lines`` lines), without the SHA-256
    digests of its training files; the PDF renders it (:mod:`ids_desktop.core.report.card`)."""
    from ids_desktop.core.report.card import readable_card

    card = bundle_path / "MODEL_CARD.md"
    if not card.is_file():
        return ""
    lines = card.read_text(encoding="utf-8").splitlines()[:max_lines]
    return readable_card("\n".join(lines))
