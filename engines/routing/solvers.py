"""Solver jobs: generators yielding :class:`~engines.base.Progress` with the current best.

``solve_job(problem, solver, time_limit, seed)`` is the one entry point used by
the CLI, the benchmarks, the engine and the panel. Each yielded progress
carries a :class:`SolveResult` (the best feasible solution so far, its cost
from :func:`engines.routing.problem.evaluate`, and the (time, best cost)
curve). The job may be closed between yields; its last yielded value is then
the last good solution.

Solvers:

``ls``          savings start, compiled local search, then ruin-and-recreate
                iterated local search until the time limit;
``pyvrp``       PyVRP's iterated local search (see :mod:`pyvrp_bridge`);
``neural``      the attention model, POMO multi-start, greedy decoding (one set of weights for
                problems with time windows, one for the others); the time left after the
                greedy passes goes to active search (:mod:`.neural.search`);
``neural+ls``   the neural solution polished by the compiled local search
                (descent, then iterated local search for the remaining time); with 2 s or
                more left on a multi-vehicle instance, the iterated local search runs for
                30 % of it, then PyVRP's search from the neural solution (symmetric
                instances: our search's best is a deep local optimum PyVRP rarely leaves)
                or from that best (asymmetric ones), accepting as PyVRP's cold start
                does; the best of both is kept;
``neural+pyvrp`` PyVRP warm-started from the neural + local-search solution;
``lkh``         LKH-3 (through elkai, :mod:`.lkh`) for single-vehicle instances (TSP, ATSP):
                independent runs until the time limit, the best tour kept.

On single-vehicle instances the improvement stage of ``neural+ls`` is LKH-3 when elkai is
installed: the neural tour is the first solution, LKH's runs fill the remaining time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np

from engines.base import Progress
from engines.routing import lkh, ls
from engines.routing.problem import Problem, check_instance, evaluate

__all__ = ["SOLVERS", "SOLVER_HELP", "SolveResult", "solve", "solve_job", "warm_up"]

SOLVERS = ("ls", "pyvrp", "neural", "neural+ls", "neural+pyvrp", "lkh")
#: one line per solver, for tool tips and ``--help``
SOLVER_HELP = {
    "ls": "compiled iterated local search from a savings start",
    "pyvrp": "PyVRP's iterated local search (a state-of-the-art classical solver)",
    "neural": "the neural model alone (its weights for time windows, or for problems without them): "
    "greedy rollouts over coordinate flips and first customers, then active search (the model adapts "
    "its view of this instance to the tours it samples) for the rest of the time limit",
    "neural+ls": "the neural solution improved by our local search, then by PyVRP when 2 s or more "
    "are left (PyVRP cold on asymmetric distances; with time windows PyVRP cold first, then our search "
    "from the best); LKH-3 for single-vehicle tours",
    "neural+pyvrp": "PyVRP warm-started from the neural solution after one local search",
    "lkh": "LKH-3 (elkai) for single-vehicle tours (TSP, ATSP)",
}


@dataclass(frozen=True)
class SolveResult:
    solver: str
    routes: tuple[tuple[int, ...], ...]
    cost: float
    feasible: bool
    violations: tuple[str, ...]
    elapsed: float
    curve: tuple[tuple[float, float], ...] = field(default=())
    iterations: int = 0

    def to_json(self, problem: Problem) -> dict:
        gap = problem.gap(self.cost) if self.feasible else None
        return {
            "instance": problem.name,
            "variant": problem.variant,
            "solver": self.solver,
            "cost": problem.round_cost(self.cost),
            "feasible": self.feasible,
            "violations": list(self.violations),
            "num_routes": len(self.routes),
            "routes": [list(r) for r in self.routes],
            "time_s": round(self.elapsed, 4),
            "bks": problem.bks,
            "gap_percent": None if gap is None else round(gap, 4),
        }


_WARM: set[str] = set()

#: ``neural`` alone: after the greedy passes over every coordinate flip and first customer
#: (:func:`neural.infer.distinct_passes`), the time left goes to active search
#: (:mod:`engines.routing.neural.search`) when it holds at least this many greedy passes (about the
#: time of one active-search iteration, which samples and back-propagates); otherwise, on instances
#: too large for its memory (:func:`neural.search.search_rollouts`) and when NEURAL_ACTIVE_SEARCH is
#: False, to passes of sampled rollouts. Chosen on the 22 Solomon files outside benchmarks/routing.py's
#: vrptw section at 1 and 2 s (3 against 8 and 16 passes: mean gap 11.57 / 11.56 / 11.56 % at 1 s,
#: 10.93 / 10.98 / 11.15 % at 2 s; sampled passes only: 11.56 % and 11.13 %)
NEURAL_ACTIVE_MIN_PASSES = 3
NEURAL_ACTIVE_SEARCH = True
NEURAL_SAMPLED_PASSES = 1000

#: ``neural+ls`` on multi-vehicle instances, when at least HANDOFF_MIN_S seconds are left after the
#: neural decoding: its own iterated local search for HANDOFF_SHARE of that time (the fast start, and
#: the fallback), then PyVRP's search for the rest, warm-started from the neural solution
#: (HANDOFF_START "neural"; "best": from the best solution so far; "none": cold; "pyvrp-first": PyVRP
#: cold first and our search from the best for the last share), accepting as a cold
#: start does (LATE_REFERENCE "cold", :func:`pyvrp_bridge._warm_ils`; "initial" is
#: ``pyvrp.solve(initial_solution=...)``). The best of both is kept. Chosen on the X instances of
#: ``neural.train.HELD_OUT_X`` at 10 s (benchmarks/routing.py reports the others), one run each:
#: from "neural" 0.67 %, "none" 0.73 %, PyVRP alone 0.78 % (seeds 0-1, load about 2.5); from "best"
#: 0.91 % with "cold", 1.07 % with "initial", PyVRP alone 0.82 % (seeds 0-3, load about 4): the
#: search's own best is a deep local optimum that PyVRP rarely leaves. The compiled search alone
#: stalled (0.92 %, PyVRP 0.81 %, seed 0). At 1 s it was best (1.64 % over 2 seeds, 1.69-1.93 % with
#: a hand-over, PyVRP 2.47 %), hence HANDOFF_MIN_S. On asymmetric road networks (where the neural
#: model is weaker) the search's best was the better start: six seeded Helsinki ACVRP / ACVRPTW
#: instances kept apart (seeds 11-13 of ``benchmarks/routing.py``'s generator; it reports seeds 1-3),
#: 10 s, gap to the best of the three: "best" 0.00 % / 0.13 %, "neural" 0.11 % / 1.16 %, PyVRP
#: 1.00 % / 0.11 %. But one seed's ranking is mostly luck there: over solver seeds 0-2 on the same six
#: ACVRP instances (18 runs, gap to the best of all runs) "best" had 0.37 % mean and was at least as
#: good as PyVRP alone (0.44 %) in only 10 runs, while "none" (our search for HANDOFF_SHARE of the
#: time, then PyVRP cold, the better kept) had 0.16 % (share 0.2: 0.16 %, 0.45: 0.20 %, 0.6: 0.23 %)
#: and was at least as good as PyVRP alone in all 18. HANDOFF_START "auto" takes "neural" on
#: symmetric instances, "none" on asymmetric ones and "pyvrp-first" (with HANDOFF_SHARE_TW) with time
#: windows, where a warm start keeps PyVRP's penalties from finding their way. Cold was chosen on six
#: Helsinki ACVRPTW instances kept apart (seeds 11-16, 10 s, one run each, gap to the better of the
#: two): start "best" share 0.3 0.87 % (PyVRP 0.00 %), "best" 0.1 0.66 % (0.17 %), "neural" 0.1 0.66 %
#: (0.18 %), "neural" 0.0 1.66 % (0.00 %), "none" 0.1 0.07 % (0.14 %); on the Solomon instances
#: C103, C203, R103, R202, RC103, RC202 (not those benchmarks/routing.py reports): "neural" 0.3
#: 0.33 %, "none" 0.1 0.25 %, PyVRP 0.25 % (gap to the best known). Rechecked over solver seeds 0-2
#: on those six ACVRPTW instances (18 runs, gap to the best of all runs): share 0.1 0.12 % mean, at least
#: as good as PyVRP alone (0.36 %) in 16 runs; share 0.05 0.25 % (15 runs); 0.25 0.22 % (12 runs).
#: Then the order was reversed ("pyvrp-first"): PyVRP cold for all but HANDOFF_SHARE_TW
#: of the time, then our search from the best so far, which often improves on PyVRP's best. Same 18
#: runs, in one run side by side on a loaded machine: PyVRP first 0.26 % mean, at least as good as
#: PyVRP alone (0.54 %) in 16 runs (share 0.05: 0.28 %, 17 runs); our search first 0.40 % (10 runs).
#: Solomon tuning instances, seed 0: 0.20 % (PyVRP alone 0.25 %, our search first 0.25 %).
HANDOFF_SHARE = 0.3
HANDOFF_SHARE_TW = 0.1
HANDOFF_MIN_S = 2.0
LATE_REFERENCE = "cold"
HANDOFF_START = "auto"


def _pyvrp_available() -> bool:
    try:
        import pyvrp  # noqa: F401
    except ImportError:
        return False
    return True


def warm_up(solver: str = "ls", model=None) -> None:
    """Load the compiled kernels (and the model) once per process, outside any timing.

    The first call of a numba kernel in a process loads its compiled code from
    the cache (about a second here); importing torch and reading the weights
    take longer. Solve times reported by :func:`solve_job` start after this.
    """
    if "ls" not in _WARM:
        toy = Problem("warm-up", np.array([[0, 1, 2, 2], [1, 0, 1, 2], [2, 1, 0, 1], [2, 2, 1, 0.0]]),
                      demand=[0, 1, 1, 1], capacity=2, time_windows=[[0, 99]] * 4)  # fmt: skip
        d = ls.LSData(toy)
        R, L = ls.construct(d)
        rng = np.random.default_rng(0)
        ls.improve(d, R, L, rng)
        ls.perturb_and_improve(d, R, L, rng, q=2)
        k = int(np.argmax(L))  # the route-elimination kernel too
        ls._eliminate(
            R.copy(), L.copy(), d.D, d.T, d.tw, d.svc, d.dem, d.cap, d.has_tw, k, np.arange(int(L[k]))
        )
        _WARM.add("ls")
    if solver.startswith("neural") and model is None and "neural" not in _WARM:
        from engines.routing.neural.infer import default_model

        default_model(time_windows=False)
        default_model(time_windows=True)
        _WARM.add("neural")
    if solver == "neural" and "active" not in _WARM:
        # the first backward pass in a process starts torch's autograd engine (0.8 s here)
        from engines.routing.neural.infer import default_model
        from engines.routing.neural.search import active_search_steps

        toy = Problem("warm-up", np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0.0]]), demand=[0, 1, 1], capacity=2)
        steps = active_search_steps(toy, model or default_model(toy))
        try:
            for _ in zip(range(2), (r for r in steps if r is not None)):
                pass  # two iterations: the second runs after the first update
        finally:
            steps.close()
        _WARM.add("active")
    if solver in ("pyvrp", "neural+pyvrp", "neural+ls") and "pyvrp" not in _WARM and _pyvrp_available():
        import pyvrp  # noqa: F401

        _WARM.add("pyvrp")
    if solver in ("lkh", "neural+ls") and "lkh" not in _WARM and lkh.available():
        lkh.warm_up()
        _WARM.add("lkh")


class _Tracker:
    """Keeps the best solution and the improvement curve."""

    def __init__(self, problem: Problem, solver: str, fewest_routes: bool = False):
        self.problem = problem
        self.fewest_routes = fewest_routes  # compare (number of routes, distance), not distance alone
        self.solver = solver
        self.t0 = time.perf_counter()
        self.best: SolveResult | None = None
        self.curve: list[tuple[float, float]] = []
        self.iterations = 0

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def offer(self, routes) -> bool:
        ev = evaluate(self.problem, routes)
        cur = self.best
        cheaper = ev.cost < (cur.cost if cur is not None else math.inf) - 1e-9
        if self.fewest_routes and cur is not None and ev.feasible and cur.feasible:
            cheaper = ev.num_routes < len(cur.routes) or (ev.num_routes == len(cur.routes) and cheaper)
        better = (
            cur is None or (ev.feasible and not cur.feasible) or (ev.feasible == cur.feasible and cheaper)
        )
        if better:
            t = self.elapsed()
            if ev.feasible:
                self.curve.append((t, ev.cost))
            self.best = SolveResult(
                self.solver,
                tuple(tuple(s.nodes) for s in ev.routes),
                ev.cost,
                ev.feasible,
                ev.violations,
                t,
                tuple(self.curve),
                self.iterations,
            )
        return better

    def result(self) -> SolveResult:
        b = self.best
        if b is None:
            return SolveResult(self.solver, (), math.inf, False, ("no solution found",), self.elapsed())
        import dataclasses

        return dataclasses.replace(
            b, elapsed=self.elapsed(), curve=tuple(self.curve), iterations=self.iterations
        )

    def progress(self, limit: float, msg: str = "") -> Progress:
        r = self.result()
        text = msg or (f"{self.solver}: best {r.cost:.6g}" if r.routes else f"{self.solver}: searching")
        return Progress(done=min(self.elapsed(), limit), total=limit, message=text, value=r)


def _ils(
    tr: _Tracker,
    data: ls.LSData,
    R,
    L,
    rng,
    time_limit: float,
    max_iterations=None,
    report_every=0.05,
    total: float | None = None,
):
    """Iterated local search from (R, L) until the tracker's clock reaches time_limit.

    ``total`` is the whole job's time limit, for the progress reports (default: time_limit).
    """
    total = time_limit if total is None else total
    ls.improve(data, R, L, rng)
    tr.offer(ls.to_routes(R, L))
    yield tr.progress(total)
    cur = (R, L)
    cc = ls.cost(data, R, L)
    best_c = cc
    last = tr.elapsed()
    temp0 = 0.01 * max(cc, 1e-9) / max(data.n, 1)
    while tr.elapsed() < time_limit and (max_iterations is None or tr.iterations < max_iterations):
        frac = tr.elapsed() / max(time_limit, 1e-9)
        if max_iterations is not None:
            frac = tr.iterations / max(max_iterations, 1)
        q = int(rng.integers(3, max(4, min(25, data.n // 6 + 3))))
        cand = ls.perturb_and_improve(data, cur[0], cur[1], rng, q=q)
        tr.iterations += 1
        if cand is None:
            continue
        c = ls.cost(data, *cand)
        temp = temp0 * (1.0 - frac)
        if c < cc - 1e-9 or (temp > 0 and rng.random() < math.exp(-(c - cc) / temp)):
            cur, cc = cand, c
        improved = False
        if c < best_c - 1e-9:
            best_c = c
            improved = tr.offer(ls.to_routes(*cand))
        if improved or tr.elapsed() - last >= report_every:
            last = tr.elapsed()
            yield tr.progress(total)


def _pyvrp_stage(
    tr: _Tracker, problem: Problem, start_routes, time_limit: float, seed: int, late_reference="initial"
):
    """PyVRP's iterated local search (warm-started from ``start_routes`` when given) for the time left."""
    from engines.routing.pyvrp_bridge import pyvrp_search

    remaining = max(1e-3, time_limit - tr.elapsed())
    gen = pyvrp_search(
        problem, remaining, seed=seed, initial_routes=start_routes, late_reference=late_reference
    )
    try:
        for _t, routes, improved in gen:
            tr.iterations += 1
            if routes is not None and improved:
                tr.offer(routes)
            yield tr.progress(time_limit)
    finally:
        gen.close()


def _active_search(tr: _Tracker, problem: Problem, model, time_limit: float, seed: int):
    """Active search on ``problem`` until the time limit, each iteration's best offered to the tracker."""
    from engines.routing.neural.infer import default_model
    from engines.routing.neural.search import active_search_steps

    steps = active_search_steps(problem, model or default_model(problem), seed=seed)
    it = 1
    try:
        for found in steps:
            if found:
                tr.offer(found)
            best = tr.best.cost if tr.best is not None else math.inf
            yield tr.progress(time_limit, f"neural: active search (iteration {it}), best {best:.6g}")
            if found is not None:
                tr.iterations = it  # active-search iterations done
                it += 1
            if tr.elapsed() >= time_limit:
                break
    finally:
        steps.close()


def _lkh(tr: _Tracker, problem: Problem, time_limit: float, seed: int, max_runs: int | None):
    """LKH-3 runs for the time left (or ``max_runs`` runs), each tour offered to the tracker."""
    runs = lkh.lkh_runs(problem.distance, max(time_limit - tr.elapsed(), 0.0), seed, max_runs=max_runs)
    try:
        for route, done in runs:
            if route is not None:
                tr.iterations = done
                tr.offer([route])
                yield tr.progress(time_limit, f"lkh: {done} run(s), best {tr.result().cost:.6g}")
            else:
                yield tr.progress(time_limit)
    finally:
        runs.close()


def solve_job(
    problem: Problem,
    solver: str = "ls",
    time_limit: float = 1.0,
    seed: int = 0,
    initial_routes=None,
    model=None,
    max_iterations: int | None = None,
    min_vehicles: bool = False,
) -> Generator[Progress, None, SolveResult]:
    """Run one solver; yields progress (value = best so far), returns the final result.

    ``initial_routes`` warm-starts ``ls`` and ``pyvrp``. ``model`` is a
    :class:`engines.routing.neural.model.RouteNet` for the neural solvers
    (default: the shipped weights). ``max_iterations`` caps the iterated
    local search of ``ls`` / ``neural+ls`` so that a run is reproducible
    (same seed, same result) whatever the machine's speed; for ``lkh`` it caps the number of LKH
    runs. ``min_vehicles``
    makes the number of routes the first objective and the distance the
    second: ``ls`` / ``neural+ls`` then eliminate routes first
    (:func:`ls.minimise_vehicles`) and the search keeps that count;
    ``pyvrp`` first runs PyVRP's ``minimise_fleet`` for a third of the time.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver {solver!r}: allowed values are {', '.join(SOLVERS)}")
    if not time_limit > 0:
        raise ValueError(f"time_limit = {time_limit!r} s: must be positive")
    reasons = check_instance(problem)
    if reasons:
        raise ValueError(f"{problem.name}: infeasible instance: " + "; ".join(reasons))
    if solver == "lkh" and not problem.is_tsp:
        raise ValueError(
            f"{problem.name}: the lkh solver takes single-vehicle instances (TSP, ATSP), "
            f"not {problem.variant}; use ls, pyvrp or neural+ls"
        )
    if solver == "lkh" and min_vehicles:
        raise ValueError("the lkh solver has one vehicle: --min-vehicles does not apply")
    warm_up(solver, model)
    rng = np.random.default_rng(seed)
    tr = _Tracker(problem, solver, fewest_routes=min_vehicles)
    data = ls.LSData(problem)
    yield tr.progress(time_limit, f"{solver}: starting")
    start_routes = initial_routes
    if solver.startswith("neural"):
        from engines.routing.neural.infer import decode_plan, distinct_passes, neural_solve_steps
        from engines.routing.neural.search import search_rollouts

        # ``neural`` alone decodes pass after pass (other flips and first customers) while the time
        # limit allows another pass as long as the last; ``neural+ls`` takes one pass as its start
        passes, greedy_passes = 1, 1
        if solver == "neural" and max_iterations is None:
            greedy_passes = distinct_passes(problem, *decode_plan(problem))
            passes = greedy_passes + NEURAL_SAMPLED_PASSES
        routes = None
        last = 0.0
        for k in range(passes):
            if k == greedy_passes and NEURAL_ACTIVE_SEARCH and search_rollouts(problem.n):
                if time_limit - tr.elapsed() >= NEURAL_ACTIVE_MIN_PASSES * last:
                    yield from _active_search(tr, problem, model, time_limit, seed)
                    break
            t_pass = tr.elapsed()
            dec = neural_solve_steps(problem, model=model, seed=seed, pass_index=k, sample=k >= greedy_passes)
            try:
                while True:
                    try:
                        next(dec)
                    except StopIteration as stop:
                        found = stop.value
                        break
                    yield tr.progress(time_limit, f"neural: decoding (pass {k + 1})")
            finally:
                dec.close()
            if routes is None:
                routes = found
            tr.offer(found)
            yield tr.progress(time_limit, f"neural: decoded (pass {k + 1})")
            last = tr.elapsed() - t_pass
            if tr.elapsed() + last > time_limit:
                break
        if solver == "neural":
            return tr.result()
        start_routes = routes
        if problem.is_tsp and lkh.available() and not min_vehicles:
            yield from _lkh(tr, problem, time_limit, seed, max_iterations)
            return tr.result()
    if solver == "lkh":
        yield from _lkh(tr, problem, time_limit, seed, max_iterations)
        return tr.result()
    if solver in ("ls", "neural+ls"):
        if start_routes is not None:
            try:
                R, L = ls.from_routes(data, start_routes)
            except ValueError:
                R, L = ls.construct(data)
        else:
            R, L = ls.construct(data)
        tr.offer(ls.to_routes(R, L))
        yield tr.progress(time_limit, f"{solver}: constructed")
        if min_vehicles:  # route elimination (up to 60 % of the time), then the search keeps the count
            steps = ls.minimise_vehicles_steps(data, R, L, rng)
            try:
                for R, L in steps:
                    tr.offer(ls.to_routes(R, L))
                    yield tr.progress(time_limit, f"{solver}: {len(L)} routes")
                    # capped runs (max_iterations) do every round, whatever the machine's speed
                    if max_iterations is None and tr.elapsed() >= 0.6 * time_limit:
                        break
            finally:
                steps.close()
        handoff = (
            solver == "neural+ls"
            and max_iterations is None
            and not min_vehicles
            and time_limit - tr.elapsed() >= HANDOFF_MIN_S
            and _pyvrp_available()
        )
        if handoff:  # own ILS and PyVRP share the time left (see HANDOFF_START)
            how, share = HANDOFF_START, HANDOFF_SHARE
            if how == "auto":  # symmetric: from the neural solution; asymmetric: cold; time windows:
                symmetric = np.allclose(problem.distance, problem.distance.T)  # PyVRP cold first
                how = "neural" if symmetric else "none"
                if problem.time_windows is not None:
                    how, share = "pyvrp-first", HANDOFF_SHARE_TW
            if how == "pyvrp-first":  # PyVRP cold, then our search from the best for the last share
                t_pv = time_limit - share * max(time_limit - tr.elapsed(), 0.0)
                yield from _pyvrp_stage(tr, problem, None, t_pv, seed, LATE_REFERENCE)
                best = tr.result()
                if best.feasible:
                    try:
                        R, L = ls.from_routes(data, best.routes)
                    except ValueError:  # more routes than vehicles: go on from the constructed start
                        pass
                yield from _ils(tr, data, R, L, rng, time_limit, None, total=time_limit)
                return tr.result()
            t_ils = tr.elapsed() + share * max(time_limit - tr.elapsed(), 0.0)
            yield from _ils(tr, data, R, L, rng, t_ils, None, total=time_limit)
            best = tr.result()
            start = [list(r) for r in best.routes] if best.feasible else None
            if how == "neural":
                ok = start_routes is not None and evaluate(problem, start_routes).feasible
                start = [list(r) for r in start_routes] if ok else None
            elif how == "none":
                start = None
            yield from _pyvrp_stage(tr, problem, start, time_limit, seed, LATE_REFERENCE)
            return tr.result()
        yield from _ils(tr, data, R, L, rng, time_limit, max_iterations)
        return tr.result()
    # pyvrp and neural+pyvrp
    if solver == "neural+pyvrp":
        R, L = ls.from_routes(data, start_routes) if len(start_routes) <= data.K else ls.construct(data)
        ls.improve(data, R, L, rng)
        tr.offer(ls.to_routes(R, L))
        yield tr.progress(time_limit, "neural+ls start")
        ev = evaluate(problem, ls.to_routes(R, L))
        start_routes = ls.to_routes(R, L) if ev.feasible else None
    elif start_routes is not None and not evaluate(problem, start_routes).feasible:
        start_routes = None
    pv_problem = problem
    if min_vehicles:
        from engines.routing.pyvrp_bridge import pyvrp_fleet

        yield tr.progress(time_limit, f"{solver}: minimising the fleet")
        ub = problem  # PyVRP removes one vehicle at a time: start from the savings route count
        Rs, Ls = ls.construct(data)
        if evaluate(problem, ls.to_routes(Rs, Ls)).feasible:
            ub = problem.with_changes(num_vehicles=int((Ls > 0).sum()))
        fleet = pyvrp_fleet(ub, max(1e-3, (time_limit - tr.elapsed()) / 3), seed=seed)
        pv_problem = problem.with_changes(num_vehicles=fleet)
        if start_routes is not None and len(start_routes) > fleet:
            start_routes = None
        yield tr.progress(time_limit, f"{solver}: at most {fleet} vehicles")
    yield from _pyvrp_stage(tr, pv_problem, start_routes, time_limit, seed)
    return tr.result()


def solve(problem: Problem, solver: str = "ls", time_limit: float = 1.0, seed: int = 0, **kw) -> SolveResult:
    """Run :func:`solve_job` to its end."""
    from engines.base import drive_job

    result, _ = drive_job(solve_job(problem, solver, time_limit, seed, **kw))
    return result
