"""Mean-field theoretic manifold analysis: reference values, theory, simulation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import nnls as scipy_nnls
from scipy.stats import norm

from engines.geometry import manifold_analysis, simulated_capacity
from engines.geometry.mftma import (
    _anchor_geometry,
    _corr_cost_grad,
    _orth,
    _separable,
    nnls_batch,
    nnls_warm_start,
    separable_batch,
)
from engines.paths import shared_data

GOLDEN = shared_data("geometry", "golden.json")
GOLDEN_ALT = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "geometry" / "golden.json"


def _golden() -> dict | None:
    for p in (GOLDEN, GOLDEN_ALT):
        if p.exists():
            return json.loads(p.read_text())
    return None


def gauss(P, M, N, seed):
    """The README's recipe, transposed to (samples, features)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((N, M)).T for _ in range(P)]


CASES = {
    "gauss_P20_M50_N2000_s0": (lambda: gauss(20, 50, 2000, 0), 0.0),
    "points_P20_M1_N500_s1": (lambda: gauss(20, 1, 500, 1), 0.0),
    "points_P20_M1_N500_s2_kappa0.5": (lambda: gauss(20, 1, 500, 2), 0.5),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference_golden_values(case):
    golden = _golden()
    if golden is None:
        pytest.skip("shared/data/geometry/golden.json is not on this machine")
    ref = golden[case]
    make, kappa = CASES[case]
    assert ref["kappa"] == kappa
    res = manifold_analysis(make(), kappa=kappa, n_t=ref["n_t"], seed=0)
    for key, got in (
        ("capacity", res.capacity_mean),
        ("radius", res.radius_mean),
        ("dimension", res.dimension_mean),
    ):
        want = ref[key]
        if want == 0.0:
            assert abs(got) < 1e-9, key
        else:
            assert got == pytest.approx(want, rel=0.03), key
    assert res.K == ref["K"]
    assert res.center_correlation == pytest.approx(ref["center_correlation"], rel=0.03)


def _gardner(kappa: float) -> float:
    """Gardner's capacity of points: 1 / int_{-kappa}^inf Dt (t + kappa)^2."""
    second_moment = (1 + kappa**2) * norm.cdf(kappa) + kappa * norm.pdf(kappa)
    return 1.0 / second_moment


def test_gardner_formula_values():
    assert _gardner(0.0) == pytest.approx(2.0)
    assert _gardner(0.5) == pytest.approx(0.961, abs=5e-4)


@pytest.mark.parametrize("kappa", [0.0, 0.5])
def test_single_points_give_gardner_capacity(kappa):
    # P * n_t = 40,000 samples of max(t + kappa, 0)^2: the relative standard
    # error of the capacity is about 0.6 % (kappa = 0) and 0.8 % (kappa = 0.5);
    # 3 % is more than 3.5 standard errors.
    X = gauss(10, 1, 300, 7)
    res = manifold_analysis(X, kappa=kappa, n_t=4000, seed=3)
    assert res.capacity_mean == pytest.approx(_gardner(kappa), rel=0.03)
    assert np.all(res.radius == 0.0) and np.all(res.dimension == 0.0)


def test_same_seed_same_result_and_seed_matters():
    X = gauss(6, 8, 40, 3)
    a = manifold_analysis(X, 0.1, 60, seed=5)
    b = manifold_analysis(X, 0.1, 60, seed=5)
    c = manifold_analysis(X, 0.1, 60, seed=6)
    np.testing.assert_array_equal(a.capacity, b.capacity)
    np.testing.assert_array_equal(a.radius, b.radius)
    assert not np.array_equal(a.capacity, c.capacity)


def test_accepts_three_d_array_and_ragged_sample_counts():
    rng = np.random.default_rng(0)
    X3 = rng.standard_normal((5, 7, 30))
    r3 = manifold_analysis(X3, n_t=50)
    rl = manifold_analysis(list(X3), n_t=50)
    np.testing.assert_allclose(r3.capacity, rl.capacity)
    ragged = [rng.standard_normal((m, 30)) for m in (3, 9, 5, 9, 4)]
    rr = manifold_analysis(ragged, n_t=50)
    assert rr.capacity.shape == (5,) and np.all(np.isfinite(rr.capacity))
    # more samples per manifold -> larger dimension
    assert rr.dimension[1] > rr.dimension[0]


def test_larger_manifolds_have_lower_capacity():
    rng = np.random.default_rng(1)
    N, P, M = 200, 8, 12
    centers = rng.standard_normal((P, N))
    small = [c + 0.1 * rng.standard_normal((M, N)) for c in centers]
    big = [c + 0.6 * rng.standard_normal((M, N)) for c in centers]
    rs, rb = manifold_analysis(small, n_t=100), manifold_analysis(big, n_t=100)
    assert rb.capacity_mean < rs.capacity_mean
    assert rb.radius_mean > rs.radius_mean


@pytest.mark.parametrize(
    "bad, match",
    [
        ([np.ones((3, 4))], "at least P = 2"),
        ([np.ones((3, 4)), np.ones((0, 4))], "manifold 1: empty"),
        ([np.ones((3, 4)), np.ones((3, 5))], "manifold 1: has 5 features"),
        ([np.ones((3, 4)), np.full((3, 4), np.nan)], "manifold 1: 12 NaN"),
        ([np.ones((3, 4)), np.array([[np.inf, 0, 0, 0]])], "manifold 1: 1 NaN or infinite"),
        ([np.ones((2, 2, 2)), np.ones((2, 2))], "manifold 0: expected a 2-D"),
        ("abc", "expected a list"),
    ],
)
def test_bad_input_is_named(bad, match):
    with pytest.raises(ValueError, match=match):
        manifold_analysis(bad)


def test_bad_parameters_and_degenerate_centers():
    X = gauss(4, 3, 10, 0)
    with pytest.raises(ValueError, match="kappa"):
        manifold_analysis(X, kappa=-1)
    with pytest.raises(ValueError, match="n_t"):
        manifold_analysis(X, n_t=1)
    same = [np.ones((3, 5)), np.ones((3, 5))]
    with pytest.raises(ValueError, match="center vanishes"):
        manifold_analysis(same)


# -- the batched NNLS ------------------------------------------------------


@pytest.mark.parametrize("D1, m", [(12, 8), (5, 9), (20, 50)])  # full rank and rank-deficient Gram
def test_nnls_batch_matches_scipy(D1, m):
    rng = np.random.default_rng(2)
    B = 60
    S = rng.standard_normal((B, D1, m))
    S[:, -1] = 1.0  # the center coordinate, as in the analysis
    t = rng.standard_normal((B, D1))
    G = np.einsum("bdm,bdn->bmn", S, S)
    b = np.einsum("bdm,bd->bm", S, t)
    z, ok = nnls_batch(G, b)
    # rank-deficient problems may cycle; the analysis sends those to scipy
    assert ok.mean() >= 0.9
    assert (z >= 0).all()
    for k in np.nonzero(ok)[0]:
        zr, rn = scipy_nnls(S[k], t[k], maxiter=5000)
        # the projection S z is unique even when z is not
        np.testing.assert_allclose(S[k] @ z[k], S[k] @ zr, atol=1e-7)
        assert np.linalg.norm(S[k] @ z[k] - t[k]) == pytest.approx(rn, abs=1e-8)


@pytest.mark.parametrize("D1, m, kappa", [(6, 5, 0.0), (6, 5, 0.7), (4, 9, 0.3)])
def test_anchor_points_match_a_primal_qp_solver(D1, m, kappa):
    """Capacity/radius/dimension of the batched dual method vs SLSQP on the primal QP."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(5)
    S = rng.standard_normal((2, D1, m)) * 0.4
    S[:, -1] = 1.0
    T = rng.standard_normal((2, D1, 40))
    cap, rad, dim = _anchor_geometry(S, T, kappa)
    D = D1 - 1
    for g in range(2):
        s_all = np.empty((D1, T.shape[2]))
        for i in range(T.shape[2]):
            t = T[g, :, i]
            j = np.argmax(t[:D] @ S[g, :D])
            s0 = S[g, :, j]
            if t @ s0 + kappa < 0:
                s_all[:, i] = s0
                continue
            cons = {
                "type": "ineq",
                "fun": lambda v, Sg=S[g]: -(Sg.T @ v) - kappa,
                "jac": lambda v, Sg=S[g]: -Sg.T,
            }
            res = minimize(
                lambda v, t=t: np.sum((v - t) ** 2),
                np.zeros(D1) - 5.0 * np.eye(D1)[-1],
                jac=lambda v, t=t: 2 * (v - t),
                constraints=[cons],
                method="SLSQP",
                options={"ftol": 1e-14, "maxiter": 500},
            )
            w = t - res.x
            s_all[:, i] = w / w[-1] if np.linalg.norm(w) >= 1e-8 else s0
        h = np.maximum(np.sum(T[g] * s_all, 0) + kappa, 0)
        want_cap = 1.0 / np.mean(h**2 / np.sum(s_all**2, 0))
        ds = (s_all - s_all.mean(1, keepdims=True))[:-1]
        want_rad = np.sqrt(np.mean(np.sum(ds**2, 0)))
        assert cap[g] == pytest.approx(want_cap, rel=1e-4)
        assert rad[g] == pytest.approx(want_rad, rel=1e-4)
        assert np.isfinite(dim[g]) and 0 <= dim[g] <= D


def test_nnls_warm_start_is_close_and_keeps_exactness():
    rng = np.random.default_rng(3)
    S = rng.standard_normal((3, 10, 6))
    T = rng.standard_normal((3, 10, 20))
    G = np.einsum("gdm,gdn->gmn", S, S)
    b = np.einsum("gdm,gdt->gtm", S, T)
    zw = nnls_warm_start(G, b, n_iter=200)
    z, ok = nnls_batch(np.repeat(G, 20, axis=0), b.reshape(-1, 6), z0=zw.reshape(-1, 6))
    assert ok.all()
    np.testing.assert_allclose(zw.reshape(-1, 6), z, atol=1e-3)


# -- the center-subspace cost --------------------------------------------------


def test_center_cost_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((9, 8))
    V = _orth(rng.standard_normal((8, 2)))
    c, g = _corr_cost_grad(X, V)
    E = rng.standard_normal(V.shape)
    h = 1e-6
    cp, _ = _corr_cost_grad(X, V + h * E, grad=False)
    cm, _ = _corr_cost_grad(X, V - h * E, grad=False)
    assert (cp - cm) / (2 * h) == pytest.approx(np.sum(g * E), rel=1e-5)
    np.testing.assert_allclose(np.swapaxes(_orth(V), -1, -2) @ _orth(V), np.eye(2), atol=1e-12)


# -- simulated capacity ---------------------------------------------------------


def synth(P, M, N, R, D, seed):
    """P random centers (norm ~1) with M Gaussian points in a random D-dim subspace."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(P):
        c = rng.standard_normal(N) / np.sqrt(N)
        basis = np.linalg.qr(rng.standard_normal((N, D)))[0]
        out.append(c + R * (rng.standard_normal((M, D)) / np.sqrt(D)) @ basis.T)
    return out


def test_separable_lp_on_obvious_cases():
    pts = np.array([[1.0, 0.1], [2.0, -0.3], [-1.0, 0.2], [-0.5, -1.0]])
    assert _separable(pts, np.array([1.0, 1.0, -1.0, -1.0]))
    # x and -x with the same label: no hyperplane through the origin
    opposite = np.array([[1.0, 0.5], [-1.0, -0.5], [0.3, 2.0]])
    assert not _separable(opposite, np.array([1.0, 1.0, -1.0]))
    line = np.array([[1.0], [2.0], [3.0]])
    assert not _separable(line, np.array([1.0, -1.0, 1.0]))


@pytest.mark.parametrize("n", [18, 24, 32])
def test_batched_separability_agrees_with_linear_programme(n):
    rng = np.random.default_rng(n)
    owner = np.repeat(np.arange(30), 5)
    X = rng.standard_normal((30, n))[owner] + 0.4 * rng.standard_normal((150, n))
    labels = rng.choice([-1.0, 1.0], size=(40, 30))[:, owner]
    fast = separable_batch(X, labels)
    exact = np.array([_separable(X, lab) for lab in labels])
    np.testing.assert_array_equal(fast, exact)


def test_separability_with_margin_agrees_with_the_exact_max_margin():
    from engines.geometry.mftma import _max_margin

    rng = np.random.default_rng(11)
    X = rng.standard_normal((60, 40))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    labels = rng.choice([-1.0, 1.0], size=(12, 60))
    exact = np.array([_max_margin(X, lab) for lab in labels])
    assert exact.min() > 0 and exact.max() < 0.1  # the margins straddle the thresholds below
    for margin in (0.01, 0.03, 0.05, 0.08):
        fast = separable_batch(X, labels, margin=margin)
        np.testing.assert_array_equal(fast, exact >= margin, err_msg=f"margin {margin}")
    # an inseparable labelling is inseparable at any margin
    opposite = np.array([[1.0, 0.5], [-1.0, -0.5], [0.3, 2.0]])
    assert not separable_batch(opposite, np.array([[1.0, 1.0, -1.0]]), margin=1e-3)[0]
    with pytest.raises(ValueError, match="margin"):
        separable_batch(X, labels, margin=-1.0)


def test_simulated_capacity_of_points_with_margin_is_gardners():
    # unit-norm isotropic points: separable with margin kappa at P / N = 0.961 for kappa = 0.5
    rng = np.random.default_rng(0)
    v = rng.standard_normal((120, 600))
    pts = list((v / np.linalg.norm(v, axis=1, keepdims=True))[:, None, :])
    sim = simulated_capacity(pts, n_dichotomies=60, seed=0, kappa=0.5, preprocess=False)
    assert sim.capacity == pytest.approx(0.961, rel=0.05)
    sim0 = simulated_capacity(pts, n_dichotomies=60, seed=0, kappa=0.0, preprocess=False)
    assert sim0.capacity == pytest.approx(2.0, rel=0.05)


@pytest.mark.slow
@pytest.mark.parametrize("kappa", [0.0, 0.5])
@pytest.mark.parametrize(
    "P, M, N, R, D",
    [(40, 5, 300, 0.5, 5), (40, 8, 300, 1.0, 3)],
)
def test_simulated_capacity_agrees_with_mean_field(P, M, N, R, D, kappa):
    X = synth(P, M, N, R, D, seed=1)
    mf = manifold_analysis(X, kappa=kappa, n_t=500, seed=0)
    sim = simulated_capacity(X, n_dichotomies=60, seed=0, kappa=kappa)
    assert sim.capacity == pytest.approx(mf.capacity_mean, rel=0.05)
    # the separable fraction rises with the projected dimension
    assert sim.fractions[0] < 0.5 <= sim.fractions[-1]


def test_compiled_and_vectorised_center_optimisers_agree():
    from engines.geometry._cg_kernel import grassmann_cg_batch
    from engines.geometry.mftma import _grassmann_cg

    rng = np.random.default_rng(6)
    X = rng.standard_normal((12, 11))
    starts = rng.standard_normal((4, 11, 2))
    a = grassmann_cg_batch(X, starts.copy(), 1000, 1e-7)
    b = _grassmann_cg(X, starts.copy())
    ca, _ = _corr_cost_grad(X, a, grad=False)
    cb, _ = _corr_cost_grad(X, b, grad=False)
    c0, _ = _corr_cost_grad(X, _orth(starts), grad=False)
    assert np.all(ca < c0)

    def stability(V):  # what the analysis selects on: the smallest residual norm ratio
        X0 = X[None] - (X @ V) @ np.swapaxes(V, 1, 2)
        return np.min(np.sqrt(np.sum(X0**2, -1)) / np.sqrt(np.sum(X**2, -1)), axis=-1)

    sa, sb = stability(a), stability(b)
    # a start may run into a center (residual -> 0, where the cost is not smooth): the
    # analysis never keeps those; the others reach stationary points
    regular = sa > 1e-2
    assert regular.sum() >= 3
    _, g = _corr_cost_grad(X, a)
    rg = g - a @ (np.swapaxes(a, 1, 2) @ g)
    assert np.sqrt(np.sum(rg**2, axis=(1, 2)))[regular].max() < 1e-5 * (ca.max() + 1)
    # the most stable solutions of both optimisers coincide
    assert ca[np.argmax(sa)] == pytest.approx(cb[np.argmax(sb)], rel=1e-8)
    np.testing.assert_allclose(np.swapaxes(a, 1, 2) @ a, np.broadcast_to(np.eye(2), (4, 2, 2)), atol=1e-10)


@pytest.mark.parametrize("D1, m", [(12, 8), (5, 9), (21, 50)])
def test_compiled_nnls_matches_scipy(D1, m):
    from engines.geometry._cg_kernel import nnls_grouped

    rng = np.random.default_rng(8)
    S = rng.standard_normal((3, D1, m))
    S[:, -1] = 1.0
    T = rng.standard_normal((3, D1, 20))
    G = np.swapaxes(S, 1, 2) @ S
    group = np.repeat(np.arange(3), 20)
    b = (np.swapaxes(S, 1, 2) @ T).transpose(0, 2, 1).reshape(-1, m)
    first = np.argmax(b, axis=1)
    z, ok = nnls_grouped(G, np.ascontiguousarray(b), group, first, 200, 1e-12)
    assert ok.mean() >= 0.9 and (z >= 0).all()
    for p in np.nonzero(ok)[0]:
        g, i = divmod(p, 20)
        zr, _ = scipy_nnls(S[g], T[g, :, i], maxiter=5000)
        np.testing.assert_allclose(S[g] @ z[p], S[g] @ zr, atol=1e-7)


def test_kernel_threads_sets_and_restores_the_thread_counts():
    import numba

    from engines.geometry.mftma import auto_threads, kernel_threads

    assert 1 <= auto_threads() <= max(1, len(__import__("os").sched_getaffinity(0)))
    before = numba.get_num_threads()
    with kernel_threads(1) as k:
        assert k == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        with kernel_threads(0):
            pass


def test_torch_path_matches_the_numpy_path():
    rng = np.random.default_rng(5)
    X = [rng.standard_normal((30, 400)) + rng.standard_normal(400) for _ in range(6)]
    X += [rng.standard_normal((12, 400)) for _ in range(3)]  # a second sample count
    a = manifold_analysis(X, n_t=100, device="numpy", threads=1)
    b = manifold_analysis(X, n_t=100, device="cpu", threads=1)  # torch on the CPU
    for f in ("capacity", "radius", "dimension"):
        np.testing.assert_allclose(getattr(b, f), getattr(a, f), rtol=1e-9)
    assert (a.K, a.center_correlation) == (b.K, b.center_correlation)


def test_device_errors_name_the_device():
    from engines.geometry.mftma import resolve_device

    assert resolve_device("numpy", 10**9) is None
    assert resolve_device("auto", 10) is None  # small data stays in numpy
    with pytest.raises(ValueError, match="not a torch device"):
        resolve_device("quantum", 10)
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda", 10)
