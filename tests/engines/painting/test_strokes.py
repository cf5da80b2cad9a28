"""The stroke record, the multi-author document, drag -> strokes and JSON files."""

import json

import numpy as np
import pytest

from engines.painting.strokes import (
    Painting,
    PaintingFormatError,
    Stroke,
    drag_to_strokes,
    load_painting,
    params_to_strokes,
    save_painting,
)


def _stroke(**kw):
    d = dict(id="a:0", x=0.5, y=0.5, w=0.2, h=0.1, theta=0.25, r=1.0, g=0.0, b=0.0)
    d.update(kw)
    return Stroke(**d)


def test_stroke_validates_each_field():
    s = _stroke()
    assert s.params.shape == (8,)
    with pytest.raises(PaintingFormatError, match=r"\.theta = 1\.5"):
        _stroke(theta=1.5)
    with pytest.raises(PaintingFormatError, match=r"\.r = nan"):
        _stroke(r=float("nan"))
    with pytest.raises(PaintingFormatError, match=r"\.opacity"):
        _stroke(opacity=-0.1)
    with pytest.raises(PaintingFormatError, match=r"\.w"):
        _stroke(w=0.0)
    with pytest.raises(PaintingFormatError, match=r"\.x"):
        _stroke(x="left")


def test_add_orders_by_lamport_clock_and_ids_are_unique():
    p = Painting()
    a = p.add([0.1, 0.1, 0.1, 0.1, 0, 1, 0, 0], author="ann")
    b = p.add([0.2, 0.2, 0.1, 0.1, 0, 0, 1, 0], author="bob")
    c = p.add_many(np.full((3, 8), 0.5), author="ann")
    assert [s.id for s in p.ordered()] == [a.id, b.id] + [s.id for s in c]
    assert len(set(p.ids())) == 5
    assert b.clock > a.clock and c[0].clock > b.clock
    assert [s.id for s in p.by_author("bob")] == [b.id]


def test_concurrent_replicas_merge_to_the_same_document():
    base = Painting()
    base.add(np.full(8, 0.5), author="ann")
    r1, r2 = base.copy(), base.copy()
    s1 = r1.add(np.full(8, 0.3), author="ann")
    s2 = r2.add(np.full(8, 0.7), author="bob")  # same clock as s1: concurrent
    assert s1.clock == s2.clock
    r2.remove(base.ids()[0])
    m1, m2 = r1.copy(), r2.copy()
    m1.merge(r2)
    m2.merge(r1)
    assert m1.ids() == m2.ids() == [s1.id, s2.id]  # tie broken by author
    m1.merge(r2)  # idempotent
    assert m1.ids() == [s1.id, s2.id]


def test_remove_restore_update():
    p = Painting()
    s = p.add(np.full(8, 0.5))
    v = p.version
    assert p.remove(s.id) == s and len(p) == 0 and p.version > v
    p.restore(s)
    assert p.ids() == [s.id]
    t = p.update(s.id, r=0.0)
    assert t.r == 0.0 and t.id == s.id and t.clock == s.clock
    with pytest.raises(PaintingFormatError, match="g"):
        p.update(s.id, g=2.0)
    assert p.strokes[s.id].g == 0.5  # unchanged after the failed edit


def test_json_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    p = params_to_strokes(rng.random((20, 8)), opacity=0.8, author="x", background=(0.9, 0.9, 0.8))
    p.remove(p.ids()[3])
    f = tmp_path / "s.json"
    save_painting(p, f)
    q = load_painting(f)
    assert q.ids() == p.ids()
    np.testing.assert_allclose(q.arrays()[0], p.arrays()[0], atol=1e-6)
    assert q.background == (0.9, 0.9, 0.8)
    assert q.removed == p.removed
    # new ids never collide with loaded or removed ones
    s = q.add(np.full(8, 0.5), author="x")
    assert s.id not in p.strokes and s.id not in p.removed


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", r"bad\.json: not valid JSON \(line 1"),
        ("[]", r"bad\.json: the top level must be an object"),
        ('{"format": "x", "version": 1, "strokes": []}', r"bad\.json: field 'format'"),
        ('{"format": "neural-studio-painting", "version": 9, "strokes": []}', r"newer version"),
        ('{"format": "neural-studio-painting", "version": 1, "strokes": {}}', r"field 'strokes'"),
        (
            '{"format": "neural-studio-painting", "version": 1, "strokes": [{"id": "a", "x": 0.5}]}',
            r"bad\.json: strokes\[0\]: missing field\(s\) y, w",
        ),
        (
            '{"format": "neural-studio-painting", "version": 1, "strokes": [{"id": "a", "x": 0.5, "y": 0.5,'
            ' "w": 0.1, "h": 0.1, "theta": 3, "r": 0, "g": 0, "b": 0}]}',
            r"bad\.json: strokes\[0\]\.theta = 3: must be a number in \[0, 1\]",
        ),
    ],
)
def test_bad_files_name_file_and_field(tmp_path, text, match):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(PaintingFormatError, match=match):
        load_painting(f)


def test_duplicate_ids_rejected(tmp_path):
    s = _stroke().to_dict()
    f = tmp_path / "dup.json"
    f.write_text(json.dumps({"format": "neural-studio-painting", "version": 1, "strokes": [s, s]}))
    with pytest.raises(PaintingFormatError, match=r"strokes\[1\]\.id = 'a:0' is used twice"):
        load_painting(f)


def test_drag_becomes_overlapping_strokes_along_the_path():
    pts = np.stack([np.linspace(0.1, 0.9, 50), np.full(50, 0.5)], axis=1)
    s = drag_to_strokes(pts, size=0.05, color=(0.2, 0.4, 0.6))
    assert s.shape[1] == 8 and len(s) == int(np.ceil(0.8 / 0.1))
    np.testing.assert_allclose(s[:, 1], 0.5, atol=1e-6)  # on the path
    np.testing.assert_allclose(s[:, 3], 0.05)  # thickness = brush size
    np.testing.assert_allclose(s[:, 5:8], np.tile([0.2, 0.4, 0.6], (len(s), 1)), atol=1e-6)
    assert np.all(s[:, 4] < 1e-6)  # horizontal
    # consecutive strokes overlap: centre spacing < length
    assert np.all(np.diff(s[:, 0]) < s[:-1, 2])
    assert s[0, 0] - s[0, 2] / 2 <= 0.1 - 0.02 and s[-1, 0] + s[-1, 2] / 2 >= 0.9 + 0.02


def test_drag_vertical_and_click():
    s = drag_to_strokes([(0.5, 0.1), (0.5, 0.6)], size=0.1, color=(0, 0, 0))
    np.testing.assert_allclose(s[:, 4], 0.5, atol=1e-6)  # pi/2
    dab = drag_to_strokes([(0.3, 0.3), (0.301, 0.3)], size=0.1, color=(0, 0, 0))
    assert dab.shape == (1, 8) and dab[0, 2] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="brush size"):
        drag_to_strokes([(0, 0)], size=2.0, color=(0, 0, 0))
    with pytest.raises(ValueError, match="colour"):
        drag_to_strokes([(0, 0)], size=0.1, color=(0, 0, 2))
