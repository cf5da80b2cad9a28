"""Exact (A)TSP by Held-Karp dynamic programming, for small instances (n <= 20)."""

from __future__ import annotations

import numpy as np
from numba import njit

from engines.routing.problem import Problem

__all__ = ["held_karp"]


@njit(nogil=True, cache=True)
def _dp(D):
    m = D.shape[0] - 1  # customers 1..m
    full = 1 << m
    INF = 1e300
    f = np.full((full, m), INF)
    par = np.full((full, m), -1, np.int64)
    for j in range(m):
        f[1 << j, j] = D[0, j + 1]
    for mask in range(1, full):
        for j in range(m):
            fj = f[mask, j]
            if fj >= INF or not (mask >> j) & 1:
                continue
            for k in range(m):
                if (mask >> k) & 1:
                    continue
                nm = mask | (1 << k)
                c = fj + D[j + 1, k + 1]
                if c < f[nm, k]:
                    f[nm, k] = c
                    par[nm, k] = j
    best = INF
    bj = -1
    for j in range(m):
        c = f[full - 1, j] + D[j + 1, 0]
        if c < best:
            best = c
            bj = j
    tour = np.zeros(m, np.int64)
    mask = full - 1
    j = bj
    for p in range(m - 1, -1, -1):
        tour[p] = j + 1
        pj = par[mask, j]
        mask ^= 1 << j
        j = pj
    return best, tour


def held_karp(problem: Problem) -> tuple[float, list[int]]:
    """Optimal tour (customers in order, depot 0 implied) and its length."""
    if problem.n > 21:
        raise ValueError(f"{problem.name}: Held-Karp is limited to 21 nodes, this has {problem.n}")
    cost, tour = _dp(np.ascontiguousarray(problem.distance))
    return float(cost), [int(c) for c in tour]
