"""The routing problem model and its single evaluator / feasibility checker.

Every node has an index; the depot is always index 0 (loaders reorder when a
file puts it elsewhere). Distances and durations are kept apart and may both
be asymmetric. A solution is a list of routes, each a sequence of customer
indices (1..n-1) without the depot; every route starts and ends at the depot.

The objective is the total distance. Durations only drive time windows. The
same :func:`evaluate` is used by every loader test, solver, benchmark, the CLI
and the panel, so a cost printed anywhere is the cost of this function.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Evaluation",
    "Problem",
    "RoadGeometry",
    "RouteStats",
    "check_instance",
    "evaluate",
    "normalise_routes",
]

#: absolute slack when comparing times and loads (matrices are floats)
EPS = 1e-6
#: largest magnitude of any distance, duration, demand, time, capacity or coordinate (sums stay finite)
MAX_VALUE = 1e15
#: most vehicles an instance may declare
MAX_VEHICLES = 1_000_000

VARIANTS = ("TSP", "ATSP", "CVRP", "ACVRP", "VRPTW", "ACVRPTW")


def _ro(a: np.ndarray | None, dtype=np.float64) -> np.ndarray | None:
    if a is None:
        return None
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


def _numbers(a, where: str, field: str) -> np.ndarray:
    """``a`` as a float64 array; text, objects or nested ragged lists are a ValueError."""
    try:
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"dtype {arr.dtype}")
        return arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as e:
        raise ValueError(f"{where}: {field} must be an array of numbers ({e})") from None


def _scalar(v, where: str, field: str) -> float:
    """One finite number (a Python or numpy number, or a one-element array)."""
    a = np.asarray(v)
    if a.size != 1 or a.dtype.kind not in "biuf" or isinstance(v, bool):
        raise ValueError(f"{where}: {field} must be one number, got {str(v)[:60]!r}")
    x = float(a.reshape(()))
    if not math.isfinite(x):
        raise ValueError(f"{where}: {field} must be a finite number, got {x}")
    return x


def _in_range(a: np.ndarray, where: str, field: str, lo: float, hi: float = None, what: str = "") -> None:
    """Every value finite and in [lo, hi] (hi defaults to MAX_VALUE); errors name the first bad index."""
    hi = MAX_VALUE if hi is None else hi
    ok = np.isfinite(a) & (a >= lo) & (a <= hi)
    if not np.all(ok):
        idx = tuple(int(i) for i in np.argwhere(~ok)[0])
        v = a[idx]
        at = f"{what} {idx[0]}" if what else f"{field} at {list(idx)}"
        kind = "non-finite" if not np.isfinite(v) else "out of range"
        raise ValueError(f"{where}: {at} is {kind} ({v}; allowed [{lo:g}, {hi:g}])")


@dataclass(frozen=True, eq=False)
class RoadGeometry:
    """Street geometry behind an OSM instance.

    ``node_xy`` holds the (lon, lat) of the road-graph vertices, ``edges`` the
    (u, v) vertex pairs of the driving graph (drawn as a faint background),
    ``point_node`` the graph vertex of each problem node and ``pred`` the
    shortest-path predecessor of each graph vertex from each problem node's
    vertex (shape (n, n_graph), -1 where unreachable), by distance.
    """

    node_xy: np.ndarray
    edges: np.ndarray
    point_node: np.ndarray
    pred: np.ndarray

    def __post_init__(self) -> None:
        xy = _numbers(self.node_xy, "road geometry", "node_xy")
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"road geometry: node_xy has shape {xy.shape}, expected (m, 2)")
        _in_range(xy, "road geometry", "node_xy", -180.0, 180.0)
        m = xy.shape[0]
        arrays = {"node_xy": xy}
        for name, ndim, lo in (("edges", 2, 0), ("point_node", 1, 0), ("pred", 2, -1)):
            a = np.asarray(getattr(self, name))
            if a.dtype.kind not in "iu" or a.ndim != ndim or (name == "edges" and a.shape[1:] != (2,)):
                raise ValueError(
                    f"road geometry: {name} must be a {ndim}-D integer array, got {a.shape} {a.dtype}"
                )
            if name == "pred" and a.shape[1] != m:
                raise ValueError(f"road geometry: pred has {a.shape[1]} columns, node_xy {m} rows")
            if a.size and (a.min() < lo or a.max() >= m):
                raise ValueError(f"road geometry: {name} refers to road nodes outside [{lo}, {m})")
            arrays[name] = a
        for name, a in arrays.items():
            object.__setattr__(self, name, a)

    def leg(self, i: int, j: int) -> np.ndarray:
        """(lon, lat) polyline of the street path from node i to node j."""
        src = int(self.point_node[i])
        v = int(self.point_node[j])
        pred = self.pred[i]
        path = [v]
        guard = len(pred) + 1
        while v != src and guard > 0:
            v = int(pred[v])
            if v < 0:  # unreachable: draw a straight segment
                return self.node_xy[[src, int(self.point_node[j])]].copy()
            path.append(v)
            guard -= 1
        return self.node_xy[np.array(path[::-1])].copy()

    def route_line(self, route: Sequence[int]) -> np.ndarray:
        nodes = [0, *[int(c) for c in route], 0]
        parts = [self.leg(a, b) for a, b in zip(nodes[:-1], nodes[1:])]
        out = [parts[0]] + [p[1:] for p in parts[1:]]
        return np.concatenate(out, axis=0)


@dataclass(frozen=True, eq=False)
class Problem:
    """One routing instance (arrays are read-only copies).

    capacity None means uncapacitated; num_vehicles None means as many
    vehicles as wanted; time_windows None means no time windows. ``precision``
    is the number of decimals the matrices are exact to (0 for CVRPLIB X,
    1 for Solomon/DIMACS), None for real-valued matrices (road networks).
    """

    name: str
    distance: np.ndarray
    duration: np.ndarray | None = None
    coords: np.ndarray | None = None
    coord_kind: str = "xy"  # "xy" or "latlon" (coords then hold lat, lon)
    demand: np.ndarray | None = None
    capacity: float | None = None
    num_vehicles: int | None = None
    time_windows: np.ndarray | None = None
    service: np.ndarray | None = None
    bks: float | None = None
    precision: int | None = None
    source: str = ""
    distance_unit: str = ""
    duration_unit: str = ""
    roads: RoadGeometry | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        where = self.source or self.name or "problem"
        if not isinstance(self.name, str):
            raise ValueError(f"{where}: name must be text, got {type(self.name).__name__}")
        d = _numbers(self.distance, where, "distance")
        if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 2:
            raise ValueError(f"{where}: distance must be a square matrix with >= 2 nodes, got {d.shape}")
        n = d.shape[0]
        _in_range(d, where, "distance matrix", 0.0)
        object.__setattr__(self, "distance", _ro(d))
        dur = d if self.duration is None else _numbers(self.duration, where, "duration")
        if dur.shape != (n, n):
            raise ValueError(f"{where}: duration has shape {dur.shape}, expected {(n, n)}")
        _in_range(dur, where, "duration matrix", 0.0)
        object.__setattr__(self, "duration", _ro(dur))
        dem = np.zeros(n) if self.demand is None else _numbers(self.demand, where, "demand")
        if dem.shape != (n,):
            raise ValueError(f"{where}: demand has shape {dem.shape}, expected {(n,)}")
        _in_range(dem, where, "demand", 0.0, what="demand of node")
        object.__setattr__(self, "demand", _ro(dem))
        if self.coord_kind not in ("xy", "latlon"):
            raise ValueError(f"{where}: coord_kind must be 'xy' or 'latlon'")
        if self.coords is not None:
            c = _numbers(self.coords, where, "coords")
            if c.shape != (n, 2):
                raise ValueError(f"{where}: coords have shape {c.shape}, expected {(n, 2)}")
            if self.coord_kind == "latlon":
                _in_range(c[:, 0], where, "latitude", -90.0, 90.0, what="latitude of node")
                _in_range(c[:, 1], where, "longitude", -180.0, 180.0, what="longitude of node")
            else:
                _in_range(c, where, "coords", -MAX_VALUE)
            object.__setattr__(self, "coords", _ro(c))
        if self.time_windows is not None:
            tw = _numbers(self.time_windows, where, "time_windows")
            if tw.shape != (n, 2):
                raise ValueError(f"{where}: time_windows have shape {tw.shape}, expected {(n, 2)}")
            _in_range(tw, where, "time windows", 0.0, what="time window of node")
            bad = np.nonzero(tw[:, 0] > tw[:, 1])[0]
            if len(bad):
                raise ValueError(f"{where}: time window of node {int(bad[0])} opens after it closes")
            object.__setattr__(self, "time_windows", _ro(tw))
        if self.service is not None:
            s = _numbers(self.service, where, "service")
            if s.shape != (n,):
                raise ValueError(f"{where}: service has shape {s.shape}, expected {(n,)}")
            _in_range(s, where, "service times", 0.0, what="service time of node")
            object.__setattr__(self, "service", _ro(s))
        if self.capacity is not None:
            cap = _scalar(self.capacity, where, "capacity")
            if not 0 < cap <= MAX_VALUE:
                raise ValueError(f"{where}: capacity must be positive and at most {MAX_VALUE:g}, got {cap}")
            object.__setattr__(self, "capacity", cap)
        if self.num_vehicles is not None:
            nv = _scalar(self.num_vehicles, where, "num_vehicles")
            if not nv.is_integer() or not 1 <= nv <= MAX_VEHICLES:
                raise ValueError(
                    f"{where}: num_vehicles must be an integer in [1, {MAX_VEHICLES}], got {self.num_vehicles}"
                )
            object.__setattr__(self, "num_vehicles", int(nv))
        if self.bks is not None:
            bks = _scalar(self.bks, where, "bks")
            if not 0 <= bks <= MAX_VALUE:
                raise ValueError(f"{where}: bks (best known cost) must be in [0, {MAX_VALUE:g}], got {bks}")
            object.__setattr__(self, "bks", bks)
        if self.precision is not None:
            if isinstance(self.precision, bool) or not isinstance(self.precision, (int, np.integer)):
                raise ValueError(f"{where}: precision must be an integer, got {self.precision!r}")
            if not 0 <= self.precision <= 12:
                raise ValueError(f"{where}: precision must be in [0, 12] decimals, got {self.precision}")
            object.__setattr__(self, "precision", int(self.precision))
        if self.roads is not None:
            if not isinstance(self.roads, RoadGeometry):
                raise ValueError(f"{where}: roads must be a RoadGeometry")
            if self.roads.point_node.shape != (n,) or self.roads.pred.shape[0] != n:
                raise ValueError(
                    f"{where}: road geometry is for {self.roads.point_node.shape[0]} nodes, the problem has {n}"
                )

    # -- shape -------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of nodes, depot included."""
        return self.distance.shape[0]

    @property
    def asymmetric(self) -> bool:
        return not (
            np.allclose(self.distance, self.distance.T, rtol=0, atol=1e-9)
            and np.allclose(self.duration, self.duration.T, rtol=0, atol=1e-9)
        )

    @property
    def is_tsp(self) -> bool:
        return self.capacity is None and self.time_windows is None and self.num_vehicles == 1

    @property
    def variant(self) -> str:
        a = "A" if self.asymmetric else ""
        if self.time_windows is not None:
            return "ACVRPTW" if a else "VRPTW"
        if self.is_tsp:
            return a + "TSP"
        return a + "CVRP"

    @property
    def service_times(self) -> np.ndarray:
        return self.service if self.service is not None else np.zeros(self.n)

    @property
    def windows(self) -> np.ndarray:
        if self.time_windows is not None:
            return self.time_windows
        tw = np.zeros((self.n, 2))
        tw[:, 1] = np.inf
        return tw

    @property
    def effective_capacity(self) -> float:
        return math.inf if self.capacity is None else float(self.capacity)

    def round_cost(self, cost: float) -> float:
        """The cost shown to users: rounded to the matrices' precision."""
        if self.precision is None:
            return float(cost)
        return round(float(cost), self.precision)

    def gap(self, cost: float) -> float | None:
        """Percent gap to the best known solution (None when unknown)."""
        if not self.bks:
            return None
        return 100.0 * (float(cost) - self.bks) / self.bks

    def with_changes(self, **changes) -> Problem:
        import dataclasses

        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteStats:
    """Per-route figures (times in the duration unit)."""

    nodes: tuple[int, ...]
    distance: float
    duration: float  # return time at depot minus departure
    load: float
    wait: float
    late: float  # sum of lateness over stops (0 when feasible)
    arrival: tuple[float, ...]  # per stop, then the depot return
    start: tuple[float, ...]  # service start per stop
    violations: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    cost: float  # total distance
    distance: float
    duration: float
    num_routes: int
    feasible: bool
    violations: tuple[str, ...]
    routes: tuple[RouteStats, ...]

    def summary(self) -> str:
        state = "feasible" if self.feasible else f"INFEASIBLE ({len(self.violations)} violations)"
        return f"cost {self.cost:.6g}, {self.num_routes} routes, {state}"


def normalise_routes(routes) -> list[list[int]]:
    """Routes as lists of ints, depot visits and empty routes removed."""
    out = []
    for r in routes:
        rr = [int(c) for c in np.asarray(r, dtype=np.int64).ravel() if int(c) != 0]
        if rr:
            out.append(rr)
    return out


def evaluate(problem: Problem, routes) -> Evaluation:
    """Cost and feasibility of ``routes`` on ``problem``; violations in words."""
    n = problem.n
    routes = normalise_routes(routes)
    violations: list[str] = []
    seen = np.zeros(n, dtype=np.int64)
    for k, r in enumerate(routes):
        for c in r:
            if c < 1 or c >= n:
                violations.append(f"route {k + 1}: node {c} does not exist (nodes are 1..{n - 1})")
            else:
                seen[c] += 1
    if any(v.startswith("route") for v in violations):
        return Evaluation(math.inf, math.inf, math.inf, len(routes), False, tuple(violations), ())
    dup = np.nonzero(seen[1:] > 1)[0] + 1
    missing = np.nonzero(seen[1:] == 0)[0] + 1
    if len(dup):
        violations.append(f"customer(s) visited more than once: {_few(dup)}")
    if len(missing):
        violations.append(f"customer(s) not visited: {_few(missing)}")
    if problem.num_vehicles is not None and len(routes) > problem.num_vehicles:
        violations.append(f"{len(routes)} routes use more than the {problem.num_vehicles} vehicles")
    D, T = problem.distance, problem.duration
    tw = problem.windows
    svc = problem.service_times
    cap = problem.effective_capacity
    has_tw = problem.time_windows is not None
    stats = []
    tot_d = tot_t = 0.0
    for k, r in enumerate(routes):
        path = np.array([0, *r, 0])
        dist = float(D[path[:-1], path[1:]].sum())
        load = float(problem.demand[r].sum())
        rv = []
        if load > cap + EPS:
            rv.append(f"route {k + 1}: load {load:g} exceeds capacity {cap:g}")
        t = tw[0, 0]
        depart = t
        wait = late = 0.0
        arr, st = [], []
        prev = 0
        for c in r:
            a = t + svc[prev] + T[prev, c]
            arr.append(a)
            s = max(a, tw[c, 0])
            wait += s - a
            if has_tw and a > tw[c, 1] + EPS:
                late += a - tw[c, 1]
                rv.append(
                    f"route {k + 1}: customer {c} reached at {a:g}, after its window closes at {tw[c, 1]:g}"
                )
            st.append(s)
            t = s
            prev = c
        a = t + svc[prev] + T[prev, 0]
        arr.append(a)
        if has_tw and a > tw[0, 1] + EPS:
            late += a - tw[0, 1]
            rv.append(f"route {k + 1}: returns to the depot at {a:g}, after it closes at {tw[0, 1]:g}")
        stats.append(
            RouteStats(tuple(r), dist, a - depart, load, wait, late, tuple(arr), tuple(st), tuple(rv))
        )
        violations.extend(rv)
        tot_d += dist
        tot_t += a - depart
    if problem.is_tsp and len(routes) > 1:
        pass  # covered by the vehicle count above
    return Evaluation(
        cost=tot_d,
        distance=tot_d,
        duration=tot_t,
        num_routes=len(routes),
        feasible=not violations,
        violations=tuple(violations),
        routes=tuple(stats),
    )


def _few(idx, k: int = 8) -> str:
    idx = [int(i) for i in idx]
    s = ", ".join(str(i) for i in idx[:k])
    return s + (f" (+{len(idx) - k} more)" if len(idx) > k else "")


def check_instance(problem: Problem) -> list[str]:
    """Reasons the instance cannot have any feasible solution (empty if none found).

    Checked before solving: a demand above the capacity, a total demand above
    what the fleet can carry, a time window no vehicle can reach from the
    depot, a customer from which the depot cannot be reached before it closes.
    """
    out: list[str] = []
    dem = problem.demand
    cap = problem.effective_capacity
    over = np.nonzero(dem[1:] > cap + EPS)[0] + 1
    for c in over[:8]:
        out.append(f"customer {int(c)} demands {dem[c]:g}, above the vehicle capacity {cap:g}")
    if len(over) > 8:
        out.append(f"... and {len(over) - 8} more customers above capacity")
    if problem.num_vehicles is not None and math.isfinite(cap):
        total = float(dem.sum())
        if total > cap * problem.num_vehicles + EPS:
            out.append(
                f"total demand {total:g} exceeds what {problem.num_vehicles} vehicles of capacity "
                f"{cap:g} can carry ({cap * problem.num_vehicles:g})"
            )
    if problem.time_windows is not None:
        tw = problem.time_windows
        T = problem.duration
        svc = problem.service_times
        arrive = tw[0, 0] + svc[0] + T[0, :]
        late = np.nonzero(arrive[1:] > tw[1:, 1] + EPS)[0] + 1
        for c in late[:8]:
            out.append(
                f"customer {int(c)}: time window closes at {tw[c, 1]:g} but the earliest arrival "
                f"from the depot is {arrive[c]:g}"
            )
        back = np.maximum(arrive, tw[:, 0]) + svc + T[:, 0]
        noret = np.nonzero(back[1:] > tw[0, 1] + EPS)[0] + 1
        for c in noret[:8]:
            if c in late:
                continue
            out.append(
                f"customer {int(c)}: served at the earliest, the vehicle is back at the depot at "
                f"{back[c]:g}, after it closes at {tw[0, 1]:g}"
            )
    return out
