"""The fitting context of one run: the prepared tensors, the networks' fitting loop, scoring."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ids_desktop.core.model import metrics as M
from ids_desktop.core.model import sequences
from ids_desktop.core.model.calibration import Distance, apply_temperature, fit_temperature
from ids_desktop.core.model.verdicts import decide, reconstruction_error
from ids_desktop.core.schema import BENIGN
from ids_desktop.core.tasks import Cancel, Progress, check_cancel
from ids_desktop.errors import CancelledError
from ids_desktop.training.options import TrainOptions
from ids_desktop.training.split import Split


def set_determinism(seed: int) -> None:
    """Seed Python, numpy and TensorFlow, and ask TensorFlow for deterministic ops."""
    from ids_desktop.core.tf_import import keras as quiet_keras

    keras = quiet_keras()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except Exception:  # noqa: BLE001 - older TF builds lack it; seeds still apply
        pass


#: An anomaly threshold no score reaches: the anomaly score flags nothing.
NEVER_FLAGS = 1e30

#: The column whose values :func:`reconstruction_weights` balances (nDPI's application name).
APPLICATION = "application"
#: An application with fewer benign training flows weighs as if it had this many: one odd
#: flow must not pull the reconstruction toward itself.
RECON_MIN_FLOWS = 50


def reconstruction_weights(apps: pd.Series | None, benign_train: np.ndarray,
                           power: float) -> np.ndarray:  # fmt: skip
    """Per-row weight of the reconstruction loss: ``count ** -power`` of the row's application.

    ``count`` is the number of benign training rows (``benign_train``, a boolean mask) whose
    application has the same master protocol (nDPI's ``DNS.Google`` counts as ``DNS``), and
    at least :data:`RECON_MIN_FLOWS`. The weights average 1 over those rows. ``power`` 0, or
    no application column: every row weighs 1. A lab run's 25,000 DNS flows otherwise teach
    the reconstruction far more than its dozen DHCP leases, and a real office's DHCP, rsync,
    SNMP and NTP flows come out "unusual".
    """
    n = len(benign_train)
    if power <= 0 or apps is None or not benign_train.any():
        return np.ones(n, dtype=np.float32)
    master = apps.astype("string").fillna("?").str.split(".", n=1).str[0].to_numpy(dtype=object)
    names, inverse = np.unique(master, return_inverse=True)
    counts = np.bincount(inverse[benign_train], minlength=len(names)).astype(float)
    per_app = np.maximum(counts, RECON_MIN_FLOWS) ** -float(power)
    w = per_app[inverse]
    w /= w[benign_train].mean()
    return w.astype(np.float32)


@dataclass
class Fitted:
    """A fitted network and the thresholds chosen for it on its validation rows."""

    model: Any
    seq_len: int
    threshold: float = 0.5
    anomaly_threshold: float = NEVER_FLAGS
    epochs: int = 0
    has_recon: bool = True
    #: The epoch whose weights were kept (early stopping on the validation loss).
    best_epoch: int = 0
    temperature: float = 1.0
    distance: Distance | None = None
    min_confidence: float = 0.0


class FitContext:
    """Everything the fitting and evaluation steps of one run share.

    Attributes
    ----------
    data
        The run's prepared rows (:func:`ids_desktop.training.split.rows_and_split`).
    x, y
        Scaled features of every row and class indices into ``classes``.
    classes
        Class names, benign first.
    hosts, times
        Sequence keys of each row (temporal inputs) or one host per row.
    split
        The grouped train/validation/test split.
    far_target
        The format's false-alarm target; the validation budget is ``far_margin`` times it.
    """

    def __init__(self, data: pd.DataFrame, x: np.ndarray, y: np.ndarray, classes: list[str],
                 hosts: np.ndarray, times: np.ndarray, temporal: bool, split: Split,
                 opts: TrainOptions, seed: int, progress: Progress, cancel: Cancel | None,
                 far_target: float) -> None:  # fmt: skip
        self.data, self.x, self.y, self.classes = data, x, y, classes
        self.hosts, self.times, self.temporal = hosts, times, temporal
        self.split, self.opts, self.seed = split, opts, seed
        self.progress, self.cancel, self.far_target = progress, cancel, far_target
        self.benign = classes.index(BENIGN) if BENIGN in classes else 0
        self.is_attack = (y != self.benign)
        self.class_arr = np.asarray(classes, dtype=object)
        counts = np.bincount(y[split.train], minlength=len(classes)).astype(float)
        w = (counts.max() / np.maximum(counts, 1.0)) ** opts.class_weight_power
        self.class_weight = w / np.average(w, weights=np.maximum(counts, 1.0))
        benign_train = np.zeros(len(y), dtype=bool)
        benign_train[split.train] = True
        benign_train &= (y == self.benign)
        self.recon_weight = reconstruction_weights(
            data[APPLICATION] if APPLICATION in data.columns else None, benign_train,
            opts.recon_balance)

    # ---- sequences

    def windows(
        self, rows: np.ndarray, seq_len: int, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """Windows (indices into the full data) over ``rows``; drops context flows if ``rng``."""
        if rng is not None and seq_len > 1 and self.opts.context_dropout > 0:
            rows = rows[sequences.drop_flows(len(rows), self.opts.context_dropout, rng)]
        if seq_len == 1:
            return rows[:, None].astype(np.int64)
        w = sequences.build_windows(self.hosts[rows], self.times[rows], seq_len)
        return np.where(w == sequences.PAD, sequences.PAD, rows[np.clip(w, 0, None)])

    def background(self, seq_len: int, n: int = 256) -> np.ndarray:
        """A seeded sample of ``n`` scaled training sequences ``(n, T, F)`` for explanations."""
        w = self.windows(self.split.train, seq_len)
        rng = np.random.default_rng(self.seed + 31)
        pick = np.sort(rng.choice(len(w), size=min(n, len(w)), replace=False))
        return sequences.to_tensor(self.x, w[pick])[..., 0]

    def tensors(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Network inputs, class targets and the real-flow mask of ``windows``."""
        xt = sequences.to_tensor(self.x, windows)
        yt = sequences.gather(self.y, windows, fill=0)
        mask = (windows != sequences.PAD).astype(np.float32)
        return xt, yt, mask

    # ---- fitting

    def _fit_loop(self, model: Any, rows_train: np.ndarray, rows_val: np.ndarray | None,
                  seq_len: int, stage: str, *, recon: bool, epochs: int | None = None,
                  member: int = 0) -> tuple[int, int]:  # fmt: skip
        """Fit ``model``; returns (epochs run, the epoch whose weights were kept).

        ``rows_val`` ``None``: exactly ``epochs`` epochs, no early stopping (a refit).
        """
        epochs = epochs or self.opts.epochs
        rng = np.random.default_rng(self.seed + 17 + member)
        if rows_val is not None:
            xv, yv, mv = self.tensors(self.windows(rows_val, seq_len))
        best_loss, best_weights, stale, done, best_epoch = np.inf, None, 0, 0, 0
        for epoch in range(epochs):
            check_cancel(self.cancel)
            self.progress(epoch, epochs, f"{stage}: epoch {epoch + 1}/{epochs}")
            w_tr = self.windows(rows_train, seq_len, rng)
            w_tr = w_tr[rng.permutation(len(w_tr))]
            xt, yt, mt = self.tensors(w_tr)
            cw = (self.class_weight[yt] * mt).astype(np.float32)
            cb = cancel_callback(self.cancel)
            if recon:
                # The reconstruction is learned from benign flows only: it scores unlikeness.
                rw = (mt * (yt == self.benign)
                      * sequences.gather(self.recon_weight, w_tr, fill=0)).astype(np.float32)
                model.fit(
                    xt, [yt, xt[..., 0]],
                    sample_weight=[cw, rw],
                    batch_size=self.opts.batch_size, epochs=1, verbose=0, shuffle=False,
                    callbacks=[cb],
                )
            else:
                model.fit(xt, yt, sample_weight=cw, batch_size=self.opts.batch_size, epochs=1,
                          verbose=0, shuffle=False, callbacks=[cb])
            if cb.cancelled:
                raise CancelledError("cancelled by the user")
            done = epoch + 1
            if rows_val is None:
                best_epoch = done
                continue
            probs = self._predict(model, xv, recon)[0]
            true_probs = probs[np.arange(len(yv))[:, None], np.arange(seq_len)[None, :], yv]
            p = np.clip(true_probs, 1e-7, 1)
            loss = float(-(np.log(p) * mv).sum() / max(mv.sum(), 1))
            if loss < best_loss - 1e-4:
                best_loss, best_weights, stale, best_epoch = loss, model.get_weights(), 0, done
            else:
                stale += 1
                if stale >= self.opts.patience:
                    break
                # Plateau: go back to the best weights and halve the learning rate.
                model.set_weights(best_weights)
                lr = model.optimizer.learning_rate
                lr.assign(float(lr.numpy()) * 0.5)
        if best_weights is not None:
            model.set_weights(best_weights)
        return done, best_epoch

    def _predict(self, model: Any, xt: np.ndarray, recon: bool) -> list[np.ndarray]:
        from ids_desktop.core.model.network import predict_batches

        out = predict_batches(model, xt, batch=4096)
        return out if recon else [out]

    def _compile(self, model: Any, recon: bool) -> None:
        import keras

        opt = keras.optimizers.Adam(self.opts.learning_rate)
        if recon:
            model.compile(opt, loss=["sparse_categorical_crossentropy", "mse"],
                          loss_weights=[1.0, 0.5])
        else:
            model.compile(opt, loss="sparse_categorical_crossentropy")

    def fit_hybrid(self, seq_len: int, *, stage: str = "training the hybrid",
                   train_rows: np.ndarray | None = None, val_rows: np.ndarray | None = None,
                   epochs: int | None = None) -> Fitted:
        """Fit the hybrid (``opts.members`` networks averaged) and choose its thresholds."""
        tr = self.split.train if train_rows is None else train_rows
        va = self.split.val if val_rows is None else val_rows
        model, n_ep, best_ep = self._fit_members(seq_len, tr, va, stage, epochs)
        fitted = Fitted(model, seq_len, epochs=n_ep, best_epoch=best_ep)
        self._set_thresholds(fitted, va)
        return fitted

    def refit(self, fitted: Fitted, rows: np.ndarray, *, stage: str) -> Fitted:
        """The hybrid ``fitted`` trained again on ``rows``, with its thresholds.

        The same architecture and seeds, trained for the epochs early stopping kept in
        ``fitted`` (no validation rows left to stop on), with ``fitted``'s thresholds,
        temperature and distance: what the split run chose on validation rows stands.
        """
        model, _, _ = self._fit_members(fitted.seq_len, rows, None, stage,
                                        max(1, fitted.best_epoch))
        return dataclasses.replace(fitted, model=model)

    def _fit_members(self, seq_len: int, tr: np.ndarray, va: np.ndarray | None, stage: str,
                     epochs: int | None) -> tuple[Any, int, int]:  # fmt: skip
        """The hybrid's ``opts.members`` networks fitted and averaged (see :meth:`_fit_loop`
        for ``va`` ``None``); returns (model, most epochs run, latest epoch kept)."""
        from ids_desktop.core.model.network import average_members, build_hybrid

        k = max(1, int(self.opts.members))
        members, n_ep, best_ep = [], 0, 0
        for j in range(k):
            # Member 0 is the single network's run exactly; build_hybrid spends seeds seed ...
            # seed + 7 + 10 * layers on its layers, so members' initialisers step by 101.
            set_determinism(self.seed + j)
            model = build_hybrid(seq_len, self.x.shape[1], len(self.classes),
                                 filters=self.opts.filters, head_units=self.opts.head_units,
                                 head_layers=self.opts.head_layers, seed=self.seed + 101 * j,
                                 name=None if k == 1 else f"member_{j}")
            self._compile(model, True)
            ran, kept = self._fit_loop(model, tr, va, seq_len,
                                       stage if k == 1 else f"{stage} (member {j + 1}/{k})",
                                       recon=True, epochs=epochs, member=j)
            n_ep, best_ep = max(n_ep, ran), max(best_ep, kept)
            members.append(model)
        return (members[0] if k == 1 else average_members(members)), n_ep, best_ep

    def fit_seq2seq(self, seq_len: int) -> Fitted:
        """Fit the plain Seq2Seq baseline and choose its threshold."""
        from ids_desktop.core.model.network import build_seq2seq

        set_determinism(self.seed)
        model = build_seq2seq(seq_len, self.x.shape[1], len(self.classes), seed=self.seed)
        self._compile(model, False)
        n_ep, _ = self._fit_loop(model, self.split.train, self.split.val, seq_len,
                                 "training the Seq2Seq baseline", recon=False)
        fitted = Fitted(model, seq_len, epochs=n_ep, has_recon=False)
        self._set_thresholds(fitted, self.split.val)
        return fitted

    def fit_tree(self, train_rows: np.ndarray | None = None, val_rows: np.ndarray | None = None,
                 *, kind: str = "forest") -> Any:
        """Fit a tree baseline (:mod:`ids_desktop.training.baselines`) and its threshold."""
        from ids_desktop.training.baselines import KINDS, TreeBaseline

        check_cancel(self.cancel)
        self.progress(0, 1, f"training the {KINDS[kind]} baseline")
        tr = self.split.train if train_rows is None else train_rows
        va = self.split.val if val_rows is None else val_rows
        tree = TreeBaseline(seed=self.seed, kind=kind).fit(self.x[tr], self.y[tr],
                                                           self.x[va], self.y[va])
        p = self.tree_proba(tree, va)
        tree.threshold_ = M.choose_threshold(self.is_attack[va], 1 - p[:, self.benign],
                                             max_far=self.far_target * self.opts.far_margin)
        return tree

    def tree_proba(self, tree: Any, rows: np.ndarray) -> np.ndarray:
        """A tree baseline's class probabilities for ``rows``, one column per class."""
        p = tree.predict_proba(self.x[rows])
        if p.shape[1] < len(self.classes):
            p = np.hstack([p, np.zeros((len(p), len(self.classes) - p.shape[1]))])
        return p

    # ---- scoring

    def score(self, fitted: Fitted, rows: np.ndarray) -> dict[str, Any]:
        """Per-row outputs for ``rows`` (aligned with ``rows``)."""
        w = self.windows(rows, fitted.seq_len)
        # Map windows to positions within ``rows`` for scattering.
        pos_of = np.full(len(self.data), -1, dtype=np.int64)
        pos_of[rows] = np.arange(len(rows))
        w_local = np.where(w == sequences.PAD, sequences.PAD, pos_of[np.clip(w, 0, None)])
        xt = sequences.to_tensor(self.x, w)
        t0 = time.perf_counter()
        out = self._predict(fitted.model, xt, fitted.has_recon)
        seconds = time.perf_counter() - t0
        probs = apply_temperature(sequences.scatter(out[0], w_local, len(rows)),
                                  fitted.temperature)
        res: dict[str, Any] = {"probs": probs, "p_attack": 1.0 - probs[:, self.benign],
                               "seconds": seconds}
        if fitted.distance is not None:
            res["unusual"] = fitted.distance.unusual(self.x[rows])
        if fitted.has_recon:
            recon = sequences.scatter(out[1], w_local, len(rows))
            res["anomaly"] = reconstruction_error(self.x[rows], recon,
                                                  self.opts.anomaly_error_cap or None)
        return res

    def _set_thresholds(self, fitted: Fitted, val_rows: np.ndarray) -> None:
        if self.opts.calibrate:
            fitted.temperature = fit_temperature(self.score(fitted, val_rows)["probs"],
                                                 self.y[val_rows])
        if self.opts.distance_quantile > 0 and fitted.has_recon:
            fitted.distance = Distance.fit(
                self.x[self.split.train], self.x[val_rows],
                components=self.opts.distance_components,
                quantile=self.opts.distance_quantile, seed=self.seed)
        fitted.min_confidence = self.opts.min_confidence
        s = self.score(fitted, val_rows)
        y_att = self.is_attack[val_rows]
        extra = None
        if fitted.has_recon:
            benign_anom = s["anomaly"][~y_att]
            fitted.anomaly_threshold = (
                float(np.quantile(benign_anom, 1 - self.opts.anomaly_far)) * 1.0 + 1e-9
                if len(benign_anom) else NEVER_FLAGS
            )
            extra = s["anomaly"] >= fitted.anomaly_threshold
        fitted.threshold = M.choose_threshold(
            y_att, s["p_attack"], max_far=self.far_target * self.opts.far_margin, extra_flags=extra,
            rule=self.opts.threshold_rule,
        )

    def decide(self, fitted: Fitted, s: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """``(flagged, pred names)`` by the app's verdict rule
        (:mod:`ids_desktop.core.model.verdicts`)."""
        v = decide(s["probs"], s.get("anomaly"), self.classes, fitted.threshold,
                   fitted.anomaly_threshold, unusual=s.get("unusual"),
                   min_confidence=fitted.min_confidence)
        return v.flagged, v.pred_names()

    def class_names(self, fitted: Fitted, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(true class names, predicted class names)`` of ``rows``."""
        s = self.score(fitted, rows)
        _, pred = self.decide(fitted, s)
        return self.class_arr[self.y[rows]], pred

    def lofo_seq_len(self) -> int:
        """The sequence length of the leave-one-family-out networks (the shortest candidate)."""
        return 1 if not self.temporal else min(self.opts.seq_lens or (1,))


def cancel_callback(cancel: Cancel | None) -> Any:
    """A Keras callback stopping ``fit`` at the next batch once ``cancel`` is set.

    Its ``cancelled`` attribute tells the fitting loop to raise
    :class:`~ids_desktop.errors.CancelledError`.
    """
    import keras

    class _CancelCallback(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.cancelled = False

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if cancel is not None and cancel.is_set():
                self.cancelled = True
                self.model.stop_training = True

    return _CancelCallback()
