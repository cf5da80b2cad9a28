"""Painting schema version 2: one immutable value per stroke, edits that converge."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engines.collab.schema import SCHEMA_VERSION, STROKES, StrokeDoc, stroke_to_value, value_to_stroke
from engines.painting.strokes import Painting, PaintingFormatError


def sync(*docs: StrokeDoc) -> None:
    for a in docs:
        for b in docs:
            if a is not b:
                b.apply_remote(a.doc.get_update(b.doc.get_state()))


def make(author: str, n: int = 0, seed: int = 0) -> tuple[StrokeDoc, list]:
    d = StrokeDoc(author=author, undo=True)
    made = d.add_many(np.random.default_rng(seed).uniform(0.1, 0.9, (n, 8))) if n else []
    return d, made


def test_a_stroke_is_one_plain_value():
    d, (s,) = make("alice", 1)
    assert STROKES == "strokes2" and SCHEMA_VERSION == 2
    (v,) = d.strokes_array.to_py()
    assert v[0] == s.id and v[1] == "alice" and len(v) == 12
    assert value_to_stroke(v) == s
    assert value_to_stroke(stroke_to_value(s)) == s
    with pytest.raises(PaintingFormatError, match="w and h"):
        value_to_stroke([*v[:5], 0.0, *v[6:]])
    with pytest.raises(PaintingFormatError, match="list of 12"):
        value_to_stroke({"id": s.id})


def test_an_edit_replaces_the_value_and_is_reported_as_an_update():
    d, (s,) = make("alice", 1)
    seen = []
    d.on_change(seen.append)
    new = d.update(s.id, x=0.25, clock=7)
    assert len(d.strokes_array) == 1 and d.get(s.id) == new and new.x == 0.25 and new.clock == 7
    assert [c.updated for c in seen] == [[new]] and not seen[0].added and not seen[0].removed
    with pytest.raises(PaintingFormatError):
        d.update(s.id, author="bob")


def test_concurrent_edits_of_one_stroke_converge():
    a, made = make("alice", 3)
    b, _ = make("bob")
    c, _ = make("carol")
    sync(a, b, c)
    sid = made[1].id
    a.update(sid, x=0.2)
    b.update(sid, x=0.3, opacity=0.5)
    c.remove(made[2].id)
    b.update(made[2].id, y=0.9)  # an edit concurrent with a removal: the edit stays
    sync(a, b, c)
    sync(a, b, c)
    for d in (a, b, c):
        assert d.to_painting().to_dict() == a.to_painting().to_dict()
        assert len(d) == 3 and d.duplicates == 1
    assert a.get(sid).x in (0.2, 0.3)
    assert a.get(made[2].id).y == 0.9
    # a later edit removes every entry of the stroke: one value again
    a.update(sid, w=0.5)
    sync(a, b, c)
    assert all(d.duplicates == 0 and d.get(sid).w == 0.5 for d in (a, b, c))


def test_undo_of_own_strokes_and_edits():
    a, made = make("alice", 2)
    b, _ = make("bob")
    sync(a, b)
    b.add([0.5] * 8)
    sync(a, b)
    a.update(made[0].id, x=0.7)
    a.remove(made[1].id)
    sync(a, b)
    assert a.undo() and made[1].id in a  # the removal
    assert a.undo() and a.get(made[0].id) == made[0]  # the edit
    sync(a, b)
    assert b.get(made[0].id) == made[0] and made[1].id in b and len(b) == 3
    assert a.redo() and a.get(made[0].id).x == 0.7
    assert a.undo() and a.undo() and not a.undo() and len(a) == 1  # edit, then the adds (one step); bob stays
    sync(a, b)
    assert len(b) == 1 and b.by_author("bob")


def test_big_remote_update_rebuilds_the_mirror_and_reports_it():
    a, made = make("alice", 3000, seed=3)
    b = StrokeDoc(author="bob")
    seen = []
    b.on_change(seen.append)
    b.apply_remote(a.doc.get_update())
    assert len(b) == 3000 and sum(len(c.added) for c in seen) == 3000
    assert b.to_painting().to_dict() == a.to_painting().to_dict()


def test_invalid_entries_stay_out_of_the_mirror_and_repair_removes_them():
    d, made = make("alice", 2)
    with d.doc.transaction():
        d.strokes_array.append(["x", "y", 1])
        d.strokes_array.append(dataclasses.astuple(made[0])[:3])
    assert len(d) == 2 and len(d.invalid) == 2
    assert d.repair() == 2 and not d.invalid and len(d.strokes_array) == 2


def test_load_painting_round_trip():
    p = Painting(background=(0.1, 0.2, 0.3))
    rng = np.random.default_rng(1)
    for i in range(1200):  # more than one chunk
        p.add(rng.uniform(0.1, 0.9, 8), author=f"a{i % 3}")
    d = StrokeDoc(author="x")
    assert d.load_painting(p) == 1200
    assert d.to_painting().to_dict() == p.to_dict()
    assert d.meta.get("version") == 2
