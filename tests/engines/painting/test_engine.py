"""The painting engine: drags, my-own undo/redo, eraser, proposals, live reference painting, state."""

import numpy as np
import pytest
import torch

from engines.base import drive_job
from engines.painting.engine import PaintingEngine, PaintingParams
from engines.painting.model import ModelConfig, StrokeDenoiser
from engines.serialize import load_state, save_state


def _engine(**kw):
    return PaintingEngine(PaintingParams(canvas_px=64, **kw))


def test_drag_paints_and_undo_redo_only_touch_my_strokes():
    e = _engine(author="ann")
    blank = e.snapshot().image.copy()
    e.add_drag([(0.2, 0.5), (0.8, 0.5)], 0.1, (1, 0, 0))
    s = e.snapshot()
    assert s.n_strokes > 1 and s.n_mine == s.n_strokes and s.can_undo
    assert np.abs(s.image.astype(int) - blank).sum() > 0
    assert s.image[32, 32].tolist() == [255, 0, 0]
    # another author paints on top (e.g. from the shared document)
    e.doc.add(np.array([0.5, 0.2, 0.1, 0.1, 0, 0, 0, 1]), author="bob")
    assert e.undo()
    s = e.snapshot()
    assert s.n_strokes == 1 and s.authors == ("bob",) and s.can_redo
    assert e.redo()
    assert e.snapshot().n_strokes > 1
    assert e.undo() and not e.undo()  # nothing of mine left to undo
    assert e.snapshot().authors == ("bob",)


def test_eraser_and_its_undo():
    e = _engine()
    e.add_drag([(0.2, 0.2), (0.3, 0.2)], 0.05, (0, 0, 0))
    e.add_drag([(0.8, 0.8), (0.9, 0.8)], 0.05, (0, 0, 0))
    n = len(e.doc)
    gone = e.erase_at(0.25, 0.2, 0.1)
    assert gone and len(e.doc) == n - len(gone)
    assert e.undo() and len(e.doc) == n


def test_the_others_locked_strokes_are_skipped_but_mine_follow_my_own_lock():
    e = _engine(author="ann")
    e.doc.add(np.array([0.5, 0.5, 0.1, 0.1, 0, 0, 0, 1]), author="bob")
    (mine,) = e.add_drag([(0.52, 0.5)], 0.1, (1, 0, 0))
    e.set_locked_authors(["bob", "ann"])  # a peer with my name cannot lock my strokes for me
    assert [s.author for s in e.erase_at(0.5, 0.5, 0.1)] == ["ann"]
    bob = next(iter(e.doc.strokes))
    with pytest.raises(ValueError, match="locked by bob"):
        e.edit_stroke(bob, x=0.1)
    e.clear()
    assert [s.author for s in e.doc.ordered()] == ["bob"]
    e.set_locked_authors([])
    e.clear()
    assert len(e.doc) == 0 and mine.author == "ann"


def test_edit_with_bad_value_keeps_the_painting():
    e = _engine()
    (s,) = e.add_drag([(0.5, 0.5)], 0.1, (0, 1, 0))
    with pytest.raises(ValueError, match="theta"):
        e.edit_stroke(s.id, theta=4.0)
    assert e.doc.strokes[s.id].theta == s.theta
    with pytest.raises(ValueError, match="opacity"):
        e.add_drag([(0.5, 0.5)], 0.1, (0, 1, 0), opacity=2)
    assert len(e.doc) == 1


def test_complete_job_proposes_accept_and_reject():
    e = _engine(proposals=2, complete_steps=5)
    torch.manual_seed(0)
    e.model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    e.add_drag([(0.2, 0.2), (0.6, 0.6)], 0.1, (0, 0, 1))
    props, done = drive_job(e.complete_job())
    assert done and len(props) == 2
    n_ctx = len(e.doc)
    # every free slot is proposed; the first proposal (fitted to the expected painting) leaves out the
    # strokes that move the painting away from it
    assert len(props[1]) == 20 - n_ctx and 0 < len(props[0]) <= 20 - n_ctx
    s = e.snapshot()
    assert len(s.proposal_images) == 2 and s.proposal_images[0].shape == (96, 96, 3)
    e.select_proposal(1)
    made = e.accept_proposal()
    assert len(made) == len(props[1]) and all(m.author == "model" for m in made)
    assert not e.snapshot().proposals
    drive_job(e.complete_job(region=(0.0, 0.0, 0.5, 0.5)))
    assert all(np.all(p[:, :2] <= 0.5) for p in e.proposals)
    e.reject_proposals()
    assert not e.proposals
    # a proposal can be cancelled between DDIM steps
    calls = []
    _, done = drive_job(e.complete_job(), calls.append, should_stop=lambda: len(calls) >= 3)
    assert not done and not e.proposals and e.busy == ""


def test_best_guess_proposals_are_fitted_to_their_samples():
    e = _engine(proposals=2, samples=3, complete_steps=4)
    torch.manual_seed(0)
    e.model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    for prm in e.model.out.parameters():
        torch.nn.init.normal_(prm, std=0.2)
    e.add_drag([(0.2, 0.2), (0.6, 0.6)], 0.1, (0, 0, 1))
    msgs = []
    props, done = drive_job(e.complete_job(), msgs.append)
    assert done and len(props) == 2 and len(props[1]) == 20 - len(e.doc) and len(props[0]) <= 20 - len(e.doc)
    assert any("fitting proposal 2/2 to its 3 samples" in m.message for m in msgs)
    assert not np.array_equal(props[0], props[1])
    # stoppable while fitting too
    e.reject_proposals()
    calls = []
    _, done = drive_job(
        e.complete_job(), calls.append, should_stop=lambda: bool(calls) and "fitting" in calls[-1].message
    )
    assert not done and not e.proposals and e.busy == ""


def test_complete_without_model_is_a_clear_error():
    e = _engine()
    e.model_path = None
    assert not e.has_model()
    with pytest.raises(FileNotFoundError, match="no trained completion model"):
        drive_job(e.complete_job())
    assert e.busy == ""


def test_reference_appears_live_then_is_added_and_can_be_cancelled():
    e = _engine(decompose_strokes=10, decompose_px=32, decompose_iters=6)
    img = np.ones((40, 40, 3))
    img[:20] = (0.1, 0.3, 0.9)
    seen = []
    job = e.decompose_job(img)
    res, done = drive_job(job, lambda p: seen.append(e.snapshot().image.copy()))
    assert done and len(res) == 10 and len(e.doc) == 10
    assert len(seen) > 2 and np.abs(seen[-1].astype(int) - 255).sum() > 0  # live preview painted
    assert e.undo() and len(e.doc) == 0
    calls = []
    _, done = drive_job(e.decompose_job(img), calls.append, should_stop=lambda: len(calls) >= 2)
    assert not done and len(e.doc) == 0 and e.preview is None and e.busy == ""


def test_state_round_trip(tmp_path):
    e = _engine(author="ann")
    e.add_drag([(0.1, 0.1), (0.9, 0.9)], 0.05, (0.5, 0.2, 0.1), opacity=0.7)
    save_state(tmp_path / "s.zip", e.state_dict(), "painting")
    f = _engine()
    f.load_state_dict(load_state(tmp_path / "s.zip", "painting"))
    assert f.doc.ids() == e.doc.ids() and f.params.author == "ann"
    np.testing.assert_array_equal(f.snapshot().image, e.snapshot().image)
    with pytest.raises(ValueError, match="painting state"):
        f.load_state_dict({"document": {"format": "x"}, "params": {}})
    assert f.doc.ids() == e.doc.ids()  # kept


def test_timelapse_replays_a_prefix():
    e = _engine()
    e.add_drag([(0.1, 0.3), (0.9, 0.3)], 0.1, (1, 0, 0))
    e.add_drag([(0.5, 0.1), (0.5, 0.9)], 0.1, (0, 0, 1))
    full = e.snapshot().image.copy()
    n_red = len(e.undo_stack[0][1])
    e.set_timelapse(n_red)
    part = e.snapshot().image
    assert part[19, 32].tolist() == [255, 0, 0]  # red stroke where the blue one later crosses
    assert full[19, 32].tolist() == [0, 0, 255]
    e.set_timelapse(0)
    assert e.snapshot().image.min() == 255
    e.set_timelapse(None)
    np.testing.assert_array_equal(e.snapshot().image, full)


def test_lock_my_strokes():
    e = _engine(author="ann")
    (mine,) = e.add_drag([(0.5, 0.5)], 0.1, (1, 0, 0))
    other = e.doc.add(np.array([0.5, 0.5, 0.1, 0.1, 0, 0, 0, 1]), author="bob")
    e.set_lock(True)
    assert e.erase_at(0.5, 0.5, 0.2) == [other]
    with pytest.raises(ValueError, match="locked"):
        e.edit_stroke(mine.id, r=0.0)
    e.clear()
    assert e.doc.ids() == [mine.id]
    e.set_lock(False)
    e.clear()
    assert len(e.doc) == 0


@pytest.mark.parametrize(
    "mode, fit, first_guided",
    [
        ("level", True, False),
        ("block", True, False),
        ("random", True, True),
        ("square", True, True),
        ("level", False, True),
    ],
)
def test_the_fitted_first_proposal_is_sampled_without_colour_guidance_in_level_and_block_modes(
    monkeypatch, mode, fit, first_guided
):
    import engines.painting.model as painting_model
    from engines.painting.params import FIT_UNGUIDED_MODES

    strengths = []  # the context colour guidance of each proposal's sampling
    real = painting_model.sample_job

    def spy(*args, **kw):
        strengths.append(kw["recolour_strength"])
        return real(*args, **kw)

    monkeypatch.setattr(painting_model, "sample_job", spy)
    e = _engine(proposals=2, complete_steps=2, expected_fit=fit)
    torch.manual_seed(0)
    e.model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    e.add_drag([(0.2, 0.2), (0.6, 0.6)], 0.1, (0, 0, 1))
    e.add_drag([(0.7, 0.2), (0.8, 0.9)], 0.05, (1, 0, 0))
    props, done = drive_job(e.complete_job(mode=mode, p=0.5))
    assert done and len(props) == 2
    assert (mode in FIT_UNGUIDED_MODES) == (not first_guided or not fit)
    guided = e.params.context_colour
    assert guided > 0
    # the second proposal stays a sample drawn with the guidance
    assert strengths == [guided if first_guided else 0.0, guided]


def test_proposals_stream_one_by_one_and_the_first_is_the_headless_sample():
    from engines.painting.decompose import level_sizes
    from engines.painting.model import sample, slots_for_context
    from engines.painting.refiner import fit_expected, predict_render

    e = _engine(proposals=3, complete_steps=4)
    torch.manual_seed(0)
    e.model = StrokeDenoiser(ModelConfig(n_strokes=20, d_model=16, layers=1, heads=2, timesteps=50))
    e.add_drag([(0.2, 0.2), (0.6, 0.6)], 0.1, (0, 0, 1))
    e.add_drag([(0.7, 0.2), (0.8, 0.9)], 0.05, (1, 0, 0))  # two drags: the canvas holds strokes of both
    seen = []  # proposals on show after every yield
    props, done = drive_job(e.complete_job(), lambda _p: seen.append(len(e.snapshot().proposals)))
    assert done and len(props) == 3
    # each proposal is on show as soon as it is ready, before the next one is sampled
    firsts = [seen.index(k) for k in (1, 2, 3)]
    assert firsts == sorted(firsts) and firsts[1] - firsts[0] >= 4 and firsts[2] - firsts[1] >= 4
    assert not np.array_equal(props[0], props[1])
    # the canvas image is the painting alone: proposals are drawn over it by the studio
    img = e.snapshot().image.copy()
    e.reject_proposals()
    np.testing.assert_array_equal(e.snapshot().image, img)
    # the first proposal is what the headless sampler gives for this painting and seed
    params, _ = e.doc.arrays()
    context, mask, levels = slots_for_context(params, level_sizes(20))
    out = sample(
        e.model,
        context,
        mask,
        levels,
        steps=4,
        guidance=e.params.guidance,
        seed=e.seed,
        proposals=1,
        recolour_strength=e.params.context_colour,
        recolour_during=True,
        recolour_reach=e.params.context_reach,
    )
    # ... fitted to the painting the shipped render network expects (as `painting complete` does)
    refiner = e._load_refiner()
    assert refiner is not None
    first, keep = fit_expected(out[0], mask, predict_render(refiner, context, mask, levels))
    np.testing.assert_allclose(props[0], first[~mask & keep], atol=1e-5)
    assert not np.allclose(first[~mask], out[0][~mask], atol=1e-3)  # (the fit moved the strokes)
