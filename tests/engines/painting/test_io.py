"""The painting's files and what the studio reads from the engine for them (exports, the room's painting)."""

import json

import numpy as np
import pytest

from engines.painting import COMPLETE_MODES, PaintingEngine, PaintingParams, PaintingSnapshot
from engines.painting.io import export_png, export_svg, load_image, load_painting, paint_demo, save_json


def _engine(**kw):
    e = PaintingEngine(PaintingParams(canvas_px=64, **kw))
    e.add_drag([(0.2, 0.5), (0.8, 0.5)], 0.1, (0, 0, 1))
    return e


def test_the_package_exports_its_engine_params_and_snapshot():
    assert PaintingEngine.params_type is PaintingParams
    assert isinstance(PaintingEngine(PaintingParams(canvas_px=64)).snapshot(), PaintingSnapshot)
    assert COMPLETE_MODES[0] == "all"


def test_save_json_writes_the_painting_and_it_reads_back(tmp_path):
    e = _engine()
    save_json(e, tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text())["format"] == "neural-studio-painting"
    back = load_painting(tmp_path / "p.json")
    assert [s.id for s in back.ordered()] == [s.id for s in e.doc.ordered()]


def test_document_is_a_copy_the_engine_does_not_share():
    e = _engine()
    doc = e.document()
    doc.clear()
    assert len(e.doc) > 0


def test_png_export_is_the_render_at_the_asked_size(tmp_path):
    e = _engine()
    img = e.export_image(128)
    assert img.shape == (128, 128, 3)
    assert img[64, 64] == pytest.approx([0, 0, 1], abs=1e-3) and img[5, 5] == pytest.approx([1, 1, 1])
    export_png(e, tmp_path / "p.png", size=128)
    back = load_image(tmp_path / "p.png")
    assert back.shape == (128, 128, 3) and np.abs(back - img).max() < 1 / 255 + 1e-6


def test_svg_export_has_one_rect_per_stroke_over_the_background(tmp_path):
    e = _engine()
    export_svg(e, tmp_path / "p.svg", size=100)
    text = (tmp_path / "p.svg").read_text()
    assert text == e.export_svg(100)
    assert text.count("<rect") == len(e.doc) + 1 and 'width="100"' in text


def test_snapshot_says_whether_complete_can_run_and_who_paints():
    e = PaintingEngine(PaintingParams(canvas_px=64, author="ann"))
    e.model, e.model_path = None, None
    s = e.snapshot()
    assert s.has_model is False and s.author == "ann"
    e.model = object()
    assert e.snapshot().has_model is True


def test_the_demo_is_the_astronauts_strokes_or_waves_without_the_shipped_file(tmp_path):
    from engines.painting.io import DEMO_STROKES, paint_demo

    e = PaintingEngine(PaintingParams(canvas_px=64))
    if DEMO_STROKES.exists():
        assert paint_demo(e) == "astronaut#1"
        assert len(e.doc) == 180 and {s.author for s in e.doc.ordered()} == {"reference"}
    e = PaintingEngine(PaintingParams(canvas_px=64, author="me"))
    assert paint_demo(e, tmp_path / "missing.npz") == "waves"
    s = e.snapshot()
    assert s.n_strokes >= 12 and s.n_mine == s.n_strokes
    again = PaintingEngine(PaintingParams(canvas_px=64, author="me"))
    paint_demo(again, tmp_path / "missing.npz")
    assert np.array_equal(again.snapshot().params, s.params)  # seeded


def test_the_demo_job_paints_the_demo_a_few_strokes_at_a_time_and_says_how_far_it_is():
    from engines.base import drive_job
    from engines.painting.io import DEMO_STROKES, demo_job

    if not DEMO_STROKES.exists():
        pytest.skip("no shipped demo strokes")
    e = PaintingEngine(PaintingParams(canvas_px=64))
    seen = []
    name, done = drive_job(
        demo_job(e, seconds=0.2), lambda p: seen.append((p.done, p.total, p.message, len(e.doc)))
    )
    assert done and name == "astronaut#1" and len(e.doc) == 180
    assert seen[0][2] == "Painting the demo: preparing the renderer" and seen[0][3] == 0
    assert ("Painting the demo: 180 / 180 strokes") == seen[-1][2]
    counts = [s[3] for s in seen]
    assert counts == sorted(counts) and len(set(counts)) > 3  # it grows in steps
    assert all(d == n for d, _t, _m, n in seen[1:])  # the progress is the strokes painted
    # the same painting as paint_demo
    ref = PaintingEngine(PaintingParams(canvas_px=64))
    paint_demo(ref)
    np.testing.assert_array_equal(ref.snapshot().params, e.snapshot().params)
