"""PyVRP as the classical solver, driven as a stoppable generator.

The problem is converted to PyVRP's integer data: distances and times are
scaled by ``10**precision`` (exact for CVRPLIB and Solomon/DIMACS) or by 1000
for real-valued road matrices, then every solution PyVRP returns is evaluated
again with our own evaluator on the original matrices.

PyVRP's ``solve`` runs its iterated local search to the end in one call.
:func:`pyvrp_search` runs that very call (with ``initial_solution=`` for a
warm start) in a worker thread and streams each new best solution that
PyVRP's ``on_best`` callback reports; its stopping criterion also watches a
stop flag, so the search can be stopped between iterations.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Generator

import numpy as np

from engines.routing.problem import Problem

__all__ = ["to_pyvrp", "pyvrp_fleet", "pyvrp_search", "scales"]

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


def pyvrp_fleet(problem: Problem, time_limit: float, seed: int = 0) -> int:
    """The smallest vehicle count PyVRP's ``minimise_fleet`` finds within ``time_limit`` seconds."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    data = to_pyvrp(problem)
    vt = pyvrp.minimise_fleet(data, MaxRuntime(max(time_limit, 1e-3)), seed=int(seed))
    return int(vt.num_available)


def _warm_ils(data, stop, seed: int, params, init):
    """PyVRP's iterated local search from ``init`` with a cold start's acceptance; returns the best.

    ``pyvrp.solve(initial_solution=init)`` measures late acceptance against ``init`` until its
    history fills, so a good warm start turns the first hundreds of iterations into hill climbing
    and the search stays in that solution's basin. Here, as in a cold start, the reference is a
    random solution after an exhaustive local search, while the search itself (current and best)
    starts from ``init``. Otherwise the loop is ``IteratedLocalSearch.run`` of PyVRP 0.14 (late
    acceptance hill climbing with both enhancements of Burke and Bykov 2017, restarts from the
    best after ``num_iters_no_improvement``), without statistics or printing.
    """
    from pyvrp import PenaltyManager, RandomNumberGenerator, Solution
    from pyvrp.RingBuffer import RingBuffer
    from pyvrp.search import LocalSearch, PerturbationManager, compute_neighbours

    rng = RandomNumberGenerator(seed=seed)
    search = LocalSearch(data, rng, compute_neighbours(data, params.neighbourhood),
                         PerturbationManager(params.perturbation))  # fmt: skip
    for op in params.operators:
        if op.supports(data):
            search.add_operator(op(data))
    pm = PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    ref = search(Solution.make_random(data, rng), pm.max_cost_evaluator(), exhaustive=True)
    ils = params.ils
    history = RingBuffer(ils.history_length)
    best = curr = init
    iters_no_improvement = 0
    cost_eval = pm.cost_evaluator()
    while not stop(cost_eval.cost(best)):
        if iters_no_improvement == ils.num_iters_no_improvement:
            history.clear()
            curr = best
            iters_no_improvement = 0
            ils.callbacks.on_restart(best)
        cost_eval = pm.cost_evaluator()
        cand = search(curr, cost_eval, exhaustive=False)
        pm.register(cand)
        iters_no_improvement += 1
        if cost_eval.cost(cand) < cost_eval.cost(best):
            best = cand
            iters_no_improvement = 0
            if ils.exhaustive_on_best:
                cand = search(cand, cost_eval, exhaustive=True)
                if cand.is_feasible():
                    best = cand
            ils.callbacks.on_best(best)
        cand_cost = cost_eval.penalised_cost(cand)
        curr_cost = cost_eval.penalised_cost(curr)
        late = history.peek()
        late_cost = cost_eval.penalised_cost(ref if late is None else late)
        if cand_cost < late_cost or cand_cost < curr_cost:
            curr, curr_cost = cand, cand_cost
        if curr_cost < late_cost or late is None:
            history.append(curr)
        else:
            history.skip()

    class _Result:  # what pyvrp_search reads of pyvrp.Result
        pass

    res = _Result()
    res.best = best
    return res


def pyvrp_search(
    problem: Problem,
    time_limit: float,
    seed: int = 0,
    initial_routes: list[list[int]] | None = None,
    report_every: float = 0.05,
    late_reference: str = "initial",
) -> Generator[tuple[float, list[list[int]] | None, bool], None, None]:
    """Yield (elapsed s, routes, improved) until time_limit, running ``pyvrp.solve``.

    PyVRP's own ``solve(data, stop, seed, params, initial_solution=...)`` runs
    in a worker thread: its ``on_best`` callback puts every new best feasible
    solution in a queue, which this generator hands on as ``(t, routes, True)``;
    in between it yields ``(t, None, False)`` at least every ``report_every``
    seconds. The stopping criterion passed to ``solve`` checks the time limit
    and a stop flag, so ``close()`` stops PyVRP after its current iteration and
    waits for the thread. ``initial_routes`` warm-start the search (they must
    fit the vehicle count); ``t`` is measured from the call, and stamped when
    PyVRP found the solution.

    ``late_reference="cold"`` runs :func:`_warm_ils` instead of ``pyvrp.solve`` for a warm start:
    the search starts from ``initial_routes`` but accepts as a cold start would.
    """
    import pyvrp

    t0 = time.perf_counter()
    data = to_pyvrp(problem)
    init = None
    if initial_routes:
        init = pyvrp.Solution(data, [[int(c) - 1 for c in r] for r in initial_routes if len(r)])
    found: queue.SimpleQueue = queue.SimpleQueue()
    stop_flag = threading.Event()
    outcome: dict = {}

    class _Streaming(pyvrp.IteratedLocalSearchCallbacks):
        def on_best(self, best):
            if best.is_feasible():
                found.put((time.perf_counter() - t0, _routes_of(best)))

    def stop(_best_cost) -> bool:
        return stop_flag.is_set() or time.perf_counter() - t0 >= time_limit

    params = pyvrp.SolveParams(ils=pyvrp.IteratedLocalSearchParams(callbacks=_Streaming()))

    def work():
        try:
            if init is not None and late_reference == "cold":
                outcome["result"] = _warm_ils(data, stop, int(seed), params, init)
            else:
                outcome["result"] = pyvrp.solve(
                    data, stop, seed=int(seed), collect_stats=False, params=params, initial_solution=init
                )
        except BaseException as e:  # handed to the caller below
            outcome["error"] = e
        finally:
            found.put(None)

    worker = threading.Thread(target=work, name="pyvrp-solve", daemon=True)
    if init is not None and init.is_feasible():
        yield time.perf_counter() - t0, _routes_of(init), True
    worker.start()
    try:
        while True:
            try:
                item = found.get(timeout=report_every)
            except queue.Empty:
                yield time.perf_counter() - t0, None, False
                continue
            if item is None:
                break
            yield item[0], item[1], True
    finally:
        stop_flag.set()
        worker.join()
    if "error" in outcome:
        raise outcome["error"]
    best = outcome["result"].best
    if best.is_feasible():
        yield time.perf_counter() - t0, _routes_of(best), True
