"""The routing engine behind the Route maps panel.

It holds one problem and the best solution found so far. Solving is a
one-shot job (:meth:`RoutingEngine.solve_job`) that the runner drives; every
yield updates the engine's best solution, so a snapshot taken at any time
shows the last good solution, also after a cancel. ``step(n)`` runs ``n``
rounds of ruin-and-recreate + local search on the current solution ("keep
improving"), so Run/Step in the studio toolbar do something useful too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engines.base import Engine, StateError
from engines.routing import ls
from engines.routing.edit import edit_problem
from engines.routing.params import RoutingParams
from engines.routing.problem import Evaluation, Problem, RoadGeometry, evaluate
from engines.routing.solvers import SolveResult, solve_job

__all__ = ["RoutingEngine", "RoutingSnapshot"]


@dataclass(frozen=True)
class RoutingSnapshot:
    """What the Route maps panel draws: the problem, the best solution so far and the solve history."""

    problem: Problem | None
    routes: tuple[tuple[int, ...], ...]
    evaluation: Evaluation | None
    solver: str
    curve: np.ndarray  # (k, 2) time s, best cost (feasible improvements)
    comparison: tuple[tuple[str, float, float | None, float, bool], ...]  # solver, cost, gap %, s, feasible
    solving: bool
    version: int  # bumps whenever problem or solution change
    time_limit_s: float = 0.0  # of the running or last solve (0: none yet)
    elapsed_s: float = 0.0  # time into that solve, s (the curve's last cost holds until then)

    #: fields that measure this machine rather than the model
    measured: ClassVar[tuple[str, ...]] = ("elapsed_s",)


class RoutingEngine(Engine[RoutingParams, RoutingSnapshot]):
    """One routing problem and the best solution found so far (see the module docstring)."""

    params_type = RoutingParams
    name = "routing"
    title = "Route maps"
    step_unit = "improvement rounds"
    default_chunk = 1

    def __init__(self, params: RoutingParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self.problem: Problem | None = None
        self._routes: tuple[tuple[int, ...], ...] = ()
        self._eval: Evaluation | None = None
        self._solver = ""
        self._curve: list[tuple[float, float]] = []
        self._comparison: dict[str, tuple[str, float, float | None, float, bool]] = {}
        self._solving = False
        self._time_limit = 0.0
        self._elapsed = 0.0
        self._version = 0
        self._rng = np.random.default_rng(seed)
        self._lsdata: ls.LSData | None = None
        self._rounds = 0

    # -- problem ---------------------------------------------------------
    def load(self, path: str | os.PathLike) -> Problem:
        from engines.routing.io import load_problem

        return self.open_problem(load_problem(path))

    def open_problem(self, problem: Problem) -> Problem:
        """Use an instance read elsewhere (the panel reads files itself, to report errors at once)."""
        self.set_problem(problem)
        self.log(f"loaded {problem.name}: {problem.variant}, {problem.n - 1} customers")
        return problem

    def set_problem(self, problem: Problem, keep_comparison: bool = False) -> None:
        self.problem = problem
        self._routes = ()
        self._eval = None
        self._curve = []
        self._time_limit = self._elapsed = 0.0
        self._solver = ""
        self._lsdata = None
        if not keep_comparison:
            self._comparison = {}
        self._version += 1

    def edit(self, op: str, index: int | None = None, xy=None) -> None:
        if self.problem is None:
            raise ValueError("no problem loaded")
        self.set_problem(edit_problem(self.problem, op, index, xy))

    def set_solution(self, routes, solver: str = "") -> Evaluation:
        if self.problem is None:
            raise ValueError("no problem loaded")
        ev = evaluate(self.problem, routes)
        self._routes = tuple(tuple(s.nodes) for s in ev.routes)
        self._eval = ev
        self._solver = solver
        self._version += 1
        return ev

    # -- solving -----------------------------------------------------------
    def warm_up_job(self):
        """Load the compiled kernels, PyVRP and the neural weights (a few seconds, once)."""
        from engines.base import Progress
        from engines.routing.solvers import warm_up

        yield Progress(0, 2, "warming up the solvers")
        warm_up("ls")
        yield Progress(1, 2, "loading the neural model")
        try:
            warm_up("neural+pyvrp")
        except FileNotFoundError as e:  # no weights: the other solvers still work
            self.log(str(e), "warning")
        yield Progress(2, 2, "solvers ready")

    def solve_job(self, solver: str | None = None, time_limit: float | None = None, min_vehicles=None):
        """The job the panel runs: streams the best solution into the engine."""
        if self.problem is None:
            raise ValueError("open an instance first")
        solver = solver or self.params.solver
        limit = float(time_limit if time_limit is not None else self.params.time_limit_s)
        mv = self.params.min_vehicles if min_vehicles is None else bool(min_vehicles)
        job = solve_job(self.problem, solver, limit, self.seed, min_vehicles=mv)
        self._solving = True
        self._curve = []
        self._time_limit, self._elapsed = limit, 0.0
        self._version += 1
        last: SolveResult | None = None
        try:
            for prog in job:
                self._elapsed = float(prog.done)
                r = prog.value
                if (
                    r is not None
                    and r.routes
                    and (last is None or r.cost != last.cost or r.routes != last.routes)
                ):
                    self.set_solution(r.routes, solver)
                    self._curve = list(r.curve)
                    last = r
                yield prog
        finally:
            job.close()
            self._solving = False
            self._version += 1
            if last is not None:
                p = self.problem
                self._comparison[solver] = (solver, last.cost, p.gap(last.cost), last.elapsed, last.feasible)
        return last

    # -- Engine ------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._routes = ()
        self._eval = None
        self._curve = []
        self._rounds = 0
        self._version += 1

    def step(self, n: int = 1) -> int:
        if self.problem is None:
            return 0
        if self._lsdata is None:
            self._lsdata = ls.LSData(self.problem)
        d = self._lsdata
        if not self._routes or not (self._eval and self._eval.feasible):
            R, L = ls.construct(d)
            ls.improve(d, R, L, self._rng)
            self.set_solution(ls.to_routes(R, L), "ls")
        R, L = ls.from_routes(d, self._routes) if len(self._routes) <= d.K else ls.construct(d)
        best = ls.cost(d, R, L)
        for _ in range(n):
            out = ls.perturb_and_improve(d, R, L, self._rng, q=self.params.ruin_size)
            self._rounds += 1
            if out is not None and ls.cost(d, *out) < best - 1e-9:
                R, L = out
                best = ls.cost(d, R, L)
                self.set_solution(ls.to_routes(R, L), "ls")
        return n

    @property
    def time(self) -> float:
        return float(self._rounds)

    def snapshot(self) -> RoutingSnapshot:
        curve = np.array(self._curve, dtype=np.float64).reshape(-1, 2)
        curve.setflags(write=False)
        return RoutingSnapshot(
            problem=self.problem,
            routes=self._routes,
            evaluation=self._eval,
            solver=self._solver,
            curve=curve,
            comparison=tuple(self._comparison.values()),
            solving=self._solving,
            version=self._version,
            time_limit_s=self._time_limit,
            elapsed_s=self._elapsed,
        )

    def state_dict(self) -> dict[str, Any]:
        p = self.problem
        d: dict[str, Any] = {
            "params": self.params.to_dict(),
            "seed": self.seed,
            "routes": [list(r) for r in self._routes],
        }
        if p is not None:
            d["problem"] = {
                "name": p.name,
                "distance": p.distance,
                "duration": p.duration,
                "coords": p.coords,
                "coord_kind": p.coord_kind,
                "demand": p.demand,
                "capacity": p.capacity,
                "num_vehicles": p.num_vehicles,
                "time_windows": p.time_windows,
                "service": p.service,
                "bks": p.bks,
                "precision": p.precision,
                "source": p.source,
                "distance_unit": p.distance_unit,
                "duration_unit": p.duration_unit,
            }
            if p.roads is not None:
                r = p.roads
                d["roads"] = {
                    "node_xy": r.node_xy,
                    "edges": r.edges,
                    "point_node": r.point_node,
                    "pred": r.pred,
                }
        return d

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        try:
            self.set_params(RoutingParams.from_dict(d["params"]))
            self.seed = int(d.get("seed", self.seed))
            if "problem" in d:
                roads = None
                if d.get("roads"):
                    roads = RoadGeometry(**{k: np.asarray(v) for k, v in dict(d["roads"]).items()})
                self.set_problem(Problem(**dict(d["problem"]), roads=roads))
                if d.get("routes"):
                    self.set_solution(d["routes"], "restored")
            else:
                self.problem = None
                self.reset()
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError) as e:
            raise StateError(f"routing state: {e}") from e
