"""What the others publish about themselves (Yjs awareness), read defensively, and what I publish.

Any Yjs client may publish anything as its presence state; these functions keep
only well-formed fields: names cut to 40 characters, colours to 16, cursors and
drag paths as pairs of numbers, at most twice the points a studio sends.
"""

from __future__ import annotations

from typing import Any

from engines.collab.engine import SessionStatus

#: most points of a drag in progress sent to the others
DRAG_POINTS = 120
NAME_CHARS = 40


def peer_states(st: SessionStatus) -> list[dict]:
    """The others' presence states that are JSON objects."""
    return [p for p in st.peers.values() if isinstance(p, dict)]


def _pair(q: Any) -> bool:
    return isinstance(q, list) and len(q) == 2 and all(isinstance(v, (int, float)) for v in q)


def peer_names(st: SessionStatus) -> list[tuple[str, str]]:
    """(name, colour) of the others, sorted by name."""
    others = sorted(peer_states(st), key=lambda p: str(p.get("name", "")))
    return [(str(p.get("name", "?"))[:NAME_CHARS], str(p.get("colour", "#888888"))) for p in others]


def peer_cursors(st: SessionStatus) -> list[tuple[str, str, float, float]]:
    """(name, colour, x, y) of the others' cursors (canvas fractions)."""
    out = []
    for p in peer_states(st):
        c = p.get("cursor")
        if _pair(c):
            out.append(
                (
                    str(p.get("name", "?"))[:NAME_CHARS],
                    str(p.get("colour", "#888888")),
                    float(c[0]),
                    float(c[1]),
                )
            )
    return out


def peer_drags(st: SessionStatus) -> list[tuple[str, float, list[tuple[float, float]]]]:
    """The others' brush drags in progress: (brush colour, size, points); malformed ones left out."""
    out = []
    for p in peer_states(st):
        d = p.get("drag")
        if not isinstance(d, dict):
            continue
        pts, colour, size = d.get("points"), d.get("colour"), d.get("size")
        if not isinstance(pts, list) or not isinstance(colour, str) or not isinstance(size, (int, float)):
            continue
        good = [(float(q[0]), float(q[1])) for q in pts[: 2 * DRAG_POINTS] if _pair(q)]
        if good and 0.0 < float(size) <= 1.0:
            out.append((colour[:16], float(size), good))
    return out


def locked_names(st: SessionStatus) -> frozenset[str]:
    """Names of the others who locked their strokes (presence ``locked`` is True)."""
    return frozenset(str(p.get("name"))[:NAME_CHARS] for p in peer_states(st) if p.get("locked") is True)


def drag_message(points: list, colour: str, size: float) -> dict:
    """My drag in progress as a presence field: at most DRAG_POINTS points (thinned evenly, the last kept)."""
    pts = list(points)
    if len(pts) > DRAG_POINTS:  # keep the message small: thin the path evenly
        step = len(pts) / DRAG_POINTS
        pts = [pts[int(i * step)] for i in range(DRAG_POINTS - 1)] + [pts[-1]]
    return {
        "points": [[round(float(x), 4), round(float(y), 4)] for x, y in pts],
        "colour": str(colour),
        "size": float(size),
    }


__all__ = [
    "DRAG_POINTS",
    "drag_message",
    "locked_names",
    "peer_cursors",
    "peer_drags",
    "peer_names",
    "peer_states",
]
