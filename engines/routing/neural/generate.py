"""Training instances: uniform, clustered, X-like, time-window and road-network (asymmetric) ones.

``xlike`` follows the recipe Uchoa et al. (2017) describe for the CVRPLIB X
set: depot central, eccentric (a corner) or random; customers random,
clustered (attracted by a few seeds with exponential decay) or half of each;
seven demand distributions (unit, small or large values with small or large
spread, by quadrant, many small and a few large); and a mean route size r
drawn in 3..25 that fixes the capacity, so the model sees routes of 3 to 25
stops. ``tw`` draws Solomon-like VRPTW instances (clustered or random
customers, service times, windows placed around a reachable time, a tight
or a wide horizon).

Each generator returns the keyword arguments of
:func:`engines.routing.neural.env.batch_from_arrays` for B instances of n
nodes (depot included), drawn from a numpy ``Generator``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KINDS", "CityPool", "generate"]

KINDS = ("uniform", "clustered", "city", "city_tsp", "asym_tsp", "xlike", "tw", "solomon")


def _capacity(n: int) -> float:
    # POMO/AM convention: 20 -> 30, 50 -> 40, 100 -> 50 (about 6-10 stops a route)
    return float(np.interp(n - 1, [10, 20, 50, 100], [20, 30, 40, 50]))


def _euclid(xy: np.ndarray) -> np.ndarray:
    return np.sqrt(((xy[:, :, None, :] - xy[:, None, :, :]) ** 2).sum(-1))


def _demands(rng, B, n):
    d = rng.integers(1, 10, size=(B, n)).astype(np.float64)
    d[:, 0] = 0
    return d


class CityPool:
    """Asymmetric road matrices (km, minutes) of many points of one city, to sample from."""

    def __init__(self, distance: np.ndarray, duration: np.ndarray, lonlat: np.ndarray):
        self.D = np.asarray(distance)
        self.T = np.asarray(duration)
        self.xy = np.asarray(lonlat)

    @classmethod
    def from_pbf(cls, path, points: int = 400, seed: int = 12345) -> CityPool:
        from engines.routing.osm import osm_problem

        p = osm_problem(path, n_points=points, seed=seed)
        return cls(p.distance, p.duration, p.coords[:, ::-1])

    def sample(self, rng, B, n):
        idx = np.stack([rng.choice(len(self.D), n, replace=False) for _ in range(B)])
        D = self.D[idx[:, :, None], idx[:, None, :]]
        T = self.T[idx[:, :, None], idx[:, None, :]]
        return D, T, self.xy[idx]


def _x_points(rng, n: int, mode: str) -> np.ndarray:
    """n points on the 1000 x 1000 grid: 'random', 'clustered' or 'mixed' (half of each)."""
    if mode == "random":
        return rng.uniform(0, 1000, (n, 2))
    n_cl = n if mode == "clustered" else n // 2
    seeds = rng.uniform(0, 1000, (int(rng.integers(3, 9)), 2))
    out = []
    while sum(len(o) for o in out) < n_cl:
        cand = rng.uniform(0, 1000, (4 * n, 2))
        d = np.sqrt(((cand[:, None] - seeds[None]) ** 2).sum(-1))
        attract = np.exp(-d / 40.0).sum(1)
        out.append(cand[rng.uniform(0, 1, len(cand)) < attract])
    pts = np.concatenate(out)[:n_cl]
    if n_cl < n:
        pts = np.concatenate([pts, rng.uniform(0, 1000, (n - n_cl, 2))])
    return rng.permutation(pts)


def _x_demands(rng, xy: np.ndarray, depot: np.ndarray) -> np.ndarray:
    m = len(xy)
    kind = int(rng.integers(0, 7))
    if kind == 0:
        return np.ones(m)
    if kind == 1:
        return rng.integers(1, 11, m).astype(float)
    if kind == 2:
        return rng.integers(5, 11, m).astype(float)
    if kind == 3:
        return rng.integers(1, 101, m).astype(float)
    if kind == 4:
        return rng.integers(50, 101, m).astype(float)
    if kind == 5:  # by quadrant around the depot: odd quadrants small, even large
        q = (xy[:, 0] >= depot[0]).astype(int) + 2 * (xy[:, 1] >= depot[1]).astype(int)
        odd = (q == 0) | (q == 3)
        return np.where(odd, rng.integers(1, 51, m), rng.integers(51, 101, m)).astype(float)
    small = rng.uniform(0, 1, m) < rng.uniform(0.7, 0.95)
    return np.where(small, rng.integers(1, 11, m), rng.integers(50, 101, m)).astype(float)


def _xlike(rng, B: int, n: int) -> dict:
    xy = np.zeros((B, n, 2))
    dem = np.zeros((B, n))
    for b in range(B):
        depot_kind = int(rng.integers(0, 3))
        depot = [np.array([500.0, 500.0]), np.zeros(2), rng.uniform(0, 1000, 2)][depot_kind]
        pts = _x_points(rng, n - 1, ["random", "clustered", "mixed"][int(rng.integers(0, 3))])
        d = _x_demands(rng, pts, depot)
        r = rng.uniform(3, 25)  # mean stops per route
        cap = max(d.max(), np.ceil(r * d.sum() / (n - 1)))
        xy[b, 0], xy[b, 1:] = depot, pts
        dem[b, 1:] = d / cap  # per-instance capacity: demands arrive already divided by it
    D = _euclid(xy)
    return dict(D=D, T=D, coords=xy, demand=dem, capacity=1.0)


def _tw(rng, B: int, n: int) -> dict:
    xy = np.zeros((B, n, 2))
    tw = np.zeros((B, n, 2))
    svc = np.zeros((B, n))
    dem = np.zeros((B, n))
    for b in range(B):
        mode = ["random", "clustered", "mixed"][int(rng.integers(0, 3))]
        pts = _x_points(rng, n - 1, mode) / 10.0  # Solomon's 100 x 100 square
        xy[b, 0] = rng.uniform(30, 70, 2)
        xy[b, 1:] = pts
        d0 = np.sqrt(((pts - xy[b, 0]) ** 2).sum(-1))
        s = 10.0 if rng.uniform() < 0.5 else 0.0
        horizon = float(rng.choice([230.0, 1000.0])) + 2 * d0.max() + s
        width = rng.uniform(10, 60, n - 1) * (horizon / 230.0)
        latest = horizon - d0 - s  # still back at the depot in time
        centre = rng.uniform(d0, np.maximum(d0, latest))
        ready = np.maximum(0.0, centre - width / 2)
        due = np.minimum(latest, np.maximum(centre + width / 2, d0))
        wide = rng.uniform(0, 1, n - 1) < rng.uniform(0, 0.5)  # some customers have no window to speak of
        ready[wide], due[wide] = 0.0, latest[wide]
        tw[b, 0] = [0.0, horizon]
        tw[b, 1:, 0], tw[b, 1:, 1] = ready, due
        svc[b, 1:] = s
        dem[b, 1:] = rng.integers(1, 41, n - 1) / 200.0
    D = _euclid(xy)
    return dict(D=D, T=D, coords=xy, demand=dem, capacity=1.0, tw=tw, svc=svc)


#: Solomon's six families (points, horizon of the depot, service time, vehicle capacity): ``tw`` above
#: has short routes (demands of 1-40 for a capacity of 200), service of 0 or 10 and horizons near 230
#: or 1000, while C1/C2 serve for 90 over horizons of 1236 and 3390 and the type-2 families carry 700
#: or 1000 (routes of 30 customers and more)
SOLOMON_FAMILIES = (
    ("clustered", 1236.0, 90.0, 200.0),
    ("clustered", 3390.0, 90.0, 700.0),
    ("random", 230.0, 10.0, 200.0),
    ("random", 1000.0, 10.0, 1000.0),
    ("mixed", 240.0, 10.0, 200.0),
    ("mixed", 960.0, 10.0, 1000.0),
)


def _greedy_routes(D: np.ndarray, dem: np.ndarray, s: float, horizon: float) -> tuple[list, np.ndarray]:
    """Nearest-neighbour routes from depot 0 within capacity 1 and the horizon; the arrival at each stop.

    A stand-in for the good tour Solomon built his clustered windows around: on clustered points it
    sweeps a cluster before it leaves it.
    """
    n = len(D)
    left = np.ones(n, bool)
    left[0] = False
    arrive = np.zeros(n)
    routes = []
    while left.any():
        here, t, load, route = 0, 0.0, 0.0, []
        while True:
            t_at = t + (s if route else 0.0) + D[here]
            ok = left & (load + dem <= 1.0 + 1e-9) & (t_at + s + D[:, 0] <= horizon)
            if not ok.any():
                break
            nxt = int(np.argmin(np.where(ok, D[here], np.inf)))
            t, load, here = float(t_at[nxt]), load + dem[nxt], nxt
            arrive[nxt], left[nxt] = t, False
            route.append(nxt)
        if not route:  # cannot happen when the horizon admits every customer alone
            raise ValueError("a customer cannot be served within the horizon")
        routes.append(route)
    return routes, arrive


def _solomon(rng, B: int, n: int) -> dict:
    """VRPTW instances drawn like Solomon's families (:data:`SOLOMON_FAMILIES`) on a 100 x 100 square.

    In the random and mixed families each customer's window is centred where it can be reached from
    the depot and left in time to go back, as wide as 3-30 % of the horizon. In the clustered ones,
    as in Solomon's C1 and C2, it is centred on the arrival time of a good tour
    (:func:`_greedy_routes`), as wide as 4-20 % of the horizon. A share of the customers (0-75 %) has no
    window to speak of.
    """
    xy = np.zeros((B, n, 2))
    tw = np.zeros((B, n, 2))
    svc = np.zeros((B, n))
    dem = np.zeros((B, n))
    D = np.zeros((B, n, n))
    for b in range(B):
        mode, horizon, s, cap = SOLOMON_FAMILIES[int(rng.integers(0, len(SOLOMON_FAMILIES)))]
        xy[b, 1:] = _x_points(rng, n - 1, mode) / 10.0
        xy[b, 0] = rng.uniform(30, 70, 2)
        D[b] = _euclid(xy[b : b + 1])[0]
        d0 = D[b, 0, 1:]
        horizon = max(horizon * rng.uniform(0.9, 1.1), 2 * d0.max() + s + 1.0)
        latest = horizon - d0 - s
        dem[b, 1:] = rng.integers(1, 41, n - 1) / cap
        # half the draws give every customer the same width, as most of Solomon's files do (R101 all
        # 10, RC102 all 30, C201 all 160); the others vary it per customer, as R201 and C101 do
        same = rng.uniform() < 0.5
        if mode == "clustered":
            _, arrive = _greedy_routes(D[b], dem[b], s, horizon)
            centre = arrive[1:]
            spread = 1.0 if same else rng.uniform(0.8, 1.2, n - 1)
            width = rng.uniform(0.04, 0.2) * horizon * spread
        else:
            centre = rng.uniform(d0, np.maximum(d0, latest))
            frac = rng.uniform(0.03, 0.3) if same else rng.uniform(0.03, 0.3, n - 1)
            width = np.broadcast_to(frac * horizon, (n - 1,))
        ready = np.maximum(0.0, centre - width / 2)
        due = np.minimum(latest, np.maximum(centre + width / 2, d0))
        wide = rng.uniform(0, 1, n - 1) < rng.uniform(0, 0.75)
        ready[wide], due[wide] = 0.0, latest[wide]
        tw[b, 0] = [0.0, horizon]
        tw[b, 1:, 0], tw[b, 1:, 1] = ready, due
        svc[b, 1:] = s
    return dict(D=D, T=D, coords=xy, demand=dem, capacity=1.0, tw=tw, svc=svc)


def generate(kind: str, rng: np.random.Generator, B: int, n: int, city: CityPool | None = None) -> dict:
    if kind == "uniform":
        xy = rng.uniform(0, 1, (B, n, 2))
        D = _euclid(xy)
        return dict(D=D, T=D, coords=xy, demand=_demands(rng, B, n), capacity=_capacity(n))
    if kind == "clustered":
        k = rng.integers(2, 7)
        centres = rng.uniform(0.1, 0.9, (B, k, 2))
        which = rng.integers(0, k, (B, n))
        xy = np.take_along_axis(centres, which[..., None].repeat(2, -1), 1)
        xy = np.clip(xy + rng.normal(0, rng.uniform(0.03, 0.12), (B, n, 2)), 0, 1)
        xy[:, 0] = rng.uniform(0, 1, (B, 2))  # depot anywhere
        D = _euclid(xy)
        return dict(D=D, T=D, coords=xy, demand=_demands(rng, B, n), capacity=_capacity(n))
    if kind in ("city", "city_tsp"):
        if city is None:
            kind = "asym_tsp" if kind == "city_tsp" else "uniform"
            return generate(kind, rng, B, n)
        D, T, xy = city.sample(rng, B, n)
        if kind == "city":
            return dict(D=D, T=T, coords=xy, demand=_demands(rng, B, n), capacity=_capacity(n))
        return dict(D=D, T=T, coords=xy, single_route=True)
    if kind == "asym_tsp":
        xy = rng.uniform(0, 1, (B, n, 2))
        D = _euclid(xy) * rng.uniform(1.0, 1.5, (B, n, n))
        D[:, np.arange(n), np.arange(n)] = 0
        T = D * rng.uniform(0.8, 1.6, (B, n, n))
        return dict(D=D, T=T, coords=xy, single_route=True)
    if kind == "xlike":
        return _xlike(rng, B, n)
    if kind == "tw":
        return _tw(rng, B, n)
    if kind == "solomon":
        return _solomon(rng, B, n)
    raise ValueError(f"kind {kind!r}: allowed values are {', '.join(KINDS)}")
