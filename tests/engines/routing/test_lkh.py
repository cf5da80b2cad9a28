"""LKH-3 through elkai: optimal on TSPLIB ATSP, in a child process that can be abandoned, only for
single-vehicle instances, and the improvement stage of neural+ls on them."""

import itertools
import time

import numpy as np
import pytest

from engines.base import drive_job
from engines.routing import lkh
from engines.routing.io import load_problem
from engines.routing.problem import Problem, evaluate
from engines.routing.solvers import solve, solve_job

from .conftest import DATA

pytestmark = pytest.mark.skipif(not lkh.available(), reason="elkai (LKH-3) is not installed")

OPTIMA = {"br17": 39, "ftv33": 1286, "ftv38": 1530}


def test_integer_matrix_scales_real_weights_and_bounds_unreachable_pairs():
    d = np.array([[0.0, 1.234, np.inf], [2.5, 0.0, 0.75], [0.5, 9.99, 7.0]])
    w, scale = lkh.integer_matrix(d)
    assert w.dtype == np.int64 and np.all(np.diag(w) == 0)
    assert scale == 1e5 and w[0, 1] == 123400 and w[1, 2] == 75000
    assert w[0, 2] == round(10 * 9.99 * scale)  # unreachable: ten times the largest finite weight
    assert w.max() < lkh.MAX_WEIGHT
    assert "TYPE : ATSP" in lkh.problem_text(w)
    assert "TYPE : TSP" in lkh.problem_text(np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]]))


@pytest.mark.parametrize("name", sorted(OPTIMA))
def test_lkh_finds_the_tsplib_optimum(name):
    p = load_problem(DATA / "tsplib_atsp" / f"{name}.atsp")
    r = solve(p, "lkh", time_limit=30.0, seed=0, max_iterations=2)
    assert r.feasible and len(r.routes) == 1 and sorted(r.routes[0]) == list(range(1, p.n))
    assert r.cost == OPTIMA[name]
    assert r.iterations == 2


def test_a_brute_force_optimum_on_a_random_real_valued_asymmetric_instance():
    rng = np.random.default_rng(3)
    d = rng.uniform(0.1, 9.0, (8, 8))
    np.fill_diagonal(d, 0)
    p = Problem("rand8", d, num_vehicles=1)
    best = min(
        sum(d[a, b] for a, b in zip((0, *perm), (*perm, 0), strict=True))
        for perm in itertools.permutations(range(1, 8))
    )
    r = solve(p, "lkh", time_limit=30.0, seed=1, max_iterations=3)
    assert r.cost == pytest.approx(best, rel=1e-6)


def test_lkh_refuses_instances_with_several_vehicles():
    p = load_problem(DATA / "solomon" / "C101.txt")
    with pytest.raises(ValueError, match="single-vehicle instances"):
        solve(p, "lkh", time_limit=1.0)


def test_a_job_closed_mid_run_replaces_the_child_and_the_next_solve_works():
    rng = np.random.default_rng(0)
    d = rng.uniform(1, 100, (300, 300))
    np.fill_diagonal(d, 0)
    big = Problem("big", d, num_vehicles=1)
    job = solve_job(big, "lkh", time_limit=60.0, seed=0)
    t0 = time.perf_counter()
    for _ in range(3):  # starting, then polls while the first run goes on
        next(job)
    assert lkh._POOL is not None
    job.close()
    assert lkh._POOL is None  # the busy child was stopped
    assert time.perf_counter() - t0 < 10
    p = load_problem(DATA / "tsplib_atsp" / "br17.atsp")
    assert solve(p, "lkh", time_limit=5.0, max_iterations=1).cost == 39


def test_neural_plus_ls_improves_single_vehicle_tours_with_lkh():
    p = load_problem(DATA / "tsplib_atsp" / "ftv33.atsp")
    neural = solve(p, "neural", time_limit=0.5, seed=0)  # neural alone decodes for its whole limit
    messages = []
    result, done = drive_job(
        solve_job(p, "neural+ls", time_limit=30.0, seed=0, max_iterations=2),
        on_progress=lambda pr: messages.append(pr.message),
    )
    assert done and any(m.startswith("lkh: 2 run(s)") for m in messages)
    assert result.cost == OPTIMA["ftv33"] < neural.cost
    assert evaluate(p, result.routes).feasible
