"""Results -> a plain ``ReportData`` value that the PDF writer (and anything else) renders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop import __version__
from ids_desktop.core.analysis import Analysis


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
    """

    flow_id: int
    sentence: str
    contributions: list[tuple[str, float]]


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
    """
    if analysis.run is None:
        from ids_desktop.errors import ReportError

        raise ReportError(f"nothing to report: no model scored this input ({analysis.note})")
    flows = analysis.flows
    bundle = analysis.run.bundle
    meta = bundle.metadata
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
    )


def headline_metrics(meta: dict[str, Any]) -> dict[str, float]:
    """A bundle's test-split headline (hybrid attack F1, FAR, ROC-AUC) from its metadata."""
    binary = meta.get("metrics", {}).get("hybrid", {}).get("binary", {})
    return {
        k: float(binary[k])
        for k in ("f1", "far", "roc_auc")
        if isinstance(binary.get(k), (int, float))
    }


def card_summary(bundle_path: Path, max_lines: int = 40) -> str:
    """The model card's opening lines (data, split, headline results), as plain text."""
    card = bundle_path / "MODEL_CARD.md"
    if not card.is_file():
        return ""
    lines = card.read_text(encoding="utf-8").splitlines()[:max_lines]
    return "\n".join(line.lstrip("#").strip() for line in lines)
