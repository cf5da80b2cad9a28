"""The render network (engines.painting.refiner) and Complete's fit to the painting it expects."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

from engines.base import drive_job
from engines.painting.engine import PaintingEngine
from engines.painting.model import ModelConfig, StrokeDenoiser, fit_to_render, make_mask
from engines.painting.params import PaintingParams
from engines.painting.refiner import (
    RefinerConfig,
    RefinerTrainParams,
    RenderNet,
    load_refiner,
    load_refiner_state,
    predict_render,
    refiner_input,
    save_refiner,
    save_refiner_state,
    train_refiner_job,
    val_ratios,
)
from engines.painting.render import render_fast
from engines.serialize import FormatError

LEVELS = np.repeat([0, 1, 2], [4, 8, 12])


def _flat_paintings(n: int, seed: int) -> np.ndarray:
    """Paintings of one colour each (a random one), 24 strokes tiling the canvas: what a hole in one
    hides is the colour around it."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, len(LEVELS), 8), np.float32)
    for i in range(n):
        xy = rng.random((len(LEVELS), 2))
        size = np.where(LEVELS == 0, 0.55, np.where(LEVELS == 1, 0.35, 0.25))[:, None]
        out[i, :, :2] = xy
        out[i, :, 2:4] = size
        out[i, :, 4] = rng.random(len(LEVELS))
        out[i, :, 5:8] = rng.random(3)
    return out


def test_an_untrained_network_expects_the_context_as_it_is():
    cfg = RefinerConfig(size=32, width=8, depth=3)
    net = RenderNet(cfg)
    p = _flat_paintings(1, 0)[0]
    mask = np.arange(len(p)) % 3 != 0
    x = refiner_input(p, mask, LEVELS, cfg)
    assert x.shape == (cfg.in_channels, 32, 32)
    ctx_render = render_fast(p[mask], size=32)
    np.testing.assert_allclose(x[:3].transpose(1, 2, 0), ctx_render, atol=1e-6)
    # the free share of each level, as constant planes
    for k in range(3):
        np.testing.assert_allclose(x[4 + k], 1.0 - mask[LEVELS == k].mean())
    np.testing.assert_allclose(predict_render(net, p, mask, LEVELS), ctx_render, atol=1e-5)
    # coverage: 0 on bare canvas, 1 under opaque paint
    bare = refiner_input(p, np.zeros(len(p), bool), LEVELS, cfg)
    assert np.allclose(bare[3], 0.0) and np.allclose(bare[:3], 1.0)


def test_training_learns_to_fill_a_hole_with_the_paint_around_it(tmp_path):
    torch.manual_seed(0)
    data = _flat_paintings(64, 1)
    val = _flat_paintings(6, 2)
    cfg = RefinerConfig(size=16, width=8, depth=3)
    tp = RefinerTrainParams(steps=150, batch=16, lr=5e-3, report_every=50)
    states = []
    net, history = drive_job(
        train_refiner_job(data, LEVELS, cfg, tp, seed=0, val=val, checkpoint=states.append)
    )[0]
    assert history["step"] == [50, 100, 150] and len(states) == 3
    assert history["val_loss"][-1] < history["val_loss"][0]
    ratios = val_ratios(net, val, LEVELS, seeds=(0,))
    # holes show white canvas in the context; the paint around them says what colour they were (an
    # untrained network scores 1.0: it expects the context as it is)
    assert all(v < 0.85 for v in ratios.values()), ratios
    # the whole state resumes: same schedule, the steps go on from where it stopped
    save_refiner_state(tmp_path / "s.zip", states[1])
    resume = load_refiner_state(tmp_path / "s.zip")
    assert resume["step"] == 100
    net2, h2 = drive_job(train_refiner_job(data, LEVELS, tp=tp, seed=0, val=val, resume=resume))[0]
    assert h2["step"] == [50, 100, 150] and net2.cfg == cfg


def test_a_chunk_ends_at_its_time_budget_and_resuming_past_the_end_is_refused():
    data = _flat_paintings(8, 3)
    cfg = RefinerConfig(size=16, width=8, depth=2)
    states = []
    tp = RefinerTrainParams(steps=10_000, batch=2, report_every=1000, max_seconds=0.05)
    net, history = drive_job(train_refiner_job(data, LEVELS, cfg, tp, checkpoint=states.append))[0]
    assert 1 <= history["step"][-1] < 10_000 and states[-1]["step"] == history["step"][-1]
    with pytest.raises(ValueError, match="checkpoint is at step"):
        drive_job(train_refiner_job(data, LEVELS, tp=tp.replace(steps=1), resume=states[-1]))
    with pytest.raises(ValueError, match="expected"):
        drive_job(train_refiner_job(data[:, :5], LEVELS, cfg, tp))


def test_weights_round_trip_and_a_corrupt_file_names_itself(tmp_path):
    net = RenderNet(RefinerConfig(size=16, width=8, depth=2))
    with torch.no_grad():
        net.head.weight.normal_()
    save_refiner(net, tmp_path / "r.zip", {"note": "test"})
    back = load_refiner(tmp_path / "r.zip")
    p = _flat_paintings(1, 4)[0]
    mask = np.arange(len(p)) % 2 == 0
    np.testing.assert_allclose(predict_render(back, p, mask, LEVELS), predict_render(net, p, mask, LEVELS))
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match="bad.zip"):
        load_refiner(tmp_path / "bad.zip")
    # weights of another shape: a clear error, not torch's
    with zipfile.ZipFile(tmp_path / "r.zip") as zf:
        tree = json.loads(zf.read("tree.json"))
    tree["state"]["config"]["width"] = 16
    with zipfile.ZipFile(tmp_path / "r.zip") as zf, zipfile.ZipFile(tmp_path / "other.zip", "w") as out:
        for info in zf.infolist():
            out.writestr(info, json.dumps(tree) if info.filename == "tree.json" else zf.read(info))
    with pytest.raises(FormatError, match="other.zip.*do not fit"):
        load_refiner(tmp_path / "other.zip")
    with pytest.raises(ValueError, match="multiple of"):
        RefinerConfig(size=30, depth=3)


def test_fit_to_render_moves_only_the_generated_strokes_toward_the_target():
    p = _flat_paintings(1, 5)[0]
    rng = np.random.default_rng(0)
    mask = make_mask("square", p, LEVELS, rng, 0.5)
    target = render_fast(p, size=32)
    start = np.where(mask[:, None], p, rng.random(p.shape)).astype(np.float32)
    out = fit_to_render(start, mask, target, iters=80, lr=0.02)
    np.testing.assert_array_equal(out[mask], start[mask])
    before = ((render_fast(start, size=32) - target) ** 2).mean()
    after = ((render_fast(out, size=32) - target) ** 2).mean()
    assert after < 0.5 * before
    with pytest.raises(ValueError, match="target must be"):
        fit_to_render(start, mask, target[:, :5])
    # on top: fitted as rendered with the generated strokes over the context ones (as Complete adds them)
    top = fit_to_render(start, mask, target, iters=80, lr=0.02, on_top=True)
    np.testing.assert_array_equal(top[mask], start[mask])

    def shown(x):
        return render_fast(np.vstack([x[mask], x[~mask]]), size=32)

    assert ((shown(top) - target) ** 2).mean() < 0.5 * ((shown(start) - target) ** 2).mean()
    assert ((shown(top) - target) ** 2).mean() < ((shown(out) - target) ** 2).mean()


def test_complete_fits_the_first_proposal_to_the_expected_painting():
    e = PaintingEngine(PaintingParams(canvas_px=64, proposals=2, complete_steps=4))
    torch.manual_seed(0)
    e.model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    for prm in e.model.out.parameters():
        torch.nn.init.normal_(prm, std=0.3)
    # a render network that expects a grey canvas, whatever the context
    net = RenderNet(RefinerConfig(size=32, width=8, depth=2))
    with torch.no_grad():
        net.head.bias.fill_(-0.5)
    e.refiner = net
    e.add_drag([(0.2, 0.2), (0.4, 0.4)], 0.1, (0, 0, 1))
    msgs = []
    props, done = drive_job(e.complete_job(), msgs.append)
    assert done and len(props) == 2
    assert any("fitting proposal 1/2 to the expected painting" in m.message for m in msgs)
    assert not any("fitting proposal 2/2" in m.message for m in msgs)
    params, _ = e.doc.arrays()
    grey = predict_render(net, *_slots(params))

    def err(prop):
        return float(((render_fast(np.vstack([params, prop]), size=32) - grey) ** 2).mean())

    # the fitted first proposal lands closer to what the network expects than the second, a plain sample
    assert err(props[0]) < 0.7 * err(props[1])
    assert e.snapshot().first_fitted
    # off: every proposal is a plain sample
    e.set_params(e.params.replace(expected_fit=False))
    msgs.clear()
    drive_job(e.complete_job(), msgs.append)
    assert not any("expected painting" in m.message for m in msgs)
    assert not e.snapshot().first_fitted


def _slots(params):
    from engines.painting.decompose import level_sizes
    from engines.painting.model import slots_for_context

    return slots_for_context(params, level_sizes(20))


def test_cli_trains_in_chunks_records_them_and_complete_uses_or_skips_the_fit(tmp_path, capsys):
    from engines.__main__ import main
    from engines.painting.data import save_dataset
    from engines.painting.strokes import load_painting, params_to_strokes, save_painting

    paintings = _flat_paintings(10, 6)
    split = np.array([0] * 8 + [2] * 2)
    data = tmp_path / "d.npz"
    save_dataset({"params": paintings, "levels": LEVELS, "split": split}, data)
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"what": "kept"}')
    out, state = tmp_path / "r.zip", tmp_path / "s.zip"
    common = ["painting", "train-refiner", "--data", str(data), "--out", str(out), "--state", str(state)]
    common += ["--batch", "2", "--report-every", "2", "--manifest", str(manifest)]
    assert main([*common, "--steps", "4", "--width", "8", "--depth", "2"]) == 0
    assert main([*common, "--steps", "6", "--resume", str(state), "--inset", "0.5"]) == 0
    m = json.loads(manifest.read_text())
    assert m["what"] == "kept"
    first, second = m["render_network"]["chunks"]
    assert first["steps"] == [0, 4] and second["steps"] == [4, 6] and second["resumed_from"] == str(state)
    assert second["inset"] == 0.5 and first["inset"] == 0.0
    assert set(second["val_mse_over_context_by_mode"]) == {"random", "block", "level", "square"}
    assert load_refiner(out).cfg.width == 8
    capsys.readouterr()
    # complete: the first proposal fitted to the network's expected painting, or not
    src = tmp_path / "s.json"
    save_painting(params_to_strokes(paintings[0][:20]), src)
    tiny = tmp_path / "m.zip"
    from engines.painting.model import save_model

    torch.manual_seed(0)
    save_model(StrokeDenoiser(ModelConfig(n_strokes=24, d_model=16, layers=1, heads=2, timesteps=50)), tiny)
    base = ["painting", "complete", str(src), "--mode", "all", "--steps", "3", "--model", str(tiny)]
    assert main([*base, "--refiner", str(out), "--out", str(tmp_path / "a.json")]) == 0
    assert "fitted to the expected painting" in capsys.readouterr().out
    assert main([*base, "--no-expected-fit", "--out", str(tmp_path / "b.json")]) == 0
    assert "one sample" in capsys.readouterr().out
    assert len(load_painting(tmp_path / "b.json")) == 24  # every free slot proposed
    assert 20 < len(load_painting(tmp_path / "a.json")) <= 24  # less those moving away from the expected
    # a named network that is not there is a clear error
    assert main([*base, "--refiner", str(tmp_path / "none.zip"), "--out", str(tmp_path / "c.json")]) == 2
    assert "none.zip: no render network" in capsys.readouterr().err


def test_on_a_big_canvas_each_window_of_the_first_proposal_is_fitted():
    e = PaintingEngine(PaintingParams(canvas_px=64, proposals=2, complete_steps=3))
    torch.manual_seed(0)
    e.model = StrokeDenoiser(
        ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50, prediction="x0")
    )
    torch.nn.init.normal_(e.model.out.weight, std=0.5)
    net = RenderNet(RefinerConfig(size=32, width=8, depth=2))
    with torch.no_grad():
        net.head.bias.fill_(-0.5)  # it expects mid grey where nothing is painted
    e.refiner = net
    strokes = _flat_paintings(12, 8).reshape(-1, 8)[:240].copy()
    strokes[:, 0] *= 0.55  # the left part of the canvas painted, the right part empty
    strokes[:, 2:4] *= 0.3
    e.add_strokes(strokes, author="me")
    props = drive_job(e.complete_job())[0]
    assert e.last_completion["windows"] and e.snapshot().first_fitted
    assert len(props) == 2 and len(props[0]) > 0 and len(props[1]) > 0
    grey = [float(np.abs(p[:, 5:8] - 0.5).mean()) for p in props]
    assert grey[0] < 0.7 * grey[1], grey  # the fitted windows took the expected grey, the samples did not


def test_inset_paintings_keep_their_strokes_inside_a_square_with_bare_canvas_around():
    from engines.painting.model import inset

    paintings = _flat_paintings(40, 8)
    rng = np.random.default_rng(0)
    out = inset(paintings, rng, 0.5)
    moved = np.flatnonzero(np.any(out != paintings, axis=(1, 2)))
    assert 10 <= len(moved) <= 30  # about half of them
    for i in moved:
        # one scale s for the whole painting: sizes shrink by it, centres by it about a shifted origin
        s = out[i, :, 2:4] / paintings[i, :, 2:4]
        assert np.allclose(s, s[0, 0], atol=1e-5) and 0.55 <= s[0, 0] <= 0.95
        off = out[i, :, :2] - s[0, 0] * paintings[i, :, :2]
        assert (
            np.allclose(off, off[0], atol=1e-5)
            and np.all(off[0] >= 0)
            and np.all(off[0] + s[0, 0] <= 1 + 1e-6)
        )
        np.testing.assert_array_equal(out[i, :, 4:], paintings[i, :, 4:])  # angle and colour kept
    # a painting that covers its canvas leaves bare canvas (white) somewhere once shrunk into a corner
    cover = np.array([[0.5, 0.5, 1.5, 1.5, 0.0, 0.2, 0.4, 0.6]], np.float32)  # one stroke over all
    assert np.all(render_fast(cover, size=32) < 1.0)
    corner = inset(cover[None], np.random.default_rng(1), 1.0, scale=(0.5, 0.5))[0]
    img = render_fast(corner, size=32)
    assert np.sum(np.all(img == 1.0, axis=-1)) >= 0.3 * 32 * 32  # bare canvas around it
    # share 0 draws nothing from the generator and changes nothing
    state = rng.bit_generator.state
    np.testing.assert_array_equal(inset(paintings, rng, 0.0), paintings)
    assert rng.bit_generator.state == state
