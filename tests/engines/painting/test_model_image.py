"""Context-image conditioning, weight averaging, MBR selection and the larger dataset build."""

import numpy as np
import pytest
import torch

from engines.base import drive_job
from engines.painting.evaluate import diffusion_completer, diffusion_completers
from engines.painting.model import (
    PATCH,
    ModelConfig,
    StrokeDenoiser,
    TrainParams,
    consensus_fit,
    context_patches,
    load_model,
    make_mask,
    mbr_select,
    sample,
    save_model,
    train_job,
)
from engines.painting.render import render_fast

LEVELS = np.repeat([0, 1, 2], [3, 5, 12])


def _paintings(m=8, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.random((m, 20, 8)).astype(np.float32)
    p[..., 2:4] = 0.05 + 0.3 * p[..., 2:4]
    return p


def test_context_patches_are_the_render_of_the_context():
    p = _paintings(2)
    mask = np.zeros((2, 20), bool)
    mask[0, :6] = True  # painting 1 has no context: a blank canvas
    pt = context_patches(p, mask, grid=3)
    assert pt.shape == (2, 9, PATCH * PATCH * 4) and pt.dtype == np.float32
    # reassemble the image of painting 0 from its patches
    img = pt[0].reshape(3, 3, PATCH, PATCH, 4).transpose(0, 2, 1, 3, 4).reshape(12, 12, 4)
    np.testing.assert_allclose((img[..., :3] + 1) / 2, render_fast(p[0, :6], size=12), atol=1e-6)
    cov = (img[..., 3] + 1) / 2
    assert cov.min() >= -1e-6 and cov.max() <= 1 + 1e-6 and cov.max() > 0.5
    # blank canvas: white, no coverage
    np.testing.assert_allclose(pt[1].reshape(9, PATCH * PATCH, 4)[..., :3], 1.0, atol=1e-6)
    np.testing.assert_allclose(pt[1].reshape(9, PATCH * PATCH, 4)[..., 3], -1.0, atol=1e-6)


def test_image_model_uses_the_context_image_samples_and_round_trips(tmp_path):
    torch.manual_seed(0)
    cfg = ModelConfig(n_strokes=20, d_model=32, layers=1, heads=2, timesteps=50, image_grid=3)
    model = StrokeDenoiser(cfg)
    for prm in model.out.parameters():
        torch.nn.init.normal_(prm, std=0.1)
    p = _paintings(2)
    mask = make_mask("random", p[0], LEVELS, np.random.default_rng(0), 0.5)
    x = torch.from_numpy(p[:1] * 2 - 1)
    ctx = torch.from_numpy(mask[None])
    lv = torch.from_numpy(LEVELS[None])
    t = torch.tensor([10])
    pt = torch.from_numpy(context_patches(p[:1], mask[None], 3))
    with torch.no_grad():
        a = model(x, ctx, lv, t, None, pt)
        b = model(x, ctx, lv, t, None, -pt)
        # hiding the context (CFG) hides the patches too
        c = model(x, ctx, lv, t, torch.tensor([True]), pt)
        d = model(x, ctx, lv, t, torch.tensor([True]), -pt)
    assert not torch.allclose(a, b)
    torch.testing.assert_close(c, d)
    with pytest.raises(ValueError, match="context image"):
        model(x, ctx, lv, t)
    s1 = sample(model, p[:1], mask, LEVELS, steps=5, guidance=2.0, seed=1, proposals=2)
    assert s1.shape == (2, 20, 8)
    np.testing.assert_array_equal(s1[:, mask], np.repeat(p[:1, mask], 2, axis=0))
    save_model(model, tmp_path / "m.zip")
    s2 = sample(
        load_model(tmp_path / "m.zip"), p[:1], mask, LEVELS, steps=5, guidance=2.0, seed=1, proposals=2
    )
    np.testing.assert_array_equal(s1, s2)


@pytest.mark.parametrize("objective", ["diffusion", "regression"])
def test_image_model_trains_with_weight_average(objective):
    rng = np.random.default_rng(0)
    data = np.clip(_paintings(1)[0] + 0.02 * rng.standard_normal((16, 20, 8)), 0, 1).astype(np.float32)
    cfg = ModelConfig(
        n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50, image_grid=2, objective=objective
    )
    tp = TrainParams(steps=6, batch=4, lr=1e-2, warmup=1, report_every=3, ema=0.5)
    (model, hist), done = drive_job(train_job(data, LEVELS, cfg, tp, seed=0, val=data[:4]))
    assert done and len(hist["loss"]) == 2 and np.isfinite(hist["val_loss"]).all()
    # the returned weights are the running average, not the last optimiser step
    (raw, _), _ = drive_job(train_job(data, LEVELS, cfg, tp.replace(ema=0.0), seed=0, val=data[:4]))
    w_avg = model.out.bias.detach()
    w_raw = raw.out.bias.detach()
    assert not torch.allclose(w_avg, w_raw)


def test_mbr_select_picks_the_medoid_like_completion():
    base = _paintings(1)[0]
    far = base.copy()
    far[:, 5:8] = 1 - far[:, 5:8]  # an outlier: inverted colours
    near = base.copy()
    near[:, 0] += 0.01
    comps = np.stack([far, base, near, base + 0.0])
    assert mbr_select(comps, size=24) in (1, 3)
    assert mbr_select(comps[:1]) == 0


def _untrained_and_context(mode: str):
    """An untrained diffusion model with a random head, a painting, a context mask and the context."""
    torch.manual_seed(0)
    model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    for prm in model.out.parameters():
        torch.nn.init.normal_(prm, std=0.1)
    p = _paintings(1)[0]
    mask = make_mask(mode, p, LEVELS, np.random.default_rng(0), 0.5)
    return model, p, mask, np.where(mask[:, None], p, 0).astype(np.float32)


def test_diffusion_completer_with_candidates():
    model, p, mask, ctx = _untrained_and_context("block")
    run = diffusion_completer(model, steps=5, guidance=1.0, candidates=4)
    out = run(ctx, mask, LEVELS, 3)
    allc = sample(model, ctx, mask, LEVELS, steps=5, guidance=1.0, seed=3, proposals=4)
    assert any(np.array_equal(out, c) for c in allc)
    assert np.array_equal(out, allc[mbr_select(allc)])
    with pytest.raises(ValueError, match="candidates"):
        diffusion_completer(model, candidates=0)


def test_dataset_variants_jitter_and_copied_held_out(tmp_path):
    from engines.painting.data import (
        build_dataset_job,
        face_variants,
        jitter_colour,
        load_dataset,
        save_dataset,
    )

    rng = np.random.default_rng(0)
    face = rng.random((25, 25))
    v = face_variants(3, face, 3, 16, rng)
    assert [n for n, _ in v] == ["lfw:3", "lfw:3~1", "lfw:3~2"]
    assert all(g.shape == (16, 16, 3) for _, g in v)
    img = rng.random((8, 8, 3))
    assert jitter_colour(img, rng, 0.0) is img
    j = jitter_colour(img, rng, 0.2)
    assert j.shape == img.shape and j.min() >= 0 and j.max() <= 1 and not np.allclose(j, img)
    # an "earlier" dataset whose held-out paintings must be copied verbatim
    old = {
        "params": rng.random((3, 20, 8)).astype(np.float32),
        "levels": LEVELS,
        "split": np.array([0, 1, 1]),
        "source": np.array(["a#0", "coffee#0", "lfw:199"]),
        "psnr": np.ones(3, np.float32),
    }
    save_dataset(old, tmp_path / "old.npz")
    job = build_dataset_job(
        crops_per_image=1,
        n_faces=2,
        size=16,
        iters=1,
        strokes=20,
        max_images=3,
        held_out_from=tmp_path / "old.npz",
    )
    d, done = drive_job(job)
    assert done
    held = d["split"] == 1
    np.testing.assert_array_equal(d["params"][held], old["params"][1:])
    assert list(d["source"][held]) == ["coffee#0", "lfw:199"]
    save_dataset(d, tmp_path / "new.npz")
    assert load_dataset(tmp_path / "new.npz")["params"].shape[1:] == (20, 8)
    save_dataset({k: v for k, v in old.items() if k != "source"}, tmp_path / "nosrc.npz")
    with pytest.raises(ValueError, match="nosrc.npz.*source"):
        drive_job(
            build_dataset_job(
                strokes=20, size=16, iters=1, max_images=2, held_out_from=tmp_path / "nosrc.npz"
            )
        )


def test_time_budget_ends_training():
    data = _paintings(8)
    cfg = ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50)
    tp = TrainParams(steps=1_000_000, batch=2, warmup=1, report_every=1000, max_seconds=0.5)
    (model, hist), done = drive_job(train_job(data, LEVELS, cfg, tp, seed=0))
    assert done and len(hist["step"]) == 1 and 1 <= hist["step"][0] < 1_000_000


def test_temperature_scales_the_initial_noise():
    torch.manual_seed(0)
    model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    p = _paintings(1)
    mask = np.zeros(20, bool)
    mask[:5] = True
    # zero-initialised head: eps = 0, so DDIM returns the clamped, scaled initial noise
    hot = sample(model, p, mask, LEVELS, steps=3, seed=0, temperature=1.0)[0]
    cold = sample(model, p, mask, LEVELS, steps=3, seed=0, temperature=0.5)[0]
    assert np.abs(cold[~mask] - 0.5).mean() < np.abs(hot[~mask] - 0.5).mean()
    with pytest.raises(ValueError, match="temperature"):
        sample(model, p, mask, LEVELS, steps=3, temperature=0.0)


def test_half_precision_dataset_keeps_held_out_paintings_exact(tmp_path):
    from engines.painting.data import load_dataset, save_dataset

    rng = np.random.default_rng(0)
    d = {
        "params": rng.random((5, 20, 8)).astype(np.float32),
        "levels": LEVELS,
        "split": np.array([0, 0, 1, 2, 0]),
    }
    save_dataset(d, tmp_path / "h.npz", half=True)
    e = load_dataset(tmp_path / "h.npz")
    assert e["params"].dtype == np.float32 and "exact_params" not in e
    np.testing.assert_array_equal(e["params"][2:4], d["params"][2:4])  # held out and validation: exact
    err = np.abs(e["params"] - d["params"])[[0, 1, 4]]
    assert 0 < err.max() < 5e-4  # training paintings: float16
    bad = dict(np.load(tmp_path / "h.npz"))
    bad["exact_rows"] = np.array([2, 99])
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(ValueError, match="bad.npz.*exact_rows"):
        load_dataset(tmp_path / "bad.npz")


def test_consensus_fit_approaches_the_mean_render_and_keeps_the_context():
    base = _paintings(1, seed=3)[0]
    mask = np.zeros(20, bool)
    mask[:8] = True
    dark, light = base.copy(), base.copy()
    dark[~mask, 5:8] = 0.1
    light[~mask, 5:8] = 0.9
    comps = np.stack([dark, light, dark.copy(), light.copy()])
    mean = np.stack([render_fast(c, size=64) for c in comps]).mean(0)
    chosen = comps[mbr_select(comps)]
    fit = consensus_fit(comps, mask, size=64, iters=60)
    assert fit.shape == (20, 8) and fit.dtype == np.float32
    np.testing.assert_array_equal(fit[mask], base[mask])
    err_choice = np.mean((render_fast(chosen, size=64) - mean) ** 2)
    err_fit = np.mean((render_fast(fit, size=64) - mean) ** 2)
    assert err_fit < 0.3 * err_choice, (err_fit, err_choice)
    # the generated strokes moved towards the mid grey of the two colourings
    assert np.all(np.abs(fit[~mask, 5:8].mean(0) - 0.5) < 0.2)
    assert fit.min() >= 0 and fit.max() <= 1
    # one completion or nothing to generate: returned as it is
    np.testing.assert_array_equal(consensus_fit(comps[:1], mask), comps[0])
    np.testing.assert_array_equal(consensus_fit(comps, np.ones(20, bool)), comps[mbr_select(comps)])
    with pytest.raises(ValueError, match="K, N, 8"):
        consensus_fit(base, mask)


def test_diffusion_completers_decode_the_same_samples():
    model, p, mask, ctx = _untrained_and_context("random")
    runs = diffusion_completers(
        model, steps=5, guidance=1.0, candidates=4, decoders=("fit", "choice", "sample")
    )
    assert list(runs) == ["diffusion", "diffusion-choice", "diffusion-sample"]
    allc = sample(model, ctx, mask, LEVELS, steps=5, guidance=1.0, seed=3, proposals=4)
    fit = runs["diffusion"](ctx, mask, LEVELS, 3)
    np.testing.assert_array_equal(runs["diffusion-choice"](ctx, mask, LEVELS, 3), allc[mbr_select(allc)])
    np.testing.assert_array_equal(runs["diffusion-sample"](ctx, mask, LEVELS, 3), allc[0])
    np.testing.assert_array_equal(fit, consensus_fit(allc, mask))
    np.testing.assert_array_equal(fit[mask], p[mask])
    with pytest.raises(ValueError, match="decoder"):
        diffusion_completers(model, decoders=("best",))
