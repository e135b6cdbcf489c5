"""Write any combination of the three reports from one analysis (shared by the CLI and GUI)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ids_desktop.core.report.build import ExplanationItem, build_report
from ids_desktop.core.tasks import Progress, check_cancel
from ids_desktop.core.workflow import Analysis


@dataclass
class ExportRequest:
    """What to write. Paths left ``None`` are skipped.

    Attributes
    ----------
    pdf, csv, jsonl
        Targets of the PDF report, the CSV and the JSON Lines alerts.
    all_flows
        The CSV holds every flow instead of only the flagged ones.
    top_n
        Flagged flows listed in the PDF table.
    explain_k
        Top flagged flows explained with LIME (PDF charts, CSV sentences, EVE contributions).
    page_size
        ``A4`` or ``letter``.
    """

    pdf: Path | None = None
    csv: Path | None = None
    jsonl: Path | None = None
    all_flows: bool = False
    top_n: int = 200
    explain_k: int = 20
    page_size: str = "A4"


def explain_top(
    analysis: Analysis, k: int, *, cancel: object | None = None, progress: Progress | None = None
) -> tuple[list[ExplanationItem], list[str]]:
    """LIME explanations of the ``k`` highest-scoring flagged flows, and any warnings."""
    if k <= 0 or analysis.summary is None:
        return [], []
    from ids_desktop.core.analysis import get_bundle
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.errors import ModelError

    flows = analysis.flows
    flagged = flows[flows["flagged"].fillna(False).astype(bool)]
    top = flagged.sort_values("pred_score", ascending=False, kind="stable").head(k)
    if top.empty:
        return [], []
    try:
        bundle = get_bundle(analysis.summary["model"], analysis.result.feature_format)
        explainer = BundleExplainer(bundle, analysis.result.frame, analysis.result.temporal)
    except ModelError as exc:
        return [], [f"no explanations: {exc}"]
    items = []
    for i, row in enumerate(top.index):
        check_cancel(cancel)
        exp = explainer.explain_row(int(row), cancel=cancel)
        items.append(
            ExplanationItem(
                flow_id=int(flows.at[row, "flow_id"]),
                sentence=exp.sentence,
                contributions=[(c.display, c.weight) for c in exp.contributions],
            )
        )
        if progress is not None:
            progress(i + 1, len(top), "explaining flagged flows")
    return items, []


def export_reports(
    analysis: Analysis,
    request: ExportRequest,
    *,
    evaluation: dict[str, Any] | None = None,
    progress: Progress | None = None,
    cancel: object | None = None,
) -> list[Path]:
    """Write the requested reports: all of them appear (each atomically), or none does."""
    if analysis.summary is None:
        from ids_desktop.errors import ReportError

        raise ReportError(f"nothing to report: no model scored this input ({analysis.note})")
    items, warnings = explain_top(analysis, request.explain_k, cancel=cancel, progress=progress)
    sentences = {item.flow_id: item.sentence for item in items}
    contributions = {
        item.flow_id: [{"feature": label, "weight": round(w, 6)} for label, w in item.contributions[:5]]
        for item in items
    }
    # All or nothing: each report is written (atomically) to a hidden staging file beside its
    # target, and the staged files are renamed into place only once every report is done. A
    # cancel or an error in the last report leaves none of them, not the first ones alone.
    staged: list[tuple[Path, Path]] = []

    def stage(target: Path) -> Path:
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".staged", dir=target.parent)
        os.close(fd)
        staged.append((Path(name), target))
        return Path(name)

    try:
        _write_all(analysis, request, evaluation, items, warnings, sentences, contributions,
                   stage, progress, cancel)  # fmt: skip
        check_cancel(cancel)
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise
    return [target for _, target in staged]


def _write_all(
    analysis: Analysis,
    request: ExportRequest,
    evaluation: dict[str, Any] | None,
    items: list[ExplanationItem],
    warnings: list[str],
    sentences: dict[int, str],
    contributions: dict[int, list[dict[str, Any]]],
    stage: Callable[[Path], Path],
    progress: Progress | None,
    cancel: object | None,
) -> None:
    """Write the requested reports to the paths ``stage(target)`` gives."""
    from ids_desktop.core.report.csv_writer import write_csv
    from ids_desktop.core.report.eve import write_jsonl

    assert analysis.summary is not None
    model = str(analysis.summary["model"])
    if request.csv is not None:
        write_csv(analysis.flows, stage(request.csv), flagged_only=not request.all_flows,
                  explanations=sentences, progress=progress, cancel=cancel)  # fmt: skip
    if request.jsonl is not None:
        write_jsonl(analysis.flows, stage(request.jsonl), model=model, contributions=contributions,
                    progress=progress, cancel=cancel)  # fmt: skip
    if request.pdf is not None:
        from ids_desktop.core.analysis import get_bundle
        from ids_desktop.core.report.pdf_writer import write_pdf

        check_cancel(cancel)
        bundle = get_bundle(model, analysis.result.feature_format)
        meta = dict(bundle.metadata)
        meta.setdefault("version", f"{str(meta.get('model_sha256', ''))[:12]} (model.keras SHA-256)")
        meta.setdefault("headline", headline_metrics(meta))
        meta.setdefault("card_summary", _card_summary(Path(bundle.path)))
        report = build_report(
            analysis.flows,
            source=Path(analysis.result.source) if analysis.result.source else Path(model),
            input_format=analysis.result.format,
            model_meta=meta,
            top_n=request.top_n,
            explanations=items,
            evaluation=evaluation,
            warnings=list(analysis.result.warnings) + warnings,
            findings=[f"ARP check: {s}; the flows it may have relayed are flagged as mitm."
                      for s in analysis.result.meta.get("arp_spoofing", [])],
        )
        write_pdf(report, stage(request.pdf), page_size=request.page_size, progress=progress, cancel=cancel)


def headline_metrics(meta: dict[str, Any]) -> dict[str, float]:
    """A bundle's test-split headline (hybrid attack F1, FAR, ROC-AUC) from its metadata."""
    binary = meta.get("metrics", {}).get("hybrid", {}).get("binary", {})
    return {k: float(binary[k]) for k in ("f1", "far", "roc_auc") if isinstance(binary.get(k), (int, float))}


def _card_summary(bundle_path: Path, max_lines: int = 40) -> str:
    """The model card's opening lines (data, split, headline results), as plain text."""
    card = bundle_path / "MODEL_CARD.md"
    if not card.is_file():
        return ""
    lines = card.read_text(encoding="utf-8").splitlines()[:max_lines]
    return "\n".join(line.lstrip("#").strip() for line in lines)
