"""The painting engine as a replica of a shared room: entering it, and following it after falling behind."""

import numpy as np

from engines.painting import PaintingEngine, PaintingParams
from engines.painting.strokes import Painting


def _engine(**kw):
    e = PaintingEngine(PaintingParams(canvas_px=64, **kw))
    e.add_drag([(0.2, 0.5), (0.8, 0.5)], 0.1, (0, 0, 1))
    return e


def test_entering_a_room_brings_the_painting_and_shares_every_later_edit():
    e = _engine(author="me")
    sent = []
    initial = e.enter_room(lambda op, payload: sent.append(op), "Ada", bring=True)
    assert e.params.author == "Ada" and e.sharing
    assert [s.id for s in initial.ordered()] == [s.id for s in e.doc.ordered()]
    initial.clear()
    assert len(e.doc) > 0  # a copy
    assert sent == []
    e.add_drag([(0.1, 0.1), (0.2, 0.1)], 0.05, (1, 0, 0))
    assert sent and sent[-1] == "add"


def test_joining_without_bringing_starts_from_an_empty_canvas():
    e = _engine(author="Bob")
    assert e.enter_room(lambda op, payload: None, "Bob", bring=False) is None
    assert len(e.doc) == 0 and e.params.author == "Bob"


def test_follow_room_takes_the_rooms_strokes_and_drops_the_others():
    e = _engine(author="ann")
    mine = [s.id for s in e.doc.ordered()]
    room = Painting(background=(0.5, 0.5, 0.5))
    room.add(np.array([0.5, 0.2, 0.1, 0.1, 0, 0, 0, 1]), author="bob")
    room.add(np.array([0.3, 0.3, 0.1, 0.1, 0, 1, 0, 1]), author="bob")
    assert e.follow_room(room) == len(mine) + 2 + 1
    assert [s.id for s in e.doc.ordered()] == [s.id for s in room.ordered()]
    assert e.doc.background == (0.5, 0.5, 0.5)
    assert e.follow_room(room) == 0  # already there
