"""Write any combination of the three reports from one analysis (shared by the CLI and GUI)."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ids_desktop.core import vocabulary
from ids_desktop.core.analysis import Analysis
from ids_desktop.core.report.build import (
    ExplanationItem,
    anomaly_only,
    build_report,
    ranking,
    story_order,
    top_rows,
)
from ids_desktop.core.tasks import Cancel, Progress, check_cancel

if TYPE_CHECKING:
    from ids_desktop.core.explain.explainer import Explanation
    from ids_desktop.core.explain.service import ExplanationCache, Unexpected


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
        Flagged flows listed in the PDF, shared out over the incidents (3 to 10 each).
    explain_k
        Incidents whose top flow is explained with LIME, most urgent first (PDF charts, CSV
        sentences, EVE contributions).
    page_size
        ``A4`` or ``letter``.
    cache, cache_key
        Explanations already computed (the GUI's cache and its ``(input key, model key)``,
        see ``gui.tab_tasks.explain_key``): reused, and the new ones are added to it.
    workers
        Flows explained at once (``None``: one per two cores, 2 to 4).
    """

    pdf: Path | None = None
    csv: Path | None = None
    jsonl: Path | None = None
    all_flows: bool = False
    top_n: int = 200
    explain_k: int = 20
    page_size: str = "A4"
    cache: ExplanationCache | None = None
    cache_key: tuple[str, str] | None = None
    workers: int | None = None


def explain_top(
    analysis: Analysis, k: int, *, cancel: Cancel | None = None, progress: Progress | None = None
) -> tuple[list[ExplanationItem], list[str]]:
    """LIME explanations of the ``k`` highest-scoring flagged flows, one after another, and any
    warnings. What reports did before issue 35 (one loud attacker took every place);
    ``bench/report.py`` compares it with :func:`explain_incidents`."""
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


def report_rows(analysis: Analysis, k: int) -> list[int]:
    """The rows a report explains: the top flow of each incident the model's classifier or a
    detector flagged, most urgent incident first, at most ``k`` (the highest-scoring flagged
    flows when there are no incidents)."""
    if k <= 0:
        return []
    flows = analysis.flows
    if analysis.incidents:
        # LIME explains the classifier; a flow flagged by its anomaly score alone was judged
        # benign by it, so a chart would explain the wrong decision (the PDF states the score)
        keys = ranking(flows)
        rows = [top_rows(flows, inc.rows, 1, keys) for inc in story_order(analysis.incidents)
                if not anomaly_only(inc.flagged_by)]
        return [int(r[0]) for r in rows if len(r)][:k]
    flagged = np.flatnonzero(flows["flagged"].fillna(False).to_numpy(dtype=bool))
    return [int(r) for r in top_rows(flows, flagged, k)]


def unusual_rows(analysis: Analysis) -> list[int]:
    """The top flow of each incident flagged by the anomaly score alone, most urgent first:
    the rows :func:`report_rows` leaves out, whose reports say what the model expected least
    (:func:`explain_unusual`)."""
    flows = analysis.flows
    keys = ranking(flows)
    rows = [top_rows(flows, inc.rows, 1, keys) for inc in story_order(analysis.incidents)
            if anomaly_only(inc.flagged_by)]
    return [int(r[0]) for r in rows if len(r)]


def explain_unusual(analysis: Analysis, *, cancel: Cancel | None = None
                    ) -> dict[int, list[Unexpected]]:  # fmt: skip
    """``flow_id`` -> the inputs the model expected least, for each anomaly-only incident's
    top flow (the model's reconstruction, no LIME; empty when the model explains nothing)."""
    rows = unusual_rows(analysis) if analysis.run is not None else []
    if not rows:
        return {}
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.errors import ModelError

    try:
        explainer = BundleExplainer.for_analysis(analysis)
    except ModelError:
        return {}
    ids = analysis.flows["flow_id"].to_numpy()
    found = explainer.unexpected(rows, cancel=cancel)
    return {int(ids[row]): missed for row, missed in zip(rows, found, strict=True) if missed}


def unexpected_json(unusual: dict[int, list[Unexpected]]) -> dict[int, list[dict[str, Any]]]:
    """:func:`explain_unusual`'s answer as the EVE alerts' ``ml.unexpected`` lists."""
    return {
        flow_id: [{"feature": m.feature, "value": _json_number(m.value),
                   "expected": _json_number(m.expected)} for m in missed]
        for flow_id, missed in unusual.items()
    }


def flow_heading(flows: pd.DataFrame, row: int) -> str:
    """``"203.0.113.66:40112 → 192.168.20.30:22 TCP, 2023-11-14 22:19:20 UTC"``."""
    rec = flows.iloc[int(row)]

    def text(column: str) -> str:
        value = rec.get(column)
        return "" if value is None or value is pd.NA or pd.isna(value) else str(value)

    def end(ip: str, port: str) -> str:
        if not port:
            return ip or "?"
        return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"

    head = f"{end(text('src_ip'), text('src_port'))} → {end(text('dst_ip'), text('dst_port'))}"
    proto = vocabulary.protocol_name(rec.get("protocol")) if text("protocol") else ""
    when = pd.to_numeric(pd.Series([rec.get("first_seen")]), errors="coerce").iloc[0]
    stamp = ""
    if pd.notna(when) and abs(float(when)) < 9.2e9:
        stamp = pd.Timestamp(round(float(when) * 1000), unit="ms", tz="UTC").strftime(
            "%Y-%m-%d %H:%M:%S UTC")
    return ", ".join(x for x in (f"{head} {proto}".strip(), stamp) if x)


def explain_rows(
    analysis: Analysis,
    rows: list[int],
    *,
    cache: ExplanationCache | None = None,
    cache_key: tuple[str, str] | None = None,
    workers: int | None = None,
    cancel: Cancel | None = None,
    progress: Progress | None = None,
) -> dict[int, Explanation]:
    """Explanations of ``rows`` (frame rows): from ``cache`` where it has them, the rest
    computed ``workers`` at a time (each thread its own LIME explainer: they keep state).

    The model's thread pool splits one explanation's perturbations, but LIME's sampling and
    its ridge fit are single-threaded: two flows at once keep the cores busy between model
    calls. New explanations are added to ``cache``.
    """
    from ids_desktop.core.explain.service import BundleExplainer
    from ids_desktop.core.model.runtime import available_cores

    def key(row: int) -> tuple[str, int, str, int] | None:
        return None if cache_key is None else (cache_key[0], int(row), cache_key[1], 0)

    done: dict[int, Explanation] = {}
    if cache is not None and cache_key is not None:
        for row in rows:
            hit = cache.get(key(row))  # type: ignore[arg-type]
            if hit is not None:
                done[row] = hit
    todo = [r for r in rows if r not in done]
    if progress is not None:
        progress(len(done), len(rows), "explaining incidents")
    if not todo:
        return done
    local = threading.local()

    def explain(row: int) -> tuple[int, Explanation]:
        check_cancel(cancel)
        explainer = getattr(local, "explainer", None)
        if explainer is None:
            explainer = local.explainer = BundleExplainer.for_analysis(analysis)
        return row, explainer.explain_row(int(row), cancel=cancel)

    # two at a time already helps on 2 cores (5 demo incidents: 7.7 s alone, 6.0 s in pairs)
    n = max(1, min(len(todo), workers or min(4, max(2, available_cores() // 2))))
    if n == 1:
        results = (explain(r) for r in todo)
        for row, exp in results:
            done[row] = exp
            _remember(cache, key(row), exp)
            if progress is not None:
                progress(len(done), len(rows), "explaining incidents")
        return done
    from concurrent.futures import ThreadPoolExecutor, as_completed

    pool = ThreadPoolExecutor(n, thread_name_prefix="ids-explain")
    try:
        futures = [pool.submit(explain, r) for r in todo]
        for future in as_completed(futures):
            row, exp = future.result()
            done[row] = exp
            _remember(cache, key(row), exp)
            check_cancel(cancel)
            if progress is not None:
                progress(len(done), len(rows), "explaining incidents")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done


def _remember(cache: ExplanationCache | None, key: tuple[str, int, str, int] | None,
              exp: Explanation) -> None:
    if cache is not None and key is not None:
        cache.put(key, exp)


def explain_incidents(
    analysis: Analysis,
    k: int,
    *,
    cache: ExplanationCache | None = None,
    cache_key: tuple[str, str] | None = None,
    workers: int | None = None,
    cancel: Cancel | None = None,
    progress: Progress | None = None,
) -> tuple[list[ExplanationItem], list[str]]:
    """Explanations of each incident's top flow (:func:`report_rows`), and any warnings."""
    if k <= 0 or analysis.run is None:
        return [], []
    from ids_desktop.errors import ModelError

    rows = report_rows(analysis, k)
    if not rows:
        return [], []
    try:
        found = explain_rows(analysis, rows, cache=cache, cache_key=cache_key, workers=workers,
                             cancel=cancel, progress=progress)
    except ModelError as exc:
        return [], [f"no explanations: {exc}"]
    flows = analysis.flows
    items = []
    for row in rows:
        exp = found[row]
        items.append(ExplanationItem(
            flow_id=int(flows["flow_id"].iat[row]),
            sentence=exp.sentence,
            contributions=[(c.display, c.weight) for c in exp.contributions],
            heading=flow_heading(flows, row),
            r2=float(exp.fidelity_r2),
        ))
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
    items, warnings = explain_incidents(
        analysis, request.explain_k, cache=request.cache, cache_key=request.cache_key,
        workers=request.workers, cancel=cancel, progress=progress,
    )
    from ids_desktop.core.explain.service import unexpected_clause

    unusual = explain_unusual(analysis, cancel=cancel)
    sentences = {item.flow_id: item.sentence for item in items}
    for flow_id, missed in unusual.items():
        sentences.setdefault(flow_id, UNUSUAL_SENTENCE + unexpected_clause(missed))
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
        _write_all(analysis, request, items, warnings, sentences, contributions, unusual, stage,
                   progress, cancel)
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
    unusual: dict[int, list[Unexpected]],
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
                    unexpected=unexpected_json(unusual), progress=progress, cancel=cancel)
    if request.pdf is not None:
        from ids_desktop.core.report.pdf_writer import write_pdf

        check_cancel(cancel)
        report = build_report(analysis, top_n=request.top_n, explanations=items,
                              evaluation=analysis.evaluation, warnings=warnings,
                              unexpected={f: [m.text for m in ms] for f, ms in unusual.items()})
        write_pdf(report, stage(request.pdf), page_size=request.page_size, progress=progress,
                  cancel=cancel)


#: The CSV's explanation of an anomaly-only incident's top flow, before what it expected least.
UNUSUAL_SENTENCE = ("Flagged by its anomaly score alone: it is unlike the benign flows the model "
                    "was trained on, and the classifier judged it benign.")


def _json_number(value: float) -> float | None:
    """``value`` to four significant figures for JSON (``None`` when not finite; 0 below
    1e-6, as the explanation's text shows it: what is left of a zero through the scaling)."""
    if not np.isfinite(value):
        return None
    return 0.0 if abs(value) < 1e-6 else float(f"{value:.4g}")
