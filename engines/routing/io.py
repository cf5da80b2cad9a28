"""Reading and writing routing instances and solutions.

Instances: VRPLIB ``.vrp`` (through the ``vrplib`` package), Solomon ``.txt``,
TSPLIB ``.atsp`` (FULL_MATRIX whose rows wrap across lines, sentinels on the
diagonal), RRNCO-style ``.npz`` (``distance`` km, ``duration`` minutes,
``points`` lat/lon, optional extras) and CSV (columns below). Solutions:
VRPLIB ``.sol`` (read and write), CSV and GeoJSON (write).

CSV instances
-------------
Optional metadata lines first, ``# key: value`` with keys ``name``,
``capacity``, ``vehicles``, ``speed_kmh`` (lat/lon only, default 40). Then a
header naming the columns, then one row per node, the depot first::

    # capacity: 100
    id,x,y,demand,ready,due,service
    0,50,50,0,0,1000,0
    1,12,80,10,0,400,10

Required: ``x,y`` or ``lat,lon``. Optional: ``id`` (ignored), ``demand``,
``ready``, ``due`` (both or neither: time windows), ``service``. Distances
are Euclidean for x/y (duration = distance) or great-circle kilometres for
lat/lon (duration in minutes at ``speed_kmh``).

Every error is a :class:`FormatError` naming the file and, where it can, the
line.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path

import numpy as np

from engines.files import atomic_output, atomic_write_text
from engines.routing.problem import Evaluation, Problem, RoadGeometry, evaluate, normalise_routes
from engines.serialize import FormatError

__all__ = [
    "FormatError",
    "KNOWN_OPTIMA",
    "load_problem",
    "read_atsp",
    "read_csv",
    "read_npz",
    "read_solomon",
    "read_solution",
    "read_vrplib",
    "write_npz",
    "write_solution",
    "write_solution_csv",
    "write_geojson",
    "geojson",
]

#: published TSPLIB optima of the shipped ATSP instances (no tour files ship)
KNOWN_OPTIMA = {"br17": 39, "ftv33": 1286, "ftv38": 1530, "ftv47": 1776, "ft53": 6905, "ftv55": 1608}


def _err(path, line: int | None, msg: str) -> FormatError:
    where = f"{path}:{line}" if line is not None else f"{path}"
    return FormatError(f"{where}: {msg}")


def _bks_from_sibling(path: Path) -> float | None:
    sol = path.with_suffix(".sol")
    if sol.exists():
        try:
            _, cost = read_solution(sol)
            return cost
        except FormatError:
            return None
    return KNOWN_OPTIMA.get(path.stem)


# --------------------------------------------------------------------------
# VRPLIB
# --------------------------------------------------------------------------

_NUM = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _scan_vrplib(path: Path, lines: list[str]) -> None:
    """Find the first malformed line of a VRPLIB file (raises FormatError)."""
    in_section = False
    dim = None
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        head = line.split(":")[0].strip().upper()
        if line.upper().endswith("_SECTION") or head.endswith("_SECTION"):
            in_section = True
            continue
        if ":" in line and not _NUM.match(line.split()[0]):
            in_section = False
            if head == "DIMENSION":
                val = line.split(":", 1)[1].strip()
                if not val.isdigit():
                    raise _err(path, no, f"DIMENSION must be a positive integer, got {val!r}")
                dim = int(val)
            continue
        if in_section:
            bad = [t for t in line.split() if not _NUM.match(t)]
            if bad:
                raise _err(path, no, f"expected numbers in a data section, found {bad[0]!r}")
            continue
        raise _err(path, no, f"not a 'KEY : value' line nor section data: {line[:60]!r}")
    if dim is None:
        raise _err(path, None, "no DIMENSION given")


def read_vrplib(path: str | os.PathLike) -> Problem:
    """A CVRP(/ATSP) instance in VRPLIB format, read with the ``vrplib`` package."""
    import vrplib

    path = Path(path)
    text = _read_text(path)
    lines = text.splitlines()
    head = "\n".join(lines[:12]).upper()
    if re.search(r"TYPE\s*:\s*(ATSP|TSP)\b", head) and "FULL_MATRIX" in head:
        return read_atsp(path)
    _scan_vrplib(path, lines)
    try:
        inst = vrplib.read_instance(str(path))
    except Exception as e:  # vrplib raises many kinds; name the file
        raise _err(path, None, f"not a readable VRPLIB instance ({type(e).__name__}: {e})") from e
    n = int(inst.get("dimension", 0))
    coords = inst.get("node_coord")
    ewt = str(inst.get("edge_weight_type", "")).upper()
    precision = None
    if ewt == "EUC_2D" and coords is not None:
        c = np.asarray(coords, dtype=np.float64)
        if c.shape != (n, 2):
            raise _err(path, None, f"NODE_COORD_SECTION has {len(c)} rows, DIMENSION says {n}")
        D = np.round(np.hypot(*(c[:, None, :] - c[None, :, :]).transpose(2, 0, 1)))
        precision = 0
    elif "edge_weight" in inst:
        D = np.asarray(inst["edge_weight"], dtype=np.float64)
        if D.shape != (n, n):
            raise _err(path, None, f"edge weights have shape {D.shape}, DIMENSION says {n}")
        if np.all(D == np.round(D)):
            precision = 0
    else:
        raise _err(path, None, f"EDGE_WEIGHT_TYPE {ewt or '?'} is not supported (EUC_2D or EXPLICIT)")
    demand = inst.get("demand")
    if demand is None:
        demand = np.zeros(n)
    demand = np.asarray(demand, dtype=np.float64)
    if demand.shape != (n,):
        raise _err(path, None, f"DEMAND_SECTION has {demand.size} entries, DIMENSION says {n}")
    depots = np.atleast_1d(np.asarray(inst.get("depot", [0]), dtype=np.int64))
    if len(depots) != 1:
        raise _err(path, None, f"{len(depots)} depots given; only single-depot problems are supported")
    dep = int(depots[0])
    if not 0 <= dep < n:
        raise _err(path, None, f"depot {dep + 1} is not a node (1..{n})")
    order = np.r_[dep, np.delete(np.arange(n), dep)]
    D = D[np.ix_(order, order)]
    np.fill_diagonal(D, 0.0)
    cap = inst.get("capacity")
    vehicles = inst.get("vehicles")
    tw = inst.get("time_window")
    svc = inst.get("service_time")
    return Problem(
        name=str(inst.get("name", path.stem)),
        distance=D,
        duration=D,
        coords=None if coords is None else np.asarray(coords, dtype=np.float64)[order],
        demand=demand[order],
        capacity=None if cap is None else float(cap),
        num_vehicles=None if vehicles is None else int(vehicles),
        time_windows=None if tw is None else np.asarray(tw, dtype=np.float64)[order],
        service=None
        if svc is None
        else np.broadcast_to(np.asarray(svc, dtype=np.float64), (n,))[order].copy(),
        bks=_bks_from_sibling(path),
        precision=precision,
        source=str(path),
    )


# --------------------------------------------------------------------------
# TSPLIB ATSP
# --------------------------------------------------------------------------


def read_atsp(path: str | os.PathLike) -> Problem:
    """TSPLIB ATSP with EDGE_WEIGHT_FORMAT FULL_MATRIX (rows may wrap lines)."""
    path = Path(path)
    lines = _read_text(path).splitlines()
    spec: dict[str, str] = {}
    start = None
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line.upper().startswith("EDGE_WEIGHT_SECTION"):
            start = no
            break
        if ":" not in line:
            raise _err(path, no, f"expected 'KEY : value', got {line[:60]!r}")
        k, v = line.split(":", 1)
        spec[k.strip().upper()] = v.strip()
    if start is None:
        raise _err(path, None, "no EDGE_WEIGHT_SECTION")
    fmt = spec.get("EDGE_WEIGHT_FORMAT", "FULL_MATRIX").upper()
    if fmt != "FULL_MATRIX":
        raise _err(path, None, f"EDGE_WEIGHT_FORMAT {fmt} is not supported (FULL_MATRIX)")
    try:
        n = int(spec["DIMENSION"])
    except (KeyError, ValueError) as e:
        raise _err(path, None, "DIMENSION missing or not an integer") from e
    vals: list[float] = []
    for no in range(start + 1, len(lines) + 1):
        line = lines[no - 1].strip()
        if not line:
            continue
        if line == "EOF" or (line[0].isalpha() and ":" not in line and line.upper().endswith("SECTION")):
            break
        if line[0].isalpha():
            break
        for tok in line.split():
            try:
                vals.append(float(tok))
            except ValueError as e:
                raise _err(path, no, f"not a number: {tok!r}") from e
            if len(vals) > n * n:
                raise _err(path, no, f"more than {n}x{n} = {n * n} matrix entries")
    if len(vals) != n * n:
        raise _err(path, None, f"EDGE_WEIGHT_SECTION has {len(vals)} numbers, expected {n * n}")
    D = np.asarray(vals, dtype=np.float64).reshape(n, n)
    np.fill_diagonal(D, 0.0)  # diagonal holds sentinels (9999, 100000000)
    name = spec.get("NAME", path.stem)
    return Problem(
        name=name,
        distance=D,
        duration=D,
        num_vehicles=1,
        bks=KNOWN_OPTIMA.get(name, KNOWN_OPTIMA.get(path.stem)),
        precision=0 if np.all(D == np.round(D)) else None,
        source=str(path),
    )


# --------------------------------------------------------------------------
# Solomon
# --------------------------------------------------------------------------


def solomon_distance(coords: np.ndarray) -> np.ndarray:
    """DIMACS convention: Euclidean distance truncated to one decimal."""
    c = np.asarray(coords, dtype=np.float64)
    sq = ((c[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    # floor(10 d) exactly: d^2 of integer coordinates is an integer
    return np.floor(np.sqrt(100.0 * sq) + 1e-9) / 10.0


def read_solomon(path: str | os.PathLike) -> Problem:
    """A Solomon VRPTW ``.txt`` instance (DIMACS distances, one decimal)."""
    path = Path(path)
    lines = _read_text(path).splitlines()
    name = None
    vehicles = capacity = None
    rows: list[list[float]] = []
    state = "name"
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        up = line.upper()
        if state == "name":
            name = line.split()[0]
            state = "head"
            continue
        if up.startswith("VEHICLE"):
            state = "vehicle"
            continue
        if up.startswith("NUMBER"):
            continue
        if up.startswith("CUSTOMER"):
            state = "customers"
            continue
        if up.startswith("CUST"):
            continue
        toks = line.split()
        try:
            nums = [float(t) for t in toks]
        except ValueError as e:
            raise _err(path, no, f"expected numbers, got {line[:60]!r}") from e
        if state == "vehicle":
            if len(nums) != 2:
                raise _err(path, no, "expected 'NUMBER CAPACITY' (two numbers)")
            vehicles, capacity = int(nums[0]), nums[1]
            state = "head"
        elif state == "customers":
            if len(nums) != 7:
                raise _err(path, no, f"a customer row has 7 numbers, this one has {len(nums)}")
            if int(nums[0]) != len(rows):
                raise _err(path, no, f"customer number {int(nums[0])} out of order (expected {len(rows)})")
            rows.append(nums)
        else:
            raise _err(path, no, f"unexpected line {line[:60]!r}")
    if vehicles is None:
        raise _err(path, None, "no VEHICLE section (NUMBER CAPACITY)")
    if len(rows) < 2:
        raise _err(path, None, "fewer than two nodes in the CUSTOMER section")
    a = np.asarray(rows)
    coords = a[:, 1:3]
    D = solomon_distance(coords)
    return Problem(
        name=name or path.stem,
        distance=D,
        duration=D,
        coords=coords,
        demand=a[:, 3],
        capacity=capacity,
        num_vehicles=vehicles,
        time_windows=a[:, 4:6],
        service=a[:, 6],
        bks=_bks_from_sibling(path),
        precision=1,
        source=str(path),
    )


# --------------------------------------------------------------------------
# npz (RRNCO city layout and our own extras)
# --------------------------------------------------------------------------


def read_npz(path: str | os.PathLike) -> Problem:
    """RRNCO-style ``.npz``: ``distance`` (km), ``duration`` (min), ``points`` (lat, lon).

    Optional arrays: ``demand``, ``capacity``, ``num_vehicles``,
    ``time_windows``, ``service``, ``bks``, ``name``; road geometry
    ``road_node_xy``, ``road_edges``, ``road_point_node``, ``road_pred``.
    Without demands the instance is an ATSP over the points (depot = point 0).
    """
    path = Path(path)
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise _err(path, None, f"not a readable .npz file ({e})") from e
    with z:
        keys = set(z.files)
        for k in ("distance", "points"):
            if k not in keys:
                raise _err(path, None, f"array {k!r} is missing (have {', '.join(sorted(keys))})")
        D = np.asarray(z["distance"], dtype=np.float64)
        T = np.asarray(z["duration"], dtype=np.float64) if "duration" in keys else D
        pts = np.asarray(z["points"], dtype=np.float64)

        def opt(k):
            return np.asarray(z[k]) if k in keys else None

        demand = opt("demand")
        capacity = opt("capacity")
        nv = opt("num_vehicles")
        roads = None
        if {"road_node_xy", "road_edges", "road_point_node", "road_pred"} <= keys:
            roads = RoadGeometry(
                np.asarray(z["road_node_xy"], dtype=np.float64),
                np.asarray(z["road_edges"], dtype=np.int64),
                np.asarray(z["road_point_node"], dtype=np.int64),
                np.asarray(z["road_pred"], dtype=np.int64),
            )
        name = str(z["name"]) if "name" in keys else path.stem
        bks = float(z["bks"]) if "bks" in keys else None
        tw = opt("time_windows")
        svc = opt("service")
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise _err(path, None, f"'distance' must be square, has shape {D.shape}")
    if pts.shape != (D.shape[0], 2):
        raise _err(path, None, f"'points' has shape {pts.shape}, expected ({D.shape[0]}, 2)")
    D = D.copy()
    T = T.copy()
    np.fill_diagonal(D, 0.0)
    np.fill_diagonal(T, 0.0)
    try:
        return Problem(
            name=name,
            distance=D,
            duration=T,
            coords=pts,
            coord_kind="latlon",
            demand=demand,
            capacity=None if capacity is None else float(capacity),
            num_vehicles=(1 if demand is None and tw is None else None) if nv is None else int(nv),
            time_windows=tw,
            service=svc,
            bks=bks,
            precision=None,
            source=str(path),
            distance_unit="km",
            duration_unit="min",
            roads=roads,
        )
    except ValueError as e:
        raise FormatError(str(e)) from e


def write_npz(path: str | os.PathLike, p: Problem) -> None:
    """Write ``p`` in the RRNCO-style layout (plus our optional extras)."""
    out: dict[str, np.ndarray] = {
        "distance": p.distance,
        "duration": p.duration,
        "points": p.coords if p.coords is not None else np.zeros((p.n, 2)),
        "name": np.array(p.name),
    }
    if np.any(p.demand):
        out["demand"] = p.demand
    if p.capacity is not None:
        out["capacity"] = np.array(p.capacity)
    if p.num_vehicles is not None:
        out["num_vehicles"] = np.array(p.num_vehicles)
    if p.time_windows is not None:
        out["time_windows"] = p.time_windows
    if p.service is not None:
        out["service"] = p.service
    if p.bks is not None:
        out["bks"] = np.array(p.bks)
    if p.roads is not None:
        out["road_node_xy"] = p.roads.node_xy
        out["road_edges"] = p.roads.edges
        out["road_point_node"] = p.roads.point_node
        out["road_pred"] = p.roads.pred.astype(np.int32)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **out)


# --------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------


def haversine_km(latlon: np.ndarray) -> np.ndarray:
    lat = np.radians(latlon[:, 0])
    lon = np.radians(latlon[:, 1])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def read_csv(path: str | os.PathLike) -> Problem:
    """A CSV instance (see the module docstring for the columns)."""
    path = Path(path)
    lines = _read_text(path).splitlines()
    meta: dict[str, str] = {}
    first = 0
    for no, raw in enumerate(lines):
        s = raw.strip()
        if not s:
            continue
        if s.startswith("#"):
            if ":" in s:
                k, v = s[1:].split(":", 1)
                meta[k.strip().lower()] = v.strip()
            continue
        first = no
        break
    else:
        raise _err(path, None, "no header row")
    reader = csv.reader(lines[first:])
    header = [h.strip().lower() for h in next(reader)]
    cols = {h: i for i, h in enumerate(header)}
    if {"x", "y"} <= cols.keys():
        ckeys, kind = ("x", "y"), "xy"
    elif {"lat", "lon"} <= cols.keys():
        ckeys, kind = ("lat", "lon"), "latlon"
    else:
        raise _err(path, first + 1, f"header needs x,y or lat,lon columns, has {','.join(header)}")
    known = {"id", "x", "y", "lat", "lon", "demand", "ready", "due", "service"}
    unknown = [h for h in header if h not in known]
    if unknown:
        raise _err(path, first + 1, f"unknown column {unknown[0]!r} (allowed: {', '.join(sorted(known))})")
    if ("ready" in cols) != ("due" in cols):
        raise _err(path, first + 1, "time windows need both 'ready' and 'due' columns")
    rows = []
    for k, row in enumerate(reader):
        no = first + 2 + k
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise _err(path, no, f"{len(row)} fields, the header has {len(header)}")
        vals = {}
        for h, i in cols.items():
            try:
                vals[h] = float(row[i])
            except ValueError as e:
                raise _err(path, no, f"column {h!r}: not a number: {row[i]!r}") from e
        rows.append(vals)
    if len(rows) < 2:
        raise _err(path, None, "needs a depot row and at least one customer")
    coords = np.array([[r[ckeys[0]], r[ckeys[1]]] for r in rows])
    if kind == "xy":
        D = np.hypot(*(coords[:, None, :] - coords[None, :, :]).transpose(2, 0, 1))
        T = D
        du, tu = "", ""
    else:
        speed = float(meta.get("speed_kmh", 40))
        D = haversine_km(coords)
        T = D / speed * 60.0
        du, tu = "km", "min"

    def col(name):
        return np.array([r[name] for r in rows]) if name in cols else None

    def meta_num(key, cast):
        if key not in meta:
            return None
        try:
            return cast(meta[key])
        except ValueError as e:
            raise _err(path, None, f"metadata {key!r}: not a number: {meta[key]!r}") from e

    demand = col("demand")
    tw = None
    if "ready" in cols:
        tw = np.stack([col("ready"), col("due")], axis=1)
    cap = meta_num("capacity", float)
    nv = meta_num("vehicles", int)
    if cap is None and tw is None and nv is None:
        nv = 1
    try:
        return Problem(
            name=meta.get("name", path.stem),
            distance=D,
            duration=T,
            coords=coords,
            coord_kind=kind,
            demand=demand,
            capacity=cap,
            num_vehicles=nv,
            time_windows=tw,
            service=col("service"),
            source=str(path),
            distance_unit=du,
            duration_unit=tu,
        )
    except ValueError as e:
        raise FormatError(str(e)) from e


# --------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as e:
        raise _err(path, None, f"not a text file ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise _err(path, None, f"cannot read ({e})") from e


def load_problem(path: str | os.PathLike) -> Problem:
    """Load an instance, choosing the reader from the extension and contents."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    ext = path.suffix.lower()
    if ext == ".npz":
        return read_npz(path)
    if ext == ".csv":
        return read_csv(path)
    if ext in (".atsp",):
        return read_atsp(path)
    if ext == ".pbf":
        raise _err(path, None, "an OpenStreetMap extract: use `python -m engines routing osm` first")
    text = _read_text(path)
    head = text[:2000].upper()
    if ext == ".txt" and "CUSTOMER" in head and "VEHICLE" in head:
        return read_solomon(path)
    if "EDGE_WEIGHT_TYPE" in head or "DIMENSION" in head:
        return read_vrplib(path)
    if "CUSTOMER" in head and "VEHICLE" in head:
        return read_solomon(path)
    raise _err(path, None, "unknown instance format (VRPLIB, Solomon, TSPLIB ATSP, .npz or .csv)")


# --------------------------------------------------------------------------
# Solutions
# --------------------------------------------------------------------------


def read_solution(path: str | os.PathLike) -> tuple[list[list[int]], float | None]:
    """A VRPLIB ``.sol``: ``Route #k: c1 c2 ...`` lines and ``Cost X``."""
    path = Path(path)
    routes: list[list[int]] = []
    cost = None
    for no, raw in enumerate(_read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        low = line.lower()
        if low.startswith("route"):
            if ":" not in line:
                raise _err(path, no, "a route line needs 'Route #k: customers...'")
            body = line.split(":", 1)[1].split()
            try:
                routes.append([int(t) for t in body])
            except ValueError as e:
                raise _err(path, no, f"route holds a non-integer: {body}") from e
        elif low.startswith("cost"):
            val = line[4:].lstrip(" :\t")
            try:
                cost = float(val)
            except ValueError as e:
                raise _err(path, no, f"cost is not a number: {val!r}") from e
    if not routes:
        raise _err(path, None, "no 'Route #k:' lines")
    return routes, cost


def write_solution(path: str | os.PathLike, problem: Problem, routes) -> Evaluation:
    """Write a VRPLIB ``.sol`` (customers numbered as in the instance)."""
    import vrplib

    routes = normalise_routes(routes)
    ev = evaluate(problem, routes)
    cost = problem.round_cost(ev.cost)
    cost_s = f"{int(cost)}" if problem.precision == 0 else f"{cost:.{problem.precision or 6}f}"
    with atomic_output(path) as tmp:
        vrplib.write_solution(str(tmp), routes, {"Cost": cost_s})
    return ev


def write_solution_csv(path: str | os.PathLike, problem: Problem, routes) -> None:
    """One row per stop: route, seq, node, x/lat, y/lon, demand, load, arrival, start, wait, due."""
    routes = normalise_routes(routes)
    ev = evaluate(problem, routes)
    c = problem.coords if problem.coords is not None else np.full((problem.n, 2), np.nan)
    tw = problem.windows
    names = ("lat", "lon") if problem.coord_kind == "latlon" else ("x", "y")
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["route", "seq", "node", *names, "demand", "load", "arrival", "start", "wait", "due"])
        for k, rs in enumerate(ev.routes, 1):
            load = 0.0
            for s, node in enumerate(rs.nodes):
                load += problem.demand[node]
                a, st = rs.arrival[s], rs.start[s]
                w.writerow(
                    [k, s + 1, node, c[node, 0], c[node, 1], problem.demand[node], load]
                    + [
                        f"{a:.6g}",
                        f"{st:.6g}",
                        f"{st - a:.6g}",
                        "" if math.isinf(tw[node, 1]) else tw[node, 1],
                    ]
                )


def geojson(problem: Problem, routes) -> dict:
    """Routes as LineStrings (along the streets when the instance has roads), stops as Points."""
    routes = normalise_routes(routes)
    ev = evaluate(problem, routes)
    if problem.coords is None:
        raise ValueError(f"{problem.name}: no coordinates, cannot export GeoJSON")
    ll = problem.coord_kind == "latlon"

    def pt(i):
        a, b = problem.coords[i]
        return [float(b), float(a)] if ll else [float(a), float(b)]

    feats = []
    for k, (r, rs) in enumerate(zip(routes, ev.routes), 1):
        if problem.roads is not None:
            line = [[float(x), float(y)] for x, y in problem.roads.route_line(r)]
        else:
            line = [pt(i) for i in [0, *r, 0]]
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": line},
                "properties": {
                    "route": k,
                    "stops": list(r),
                    "distance": rs.distance,
                    "duration": rs.duration,
                    "load": rs.load,
                },
            }
        )
    for i in range(problem.n):
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": pt(i)},
                "properties": {"node": i, "depot": i == 0, "demand": float(problem.demand[i])},
            }
        )
    return {
        "type": "FeatureCollection",
        "features": feats,
        "properties": {"name": problem.name, "cost": ev.cost, "feasible": ev.feasible},
    }


def write_geojson(path: str | os.PathLike, problem: Problem, routes) -> None:
    text = json.dumps(geojson(problem, routes))
    atomic_write_text(path, text)
