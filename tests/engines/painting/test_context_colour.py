"""Context colour guidance of completions (issue 16): proposed strokes read the paint of the context under them."""

import numpy as np
import pytest
import torch

from engines.painting.evaluate import (
    colour_error,
    context_only_completer,
    evaluate,
    ratio_table,
)
from engines.painting.model import (
    ModelConfig,
    StrokeDenoiser,
    context_colours,
    make_mask,
    recolour,
    sample,
)
from engines.painting.render import render_fast

LEVELS = np.repeat([0, 1, 2], [3, 5, 12])
RED = (0.9, 0.1, 0.1)


def _stroke(x, y, w, h, colour, theta=0.0):
    return np.array([x, y, w, h, theta, *colour], np.float32)


def test_context_colours_are_the_paint_under_each_stroke():
    # context: a red bar over the left half of the canvas, a half-grey bar on the right at the bottom
    context = np.stack([_stroke(0.25, 0.5, 0.5, 1.0, RED), _stroke(0.75, 0.85, 0.5, 0.3, (0.5, 0.5, 0.5))])
    strokes = np.stack(
        [
            _stroke(0.25, 0.4, 0.1, 0.05, (0.1, 0.1, 0.9)),  # blue, inside the red bar
            _stroke(0.75, 0.3, 0.1, 0.05, (0.2, 0.8, 0.2)),  # green, over bare canvas
            _stroke(0.75, 0.85, 0.1, 0.05, (0.0, 0.0, 0.0)),  # black, inside the grey bar
        ]
    )
    col, cov = context_colours(strokes, context, size=32)
    np.testing.assert_allclose(col[0], RED, atol=0.02)  # not pulled toward the white background
    np.testing.assert_allclose(col[2], 0.5, atol=0.02)
    assert cov[0] > 0.95 and cov[2] > 0.95 and cov[1] == pytest.approx(0.0, abs=1e-6)
    np.testing.assert_array_equal(col[1], strokes[1, 5:8])  # no paint under it: its own colour


def test_recolour_takes_the_context_colour_and_keeps_the_context():
    true = np.stack(
        [_stroke(0.5, 0.5, 1.0, 1.0, RED)]
        + [_stroke(0.2 + 0.1 * i, 0.5, 0.08, 0.04, (0.1, 0.9, 0.9)) for i in range(5)]
    )
    mask = np.array([True] + [False] * 5)
    out = recolour(true, mask, 1.0)
    np.testing.assert_array_equal(out[0], true[0])  # context slot unchanged
    np.testing.assert_array_equal(out[1:, :5], true[1:, :5])  # only colours change
    np.testing.assert_allclose(out[1:, 5:8], np.tile(RED, (5, 1)), atol=0.02)
    half = recolour(true, mask, 0.5)
    np.testing.assert_allclose(half[1:, 5:8], (true[1:, 5:8] + out[1:, 5:8]) / 2, atol=1e-5)
    np.testing.assert_array_equal(recolour(true, mask, 0.0), true)
    # the colour error of the proposed strokes against the context paint under them
    assert colour_error(true, mask) == pytest.approx(np.abs(true[1, 5:8] - RED).mean(), abs=0.02)
    assert colour_error(out, mask) < 0.02
    with pytest.raises(ValueError, match="recolour strength"):
        recolour(true, mask, 1.5)


def _toy_paintings(m=3, seed=0):
    """Coarse strokes of one colour each, fine strokes on them in the colour of the coarse stroke under them."""
    rng = np.random.default_rng(seed)
    out = np.empty((m, 20, 8), np.float32)
    for i in range(m):
        cols = rng.random((3, 3))
        coarse = [_stroke(1 / 6 + k / 3, 0.5, 1 / 3 + 0.02, 1.0, cols[k], theta=0.5) for k in range(3)]
        coarse = [np.r_[c[:4], 0.0, c[5:]] for c in coarse]  # upright bars side by side
        fine = []
        for _ in range(17):
            x, y = rng.uniform(0.05, 0.95, 2)
            k = min(int(x * 3), 2)
            fine.append(_stroke(x, y, 0.1, 0.06, np.clip(cols[k] + 0.03 * rng.standard_normal(3), 0, 1)))
        out[i] = np.stack(coarse + fine)
    return out


def _wild_model():
    """An untrained network with large random outputs: proposals of arbitrary colour."""
    torch.manual_seed(0)
    model = StrokeDenoiser(ModelConfig(n_strokes=20, n_levels=3, d_model=16, layers=1, heads=2, timesteps=50))
    for prm in model.out.parameters():
        torch.nn.init.normal_(prm, std=0.5)
    return model


@pytest.mark.parametrize("during", [True, False])
def test_colour_guided_sampling_brings_level_completions_closer(during):
    model = _wild_model()
    paintings = _toy_paintings()
    worse = []
    for i, true in enumerate(paintings):
        mask = make_mask("level", true, LEVELS, np.random.default_rng(i), 0.2)  # the 3 bars are the context
        ctx = np.where(mask[:, None], true, 0).astype(np.float32)
        raw = sample(model, ctx, mask, LEVELS, steps=5, guidance=1.0, seed=i)[0]
        new = sample(
            model,
            ctx,
            mask,
            LEVELS,
            steps=5,
            guidance=1.0,
            seed=i,
            recolour_strength=1.0,
            recolour_during=during,
        )[0]
        np.testing.assert_array_equal(new[mask], true[mask])
        truth = render_fast(true, size=32)
        mse_raw = float(np.mean((render_fast(raw, size=32) - truth) ** 2))
        mse_new = float(np.mean((render_fast(new, size=32) - truth) ** 2))
        assert colour_error(new, mask) < 0.5 * colour_error(raw, mask)
        worse.append(mse_new >= 0.5 * mse_raw)
    assert not any(worse)
    with pytest.raises(ValueError, match="recolour_strength"):
        sample(model, ctx, mask, LEVELS, steps=2, recolour_strength=2.0)


def test_evaluation_reports_colour_error_and_ratio_to_the_context_alone():
    paintings = _toy_paintings(2)
    oracle = {"oracle": lambda ctx, mask, lv, s, t=paintings: np.where(mask[:, None], ctx, t[0])}
    rows = evaluate(
        {"context": context_only_completer(), **oracle},
        paintings[:1],
        LEVELS,
        modes=("level",),
        ratios=(0.2,),
    )
    by = {r["method"]: r for r in rows}
    assert by["oracle"]["image_mse"] == pytest.approx(0.0, abs=1e-12)
    assert by["context"]["image_mse"] > 0 and np.isnan(by["context"]["colour_err"])
    assert 0 < by["oracle"]["colour_err"] < 0.1  # the fine strokes share the colour of the bar under them
    text = ratio_table(rows)
    assert "oracle" in text and "level" in text and "0.00" in text


def test_complete_job_colours_proposals_from_the_painting_unless_turned_off():
    from engines.base import drive_job
    from engines.painting.engine import PaintingEngine, PaintingParams

    def proposals(strength):
        e = PaintingEngine(
            # (the sampler's colours: the first proposal as sampled, not fitted to the expected painting)
            PaintingParams(
                canvas_px=64, proposals=1, complete_steps=4, context_colour=strength, expected_fit=False
            )
        )
        e.model = _wild_model()
        e.add_strokes(
            np.stack([_stroke(0.5, 0.5, 1.0, 1.0, RED), _stroke(0.5, 0.2, 0.6, 0.3, (0.1, 0.2, 0.9))])
        )
        props, done = drive_job(e.complete_job())
        assert done
        params, _ = e.doc.arrays()
        return props[0], params

    assert PaintingParams().context_colour == 1.0  # on by default
    on, painted = proposals(1.0)
    off, _ = proposals(0.0)
    col, cov = context_colours(on, painted)
    col_off, cov_off = context_colours(off, painted)
    # strokes on the painted disc (not the ones thinner than a pixel, nor those hanging over its edge):
    # pulled by the part of their footprint that the disc covers
    on_paint, off_paint = cov > 0.5, cov_off > 0.5
    assert on_paint.sum() >= 5 and off_paint.sum() >= 5
    err_on = np.abs(on[on_paint, 5:8] - col[on_paint]).mean()
    err_off = np.abs(off[off_paint, 5:8] - col_off[off_paint]).mean()
    assert err_on < 0.05 and err_off > 0.1 and err_on < 0.25 * err_off, (err_on, err_off)


def test_discordant_strokes_lie_on_varied_context_paint():
    from engines.painting.model import context_spread, discordant

    # two overlapping upright bars, red on the left and blue on the right
    context = [_stroke(0.3, 0.5, 0.6, 0.9, RED), _stroke(0.7, 0.5, 0.6, 0.9, (0.1, 0.1, 0.9))]
    strokes = [
        _stroke(0.45, 0.5, 0.3, 0.05, (0.5, 0.1, 0.5)),  # across the edge between the bars
        _stroke(0.2, 0.5, 0.1, 0.05, RED),  # inside the red bar
        _stroke(0.5, 0.02, 0.1, 0.04, RED),  # over bare canvas
    ]
    painting = np.stack(context + strokes)
    mask = np.array([True, True, False, False, False])
    spread, covered = context_spread(painting[2:], painting[:2])
    assert spread[0] > 0.2 and spread[1] < 0.01 and covered[2] < 0.1
    assert list(discordant(painting, mask, 0.03)) == [False, False, True, False, False]
    assert not discordant(painting, mask, 0.0).any()  # 0: off


@pytest.mark.parametrize("mode", ["level", "random"])
def test_complete_job_drops_proposals_on_varied_paint_in_level_mode_only(mode):
    from engines.base import drive_job
    from engines.painting.decompose import level_sizes
    from engines.painting.engine import PaintingEngine, PaintingParams
    from engines.painting.model import discordant, slots_for_context

    painting = _toy_paintings(1)[0][:19]  # three bars of different colours, then small strokes

    def proposals(spread):
        e = PaintingEngine(
            PaintingParams(
                canvas_px=64, proposals=1, complete_steps=4, drop_spread=spread, expected_fit=False
            )
        )
        e.model = _wild_model()
        e.add_strokes(painting)
        props, done = drive_job(e.complete_job(mode=mode, p=0.6))
        assert done
        return props[0], e.last_completion["proposed_slots"]

    kept, slots = proposals(0.0)
    assert len(kept) == slots
    dropped, _ = proposals(0.03)
    if mode == "random":
        np.testing.assert_array_equal(dropped, kept)
        return
    assert 0 < len(dropped) < len(kept)
    # the ones left out are exactly the discordant ones of the same sample: levels 0 and 1 are the context
    context, filled, levels = slots_for_context(painting, level_sizes(20))
    mask = filled & (levels < 2)
    full = context.copy()
    full[~mask] = kept
    np.testing.assert_array_equal(dropped, kept[~discordant(full, mask, 0.03)[~mask]])


def test_with_reach_a_stroke_over_a_gap_takes_the_colour_of_the_paint_around_it():
    # context: two red bars with a bare gap between them; the stroke lies in the gap
    context = np.stack([_stroke(0.2, 0.5, 0.36, 1.0, RED), _stroke(0.8, 0.5, 0.36, 1.0, RED)])
    gap = _stroke(0.5, 0.5, 0.12, 0.06, (0.1, 0.1, 0.9))[None]
    col0, cov0 = context_colours(gap, context, size=32)
    assert cov0[0] < 0.05  # without reach: bare canvas, the stroke keeps its own colour
    col, cov = context_colours(gap, context, size=32, reach=0.1)
    assert cov[0] > 0.2  # its weight: how much paint there is around the gap
    np.testing.assert_allclose(col[0], RED, atol=0.03)
    assert context_colours(gap, context, size=32, reach=0.2)[1][0] > cov[0]  # reaching further: more
    # the paint under a stroke on the bars is not changed by the reach
    on_bar = _stroke(0.2, 0.3, 0.1, 0.05, (0.1, 0.9, 0.1))[None]
    np.testing.assert_allclose(context_colours(on_bar, context, reach=0.1)[0], [RED], atol=0.02)


def test_the_colour_error_of_each_proposed_stroke_is_reported():
    from engines.painting.evaluate import colour_table, stroke_colour_errors

    paintings = _toy_paintings(2)
    mask = make_mask("level", paintings[0], LEVELS, np.random.default_rng(0), 0.2)
    errs = stroke_colour_errors(paintings[0], mask)
    assert 0 < len(errs) <= (~mask).sum() and (errs >= 0).all()
    assert np.mean(errs) == pytest.approx(colour_error(paintings[0], mask))
    oracle = {"oracle": lambda ctx, m, lv, s, t=paintings: np.where(m[:, None], ctx, t[0])}
    rows = evaluate(oracle, paintings[:1], LEVELS, modes=("level",), ratios=(0.2,))
    r = rows[0]
    assert r["colour_err"] <= r["colour_err_p95"] <= r["colour_err_max"]
    assert "level" in colour_table(rows, "oracle") and f"{r['colour_err_max']:.3f}" in colour_table(
        rows, "oracle"
    )


def test_evaluate_tells_the_masking_mode_to_completers_that_take_it():
    seen = []

    def by_mode(ctx, mask, lv, seed, mode=None):
        seen.append(mode)
        return ctx

    by_mode.takes_mode = True
    evaluate({"m": by_mode}, _toy_paintings(1), LEVELS, modes=("level", "random"), ratios=(0.5,))
    assert seen == ["level", "random"]


def test_diffusion_completers_draw_without_guidance_in_unguided_modes():
    from engines.painting.evaluate import diffusion_completers

    model = _wild_model()
    true = _toy_paintings(1)[0]
    mask = make_mask("level", true, LEVELS, np.random.default_rng(0), 0.5)
    ctx = np.where(mask[:, None], true, 0.0).astype(np.float32)

    def completer(recolour, unguided=()):
        kw = dict(steps=2, decoders=("sample",), recolour=recolour, unguided_modes=unguided)
        return diffusion_completers(model, **kw)["diffusion"]

    mixed = completer(1.0, ("level",))
    assert mixed.takes_mode and not completer(1.0).takes_mode
    plain, guided = completer(0.0)(ctx, mask, LEVELS, 3), completer(1.0)(ctx, mask, LEVELS, 3)
    assert not np.allclose(plain, guided)
    np.testing.assert_array_equal(mixed(ctx, mask, LEVELS, 3, mode="level"), plain)
    np.testing.assert_array_equal(mixed(ctx, mask, LEVELS, 3, mode="random"), guided)
