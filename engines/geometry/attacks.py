"""Adversarial and random perturbations of images for a classifier.

* :func:`fgsm`: one signed-gradient (L-inf) or normalised-gradient (L2) step;
* :func:`pgd`: projected gradient descent (Madry et al. 2018) with a random
  start and step eps / 4 by default, L-inf or L2;
* expectation over transformations (Athalye et al. 2018): for a stochastic
  network the gradient is averaged over ``eot`` noise draws per step;
* :func:`random_perturbation` / :func:`random_like`: random perturbations of
  a given norm (the control for adversarial ones).

Images are kept in [0, 1]. All functions take torch tensors (n, C, H, W) and
integer labels and are deterministic for a given ``seed``.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from engines.base import check_cancelled

__all__ = ["fgsm", "norm_of", "pgd", "random_like", "random_perturbation"]

NORMS = ("linf", "l2")


def _check(eps: float, norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"norm = {norm!r}: allowed values are 'linf', 'l2'")
    if not eps >= 0:
        raise ValueError(f"eps = {eps}: must be >= 0")


def norm_of(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """Per-sample norm of a perturbation."""
    flat = delta.flatten(1)
    return flat.abs().amax(dim=1) if norm == "linf" else flat.norm(dim=1)


def _project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    if norm == "linf":
        return delta.clamp(-eps, eps)
    n = norm_of(delta, "l2").clamp_min(1e-12)
    factor = torch.clamp(eps / n, max=1.0)
    return delta * factor.view(-1, *([1] * (delta.dim() - 1)))


def _grad(model, x, y, eot: int) -> torch.Tensor:
    g = torch.zeros_like(x)
    for _ in range(max(1, eot)):
        check_cancelled()  # a long attack stops here when its job is cancelled
        xi = x.detach().requires_grad_(True)
        loss = F.cross_entropy(model(xi), y, reduction="sum")
        (gi,) = torch.autograd.grad(loss, xi)
        g += gi
    return g / max(1, eot)


def _ascent(g: torch.Tensor, norm: str) -> torch.Tensor:
    if norm == "linf":
        return g.sign()
    n = g.flatten(1).norm(dim=1).clamp_min(1e-12)
    return g / n.view(-1, *([1] * (g.dim() - 1)))


def _eot_count(model, eot: int | None) -> int:
    if eot is not None:
        return int(eot)
    return 8 if getattr(model, "stochastic", False) else 1


def fgsm(model, x, y, eps: float, norm: str = "linf", eot: int | None = None) -> torch.Tensor:
    """Fast gradient (sign) method: one step of size eps."""
    _check(eps, norm)
    if eps == 0:
        return x.clone()
    g = _grad(model, x, y, _eot_count(model, eot))
    return (x + eps * _ascent(g, norm)).clamp(0.0, 1.0).detach()


def pgd(
    model,
    x,
    y,
    eps: float,
    steps: int = 10,
    norm: str = "linf",
    step_size: float | None = None,
    random_start: bool = True,
    eot: int | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Projected gradient descent within the eps-ball (step eps / 4 by default)."""
    _check(eps, norm)
    if steps < 1:
        raise ValueError(f"steps = {steps}: must be >= 1")
    if eps == 0:
        return x.clone()
    step = eps / 4.0 if step_size is None else float(step_size)
    n_eot = _eot_count(model, eot)
    if random_start:
        delta = _project(random_perturbation(x, eps, norm, seed=seed, uniform=True) - x, eps, norm)
    else:
        delta = torch.zeros_like(x)
    x_adv = (x + delta).clamp(0.0, 1.0)
    for _ in range(int(steps)):
        g = _grad(model, x_adv, y, n_eot)
        x_adv = x_adv + step * _ascent(g, norm)
        x_adv = (x + _project(x_adv - x, eps, norm)).clamp(0.0, 1.0).detach()
    return x_adv


def random_perturbation(x, eps: float, norm: str = "linf", seed: int = 0, uniform: bool = False):
    """x plus a random perturbation of norm eps (inside the ball when ``uniform``)."""
    _check(eps, norm)
    gen = torch.Generator().manual_seed(int(seed))
    if norm == "linf":
        if uniform:
            d = (torch.rand(x.shape, generator=gen, dtype=x.dtype) * 2 - 1) * eps
        else:
            d = (torch.randint(0, 2, x.shape, generator=gen).to(x.dtype) * 2 - 1) * eps
    else:
        d = torch.randn(x.shape, generator=gen, dtype=x.dtype)
        d = d / d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (x.dim() - 1)))
        r = eps
        if uniform:
            n = x[0].numel()
            r = eps * torch.rand(x.shape[0], generator=gen, dtype=x.dtype) ** (1.0 / n)
            r = r.view(-1, *([1] * (x.dim() - 1)))
        d = d * r
    return (x + d).clamp(0.0, 1.0)


def random_like(x, x_adv, norm: str = "l2", seed: int = 0):
    """Random perturbations with the same per-sample norm as ``x_adv - x``.

    Not clipped to [0, 1], so that the norms match exactly.
    """
    if norm not in NORMS:
        raise ValueError(f"norm = {norm!r}: allowed values are 'linf', 'l2'")
    gen = torch.Generator().manual_seed(int(seed))
    target = norm_of(x_adv - x, norm).view(-1, *([1] * (x.dim() - 1)))
    if norm == "linf":
        d = (torch.randint(0, 2, x.shape, generator=gen).to(x.dtype) * 2 - 1) * target
    else:
        d = torch.randn(x.shape, generator=gen, dtype=x.dtype)
        d = d / d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (x.dim() - 1))) * target
    return x + d
