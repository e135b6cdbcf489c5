"""The analysis record: one file's flows, the model's verdicts and what later steps reuse.

:func:`ids_desktop.core.workflow.run_analysis` is the only road from a file to an
:class:`Analysis`; this module holds the record and the steps it is built from (scoring a
frame with a bundle, the ARP check's flags, the evaluation against the file's labels).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.ingest import arp
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.model import metrics as M
from ids_desktop.core.model.bundle import (
    Bundle,
    Scores,
    load_bundle,
    read_metadata,
    resolve_bundle_path,
)
from ids_desktop.core.model.verdicts import UNKNOWN_ATTACK
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.schema import BENIGN
from ids_desktop.core.tasks import Cancel, Progress
from ids_desktop.errors import ModelError, SchemaError

#: Columns the verdicts add to the canonical frame.
PREDICTION_COLUMNS = ("pred_class", "pred_score", "anomaly_score", "flagged")

_CACHE: dict[tuple[str, str], Bundle] = {}


def get_bundle(
    model: str | Path = "auto",
    feature_format: str | None = None,
    models_dir: str | Path | None = None,
) -> Bundle:
    """Load (once per process) the bundle chosen by ``model`` or, for ``auto``, the format."""
    path = resolve_bundle_path(model, feature_format, models_dir).resolve()
    key = (str(path), str(read_metadata(path)["model_sha256"]))
    if key not in _CACHE:
        _CACHE[key] = load_bundle(path)
    return _CACHE[key]


@dataclass(frozen=True)
class Finding:
    """What a check besides the model found in the file, in one sentence.

    Attributes
    ----------
    detector
        The check's name (``arp``).
    family
        The family of the flows it flags (``mitm``).
    summary
        One plain sentence with the facts, as the reports print it.
    """

    detector: str
    family: str
    summary: str


@dataclass(frozen=True)
class ModelRun:
    """What scoring computed, kept so that explanations and the evaluation reuse it.

    Attributes
    ----------
    bundle
        The bundle that scored the file (resolved once per analysis).
    features
        The scaled feature matrix ``(n, F)``, rows aligned with the flows.
    windows
        The row-index windows the network read (see :meth:`Bundle.windows`).
    scores
        The app's verdicts: the bundle's at ``threshold``, plus the ARP check's flags.
    threshold
        The decision threshold used: the bundle's own or the options' override.
    seconds
        Wall time of the scoring step.
    """

    bundle: Bundle
    features: np.ndarray
    windows: np.ndarray
    scores: Scores
    threshold: float
    seconds: float


@dataclass(frozen=True)
class Analysis:
    """One analysed file.

    Attributes
    ----------
    path
        The file that was read.
    options
        The options it was analysed with.
    result
        The ingest result (canonical frame, format, warnings, facts, the file's SHA-256).
    flows
        The frame to display: canonical columns plus :data:`PREDICTION_COLUMNS` when a model
        ran.
    run
        The model's run, or ``None`` when no bundle serves the input's format.
    note
        Why no model ran, in one line ("" when one did).
    findings
        What checks besides the model found (the capture ingest's ARP check).
    """

    path: Path
    options: AnalysisOptions
    result: IngestResult
    flows: pd.DataFrame
    run: ModelRun | None = None
    note: str = ""
    findings: tuple[Finding, ...] = ()

    @property
    def file_sha256(self) -> str:
        """The file's SHA-256, computed while the ingest read it."""
        return self.result.sha256

    @property
    def bundle(self) -> Bundle | None:
        return None if self.run is None else self.run.bundle

    @property
    def model_name(self) -> str | None:
        return None if self.run is None else self.run.bundle.name

    @property
    def summary(self) -> dict[str, Any] | None:
        """``analyze``'s summary, or ``None`` when no model ran.

        Exactly ``format``, ``model``, ``flows``, ``flagged``, ``by_class`` (predicted class
        -> count among flagged flows), ``temporal_context`` and ``seconds`` (the scoring step).
        """
        if self.run is None:
            return None
        s = self.run.scores
        counts = pd.Series(s.pred_class[s.flagged]).value_counts()
        return {
            "format": self.result.format,
            "model": self.run.bundle.name,
            "flows": int(len(self.flows)),
            "flagged": int(s.flagged.sum()),
            "by_class": {str(k): int(v) for k, v in counts.items()},
            "temporal_context": bool(self.result.temporal and self.run.bundle.seq_len > 1),
            "seconds": round(self.run.seconds, 3),
        }

    @functools.cached_property
    def evaluation(self) -> dict[str, Any] | None:
        """The bundle measured against the file's own labels (``evaluate``'s report), at the
        bundle's own threshold; ``None`` for unlabelled input or when no model ran.

        Computed on first use from the kept probabilities, so a threshold override never
        costs a second scoring pass.
        """
        if self.run is None or not self.result.labelled:
            return None
        run = self.run
        scores = run.scores
        if run.threshold != run.bundle.threshold:
            own = run.bundle.verdicts(scores.probs, scores.anomaly_score)
            scores = with_arp_check(self.result.frame, dataclasses.replace(
                scores, pred_score=own.p_attack, flagged=own.flagged, pred_class=own.pred_class()))
        return evaluation_report(self.result.frame, run.bundle.name, scores)


def score(
    result: IngestResult,
    bundle: Bundle,
    threshold: float | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> tuple[np.ndarray, np.ndarray, Scores]:
    """``(features, windows, scores)`` of every flow of ``result`` with ``bundle``.

    The scores are the app's verdicts: the bundle's at ``threshold`` (its own by default),
    plus the ARP check's flags (:func:`with_arp_check`).

    Raises
    ------
    ModelError
        When the bundle cannot read the input's features.
    """
    if bundle.feature_format != result.feature_format:
        missing = [c for c in bundle.preprocessor.input_columns if c not in result.frame.columns]
        if missing:
            raise ModelError(
                f"model '{bundle.name}' reads '{bundle.feature_format}' features but the input "
                f"has '{result.feature_format}' features ({len(missing)} columns missing); "
                "choose a matching model or leave --model at auto"
            )
    frame = result.frame
    try:
        x = bundle.features(frame, result.temporal)
    except SchemaError as exc:
        raise ModelError(f"model '{bundle.name}' cannot read this input: {exc}") from None
    windows = bundle.windows(frame, result.temporal)
    probs, anomaly = bundle.score_windows(x, windows, progress=progress, cancel=cancel)
    v = bundle.verdicts(probs, anomaly, threshold)
    scores = Scores(probs, v.p_attack, anomaly.astype(np.float64), v.flagged, v.pred_class())
    return x, windows, with_arp_check(frame, scores)


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


def with_verdicts(frame: pd.DataFrame, scores: Scores) -> pd.DataFrame:
    """``frame`` plus :data:`PREDICTION_COLUMNS` from ``scores``.

    A shallow copy: pandas 3's copy-on-write keeps the ingested table (about 1 GB for a
    million flows) shared until one side writes to it.
    """
    flows = frame.copy(deep=False)
    flows["pred_class"] = scores.pred_class
    flows["pred_score"] = scores.pred_score
    flows["anomaly_score"] = scores.anomaly_score
    flows["flagged"] = scores.flagged.astype(bool)
    return flows


def arp_findings(result: IngestResult) -> tuple[Finding, ...]:
    """The capture ingest's ARP check, as findings."""
    return tuple(
        Finding("arp", arp.FAMILY,
                f"ARP check: {s}; the flows it may have relayed are flagged as {arp.FAMILY}.")
        for s in result.meta.get("arp_spoofing", [])
    )


def evaluation_report(frame: pd.DataFrame, model: str, scores: Scores) -> dict[str, Any]:
    """A bundle's verdicts measured against ``frame``'s labels.

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
    """
    has = frame["label_binary"].notna().to_numpy()
    y = frame["label_binary"].to_numpy(dtype="float64", na_value=np.nan)[has].astype(int)
    truth = frame["label_class"].astype("string").fillna(
        frame["label_binary"].map({0: BENIGN, 1: UNKNOWN_ATTACK}).astype("string")
    ).to_numpy(dtype=object)[has]
    pred = scores.pred_class[has].astype(object)
    familyless = truth == UNKNOWN_ATTACK
    pred = np.where(familyless & (pred != BENIGN), UNKNOWN_ATTACK, pred)
    labels = sorted(set(truth.tolist()) | set(pred.tolist()), key=lambda c: (c != BENIGN, c))
    return {
        "model": model,
        "n": int(has.sum()),
        "binary": M.binary_metrics(y, scores.flagged[has], scores.pred_score[has]),
        "per_class": M.per_class(truth, pred, labels),
        "confusion": M.confusion(truth, pred, labels),
    }
