"""The expected look of a finished painting, read from its context render by a small U-Net.

The completion model (:mod:`engines.painting.model`) reads the context as
stroke parameters and a coarse 6 x 6 grid of patches. What a completion is
judged by, and what a person sees, is the picture. The render network reads
the context as a picture: the context strokes rendered at 64 px (RGB on white,
plus how much paint covers each pixel) and, as constant planes, the share of
each level's slots that is left to propose. It predicts the render of the
finished painting: trained with the squared error of that render, it learns
the expected painting given the context (the minimum-MSE image). Where the
context strokes that remain say what lies under a hole (the fine strokes
around a block, the paint around a square), the prediction fills it; where
they do not (the fine detail of a painting of which only its coarse strokes
are known), it stays the context.

Complete then fits its proposed strokes to that image by gradient descent
through the differentiable renderer (:func:`engines.painting.model.fit_to_render`),
starting from the diffusion model's sample. The strokes stay strokes; the
network only says where the painting should end up.

Weights are stored pickle-free with :func:`engines.serialize.save_state`; a
training run grows across sessions from its whole state (``--state``/``--resume``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engines.base import Job, Params, Progress, param
from engines.painting.model import (
    _load_optimizer_state,
    augment,
    fit_to_render,
    inset,
    load_network,
    make_mask,
    prune_to_render,
    save_network,
    training_state,
)
from engines.painting.render import render_fast
from engines.serialize import load_state, save_state

__all__ = [
    "REFINER_MODES",
    "RefinerConfig",
    "RefinerTrainParams",
    "RenderNet",
    "fit_expected",
    "load_refiner",
    "load_refiner_state",
    "predict_render",
    "refiner_input",
    "save_refiner",
    "save_refiner_state",
    "train_refiner_job",
    "val_ratios",
]

REFINER_KIND = "painting-render-network"
REFINER_STATE_KIND = "painting-render-network-state"
#: masking modes the network is trained and validated on (one drawn per painting)
REFINER_MODES = ("random", "block", "level", "square")
#: context ratios of the validation figures (those of engines.painting.evaluate)
VAL_RATIOS = (0.2, 0.4, 0.6, 0.8)


@dataclass(frozen=True)
class RefinerConfig(Params):
    n_levels: int = param(3, min=1, max=16, doc="coarse-to-fine levels of the stroke slots")
    size: int = param(64, unit="px", min=16, max=256, doc="side of the renders read and predicted")
    width: int = param(32, min=8, max=256, doc="channels of the first stage (x1, x2, x3, x4 below it)")
    depth: int = param(4, min=2, max=5, doc="stages of the U-Net (each halves the side)")

    def validate(self) -> None:
        if self.size % (2 ** (self.depth - 1)):
            raise ValueError(
                f"RefinerConfig.size = {self.size} must be a multiple of 2 ** (depth - 1) = "
                f"{2 ** (self.depth - 1)}"
            )
        if self.width % 8:
            raise ValueError(f"RefinerConfig.width = {self.width} must be a multiple of 8")

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(self.width * (i + 1) for i in range(self.depth))

    @property
    def in_channels(self) -> int:
        return 4 + self.n_levels


@dataclass(frozen=True)
class RefinerTrainParams(Params):
    steps: int = param(3000, unit="steps", min=1, max=10_000_000, doc="optimiser steps")
    batch: int = param(32, min=1, max=4096, doc="paintings per step")
    lr: float = param(2e-3, min=1e-6, max=1.0, doc="peak AdamW learning rate")
    warmup: int = param(50, unit="steps", min=0, max=100000, doc="linear warm-up")
    report_every: int = param(100, unit="steps", min=1, max=100000, doc="progress every N steps")
    max_seconds: float = param(
        0.0, unit="s", min=0.0, max=1e7, doc="wall-time budget of this chunk (0: none)"
    )
    inset: float = param(
        0.0,
        min=0.0,
        max=1.0,
        doc="share of training paintings shrunk into part of the canvas, with bare canvas around them",
    )


def _stage(ci: int, co: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(ci, co, 3, padding=1),
        nn.GroupNorm(8, co),
        nn.SiLU(),
        nn.Conv2d(co, co, 3, padding=1),
        nn.GroupNorm(8, co),
        nn.SiLU(),
    )


class RenderNet(nn.Module):
    """U-Net from (context render, coverage, free share per level) to the finished painting's render.

    The output is the context render plus a learned correction (zero at
    initialisation: an untrained network proposes the context as it is),
    clamped to [0, 1].
    """

    def __init__(self, cfg: RefinerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.channels
        self.down = nn.ModuleList()
        c = cfg.in_channels
        for co in ch:
            self.down.append(_stage(c, co))
            c = co
        self.up = nn.ModuleList()
        for co in reversed(ch[:-1]):
            self.up.append(_stage(c + co, co))
            c = co
        self.head = nn.Conv2d(c, 3, 1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        h = x
        for i, stage in enumerate(self.down):
            h = stage(h)
            if i < len(self.down) - 1:
                skips.append(h)
                h = F.avg_pool2d(h, 2)
        for stage in self.up:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = stage(torch.cat([h, skips.pop()], 1))
        return (x[:, :3] + self.head(h)).clamp(0.0, 1.0)


# --------------------------------------------------------------------------
# inputs and prediction
# --------------------------------------------------------------------------


def refiner_input(
    context: np.ndarray, mask: np.ndarray, levels: np.ndarray, cfg: RefinerConfig
) -> np.ndarray:
    """The network's input (C, S, S) for one painting: its ``context`` slots (N, 8) where ``mask``.

    Channels: the context strokes rendered on white (RGB), the paint's coverage
    (1 where paint lies, 0 on bare canvas) and, for each level, the share of its
    slots that is not context (a constant plane).
    """
    context = np.asarray(context, np.float32)
    mask = np.asarray(mask, bool)
    levels = np.asarray(levels)
    ctx = context[mask]
    white = render_fast(ctx, size=cfg.size)
    black = render_fast(ctx, size=cfg.size, background=(0.0, 0.0, 0.0))
    cover = 1.0 - (white - black).mean(-1)
    free = np.array(
        [1.0 - mask[levels == k].mean() if (levels == k).any() else 0.0 for k in range(cfg.n_levels)],
        np.float32,
    )
    x = np.empty((cfg.in_channels, cfg.size, cfg.size), np.float32)
    x[:3] = white.transpose(2, 0, 1)
    x[3] = cover
    x[4:] = free[:, None, None]
    return x


def predict_render(net: RenderNet, context: np.ndarray, mask: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The expected render (S, S, 3) in [0, 1] of the painting whose ``context`` slots are ``mask``."""
    x = torch.from_numpy(refiner_input(context, mask, levels, net.cfg))[None]
    with torch.no_grad():
        y = net(x)[0]
    return y.numpy().transpose(1, 2, 0).astype(np.float64)


def fit_expected(
    start: np.ndarray, mask: np.ndarray, expected: np.ndarray, on_top: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Complete's best guess: the generated slots of ``start`` (N, 8) fitted to the ``expected`` render.

    :func:`engines.painting.model.fit_to_render`, then the generated strokes that
    still move the render away from ``expected`` are left out
    (:func:`engines.painting.model.prune_to_render`). ``on_top``: rendered as
    Complete adds proposals, over the context. Returns (painting (N, 8), keep (N,)
    bool: the context slots and the generated slots kept).
    """
    fitted = fit_to_render(start, mask, expected, on_top=on_top)
    return fitted, prune_to_render(fitted, mask, expected, on_top=on_top)


def _batch(
    data: np.ndarray,
    levels: np.ndarray,
    rng: np.random.Generator,
    n: int,
    cfg: RefinerConfig,
    inset_share: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    paintings = augment(data[rng.integers(0, len(data), size=n)].astype(np.float32), rng)
    paintings = inset(paintings, rng, inset_share)  # (at 0 it draws nothing: the data order is kept)
    xs = np.empty((n, cfg.in_channels, cfg.size, cfg.size), np.float32)
    ys = np.empty((n, 3, cfg.size, cfg.size), np.float32)
    for i, q in enumerate(paintings):
        mode = REFINER_MODES[int(rng.integers(len(REFINER_MODES)))]
        mask = make_mask(mode, q, levels, rng, None)
        xs[i] = refiner_input(q, mask, levels, cfg)
        ys[i] = render_fast(q, size=cfg.size).transpose(2, 0, 1)
    return torch.from_numpy(xs), torch.from_numpy(ys)


def val_ratios(
    net: RenderNet, val: np.ndarray, levels: np.ndarray, seeds: tuple[int, ...] = (0, 1)
) -> dict[str, float]:
    """Per masking mode: the predicted render's squared error over the context render's.

    Summed over the paintings ``val``, the context ratios 0.2-0.8 and ``seeds``
    of the masks (below 1: the prediction is closer to the finished painting
    than the context alone).
    """
    out = {}
    was = net.training
    net.eval()
    for k, mode in enumerate(REFINER_MODES):
        num = den = 0.0
        for i, q in enumerate(val):
            truth = render_fast(q, size=net.cfg.size)
            for p in VAL_RATIOS:
                for s in seeds:
                    rng = np.random.default_rng([s, i, int(p * 100), k])
                    mask = make_mask(mode, q, levels, rng, p)
                    x = refiner_input(q, mask, levels, net.cfg)  # (read once: its RGB is the context)
                    with torch.no_grad():
                        pred = net(torch.from_numpy(x)[None])[0].numpy()
                    num += float(((pred.transpose(1, 2, 0) - truth) ** 2).mean())
                    den += float(((x[:3].transpose(1, 2, 0) - truth) ** 2).mean())
        out[mode] = num / den if den > 0 else float("nan")
    net.train(was)
    return out


# --------------------------------------------------------------------------
# training
# --------------------------------------------------------------------------


def train_refiner_job(
    data: np.ndarray,
    levels: np.ndarray,
    cfg: RefinerConfig | None = None,
    tp: RefinerTrainParams | None = None,
    seed: int = 0,
    val: np.ndarray | None = None,
    resume: dict | None = None,
    checkpoint=None,
) -> Job:
    """Train a :class:`RenderNet` on paintings ``data`` (M, N, 8); yields Progress, returns (net, history).

    Each step draws ``tp.batch`` paintings (flipped and colour-jittered as the
    completion model's are), one masking mode and context ratio for each, and
    takes the squared error between the predicted and the true render. A cosine
    schedule runs over ``tp.steps``. ``checkpoint`` (a callable) gets the whole
    state at every report (:func:`save_refiner_state` writes it) and ``resume``
    (:func:`load_refiner_state`) continues it: the same schedule, optimiser
    moments and data order from the step resumed at. ``tp.max_seconds`` ends
    a chunk early; the run resumes where it stopped.
    """
    if resume is not None:
        cfg = RefinerConfig.from_dict(resume["config"])
    cfg = cfg or RefinerConfig(n_levels=int(np.max(levels)) + 1)
    tp = tp or RefinerTrainParams()
    data = np.asarray(data)
    if data.ndim != 3 or data.shape[-1] != 8 or data.shape[1] != len(levels):
        raise ValueError(f"training data has shape {data.shape}, expected (M, {len(levels)}, 8)")
    if int(np.max(levels)) >= cfg.n_levels:
        raise ValueError(f"levels reach {int(np.max(levels))}, RefinerConfig.n_levels = {cfg.n_levels}")
    start = int(resume["step"]) if resume is not None else 0
    if start >= tp.steps:
        raise ValueError(f"resume: the checkpoint is at step {start}, RefinerTrainParams.steps = {tp.steps}")
    torch.manual_seed(seed + start)
    rng = np.random.default_rng([seed, start])
    net = RenderNet(cfg)
    opt = torch.optim.AdamW(net.parameters(), lr=tp.lr, weight_decay=1e-4)
    history: dict[str, list[float]] = {"step": [], "loss": [], "val_loss": []}
    if resume is not None:
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in resume["weights"].items()})
        if resume.get("optimizer"):
            _load_optimizer_state(opt, resume["optimizer"])
        history = {k: [float(x) for x in v] for k, v in resume.get("history", {}).items()} or history
    vx = vy = None
    if val is not None and len(val):
        vx, vy = _batch(np.asarray(val), levels, np.random.default_rng(12345), 4 * len(val), cfg)
    t0 = time.perf_counter()
    running, count = 0.0, 0
    net.train()
    for step in range(start + 1, tp.steps + 1):
        frac = (step - 1) / max(1, tp.steps)
        lr = tp.lr * min(1.0, step / max(1, tp.warmup)) * 0.5 * (1 + math.cos(math.pi * frac))
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = _batch(data, levels, rng, tp.batch, cfg, tp.inset)
        loss = ((net(x) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        running += float(loss.detach())
        count += 1
        out_of_time = tp.max_seconds > 0 and (time.perf_counter() - t0) >= tp.max_seconds
        last = step == tp.steps or out_of_time
        if step % tp.report_every == 0 or last:
            vl = float("nan")
            if vx is not None:
                net.eval()
                with torch.no_grad():
                    vl = float(((net(vx) - vy) ** 2).mean())
                net.train()
            history["step"].append(step)
            history["loss"].append(running / count)
            history["val_loss"].append(vl)
            if checkpoint is not None:
                checkpoint(training_state(cfg, tp, seed, step, net, opt, history))
            yield Progress(
                step,
                tp.steps,
                f"step {step}/{tp.steps} loss {running / count:.5f} val {vl:.5f} "
                f"({time.perf_counter() - t0:.0f} s)",
                (net, history),
            )
            running, count = 0.0, 0
        if last:
            break
    net.eval()
    return net, history


# --------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------


def save_refiner(net: RenderNet, path: str | Path, extra: dict | None = None) -> None:
    save_network(net, path, REFINER_KIND, extra)


def load_refiner(path: str | Path) -> RenderNet:
    """Load weights written by :func:`save_refiner`; errors name the file."""
    return load_network(path, REFINER_KIND, RefinerConfig, RenderNet, "the render network")


def save_refiner_state(path: str | Path, state: dict) -> None:
    """Write a training state (the ``value`` of :func:`train_refiner_job`'s ``checkpoint`` callback)."""
    save_state(path, state, REFINER_STATE_KIND)


def load_refiner_state(path: str | Path) -> dict:
    """Read a state written by :func:`save_refiner_state` (to resume :func:`train_refiner_job`)."""
    return load_state(path, REFINER_STATE_KIND)
