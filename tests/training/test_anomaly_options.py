"""Two anomaly-score options: the reconstruction loss balanced over benign applications
(TrainOptions.recon_balance) and each input's error capped in the score (anomaly_error_cap)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ids_desktop.training.context import RECON_MIN_FLOWS, reconstruction_weights
from tests.synthetic_flows import synthetic_frame


def test_rare_applications_weigh_more_and_benign_training_rows_average_one() -> None:
    apps = pd.Series(["DNS"] * 400 + ["DNS.Google"] * 500 + ["DHCP"] * 100 + ["NTP"] * 3
                     + ["Unknown"] * 10)
    benign = np.ones(len(apps), dtype=bool)
    benign[-10:] = False  # attack rows: not counted, and their weight does not matter
    w = reconstruction_weights(apps, benign, 0.5)
    assert w.dtype == np.float32 and w.shape == (len(apps),)
    assert w[benign].mean() == pytest.approx(1.0, rel=1e-5)
    dns, dhcp, ntp = w[0], w[900], w[1000]
    assert w[400] == dns  # DNS.Google counts as DNS: 900 flows
    assert dhcp / dns == pytest.approx(np.sqrt(900 / 100), rel=1e-5)
    # three NTP flows weigh as if they were RECON_MIN_FLOWS, not 3
    assert ntp / dns == pytest.approx(np.sqrt(900 / RECON_MIN_FLOWS), rel=1e-5)


def test_off_by_default_and_without_an_application_column() -> None:
    benign = np.ones(5, dtype=bool)
    apps = pd.Series(["DNS", "DNS", "DHCP", "NTP", "NTP"])
    assert np.array_equal(reconstruction_weights(apps, benign, 0.0), np.ones(5))
    assert np.array_equal(reconstruction_weights(None, benign, 0.5), np.ones(5))
    assert np.array_equal(reconstruction_weights(apps, np.zeros(5, dtype=bool), 0.5),
                          np.ones(5))


@pytest.mark.slow
def test_the_fitting_loop_uses_the_weights(tmp_path) -> None:
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.trainer import prepare_run

    frame = synthetic_frame(n_hosts=6, per_host=30)
    frame["application"] = np.where(np.arange(len(frame)) % 10 == 0, "DHCP", "DNS.Google")
    weights = []
    for power in (0.0, 0.5):
        opts = TrainOptions(epochs=1, patience=1, seq_lens=(4,), baselines=False, filters=4,
                            batch_size=32, recon_balance=power)
        ctx, _, _ = prepare_run(frame, "ton-iot", temporal=True, opts=opts, seed=3)
        benign_train = np.intersect1d(ctx.split.train, np.flatnonzero(~ctx.is_attack))
        rare = ctx.data["application"].to_numpy()[benign_train] == "DHCP"
        w = ctx.recon_weight[benign_train]
        if power:
            assert w[rare].min() > w[~rare].max()
        else:
            assert np.all(w == 1.0)
        fitted = ctx.fit_hybrid(4, epochs=1)
        weights.append(np.concatenate([v.ravel() for v in fitted.model.get_weights()]))
    assert not np.allclose(weights[0], weights[1])  # same seed: only the loss weights differ


def test_a_capped_error_counts_each_input_at_most_the_cap() -> None:
    from ids_desktop.core.model.verdicts import reconstruction_error

    x = np.array([[0.0, 0.0, 0.0, 0.0], [9.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    recon = np.zeros_like(x)
    assert np.allclose(reconstruction_error(x, recon), [0.0, 81 / 4, 4.0])
    # one input far out no longer outweighs every input somewhat off
    assert np.allclose(reconstruction_error(x, recon, 4.0), [0.0, 1.0, 4.0])
    assert np.allclose(reconstruction_error(x, recon, 0.0), reconstruction_error(x, recon))


@pytest.mark.slow
def test_a_bundle_records_its_cap_and_scores_with_it(tmp_path) -> None:
    from ids_desktop.core.model.bundle import load_bundle
    from ids_desktop.training.options import TrainOptions
    from ids_desktop.training.trainer import train_frame

    frame = synthetic_frame(n_hosts=6, per_host=30)
    opts = TrainOptions(epochs=1, patience=1, seq_lens=(4,), baselines=False, filters=4,
                        batch_size=32, anomaly_error_cap=0.5)
    meta = train_frame(frame, "ton-iot", tmp_path / "b", temporal=True, seed=2,
                       options=opts).metadata
    assert meta["anomaly_error_cap"] == 0.5 and meta["options"]["anomaly_error_cap"] == 0.5
    bundle = load_bundle(tmp_path / "b")
    assert bundle.anomaly_error_cap == 0.5
    capped = bundle.score(frame, temporal=True).anomaly_score
    bundle.anomaly_error_cap = None
    plain = bundle.score(frame, temporal=True).anomaly_score
    assert capped.max() <= 0.5 + 1e-6 and np.all(capped <= plain + 1e-6)
    assert np.any(capped < plain - 1e-6)
