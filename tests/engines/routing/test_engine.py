"""The routing engine: jobs stream the best solution, cancel keeps it, state round-trips."""

import numpy as np
import pytest

from engines.base import drive_job
from engines.routing.edit import edit_problem
from engines.routing.engine import RoutingEngine
from engines.routing.io import load_problem
from engines.routing.params import RoutingParams
from engines.routing.problem import evaluate
from engines.serialize import load_state, save_state


def test_solve_job_updates_snapshot_and_cancel_keeps_last_good(data_dir):
    # a limit no loaded machine reaches: the test stops the job itself, after the search has begun
    e = RoutingEngine(RoutingParams(solver="ls", time_limit_s=3600), seed=0)
    e.load(data_dir / "cvrplib" / "X-n101-k25.vrp")
    s0 = e.snapshot()
    assert s0.routes == () and s0.problem.n == 101
    seen = []

    def searching():  # a few progress reports, the last one already holding a solution
        return len(seen) >= 5 and bool(seen[-1].routes)

    result, done = drive_job(e.solve_job(), lambda p: seen.append(e.snapshot()), searching)
    assert not done
    assert seen[0].solving and not seen[0].routes  # the first report comes before any solution
    s = e.snapshot()
    assert s.routes and s.evaluation.feasible and not s.solving
    assert s.evaluation.cost == evaluate(e.problem, s.routes).cost
    assert s.comparison and s.comparison[0][0] == "ls"
    assert s.version > s0.version


def test_step_keeps_improving(data_dir):
    e = RoutingEngine(RoutingParams(solver="ls"), seed=1)
    e.load(data_dir / "solomon" / "RC201.txt")
    assert e.step(3) == 3
    c1 = e.snapshot().evaluation.cost
    e.step(10)
    ev = e.snapshot().evaluation
    assert ev.feasible and ev.cost <= c1


def test_state_roundtrip(tmp_path, data_dir):
    e = RoutingEngine(seed=0)
    e.load(data_dir / "solomon" / "C101.txt")
    e.step(1)
    save_state(tmp_path / "s.zip", e.state_dict(), kind="routing")
    f = RoutingEngine(seed=5)
    f.load_state_dict(load_state(tmp_path / "s.zip", kind="routing"))
    assert f.snapshot().routes == e.snapshot().routes
    np.testing.assert_array_equal(f.problem.distance, e.problem.distance)
    assert f.problem.bks == 827.3
    # road geometry survives too
    from pathlib import Path

    g = RoutingEngine(seed=0)
    g.load(Path(__file__).resolve().parents[3] / "assets" / "routing" / "helsinki-40.npz")
    save_state(tmp_path / "g.zip", g.state_dict(), kind="routing")
    h = RoutingEngine(seed=0)
    h.load_state_dict(load_state(tmp_path / "g.zip", kind="routing"))
    assert h.problem.roads is not None and h.problem.distance_unit == "km"
    np.testing.assert_array_equal(h.problem.roads.pred, g.problem.roads.pred)


def test_edit_problem(data_dir):
    p = load_problem(data_dir / "cvrplib" / "X-n101-k25.vrp")
    q = edit_problem(p, "add", xy=(500, 500))
    assert q.n == 102 and q.distance[0, 101] == round(np.hypot(*(p.coords[0] - [500, 500])))
    r = edit_problem(q, "delete", index=5)
    assert r.n == 101
    m = edit_problem(p, "move", index=3, xy=(0, 0))
    assert m.distance[3, 0] == round(np.hypot(*p.coords[0]))
    with pytest.raises(ValueError, match="depot cannot be deleted"):
        edit_problem(p, "delete", index=0)


def test_warm_up_job():
    e = RoutingEngine(seed=0)
    seen = []
    _, done = drive_job(e.warm_up_job(), seen.append)
    assert done and [p.done for p in seen] == [0, 1, 2] and seen[-1].message == "solvers ready"


def test_snapshot_says_the_time_limit_and_how_far_the_solve_got():
    """The panel draws the time limit and holds the last best cost until the time reached."""
    from pathlib import Path

    e = RoutingEngine(RoutingParams(solver="ls"), seed=0)
    e.load(Path(__file__).resolve().parents[3] / "assets" / "routing" / "helsinki-40.npz")
    assert e.snapshot().time_limit_s == 0.0
    seen = []
    drive_job(e.solve_job("ls", 0.3), lambda p: seen.append(e.snapshot()))
    assert all(s.time_limit_s == 0.3 for s in seen)
    elapsed = [s.elapsed_s for s in seen]
    assert elapsed == sorted(elapsed) and 0.0 <= elapsed[-1] <= 0.3
    s = e.snapshot()
    assert len(s.curve) and s.elapsed_s > 0 and "elapsed_s" in type(s).measured
