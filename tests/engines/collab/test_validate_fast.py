"""The compiled update check agrees with the Python reference: same verdict, same records, same tables."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Text

from engines.collab import _validate_kernel as K
from engines.collab.schema_v1 import STROKE_KEYS, StrokeDoc
from engines.collab.validate import Checked, UpdateRejected, UpdateValidator, warm_up

from . import yenc as Y
from .test_validate import BAD_VALUES, MALFORMED, chain

C = 7
D = 8
D_INDEX = 0  # D's index in a room where it comes first


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    warm_up()  # compiled once per machine (numba's cache), then loaded


def agree(
    v: UpdateValidator, update: bytes, live=(), trusted: bool = False, *, fast: bool | None = None
) -> Checked | UpdateRejected:
    """Check ``update`` both ways against the same tables; they must agree. Returns the reference's
    result. ``fast=True``: the compiled check must take it on (not hand it to the Python path)."""
    try:
        ref: Checked | UpdateRejected = v._check_python(bytes(update), live, trusted)
    except UpdateRejected as e:
        ref = e
    got = v._check_fast(bytes(update), live, trusted)
    if isinstance(ref, UpdateRejected):
        assert got is None, f"the compiled check accepts what the reference refuses: {ref}"
        return ref
    if fast:
        assert got is not None, "the compiled check handed a valid update to the Python path"
    if got is not None:
        assert got.new_ids == ref.new_ids
        assert got.empty == ref.empty
        assert got.epoch == ref.epoch
        for name in ("clients", "records", "dead"):
            a, b = getattr(got, name), getattr(ref, name)
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
    return ref


def verdict(v: UpdateValidator, update: bytes, live=()) -> str:
    """How an update fares (for hypothesis' statistics)."""
    try:
        v._check_python(bytes(update), live, False)
    except UpdateRejected:
        return "refused"
    return "accepted, compiled" if v._check_fast(bytes(update), live, False) else "accepted, handed over"


class Model:
    """What the tables must answer, kept naively: per client, every clock's (tag, ref)."""

    def __init__(self) -> None:
        self.items: dict[int, dict[int, tuple[int, int]]] = {}
        self.order: list[int] = []  # client ids by index
        self.dead: set[int] = set()

    def record(self, checked: Checked) -> None:
        for key in checked.clients.tolist():
            if key not in self.items:
                self.items[key] = {}
                self.order.append(key)
        for j, clock, length, tag, ref in checked.records.tolist():
            col = self.items[checked.clients[j].item()]
            for k in range(clock, clock + min(length, 64)):  # long GC runs: their head
                col[k] = (tag, ref)
        self.dead.update(checked.dead.tolist())

    def check(self, v: UpdateValidator) -> None:
        t = v._t
        assert t.n_clients == len(self.order)
        for c, key in enumerate(self.order):
            client = key + (1 << 64) if key < 0 else key
            assert t.index(client) == c
            assert K.map_get(t.h_keys, t.h_vals, key) == c
            for k, want in self.items[key].items():
                assert t.at(c, k) == want, (client, k)
                assert K._room_at(t.cl, t.r_start, t.r_tag, t.r_ref, c, k) == want
            assert v.clock_of(client) >= max(self.items[key]) + 1
        assert int(t.meta[K.M_DEAD]) == len(self.dead)
        assert all(t.is_dead(d) and K.set_has(t.d_keys, d) for d in self.dead)


class Room:
    """A room: a document, its validator, the model of its tables; every update checked both ways."""

    def __init__(self) -> None:
        self.sdoc = StrokeDoc(author="server")
        self.v = UpdateValidator()
        self.model = Model()

    def feed(
        self, update: bytes, *, fast: bool | None = None, apply: bool = True
    ) -> Checked | UpdateRejected:
        out = agree(self.v, update, self.sdoc, fast=fast)
        if isinstance(out, Checked):
            if apply:
                self.sdoc.apply_remote(update)
            self.v.commit(out)
            self.model.record(out)
        return out


# ------------------------------------------------------------ studio edits
def edit(docs: list[StrokeDoc], op: str, k: int, rng: np.random.Generator) -> None:
    d = docs[k % len(docs)]
    ids = list(d._by_id)
    if op == "add":
        d.add(rng.random(8) * 0.5 + 0.01, opacity=float(rng.random()))
    elif op == "many":
        d.add_many(rng.random((1 + k % 5, 8)) * 0.5 + 0.01)
    elif op == "update" and ids:
        d.update(ids[k % len(ids)], **{STROKE_KEYS[2 + k % 9]: float(rng.random() * 0.5 + 0.1)})
    elif op == "remove" and ids:
        d.remove_many(ids[k % len(ids) :][: 1 + k % 3])
    elif op == "undo":
        d.undo()
    elif op == "redo":
        d.redo()
    elif op == "background":
        d.set_background(rng.random(3).tolist())
    elif op == "clear":
        d.clear()
    elif op == "sync" and len(docs) > 1:
        a, b = docs[0], docs[1]
        b.apply_remote(a.doc.get_update(b.doc.get_state()))
        a.apply_remote(b.doc.get_update(a.doc.get_state()))


OPS = ("add", "many", "update", "remove", "undo", "redo", "background", "clear", "sync")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 1000)), min_size=1, max_size=14),
    seed=st.integers(0, 2**16),
)
def test_studio_edits_are_checked_alike_and_compiled(ops, seed):
    rng = np.random.default_rng(seed)
    docs = [StrokeDoc(author="a", undo=True), StrokeDoc(Doc(), author="b", undo=True)]
    ups: list[bytes] = []
    for d in docs:
        d.doc.observe(lambda e: ups.append(e.update))
    mid: list[bytes] = []
    for i, (op, k) in enumerate(ops):
        if i == len(ops) // 2:
            mid = [d.doc.get_update() for d in docs]
        edit(docs, op, k, rng)
    # (the reference refuses a few edits, e.g. undoing the first background, which removes it)
    room = Room()
    for u in ups:  # both clients' updates, in the order they were made (with what they echo of each other)
        room.feed(u, fast=True)
    room.model.check(room.v)
    # a client sends its whole state again (reconnecting)
    for d in docs:
        room.feed(d.doc.get_update(), fast=True)
    room.model.check(room.v)
    # and a room loaded from a compacted store: the whole state at once
    fresh = Room()
    for d in docs:
        fresh.feed(d.doc.get_update(), fast=True)
    fresh.model.check(fresh.v)
    # a room that has an older state: runs it has the head of come cut
    half = Room()
    for u in mid + [d.doc.get_update() for d in docs]:
        half.feed(u, fast=True)
    half.model.check(half.v)


def _history() -> list[bytes]:
    rng = np.random.default_rng(5)
    docs = [StrokeDoc(author="a", undo=True), StrokeDoc(Doc(), author="b", undo=True)]
    ups: list[bytes] = []
    for d in docs:
        d.doc.observe(lambda e: ups.append(e.update))
    for i, op in enumerate(("background", "add", "many", "update", "sync", "remove", "undo", "add", "clear")):
        edit(docs, op, i, rng)
    edit(docs, "undo", 0, rng)
    edit(docs, "sync", 0, rng)
    edit(docs, "update", 1, rng)
    ups.append(docs[1].doc.get_update())
    return ups


HISTORY = _history()


def _room_at(k: int) -> Room:
    room = Room()
    for u in HISTORY[:k]:
        room.feed(u)
    return room


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(0, len(HISTORY) - 1),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("fdit")),
        min_size=1,
        max_size=6,
    ),
)
def test_damaged_updates_are_judged_alike(k, edits):
    room = _room_at(k)
    b = bytearray(HISTORY[k])
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
    event(verdict(room.v, bytes(b), room.sdoc))
    if isinstance(room.feed(bytes(b), apply=False), Checked):
        room.model.check(room.v)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_judged_alike(data):
    agree(UpdateValidator(), data)
    agree(_ROOM.v, data, _ROOM.sdoc)


_ROOM = _room_at(len(HISTORY))

# ------------------------------------------------------------ crafted updates
GOOD = st.sampled_from([0.5, 0.25, 1, 0.0, 0.75])
BAD = st.sampled_from(
    [1.5, -1, 0.0005, float("nan"), "s", "", [0.1, 0.2, 0.3], None, True, 7, 2**60, 2.0**53]
)
VALUES = st.one_of(GOOD, GOOD, BAD)
KEYS = st.sampled_from([*STROKE_KEYS, *STROKE_KEYS[2:], "bogus", "format", "version", "background"])
#: the base room (client C): stroke c0 at clocks 0..12, stroke c1 at 13..25, meta background at 26
C_FIELDS = [k for k in range(27) if k % 13]


@st.composite
def crafted(draw):
    """An update of client D (and maybe C again) against the base room: edits a client could make
    (new strokes, values replaced, strokes removed) mixed with nonsense next to the room's items."""
    structs: list[bytes] = []
    deletes: dict[int, list[tuple[int, int]]] = {}
    clock = 0  # D's next clock
    for _ in range(draw(st.integers(1, 6))):
        move = draw(st.sampled_from("nnrrkbxgdtvo"))
        if move == "n":  # a new stroke, maybe with one bad value
            over = draw(st.dictionaries(KEYS, VALUES, max_size=1))
            structs += Y.stroke_structs(f"d{clock}", at=(D, clock), **over)
            clock += 13
        elif move == "r":  # replace a value of c0/c1, or of a stroke of this update
            k = draw(st.sampled_from(C_FIELDS))
            structs.append(Y.item(Y.any_content(draw(VALUES)), 8, origin=(C, k)))
            deletes.setdefault(C, []).append((k, draw(st.sampled_from([1, 1, 2]))))
            clock += 1
        elif move == "k":  # remove a whole stroke (or most of it)
            deletes.setdefault(C, []).append(
                (draw(st.sampled_from([0, 13])), draw(st.sampled_from([13, 13, 12, 1])))
            )
        elif move == "b":  # a new background
            structs.append(Y.item(Y.any_content(draw(VALUES)), 8, origin=(C, 26)))
            deletes.setdefault(C, []).append((26, 1))
            clock += 1
        elif move == "x" and clock:  # remove something of this update
            deletes.setdefault(D, []).append((draw(st.integers(0, clock - 1)), draw(st.integers(1, 13))))
        elif move == "g":
            n = draw(st.integers(1, 20))
            structs.append(bytes([0]) + Y.vu(n))
            clock += n
        elif move == "d":  # deleted content under a map, or as an entry
            n = draw(st.integers(1, 3))
            at = (draw(st.sampled_from([C, D])), draw(st.integers(0, max(clock, 27))))
            if draw(st.booleans()):
                structs.append(Y.item(Y.vu(n), 1, parent_id=at, sub=draw(KEYS)))
            else:
                structs.append(Y.item(Y.vu(n), 1, origin=at))
            clock += n
        elif move == "t":  # a type somewhere
            at = (draw(st.sampled_from([C, D])), draw(st.integers(0, max(clock, 27))))
            structs.append(Y.item(Y.vu(draw(st.integers(0, 6))), 7, origin=at))
            clock += 1
        elif move == "v":  # a value under any item, with any key
            at = (draw(st.sampled_from([C, D])), draw(st.integers(0, max(clock, 27))))
            n = draw(st.integers(1, 2))
            structs.append(
                Y.item(Y.any_content(*[draw(VALUES) for _ in range(n)]), 8, parent_id=at, sub=draw(KEYS))
            )
            clock += n
        elif move == "o":  # a value between two items
            a = (draw(st.sampled_from([C, D])), draw(st.integers(0, max(clock, 27))))
            b = (draw(st.sampled_from([C, D])), draw(st.integers(0, max(clock, 27))))
            structs.append(Y.item(Y.any_content(draw(VALUES)), 8, origin=a, right=b))
            clock += 1
    clients = {D: (0, structs)} if structs else {}
    if draw(st.integers(0, 3)) == 0:  # part of what the room has, sent again
        j = draw(st.integers(0, len(_CRAFT_C) - 1))
        clients[C] = (j, _CRAFT_C[j:])
    return Y.update(clients, deletes)


def _craft_base() -> tuple[Room, list[bytes]]:
    room = Room()
    structs = Y.stroke_structs("c0", at=(C, 0)) + Y.stroke_structs("c1", at=(C, 13))
    structs += [Y.item(Y.any_content([1.0, 1.0, 1.0]), 8, parent_key="meta", sub="background")]
    room.feed(Y.update({C: (0, structs)}), fast=True)
    return room, structs


_CRAFT_BASE, _CRAFT_C = _craft_base()


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(crafted())
def test_crafted_updates_are_judged_alike(update):
    event(verdict(_CRAFT_BASE.v, update, _CRAFT_BASE.sdoc))
    out = agree(_CRAFT_BASE.v, update, _CRAFT_BASE.sdoc)
    if isinstance(out, Checked):  # commit on a copy of the room's tables
        v = UpdateValidator()
        v._t, v._epoch = _copy_tables(_CRAFT_BASE.v), out.epoch
        v.commit(out)


def _copy_tables(v: UpdateValidator):
    t = type(v._t)()
    for name in t.__slots__:
        setattr(t, name, getattr(v._t, name).copy())
    return t


def _hostile() -> list[bytes]:
    out = [u for u, _ in MALFORMED]
    out += [Y.update({C: (0, Y.stroke_structs("s", at=(C, 0), **over))}) for over, _ in BAD_VALUES]
    out += [chain(3000), bytes([117, 1]) * 1000]
    deep = bytes([117, 1]) * 2000 + bytes([126])
    out.append(Y.update({C: (0, [Y.item(Y.vu(1) + deep, 8, parent_key="meta", sub="background")])}))
    n = 300  # children written before their parents
    s0 = Y.item(Y.map_type(), 7, parent_key="strokes")
    kids = {
        C + 1 + i: (0, [Y.item(Y.map_type(), 7, parent_id=(C + 2 + i, 0) if i < n - 1 else (C, 0), sub="k")])
        for i in range(n)
    }
    out.append(Y.update({**kids, C: (0, [s0])}))
    out += [
        Y.update({C: (0, [bytes([0]) + Y.vu(2**40)])}),
        Y.update({C: (5, Y.stroke_structs("s", at=(C, 5)))}),
        Y.update({C: (0, [Y.item(Y.any_content(0.5), 8, parent_id=(99, 3), sub="x")])}),
        Y.update({}, {C: [(0, 4)]}),
        Y.update({C: (0, Y.stroke_structs("s", at=(C, 0))[:-3])}),
        Y.update({C: (0, Y.stroke_structs("s", at=(C, 0)) + Y.stroke_structs("s", at=(C, 13)))}),
        Y.update({C: (0, [Y.item(Y.any_content(1), 8, parent_key="meta")])}),
        Y.update({C: (0, [Y.item(Y.any_content(1), 8, parent_key="strokes", sub="k")])}),
        Y.update({C: (0, [Y.item(Y.any_content(3), 8, parent_key="meta", sub="version")])}),
        Y.update({C: (0, [Y.item(Y.any_content("x"), 8, parent_key="meta", sub="colour")])}),
        Y.update({C: (0, [Y.item(Y.any_content({"a": 1}), 8, parent_key="strokes")])}),
        Y.update({C: (0, [Y.item(Y.vu(0), 7, parent_key="strokes")])}),
    ]
    out += [
        Y.update({C: (0, [Y.item(Y.any_content(1), 8, parent_key=name, sub="k")])})
        for name in ("other", "awareness", "Strokes")
    ]
    text = Doc()
    text.get("strokes", type=Text).insert(0, "hello")
    out.append(text.get_update())
    # changes of an existing stroke (client C, clocks 0..12), as test_changes_of_existing_strokes makes them
    out += [
        Y.update({D: (0, [Y.item(Y.any_content(0.25), 8, origin=(C, 3))])}, {C: [(3, 1)]}),
        Y.update({D: (0, [Y.item(Y.any_content("t"), 8, origin=(C, 1))])}, {C: [(1, 1)]}),
        Y.update({}, {C: [(4, 1)]}),
        Y.update({D: (0, [Y.item(Y.map_type(), 7, origin=(C, 3))])}, {C: [(3, 1)]}),
        Y.update({D: (0, Y.stroke_structs("s", at=(D, 0)))}),
        Y.update({}, {C: [(0, 13)]}),
        Y.update({}, {C: [(0, 12)]}),
    ]
    return out


HOSTILE = _hostile()


@pytest.mark.parametrize("i", range(len(HOSTILE)))
def test_crafted_attacks_are_judged_alike(i):
    update = HOSTILE[i]
    agree(UpdateValidator(), update)
    room = Room()
    room.feed(Y.update({C: (0, Y.stroke_structs("s", at=(C, 0)))}), fast=True)
    agree(room.v, update, room.sdoc)
    # the refusal says the same whichever way is asked first
    fast, slow = UpdateValidator(fast=True), UpdateValidator(fast=False)
    try:
        slow.check(update)
    except UpdateRejected as e:
        with pytest.raises(type(e)) as got:
            fast.check(update)
        assert str(got.value) == str(e)


# ------------------------------------------------------------ the parts
@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=12))
def test_utf8_is_read_as_python_reads_it(data):
    buf = np.frombuffer(data, np.uint8)
    try:
        want = len(data.decode("utf-8"))
    except UnicodeDecodeError:
        want = -1
    assert K.utf8_chars(buf, 0, len(data)) == want


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=8, max_size=8))
def test_floats_are_read_as_python_reads_them(bits):
    for tag, fmt, raw in ((123, ">d", bits), (124, ">f", bits[:4])):
        (want,) = struct.unpack(fmt, raw)
        kind, _, got = K._number(np.frombuffer(bytes([tag]) + raw, np.uint8), 0)
        assert kind == 2
        assert got == want or (math.isnan(got) and math.isnan(want))
        assert math.copysign(1, got) == math.copysign(1, want)


def test_a_stroke_costs_the_tables_almost_nothing():
    sizes = []
    for n in (1000, 8000):
        d = StrokeDoc(author="a")
        d.add_many(np.full((n, 8), 0.3))
        for _ in range(20):  # and strokes added one by one
            d.add([0.4] * 8)
        v = UpdateValidator()
        v.commit(v.check(d.doc.get_update()))
        sizes.append(v.nbytes())
    assert sizes[1] == sizes[0] < 2000  # nothing per stroke: map-then-keys strokes are one run


def test_a_valid_update_never_reaches_the_python_path(monkeypatch):
    d = StrokeDoc(author="a")
    d.add_many(np.full((3, 8), 0.3))
    v = UpdateValidator(fast=True)
    monkeypatch.setattr(v, "_check_python", lambda *a: pytest.fail("the Python path was asked"))
    v.commit(v.check(d.doc.get_update()))
    assert v.clock_of(d.doc.client_id) == 39


def test_a_commit_must_follow_its_check():
    v = UpdateValidator()
    a = v.check(Y.update({C: (0, Y.stroke_structs("s", at=(C, 0)))}))
    b = v.check(Y.update({D: (0, Y.stroke_structs("t", at=(D, 0)))}))
    v.commit(a)
    with pytest.raises(ValueError, match="changed since"):
        v.commit(b)


@pytest.mark.parametrize("second, ok", [(0.75, True), (1.5, False), ("x", False)])
def test_known_heads_of_structs_are_cut_alike(second, ok):
    room = Room()
    room.feed(Y.update({D: (0, Y.stroke_structs("s", at=(D, 0)) + [bytes([0]) + Y.vu(5)])}), fast=True)
    room.feed(Y.update({D: (18, [Y.item(Y.any_content(0.25), 8, parent_id=(D, 0), sub="x")])}), fast=True)
    # the item at 18 again, now with a second value: the room has its head, the tail is x's next value
    both = Y.update({D: (18, [Y.item(Y.any_content(0.25, second), 8, parent_id=(D, 0), sub="x")])})
    out = room.feed(both, fast=True, apply=False)
    assert isinstance(out, Checked) == ok
    if ok:
        assert out.records[:, 1:].tolist() == [[19, 1, K.T_FIELD + STROKE_KEYS.index("x"), D_INDEX << 32]]
        room.model.check(room.v)
    # a GC run longer than the one the room has
    out = room.feed(Y.update({D: (13, [bytes([0]) + Y.vu(9)])}), fast=True, apply=False)
    assert out.records[:, 1:].tolist() == [[19 + ok, 3 - ok, K.T_OTHER, 0]]
