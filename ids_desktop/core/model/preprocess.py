"""Feature selection and scaling saved as plain JSON: signed log1p, standardise, one-hot top-K,
and optionally a quantile-normal copy of every numeric feature."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ids_desktop.core.ingest.flowtable import flag_columns
from ids_desktop.core.ingest.tables import CIC_CLEANED_DROPPED
from ids_desktop.core.schema import feature_columns
from ids_desktop.errors import SchemaError

#: The columns the cleaned CIC-IDS2017 export drops from the official 78. The cic-ids2017
#: bundle never uses them, so it reads both exports (one list, owned by the table adapters).
CIC_CLEANED_DROPS = CIC_CLEANED_DROPPED

#: Identity columns a bundle may read as categorical features, per feature format. IP
#: addresses and times never are; ports only where the dataset's own feature set has them.
#: (UNSW-NB15, ToN-IoT and NSL-KDD keep their own proto/service columns as features.)
IDENTITY_FEATURES: dict[str, tuple[str, ...]] = {
    "cic-ids2017": ("dst_port",),
    "pcap": ("dst_port", "protocol", "application"),
}

#: nfstream columns the ``pcap`` bundle never uses: meter bookkeeping (``expiration_id``
#: depends on the timeouts and on where the capture was cut), the environment (IP version,
#: VLAN, tunnel), nDPI's confidence in its guess, and free-text strings an attacker controls
#: (server names, fingerprints, user agents, content types): a one-hot of those would learn
#: the lab's host names, not behaviour. Also the ECN flag counts (CWR, ECE): they say whether
#: the two TCP stacks negotiated explicit congestion notification, a setting of the operating
#: systems, not what the hosts did. The lab's attackers never negotiate it and a few everyday
#: hosts do, so the model learnt "ECE packets = 0" as evidence of attack: rescored with
#: negotiated-ECN counts, every TCP attack alert of the shared and lab captures lost its
#: family (``bench/ecn_flip.py``).
ECN_COLUMNS: tuple[str, ...] = flag_columns(("cwr", "ece"))
PCAP_DROPS: frozenset[str] = frozenset(
    {"expiration_id", "ip_version", "vlan_id", "tunnel_id", "application_is_guessed",
     "application_confidence", "application_category_name", "requested_server_name",
     "client_fingerprint", "server_fingerprint", "user_agent", "content_type", *ECN_COLUMNS}
)

#: Feature names that must never reach a model whatever the adapter calls them.
NEVER_FEATURES: frozenset[str] = frozenset(
    {"id", "src_ip", "dst_ip", "src_port", "ts", "stime", "ltime", "timestamp", "flow id",
     "source ip", "destination ip", "source port", "destination port", "label", "attack_cat",
     "type", "difficulty", "community_id"}
)

#: Name of the derived context feature (seconds since the host's previous flow, log-scaled).
GAP_FEATURE = "ctx_gap"
#: Optional context features (``TrainOptions.context``): seconds since the host's previous
#: flow to the same destination address, and that previous flow's own such gap (beacons).
PEER_GAP_FEATURE = "ctx_peer_gap"
PEER_PREV_GAP_FEATURE = "ctx_peer_prev_gap"
#: Optional behaviour features (``TrainOptions.context``): what the host did over its last 16
#: flows (:func:`ids_desktop.core.model.sequences.behaviour`): destination port changes,
#: destination address changes, failed attempts, and flows to this flow's destination and port.
BEHAVIOUR_FEATURES = ("ctx_port_changes", "ctx_host_changes", "ctx_failed", "ctx_repeats")
#: Every derived context feature, in the order a frame gets them.
CONTEXT_FEATURES = (GAP_FEATURE, PEER_GAP_FEATURE, PEER_PREV_GAP_FEATURE, *BEHAVIOUR_FEATURES)


def signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log1p(|x|)``, elementwise."""
    out: np.ndarray = np.sign(x) * np.log1p(np.abs(x))
    return out


@dataclass
class Preprocessor:
    """Maps canonical frame columns to a float32 matrix; every parameter is JSON.

    Attributes
    ----------
    numeric
        Ordered numeric input columns with ``mean``/``std`` of their signed log1p.
    categorical
        Ordered categorical input columns with their kept values (top-K); anything else
        goes to an ``other`` slot.
    indicators
        Numeric columns that also get a 0/1 "was missing" feature.
    clip
        Scaled values are clipped to ``[-clip, clip]``.
    quantile_levels
        Empty, or the standard-normal values of the evenly spaced quantile levels (0 to 1)
        the ``knots`` of every numeric spec sit at. Then each numeric column also gets a
        quantile-normal copy
        (``<name>__q``, after the one-hot slots): its standardised value mapped through the
        training rows' empirical distribution onto a standard normal. The copy is a function
        of the standardised value alone (:meth:`quantile_copies`), so an explainer can perturb
        one and recompute the other.
    """

    numeric: list[dict[str, Any]] = field(default_factory=list)
    categorical: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[str] = field(default_factory=list)
    clip: float = 10.0
    quantile_levels: list[float] = field(default_factory=list)

    @property
    def input_columns(self) -> list[str]:
        """The frame columns this preprocessor reads, in order."""
        return [c["name"] for c in self.numeric] + [c["name"] for c in self.categorical]

    @property
    def output_names(self) -> list[str]:
        """Names of the produced matrix columns, in order."""
        names = [c["name"] for c in self.numeric]
        names += [f"{n}__missing" for n in self.indicators]
        for c in self.categorical:
            names += [f"{c['name']}={v}" for v in c["values"]] + [f"{c['name']}=<other>"]
        if self.quantile_levels:
            names += [f"{c['name']}__q" for c in self.numeric]
        return names

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        numeric: list[str],
        categorical: list[str],
        *,
        top_k: int = 16,
        min_count: int = 5,
        quantiles: int = 0,
    ) -> Preprocessor:
        """Learn scaling from ``frame`` (the training rows only).

        ``quantiles`` > 1 adds the quantile-normal copies with that many knots per column.
        """
        num_specs = []
        indicators = []
        for name in numeric:
            raw = _numeric(frame[name])
            v = signed_log1p(raw)
            finite = v[np.isfinite(v)]
            mean = float(finite.mean()) if finite.size else 0.0
            std = float(finite.std()) if finite.size else 1.0
            num_specs.append({"name": name, "mean": mean, "std": std if std > 1e-9 else 1.0})
            if finite.size < len(v):
                indicators.append(name)
        levels: list[float] = []
        if quantiles > 1 and num_specs:
            from scipy.special import ndtri  # training only: transform needs numpy alone

            grid = np.linspace(0.0, 1.0, quantiles)
            # scikit-learn's bounds: the ends map to about +-5.2, not to infinity
            levels = [float(v) for v in ndtri(np.clip(grid, 1e-7, 1 - 1e-7))]
            scaled = cls(num_specs).transform(frame)
            for j, spec in enumerate(num_specs):
                knots = np.quantile(scaled[:, j].astype(np.float64), grid)
                spec["knots"] = [float(k) for k in knots]
        cat_specs = []
        for name in categorical:
            counts = _categorical(frame[name]).value_counts()
            counts = counts[counts >= min_count]
            values = [str(v) for v in counts.index[:top_k]]
            cat_specs.append({"name": name, "values": values})
        return cls(num_specs, cat_specs, indicators, quantile_levels=levels)

    def quantile_copies(self, scaled: np.ndarray) -> np.ndarray:
        """The quantile-normal copies ``(..., len(numeric))`` of standardised numeric values
        ``scaled`` ``(..., len(numeric))`` (the first columns of :meth:`transform`'s output).

        Repeated knots (a discrete or mostly-zero column) map to the middle of their levels,
        as scikit-learn's ``QuantileTransformer`` does by interpolating up and down and
        averaging. (Unlike it, the column's minimum gets that middle too, not the bottom
        level: a column that is zero in 60 % of rows puts its zeros near -0.8, not at -5.2.)
        """
        levels = np.asarray(self.quantile_levels, dtype=np.float64)
        grid = np.linspace(0.0, 1.0, len(levels))
        out = np.empty(scaled.shape, dtype=np.float32)
        for j, spec in enumerate(self.numeric):
            knots = np.asarray(spec["knots"], dtype=np.float64)
            v = scaled[..., j].astype(np.float64)
            up = np.interp(v, knots, grid)
            down = -np.interp(-v, -knots[::-1], -grid[::-1])
            # the share of training rows below, onto the normal levels (piecewise linear
            # between the knots: no scipy import, which holds a GUI's GIL for ~0.15 s)
            out[..., j] = np.interp(0.5 * (up + down), grid, levels)
        return out

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """The scaled float32 matrix ``(n, n_outputs)`` for ``frame``."""
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            shown = ", ".join(f"'{c}'" for c in missing[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            raise SchemaError(f"the flow table lacks feature columns {shown}{more}")
        n = len(frame)
        blocks = []
        if self.numeric:
            raw = np.column_stack([_numeric(frame[c["name"]]) for c in self.numeric])
            mean = np.array([c["mean"] for c in self.numeric])
            std = np.array([c["std"] for c in self.numeric])
            scaled = (signed_log1p(raw) - mean) / std
            isnan = ~np.isfinite(scaled)
            scaled = np.clip(np.where(isnan, 0.0, scaled), -self.clip, self.clip)
            blocks.append(scaled)
            if self.indicators:
                pos = {c["name"]: i for i, c in enumerate(self.numeric)}
                blocks.append(isnan[:, [pos[n_] for n_ in self.indicators]].astype(np.float32))
        for spec in self.categorical:
            codes = _codes(_categorical(frame[spec["name"]]), spec["values"])
            onehot = np.zeros((n, len(spec["values"]) + 1), dtype=np.float32)
            onehot[np.arange(n), codes] = 1.0
            blocks.append(onehot)
        if self.quantile_levels and self.numeric:
            # from the float32 values the model sees (and the knots were taken from), so a
            # value sitting on a repeated knot is found on it
            blocks.append(self.quantile_copies(blocks[0].astype(np.float32)))
        if not blocks:
            return np.zeros((n, 0), dtype=np.float32)
        # float32 block by block: a float64 hstack of ToN-IoT's 148 columns took 0.47 s per
        # 100,000 rows before its conversion
        return np.hstack([b.astype(np.float32, copy=False) for b in blocks])

    def to_json(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "categorical": self.categorical,
            "indicators": self.indicators,
            "clip": self.clip,
            "quantile_levels": self.quantile_levels,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preprocessor:
        return cls(
            list(data["numeric"]),
            list(data["categorical"]),
            list(data.get("indicators", [])),
            float(data.get("clip", 10.0)),
            list(data.get("quantile_levels", [])),
        )


def _numeric(series: pd.Series) -> np.ndarray:
    values: np.ndarray = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan, copy=True
    )
    values[~np.isfinite(values)] = np.nan
    return values


def _categorical(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("<NA>").str.strip().str.lower()


def _codes(values: pd.Series, vocabulary: list[str]) -> np.ndarray:
    """Each value's position in ``vocabulary``, ``len(vocabulary)`` for values not in it.

    Looked up in Arrow, which releases the GIL (``Series.map`` with a dict holds it: up to
    0.2 s per 131,072-row chunk under load, a frozen GUI thread meanwhile).
    """
    found = pc.index_in(pa.array(values.array), value_set=pa.array(vocabulary, type=pa.string()))
    codes: np.ndarray = found.fill_null(len(vocabulary)).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64)


def select_features(frame: pd.DataFrame, feature_format: str) -> tuple[list[str], list[str]]:
    """Choose ``(numeric, categorical)`` input columns of ``frame`` for ``feature_format``.

    Drops addresses, times and label-like columns, columns with a single value or all
    missing, and for ``cic-ids2017`` the features the cleaned export lacks.
    """
    numeric: list[str] = []
    categorical: list[str] = []
    for name in feature_columns(frame):
        low = name.strip().lower()
        if low in NEVER_FEATURES or (feature_format == "cic-ids2017" and name in CIC_CLEANED_DROPS):
            continue
        if feature_format == "pcap" and low in PCAP_DROPS:
            continue
        if name in CONTEXT_FEATURES:  # added below, in their own order
            continue
        col = frame[name]
        if col.nunique(dropna=True) <= 1:
            continue
        if pd.api.types.is_numeric_dtype(col.dtype):
            numeric.append(name)
        else:
            categorical.append(name)
    for name in IDENTITY_FEATURES.get(feature_format, ()):
        if name in frame.columns and frame[name].nunique(dropna=True) > 1:
            categorical.append(name)
    # the context features are features even where constant (a single flow per host); once,
    # though: a frame that already holds them lists them among its numeric columns
    for name in CONTEXT_FEATURES:
        if name in frame.columns and name not in numeric:
            numeric.append(name)
    return numeric, categorical


def feature_hash(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """A 64-bit hash per row of the given columns (identical feature vectors hash equal)."""
    if not columns:
        return np.zeros(len(frame), dtype=np.uint64)
    sub = frame[columns].astype("string").fillna("<NA>")
    hashes: np.ndarray = pd.util.hash_pandas_object(sub, index=False).to_numpy(dtype=np.uint64)
    return hashes
