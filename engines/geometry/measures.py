"""Dimensionality and similarity measures of neural populations.

Every function takes activations as (samples, features) arrays.

* :func:`participation_ratio`: (sum lambda)^2 / sum lambda^2 of the covariance
  eigenvalues (Gao et al. 2017; the reference's "D_participation_ratio").
* :func:`evd`: the number of principal components needed to explain a given
  fraction (default 90 %) of the variance ("EVD90").
* :func:`linear_cka`: linear centered kernel alignment (Kornblith et al. 2019),
  by default with the unbiased HSIC estimator of Song et al. (2012), i.e. the
  "debiased" CKA whose value for independent representations is ~0.
* :func:`rdm`: representational dissimilarity matrices (correlation distance,
  Euclidean or cosine distance), as in rsatoolbox.
* :func:`pca`: principal component scores, axes and explained variance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PCAResult", "evd", "linear_cka", "participation_ratio", "pca", "rdm", "spectrum"]


def _as_2d(X, name: str = "X") -> np.ndarray:
    a = np.asarray(X, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a (samples, features) array, got shape {a.shape}")
    if a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"{name}: need at least 2 samples and 1 feature, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: {int(np.sum(~np.isfinite(a)))} NaN or infinite value(s)")
    return a


def spectrum(X) -> np.ndarray:
    """Eigenvalues of the sample covariance, largest first."""
    a = _as_2d(X)
    a = a - a.mean(axis=0)
    s = np.linalg.svd(a, compute_uv=False)
    return s**2 / (a.shape[0] - 1)


def participation_ratio(X) -> float:
    """(sum of covariance eigenvalues)^2 / (sum of their squares)."""
    lam = spectrum(X)
    den = float(np.sum(lam**2))
    return float(np.sum(lam) ** 2 / den) if den > 0 else 0.0


def evd(X, fraction: float = 0.9) -> int:
    """Smallest number of principal components explaining >= ``fraction`` of the variance."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction = {fraction}: must be in (0, 1]")
    lam = spectrum(X)
    tot = float(np.sum(lam))
    if tot <= 0:
        return 0
    cum = np.cumsum(lam) / tot
    return int(np.searchsorted(cum, fraction - 1e-12) + 1)


def _hsic(K: np.ndarray, L: np.ndarray, debiased: bool) -> float:
    n = K.shape[0]
    if debiased:
        if n < 4:
            raise ValueError(f"debiased CKA needs at least 4 samples, got {n}")
        K = K.copy()
        L = L.copy()
        np.fill_diagonal(K, 0.0)
        np.fill_diagonal(L, 0.0)
        val = (
            np.sum(K * L)
            + K.sum() * L.sum() / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * np.sum(K.sum(axis=0) * L.sum(axis=1))
        )
        return float(val / (n * (n - 3)))
    H = np.eye(n) - 1.0 / n
    return float(np.sum((H @ K @ H) * L) / (n - 1) ** 2)


def linear_cka(X, Y, debiased: bool = True) -> float:
    """Linear CKA between two representations of the same samples.

    ``X``: (n, p), ``Y``: (n, q). ``debiased`` uses the unbiased HSIC
    estimator (Song et al. 2012) as in Kornblith et al. (2019), appendix.
    """
    a, b = _as_2d(X, "X"), _as_2d(Y, "Y")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"CKA: X has {a.shape[0]} samples, Y has {b.shape[0]}; they must match")
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    K, L = a @ a.T, b @ b.T
    kl = _hsic(K, L, debiased)
    kk = _hsic(K, K, debiased)
    ll = _hsic(L, L, debiased)
    den = np.sqrt(max(kk, 0.0) * max(ll, 0.0))
    return float(kl / den) if den > 0 else 0.0


def rdm(X, metric: str = "correlation") -> np.ndarray:
    """Representational dissimilarity matrix between the rows (conditions) of X."""
    a = _as_2d(X)
    if metric == "correlation":
        z = a - a.mean(axis=1, keepdims=True)
        nrm = np.linalg.norm(z, axis=1)
        if np.any(nrm == 0):
            raise ValueError("rdm: a condition has constant activity; its correlation is undefined")
        z = z / nrm[:, None]
        D = 1.0 - z @ z.T
    elif metric == "cosine":
        nrm = np.linalg.norm(a, axis=1)
        if np.any(nrm == 0):
            raise ValueError("rdm: a condition is all zeros; its cosine distance is undefined")
        z = a / nrm[:, None]
        D = 1.0 - z @ z.T
    elif metric == "euclidean":
        sq = np.sum(a * a, axis=1)
        D = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * a @ a.T, 0.0))
    else:
        raise ValueError(f"rdm: metric = {metric!r}; allowed values are 'correlation', 'cosine', 'euclidean'")
    D = 0.5 * (D + D.T)
    np.fill_diagonal(D, 0.0)
    return D


@dataclass(frozen=True)
class PCAResult:
    scores: np.ndarray  # (samples, k)
    components: np.ndarray  # (k, features), unit rows
    explained_variance: np.ndarray  # (k,)
    explained_variance_ratio: np.ndarray  # (k,)
    mean: np.ndarray  # (features,)

    def transform(self, X) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.components.T


def pca(X, k: int = 3) -> PCAResult:
    """Principal components by SVD; signs fixed so the largest loading is positive."""
    a = _as_2d(X)
    k = int(k)
    if k < 1:
        raise ValueError(f"pca: k = {k}: must be >= 1")
    mean = a.mean(axis=0)
    z = a - mean
    U, s, Vt = np.linalg.svd(z, full_matrices=False)
    k_eff = min(k, Vt.shape[0])
    Vt = Vt[:k_eff]
    sign = np.sign(Vt[np.arange(k_eff), np.argmax(np.abs(Vt), axis=1)])
    sign[sign == 0] = 1.0
    Vt = Vt * sign[:, None]
    var = s**2 / (a.shape[0] - 1)
    tot = var.sum()
    comps = np.zeros((k, a.shape[1]))
    comps[:k_eff] = Vt
    ev = np.zeros(k)
    ev[:k_eff] = var[:k_eff]
    return PCAResult(
        scores=z @ comps.T,
        components=comps,
        explained_variance=ev,
        explained_variance_ratio=ev / tot if tot > 0 else ev,
        mean=mean,
    )
