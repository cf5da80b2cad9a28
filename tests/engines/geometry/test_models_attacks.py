"""Digit networks, their training command and the attacks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engines.base import drive_job
from engines.geometry.attacks import fgsm, norm_of, pgd, random_like, random_perturbation
from engines.geometry.models import LAYERS, DigitNet, gabor_bank, load_digits_data, load_model, save_model
from engines.geometry.train import TrainParams, accuracy, train_and_save, train_job
from engines.serialize import FormatError


@pytest.fixture(scope="module")
def data():
    return load_digits_data()


@pytest.fixture(scope="module")
def small_net():
    """A standard net trained briefly (a few seconds) for the attack tests."""
    (model, metrics), done = drive_job(train_job(TrainParams(kind="standard", epochs=4, n_train=600)))
    assert done
    return model


def test_digits_split_and_scale(data):
    assert data.x_train.shape[1:] == (1, 8, 8) and len(data.x_test) == 500
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert set(np.unique(data.y_test)) == set(range(10))


def test_gabor_bank_is_normalised_quadrature_pairs():
    g = gabor_bank()
    assert g.shape == (16, 1, 5, 5)
    flat = g.reshape(16, -1)
    np.testing.assert_allclose(np.linalg.norm(flat, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(flat.sum(axis=1), 0.0, atol=1e-5)
    # an even and an odd filter of the same orientation/frequency are nearly orthogonal
    assert abs(flat[0] @ flat[8]) < 0.2


@pytest.mark.parametrize("kind", ["standard", "adversarial", "stochastic"])
def test_layers_and_shapes(kind):
    net = DigitNet(kind)
    out, acts = net(torch.rand(5, 1, 8, 8), return_layers=True)
    assert out.shape == (5, 10)
    assert tuple(acts) == LAYERS
    assert acts["fc1"].shape == (5, 64) and acts["pixels"].shape == (5, 64)


def test_stochastic_front_end_follows_the_poisson_like_formula():
    net = DigitNet("stochastic", gain=3.0, level=0.5, noise_scale=0.7)
    x = torch.rand(4, 1, 8, 8)
    r = net._vone(x)
    net.set_noise(seed=11)
    got = net.front(x)
    z = torch.randn(r.shape, generator=torch.Generator().manual_seed(11))
    rr = r * 3.0 + 0.5
    want = (rr + torch.sqrt(torch.relu(rr) + 1e-5) * z * 0.7 - 0.5) / 3.0
    torch.testing.assert_close(got, want)
    # same seed, same draw; noise off or scale 0: deterministic front end
    net.set_noise(seed=11)
    torch.testing.assert_close(net.front(x), got)
    net.set_noise(on=False)
    torch.testing.assert_close(net.front(x), r)
    net.set_noise(on=True, scale=0.0)
    torch.testing.assert_close(net.front(x), r)
    with pytest.raises(ValueError, match="noise_scale"):
        net.set_noise(scale=-1.0)


def test_save_load_roundtrip_and_bad_file(tmp_path):
    net = DigitNet("stochastic", noise_scale=0.5)
    net.set_noise(on=False)
    save_model(net, tmp_path / "n.zip")
    back = load_model(tmp_path / "n.zip")
    back.set_noise(on=False)
    x = torch.rand(3, 1, 8, 8)
    torch.testing.assert_close(back(x), net(x))
    assert back.noise_scale == 0.5
    (tmp_path / "bad.zip").write_text("not a zip")
    with pytest.raises(FormatError, match="bad.zip"):
        load_model(tmp_path / "bad.zip")


@pytest.mark.slow
def test_train_command_writes_weights_and_manifest(tmp_path):
    p = TrainParams(kind="standard", epochs=3, n_train=400, lr=1e-2)
    metrics = train_and_save(p, tmp_path, command="python -m engines geometry train --kind standard")
    assert (tmp_path / "digits_standard.zip").exists()
    man = json.loads((tmp_path / "manifest.json").read_text())
    entry = man["models"]["standard"]
    assert entry["command"].startswith("python -m engines geometry train")
    assert entry["metrics"]["clean_test_accuracy"] == metrics["clean_test_accuracy"]
    assert metrics["clean_test_accuracy"] > 0.3  # chance is 0.1
    # same seed, same weights
    a = load_model(tmp_path / "digits_standard.zip")
    (b, _), _ = drive_job(train_job(p))
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(a(x), b(x))


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_pgd_stays_in_the_ball_and_beats_random(small_net, data, norm):
    x = torch.from_numpy(data.x_test[:120])
    y = torch.from_numpy(data.y_test[:120])
    eps = 0.1 if norm == "linf" else 0.8
    xa = pgd(small_net, x, y, eps, steps=6, norm=norm, seed=1)
    assert float(norm_of(xa - x, norm).max()) <= eps + 1e-5
    assert 0.0 <= float(xa.min()) and float(xa.max()) <= 1.0
    xr = random_like(x, xa, norm=norm, seed=2)
    torch.testing.assert_close(norm_of(xr - x, norm), norm_of(xa - x, norm))
    clean, adv, rand = accuracy(small_net, x, y), accuracy(small_net, xa, y), accuracy(small_net, xr, y)
    assert adv < clean - 0.2
    assert adv < rand
    # deterministic for a seed
    first = pgd(small_net, x[:10], y[:10], eps, steps=3, norm=norm, seed=1)
    torch.testing.assert_close(first, pgd(small_net, x[:10], y[:10], eps, steps=3, norm=norm, seed=1))


def test_fgsm_and_random_perturbation_norms(small_net, data):
    x = torch.from_numpy(data.x_test[:50])
    y = torch.from_numpy(data.y_test[:50])
    xf = fgsm(small_net, x, y, 0.05)
    assert float(norm_of(xf - x, "linf").max()) <= 0.05 + 1e-6
    xr = random_perturbation(torch.full((3, 1, 8, 8), 0.5), 0.2, "l2", seed=0)
    np.testing.assert_allclose(norm_of(xr - 0.5, "l2").numpy(), 0.2, rtol=1e-5)
    with pytest.raises(ValueError, match="norm"):
        fgsm(small_net, x, y, 0.1, norm="l1")
    with pytest.raises(ValueError, match="eps"):
        pgd(small_net, x, y, -0.1)


def test_eot_averages_gradients_over_noise_draws():
    net = DigitNet("stochastic")
    net.set_noise(seed=3)
    x = torch.rand(6, 1, 8, 8)
    y = torch.arange(6)
    a = pgd(net, x, y, 0.1, steps=2, eot=4, seed=0)
    net.set_noise(seed=3)
    b = pgd(net, x, y, 0.1, steps=2, eot=4, seed=0)
    torch.testing.assert_close(a, b)
    assert net.stochastic
