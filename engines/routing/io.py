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
line. Numbers must be finite; distances, durations, demands, time windows and
service times non-negative; integer fields (dimension, vehicles, customer
numbers) integers in range. An instance has at most :data:`MAX_NODES` nodes
(its matrices are ``n x n``), so a small file cannot ask for gigabytes.
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
from engines.routing.problem import (
    MAX_VALUE,
    MAX_VEHICLES,
    Evaluation,
    Problem,
    RoadGeometry,
    evaluate,
    normalise_routes,
)
from engines.serialize import FormatError, load_npz, read_text_bounded

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


#: most nodes (depot included) of an instance read from a file
MAX_NODES = 5000


def _err(path, line: int | None, msg: str) -> FormatError:
    where = f"{path}:{line}" if line is not None else f"{path}"
    return FormatError(f"{where}: {msg}")


def _num(tok: str, path, line: int | None, field: str, lo: float = -MAX_VALUE) -> float:
    """A finite number in [lo, MAX_VALUE] from a token (errors name file, line and field)."""
    try:
        v = float(tok)
    except ValueError:
        raise _err(path, line, f"{field}: not a number: {tok[:40]!r}") from None
    if not math.isfinite(v) or not lo <= v <= MAX_VALUE:
        raise _err(path, line, f"{field} = {tok[:40]}: must be a finite number in [{lo:g}, {MAX_VALUE:g}]")
    return v


def _int(v: float | str, path, line: int | None, field: str, lo: int, hi: int) -> int:
    """An integer in [lo, hi] from a token or a parsed number."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise _err(path, line, f"{field}: not a number: {str(v)[:40]!r}") from None
    if not math.isfinite(x) or not x.is_integer() or not lo <= x <= hi:
        raise _err(path, line, f"{field} = {str(v)[:40]}: must be an integer in [{lo}, {hi}]")
    return int(x)


def _problem(path: Path, **kw) -> Problem:
    """Build the Problem; its validation errors (which name the file) become FormatError."""
    try:
        return Problem(source=str(path), **kw)
    except (ValueError, TypeError) as e:
        msg = str(e)
        raise FormatError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


def _bks_from_sibling(path: Path) -> float | None:
    sol = path.with_suffix(".sol")
    if sol.exists():
        try:
            _, cost = read_solution(sol)
        except (FormatError, OSError):
            return None
        return cost if cost is not None and 0 <= cost <= MAX_VALUE else None
    return KNOWN_OPTIMA.get(path.stem)


# --------------------------------------------------------------------------
# VRPLIB
# --------------------------------------------------------------------------

_NUM = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


#: VRPLIB sections whose numbers cannot be negative
_NONNEG_SECTIONS = ("EDGE_WEIGHT_SECTION", "DEMAND_SECTION", "SERVICE_TIME_SECTION", "TIME_WINDOW_SECTION")


def _scan_vrplib(path: Path, lines: list[str]) -> None:
    """Find the first malformed line of a VRPLIB file (raises FormatError).

    Checks what the ``vrplib`` package does not: DIMENSION in [2, MAX_NODES],
    finite numbers in the data sections, and no section longer than the
    dimension allows (so nothing larger than the instance is built).
    """
    in_section = None
    dim = None
    rows = count = 0
    for no, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        head = line.split(":")[0].strip().upper()
        if line.upper().endswith("_SECTION") or head.endswith("_SECTION"):
            if dim is None:
                raise _err(path, no, "a data section before DIMENSION")
            in_section, rows, count = (head.split() or [head])[0], 0, 0
            continue
        if ":" in line and not _NUM.match(line.split()[0]):
            in_section = None
            if head == "DIMENSION":
                val = line.split(":", 1)[1].strip()
                if not val.isdigit():
                    raise _err(path, no, f"DIMENSION must be a positive integer, got {val[:40]!r}")
                dim = _int(val, path, no, "DIMENSION", 2, MAX_NODES)
            continue
        if in_section is not None:
            toks = line.split()
            bad = [t for t in toks if not _NUM.match(t)]
            if bad:
                raise _err(path, no, f"expected numbers in a data section, found {bad[0][:40]!r}")
            lo = 0.0 if in_section in _NONNEG_SECTIONS else -MAX_VALUE
            for t in toks:
                _num(t, path, no, in_section, lo)
            rows += 1
            count += len(toks)
            if in_section == "EDGE_WEIGHT_SECTION":
                if count > dim * dim:
                    raise _err(path, no, f"EDGE_WEIGHT_SECTION has more than {dim}x{dim} numbers")
            elif rows > dim + 1:  # DEPOT_SECTION ends with -1
                raise _err(path, no, f"{in_section} has more rows than DIMENSION = {dim}")
            continue
        raise _err(path, no, f"not a 'KEY : value' line nor section data: {line[:60]!r}")
    if dim is None:
        raise _err(path, None, "no DIMENSION given")


def read_vrplib(path: str | os.PathLike) -> Problem:
    """A CVRP(/ATSP) instance in VRPLIB format, read with the ``vrplib`` package."""
    from vrplib.parse import parse_vrplib

    path = Path(path)
    text = _read_text(path)
    lines = text.splitlines()
    head = "\n".join(lines[:12]).upper()
    if re.search(r"TYPE\s*:\s*(ATSP|TSP)\b", head) and "FULL_MATRIX" in head:
        return read_atsp(path)
    _scan_vrplib(path, lines)
    try:
        with np.errstate(all="ignore"):  # hostile numbers: checked below, not warned about
            inst = parse_vrplib(text)
    except Exception as e:  # vrplib raises many kinds; name the file
        raise _err(path, None, f"not a readable VRPLIB instance ({type(e).__name__}: {e})") from e
    try:
        return _vrplib_problem(path, inst)
    except FormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as e:
        raise _err(path, None, f"not a usable VRPLIB instance ({type(e).__name__}: {e})") from None


def _vrplib_problem(path: Path, inst: dict) -> Problem:
    n = _int(inst.get("dimension", 0), path, None, "DIMENSION", 2, MAX_NODES)
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
    return _problem(
        path,
        name=str(inst.get("name", path.stem)),
        distance=D,
        duration=D,
        coords=None if coords is None else np.asarray(coords, dtype=np.float64)[order],
        demand=demand[order],
        capacity=None if cap is None else _num(str(cap), path, None, "CAPACITY", 0.0),
        num_vehicles=None if vehicles is None else _int(vehicles, path, None, "VEHICLES", 1, MAX_VEHICLES),
        time_windows=None if tw is None else np.asarray(tw, dtype=np.float64)[order],
        service=None
        if svc is None
        else np.broadcast_to(np.asarray(svc, dtype=np.float64), (n,))[order].copy(),
        bks=_bks_from_sibling(path),
        precision=precision,
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
    if "DIMENSION" not in spec:
        raise _err(path, None, "DIMENSION missing or not an integer")
    n = _int(spec["DIMENSION"], path, None, "DIMENSION", 2, MAX_NODES)
    vals = np.empty(n * n)
    k = 0
    for no in range(start + 1, len(lines) + 1):
        line = lines[no - 1].strip()
        if not line:
            continue
        if line == "EOF" or (line[0].isalpha() and ":" not in line and line.upper().endswith("SECTION")):
            break
        if line[0].isalpha():
            break
        for tok in line.split():
            if k >= n * n:
                raise _err(path, no, f"more than {n}x{n} = {n * n} matrix entries")
            try:
                v = float(tok)
            except ValueError:
                raise _err(path, no, f"not a number: {tok[:40]!r}") from None
            i, j = divmod(k, n)
            if not math.isfinite(v) or (i != j and not 0 <= v <= MAX_VALUE):  # diagonal: sentinels
                raise _err(
                    path, no, f"distance {i + 1} -> {j + 1} = {tok[:40]}: must be in [0, {MAX_VALUE:g}]"
                )
            vals[k] = v
            k += 1
    if k != n * n:
        raise _err(path, None, f"EDGE_WEIGHT_SECTION has {k} numbers, expected {n * n}")
    D = vals.reshape(n, n)
    np.fill_diagonal(D, 0.0)  # diagonal holds sentinels (9999, 100000000)
    name = spec.get("NAME", path.stem)
    return _problem(
        path,
        name=name,
        distance=D,
        duration=D,
        num_vehicles=1,
        bks=KNOWN_OPTIMA.get(name, KNOWN_OPTIMA.get(path.stem)),
        precision=0 if np.all(D == np.round(D)) else None,
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


_SOLOMON_NONNEG = ("DEMAND", "READY TIME", "DUE DATE", "SERVICE TIME")


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
            [float(t) for t in toks]
        except ValueError as e:
            raise _err(path, no, f"expected numbers, got {line[:60]!r}") from e
        if state == "vehicle":
            if len(toks) != 2:
                raise _err(path, no, "expected 'NUMBER CAPACITY' (two numbers)")
            vehicles = _int(toks[0], path, no, "vehicle NUMBER", 1, MAX_VEHICLES)
            capacity = _num(toks[1], path, no, "vehicle CAPACITY", 0.0)
            state = "head"
        elif state == "customers":
            if len(toks) != 7:
                raise _err(path, no, f"a customer row has 7 numbers, this one has {len(toks)}")
            cust = _int(toks[0], path, no, "customer number", 0, MAX_NODES - 1)
            if cust != len(rows):
                raise _err(path, no, f"customer number {cust} out of order (expected {len(rows)})")
            nums = [float(cust)]
            nums += [_num(t, path, no, f) for t, f in zip(toks[1:3], ("XCOORD", "YCOORD"))]
            nums += [_num(t, path, no, f, 0.0) for t, f in zip(toks[3:], _SOLOMON_NONNEG)]
            if nums[4] > nums[5]:
                raise _err(path, no, f"READY TIME {toks[4]} is after DUE DATE {toks[5]}")
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
    return _problem(
        path,
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
    z = load_npz(path, str(path), what="routing .npz file")
    keys = set(z)
    for k in ("distance", "points"):
        if k not in keys:
            raise _err(path, None, f"array {k!r} is missing (have {', '.join(sorted(keys)[:20]) or 'none'})")

    def arr(k: str, ndim: int, kinds: str = "biuf") -> np.ndarray | None:
        if k not in keys:
            return None
        a = z[k]
        if a.dtype.kind not in kinds or a.ndim != ndim:
            raise _err(path, None, f"array {k!r} has shape {a.shape} of {a.dtype}, expected {ndim}-D numbers")
        return a

    def scalar(k: str) -> float | None:
        if k not in keys:
            return None
        a = z[k]
        if a.size != 1 or a.dtype.kind not in "biuf":
            raise _err(path, None, f"array {k!r} must hold one number, has shape {a.shape} of {a.dtype}")
        v = float(a.reshape(()))
        if not math.isfinite(v):
            raise _err(path, None, f"array {k!r} = {v}: must be a finite number")
        return v

    D = arr("distance", 2)
    T = arr("duration", 2)
    T = D if T is None else T
    if D.shape[0] != D.shape[1] or not 2 <= D.shape[0] <= MAX_NODES:
        raise _err(path, None, f"'distance' must be square with 2 to {MAX_NODES} nodes, has shape {D.shape}")
    n = D.shape[0]
    pts = arr("points", 2)
    if pts.shape != (n, 2):
        raise _err(path, None, f"'points' has shape {pts.shape}, expected ({n}, 2)")
    if T.shape != (n, n):
        raise _err(path, None, f"'duration' has shape {T.shape}, expected ({n}, {n})")
    name = path.stem
    if "name" in keys:
        a = z["name"]
        if a.size != 1 or a.dtype.kind not in "US":
            raise _err(path, None, f"array 'name' must hold one text, has shape {a.shape} of {a.dtype}")
        v = a.reshape(()).item()
        name = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    demand = arr("demand", 1)
    tw = arr("time_windows", 2)
    svc = arr("service", 1)
    capacity = scalar("capacity")
    nv = scalar("num_vehicles")
    if nv is not None:
        nv = _int(nv, path, None, "array 'num_vehicles'", 1, MAX_VEHICLES)
    bks = scalar("bks")
    roads = None
    road_keys = ("road_node_xy", "road_edges", "road_point_node", "road_pred")
    if set(road_keys) <= keys:
        try:
            roads = RoadGeometry(*(z[k] for k in road_keys))
        except ValueError as e:
            raise _err(path, None, str(e)) from None
    D = D.astype(np.float64)
    T = T.astype(np.float64)
    np.fill_diagonal(D, 0.0)
    np.fill_diagonal(T, 0.0)
    return _problem(
        path,
        name=name,
        distance=D,
        duration=T,
        coords=pts,
        coord_kind="latlon",
        demand=demand,
        capacity=capacity,
        num_vehicles=(1 if demand is None and tw is None else None) if nv is None else nv,
        time_windows=tw,
        service=svc,
        bks=bks,
        precision=None,
        distance_unit="km",
        duration_unit="min",
        roads=roads,
    )


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


def _csv_rows(path: Path, lines: list[str], offset: int):
    """The rows of ``lines`` as CSV; the csv module's own errors (a field over its size
    limit, an unterminated quote) become FormatError naming the file and the line."""
    reader = csv.reader(lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise _err(path, offset + reader.line_num, f"not valid CSV ({e})") from None
        yield row


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
    reader = _csv_rows(path, lines[first:], first)
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
            lo = 0.0 if h in ("demand", "ready", "due", "service") else -MAX_VALUE
            vals[h] = _num(row[i].strip(), path, no, f"column {h!r}", lo)
        if "ready" in vals and vals["ready"] > vals["due"]:
            raise _err(path, no, f"ready {vals['ready']:g} is after due {vals['due']:g}")
        rows.append(vals)
        if len(rows) > MAX_NODES:
            raise _err(path, no, f"more than {MAX_NODES} nodes")
    if len(rows) < 2:
        raise _err(path, None, "needs a depot row and at least one customer")
    coords = np.array([[r[ckeys[0]], r[ckeys[1]]] for r in rows])
    if kind == "xy":
        D = np.hypot(*(coords[:, None, :] - coords[None, :, :]).transpose(2, 0, 1))
        T = D
        du, tu = "", ""
    else:
        speed = _num(meta.get("speed_kmh", "40"), path, None, "metadata 'speed_kmh'", 0.0)
        if speed <= 0:
            raise _err(path, None, "metadata 'speed_kmh' must be positive")
        D = haversine_km(coords)
        T = D / speed * 60.0
        du, tu = "km", "min"

    def col(name):
        return np.array([r[name] for r in rows]) if name in cols else None

    def meta_num(key, cast):
        if key not in meta:
            return None
        if cast is int:
            return _int(meta[key], path, None, f"metadata {key!r}", 1, MAX_VEHICLES)
        return _num(meta[key], path, None, f"metadata {key!r}", 0.0)

    demand = col("demand")
    tw = None
    if "ready" in cols:
        tw = np.stack([col("ready"), col("due")], axis=1)
    cap = meta_num("capacity", float)
    nv = meta_num("vehicles", int)
    if cap is None and tw is None and nv is None:
        nv = 1
    return _problem(
        path,
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
        distance_unit=du,
        duration_unit=tu,
    )


# --------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    """The UTF-8 text of a regular file of at most MAX_TEXT_BYTES (FileNotFoundError passes through)."""
    return read_text_bounded(path, str(path))


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
                route = [int(t) for t in body]
            except ValueError as e:
                raise _err(path, no, f"route holds a non-integer: {body[:20]}") from e
            if any(not 0 <= c < MAX_NODES for c in route):
                raise _err(path, no, f"route holds a node outside [0, {MAX_NODES})")
            routes.append(route)
        elif low.startswith("cost"):
            val = line[4:].lstrip(" :\t")
            try:
                cost = float(val)
            except ValueError as e:
                raise _err(path, no, f"cost is not a number: {val[:40]!r}") from e
            if not math.isfinite(cost):
                raise _err(path, no, f"cost = {val[:40]}: must be a finite number")
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
