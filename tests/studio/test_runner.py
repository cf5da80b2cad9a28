"""The runner: the only owner of threads."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from studio.runner import Runner, live_threads
from tests.toy import ToyEngine, ToyParams


@pytest.fixture
def runner(qtbot):
    made = []

    def make(params=None, **kw):
        r = Runner(ToyEngine(params), **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        assert r.shutdown(5.0)


def wait_state(qtbot, r, state, timeout=10000):
    qtbot.waitUntil(lambda: r.state == state, timeout=timeout)


def test_run_pause_resume(qtbot, runner):
    r = runner()
    assert r.state == "paused"
    assert r.start()
    wait_state(qtbot, r, "running")
    qtbot.waitUntil(lambda: r.engine.t > 100, timeout=10000)
    r.pause()
    wait_state(qtbot, r, "paused")
    t_paused = r.call(lambda e: e.t)
    qtbot.wait(100)
    assert r.call(lambda e: e.t) == t_paused  # nothing moves while paused
    r.start()
    qtbot.waitUntil(lambda: r.engine.t > t_paused + 50, timeout=10000)
    r.pause()
    wait_state(qtbot, r, "paused")


def test_step_once_and_run_for(qtbot, runner):
    r = runner()
    r.step_once(7)
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 7, timeout=10000)
    r.run_for(50)
    qtbot.waitUntil(lambda: r.state == "paused" and r.call(lambda e: e.t) == 57, timeout=10000)
    snap = r.latest()
    assert snap.step == 57  # the last snapshot shows where it stopped


def test_params_applied_between_steps(qtbot, runner):
    r = runner(ToyParams(noise=0.0, drift=0.0))
    r.start()
    r.set_params(ToyParams(noise=0.0, drift=0.5, threshold=1e6))
    qtbot.waitUntil(lambda: r.call(lambda e: float(e.x.mean())) > 5, timeout=10000)
    r.pause()
    x = r.call(lambda e: e.x.copy())
    assert np.allclose(x, x[0])  # every walker moved by the same drift: applied between steps, not mid-step


def test_refused_params_keep_state(qtbot, runner):
    r = runner()

    class Bad:  # not a ToyParams: the engine refuses it
        pass

    fut = r.call_async(lambda e: e.set_params(Bad()))
    with pytest.raises(TypeError):
        fut.result(5)
    assert r.state == "paused"


def test_a_fast_engine_does_not_flood_the_event_queue(qtbot, runner):
    r = runner(ToyParams(n_walkers=1, threshold=1e6))
    r.start()
    t0 = time.perf_counter()
    qtbot.wait(1000)
    r.pause()
    wait_state(qtbot, r, "paused")
    elapsed = time.perf_counter() - t0
    steps = r.call(lambda e: e.t)
    assert steps > 2000  # it ran fast...
    # ...but published at most ~60 snapshots a second (plus the one on pause)
    assert r.snapshots_published <= 60 * elapsed + 5
    # and snapshots wait in a slot: taking news returns the newest, then nothing
    assert r.take_news() is not None
    assert r.take_news() is None
    # no backlog of queued events for the runner
    QtWidgets.QApplication.processEvents()


def test_throttle_hidden_panel_publishes_less(qtbot, runner):
    r = runner(ToyParams(n_walkers=1, threshold=1e6))
    r.visible = False
    r.start()
    qtbot.wait(1000)
    r.pause()
    wait_state(qtbot, r, "paused")
    assert r.snapshots_published <= 6


def test_worker_exception_reaches_gui_and_reset_recovers(qtbot, runner):
    r = runner(ToyParams(fail_at_step=30))
    with qtbot.waitSignal(r.error, timeout=10000) as blocker:
        r.start()
    msg, tb = blocker.args
    assert "toy failure at step 30" in msg and "Traceback" in tb and "RuntimeError" in tb
    assert r.state == "error"
    assert not r.start()  # refused until reset
    r.set_params(ToyParams())
    r.reset()
    wait_state(qtbot, r, "paused")
    assert r.start()
    qtbot.waitUntil(lambda: r.engine.t > 100, timeout=10000)
    r.pause()


def test_job_progress_result_and_cancel(qtbot, runner):
    r = runner()
    progress = []
    r.job_progress.connect(progress.append)
    with qtbot.waitSignal(r.job_finished, timeout=10000) as blocker:
        r.run_job(lambda e: e.count_job(20))
    assert blocker.args == [20, True]
    assert progress and progress[-1].total == 20
    assert progress[-1].done == 20  # throttled, but the last progress is never dropped
    assert len(progress) < 20 or all(p.done == i + 1 for i, p in enumerate(progress))
    assert r.state == "paused"
    # a long job cancelled half-way ends between yields, with its cleanup run
    r.call(lambda e: setattr(e, "job_cleanup", False))
    r.run_job(lambda e: e.count_job(100_000, delay_s=0.001))
    wait_state(qtbot, r, "job")
    qtbot.wait(100)
    with qtbot.waitSignal(r.job_finished, timeout=10000) as blocker:
        r.cancel_job()
    result, completed = blocker.args
    assert not completed and 0 < result < 100_000
    assert r.call(lambda e: e.job_cleanup)


def test_a_second_job_asked_for_before_the_first_starts_is_refused(qtbot, runner):
    """Two run_job calls in one breath: the second is refused at once (it used to replace the
    first on the worker, which then never ended or cleaned up)."""
    r = runner()
    r.call(lambda e: setattr(e, "job_cleanup", False))
    finished = []
    r.job_finished.connect(lambda res, ok: finished.append((res, ok)))
    assert r.run_job(lambda e: e.count_job(50))
    assert not r.run_job(lambda e: e.count_job(7))
    qtbot.waitUntil(lambda: bool(finished), timeout=10000)
    qtbot.wait(100)
    assert finished == [(50, True)]
    assert r.call(lambda e: e.job_cleanup)
    assert r.run_job(lambda e: e.count_job(3))  # and the next job after it starts
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=10000)
    assert finished[-1] == (3, True)


def test_engine_messages_are_forwarded(qtbot, runner):
    r = runner()
    got = []
    r.message.connect(lambda lvl, txt: got.append((lvl, txt)))
    r.call(lambda e: e.log("from the engine", "warning"))
    r.step_once(1)
    qtbot.waitUntil(lambda: any("from the engine" in t for _, t in got), timeout=10000)


def test_realtime_pacing(qtbot, runner):
    r = runner(ToyParams(n_walkers=1, threshold=1e6))
    r.set_realtime(200.0)  # 200 steps per wall second
    t0 = time.perf_counter()
    r.start()
    qtbot.wait(1000)
    r.pause()
    wait_state(qtbot, r, "paused")
    elapsed = time.perf_counter() - t0
    steps = r.call(lambda e: e.t)
    # never ahead of real time (plus one chunk), and not far behind it
    assert 0.5 * 200 * elapsed <= steps <= 200 * elapsed + 20


def test_shutdown_joins_the_worker(qtbot):
    r = Runner(ToyEngine(ToyParams(sleep_ms=1.0)))
    r.start()
    qtbot.waitUntil(lambda: r.engine.t > 5, timeout=10000)
    assert live_threads()
    assert r.shutdown(5.0)
    assert not live_threads()
    assert r.engine.closed
    with pytest.raises(RuntimeError, match="shut down"):
        r.call(lambda e: e.t)


def test_call_from_worker_thread_runs_inline(qtbot, runner):
    r = runner()
    got = r.call(lambda e: r.call(lambda e2: QtCore.QThread.currentThread().objectName()))
    assert got.startswith("runner-")


def _long_step_job(engine, seconds: float, checks: bool):
    """A job that works ``seconds`` before its first yield (checking for cancellation or not)."""
    from engines.base import Progress, check_cancelled

    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.01)
            if checks:
                check_cancelled()
        yield Progress(1, 1, "done")
    finally:
        engine.job_cleanup = True
    return "finished"


def test_cancel_stops_a_job_inside_a_long_step_at_its_next_check(qtbot, runner):
    r = runner()
    r.run_job(lambda e: _long_step_job(e, 30.0, checks=True))
    wait_state(qtbot, r, "job")
    qtbot.wait(200)
    t0 = time.perf_counter()
    with qtbot.waitSignal(r.job_finished, timeout=5000) as sig:
        r.cancel_job()
    assert time.perf_counter() - t0 < 1.0
    assert sig.args[1] is False
    wait_state(qtbot, r, "paused")
    assert r.engine.job_cleanup  # its finally block ran
    # the next job runs to its end: the cancellation belonged to the last one
    with qtbot.waitSignal(r.job_finished, timeout=5000) as sig:
        r.run_job(lambda e: _long_step_job(e, 0.05, checks=True))
    assert sig.args == ["finished", True]


def test_shutdown_stops_a_job_inside_a_long_step(qtbot):
    r = Runner(ToyEngine())
    r.run_job(lambda e: _long_step_job(e, 30.0, checks=True))
    wait_state(qtbot, r, "job")
    t0 = time.perf_counter()
    assert r.shutdown(2.0)
    assert time.perf_counter() - t0 < 1.0
    assert not r.abandoned and not live_threads()
    assert r.engine.job_cleanup and r.engine.closed


def test_shutdown_gives_up_on_a_worker_stuck_in_a_call_that_cannot_stop(qtbot):
    """Bounded: the worker is left to finish by itself, never destroyed while it runs."""
    r = Runner(ToyEngine())
    seen = []
    r.job_finished.connect(lambda *a: seen.append(a))
    r.run_job(lambda e: _long_step_job(e, 2.0, checks=False))
    wait_state(qtbot, r, "job")
    t0 = time.perf_counter()
    assert not r.shutdown(0.3)
    assert time.perf_counter() - t0 < 1.0
    assert r.abandoned and live_threads()
    assert r.parent() is None  # closing a window does not destroy it
    assert not r.shutdown(5.0)  # asked again: no second wait
    del r
    import gc

    gc.collect()  # the runner is referenced until its worker ends
    qtbot.waitUntil(lambda: not live_threads(), timeout=10000)
    assert not seen  # its signals were blocked once given up on


def test_submit_delivers_results_on_the_gui_thread_without_waiting(qtbot, runner):
    from studio.runner import RunnerState

    r = runner()
    assert r.state is RunnerState.IDLE and r.state == "paused"
    gui = QtCore.QThread.currentThread()
    got, threads = [], []

    def slow(e):
        time.sleep(0.3)
        return e.t + 41

    t0 = time.perf_counter()
    r.submit(slow, done=lambda v: (got.append(v), threads.append(QtCore.QThread.currentThread())))
    assert time.perf_counter() - t0 < 0.1  # the caller did not wait
    assert got == []
    qtbot.waitUntil(lambda: got == [41], timeout=10000)
    assert threads == [gui]
    # a failure goes to `failed`, on the GUI thread too
    errs = []
    r.submit(lambda e: 1 / 0, done=got.append, failed=errs.append)
    qtbot.waitUntil(lambda: len(errs) == 1, timeout=10000)
    assert isinstance(errs[0], ZeroDivisionError) and got == [41]
    # without `failed`, the runner says so on its message signal
    with qtbot.waitSignal(r.message, timeout=10000) as sig:
        r.submit(lambda e: 1 / 0, done=got.append)
    assert sig.args[0] == "error" and "ZeroDivisionError" in sig.args[1]


def test_submit_skips_results_for_a_deleted_widget(qtbot, runner):
    r = runner()
    w = QtWidgets.QLabel()
    got = []
    gate = __import__("threading").Event()
    r.submit(lambda e: gate.wait(5) and e.t, done=got.append, context=w)
    w.deleteLater()
    qtbot.waitUntil(lambda: not __import__("shiboken6").isValid(w), timeout=5000)
    gate.set()
    done = []
    r.submit(lambda e: "after", done=done.append)
    qtbot.waitUntil(lambda: done == ["after"], timeout=10000)
    assert got == []  # never handed to a widget that is gone
