"""TESS local learning on 8x8 digits."""

from __future__ import annotations

import numpy as np
import pytest

from engines.base import drive_job
from engines.spiking import tess
from engines.spiking.ncx_digits import load_split


def test_shipped_tess_weights_reach_90_percent():
    net = tess.load_asset()
    _, x_te, _, y_te = load_split()
    ev = tess.evaluate(net, x_te, y_te)
    assert ev["accuracy"] >= 0.90
    assert ev["confusion"].sum() == 594


def test_tiny_training_learns_with_the_local_rule():
    p = tess.TessParams(hidden=(32,), epochs=2, n_train=300, batch=10)
    progress = []
    result, done = drive_job(tess.train_job(p, seed=0), on_progress=progress.append)
    assert done and result["n_train"] == 300
    assert len(result["accuracy_curve"]) == 2
    assert result["test_accuracy"] > 0.5  # chance is 0.1
    assert progress[-1].value["accuracy_curve"] == result["accuracy_curve"]
    assert np.array(result["confusion"]).shape == (10, 10)
    # same seed, same result
    again, _ = drive_job(tess.train_job(p, seed=0))
    assert again["test_accuracy"] == result["test_accuracy"]


def test_local_signal_moves_hidden_weights():
    p = tess.TessParams(hidden=(16,), steps=8)
    net = tess.TessNet(p, seed=3)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 16, size=(8, 64))
    w0 = [w.copy() for w in net.w]
    net.run(tess.encode(x, rng, 8), np.arange(8) % 10, lr=0.5)
    assert not np.array_equal(net.w[0], w0[0]) and not np.array_equal(net.w[1], w0[1])


@pytest.mark.slow
def test_full_tess_training_reaches_90_percent():
    result, done = drive_job(tess.train_job(tess.TessParams(), seed=0))
    assert done and result["test_accuracy"] >= 0.90
