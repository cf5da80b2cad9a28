"""Parameters of the routing engine (what Solve and Run use)."""

from __future__ import annotations

from dataclasses import dataclass

from engines.base import Params, param
from engines.routing.solvers import SOLVERS

__all__ = ["RoutingParams"]


@dataclass(frozen=True)
class RoutingParams(Params):
    """How the Route maps engine solves: the solver, its time budget and the local-search moves."""

    solver: str = param("neural+ls", choices=SOLVERS, doc="solver used by Solve")
    time_limit_s: float = param(2.0, unit="s", min=0.05, max=3600.0, doc="wall-time budget of one solve")
    ruin_size: int = param(10, min=2, max=100, doc="customers removed per ruin-and-recreate step")
    min_vehicles: bool = param(False, doc="fewest routes first, then the distance (local search, PyVRP)")
