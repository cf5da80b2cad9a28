"""Replica mean-field theoretic manifold analysis (MFTMA), vectorised.

After Chung, Lee & Sompolinsky, "Classification and geometry of general
perceptual manifolds", Phys. Rev. X 8, 031003 (2018), and Cohen, Chung, Lee &
Sompolinsky, Nat. Commun. 11, 746 (2020) for the removal of the low-rank
structure of the manifold centers.

The steps (the same as the reference implementation, written afresh):

1. remove the global mean of all samples;
2. find the low-rank subspace of the (centered) manifold centers whose removal
   makes the residual centers least correlated: for K = 1, 2, ... minimise the
   summed squared residual correlation over orthonormal K-frames (Riemannian
   conjugate gradient on the Grassmannian, all random starts at once), keep the
   start with the best "stability", and pick the K of least mean absolute
   residual correlation; project that subspace out of every sample;
3. normalise every manifold by the norm of its center and express it in an
   orthonormal basis of its own span, with the center as an extra coordinate 1;
4. for ``n_t`` Gaussian vectors t per manifold, find the anchor point s(t):
   the manifold point of largest projection when t is already beyond the
   margin, otherwise the normalised projection of t (+ kappa along the center
   coordinate) onto the cone spanned by the manifold's points, which is a
   non-negative least-squares problem. All of them are solved at once by a
   batched block-principal-pivoting active-set method (Kim & Park 2011);
5. capacity = 1 / mean[max(t.s + kappa, 0)^2 / |s|^2] (PRX eq. 16-17), radius
   and dimension from the spread of the anchor points (eq. 28-29).

Random draws: with the same ``seed`` the Gaussian numbers are drawn from
``numpy.random.RandomState(seed)`` in the order the reference draws them from
numpy's global generator after ``np.random.seed(seed)`` (two draws per random
start of the center optimisation, then ``n_t`` vectors per manifold), so the
two implementations see the same t vectors and agree to a few 1e-4.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from engines.base import check_cancelled

__all__ = [
    "MFTMAResult",
    "SimCapResult",
    "auto_threads",
    "check_manifolds",
    "kernel_threads",
    "manifold_analysis",
    "nnls_batch",
    "nnls_warm_start",
    "prepare_manifolds",
    "resolve_device",
    "separable_batch",
    "simulated_capacity",
]


# --------------------------------------------------------------------------
# threads
# --------------------------------------------------------------------------


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def auto_threads() -> int:
    """How many threads the kernels should use now.

    All usable cores on an idle machine; fewer as other processes keep them
    busy (one-minute load average, counting this process as one), down to a
    single thread. On a shared machine, numba's parallel loops and BLAS with
    more threads than free cores lose far more to oversubscription than they
    gain: a 2-core machine at load 8 ran the P = 20, M = 50, N = 2000 case
    about 10x slower with two threads than with one.
    """
    n = _cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover - not Unix
        return n
    return int(min(n, max(1, math.floor(n - load + 1.5))))


_controller = None


@contextlib.contextmanager
def kernel_threads(threads: int | None = None) -> Iterator[int]:
    """Run the block with ``threads`` numba and BLAS threads (None: :func:`auto_threads`)."""
    global _controller
    k = auto_threads() if threads is None else int(threads)
    if k < 1:
        raise ValueError(f"threads = {threads}: must be >= 1")
    k = min(k, _cores())
    stack = contextlib.ExitStack()
    with stack:
        try:
            import numba

            k_numba = min(k, numba.config.NUMBA_NUM_THREADS)
            before = numba.get_num_threads()
            numba.set_num_threads(k_numba)  # thread-local: other threads keep theirs
            stack.callback(numba.set_num_threads, before)
        except ImportError:  # pragma: no cover - numba is a dependency of the project
            pass
        try:
            from threadpoolctl import ThreadpoolController

            if _controller is None:
                _controller = ThreadpoolController()
            stack.enter_context(_controller.limit(limits=k, user_api="blas"))
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            pass
        yield k


# --------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------


def check_manifolds(manifolds: Sequence, *, min_p: int = 2) -> list[np.ndarray]:
    """Validate a list of P arrays of shape (M_i samples, N features).

    Raises ``ValueError`` naming the manifold and the problem (too few
    manifolds, not 2-D, empty, features that differ, NaN or infinite values).
    """
    if isinstance(manifolds, np.ndarray) and manifolds.ndim == 3:
        manifolds = list(manifolds)
    if not isinstance(manifolds, Sequence) or isinstance(manifolds, (str, bytes)):
        raise ValueError("manifolds: expected a list of (M_i, N) arrays or a P x M x N array")
    if len(manifolds) < min_p:
        raise ValueError(f"manifolds: need at least P = {min_p} manifolds, got {len(manifolds)}")
    out = []
    n_feat = None
    for i, m in enumerate(manifolds):
        with np.errstate(invalid="ignore"):  # a signalling NaN warns as it is cast; refused below
            a = np.asarray(m, dtype=np.float64)
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2:
            raise ValueError(f"manifold {i}: expected a 2-D (samples, features) array, got shape {a.shape}")
        if a.shape[0] == 0 or a.shape[1] == 0:
            raise ValueError(f"manifold {i}: empty (shape {a.shape})")
        if n_feat is None:
            n_feat = a.shape[1]
        elif a.shape[1] != n_feat:
            raise ValueError(
                f"manifold {i}: has {a.shape[1]} features, manifold 0 has {n_feat} (ragged feature axis)"
            )
        if not np.all(np.isfinite(a)):
            bad = int(np.sum(~np.isfinite(a)))
            raise ValueError(f"manifold {i}: {bad} NaN or infinite value(s)")
        out.append(a)
    return out


# --------------------------------------------------------------------------
# batched non-negative least squares
# --------------------------------------------------------------------------


def nnls_batch(
    G: np.ndarray,
    b: np.ndarray,
    *,
    z0: np.ndarray | None = None,
    max_iter: int = 200,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve min_z>=0 0.5 z'Gz - b'z for a batch of problems at once.

    ``G``: (B, m, m) positive semi-definite Gram matrices; ``b``: (B, m);
    ``z0``: optional approximate solution whose support seeds the passive
    set. Block principal pivoting (Kim & Park, SIAM J. Sci. Comput. 33, 2011)
    with its backup rule, vectorised over the batch: each sweep solves one
    masked linear system per unconverged problem. Returns (z, converged).
    """
    G = np.asarray(G, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    nb, m = b.shape
    scale = np.maximum(np.einsum("bii->b", G) / m, 1e-300)
    ridge = 1e-13 * scale
    tol_b = tol * (1.0 + np.abs(b).max(axis=1))
    z = np.zeros((nb, m))
    F = np.zeros((nb, m), dtype=bool) if z0 is None else np.asarray(z0) > 0  # passive set
    best = np.full(nb, m + 1)
    alpha = np.full(nb, 3)
    done = np.zeros(nb, dtype=bool)
    diag = np.arange(m)
    idx = np.arange(nb)
    for _ in range(max_iter):
        if idx.size == 0:
            break
        Gi, bi, Fi = G[idx], b[idx], F[idx]
        Ff = Fi.astype(np.float64)
        A = Gi * Ff[:, :, None]
        A *= Ff[:, None, :]
        A[:, diag, diag] += (1.0 - Ff) + ridge[idx, None]
        x = np.linalg.solve(A, (bi * Ff)[..., None])[..., 0]
        y = np.einsum("bij,bj->bi", Gi, x) - bi
        tb = tol_b[idx, None]
        infeas = (Fi & (x < -tb)) | (~Fi & (y < -tb))
        n_inf = infeas.sum(axis=1)
        z[idx] = np.where(Fi, np.maximum(x, 0.0), 0.0)
        ok = n_inf == 0
        done[idx[ok]] = True
        # pivoting for the others
        better = n_inf < best[idx]
        best_i = np.where(better, n_inf, best[idx])
        alpha_i = np.where(better, 3, alpha[idx])
        full = better | (alpha_i > 0)
        alpha_i = np.where(~better & (alpha_i > 0), alpha_i - 1, alpha_i)
        # backup rule: flip only the largest infeasible index
        last = m - 1 - np.argmax(infeas[:, ::-1], axis=1)
        single = np.zeros_like(infeas)
        single[np.arange(idx.size), last] = True
        flip = np.where(full[:, None], infeas, single & infeas)
        F[idx] = Fi ^ flip
        best[idx] = best_i
        alpha[idx] = alpha_i
        idx = idx[~ok]
    return z, done


def nnls_warm_start(G: np.ndarray, b: np.ndarray, n_iter: int = 60) -> np.ndarray:
    """Approximate NNLS solutions by accelerated projected gradient (FISTA).

    ``G``: (g, m, m) Gram matrices shared by the problems of a group; ``b``:
    (g, n, m). Cheap (one batched matrix product per iteration); its support
    seeds :func:`nnls_batch`, which then needs one or two exact sweeps.
    """
    L = np.linalg.eigvalsh(G)[:, -1]
    step = 1.0 / np.maximum(L, 1e-300)
    z = np.zeros_like(b)
    y = z
    tk = 1.0
    for _ in range(n_iter):
        grad = y @ G - b  # G symmetric
        zn = np.maximum(y - step[:, None, None] * grad, 0.0)
        tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * tk * tk))
        y = zn + ((tk - 1.0) / tn) * (zn - z)
        z, tk = zn, tn
    return z


def _nnls(
    G: np.ndarray, b: np.ndarray, group: np.ndarray, first: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """NNLS of problem p with Gram G[group[p]]: compiled per-problem pivoting, or the batched numpy one."""
    try:
        from engines.geometry._cg_kernel import nnls_grouped
    except ImportError:  # pragma: no cover - numba is a dependency of the project
        return nnls_batch(G[group], b)
    if first is None:
        first = np.full(len(b), -1, dtype=np.int64)
    return nnls_grouped(
        np.ascontiguousarray(G),
        np.ascontiguousarray(b),
        np.ascontiguousarray(group, dtype=np.int64),
        np.ascontiguousarray(first, dtype=np.int64),
        200,
        1e-12,
    )


def _nnls_fallback(S: np.ndarray, t: np.ndarray) -> np.ndarray:
    from scipy.optimize import nnls

    z, _ = nnls(S, t, maxiter=50 * S.shape[1])
    return z


# --------------------------------------------------------------------------
# center subspace
# --------------------------------------------------------------------------


def _mean_abs_corr(X: np.ndarray) -> float:
    """Mean absolute off-diagonal cosine similarity of the rows of X."""
    P = X.shape[0]
    nrm = np.sqrt(np.sum(X * X, axis=1))
    nrm = np.where(nrm > 0, nrm, 1.0)
    C = (X @ X.T) / np.outer(nrm, nrm)
    return float((np.sum(np.abs(C)) - np.trace(np.abs(C))) / (P * (P - 1)))


def _corr_cost_grad(X: np.ndarray, V: np.ndarray, grad: bool = True):
    """Summed squared residual correlation of the rows of X after removing span(V).

    X: (P, r); V: (..., r, K) orthonormal frames. Returns cost (...) and the
    Euclidean gradient (..., r, K).
    """
    C = X @ X.T
    c = X @ V  # (..., P, K)
    R = C - c @ np.swapaxes(c, -1, -2)
    d = np.diagonal(R, axis1=-2, axis2=-1)
    d = np.maximum(d, 1e-300)
    dd = d[..., :, None] * d[..., None, :]
    A = R / dd
    cost = 0.5 * np.sum(R * A, axis=(-2, -1))
    if not grad:
        return cost, None
    Bs = np.sum(R * A, axis=-1)  # (..., P)
    gc = -2.0 * (A @ c) + 2.0 * (Bs / d)[..., None] * c
    return cost, X.T @ gc


def _orth(W: np.ndarray) -> np.ndarray:
    """Orthonormalise the columns of a stack of frames (..., r, K).

    Modified Gram-Schmidt applied twice, vectorised over the stack (much
    cheaper than a batched QR for the small K used here).
    """
    Q = np.array(W, dtype=np.float64, copy=True)
    K = Q.shape[-1]
    for _ in range(2):
        for k in range(K):
            v = Q[..., k]
            for j in range(k):
                u = Q[..., j]
                v -= np.sum(u * v, axis=-1, keepdims=True) * u
            v /= np.maximum(np.sqrt(np.sum(v * v, axis=-1, keepdims=True)), 1e-300)
    return Q


def _grassmann_cg(X: np.ndarray, V0: np.ndarray, max_iter: int = 300, gtol: float = 1e-7) -> np.ndarray:
    """Minimise the residual-correlation cost from a batch of starts V0 (B, r, K).

    Riemannian Polak-Ribiere conjugate gradient with a Gram-Schmidt
    retraction, all starts at once. The line search interpolates a parabola
    through the cost, the slope and one trial step, and falls back to a
    batched grid of halvings when that does not decrease the cost.
    """
    V = _orth(V0)
    back = 2.0 ** -np.arange(1, 16, dtype=np.float64)
    cost, g = _corr_cost_grad(X, V)
    rg = g - V @ (np.swapaxes(V, -1, -2) @ g)
    d = -rg
    nb = V.shape[0]
    gn0 = np.sqrt(np.sum(rg * rg, axis=(-2, -1)))
    alpha = 0.1 / np.maximum(gn0, 1e-300)
    active = np.ones(nb, dtype=bool)
    cost0 = np.abs(cost) + 1.0

    def at(Va, da, a):  # a: (Ba, J)
        cand = _orth(Va[:, None] + a[:, :, None, None] * da[:, None])
        cc, _ = _corr_cost_grad(X, cand, grad=False)
        return cand, cc

    for _ in range(max_iter):
        check_cancelled()  # a job running this stops here when cancelled
        gn = np.sqrt(np.sum(rg * rg, axis=(-2, -1)))
        active &= gn > gtol * cost0
        if not active.any():
            break
        ia = np.nonzero(active)[0]
        Va, da, f0 = V[ia], d[ia], cost[ia]
        slope = np.sum(da * rg[ia], axis=(-2, -1))
        neg = slope >= 0  # not a descent direction: restart along -grad
        if neg.any():
            da = np.where(neg[:, None, None], -rg[ia], da)
            slope = np.where(neg, -np.sum(rg[ia] ** 2, axis=(-2, -1)), slope)
        a1 = alpha[ia]
        c1, f1 = at(Va, da, a1[:, None])
        curv = (f1[:, 0] - f0 - slope * a1) / (a1 * a1)
        a2 = np.where(curv > 0, -slope / (2.0 * np.maximum(curv, 1e-300)), 4.0 * a1)
        a2 = np.clip(a2, 0.05 * a1, 20.0 * a1)
        c2, f2 = at(Va, da, a2[:, None])
        use2 = f2[:, 0] < f1[:, 0]
        fb = np.where(use2, f2[:, 0], f1[:, 0])
        ab = np.where(use2, a2, a1)
        Vb = np.where(use2[:, None, None], c2[:, 0], c1[:, 0])
        armijo = fb <= f0 + 1e-4 * slope * ab
        if not armijo.all():  # backtrack on a grid for those
            ib = np.nonzero(~armijo)[0]
            ag = np.minimum(a1[ib], a2[ib])[:, None] * back[None, :]
            cg, fg = at(Va[ib], da[ib], ag)
            j = np.argmin(fg, axis=1)
            fb[ib] = fg[np.arange(ib.size), j]
            ab[ib] = ag[np.arange(ib.size), j]
            Vb[ib] = cg[np.arange(ib.size), j]
        improved = fb < f0 - 1e-15 * np.abs(f0)
        # stop the starts that cannot decrease any more
        active[ia[~improved]] = False
        ii = ia[improved]
        if ii.size == 0:
            break
        Vn = Vb[improved]
        alpha[ii] = ab[improved]
        cn, gnew = _corr_cost_grad(X, Vn)
        rgn = gnew - Vn @ (np.swapaxes(Vn, -1, -2) @ gnew)
        rgo = rg[ii]
        # transport the old gradient and direction by projection
        VnT = np.swapaxes(Vn, -1, -2)
        rgo_t = rgo - Vn @ (VnT @ rgo)
        dold_t = da[improved] - Vn @ (VnT @ da[improved])
        beta = np.sum(rgn * (rgn - rgo_t), axis=(-2, -1)) / np.maximum(
            np.sum(rgo * rgo, axis=(-2, -1)), 1e-300
        )
        beta = np.maximum(beta, 0.0)
        d[ii] = -rgn + beta[:, None, None] * dold_t
        V[ii], cost[ii], rg[ii] = Vn, cn, rgn
    return V


def _optimise_frames(
    X: np.ndarray, starts: np.ndarray, gtol: float = 1e-7, max_iter: int = 1000
) -> np.ndarray:
    """The compiled per-start optimiser (numba), or the vectorised numpy one without numba."""
    try:
        from engines.geometry._cg_kernel import grassmann_cg_batch
    except ImportError:  # pragma: no cover - numba is a dependency of the project
        return _grassmann_cg(X, starts, max_iter=min(max_iter, 300), gtol=gtol)
    return grassmann_cg_batch(np.ascontiguousarray(X), np.ascontiguousarray(starts), max_iter, gtol)


#: the search over K optimises loosely; the chosen K is then polished from the same starts
EXPLORE_GTOL = 1e-4


@dataclass(frozen=True)
class _CenterFit:
    basis: np.ndarray  # (N, K) orthonormal, the removed center subspace
    K: int
    center_correlation: float  # before removal
    residual_correlations: tuple[float, ...]  # for K = 1, 2, ...


def _center_subspace(centers: np.ndarray, rng: np.random.RandomState, n_reps: int = 10) -> _CenterFit:
    """centers: (P, N). The low-rank center structure to project out."""
    P, N = centers.shape
    Xb = centers - centers.mean(axis=0, keepdims=True)
    r = min(P - 1, N)
    q, _ = np.linalg.qr(Xb.T)  # (N, min(N, P))
    q = q[:, :r]
    X = Xb @ q  # (P, r)
    corr0 = _mean_abs_corr(X)
    sv = np.linalg.svd(Xb, compute_uv=False)
    tot = np.cumsum(sv**2) / max(np.sum(sv**2), 1e-300)
    below = np.nonzero(tot < 0.95)[0]
    max_k = (int(below[-1]) if below.size else 0) + 11
    max_k = min(max_k, r - 1)
    if max_k < 1 or not np.any(Xb):
        return _CenterFit(np.zeros((N, 0)), 0, corr0, ())
    res: list[float] = []
    frames: list[np.ndarray] = []
    xn = np.sqrt(np.sum(X * X, axis=1))
    xn = np.where(xn > 0, xn, 1.0)
    all_starts: list[np.ndarray] = []

    def most_stable(V: np.ndarray) -> np.ndarray:
        X0 = X[None] - (X @ V) @ np.swapaxes(V, -1, -2)
        stability = np.min(np.sqrt(np.sum(X0 * X0, axis=-1)) / xn, axis=-1)
        return V[int(np.argmax(stability))]

    for k in range(1, max_k + 1):
        starts = np.empty((n_reps, r, k))
        for j in range(n_reps):
            rng.standard_normal((P, 1))  # the reference draws (and ignores) this start
            starts[j] = rng.standard_normal((r, k))
        all_starts.append(starts)
        best = most_stable(_optimise_frames(X, starts.copy(), gtol=EXPLORE_GTOL))
        frames.append(best)
        res.append(_mean_abs_corr(X - X @ best @ best.T))
        if k > 4 and res[-1] > res[-2] > res[-3] > res[-4]:
            break
    kk = int(np.argmin(res)) + 1
    best = most_stable(_optimise_frames(X, all_starts[kk - 1]))
    res[kk - 1] = _mean_abs_corr(X - X @ best @ best.T)
    return _CenterFit(q @ best, kk, corr0, tuple(res))


# --------------------------------------------------------------------------
# analysis
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MFTMAResult:
    """Per-manifold capacity, radius and dimension with their averages."""

    capacity: np.ndarray  # (P,) alpha_M per manifold
    radius: np.ndarray  # (P,) R_M
    dimension: np.ndarray  # (P,) D_M
    center_correlation: float  # mean |corr| of the centers before removal
    K: int  # rank of the removed center subspace
    kappa: float
    n_t: int

    @property
    def capacity_mean(self) -> float:
        return float(1.0 / np.mean(1.0 / self.capacity))

    @property
    def radius_mean(self) -> float:
        return float(np.mean(self.radius))

    @property
    def dimension_mean(self) -> float:
        return float(np.mean(self.dimension))

    def to_dict(self) -> dict:
        return {
            "capacity": self.capacity_mean,
            "radius": self.radius_mean,
            "dimension": self.dimension_mean,
            "center_correlation": self.center_correlation,
            "K": self.K,
            "kappa": self.kappa,
            "n_t": self.n_t,
            "capacity_per_manifold": self.capacity.tolist(),
            "radius_per_manifold": self.radius.tolist(),
            "dimension_per_manifold": self.dimension.tolist(),
        }


def prepare_manifolds(
    manifolds: Sequence, rng: np.random.RandomState, n_reps: int = 10
) -> tuple[list[np.ndarray], list[np.ndarray], _CenterFit]:
    """Steps 1-3: returns (normalised deviations (N, M_i), unit centers (N,), fit).

    Each manifold i is c_i + S_i where c_i is its center after global mean and
    center-subspace removal and S_i its deviations, both divided by |c_i|.
    """
    data, origin, fit = _center_stage(manifolds, rng, n_reps)
    devs, units = _normalise(data, origin, fit.basis)
    return devs, units, fit


def _center_stage(manifolds: Sequence, rng: np.random.RandomState, n_reps: int):
    """Steps 1-2: checked data, the global mean and the center subspace to remove."""
    data = check_manifolds(manifolds)
    allx = np.concatenate(data, axis=0)
    origin = allx.mean(axis=0)
    centers = np.stack([d.mean(axis=0) for d in data])  # (P, N)
    fit = _center_subspace(centers, rng, n_reps=n_reps)
    return data, origin, fit


def _normalise(data: list[np.ndarray], origin: np.ndarray, V: np.ndarray):
    """Step 3 in numpy: per manifold (deviations / |center|, center / |center|)."""
    devs, units = [], []
    for i, d in enumerate(data):
        x = (d - origin).T  # (N, M)
        if V.shape[1]:
            x = x - V @ (V.T @ x)
        c = x.mean(axis=1)
        cn = np.linalg.norm(c)
        if not cn > 1e-12 * max(1.0, np.abs(x).max()):
            raise ValueError(
                f"manifold {i}: its center vanishes after removing the global mean and the "
                "center subspace (identical or collinear manifolds?)"
            )
        devs.append((x - c[:, None]) / cn)
        units.append(c / cn)
    return devs, units


def manifold_analysis(
    manifolds: Sequence,
    kappa: float = 0.0,
    n_t: int = 200,
    seed: int = 0,
    *,
    n_reps: int = 10,
    threads: int | None = None,
    device: str | None = "auto",
) -> MFTMAResult:
    """Mean-field theoretic manifold analysis of P manifolds.

    ``manifolds``: a list of P arrays of shape (M_i samples, N features) (or a
    P x M x N array). ``kappa``: margin (>= 0). ``n_t``: Gaussian vectors per
    manifold. ``threads``: numba and BLAS threads (None: as many as there are
    free cores now, see :func:`auto_threads`). ``device``: where the steps
    that grow with N run (see :func:`resolve_device`; by default a CUDA GPU
    for large data when there is one). Returns a :class:`MFTMAResult`.
    """
    with kernel_threads(threads):
        return _manifold_analysis(manifolds, kappa, n_t, seed, n_reps, device)


#: below this many numbers (sum of M_i x N) the numpy path is faster than moving data to a GPU
GPU_MIN_SIZE = 2_000_000


def resolve_device(device: str | None, size: int) -> str | None:
    """The torch device for the steps that scale with N (None: numpy on the CPU).

    ``device``: "auto" (a CUDA GPU when torch sees one and the data has at
    least :data:`GPU_MIN_SIZE` numbers), "numpy", or a torch device name such
    as "cuda", "cuda:1" or "cpu" (torch on the CPU, which the tests use to
    check the torch path against the numpy one).
    """
    if device in (None, "numpy"):
        return None
    if device == "auto":
        if size < GPU_MIN_SIZE:
            return None
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is a dependency of the project
            return None
        return "cuda" if torch.cuda.is_available() else None
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device = {device!r}: not a torch device (auto, numpy, cpu, cuda, cuda:N)") from e
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device = {device!r}: torch sees no CUDA GPU here")
    return str(dev)


def _reduce_torch(data: list[np.ndarray], origin: np.ndarray, V: np.ndarray, device: str) -> list[np.ndarray]:
    """Step 3 and the reduction to each manifold's span, in torch on ``device``.

    The same arithmetic as the numpy path (float64, Householder QR), one
    batched QR per sample count; only the small (min(M, N), M) factors come back.
    """
    import torch

    dev = torch.device(device)
    o = torch.as_tensor(origin, device=dev)
    Vt = torch.as_tensor(V, device=dev)
    out: list[np.ndarray | None] = [None] * len(data)
    by_m: dict[int, list[int]] = {}
    for i, d in enumerate(data):
        by_m.setdefault(d.shape[0], []).append(i)
    for m, ids in by_m.items():
        x = torch.as_tensor(np.stack([data[i] for i in ids]), device=dev) - o  # (g, M, N)
        x = x.transpose(1, 2)  # (g, N, M)
        if Vt.shape[1]:
            x = x - Vt @ (Vt.T @ x)
        c = x.mean(dim=2, keepdim=True)
        cn = torch.linalg.vector_norm(c, dim=1, keepdim=True)  # (g, 1, 1)
        scale = torch.clamp(x.abs().amax(dim=(1, 2), keepdim=True), min=1.0)
        small = (~(cn > 1e-12 * scale)).flatten()
        if bool(small.any()):
            i = ids[int(torch.nonzero(small)[0])]
            raise ValueError(
                f"manifold {i}: its center vanishes after removing the global mean and the "
                "center subspace (identical or collinear manifolds?)"
            )
        devs = (x - c) / cn
        if devs.shape[1] > m:
            devs = torch.triu(torch.linalg.qr(devs, mode="r")[1])
        devs = devs.cpu().numpy()
        for k, i in enumerate(ids):
            out[i] = devs[k]
    return out  # type: ignore[return-value]


def _manifold_analysis(manifolds, kappa, n_t, seed, n_reps, device=None) -> MFTMAResult:
    kappa = float(kappa)
    if not np.isfinite(kappa) or kappa < 0:
        raise ValueError(f"kappa = {kappa}: must be a finite number >= 0")
    n_t = int(n_t)
    if n_t < 2:
        raise ValueError(f"n_t = {n_t}: need at least 2 Gaussian samples")
    rng = np.random.RandomState(int(seed))
    data, origin, fit = _center_stage(manifolds, rng, n_reps)
    check_cancelled()
    P = len(data)
    dev = resolve_device(device, sum(d.size for d in data))
    if dev is not None:
        reduced = _reduce_torch(data, origin, fit.basis, dev)
    else:
        devs, _ = _normalise(data, origin, fit.basis)
        del data
        # reduce each manifold to the span of its points (with a center coordinate 1)
        reduced = list(devs)
        by_m: dict[int, list[int]] = {}
        for i, x in enumerate(devs):
            if x.shape[0] > x.shape[1]:
                by_m.setdefault(x.shape[1], []).append(i)
        for ids in by_m.values():  # one batched Householder QR per sample count
            rs = np.linalg.qr(np.stack([devs[i] for i in ids]), mode="r")
            for i, r in zip(ids, rs):
                reduced[i] = np.triu(r)
    sd1, tvecs = [], []
    for x in reduced:
        D, m = x.shape
        sd1.append(np.vstack([x, np.ones((1, m))]))
        tvecs.append(rng.standard_normal((D + 1, n_t)))
    cap = np.empty(P)
    rad = np.empty(P)
    dim = np.empty(P)
    # group manifolds of equal shape and analyse each group in one batch
    groups: dict[tuple[int, int], list[int]] = {}
    for i, s in enumerate(sd1):
        groups.setdefault(s.shape, []).append(i)
    for ids in groups.values():
        check_cancelled()
        S = np.stack([sd1[i] for i in ids])  # (g, D1, m)
        T = np.stack([tvecs[i] for i in ids])  # (g, D1, n_t)
        a, r_, d_ = _anchor_geometry(S, T, kappa)
        cap[ids], rad[ids], dim[ids] = a, r_, d_
    return MFTMAResult(cap, rad, dim, float(fit.center_correlation), int(fit.K), kappa, n_t)


def _anchor_geometry(S: np.ndarray, T: np.ndarray, kappa: float):
    """Capacity, radius, dimension of g manifolds S (g, D1, m) from t vectors T (g, D1, n_t)."""
    D1 = S.shape[1]
    D = D1 - 1
    # point of largest projection (ignoring the center coordinate)
    proj = np.einsum("gdt,gdm->gtm", T[:, :D], S[:, :D])
    jmax = np.argmax(proj, axis=2)  # (g, n_t)
    s0 = np.take_along_axis(S[:, :, None, :], jmax[:, None, :, None], axis=3)[..., 0]  # (g, D1, n_t)
    gg = np.sum(T * s0, axis=1)  # (g, n_t)
    need = gg + kappa >= 0
    s_all = s0.copy()
    if need.any():
        gi, ti = np.nonzero(need)
        Tp = T.copy()
        Tp[:, -1] += kappa  # t' = t + kappa e_center
        St = np.swapaxes(S, 1, 2)
        Gm = St @ S  # (g, m, m)
        bb = (St @ Tp)[gi, :, ti]  # (B, m)
        z, ok = _nnls(Gm, bb, gi, jmax[gi, ti])  # the touching point seeds the active set
        for k in np.nonzero(~ok)[0]:  # rare: exact active-set fallback
            z[k] = _nnls_fallback(S[gi[k]], Tp[gi[k], :, ti[k]])
        Zf = np.zeros((S.shape[0], S.shape[2], T.shape[2]))
        Zf[gi, :, ti] = z
        w = (S @ Zf)[gi, :, ti]  # projection of t' onto the cone = t - v
        moved = np.sqrt(np.sum(w * w, axis=1)) >= 1e-8
        sf = np.where(moved[:, None], w / np.where(moved, w[:, -1], 1.0)[:, None], s0[gi, :, ti])
        s_all[gi, :, ti] = sf
    # capacity (PRX 2018 eq. 16-17)
    hts = np.maximum(np.sum(T * s_all, axis=1) + kappa, 0.0)
    ssq = np.sum(s_all * s_all, axis=1)
    slam = np.where(ssq > 0, hts**2 / np.where(ssq > 0, ssq, 1.0), 0.0)
    with np.errstate(divide="ignore"):
        cap = 1.0 / np.mean(slam, axis=1)
    # radius (eq. 28)
    ds = (s_all - s_all.mean(axis=2, keepdims=True))[:, :-1] / s_all[:, -1:, :]
    rad = np.sqrt(np.mean(np.sum(ds * ds, axis=1), axis=1))
    # dimension (eq. 29)
    th = T[:, :D] / np.sqrt(np.sum(T[:, :D] ** 2, axis=1, keepdims=True))
    sh = s_all[:, :D] / np.sqrt(np.sum(s_all[:, :D] ** 2, axis=1, keepdims=True) + 1e-12)
    dim = D * np.mean(np.sum(th * sh, axis=1), axis=1) ** 2
    return cap, rad, dim


# --------------------------------------------------------------------------
# simulated capacity
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SimCapResult:
    """Capacity from linear separability of random dichotomies."""

    capacity: float  # P / N_c
    n_critical: float  # projected dimension where half the dichotomies separate
    dims: np.ndarray  # projected dimensions tried
    fractions: np.ndarray  # fraction of separable dichotomies among those tested at each


def _separable(points: np.ndarray, labels: np.ndarray) -> bool:
    """Is there w with y_i w.x_i > 0 for every point (hyperplane through the origin)?

    An exact linear programme (HiGHS); used as the fallback of
    :func:`separable_batch` and to check it.
    """
    from scipy.optimize import linprog

    A = -(labels[:, None] * points)
    n = points.shape[1]
    res = linprog(
        np.zeros(n),
        A_ub=A,
        b_ub=-np.ones(len(points)),
        bounds=[(None, None)] * n,
        method="highs",
    )
    return res.status == 0


def separable_batch(
    points: np.ndarray, labels: np.ndarray, max_iter: int | None = None, margin: float = 0.0
) -> np.ndarray:
    """Linear separability through the origin of many labellings of the same points.

    ``points``: (n_pts, n); ``labels``: (n_dich, n_pts) of +/-1. With
    ``margin`` = 0 a labelling is separable when some w has y_k w.x_k > 0 for
    every point; with ``margin`` > 0 when some unit w has y_k w.x_k >= margin.

    Minimises 0.5 lam |w|^2 + 0.5 sum max(0, 1 - y_k w.x_k)^2 for every
    labelling at once by Newton's method (the loss is piecewise quadratic, so
    it ends in a few steps), with a vanishing ridge lam. At margin 0 a
    solution with y_k w.x_k > 0 for every point is a certificate, and no w can
    do that for an inseparable labelling. At margin > 0 the minimiser tends to
    the hard-margin separator; it brackets the largest margin gamma between
    min_k y_k w.x_k / |w| (attained by w) and |Z r| / sum(r) (r: the hinge
    residuals; for any r >= 0, gamma <= |Z r| / sum(r) with Z the columns
    y_k x_k), and both bounds meet as lam -> 0. Problems that do not settle
    fall back to an exact solver (a linear programme; at margin > 0 the
    hard-margin quadratic programme).
    """
    X = np.asarray(points, dtype=np.float64)
    Y = np.asarray(labels, dtype=np.float64)
    margin = float(margin)
    if not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin = {margin}: must be a finite number >= 0")
    if margin > 0:
        return _separable_with_margin(X, Y, margin, max_iter or 40)
    n_d, _ = Y.shape
    n = X.shape[1]
    if max_iter is None:
        max_iter = 60
    lam = 1e-10 * max(np.trace(X.T @ X) / n, 1e-300)
    w = np.zeros((n_d, n))
    alphas = 2.0 ** -np.arange(0, 12)
    converged = np.zeros(n_d, dtype=bool)
    eye = np.eye(n)
    prev_act = None
    for _ in range(max_iter):
        m = Y * (w @ X.T)  # margins (n_d, n_pts)
        act = m < 1.0
        r = np.where(act, 1.0 - m, 0.0)
        g = lam * w - (Y * r) @ X
        gn = np.sqrt(np.sum(g * g, axis=1))
        conv = gn <= 1e-9 * (1.0 + np.sqrt(np.sum(((Y * act) @ X) ** 2, axis=1)))
        if prev_act is not None:
            conv |= (act == prev_act).all(axis=1) & (gn <= 1e-6)
        conv |= m.min(axis=1) > 0  # a strict separator is a certificate
        converged |= conv
        if converged.all():
            break
        prev_act = act
        H = np.swapaxes(act[:, :, None] * X[None], 1, 2) @ X + lam * eye
        d = -np.linalg.solve(H, g[..., None])[..., 0]
        md = Y * (d @ X.T)
        # exact-enough line search on a grid of halvings
        mm = m[:, None, :] + alphas[None, :, None] * md[:, None, :]
        wn = w[:, None, :] + alphas[None, :, None] * d[:, None, :]
        f = 0.5 * lam * np.sum(wn * wn, axis=2) + 0.5 * np.sum(np.maximum(1.0 - mm, 0.0) ** 2, axis=2)
        j = np.argmin(f, axis=1)
        step = np.where(converged, 0.0, alphas[j])
        w = w + step[:, None] * d
    margins = Y * (w @ X.T)
    sep = margins.min(axis=1) > 0
    for k in np.nonzero(~converged & ~sep)[0]:
        sep[k] = _separable(X, Y[k])
    return sep


def _separable_with_margin(X: np.ndarray, Y: np.ndarray, margin: float, max_iter: int) -> np.ndarray:
    """separable_batch at margin > 0: Newton on the ridge-regularised squared hinge.

    The ridge lam is lowered by decades from a large value (warm starts),
    since every iterate at every lam brackets the largest margin (see
    :func:`_margin_bounds`); a labelling is settled as soon as a bound
    crosses ``margin``, mostly at a large lam where Newton ends in a few
    steps. The few left at the smallest lam go to the exact solver.
    """
    n_d = Y.shape[0]
    n = X.shape[1]
    scale = max(np.trace(X.T @ X) / n, 1e-300)
    w = np.zeros((n_d, n))
    out = np.zeros(n_d, dtype=bool)
    todo = np.ones(n_d, dtype=bool)
    alphas = 2.0 ** -np.arange(0, 12)
    eye = np.eye(n)
    for lam in scale * 10.0 ** -np.arange(1, 11):
        for _ in range(max_iter):
            idx = np.nonzero(todo)[0]
            if not idx.size:
                return out
            wi, Yi = w[idx], Y[idx]
            m = Yi * (wi @ X.T)
            act = m < 1.0
            r = np.where(act, 1.0 - m, 0.0)
            lo, hi = _margin_bounds(wi, m, r, Yi, X)
            out[idx[lo >= margin]] = True
            settled = (lo >= margin) | (hi < margin)
            todo[idx[settled]] = False
            g = lam * wi - (Yi * r) @ X
            gn = np.sqrt(np.sum(g * g, axis=1))
            stat = gn <= 1e-10 * (1.0 + np.sqrt(np.sum(((Yi * act) @ X) ** 2, axis=1)))
            keep = ~settled & ~stat
            if not keep.any():
                break
            idx, wi, Yi, m, act, g = idx[keep], wi[keep], Yi[keep], m[keep], act[keep], g[keep]
            H = np.swapaxes(act[:, :, None] * X[None], 1, 2) @ X + lam * eye
            d = -np.linalg.solve(H, g[..., None])[..., 0]
            md = Yi * (d @ X.T)
            mm = m[:, None, :] + alphas[None, :, None] * md[:, None, :]
            wn = wi[:, None, :] + alphas[None, :, None] * d[:, None, :]
            f = 0.5 * lam * np.sum(wn * wn, axis=2) + 0.5 * np.sum(np.maximum(1.0 - mm, 0.0) ** 2, axis=2)
            w[idx] = wi + alphas[np.argmin(f, axis=1)][:, None] * d
    for k in np.nonzero(todo)[0]:
        out[k] = _max_margin(X, Y[k]) >= margin
    return out


def _margin_bounds(w, margins, r, Y, X):
    """Lower and upper bounds on the largest margin of each labelling (see separable_batch)."""
    wn = np.sqrt(np.sum(w * w, axis=1))
    lower = np.where(wn > 0, margins.min(axis=1) / np.where(wn > 0, wn, 1.0), -np.inf)
    zr = (Y * r) @ X
    rs = r.sum(axis=1)
    upper = np.where(rs > 0, np.sqrt(np.sum(zr * zr, axis=1)) / np.where(rs > 0, rs, 1.0), np.inf)
    return lower, upper


def _max_margin(points: np.ndarray, labels: np.ndarray) -> float:
    """The largest margin max_{|w|=1} min_k y_k w.x_k of one labelling (<= 0 when inseparable).

    Exact: inseparable by the linear programme, else the hard-margin SVM
    through the origin (min |w|^2 with y_k w.x_k >= 1, SLSQP), gamma = 1/|w|.
    """
    if not _separable(points, labels):
        return 0.0
    from scipy.optimize import minimize

    Z = labels[:, None] * points
    n = points.shape[1]
    w0 = np.linalg.lstsq(Z, np.ones(len(Z)), rcond=None)[0]
    scale = 1.0 / max(np.min(Z @ w0), 1e-12) if np.min(Z @ w0) > 0 else 1.0
    res = minimize(
        lambda w: 0.5 * w @ w,
        w0 * scale,
        jac=lambda w: w,
        constraints=[{"type": "ineq", "fun": lambda w: Z @ w - 1.0, "jac": lambda w: Z}],
        method="SLSQP",
        options={"maxiter": 500, "ftol": 1e-12},
    )
    w = res.x
    return float(np.min(Z @ w) / max(np.linalg.norm(w), 1e-300)) if n else 0.0


def simulated_capacity(
    manifolds: Sequence,
    n_dichotomies: int = 40,
    seed: int = 0,
    *,
    kappa: float = 0.0,
    n_reps: int = 10,
    preprocess: bool = True,
    threads: int | None = None,
) -> SimCapResult:
    """Capacity of P manifolds measured by simulation, at margin ``kappa``.

    The manifolds are first put in the form the mean-field theory describes
    (global mean and center subspace removed, each scaled by its center
    norm) unless ``preprocess`` is False. They are then projected on random
    subspaces of dimension n (orthonormal frames scaled by sqrt(N / n), so
    norms and isotropy are kept); for each n, ``n_dichotomies`` random +/-1 labellings of the
    manifolds are tested for linear separability by a hyperplane through the
    origin with margin kappa in the units of the theory: y w.x >= kappa for
    |w|^2 = n, that is a normalised margin of kappa / sqrt(n) (for single
    points this is Gardner's problem). Bisection on n finds N_c, where half of
    the dichotomies are separable; capacity = P / N_c.
    """
    with kernel_threads(threads):
        return _simulated_capacity(manifolds, n_dichotomies, seed, kappa, n_reps, preprocess)


def _random_frame(rng: np.random.RandomState, N: int, n: int) -> np.ndarray:
    """A uniformly random orthonormal (N, n) frame (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((N, n)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def _simulated_capacity(manifolds, n_dichotomies, seed, kappa, n_reps, preprocess) -> SimCapResult:
    kappa = float(kappa)
    if not np.isfinite(kappa) or kappa < 0:
        raise ValueError(f"kappa = {kappa}: must be a finite number >= 0")
    rng = np.random.RandomState(int(seed))
    if preprocess:
        devs, units, _ = prepare_manifolds(manifolds, rng, n_reps=n_reps)
        pts = [(d + u[:, None]).T for d, u in zip(devs, units)]
    else:
        pts = check_manifolds(manifolds)
    P = len(pts)
    X = np.concatenate(pts, axis=0)
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(pts)])
    N = X.shape[1]
    n_dichotomies = int(n_dichotomies)
    if n_dichotomies < 1:
        raise ValueError(f"n_dichotomies = {n_dichotomies}: must be >= 1")
    labels = rng.choice([-1.0, 1.0], size=(n_dichotomies, P))
    results: dict[int, np.ndarray] = {}

    def frac(n: int) -> float:
        check_cancelled()
        if n not in results:
            r = np.random.RandomState((int(seed) * 1_000_003 + n) % 2**32)
            # an orthonormal random n-frame scaled by sqrt(N / n): isotropic points keep
            # their norm and stay isotropic (a Gaussian matrix would make them
            # anisotropic when n is comparable to N, which lowers capacity at kappa > 0)
            Y = X @ (_random_frame(r, N, n) * np.sqrt(N / n))
            results[n] = separable_batch(Y, labels[:, owner], margin=kappa / np.sqrt(n))
        return float(np.mean(results[n]))

    def test(n: int) -> bool:
        return frac(n) >= 0.5

    lo, hi = 1, N
    if not test(hi):
        raise ValueError("simulated capacity: the manifolds are not separable even in the full space")
    if test(lo):
        hi = lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if test(mid):
            hi = mid
        else:
            lo = mid
    # interpolate the crossing of 1/2 between lo and hi
    flo, fhi = frac(lo), frac(hi)
    nc = float(hi) if fhi <= flo else lo + (0.5 - flo) / (fhi - flo) * (hi - lo)
    nc = max(nc, 1.0)
    dims = np.array(sorted(results))
    fr = np.array([np.mean(results[d]) for d in dims])
    return SimCapResult(P / nc, nc, dims, fr)
