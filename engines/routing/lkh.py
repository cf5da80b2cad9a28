"""LKH-3 (Helsgaun's Lin-Kernighan heuristic) for single-vehicle instances, through ``elkai``.

LKH-3 is the strongest heuristic for the travelling salesman problem, symmetric and asymmetric:
on TSPLIB's ATSP instances one run finds the optimum in a fraction of a second. The package
``elkai`` (2.0.1) embeds it; its public API has no seed or time limit, so :func:`lkh_runs` hands
LKH its own parameter text (``RUNS = 1``, ``SEED = s``) through ``elkai._elkai.solve_problem`` and
makes independent runs with seeds 1, 2, ... until the time limit, keeping the best tour.

Two facts shape the code:

- LKH wants integer weights. Real-road matrices (km, minutes) are scaled by a power of ten so the
  largest finite entry is below 10^7 and rounded; the caller evaluates the tour on the real matrix.
  Unreachable pairs (inf) become ten times the largest finite weight.
- elkai holds Python's GIL for a whole run, which would freeze the studio's window while a worker
  thread solves. Runs therefore go to one child process (spawned once, kept for the process's
  life, replaced if a run is abandoned), and the job polls it, reporting progress in between.

Licence: LKH's code is free for academic and non-commercial use only, and so is elkai. It is an
optional extra of this project (``pip install neural-studio[lkh]``); the set-up scripts install it
and :func:`available` says whether it is there.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import time
from collections.abc import Generator

import numpy as np

from engines._lkh_worker import available, one_run

__all__ = ["LKHUnavailable", "available", "integer_matrix", "lkh_runs", "problem_text", "shutdown"]

#: the largest integer weight handed to LKH (its arithmetic is 32-bit in places)
MAX_WEIGHT = 10_000_000


class LKHUnavailable(RuntimeError):
    """elkai (LKH-3) is not installed."""


def integer_matrix(distance: np.ndarray) -> tuple[np.ndarray, float]:
    """``distance`` as non-negative integers for LKH and the scale used (weight = round(d * scale))."""
    d = np.array(distance, dtype=np.float64)
    n = d.shape[0]
    off = ~np.eye(n, dtype=bool)
    finite = np.isfinite(d) & off
    top = float(d[finite].max()) if finite.any() else 1.0
    top = max(top, 1e-12)
    big = 10.0 * top
    d[~np.isfinite(d)] = big
    d[~off] = 0.0
    d = np.maximum(d, 0.0)
    scale = 10.0 ** math.floor(math.log10(MAX_WEIGHT / (10.0 * top)))
    return np.rint(d * scale).astype(np.int64), scale


def problem_text(weights: np.ndarray) -> str:
    """The TSPLIB text of a full-matrix (A)TSP with these integer weights."""
    n = weights.shape[0]
    kind = "TSP" if np.array_equal(weights, weights.T) else "ATSP"
    rows = "\n".join(" ".join(map(str, r)) for r in weights.tolist())
    return (
        f"TYPE : {kind}\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
        f"EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n{rows}\nEOF\n"
    )


_POOL = None


def _pool():
    global _POOL
    if _POOL is None:
        if not available():
            raise LKHUnavailable(
                "the lkh solver needs the elkai package (LKH-3; free for non-commercial use): "
                "pip install 'elkai==2.0.1', or run ./test.sh or ./studio.sh, which install it"
            )
        _POOL = mp.get_context("spawn").Pool(1)
        atexit.register(shutdown)
        _POOL.apply(available)  # the child is up and has imported elkai: later runs start at once
    return _POOL


def shutdown() -> None:
    """Stop the child process (it is stopped at exit anyway)."""
    global _POOL
    if _POOL is not None:
        _POOL.terminate()
        _POOL.join()
        _POOL = None


def warm_up() -> None:
    """Start the child process outside any timing."""
    _pool()


def rotate_to_depot(tour: list[int], depot: int = 0) -> tuple[int, ...]:
    """The tour's customers in visiting order starting after ``depot`` (the route form of the evaluator)."""
    k = tour.index(depot)
    order = tour[k + 1 :] + tour[:k]
    return tuple(order)


def lkh_runs(
    distance: np.ndarray, time_limit: float, seed: int = 0, poll_s: float = 0.05, max_runs: int | None = None
) -> Generator[tuple[tuple[int, ...] | None, int], None, None]:
    """Independent LKH runs until ``time_limit`` seconds have passed (or ``max_runs`` runs).

    Yields ``(route, runs_done)`` after each finished run (``route``: the customers in order
    from the depot, node 0) and ``(None, runs_done)`` every ``poll_s`` while a run is going, so
    the caller can report progress or stop; closing the generator abandons a running run (its
    child process is replaced). The first run always finishes; another starts only if the time
    left exceeds the longest run so far."""
    weights, _scale = integer_matrix(distance)
    if weights.shape[0] < 3:  # LKH needs three nodes; two have one tour
        yield (tuple(range(1, weights.shape[0])), 1)
        return
    problem = problem_text(weights)
    pool = _pool()
    t0 = time.perf_counter()
    longest = 0.0
    runs = 0
    while True:
        started = time.perf_counter()
        pending = pool.apply_async(one_run, (problem, 1 + int(seed) * 1000 + runs))
        finished = False
        try:
            while not pending.ready():
                pending.wait(poll_s)
                if not pending.ready():
                    yield (None, runs)
            finished = True
        finally:
            if not finished:  # abandoned mid-run: the child is busy in C and cannot be told to stop
                shutdown()
        tour = pending.get()
        runs += 1
        longest = max(longest, time.perf_counter() - started)
        yield (rotate_to_depot(tour, 0), runs)
        left = time_limit - (time.perf_counter() - t0)
        if (max_runs is not None and runs >= max_runs) or left < longest:
            return
