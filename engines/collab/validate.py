"""Checks a Yjs update against the painting schema before the CRDT library sees it.

The room server never hands bytes from a client to pycrdt (yrs) unchecked: a
well-formed update can describe types nested thousands deep (the Rust stack
overflows when such a document is read back), claim 2^28 clients in eight bytes
(yrs reserves memory for them), depend on changes the server does not have
(yrs parks them, and they come alive later, unchecked), or write any top-level
name. :class:`UpdateValidator` parses a Yjs v1 update with explicit bounds and no
recursion, works out where every new item lands, and accepts only what
``docs/collab-schema.md`` allows:

* ``strokes`` (an array): each entry a map (a stroke), created in one update
  with every key of :data:`~engines.collab.schema.STROKE_KEYS` set to a valid
  value, its ``id`` not used by a live stroke; later changes set one of the
  mutable keys (``id`` and ``author`` never change); removing a stroke deletes
  the entry;
* ``meta`` (a map): ``format``, ``version`` and ``background`` with values of
  their type; a value is replaced, never removed on its own;
* nothing else: no other top-level name, no other nested type, no text, binary,
  embedded or sub-document content.

Every count an update claims is checked against the bytes that remain before
anything is sized by it, nesting of values is bounded (depth
:attr:`Budget.max_any_depth`), and a client's clock may not pass
:attr:`Budget.max_clock`. Items may refer only to items the room already has or
that come in the same update.

To place items it has to remember, per client, which kind of item sits at each
clock: run-length tables in numpy arrays, where the 13 items of a stroke written
map first, keys after (as clients write them) need no run of their own (see
:mod:`engines.collab._validate_kernel`). A room builds them from its stored
updates with the same checks (:meth:`UpdateValidator.check` then
:meth:`UpdateValidator.commit`), so a damaged or hostile row in a store is found
at load time, by row. The schema's value rules are the ones
:func:`engines.collab.schema.fields_to_stroke` applies.

Two paths check an update against the same tables: a compiled one (numba, the
whole update in one call, about 100 times faster), which accepts or hands the
update to the Python one; and the Python one, the reference, which says why an
update is refused. Updates of :data:`FAST_MIN_BYTES` or more go the compiled
way, and all of them once it is loaded (:func:`warm_up`).
"""

from __future__ import annotations

import math
import struct
from bisect import bisect_right
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engines.painting.strokes import FORMAT_NAME, MIN_SIZE, PARAM_NAMES

from . import _validate_kernel as _K

__all__ = [
    "replay_rows",
    "Budget",
    "UpdateRejected",
    "MalformedUpdate",
    "UpdateValidator",
    "Checked",
    "check_state_vector",
]

STROKES = "strokes"
META = "meta"
STROKE_KEYS = ("id", "author", *PARAM_NAMES, "opacity", "clock")
META_KEYS = ("format", "version", "background")
#: keys of a stroke that may change after it is made
MUTABLE_KEYS = frozenset((*PARAM_NAMES, "opacity", "clock"))
MAX_TEXT = 200

# content references (the low five bits of an item's info byte)
_GC, _DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = range(11)
_CONTENT_NAMES = {
    _JSON: "JSON content",
    _BINARY: "binary content",
    _STRING: "text content",
    _EMBED: "embedded content",
    _FORMAT: "text formatting",
    _DOC: "a sub-document",
}
_TYPE_MAP = 1
_TYPE_NAMES = {
    0: "array",
    1: "map",
    2: "text",
    3: "XML element",
    4: "XML fragment",
    5: "XML hook",
    6: "XML text",
}

# what the validator remembers of an item (its "tag"; see _validate_kernel)
_T_OTHER = _K.T_OTHER  # GC'd, or content that no item can live under
_T_STROKE = _K.T_STROKE  # a stroke map in ``strokes``
_T_ENTRY = _K.T_ENTRY  # another (deleted) entry of ``strokes``
_T_BLOCK = _K.T_BLOCK  # (tables only) whole strokes, map then keys
_T_META = _K.T_META  # + key index: a value of ``meta``
_T_FIELD = _K.T_FIELD  # + key index: a value in a stroke map (ref: the map)
#: below this size an update goes the Python way until the compiled check is loaded
FAST_MIN_BYTES = 2048

_MISSING = object()
_KEYS: dict[bytes, str] = {}


class UpdateRejected(ValueError):
    """An update the room does not accept; the message says why (no bytes of it are applied)."""


class MalformedUpdate(UpdateRejected):
    """Bytes that are not a Yjs update (or claim more than they hold)."""


@dataclass(frozen=True)
class Budget:
    """Bounds on one update (and on a room's clocks)."""

    #: largest update (bytes)
    max_bytes: int = 8 * 1024 * 1024
    #: deepest nesting of arrays and objects inside a value
    max_any_depth: int = 8
    #: a client's clock may not pass this (yrs counts clocks in 32 bits)
    max_clock: int = 2**31
    #: most distinct clients a room remembers
    max_clients: int = 1 << 20

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_any_depth", "max_clock", "max_clients"):
            if getattr(self, name) < 1:
                raise ValueError(f"Budget.{name} = {getattr(self, name)!r}: must be >= 1")


# ------------------------------------------------------------------ reading
class _Reader:
    """lib0 decoding with every length checked against what remains."""

    __slots__ = ("buf", "pos", "n")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0
        self.n = len(buf)

    def left(self) -> int:
        return self.n - self.pos

    def byte(self) -> int:
        if self.pos >= self.n:
            raise MalformedUpdate("truncated update")
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def uint(self) -> int:
        buf, pos, n = self.buf, self.pos, self.n
        out = 0
        shift = 0
        while True:
            if pos >= n:
                raise MalformedUpdate("truncated number")
            b = buf[pos]
            pos += 1
            out |= (b & 0x7F) << shift
            if b < 0x80:
                if out >> 64:
                    # yrs keeps the low 64 bits: client 2^64 + 7 would be client 7 to the document
                    raise MalformedUpdate("number too long")
                self.pos = pos
                return out
            shift += 7
            if shift > 63:
                raise MalformedUpdate("number too long")

    def count(self, what: str, min_bytes_each: int) -> int:
        """A count of things that follow, each taking at least ``min_bytes_each`` bytes."""
        k = self.uint()
        if k * min_bytes_each > self.left():
            raise MalformedUpdate(f"claims {k} {what} in {self.left()} remaining bytes")
        return k

    def int_(self) -> int:
        # lib0 varInt: sign in bit 6 of the first byte
        b = self.byte()
        neg = b & 0x40
        out = b & 0x3F
        shift = 6
        while b & 0x80:
            b = self.byte()
            out |= (b & 0x7F) << shift
            shift += 7
            if shift > 70:
                raise MalformedUpdate("number too long")
        return -out if neg else out

    def raw(self, k: int) -> bytes:
        if k > self.left():
            raise MalformedUpdate(f"length {k} runs past the end of the update")
        out = self.buf[self.pos : self.pos + k]
        self.pos += k
        return out

    def bytes_(self) -> bytes:
        return self.raw(self.uint())

    def string(self) -> str:
        b = self.bytes_()
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedUpdate("text is not UTF-8") from None

    def key(self) -> str:
        """A short text that repeats (map keys, top-level names): decoded once."""
        b = self.bytes_()
        k = _KEYS.get(b)
        if k is None:
            try:
                k = b.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedUpdate("text is not UTF-8") from None
            if len(_KEYS) < 4096:
                _KEYS[b] = k
        return k

    def any_(self, max_depth: int) -> Any:
        """One lib0 ``Any`` value, nested at most ``max_depth`` deep, read without recursion."""
        # stack of [container, remaining, pending key (objects)]
        stack: list[list[Any]] = []
        result: Any = _MISSING
        while True:
            tag = self.byte()
            if tag == 119:
                v: Any = self.string()
            elif tag == 125:
                v = self.int_()
            elif tag == 123:
                (v,) = struct.unpack(">d", self.raw(8))
            elif tag == 124:
                (v,) = struct.unpack(">f", self.raw(4))
            elif tag == 120:
                v = True
            elif tag == 121:
                v = False
            elif tag in (126, 127):
                v = None
            elif tag == 122:
                v = int.from_bytes(self.raw(8), "big", signed=True)
            elif tag == 116:
                v = bytes(self.bytes_())
            elif tag in (117, 118):
                if len(stack) >= max_depth:
                    raise MalformedUpdate(f"a value nested deeper than {max_depth}")
                k = self.count("values", 1 if tag == 117 else 2)
                frame: list[Any] = [[] if tag == 117 else {}, k, None]
                stack.append(frame)
                if tag == 118 and k:
                    frame[2] = self.string()
                if k:
                    continue
                v = stack.pop()[0]
            else:
                raise MalformedUpdate(f"unknown value type {tag}")
            # hand v to its container, closing finished containers
            while True:
                if not stack:
                    return v
                frame = stack[-1]
                c = frame[0]
                if type(c) is list:
                    c.append(v)
                else:
                    c[frame[2]] = v
                frame[1] -= 1
                if frame[1]:
                    if type(c) is dict:
                        frame[2] = self.string()
                    break
                v = stack.pop()[0]
        return result  # pragma: no cover


def check_state_vector(sv: bytes, budget: Budget = Budget()) -> dict[int, int]:
    """Decode a state vector (SyncStep1) with its claims checked; raises UpdateRejected."""
    r = _Reader(sv)
    n = r.count("clients", 2)
    out = {}
    for _ in range(n):
        client = r.uint()
        clock = r.uint()
        if clock > budget.max_clock:
            raise MalformedUpdate(f"clock {clock} above {budget.max_clock}")
        out[client] = clock
    if r.left():
        raise MalformedUpdate(f"{r.left()} trailing byte(s) after the state vector")
    return out


# ------------------------------------------------------------ the structs
class _Struct:
    """One struct of an update (GC or item), as read; ``tag`` and ``ref`` say where it lives."""

    __slots__ = (
        "client", "clock", "length", "content", "origin", "right", "parent_key", "parent_id", "sub",
        "type_ref", "value", "tag", "ref",
    )  # fmt: skip

    def __init__(self, client: int, clock: int, length: int, content: int) -> None:
        self.client, self.clock, self.length, self.content = client, clock, length, content
        self.origin: tuple[int, int] | None = None
        self.right: tuple[int, int] | None = None
        self.parent_key: str | None = None  # a top-level name
        self.parent_id: tuple[int, int] | None = None
        self.sub: str | None = None  # the map key (when written)
        self.type_ref = -1
        self.value: Any = _MISSING
        self.tag = -1
        self.ref = 0


@dataclass
class _Work:
    """An update being checked by the Python path."""

    #: new structs per client (clock order), only their parts the room did not have
    news: dict[int, list[_Struct]] = field(default_factory=dict)
    #: (client, clock, length) deleted
    deletes: list[tuple[int, int, int]] = field(default_factory=list)
    #: (client, clock, length) of values the room has already (a re-sent update)
    resent: list[tuple[int, int, int]] = field(default_factory=list)
    #: packed ids of the stroke maps the update removes
    dead: set[int] = field(default_factory=set)
    new_ids: list[str] = field(default_factory=list)


_NO_ROWS = np.zeros((0, 5), np.int64)
_NO_INTS = np.zeros(0, np.int64)


@dataclass
class Checked:
    """An update that passed :meth:`UpdateValidator.check`; :meth:`UpdateValidator.commit` records it."""

    #: ids of the strokes the update adds (in update order)
    new_ids: list[str] = field(default_factory=list)
    #: True when the update changes nothing the room does not have
    empty: bool = True
    #: clients with new structs (their ids as int64), in update order
    clients: np.ndarray = field(default_factory=lambda: _NO_INTS)
    #: one row per new struct, clock order per client: (position in ``clients``, clock, length, tag, ref)
    records: np.ndarray = field(default_factory=lambda: _NO_ROWS)
    #: packed ids of the stroke maps the update removes (sorted)
    dead: np.ndarray = field(default_factory=lambda: _NO_INTS)
    #: the validator's count of commits when it was checked (a commit must come next)
    epoch: int = 0


def _key(client: int) -> int:
    """A client id's 64 bits as an int64 (the tables' key)."""
    return client - (1 << 64) if client >= 1 << 63 else client


class _Tables:
    """The room's tables in numpy arrays (layout: :mod:`engines.collab._validate_kernel`).

    Only the compiled :func:`~engines.collab._validate_kernel.commit_records` writes them;
    the Python path reads them here, the compiled check reads them itself.
    """

    __slots__ = ("meta", "h_keys", "h_vals", "cl", "r_start", "r_tag", "r_ref", "d_keys")

    def __init__(self) -> None:
        self.meta = np.zeros(4, np.int64)
        self.h_keys = np.zeros(16, np.int64)
        self.h_vals = np.full(16, -1, np.int64)
        self.cl = np.zeros((8, 4), np.int64)
        self.r_start = np.zeros(64, np.int64)
        self.r_tag = np.zeros(64, np.int8)
        self.r_ref = np.zeros(64, np.int64)
        self.d_keys = np.full(16, -1, np.int64)

    @property
    def n_clients(self) -> int:
        return int(self.meta[_K.M_CLIENTS])

    def index(self, client: int) -> int:
        """The client's index in the tables, or -1."""
        key = _key(client)
        keys, vals = self.h_keys, self.h_vals
        mask = len(keys) - 1
        i = _K.hash_slot(key, mask)
        while True:
            v = int(vals[i])
            if v < 0:
                return -1
            if keys[i] == key:
                return v
            i = (i + 1) & mask

    def end(self, c: int) -> int:
        return int(self.cl[c, 3]) if c >= 0 else 0

    def _decode(self, c: int, j: int, clock: int) -> tuple[int, int]:
        tag = int(self.r_tag[j])
        if tag == _T_BLOCK:
            o = (clock - int(self.r_start[j])) % _K.BLOCK_LEN
            return (_T_STROKE, 0) if o == 0 else (_T_FIELD + o - 1, (c << 32) | (clock - o))
        return tag, int(self.r_ref[j])

    def _first_run(self, c: int, clock: int) -> int:
        base, n = int(self.cl[c, 0]), int(self.cl[c, 1])
        i = int(np.searchsorted(self.r_start[base : base + n], clock, "right")) - 1
        return base + max(i, 0)

    def at(self, c: int, clock: int) -> tuple[int, int]:
        """(tag, ref) of clock ``clock`` (below the client's end) of client index ``c``."""
        return self._decode(c, self._first_run(c, clock), clock)

    def spans(self, c: int, clock: int, length: int):
        """(tag, ref, start, end) of the items [clock, clock + length) of client index ``c``."""
        end = clock + length
        i = self._first_run(c, clock)
        last = int(self.cl[c, 0] + self.cl[c, 1])
        while i < last and self.r_start[i] < end:
            s0 = int(self.r_start[i])
            lo, hi = (
                max(s0, clock),
                min(int(self.r_start[i + 1]) if i + 1 < last else int(self.cl[c, 3]), end),
            )
            if self.r_tag[i] == _T_BLOCK:
                for k in range(lo, hi):
                    yield (*self._decode(c, i, k), k, k + 1)
            else:
                yield int(self.r_tag[i]), int(self.r_ref[i]), lo, hi
            i += 1

    def is_dead(self, ref: int) -> bool:
        keys = self.d_keys
        mask = len(keys) - 1
        i = _K.hash_slot(ref, mask)
        while True:
            k = int(keys[i])
            if k == ref:
                return True
            if k < 0:
                return False
            i = (i + 1) & mask

    def commit(self, clients: np.ndarray, records: np.ndarray, dead: np.ndarray) -> None:
        (self.h_keys, self.h_vals, self.cl, self.r_start, self.r_tag, self.r_ref, self.d_keys) = (
            _K.commit_records(
                self.meta, self.h_keys, self.h_vals, self.cl, self.r_start, self.r_tag, self.r_ref,
                self.d_keys, clients, records, dead,
            )
        )  # fmt: skip

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.__slots__)


def _unit(v: Any) -> bool:
    return type(v) in (int, float) and 0.0 <= v <= 1.0


def _text(v: Any) -> bool:
    return type(v) is str and 0 < len(v) <= MAX_TEXT


def _stroke_value_ok(key: str, v: Any) -> str:
    """'' when ``v`` is a valid value of stroke key ``key``, else why not."""
    if key in ("id", "author"):
        return "" if _text(v) else f"must be text of 1 to {MAX_TEXT} characters"
    if key == "clock":
        if type(v) is float and math.isfinite(v) and v == int(v):
            v = int(v)
        return "" if type(v) is int and 0 <= v < 2**53 else "must be an integer >= 0"
    if not _unit(v):
        return "must be a number in [0, 1]"
    if key in ("w", "h") and v < MIN_SIZE:
        return f"must be at least {MIN_SIZE}"
    return ""


def _meta_value_ok(key: str, v: Any) -> str:
    if key == "format":
        return "" if v == FORMAT_NAME else f"must be {FORMAT_NAME!r}"
    if key == "version":
        return "" if type(v) in (int, float) and v == 1 else "must be 1"
    if type(v) is list and len(v) == 3 and all(_unit(c) for c in v):
        return ""
    return "must be [r, g, b] with each channel in [0, 1]"


class UpdateValidator:
    """The painting schema's gate for one room (see the module doc).

    ``check(update, live_ids)`` raises :class:`UpdateRejected` or returns a
    :class:`Checked`; ``commit(checked)`` records it once the update has been
    applied. ``absorb(update)`` records an update of the server's own (trusted).
    """

    def __init__(self, budget: Budget | None = None, *, fast: bool | None = None) -> None:
        self.budget = budget or Budget()
        #: None: the compiled check for updates of FAST_MIN_BYTES or more, and for all once it is
        #: loaded; True: always; False: never (the Python path, the reference)
        self.fast = fast
        self._t = _Tables()
        self._epoch = 0
        # client -> the index commit will give it (clients new to the room, during a check)
        self._prov: dict[int, int] = {}
        b = self.budget
        # packs (client index << 32 | clock) and the kernel's (pack << 4 | key) must fit in 63 bits
        self._fast_ok = b.max_clock <= 2**32 and b.max_clients <= 2**26

    # ------------------------------------------------------------ queries
    def clock_of(self, client: int) -> int:
        return self._t.end(self._t.index(client))

    def nbytes(self) -> int:
        """Memory held by the tables (bytes allocated)."""
        return self._t.nbytes()

    def _pack(self, client: int, clock: int) -> int:
        i = self._t.index(client)
        if i < 0:
            i = self._prov[client]
        return (i << 32) | clock

    # ------------------------------------------------------------- check
    def check(self, update: bytes, live_ids: Container[str] = (), *, trusted: bool = False) -> Checked:
        """Parse and place ``update``; raise :class:`UpdateRejected` if the schema does not allow it."""
        b = self.budget
        if len(update) > b.max_bytes:
            raise UpdateRejected(f"update of {len(update)} bytes (at most {b.max_bytes})")
        data = bytes(update)
        if self._fast_ok and self.fast is not False:
            if self.fast or len(data) >= FAST_MIN_BYTES or fast_path_ready():
                out = self._check_fast(data, live_ids, trusted)
                if out is not None:
                    return out
        return self._check_python(data, live_ids, trusted)

    def _check_fast(self, data: bytes, live_ids: Container[str], trusted: bool) -> Checked | None:
        """The compiled check; None where the Python path must say (a refusal, or rare content)."""
        t, b = self._t, self.budget
        status, clients, records, dead, spans, n_deletes = _K.check_update(
            np.frombuffer(data, np.uint8), b.max_any_depth, b.max_clock, b.max_clients,
            t.meta, t.h_keys, t.h_vals, t.cl, t.r_start, t.r_tag, t.r_ref, t.d_keys,
        )  # fmt: skip
        if status != _K.ACCEPT:
            return None
        new_ids = [data[a:z].decode() for a, z in spans.tolist()]
        if len(set(new_ids)) != len(new_ids):
            return None
        if not trusted and any(sid in live_ids for sid in new_ids):
            return None
        return Checked(
            new_ids=new_ids,
            empty=not len(clients) and not n_deletes,
            clients=clients,
            records=records,
            dead=dead,
            epoch=self._epoch,
        )

    def _check_python(self, data: bytes, live_ids: Container[str], trusted: bool) -> Checked:
        """The reference: every step in Python, with the error that says why."""
        b = self.budget
        r = _Reader(data)
        structs = self._read_structs(r)
        deletes = self._read_deletes(r)
        if r.left():
            raise MalformedUpdate(f"{r.left()} trailing byte(s)")
        out = _Work(deletes=deletes)
        # keep only what the room does not have yet
        for client, lst in structs.items():
            have = self.clock_of(client)
            if lst[0].clock > have:
                raise UpdateRejected(
                    f"client {client}: starts at clock {lst[0].clock}, the room has {have}: "
                    "depends on changes the room does not have"
                )
            news = []
            for s in lst:
                if s.clock + s.length <= have:
                    if s.content == _ANY:
                        out.resent.append((client, s.clock, s.length))
                    continue
                if s.clock < have:  # the known head of a run: keep its new tail
                    cut = have - s.clock
                    if s.content in (_ANY, _JSON) and isinstance(s.value, list):
                        s.value = s.value[cut:]
                    s.origin = (client, have - 1)
                    s.clock, s.length = have, s.length - cut
                news.append(s)
            if news:
                if news[-1].clock + news[-1].length > b.max_clock:
                    raise UpdateRejected(f"client {client}: clock above {b.max_clock}")
                out.news[client] = news
        n_known = self._t.n_clients
        if n_known + len(out.news) > b.max_clients:
            raise UpdateRejected(f"more than {b.max_clients} clients in one room")
        # clients new to the room get their index at commit, in this order
        self._prov = {}
        for client in out.news:
            if self._t.index(client) < 0:
                self._prov[client] = n_known + len(self._prov)
        try:
            self._place(out.news)
            self._check_schema(out, live_ids, trusted)
        finally:
            self._prov = {}
        rows = [(j, s.clock, s.length, s.tag, s.ref) for j, lst in enumerate(out.news.values()) for s in lst]
        return Checked(
            new_ids=out.new_ids,
            empty=not out.news and not out.deletes,
            clients=np.array([_key(c) for c in out.news], np.int64),
            records=np.array(rows, np.int64).reshape(-1, 5),
            dead=np.array(sorted(out.dead), np.int64),
            epoch=self._epoch,
        )

    def _read_structs(self, r: _Reader) -> dict[int, list[_Struct]]:
        depth = self.budget.max_any_depth
        n_clients = r.count("clients", 3)
        out: dict[int, list[_Struct]] = {}
        for _ in range(n_clients):
            n = r.count("structs", 2)
            client = r.uint()
            clock = r.uint()
            if client in out:
                raise MalformedUpdate(f"client {client} written twice")
            lst: list[_Struct] = []
            for _ in range(n):
                info = r.byte()
                ref = info & 0x1F
                if ref == _GC:
                    s = _Struct(client, clock, r.uint(), _GC)
                elif ref == _SKIP:
                    raise UpdateRejected("the update has gaps (skip structs)")  # well-formed, refused
                else:
                    s = _Struct(client, clock, 1, ref)
                    if info & 0x80:
                        s.origin = (r.uint(), r.uint())
                    if info & 0x40:
                        s.right = (r.uint(), r.uint())
                    if not info & 0xC0:
                        flag = r.uint()
                        if flag > 1:
                            # Yjs writes 1 (a top-level name) or 0 (an item id); yrs reads this
                            # number as 32 bits, so 2^32 + 1 would be a name to it and an id here
                            raise MalformedUpdate(f"parent flag {flag} (0 or 1)")
                        if flag == 1:
                            s.parent_key = r.key()
                        else:
                            s.parent_id = (r.uint(), r.uint())
                        if info & 0x20:
                            s.sub = r.key()
                    if ref == _DELETED:
                        s.length = r.uint()
                    elif ref == _ANY:
                        k = r.count("values", 1)
                        s.value = [r.any_(depth) for _ in range(k)]
                        s.length = k
                    elif ref == _TYPE:
                        s.type_ref = r.uint()
                        if s.type_ref not in _TYPE_NAMES:
                            raise MalformedUpdate(f"unknown type {s.type_ref}")
                        if s.type_ref in (3, 5):
                            r.string()
                    elif ref == _JSON:
                        k = r.count("values", 1)
                        for _ in range(k):
                            r.bytes_()
                        s.length = k
                    elif ref in (_BINARY, _STRING, _EMBED):
                        r.bytes_()
                    elif ref == _FORMAT:
                        r.bytes_()
                        r.bytes_()
                    elif ref == _DOC:
                        r.bytes_()
                        r.any_(depth)
                    else:
                        raise MalformedUpdate(f"unknown content type {ref}")
                if s.length < 1:
                    raise MalformedUpdate(f"client {client}: a struct of length {s.length}")
                clock += s.length
                if clock > self.budget.max_clock:
                    raise UpdateRejected(f"client {client}: clock above {self.budget.max_clock}")
                lst.append(s)
            if lst:
                out[client] = lst
        return out

    def _read_deletes(self, r: _Reader) -> list[tuple[int, int, int]]:
        out = []
        n_clients = r.count("clients in the delete set", 2)
        for _ in range(n_clients):
            client = r.uint()
            n = r.count("delete ranges", 2)
            for _ in range(n):
                clock = r.uint()
                length = r.uint()
                if length < 1 or clock + length > self.budget.max_clock:
                    raise MalformedUpdate(f"delete range ({client}, {clock}, {length}) out of bounds")
                out.append((client, clock, length))
        return out

    # ----------------------------------------------------------- placing
    def _place(self, news: dict[int, list[_Struct]]) -> None:
        """Work out each new struct's tag (where it lives), without recursion."""
        starts = {c: [s.clock for s in lst] for c, lst in news.items()}

        def new_at(idt: tuple[int, int]) -> _Struct | None:
            lst = news.get(idt[0])
            if lst is None:
                return None
            i = bisect_right(starts[idt[0]], idt[1]) - 1
            if i < 0:
                return None
            s = lst[i]
            return s if idt[1] < s.clock + s.length else None

        def deps(s: _Struct) -> list[tuple[int, int]]:
            if s.content == _GC:
                return []
            if s.origin is not None or s.right is not None:
                return [x for x in (s.origin, s.right) if x is not None]
            return [s.parent_id] if s.parent_id is not None else []

        def known(idt: tuple[int, int]) -> tuple[int, int]:
            """(tag, ref) of an item the room has or that this update places."""
            s = new_at(idt)
            if s is not None:
                return s.tag, s.ref
            c = self._t.index(idt[0])
            if c < 0 or idt[1] >= self._t.end(c):
                raise UpdateRejected(f"refers to item {idt}, which the room does not have")
            return self._t.at(c, idt[1])

        for lst in news.values():
            for s0 in lst:
                if s0.tag >= 0:
                    continue
                for d in deps(s0):
                    t = new_at(d)
                    if t is not None and t.tag < 0:
                        break
                else:  # everything it refers to is placed already (the usual order)
                    self._tag(s0, known)
                    continue
                stack = [s0]
                onstack = {id(s0)}
                while stack:
                    s = stack[-1]
                    pending = None
                    for d in deps(s):
                        t = new_at(d)
                        if t is not None and t.tag < 0:
                            if id(t) in onstack:
                                raise UpdateRejected(f"item ({s.client}, {s.clock}) refers to itself")
                            pending = t
                            break
                    if pending is not None:
                        stack.append(pending)
                        onstack.add(id(pending))
                        continue
                    self._tag(s, known)
                    stack.pop()
                    onstack.discard(id(s))

    def _tag(self, s: _Struct, known: Callable[[tuple[int, int]], tuple[int, int]]) -> None:
        where = f"item ({s.client}, {s.clock})"
        if s.content == _GC:
            s.tag = _T_OTHER
            return
        if s.content in _CONTENT_NAMES:
            raise UpdateRejected(f"{where}: {_CONTENT_NAMES[s.content]} is not part of the painting schema")
        # where does it live?
        if s.origin is not None or s.right is not None:
            places = {self._parent_of(*known(x)) for x in (s.origin, s.right) if x is not None}
            if len(places) != 1:
                raise UpdateRejected(f"{where}: its neighbours live in different places")
            (place,) = places
        elif s.parent_key is not None:
            if s.parent_key == STROKES and s.sub is None:
                place = (STROKES, None, 0)
            elif s.parent_key == META and s.sub is not None:
                place = (META, s.sub, 0)
            else:
                raise UpdateRejected(
                    f"{where}: top-level {s.parent_key!r}{' key ' + repr(s.sub) if s.sub else ''} "
                    "is not part of the painting schema (only 'strokes' entries and 'meta' keys)"
                )
        else:
            ptag, _ = known(s.parent_id)
            if ptag != _T_STROKE or s.sub is None:
                if ptag == _T_OTHER and s.content in (_ANY, _DELETED):
                    s.tag = _T_OTHER  # a value under a collected stroke: yrs drops it
                    return
                raise UpdateRejected(f"{where}: its parent {s.parent_id} is not a stroke map")
            place = ("stroke", s.sub, self._pack(*s.parent_id))
        kind, key, ref = place
        if kind is None:  # next to a collected item: yrs drops it
            if s.content not in (_ANY, _DELETED):
                raise UpdateRejected(f"{where}: a nested type next to a removed item")
            s.tag = _T_OTHER
            return
        if kind == STROKES:
            if s.content == _TYPE and s.type_ref == _TYPE_MAP:
                s.tag = _T_STROKE
            elif s.content == _DELETED:
                s.tag = _T_ENTRY
            else:
                what = _TYPE_NAMES.get(s.type_ref, "a type") if s.content == _TYPE else "a plain value"
                raise UpdateRejected(f"{where}: a 'strokes' entry must be a map, not {what}")
            return
        keys = META_KEYS if kind == META else STROKE_KEYS
        if key not in keys:
            raise UpdateRejected(f"{where}: {kind} key {key!r} is not part of the schema")
        if s.content == _ANY:
            if len(s.value) != 1:
                raise UpdateRejected(f"{where}: {kind} key {key!r} holds {len(s.value)} values")
            why = (_meta_value_ok if kind == META else _stroke_value_ok)(key, s.value[0])
            if why:
                raise UpdateRejected(f"{where}: {kind}.{key} = {s.value[0]!r:.60}: {why}")
        elif s.content != _DELETED:
            raise UpdateRejected(f"{where}: {kind} key {key!r} must hold a plain value, not a type")
        if kind == META:
            s.tag, s.ref = _T_META + META_KEYS.index(key), 0
        else:
            s.tag, s.ref = _T_FIELD + STROKE_KEYS.index(key), ref

    @staticmethod
    def _parent_of(tag: int, ref: int) -> tuple[str | None, str | None, int]:
        if tag in (_T_STROKE, _T_ENTRY):
            return (STROKES, None, 0)
        if _T_META <= tag < _T_FIELD:
            return (META, META_KEYS[tag - _T_META], 0)
        if tag >= _T_FIELD:
            return ("stroke", STROKE_KEYS[tag - _T_FIELD], ref)
        return (None, None, 0)

    # ------------------------------------------------------------ schema
    def _delete_ranges(
        self, out: _Work
    ) -> tuple[dict[int, list[tuple[int, int]]], Callable[[int, int], bool]]:
        """The ranges ``out`` deletes, merged per client, and a test of whether it deletes
        (client, clock); refuses deletes of changes the room does not have."""
        news = out.news
        dels: dict[int, list[tuple[int, int]]] = {}
        for client, clock, length in out.deletes:
            end = self.clock_of(client)
            lst = news.get(client)
            if lst:
                end = lst[-1].clock + lst[-1].length
            if clock + length > end:
                raise UpdateRejected(
                    f"deletes ({client}, {clock}..{clock + length}), which the room does not have"
                )
            dels.setdefault(client, []).append((clock, clock + length))
        for c, v in dels.items():
            v.sort()
            merged: list[tuple[int, int]] = []
            for a, z in v:
                if merged and a <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], z))
                else:
                    merged.append((a, z))
            dels[c] = merged

        def deleted_here(client: int, clock: int) -> bool:
            rs = dels.get(client)
            if not rs:
                return False
            i = bisect_right(rs, (clock, float("inf"))) - 1
            return i >= 0 and rs[i][0] <= clock < rs[i][1]

        return dels, deleted_here

    def _check_schema(self, out: _Work, live_ids: Container[str], trusted: bool) -> None:
        news = out.news
        dels, deleted_here = self._delete_ranges(out)

        # new strokes: complete, valid as a whole, ids unused
        maps: dict[int, dict[str, Any]] = {}
        seen_maps: dict[int, None] = {}  # (ordered: new_ids come in update order)
        changed: set[tuple[int, int]] = set()  # (map ref, key) set to a live value here
        metas: set[int] = set()
        for client, lst in news.items():
            for s in lst:
                if s.tag == _T_STROKE:
                    seen_maps[self._pack(client, s.clock)] = None
                elif s.tag >= _T_FIELD:
                    if s.content == _ANY and not deleted_here(client, s.clock):
                        changed.add((s.ref, s.tag))
                        maps.setdefault(s.ref, {})[STROKE_KEYS[s.tag - _T_FIELD]] = s.value[0]
                elif s.tag >= _T_META and s.content == _ANY and not deleted_here(client, s.clock):
                    metas.add(s.tag)
        for client, clock, length in out.resent:
            # a value sent again (a client re-sending what the room has): it may stand for the
            # value its update set, so deletes that came with it are taken as replacements
            for tag, ref, _, _ in self._spans(client, clock, length, {}):
                if tag >= _T_FIELD:
                    changed.add((ref, tag))
                elif tag >= _T_META:
                    metas.add(tag)
        dead_now: set[int] = set()
        for c, rs in dels.items():
            for a, z in rs:
                for tag, _, lo, hi in self._spans(c, a, z - a, news):
                    if tag == _T_STROKE:  # map items: one clock each, as many as the room has
                        dead_now.update(self._pack(c, k) for k in range(lo, hi))
        ids = []
        for mref in seen_maps:
            if mref in dead_now:
                continue
            vals = maps.get(mref, {})
            missing = [k for k in STROKE_KEYS if k not in vals]
            if missing:
                raise UpdateRejected(f"a new stroke without {', '.join(missing)}")
            ids.append(vals["id"])
        for mref, vals in maps.items():
            if mref in seen_maps:
                continue
            for k in ("id", "author"):
                if k in vals:
                    raise UpdateRejected(f"stroke {k} cannot change")
        if len(set(ids)) != len(ids):
            raise UpdateRejected("two new strokes with one id")
        if not trusted:
            for sid in ids:
                if sid in live_ids:
                    raise UpdateRejected(f"stroke id {sid!r} is in use")
        out.new_ids = ids
        # deletes: a value goes only when its stroke goes or another value replaces it
        for client, rs in dels.items():
            for a, z in rs:
                for tag, ref, _, _ in self._spans(client, a, z - a, news):
                    if tag >= _T_FIELD:
                        if ref in dead_now or self._t.is_dead(ref) or (ref, tag) in changed:
                            continue
                        raise UpdateRejected(
                            f"removes stroke key {STROKE_KEYS[tag - _T_FIELD]!r} without a new value"
                        )
                    # meta values may go: each key is optional (no background: white)
        out.dead = dead_now

    def _spans(self, client: int, clock: int, length: int, news: dict[int, list[_Struct]]):
        """(tag, ref, start, end) of items [clock, clock+length) of a client, old and new."""
        c = self._t.index(client)
        have = self._t.end(c)
        if c >= 0 and clock < have:
            yield from self._t.spans(c, clock, min(length, have - clock))
        end = clock + length
        for s in news.get(client, ()):
            if s.clock < end and s.clock + s.length > clock:
                yield s.tag, s.ref, max(s.clock, clock), min(s.clock + s.length, end)

    # ------------------------------------------------------------ record
    def commit(self, checked: Checked) -> None:
        """Record an update that was checked (the last check since the last commit) and applied."""
        if checked.epoch != self._epoch:
            raise ValueError("commit: the update was checked against tables that have changed since")
        self._t.commit(checked.clients, checked.records, checked.dead)
        self._epoch += 1

    def absorb(self, update: bytes) -> None:
        """Record an update the server made itself (repairs): placed, not judged by the schema."""
        self.commit(self.check(update, trusted=True))


def fast_path_ready() -> bool:
    """Whether the compiled check is loaded in this process (it then checks every update)."""
    return bool(_K.check_update.signatures) and bool(_K.commit_records.signatures)


def warm_up() -> None:
    """Load the compiled check: about 0.5 s from numba's cache; compiling it (once per machine and
    version of the code) takes 10 to 20 s."""
    v = UpdateValidator(fast=True)
    v.commit(v.check(_WARM_UP))


# a stroke written by hand: client 1, clock 0 (see tests/engines/collab/yenc.py)
_WARM_UP = bytes.fromhex(
    "010d01000701077374726f6b65730128000100026964017701772800010006617574686f720177017428000100017801"
    "7b3fe0000000000000280001000179017b3fe0000000000000280001000177017b3fb999999999999a28000100016801"
    "7b3fb999999999999a28000100057468657461017b3fc999999999999a280001000172017b3ff0000000000000280001"
    "000167017b0000000000000000280001000162017b000000000000000028000100076f706163697479017b3ff0000000"
    "0000002800010005636c6f636b017d0000"
)


def replay_rows(
    doc, rows: Iterable[tuple[int, bytes]], budget: Budget | None = None
) -> tuple[UpdateValidator, list[tuple[int, str]]]:
    """Apply stored updates to ``doc`` (a pycrdt Doc) row by row, each through the checks a client's
    update goes through. Returns the validator holding the room's tables and the rows that could not be
    used, ``(row id, why)``; a row that depends on one of those fails too."""
    validator = UpdateValidator(budget)
    bad: list[tuple[int, str]] = []
    for row_id, data in rows:
        try:
            checked = validator.check(data, trusted=True)
            doc.apply_update(data)
        except UpdateRejected as e:
            bad.append((row_id, str(e)))
            continue
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - pyo3 panics derive from BaseException
            bad.append((row_id, f"pycrdt cannot apply it ({type(e).__name__}: {e})"))
            continue
        validator.commit(checked)
    return validator, bad
