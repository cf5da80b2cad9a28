"""The schema gate of :mod:`engines.collab.validate` for painting schema version 2.

Version 2 (see ``docs/collab-schema.md`` and :mod:`engines.collab.schema`) holds each
stroke as one plain value in the array ``strokes2``:
``[id, author, clock, x, y, w, h, theta, r, g, b, opacity]``. The parsing, the bounds on
counts and nesting, and the placing of items (which item lives where, with no recursion)
are :class:`~engines.collab.validate.UpdateValidator`'s; this subclass changes what is
allowed:

* ``strokes2`` (an array): each new entry a plain value that is a valid stroke; an entry
  is removed by deleting it; an edit deletes the stroke's entry and inserts the new value
  in one update. A new entry whose id a live stroke carries is refused unless the update
  deletes an entry with that id (an edit; two clients editing one stroke at once both
  do, and the first entry in array order is the stroke); a live stroke's author never
  changes (a removed id may come back with another);
* ``meta`` (a map): ``format``, ``version`` (2) and ``background``;
* nothing else. What a version 1 client writes (``strokes``, or ``meta.version`` 1) is
  refused with :class:`Version1Update`, whose message says so.

Besides the tables of its base class (tag :data:`T_VALUES` for the entries of
``strokes2``, the run's ref the index of its first entry) it keeps, per entry, its id
(an index into the room's ids) and whether it is deleted, and per id its author and
how many live entries carry it (the author: of its live entries). Updates go the Python way (the compiled check of the
base class knows version 1 only).
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Container, Iterator
from typing import Any

import numpy as np

from engines.painting.strokes import FORMAT_NAME, MIN_SIZE

from . import _validate_kernel as _K
from .schema import MAX_TEXT, STROKES, VALUE_FIELDS, value_problem
from .validate import (
    _ANY,
    _CONTENT_NAMES,
    _DELETED,
    _GC,
    _T_META,
    _T_OTHER,
    _TYPE,
    _TYPE_NAMES,
    META,
    META_KEYS,
    Budget,
    Checked,
    UpdateRejected,
    UpdateValidator,
    _meta_value_ok,
    _Reader,
    _Struct,
    _Work,
)

__all__ = ["UpdateValidatorV2", "Version1Update", "T_VALUES", "V1_ROOT"]

#: the tag of an entry of ``strokes2`` (unused by version 1)
T_VALUES = 4
#: version 1's array of stroke maps
V1_ROOT = "strokes"


class Version1Update(UpdateRejected):
    """An update written for painting schema version 1 (a client that must be updated)."""


def _grow(a: np.ndarray, n: int, fill: int) -> np.ndarray:
    if n <= len(a):
        return a
    out = np.full(max(n, 2 * len(a), 64), fill, a.dtype)
    out[: len(a)] = a
    return out


class _IdTable:
    """Stroke ids -> dense indices, exact, without a Python object per id.

    The ids' UTF-8 bytes sit back to back in one ``bytearray``; an open-addressing table of
    (hash, index) in two ``array`` s finds them (Python's randomized string hash, each candidate
    compared byte for byte). About 60 bytes an id, where a dict and list of ``str`` take 150 and
    scatter long-lived objects among a snapshot's short-lived ones."""

    __slots__ = ("blob", "off", "hk", "hv", "n")

    def __init__(self) -> None:
        self.blob = bytearray()
        self.off = array("q", [0])  # id i is blob[off[i]:off[i + 1]]
        self.hk = array("q", bytes(8 * 64))
        self.hv = array("i", [-1]) * 64
        self.n = 0

    def get(self, sid: str) -> int:
        """The index of ``sid``, or -1."""
        h = hash(sid)
        b = sid.encode()
        hk, hv, off, blob = self.hk, self.hv, self.off, self.blob
        mask = len(hv) - 1
        i = (h ^ (h >> 29)) & mask
        while True:
            v = hv[i]
            if v < 0:
                return -1
            if hk[i] == h and blob[off[v] : off[v + 1]] == b:
                return v
            i = (i + 1) & mask

    def add(self, sid: str) -> int:
        """The index of ``sid``, added if it is new."""
        h = hash(sid)
        b = sid.encode()
        hk, hv, off, blob = self.hk, self.hv, self.off, self.blob
        mask = len(hv) - 1
        i = (h ^ (h >> 29)) & mask
        while True:
            v = hv[i]
            if v < 0:
                break
            if hk[i] == h and blob[off[v] : off[v + 1]] == b:
                return v
            i = (i + 1) & mask
        v = self.n
        blob += b
        off.append(len(blob))
        hk[i] = h
        hv[i] = v
        self.n += 1
        if 2 * self.n > len(hv):
            self._grow()
        return v

    def text(self, v: int) -> str:
        return self.blob[self.off[v] : self.off[v + 1]].decode()

    def _put(self, h: int, v: int) -> None:
        hk, hv = self.hk, self.hv
        mask = len(hv) - 1
        i = (h ^ (h >> 29)) & mask
        while hv[i] >= 0:
            i = (i + 1) & mask
        hk[i] = h
        hv[i] = v

    def _grow(self) -> None:
        old = [(h, v) for h, v in zip(self.hk, self.hv, strict=True) if v >= 0]
        cap = 2 * len(self.hv)
        self.hk = array("q", bytes(8 * cap))
        self.hv = array("i", [-1]) * cap
        for h, v in old:
            self._put(h, v)

    def nbytes(self) -> int:
        return len(self.blob) + 8 * len(self.off) + 12 * len(self.hv)


_F64 = struct.Struct(">d").unpack_from
_F32 = struct.Struct(">f").unpack_from


def _stroke_at(buf: bytes, pos: int) -> tuple[tuple[str, str], int] | None:
    """``((id, author), end)`` of a valid stroke value written the usual way at ``buf[pos]`` (lib0:
    array of 12, two short strings, then numbers as float64 or small integers), else None."""
    if buf[pos] != 117 or buf[pos + 1] != 12 or buf[pos + 2] != 119:
        return None
    k = buf[pos + 3]
    if not 0 < k < 128:
        return None
    p = pos + 4 + k
    sid = buf[pos + 4 : p].decode()
    if buf[p] != 119:
        return None
    k = buf[p + 1]
    if not 0 < k < 128:
        return None
    author = buf[p + 2 : p + 2 + k].decode()
    p += 2 + k
    nums = []
    for _ in range(10):
        t = buf[p]
        if t == 123:
            nums.append(_F64(buf, p + 1)[0])
            p += 9
        elif t == 125:  # lib0 varInt (sign in bit 6 of the first byte): integers >= 0 only here
            q = buf[p + 1]
            if q & 0x40:
                return None
            n = q & 0x3F
            p += 2
            shift = 6
            while q & 0x80:
                if shift > 53:
                    return None
                q = buf[p]
                n |= (q & 0x7F) << shift
                shift += 7
                p += 1
            nums.append(n)
        elif t == 124:
            nums.append(_F32(buf, p + 1)[0])
            p += 5
        else:
            return None
    c, x, y, w, h, th, r, g, b, o = nums
    if not (
        len(sid) <= MAX_TEXT and len(author) <= MAX_TEXT and 0 <= c < 2**53 and c == int(c)
        and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 and MIN_SIZE <= w <= 1.0 and MIN_SIZE <= h <= 1.0
        and 0.0 <= th <= 1.0 and 0.0 <= r <= 1.0 and 0.0 <= g <= 1.0 and 0.0 <= b <= 1.0 and 0.0 <= o <= 1.0
    ):  # fmt: skip
        return None  # (NaN included): the general path says why
    return (sid, author), p


class _Reader2(_Reader):
    """Reads a valid stroke value as the tuple ``(id, author)`` at once (see _read_structs)."""

    __slots__ = ()

    def any_(self, max_depth: int) -> Any:
        if self.n - self.pos >= 40:
            try:
                got = _stroke_at(self.buf, self.pos)
            except (IndexError, UnicodeDecodeError, struct.error):
                got = None
            if got is not None:
                self.pos = got[1]
                return got[0]
        v = _Reader.any_(self, max_depth)
        if type(v) is list and len(v) == len(VALUE_FIELDS) and not value_problem(v):
            return (v[0], v[1])
        return v


class UpdateValidatorV2(UpdateValidator):
    """The painting schema version 2's gate for one room (see the module doc)."""

    def __init__(self, budget: Budget | None = None) -> None:
        super().__init__(budget, fast=False)
        self._fast_ok = False
        #: per entry of strokes2: index of its id (-1: no value), 1 when deleted
        self._entry_id = np.full(64, -1, np.int32)
        self._entry_dead = np.zeros(64, np.uint8)
        self._n_entries = 0
        self._next_entry = 0
        #: ids, their index, author (index into _authors), live entries carrying each
        self._idt = _IdTable()
        self._id_author = np.zeros(64, np.int32)
        self._id_live = np.zeros(64, np.int32)
        self._authors: list[str] = []
        self._author_index: dict[str, int] = {}
        self._plan: tuple[int, list[tuple[int, str, str]], list[tuple[int, int]]] | None = None

    # ------------------------------------------------------------ queries
    def __contains__(self, sid: object) -> bool:
        """Whether a live stroke carries id ``sid``."""
        i = self._idt.get(sid) if isinstance(sid, str) else -1
        return i >= 0 and bool(self._id_live[i] > 0)

    def live_count(self) -> int:
        """How many ids live entries carry (strokes in the room)."""
        return int(np.count_nonzero(self._id_live[: self._idt.n]))

    def nbytes(self) -> int:
        arrays = (self._entry_id, self._entry_dead, self._id_author, self._id_live)
        return super().nbytes() + sum(a.nbytes for a in arrays) + self._idt.nbytes()

    # ------------------------------------------------------------- check
    def _read_structs(self, r: _Reader) -> dict[int, list[_Struct]]:
        # each stroke value is checked as it is read and only its id and author are kept: holding
        # every value of a room's snapshot (100,000 lists of 12) until the check ends would leave
        # the process 50 MB larger for good (the long-lived ids end up among the freed values)
        r.__class__ = _Reader2
        return super()._read_structs(r)

    def _check_python(self, data: bytes, live_ids: Container[str], trusted: bool) -> Checked:
        self._next_entry = self._n_entries
        self._plan = None
        out = super()._check_python(data, live_ids, trusted)
        plan = self._plan
        self._plan = (out.epoch, *(plan[1:] if plan is not None else ([], [])))
        return out

    def _tag(self, s: _Struct, known) -> None:
        where = f"item ({s.client}, {s.clock})"
        if s.content == _GC:
            s.tag = _T_OTHER
            return
        if s.content in _CONTENT_NAMES:
            raise UpdateRejected(f"{where}: {_CONTENT_NAMES[s.content]} is not part of the painting schema")
        if s.origin is not None or s.right is not None:
            places = {self._parent_of(*known(x)) for x in (s.origin, s.right) if x is not None}
            if len(places) != 1:
                raise UpdateRejected(f"{where}: its neighbours live in different places")
            ((kind, key),) = places
        elif s.parent_key is not None:
            if s.parent_key == STROKES and s.sub is None:
                kind, key = STROKES, None
            elif s.parent_key == META and s.sub is not None:
                kind, key = META, s.sub
            elif s.parent_key == V1_ROOT:
                raise Version1Update(
                    "writes 'strokes' (painting schema version 1); this room is version 2: update the client"
                )
            else:
                raise UpdateRejected(
                    f"{where}: top-level {s.parent_key!r}{' key ' + repr(s.sub) if s.sub else ''} "
                    f"is not part of the painting schema (only '{STROKES}' entries and 'meta' keys)"
                )
        else:
            ptag, _ = known(s.parent_id)
            if ptag == _T_OTHER and s.content in (_ANY, _DELETED):
                s.tag = _T_OTHER  # a value under a collected item: yrs drops it
                return
            raise UpdateRejected(
                f"{where}: its parent {s.parent_id} is not a type of the schema (nothing nests)"
            )
        if kind is None:  # next to a collected item: yrs drops it
            if s.content not in (_ANY, _DELETED):
                raise UpdateRejected(f"{where}: a nested type next to a removed item")
            s.tag = _T_OTHER
            return
        if kind == STROKES:
            if s.content == _ANY:
                for k, v in enumerate(s.value):
                    if type(v) is not tuple:  # (a valid stroke is read as (id, author))
                        why = value_problem(v) or "not a stroke"
                        raise UpdateRejected(f"{where}: {STROKES}[+{k}] = {v!r:.60}: {why}")
            elif s.content != _DELETED:
                what = _TYPE_NAMES.get(s.type_ref, "a type") if s.content == _TYPE else "content"
                raise UpdateRejected(
                    f"{where}: a '{STROKES}' entry must be a plain value [{', '.join(VALUE_FIELDS)}], not a {what}"
                )
            s.tag, s.ref = T_VALUES, self._next_entry
            self._next_entry += s.length
            return
        if key not in META_KEYS:
            raise UpdateRejected(f"{where}: meta key {key!r} is not part of the schema")
        if s.content == _ANY:
            if len(s.value) != 1:
                raise UpdateRejected(f"{where}: meta key {key!r} holds {len(s.value)} values")
            v = s.value[0]
            if type(v) is tuple:
                raise UpdateRejected(f"{where}: meta.{key} holds a stroke")
            if key == "version" and type(v) in (int, float) and v == 1:
                raise Version1Update(
                    "writes meta.version 1 (painting schema version 1); this room is version 2: update the client"
                )
            why = _meta_value_ok_v2(key, v)
            if why:
                raise UpdateRejected(f"{where}: meta.{key} = {v!r:.60}: {why}")
        elif s.content != _DELETED:
            raise UpdateRejected(f"{where}: meta key {key!r} must hold a plain value, not a type")
        s.tag, s.ref = _T_META + META_KEYS.index(key), 0

    @staticmethod
    def _parent_of(tag: int, ref: int) -> tuple[str | None, str | None]:
        if tag == T_VALUES:
            return (STROKES, None)
        if _T_META <= tag < _T_META + len(META_KEYS):
            return (META, META_KEYS[tag - _T_META])
        return (None, None)

    # ------------------------------------------------------------ schema
    def _entries(
        self, client: int, clock: int, length: int, news: dict[int, list[_Struct]]
    ) -> Iterator[tuple[int, int]]:
        """Entry index ranges [lo, hi) of the ``strokes2`` entries among items [clock, clock + length)."""
        t = self._t
        c = t.index(client)
        have = t.end(c)
        end = clock + length
        if c >= 0 and clock < have:
            i = t._first_run(c, clock)
            last = int(t.cl[c, 0] + t.cl[c, 1])
            stop = min(end, have)
            while i < last and t.r_start[i] < stop:
                s0 = int(t.r_start[i])
                s1 = int(t.r_start[i + 1]) if i + 1 < last else have
                lo, hi = max(s0, clock), min(s1, stop)
                if t.r_tag[i] == T_VALUES and lo < hi:
                    base = int(t.r_ref[i])
                    yield base + lo - s0, base + hi - s0
                i += 1
        for s in news.get(client, ()):
            if s.tag == T_VALUES and s.clock < end and s.clock + s.length > clock:
                lo, hi = max(s.clock, clock), min(s.clock + s.length, end)
                yield s.ref + lo - s.clock, s.ref + hi - s.clock

    def _check_schema(self, out: _Work, live_ids: Container[str], trusted: bool) -> None:
        news = out.news
        dels, deleted_here = self._delete_ranges(out)

        # the entries this update deletes, and the ids they carried
        dead_ranges: list[tuple[int, int]] = []
        for client, rs in dels.items():
            for a, z in rs:
                dead_ranges.extend(self._entries(client, a, z - a, news))
        del_ids: set[str] = set()
        n_old = self._n_entries
        for lo, hi in dead_ranges:
            if lo < n_old:
                ids = self._entry_id[lo : min(hi, n_old)]
                for i in np.unique(ids[ids >= 0]).tolist():
                    del_ids.add(self._idt.text(i))
        # the new values
        new_entries: list[tuple[int, str, str]] = []
        authors: dict[str, str] = {}
        live_new: set[str] = set()
        for client, lst in news.items():
            for s in lst:
                if s.tag != T_VALUES or s.content != _ANY:
                    continue
                for k, v in enumerate(s.value):
                    sid, author = v[0], v[1]
                    prev = authors.setdefault(sid, author)
                    if prev != author:
                        raise UpdateRejected(f"two values of stroke {sid!r:.60} with different authors")
                    new_entries.append((s.ref + k, sid, author))
                    if deleted_here(client, s.clock + k):
                        del_ids.add(sid)
                    elif sid in live_new:
                        raise UpdateRejected(f"two new strokes with one id {sid!r:.60}")
                    else:
                        live_new.add(sid)
        for sid, author in authors.items():
            i = self._idt.get(sid)
            if i < 0:
                continue
            if self._id_live[i] > 0 and self._authors[int(self._id_author[i])] != author:
                raise UpdateRejected(f"stroke author cannot change (stroke {sid!r:.60})")
            if not trusted and sid in live_new and self._id_live[i] > 0 and sid not in del_ids:
                raise UpdateRejected(
                    f"stroke id {sid!r:.60} is in use (an edit deletes the stroke's entry in the same update)"
                )
        self._plan = (-1, new_entries, dead_ranges)
        out.new_ids = [sid for _, sid, _ in new_entries if sid in live_new]
        out.dead = set()

    # ------------------------------------------------------------ record
    def commit(self, checked: Checked) -> None:
        plan = self._plan
        if plan is None or plan[0] != checked.epoch:
            raise ValueError("commit: the update was checked against tables that have changed since")
        super().commit(checked)
        self._plan = None
        _, new_entries, dead_ranges = plan
        n = self._next_entry
        self._entry_id = _grow(self._entry_id, n, -1)
        self._entry_dead = _grow(self._entry_dead, n, 0)
        self._n_entries = max(self._n_entries, n)
        ents, idx, auth = [], [], []
        add, author_index = self._idt.add, self._author_index
        for e, sid, author in new_entries:
            ents.append(e)
            idx.append(add(sid))
            a = author_index.get(author)
            if a is None:
                a = author_index[author] = len(self._authors)
                self._authors.append(author)
            auth.append(a)
        if ents:
            n_ids = self._idt.n
            self._id_author = _grow(self._id_author, n_ids, 0)
            self._id_live = _grow(self._id_live, n_ids, 0)
            ids = np.array(idx, np.int64)
            # a new id, or a removed one used again (it may have another author): its author now
            fresh = self._id_live[ids] == 0
            self._id_author[ids[fresh]] = np.array(auth, np.int32)[fresh]
            self._entry_id[np.array(ents, np.int64)] = ids
            np.add.at(self._id_live, ids, 1)
        for lo, hi in dead_ranges:
            idx = np.arange(lo, hi)[self._entry_dead[lo:hi] == 0]
            self._entry_dead[idx] = 1
            ids = self._entry_id[idx]
            np.subtract.at(self._id_live, ids[ids >= 0], 1)


def _meta_value_ok_v2(key: str, v: Any) -> str:
    if key == "version":
        return "" if type(v) in (int, float) and v == 2 else "must be 2"
    if key == "format":
        return "" if v == FORMAT_NAME else f"must be {FORMAT_NAME!r}"
    return _meta_value_ok(key, v)


def replay_rows_v2(doc, rows, budget: Budget | None = None):
    """:func:`engines.collab.validate.replay_rows` for version 2 rooms."""
    validator = UpdateValidatorV2(budget)
    bad: list[tuple[int, str]] = []
    first_error: UpdateRejected | None = None
    for row_id, data in rows:
        try:
            checked = validator.check(data, trusted=True)
            doc.apply_update(data)
        except UpdateRejected as e:
            if first_error is None:
                first_error = e
            bad.append((row_id, str(e)))
            continue
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as e:  # noqa: BLE001 - pyo3 panics derive from BaseException
            bad.append((row_id, f"pycrdt cannot apply it ({type(e).__name__}: {e})"))
            continue
        validator.commit(checked)
    return validator, bad, first_error


assert _K.T_BLOCK != T_VALUES and T_VALUES < _T_META


def load_room(rows, budget: Budget | None = None):
    """A room's stored rows as a version 2 document, whatever version wrote them.

    Returns ``(doc, validator, bad, migrated)``: ``bad`` the rows that could not be used
    ``(row id, why)``; ``migrated`` None for a version 2 room, else the update holding the room
    in version 2 (one row to store in place of the version 1 rows, which were read with
    version 1's checks)."""
    from pycrdt import Doc

    from .schema import painting_update
    from .schema_v1 import StrokeDoc as StrokeDocV1
    from .validate import replay_rows

    doc = Doc()
    validator, bad, first = replay_rows_v2(doc, rows, budget)
    if not isinstance(first, Version1Update):
        return doc, validator, bad, None
    old = Doc()
    _, bad = replay_rows(old, rows, budget)
    sdoc = StrokeDocV1(old, author="server")
    painting = sdoc.to_painting()
    sdoc.close()
    doc = Doc()
    data = painting_update(painting, doc)
    validator = UpdateValidatorV2(budget)
    validator.commit(validator.check(data, trusted=True))
    return doc, validator, bad, data
