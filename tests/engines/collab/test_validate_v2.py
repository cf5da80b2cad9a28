"""The server's checks for painting schema version 2 (engines.collab.validate_v2)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from engines.collab.schema import STROKES, StrokeDoc, stroke_to_value, value_problem
from engines.collab.schema_v1 import StrokeDoc as StrokeDocV1
from engines.collab.validate import Budget, MalformedUpdate, UpdateRejected
from engines.collab.validate_v2 import UpdateValidatorV2, Version1Update, replay_rows_v2


class Room:
    """A validator and the document it guards, fed like the server feeds them."""

    def __init__(self) -> None:
        self.v = UpdateValidatorV2()
        self.doc = Doc()

    def send(self, update: bytes, trusted: bool = False):
        checked = self.v.check(update, trusted=trusted)
        self.doc.apply_update(update)
        self.v.commit(checked)
        return checked

    def send_from(self, d: StrokeDoc):
        return self.send(d.doc.get_update(self.doc.get_state()))

    def pull(self, d: StrokeDoc) -> None:
        d.apply_remote(self.doc.get_update(d.doc.get_state()))


def strokes(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.1, 0.9, (n, 8))


def test_adds_edits_removals_undo_and_concurrent_edits_pass():
    room = Room()
    a = StrokeDoc(author="alice", undo=True)
    b = StrokeDoc(author="bob", undo=True)
    made = a.add_many(strokes(4))
    a.set_background((0.2, 0.3, 0.4))
    assert room.send_from(a).new_ids == [s.id for s in made]
    room.pull(b)
    a.update(made[0].id, x=0.3)
    b.update(made[0].id, y=0.6)  # concurrent with alice's edit
    room.send_from(a)
    room.send_from(b)
    room.pull(a)
    room.pull(b)
    assert a.to_painting().to_dict() == b.to_painting().to_dict() and a.duplicates == 1
    a.remove(made[1].id)
    room.send_from(a)
    assert made[1].id not in room.v and made[0].id in room.v and room.v.live_count() == 3
    assert a.undo()  # the removal: the stroke comes back with its id
    room.send_from(a)
    assert made[1].id in room.v
    a.update(made[0].id, w=0.5)  # removes both entries of the stroke
    room.send_from(a)
    room.pull(b)
    assert b.duplicates == 0 and room.v.live_count() == 4


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda s: dataclasses.replace(s, author="mallory"), "author cannot change"),
        (lambda s: s, "is in use"),
    ],
)
def test_a_stroke_cannot_be_taken_over(change, match):
    room = Room()
    a = StrokeDoc(author="alice")
    (s,) = a.add_many(strokes(1))
    room.send_from(a)
    m = StrokeDoc(author="mallory")
    room.pull(m)
    with m.doc.transaction():
        m.strokes_array.insert(0, stroke_to_value(change(s)))
    with pytest.raises(UpdateRejected, match=match):
        room.v.check(m.doc.get_update(room.doc.get_state()))


def test_an_edit_cannot_change_the_author():
    room = Room()
    a = StrokeDoc(author="alice")
    (s,) = a.add_many(strokes(1))
    room.send_from(a)
    with a.doc.transaction():
        del a.strokes_array[0]
        a.strokes_array.insert(0, stroke_to_value(dataclasses.replace(s, author="mallory")))
    with pytest.raises(UpdateRejected, match="author cannot change"):
        room.v.check(a.doc.get_update(room.doc.get_state()))


def _doc_with(fill) -> bytes:
    d = Doc()
    fill(d)
    return d.get_update()


@pytest.mark.parametrize(
    "fill, match",
    [
        (lambda d: d.get(STROKES, type=Array).append(Map({"id": "x"})), "must be a plain value"),
        (lambda d: d.get(STROKES, type=Array).append(Text("hi")), "must be a plain value"),
        (
            lambda d: d.get(STROKES, type=Array).append(["a", "b", 0, 2.0, 0.5, 0.1, 0.1, 0, 0, 0, 0, 1]),
            "x must be",
        ),
        (lambda d: d.get(STROKES, type=Array).append(["a", "b", -1, *[0.5] * 9]), "clock must"),
        (lambda d: d.get(STROKES, type=Array).append(["", "b", 1, *[0.5] * 9]), "id must"),
        (lambda d: d.get(STROKES, type=Array).append(["a", "b", 1, *[0.5] * 8]), "list of 12"),
        (lambda d: d.get(STROKES, type=Array).append({"id": "a"}), "list of 12"),
        (lambda d: d.get("other", type=Map).__setitem__("k", 1), "not part of the painting schema"),
        (lambda d: d.get("meta", type=Map).__setitem__("version", 3), "must be 2"),
        (lambda d: d.get("meta", type=Map).__setitem__("colour", 3), "not part of the schema"),
        (lambda d: d.get("meta", type=Map).__setitem__("background", [2, 0, 0]), "background"),
    ],
)
def test_updates_outside_the_schema_are_refused(fill, match):
    with pytest.raises(UpdateRejected, match=match):
        Room().v.check(_doc_with(fill))


def test_two_new_strokes_with_one_id_are_refused():
    v = ["a", "b", 1, *[0.5] * 9]
    with pytest.raises(UpdateRejected, match="one id"):
        Room().v.check(_doc_with(lambda d: d.get(STROKES, type=Array).extend([v, list(v)])))


def test_a_version_1_client_is_refused_with_a_message_that_says_so():
    old = StrokeDocV1(author="old")
    old.add([0.5] * 8)
    with pytest.raises(Version1Update, match="version 1.*version 2: update the client"):
        Room().v.check(old.doc.get_update())
    old2 = StrokeDocV1(author="old")
    old2.set_background((1, 1, 1))
    with pytest.raises(Version1Update, match="version 1"):
        Room().v.check(old2.doc.get_update())


def test_malformed_bytes_are_refused_as_malformed():
    good = _doc_with(lambda d: d.get(STROKES, type=Array).append(["a", "b", 1, *[0.5] * 9]))
    for bad in (good[:-3], good + b"\x00", b"\x01\xff\xff\xff\xff\x0f"):
        with pytest.raises(MalformedUpdate):
            Room().v.check(bad)


def test_replay_rows_keeps_what_checks_and_lists_the_rest():
    a = StrokeDoc(author="alice")
    a.add_many(strokes(3))
    row1 = a.doc.get_update()
    sv = a.doc.get_state()
    a.add_many(strokes(2, seed=1))
    row2 = a.doc.get_update(sv)
    old = StrokeDocV1(author="old")
    old.add([0.5] * 8)
    doc = Doc()
    validator, bad, first = replay_rows_v2(doc, [(1, row1), (2, old.doc.get_update()), (3, row2)], Budget())
    assert [r for r, _ in bad] == [2] and isinstance(first, Version1Update)
    assert validator.live_count() == 5 and len(StrokeDoc(doc)) == 5


def test_a_removed_id_may_come_back_with_another_author():
    """As in version 1, only a live stroke's author is fixed (the studio reuses replica-tagged ids)."""
    room = Room()
    a = StrokeDoc(author="alice")
    (s,) = a.add_many(strokes(1))
    room.send_from(a)
    a.remove(s.id)
    room.send_from(a)
    a.insert_strokes([dataclasses.replace(s, author="model")])
    room.send_from(a)
    assert s.id in room.v
    m = StrokeDoc(author="m")
    room.pull(m)
    with m.doc.transaction():
        del m.strokes_array[0]
        m.strokes_array.insert(0, stroke_to_value(dataclasses.replace(s, author="alice")))
    with pytest.raises(UpdateRejected, match="author cannot change"):
        room.v.check(m.doc.get_update(room.doc.get_state()))


_NUM = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0, 1),
    st.integers(-(2**60), 2**60),
    st.sampled_from([0, 1, 0.001, 0.0009, -0.0, 2**53, 2**53 - 1, True, False, None]),
)
_TEXT = st.one_of(st.text(max_size=3), st.text(min_size=120, max_size=210), st.just("é" * 70))


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.tuples(_TEXT, _TEXT, *[_NUM] * 10).map(list),
        st.lists(st.one_of(_NUM, _TEXT), max_size=13),
        st.builds(
            lambda v, k: v[:k] + v[k + 1 :],
            st.tuples(_TEXT, _TEXT, *[_NUM] * 10).map(list),
            st.integers(0, 11),
        ),
    )
)
def test_the_quick_value_reader_agrees_with_the_reference(value):
    """_Reader2 reads a valid stroke as (id, author) and anything else as the plain value, exactly
    where the reference reader and schema.value_problem say so."""
    from engines.collab.validate import _Reader
    from engines.collab.validate_v2 import _Reader2

    from . import yenc as Y

    data = Y.any_(value) + b"\x00" * 4
    ref = _Reader(data)
    v = ref.any_(8)
    fast = _Reader2(data)
    got = fast.any_(8)
    want = (v[0], v[1]) if not value_problem(v) else v
    assert repr(got) == repr(want) and type(got) is type(want)  # (repr: NaN equals NaN)
    assert fast.pos == ref.pos


@pytest.mark.parametrize("x", [0.5, 1.5, float("nan"), 0.0005, -0.25])
def test_float32_and_small_integer_numbers_are_read_alike(x):
    """yrs writes a number that a float32 holds exactly as float32 (124), an integral one as varInt (125)."""
    import struct

    from engines.collab.validate import _Reader
    from engines.collab.validate_v2 import _Reader2

    from . import yenc as Y

    nums = b"".join(bytes([124]) + struct.pack(">f", x) for _ in range(9))
    data = (
        bytes([117, 12]) + Y.any_("id") + Y.any_("au") + bytes([125]) + Y.vint(70_000) + nums + b"\x00" * 40
    )
    ref, fast = _Reader(data), _Reader2(data)
    v, got = ref.any_(8), fast.any_(8)
    assert repr(got) == repr((v[0], v[1]) if not value_problem(v) else v) and fast.pos == ref.pos
    assert (type(got) is tuple) == (x == 0.5)
