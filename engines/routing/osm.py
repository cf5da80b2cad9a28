"""Road networks from OpenStreetMap ``.pbf`` extracts (read with pyosmium).

A driving graph is built from the ``highway=*`` ways a car may use. One-way
streets are respected (``oneway=yes|true|1``, ``oneway=-1`` reversed,
``junction=roundabout`` and motorways implied one-way). Each edge's speed comes
from its ``maxspeed`` tag (km/h, or mph when marked) or, failing that, from a
default of its road class. Edge length is the great-circle distance between
consecutive way nodes.

Points are drawn (seeded) among the vertices of the largest strongly connected
component, so every pair is reachable both ways. Distances (km, shortest by
length) and durations (minutes, fastest by time) are computed separately with
``scipy.sparse.csgraph.dijkstra``; both are asymmetric. The street geometry of
each leg follows the distance-shortest path (stored as predecessors).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from engines.routing.problem import Problem, RoadGeometry
from engines.serialize import FormatError, open_regular

__all__ = ["DEFAULT_SPEED_KMH", "RoadGraph", "osm_problem", "parse_maxspeed", "read_road_graph"]

#: road-class default speeds (km/h) when a way has no usable maxspeed tag
DEFAULT_SPEED_KMH = {
    "motorway": 100.0,
    "trunk": 80.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
}
_LINK_FACTOR = 0.7  # *_link ramps: this share of their class speed
#: a maxspeed tag above this (km/h) is a mistake and ignored, like one that is not a number
MAX_SPEED_KMH = 300.0


def parse_maxspeed(value: str | None) -> float | None:
    """km/h from a maxspeed tag ("50", "30 mph", "50;30" -> 30), None if unusable."""
    if not value:
        return None
    best = None
    for part in re.split(r"[;,]", value):
        m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", part)
        if not m:
            continue
        v = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
        if 0 < v <= MAX_SPEED_KMH:
            best = v if best is None else min(best, v)
    return None if best is None else max(best, 1.0)


def road_speed(highway: str, maxspeed: str | None) -> float | None:
    """Speed (km/h) of a drivable way, None when cars do not use it."""
    base = highway[:-5] if highway.endswith("_link") else highway
    if base not in DEFAULT_SPEED_KMH:
        return None
    v = parse_maxspeed(maxspeed)
    if v is None:
        v = DEFAULT_SPEED_KMH[base] * (_LINK_FACTOR if highway.endswith("_link") else 1.0)
    return v


def _haversine_km(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


class RoadGraph:
    """Directed driving graph: vertices (lon, lat), edges with km and minutes."""

    def __init__(
        self, lonlat: np.ndarray, src: np.ndarray, dst: np.ndarray, km: np.ndarray, minutes: np.ndarray
    ):
        self.lonlat = lonlat
        self.src, self.dst, self.km, self.minutes = src, dst, km, minutes

    @property
    def n(self) -> int:
        return len(self.lonlat)

    def matrix(self, weight: np.ndarray) -> csr_matrix:
        # duplicate edges: keep the smallest weight
        order = np.lexsort((weight, self.dst, self.src))
        s, d, w = self.src[order], self.dst[order], weight[order]
        keep = np.r_[True, (s[1:] != s[:-1]) | (d[1:] != d[:-1])]
        w = np.maximum(w[keep], 1e-9)  # a zero weight would vanish from the sparse matrix
        return csr_matrix((w, (s[keep], d[keep])), shape=(self.n, self.n))

    def largest_scc(self) -> np.ndarray:
        _, labels = connected_components(self.matrix(self.km), directed=True, connection="strong")
        big = np.argmax(np.bincount(labels))
        return np.nonzero(labels == big)[0]


def read_road_graph(path: str | os.PathLike) -> RoadGraph:
    """The driving graph of an OSM ``.pbf`` extract."""
    import osmium

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    open_regular(path)[0].close()  # a folder, FIFO or device is refused here
    ids: dict[int, int] = {}
    lon: list[float] = []
    lat: list[float] = []
    src: list[int] = []
    dst: list[int] = []
    spd: list[float] = []
    try:
        fp = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
        for o in fp:
            if not o.is_way():
                continue
            tags = o.tags
            v = road_speed(tags.get("highway", ""), tags.get("maxspeed"))
            if v is None or tags.get("access") in ("no", "private") or tags.get("motor_vehicle") == "no":
                continue
            ow = tags.get("oneway", "")
            fwd = ow in ("yes", "true", "1") or tags.get("junction") in ("roundabout", "circular")
            fwd = fwd or (tags.get("highway") == "motorway" and ow != "no")
            rev = ow == "-1"
            vs = []
            for nd in o.nodes:
                if not nd.location.valid():
                    continue
                k = ids.get(nd.ref)
                if k is None:
                    k = ids[nd.ref] = len(lon)
                    lon.append(nd.lon)
                    lat.append(nd.lat)
                vs.append(k)
            for a, b in zip(vs[:-1], vs[1:]):
                if a == b:
                    continue
                if not rev:
                    src.append(a)
                    dst.append(b)
                    spd.append(v)
                if rev or not fwd:
                    src.append(b)
                    dst.append(a)
                    spd.append(v)
    except Exception as e:  # osmium raises RuntimeError, ValueError, ... on a damaged file
        raise FormatError(f"{path}: not a readable OSM file ({type(e).__name__}: {e})") from None
    if not src:
        raise FormatError(f"{path}: no drivable roads (highway=* ways for cars) in this extract")
    lonlat = np.stack([np.asarray(lon), np.asarray(lat)], axis=1)
    s = np.asarray(src, dtype=np.int64)
    d = np.asarray(dst, dtype=np.int64)
    km = _haversine_km(lonlat[s, 1], lonlat[s, 0], lonlat[d, 1], lonlat[d, 0])
    minutes = km / np.asarray(spd) * 60.0
    return RoadGraph(lonlat, s, d, km, minutes)


def osm_problem(
    path: str | os.PathLike,
    n_points: int = 100,
    seed: int = 0,
    graph: RoadGraph | None = None,
    capacity: float | None = None,
) -> Problem:
    """An ATSP instance over ``n_points`` seeded vertices of the extract (point 0 = depot).

    With ``capacity``, an ACVRP instead: customer demands drawn uniformly in 1..9
    (after the points, from the same seed).
    """
    path = Path(path)
    g = graph if graph is not None else read_road_graph(path)
    scc = g.largest_scc()
    if n_points < 2:
        raise ValueError(f"points = {n_points}: need at least 2")
    if len(scc) < n_points:
        raise ValueError(
            f"{path}: the largest strongly connected driving component has {len(scc)} vertices, "
            f"fewer than the {n_points} points asked"
        )
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(scc, size=n_points, replace=False))
    pick = rng.permutation(pick)
    Wd = g.matrix(g.km)
    Wt = g.matrix(g.minutes)
    dist_all, pred = dijkstra(Wd, directed=True, indices=pick, return_predecessors=True)
    dur_all = dijkstra(Wt, directed=True, indices=pick)
    D = dist_all[:, pick]
    T = dur_all[:, pick]
    np.fill_diagonal(D, 0.0)
    np.fill_diagonal(T, 0.0)
    if not (np.all(np.isfinite(D)) and np.all(np.isfinite(T))):  # pragma: no cover - scc guarantees it
        raise ValueError(f"{path}: some chosen points cannot reach each other")
    # keep only the graph part inside the component for drawing
    keep = np.zeros(g.n, bool)
    keep[scc] = True
    e_ok = keep[g.src] & keep[g.dst]
    edges = np.unique(np.sort(np.stack([g.src[e_ok], g.dst[e_ok]], 1), axis=1), axis=0)
    pred = np.where(pred < 0, -1, pred).astype(np.int32)
    roads = RoadGeometry(g.lonlat, edges, pick.astype(np.int64), pred)
    pts = g.lonlat[pick][:, ::-1]  # (lat, lon)
    demand = None
    if capacity is not None:
        demand = np.r_[0.0, rng.integers(1, 10, n_points - 1)]
    return Problem(
        name=f"{path.name.split('.')[0]}-{n_points}-s{seed}"
        + ("" if capacity is None else f"-c{capacity:g}"),
        distance=D,
        duration=T,
        coords=pts,
        coord_kind="latlon",
        demand=demand,
        capacity=capacity,
        num_vehicles=1 if capacity is None else None,
        source=str(path),
        distance_unit="km",
        duration_unit="min",
        roads=roads,
    )
