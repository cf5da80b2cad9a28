"""NeuroCoreX digits preset: the shipped weights reproduce and reach the reported accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from engines.base import drive_job
from engines.spiking import ncx_digits


@pytest.mark.slow
def test_neurocorex_digits_reaches_reported_accuracy_and_matches_asset():
    result, done = drive_job(ncx_digits.train_job(save=False))
    assert done
    assert result["n_train"] == 1203 and result["n_test"] == 594
    # NeuroCoreX reports 66-68 % on this split
    assert result["test_accuracy"] >= 0.66
    w, params = ncx_digits.load_asset()
    assert w.dtype == np.int8 and w.shape == (64, 10)
    assert np.array_equal(w, np.asarray(result["w_ff"]))
    assert params == ncx_digits.preset_params()


def test_encoding_is_a_bernoulli_rate_code():
    x = np.array([[0.0] * 32 + [16.0] * 16 + [8.0] * 16])
    r = ncx_digits.encode(np.repeat(x, 50, axis=0), seed=0)
    assert r.shape == (50, 32, 64)
    assert not r[:, :, :32].any() and r[:, :, 32:48].all()
    assert abs(r[:, :, 48:].mean() - 0.5) < 0.02


def test_demo_job_streams_samples_with_their_spikes():
    seen = []
    result, done = drive_job(ncx_digits.demo_job(limit=12), on_progress=seen.append)
    assert done and len(seen) == 12 and result["n_test"] == 12
    v = seen[-1].value
    assert v["image"].shape == (8, 8) and len(v["counts"]) == 10
    spikes = v["spikes"]
    assert spikes.shape[1] == 2 and spikes[:, 0].max() <= ncx_digits.T_STEPS
    # the counts are the output neurons' spikes of this sample
    assert np.bincount(spikes[spikes[:, 1] < 10, 1], minlength=10).tolist() == v["counts"]
    assert v["predicted"] == int(np.argmax(v["counts"]))
