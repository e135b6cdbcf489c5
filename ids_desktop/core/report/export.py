"""Write any combination of the three reports from one analysis (shared by the CLI and GUI)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ids_desktop.core.analysis import Analysis
from ids_desktop.core.report.build import ExplanationItem, build_report
from ids_desktop.core.tasks import Cancel, Progress, check_cancel


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
    analysis: Analysis, k: int, *, cancel: Cancel | None = None, progress: Progress | None = None
) -> tuple[list[ExplanationItem], list[str]]:
    """LIME explanations of the ``k`` highest-scoring flagged flows, and any warnings."""
    if k <= 0 or analysis.run is None:
        return [], []
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.errors import ModelError

    flows = analysis.flows
    flagged = flows[flows["flagged"].fillna(False).astype(bool)]
    top = flagged.sort_values("pred_score", ascending=False, kind="stable").head(k)
    if top.empty:
        return [], []
    try:
        explainer = BundleExplainer.for_analysis(analysis)
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
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> list[Path]:
    """Write the requested reports: all of them appear (each atomically), or none does.

    The PDF of a labelled input carries the evaluation against its labels.
    """
    if analysis.run is None:
        from ids_desktop.errors import ReportError

        raise ReportError(f"nothing to report: no model scored this input ({analysis.note})")
    items, warnings = explain_top(analysis, request.explain_k, cancel=cancel, progress=progress)
    sentences = {item.flow_id: item.sentence for item in items}
    contributions = {
        item.flow_id: [
            {"feature": label, "weight": round(w, 6)} for label, w in item.contributions[:5]
        ]
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
        _write_all(analysis, request, items, warnings, sentences, contributions, stage, progress,
                   cancel)
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
    items: list[ExplanationItem],
    warnings: list[str],
    sentences: dict[int, str],
    contributions: dict[int, list[dict[str, Any]]],
    stage: Callable[[Path], Path],
    progress: Progress | None,
    cancel: Cancel | None,
) -> None:
    """Write the requested reports to the paths ``stage(target)`` gives."""
    from ids_desktop.core.report.csv_writer import write_csv
    from ids_desktop.core.report.eve import write_jsonl

    assert analysis.run is not None
    model = analysis.run.bundle.name
    if request.csv is not None:
        write_csv(analysis.flows, stage(request.csv), flagged_only=not request.all_flows,
                  explanations=sentences, progress=progress, cancel=cancel)
    if request.jsonl is not None:
        write_jsonl(analysis.flows, stage(request.jsonl), model=model, contributions=contributions,
                    progress=progress, cancel=cancel)
    if request.pdf is not None:
        from ids_desktop.core.report.pdf_writer import write_pdf

        check_cancel(cancel)
        report = build_report(analysis, top_n=request.top_n, explanations=items,
                              evaluation=analysis.evaluation, warnings=warnings)
        write_pdf(report, stage(request.pdf), page_size=request.page_size, progress=progress,
                  cancel=cancel)
