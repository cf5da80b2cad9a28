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


def pyvrp_search(
    problem: Problem,
    time_limit: float,
    seed: int = 0,
    initial_routes: list[list[int]] | None = None,
    report_every: float = 0.05,
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
