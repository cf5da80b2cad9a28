"""Training instances: uniform, clustered and road-network (asymmetric) ones.

Each generator returns the keyword arguments of
:func:`engines.routing.neural.env.batch_from_arrays` for B instances of n
nodes (depot included), drawn from a numpy ``Generator``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KINDS", "CityPool", "generate"]

KINDS = ("uniform", "clustered", "city", "city_tsp", "asym_tsp")


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
    raise ValueError(f"kind {kind!r}: allowed values are {', '.join(KINDS)}")
