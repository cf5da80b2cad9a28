"""The code LKH's child process runs (see :mod:`engines.routing.lkh`): kept outside the routing
package so the child imports elkai and nothing else (10 MiB and no numba, not 100 MiB)."""

from __future__ import annotations


def available() -> bool:
    try:
        import elkai  # noqa: F401
    except ImportError:
        return False
    return True


def one_run(problem: str, seed: int) -> list[int]:
    """One LKH run on a TSPLIB problem text: the tour as 0-based node indices."""
    from elkai import _elkai

    params = f"RUNS = 1\nSEED = {int(seed)}\nTRACE_LEVEL = 0\nPROBLEM_FILE = :stdin:\n"
    return [int(i) - 1 for i in _elkai.solve_problem(params, problem)]
