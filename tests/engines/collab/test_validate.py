"""The update gate of the room server: legitimate edits pass, hostile updates are refused before pycrdt."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from engines.collab.schema_v1 import StrokeDoc
from engines.collab.validate import (
    Budget,
    MalformedUpdate,
    UpdateRejected,
    UpdateValidator,
    check_state_vector,
)

from . import yenc as Y

C = 7  # the client id of crafted updates


class Room:
    """A server-side replica behind a validator, as the room server holds it."""

    def __init__(self) -> None:
        self.sdoc = StrokeDoc(author="server")
        self.v = UpdateValidator()

    def feed(self, update: bytes) -> None:
        checked = self.v.check(update, self.sdoc)
        self.sdoc.apply_remote(update)
        self.v.commit(checked)
        assert not self.sdoc.invalid, self.sdoc.invalid


def recorder(sdoc: StrokeDoc) -> list[bytes]:
    out: list[bytes] = []
    sdoc.doc.observe(lambda e: out.append(e.update))
    return out


def test_every_edit_of_the_studio_passes():
    rng = np.random.default_rng(0)
    a = StrokeDoc(author="alice", undo=True)
    ups = recorder(a)
    a.set_background([0.9, 0.9, 0.8])
    s = a.add([0.5, 0.5, 0.1, 0.1, 0.2, 1, 0, 0])
    a.update(s.id, x=0.25, opacity=0.5)
    a.add_many(rng.random((40, 8)) * 0.5 + 0.01)
    a.remove(s.id)
    a.undo()
    a.undo()
    a.redo()
    a.clear()
    a.undo()
    a.set_background([0.1, 0.2, 0.3])
    room = Room()
    for u in ups:
        room.feed(u)
    assert [x.id for x in room.sdoc.ordered()] == [x.id for x in a.ordered()]
    assert room.sdoc.background == a.background
    # the whole state at once (a room loaded from a compacted store)
    fresh = Room()
    fresh.feed(a.doc.get_update())
    assert len(fresh.sdoc) == len(a)


def test_undoing_the_first_background_passes_and_leaves_white():
    """Undo of a first set_background removes meta keys: allowed (found by the differential fuzzing)."""
    a = StrokeDoc(author="alice", undo=True)
    ups = recorder(a)
    a.set_background([0.2, 0.3, 0.4])
    assert a.undo()
    room = Room()
    seen = []
    room.sdoc.on_change(lambda ch: seen.append(ch.background))
    for u in ups:
        room.feed(u)
    assert room.sdoc.background == (1.0, 1.0, 1.0) == a.background
    assert seen[-1] == (1.0, 1.0, 1.0)


def test_appending_like_the_javascript_client_passes():
    room = Room()
    a = StrokeDoc(author="a")
    ups = recorder(a)
    a.add_many(np.full((3, 8), 0.3))
    js = Doc()
    js.apply_update(a.doc.get_update())
    arr = js.get("strokes", type=Array)
    js_ups = []
    js.observe(lambda e: js_ups.append(e.update))
    fields = dict(Y.STROKE, id="js:1", author="js", clock=9)
    arr.append(Map(fields))  # appended: its left origin is an existing entry
    arr[3]["x"] = 0.75
    for u in ups + js_ups:
        room.feed(u)
    assert room.sdoc.get("js:1").x == 0.75


def test_concurrent_changes_of_one_stroke_pass_in_either_order():
    a = StrokeDoc(author="a")
    s = a.add([0.5] * 8)
    b = StrokeDoc(Doc(), author="b")
    b.apply_remote(a.doc.get_update())
    before = a.doc.get_update()
    ua, ub = recorder(a), recorder(b)
    a.update(s.id, x=0.1)
    b.update(s.id, x=0.9)
    for order in ((ua, ub), (ub, ua)):
        room = Room()
        room.feed(before)
        for ups in order:
            for u in ups:
                room.feed(u)
        assert room.sdoc.get(s.id).x in (0.1, 0.9)
        for u in ua + ub:  # sent again (a client that reconnects): nothing changes, nothing refused
            room.feed(u)
        assert room.sdoc.get(s.id).x in (0.1, 0.9)


def test_a_change_of_a_stroke_removed_meanwhile_passes():
    a = StrokeDoc(author="a")
    s = a.add([0.5] * 8)
    b = StrokeDoc(Doc(), author="b")
    b.apply_remote(a.doc.get_update())
    room = Room()
    room.feed(a.doc.get_update())
    ua, ub = recorder(a), recorder(b)
    a.remove(s.id)
    b.update(s.id, y=0.2)
    for u in ua + ub:
        room.feed(u)
    assert len(room.sdoc) == 0


def rejected(update: bytes, room: Room | None = None, match: str | None = None) -> UpdateRejected:
    room = room or Room()
    with pytest.raises(UpdateRejected, match=match) as e:
        room.v.check(update, room.sdoc)
    return e.value


def chain(depth: int) -> bytes:
    """A stroke map with a map nested ``depth`` deep under it (the crash of issue #13)."""
    structs = [Y.item(Y.map_type(), 7, parent_key="strokes")]
    for i in range(depth):
        structs.append(Y.item(Y.map_type(), 7, parent_id=(C, i), sub="k"))
    return Y.update({C: (0, structs)})


def test_nesting_twenty_thousand_deep_is_refused_at_once():
    u = chain(20_000)
    assert len(u) > 100_000
    t = time.perf_counter()
    e = rejected(u, match="not part of the schema")
    assert time.perf_counter() - t < 2.0
    assert "'k'" in str(e)


def test_nesting_written_in_reverse_order_is_refused_without_recursion():
    # children listed before their parents: placing them follows the chain with a stack
    n = 5000
    structs = [Y.item(Y.map_type(), 7, parent_key="strokes")]
    for i in range(n):
        structs.append(
            Y.item(Y.map_type(), 7, parent_id=(C + 1 + i + 1, 0) if i < n - 1 else (C, 0), sub="k")
        )
    clients = {C + 1 + i: (0, [structs[1 + i]]) for i in range(n)}
    clients[C] = (0, structs[:1])  # the stroke map last: the first child needs all the others first
    rejected(Y.update(clients), match="'k' is not part of the schema")


#: (update, what the refusal says): bytes that are not an update, or claim more than they hold
MALFORMED = [
    (bytes([0x80, 0x80, 0x80, 0x80, 0x01, 0, 0, 0]), "clients"),  # 2^28 clients in eight bytes
    (Y.vu(1) + Y.vu(2**30) + Y.vu(C) + Y.vu(0), "structs"),
    (Y.update({}) + b"\x00", "trailing"),
    (Y.update({})[:-1], "truncated"),
    (Y.vu(0) + Y.vu(1) + Y.vu(C) + Y.vu(2**29), "delete ranges"),
    (Y.update({C: (0, [Y.item(Y.vu(2**29), 8, parent_key="strokes")])}), "values"),
    (
        Y.update({C: (0, [Y.item(Y.vu(1) + bytes([117]) + Y.vu(2**40), 8, parent_key="strokes")])}),
        "values",
    ),
    (Y.update({C: (0, [Y.item(Y.vu(1) + bytes([99]), 8, parent_key="strokes")])}), "unknown value"),
    (Y.update({C: (0, [Y.item(Y.vu(42), 7, parent_key="strokes")])}), "unknown type"),
    (Y.update({C: (0, [Y.item(b"", 11, parent_key="strokes")])}), "unknown content"),
]


@pytest.mark.parametrize("update, why", MALFORMED)
def test_bytes_that_claim_more_than_they_hold_are_malformed(update, why):
    e = rejected(update, match=why)
    assert isinstance(e, MalformedUpdate)


def test_deep_values_are_refused_without_recursion():
    deep = bytes([117, 1]) * 100_000 + bytes([126])
    u = Y.update({C: (0, [Y.item(Y.vu(1) + deep, 8, parent_key="meta", sub="background")])})
    rejected(u, match="nested deeper")


def test_clock_budget_and_gaps():
    gc = Y.update({C: (0, [bytes([0]) + Y.vu(2**40)])})
    rejected(gc, match="clock above")
    gap = Y.update({C: (5, Y.stroke_structs("s", at=(C, 5)))})
    rejected(gap, match="does not have")
    unknown_parent = Y.update({C: (0, [Y.item(Y.any_content(0.5), 8, parent_id=(99, 3), sub="x")])})
    rejected(unknown_parent, match="does not have")
    beyond = Y.update({}, {C: [(0, 4)]})
    rejected(beyond, match="does not have")


def test_a_valid_stroke_written_by_hand_passes():
    room = Room()
    room.feed(Y.update({C: (0, Y.stroke_structs("hand:1", at=(C, 0)))}))
    assert room.sdoc.get("hand:1").w == 0.1


#: (values of a new stroke, what the refusal says)
BAD_VALUES = [
    ({"x": float("nan")}, "in \\[0, 1\\]"),
    ({"x": 1.5}, "in \\[0, 1\\]"),
    ({"w": 0.0}, "at least"),
    ({"r": "red"}, "number"),
    ({"clock": -1}, "integer"),
    ({"clock": 0.5}, "integer"),
    ({"id": ""}, "text"),
    ({"author": "x" * 500}, "text"),
    ({"opacity": [1.0]}, "number"),
    ({"extra": 1}, "not part of the schema"),
]


@pytest.mark.parametrize("over, why", BAD_VALUES)
def test_bad_stroke_values_are_refused(over, why):
    rejected(Y.update({C: (0, Y.stroke_structs("s", at=(C, 0), **over))}), match=why)


def test_schema_shapes_that_are_refused():
    incomplete = Y.stroke_structs("s", at=(C, 0))[:-3]
    rejected(Y.update({C: (0, incomplete)}), match="without")
    two = Y.stroke_structs("s", at=(C, 0)) + Y.stroke_structs("s", at=(C, 13))
    rejected(Y.update({C: (0, two)}), match="one id")
    for name in ("other", "awareness", "Strokes"):
        rejected(
            Y.update({C: (0, [Y.item(Y.any_content(1), 8, parent_key=name, sub="k")])}), match="top-level"
        )
    rejected(
        Y.update({C: (0, [Y.item(Y.any_content(1), 8, parent_key="meta")])}), match="top-level"
    )  # meta as an array
    rejected(
        Y.update({C: (0, [Y.item(Y.any_content(1), 8, parent_key="strokes", sub="k")])}), match="top-level"
    )
    rejected(
        Y.update({C: (0, [Y.item(Y.any_content(3), 8, parent_key="meta", sub="version")])}), match="must be 1"
    )
    rejected(
        Y.update({C: (0, [Y.item(Y.any_content("x"), 8, parent_key="meta", sub="colour")])}), match="schema"
    )
    rejected(
        Y.update({C: (0, [Y.item(Y.any_content({"a": 1}), 8, parent_key="strokes")])}), match="must be a map"
    )
    rejected(Y.update({C: (0, [Y.item(Y.vu(0), 7, parent_key="strokes")])}), match="not array")
    text = Doc()
    text.get("strokes", type=Text).insert(0, "hello")
    rejected(text.get_update(), match="text content")


def test_changes_of_existing_strokes():
    room = Room()
    room.feed(Y.update({C: (0, Y.stroke_structs("s", at=(C, 0)))}))
    D = C + 1
    # a new value for x, replacing the old one (clock 3 of C): passes
    room.feed(Y.update({D: (0, [Y.item(Y.any_content(0.25), 8, origin=(C, 3))])}, {C: [(3, 1)]}))
    assert room.sdoc.get("s").x == 0.25
    # id and author never change
    rejected(
        Y.update({D: (1, [Y.item(Y.any_content("t"), 8, origin=(C, 1))])}, {C: [(1, 1)]}),
        room,
        "cannot change",
    )
    # a value removed without a new one
    rejected(Y.update({}, {C: [(4, 1)]}), room, "without a new value")
    # a nested type as a value
    rejected(Y.update({D: (1, [Y.item(Y.map_type(), 7, origin=(D, 0))])}, {D: [(0, 1)]}), room, "plain value")
    # the same id as a live stroke
    rejected(Y.update({D: (1, Y.stroke_structs("s", at=(D, 1)))}), room, "in use")
    # removing the whole stroke (map and keys) passes, and its id may then be used again
    room.feed(Y.update({}, {C: [(0, 13)], D: [(0, 1)]}))
    assert len(room.sdoc) == 0
    room.feed(Y.update({D: (1, Y.stroke_structs("s", at=(D, 1)))}))
    assert len(room.sdoc) == 1


def test_state_vectors_are_bounded():
    assert check_state_vector(Y.vu(1) + Y.vu(5) + Y.vu(9)) == {5: 9}
    for bad in (
        bytes([0x80, 0x80, 0x80, 0x80, 0x01]),
        Y.vu(1) + Y.vu(5),
        Y.vu(1) + Y.vu(5) + Y.vu(2**40),
        b"\x00\x00",
    ):
        with pytest.raises(UpdateRejected):
            check_state_vector(bad)


def test_budget_is_validated():
    with pytest.raises(ValueError, match="max_bytes"):
        Budget(max_bytes=0)
    rejected_update = b"\x00" * 20
    with pytest.raises(UpdateRejected, match="at most 10"):
        UpdateValidator(Budget(max_bytes=10)).check(rejected_update)


# ------------------------------------------------------------------ fuzzing
def _valid_updates() -> list[bytes]:
    a = StrokeDoc(author="fz", undo=True)
    ups = recorder(a)
    a.set_background([0.5, 0.5, 0.5])
    s = a.add([0.4] * 8)
    a.add_many(np.full((2, 8), 0.2))
    a.update(s.id, x=0.7)
    a.remove(s.id)
    a.undo()
    return ups


VALID = _valid_updates()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(0, len(VALID) - 1),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("fdit")), max_size=6
    ),
)
def test_fuzzed_updates_are_refused_or_leave_a_valid_document(k, edits):
    """Whatever the bytes: only UpdateRejected, and what passes leaves no entry the mirror cannot read."""
    room = Room()
    for u in VALID[:k]:
        room.feed(u)
    b = bytearray(VALID[k])
    for pos, val, op in edits:
        i = pos % (len(b) + 1)
        if op == "f" and b:
            b[i % len(b)] = val
        elif op == "d" and b:
            del b[i % len(b)]
        elif op == "i":
            b.insert(i, val)
        else:
            del b[i:]
    try:
        checked = room.v.check(bytes(b), room.sdoc)
    except UpdateRejected:
        return
    room.sdoc.apply_remote(bytes(b))
    room.v.commit(checked)
    assert not room.sdoc.invalid, room.sdoc.invalid


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_refused_cleanly(data):
    room = Room()
    try:
        checked = room.v.check(data, room.sdoc)
    except UpdateRejected:
        return
    room.sdoc.apply_remote(data)
    room.v.commit(checked)
    assert not room.sdoc.invalid


def test_numbers_above_64_bits_are_malformed():
    # yrs reads a client id as 64 bits and drops the rest: 2^64 + 7 is client 7 to the document, so
    # the validator would keep tables for a client the document does not have
    big = 2**64 + C
    d = Doc()
    d.apply_update(Y.update({big: (0, Y.stroke_structs("s", at=(big, 0)))}))
    assert d.get_state() == Y.vu(1) + Y.vu(C) + Y.vu(13)
    rejected(Y.update({big: (0, Y.stroke_structs("s", at=(big, 0)))}), match="too long")
    top = 2**64 - 1  # the largest 64-bit id is a client like any other
    Room().feed(Y.update({top: (0, Y.stroke_structs("s", at=(top, 0)))}))


def test_a_parent_flag_other_than_0_or_1_is_malformed():
    # yrs reads the flag as 32 bits: 2^32 + 1 is "a top-level name follows" to it, while a reader
    # comparing the whole number with 1 reads an item id from the name's bytes
    body = bytes([7]) + Y.vu(2**32 + 1) + Y.vstr("strokes") + Y.vu(1)
    d = Doc()
    d.apply_update(Y.update({C: (0, [body])}))
    assert d.get_state() == Y.vu(1) + Y.vu(C) + Y.vu(1)  # yrs took it as a map in "strokes"
    for flag in (2, 2**32 + 1):
        u = Y.update({C: (0, [bytes([7]) + Y.vu(flag) + Y.vstr("strokes") + Y.vu(1)])})
        assert isinstance(rejected(u, match="parent flag"), MalformedUpdate)
