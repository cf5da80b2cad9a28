"""Local search and PyVRP jobs: feasible, improving, stoppable, reproducible."""

import numpy as np
import pytest

from engines.base import drive_job
from engines.routing import ls
from engines.routing.io import load_problem
from engines.routing.problem import Problem, evaluate
from engines.routing.solvers import solve, solve_job


def _random_vrptw(seed, n=30, asym=True):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    D = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    if asym:
        D = D * rng.uniform(1.0, 1.5, D.shape)
        np.fill_diagonal(D, 0)
    T = D * 0.8 + 1
    np.fill_diagonal(T, 0)
    ready = rng.uniform(0, 300, n)
    tw = np.stack([ready, ready + 120], 1)
    tw[0] = [0, 1000]
    return Problem(
        "r", D, duration=T, coords=xy, demand=np.r_[0, rng.integers(1, 10, n - 1)], capacity=40,
        time_windows=tw, service=np.r_[0, np.full(n - 1, 5.0)],
    )  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_local_search_keeps_feasibility_and_improves(seed):
    p = _random_vrptw(seed)
    assert p.variant == "ACVRPTW"
    data = ls.LSData(p)
    R, L = ls.construct(data)
    e0 = evaluate(p, ls.to_routes(R, L))
    assert e0.feasible, e0.violations
    ls.improve(data, R, L, np.random.default_rng(seed))
    e1 = evaluate(p, ls.to_routes(R, L))
    assert e1.feasible, e1.violations
    assert e1.cost <= e0.cost + 1e-9
    assert abs(ls.cost(data, R, L) - e1.cost) < 1e-6  # kernel cost == evaluator cost
    for _ in range(20):
        out = ls.perturb_and_improve(data, R, L, np.random.default_rng(seed))
        if out is not None:
            assert evaluate(p, ls.to_routes(*out)).feasible


def test_ls_solver_on_cvrplib_and_reproducible(data_dir):
    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    a = solve(p, "ls", time_limit=60, seed=3, max_iterations=40)
    b = solve(p, "ls", time_limit=60, seed=3, max_iterations=40)
    assert a.feasible and a.routes == b.routes and a.cost == b.cost
    assert a.cost == evaluate(p, a.routes).cost
    assert p.gap(a.cost) < 8.0  # savings + descent + 40 ruin-and-recreate rounds
    costs = [c for _, c in a.curve]
    assert costs == sorted(costs, reverse=True) and len(costs) >= 2


def test_ls_solver_atsp_near_optimum(data_dir):
    p = load_problem(data_dir / "tsplib_atsp" / "br17.atsp")
    r = solve(p, "ls", time_limit=60, seed=0, max_iterations=300)
    assert r.feasible and len(r.routes) == 1 and r.cost <= 39 * 1.01


def test_solomon_ls_feasible(data_dir):
    p = load_problem(data_dir / "solomon" / "R101.txt")
    r = solve(p, "ls", time_limit=60, seed=0, max_iterations=30)
    assert r.feasible, r.violations
    assert len(r.routes) <= p.num_vehicles


def test_job_stops_at_once_and_keeps_last_good_solution(data_dir):
    p = load_problem(data_dir / "cvrplib" / "X-n110-k13.vrp")
    seen = []
    job = solve_job(p, "ls", time_limit=30, seed=0)

    def stop():
        return any(pr.value is not None and pr.value.routes for pr in seen[-1:]) and len(seen) >= 4

    result, completed = drive_job(job, seen.append, stop)
    assert not completed
    assert result.feasible and result.routes
    assert result.elapsed < 30


def test_pyvrp_streams_and_warm_starts(data_dir):
    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    ls_res = solve(p, "ls", time_limit=60, seed=0, max_iterations=5)
    values = []
    result, done = drive_job(
        solve_job(p, "pyvrp", time_limit=1.0, seed=0, initial_routes=[list(r) for r in ls_res.routes]),
        lambda pr: values.append(pr.value),
    )
    assert done and result.feasible
    assert result.cost <= ls_res.cost  # warm start: never worse than the start
    assert result.cost == evaluate(p, result.routes).cost
    assert len(values) > 3
    assert [c for _, c in result.curve] == sorted([c for _, c in result.curve], reverse=True)


def test_pyvrp_runs_its_own_solve_with_the_warm_start_and_stops_when_closed(data_dir, monkeypatch):
    """The bridge calls pyvrp.solve(initial_solution=...) and streams its new bests while it runs."""
    import threading

    import pyvrp

    from engines.routing.pyvrp_bridge import _routes_of

    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    start = solve(p, "ls", time_limit=60, seed=0, max_iterations=0)
    calls = []
    real = pyvrp.solve

    def spy(data, stop, **kw):
        calls.append(kw)
        return real(data, stop, **kw)

    monkeypatch.setattr(pyvrp, "solve", spy)
    seen = []
    job = solve_job(p, "pyvrp", time_limit=600.0, seed=1, initial_routes=[list(r) for r in start.routes])

    def enough():  # a few improvements streamed before the end (the limit is 10 minutes)
        return len({pr.value.cost for pr in seen if pr.value is not None and pr.value.routes}) >= 3

    result, completed = drive_job(job, seen.append, enough)
    assert not completed and len(calls) == 1
    init = calls[0]["initial_solution"]
    assert isinstance(init, pyvrp.Solution) and calls[0]["seed"] == 1
    assert sorted(_routes_of(init)) == sorted(list(r) for r in start.routes)
    assert result.feasible and result.cost < start.cost
    assert result.cost == evaluate(p, result.routes).cost
    assert not [t for t in threading.enumerate() if t.name == "pyvrp-solve"]  # closed: the search stopped


def test_pyvrp_solomon_and_atsp(data_dir):
    for f in ("solomon/C101.txt", "tsplib_atsp/ftv33.atsp"):
        p = load_problem(data_dir / f)
        r = solve(p, "pyvrp", time_limit=0.5, seed=0)
        assert r.feasible, (f, r.violations)
        assert r.cost >= p.bks - 1e-9


def test_infeasible_instance_reported_before_solving():
    p = _random_vrptw(0).with_changes(capacity=5)
    with pytest.raises(ValueError, match="infeasible instance: customer .* above the vehicle capacity 5"):
        solve(p, "ls", time_limit=0.1)


def test_bad_solver_name():
    with pytest.raises(ValueError, match="allowed values are ls, pyvrp"):
        solve(_random_vrptw(0), "magic")


def _variant(kind, seed=0, n=14):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 50, (n, 2))
    D = np.hypot(*(xy[:, None] - xy[None]).transpose(2, 0, 1))
    asym = kind.startswith("A")
    if asym:
        D = D * rng.uniform(1.0, 1.4, D.shape)
        np.fill_diagonal(D, 0)
    T = D * (1.3 if asym else 1.0)
    kw = {}
    if kind in ("TSP", "ATSP"):
        kw["num_vehicles"] = 1
    else:
        kw.update(demand=np.r_[0, rng.integers(1, 6, n - 1)], capacity=15)
    if kind.endswith("TW"):
        r = rng.uniform(0, 150, n)
        tw = np.stack([r, r + 60], 1)
        tw[0] = [0, 500]
        kw.update(time_windows=tw, service=np.r_[0, np.full(n - 1, 3.0)])
    return Problem(kind, D, duration=T, coords=xy, **kw)


@pytest.mark.parametrize("kind", ["TSP", "ATSP", "CVRP", "ACVRP", "VRPTW", "ACVRPTW"])
def test_every_solver_returns_feasible_or_says_why(kind):
    p = _variant(kind)
    assert p.variant == kind
    for solver in ("ls", "pyvrp", "neural", "neural+ls"):
        r = solve(p, solver, time_limit=0.2, seed=0)
        ev = evaluate(p, r.routes)
        assert r.feasible == ev.feasible and r.cost == ev.cost
        assert r.feasible or r.violations, (kind, solver)
        if solver != "neural":  # the local search and PyVRP must find a feasible solution here
            assert r.feasible, (kind, solver, r.violations)
        if kind in ("TSP", "ATSP"):
            assert len(r.routes) == 1


def test_ls_reaches_the_ftv33_optimum(data_dir):
    p = load_problem(data_dir / "tsplib_atsp" / "ftv33.atsp")
    r = solve(p, "ls", time_limit=600, seed=0, max_iterations=300)  # deterministic: capped iterations
    assert r.feasible and r.cost == p.bks == 1286


def test_min_vehicles_eliminates_routes(data_dir):
    p = load_problem(data_dir / "solomon" / "RC201.txt")
    by_distance = solve(p, "ls", time_limit=600, seed=0, max_iterations=5)
    fewest = solve(p, "ls", time_limit=600, seed=0, max_iterations=5, min_vehicles=True)
    assert by_distance.feasible and fewest.feasible, fewest.violations
    assert fewest.cost == evaluate(p, fewest.routes).cost
    assert len(fewest.routes) < len(by_distance.routes)  # measured: 4 against 9
    assert len(fewest.routes) <= 5  # the best known RC201 solutions use 4


@pytest.mark.parametrize("seed", [0, 1])
def test_minimise_vehicles_keeps_feasibility_and_never_adds_routes(seed):
    p = _random_vrptw(seed, n=40)
    data = ls.LSData(p)
    R, L = ls.construct(data)
    before = evaluate(p, ls.to_routes(R, L))
    R2, L2 = ls.minimise_vehicles(data, R, L, np.random.default_rng(seed))
    after = evaluate(p, ls.to_routes(R2, L2))
    assert before.feasible and after.feasible, after.violations
    assert after.num_routes <= before.num_routes and (L2 > 0).all()  # compacted: no empty rows
    assert sorted(c for r in ls.to_routes(R2, L2) for c in r) == list(range(1, p.n))


def test_pyvrp_min_vehicles_feasible():
    p = _variant("VRPTW", seed=2, n=20)
    r = solve(p, "pyvrp", time_limit=0.6, seed=0, min_vehicles=True)
    assert r.feasible, r.violations
    _, L = ls.construct(ls.LSData(p))
    assert len(r.routes) <= int((L > 0).sum())  # the fleet search starts from the savings route count


def test_warm_pyvrp_with_a_cold_acceptance_starts_from_the_routes_and_stops_when_closed(data_dir):
    """late_reference="cold": PyVRP's search begins at the given routes, never returns worse, stops on close."""
    import threading

    from engines.routing.pyvrp_bridge import pyvrp_search

    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    start = solve(p, "ls", time_limit=60, seed=0, max_iterations=0)
    routes = [list(r) for r in start.routes]
    gen = pyvrp_search(p, 600.0, seed=0, initial_routes=routes, late_reference="cold")
    found = []
    for _t, r, improved in gen:
        if improved:
            found.append(evaluate(p, r).cost)
        if len(found) >= 3:
            break
    gen.close()
    assert found[0] == pytest.approx(start.cost)  # the warm start first
    assert found == sorted(found, reverse=True) and found[-1] < start.cost
    assert not [t for t in threading.enumerate() if t.name == "pyvrp-solve"]


@pytest.fixture
def pyvrp_calls(monkeypatch):
    """The keyword arguments of every PyVRP search neural+ls starts (the search itself runs)."""
    from engines.routing import pyvrp_bridge

    calls = []
    real = pyvrp_bridge.pyvrp_search

    def spy(problem, time_limit, **kw):
        calls.append(kw)
        return real(problem, time_limit, **kw)

    monkeypatch.setattr(pyvrp_bridge, "pyvrp_search", spy)
    return calls


def test_neural_ls_hands_over_to_pyvrp_only_with_time_left(data_dir, monkeypatch, pyvrp_calls):
    """With HANDOFF_MIN_S or more left, neural+ls ends in PyVRP from its best; capped runs never do."""
    from engines.routing import solvers

    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    calls = pyvrp_calls
    monkeypatch.setattr(solvers, "HANDOFF_SHARE", 0.0)
    monkeypatch.setattr(solvers, "HANDOFF_MIN_S", 0.5)
    seen = []

    def handed_over():
        return bool(calls) and len(seen) > 3

    job = solve_job(p, "neural+ls", time_limit=600.0, seed=0)
    result, completed = drive_job(job, seen.append, handed_over)
    assert not completed and len(calls) == 1
    assert calls[0]["late_reference"] == "cold"
    start = calls[0]["initial_routes"]
    assert evaluate(p, start).feasible and result.cost <= evaluate(p, start).cost
    assert result.feasible and result.cost == evaluate(p, result.routes).cost
    calls.clear()
    solve(p, "neural+ls", time_limit=600.0, seed=0, max_iterations=3)  # capped: reproducible, no PyVRP
    solve(p, "neural+ls", time_limit=0.3, seed=0)  # less than HANDOFF_MIN_S left
    assert not calls


def test_neural_ls_with_time_windows_hands_over_to_a_cold_pyvrp(data_dir, monkeypatch, pyvrp_calls):
    """With time windows PyVRP's stage starts cold (a warm start hurt it there); the best is kept."""
    from engines.routing import solvers

    p = load_problem(data_dir / "solomon" / "C101.txt")
    calls = pyvrp_calls
    monkeypatch.setattr(solvers, "HANDOFF_SHARE_TW", 0.0)
    monkeypatch.setattr(solvers, "HANDOFF_MIN_S", 0.5)
    seen = []
    job = solve_job(p, "neural+ls", time_limit=600.0, seed=0)
    result, completed = drive_job(job, seen.append, lambda: bool(calls) and len(seen) > 3)
    assert not completed and len(calls) == 1 and calls[0]["initial_routes"] is None
    assert result.feasible and result.cost == evaluate(p, result.routes).cost


def test_neural_ls_on_asymmetric_distances_hands_over_to_a_cold_pyvrp(data_dir, monkeypatch, pyvrp_calls):
    """Asymmetric distances (no time windows): PyVRP's stage starts cold, and a symmetric copy of the
    same instance starts it from the neural solution (the hand-over rule of solvers.HANDOFF_START)."""
    from engines.routing import solvers

    sym = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    D = np.array(sym.distance, dtype=float)
    D[np.triu_indices_from(D, 1)] *= 1.2  # one way 20 % longer than the way back
    asym = sym.with_changes(name="X-n101-k25-asym", distance=D, bks=None)
    calls = pyvrp_calls
    monkeypatch.setattr(solvers, "HANDOFF_SHARE", 0.0)
    monkeypatch.setattr(solvers, "HANDOFF_MIN_S", 0.5)
    for k, p in enumerate((asym, sym)):
        seen = []
        job = solve_job(p, "neural+ls", time_limit=600.0, seed=0)
        result, completed = drive_job(
            job, seen.append, lambda k=k, seen=seen: len(calls) > k and len(seen) > 3
        )
        assert not completed and (not result.feasible or result.cost == evaluate(p, result.routes).cost)
    assert len(calls) == 2
    assert calls[0]["initial_routes"] is None  # asymmetric: cold
    start = calls[1]["initial_routes"]  # symmetric: from the neural solution
    assert start is not None and evaluate(sym, start).feasible


def test_neural_ls_with_time_windows_runs_pyvrp_first_then_its_own_search(data_dir, monkeypatch):
    """With time windows PyVRP's cold search comes first and our search ends the run from the best so far;
    on asymmetric distances without time windows our search comes first."""
    from engines.routing import pyvrp_bridge, solvers

    events = []
    real_pyvrp, real_ils = pyvrp_bridge.pyvrp_search, solvers._ils

    def pyvrp_spy(problem, time_limit, **kw):
        events.append(("pyvrp", kw["initial_routes"] is None))
        return real_pyvrp(problem, time_limit, **kw)

    def ils_spy(*a, **kw):
        events.append(("ils", None))
        return real_ils(*a, **kw)

    monkeypatch.setattr(pyvrp_bridge, "pyvrp_search", pyvrp_spy)
    monkeypatch.setattr(solvers, "_ils", ils_spy)
    monkeypatch.setattr(solvers, "HANDOFF_MIN_S", 0.5)
    monkeypatch.setattr(solvers, "HANDOFF_SHARE_TW", 0.3)
    tw = load_problem(data_dir / "solomon" / "C101.txt")
    r = solve(tw, "neural+ls", time_limit=2.0, seed=0)
    assert events == [("pyvrp", True), ("ils", None)]
    assert r.feasible and r.cost == evaluate(tw, r.routes).cost
    events.clear()
    sym = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    D = np.array(sym.distance, dtype=float)
    D[np.triu_indices_from(D, 1)] *= 1.2
    solve(sym.with_changes(name="asym", distance=D, bks=None), "neural+ls", time_limit=2.0, seed=0)
    assert events == [("ils", None), ("pyvrp", True)]
