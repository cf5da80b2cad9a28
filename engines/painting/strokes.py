"""Strokes and the painting document.

A stroke is a rotated, coloured brush shape: ``x, y`` (centre), ``w`` (length
along the stroke direction), ``h`` (thickness), ``theta`` (direction, the angle
being ``theta * pi`` from the +x axis towards +y, which points down), and the
colour ``r, g, b``. All eight lie in [0, 1]; positions and sizes are fractions
of the canvas side, so a painting does not depend on the resolution it is
rendered at. Each stroke also carries its ``opacity``, its ``author`` and an
ordering key.

The document (:class:`Painting`) is designed for several authors: strokes are
plain records with globally unique ids (``"<author>:<counter>"``), ordered by a
Lamport key ``(clock, author, id)``. Adding a stroke takes a clock one above
the largest seen, so a stroke added after seeing another always lands above
it, and two authors adding concurrently get a deterministic order on every
replica. Removal keeps a tombstone so a replica that has not seen the removal
yet cannot resurrect the stroke when merging. ``merge`` is commutative,
associative and idempotent (a state-based CRDT: a grow-only map of strokes plus
a grow-only set of tombstones).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "PARAM_NAMES",
    "FORMAT_NAME",
    "Stroke",
    "Painting",
    "drag_to_strokes",
    "params_to_strokes",
    "load_painting",
    "save_painting",
    "PaintingFormatError",
]

#: the eight geometric/colour parameters of a stroke, in array order
PARAM_NAMES = ("x", "y", "w", "h", "theta", "r", "g", "b")
FORMAT_NAME = "neural-studio-painting"
FORMAT_VERSION = 1
#: smallest stroke length/thickness (fraction of the canvas side)
MIN_SIZE = 1e-3
#: largest Lamport clock (exact in a float64, as JavaScript peers hold it)
MAX_CLOCK = 2**53


class PaintingFormatError(ValueError):
    """A painting file or record is invalid; the message names file and field."""


def _check_unit(value: Any, where: str, lo: float = 0.0, hi: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise PaintingFormatError(f"{where} = {value!r}: must be a number in [{lo:g}, {hi:g}]")
    v = float(value)
    if not math.isfinite(v) or v < lo or v > hi:
        raise PaintingFormatError(f"{where} = {value!r}: must be a number in [{lo:g}, {hi:g}]")
    return v


@dataclass(frozen=True, order=False)
class Stroke:
    """One brush stroke: a plain, immutable record with a unique id."""

    id: str
    x: float
    y: float
    w: float
    h: float
    theta: float
    r: float
    g: float
    b: float
    opacity: float = 1.0
    author: str = "me"
    clock: int = 0

    def __post_init__(self) -> None:
        self.validate(f"stroke {self.id!r}")

    def validate(self, where: str) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise PaintingFormatError(f"{where}.id = {self.id!r}: must be non-empty text")
        if not isinstance(self.author, str) or not self.author:
            raise PaintingFormatError(f"{where}.author = {self.author!r}: must be non-empty text")
        if (
            isinstance(self.clock, bool)
            or not isinstance(self.clock, (int, np.integer))
            or not 0 <= self.clock <= MAX_CLOCK
        ):
            raise PaintingFormatError(
                f"{where}.clock = {str(self.clock)[:40]}: must be an integer in [0, 2^53]"
            )
        for name in PARAM_NAMES:
            lo = MIN_SIZE if name in ("w", "h") else 0.0
            object.__setattr__(self, name, _check_unit(getattr(self, name), f"{where}.{name}", lo))
        object.__setattr__(self, "opacity", _check_unit(self.opacity, f"{where}.opacity"))
        object.__setattr__(self, "clock", int(self.clock))

    @property
    def key(self) -> tuple[int, str, str]:
        """The total ordering key: (Lamport clock, author, id)."""
        return (self.clock, self.author, self.id)

    @property
    def params(self) -> np.ndarray:
        return np.array([getattr(self, n) for n in PARAM_NAMES], dtype=np.float32)

    def with_params(self, params: Sequence[float]) -> Stroke:
        return replace(self, **{n: float(v) for n, v in zip(PARAM_NAMES, params)})

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id}
        for n in PARAM_NAMES:
            d[n] = round(float(getattr(self, n)), 6)
        d["opacity"] = round(float(self.opacity), 6)
        d["author"] = self.author
        d["clock"] = self.clock
        return d

    @classmethod
    def from_dict(cls, d: Any, where: str = "stroke") -> Stroke:
        if not isinstance(d, Mapping):
            raise PaintingFormatError(f"{where}: must be an object, got {type(d).__name__}")
        missing = [k for k in ("id", *PARAM_NAMES) if k not in d]
        if missing:
            raise PaintingFormatError(f"{where}: missing field(s) {', '.join(missing)}")
        known = {"id", *PARAM_NAMES, "opacity", "author", "clock"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise PaintingFormatError(f"{where}: unknown field(s) {', '.join(unknown)}")
        kw = {k: d[k] for k in known if k in d}
        try:
            return cls(**kw)
        except PaintingFormatError as e:
            # re-word "stroke 'id'.field" into "<where>.field"
            msg = str(e)
            prefix = f"stroke {kw['id']!r}"
            if msg.startswith(prefix):
                msg = where + msg[len(prefix) :]
            raise PaintingFormatError(msg) from None


@dataclass
class Painting:
    """A document of strokes from one or more authors (see module doc)."""

    background: tuple[float, float, float] = (1.0, 1.0, 1.0)
    strokes: dict[str, Stroke] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    #: bumped on every change; views use it to know when to redraw
    version: int = 0
    _counters: dict[str, int] = field(default_factory=dict, repr=False)
    _order_cache: tuple[int, list[Stroke]] | None = field(default=None, repr=False)

    # -- queries ---------------------------------------------------------
    def __len__(self) -> int:
        return len(self.strokes)

    def __contains__(self, sid: str) -> bool:
        return sid in self.strokes

    @property
    def clock(self) -> int:
        """The largest clock in the document (tombstoned strokes included)."""
        return max((s.clock for s in self.strokes.values()), default=-1)

    def ordered(self) -> list[Stroke]:
        """The live strokes in paint order (bottom first)."""
        if self._order_cache is not None and self._order_cache[0] == self.version:
            return self._order_cache[1]
        out = sorted(self.strokes.values(), key=lambda s: s.key)
        self._order_cache = (self.version, out)
        return out

    def ids(self) -> list[str]:
        return [s.id for s in self.ordered()]

    def arrays(self, strokes: Sequence[Stroke] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(params (N, 8) float32, opacity (N,) float32) in paint order."""
        strokes = self.ordered() if strokes is None else strokes
        if not strokes:
            return np.zeros((0, 8), np.float32), np.zeros((0,), np.float32)
        p = np.array([[getattr(s, n) for n in PARAM_NAMES] for s in strokes], dtype=np.float32)
        o = np.array([s.opacity for s in strokes], dtype=np.float32)
        return p, o

    def by_author(self, author: str) -> list[Stroke]:
        return [s for s in self.ordered() if s.author == author]

    # -- edits -----------------------------------------------------------
    def new_id(self, author: str) -> str:
        n = self._counters.get(author, 0)
        # skip ids already used (e.g. after loading a file)
        while f"{author}:{n}" in self.strokes or f"{author}:{n}" in self.removed:
            n += 1
        self._counters[author] = n + 1
        return f"{author}:{n}"

    def add(
        self,
        params: Sequence[float] | np.ndarray,
        *,
        author: str = "me",
        opacity: float = 1.0,
    ) -> Stroke:
        """Add one stroke on top of everything seen so far."""
        return self.add_many(np.asarray(params, dtype=np.float64)[None], author=author, opacity=opacity)[0]

    def add_many(
        self,
        params: np.ndarray,
        *,
        author: str = "me",
        opacity: float | Sequence[float] | np.ndarray = 1.0,
    ) -> list[Stroke]:
        """Add strokes (rows of ``params``) on top, in the given order."""
        params = np.asarray(params, dtype=np.float64)
        if params.ndim != 2 or params.shape[1] != 8:
            raise PaintingFormatError(f"stroke parameters must have shape (N, 8), got {params.shape}")
        op = np.broadcast_to(np.asarray(opacity, dtype=np.float64), (params.shape[0],))
        clock = self.clock + 1
        made = []
        for i in range(params.shape[0]):
            s = Stroke(
                self.new_id(author), *params[i].tolist(), opacity=float(op[i]), author=author, clock=clock + i
            )
            made.append(s)
        for s in made:
            self.strokes[s.id] = s
        self.version += 1
        return made

    def insert(self, stroke: Stroke) -> bool:
        """Insert a stroke made elsewhere (keeps its id and key). False if known."""
        if stroke.id in self.removed or stroke.id in self.strokes:
            return False
        self.strokes[stroke.id] = stroke
        self.version += 1
        return True

    def update(self, sid: str, **changes: Any) -> Stroke:
        """Change parameters of a stroke in place (same id and key)."""
        if sid not in self.strokes:
            raise KeyError(f"no stroke {sid!r}")
        bad = set(changes) - set(PARAM_NAMES) - {"opacity"}
        if bad:
            raise PaintingFormatError(f"stroke {sid!r}: cannot change {', '.join(sorted(bad))}")
        s = replace(self.strokes[sid], **changes)
        self.strokes[sid] = s
        self.version += 1
        return s

    def remove(self, sid: str) -> Stroke | None:
        """Remove a stroke (leaves a tombstone). Returns it, or None."""
        s = self.strokes.pop(sid, None)
        self.removed.add(sid)
        self.version += 1
        return s

    def restore(self, stroke: Stroke) -> None:
        """Undo a local removal: put the same record back."""
        self.removed.discard(stroke.id)
        self.strokes[stroke.id] = stroke
        self.version += 1

    def clear(self) -> None:
        for sid in list(self.strokes):
            self.remove(sid)

    def merge(self, other: Painting) -> None:
        """Fold another replica into this one (commutative and idempotent)."""
        self.removed |= other.removed
        for sid, s in other.strokes.items():
            if sid not in self.strokes:
                self.strokes[sid] = s
        for sid in self.removed:
            self.strokes.pop(sid, None)
        self.version += 1

    def copy(self) -> Painting:
        p = Painting(tuple(self.background), dict(self.strokes), set(self.removed))
        p._counters = dict(self._counters)
        return p

    # -- (de)serialisation -----------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "background": [float(c) for c in self.background],
            "strokes": [s.to_dict() for s in self.ordered()],
            "removed": sorted(self.removed),
        }

    @classmethod
    def from_dict(cls, d: Any, where: str = "painting") -> Painting:
        if not isinstance(d, Mapping):
            raise PaintingFormatError(f"{where}: the top level must be an object")
        fmt = d.get("format")
        if fmt != FORMAT_NAME:
            raise PaintingFormatError(f"{where}: field 'format' = {fmt!r}, expected {FORMAT_NAME!r}")
        ver = d.get("version")
        if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
            raise PaintingFormatError(f"{where}: field 'version' = {ver!r}: must be an integer >= 1")
        if ver > FORMAT_VERSION:
            raise PaintingFormatError(
                f"{where}: written by a newer version (format {ver} > {FORMAT_VERSION})"
            )
        bg = d.get("background", [1.0, 1.0, 1.0])
        if not isinstance(bg, (list, tuple)) or len(bg) != 3:
            raise PaintingFormatError(f"{where}: field 'background' = {bg!r}: must be [r, g, b]")
        bg = tuple(_check_unit(c, f"{where}: background[{i}]") for i, c in enumerate(bg))
        raw = d.get("strokes")
        if not isinstance(raw, list):
            raise PaintingFormatError(f"{where}: field 'strokes' must be a list")
        removed = d.get("removed", [])
        if not isinstance(removed, list) or not all(isinstance(r, str) for r in removed):
            raise PaintingFormatError(f"{where}: field 'removed' must be a list of stroke ids")
        p = cls(background=bg, removed=set(removed))
        for i, sd in enumerate(raw):
            s = Stroke.from_dict(sd, f"{where}: strokes[{i}]")
            if s.id in p.strokes:
                raise PaintingFormatError(f"{where}: strokes[{i}].id = {s.id!r} is used twice")
            if s.id not in p.removed:
                p.strokes[s.id] = s
        return p


# --------------------------------------------------------------------------
# construction helpers
# --------------------------------------------------------------------------


def params_to_strokes(
    params: np.ndarray,
    opacity: float | np.ndarray = 1.0,
    author: str = "me",
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> Painting:
    """A painting holding ``params`` (N, 8) in order."""
    p = Painting(background=tuple(float(c) for c in background))
    params = np.clip(np.asarray(params, dtype=np.float64), 0.0, 1.0)
    params[:, 2:4] = np.maximum(params[:, 2:4], MIN_SIZE)
    if len(params):
        p.add_many(params, author=author, opacity=opacity)
    return p


def drag_to_strokes(
    points: np.ndarray | Sequence[Sequence[float]],
    size: float,
    color: Sequence[float],
    *,
    spacing: float = 2.0,
) -> np.ndarray:
    """Turn a drag path into stroke parameters (M, 8).

    ``points`` are (x, y) positions in canvas fractions along the drag,
    ``size`` the brush thickness (fraction of the canvas side) and ``color``
    (r, g, b) in [0, 1]. The path is cut by arc length into pieces of about
    ``spacing * size``; each piece becomes one stroke centred on it, as long as
    the piece plus one brush width (so consecutive strokes overlap with round
    ends) and rotated along it. A click without motion gives one round dab.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if pts.shape[0] == 0:
        return np.zeros((0, 8), np.float32)
    if not np.all(np.isfinite(pts)):
        raise ValueError("drag path: points must be finite")
    size = float(size)
    if not (MIN_SIZE <= size <= 1.0):
        raise ValueError(f"brush size = {size!r}: allowed range is [{MIN_SIZE:g}, 1]")
    col = np.asarray(color, dtype=np.float64).reshape(3)
    if np.any(~np.isfinite(col)) or np.any(col < 0) or np.any(col > 1):
        raise ValueError(f"brush colour = {tuple(col)}: each channel must be in [0, 1]")
    pts = np.clip(pts, 0.0, 1.0)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    piece = max(spacing * size, 1e-6)
    if total < 0.25 * size:
        c = pts.mean(axis=0)
        return np.array([[c[0], c[1], size, size, 0.0, *col]], dtype=np.float32)
    n = max(1, int(np.ceil(total / piece)))
    s = np.linspace(0.0, total, n + 1)
    # positions of the cut points by linear interpolation along the path
    xs = np.interp(s, cum, pts[:, 0])
    ys = np.interp(s, cum, pts[:, 1])
    a = np.stack([xs[:-1], ys[:-1]], axis=1)
    b = np.stack([xs[1:], ys[1:]], axis=1)
    d = b - a
    length = np.linalg.norm(d, axis=1)
    centre = 0.5 * (a + b)
    ang = np.mod(np.arctan2(d[:, 1], d[:, 0]), np.pi) / np.pi
    ang = np.where(ang >= 1.0, 0.0, ang)
    w = np.clip(length + size, MIN_SIZE, 1.0)
    out = np.empty((n, 8), dtype=np.float32)
    out[:, 0:2] = centre
    out[:, 2] = w
    out[:, 3] = size
    out[:, 4] = ang
    out[:, 5:8] = col
    return out


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def load_painting(path: str | os.PathLike) -> Painting:
    """Read a painting JSON file; errors name the file and the field.

    The file is read through :func:`engines.serialize.load_json_bounded`:
    bounded in size and nesting depth, and ``NaN`` / ``Infinity`` refused.
    """
    from engines.serialize import load_json_bounded

    path = Path(path)
    d = load_json_bounded(path, str(path), allow_nonfinite=False, error=PaintingFormatError)
    return Painting.from_dict(d, where=str(path))


def save_painting(painting: Painting, path: str | os.PathLike) -> None:
    """Write a painting as JSON (atomically: a temporary file, removed on failure, then a rename)."""
    from engines.files import atomic_write_text

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(painting.to_dict(), indent=1))


def strokes_from_iter(items: Iterable[Stroke]) -> Painting:
    p = Painting()
    for s in items:
        p.insert(s)
    return p
