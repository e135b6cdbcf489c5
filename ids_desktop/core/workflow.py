"""The one path from a file to verdicts: ingest, resolve the bundle once, score, record.

``analyze``, ``evaluate``, ``explain``, the reports, the window and the benchmarks all start
with :func:`run_analysis`; what it returns (:class:`~ids_desktop.core.analysis.Analysis`)
carries everything later steps reuse: the bundle, the file's SHA-256, the features, windows
and scores, the verdicts, the evaluation and the findings of checks besides the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ids_desktop.core.analysis import (
    Analysis,
    ModelRun,
    get_bundle,
    score,
    verdict_columns,
    with_verdicts,
)
from ids_desktop.core.detect import detect_all
from ids_desktop.core.incidents import group, incident_ids
from ids_desktop.core.ingest import ingest
from ids_desktop.core.model.bundle import resolve_bundle_path
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import InputError, ModelError


def run_analysis(
    path: str | Path,
    options: AnalysisOptions | None = None,
    *,
    models_dir: str | Path | None = None,
    require_labels: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    on_flows: Callable[[pd.DataFrame], None] | None = None,
) -> Analysis:
    """Ingest ``path`` and score it with the bundle ``options.model`` names.

    Parameters
    ----------
    path
        A capture or a flow table (format detected from its content).
    options
        Model, threshold, flow timeouts, read sizes (defaults: :class:`AnalysisOptions`).
    models_dir
        Where bundles live (default: the app's ``models/``).
    require_labels
        Raise :class:`~ids_desktop.errors.InputError` right after ingest when the file
        carries no labels (``evaluate`` needs them), before any scoring.
    progress, cancel
        Hooks, see :mod:`ids_desktop.core.tasks`.
    on_flows
        Receives the unscored flows before the model runs, so a viewer can show them early:
        batches while a capture's flows are extracted, or the whole table at once after a
        flow table is read. Every flow is handed over exactly once, on the calling thread;
        the returned analysis supersedes the batches.

    Returns
    -------
    Analysis
        With ``run`` set when a model scored the flows. When ``options.model`` is ``auto``
        and no bundle serves the input's format, the flows come without verdicts and
        ``note`` says why; any other model problem (a tampered bundle, a wrong explicit
        model) raises :class:`~ids_desktop.errors.ModelError`.
    """
    options = options or AnalysisOptions()
    path = Path(path)
    handed = [0]

    def hand_over(batch: pd.DataFrame) -> None:
        handed[0] += len(batch)
        if on_flows is not None:
            on_flows(batch)

    result = ingest(
        path,
        progress=progress,
        cancel=cancel,
        idle_timeout=options.idle_timeout,
        active_timeout=options.active_timeout,
        meter_nice=options.meter_nice,
        chunk_rows=options.csv_chunk_rows,
        on_flows=hand_over if on_flows is not None else None,
    )
    check_cancel(cancel)
    if require_labels and not result.labelled:
        raise InputError("the input has no labels; evaluate needs a labelled file (use analyze)")
    if on_flows is not None and handed[0] == 0 and len(result.frame):
        on_flows(result.frame)
    # The detectors read nfstream's columns and the walk's packet facts: captures only (and
    # the app's own export of capture flows, which keeps the columns but not the packets).
    findings = detect_all(result, cancel=cancel) if result.feature_format == "pcap" else ()
    if options.model == "auto":
        try:
            resolve_bundle_path("auto", result.feature_format, models_dir)
        except ModelError as exc:
            return Analysis(path, options, result, result.frame, note=str(exc),
                            findings=findings)
    t0 = time.perf_counter()
    bundle = get_bundle(options.model, result.feature_format, models_dir)
    check_cancel(cancel)
    features, windows, scores = score(result, bundle, options.threshold, progress=progress,
                                      cancel=cancel)
    threshold = bundle.threshold if options.threshold is None else float(options.threshold)
    run = ModelRun(bundle, features, windows, scores, threshold, time.perf_counter() - t0)
    flows = with_verdicts(result.frame, verdict_columns(scores, findings, len(result.frame)))
    incidents = group(flows, findings, file_sha256=result.sha256,
                      model_sha256=str(bundle.metadata.get("model_sha256", "")))
    flows["incident_id"] = incident_ids(incidents, len(flows))
    return Analysis(path, options, result, flows, run, findings=findings, incidents=incidents)
