"""The analysis record: one file's flows, the app's verdicts and what later steps reuse.

:func:`ids_desktop.core.workflow.run_analysis` is the only road from a file to an
:class:`Analysis`; this module holds the record and the steps it is built from: scoring a
frame with a bundle, combining the model's verdicts with the host-level detectors' findings
(:func:`verdict_columns`), and the evaluation against the file's labels.

How a flow's verdict is made (one rule, for the table, the reports and the EVE alerts):

- The model flags a flow by :mod:`ids_desktop.core.model.verdicts`: an *alert* names an attack
  family (``flagged_by`` ``model``); a flow only its anomaly score flagged is *unusual*
  (``pred_class`` ``anomaly``, ``flagged_by`` ``anomaly``).
- A detector's finding flags every flow it covers with the detector's family and adds the
  detector's name to ``flagged_by`` (``model,port_scan`` when both did) and its sentence to
  ``finding``. The detector's family stands over the model's: each detector is a documented
  rule with its numbers.
- ``severity`` follows :mod:`ids_desktop.core.severity`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core import severity as S
from ids_desktop.core.detect.finding import Finding
from ids_desktop.core.incidents import Incident
from ids_desktop.core.ingest.result import IngestResult
from ids_desktop.core.model import metrics as M
from ids_desktop.core.model.bundle import (
    Bundle,
    Scores,
    load_bundle,
    read_metadata,
    resolve_bundle_path,
)
from ids_desktop.core.model.verdicts import UNUSUAL
from ids_desktop.core.options import AnalysisOptions
from ids_desktop.core.schema import BENIGN
from ids_desktop.core.tasks import Cancel, Progress
from ids_desktop.errors import ModelError, SchemaError

#: Columns the verdicts add to the canonical frame.
PREDICTION_COLUMNS = (
    "pred_class", "pred_score", "anomaly_score", "flagged", "severity", "flagged_by", "finding",
)
#: The family-less attack label of sources that say only "attack" (NSL-KDD's ARFF ``anomaly``).
FAMILYLESS = "attack"

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
        The model's own verdicts at ``threshold`` (before the detectors' findings).
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
        The frame to display: canonical columns plus :data:`PREDICTION_COLUMNS`.
    run
        The model's run, or ``None`` when no bundle serves the input's format.
    note
        Why no model ran, in one line ("" when one did).
    findings
        What the host-level detectors found (:mod:`ids_desktop.core.detect`).
    incidents
        The flagged flows and findings grouped into what happened
        (:mod:`ids_desktop.core.incidents`), most severe first.
    """

    path: Path
    options: AnalysisOptions
    result: IngestResult
    flows: pd.DataFrame
    run: ModelRun | None = None
    note: str = ""
    findings: tuple[Finding, ...] = ()
    incidents: tuple[Incident, ...] = ()

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

        Exactly ``format``, ``model``, ``flows``, ``flagged`` (``alerts`` + ``unusual``),
        ``alerts`` (flagged with a family), ``unusual`` (flagged with none), ``by_class``
        (predicted class -> count among flagged flows), ``by_flagged_by`` (model, anomaly or a
        detector -> flows it flagged), ``findings`` (the detectors' findings), ``incidents``
        (:meth:`~ids_desktop.core.incidents.Incident.to_json` of each),
        ``temporal_context`` and ``seconds`` (the scoring step).
        """
        if self.run is None:
            return None
        flows = self.flows
        flagged = flows["flagged"].to_numpy(dtype=bool)
        pred = flows["pred_class"][flagged]
        unusual = int((pred == UNUSUAL).sum())
        by = pd.Series(flows["flagged_by"][flagged].astype(str).str.split(",").explode())
        return {
            "format": self.result.format,
            "model": self.run.bundle.name,
            "flows": int(len(flows)),
            "flagged": int(flagged.sum()),
            "alerts": int(flagged.sum()) - unusual,
            "unusual": unusual,
            "by_class": {str(k): int(v) for k, v in pred.value_counts().items()},
            "by_flagged_by": {str(k): int(v) for k, v in by.value_counts().items() if k},
            "findings": len(self.findings),
            "incidents": [i.to_json() for i in self.incidents],
            "temporal_context": bool(self.result.temporal and self.run.bundle.seq_len > 1),
            "seconds": round(self.run.seconds, 3),
        }

    @functools.cached_property
    def evaluation(self) -> dict[str, Any] | None:
        """The app's verdicts measured against the file's own labels (``evaluate``'s report),
        at the bundle's own threshold; ``None`` for unlabelled input or when no model ran.

        Computed on first use from the kept probabilities, so a threshold override never
        costs a second scoring pass.
        """
        if self.run is None or not self.result.labelled:
            return None
        run = self.run
        kept = ("pred_class", "pred_score", "flagged")
        columns: dict[str, Any] = {c: self.flows[c] for c in kept}
        if run.threshold != run.bundle.threshold:
            own = run.bundle.verdicts(run.scores.probs, run.scores.anomaly_score,
                                      unusual=run.scores.unusual)
            scores = dataclasses.replace(run.scores, pred_score=own.p_attack, flagged=own.flagged,
                                         pred_class=own.pred_class())
            columns = verdict_columns(scores, self.findings, len(self.flows))
        return evaluation_report(self.result.frame, run.bundle.name, columns["pred_class"],
                                 columns["flagged"], columns["pred_score"],
                                 classes=run.bundle.classes)


def score(
    result: IngestResult,
    bundle: Bundle,
    threshold: float | None = None,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> tuple[np.ndarray, np.ndarray, Scores]:
    """``(features, windows, scores)`` of every flow of ``result`` with ``bundle``, at
    ``threshold`` (the bundle's own by default).

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
    scores = bundle.scores(x, windows, threshold, progress=progress, cancel=cancel)
    return x, windows, scores


def verdict_columns(scores: Scores | None, findings: Sequence[Finding], n: int) -> dict[str, Any]:
    """The app's verdict columns (:data:`PREDICTION_COLUMNS`) for ``n`` flows, from the
    model's ``scores`` (``None`` when no model ran) and the detectors' ``findings`` (the
    module docstring gives the rule)."""
    if scores is None:
        pred = np.full(n, BENIGN, dtype=object)
        p_attack, anomaly = np.full(n, np.nan), np.full(n, np.nan)
        flagged = np.zeros(n, dtype=bool)
    else:
        pred = np.asarray(scores.pred_class, dtype=object).copy()
        p_attack, anomaly = scores.pred_score, scores.anomaly_score
        flagged = scores.flagged.astype(bool).copy()
    by = np.full(n, "", dtype=object)
    sev = np.full(n, "", dtype=object)
    note = np.full(n, "", dtype=object)
    if scores is not None and flagged.any():
        unusual = flagged & (pred == UNUSUAL)
        by[unusual], sev[unusual] = "anomaly", S.LOW
        alert = np.flatnonzero(flagged & ~unusual)
        by[alert] = "model"
        attack_probs = np.asarray(scores.probs)[alert]
        confidence = attack_probs.max(axis=1) if attack_probs.shape[1] else np.ones(len(alert))
        sev[alert] = [S.of_model_alert(f, c) for f, c in zip(pred[alert], confidence, strict=True)]
    by_detector = np.zeros(n, dtype=bool)
    order = sorted(findings, key=lambda f: (S.ORDER.index(S.of_family(f.family)), f.first_seen))
    for f in order:
        rows = np.asarray(f.rows, dtype=np.int64)
        if not len(rows):
            continue
        fresh = rows[~by_detector[rows]]
        pred[fresh] = f.family
        by_detector[rows] = True
        flagged[rows] = True
        by[rows] = np.where(by[rows] == "", f.detector, by[rows] + "," + f.detector)
        base = S.of_family(f.family)
        sev[rows] = [S.highest((s, base)) if s else base for s in sev[rows]]
        note[rows] = np.where(note[rows] == "", f.summary, note[rows] + " | " + f.summary)
    return {
        "pred_class": pd.array(pred, dtype="string"),
        "pred_score": p_attack,
        "anomaly_score": anomaly,
        "flagged": flagged,
        "severity": _strings(sev, flagged),
        "flagged_by": _strings(by, flagged),
        "finding": _strings(note, note != ""),
    }


def _strings(values: np.ndarray, present: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``values`` as a pandas ``string`` array, missing where ``present`` is false."""
    out = pd.array(values.astype(str), dtype="string")
    out[~np.asarray(present, dtype=bool)] = pd.NA
    return out


def with_verdicts(frame: pd.DataFrame, columns: dict[str, Any]) -> pd.DataFrame:
    """``frame`` plus the verdict ``columns`` (:func:`verdict_columns`).

    A shallow copy: pandas 3's copy-on-write keeps the ingested table (about 1 GB for a
    million flows) shared until one side writes to it.
    """
    flows = frame.copy(deep=False)
    for name in PREDICTION_COLUMNS:
        flows[name] = columns[name]
    return flows


def evaluation_report(frame: pd.DataFrame, model: str, pred_class: Any, flagged: Any,
                      pred_score: Any, classes: Sequence[str] = ()) -> dict[str, Any]:
    """The app's verdicts measured against ``frame``'s labels.

    Per-class metrics are over the shared family vocabulary (``label_class``), so datasets
    with grouped labels (the cleaned CIC-IDS2017 export) compare family to family. Rows whose
    truth is the family-less ``attack`` (NSL-KDD's ARFF ``anomaly``) count any predicted
    attack family as ``attack``.

    Every row counts once, as it occurs in the file: a flow repeated a thousand times weighs a
    thousand times (issue 34).

    ``per_class`` lists the classes that occur in the file's truth or among the model's
    ``classes``, nothing else. Flows flagged by the anomaly score alone (:data:`UNUSUAL`) are
    not a class: they are counted under ``unusual`` and appear as a column of ``confusion``.

    Returns
    -------
    dict
        Exactly ``model``, ``n``, ``binary`` (``precision``, ``recall``, ``f1``,
        ``accuracy``, ``far``, ``roc_auc``; attack positive), ``per_class`` (name ->
        ``precision``, ``recall``, ``f1``, ``support``), ``unusual`` (``flagged``: flows
        named :data:`UNUSUAL`; ``attacks``: how many of them are attacks by the labels) and
        ``confusion`` (``labels``, ``matrix``).
    """
    has = frame["label_binary"].notna().to_numpy()
    y = frame["label_binary"].to_numpy(dtype="float64", na_value=np.nan)[has].astype(int)
    truth = frame["label_class"].astype("string").fillna(
        frame["label_binary"].map({0: BENIGN, 1: FAMILYLESS}).astype("string")
    ).to_numpy(dtype=object)[has]
    pred = np.asarray(pd.array(pred_class, dtype="string"), dtype=object)[has]
    familyless = truth == FAMILYLESS
    pred = np.where(familyless & (pred != BENIGN), FAMILYLESS, pred)
    def order(c: str) -> tuple[bool, bool, str]:
        return (c != BENIGN, c == UNUSUAL, c)

    known = set(truth.tolist()) | {c for c in classes if c != UNUSUAL}
    if (familyless & (pred == FAMILYLESS)).any():
        known.add(FAMILYLESS)
    labels = sorted(known | set(pred.tolist()), key=order)
    flags = np.asarray(flagged, dtype=bool)[has]
    scores = np.asarray(pred_score, dtype=np.float64)[has]
    unusual = pred == UNUSUAL
    per = M.per_class(truth, pred, labels)
    return {
        "model": model,
        "n": int(has.sum()),
        "binary": M.binary_metrics(y, flags, scores),
        "per_class": {c: v for c, v in per.items() if c in known},
        "unusual": {"flagged": int(unusual.sum()), "attacks": int((unusual & (y == 1)).sum())},
        "confusion": M.confusion(truth, pred, labels),
    }
