"""Where the Route maps panel draws things: map coordinates, street and route polylines, arrows.

Plain functions of a :class:`~engines.routing.problem.Problem` (no Qt), so the
view only draws what they return. Map coordinates are planar: ``(x, y)`` for
coordinate instances, ``(lon * kx, lat)`` for latitude/longitude ones (``kx`` the
cosine of the mean latitude, so that a metre is about as long east as north),
and a classical MDS layout of the distances for matrix-only instances.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from engines.routing.problem import Problem, RoadGeometry

__all__ = [
    "arrow_segments",
    "arrow_size",
    "map_xy",
    "mds_layout",
    "pick",
    "route_path",
    "scale_bar",
    "street_segments",
    "to_problem_xy",
]


def mds_layout(distance: np.ndarray) -> np.ndarray:
    """A 2-D classical (Torgerson) MDS layout of the symmetrised ``distance`` matrix, shape (n, 2).

    The layout's pairwise distances reproduce ``(d + d.T) / 2`` exactly when those are
    Euclidean distances of points in the plane (up to a rotation or reflection).
    """
    d = np.asarray(distance, dtype=np.float64)
    n = d.shape[0]
    sym = (d + d.T) / 2
    centre = np.eye(n) - 1.0 / n
    gram = -0.5 * centre @ (sym**2) @ centre
    w, v = np.linalg.eigh(gram)
    xy = v[:, -2:] * np.sqrt(np.maximum(w[-2:], 0))
    return xy[:, ::-1]


#: kilometres per degree of latitude (mean Earth radius 6371.0088 km): one map unit of a lat/lon map
KM_PER_DEGREE = 6371.0088 * math.pi / 180.0


def scale_bar(map_units_per_px: float, target_px: float = 100.0) -> tuple[float, str]:
    """A scale bar of a lat/lon map about ``target_px`` long: its length in map units and its label.

    The length is a round distance (1, 2 or 5 times a power of ten metres); map units are degrees
    of latitude, and east-west distances match since :func:`map_xy` scales longitudes by ``kx``.
    """
    if not (map_units_per_px > 0 and math.isfinite(map_units_per_px)):
        raise ValueError(f"map_units_per_px = {map_units_per_px!r}: must be positive and finite")
    want_m = target_px * map_units_per_px * KM_PER_DEGREE * 1000.0
    power = 10.0 ** math.floor(math.log10(want_m))
    metres = max(m * power for m in (1, 2, 5) if m * power <= want_m)
    label = f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m"
    return metres / 1000.0 / KM_PER_DEGREE, label


def map_xy(problem: Problem) -> tuple[np.ndarray, float]:
    """The map position of every node (depot first), shape (n, 2), and the x scale ``kx`` used."""
    p = problem
    if p.coords is None:  # matrix-only instance
        return mds_layout(p.distance), 1.0
    if p.coord_kind == "latlon":
        kx = math.cos(math.radians(float(np.mean(p.coords[:, 0]))))
        return np.stack([p.coords[:, 1] * kx, p.coords[:, 0]], 1), kx
    return np.asarray(p.coords, dtype=np.float64), 1.0


def street_segments(roads: RoadGeometry | None, kx: float) -> np.ndarray:
    """The road graph's edges as consecutive point pairs in map coordinates, shape (2 * edges, 2)."""
    if roads is None:
        return np.zeros((0, 2))
    pts = roads.node_xy[roads.edges.ravel()]
    return np.stack([pts[:, 0] * kx, pts[:, 1]], 1)


def route_path(
    problem: Problem, route: Sequence[int], xy: np.ndarray, kx: float
) -> tuple[np.ndarray, np.ndarray]:
    """The polyline of one route from the depot back to it, and where its arrows go.

    Along the streets for road-network instances (arrows at the middle of each leg),
    straight from stop to stop otherwise (an arrow on every segment). Returns
    ``(path, at)``: the (k, 2) map points and the indices of ``path`` that get an arrow.
    """
    nodes = [0, *route, 0]
    if problem.roads is None:
        path = np.asarray(xy)[nodes]
        return path, np.arange(1, len(path))
    parts, mids = [], []
    offset = 0
    for a, b in zip(nodes[:-1], nodes[1:]):
        leg = problem.roads.leg(a, b)
        leg = np.stack([leg[:, 0] * kx, leg[:, 1]], 1)
        mids.append(offset + max(1, len(leg) // 2))
        parts.append(leg)
        offset += len(leg)
    return np.concatenate(parts), np.asarray(mids)


def arrow_size(xy: np.ndarray) -> float:
    """Arrow barb length: 1.2 % of the larger side of the map's extent."""
    return 0.012 * (float(np.ptp(xy, axis=0).max()) if len(xy) else 1.0)


def arrow_segments(xy: np.ndarray, at: np.ndarray, size: float) -> np.ndarray:
    """Two barb segments (pairs of points) for an arrow at each index of ``at``.

    The arrow of index ``i`` points along the segment ``xy[i - 1] -> xy[i]`` with its tip
    just past the segment's middle; indices outside ``[1, len(xy))`` and zero-length
    segments get none. Returns (4 * arrows, 2) points, to draw with ``connect="pairs"``.
    """
    out = []
    for i in at:
        if i <= 0 or i >= len(xy):
            continue
        p, q = xy[i - 1], xy[i]
        d = q - p
        n = math.hypot(*d)
        if n == 0:
            continue
        d = d / n
        tip = (p + q) / 2 + d * size * 0.5
        for ang in (2.6, -2.6):
            c, s = math.cos(ang), math.sin(ang)
            b = tip + size * np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
            out.extend([tip, b])
    return np.asarray(out).reshape(-1, 2)


def to_problem_xy(map_point: Sequence[float], kx: float, coord_kind: str) -> tuple[float, float]:
    """A map point back in the problem's coordinates: ``(x, y)``, or ``(lat, lon)`` for ``"latlon"``."""
    x, y = float(map_point[0]) / kx, float(map_point[1])
    return (y, x) if coord_kind == "latlon" else (x, y)


def pick(xy: np.ndarray, point: Sequence[float], pixel: Sequence[float], radius_px: float) -> int | None:
    """The node nearest ``point`` if within ``radius_px`` screen pixels (``pixel``: map units per pixel)."""
    if len(xy) == 0:
        return None
    d = np.hypot((xy[:, 0] - point[0]) / pixel[0], (xy[:, 1] - point[1]) / pixel[1])
    i = int(np.argmin(d))
    return i if d[i] <= radius_px else None
