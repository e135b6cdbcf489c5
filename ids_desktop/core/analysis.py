"""Score flows with a bundled model (``analyze``) and measure it on labelled files (``evaluate``)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.ingest import arp
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.schema import BENIGN
from ids_desktop.core.tasks import Progress, check_cancel
from ids_desktop.errors import InputError, ModelError, SchemaError

# No TensorFlow here at import time: ids_desktop.core.model.bundle imports Keras only inside
# load_bundle(), so `import ids_desktop.core.analysis` (CLI --help, GUI start) stays cheap.
from ids_desktop.core.model import metrics as M
from ids_desktop.core.model.verdicts import UNKNOWN_ATTACK
from ids_desktop.core.model.bundle import (
    Bundle,
    Scores,
    load_bundle,
    resolve_bundle_path,
)

#: Columns ``analyze`` adds to the canonical frame.
PREDICTION_COLUMNS = ("pred_class", "pred_score", "anomaly_score", "flagged")

_CACHE: dict[tuple[str, str], Bundle] = {}


def get_bundle(
    model: str | Path = "auto",
    feature_format: str | None = None,
    models_dir: str | Path | None = None,
) -> Bundle:
    """Load (once per process) the bundle chosen by ``model`` or, for ``auto``, the format."""
    from ids_desktop.core.model.bundle import read_metadata

    path = resolve_bundle_path(model, feature_format, models_dir).resolve()
    key = (str(path), str(read_metadata(path)["model_sha256"]))
    if key not in _CACHE:
        _CACHE[key] = load_bundle(path)
    return _CACHE[key]


def _as_result(path_or_result: str | Path | IngestResult, progress, cancel) -> IngestResult:
    if isinstance(path_or_result, IngestResult):
        return path_or_result
    from ids_desktop.core.ingest import ingest

    return ingest(path_or_result, progress=progress, cancel=cancel)


def _score(result: IngestResult, bundle: Bundle, threshold, progress, cancel):
    if bundle.feature_format != result.feature_format:
        missing = [c for c in bundle.preprocessor.input_columns if c not in result.frame.columns]
        if missing:
            raise ModelError(
                f"model '{bundle.name}' reads '{bundle.feature_format}' features but the input "
                f"has '{result.feature_format}' features ({len(missing)} columns missing); "
                "choose a matching model or leave --model at auto"
            )
    try:
        scores = bundle.score(result.frame, temporal=result.temporal, threshold=threshold,
                              progress=progress, cancel=cancel)
    except SchemaError as exc:
        raise ModelError(f"model '{bundle.name}' cannot read this input: {exc}") from None
    return with_arp_check(result.frame, scores)


def with_arp_check(frame: pd.DataFrame, scores: Scores) -> Scores:
    """The bundle's verdicts plus the capture ingest's ARP check.

    A flow the check marked (an ``arp_note``: it may have been relayed by a host spoofing
    ARP, see :mod:`ids_desktop.core.ingest.arp`) is flagged; its verdict is ``mitm`` unless
    the model flagged it already, whose family then stands. ``pred_score`` and
    ``anomaly_score`` stay the model's.
    """
    if arp.NOTE_COLUMN not in frame.columns:
        return scores
    noted = frame[arp.NOTE_COLUMN].notna().to_numpy(dtype=bool)
    if not noted.any():
        return scores
    pred_class = scores.pred_class.copy()
    pred_class[noted & ~scores.flagged] = arp.FAMILY
    return dataclasses.replace(scores, flagged=scores.flagged | noted, pred_class=pred_class)


def analyze(
    path_or_result: str | Path | IngestResult,
    model: str | Path = "auto",
    threshold: float | None = None,
    *,
    models_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: object | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Score every flow of a file (or an already ingested result).

    Parameters
    ----------
    path_or_result
        A capture or flow table path, or an :class:`IngestResult`.
    model
        ``auto`` (the bundle serving the input's feature format), a bundle name or a folder.
    threshold
        Override of the bundle's decision threshold on ``pred_score``.
    models_dir
        Where bundles live (default: the app's ``models/``).
    progress, cancel
        Hooks, see :mod:`ids_desktop.core.tasks`.

    Returns
    -------
    summary : dict
        Exactly ``format``, ``model``, ``flows``, ``flagged``, ``by_class`` (predicted class
        -> count among flagged flows), ``temporal_context`` and ``seconds``.
    flows : pandas.DataFrame
        The canonical frame plus ``pred_class``, ``pred_score`` (probability of attack),
        ``anomaly_score`` and ``flagged``.
    """
    t0 = time.perf_counter()
    result = _as_result(path_or_result, progress, cancel)
    check_cancel(cancel)
    bundle = get_bundle(model, result.feature_format, models_dir)
    scores = _score(result, bundle, threshold, progress, cancel)
    # A shallow copy: pandas 3's copy-on-write keeps the ingested table (about 1 GB for a
    # million flows) shared until one side writes to it.
    flows = result.frame.copy(deep=False)
    flows["pred_class"] = scores.pred_class
    flows["pred_score"] = scores.pred_score
    flows["anomaly_score"] = scores.anomaly_score
    flows["flagged"] = scores.flagged.astype(bool)
    counts = pd.Series(scores.pred_class[scores.flagged]).value_counts()
    summary = {
        "format": result.format,
        "model": bundle.name,
        "flows": int(len(flows)),
        "flagged": int(scores.flagged.sum()),
        "by_class": {str(k): int(v) for k, v in counts.items()},
        "temporal_context": bool(result.temporal and bundle.seq_len > 1),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    return summary, flows


def evaluate(
    path_or_result: str | Path | IngestResult,
    model: str | Path = "auto",
    *,
    models_dir: str | Path | None = None,
    progress: Progress | None = None,
    cancel: object | None = None,
) -> dict[str, Any]:
    """Measure a bundle on a labelled file, against the file's own labels.

    Per-class metrics are over the shared family vocabulary (``label_class``), so datasets
    with grouped labels (the cleaned CIC-IDS2017 export) compare family to family. Rows whose
    truth is the family-less ``attack`` (NSL-KDD's ARFF ``anomaly``) count any predicted
    attack family as ``attack``.

    Returns
    -------
    dict
        Exactly ``model``, ``n``, ``binary`` (``precision``, ``recall``, ``f1``,
        ``accuracy``, ``far``, ``roc_auc``; attack positive), ``per_class`` (name ->
        ``precision``, ``recall``, ``f1``, ``support``) and ``confusion`` (``labels``,
        ``matrix``).

    Raises
    ------
    InputError
        When the input carries no labels.
    """
    result = _as_result(path_or_result, progress, cancel)
    if not result.labelled:
        raise InputError("the input has no labels; evaluate needs a labelled file (use analyze)")
    check_cancel(cancel)
    bundle = get_bundle(model, result.feature_format, models_dir)
    scores = _score(result, bundle, None, progress, cancel)
    return _metrics(result.frame, bundle.name, scores.flagged, scores.pred_score, scores.pred_class)


def evaluate_flows(result: IngestResult, flows: pd.DataFrame, model: str) -> dict[str, Any]:
    """:func:`evaluate`'s report from an already scored frame (``analyze``'s output).

    The GUI and ``analyze --report`` have the verdicts already; scoring the file a second
    time would double the work. ``flows`` must come from ``analyze`` at the bundle's own
    threshold for the numbers to equal ``evaluate``'s.
    """
    if not result.labelled:
        raise InputError("the input has no labels; evaluate needs a labelled file (use analyze)")
    return _metrics(
        flows,
        model,
        flows["flagged"].to_numpy(dtype=bool),
        flows["pred_score"].to_numpy(dtype="float64"),
        flows["pred_class"].to_numpy(dtype=object),
    )


def _metrics(
    frame: pd.DataFrame,
    model: str,
    flagged: np.ndarray,
    pred_score: np.ndarray,
    pred_class: pd.api.extensions.ExtensionArray,
) -> dict[str, Any]:
    has = frame["label_binary"].notna().to_numpy()
    y = frame["label_binary"].to_numpy(dtype="float64", na_value=np.nan)[has].astype(int)
    truth = frame["label_class"].astype("string").fillna(
        frame["label_binary"].map({0: BENIGN, 1: UNKNOWN_ATTACK}).astype("string")
    ).to_numpy(dtype=object)[has]
    pred = pred_class[has].astype(object)
    familyless = truth == UNKNOWN_ATTACK
    pred = np.where(familyless & (pred != BENIGN), UNKNOWN_ATTACK, pred)
    labels = sorted(set(truth.tolist()) | set(pred.tolist()), key=lambda c: (c != BENIGN, c))
    return {
        "model": model,
        "n": int(has.sum()),
        "binary": M.binary_metrics(y, flagged[has], pred_score[has]),
        "per_class": M.per_class(truth, pred, labels),
        "confusion": M.confusion(truth, pred, labels),
    }


def list_models(models_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Every bundle with its feature format and headline test metrics (for ``models``)."""
    from ids_desktop.core.model.bundle import list_bundles

    return list_bundles(models_dir)
