"""numba kernel of the center-subspace optimisation (one compiled loop per random start).

The same Riemannian Polak-Ribiere conjugate gradient on the Grassmannian as
:func:`engines.geometry.mftma._grassmann_cg`, but each iteration costs a few
microseconds instead of the overhead of dozens of small numpy calls.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True)
def _cost_grad(X, C, V, want_grad):
    """Cost and Euclidean gradient, written as loops (no temporaries beyond P x P)."""
    P = X.shape[0]
    r = X.shape[1]
    K = V.shape[1]
    c = np.zeros((P, K))
    for i in range(P):
        for a in range(r):
            x = X[i, a]
            for k in range(K):
                c[i, k] += x * V[a, k]
    R = np.empty((P, P))
    for i in range(P):
        for j in range(i, P):
            s = C[i, j]
            for k in range(K):
                s -= c[i, k] * c[j, k]
            R[i, j] = s
            R[j, i] = s
    d = np.empty(P)
    for i in range(P):
        d[i] = max(R[i, i], 1e-300)
    cost = 0.0
    Bs = np.zeros(P)
    for i in range(P):
        for j in range(P):
            a = R[i, j] / (d[i] * d[j])
            R[i, j] = a  # R now holds A = R / (d d')
            Bs[i] += a * (C[i, j] - _dot_row(c, i, j, K))
    for i in range(P):
        cost += Bs[i]
    cost *= 0.5
    G = np.zeros((r, K))
    if want_grad:
        gc = np.zeros((P, K))
        for i in range(P):
            for j in range(P):
                a = R[i, j]
                for k in range(K):
                    gc[i, k] -= 2.0 * a * c[j, k]
            f = 2.0 * Bs[i] / d[i]
            for k in range(K):
                gc[i, k] += f * c[i, k]
        for i in range(P):
            for a in range(r):
                x = X[i, a]
                for k in range(K):
                    G[a, k] += x * gc[i, k]
    return cost, G


@njit(cache=True, nogil=True, inline="always")
def _dot_row(c, i, j, K):
    s = 0.0
    for k in range(K):
        s += c[i, k] * c[j, k]
    return s


@njit(cache=True, nogil=True)
def _orth1(W):
    Q = W.copy()
    r, K = Q.shape
    for _ in range(2):
        for k in range(K):
            for j in range(k):
                s = 0.0
                for i in range(r):
                    s += Q[i, j] * Q[i, k]
                for i in range(r):
                    Q[i, k] -= s * Q[i, j]
            n = 0.0
            for i in range(r):
                n += Q[i, k] * Q[i, k]
            n = max(np.sqrt(n), 1e-300)
            for i in range(r):
                Q[i, k] /= n
    return Q


@njit(cache=True, nogil=True)
def _tangent(V, G):
    """G - V (V' G), as loops (small matrices; quicker to compile than BLAS calls)."""
    r, K = V.shape
    VtG = np.zeros((K, K))
    for a in range(K):
        for b in range(K):
            s = 0.0
            for i in range(r):
                s += V[i, a] * G[i, b]
            VtG[a, b] = s
    out = G.copy()
    for i in range(r):
        for b in range(K):
            s = 0.0
            for a in range(K):
                s += V[i, a] * VtG[a, b]
            out[i, b] -= s
    return out


@njit(cache=True, nogil=True)
def _dot(A, B):
    s = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            s += A[i, j] * B[i, j]
    return s


@njit(cache=True, nogil=True)
def _cg_one(X, C, V0, max_iter, gtol):
    V = _orth1(V0)
    cost, g = _cost_grad(X, C, V, True)
    rg = _tangent(V, g)
    d = -rg
    gn0 = np.sqrt(_dot(rg, rg))
    alpha = 0.1 / max(gn0, 1e-300)
    cost0 = abs(cost) + 1.0
    steepest = True
    for _ in range(max_iter):
        gn = np.sqrt(_dot(rg, rg))
        if gn <= gtol * cost0:
            break
        slope = _dot(d, rg)
        if slope >= 0.0:
            d = -rg
            slope = -_dot(rg, rg)
        a1 = alpha
        V1 = _orth1(V + a1 * d)
        f1, _ = _cost_grad(X, C, V1, False)
        curv = (f1 - cost - slope * a1) / (a1 * a1)
        if curv > 0:
            a2 = -slope / (2.0 * curv)
        else:
            a2 = 4.0 * a1
        a2 = min(max(a2, 0.05 * a1), 20.0 * a1)
        V2 = _orth1(V + a2 * d)
        f2, _ = _cost_grad(X, C, V2, False)
        if f2 < f1:
            fb, ab, Vb = f2, a2, V2
        else:
            fb, ab, Vb = f1, a1, V1
        if not fb <= cost + 1e-4 * slope * ab:
            a = min(a1, a2)
            for _k in range(15):
                a *= 0.5
                Vt = _orth1(V + a * d)
                ft, _ = _cost_grad(X, C, Vt, False)
                if ft < fb:
                    fb, ab, Vb = ft, a, Vt
                if ft <= cost + 1e-4 * slope * a:
                    break
        if not fb < cost - 1e-15 * abs(cost):
            if steepest:
                break
            d = -rg  # the conjugate direction failed: retry along the gradient
            alpha = 0.1 / max(gn, 1e-300)
            steepest = True
            continue
        steepest = False
        alpha = ab
        cn, gnew = _cost_grad(X, C, Vb, True)
        rgn = _tangent(Vb, gnew)
        rgo_t = _tangent(Vb, rg)
        dold_t = _tangent(Vb, d)
        den = max(_dot(rg, rg), 1e-300)
        beta = max((_dot(rgn, rgn) - _dot(rgn, rgo_t)) / den, 0.0)
        d = -rgn + beta * dold_t
        V, cost, rg = Vb, cn, rgn
    return V


@njit(cache=True, nogil=True, parallel=False)
def grassmann_cg_batch(X, V0, max_iter, gtol):
    """Optimise every start V0[b] (B, r, K); returns the frames (B, r, K)."""
    P, r = X.shape
    C = np.empty((P, P))
    for i in range(P):
        for j in range(P):
            s = 0.0
            for a in range(r):
                s += X[i, a] * X[j, a]
            C[i, j] = s
    out = np.empty_like(V0)
    for b in prange(V0.shape[0]):
        out[b] = _cg_one(X, C, np.ascontiguousarray(V0[b]), max_iter, gtol)
    return out


# --------------------------------------------------------------------------
# non-negative least squares, one problem at a time (compiled)
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _spd_solve(A, rhs):
    """Solve A x = rhs for a symmetric positive (semi-)definite A by Cholesky (LDL' fallback-free).

    A tiny pivot is floored, so a singular block still gives a finite answer
    (the caller checks optimality and falls back to scipy when needed).
    """
    k = A.shape[0]
    L = np.zeros((k, k))
    for j in range(k):
        s = A[j, j]
        for p in range(j):
            s -= L[j, p] * L[j, p]
        floor = 1e-300 + 1e-14 * abs(A[j, j])
        L[j, j] = np.sqrt(s if s > floor else floor)
        for i in range(j + 1, k):
            t = A[i, j]
            for p in range(j):
                t -= L[i, p] * L[j, p]
            L[i, j] = t / L[j, j]
    y = np.empty(k)
    for i in range(k):
        t = rhs[i]
        for p in range(i):
            t -= L[i, p] * y[p]
        y[i] = t / L[i, i]
    x = np.empty(k)
    for i in range(k - 1, -1, -1):
        t = y[i]
        for p in range(i + 1, k):
            t -= L[p, i] * x[p]
        x[i] = t / L[i, i]
    return x


@njit(cache=True, nogil=True)
def _bpp_one(G, b, max_iter, tol, ridge, first):
    """Block principal pivoting (Kim & Park 2011) for min_z>=0 0.5 z'Gz - b'z.

    ``first``: an index to start the passive set with (-1: empty).
    """
    m = b.shape[0]
    F = np.zeros(m, dtype=np.bool_)
    if first >= 0:
        F[first] = True
    x = np.zeros(m)
    best = m + 1
    alpha = 3
    for _ in range(max_iter):
        k = 0
        for j in range(m):
            if F[j]:
                k += 1
        idx = np.empty(k, dtype=np.int64)
        k = 0
        for j in range(m):
            if F[j]:
                idx[k] = j
                k += 1
        x[:] = 0.0
        if k > 0:
            A = np.empty((k, k))
            rhs = np.empty(k)
            for a in range(k):
                rhs[a] = b[idx[a]]
                for c in range(k):
                    A[a, c] = G[idx[a], idx[c]]
                A[a, a] += ridge
            xf = _spd_solve(A, rhs)
            for a in range(k):
                x[idx[a]] = xf[a]
        y = np.empty(m)
        for i in range(m):
            acc = -b[i]
            for j in range(m):
                acc += G[i, j] * x[j]
            y[i] = acc
        n_inf = 0
        last = -1
        for j in range(m):
            bad = (F[j] and x[j] < -tol) or ((not F[j]) and y[j] < -tol)
            if bad:
                n_inf += 1
                last = j
        if n_inf == 0:
            for j in range(m):
                if x[j] < 0.0:
                    x[j] = 0.0
            return x, True
        if n_inf < best:
            best = n_inf
            alpha = 3
            full = True
        elif alpha > 0:
            alpha -= 1
            full = True
        else:
            full = False
        if full:
            for j in range(m):
                if (F[j] and x[j] < -tol) or ((not F[j]) and y[j] < -tol):
                    F[j] = not F[j]
        else:
            F[last] = not F[last]
    for j in range(m):
        if x[j] < 0.0:
            x[j] = 0.0
    return x, False


@njit(cache=True, nogil=True)
def nnls_grouped(G, B, group, first, max_iter, tol_rel):
    """Solve problem p: min_z>=0 0.5 z'G[group[p]]z - B[p]'z for every row of B.

    ``first[p]``: a variable likely to be positive (seeds the passive set), or -1.
    """
    n, m = B.shape
    Z = np.zeros((n, m))
    ok = np.zeros(n, dtype=np.bool_)
    for p in range(n):
        Gp = G[group[p]]
        tr = 0.0
        for j in range(m):
            tr += Gp[j, j]
        ridge = 1e-13 * max(tr / m, 1e-300)
        bmax = 0.0
        for j in range(m):
            bmax = max(bmax, abs(B[p, j]))
        z, good = _bpp_one(Gp, B[p], max_iter, tol_rel * (1.0 + bmax), ridge, first[p])
        Z[p] = z
        ok[p] = good
    return Z, ok
