"""The painting as a pycrdt document: conversions, mirror, merge, schema repair, protocol parsing."""

import numpy as np
import pytest
from pycrdt import Map

from engines.collab import protocol as P
from engines.collab.schema_v1 import StrokeDoc, fields_to_stroke, stroke_to_fields
from engines.painting.strokes import Painting, PaintingFormatError, Stroke


def _params(n, seed=0):
    return np.random.default_rng(seed).uniform(0.05, 0.95, size=(n, 8))


def _link(a: StrokeDoc, b: StrokeDoc):
    """Forward a's local transactions to b (as the network would)."""
    a.doc.observe(lambda ev: None if a.applying_remote else b.apply_remote(ev.update))


def test_stroke_fields_round_trip():
    s = Stroke("a:1", 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, opacity=0.9, author="a", clock=3)
    d = stroke_to_fields(s)
    assert fields_to_stroke(d) == s
    assert fields_to_stroke({**d, "clock": 3.0}) == s  # a JavaScript number
    for bad, field in [
        ({**d, "x": 1.5}, ".x"),
        ({**d, "w": 0.0}, ".w"),
        ({**d, "r": float("nan")}, ".r"),
        ({**d, "clock": -1}, ".clock"),
        ({**d, "clock": 1.5}, ".clock"),
        ({**d, "id": ""}, ".id"),
        ({**d, "x": True}, ".x"),
        ({**d, "extra": 1}, "unknown field"),
    ]:
        with pytest.raises(PaintingFormatError, match=field.replace(".", r"\.")):
            fields_to_stroke(bad, "s")
    d.pop("y")
    with pytest.raises(PaintingFormatError, match="missing field"):
        fields_to_stroke(d)


def test_painting_round_trip_and_order():
    p = Painting(background=(0.2, 0.3, 0.4))
    p.add_many(_params(20), author="alice")
    p.add_many(_params(5, 1), author="bob")
    d = StrokeDoc(author="carol")
    assert d.load_painting(p) == 25
    q = d.to_painting()
    assert q.background == p.background
    assert q.ids() == p.ids()
    np.testing.assert_allclose(q.arrays()[0], p.arrays()[0])
    # a fresh replica loaded from the encoded document sees the same painting
    e = StrokeDoc(author="dave")
    e.apply_remote(d.doc.get_update())
    assert e.ids() == p.ids() and e.background == p.background
    # a new stroke lands on top of everything seen
    s = e.add([0.5] * 8)
    assert e.ordered()[-1].id == s.id and s.clock == p.clock + 1


def test_two_replicas_converge_with_concurrent_edits():
    a, b = StrokeDoc(author="alice"), StrokeDoc(author="bob")
    a.add_many(_params(10))
    b.apply_remote(a.doc.get_update())
    # concurrent: both add, a removes one, b edits another, then exchange
    sa = a.add_many(_params(3, 1))
    sb = b.add_many(_params(4, 2))
    victim = a.ids()[0]
    a.remove(victim)
    edited = b.ids()[1]
    b.update(edited, x=0.123, opacity=0.5)
    a.apply_remote(b.doc.get_update(a.doc.get_state()))
    b.apply_remote(a.doc.get_update(b.doc.get_state()))
    assert a.ids() == b.ids()
    assert len(a) == 10 - 1 + 3 + 4
    assert victim not in a and victim not in b
    assert a.get(edited).x == pytest.approx(0.123) and a.get(edited).opacity == pytest.approx(0.5)
    assert {s.id for s in sa + sb} <= set(a.ids())
    # equal clocks from two authors: the order is (clock, author, id) on both sides
    keys = [s.key for s in a.ordered()]
    assert keys == sorted(keys)


def test_change_events_report_local_and_remote():
    a, b = StrokeDoc(author="alice"), StrokeDoc(author="bob")
    _link(a, b)
    seen_a, seen_b = [], []
    a.on_change(seen_a.append)
    b.on_change(seen_b.append)
    s = a.add([0.5] * 8)
    a.update(s.id, y=0.25)
    a.remove(s.id)
    a.set_background([0.0, 0.0, 0.0])
    assert [(len(c.added), len(c.updated), len(c.removed), c.local) for c in seen_a[:3]] == [
        (1, 0, 0, True),
        (0, 1, 0, True),
        (0, 0, 1, True),
    ]
    assert [(len(c.added), len(c.updated), len(c.removed), c.local) for c in seen_b[:3]] == [
        (1, 0, 0, False),
        (0, 1, 0, False),
        (0, 0, 1, False),
    ]
    assert seen_b[1].updated[0].y == pytest.approx(0.25)
    assert b.background == (0.0, 0.0, 0.0) and seen_b[-1].background == (0.0, 0.0, 0.0)


def test_big_remote_insert_rebuilds_the_mirror():
    a, b = StrokeDoc(author="alice"), StrokeDoc(author="bob")
    _link(a, b)
    got = []
    b.on_change(lambda c: got.append(len(c.added)))
    a.add_many(_params(2500))  # above the rebuild threshold
    assert len(b) == 2500 and b.ids() == a.ids() and got == [2500]


def test_invalid_entries_are_flagged_and_repaired():
    a, b = StrokeDoc(author="alice"), StrokeDoc(author="server")
    _link(a, b)
    _link(b, a)
    good = a.add([0.5] * 8)
    # a hostile writer bypassing the API: junk item, incomplete map, out-of-range field
    with a.doc.transaction():
        a.strokes_array.insert(0, "junk")
        a.strokes_array.insert(0, Map({"id": "x"}))
    with a.doc.transaction():
        a.strokes_array[a._ids.index(good.id)]["x"] = 7.0
    assert len(b.invalid) == 3
    assert len(b) == 1 and b.get(good.id).x == pytest.approx(0.5)  # the mirror kept the valid value
    assert b.repair() == 3
    assert b.invalid == [] and a.invalid == []
    assert len(a.strokes_array) == 1 and a.get(good.id).x == pytest.approx(0.5)


def test_duplicate_ids_are_invalid():
    a = StrokeDoc(author="alice")
    s = a.add([0.5] * 8)
    with a.doc.transaction():
        a.strokes_array.insert(0, Map(stroke_to_fields(s)))
    assert len(a) == 1 and len(a.invalid) == 1 and "twice" in a.invalid[0].reason


def test_protocol_parsing_is_strict():
    sv = b"\x01\x02\x03"
    assert P.parse_message(P.sync_step1(sv)) == P.Message("step1", sv)
    assert P.parse_message(P.sync_update(b"\x00\x00")).kind == "update"
    assert P.parse_message(P.query_awareness()).kind == "query"
    entries = [
        P.AwarenessEntry(123456789, 4, {"name": "a", "cursor": [0.1, 0.2]}),
        P.AwarenessEntry(5, 1, None),
    ]
    msg = P.parse_message(P.awareness_message(P.encode_awareness(entries)))
    assert P.parse_awareness(msg.payload) == entries
    for bad in [
        b"",
        b"\x07",
        b"\x00\x05\x00",
        P.sync_step1(sv) + b"\x00",
        b"\x00\x00\x05\x01",
        b"\xff" * 12,
        P.awareness_message(b"\x01\x01\x01\x03[1]"),
    ]:
        with pytest.raises(P.ProtocolError):
            m = P.parse_message(bad)
            if m.kind == "awareness":
                P.parse_awareness(m.payload)


def test_repair_of_fields_keeps_the_stroke():
    a, b = StrokeDoc(author="alice"), StrokeDoc(author="server")
    _link(a, b)
    _link(b, a)
    s = a.add([0.5] * 8)
    m = a.strokes_array[0]
    with a.doc.transaction():
        m["extra"] = 1  # a key the schema does not have
    with a.doc.transaction():
        del m["y"]  # a required key removed
    assert len(b.invalid) == 2
    assert b.repair() == 2
    assert a.invalid == [] and b.invalid == []
    assert a.get(s.id) == s and b.get(s.id) == s and "extra" not in m.keys()


def test_undo_touches_only_my_own_edits():
    a, b = StrokeDoc(author="alice", undo=True), StrokeDoc(author="bob")
    _link(a, b)
    _link(b, a)
    mine = a.add([0.3] * 8)
    theirs = b.add([0.6] * 8)
    a.update(mine.id, x=0.9)
    assert a.undo()  # the change
    assert a.get(mine.id).x == pytest.approx(0.3) and b.get(mine.id).x == pytest.approx(0.3)
    assert a.undo()  # the add
    assert mine.id not in a and mine.id not in b and theirs.id in a and theirs.id in b
    assert not a.undo()  # bob's stroke is not mine to undo
    assert a.redo() and mine.id in b
    assert a.ids() == b.ids()
