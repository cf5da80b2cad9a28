"""Completing paintings: a small transformer over strokes trained as a denoising diffusion model.

After "Collaborative Neural Painting" (Dall'Asen et al., 2023). A painting is
a set of N stroke slots (CNP: 9 + 45 + 126, coarse to fine). Some slots hold
*context* strokes (what people painted); the model generates the others.

* Tokens: each slot carries its 8 stroke parameters (scaled to [-1, 1]) — the
  clean values for context slots, the noisy ``x_t`` for the others — a context
  flag, and its level embedding; a sinusoidal time embedding is added. A
  pre-norm transformer encoder (no positional order inside a level: a set)
  predicts the noise of the non-context slots (``prediction="eps"``) or
  their clean values (``prediction="x0"``; the loss is then the MSE of the
  clean strokes, so at high noise the network learns the regression answer
  and sampling refines it).
* Training: cosine-schedule DDPM, loss on the generated slots only, with CNP's
  masking schemes drawn at random: ``random`` (each stroke is context with
  probability p ~ U(0.2, 0.9)), ``block`` (a contiguous run of the stroke
  order is generated), ``level`` (the first one or two levels are context),
  ``square`` (the strokes centred in a square around a random stroke are
  generated) and ``unconditional``. With probability ``p_uncond`` the context
  is dropped (hidden from attention) so that the same network gives the
  unconditional prediction for classifier-free guidance.
* Context image (optional, ``image_grid > 0``): the context strokes are also
  rendered (a small canvas of ``image_grid * PATCH`` pixels, RGB plus the
  coverage of the paint) and cut into ``image_grid**2`` patches, each one more
  token (a linear patch encoder with a learned position embedding). Stroke
  tokens attend to what the context looks like, not only to its parameters.
  The patches are hidden together with the context for classifier-free guidance.
* Sampling: DDIM (eta = 0) in 10-50 steps, guided as ``out = out_u + g (out_c - out_u)``
  (``out`` the predicted noise or clean strokes).
  :func:`mbr_select` picks, among several completions, the one whose render is
  closest to the mean render of all of them, and :func:`consensus_fit` goes
  further and fits the generated strokes to that mean render (minimum Bayes
  risk for image MSE; no ground truth involved).
* A regression twin (``objective="regression"``) with the same network
  predicts the strokes directly with an MSE loss; it is a benchmark baseline.

Weights are stored pickle-free with :func:`engines.serialize.save_state`.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from engines.base import Job, Params, Progress, drive_job, param
from engines.painting.strokes import MIN_SIZE
from engines.serialize import load_state, save_state

__all__ = [
    "MASK_MODES",
    "ModelConfig",
    "TrainParams",
    "StrokeDenoiser",
    "make_mask",
    "train_job",
    "save_checkpoint",
    "load_checkpoint",
    "val_loss_by_mode",
    "sample",
    "save_model",
    "load_model",
    "augment",
    "context_patches",
    "mbr_select",
    "consensus_fit",
    "fit_to_render",
    "prune_to_render",
    "context_colours",
    "recolour",
    "context_spread",
    "discordant",
]

MASK_MODES = ("random", "block", "level", "square", "unconditional")
MODEL_KIND = "painting-completion-model"
CHECKPOINT_KIND = "painting-completion-checkpoint"
#: side, in pixels, of one context-image patch token
PATCH = 4
#: side, in pixels, of the context render that generated strokes read their colour from (:func:`recolour`)
RECOLOUR_PX = 32


@dataclass(frozen=True)
class ModelConfig(Params):
    n_strokes: int = param(180, unit="slots", min=2, max=1024, doc="stroke slots per painting")
    n_levels: int = param(3, min=1, max=16, doc="coarse-to-fine levels")
    d_model: int = param(128, min=16, max=1024, doc="transformer width")
    layers: int = param(4, min=1, max=24, doc="transformer layers")
    heads: int = param(4, min=1, max=16, doc="attention heads")
    timesteps: int = param(1000, min=10, max=10000, doc="diffusion steps of the training schedule")
    objective: str = param("diffusion", choices=("diffusion", "regression"), doc="what the network learns")
    image_grid: int = param(
        0, min=0, max=16, doc="context image patches per side (0: the model sees context strokes only)"
    )
    prediction: str = param(
        "eps",
        choices=("eps", "x0"),
        doc="what the diffusion network outputs: the noise (eps) or the clean strokes (x0)",
    )

    def validate(self) -> None:
        if self.d_model % self.heads:
            raise ValueError(
                f"ModelConfig.d_model = {self.d_model} must be a multiple of heads = {self.heads}"
            )


@dataclass(frozen=True)
class TrainParams(Params):
    steps: int = param(3000, unit="steps", min=1, max=10_000_000, doc="optimiser steps")
    batch: int = param(64, min=1, max=4096, doc="paintings per step")
    lr: float = param(5e-4, min=1e-6, max=1.0, doc="peak AdamW learning rate")
    warmup: int = param(100, unit="steps", min=0, max=100000, doc="linear warm-up")
    p_uncond: float = param(0.1, min=0.0, max=1.0, doc="probability of dropping the context (CFG)")
    report_every: int = param(50, unit="steps", min=1, max=100000, doc="progress every N steps")
    max_seconds: float = param(
        0.0,
        unit="s",
        min=0.0,
        max=1e7,
        doc="wall-time budget (0: none); the cosine schedule then follows max(step, time) progress",
    )
    ema: float = param(
        0.0, min=0.0, max=0.99999, doc="decay of the weight average that is returned (0: last weights)"
    )


# --------------------------------------------------------------------------
# masks and augmentation (numpy, per painting)
# --------------------------------------------------------------------------


def make_mask(
    mode: str,
    params: np.ndarray,
    levels: np.ndarray,
    rng: np.random.Generator,
    p: float | None = None,
) -> np.ndarray:
    """Which slots are context (True) for one painting ``params`` (N, 8).

    ``p`` is the context ratio for ``random`` and ``block`` (drawn from
    U(0.2, 0.9) when None), the area of the generated square for ``square``
    is chosen so that about 1 - p of the strokes fall in it, and ``level``
    gives the first one (p < 0.5) or two levels as context.
    """
    n = params.shape[0]
    if mode not in MASK_MODES:
        raise ValueError(f"mask mode = {mode!r}: allowed values are {', '.join(MASK_MODES)}")
    if p is None:
        p = float(rng.uniform(0.2, 0.9))
    if mode == "random":
        ctx = rng.random(n) < p
    elif mode == "block":
        k = int(round((1 - p) * n))
        start = int(rng.integers(0, n - k + 1))
        ctx = np.ones(n, bool)
        ctx[start : start + k] = False
    elif mode == "level":
        top = int(levels.max()) if n else 0
        cut = 1 if (p < 0.5 or top < 2) else 2
        ctx = levels < min(cut, max(top, 1))
    elif mode == "square":
        c = params[int(rng.integers(0, n)), :2]
        d = np.max(np.abs(params[:, :2] - c), axis=1)  # Chebyshev distance of centres
        k = max(1, int(round((1 - p) * n)))
        half = np.sort(d)[k - 1]
        ctx = d > half
    else:  # unconditional
        ctx = np.zeros(n, bool)
    return ctx


def hflip(params: np.ndarray) -> np.ndarray:
    """Mirror strokes (..., 8) left-right: x -> 1 - x, angle -> pi - angle."""
    out = np.array(params, copy=True)
    out[..., 0] = 1.0 - out[..., 0]
    out[..., 4] = np.mod(1.0 - out[..., 4], 1.0)
    return out


def augment(params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random horizontal flip and colour gain of paintings (B, N, 8)."""
    out = params.copy()
    flip = rng.random(len(out)) < 0.5
    out[flip] = hflip(out[flip])
    gain = rng.uniform(0.85, 1.15, size=(len(out), 1, 3))
    out[..., 5:8] = np.clip(out[..., 5:8] * gain, 0, 1)
    return out


def inset(params: np.ndarray, rng: np.random.Generator, share: float, scale=(0.55, 0.95)) -> np.ndarray:
    """About ``share`` of the paintings (B, N, 8) shrunk into a random square of the canvas.

    Each chosen painting keeps all its strokes, scaled by s in ``scale`` about the canvas
    origin and shifted to a random place that keeps it inside: bare canvas lies around it,
    as around an icon or a drawing on white. A network trained only on paintings that cover
    their canvas learns that bare canvas always hides paint; with these it also sees bare
    canvas that is the background.
    """
    out = params.copy()
    if share <= 0:
        return out
    chosen = np.flatnonzero(rng.random(len(out)) < share)
    s = rng.uniform(scale[0], scale[1], size=len(chosen))
    off = rng.random((len(chosen), 2)) * (1.0 - s)[:, None]
    out[chosen, :, 0:2] = off[:, None, :] + s[:, None, None] * out[chosen, :, 0:2]
    out[chosen, :, 2:4] *= s[:, None, None]
    return out


# --------------------------------------------------------------------------
# network
# --------------------------------------------------------------------------


def _time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(a), torch.cos(a)], dim=1)


def context_patches(params: np.ndarray, ctx_mask: np.ndarray, grid: int) -> np.ndarray:
    """The rendered context of paintings (B, N, 8) [0, 1] as patch tokens (B, grid**2, PATCH*PATCH*4).

    Each painting's context strokes are rendered at ``grid * PATCH`` pixels on
    white and on black; the pixel values on white (RGB) and the paint coverage
    ``1 - transmittance`` are scaled to [-1, 1] and cut into PATCH x PATCH patches.
    """
    from engines.painting.render import render_coverage

    params = np.asarray(params, np.float64)
    ctx_mask = np.asarray(ctx_mask, bool).reshape(params.shape[:2])
    b = params.shape[0]
    size = grid * PATCH
    img = np.empty((b, size, size, 4), np.float32)
    for i in range(b):
        white, _, coverage = render_coverage(params[i][ctx_mask[i]], size=size)
        img[i, ..., :3] = white
        img[i, ..., 3] = coverage
    img = img * 2 - 1
    pt = img.reshape(b, grid, PATCH, grid, PATCH, 4).transpose(0, 1, 3, 2, 4, 5)
    return np.ascontiguousarray(pt.reshape(b, grid * grid, PATCH * PATCH * 4))


def mbr_select(completions: np.ndarray, size: int = 32) -> int:
    """Index of the completion (K, N, 8) whose render is closest (MSE) to the mean render of all K."""
    from engines.painting.render import render_fast

    imgs = np.stack([render_fast(c, size=size) for c in completions])
    mean = imgs.mean(0)
    return int(np.argmin(((imgs - mean) ** 2).mean(axis=(1, 2, 3))))


def consensus_fit(
    completions: np.ndarray,
    ctx_mask: np.ndarray,
    size: int = 64,
    iters: int = 60,
    lr: float = 0.01,
) -> np.ndarray:
    """One painting (N, 8) whose render approaches the mean render of ``completions`` (K, N, 8).

    Minimum Bayes risk for image MSE taken into stroke space: the expected
    squared error to a painting drawn from the model is smallest for the
    painting whose render is the mean render, so the generated strokes of the
    :func:`mbr_select` choice are fitted to the mean of the K renders by Adam
    through the differentiable renderer (context slots stay fixed). The
    samples are the model's; no ground truth is involved.
    """
    from engines.painting.render import render_fast

    completions = np.asarray(completions, np.float32)
    if completions.ndim != 3 or completions.shape[-1] != 8:
        raise ValueError(f"consensus_fit: completions must be (K, N, 8), got {completions.shape}")
    free = ~np.asarray(ctx_mask, bool).reshape(completions.shape[1])
    start = completions[mbr_select(completions)]
    if len(completions) == 1 or not free.any():
        return start.copy()
    mean = np.stack([render_fast(c, size=size) for c in completions]).mean(0)
    return fit_to_render(start, ctx_mask, mean, iters=iters, lr=lr)


def fit_to_render(
    start: np.ndarray,
    ctx_mask: np.ndarray,
    target: np.ndarray,
    iters: int = 60,
    lr: float = 0.01,
    on_top: bool = False,
) -> np.ndarray:
    """Fit the generated slots of one painting ``start`` (N, 8) so that its render approaches ``target``.

    ``target`` is an (S, S, 3) image in [0, 1] on white (the render size is its
    side). Adam on the squared error through the differentiable renderer; the
    context slots (``ctx_mask``) stay as they are, and so do the generated slots
    that the fit never reaches (an invisible slot has no gradient). The render is
    of the slots in their order, or, ``on_top``, of the context slots and then the
    generated ones over them (how Complete adds its proposals to a painting).
    """
    from engines.painting.render import render_sparse

    start = np.asarray(start, np.float32)
    if start.ndim != 2 or start.shape[-1] != 8:
        raise ValueError(f"fit_to_render: start must be (N, 8), got {start.shape}")
    target = np.asarray(target)
    if target.ndim != 3 or target.shape[2] != 3 or target.shape[0] != target.shape[1]:
        raise ValueError(f"fit_to_render: target must be (S, S, 3), got {target.shape}")
    free = ~np.asarray(ctx_mask, bool).reshape(start.shape[0])
    if not free.any() or iters <= 0:
        return start.copy()
    if on_top:
        order = np.concatenate([np.flatnonzero(~free), np.flatnonzero(free)])
        fitted = fit_to_render(start[order], ~free[order], target, iters, lr)
        out = np.empty_like(start)
        out[order] = fitted
        return out
    size = int(target.shape[0])
    tgt = torch.from_numpy(np.ascontiguousarray(target.transpose(2, 0, 1)[None], dtype=np.float32))
    x = torch.from_numpy(start[None].copy()).requires_grad_(True)
    keep = torch.from_numpy(free)[None, :, None].float()
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(iters):
        opt.zero_grad(set_to_none=True)
        loss = ((render_sparse(x, size=size) - tgt) ** 2).mean()
        loss.backward()
        x.grad.mul_(keep)
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
            x[..., 2:4].clamp_(min=MIN_SIZE)
    out = x.detach()[0].numpy()
    return np.where(free[:, None], out, start).astype(np.float32)


def prune_to_render(
    painting: np.ndarray, ctx_mask: np.ndarray, target: np.ndarray, on_top: bool = False
) -> np.ndarray:
    """Which generated slots of ``painting`` (N, 8) to keep: those that bring its render closer to ``target``.

    One greedy pass over the generated slots in their order: a slot whose stroke,
    left out, leaves the render (of the slots in order, or ``on_top`` as
    :func:`fit_to_render` renders them) closer to ``target`` (S, S, 3) is left
    out. Returns a bool (N,) mask, True for the context slots and the generated
    slots kept. No ground truth is involved: ``target`` is an expected painting.
    """
    from engines.painting.render import render_fast

    painting = np.asarray(painting, np.float32)
    mask = np.asarray(ctx_mask, bool).reshape(len(painting))
    order = np.concatenate([np.flatnonzero(mask), np.flatnonzero(~mask)]) if on_top else np.arange(len(mask))
    keep = np.ones(len(mask), bool)
    size = int(target.shape[0])

    def err() -> float:
        idx = order[keep[order]]
        return float(((render_fast(painting[idx], size=size) - target) ** 2).mean())

    best = err()
    for i in np.flatnonzero(~mask):
        keep[i] = False
        e = err()
        if e < best:
            best = e
        else:
            keep[i] = True
    return keep


def context_colours(
    strokes: np.ndarray, context: np.ndarray, size: int = RECOLOUR_PX, reach: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """The paint colour of the ``context`` strokes (M, 8) under each of ``strokes`` (K, 8).

    The context is rendered at ``size`` px on white and on black: the black
    render is the paint times its coverage, so the footprint-weighted mean of
    (black render) / (coverage) is the colour of the paint under a stroke,
    unbiased by the background. Returns (colours (K, 3) in [0, 1], covered (K,)):
    ``covered`` is the part of each stroke's footprint (its alpha) that the
    context paints, in [0, 1]; where it is 0 the colour is the stroke's own.
    ``reach`` > 0 also lets bare canvas take the colour of the paint around it
    (see :func:`_context_paint`).
    """
    return _colours_under(strokes, _context_paint(context, size, reach))


def _context_paint(
    context: np.ndarray, size: int, reach: float = 0.0
) -> tuple[np.ndarray, np.ndarray] | None:
    """(paint x coverage (S, S, 3), coverage (S, S)) of the context strokes, or None without any.

    ``reach`` > 0 (a fraction of the canvas side) fills the bare canvas with
    the paint around it: the paint and its coverage are blurred (a Gaussian of
    that standard deviation; normalised convolution, so the colour is that of
    the paint nearby, not paint mixed with bare canvas) and the bare part of
    each pixel takes the nearby colour with the blurred coverage as its weight.
    A stroke over a gap between context strokes then reads the colour around
    the gap instead of keeping its own.
    """
    from engines.painting.render import render_coverage

    context = np.asarray(context, np.float64).reshape(-1, 8)
    if len(context) == 0:
        return None
    _, black, cov = render_coverage(context, size=size)
    cov = np.clip(cov, 0.0, 1.0)
    if reach > 0:
        from scipy.ndimage import gaussian_filter

        sigma = reach * size
        blur_cov = gaussian_filter(cov, sigma, mode="constant")
        norm = gaussian_filter(np.ones_like(cov), sigma, mode="constant")
        blur_paint = np.stack([gaussian_filter(black[..., c], sigma, mode="constant") for c in range(3)], -1)
        near = blur_paint / np.maximum(blur_cov, 1e-9)[..., None]  # colour of the paint nearby
        conf = np.clip(blur_cov / np.maximum(norm, 1e-9), 0.0, 1.0)  # how much paint there is nearby
        bare = (1.0 - cov) * conf
        black = black + bare[..., None] * np.clip(near, 0.0, 1.0)
        cov = cov + bare
    return black, cov


def _colours_under(
    strokes: np.ndarray, paint: tuple[np.ndarray, np.ndarray] | None
) -> tuple[np.ndarray, np.ndarray]:
    from engines.painting.render import stroke_alpha

    strokes = np.asarray(strokes, np.float32).reshape(-1, 8)
    colours = strokes[:, 5:8].astype(np.float64).copy()
    covered = np.zeros(len(strokes))
    if len(strokes) == 0 or paint is None:
        return colours, covered
    black, cov = paint
    size = cov.shape[0]
    px = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    with torch.no_grad():
        a = stroke_alpha(torch.from_numpy(strokes), torch.ones(len(strokes)), px, px).numpy()
    a = a.reshape(len(strokes), -1).astype(np.float64)  # (K, S*S)
    a_sum = a.sum(1)
    w = a @ cov.reshape(-1)  # footprint weight that the context covers
    paint = a @ black.reshape(-1, 3)  # footprint-weighted paint (colour x coverage)
    ok = w > 1e-9
    colours[ok] = np.clip(paint[ok] / w[ok, None], 0.0, 1.0)
    covered[a_sum > 1e-9] = w[a_sum > 1e-9] / a_sum[a_sum > 1e-9]
    return colours, np.clip(covered, 0.0, 1.0)


def recolour(
    paintings: np.ndarray,
    ctx_mask: np.ndarray,
    strength: float = 1.0,
    size: int = RECOLOUR_PX,
    reach: float = 0.0,
) -> np.ndarray:
    """Pull each generated stroke's colour toward the context paint under it.

    ``paintings`` (B, N, 8) or (N, 8) in [0, 1], ``ctx_mask`` (N,) or (B, N):
    for each free slot, colour <- colour + strength * covered * (context colour
    - colour) (see :func:`context_colours`), so a stroke over painted context
    takes its colour and one over bare canvas keeps its own. Context slots are unchanged.
    """
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"recolour strength = {strength}: allowed range is [0, 1]")
    out = np.array(paintings, np.float32, copy=True)
    single = out.ndim == 2
    if single:
        out = out[None]
    mask = np.broadcast_to(np.asarray(ctx_mask, bool).reshape(-1, out.shape[1]), out.shape[:2])
    if strength == 0.0:
        return out[0] if single else out
    for i in range(len(out)):
        free = ~mask[i]
        if not free.any() or not mask[i].any():
            continue
        col, cov = context_colours(out[i][free], out[i][mask[i]], size, reach)
        new = out[i][free, 5:8] + strength * cov[:, None] * (col - out[i][free, 5:8])
        out[i, free, 5:8] = np.clip(new, 0.0, 1.0)
    return out[0] if single else out


def context_spread(
    strokes: np.ndarray, context: np.ndarray, size: int = RECOLOUR_PX
) -> tuple[np.ndarray, np.ndarray]:
    """How much the context paint under each of ``strokes`` (K, 8) varies: (spread (K,), covered (K,)).

    ``spread`` is the footprint- and coverage-weighted standard deviation of the
    context paint colour (RGB, averaged over channels) under the stroke; a
    stroke of one colour over a region of many (an edge between coarse strokes)
    has a large spread. ``covered`` as in :func:`context_colours`.
    """
    from engines.painting.render import stroke_alpha

    strokes = np.asarray(strokes, np.float32).reshape(-1, 8)
    spread, covered = np.zeros(len(strokes)), np.zeros(len(strokes))
    paint = _context_paint(context, size)
    if len(strokes) == 0 or paint is None:
        return spread, covered
    black, cov = paint
    pix = (black / np.maximum(cov, 1e-6)[..., None]).reshape(-1, 3)
    px = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    with torch.no_grad():
        a = stroke_alpha(torch.from_numpy(strokes), torch.ones(len(strokes)), px, px).numpy()
    a = a.reshape(len(strokes), -1).astype(np.float64)
    w = a * cov.reshape(1, -1)
    ws = w.sum(1)
    ok = ws > 1e-9
    mean = (w @ pix)[ok] / ws[ok, None]
    var = (w @ pix**2)[ok] / ws[ok, None] - mean**2
    spread[ok] = np.sqrt(np.clip(var, 0.0, None).mean(1))
    a_sum = a.sum(1)
    covered[a_sum > 1e-9] = ws[a_sum > 1e-9] / a_sum[a_sum > 1e-9]
    return spread, np.clip(covered, 0.0, 1.0)


def discordant(
    painting: np.ndarray, ctx_mask: np.ndarray, max_spread: float, min_covered: float = 0.9
) -> np.ndarray:
    """Generated slots (N,) bool of ``painting`` (N, 8) that lie on varied context paint.

    A generated stroke that the context covers (at least ``min_covered`` of its
    footprint) where the context paint under it varies by more than
    ``max_spread`` (:func:`context_spread`) paints one colour over an edge of
    the painting; dropping such strokes helps in level and block completions
    (issue 16). Context slots are never discordant.
    """
    mask = np.asarray(ctx_mask, bool).reshape(-1)
    out = np.zeros(len(mask), bool)
    free = np.flatnonzero(~mask)
    if max_spread <= 0 or len(free) == 0 or not mask.any():
        return out
    spread, covered = context_spread(painting[free], painting[mask])
    out[free] = (spread > max_spread) & (covered >= min_covered)
    return out


class StrokeDenoiser(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.inp = nn.Linear(8 + 1, d)
        self.level = nn.Embedding(cfg.n_levels, d)
        self.time = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        layer = nn.TransformerEncoderLayer(
            d, cfg.heads, dim_feedforward=2 * d, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, cfg.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, 8)
        if cfg.image_grid:
            self.patch_in = nn.Linear(PATCH * PATCH * 4, d)
            self.patch_pos = nn.Parameter(0.02 * torch.randn(cfg.image_grid**2, d))
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        # cosine noise schedule (Nichol & Dhariwal)
        steps = cfg.timesteps
        s = 0.008
        x = torch.linspace(0, steps, steps + 1, dtype=torch.float64)
        ac = torch.cos(((x / steps) + s) / (1 + s) * math.pi / 2) ** 2
        ac = ac / ac[0]
        betas = (1 - ac[1:] / ac[:-1]).clamp(max=0.999)
        self.register_buffer("alphas_cumprod", torch.cumprod(1 - betas, 0).float(), persistent=False)

    def forward(
        self,
        x: torch.Tensor,  # (B, N, 8) in [-1, 1]: clean at context slots, noisy elsewhere
        ctx: torch.Tensor,  # (B, N) bool
        levels: torch.Tensor,  # (B, N) long
        t: torch.Tensor,  # (B,) long
        drop_context: torch.Tensor | None = None,  # (B,) bool: hide the context (CFG)
        patches: torch.Tensor | None = None,  # (B, G*G, PATCH*PATCH*4): context image (image_grid > 0)
    ) -> torch.Tensor:
        n = x.shape[1]
        h = self.inp(torch.cat([x, ctx[..., None].float()], dim=-1))
        h = h + self.level(levels.clamp(0, self.cfg.n_levels - 1))
        temb = self.time(_time_embedding(t, self.cfg.d_model))[:, None, :]
        h = h + temb
        pad = None
        if drop_context is not None:
            pad = ctx & drop_context[:, None]
        if self.cfg.image_grid:
            if patches is None:
                raise ValueError("this model needs the context image patches (see context_patches)")
            g = self.patch_in(patches) + self.patch_pos + temb
            h = torch.cat([h, g], dim=1)
            if pad is not None:
                pad = torch.cat([pad, drop_context[:, None].expand(-1, g.shape[1])], dim=1)
        h = self.encoder(h, src_key_padding_mask=pad)
        return self.out(self.norm(h[:, :n]))


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------


def _batch_masks(
    params: np.ndarray, levels: np.ndarray, rng: np.random.Generator, mode: str | None = None
) -> np.ndarray:
    masks = np.empty(params.shape[:2], bool)
    if mode is None:
        modes = rng.choice(len(MASK_MODES), size=len(params), p=[0.3, 0.2, 0.2, 0.2, 0.1])
    else:
        modes = np.full(len(params), MASK_MODES.index(mode))
    for i, m in enumerate(modes):
        masks[i] = make_mask(MASK_MODES[m], params[i], levels, rng)
    return masks


def loss_on_batch(
    model: StrokeDenoiser,
    params: np.ndarray,
    levels: np.ndarray,
    rng: np.random.Generator,
    gen: torch.Generator,
    p_uncond: float = 0.1,
    mode: str | None = None,
) -> torch.Tensor:
    """The training loss of one batch of paintings (B, N, 8) in [0, 1] (masks of ``mode``, else mixed)."""
    cfg = model.cfg
    b, n = params.shape[:2]
    ctx = torch.from_numpy(_batch_masks(params, levels, rng, mode))
    x0 = torch.from_numpy(params).float() * 2 - 1
    lv = torch.from_numpy(levels).long().expand(b, n)
    drop = torch.rand(b, generator=gen) < p_uncond
    target_slots = (~ctx).float()
    patches = None
    if cfg.image_grid:
        patches = torch.from_numpy(context_patches(params, ctx.numpy(), cfg.image_grid))
    if cfg.objective == "regression":
        t = torch.zeros(b, dtype=torch.long)
        x_in = torch.where(ctx[..., None], x0, torch.zeros_like(x0))
        pred = model(x_in, ctx, lv, t, drop, patches)
        err = ((pred - x0) ** 2).mean(-1)
    else:
        t = torch.randint(0, cfg.timesteps, (b,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        ac = model.alphas_cumprod[t].view(b, 1, 1)
        xt = ac.sqrt() * x0 + (1 - ac).sqrt() * noise
        x_in = torch.where(ctx[..., None], x0, xt)
        pred = model(x_in, ctx, lv, t, drop, patches)
        target = x0 if cfg.prediction == "x0" else noise
        err = ((pred - target) ** 2).mean(-1)
    return (err * target_slots).sum() / target_slots.sum().clamp_min(1)


VAL_MODES = ("random", "block", "level", "square")


def val_loss_by_mode(model: StrokeDenoiser, val: np.ndarray, levels: np.ndarray) -> dict[str, float]:
    """The loss on the validation paintings ``val`` (B, N, 8) in each masking mode (fixed masks and noise)."""
    out = {}
    model.eval()
    with torch.no_grad():
        for k, mode in enumerate(VAL_MODES):
            rng = np.random.default_rng(12345 + k)
            gen = torch.Generator().manual_seed(12345 + k)
            out[mode] = float(loss_on_batch(model, val, levels, rng, gen, 0.0, mode))
    return out


def _to_numpy_tree(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy()
    if isinstance(obj, dict):
        return {str(k): _to_numpy_tree(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_to_numpy_tree(v) for v in obj)
    if isinstance(obj, list):
        return [_to_numpy_tree(v) for v in obj]
    return obj


def _optimizer_state(opt: torch.optim.Optimizer) -> dict:
    return _to_numpy_tree(opt.state_dict())


def training_state(cfg, tp, seed: int, step: int, net: nn.Module, opt, history: dict, ema=None) -> dict:
    """The whole state of a training run at ``step`` (what ``resume`` continues): configuration, training
    parameters, seed, weights, the weight average (``ema``; empty without), optimiser moments, history."""
    return {
        "config": cfg.to_dict(),
        "train": tp.to_dict(),
        "seed": int(seed),
        "step": int(step),
        "weights": _to_numpy_tree(net.state_dict()),
        "ema": _to_numpy_tree(ema.state_dict()) if ema is not None else {},
        "optimizer": _optimizer_state(opt),
        "history": {k: np.asarray(v, np.float64) for k, v in history.items()},
    }


def _load_optimizer_state(opt: torch.optim.Optimizer, state: dict) -> None:
    st = {
        int(k): {n: torch.as_tensor(np.array(v)) for n, v in per.items()}
        for k, per in state.get("state", {}).items()
    }
    groups = []
    for g in state["param_groups"]:
        g = dict(g)
        g["params"] = [int(i) for i in g["params"]]
        if isinstance(g.get("betas"), list):
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    opt.load_state_dict({"state": st, "param_groups": groups})


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write a training checkpoint (the ``value`` of :func:`train_job`'s ``checkpoint`` callback)."""
    save_state(path, state, CHECKPOINT_KIND)


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint` (to resume :func:`train_job`)."""
    return load_state(path, CHECKPOINT_KIND)


def train_job(
    data: np.ndarray,
    levels: np.ndarray,
    cfg: ModelConfig | None = None,
    tp: TrainParams | None = None,
    seed: int = 0,
    val: np.ndarray | None = None,
    resume: dict | None = None,
    init: StrokeDenoiser | None = None,
    checkpoint=None,
) -> Job:
    """Train a model on paintings ``data`` (M, N, 8); yields Progress, returns (model, history).

    Each progress report's ``value`` is ``(model, history)`` so far (the live
    model: copy or save it, do not train it elsewhere).

    Training that grows across sessions: ``checkpoint`` (a callable) is given,
    at every report, the whole training state (configuration, weights, weight
    average, optimiser moments, step, history; :func:`save_checkpoint` writes
    it), and ``resume`` (that state, :func:`load_checkpoint`) continues from it:
    the same schedule over ``tp.steps``, the same optimiser moments, the data
    order of ``seed`` and the step resumed at. ``init`` starts a new run from a
    trained model's weights (and weight average) instead of random ones.
    """
    if resume is not None:
        cfg = ModelConfig.from_dict(resume["config"])
    cfg = cfg or (init.cfg if init is not None else None)
    cfg = cfg or ModelConfig(n_strokes=data.shape[1], n_levels=int(levels.max()) + 1)
    tp = tp or TrainParams()
    if data.ndim != 3 or data.shape[1:] != (cfg.n_strokes, 8):
        raise ValueError(f"training data has shape {data.shape}, expected (M, {cfg.n_strokes}, 8)")
    start = int(resume["step"]) if resume is not None else 0
    torch.manual_seed(seed + start)
    rng = np.random.default_rng([seed, start])
    gen = torch.Generator().manual_seed(seed * 1_000_003 + start)
    model = StrokeDenoiser(cfg)
    if init is not None:
        model.load_state_dict(init.state_dict())
    if resume is not None:
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in resume["weights"].items()})
    ema = None
    if tp.ema > 0:
        ema = StrokeDenoiser(cfg)
        ema.load_state_dict(model.state_dict())
        if resume is not None and resume.get("ema"):
            ema.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in resume["ema"].items()})
        ema.eval()
        ema_p = list(ema.parameters())
        model_p = list(model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=tp.lr, weight_decay=0.01)
    if resume is not None and resume.get("optimizer"):
        _load_optimizer_state(opt, resume["optimizer"])

    def progress(s: int) -> float:
        f = s / max(1, tp.steps)
        if tp.max_seconds > 0 and checkpoint is None:  # (a chunked run keeps the schedule of its steps)
            f = max(f, (time.perf_counter() - t0) / tp.max_seconds)
        return min(1.0, f)

    history: dict[str, list[float]] = {"step": [], "loss": [], "val_loss": []}
    if resume is not None:
        history = {k: [float(x) for x in v] for k, v in resume.get("history", {}).items()} or history
    t0 = time.perf_counter()
    running = 0.0
    count = 0
    model.train()
    if start >= tp.steps:
        raise ValueError(f"resume: the checkpoint is at step {start}, TrainParams.steps = {tp.steps}")
    for step in range(start + 1, tp.steps + 1):
        # warm-up, then cosine decay over the steps (or the time budget, whichever runs out first)
        frac = progress(step - 1)
        lr = tp.lr * min(1.0, step / max(1, tp.warmup)) * 0.5 * (1 + math.cos(math.pi * frac))
        for group in opt.param_groups:
            group["lr"] = lr
        out_of_time = tp.max_seconds > 0 and (time.perf_counter() - t0) >= tp.max_seconds
        last = step == tp.steps or (tp.max_seconds > 0 and frac >= 1.0) or out_of_time
        idx = rng.integers(0, len(data), size=tp.batch)
        batch = augment(data[idx], rng)
        loss = loss_on_batch(model, batch, levels, rng, gen, tp.p_uncond)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if ema is not None:
            with torch.no_grad():
                torch._foreach_lerp_(ema_p, [p.detach() for p in model_p], 1.0 - tp.ema)
        running += float(loss.detach())
        count += 1
        if step % tp.report_every == 0 or last:
            vl = float("nan")
            shown = ema if ema is not None else model
            if val is not None and len(val):
                model.eval()
                with torch.no_grad():
                    vrng = np.random.default_rng(12345)
                    vgen = torch.Generator().manual_seed(12345)
                    vl = float(loss_on_batch(shown, val, levels, vrng, vgen, 0.0))
                model.train()
            history["step"].append(step)
            history["loss"].append(running / count)
            history["val_loss"].append(vl)
            if checkpoint is not None:
                checkpoint(training_state(cfg, tp, seed, step, model, opt, history, ema))
            yield Progress(
                step,
                tp.steps,
                f"step {step}/{tp.steps} loss {running / count:.4f} val {vl:.4f} "
                f"({time.perf_counter() - t0:.0f} s)",
                (shown, history),
            )
            running, count = 0.0, 0
        if last:
            break
    model.eval()
    return (ema if ema is not None else model), history


# --------------------------------------------------------------------------
# sampling
# --------------------------------------------------------------------------


def sample(
    model: StrokeDenoiser,
    context: np.ndarray,
    ctx_mask: np.ndarray,
    levels: np.ndarray,
    *,
    steps: int = 20,
    guidance: float = 1.5,
    seed: int = 0,
    proposals: int = 1,
    temperature: float = 1.0,
    recolour_strength: float = 0.0,
    recolour_during: bool = False,
    recolour_reach: float = 0.0,
) -> np.ndarray:
    """Complete paintings: (B, N, 8) context values (read where ``ctx_mask``) -> (B*proposals, N, 8).

    DDIM with ``steps`` steps (eta = 0) and classifier-free guidance weight
    ``guidance`` (1 = plain conditional). ``temperature`` scales the initial
    noise (below 1: samples nearer the modes). ``recolour_strength`` > 0 pulls
    each generated stroke's colour toward the context paint under it
    (:func:`recolour`): after sampling, or, with ``recolour_during``, on the
    clean-stroke estimate of every DDIM step; ``recolour_reach`` > 0 lets strokes over bare canvas take
    the colour of the context paint around them (:func:`_context_paint`). Context slots are returned unchanged.
    """
    job = sample_job(
        model,
        context,
        ctx_mask,
        levels,
        steps=steps,
        guidance=guidance,
        seed=seed,
        proposals=proposals,
        temperature=temperature,
        recolour_strength=recolour_strength,
        recolour_during=recolour_during,
        recolour_reach=recolour_reach,
    )
    return drive_job(job)[0]


@torch.no_grad()
def sample_job(
    model: StrokeDenoiser,
    context: np.ndarray,
    ctx_mask: np.ndarray,
    levels: np.ndarray,
    *,
    steps: int = 20,
    guidance: float = 1.5,
    seed: int = 0,
    proposals: int = 1,
    temperature: float = 1.0,
    recolour_strength: float = 0.0,
    recolour_during: bool = False,
    recolour_reach: float = 0.0,
    paints: list | None = None,
) -> Job:
    """:func:`sample` as a job: yields Progress after each DDIM step (stoppable), returns the strokes.

    ``paints`` (with ``recolour_during``): for each painting of the batch, the context paint that its
    generated strokes read their colour from, (paint x coverage (S, S, 3), coverage (S, S)) over the
    painting's unit canvas, or None for the paint of its own context (:func:`_context_paint` with
    ``recolour_reach``). A regional window over a hole passes the paint of the whole canvas around it
    (:func:`engines.painting.regions.canvas_paint`).
    """
    cfg = model.cfg
    context = np.asarray(context, np.float32)
    if context.ndim == 2:
        context = context[None]
    ctx_mask = np.asarray(ctx_mask, bool).reshape(context.shape[:2])
    if not 1 <= steps <= cfg.timesteps:
        raise ValueError(f"steps = {steps}: allowed range is [1, {cfg.timesteps}]")
    b, n = context.shape[:2]
    if not 0.0 <= recolour_strength <= 1.0:
        raise ValueError(f"recolour_strength = {recolour_strength}: allowed range is [0, 1]")
    if n != cfg.n_strokes:
        raise ValueError(f"the model completes {cfg.n_strokes} slots, got {n}")
    x0c = torch.from_numpy(np.repeat(context, proposals, axis=0)) * 2 - 1
    ctx = torch.from_numpy(np.repeat(ctx_mask, proposals, axis=0))
    bb = b * proposals
    lv = torch.from_numpy(np.asarray(levels)).long().expand(bb, n)
    gen = torch.Generator().manual_seed(int(seed))
    model.eval()
    patches = None
    if cfg.image_grid:
        with _one_thread():
            patches = torch.from_numpy(
                np.repeat(context_patches(context, ctx_mask, cfg.image_grid), proposals, axis=0)
            )
    if cfg.objective == "regression":
        pred = model(
            torch.where(ctx[..., None], x0c, 0.0),
            ctx,
            lv,
            torch.zeros(bb, dtype=torch.long),
            None,
            patches,
        )
        return _recoloured(
            _with_context(pred, context, ctx_mask, proposals),
            ctx_mask,
            proposals,
            recolour_strength,
            recolour_reach,
        )
    ts = np.linspace(cfg.timesteps - 1, 0, steps).round().astype(np.int64)
    ac_all = model.alphas_cumprod
    if not 0.0 < temperature <= 2.0:
        raise ValueError(f"temperature = {temperature}: allowed range is (0, 2]")
    x = torch.randn((bb, n, 8), generator=gen) * float(temperature)
    given = [None] * b if paints is None else list(paints)
    paints = None
    if recolour_during and recolour_strength > 0:
        with _one_thread():
            if len(given) != b:
                raise ValueError(f"paints: {len(given)} for {b} paintings")
            paints = [
                given[i]
                if given[i] is not None
                else _context_paint(context[i][ctx_mask[i]], RECOLOUR_PX, recolour_reach)
                for i in range(b)
            ]
    no_drop = torch.zeros(bb, dtype=torch.bool)
    all_drop = torch.ones(bb, dtype=torch.bool)
    use_cfg = guidance != 1.0 and bool(ctx.any())
    for i, t in enumerate(ts):
        tt = torch.full((bb,), int(t), dtype=torch.long)
        x_in = torch.where(ctx[..., None], x0c, x)
        with _one_thread():
            if use_cfg:
                out2 = model(
                    torch.cat([x_in, x_in]),
                    torch.cat([ctx, ctx]),
                    torch.cat([lv, lv]),
                    torch.cat([tt, tt]),
                    torch.cat([no_drop, all_drop]),
                    None if patches is None else torch.cat([patches, patches]),
                )
                out_c, out_u = out2[:bb], out2[bb:]
                out = out_u + guidance * (out_c - out_u)
            else:
                out = model(x_in, ctx, lv, tt, no_drop, patches)
            a_t = ac_all[t]
            if cfg.prediction == "x0":
                x0 = out.clamp(-1, 1)
            else:
                x0 = ((x - (1 - a_t).sqrt() * out) / a_t.sqrt()).clamp(-1, 1)
            if recolour_during and recolour_strength > 0:
                x0 = _recolour_x0(x0, ctx, paints, proposals, recolour_strength)
            if i + 1 < len(ts):
                a_prev = ac_all[ts[i + 1]]
                eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()
                x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
            else:
                x = x0
        yield Progress(i + 1, len(ts), f"DDIM step {i + 1}/{len(ts)}")
    out = _with_context(x, context, ctx_mask, proposals)
    if recolour_during:
        return out
    return _recoloured(out, ctx_mask, proposals, recolour_strength, recolour_reach)


@contextmanager
def _one_thread():
    """Run the block on one torch and one numba thread (the numbers before are restored, as the routing
    decoder does between its yields).

    The network's tensors and the small context renders are small: on a machine
    whose cores are busy, intra-op threads wait for each other, and one proposal
    that takes 0.2 s on one thread was measured at 9-12 s on two (benchmarks/painting.py,
    load average 1-3).
    """
    import numba

    before, before_nb = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)  # (thread-local: other threads keep theirs)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        numba.set_num_threads(before_nb)


def _recoloured(
    out: np.ndarray, mask: np.ndarray, proposals: int, strength: float, reach: float = 0.0
) -> np.ndarray:
    if strength <= 0:
        return out
    return recolour(out, np.repeat(mask, proposals, axis=0), strength, RECOLOUR_PX, reach)


def _recolour_x0(x0: torch.Tensor, ctx: torch.Tensor, paints: list, proposals: int, strength: float):
    """:func:`recolour` of the clean-stroke estimate x0 (B*proposals, N, 8) in [-1, 1]."""
    v = ((x0 + 1) / 2).numpy().astype(np.float32)
    m = ctx.numpy()
    for i in range(len(v)):
        free = ~m[i]
        paint = paints[i // proposals]
        if paint is None or not free.any():
            continue
        col, cov = _colours_under(np.clip(v[i][free], 0, 1), paint)
        v[i, free, 5:8] = np.clip(v[i, free, 5:8] + strength * cov[:, None] * (col - v[i, free, 5:8]), 0, 1)
    return torch.from_numpy(v) * 2 - 1


def _with_context(x: torch.Tensor, context: np.ndarray, mask: np.ndarray, proposals: int) -> np.ndarray:
    """Generated values (scaled back to [0, 1]) at free slots, the exact context elsewhere."""
    gen = ((x.clamp(-1, 1) + 1) / 2).numpy().astype(np.float32)
    gen[..., 2:4] = np.maximum(gen[..., 2:4], MIN_SIZE)
    ctx = np.repeat(context, proposals, axis=0)
    m = np.repeat(mask, proposals, axis=0)[..., None]
    return np.where(m, ctx, gen).astype(np.float32)


def slots_for_context(
    ctx_params: np.ndarray, level_sizes: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place a person's strokes (M, 8) into the model's level slots.

    Strokes are ranked by area, largest first, and fill the slots from the
    coarsest level on (the decomposition orders its strokes the same way). Returns (context (N, 8),
    mask (N,), levels (N,)). When there are more strokes than slots, the
    smallest strokes are left out of the context.
    """
    n = int(sum(level_sizes))
    levels = np.concatenate([np.full(k, i) for i, k in enumerate(level_sizes)]).astype(np.int64)
    context = np.zeros((n, 8), np.float32)
    mask = np.zeros(n, bool)
    m = len(ctx_params)
    if m == 0:
        return context, mask, levels
    area = ctx_params[:, 2] * ctx_params[:, 3]
    order = np.argsort(-area, kind="stable")
    # keep at most n - 1 strokes so that something is left to generate
    order = order[: min(m, n - 1)]
    pos = np.arange(len(order))
    context[pos] = ctx_params[order]
    mask[pos] = True
    return context, mask, levels


# --------------------------------------------------------------------------
# storage
# --------------------------------------------------------------------------


def save_network(net: nn.Module, path: str | Path, kind: str, extra: dict | None = None) -> None:
    """Write a network's configuration (``net.cfg``) and weights pickle-free (:func:`save_state`)."""
    weights = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    save_state(path, {"config": net.cfg.to_dict(), "weights": weights, "extra": extra or {}}, kind)


def load_network(path: str | Path, kind: str, config_type, network_type, what: str):
    """Read a file of :func:`save_network`: ``network_type(config_type.from_dict(...))`` in eval mode.

    Errors name the file; weights that do not fit the configuration are a
    ``FormatError`` saying so (``what`` names the network), never torch's own.
    """
    from engines.serialize import FormatError, numeric_arrays

    state = load_state(path, kind)
    weights = numeric_arrays(state.get("weights"), str(path))
    try:
        net = network_type(config_type.from_dict(state["config"]))
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    except Exception as e:  # a malformed tree: KeyError, TypeError, ValueError, torch's RuntimeError
        raise FormatError(f"{path}: weights do not fit {what} ({type(e).__name__}: {e})") from None
    net.eval()
    return net


def save_model(model: StrokeDenoiser, path: str | Path, extra: dict | None = None) -> None:
    save_network(model, path, MODEL_KIND, extra)


def load_model(path: str | Path) -> StrokeDenoiser:
    """Load weights written by :func:`save_model`; errors name the file."""
    return load_network(path, MODEL_KIND, ModelConfig, StrokeDenoiser, "the model")
