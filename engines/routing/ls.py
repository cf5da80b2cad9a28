"""Compiled construction and local search (numba, ``nogil=True``).

Routes live in an int array ``R[k, 0..L[k]+1]`` with the depot (0) at both
ends. Constraints (capacity, time windows, vehicle count) are hard: a move is
applied only when the changed routes stay feasible. Costs may be asymmetric;
the objective is the total distance. Operators, each tried for a customer u
against its granular neighbours v:

* relocate / or-opt: move a segment of 1-3 customers starting at u next to v;
* swap: exchange u and v;
* 2-opt*: exchange the tails of two routes so that v follows u;
* 2-opt: reverse a segment inside a route (reversed cost from prefix sums,
  so it is exact for asymmetric matrices).

Time windows are checked by simulating only the changed routes, and only for
moves that already shorten the distance. The construction is Clarke-Wright
savings with the same feasibility checks (asymmetric savings); the
perturbation of the iterated local search is ruin (a customer and its
neighbours) and recreate (cheapest feasible insertion).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engines.routing.problem import Problem, normalise_routes

__all__ = [
    "LSData",
    "compact",
    "construct",
    "from_routes",
    "improve",
    "minimise_vehicles",
    "minimise_vehicles_steps",
    "perturb_and_improve",
    "to_routes",
]

TOL = 1e-9
TWTOL = 1e-6


class LSData:
    """Arrays the compiled kernels need, built once per problem."""

    def __init__(self, problem: Problem, k_neighbours: int = 24):
        n = problem.n
        self.n = n
        self.D = np.ascontiguousarray(problem.distance, dtype=np.float64)
        self.T = np.ascontiguousarray(problem.duration, dtype=np.float64)
        self.tw = np.ascontiguousarray(problem.windows, dtype=np.float64)
        self.svc = np.ascontiguousarray(problem.service_times, dtype=np.float64)
        self.dem = np.ascontiguousarray(problem.demand, dtype=np.float64)
        self.cap = float(problem.effective_capacity) if problem.capacity is not None else 1e300
        self.has_tw = problem.time_windows is not None
        nv = problem.num_vehicles if problem.num_vehicles is not None else n - 1
        self.K = int(max(1, min(nv, n - 1)))
        sym = np.minimum(self.D, self.D.T)[1:, 1:].copy()
        np.fill_diagonal(sym, np.inf)
        k = int(min(k_neighbours, n - 2)) if n > 2 else 0
        if k > 0:
            nb = np.argsort(sym, axis=1, kind="stable")[:, :k] + 1
        else:
            nb = np.zeros((n - 1, 0), dtype=np.int64)
        self.neigh = np.zeros((n, max(k, 1)), dtype=np.int64)
        self.neigh[1:, :k] = nb
        self.nk = k

    def empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((self.K, self.n + 2), dtype=np.int64), np.zeros(self.K, dtype=np.int64)


def from_routes(data: LSData, routes) -> tuple[np.ndarray, np.ndarray]:
    routes = normalise_routes(routes)
    R, L = data.empty()
    if len(routes) > data.K:
        raise ValueError(f"{len(routes)} routes but only {data.K} vehicles")
    for k, r in enumerate(routes):
        R[k, 1 : len(r) + 1] = r
        L[k] = len(r)
    return R, L


def to_routes(R: np.ndarray, L: np.ndarray) -> list[list[int]]:
    return [[int(c) for c in R[k, 1 : L[k] + 1]] for k in range(len(L)) if L[k] > 0]


# --------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------


@njit(nogil=True, cache=True)
def _seq_ok(seq, m, T, tw, svc):
    """Time feasibility of seq[0..m-1] (depot at both ends)."""
    t = tw[0, 0]
    prev = 0
    for q in range(1, m):
        c = seq[q]
        a = t + svc[prev] + T[prev, c]
        if a > tw[c, 1] + TWTOL:
            return False
        t = a if a > tw[c, 0] else tw[c, 0]
        prev = c
    return True


@njit(nogil=True, cache=True)
def _append(buf, m, R, k, a, b, rev):
    """Append R[k, a..b] (inclusive) to buf, reversed when rev."""
    if rev:
        for p in range(b, a - 1, -1):
            buf[m] = R[k, p]
            m += 1
    else:
        for p in range(a, b + 1):
            buf[m] = R[k, p]
            m += 1
    return m


@njit(nogil=True, cache=True)
def _rebuild(R, L, k, D, dem, pos, rt, fw, bw, ld):
    m = L[k] + 1
    R[k, m] = 0
    R[k, 0] = 0
    fw[k, 0] = 0.0
    bw[k, 0] = 0.0
    ld[k, 0] = 0.0
    for p in range(1, m + 1):
        c = R[k, p]
        fw[k, p] = fw[k, p - 1] + D[R[k, p - 1], c]
        bw[k, p] = bw[k, p - 1] + D[c, R[k, p - 1]]
        ld[k, p] = ld[k, p - 1] + dem[c]
        if c != 0:
            pos[c] = p
            rt[c] = k


@njit(nogil=True, cache=True)
def _write(R, L, k, buf, m):
    """Copy buf[0..m-1] (depot at both ends) into route k."""
    for q in range(m):
        R[k, q] = buf[q]
    L[k] = m - 2


@njit(nogil=True, cache=True)
def routes_cost(R, L, D):
    tot = 0.0
    for k in range(L.shape[0]):
        for p in range(L[k] + 1):
            tot += D[R[k, p], R[k, p + 1]]
    return tot


@njit(nogil=True, cache=True)
def _ls(R, L, D, T, tw, svc, dem, cap, has_tw, neigh, nk, order, max_passes):
    K, W = R.shape
    n = D.shape[0]
    pos = np.zeros(n, np.int64)
    rt = np.zeros(n, np.int64)
    fw = np.zeros((K, W), np.float64)
    bw = np.zeros((K, W), np.float64)
    ld = np.zeros((K, W), np.float64)
    for k in range(K):
        _rebuild(R, L, k, D, dem, pos, rt, fw, bw, ld)
    b1 = np.zeros(W + 4, np.int64)
    b2 = np.zeros(W + 4, np.int64)
    moves = 0
    for _pass in range(max_passes):
        improved = False
        for oi in range(order.shape[0]):
            u = order[oi]
            for vi in range(nk):
                v = neigh[u, vi]
                A = rt[u]
                i = pos[u]
                B = rt[v]
                j = pos[v]
                LA = L[A]
                LB = L[B]
                done = False
                # ---- relocate / or-opt: segment of s starting at u, after or before v
                for s in range(1, 4):
                    if done or i + s - 1 > LA:
                        break
                    x = u
                    y = R[A, i + s - 1]
                    a = R[A, i - 1]
                    b = R[A, i + s]
                    segload = ld[A, i + s - 1] - ld[A, i - 1]
                    if A != B and ld[B, LB + 1] + segload > cap + TWTOL:
                        continue
                    for side in range(2):
                        p = j if side == 0 else j - 1
                        if A == B and p >= i - 1 and p <= i + s - 1:
                            continue
                        c = R[B, p]
                        e = R[B, p + 1]
                        delta = -D[a, x] - D[y, b] + D[a, b] - D[c, e] + D[c, x] + D[y, e]
                        if delta > -TOL:
                            continue
                        if A != B:
                            m1 = _append(b1, 0, R, A, 0, i - 1, False)
                            m1 = _append(b1, m1, R, A, i + s, LA + 1, False)
                            m2 = _append(b2, 0, R, B, 0, p, False)
                            m2 = _append(b2, m2, R, A, i, i + s - 1, False)
                            m2 = _append(b2, m2, R, B, p + 1, LB + 1, False)
                            if has_tw and not (_seq_ok(b1, m1, T, tw, svc) and _seq_ok(b2, m2, T, tw, svc)):
                                continue
                            _write(R, L, A, b1, m1)
                            _write(R, L, B, b2, m2)
                        else:
                            if p < i - 1:
                                m1 = _append(b1, 0, R, A, 0, p, False)
                                m1 = _append(b1, m1, R, A, i, i + s - 1, False)
                                m1 = _append(b1, m1, R, A, p + 1, i - 1, False)
                                m1 = _append(b1, m1, R, A, i + s, LA + 1, False)
                            else:
                                m1 = _append(b1, 0, R, A, 0, i - 1, False)
                                m1 = _append(b1, m1, R, A, i + s, p, False)
                                m1 = _append(b1, m1, R, A, i, i + s - 1, False)
                                m1 = _append(b1, m1, R, A, p + 1, LA + 1, False)
                            if has_tw and not _seq_ok(b1, m1, T, tw, svc):
                                continue
                            _write(R, L, A, b1, m1)
                        _rebuild(R, L, A, D, dem, pos, rt, fw, bw, ld)
                        if B != A:
                            _rebuild(R, L, B, D, dem, pos, rt, fw, bw, ld)
                        done = True
                        break
                if done:
                    moves += 1
                    improved = True
                    continue
                # ---- swap u and v
                if not (A == B and (i - j == 1 or j - i == 1)):
                    a = R[A, i - 1]
                    b = R[A, i + 1]
                    c = R[B, j - 1]
                    e = R[B, j + 1]
                    delta = -D[a, u] - D[u, b] - D[c, v] - D[v, e] + D[a, v] + D[v, b] + D[c, u] + D[u, e]
                    ok = delta < -TOL
                    if ok and A != B:
                        ok = (
                            ld[A, LA + 1] - dem[u] + dem[v] <= cap + TWTOL
                            and ld[B, LB + 1] - dem[v] + dem[u] <= cap + TWTOL
                        )
                    if ok:
                        if A != B:
                            m1 = _append(b1, 0, R, A, 0, LA + 1, False)
                            b1[i] = v
                            m2 = _append(b2, 0, R, B, 0, LB + 1, False)
                            b2[j] = u
                            if not has_tw or (_seq_ok(b1, m1, T, tw, svc) and _seq_ok(b2, m2, T, tw, svc)):
                                _write(R, L, A, b1, m1)
                                _write(R, L, B, b2, m2)
                                _rebuild(R, L, A, D, dem, pos, rt, fw, bw, ld)
                                _rebuild(R, L, B, D, dem, pos, rt, fw, bw, ld)
                                done = True
                        else:
                            m1 = _append(b1, 0, R, A, 0, LA + 1, False)
                            b1[i] = v
                            b1[j] = u
                            if not has_tw or _seq_ok(b1, m1, T, tw, svc):
                                _write(R, L, A, b1, m1)
                                _rebuild(R, L, A, D, dem, pos, rt, fw, bw, ld)
                                done = True
                if done:
                    moves += 1
                    improved = True
                    continue
                if A != B:
                    # ---- 2-opt*: A[0..i] + B[j..], B[0..j-1] + A[i+1..]
                    an = R[A, i + 1]
                    bp = R[B, j - 1]
                    delta = -D[u, an] - D[bp, v] + D[u, v] + D[bp, an]
                    if delta < -TOL:
                        la = ld[A, i] + ld[B, LB + 1] - ld[B, j - 1]
                        lb = ld[B, j - 1] + ld[A, LA + 1] - ld[A, i]
                        if la <= cap + TWTOL and lb <= cap + TWTOL:
                            m1 = _append(b1, 0, R, A, 0, i, False)
                            m1 = _append(b1, m1, R, B, j, LB + 1, False)
                            m2 = _append(b2, 0, R, B, 0, j - 1, False)
                            m2 = _append(b2, m2, R, A, i + 1, LA + 1, False)
                            if not has_tw or (_seq_ok(b1, m1, T, tw, svc) and _seq_ok(b2, m2, T, tw, svc)):
                                _write(R, L, A, b1, m1)
                                _write(R, L, B, b2, m2)
                                _rebuild(R, L, A, D, dem, pos, rt, fw, bw, ld)
                                _rebuild(R, L, B, D, dem, pos, rt, fw, bw, ld)
                                done = True
                else:
                    # ---- 2-opt inside the route: reverse (lo+1..hi), new edge R[lo] -> R[hi]
                    lo = i if i < j else j
                    hi = j if i < j else i
                    if hi - lo >= 2:
                        p0 = R[A, lo]
                        p1 = R[A, lo + 1]
                        q0 = R[A, hi]
                        q1 = R[A, hi + 1]
                        delta = (
                            D[p0, q0]
                            + D[p1, q1]
                            - D[p0, p1]
                            - D[q0, q1]
                            + (bw[A, hi] - bw[A, lo + 1])
                            - (fw[A, hi] - fw[A, lo + 1])
                        )
                        if delta < -TOL:
                            m1 = _append(b1, 0, R, A, 0, lo, False)
                            m1 = _append(b1, m1, R, A, lo + 1, hi, True)
                            m1 = _append(b1, m1, R, A, hi + 1, LA + 1, False)
                            if not has_tw or _seq_ok(b1, m1, T, tw, svc):
                                _write(R, L, A, b1, m1)
                                _rebuild(R, L, A, D, dem, pos, rt, fw, bw, ld)
                                done = True
                if done:
                    moves += 1
                    improved = True
        if not improved:
            break
    return moves


@njit(nogil=True, cache=True)
def _savings(D, T, tw, svc, dem, cap, has_tw, K):
    """Clarke-Wright savings (asymmetric), merging while feasible; returns (R, L)."""
    n = D.shape[0]
    nxt = np.full(n, -1, np.int64)
    first = np.arange(n)  # route id -> first node (route ids are node ids)
    last = np.arange(n)
    rid = np.arange(n)
    load = dem.copy()
    alive = np.ones(n, np.bool_)
    alive[0] = False
    nroutes = n - 1
    m = (n - 1) * (n - 2)
    sv = np.empty(m, np.float64)
    pi = np.empty(m, np.int64)
    pj = np.empty(m, np.int64)
    q = 0
    for i in range(1, n):
        for j in range(1, n):
            if i != j:
                sv[q] = D[i, 0] + D[0, j] - D[i, j]
                pi[q] = i
                pj[q] = j
                q += 1
    order = np.argsort(-sv, kind="mergesort")
    buf = np.zeros(n + 2, np.int64)
    for oq in range(m):
        e = order[oq]
        if sv[e] <= 0 and nroutes <= K:
            break
        i = pi[e]
        j = pj[e]
        ri = rid[i]
        rj = rid[j]
        if ri == rj or last[ri] != i or first[rj] != j:
            continue
        if load[ri] + load[rj] > cap + TWTOL:
            continue
        if has_tw:
            mm = 1
            buf[0] = 0
            c = first[ri]
            while c != -1:
                buf[mm] = c
                mm += 1
                c = nxt[c]
            c = first[rj]
            while c != -1:
                buf[mm] = c
                mm += 1
                c = nxt[c]
            buf[mm] = 0
            mm += 1
            if not _seq_ok(buf, mm, T, tw, svc):
                continue
        nxt[i] = j
        c = j
        while c != -1:
            rid[c] = ri
            c = nxt[c]
        last[ri] = last[rj]
        load[ri] += load[rj]
        alive[rj] = False
        nroutes -= 1
    W = n + 2
    nr = 0
    for r in range(1, n):
        if alive[r]:
            nr += 1
    rows = nr if nr > K else K
    R = np.zeros((rows, W), np.int64)
    L = np.zeros(rows, np.int64)
    k = 0
    for r in range(1, n):
        if alive[r]:
            c = first[r]
            p = 1
            while c != -1:
                R[k, p] = c
                p += 1
                c = nxt[c]
            L[k] = p - 1
            k += 1
    return R, L


@njit(nogil=True, cache=True)
def _ruin_recreate(R, L, D, T, tw, svc, dem, cap, has_tw, neigh, nk, seed_node, q, rng_order):
    """Remove seed_node and up to q-1 of its neighbours; reinsert them cheapest-first.

    Returns False (routes untouched only if the caller keeps a copy) when a
    customer cannot be reinserted feasibly.
    """
    K, W = R.shape
    n = D.shape[0]
    removed = np.zeros(n, np.bool_)
    lst = np.zeros(q, np.int64)
    cnt = 0
    lst[cnt] = seed_node
    removed[seed_node] = True
    cnt += 1
    for vi in range(nk):
        if cnt >= q:
            break
        v = neigh[seed_node, rng_order[vi % rng_order.shape[0]] % nk]
        if not removed[v]:
            removed[v] = True
            lst[cnt] = v
            cnt += 1
    load = np.zeros(K, np.float64)
    for k in range(K):
        m = 1
        for p in range(1, L[k] + 1):
            c = R[k, p]
            if not removed[c]:
                R[k, m] = c
                m += 1
                load[k] += dem[c]
        R[k, m] = 0
        L[k] = m - 1
    buf = np.zeros(W + 2, np.int64)
    for t in range(cnt):
        if not _insert_cheapest(R, L, D, T, tw, svc, dem, cap, has_tw, load, buf, lst[t], True):
            return False
    return True


@njit(nogil=True, cache=True)
def _insert_cheapest(R, L, D, T, tw, svc, dem, cap, has_tw, load, buf, c, open_one):
    """Insert customer c at its cheapest feasible place; False when it fits nowhere.

    Used routes are tried, and with ``open_one`` also the first empty route.
    ``load`` (per route) is updated; ``buf`` is scratch of length >= W + 2.
    """
    K = R.shape[0]
    best = 1e300
    bk = -1
    bp = -1
    empty_done = not open_one
    for k in range(K):
        if L[k] == 0:
            if empty_done:
                continue
            empty_done = True
        if load[k] + dem[c] > cap + TWTOL:
            continue
        for p in range(L[k] + 1):
            a = R[k, p]
            b = R[k, p + 1]
            d = D[a, c] + D[c, b] - D[a, b]
            if d >= best:
                continue
            if has_tw:
                m = _append(buf, 0, R, k, 0, p, False)
                buf[m] = c
                m = _append(buf, m + 1, R, k, p + 1, L[k] + 1, False)
                if not _seq_ok(buf, m, T, tw, svc):
                    continue
            best = d
            bk = k
            bp = p
    if bk < 0:
        return False
    for p in range(L[bk] + 1, bp, -1):
        R[bk, p + 1] = R[bk, p]
    R[bk, bp + 1] = c
    L[bk] += 1
    load[bk] += dem[c]
    return True


@njit(nogil=True, cache=True)
def _eliminate(R, L, D, T, tw, svc, dem, cap, has_tw, kr, order):
    """Empty route kr: insert its customers (in ``order``) cheapest-feasible into the other used routes.

    Never opens a route. Returns False when a customer fits nowhere (the
    caller keeps a copy: R, L are then partly changed).
    """
    K, W = R.shape
    m = L[kr]
    lst = R[kr, 1 : m + 1].copy()
    L[kr] = 0
    R[kr, 1] = 0
    load = np.zeros(K, np.float64)
    for k in range(K):
        for p in range(1, L[k] + 1):
            load[k] += dem[R[k, p]]
    buf = np.zeros(W + 2, np.int64)
    for t in range(m):
        if not _insert_cheapest(R, L, D, T, tw, svc, dem, cap, has_tw, load, buf, lst[order[t]], False):
            return False
    return True


# --------------------------------------------------------------------------
# Python entry points
# --------------------------------------------------------------------------


def construct(data: LSData) -> tuple[np.ndarray, np.ndarray]:
    """Savings start; may use more routes than vehicles when none fits."""
    return _savings(data.D, data.T, data.tw, data.svc, data.dem, data.cap, data.has_tw, data.K)


def improve(
    data: LSData, R: np.ndarray, L: np.ndarray, rng: np.random.Generator, max_passes: int = 50
) -> int:
    """Descend to a local optimum in place; returns the number of moves made."""
    order = rng.permutation(np.arange(1, data.n)).astype(np.int64)
    return int(
        _ls(
            R,
            L,
            data.D,
            data.T,
            data.tw,
            data.svc,
            data.dem,
            data.cap,
            data.has_tw,
            data.neigh,
            data.nk,
            order,
            max_passes,
        )
    )


def cost(data: LSData, R: np.ndarray, L: np.ndarray) -> float:
    return float(routes_cost(R, L, data.D))


def perturb_and_improve(
    data: LSData, R: np.ndarray, L: np.ndarray, rng: np.random.Generator, q: int = 10
) -> tuple[np.ndarray, np.ndarray] | None:
    """A ruined-and-recreated, then improved, copy of (R, L); None if infeasible."""
    R2 = R.copy()
    L2 = L.copy()
    seed_node = int(rng.integers(1, data.n))
    order = rng.permutation(max(data.nk, 1)).astype(np.int64)
    q = int(min(q, data.n - 1))
    ok = _ruin_recreate(
        R2,
        L2,
        data.D,
        data.T,
        data.tw,
        data.svc,
        data.dem,
        data.cap,
        data.has_tw,
        data.neigh,
        data.nk,
        seed_node,
        q,
        order,
    )
    if not ok:
        return None
    improve(data, R2, L2, rng)
    return R2, L2


def compact(R: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Only the used routes: the local search and the ruin-and-recreate then cannot open new ones."""
    keep = L > 0
    return np.ascontiguousarray(R[keep]), np.ascontiguousarray(L[keep])


def minimise_vehicles(
    data: LSData, R: np.ndarray, L: np.ndarray, rng: np.random.Generator, tries: int = 3, rounds: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Route elimination: fewer routes first, distance second (:func:`minimise_vehicles_steps` to its end)."""
    steps = list(minimise_vehicles_steps(data, R, L, rng, tries, rounds))
    return steps[-1]


def minimise_vehicles_steps(
    data: LSData, R: np.ndarray, L: np.ndarray, rng: np.random.Generator, tries: int = 3, rounds: int = 30
):
    """Route elimination, one round per yield of the current (R, L); stop it whenever.

    Each round tries to empty a route (the shortest first) by inserting its
    customers cheapest-feasible into the other routes, ``tries`` insertion
    orders per route; when no route can be emptied, a few ruin-and-recreate
    steps that keep the route count reshape the routes for the next round.
    The yielded arrays are compacted (no empty rows), so the local search and
    the ruin-and-recreate cannot open routes again; they never hold more
    routes than the start and are improved by the local search.
    """
    R, L = compact(R, L)
    improve(data, R, L, rng)
    lower = int(np.ceil(float(data.dem.sum()) / data.cap - 1e-9)) if data.cap < 1e299 else 1
    yield R, L
    for _ in range(rounds):
        if len(L) <= max(1, lower):
            break
        done = False
        for k in np.argsort(L, kind="stable"):
            for _t in range(tries):
                R2, L2 = R.copy(), L.copy()
                order = rng.permutation(int(L[k])).astype(np.int64)
                ok = _eliminate(
                    R2, L2, data.D, data.T, data.tw, data.svc, data.dem, data.cap, data.has_tw, int(k), order
                )
                if ok:
                    R, L = compact(R2, L2)
                    improve(data, R, L, rng)
                    done = True
                    break
            if done:
                break
        if not done:  # no route could be emptied: shake the routes (same count) and try again
            for _s in range(5):
                out = perturb_and_improve(data, R, L, rng, q=max(3, min(15, data.n // 8)))
                if out is not None:
                    R, L = compact(*out)
        yield R, L
