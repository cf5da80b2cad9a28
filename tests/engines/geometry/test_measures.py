"""Dimensionality and similarity measures against known values."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.decomposition import PCA

from engines.geometry.measures import evd, linear_cka, participation_ratio, pca, rdm, spectrum


def _with_spectrum(eigs, n=400, extra=30, seed=0):
    """Samples whose covariance has exactly the eigenvalues ``eigs``."""
    rng = np.random.default_rng(seed)
    k = len(eigs)
    Z = rng.standard_normal((n, k))
    Z -= Z.mean(axis=0)
    # whiten exactly, then scale
    U, _, Vt = np.linalg.svd(Z, full_matrices=False)
    Z = U @ Vt * np.sqrt(n - 1)
    Q = np.linalg.qr(rng.standard_normal((k + extra, k)))[0]
    return (Z * np.sqrt(eigs)) @ Q.T + 3.0


def test_spectrum_and_participation_ratio_known_values():
    X = _with_spectrum([4.0, 4.0, 4.0, 4.0, 4.0])
    np.testing.assert_allclose(spectrum(X)[:5], 4.0, rtol=1e-10)
    assert participation_ratio(X) == pytest.approx(5.0, rel=1e-10)
    Y = _with_spectrum([3.0, 1.0])
    assert participation_ratio(Y) == pytest.approx(16.0 / 10.0, rel=1e-10)


def test_evd90_known_values():
    X = _with_spectrum([5.0, 3.0, 1.0, 1.0])  # cumulative 0.5, 0.8, 0.9, 1.0
    assert evd(X, 0.9) == 3
    assert evd(X, 0.85) == 3
    assert evd(X, 0.5) == 1
    assert evd(X, 0.95) == 4
    with pytest.raises(ValueError, match="fraction"):
        evd(X, 1.5)


def _hsic_u_bruteforce(K, L):
    """Unbiased HSIC as the mean over distinct ordered 4-tuples (Song et al. 2012)."""
    n = K.shape[0]
    tot, cnt = 0.0, 0
    for i, j, q, r in itertools.permutations(range(n), 4):
        tot += K[i, j] * L[i, j] + K[i, j] * L[q, r] - 2 * K[i, j] * L[i, q]
        cnt += 1
    return tot / cnt


def test_debiased_cka_matches_the_u_statistic():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((7, 3))
    Y = X @ rng.standard_normal((3, 4)) + 0.5 * rng.standard_normal((7, 4))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    K, L = Xc @ Xc.T, Yc @ Yc.T
    want = _hsic_u_bruteforce(K, L) / np.sqrt(_hsic_u_bruteforce(K, K) * _hsic_u_bruteforce(L, L))
    assert linear_cka(X, Y) == pytest.approx(want, rel=1e-10)


def test_cka_invariances_and_independence():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 20))
    Q = np.linalg.qr(rng.standard_normal((20, 20)))[0]
    assert linear_cka(X, X) == pytest.approx(1.0)
    assert linear_cka(X, 3.0 * X @ Q + 1.0) == pytest.approx(1.0)
    # biased CKA of independent data is inflated (~ p q / n scale); the debiased one is ~ 0
    Y = rng.standard_normal((200, 20))
    assert abs(linear_cka(X, Y)) < 0.03
    assert linear_cka(X, Y, debiased=False) > 0.05
    # biased linear CKA closed form: |Y'X|_F^2 / (|X'X|_F |Y'Y|_F)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    closed = np.linalg.norm(Yc.T @ Xc) ** 2 / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))
    assert linear_cka(X, Y, debiased=False) == pytest.approx(closed, rel=1e-10)
    with pytest.raises(ValueError, match="must match"):
        linear_cka(X, Y[:10])


def test_rdm_known_values():
    X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.5], [3.0, 2.0, 1.0], [0.0, 0.0, 1.0]])
    D = rdm(X, "correlation")
    assert D.shape == (4, 4) and np.allclose(D, D.T) and np.allclose(np.diag(D), 0)
    assert D[0, 2] == pytest.approx(2.0)  # perfectly anti-correlated
    assert D[0, 1] == pytest.approx(1 - np.corrcoef(X[0], X[1])[0, 1])
    E = rdm(X, "euclidean")
    assert E[0, 3] == pytest.approx(np.linalg.norm(X[0] - X[3]))
    C = rdm(X, "cosine")
    assert C[0, 1] == pytest.approx(1 - X[0] @ X[1] / np.linalg.norm(X[0]) / np.linalg.norm(X[1]))
    with pytest.raises(ValueError, match="metric"):
        rdm(X, "manhattan")
    with pytest.raises(ValueError, match="constant"):
        rdm(np.ones((3, 4)), "correlation")


def test_pca_matches_sklearn():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 6)) @ rng.standard_normal((6, 6))
    ours = pca(X, 3)
    ref = PCA(3).fit(X)
    np.testing.assert_allclose(ours.explained_variance, ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(ours.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-10)
    for a, b in zip(ours.components, ref.components_):
        assert abs(abs(a @ b) - 1) < 1e-10
    np.testing.assert_allclose(np.abs(ours.scores), np.abs(ref.transform(X)), atol=1e-10)
    np.testing.assert_allclose(ours.transform(X), ours.scores, atol=1e-12)
    # fewer features than components: zero-padded
    assert pca(X[:, :2], 3).components.shape == (3, 2)


def test_measures_name_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        participation_ratio(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="samples, features"):
        evd(np.ones(5))
