"""Image -> strokes by optimisation through the differentiable renderer.

Coarse to fine, in levels (as CNP orders its strokes: 9, 45 and 126 strokes
for a 180-stroke painting; other totals are split in the same proportions).
Each level places its strokes where the current canvas differs most from the
target (sampled from the squared error map), initialises their colour from
the target there and their size from the level's scale, then optimises only
that level's strokes with Adam, composited onto the frozen canvas of the
levels below (an incremental render). Parameters are projected back into
[0, 1] after every step.

:func:`decompose_job` is a generator yielding :class:`engines.base.Progress`
(its ``value`` the strokes so far, for live display) and returning a
:class:`Decomposition`; close it to cancel. Several images can be decomposed
at once (a batch), which is how the training set is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engines.base import Job, Params, Progress, check_cancelled, drive_job, param
from engines.painting.render import render_sparse
from engines.painting.strokes import MIN_SIZE

__all__ = ["DecomposeParams", "Decomposition", "decompose_job", "decompose", "level_sizes"]

CNP_LEVELS = (9, 45, 126)


@dataclass(frozen=True)
class DecomposeParams(Params):
    strokes: int = param(180, unit="strokes", min=1, max=4000, doc="total number of strokes")
    size: int = param(128, unit="px", min=16, max=512, doc="resolution the optimisation renders at")
    iters: int = param(120, unit="steps", min=1, max=5000, doc="Adam steps per level")
    lr: float = param(0.01, min=1e-5, max=1.0, doc="Adam learning rate")
    report_every: int = param(10, unit="steps", min=1, max=1000, doc="progress reports every N steps")


@dataclass(frozen=True)
class Decomposition:
    params: np.ndarray  # (B, N, 8) float32, coarse to fine
    levels: np.ndarray  # (N,) int: level of each stroke
    psnr: np.ndarray  # (B, n_levels) PSNR (dB) at `size` after each level
    counts: tuple[int, ...]  # strokes after each level (cumulative)


def level_sizes(n: int, levels: tuple[int, ...] = CNP_LEVELS) -> list[int]:
    """Split ``n`` strokes into coarse-to-fine levels in CNP's proportions."""
    w = np.asarray(levels, np.float64)
    cum = np.round(np.cumsum(w) / w.sum() * n).astype(int)
    sizes = np.diff(np.concatenate([[0], cum]))
    return [int(s) for s in sizes if s > 0]


def _psnr(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    mse = ((a - b) ** 2).flatten(1).mean(1).clamp_min(1e-12)
    return (10 * torch.log10(1.0 / mse)).numpy()


def _init_level(
    target: torch.Tensor, canvas: torch.Tensor, n: int, scale: float, gen: torch.Generator
) -> torch.Tensor:
    """n strokes per image at high-error places, coloured from the target."""
    b, _, s, _ = target.shape
    err = ((canvas - target) ** 2).sum(1)  # (B, S, S)
    err = torch.nn.functional.avg_pool2d(err[:, None], 3, 1, 1)[:, 0]
    prob = err.flatten(1) + 1e-8
    idx = torch.multinomial(prob, n, replacement=n > s * s, generator=gen)  # (B, n)
    iy = torch.div(idx, s, rounding_mode="floor")
    ix = idx % s
    jitter = torch.rand(b, n, 2, generator=gen)
    x = (ix + jitter[..., 0]) / s
    y = (iy + jitter[..., 1]) / s
    # colour: the target blurred at the stroke scale, read at the stroke centre
    k = max(1, int(round(scale * s / 3)) | 1)
    blurred = torch.nn.functional.avg_pool2d(target, k, 1, k // 2, count_include_pad=False)
    col = blurred.flatten(2).gather(2, idx[:, None, :].expand(b, 3, n)).permute(0, 2, 1)
    u = torch.rand(b, n, 3, generator=gen)
    w = scale * (0.7 + 0.6 * u[..., 0])
    h = scale * (0.35 + 0.3 * u[..., 1])
    theta = u[..., 2]
    return torch.stack([x, y, w, h, theta, col[..., 0], col[..., 1], col[..., 2]], dim=-1).clamp(0, 1)


def decompose_job(
    images: np.ndarray,
    params: DecomposeParams | None = None,
    seed: int = 0,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> Job:
    """Decompose images (B, S, S, 3) or (S, S, 3) in [0, 1] into strokes (see module doc)."""
    p = params or DecomposeParams()
    imgs = np.asarray(images, dtype=np.float32)
    if imgs.ndim == 3:
        imgs = imgs[None]
    if imgs.ndim != 4 or imgs.shape[-1] != 3 or imgs.shape[1] != imgs.shape[2]:
        raise ValueError(f"decompose: images must be (B, S, S, 3), got {imgs.shape}")
    if imgs.shape[1] != p.size:
        from engines.painting.imageio import resize

        imgs = np.stack([resize(im, p.size) for im in imgs]).astype(np.float32)
    target = torch.from_numpy(np.ascontiguousarray(imgs.transpose(0, 3, 1, 2)))
    b = target.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    sizes = level_sizes(p.strokes)
    total_steps = len(sizes) * p.iters
    bg = torch.tensor(background, dtype=torch.float32).view(1, 3, 1, 1)
    canvas = bg.expand(b, 3, p.size, p.size).clone()
    done_params: list[torch.Tensor] = []
    levels: list[np.ndarray] = []
    psnrs = []
    counts = []
    step = 0
    for li, n in enumerate(sizes):
        scale = min(1.0, 1.2 / np.sqrt(n))
        x = _init_level(target, canvas, n, scale, gen).requires_grad_(True)
        opt = torch.optim.Adam([x], lr=p.lr)
        for it in range(p.iters):
            check_cancelled()  # between two reports too: a step can take a tenth of a second
            opt.zero_grad(set_to_none=True)
            out = render_sparse(x, size=p.size, canvas=canvas)
            loss = ((out - target) ** 2).mean() * b
            loss.backward()
            opt.step()
            with torch.no_grad():
                x.clamp_(0, 1)
                x[..., 2:4].clamp_(min=MIN_SIZE)
            step += 1
            if it % p.report_every == 0 or it == p.iters - 1:
                so_far = torch.cat([*done_params, x.detach()], dim=1)[0].numpy().copy()
                yield Progress(
                    step,
                    total_steps,
                    f"level {li + 1}/{len(sizes)} ({n} strokes), step {it + 1}/{p.iters}, "
                    f"loss {loss.item() / b:.4f}",
                    so_far,
                )
        with torch.no_grad():
            canvas = render_sparse(x.detach(), size=p.size, canvas=canvas)
        done_params.append(x.detach())
        levels.append(np.full(n, li, np.int64))
        psnrs.append(_psnr(canvas, target))
        counts.append(sum(sizes[: li + 1]))
    return Decomposition(
        params=torch.cat(done_params, dim=1).numpy().astype(np.float32),
        levels=np.concatenate(levels),
        psnr=np.stack(psnrs, axis=1),
        counts=tuple(counts),
    )


def decompose(
    images: np.ndarray, params: DecomposeParams | None = None, seed: int = 0, **kw
) -> Decomposition:
    """Run :func:`decompose_job` to its end."""
    result, _ = drive_job(decompose_job(images, params, seed, **kw))
    return result
