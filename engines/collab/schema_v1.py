"""Painting schema version 1 (a ``Y.Map`` per stroke): read and written only to migrate old rooms.

The server migrates a version 1 room to version 2 (:mod:`engines.collab.schema`) when it
first loads it; tests use this module to write version 1 stores as the code before
version 2 did.

The document has two root types (see docs/collab-schema.md for clients in
other languages):

* ``strokes`` -- a ``Y.Array`` of ``Y.Map``; each map is one stroke with the
  keys ``id`` (text, unique), ``author`` (text), ``x y w h theta r g b`` and
  ``opacity`` (numbers in [0, 1]; ``w`` and ``h`` at least 0.001) and
  ``clock`` (an integer >= 0). Paint order is the key ``(clock, author, id)``,
  exactly as in :class:`engines.painting.strokes.Painting`; the position in
  the array carries no meaning (this client inserts at the front, which is
  O(1) in yrs, where appending walks the whole list).
* ``meta`` -- a ``Y.Map`` with ``format`` (``"neural-studio-painting"``),
  ``version`` (1) and ``background`` (``[r, g, b]`` in [0, 1]).

:class:`StrokeDoc` wraps a :class:`pycrdt.Doc` and keeps a plain mirror of it
(ids in array order, :class:`~engines.painting.strokes.Stroke` records by id)
up to date from the document's events, so reads are dictionary look-ups and
remote changes arrive as lists of added, removed and changed strokes. Entries
that break the schema are kept out of the mirror and listed in
:attr:`StrokeDoc.invalid`, so the server can repair them.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pycrdt import ArrayEvent, Doc, Map, MapEvent, UndoManager

from engines.collab.schema import Change, StrokeMirror, _check_background
from engines.painting.strokes import (
    FORMAT_NAME,
    MIN_SIZE,
    PARAM_NAMES,
    PaintingFormatError,
    Stroke,
)

__all__ = [
    "STROKES",
    "META",
    "STROKE_KEYS",
    "SCHEMA_VERSION",
    "Change",
    "StrokeDoc",
    "stroke_to_fields",
    "fields_to_stroke",
]

STROKES = "strokes"
META = "meta"
SCHEMA_VERSION = 1
#: every key of a stroke map
STROKE_KEYS = ("id", "author", *PARAM_NAMES, "opacity", "clock")
#: longest id / author accepted (characters)
MAX_TEXT = 200
#: above this many inserted items in one transaction the mirror is rebuilt from JSON
_REBUILD_AT = 2000
#: most strokes written in one local transaction (one update on the wire)
CHUNK = 4000


def stroke_to_fields(s: Stroke) -> dict[str, Any]:
    """The field values of the Y.Map for a stroke."""
    d: dict[str, Any] = {"id": s.id, "author": s.author}
    for n in PARAM_NAMES:
        d[n] = float(getattr(s, n))
    d["opacity"] = float(s.opacity)
    d["clock"] = int(s.clock)
    return d


_PARAM_KEYS = frozenset(STROKE_KEYS)
_UNIT_KEYS = (*PARAM_NAMES, "opacity")


def _fast_stroke(d: Any) -> Stroke | None:
    """The common case of :func:`fields_to_stroke` without the dataclass checks (None: use the slow path)."""
    if type(d) is not dict or len(d) != len(STROKE_KEYS) or d.keys() != _PARAM_KEYS:
        return None
    sid, author, clock = d["id"], d["author"], d["clock"]
    if type(sid) is not str or type(author) is not str or not sid or not author:
        return None
    if len(sid) > MAX_TEXT or len(author) > MAX_TEXT:
        return None
    if type(clock) is float and clock == clock and clock < 2**53 and clock == int(clock):
        clock = int(clock)
    if type(clock) is not int or not (0 <= clock < 2**53):
        return None
    vals = {}
    for k in _UNIT_KEYS:
        v = d[k]
        tv = type(v)
        if tv is int:
            v = float(v)
        elif tv is not float:
            return None
        if not (0.0 <= v <= 1.0):  # also false for NaN
            return None
        vals[k] = v
    if vals["w"] < MIN_SIZE or vals["h"] < MIN_SIZE:
        return None
    s = object.__new__(Stroke)
    s.__dict__.update(vals, id=sid, author=author, clock=clock)
    return s


def fields_to_stroke(d: Any, where: str = "stroke") -> Stroke:
    """A stroke from the fields of a stroke map (raises PaintingFormatError)."""
    s = _fast_stroke(d)
    if s is not None:
        return s
    if not isinstance(d, dict):
        raise PaintingFormatError(f"{where}: must be a map, got {type(d).__name__}")
    missing = [k for k in STROKE_KEYS if k not in d]
    if missing:
        raise PaintingFormatError(f"{where}: missing field(s) {', '.join(missing)}")
    unknown = sorted(set(d) - set(STROKE_KEYS))
    if unknown:
        raise PaintingFormatError(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    for k in ("id", "author"):
        v = d[k]
        if not isinstance(v, str) or not v or len(v) > MAX_TEXT:
            raise PaintingFormatError(f"{where}.{k} = {v!r}: must be text of 1 to {MAX_TEXT} characters")
    clock = d["clock"]
    # JavaScript numbers are doubles: accept an integral float as a clock
    if isinstance(clock, float) and math.isfinite(clock) and clock == int(clock):
        clock = int(clock)
    if isinstance(clock, bool) or not isinstance(clock, int) or clock < 0 or clock >= 2**53:
        raise PaintingFormatError(f"{where}.clock = {clock!r}: must be an integer >= 0")
    kw = {k: d[k] for k in STROKE_KEYS}
    kw["clock"] = clock
    try:
        return Stroke(**kw)
    except PaintingFormatError as e:
        msg = str(e)
        prefix = f"stroke {kw['id']!r}"
        raise PaintingFormatError(where + msg[len(prefix) :] if msg.startswith(prefix) else msg) from None


@dataclass(frozen=True)
class Invalid:
    """An entry breaking the schema: where it is and what to do about it."""

    kind: str  # "item" (a whole array entry) or "field" (one key of a stroke map)
    item_id: str  # the stroke id, or the slot id of an unreadable entry
    key: str | None
    old: Any
    reason: str
    #: for fields: the change that broke it ("add", "update" or "delete")
    action: str = ""


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
        #: stroke ids (or slot ids of unreadable entries) in array order
        self._ids: list[str] = []
        self._by_id: dict[str, Stroke] = {}
        self._invalid: dict[str, Invalid] = {}
        self._background: tuple[float, float, float] = (1.0, 1.0, 1.0)
        self._max_clock = -1
        self._counter = 0
        self._invalid_slots = 0
        self._callbacks: list[Callable[[Change], None]] = []
        self._change = Change()
        self._local_origin = "local"
        self._remote_depth = 0
        self._expect: list[Stroke] | None = None
        self._undo: UndoManager | None = None
        self._sid_prefix = f"{author}:{secrets.token_hex(4)}"
        self._rebuild_all()
        self._sub_strokes = self._observe_strokes()
        self._sub_meta = self.meta.observe(self._on_meta_event)
        self._sub_doc = self.doc.observe(self._on_transaction)
        if undo:
            self.undo_manager  # noqa: B018 - start tracking my edits now

    # ------------------------------------------------------------ queries
    # -------------------------------------------------------------- edits
    def insert_strokes(self, strokes: Iterable[Stroke]) -> int:
        """Insert strokes made elsewhere (keeping ids and keys); known ids are skipped.

        At most :data:`CHUNK` strokes go in one transaction, so each update sent
        live stays well under the server's message limit (about 330 bytes a stroke).
        """
        todo = [s for s in strokes if s.id not in self._by_id]
        for k in range(0, len(todo), CHUNK):
            self._insert_chunk(todo[k : k + CHUNK])
        return len(todo)

    def _insert_chunk(self, todo: list[Stroke]) -> None:
        self._expect = todo
        try:
            with self.doc.transaction(origin=self._local_origin) as txn:
                # front insertion: O(1) per item in yrs (appending walks the whole list);
                # the array order carries no meaning
                native = getattr(self.strokes_array, "_integrated", None)
                t = getattr(txn, "_txn", None)
                if native is not None and t is not None and hasattr(native, "insert_map_prelim"):
                    # pycrdt's Map(...) prelim opens a transaction per key: go native (10x faster)
                    for s in reversed(todo):
                        m = native.insert_map_prelim(t, 0)
                        for k, v in stroke_to_fields(s).items():
                            m.insert(t, k, v)
                else:  # pragma: no cover - other pycrdt versions
                    for s in reversed(todo):
                        self.strokes_array.insert(0, Map(stroke_to_fields(s)))
        finally:
            self._expect = None

    def remove_many(self, sids: Iterable[str]) -> list[Stroke]:
        want = {s for s in sids if s in self._by_id}
        if not want:
            return []
        removed = [self._by_id[s] for s in want]
        idx = sorted((i for i, s in enumerate(self._ids) if s in want), reverse=True)
        with self.doc.transaction(origin=self._local_origin):
            for i in idx:
                del self.strokes_array[i]
        return removed

    def update(self, sid: str, **changes: Any) -> Stroke:
        """Change parameters (``x`` ... ``b``, ``opacity``) of a stroke in place."""
        if sid not in self._by_id:
            raise KeyError(f"no stroke {sid!r}")
        bad = set(changes) - set(PARAM_NAMES) - {"opacity"}
        if bad:
            raise PaintingFormatError(f"stroke {sid!r}: cannot change {', '.join(sorted(bad))}")
        from dataclasses import replace

        new = replace(self._by_id[sid], **changes)  # validates
        i = self._ids.index(sid)
        m = self.strokes_array[i]
        with self.doc.transaction(origin=self._local_origin):
            for k in changes:
                m[k] = float(getattr(new, k))
        return new

    def set_background(self, rgb: Sequence[float]) -> None:
        bg = _check_background([float(c) for c in rgb])
        with self.doc.transaction(origin=self._local_origin):
            self.meta["background"] = list(bg)
            if self.meta.get("format") != FORMAT_NAME:
                self.meta["format"] = FORMAT_NAME
                self.meta["version"] = SCHEMA_VERSION

    _BIG_PER_STROKE = 300

    def _observe_strokes(self):
        return self.strokes_array.observe_deep(self._on_strokes_events)

    def _emit_rebuilt(self, old_bg: tuple[float, float, float]) -> None:
        ch, self._change = self._change, Change()
        if self._background != old_bg:
            ch.background = self._background
        if ch:
            for cb in list(self._callbacks):
                cb(ch)

    def resync(self) -> None:
        """Rebuild the mirror from the document (after an observer failed mid-change); no callbacks."""
        self._rebuild_all()
        self._change = Change()

    # ---------------------------------------------------------- undo/redo
    # -------------------------------------------------------------- repair
    def repair(self) -> int:
        """Remove or revert entries breaking the schema (server side). Returns how many."""
        if not self._invalid:
            return 0
        n = 0
        items = {k for k, v in self._invalid.items() if v.kind == "item"}
        fields = [v for v in self._invalid.values() if v.kind == "field"]
        with self.doc.transaction(origin=self._local_origin):
            for inv in fields:
                if inv.item_id not in self._ids:
                    continue
                m = self.strokes_array[self._ids.index(inv.item_id)]
                if inv.action == "add" and inv.key not in STROKE_KEYS:
                    del m[inv.key]  # a key the schema does not have
                    n += 1
                elif isinstance(inv.old, (int, float, str)) and not isinstance(inv.old, bool):
                    m[inv.key] = inv.old  # put the previous value back
                    n += 1
                else:
                    items.add(inv.item_id)  # nothing sane to revert to: drop the stroke
            for i in sorted((i for i, s in enumerate(self._ids) if s in items), reverse=True):
                del self.strokes_array[i]
                n += 1
            bg = self.meta.get("background")
            if bg is not None:
                try:
                    _check_background(bg)
                except PaintingFormatError:
                    self.meta["background"] = list(self._background)
                    n += 1
        self._invalid.clear()
        self._rebuild_all()
        return n

    # ------------------------------------------------------------- mirror
    def _invalid_slot_id(self) -> str:
        """An id for an array entry that is not a valid stroke (kept so indices stay aligned)."""
        self._invalid_slots += 1
        return f"\x00invalid:{self._invalid_slots}"

    def _read_item(self, value: Any, where: str) -> tuple[str, Stroke | None, str]:
        if not isinstance(value, Map):
            return self._invalid_slot_id(), None, f"{where}: not a map ({type(value).__name__})"
        try:
            d = json.loads(str(value))
        except (ValueError, TypeError) as e:
            return self._invalid_slot_id(), None, f"{where}: unreadable ({e})"
        return self._read_fields(d, where)

    def _read_fields(self, d: Any, where: str) -> tuple[str, Stroke | None, str]:
        try:
            s = fields_to_stroke(d, where)
        except PaintingFormatError as e:
            return self._invalid_slot_id(), None, str(e)
        if s.id in self._by_id:
            return self._invalid_slot_id(), None, f"{where}: id {s.id!r} is used twice"
        return s.id, s, ""

    def _adopt(self, s: Stroke) -> None:
        self._by_id[s.id] = s
        if s.clock > self._max_clock:
            self._max_clock = s.clock

    def _rebuild_all(self) -> None:
        """Rebuild the mirror from the whole document (initial load, big updates)."""
        old = dict(self._by_id)
        self._ids, self._by_id = [], {}
        self._invalid = {}
        self._max_clock = -1
        # one native JSON dump: iterating a pycrdt Array by index is quadratic
        raw = json.loads(str(self.strokes_array))
        for i, d in enumerate(raw):
            sid, s, why = self._read_fields(d, f"strokes[{i}]")
            self._ids.append(sid)
            if s is None:
                self._invalid[sid] = Invalid("item", sid, None, None, why)
            else:
                self._adopt(s)
        bg = self.meta.get("background")
        if bg is not None:
            try:
                self._background = _check_background(bg)
            except PaintingFormatError as e:
                self._invalid["\x00meta"] = Invalid("meta", "\x00meta", "background", None, str(e))
        ch = self._change
        for sid, s in self._by_id.items():
            o = old.pop(sid, None)
            if o is None:
                ch.added.append(s)
            elif o != s:
                ch.updated.append(s)
        ch.removed.extend(old.values())

    def _on_strokes_events(self, events: list[Any]) -> None:
        n_ins = 0
        for ev in events:
            if isinstance(ev, ArrayEvent) and not ev.path:
                for op in ev.delta:
                    ins = op.get("insert")
                    if ins is not None:
                        n_ins += len(ins)
        ch = self._change
        expect = self._expect
        if expect is not None and len(events) == 1 and n_ins == len(expect):
            ev = events[0]
            delta = ev.delta if isinstance(ev, ArrayEvent) and not ev.path else []
            if len(delta) == 1 and "insert" in delta[0]:
                # our own front insertion: the values are the strokes we just wrote
                self._ids[0:0] = [s.id for s in expect]
                for s in expect:
                    self._adopt(s)
                ch.added.extend(expect)
                return
        if n_ins > max(_REBUILD_AT, len(self._ids)):
            self._rebuild_all()
            return
        for ev in events:
            if isinstance(ev, ArrayEvent) and not ev.path:
                pos = 0
                for op in ev.delta:
                    if "retain" in op:
                        pos += op["retain"]
                    elif "delete" in op:
                        k = op["delete"]
                        for sid in self._ids[pos : pos + k]:
                            s = self._by_id.pop(sid, None)
                            if s is not None:
                                ch.removed.append(s)
                            self._invalid.pop(sid, None)
                        del self._ids[pos : pos + k]
                    elif "insert" in op:
                        new_ids = []
                        for j, value in enumerate(op["insert"]):
                            sid, s, why = self._read_item(value, f"strokes[{pos + j}]")
                            new_ids.append(sid)
                            if s is None:
                                self._invalid[sid] = Invalid("item", sid, None, None, why)
                            else:
                                self._adopt(s)
                                ch.added.append(s)
                        self._ids[pos:pos] = new_ids
                        pos += len(new_ids)
        for ev in events:
            if isinstance(ev, MapEvent) and len(ev.path) == 1:
                i = ev.path[0]
                if not isinstance(i, int) or i >= len(self._ids):
                    continue
                sid = self._ids[i]
                old = self._by_id.get(sid)
                if old is None:
                    continue  # an invalid entry stays invalid
                d = json.loads(str(ev.target))
                try:
                    s = fields_to_stroke(d, f"strokes[{i}]")
                    if s.id != sid or s.author != old.author:
                        raise PaintingFormatError(f"strokes[{i}]: id and author cannot change")
                except PaintingFormatError as e:
                    for key, info in ev.keys.items():
                        self._invalid[f"{sid}/{key}"] = Invalid(
                            "field", sid, key, info.get("oldValue"), str(e), info.get("action", "")
                        )
                    continue
                for key in ev.keys:
                    self._invalid.pop(f"{sid}/{key}", None)
                self._by_id[sid] = s
                if s.clock > self._max_clock:
                    self._max_clock = s.clock
                ch.updated.append(s)

    def _on_meta_event(self, ev: MapEvent) -> None:
        if "background" in ev.keys:
            bg = self.meta.get("background")
            if bg is None:  # removed (the undo of a first background): the canvas is white again
                self._invalid.pop("\x00meta", None)
                self._background = (1.0, 1.0, 1.0)
                self._change.background = self._background
                return
            try:
                self._background = _check_background(bg)
                self._change.background = self._background
            except PaintingFormatError as e:
                self._invalid["\x00meta"] = Invalid(
                    "meta", "\x00meta", "background", ev.keys["background"].get("oldValue"), str(e)
                )

    def _on_transaction(self, event: Any) -> None:
        # called after the type observers of the same transaction
        ch, self._change = self._change, Change()
        ch.local = self._remote_depth == 0
        if ch:
            for cb in list(self._callbacks):
                cb(ch)
