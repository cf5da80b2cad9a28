"""Runs engines in background threads: the only module of the studio that owns threads.

A :class:`Runner` owns one engine and one worker :class:`QtCore.QThread`. Every
call on the engine happens on that worker thread: the GUI sends commands
(run, pause, step, reset, new parameters, arbitrary calls such as
``state_dict``) that the worker applies *between* steps, in order.

The worker steps as fast as it may (or paced to real time), in chunks sized so
that one chunk takes a few milliseconds, and takes a snapshot at most
``max_fps`` times a second. Snapshots are **not** sent through the Qt event
queue: the newest one waits in a slot that the main window's single redraw
timer collects with :meth:`Runner.take_news`. A fast engine therefore never
floods the GUI with events.

One-shot jobs (training, solving, decomposing) are generators yielding
:class:`engines.base.Progress`; they run on the same worker thread, report
progress through ``job_progress`` (at most 30 a second; the last progress
before the end is always sent) and end with ``job_finished``.
``cancel_job`` stops them between yields, and, through
:func:`engines.base.cancel_scope`, at the next :func:`engines.base.check_cancelled`
of work that runs long between two yields (a kernel over many chunks).

An exception in the worker never kills the application: the runner enters the
``error`` state and emits ``error(message, traceback)``; ``reset`` clears it.
:meth:`Runner.shutdown` stops the worker and joins it with a *bounded* wait,
so that closing the window never hangs: a worker still inside a call that
cannot be interrupted (a JIT compilation, one long library call) is given up
on. It is kept referenced (a running ``QThread`` that is destroyed aborts the
process), its signals are blocked, and it ends by itself when the call
returns; :func:`live_threads` lists workers still alive (tests fail on leaks),
and the ``studio`` command exits without waiting for such a worker.
"""

from __future__ import annotations

import collections
import concurrent.futures
import enum
import gc
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6 import QtCore

from engines.base import Cancelled, Engine, Job, Params, Progress, cancel_scope


class RunnerState(enum.StrEnum):
    """What a runner's worker is doing (a ``str``: the values read well in logs and tests)."""

    IDLE = "paused"  #: waiting for a command
    RUNNING = "running"  #: stepping the engine
    JOB = "job"  #: driving a one-shot job
    ERROR = "error"  #: the last step or job failed; ``reset`` clears it
    STOPPED = "stopped"  #: shut down


IDLE = RunnerState.IDLE
RUNNING = RunnerState.RUNNING
JOB = RunnerState.JOB
ERROR = RunnerState.ERROR
STOPPED = RunnerState.STOPPED

_LIVE: weakref.WeakSet = weakref.WeakSet()
#: workers given up on by a bounded shutdown, referenced until they finish (see the module docstring)
_ABANDONED: set = set()

#: how long :meth:`Runner.shutdown` waits for its worker by default (seconds)
SHUTDOWN_TIMEOUT_S = 2.0


class MainThreadGC(QtCore.QObject):
    """Python's cyclic garbage collector runs only on the GUI thread while a window is open.

    With automatic collection, a collection can start on a worker thread (any allocation may
    trigger one) and destroy Qt objects there: a QObject destructor on a worker, waiting for
    the GIL, against the GUI thread deleting widgets under Qt's locks, deadlocks the studio
    (seen: a runner importing dask while the GUI thread deleted a closed window's menus).
    While any window holds one of these, automatic collection is off and a timer on the GUI
    thread collects the generations whose thresholds have passed, as Python would (the
    technique of pyqtgraph's GarbageCollector); the last :meth:`release` turns it back on.
    """

    _holders = 0
    _was_enabled = True

    def __init__(self, parent: QtCore.QObject | None = None, interval_ms: int = 500) -> None:
        super().__init__(parent)
        if MainThreadGC._holders == 0:
            MainThreadGC._was_enabled = gc.isenabled()
            gc.disable()
        MainThreadGC._holders += 1
        self._held = True
        self._threshold = gc.get_threshold()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    def collect_due(self) -> None:
        """Collect what automatic collection would have collected by now (GUI thread)."""
        l0, l1, l2 = gc.get_count()
        t0, t1, t2 = self._threshold
        if l0 > t0:
            gc.collect(0)
            if l1 > t1:
                gc.collect(1)
                if l2 > t2:
                    gc.collect(2)

    def release(self) -> None:
        """Stop the timer; the last holder turns automatic collection back on (no full collection
        here: it would cost the closing window a fraction of a second)."""
        if not self._held:
            return
        self._held = False
        self._timer.stop()
        MainThreadGC._holders -= 1
        if MainThreadGC._holders == 0:
            gc.collect(0)
            if MainThreadGC._was_enabled:
                gc.enable()


def live_threads() -> list[QtCore.QThread]:
    """Worker threads that were started and have not finished."""
    _reap()
    return [t for t in list(_LIVE) if t.isRunning()]


def _reap() -> None:
    """Drop the workers given up on that have finished since (GUI thread)."""
    for t in list(_ABANDONED):
        if t.isFinished():
            t.wait()
            _ABANDONED.discard(t)


class _Guard:
    """Whether the QObject a result is meant for still exists (None: always)."""

    __slots__ = ("obj",)

    def __init__(self, obj: QtCore.QObject | None) -> None:
        self.obj = obj

    def alive(self) -> bool:
        return self.obj is None or shiboken6.isValid(self.obj)


class _Worker(QtCore.QThread):
    """The loop of one runner; talks to it only through the runner's queue."""

    def __init__(self, runner: Runner):
        super().__init__()
        self.r = runner
        self.setObjectName(f"runner-{runner.name}")

    def run(self) -> None:  # noqa: C901 - one readable loop
        r = self.r
        while True:
            with r._cond:
                while not r._commands and r._mode not in (RUNNING, JOB) and not r._quit:
                    r._cond.wait(0.25)
                if r._quit:
                    break
                commands = list(r._commands)
                r._commands.clear()
            for fn, fut in commands:
                if fut.set_running_or_notify_cancel():
                    try:
                        fut.set_result(fn())
                    except BaseException as e:  # reported to the caller
                        fut.set_exception(e)
            mode = r._mode
            try:
                if mode == RUNNING:
                    r._run_chunk()
                elif mode == JOB:
                    r._job_step()
            except Cancelled:  # stopped inside a step by shutdown(); the loop ends below
                pass
            except Exception as e:  # the app lives on
                r._fail(e)
            r._pump_messages()
        # leaving: close a running job so its finally blocks run
        if r._job is not None:
            try:
                r._job.close()
            except Exception:
                pass
            r._job = None
        try:
            r.engine.close()
        except Exception:
            pass


class Runner(QtCore.QObject):
    """Owns an engine and the worker thread that drives it."""

    state_changed = QtCore.Signal(str)  # a RunnerState value
    #: carries a finished :meth:`submit` back to the GUI thread (queued across threads)
    _delivered = QtCore.Signal(object)
    error = QtCore.Signal(str, str)  # message, traceback
    message = QtCore.Signal(str, str)  # level, text
    job_progress = QtCore.Signal(object)  # engines.base.Progress
    job_finished = QtCore.Signal(object, bool)  # result, completed

    def __init__(
        self,
        engine: Engine,
        name: str | None = None,
        chunk: int | None = None,
        max_fps: float = 60.0,
        parent: QtCore.QObject | None = None,
        start_thread: bool = True,
    ):
        super().__init__(parent)
        self.engine = engine
        self.name = name or engine.name
        self.max_fps = float(max_fps)
        self.target_chunk_s = 0.008
        self._fixed_chunk = chunk
        self._chunk = max(1, int(chunk or engine.default_chunk or 1))
        self._cond = threading.Condition()
        self._commands: collections.deque = collections.deque()
        self._mode = IDLE
        self._quit = False
        self._stopping = threading.Event()  # set by shutdown: long steps and jobs stop at their next check
        self._job_cancel = threading.Event()  # set by cancel_job: the running job stops at its next check
        self._abandoned = False
        self._job: Job | None = None
        self._job_last_emit = 0.0
        self._job_last_value: Any = None
        self._job_unsent: Progress | None = None
        self._steps_left: int | None = None
        self._realtime: float | None = None
        self._pace_origin: tuple[float, float] | None = None
        self._snap_lock = threading.Lock()
        self._latest: Any = None
        self._news = False
        self._last_publish = 0.0
        self._job_pending = False  # run_job was called and its job has not started on the worker yet
        self._msg_cursor = 0
        self.visible = True
        # statistics (written by the worker, read by the GUI)
        self._steps_total = 0
        self._rate_t0 = time.perf_counter()
        self._rate_n0 = 0
        self.steps_per_s = 0.0
        self.snapshots_published = 0
        self.last_error: tuple[str, str] | None = None
        self._thread = _Worker(self)
        self._delivered.connect(self._deliver, QtCore.Qt.ConnectionType.QueuedConnection)
        if start_thread:
            self.start_thread()

    # ------------------------------------------------------------------
    # thread life
    # ------------------------------------------------------------------
    def start_thread(self) -> None:
        if not self._thread.isRunning():
            _LIVE.add(self._thread)
            self._thread.start()
            self._submit(self._publish_now)

    def request_stop(self) -> None:
        """Ask the worker to stop (running steps and jobs stop at their next check); do not wait."""
        with self._cond:
            self._quit = True
            self._mode = STOPPED
            self._cond.notify_all()
        self._stopping.set()
        self._job_cancel.set()

    def wait(self, timeout_s: float) -> bool:
        """Wait at most ``timeout_s`` for the worker to end; True when it has."""
        if not self._thread.isRunning():
            return True
        return bool(self._thread.wait(max(1, int(timeout_s * 1000))))

    def shutdown(self, timeout_s: float = SHUTDOWN_TIMEOUT_S) -> bool:
        """Stop the worker and wait for it, at most ``timeout_s``; True when it has ended.

        A worker that does not end in time (stuck in a call that cannot be
        interrupted) is given up on: kept referenced until it finishes by
        itself, its signals blocked, detached from its parent so that closing
        the window does not destroy it while it runs.
        """
        if self._abandoned:
            return not self._thread.isRunning()
        self.request_stop()
        ok = self.wait(timeout_s)
        if not ok:
            self._abandon()
        return ok

    @property
    def abandoned(self) -> bool:
        """True when shutdown gave up waiting for the worker."""
        return self._abandoned

    def _abandon(self) -> None:
        self._abandoned = True
        _ABANDONED.add(self._thread)
        self.blockSignals(True)
        self.setParent(None)

    @property
    def state(self) -> RunnerState:
        return self._mode

    def is_running(self) -> bool:
        return self._mode == RUNNING

    # ------------------------------------------------------------------
    # commands (GUI thread)
    # ------------------------------------------------------------------
    def _submit(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._cond:
            if self._quit:
                fut.set_exception(RuntimeError(f"runner {self.name} is shut down"))
                return fut
            self._commands.append((fn, fut))
            self._cond.notify_all()
        return fut

    def submit(
        self,
        fn: Callable[[Engine], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
        *,
        context: QtCore.QObject | None = None,
    ) -> concurrent.futures.Future:
        """Run ``fn(engine)`` on the worker between steps without waiting for it.

        ``done(result)`` or ``failed(exception)`` is then called on the GUI thread
        (through the Qt event loop), unless ``context`` (a widget, say) has been
        deleted meanwhile or the runner has shut down. Without ``failed`` an
        exception is reported on the runner's ``message`` signal. This is how a
        panel edits its engine: no slot ever waits for the worker.
        """
        fut = self._submit(lambda: fn(self.engine))
        if done is None and failed is None:
            return fut
        guard = _Guard(context)

        def finished(f: concurrent.futures.Future) -> None:
            if not self._quit:
                self._delivered.emit((f, done, failed, guard))

        fut.add_done_callback(finished)
        return fut

    @QtCore.Slot(object)
    def _deliver(self, item: tuple) -> None:
        fut, done, failed, guard = item
        if self._quit or not guard.alive():
            return
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is None:
            if done is not None:
                done(fut.result())
        elif failed is not None:
            failed(exc)
        else:
            self.message.emit("error", f"{self.name}: {type(exc).__name__}: {exc}")

    def call(self, fn: Callable[[Engine], Any], timeout_s: float | None = 30.0) -> Any:
        """Run ``fn(engine)`` on the worker between steps and wait for its result.

        For scripts, tests and shutdown paths: a panel's slots use :meth:`submit`,
        which never makes the GUI thread wait.
        """
        if QtCore.QThread.currentThread() is self._thread:
            return fn(self.engine)
        fut = self._submit(lambda: fn(self.engine))
        return fut.result(timeout=timeout_s)

    def call_async(self, fn: Callable[[Engine], Any]) -> concurrent.futures.Future:
        return self._submit(lambda: fn(self.engine))

    def start(self, steps: int | None = None) -> bool:
        """Run (for ``steps`` steps, or until paused). False if refused."""
        if self._mode == ERROR:
            self.message.emit("warning", f"{self.name}: reset before running again (last run failed)")
            return False
        if self._mode == JOB:
            self.message.emit("warning", f"{self.name}: a job is running; cancel it first")
            return False

        def go():
            self._steps_left = steps
            self._pace_origin = None
            self._set_mode(RUNNING)

        self._submit(go)
        return True

    def run_for(self, steps: int) -> bool:
        return self.start(steps=max(1, int(steps)))

    def pause(self) -> None:
        def go():
            if self._mode == RUNNING:
                self._set_mode(IDLE)
                self._publish_now()

        self._submit(go)

    def toggle(self) -> bool:
        """Run if paused, pause if running; returns True when now running."""
        if self._mode == RUNNING:
            self.pause()
            return False
        return self.start()

    def step_once(self, n: int | None = None) -> None:
        """Pause if running, then advance by ``n`` steps (one chunk by default)."""

        def go():
            if self._mode == ERROR or self._mode == JOB:
                return
            if self._mode == RUNNING:
                self._set_mode(IDLE)
            k = n if n is not None else max(1, self.engine.default_chunk)
            try:
                done = self.engine.step(k)
                self._count(done if isinstance(done, int) else k)
            except Exception as e:
                self._fail(e)
                return
            self._publish_now()

        self._submit(go)

    def reset(self, seed: int | None = None) -> concurrent.futures.Future:
        def go():
            if self._job is not None:
                self._job.close()
                self._job = None
            self._steps_left = None
            self.engine.reset(seed)
            self.last_error = None
            self._set_mode(IDLE)
            self._publish_now()

        return self._submit(self._guarded(go))

    def set_params(self, params: Params) -> concurrent.futures.Future:
        """Apply new parameters between steps; a refusal is reported, state kept."""

        def go():
            try:
                self.engine.set_params(params)
            except ValueError as e:
                self.message.emit("error", f"{self.name}: parameters refused: {e}")
                self.error.emit(str(e), "")
                raise
            self._publish_now()

        return self._submit(go)

    def set_realtime(self, factor: float | None) -> None:
        """Pace the engine so its ``time`` advances ``factor`` x wall time (None: as fast as possible)."""

        def go():
            self._realtime = factor if factor and factor > 0 else None
            self._pace_origin = None

        self._submit(go)

    def refresh(self) -> None:
        """Publish a snapshot now (after a load, for example)."""
        self._submit(self._publish_now)

    @property
    def job_busy(self) -> bool:
        """A job runs, or has been asked for and not yet started on the worker."""
        return self._mode == JOB or self._job_pending

    def run_job(self, factory: Callable[[Engine], Job]) -> bool:
        """Start a one-shot job ``factory(engine)`` (a generator of Progress)."""
        # a job asked for but not yet started on the worker counts as running: a second one
        # would otherwise replace it there without ending it
        if self.job_busy:
            self.message.emit("warning", f"{self.name}: a job is already running")
            return False
        self._job_pending = True

        def go():
            try:
                if self._mode == RUNNING:
                    self._set_mode(IDLE)
                self._job_cancel = threading.Event()
                self._job = factory(self.engine)
                self._job_last_value = None
                self._job_last_emit = 0.0
                self._job_unsent = None
                self._set_mode(JOB)
            finally:
                self._job_pending = False

        self._submit(self._guarded(go))
        return True

    def cancel_job(self) -> None:
        if self._mode == JOB:  # also stop work that runs long between two yields
            self._job_cancel.set()

        def go():
            if self._job is not None:
                job, self._job = self._job, None
                job.close()
                self._set_mode(IDLE)
                self._publish_now()
                self.job_finished.emit(self._job_last_value, False)

        self._submit(go)

    # ------------------------------------------------------------------
    # snapshots (GUI thread)
    # ------------------------------------------------------------------
    def take_news(self) -> Any:
        """The newest snapshot if it is new since the last call, else None."""
        with self._snap_lock:
            if not self._news:
                return None
            self._news = False
            return self._latest

    def latest(self) -> Any:
        with self._snap_lock:
            return self._latest

    def has_news(self) -> bool:
        return self._news

    # ------------------------------------------------------------------
    # worker side
    # ------------------------------------------------------------------
    def _guarded(self, fn: Callable[[], Any]) -> Callable[[], Any]:
        def wrapped():
            try:
                return fn()
            except Exception as e:
                self._fail(e)
                raise

        return wrapped

    def _set_mode(self, mode: RunnerState) -> None:
        if mode != self._mode:
            self._mode = mode
            self.state_changed.emit(mode)

    def _count(self, n: int) -> None:
        self._steps_total += n
        now = time.perf_counter()
        dt = now - self._rate_t0
        if dt >= 0.5:
            self.steps_per_s = (self._steps_total - self._rate_n0) / dt
            self._rate_t0, self._rate_n0 = now, self._steps_total

    def _run_chunk(self) -> None:
        eng = self.engine
        n = self._chunk
        if self._steps_left is not None:
            n = min(n, self._steps_left)
        pacing = self._realtime is not None
        if pacing and self._pace_origin is None:
            self._pace_origin = (time.perf_counter(), float(eng.time))
        t_before = float(eng.time) if pacing else 0.0
        t0 = time.perf_counter()
        with cancel_scope(self._stopping):
            done = eng.step(n)
        elapsed = time.perf_counter() - t0
        done = n if done is None else int(done)
        self._count(done)
        if self._fixed_chunk is None and done > 0:
            # aim at target_chunk_s per call, changing by at most 2x at a time
            ideal = n * self.target_chunk_s / max(elapsed, 1e-6)
            factor = self._realtime
            if factor is not None:  # in real time a chunk covers at most one frame of engine time
                per_step = (float(eng.time) - t_before) / done
                if per_step > 0:
                    ideal = min(ideal, factor / self.max_fps / per_step)
            self._chunk = int(max(1, min(ideal, 2 * n, 10_000_000)))
        if self._steps_left is not None:
            self._steps_left -= done
            if self._steps_left <= 0 or done == 0:
                self._steps_left = None
                self._set_mode(IDLE)
                self._publish_now()
                return
        if done == 0:  # the engine has finished (e.g. end of its input)
            self._set_mode(IDLE)
            self._publish_now()
            return
        self._maybe_publish()
        if self._realtime is not None:
            self._pace()

    def _pace(self) -> None:
        t = float(self.engine.time)
        if self._pace_origin is None:
            self._pace_origin = (time.perf_counter(), t)
            return
        w0, t0 = self._pace_origin
        factor = self._realtime
        if factor is None:
            return
        due = w0 + (t - t0) / factor
        while True:
            wait = due - time.perf_counter()
            if wait <= 0 or self._commands or self._quit:
                break
            time.sleep(min(wait, 0.01))
            self._maybe_publish()

    def _job_step(self) -> None:
        job = self._job
        if job is None:
            self._set_mode(IDLE)
            return
        try:
            with cancel_scope(self._job_cancel, self._stopping):
                prog = next(job)
        except Cancelled:  # cancel_job or shutdown, inside the job: it has ended (its finally blocks ran)
            self._job = None
            self._job_unsent = None
            if not self._quit:
                self._set_mode(IDLE)
            self._publish_now()
            self.job_finished.emit(self._job_last_value, False)
            return
        except StopIteration as stop:
            self._job = None
            if self._job_unsent is not None:  # the last word before the end is never lost
                self.job_progress.emit(self._job_unsent)
                self._job_unsent = None
            self._set_mode(IDLE)
            self._publish_now()
            self.job_finished.emit(stop.value, True)
            return
        if isinstance(prog, Progress):
            self._job_last_value = prog.value if prog.value is not None else self._job_last_value
            now = time.perf_counter()
            if now - self._job_last_emit >= 1.0 / 30.0:
                self._job_last_emit = now
                self._job_unsent = None
                self.job_progress.emit(prog)
            else:
                self._job_unsent = prog
        self._maybe_publish()

    def _maybe_publish(self) -> None:
        now = time.perf_counter()
        min_dt = 1.0 / self.max_fps if self.visible else 0.5
        if now - self._last_publish >= min_dt:
            self._publish_now()

    def _publish_now(self) -> None:
        snap = self.engine.snapshot()
        with self._snap_lock:
            self._latest = snap
            self._news = True
        self._last_publish = time.perf_counter()
        self.snapshots_published += 1

    def _pump_messages(self) -> None:
        msgs, self._msg_cursor = self.engine.messages_since(self._msg_cursor)
        for level, text in msgs:
            self.message.emit(level, f"{self.name}: {text}")

    def _fail(self, e: BaseException) -> None:
        tb = traceback.format_exc()
        msg = f"{type(e).__name__}: {e}"
        self.last_error = (msg, tb)
        job = self._job
        had_job = job is not None
        if job is not None:
            try:
                job.close()
            except Exception:
                pass
            self._job = None
        self._steps_left = None
        self._set_mode(ERROR)
        self.message.emit("error", f"{self.name}: {msg}\n{tb}")
        self.error.emit(msg, tb)
        if had_job:
            self.job_finished.emit(None, False)
