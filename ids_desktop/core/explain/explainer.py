"""LIME over the (T, F) sequence input of a flow: a plain dataclass out, no Keras inside.

``FlowExplainer`` wraps ``lime.lime_tabular.RecurrentTabularExplainer``. It is given a
background sample saved in the model bundle at training time (never the analysed file), the
model's input names, and a plain ``predict(batch (n, T, F)) -> probabilities (n, C)``
callable, so this module never imports Keras. Build it once per bundle and reuse it: the
discretiser statistics are computed in the constructor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ids_desktop.core.tasks import Cancel, check_cancel

Predict = Callable[[np.ndarray], np.ndarray]

#: How an explanation draws LIME's neighbourhood (``FlowExplainer(neighbourhood=...)``):
#: ``stratified`` (the T = 8 capture bundle's): :class:`NeighbourhoodSampler` in one pass, each
#: column's draws a Latin hypercube (:func:`latin_hypercube`); ``local`` (the T = 1 bundles'):
#: the same, but each sample redraws only a random share of the columns and keeps the flow's
#: own bin in the others (:class:`NeighbourhoodSampler`, ``local``); ``iid``: the one-pass
#: sampler with LIME's own i.i.d. draws (bit-for-bit LIME's neighbourhood); ``lime``: LIME's
#: own per-column loop; ``paired``: each column keeps the flow's bin in half the samples and
#: takes another bin in the rest, and every sample comes with its complement
#: (:class:`NeighbourhoodSampler`, ``paired``); ``grouped``: ``stratified``, but the features
#: of one explanation unit (``FlowExplainer(units=...)``) are drawn together from one
#: background flow and get one weight (:class:`NeighbourhoodSampler`, ``units``); ``context``:
#: the explained flow's features as ``stratified`` draws them, each other flow of the window
#: one unit, kept whole or replaced whole (:class:`NeighbourhoodSampler`, ``switch``).
#: ``bench/explain.py --neighbourhood`` and ``bench/explain_gate.py --runs`` compare them.
NEIGHBOURHOODS = ("stratified", "local", "iid", "lime", "paired", "grouped", "context")


@dataclass
class Contribution:
    """One (feature, timestep) term of the local surrogate.

    Attributes
    ----------
    feature
        Readable model-input name, e.g. ``Flow Bytes/s`` or ``proto=tcp``.
    timestep
        0 for the explained flow, k for the k-th flow before it in its sequence (same host),
        -k for the k-th flow after it (a Seq2Seq window also reads the flows that follow).
    weight
        Signed surrogate weight in log-odds of the explained class; positive pushes towards it.
    condition
        The condition in the source's units, e.g. ``Flow Duration > 1.2 s``.
    """

    feature: str
    timestep: int
    weight: float
    condition: str

    @property
    def label(self) -> str:
        """``feature @ t-k``: the model input this term is about."""
        return f"{self.feature} @ {step_label(self.timestep)}"

    @property
    def display(self) -> str:
        """The condition as the flow satisfies it, with the flow it is about when not t-0."""
        if self.timestep == 0:
            return self.condition
        return f"{self.condition} @ {step_label(self.timestep)}"


def log_odds(probs: np.ndarray, label: int) -> np.ndarray:
    """``log(p_label / sum of the other classes' p)`` per row, without rounding at p ~ 1.

    ``1 - p`` rounds to 0 once the other classes' mass is below float precision, which is
    where confidently flagged flows sit; summing the other classes keeps it (float32 softmax
    outputs reach 1e-38), so perturbations that move a p = 0.99999999 verdict still register.
    """
    rest = np.delete(probs, label, axis=1).sum(axis=1)
    odds: np.ndarray = np.log(np.maximum(probs[:, label], 1e-300)) - np.log(
        np.maximum(rest, 1e-300)
    )
    return odds


def step_label(step: int) -> str:
    """``t-0`` for the explained flow, ``t-3`` three flows before it, ``t+1`` the one after."""
    return f"t-{step}" if step >= 0 else f"t+{-step}"


@dataclass
class Explanation:
    """Why a flow got its verdict.

    Attributes
    ----------
    predicted_class, probability
        The explained class and the model's probability for it.
    contributions
        The top-k terms, largest magnitude first.
    by_feature, by_timestep
        Surrogate weights summed per feature (spatial) and per timestep (temporal).
    fidelity_r2
        R² of the weighted local surrogate on the perturbed samples.
    seed, num_samples
        What makes the explanation reproducible.
    context_flows, later_flows
        How many flows from the same host were in the sequence before and after the explained
        one.
    sentence
        One plain-language sentence, for reports.
    """

    predicted_class: str
    probability: float
    contributions: list[Contribution]
    by_feature: dict[str, float]
    by_timestep: dict[int, float]
    fidelity_r2: float
    seed: int
    num_samples: int
    context_flows: int = 0
    sentence: str = ""
    later_flows: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def top_features(self, k: int = 5) -> list[str]:
        """The k (feature, timestep) labels with the largest |weight|."""
        return [c.label for c in self.contributions[:k]]


Formatter = Callable[[int, float], str]

#: The term of a whole flow of the window (the ``context`` neighbourhood).
WHOLE_FLOW = "whole flow"


class FlowExplainer:
    """LIME for one model: reuse across flows (the discretiser is built once).

    Parameters
    ----------
    background
        ``(n, T, F)`` model inputs sampled from the training data (bundle ``background.npy``).
    feature_names
        ``F`` readable names of the model inputs.
    class_names
        Class vocabulary in the model's output order.
    categorical
        Indices (in ``0..F-1``) of categorical inputs: 0/1 flags, or integer category codes
        when ``category_names`` names their values.
    category_names
        Feature index -> names of its category codes (code ``i`` is ``names[i]``).
    value_text
        ``value_text(feature_index, scaled_value) -> str`` turning a scaled value into the
        source's units; the identity with 3 significant digits by default.
    num_samples
        Perturbed samples per explanation (one batched model call).
    whole_numbers
        ``whole_numbers(feature_index, scaled_value) -> float | None``: the source value of a
        feature that only takes whole numbers (packet, byte and flag counts), ``None`` for
        other features. Conditions on such features read ``SYN packets ≥ 1`` rather than
        ``SYN packets > 0.0235`` (a quartile edge between two counts).
    units
        ``{name: feature indices}``: features explained as one unit by the ``grouped``
        neighbourhood (ignored by the others), e.g. the three direction views of one nfstream
        measure. A unit is redrawn as a whole from one background flow, so a sample never
        pairs one view's value with another flow's view of the same measure, and its members'
        surrogate weights are reported summed under the unit's name.
    """

    def __init__(
        self,
        background: np.ndarray,
        feature_names: Sequence[str],
        class_names: Sequence[str],
        *,
        categorical: Sequence[int] = (),
        category_names: dict[int, list[str]] | None = None,
        value_text: Formatter | None = None,
        num_samples: int = 1000,
        top_k: int = 10,
        whole_numbers: Callable[[int, float], float | None] | None = None,
        neighbourhood: str = "stratified",
        units: dict[str, Sequence[int]] | None = None,
    ) -> None:
        from lime.lime_tabular import RecurrentTabularExplainer  # imported late: slow import

        if neighbourhood not in NEIGHBOURHOODS:
            raise ValueError(
                f"neighbourhood must be one of {NEIGHBOURHOODS}, not {neighbourhood!r}"
            )

        if background.ndim != 3:
            raise ValueError("background must be (n, T, F)")
        self.seq_len = int(background.shape[1])
        self.n_features = int(background.shape[2])
        self.feature_names = [str(n) for n in feature_names]
        self.class_names = [str(c) for c in class_names]
        self.num_samples = int(num_samples)
        self.top_k = int(top_k)
        self.value_text = value_text or (lambda i, v: f"{v:.3g}")
        self.whole_numbers = whole_numbers or (lambda i, v: None)
        t = self.seq_len
        # LIME flattens feature-major: flat index f * T + i, where i = T-1 is the newest flow.
        flat_categorical = [f * t + i for f in categorical for i in range(t)]
        self._categorical = set(categorical)
        self.category_names = dict(category_names or {})
        flat_names = {
            f * t + i: [str(v) for v in names]
            for f, names in self.category_names.items()
            for i in range(t)
        }
        #: The neighbourhood sampler installed in LIME (``None``: LIME's own, ``lime``).
        self._sampler: NeighbourhoodSampler | None = None
        #: feature index -> (unit name, member feature indices), ``grouped`` only
        self._unit_of: dict[int, tuple[str, tuple[int, ...]]] = {}
        self.neighbourhood = neighbourhood
        if neighbourhood == "grouped":
            for unit_name, members in (units or {}).items():
                group = tuple(sorted(int(m) for m in members))
                for m in group:
                    self._unit_of[m] = (str(unit_name), group)
        self._lime = RecurrentTabularExplainer(
            background.astype(np.float64),
            # Regression on the log-odds of the explained class, not on its probability: most
            # flagged flows sit at p ~ 1.0, where probabilities barely move under perturbation
            # and the surrogate's ranking was noise (top-5 Jaccard ~0.5 across seeds).
            mode="regression",
            feature_names=self.feature_names,
            categorical_features=flat_categorical,
            categorical_names=flat_names,
            class_names=self.class_names,
            discretize_continuous=True,
            discretizer="quartile",
            # Every feature enters the surrogate (num_features below), so LIME's default
            # selection would fit the same ridge twice; "none" fits it once.
            feature_selection="none",
            random_state=0,
        )
        if self._lime.discretizer is not None:
            self._lime.discretizer.undiscretize = BinSampler(self._lime.discretizer)
            if neighbourhood != "lime" and hasattr(self._lime, NeighbourhoodSampler.METHOD):
                flat_units = [np.array([m * t + i for m in group], dtype=np.int64)
                              for group in sorted({g for _, g in self._unit_of.values()})
                              for i in range(t)]
                flat_background = (np.transpose(background, (0, 2, 1)).reshape(
                    len(background), t * self.n_features).astype(np.float64)
                    if neighbourhood in ("grouped", "context") else None)
                sampler = NeighbourhoodSampler(self._lime, stratified=neighbourhood != "iid",
                                               local=neighbourhood == "local",
                                               paired=neighbourhood == "paired",
                                               units=flat_units,
                                               background=flat_background)
                setattr(self._lime, NeighbourhoodSampler.METHOD, sampler)
                self._sampler = sampler

    def explain(
        self,
        instance: np.ndarray,
        predict: Predict,
        *,
        label: int | None = None,
        seed: int = 0,
        anchor: int | None = None,
        context_flows: int = 0,
        later_flows: int = 0,
        source_host: str | None = None,
        hold: np.ndarray | None = None,
        cancel: Cancel | None = None,
    ) -> Explanation:
        """Explain the model's verdict on ``instance`` ``(T, F)``.

        Parameters
        ----------
        predict
            ``(n, T, F) -> (n, C)`` class probabilities of the explained flow.
        label
            Class index to explain; the predicted class by default.
        seed
            Seeds LIME's sampling, so the same seed gives the same explanation.
        anchor
            Position of the explained flow in ``instance`` (default: the last, the newest);
            timesteps count from it, positive before and negative after.
        context_flows, later_flows, source_host
            For the sentence: how many flows from which host came before and after it.
        hold
            ``(T, F)`` mask of terms that keep the flow's own bin in every sample (values that
            cannot be anything else there, such as a UDP flow's TCP flag counts); the
            surrogate gives them no weight. ``predict`` must hold their values too: only the
            bin is held here. Ignored by the ``lime`` neighbourhood.
        """
        check_cancel(cancel)
        instance = np.asarray(instance, dtype=np.float64)
        anchor = self.seq_len - 1 if anchor is None else int(anchor)
        probs = np.asarray(predict(instance[None]))[0]
        label = int(np.argmax(probs)) if label is None else int(label)
        lime = self._lime
        # LIME draws from three generators: sampling, the discretiser's bin filling and the
        # base's feature selection. Seed all of them so one seed gives one explanation.
        lime.random_state = np.random.RandomState(seed)
        lime.base.random_state = lime.random_state
        if lime.discretizer is not None:
            lime.discretizer.random_state = lime.random_state
        calls = 0

        def batched(x: np.ndarray) -> np.ndarray:
            nonlocal calls
            calls += 1
            check_cancel(cancel)
            return log_odds(np.asarray(predict(x), dtype=np.float64), label)

        n_flat = self.seq_len * self.n_features
        sampler = self._sampler
        if sampler is not None and hold is not None:
            # LIME's flat columns run feature-major: column f * T + t
            sampler.hold = np.flatnonzero(np.asarray(hold, dtype=bool).T.reshape(-1))
        whole = self.neighbourhood == "context"
        if sampler is not None and whole:
            sampler.switch = [np.arange(self.n_features, dtype=np.int64) * self.seq_len + i
                              for i in range(self.seq_len) if i != anchor]
        try:
            exp = lime.explain_instance(
                instance,
                batched,
                num_features=n_flat,
                num_samples=self.num_samples,
            )
        finally:
            if sampler is not None:
                sampler.hold = None
                sampler.switch = []
        # In regression mode LIME stores the weights under key 1 and their negation under 0.
        pairs = exp.local_exp[1]
        flat_rows = lime.discretizer.discretize(
            np.transpose(instance[None], (0, 2, 1)).reshape(1, n_flat)
        )[0] if lime.discretizer is not None else None
        by_feature: dict[str, float] = {}
        by_timestep: dict[int, float] = {}
        # (feature or unit name, step) -> [weight, first flat column, member features]
        terms: dict[tuple[str, int], list[Any]] = {}
        for flat, weight in pairs:
            f, i = divmod(int(flat), self.seq_len)
            step = anchor - i
            members: tuple[int, ...]
            if whole and step != 0:  # a whole earlier or later flow: one term, no feature
                name, members = WHOLE_FLOW, ()
            else:
                name, members = self._unit_of.get(f, (self.feature_names[f], (f,)))
                by_feature[name] = by_feature.get(name, 0.0) + float(weight)
            by_timestep[step] = by_timestep.get(step, 0.0) + float(weight)
            term = terms.setdefault((name, step), [0.0, int(flat), members])
            term[0] += float(weight)
            term[1] = min(term[1], int(flat))
        contributions = sorted(terms.items(), key=lambda kv: (-abs(kv[1][0]), kv[1][1]))
        top = [
            Contribution(
                feature=name,
                timestep=step,
                weight=w,
                condition="; ".join(
                    self._condition(m, m * self.seq_len + anchor - step,
                                    instance[anchor - step, m], flat_rows)
                    for m in members) or "the flow as it was",
            )
            for (name, step), (w, _, members) in contributions[: self.top_k]
        ]
        explanation = Explanation(
            predicted_class=self.class_names[label],
            probability=float(probs[label]),
            contributions=top,
            by_feature=dict(sorted(by_feature.items(), key=lambda kv: -abs(kv[1]))),
            by_timestep=dict(sorted(by_timestep.items())),
            fidelity_r2=(
                float(exp.score) if exp.score is not None and math.isfinite(exp.score) else 0.0
            ),
            seed=int(seed),
            num_samples=self.num_samples,
            context_flows=int(context_flows),
            later_flows=int(later_flows),
            extra={"model_calls": calls},
        )
        explanation.sentence = sentence(explanation, source_host)
        return explanation

    def _condition(self, f: int, flat: int, value: float, bins: np.ndarray | None) -> str:
        name = self.feature_names[f]
        if f in self.category_names:
            names = self.category_names[f]
            code = int(round(value))
            return f"{name} is {names[code]}" if 0 <= code < len(names) else f"{name} = {code}"
        if f in self._categorical:
            return _categorical_condition(name, value)
        disc = self._lime.discretizer
        if disc is None or bins is None or flat not in disc.mins:
            return f"{name} = {self.value_text(f, value)}"
        b = int(bins[flat])
        lo, hi = disc.mins[flat][b], disc.maxs[flat][b]
        last = len(disc.mins[flat]) - 1
        whole = self._whole_condition(f, name, b, last, lo, hi)
        if whole:
            return whole
        if b == 0:
            return f"{name} ≤ {self.value_text(f, hi)}"
        if b == last:
            return f"{name} > {self.value_text(f, lo)}"
        return f"{self.value_text(f, lo)} < {name} ≤ {self.value_text(f, hi)}"


    def _whole_condition(
        self, f: int, name: str, b: int, last: int, lo: float, hi: float
    ) -> str | None:
        """The bin as whole numbers (``x > 0.02`` is ``x ≥ 1``), for count features only."""
        raw_lo, raw_hi = self.whole_numbers(f, lo), self.whole_numbers(f, hi)
        if raw_lo is None or raw_hi is None:
            return None
        def tol(x: float) -> float:  # float32 scaling leaves ~1e-6 relative error
            return 1e-4 * max(1.0, abs(x))

        # the smallest whole number above the lower edge
        first = math.floor(raw_lo + tol(raw_lo)) + 1
        upto = math.floor(raw_hi + tol(raw_hi))  # the largest one at or below the upper edge
        if b == 0:
            return f"{name} = 0" if upto == 0 and raw_lo > -0.5 else f"{name} ≤ {upto:,}"
        if b == last:
            return f"{name} ≥ {first:,}"
        if first > upto:
            return None  # no whole number inside: keep the edges as they are
        return f"{name} = {first:,}" if first == upto else f"{first:,} ≤ {name} ≤ {upto:,}"


def latin_hypercube(random_state: np.random.RandomState, columns: int, n: int) -> np.ndarray:
    """``(columns, n)`` uniforms, each column holding one draw in each of ``[k/n, (k+1)/n)``.

    The strata come in an independent random order per column (a Latin hypercube sample).
    Each column's values are still uniform, so every bin is drawn with LIME's frequencies, but
    a bin's count among ``n`` draws is fixed to within one instead of binomial. That count
    noise, and the chance correlations between columns that come with it, moved LIME's
    surrogate weights from seed to seed: a ridge fit over 472 columns from 4,000 samples for
    the capture bundle. ``bench/explain.py --iid`` measures the difference (``bench/RESULTS.md``,
    "LIME's neighbourhood as a Latin hypercube").
    """
    strata = np.argsort(random_state.random_sample((columns, n)), axis=1)
    return (strata + random_state.random_sample((columns, n))) / n


def inverse_cdf(values: np.ndarray, cdf: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Row i's values drawn at the uniforms ``rank[i]`` ``(rows, n)``: ``values[i, j]`` where j
    counts the entries of ``cdf[i]`` (cumulative shares, last entry 1) at or below the uniform,
    as ``random_state.choice(values, p=...)`` picks. Uniforms are below 1, so the last entry
    never counts."""
    idx = np.zeros(rank.shape, dtype=np.intp)
    for k in range(cdf.shape[1] - 1):
        idx += cdf[:, k : k + 1] <= rank
    drawn: np.ndarray = values[np.arange(len(values))[:, None], idx]
    return drawn


class NeighbourhoodSampler:
    """LIME's private ``__data_inverse`` for a discretising explainer, one pass over all columns.

    With ``discretize_continuous`` every one of the T x F flat columns is categorical to LIME
    (quartile bins or category codes), and LIME draws each column's sample with its own
    ``random_state.choice(values, p=freqs)``: a Python loop of T x F calls (0.07 s of each
    2,000-sample explanation of the T = 8 capture model). ``choice`` with ``p`` is an inverse
    CDF lookup (``cdf.searchsorted(uniforms, side="right")`` on ``cumsum(p) / sum``, drawing
    ``n`` uniforms per call). This draws the same uniforms in one call, column after column,
    and counts the CDF entries at or below each, so a seed gives bit-for-bit the neighbourhood
    LIME's loop gives (``tests/core/test_explain.py`` checks it). Columns are grouped by how many
    values they take, so each comparison block is ``(columns, n, values)``.

    With ``stratified`` (the default) the uniforms are a :func:`latin_hypercube` instead: the
    same distribution per column, less seed-to-seed noise in the explanation
    (``bench/explain.py --neighbourhood iid`` measures the other).

    With ``local``, sample ``j`` redraws each column only with probability ``r_j`` and keeps
    the explained flow's own bin otherwise, ``r`` spread evenly over ``(0, 1)`` (a Latin
    hypercube over the samples, in random order). This is LIME's own scheme for text and
    images (a random number of words or superpixels switched off). LIME's tabular scheme
    redraws every column, so a sample differs from the flow in 55-75 % of the columns
    whatever the seed: all samples sit at about the same distance, the kernel (width
    0.75 * sqrt(columns)) weighs them about alike, and the surrogate is a linear fit of the
    model over the whole training distribution rather than around the flow. The model's
    log-odds are far from linear over that range, hence the surrogate's R² of 0.15-0.3 on the
    T = 1 dataset bundles. With samples at every distance from the flow, the kernel has near
    ones to weigh up, and R² rises to 0.45-0.8 (``bench/explain.py --t1-curve``). A redrawn
    column still takes its bins with the training frequencies.

    With ``paired``, LIME's surrogate gets a balanced design. Under the other schemes a column
    is in the flow's bin with the bin's training frequency f: about 1/4 for a quartile bin, but
    0.99 for "no FTP commands" and 0.01 for a rare category. A surrogate weight is then
    estimated from the few samples on the rare side of that column, with a standard error
    that grows as 1 / sqrt(f (1 - f)), and such columns traded places in the top 5 from seed
    to seed (unsw-nb15's top-5 features Jaccard 0.60-0.70 at 6,000-16,000 samples). Here each
    column keeps the flow's bin in half the samples (a Latin hypercube over the samples, so
    within one) and otherwise takes another bin, drawn with the training frequencies of the
    bins other than the flow's. The second half of the samples are the complements of the
    first: what one sample keeps, its twin redraws, and the reverse (Kernel SHAP's paired
    sampling), which cancels the part of the surrogate's error that comes from pairwise
    interactions. A column with a single bin in training cannot be changed and is kept.
    The surrogate's weight of a column is then the mean change in log-odds when that column
    leaves the flow's bin for another one that training flows have.

    With ``units`` (the ``grouped`` neighbourhood; lists of flat columns, one list per unit
    and timestep) the columns of a unit are drawn together instead: each sample takes all of
    them from one ``background`` row (flat LIME-space values, row drawn at random), bins and
    values alike, so a sample pairs, say, a flow's SYN count with that same flow's
    client → server SYN count, never with another flow's. Drawn one by one, the three
    direction views of one nfstream measure made flows that cannot exist (2 SYN packets in
    all, 0 each way), and the model's answer to one view was damped by the two it still had:
    the views split the measure's weight between them and traded places from seed to seed.
    A unit is "in the flow's bins" (LIME's 1) only when all its columns are, so its columns
    are identical in the surrogate's design; the ridge splits their weight evenly and the
    explainer adds it up again.
    """

    #: The name-mangled attribute of ``LimeTabularExplainer.__data_inverse``.
    METHOD = "_LimeTabularExplainer__data_inverse"

    def __init__(self, lime: object, *, stratified: bool = True, local: bool = False,
                 paired: bool = False, units: Sequence[np.ndarray] = (),
                 background: np.ndarray | None = None) -> None:
        self.lime = lime
        self.units = [np.asarray(u, dtype=np.int64) for u in units if len(u)]
        if self.units and background is None:
            raise ValueError("units need the background rows they are drawn from")
        #: flat LIME-space background rows and their bins (``units`` only)
        self.background = background
        self.background_bins = (
            lime.discretizer.discretize(background)  # type: ignore[attr-defined]
            if background is not None else None)
        #: Flat columns of whole flows, each kept whole in half the samples and replaced
        #: whole by a background flow at that position otherwise (set per explanation).
        self.switch: list[np.ndarray] = []
        #: per unit (columns, background row per sample, kept samples or None: none) of the
        #: last call, for ``_finish``
        self._drawn: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []
        #: Flat columns kept in the explained row's bin in every sample (set per explanation).
        self.hold: np.ndarray | None = None
        self.stratified = bool(stratified)
        self.local = bool(local)
        self.paired = bool(paired)
        columns = sorted(lime.categorical_features)  # type: ignore[attr-defined]
        self.n_columns = len(columns)
        self.groups: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        by_width: dict[int, list[int]] = {}
        for c in columns:
            by_width.setdefault(len(lime.feature_values[c]), []).append(c)  # type: ignore[attr-defined]
        for _width, cols in sorted(by_width.items()):
            values = np.array([np.asarray(lime.feature_values[c], dtype=np.float64)  # type: ignore[attr-defined]
                               for c in cols])
            cdf = np.array([np.cumsum(lime.feature_frequencies[c]) for c in cols])  # type: ignore[attr-defined]
            cdf /= cdf[:, -1:]
            self.groups.append((np.asarray(cols, dtype=np.int64), values, cdf))

    def __call__(self, data_row: np.ndarray, num_samples: int) -> tuple[np.ndarray, np.ndarray]:
        lime = self.lime
        n_cols = data_row.shape[0]
        if self.n_columns != n_cols:  # a discretising LIME makes every column categorical
            raise RuntimeError("NeighbourhoodSampler needs every column categorical")
        first_row = lime.discretizer.discretize(data_row)  # type: ignore[attr-defined]
        # One uniform block in LIME's order: column by column, num_samples each.
        rs = lime.random_state  # type: ignore[attr-defined]
        if self.paired:
            return self._finish(data_row, first_row, *self._paired(first_row, num_samples, rs))
        if self.stratified:
            u = latin_hypercube(rs, n_cols, num_samples)
        else:
            u = rs.random_sample((n_cols, num_samples))
        # Column-major work arrays (a column's samples contiguous), transposed once at the end.
        inverse = np.empty((n_cols, num_samples))
        data = np.empty((n_cols, num_samples))
        for cols, values, cdf in self.groups:
            drawn = inverse_cdf(values, cdf, u[cols])
            inverse[cols] = drawn
            data[cols] = drawn == first_row[cols][:, None]
        self._drawn = []
        if self.units:
            self._draw_units(first_row, data, inverse, rs)
        if self.switch:
            self._switch_flows(first_row, data, inverse, rs)
        if self.local:  # sample j redraws a column with probability r_j, else keeps the flow's bin
            r = latin_hypercube(rs, 1, num_samples)[0]
            keep = rs.random_sample((n_cols, num_samples)) >= r[None, :]
            inverse = np.where(keep, first_row[:, None], inverse)
            data = (inverse == first_row[:, None]).astype(np.float64)
        return self._finish(data_row, first_row, data, inverse)

    def _finish(self, data_row: np.ndarray, first_row: np.ndarray, data: np.ndarray,
                inverse: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column-major ``(columns, n)`` bins -> LIME's ``(n, columns)`` binary rows and values,
        row 0 the explained row itself (``first_row``: its bins)."""
        if self.hold is not None and len(self.hold):
            data[self.hold] = 1.0
            inverse[self.hold] = first_row[self.hold][:, None]
        data, inverse = np.ascontiguousarray(data.T), np.ascontiguousarray(inverse.T)
        data[0] = 1.0  # the explained row matches itself in every column
        inverse[1:] = self.lime.discretizer.undiscretize(inverse[1:])  # type: ignore[attr-defined]
        assert self.background is not None or not self._drawn
        for cols, rows, kept in self._drawn:  # a unit's values are its background row's
            values = self.background[np.ix_(rows[1:], cols)]  # type: ignore[index]
            if kept is not None:  # ... or, where kept whole, the flow's own
                values = np.where(kept[1:, None], data_row[cols][None, :], values)
            inverse[1:, cols] = values
        inverse[0] = data_row
        return data, inverse

    def _draw_units(self, first_row: np.ndarray, data: np.ndarray, inverse: np.ndarray,
                    rs: np.random.RandomState) -> None:
        """Redraw each unit's columns together from one background row per sample (in place;
        ``data``/``inverse`` column-major). Units with a held column are left to ``hold``."""
        assert self.background_bins is not None
        held = set() if self.hold is None else {int(c) for c in self.hold}
        n = data.shape[1]
        for cols in self.units:
            rows = np.asarray(rs.randint(0, len(self.background_bins), size=n), dtype=np.int64)
            if held.intersection(cols.tolist()):
                continue
            drawn = self.background_bins[np.ix_(rows, cols)].T  # (unit columns, n)
            inverse[cols] = drawn
            data[cols] = np.all(drawn == first_row[cols][:, None], axis=0)[None, :]
            self._drawn.append((cols, rows, None))

    def _switch_flows(self, first_row: np.ndarray, data: np.ndarray, inverse: np.ndarray,
                      rs: np.random.RandomState) -> None:
        """``switch``: each whole flow kept in half the samples (within one), replaced by the
        same position of a background window that holds a real flow there otherwise. Held
        columns are left to ``hold``."""
        assert self.background is not None and self.background_bins is not None
        n = data.shape[1]
        for cols in self.switch:
            if self.hold is not None:
                cols = np.setdiff1d(cols, self.hold)
            real = np.flatnonzero(np.any(self.background[:, cols] != 0.0, axis=1))
            kept = latin_hypercube(rs, 1, n)[0] < 0.5
            rows = (real[np.asarray(rs.randint(0, len(real), size=n), dtype=np.int64)]
                    if len(real) else np.zeros(n, dtype=np.int64))
            drawn = self.background_bins[np.ix_(rows, cols)].T
            inverse[cols] = np.where(kept[None, :], first_row[cols][:, None], drawn)
            data[cols] = kept[None, :]
            self._drawn.append((cols, rows, kept))

    def _paired(self, first_row: np.ndarray, num_samples: int,
                rs: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
        """``paired``: ``(columns, n)`` "in the flow's bin" flags and bins; column 0 is left
        for the explained row."""
        n_cols, m = len(first_row), num_samples - 1
        half = m // 2
        keep_half = latin_hypercube(rs, n_cols, half) < 0.5  # each column: half kept, within one
        keep = np.concatenate([np.zeros((n_cols, 1), dtype=bool), keep_half, ~keep_half,
                               rs.random_sample((n_cols, m - 2 * half)) < 0.5], axis=1)
        u = latin_hypercube(rs, n_cols, num_samples)
        bins = np.empty((n_cols, num_samples))
        for cols, values, cdf in self.groups:
            # the training frequencies of the bins other than the flow's
            freq = np.diff(cdf, axis=1, prepend=0.0)
            own = values == first_row[cols][:, None]
            freq[own] = 0.0
            mass = np.cumsum(freq, axis=1)
            fixed = mass[:, -1] <= 0.0  # one bin in training: nothing else to draw
            # exactly 1.0 from the last bin with mass on, so a draw never lands past it
            other = mass / np.where(fixed, 1.0, mass[:, -1])[:, None]
            drawn = inverse_cdf(values, other, u[cols])
            keep[cols[fixed]] = True
            bins[cols] = np.where(keep[cols], first_row[cols][:, None], drawn)
        return keep.astype(np.float64), bins


class BinSampler:
    """LIME's ``undiscretize`` in one vectorised pass: a value from each sampled quartile bin.

    LIME's own ``BaseDiscretizer.undiscretize`` draws, feature by feature, from a normal with
    the bin's training mean and standard deviation truncated to the bin's edges, through
    ``scipy.stats.truncnorm`` (a Python loop over T x F features; 0.3 s of each 2,000-sample
    explanation of the T = 8 capture model). This draws from the same truncated normals with
    the inverse CDF on all samples and features at once, taking its uniforms from the
    discretiser's ``random_state`` (so a seed still fixes the explanation). Everything that
    depends only on the bin (its standardised edges and their normal CDF) is tabulated once
    per explainer, so a call evaluates one special function per value. One deliberate
    difference: a bin whose edges coincide yields that edge value, where LIME returns the
    edge's z-score (a unit mix-up).
    """

    def __init__(self, discretizer: object) -> None:
        from scipy.special import ndtr

        self.discretizer = discretizer
        disc = discretizer
        self.columns = np.array(sorted(disc.means), dtype=np.int64)  # type: ignore[attr-defined]
        width = max((len(disc.means[c]) for c in self.columns), default=1)  # type: ignore[attr-defined]
        self.width = width

        def table(stat: dict[int, list[float]]) -> np.ndarray:
            out = np.zeros((len(self.columns), width))
            for k, c in enumerate(self.columns):
                out[k, : len(stat[c])] = stat[c]
            return out

        lo, hi = table(disc.mins), table(disc.maxs)  # type: ignore[attr-defined]
        mean, std = table(disc.means), table(disc.stds)  # type: ignore[attr-defined]
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = (lo - mean) / std, (hi - mean) / std
        # Sample in the lower tail, where ndtr keeps its precision: an interval above the
        # mean is mirrored, drawn and mirrored back (the sign folds into the scale).
        upper = a > 0
        a, b = np.where(upper, -b, a), np.where(upper, -a, b)
        const = lo == hi  # a bin of one value: that value, whatever is drawn
        a, b = np.where(const, 0.0, a), np.where(const, 0.0, b)
        # Flat per-(column, bin) tables, gathered by ``column * width + bin``.
        self._a, self._b = a.ravel(), b.ravel()
        self._pa, self._pb = ndtr(self._a), ndtr(self._b)
        self._loc = np.where(const, lo, mean).ravel()
        self._scale = np.where(const, 0.0, np.where(upper, -std, std)).ravel()

    def __call__(self, data: np.ndarray) -> np.ndarray:
        from scipy.special import ndtri

        ret = np.array(data, dtype=np.float64, copy=True)
        if not len(self.columns) or not ret.size:
            return ret
        at = ret[:, self.columns].astype(np.int64)
        at += np.arange(len(self.columns))[None, :] * self.width
        pa, pb = self._pa[at], self._pb[at]
        a, b = self._a[at], self._b[at]
        u = self.discretizer.random_state.uniform(size=at.shape)  # type: ignore[attr-defined]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            z = ndtri(pa + u * (pb - pa))
        # Intervals too far out for double precision: the mass sits at the edge nearer the mean.
        z = np.where(np.isfinite(z) & (pb > pa), np.clip(z, a, b), b)
        ret[:, self.columns] = self._loc[at] + self._scale[at] * z
        return ret


def _categorical_condition(name: str, value: float) -> str:
    on = value >= 0.5
    if name.endswith("__missing"):
        base = name[: -len("__missing")]
        return f"{base} is missing" if on else f"{base} is present"
    if "=" in name:
        column, _, category = name.partition("=")
        if category == "<other>":
            return f"{column} is an uncommon value" if on else f"{column} is a common value"
        return f"{column} is {category}" if on else f"{column} is not {category}"
    return f"{name} = {int(on)}"


_SPACES = re.compile(r"\s+")


def probability_text(exp: Explanation) -> str:
    """The explained family's own probability, named ("P(scan) = 0.97"): the table's
    ``pred_score`` is P(attack), which differs from it."""
    return f"P({exp.predicted_class}) = {exp.probability:.2f}"


def _which_flows(steps: list[int]) -> str:
    """``""`` for the explained flow alone, else `` (flow t-1)`` or
    `` (this flow and flows t-4, t-3)``."""
    others = [step_label(s) for s in sorted(set(steps) - {0}, key=lambda s: (s < 0, abs(s)))]
    if not others:
        return ""
    flows = ("flow " if len(others) == 1 else "flows ") + ", ".join(others)
    return f" ({'this flow and ' if 0 in steps else ''}{flows})"


def sentence(exp: Explanation, source_host: str | None = None, k: int = 3) -> str:
    """One plain-language sentence for a report.

    Example: "Flagged as scan (P(scan) = 0.97) mainly because Dst port ≤ 1024 and SYN count > 1; the
    5 preceding flows from 10.0.0.5 carried 40% of the evidence."
    """
    if exp.predicted_class == "benign":
        verdict = "Judged benign"
    else:
        verdict = f"Flagged as {exp.predicted_class}"
    supporting = [c for c in exp.contributions if c.weight > 0] or exp.contributions
    # One reason per condition: "protocol is 6 (this flow and flows t-4, t-3)", not the same
    # condition three times over for three flows of the window.
    steps: dict[str, list[int]] = {}
    for c in supporting:
        if c.condition in steps or len(steps) < k:
            steps.setdefault(c.condition, []).append(c.timestep)
    reasons = [condition + _which_flows(at) for condition, at in steps.items()]
    if len(reasons) > 1:
        because = ", ".join(reasons[:-1]) + " and " + reasons[-1]
    else:
        because = reasons[0] if reasons else "no single feature stood out"
    text = f"{verdict} ({probability_text(exp)}) mainly because {because}"
    total = sum(abs(w) for w in exp.by_timestep.values())
    context = sum(abs(w) for s, w in exp.by_timestep.items() if s != 0)
    if (exp.context_flows or exp.later_flows) and total > 0:
        host = f" from {source_host}" if source_host else " from the same host"
        parts = [f"{n} {word}" for n, word in ((exp.context_flows, "preceding"),
                                                (exp.later_flows, "following")) if n]
        plural = "flow" if exp.context_flows + exp.later_flows == 1 else "flows"
        text += (f"; the {' and '.join(parts)} {plural}{host} carried {context / total:.0%} "
                 "of the evidence")
    return _SPACES.sub(" ", text) + "."
