"""The painting as a Yjs document (pycrdt), schema version 2, and its mirror as painting strokes.

The document has two root types (see docs/collab-schema.md for clients in
other languages):

* ``strokes2`` -- a ``Y.Array`` of plain values (Yjs ``ContentAny``): each
  entry is one stroke, the JSON array :data:`VALUE_FIELDS`
  ``[id, author, clock, x, y, w, h, theta, r, g, b, opacity]``. A stroke is
  immutable: an edit deletes its entry and inserts the new value (same
  ``id`` and ``author``) in one transaction. Paint order is the key
  ``(clock, author, id)``, exactly as in :class:`engines.painting.strokes.Painting`;
  the position in the array carries no meaning, except that when two entries
  carry one id (two replicas edited the stroke at once) the first in array
  order is the stroke and the others are ignored. Every replica has the same
  array, so they all pick the same one.
* ``meta`` -- a ``Y.Map`` with ``format`` (``"neural-studio-painting"``),
  ``version`` (2) and ``background`` (``[r, g, b]`` in [0, 1]).

:class:`StrokeDoc` wraps a :class:`pycrdt.Doc` and keeps a plain mirror of it
(ids in array order, :class:`~engines.painting.strokes.Stroke` records by id)
up to date from the document's events, so reads are dictionary look-ups and
remote changes arrive as lists of added, removed and changed strokes (the net
effect of each transaction). Entries that break the schema are kept out of
the mirror and listed in :attr:`StrokeDoc.invalid`.

Version 1 (a ``Y.Map`` of 12 keys per stroke in ``strokes``) is in
:mod:`engines.collab.schema_v1`; the server migrates such rooms when it loads them.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from pycrdt import Array, ArrayEvent, Doc, Map, MapEvent, UndoManager

from engines.painting.strokes import (
    FORMAT_NAME,
    MIN_SIZE,
    PARAM_NAMES,
    Painting,
    PaintingFormatError,
    Stroke,
)

__all__ = [
    "STROKES",
    "META",
    "VALUE_FIELDS",
    "SCHEMA_VERSION",
    "Change",
    "StrokeDoc",
    "stroke_to_value",
    "value_to_stroke",
    "painting_update",
]

STROKES = "strokes2"
META = "meta"
SCHEMA_VERSION = 2
#: the fields of a stroke's value, in order
VALUE_FIELDS = ("id", "author", "clock", *PARAM_NAMES, "opacity")
#: longest id / author accepted (characters)
MAX_TEXT = 200
#: most strokes written in one local transaction (one update on the wire, about 130 bytes a stroke)
CHUNK = 500
#: updates larger than this (bytes) are applied without per-item events
_BIG_UPDATE = 256 * 1024
_UNIT = (*PARAM_NAMES, "opacity")


def stroke_to_value(s: Stroke) -> list[Any]:
    """The document value of a stroke: ``[id, author, clock, x, y, w, h, theta, r, g, b, opacity]``."""
    return [
        s.id, s.author, int(s.clock), float(s.x), float(s.y), float(s.w), float(s.h), float(s.theta),
        float(s.r), float(s.g), float(s.b), float(s.opacity),
    ]  # fmt: skip


def value_problem(v: Any) -> str:
    """'' when ``v`` is a valid stroke value, else why not (the rules of docs/collab-schema.md)."""
    if type(v) is not list or len(v) != len(VALUE_FIELDS):
        return f"must be a list of {len(VALUE_FIELDS)} values [{', '.join(VALUE_FIELDS)}]"
    for k in (0, 1):
        t = v[k]
        if type(t) is not str or not t or len(t) > MAX_TEXT:
            return f"{VALUE_FIELDS[k]} must be text of 1 to {MAX_TEXT} characters"
    c = v[2]
    if type(c) is float and math.isfinite(c) and c == int(c):
        c = int(c)
    if type(c) is not int or not (0 <= c < 2**53):
        return "clock must be an integer >= 0"
    for k in range(3, 12):
        x = v[k]
        if type(x) not in (int, float) or not (0.0 <= x <= 1.0):  # also false for NaN
            return f"{VALUE_FIELDS[k]} must be a number in [0, 1]"
    if v[5] < MIN_SIZE or v[6] < MIN_SIZE:
        return f"w and h must be at least {MIN_SIZE}"
    return ""


_NUMS = frozenset((int, float))


def _fast_value(v: Any) -> Stroke | None:
    """The common case of :func:`value_to_stroke` in few operations (None: ask value_to_stroke)."""
    if type(v) is not list or len(v) != 12:
        return None
    sid, author, clock, x, y, w, h, t, r, g, b, o = v
    if type(sid) is not str or type(author) is not str or not (0 < len(sid) <= MAX_TEXT >= len(author) > 0):
        return None
    if not _NUMS.issuperset(map(type, v[2:])):
        return None
    if not (
        0 <= clock < 2**53 and clock == int(clock)
        and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 and MIN_SIZE <= w <= 1.0 and MIN_SIZE <= h <= 1.0
        and 0.0 <= t <= 1.0 and 0.0 <= r <= 1.0 and 0.0 <= g <= 1.0 and 0.0 <= b <= 1.0 and 0.0 <= o <= 1.0
    ):  # fmt: skip
        return None  # (also for NaN)
    s = object.__new__(Stroke)
    s.__dict__.update(
        {
            "id": sid, "author": author, "clock": int(clock), "x": float(x), "y": float(y), "w": float(w),
            "h": float(h), "theta": float(t), "r": float(r), "g": float(g), "b": float(b), "opacity": float(o),
        }
    )  # fmt: skip
    return s


def value_to_stroke(v: Any, where: str = "stroke") -> Stroke:
    """The stroke a document value holds (raises PaintingFormatError)."""
    s = _fast_value(v)
    if s is not None:
        return s
    why = value_problem(v)
    if why:
        raise PaintingFormatError(f"{where}: {why}")
    s = object.__new__(Stroke)
    s.__dict__.update(
        id=v[0], author=v[1], clock=int(v[2]),
        **{k: float(x) for k, x in zip(_UNIT, v[3:], strict=True)},
    )  # fmt: skip
    return s


def _check_background(v: Any) -> tuple[float, float, float]:
    if not isinstance(v, list) or len(v) != 3:
        raise PaintingFormatError(f"meta.background = {v!r}: must be [r, g, b]")
    out = []
    for c in v:
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not (0.0 <= float(c) <= 1.0):
            raise PaintingFormatError(f"meta.background = {v!r}: each channel must be in [0, 1]")
        out.append(float(c))
    return (out[0], out[1], out[2])


def painting_update(painting: Painting, doc: Doc | None = None) -> bytes:
    """The whole document of a painting (version 2) as one Yjs update (import, migration)."""
    sdoc = StrokeDoc(doc if doc is not None else Doc(), author="import")
    try:
        sdoc.load_painting(painting)
        return sdoc.doc.get_update()
    finally:
        sdoc.close()


@dataclass
class Change:
    """What one transaction changed, as seen by the mirror (its net effect per stroke id)."""

    added: list[Stroke] = field(default_factory=list)
    removed: list[Stroke] = field(default_factory=list)
    updated: list[Stroke] = field(default_factory=list)
    background: tuple[float, float, float] | None = None
    #: True when the transaction came from this replica
    local: bool = False

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.updated or self.background is not None)


@dataclass(frozen=True)
class Invalid:
    """An entry breaking the schema: where it is and what to do about it."""

    kind: str  # "item" (an array entry) or "meta"
    item_id: str  # the slot id of the entry
    key: str | None
    old: Any
    reason: str
    action: str = ""


class StrokeMirror:
    """What a painting document's mirror offers whatever its schema version: reads of the
    mirrored strokes, adding, removing, undo and redo. :class:`StrokeDoc` (version 2) and
    :class:`engines.collab.schema_v1.StrokeDoc` (version 1, kept to migrate old rooms) keep
    the mirror (``_by_id``, ``_ids``, ``_invalid``, ``_background``, ``_max_clock``, ...) each in
    their own way and build on these."""

    def _attach(self, doc: Doc | None, author: str, strokes_name: str) -> None:
        """Hold ``doc`` (a new one when None) and its strokes array and meta map, edited as ``author``."""
        if not isinstance(author, str) or not author or len(author) > MAX_TEXT:
            raise ValueError(f"author = {author!r}: must be text of 1 to {MAX_TEXT} characters")
        self.doc = doc if doc is not None else Doc()
        self.author = author
        self.strokes_array: Array = self.doc.get(strokes_name, type=Array)
        self.meta: Map = self.doc.get(META, type=Map)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, sid: str) -> bool:
        return sid in self._by_id

    def get(self, sid: str) -> Stroke | None:
        return self._by_id.get(sid)

    @property
    def background(self) -> tuple[float, float, float]:
        return self._background

    @property
    def clock(self) -> int:
        return self._max_clock

    @property
    def invalid(self) -> list[Invalid]:
        """Entries that break the schema (not in the mirror)."""
        return list(self._invalid.values())

    def ordered(self) -> list[Stroke]:
        """Valid strokes in paint order (bottom first)."""
        return sorted(self._by_id.values(), key=lambda s: s.key)

    def ids(self) -> list[str]:
        return [s.id for s in self.ordered()]

    def by_author(self, author: str) -> list[Stroke]:
        return [s for s in self.ordered() if s.author == author]

    def to_painting(self) -> Painting:
        """A :class:`Painting` holding the same strokes (a copy)."""
        p = Painting(background=self._background)
        for s in self.ordered():
            p.strokes[s.id] = s
        p.version += 1
        return p

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(params (N, 8) float32, opacity (N,) float32) in paint order."""
        return self.to_painting().arrays()

    def on_change(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback(change)`` after every transaction that changed strokes.

        Returns a function that removes the callback.
        """
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    def new_id(self) -> str:
        sid = f"{self._sid_prefix}:{self._counter}"
        self._counter += 1
        return sid

    def add(
        self, params: Sequence[float] | np.ndarray, *, opacity: float = 1.0, author: str | None = None
    ) -> Stroke:
        """Add one stroke on top of everything seen so far."""
        return self.add_many(np.asarray(params, dtype=np.float64)[None], opacity=opacity, author=author)[0]

    def add_many(
        self,
        params: np.ndarray,
        *,
        opacity: float | Sequence[float] | np.ndarray = 1.0,
        author: str | None = None,
    ) -> list[Stroke]:
        """Add strokes (rows of ``params``, shape (N, 8)) on top, in order, in one transaction."""
        params = np.asarray(params, dtype=np.float64)
        if params.ndim != 2 or params.shape[1] != 8:
            raise PaintingFormatError(f"stroke parameters must have shape (N, 8), got {params.shape}")
        op = np.broadcast_to(np.asarray(opacity, dtype=np.float64), (params.shape[0],))
        author = self.author if author is None else author
        clock = self._max_clock + 1
        made = [
            Stroke(self.new_id(), *params[i].tolist(), opacity=float(op[i]), author=author, clock=clock + i)
            for i in range(params.shape[0])
        ]
        self.insert_strokes(made)
        return made

    def remove(self, sid: str) -> Stroke | None:
        """Remove a stroke by id; returns it (None if unknown)."""
        return self.remove_many([sid])[0] if sid in self._by_id else None

    def clear(self) -> None:
        self.remove_many(list(self._by_id))

    def load_painting(self, painting: Painting) -> int:
        """Add every stroke of a painting (ids and keys kept) and its background."""
        self.set_background(painting.background)
        return self.insert_strokes(painting.ordered())

    @property
    def applying_remote(self) -> bool:
        """True while :meth:`apply_remote` runs (for document observers)."""
        return self._remote_depth > 0

    @property
    def undo_manager(self) -> UndoManager:
        """Yjs undo over this replica's own transactions only (remote edits are never undone)."""
        if self._undo is None:
            self._undo = UndoManager(scopes=[self.strokes_array, self.meta], capture_timeout_millis=0)
            self._undo.include_origin(self._local_origin)
        return self._undo

    def undo(self) -> bool:
        """Undo my last edit (an add, removal, change or background); False if none."""
        return self.undo_manager.undo()

    def redo(self) -> bool:
        return self.undo_manager.redo()

    def close(self) -> None:
        for sub, target in (
            (self._sub_strokes, self.strokes_array),
            (self._sub_meta, self.meta),
        ):
            try:
                target.unobserve(sub)
            except Exception:  # noqa: BLE001 - already gone
                pass
        try:
            self.doc.unobserve(self._sub_doc)
        except Exception:  # noqa: BLE001
            pass

    def apply_remote(self, update: bytes) -> None:
        """Apply an update received from elsewhere (raises on malformed bytes)."""
        self._remote_depth += 1
        try:
            # (only worth it when the update at least doubles the document: else the
            # incremental path below costs less than a rebuild)
            if len(update) < max(_BIG_UPDATE, self._BIG_PER_STROKE * len(self._ids)):
                self.doc.apply_update(update)
                return
            # a big update (a room loading): skip the per-item events pycrdt would
            # build, apply, then rebuild the mirror from the whole document
            self.strokes_array.unobserve(self._sub_strokes)
            self.meta.unobserve(self._sub_meta)
            try:
                self.doc.apply_update(update)
            finally:
                self._sub_strokes = self._observe_strokes()
                self._sub_meta = self.meta.observe(self._on_meta_event)
            old_bg = self._background
            self._rebuild_all()
            self._emit_rebuilt(old_bg)
        finally:
            self._remote_depth -= 1


class StrokeDoc(StrokeMirror):
    """A painting held in a pycrdt document, with a plain mirror of its strokes.

    Local edits (:meth:`add`, :meth:`remove`, :meth:`update`,
    :meth:`set_background`) write the document; every change, local or remote,
    updates the mirror and is reported to the callbacks given to
    :meth:`on_change`. Not thread-safe: use it from one thread (the asyncio
    loop of the client or server).
    """

    def __init__(self, doc: Doc | None = None, *, author: str = "me", undo: bool = False) -> None:
        self._attach(doc, author, STROKES)
        #: per array entry, in array order: the stroke id (or a slot id for an unreadable entry)
        self._ids: list[str] = []
        #: per array entry: the stroke it holds (None: unreadable)
        self._vals: list[Stroke | None] = []
        #: the stroke of each id: the first entry carrying it
        self._by_id: dict[str, Stroke] = {}
        #: how many entries carry each id (more than one after concurrent edits of a stroke)
        self._count: dict[str, int] = {}
        self._invalid: dict[str, Invalid] = {}
        self._background: tuple[float, float, float] = (1.0, 1.0, 1.0)
        self._max_clock = -1
        self._counter = 0
        self._invalid_slots = 0
        self._callbacks: list[Callable[[Change], None]] = []
        #: the mirror's stroke of each id touched in the running transaction, before it
        self._before: dict[str, Stroke | None] = {}
        #: ids whose first entry may have changed in the running event
        self._dirty: set[str] = set()
        self._bg_changed: tuple[float, float, float] | None = None
        self._local_origin = "local"
        self._remote_depth = 0
        self._undo: UndoManager | None = None
        self._sid_prefix = f"{author}:{secrets.token_hex(4)}"
        self._rebuild_all()
        self._before = {}
        self._sub_strokes = self._observe_strokes()
        self._sub_meta = self.meta.observe(self._on_meta_event)
        self._sub_doc = self.doc.observe(self._on_transaction)
        if undo:
            self.undo_manager  # noqa: B018 - start tracking my edits now

    # ------------------------------------------------------------ queries
    @property
    def duplicates(self) -> int:
        """Entries that carry the id of an earlier entry (concurrent edits of one stroke); ignored."""
        return len(self._ids) - len(self._by_id) - len(self._invalid)

    # -------------------------------------------------------------- edits
    def insert_strokes(self, strokes: Iterable[Stroke]) -> int:
        """Insert strokes made elsewhere (keeping ids and keys); known ids are skipped.

        At most :data:`CHUNK` strokes go in one transaction (one update on the wire), in
        one Yjs item (values inserted one after the other are merged into one item when the
        transaction ends: about 330 bytes a stroke in yrs, 700 when each has its own item).
        """
        todo = [s for s in strokes if s.id not in self._by_id]
        for k in range(0, len(todo), CHUNK):
            with self.doc.transaction(origin=self._local_origin) as txn:
                # at the front (the array order carries no meaning): positions 0, 1, ...
                # (pycrdt's slice insertion does the same; yrs walks the items of the
                # running transaction to find a position, so chunks stay small)
                native = self.strokes_array._integrated
                t = txn._txn
                for j, s in enumerate(todo[k : k + CHUNK]):
                    native.insert(t, j, stroke_to_value(s))
        return len(todo)

    def _indices(self, want: set[str]) -> list[int]:
        return [i for i, s in enumerate(self._ids) if s in want]

    def remove_many(self, sids: Iterable[str]) -> list[Stroke]:
        """Remove strokes by id (every entry carrying the id), in one transaction."""
        want = {s for s in sids if s in self._by_id}
        if not want:
            return []
        removed = [self._by_id[s] for s in want]
        with self.doc.transaction(origin=self._local_origin):
            self._delete_indices(self._indices(want))
        return removed

    def _delete_indices(self, idx: list[int]) -> None:
        """Delete entries at ascending indices ``idx``, in runs, from the back."""
        k = len(idx) - 1
        while k >= 0:
            hi = idx[k]
            lo = hi
            while k > 0 and idx[k - 1] == lo - 1:
                k -= 1
                lo -= 1
            del self.strokes_array[lo : hi + 1]
            k -= 1

    def update(self, sid: str, **changes: Any) -> Stroke:
        """Change parameters (``x`` ... ``b``, ``opacity``, ``clock``) of a stroke: its entry is replaced."""
        if sid not in self._by_id:
            raise KeyError(f"no stroke {sid!r}")
        bad = set(changes) - set(PARAM_NAMES) - {"opacity", "clock"}
        if bad:
            raise PaintingFormatError(f"stroke {sid!r}: cannot change {', '.join(sorted(bad))}")
        new = replace(self._by_id[sid], **changes)  # validates
        with self.doc.transaction(origin=self._local_origin):
            self._delete_indices(self._indices({sid}))
            self.strokes_array.insert(0, stroke_to_value(new))
        return new

    def set_background(self, rgb: Sequence[float]) -> None:
        bg = _check_background([float(c) for c in rgb])
        with self.doc.transaction(origin=self._local_origin):
            self.meta["background"] = list(bg)
            if self.meta.get("format") != FORMAT_NAME or self.meta.get("version") != SCHEMA_VERSION:
                self.meta["format"] = FORMAT_NAME
                self.meta["version"] = SCHEMA_VERSION

    #: an update this many bytes per mirrored stroke (or _BIG_UPDATE) or more is applied with the
    #: observers off and the mirror rebuilt (a room loading)
    _BIG_PER_STROKE = 150

    def _observe_strokes(self):
        return self.strokes_array.observe(self._on_strokes_event)

    def _emit_rebuilt(self, old_bg: tuple[float, float, float]) -> None:
        if self._background != old_bg:
            self._bg_changed = self._background
        self._emit(local=False)

    def resync(self) -> None:
        """Rebuild the mirror from the document (after an observer failed mid-change); no callbacks."""
        self._rebuild_all()
        self._before = {}
        self._bg_changed = None

    # ---------------------------------------------------------- undo/redo
    # -------------------------------------------------------------- repair
    def repair(self) -> int:
        """Remove entries breaking the schema and revert a bad background. Returns how many."""
        if not self._invalid:
            return 0
        n = 0
        with self.doc.transaction(origin=self._local_origin):
            idx = [i for i, s in enumerate(self._ids) if s in self._invalid]
            self._delete_indices(idx)
            n += len(idx)
            bg = self.meta.get("background")
            if bg is not None:
                try:
                    _check_background(bg)
                except PaintingFormatError:
                    self.meta["background"] = list(self._background)
                    n += 1
        self._invalid.clear()
        self.resync()
        return n

    # ------------------------------------------------------------- mirror
    def _touch(self, sid: str) -> None:
        if sid not in self._before:
            self._before[sid] = self._by_id.get(sid)

    def _add_entry(self, pos: int, value: Any) -> None:
        """Mirror an entry inserted at ``pos`` (the lists are already spliced by the caller)."""
        try:
            s = value_to_stroke(value, f"strokes2[{pos}]")
        except PaintingFormatError as e:
            self._invalid_slots += 1
            slot = f"\x00invalid:{self._invalid_slots}"
            self._ids[pos] = slot
            self._vals[pos] = None
            self._invalid[slot] = Invalid("item", slot, None, None, str(e))
            return
        sid = s.id
        self._ids[pos] = sid
        self._vals[pos] = s
        n = self._count.get(sid, 0)
        self._count[sid] = n + 1
        if s.clock > self._max_clock:
            self._max_clock = s.clock
        self._touch(sid)
        if n == 0:
            self._by_id[sid] = s
        else:
            self._dirty.add(sid)

    def _settle(self) -> None:
        """Ids carried by several entries (or that lost one): the first entry in array order is the stroke."""
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        for sid in dirty:
            self._by_id.pop(sid, None)
        for i, sid in enumerate(self._ids):
            if sid in dirty and sid not in self._by_id:
                self._by_id[sid] = self._vals[i]

    def _rebuild_all(self) -> None:
        """Rebuild the mirror from the whole document (initial load, big updates)."""
        for sid in self._by_id:
            self._touch(sid)
        self._ids, self._vals, self._by_id, self._count, self._invalid = [], [], {}, {}, {}
        self._max_clock = -1
        # one native JSON dump: reading a pycrdt Array item by item costs 10 times more
        raw = json.loads(str(self.strokes_array))
        n = len(raw)
        self._ids = [""] * n
        self._vals = [None] * n
        count = self._count
        for i, v in enumerate(raw):
            s = _fast_value(v)
            if s is not None and s.id not in count:
                # the common case (a new id), without _add_entry's look-ups
                sid = s.id
                self._ids[i] = sid
                self._vals[i] = s
                self._count[sid] = 1
                self._by_id[sid] = s
                if s.clock > self._max_clock:
                    self._max_clock = s.clock
                if sid not in self._before:
                    self._before[sid] = None
            else:
                self._add_entry(i, v)
        self._settle()
        bg = self.meta.get("background")
        if bg is not None:
            try:
                self._background = _check_background(bg)
            except PaintingFormatError as e:
                self._invalid["\x00meta"] = Invalid("meta", "\x00meta", "background", None, str(e))

    def _on_strokes_event(self, ev: ArrayEvent) -> None:
        pos = 0
        for op in ev.delta:
            if "retain" in op:
                pos += op["retain"]
            elif "delete" in op:
                k = op["delete"]
                gone = self._ids[pos : pos + k]
                del self._ids[pos : pos + k]
                del self._vals[pos : pos + k]
                for sid in gone:
                    if self._invalid.pop(sid, None) is not None:
                        continue
                    self._touch(sid)
                    n = self._count[sid] - 1
                    if n:
                        self._count[sid] = n
                        self._dirty.add(sid)
                    else:
                        del self._count[sid]
                        self._dirty.discard(sid)
                        self._by_id.pop(sid, None)
            elif "insert" in op:
                ins = op["insert"]
                k = len(ins)
                self._ids[pos:pos] = [""] * k
                self._vals[pos:pos] = [None] * k
                for j, value in enumerate(ins):
                    self._add_entry(pos + j, value)
                pos += k
        self._settle()

    def _on_meta_event(self, ev: MapEvent) -> None:
        if "background" in ev.keys:
            bg = self.meta.get("background")
            if bg is None:  # removed (the undo of a first background): the canvas is white again
                self._invalid.pop("\x00meta", None)
                self._background = (1.0, 1.0, 1.0)
                self._bg_changed = self._background
                return
            try:
                self._background = _check_background(bg)
                self._bg_changed = self._background
            except PaintingFormatError as e:
                self._invalid["\x00meta"] = Invalid(
                    "meta", "\x00meta", "background", ev.keys["background"].get("oldValue"), str(e)
                )

    def _emit(self, local: bool) -> None:
        """Tell the callbacks the net effect of what changed since the last call."""
        before, self._before = self._before, {}
        ch = Change(background=self._bg_changed, local=local)
        self._bg_changed = None
        for sid, old in before.items():
            new = self._by_id.get(sid)
            if old is None:
                if new is not None:
                    ch.added.append(new)
            elif new is None:
                ch.removed.append(old)
            elif new != old:
                ch.updated.append(new)
        if ch:
            for cb in list(self._callbacks):
                cb(ch)

    def _on_transaction(self, event: Any) -> None:
        # called after the type observers of the same transaction
        self._emit(local=self._remote_depth == 0)
