"""The differentiable renderer, its fast twin and the incremental canvas."""

import numpy as np
import pytest
import torch

from engines.painting.render import CanvasCache, render, render_fast, to_uint8


def _strokes(n, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    p = rng.random((n, 8)).astype(np.float32)
    p[:, 2:4] = 0.02 + scale * p[:, 2:4]
    o = rng.uniform(0.3, 1.0, n).astype(np.float32)
    return p, o


def test_single_stroke_geometry():
    # a horizontal red stroke, 0.5 long and 0.1 thick, in the middle
    p = np.array([[0.5, 0.5, 0.5, 0.1, 0.0, 1.0, 0.0, 0.0]], np.float32)
    img = render(p, size=200).numpy()
    assert img.shape == (3, 200, 200)
    assert img[:, 100, 100] == pytest.approx([1, 0, 0], abs=1e-6)  # centre: paint
    assert img[:, 100, 60] == pytest.approx([1, 0, 0], abs=1e-6)  # inside along its length
    assert img[:, 100, 20] == pytest.approx([1, 1, 1], abs=1e-6)  # beyond its end: white
    assert img[:, 130, 100] == pytest.approx([1, 1, 1], abs=1e-6)  # beyond its thickness
    # rotated by pi/2 (theta = 0.5) it becomes vertical
    p[0, 4] = 0.5
    img = render(p, size=200).numpy()
    assert img[:, 60, 100] == pytest.approx([1, 0, 0], abs=1e-6)
    assert img[:, 100, 60] == pytest.approx([1, 1, 1], abs=1e-6)


def test_order_matters_and_opacity_blends():
    a = [0.5, 0.5, 0.4, 0.4, 0, 1, 0, 0]
    b = [0.5, 0.5, 0.4, 0.4, 0, 0, 0, 1]
    top_b = render(np.array([a, b], np.float32), size=64)[:, 32, 32]
    top_a = render(np.array([b, a], np.float32), size=64)[:, 32, 32]
    assert top_b.tolist() == pytest.approx([0, 0, 1], abs=1e-6)
    assert top_a.tolist() == pytest.approx([1, 0, 0], abs=1e-6)
    half = render(np.array([b], np.float32), np.array([0.5]), size=64)[:, 32, 32]
    assert half.tolist() == pytest.approx([0.5, 0.5, 1.0], abs=1e-6)


def test_deterministic_and_chunking_invariant():
    p, o = _strokes(120)
    a = render(p, o, size=96)
    b = render(p, o, size=96)
    assert torch.equal(a, b)
    c = render(p, o, size=96, chunk=7)
    torch.testing.assert_close(a, c, atol=2e-6, rtol=0)


def test_batched_equals_one_by_one():
    p1, o1 = _strokes(30, seed=1)
    p2, o2 = _strokes(30, seed=2)
    batch = render(np.stack([p1, p2]), np.stack([o1, o2]), size=64)
    assert batch.shape == (2, 3, 64, 64)
    torch.testing.assert_close(batch[0], render(p1, o1, size=64), atol=1e-6, rtol=0)
    torch.testing.assert_close(batch[1], render(p2, o2, size=64), atol=1e-6, rtol=0)


def test_incremental_equals_full():
    p, o = _strokes(200, seed=3)
    full = render(p, o, size=80)
    part = render(p[:77], o[:77], size=80)
    inc = render(p[77:], o[77:], size=80, canvas=part)
    torch.testing.assert_close(inc, full, atol=2e-6, rtol=0)


def test_gradients_flow_to_every_parameter():
    p, o = _strokes(12, seed=4)
    p = torch.tensor(p, requires_grad=True)
    o = torch.tensor(o, requires_grad=True)
    target = torch.rand(3, 48, 48, generator=torch.Generator().manual_seed(0))
    loss = ((render(p, o, size=48) - target) ** 2).mean()
    loss.backward()
    assert torch.isfinite(p.grad).all() and torch.isfinite(o.grad).all()
    # every geometric and colour parameter receives a gradient somewhere
    assert (p.grad.abs().sum(0) > 0).all()
    # and a small step against it lowers the loss
    with torch.no_grad():
        p2 = (p - 0.05 * p.grad / p.grad.abs().max()).clamp(0, 1)
        assert ((render(p2, o, size=48) - target) ** 2).mean() < loss


def test_fast_renderer_matches_torch():
    p, o = _strokes(150, seed=5)
    for size in (64, 131):
        t = render(p, o, size=size).numpy().transpose(1, 2, 0)
        f = render_fast(p, o, size=size)
        np.testing.assert_allclose(f, t, atol=1e-5)


def test_tiled_renderer_with_opaque_paint_matches_torch():
    # many opaque strokes, several big ones on top: tiles stop early under opaque paint,
    # and the image must still be the in-order "over" composite of every stroke
    rng = np.random.default_rng(11)
    p, _ = _strokes(400, seed=11, scale=0.2)
    big = rng.random((12, 8)).astype(np.float32)
    big[:, 2] = rng.uniform(0.4, 0.9, 12)
    big[:, 3] = rng.uniform(0.2, 0.5, 12)
    p = np.concatenate([p[:200], big, p[200:]])
    o = np.ones(len(p), np.float32)
    o[::7] = 0.5  # some translucent strokes too
    for size in (100, 160):  # not multiples of the tile side
        t = render(p, o, size=size).numpy().transpose(1, 2, 0)
        np.testing.assert_allclose(render_fast(p, o, size=size), t, atol=1e-5)
    # a covering opaque stroke on top hides everything below exactly
    cover = np.array([[0.5, 0.5, 1.0, 1.0, 0.0, 0.2, 0.4, 0.6]], np.float32)
    top = render_fast(np.concatenate([p, cover]), size=96)
    alone = render_fast(cover, size=96)
    np.testing.assert_array_equal(top[30:66, 30:66], alone[30:66, 30:66])


@pytest.mark.parametrize("size", [128, 256, 1024])
def test_resolution_independent(size):
    # the same strokes rendered at `size` and box-downsampled to 64 px agree with
    # a 64-px render up to sampling: compare both to a 1024-px reference
    p, o = _strokes(60, seed=6, scale=0.25)
    ref = render_fast(p, o, size=1024)
    img = render_fast(p, o, size=size)
    f = size // 64
    small = img.reshape(64, f, 64, f, 3).mean(axis=(1, 3))
    g = 1024 // 64
    ref_small = ref.reshape(64, g, 64, g, 3).mean(axis=(1, 3))
    err = np.abs(small - ref_small).mean()
    assert err < 0.003, err
    assert np.abs(small - ref_small).max() < 0.06


def test_canvas_cache_incremental_and_edits():
    p, o = _strokes(700, seed=7, scale=0.15)
    ids = [f"s{i}" for i in range(700)]
    cache = CanvasCache(96, keyframe_every=100)
    cache.update(ids[:400], p[:400], o[:400])
    img = cache.update(ids, p, o)
    assert cache.last_rendered == 300  # only the new ones
    full = render_fast(p, o, size=96)
    np.testing.assert_allclose(img, full, atol=1e-12)
    # undo the top stroke: restart from the keyframe at 600
    img = cache.update(ids[:-1], p[:-1], o[:-1])
    assert cache.last_rendered == 99
    np.testing.assert_allclose(img, render_fast(p[:-1], o[:-1], size=96), atol=1e-12)
    # erase a stroke deep down: re-render from the keyframe below it
    keep = np.r_[0:150, 151:699]
    img = cache.update([ids[i] for i in keep], p[keep], o[keep])
    assert cache.last_rendered == len(keep) - 100
    np.testing.assert_allclose(img, render_fast(p[keep], o[keep], size=96), atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="8 parameters"):
        render(np.zeros((3, 7)), size=32)
    with pytest.raises(ValueError, match="size = 4"):
        render(np.zeros((3, 8)), size=4)
    assert to_uint8(render(np.zeros((0, 8)), size=16)).min() == 255


def test_strokes_thinner_than_a_pixel_draw_a_faint_continuous_line_not_dots():
    # a black diagonal stroke 0.2 pixels thick: sampled at pixel centres alone it hits a centre
    # here and there (the dotted lines seen on the canvas); drawn with its footprint every row
    # along it gets about the same ink, and the ink it leaves is its area
    size = 256
    p = np.array([[0.5, 0.5, 0.6, 0.2 / size, 0.13, 0.0, 0.0, 0.0]])
    rows = slice(int(0.42 * size), int(0.58 * size))  # the line spans rows 0.39-0.61
    dotted = (1 - render_fast(p, size=size)).sum(-1)[rows].sum(1)
    assert dotted.min() < 0.2 * dotted.mean()  # the artefact: rows with (almost) no ink
    ink = (1 - render_fast(p, size=size, footprint=True)).mean(-1)
    per_row = ink[rows].sum(1)
    assert per_row.min() > 0.6 * per_row.mean(), (per_row.min(), per_row.mean())
    area = 0.6 * 0.2 / size * size * size  # in pixels
    assert abs(ink.sum() - area) < 0.2 * area, (ink.sum(), area)
    # strokes a pixel thick or more are drawn exactly as before
    q, o = _strokes(40, seed=3)
    np.testing.assert_array_equal(render_fast(q, o, size=96, footprint=True), render_fast(q, o, size=96))
