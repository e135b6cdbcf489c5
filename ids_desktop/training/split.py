"""A run's rows: labelled-row preparation, flows counted as they occur, the cap, and the grouped
split."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.model import sequences
from ids_desktop.core.model.bundle import add_gap_feature
from ids_desktop.core.model.preprocess import Preprocessor, feature_hash, select_features
from ids_desktop.core.schema import BENIGN
from ids_desktop.errors import ModelError
from ids_desktop.training.options import TrainOptions


@dataclass
class Split:
    """Row positions of the train, validation and test parts of a frame."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    notes: dict[str, Any] = field(default_factory=dict)
    #: Each row's feature-vector group (identical vectors share one); ``None`` when unknown.
    groups: np.ndarray | None = None


@dataclass
class RunRows:
    """The rows one run trains on (:func:`rows_and_split`).

    Attributes
    ----------
    data
        The prepared labelled rows, every flow as it occurs (temporal inputs: exact repeats of
        one event dropped), possibly subsampled.
    numeric, categorical
        The feature columns selected for the format.
    dedup
        Row counts (input, kept, distinct feature vectors), the subsample, the class counts.
    split
        The grouped train/validation/test split of ``data``.
    """

    data: pd.DataFrame
    numeric: list[str]
    categorical: list[str]
    dedup: dict[str, Any]
    split: Split


def class_order(name: str) -> tuple[int, str]:
    """Sort key of class names: benign first, then the attack families alphabetically."""
    return (0 if name == BENIGN else 1, name)


def prepare_rows(frame: pd.DataFrame, temporal: bool, context: tuple[str, ...]) -> pd.DataFrame:
    """The labelled rows of ``frame``, with the derived context features of temporal inputs."""
    data = frame[frame["label_class"].notna()].reset_index(drop=True)
    if data.empty:
        raise ModelError("no labelled rows to train on")
    if temporal:
        data = add_gap_feature(data, True, context)
    return data


def dedup_and_cap(
    data: pd.DataFrame, cols: list[str], temporal: bool, opts: TrainOptions, seed: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep every flow as it occurs, then subsample (seeded) above ``opts.max_rows``.

    Flows are counted as they occur (issue 34): real traffic repeats itself, and a scanner's
    ten thousand identical probes are ten thousand flows an analyst sees. Dropping repeats made
    such a vector one training row and one test row, so neither the loss nor the figures saw
    its weight. Repeats stay; :func:`grouped_split` keeps identical vectors on one side.

    Temporal inputs are the exception: there a row is one event of one host at one time, and
    a row repeated with the same host and time is the same event recorded twice; those
    repeats are dropped.

    The subsample above ``max_rows`` is proportional per class for flow tables (the natural
    mix stays), and for temporal inputs keeps at least 2,000 rows of each class.

    Returns the rows and the notes the bundle records under ``rows``.
    """
    n0 = len(data)
    key = cols + ["label_class"]
    if temporal:
        data = data.drop_duplicates(subset=key + ["src_ip", "first_seen"]).reset_index(drop=True)
    n1 = len(data)
    info: dict[str, Any] = {"input": n0, "after_dedup": n1, "subsampled": False,
                            "counted_as_they_occur": not temporal,
                            "distinct": int(len(data.drop_duplicates(subset=key)))}
    if n1 > opts.max_rows:
        rng = np.random.default_rng(seed)
        frac = opts.max_rows / n1
        keep = []
        for _, idx in data.groupby("label_class", sort=True).indices.items():
            floor = min(len(idx), 2000) if temporal else 1
            k = max(floor, int(round(len(idx) * frac)))
            keep.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
        data = data.iloc[np.sort(np.concatenate(keep))].reset_index(drop=True)
        info.update(subsampled=True, after_subsample=len(data))
    info["class_counts"] = {str(k): int(v) for k, v in data["label_class"].value_counts().items()}
    return data, info


def grouped_split(data: pd.DataFrame, cols: list[str], opts: TrainOptions, seed: int) -> Split:
    """Stratified train/val/test split in which identical feature vectors share one side."""
    groups = feature_hash(data, cols)
    uniq, inverse = np.unique(groups, return_inverse=True)
    # A group's stratum is the label of its first row; rare strata merge into one.
    first = np.full(len(uniq), -1, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(data))[::-1]
    strata = data["label_class"].to_numpy(dtype=object)[first]
    counts = pd.Series(strata).value_counts()
    rare = set(counts[counts < 10].index)
    strata = np.array(["<rare>" if s in rare else s for s in strata], dtype=object)
    rng = np.random.default_rng(seed)
    part = np.empty(len(uniq), dtype=np.int8)
    for s in np.unique(strata):
        idx = np.flatnonzero(strata == s)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(len(idx) * opts.test_share))
        n_val = int(round(len(idx) * opts.val_share))
        part[idx[:n_test]] = 2
        part[idx[n_test : n_test + n_val]] = 1
        part[idx[n_test + n_val :]] = 0
    row_part = part[inverse]
    return Split(
        np.flatnonzero(row_part == 0),
        np.flatnonzero(row_part == 1),
        np.flatnonzero(row_part == 2),
        {"train": int((row_part == 0).sum()), "val": int((row_part == 1).sum()),
         "test": int((row_part == 2).sum()), "feature_groups": int(len(uniq)),
         "conflicting_groups": int(
             pd.DataFrame({"g": inverse, "c": data["label_class"].to_numpy(dtype=object)})
             .groupby("g")["c"].nunique().gt(1).sum()
         )},
        groups=inverse.astype(np.int64),
    )


def rows_and_split(
    frame: pd.DataFrame, feature_format: str, temporal: bool, opts: TrainOptions, seed: int
) -> RunRows:
    """Preparation, feature selection, deduplication and the grouped split of a run.

    The rows and split :func:`ids_desktop.training.trainer.prepare_run` trains on and
    :func:`validation_inputs` rebuilds; ``scripts/split_ceiling.py`` measures tree ensembles
    on the same split.
    """
    data = prepare_rows(frame, temporal, opts.context)
    numeric, categorical = select_features(data, feature_format)
    data, dedup = dedup_and_cap(data, numeric + categorical, temporal, opts, seed)
    split = grouped_split(data, numeric + categorical, opts, seed)
    return RunRows(data, numeric, categorical, dedup, split)


def validation_inputs(
    frame: pd.DataFrame, meta: dict[str, Any], *, temporal: bool = False
) -> np.ndarray:
    """Rebuild a bundle's validation-split model inputs ``(n, T, F, 2)`` from its training data.

    Repeats the training run's preparation, deduplication and split with the seed and options
    saved in ``meta``, then scales with the bundle's own preprocessing.

    Parameters
    ----------
    frame
        The canonical training frame the bundle was trained on.
    meta
        The bundle's metadata (``options``, ``seed``, ``feature_format``, ``preprocessing``,
        ``seq_len``).
    temporal
        Whether the training frame had per-flow times and hosts.

    Returns
    -------
    numpy.ndarray
        The validation windows as the network's input.
    """
    opts = TrainOptions.from_metadata(meta)
    seed = int(meta.get("seed", 0))
    run = rows_and_split(frame, meta["feature_format"], temporal, opts, seed)
    data = run.data
    pre = Preprocessor.from_json(meta["preprocessing"])
    x = pre.transform(data)
    seq_len = int(meta["seq_len"])
    rows = run.split.val
    if seq_len == 1:
        w = rows[:, None].astype(np.int64)
    else:
        hosts, times = sequences.host_time_keys(data)
        w = sequences.build_windows(hosts[rows], times[rows], seq_len)
        w = np.where(w == sequences.PAD, sequences.PAD, rows[np.clip(w, 0, None)])
    return sequences.to_tensor(x, w)
