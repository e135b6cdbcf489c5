"""The knobs of one training run (:class:`TrainOptions`) and their record in a bundle."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ids_desktop.core.model.preprocess import GAP_FEATURE


@dataclass(frozen=True)
class TrainOptions:
    """Knobs of one training run; the defaults are what ``make train`` uses.

    Attributes
    ----------
    max_rows
        Cap on rows used (a proportional subsample above it for flow tables; for temporal inputs
        a stratified one that keeps rare classes).
    epochs, patience, batch_size, learning_rate
        Training loop; early stopping on the validation class loss.
    seq_lens
        Candidate ``T`` for temporal inputs, chosen on validation macro-F1. Non-temporal
        inputs always use ``T = 1``.
    context_dropout
        Share of flows dropped at random (per epoch) before building training sequences.
    far_margin
        The validation false-alarm budget is ``far_margin`` times the format's target.
    threshold_rule
        ``"f1"``: the best validation F1 within the budget; ``"recall"``: the most sensitive
        threshold within it (see :func:`ids_desktop.core.model.metrics.choose_threshold`).
    anomaly_far
        Share of benign validation flows the anomaly score alone may flag.
    lofo_families
        Attack families for the leave-one-family-out check (empty: skip it).
    baselines
        Train the plain Seq2Seq and the tree ensemble too.
    filters, head_units
        ConvLSTM filters and the width of the per-flow dense layer.
    context
        The derived context features of temporal inputs
        (:data:`ids_desktop.core.model.preprocess.CONTEXT_FEATURES`): the gap to the host's
        previous flow, and optionally the gaps between the host's flows to one destination.
    calibrate
        Fit a temperature on the validation split (:mod:`ids_desktop.core.model.calibration`)
        before the thresholds are chosen.
    distance_quantile
        When above 0: fit the distance from the training data and call the validation rows
        past this quantile of their scores out of distribution (the verdict then withholds a
        family); ``distance_components`` principal components.
    min_confidence
        A classifier flag is an alert only when its family's calibrated probability reaches
        this; below it the flow is unusual (:mod:`ids_desktop.core.model.verdicts`).
    explain_fixed
        Categorical features LIME holds at the flow's own values (the explanation then rests
        on the others: for the capture model, behaviour rather than the bare protocol, port or
        application).
    refit
        Ship weights trained again on every labelled row (train, validation and test) for the
        epochs early stopping kept, with the thresholds the split run chose on validation
        (issue 34: a vector that occurs ten thousand times must not go unlearnt because the
        split put it in validation). The same procedure on train + validation, scored on the
        test split, is reported beside the split run's figures.
    members
        Independently initialised copies of the hybrid (each with its own initialiser and
        shuffling seeds; same data and split) whose class probabilities and reconstructions are
        averaged into one model (:func:`ids_desktop.core.model.network.average_members`). 1: a
        single network.
    quantiles
        0, or the knots of a quantile-normal copy of every numeric feature
        (:class:`ids_desktop.core.model.preprocess.Preprocessor`): a second view of each
        value that is spread evenly however skewed or discrete the column is, which the
        dense layers can cut as sharply as a tree splits.
    recon_balance
        0, or the power of :func:`ids_desktop.training.context.reconstruction_weights`: each
        benign training flow's weight in the reconstruction loss is the count of its
        application's flows to the power ``-recon_balance`` (0.5: inverse square root), so rare
        benign applications are learnt as ordinary too. Tried on the capture bundle and not
        shipped (``bench/RESULTS.md``, issue 32).
    anomaly_error_cap
        0, or the most one input's squared reconstruction error counts in the anomaly score
        (:func:`ids_desktop.core.model.verdicts.reconstruction_error`; recorded in the bundle):
        a flow is then unusual when many inputs are missed, not when one volume is far out.
        Tried on the capture bundle and not shipped (``bench/RESULTS.md``, issue 32).
    blend
        Ship the plain average of the hybrid's and a tree baseline's class probabilities
        (issue 34) when, on the validation split, it scores an attack F1 at least as high as
        both the hybrid's and that tree's (:func:`ids_desktop.training.evaluation.evaluate_blend`).
        The tree is refit on the rows the shipped hybrid is, exported to ONNX beside it
        (:mod:`ids_desktop.training.tree_export`). Needs ``baselines``.
    """

    max_rows: int = 120_000
    epochs: int = 40
    patience: int = 4
    batch_size: int = 256
    learning_rate: float = 2e-3
    seq_lens: tuple[int, ...] = (8, 16)
    context_dropout: float = 0.2
    far_margin: float = 0.85
    anomaly_far: float = 0.002
    lofo_families: tuple[str, ...] = ()
    lofo_epochs: int = 12
    baselines: bool = True
    filters: int = 16
    head_units: int = 128
    head_layers: int = 1
    class_weight_power: float = 0.3
    val_share: float = 0.15
    test_share: float = 0.15
    threshold_rule: str = "f1"
    quantiles: int = 0
    context: tuple[str, ...] = (GAP_FEATURE,)
    members: int = 1
    calibrate: bool = False
    distance_quantile: float = 0.0
    distance_components: int = 16
    min_confidence: float = 0.0
    explain_fixed: tuple[str, ...] = ()
    refit: bool = False
    blend: bool = False
    recon_balance: float = 0.0
    anomaly_error_cap: float = 0.0

    def to_metadata(self) -> dict[str, Any]:
        """The options as a bundle's ``metadata.json`` records them (tuples as lists)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> TrainOptions:
        """The options a bundle was trained with, from its metadata's ``options``.

        Fields the bundle does not record (it predates them) keep their defaults; recorded
        fields this version no longer knows are ignored.
        """
        known = set(cls.__dataclass_fields__)
        fields: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v)
                                  for k, v in meta.get("options", {}).items() if k in known}
        return cls(**fields)
