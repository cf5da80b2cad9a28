"""The Dask runner on loopback LocalClusters: streaming, skipping, failures, a worker killed mid-sweep."""

from __future__ import annotations

import logging
import math
import os
import signal
import time

import pytest

from engines.base import drive_job
from engines.sweep.execute import run_sweep, sweep_job
from engines.sweep.model import sweep_from_dict
from engines.sweep.store import ResultStore, read_results

distributed = pytest.importorskip("distributed")

# a hang (a lost task, a cluster that will not close) fails here instead of stalling the suite
pytestmark = pytest.mark.timeout(180)


def demo_spec(n_x=5, n_y=4, sleep_s=0.0, fail_above=None, name="demo"):
    fixed = {"noise": 0.1, "sleep_s": sleep_s}
    if fail_above is not None:
        fixed["fail_above"] = fail_above
    data = {
        "sweep": {"name": name, "kind": "demo", "seeds": [7]},
        "fixed": fixed,
        "grid": {"x": {"start": -2.0, "stop": 2.0, "num": n_x}, "y": [0.25 * k for k in range(n_y)]},
    }
    return sweep_from_dict(data, source="test.toml")


def expected_f(row):
    import numpy as np

    rng = np.random.default_rng(row["seed"])
    return math.sin(row["x"]) * math.cos(row["y"]) + 0.1 * rng.standard_normal()


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_twenty_points_on_two_workers_then_nothing_new(client, tmp_path):
    spec = demo_spec(sleep_s=0.02)
    out = tmp_path / "r.parquet"
    progress = []
    summary, completed = drive_job(sweep_job(spec, out, client=client), progress.append)
    assert completed and summary.completed
    assert (summary.total, summary.skipped, summary.computed, summary.failed) == (20, 0, 20, 0)
    t = read_results(out)
    assert t.num_rows == 20 and set(t.column("status").to_pylist()) == {"ok"}
    assert sorted(t.column("point_id").to_pylist()) == sorted(p.id for p in spec.points())
    for row in t.to_pylist():
        assert row["f"] == pytest.approx(expected_f(row), abs=1e-12)
        assert row["r"] == pytest.approx(math.hypot(row["x"], row["y"]))
    # both workers took points
    assert len(set(t.column("worker").to_pylist())) == 2
    # progress streamed the rows as they finished, each once
    streamed = [r["point_id"] for p in progress for r in p.value.new_rows]
    assert sorted(streamed) == sorted(t.column("point_id").to_pylist())
    assert progress[-1].value.done == 20 and progress[-1].fraction == 1.0
    # the second run computes nothing new and writes nothing
    parts = ResultStore(out).parts()
    again = run_sweep(spec, out, client=client)
    assert (again.skipped, again.computed) == (20, 0)
    assert ResultStore(out).parts() == parts


def test_failing_points_are_recorded_with_their_traceback(client, tmp_path):
    spec = demo_spec(fail_above=1.0)  # x = 2.0 fails: 4 of 20 points
    out = tmp_path / "r.parquet"
    summary = run_sweep(spec, out, client=client)
    assert summary.completed and (summary.computed, summary.failed) == (20, 4)
    rows = read_results(out).to_pylist()
    bad = [r for r in rows if r["status"] == "failed"]
    assert len(bad) == 4 and all(r["x"] == 2.0 for r in bad)
    for r in bad:
        assert "Traceback" in r["error"] and "ValueError: demo: x = 2.0 is above fail_above" in r["error"]
        assert r["f"] is None
    assert all(r["error"] is None and r["f"] is not None for r in rows if r["status"] == "ok")
    # a re-run tries the failed points again (and only those), unless asked to keep them
    assert run_sweep(spec, out, client=client, retry_failed=False).computed == 0
    again = run_sweep(spec, out, client=client)
    assert (again.skipped, again.computed, again.failed) == (16, 4, 4)
    assert read_results(out).num_rows == 20


def test_stopping_keeps_what_finished_and_the_rerun_does_the_rest(client, tmp_path):
    spec = demo_spec(sleep_s=0.1)
    out = tmp_path / "r.parquet"
    job = sweep_job(spec, out, client=client)
    seen = 0
    for pr in job:
        seen = pr.value.done
        if seen >= 6:
            break
    job.close()  # stop between yields: cancels the rest, writes what finished
    kept = read_results(out)
    assert set(kept.column("status").to_pylist()) == {"ok"}
    assert seen <= kept.num_rows < 20
    rest = run_sweep(spec, out, client=client)
    assert rest.skipped == kept.num_rows and rest.computed == 20 - kept.num_rows
    assert read_results(out).num_rows == 20


def test_inline_mode_and_chunked_tasks_give_the_same_table(client, tmp_path):
    spec = demo_spec(n_x=3, n_y=2)
    a = run_sweep(spec, tmp_path / "a.parquet", client=client, points_per_task=4)  # tasks of 4, 2 points
    b = run_sweep(spec, tmp_path / "b.parquet", n_workers=0)
    assert a.computed == b.computed == 6
    key = ["point_id", "x", "y", "seed", "f", "r", "draw"]

    def rows(p):
        return sorted(tuple(r[k] for k in key) for r in read_results(p).to_pylist())

    assert rows(tmp_path / "a.parquet") == rows(tmp_path / "b.parquet")


def test_a_remote_scheduler_by_address(client, tmp_path):
    spec = demo_spec(n_x=2, n_y=2)
    s = run_sweep(spec, tmp_path / "r.parquet", scheduler=client.scheduler.address)
    assert (s.computed, s.failed) == (4, 0)
    assert client.status == "running"  # the caller's cluster is left alone


@pytest.mark.parametrize("allowed_failures", [3, 0])
def test_a_worker_killed_mid_sweep_and_every_point_still_finishes(tmp_path, allowed_failures):
    """allowed-failures 3 (Dask's default): the scheduler moves the dead worker's task;
    0: the task ends in KilledWorker at once and the runner submits it again."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.CRITICAL,
        )
        c = Client(cluster)
        try:
            _kill_and_finish(c, tmp_path, allowed_failures)
            if allowed_failures == 0:
                _a_point_that_always_kills_its_worker(c, tmp_path)
        finally:
            c.close()
            cluster.close()


def _kill_and_finish(c, tmp_path, allowed_failures):
    pids = c.run(os.getpid)  # {worker address: pid}
    spec = demo_spec(sleep_s=0.25, name="kill")
    out = tmp_path / "r.parquet"
    killed = []

    def on(pr):
        if not killed and pr.value.done >= 4:
            # a worker busy with a point (each takes 0.25 s) dies mid-task
            busy = [a for a, tasks in c.processing().items() if tasks and a in pids]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                killed.append(pids[busy[0]])

    summary, completed = drive_job(sweep_job(spec, out, client=c), on)
    assert killed and completed and summary.completed
    assert (summary.computed, summary.failed) == (20, 0)
    if allowed_failures == 0:
        assert summary.resubmitted >= 1
    t = read_results(out)
    assert t.num_rows == 20, t.num_rows
    assert set(t.column("status").to_pylist()) == {"ok"}
    assert sorted(t.column("point_id").to_pylist()) == sorted(p.id for p in spec.points())
    with pytest.raises(ProcessLookupError):  # the killed process is gone
        for _ in range(50):
            os.kill(killed[0], 0)
            time.sleep(0.1)
    for row in t.to_pylist():
        assert row["f"] == pytest.approx(expected_f(row), abs=1e-12)


def _a_point_that_always_kills_its_worker(c, tmp_path):
    data = {
        "sweep": {"name": "crash", "kind": "demo", "seeds": [0]},
        "fixed": {"crash_above": 1.5},
        "grid": {"x": [0.0, 1.0, 2.0]},
    }
    spec = sweep_from_dict(data, source="crash.toml")
    s = run_sweep(spec, tmp_path / "c.parquet", client=c, max_resubmits=1)
    # only the crashing point fails: a point that died beside it is retried alone, and lives
    assert s.completed and (s.computed, s.failed) == (3, 1)
    # the crashing task was submitted again once; a task queued on the same dying worker may be too
    assert 1 <= s.resubmitted <= 3
    rows = {r["x"]: r for r in read_results(tmp_path / "c.parquet").to_pylist()}
    assert rows[2.0]["status"] == "failed" and "KilledWorker" in rows[2.0]["error"]
    assert rows[0.0]["status"] == rows[1.0]["status"] == "ok"
