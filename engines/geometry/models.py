"""Small convolutional networks on scikit-learn's 8x8 digits.

Three kinds, after Dapello, Feather et al. (NeurIPS 2021):

* ``standard``: a plain CNN;
* ``adversarial``: the same CNN trained on PGD examples (Madry et al. 2018);
* ``stochastic``: a VOneNet-style front end (fixed Gabor filter bank, simple
  and complex cells) followed by Poisson-like noise,
  ``r = x * gain + level; r += sqrt(relu(r) + eps) * noise * noise_scale;
  out = (r - level) / gain``, then the same trainable back end.

Layers exposed for analysis: ``pixels``, ``front``, ``conv2``, ``conv3``,
``fc1`` (the last hidden layer) and ``logits``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from engines.serialize import FormatError, load_state, numeric_arrays, save_state

__all__ = [
    "KINDS",
    "LAYERS",
    "DigitNet",
    "DigitsData",
    "gabor_bank",
    "load_digits_data",
    "load_model",
    "save_model",
]

KINDS = ("standard", "adversarial", "stochastic")
LAYERS = ("pixels", "front", "conv2", "conv3", "fc1", "logits")
STATE_KIND = "geometry.digitnet"


@dataclass(frozen=True)
class DigitsData:
    x_train: np.ndarray  # (n, 1, 8, 8) float32 in [0, 1]
    y_train: np.ndarray  # (n,) int64
    x_test: np.ndarray
    y_test: np.ndarray


@functools.lru_cache(maxsize=4)
def load_digits_data(test_size: int = 500, seed: int = 0) -> DigitsData:
    """scikit-learn's 1,797 8x8 digits, scaled to [0, 1], stratified split (cached: do not modify)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return DigitsData(xtr, ytr, xte, yte)


def gabor_bank(size: int = 5, n_orient: int = 4, freqs=(0.25, 0.4), sigma: float = 1.2) -> np.ndarray:
    """Quadrature pairs of Gabor filters: (2 * n_orient * len(freqs), 1, size, size).

    Channels are ordered [phase 0 filters..., phase pi/2 filters...].
    """
    r = (size - 1) / 2.0
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    even, odd = [], []
    for f in freqs:
        for k in range(n_orient):
            th = math.pi * k / n_orient
            u = xx * math.cos(th) + yy * math.sin(th)
            env = np.exp(-(xx**2 + yy**2) / (2 * sigma**2))
            for phase, out in ((0.0, even), (math.pi / 2, odd)):
                g = env * np.cos(2 * math.pi * f * u + phase)
                g = g - g.mean()
                out.append(g / np.linalg.norm(g))
    return np.array(even + odd, dtype=np.float32)[:, None]


class DigitNet(nn.Module):
    """A small CNN; ``kind='stochastic'`` swaps the first conv for a VOne block."""

    def __init__(
        self,
        kind: str = "standard",
        *,
        gain: float = 4.0,
        level: float = 1.0,
        noise_scale: float = 1.0,
        noise_eps: float = 1e-5,
    ):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"DigitNet.kind = {kind!r}: allowed values are {', '.join(KINDS)}")
        self.kind = kind
        self.gain = float(gain)
        self.level = float(level)
        self.noise_scale = float(noise_scale)
        self.noise_eps = float(noise_eps)
        self.noise_on = kind == "stochastic"
        self.noise_generator: torch.Generator | None = None
        if kind == "stochastic":
            bank = torch.from_numpy(gabor_bank())
            self.register_buffer("gabor", bank)  # fixed, not trained
            self.front_channels = bank.shape[0]  # 8 simple + 8 complex cells
        else:
            self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
            self.front_channels = 16
        self.conv2 = nn.Conv2d(self.front_channels, 32, 3, padding=1)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    # -- the VOne block ------------------------------------------------------
    def _vone(self, x: torch.Tensor) -> torch.Tensor:
        q = F.conv2d(x, self.gabor, padding=self.gabor.shape[-1] // 2)
        h = q.shape[1] // 2
        q0, q1 = q[:, :h], q[:, h:]
        simple = F.relu(q0)  # simple cells: rectified even-phase responses
        complex_ = torch.sqrt(1e-5 + q0**2 + q1**2) / math.sqrt(2)  # complex cells: energy
        return torch.cat([simple, complex_], dim=1)

    def _noise(self, r: torch.Tensor) -> torch.Tensor:
        if not self.noise_on or self.noise_scale == 0:
            return r
        r = r * self.gain + self.level
        z = torch.randn(r.shape, generator=self.noise_generator, dtype=r.dtype, device=r.device)
        r = r + torch.sqrt(F.relu(r) + self.noise_eps) * z * self.noise_scale
        return (r - self.level) / self.gain

    def front(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "stochastic":
            return self._noise(self._vone(x))
        return F.relu(self.conv1(x))

    def forward(self, x: torch.Tensor, return_layers: bool = False):
        acts = {"pixels": x.flatten(1)} if return_layers else None
        h = self.front(x)
        if return_layers:
            acts["front"] = h.flatten(1)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        if return_layers:
            acts["conv2"] = h.flatten(1)
        h = F.max_pool2d(F.relu(self.conv3(h)), 2)
        if return_layers:
            acts["conv3"] = h.flatten(1)
        h = F.relu(self.fc1(h.flatten(1)))
        if return_layers:
            acts["fc1"] = h
        out = self.fc2(h)
        if return_layers:
            acts["logits"] = out
            return out, acts
        return out

    def set_noise(self, on: bool | None = None, scale: float | None = None, seed: int | None = None) -> None:
        """Switch the stochastic front end's noise, its scale, and seed its generator."""
        if on is not None:
            self.noise_on = bool(on) and self.kind == "stochastic"
        if scale is not None:
            if not (scale >= 0 and math.isfinite(scale)):
                raise ValueError(f"noise_scale = {scale}: must be a finite number >= 0")
            self.noise_scale = float(scale)
        if seed is not None:
            self.noise_generator = torch.Generator().manual_seed(int(seed))

    @property
    def stochastic(self) -> bool:
        return self.kind == "stochastic" and self.noise_on and self.noise_scale > 0


def save_model(model: DigitNet, path: str | Path, meta: dict | None = None) -> None:
    state = {
        "kind": model.kind,
        "gain": model.gain,
        "level": model.level,
        "noise_scale": model.noise_scale,
        "weights": {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()},
        "meta": meta or {},
    }
    save_state(path, state, STATE_KIND)


def load_model(path: str | Path) -> DigitNet:
    """Load a network written by :func:`save_model`; errors name the file."""
    d = load_state(path, STATE_KIND)
    weights = numeric_arrays(d.get("weights"), str(path))
    try:
        scalars = {k: d[k] for k in ("gain", "level", "noise_scale")}
        for k, v in scalars.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"field {k!r} = {v!r} is not a finite number")
        model = DigitNet(d["kind"], **scalars)
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    except Exception as e:  # a malformed tree: KeyError, TypeError, ValueError, torch's RuntimeError
        raise FormatError(f"{path}: not a digit network ({type(e).__name__}: {e})") from None
    model.eval()
    return model
