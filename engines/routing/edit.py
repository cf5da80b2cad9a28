"""Map edits of a coordinate instance: add, move or delete a customer (a new :class:`Problem`)."""

from __future__ import annotations

import numpy as np

from engines.routing.problem import Problem

__all__ = ["edit_problem"]


def _xy_matrix(coords: np.ndarray, kind: str) -> np.ndarray:
    if kind == "latlon":
        from engines.routing.io import haversine_km

        return haversine_km(coords)
    return np.hypot(*(coords[:, None, :] - coords[None, :, :]).transpose(2, 0, 1))


def edit_problem(p: Problem, op: str, index: int | None = None, xy=None, demand: float = 1.0) -> Problem:
    """A copy of ``p`` with a customer added ('add'), moved ('move') or deleted ('delete').

    Only for coordinate-defined problems (matrices recomputed as straight lines,
    in the problem's units; durations scaled like the original mean ratio).
    """
    if p.coords is None:
        raise ValueError(f"{p.name}: no coordinates, customers cannot be edited on the map")
    if p.roads is not None:
        raise ValueError(f"{p.name}: a road-network instance; rebuild it from the .pbf to change points")
    c = p.coords.copy()
    dem = p.demand.copy()
    tw = None if p.time_windows is None else p.time_windows.copy()
    svc = None if p.service is None else p.service.copy()
    if op == "add":
        c = np.vstack([c, np.asarray(xy, float)[None]])
        dem = np.r_[dem, demand if p.capacity is not None else 0.0]
        if tw is not None:
            tw = np.vstack([tw, tw[0][None]])
        if svc is not None:
            svc = np.r_[svc, np.median(svc[1:]) if len(svc) > 1 else 0.0]
    elif op == "move":
        c[int(index)] = np.asarray(xy, float)
    elif op == "delete":
        i = int(index)
        if i == 0:
            raise ValueError("the depot cannot be deleted")
        if p.n <= 2:
            raise ValueError("the last customer cannot be deleted")
        keep = np.arange(p.n) != i
        c, dem = c[keep], dem[keep]
        tw = None if tw is None else tw[keep]
        svc = None if svc is None else svc[keep]
    else:
        raise ValueError(f"edit {op!r}: allowed values are 'add', 'move', 'delete'")
    D = _xy_matrix(c, p.coord_kind)
    off = ~np.eye(p.n, dtype=bool)
    ratio = float(p.duration[off].sum() / max(p.distance[off].sum(), 1e-12))
    T = D * ratio
    if p.precision is not None:
        D = np.round(D, p.precision)
        T = np.round(T, p.precision)
    return Problem(
        name=p.name + " (edited)" if not p.name.endswith("(edited)") else p.name,
        distance=D,
        duration=T,
        coords=c,
        coord_kind=p.coord_kind,
        demand=dem,
        capacity=p.capacity,
        num_vehicles=p.num_vehicles,
        time_windows=tw,
        service=svc,
        precision=p.precision,
        distance_unit=p.distance_unit,
        duration_unit=p.duration_unit,
    )
