"""Run a sweep as Dask tasks, streaming results into the results folder.

``sweep_job(spec, out)`` is a generator yielding :class:`~engines.base.Progress`
whose ``value`` is a :class:`SweepStatus` (counts and the rows finished since
the previous progress); it returns a :class:`SweepSummary`. Closing the
generator stops the sweep between yields: pending tasks are cancelled, the
rows already finished are written, the cluster it started is shut down.

Where the points run:

* by default an embedded ``LocalCluster`` (``n_workers`` processes, one thread
  each, loopback only);
* ``scheduler="tcp://HOST:8786"``: a running Dask cluster (its workers need
  this package installed, and the data files the points read);
* ``client=``: a ``distributed.Client`` the caller owns;
* ``n_workers=0``: in this process, one point after the other (debugging).

Robustness:

* every point runs inside ``try``: an exception becomes a ``failed`` row with
  its traceback, and the sweep goes on;
* a worker that dies takes its running tasks with it: the scheduler gives them
  to another worker (up to ``distributed.scheduler.allowed-failures`` deaths
  per task), and a task that still ends in ``KilledWorker`` is submitted again
  (``max_resubmits``), one at a time once nothing else runs, so a point that kills
  every worker it runs on fails alone; ``retries`` re-runs tasks whose error escaped the point
  (a worker that cannot import the kind, for instance);
* finished rows are written every ``flush_s`` seconds or ``flush_rows`` rows as
  a new part file (atomically), so an interrupted sweep keeps what it wrote and
  the next run computes only the missing points.
"""

from __future__ import annotations

import collections
import contextlib
import os
import socket
import threading
import time
import traceback
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from engines.base import Progress, drive_job
from engines.sweep.model import Point, SweepSpec
from engines.sweep.store import ResultStore, _rows_to_table, results_schema

__all__ = ["SweepStatus", "SweepSummary", "execute_point", "execute_points", "run_sweep", "sweep_job"]


@dataclass(frozen=True)
class SweepStatus:
    """Where a sweep stands (the ``value`` of each progress)."""

    name: str
    total: int  # points in the sweep
    skipped: int  # already finished before this run
    to_run: int  # points this run computes
    done: int  # finished in this run (ok + failed)
    failed: int  # finished in this run with an error
    running: int  # tasks on the workers now (at most one per worker thread)
    elapsed_s: float
    new_rows: tuple[Mapping[str, Any], ...] = ()  # finished since the previous progress
    dashboard: str | None = None
    workers: int = 0

    @property
    def pending(self) -> int:
        return self.to_run - self.done


@dataclass(frozen=True)
class SweepSummary:
    name: str
    out: str
    total: int
    skipped: int
    computed: int
    failed: int
    elapsed_s: float
    completed: bool  # False when stopped before every point finished
    resubmitted: int = 0
    failed_ids: tuple[str, ...] = field(default=())


def execute_point(
    kind: str, params: Mapping[str, Any], seed: int, metrics: tuple[str, ...], meta: Mapping
) -> dict:
    """Run one point (on a worker); never raises for an error of the point itself."""
    from engines.sweep.kinds import get_kind

    t0 = time.perf_counter()
    row: dict[str, Any] = dict(meta)
    row.update(params)
    row["seed"] = seed
    row["kind"] = kind
    try:
        k = get_kind(kind)
        values = k.run(params, seed)
        for m in metrics:
            row[m] = values.get(m)
        row["status"] = "ok"
        row["error"] = None
    except Exception:  # noqa: BLE001 - the point's error is the result
        row["status"] = "failed"
        row["error"] = traceback.format_exc(limit=30)
    row["elapsed_s"] = time.perf_counter() - t0
    row["worker"] = f"{socket.gethostname()}:{os.getpid()}"
    row["finished_at"] = time.time()
    return row


def execute_points(payload: list[tuple[str, dict, int, dict]], metrics: tuple[str, ...]) -> list[dict]:
    """Run several points in one task (fewer round trips for fast kinds)."""
    return [execute_point(kind, params, seed, metrics, meta) for kind, params, seed, meta in payload]


def _payload(spec: SweepSpec, chunk) -> list[tuple[str, dict, int, dict]]:
    return [(p.kind, dict(p.params), p.seed, _meta(spec, p)) for p in chunk]


def _meta(spec: SweepSpec, p: Point) -> dict:
    return {"point_id": p.id, "sweep": spec.name}


def _failed_row(spec: SweepSpec, p: Point, message: str) -> dict:
    row = _meta(spec, p)
    row.update(p.params)
    row.update(
        seed=p.seed,
        kind=p.kind,
        status="failed",
        error=message,
        elapsed_s=None,
        worker=None,
        finished_at=time.time(),
    )
    return row


def _has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class _Writer:
    """Buffers finished rows and writes them as part files."""

    def __init__(self, store: ResultStore, schema, flush_s: float, flush_rows: int):
        self.store, self.schema = store, schema
        self.flush_s, self.flush_rows = flush_s, flush_rows
        self.buf: list[dict] = []
        self.last = time.monotonic()

    def add(self, rows: list[dict]) -> None:
        self.buf.extend(rows)
        if len(self.buf) >= self.flush_rows or time.monotonic() - self.last >= self.flush_s:
            self.flush()

    def flush(self) -> None:
        if self.buf:
            self.store.append(self.buf, self.schema)
            self.buf = []
        self.last = time.monotonic()


def sweep_job(
    spec: SweepSpec,
    out: str | os.PathLike,
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    client: Any = None,
    retry_failed: bool = True,
    retries: int = 2,
    max_resubmits: int = 3,
    flush_s: float = 1.0,
    flush_rows: int = 256,
    compact: bool = True,
    tick_s: float = 0.2,
    points_per_task: int = 1,
) -> Generator[Progress, None, SweepSummary]:
    """Run the points of ``spec`` missing from ``out``; yields progress, returns a summary."""
    t0 = time.perf_counter()
    store = ResultStore(out)
    schema = results_schema(spec)
    _rows_to_table([], schema)  # pyarrow imports pandas on first use (~1-2 s): not in the middle of the run
    finished = store.status()
    points = list(spec.points())
    keep = {"ok"} if retry_failed else {"ok", "failed"}
    todo = [p for p in points if finished.get(p.id) not in keep]
    skipped = len(points) - len(todo)
    store.write_spec(spec)
    writer = _Writer(store, schema, flush_s, flush_rows)
    done = failed = resubmitted = 0
    failed_ids: list[str] = []
    dashboard = None
    n_threads = 0

    def status(rows=(), running=0) -> Progress:
        st = SweepStatus(
            name=spec.name,
            total=len(points),
            skipped=skipped,
            to_run=len(todo),
            done=done,
            failed=failed,
            running=running,
            elapsed_s=time.perf_counter() - t0,
            new_rows=tuple(rows),
            dashboard=dashboard,
            workers=n_threads,
        )
        msg = f"{spec.name}: {done}/{len(todo)} done, {failed} failed, {running} running"
        return Progress(done, len(todo), msg, st)

    def summary(completed: bool) -> SweepSummary:
        return SweepSummary(
            name=spec.name,
            out=str(store.path),
            total=len(points),
            skipped=skipped,
            computed=done,
            failed=failed,
            elapsed_s=time.perf_counter() - t0,
            completed=completed,
            resubmitted=resubmitted,
            failed_ids=tuple(failed_ids),
        )

    def record(rows: list[dict]) -> None:
        nonlocal done, failed
        for r in rows:
            done += 1
            if r["status"] != "ok":
                failed += 1
                failed_ids.append(r["point_id"])
        writer.add(rows)

    if not todo:
        yield status()
        return summary(True)

    # ---------------------------------------------------------- in process
    if client is None and scheduler is None and n_workers == 0:
        n_threads = 1
        completed = False
        try:
            yield status(running=1)
            for p in todo:
                row = execute_point(p.kind, dict(p.params), p.seed, spec.metrics, _meta(spec, p))
                record([row])
                yield status([row], running=1 if done < len(todo) else 0)
            completed = True
        finally:
            writer.flush()
            if completed and compact:
                store.compact()
        return summary(True)

    # ---------------------------------------------------------- on Dask
    from distributed import Client, as_completed

    cluster = None
    own_client = client is None
    completed = False
    futures: dict[Any, tuple[tuple[Point, ...], int]] = {}
    try:
        if client is None:
            if scheduler is not None:
                client = Client(scheduler, timeout="30s")
            else:
                import logging

                from distributed import LocalCluster

                nw = n_workers or default_workers()
                cluster = LocalCluster(
                    n_workers=nw,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster)
        if cluster is None or _has_bokeh():  # without bokeh a local cluster serves no dashboard
            with contextlib.suppress(Exception):
                dashboard = client.dashboard_link
        n_threads = sum(client.nthreads().values())
        last_threads = time.monotonic()

        size = max(1, int(points_per_task))
        chunks = [tuple(todo[i : i + size]) for i in range(0, len(todo), size)]

        def submit(chunk: tuple[Point, ...], attempt: int):
            key = f"sweep-{chunk[0].id}-{len(chunk)}" + (f"-r{attempt}" if attempt else "")
            f = client.submit(
                execute_points,
                _payload(spec, chunk),
                spec.metrics,
                key=key,
                pure=False,
                retries=retries,
            )
            futures[f] = (chunk, attempt)
            return f

        first = client.map(
            execute_points,
            [_payload(spec, c) for c in chunks],
            metrics=spec.metrics,
            key=[f"sweep-{c[0].id}-{len(c)}" for c in chunks],
            pure=False,
            retries=retries,
        )
        futures.update((f, (c, 0)) for f, c in zip(first, chunks))
        ac = as_completed(first, with_results=True, raise_errors=False)
        del first
        yield status(running=min(len(futures), n_threads))
        last_yield = time.monotonic()
        # tasks that died with their worker are submitted again one at a time, once nothing else
        # runs: a point that kills every worker it runs on can then take no other point with it
        # (a point queued on the same worker died too and, retried beside it, died again)
        retry_queue: collections.deque[tuple[tuple[Point, ...], int]] = collections.deque()
        while futures or retry_queue:
            if not futures and retry_queue:
                chunk, attempt = retry_queue.popleft()
                ac.add(submit(chunk, attempt))
                resubmitted += 1
            batch = ac.next_batch(block=False)
            if not batch:
                time.sleep(0.01)
                if time.monotonic() - last_yield >= tick_s:
                    writer.add([])
                    if time.monotonic() - last_threads > 1.0:
                        n_threads = sum(client.nthreads().values())
                        last_threads = time.monotonic()
                    yield status(running=min(len(futures), n_threads))
                    last_yield = time.monotonic()
                continue
            rows = []
            for fut, result in batch:
                chunk, attempt = futures.pop(fut)
                if fut.status == "finished":
                    rows.extend(result)
                    continue
                # the task itself erred (KilledWorker, cancelled, lost scheduler data...)
                if isinstance(result, tuple) and len(result) == 3:
                    _typ, exc, tb = result
                else:
                    exc, tb = result, None
                name = type(exc).__name__ if exc is not None else fut.status
                if attempt < max_resubmits and name in (
                    "KilledWorker",
                    "CancelledError",
                    "FutureCancelledError",
                ):
                    retry_queue.append((chunk, attempt + 1))
                    continue
                text = (
                    "".join(traceback.format_exception(exc)) if isinstance(exc, BaseException) else str(exc)
                )
                if tb is not None and isinstance(exc, BaseException):
                    text = "".join(traceback.format_exception(type(exc), exc, tb))
                rows.extend(_failed_row(spec, p, f"task error: {name}\n{text}".strip()) for p in chunk)
            batch = None
            if rows:
                record(rows)
            yield status(rows, running=min(len(futures), n_threads))
            last_yield = time.monotonic()
        completed = True
    finally:
        try:
            writer.flush()
        finally:
            if futures and client is not None:
                with contextlib.suppress(Exception):
                    client.cancel(list(futures))
            if cluster is not None and not completed:
                # stopped: the points still running are abandoned anyway; a graceful close would wait
                # seconds for each busy worker to finish its task
                _kill_workers(cluster)
            futures.clear()
            if cluster is not None and not completed:
                # stopped: close the emptied cluster in the background, the caller need not wait for it
                threading.Thread(
                    target=_close_quietly, args=(client if own_client else None, cluster), daemon=True
                ).start()
            else:
                _close_quietly(client if own_client else None, cluster)
    if completed and compact:
        store.compact()
    return summary(completed)


def _close_quietly(client: Any, cluster: Any) -> None:
    if client is not None:
        with contextlib.suppress(Exception):
            client.close(timeout=10)
    if cluster is not None:
        with contextlib.suppress(Exception):
            cluster.close(timeout=10)


def _kill_workers(cluster: Any) -> None:
    """End the worker processes of a local cluster at once (best effort)."""
    import signal

    for nanny in list(getattr(cluster, "workers", {}).values()):
        with contextlib.suppress(Exception):
            os.kill(nanny.process.process.pid, signal.SIGKILL)


def run_sweep(spec: SweepSpec, out: str | os.PathLike, **kw) -> SweepSummary:
    """Run :func:`sweep_job` to its end."""
    result, _ = drive_job(sweep_job(spec, out, **kw))
    return result
