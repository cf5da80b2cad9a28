"""PyVRP as the classical solver, driven as a stoppable generator.

The problem is converted to PyVRP's integer data: distances and times are
scaled by ``10**precision`` (exact for CVRPLIB and Solomon/DIMACS) or by 1000
for real-valued road matrices, then every solution PyVRP returns is evaluated
again with our own evaluator on the original matrices.

PyVRP's ``solve`` runs its iterated local search to the end in one call. To
stream (time, best cost) and stop between iterations, :func:`pyvrp_search`
assembles the same public parts ``pyvrp.solve`` uses (local search with its
operators, penalty manager, perturbation) and runs the iterated local search
with late-acceptance hill climbing (Burke and Bykov) one iteration at a time,
yielding after each improvement and at least every ``report_every`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from engines.routing.problem import Problem

__all__ = ["to_pyvrp", "pyvrp_search", "scales"]

_BIG = np.iinfo(np.int64).max // 4


def scales(problem: Problem) -> tuple[float, float]:
    """(distance scale, time scale) to turn the matrices into integers."""
    if problem.precision is not None:
        s = 10.0**problem.precision
        return s, s
    return 1000.0, 1000.0


def to_pyvrp(problem: Problem):
    import pyvrp

    ds, ts = scales(problem)
    n = problem.n
    D = np.rint(problem.distance * ds).astype(np.int64)
    T = np.rint(problem.duration * ts).astype(np.int64)
    if problem.precision is not None:
        # exact: matrices hold multiples of 10**-precision
        pass
    coords = problem.coords if problem.coords is not None else np.zeros((n, 2))
    if problem.coord_kind == "latlon":
        coords = coords[:, ::-1]
    locs = [pyvrp.Location(x=float(x), y=float(y)) for x, y in coords]
    tw = problem.time_windows
    svc = problem.service_times
    has_cap = problem.capacity is not None
    dem = np.rint(problem.demand).astype(np.int64)

    def twv(i):
        if tw is None:
            return 0, _BIG
        return int(round(tw[i, 0] * ts)), int(round(tw[i, 1] * ts))

    e0, l0 = twv(0)
    depots = [pyvrp.Depot(location=0, tw_early=e0, tw_late=l0)]
    clients = []
    for i in range(1, n):
        e, lt = twv(i)
        clients.append(
            pyvrp.Client(
                location=i,
                delivery=[int(dem[i])] if has_cap else [],
                service_duration=int(round(svc[i] * ts)),
                tw_early=e,
                tw_late=lt,
            )
        )
    nv = problem.num_vehicles if problem.num_vehicles is not None else n - 1
    vt = pyvrp.VehicleType(
        num_available=int(nv),
        capacity=[int(round(problem.capacity))] if has_cap else [],
        tw_early=e0,
        tw_late=l0,
    )
    return pyvrp.ProblemData(
        locations=locs,
        clients=clients,
        depots=depots,
        vehicle_types=[vt],
        distance_matrices=[D],
        duration_matrices=[T],
    )


def _routes_of(sol) -> list[list[int]]:
    """Our node numbers (PyVRP numbers clients from 0; our customers from 1)."""
    return [[int(a.idx) + 1 for a in r.schedule() if a.is_client()] for r in sol.routes()]


def pyvrp_search(
    problem: Problem,
    time_limit: float,
    seed: int = 0,
    initial_routes: list[list[int]] | None = None,
    report_every: float = 0.05,
) -> Generator[tuple[float, list[list[int]] | None, bool], None, None]:
    """Yield (elapsed s, best feasible routes or None, improved) until time_limit.

    Stop it early with ``close()``. ``initial_routes`` warm-starts the search
    (they must fit the vehicle count).
    """
    import pyvrp
    from pyvrp.RingBuffer import RingBuffer
    from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours

    t0 = time.perf_counter()
    data = to_pyvrp(problem)
    params = pyvrp.SolveParams()
    rng = pyvrp.RandomNumberGenerator(seed=int(seed))
    ls = LocalSearch(
        data, rng, compute_neighbours(data, params.neighbourhood), PerturbationManager(params.perturbation)
    )
    for op in params.operators:
        if op.supports(data):
            ls.add_operator(op(data))
    pm = pyvrp.PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    if initial_routes:
        init = pyvrp.Solution(data, [[int(c) - 1 for c in r] for r in initial_routes])
    else:
        init = ls(pyvrp.Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True)
    ilsp = params.ils
    best = curr = init
    history = RingBuffer(ilsp.history_length)
    stale = 0
    last_report = -1.0
    best_feasible = init if init.is_feasible() else None
    yield time.perf_counter() - t0, (_routes_of(best_feasible) if best_feasible else None), True
    while True:
        now = time.perf_counter() - t0
        if now >= time_limit:
            break
        if stale >= ilsp.num_iters_no_improvement:
            history.clear()
            curr = best
            stale = 0
        ce = pm.cost_evaluator()
        cand = ls(curr, ce, exhaustive=False)
        pm.register(cand)
        stale += 1
        improved = False
        if ce.cost(cand) < ce.cost(best):  # cost() is infinite for infeasible solutions
            best = cand
            stale = 0
            if ilsp.exhaustive_on_best:
                polished = ls(cand, ce, exhaustive=True)
                if polished.is_feasible():
                    best = polished
            if best.is_feasible():
                best_feasible = best
                improved = True
        cand_pc = ce.penalised_cost(cand)
        curr_pc = ce.penalised_cost(curr)
        old = history.peek()
        ref = ce.penalised_cost(init) if old is None else ce.penalised_cost(old)
        if cand_pc < ref or cand_pc < curr_pc:
            curr, curr_pc = cand, cand_pc
        if curr_pc < ref or old is None:
            history.append(curr)
        else:
            history.skip()
        now = time.perf_counter() - t0
        if improved or now - last_report >= report_every:
            last_report = now
            yield now, (_routes_of(best_feasible) if best_feasible is not None else None), improved
