"""NeuroCoreX digits preset: on-chip STDP training, shipped weights, per-neuron leaks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engines.base import drive_job
from engines.spiking import ncx_digits
from engines.spiking.neurocorex import NeuroCoreXEngine, NeuroCoreXParams


def _manifest() -> dict:
    return json.loads((ncx_digits.ASSET_DIR / "manifest.json").read_text())["neurocorex_digits.json"]


def test_shipped_stdp_weights_give_the_reported_test_accuracy():
    w, params, leaks = ncx_digits.load_asset()
    assert w.dtype == np.int8 and w.shape == (64, 10) and leaks.shape == (10,)
    # learned by the on-chip rule: depression floors at -1, weights start at 0
    assert w.min() >= -1
    _, x_te, _, y_te = ncx_digits.load_split()
    m = _manifest()
    ev = ncx_digits.evaluate(w, x_te, y_te, m["metrics"]["eval_seed"], params, leaks=leaks)
    # deterministic: equal to the manifest up to its 4-decimal rounding
    assert abs(ev["accuracy"] - m["metrics"]["test_accuracy"]) <= 5e-5
    assert ev["confusion"].sum() == 594
    # NeuroCoreX reports 66-68 % on this split
    assert ev["accuracy"] >= 0.66
    assert m["settings"] == ncx_digits.STDP_DEFAULTS


def test_frames_potentiate_and_depress_only_the_opened_column():
    eng = ncx_digits.stdp_engine(16.0)
    px = np.zeros(64, np.uint8)
    px[[3, 5, 7]] = 1
    # a positive pixel drive below threshold (S = 12): a teacher of 127 would wrap the
    # 18-bit membrane here and lose the teacher spike; 64 + threshold does not
    eng.w_ff[[3, 5, 7], 2] = 4
    eng.w_ff[[3, 5, 7], 4] = 4
    before = eng.w_ff.copy()
    eng.en_ff[:] = 0
    eng.en_ff[:64, 2] = 1
    eng.run_sample(ncx_digits.pot_frame(px, 2))
    diff = eng.w_ff.astype(int) - before
    assert diff[[3, 5, 7], 2].tolist() == [1, 1, 1]
    diff[[3, 5, 7], 2] = 0
    assert not diff.any()
    before = eng.w_ff.copy()
    eng.run_sample(ncx_digits.dep_frame(px, 2))
    diff = eng.w_ff.astype(int) - before
    assert diff[[3, 5, 7], 2].tolist() == [-1, -1, -1]
    diff[[3, 5, 7], 2] = 0
    assert not diff.any()
    # the hardware floor: depression never takes a weight below -1
    eng.w_ff[[3, 5, 7], 2] = [-1, 0, -1]
    eng.run_sample(ncx_digits.dep_frame(px, 2))
    assert eng.w_ff[[3, 5, 7], 2].tolist() == [-1, -1, -1]
    # teacher synapses are never plastic
    assert eng.w_ff[64 + 2, 2] == ncx_digits.teacher_weight(16.0)


def test_teacher_weight_refuses_thresholds_that_could_wrap():
    assert ncx_digits.teacher_weight(16.0) == 80
    with pytest.raises(ValueError, match="threshold"):
        ncx_digits.teacher_weight(40.0)
    with pytest.raises(ValueError, match="unknown setting"):
        drive_job(ncx_digits.train_job(n_train=10, n_test=10, lr=1))


@pytest.mark.slow
def test_tiny_stdp_training_is_deterministic_and_beats_chance():
    kw = dict(seed=3, n_train=300, n_test=150, epochs=1)
    seen = []
    a, done = drive_job(ncx_digits.train_job(**kw), on_progress=seen.append)
    assert done and len(seen) == 2 and a["method"] == "stdp"
    b, _ = drive_job(ncx_digits.train_job(**kw))
    assert a["w_ff"] == b["w_ff"] and a["test_accuracy"] == b["test_accuracy"]
    assert a["n_train"] == 300 and a["n_test"] == 150
    assert a["test_accuracy"] > 0.4  # chance is 0.1
    w = np.asarray(a["w_ff"])
    assert w.min() >= -1 and w.max() <= 127


@pytest.mark.slow
def test_full_stdp_training_reproduces_the_shipped_weights():
    result, done = drive_job(ncx_digits.train_job(seed=0))
    assert done and result["n_train"] == 1203 and result["n_test"] == 594
    w, _, leaks = ncx_digits.load_asset()
    assert np.array_equal(w, np.asarray(result["w_ff"]))
    assert np.allclose(leaks, result["leaks"])
    assert abs(result["test_accuracy"] - _manifest()["metrics"]["test_accuracy"]) <= 5e-5


def test_per_neuron_leaks_match_the_scalar_leak_and_act_per_neuron():
    p = NeuroCoreXParams(
        profile="extended", n_neurons=4, n_inputs=6, threshold=3.0, leak=0.25, refractory=0, amp_ff=1
    )
    rng = np.random.default_rng(0)
    w = rng.integers(-2, 4, (6, 4))
    raster = rng.random((40, 6)) < 0.5
    a = NeuroCoreXEngine(p)
    a.set_weights(w_ff=w)
    b = NeuroCoreXEngine(p.replace(leak=0.0))
    b.set_weights(w_ff=w)
    b.set_leaks([0.25] * 4)
    assert np.array_equal(a.run_sample(raster), b.run_sample(raster))
    assert np.array_equal(a.v, b.v)
    # a bigger leak on neuron 1 only slows neuron 1 (not so big that v wraps round in 41 steps)
    b.set_leaks([0.25, 2.0, 0.25, 0.25])
    ca, cb = a.run_sample(raster), b.run_sample(raster)
    assert cb[1] < ca[1]
    assert np.array_equal(np.delete(ca, 1), np.delete(cb, 1))
    # leaks are part of the state
    c = NeuroCoreXEngine(p)
    c.load_state_dict(b.state_dict())
    assert c.leak_n.tolist() == b.leak_n.tolist()
    with pytest.raises(ValueError, match="leak"):
        b.set_leaks([0.0] * 3)
    with pytest.raises(ValueError, match="leak\\[2\\]"):
        b.set_leaks([0.0, 0.0, 200.0, 0.0])


def test_encoding_is_a_bernoulli_rate_code():
    x = np.array([[0.0] * 32 + [16.0] * 16 + [8.0] * 16])
    r = ncx_digits.encode(np.repeat(x, 50, axis=0), seed=0)
    assert r.shape == (50, 32, 64)
    assert not r[:, :, :32].any() and r[:, :, 32:48].all()
    assert abs(r[:, :, 48:].mean() - 0.5) < 0.02


def test_template_alternative_still_runs():
    result, done = drive_job(ncx_digits.template_train_job(n_test=60))
    assert done and result["method"] == "templates" and result["n_test"] == 60
    assert result["test_accuracy"] > 0.5


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
