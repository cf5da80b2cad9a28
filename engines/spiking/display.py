"""The computations behind the studio's spiking views, free of Qt and testable headless.

* :class:`RollingRecords`: the records a view keeps (spikes, rates, membrane
  traces), bounded in time and rows, cut to the visible window;
* :func:`bin_raster`: spikes painted into an RGBA pixel buffer at the view's
  own resolution (one word per pixel; numba, no GIL);
* :func:`bin_rates`: E and I population rates in bins of ~1 ms;
* :func:`flashing`: the neurons that spiked in the last few milliseconds;
* :func:`network_layout`: a networkx spring layout of the network and its
  edges as line segments (slow: run it on the worker, never on the GUI thread).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from engines.base import frozen_array

__all__ = [
    "NetworkLayout",
    "PopulationRates",
    "RollingRecords",
    "bin_raster",
    "bin_rates",
    "flashing",
    "network_layout",
]


class RollingRecords:
    """Rolling store of record arrays whose first column is a time step, bounded in time and rows.

    Parameters
    ----------
    keep_s
        Records older than ``keep_s`` seconds before the newest time are dropped (chunk by chunk).
    max_rows
        At most about this many rows are kept (the oldest chunks go first).
    """

    def __init__(self, keep_s: float, max_rows: int):
        self.keep_s = keep_s
        self.max_rows = max_rows
        self.chunks: list[np.ndarray] = []
        self.rows = 0

    def clear(self) -> None:
        self.chunks = []
        self.rows = 0

    def add(self, rec: np.ndarray, t_now: float, time_of: Callable[[np.ndarray], float]) -> None:
        """Append ``rec`` (rows sorted by step) and drop the chunks older than ``t_now - keep_s``."""
        if rec.shape[0]:
            self.chunks.append(rec)
            self.rows += rec.shape[0]
        lo = t_now - self.keep_s
        while self.chunks and (
            time_of(self.chunks[0][-1]) < lo or self.rows - self.chunks[0].shape[0] > self.max_rows
        ):
            self.rows -= self.chunks[0].shape[0]
            self.chunks.pop(0)

    def window(self, s0: float, s1: float, width: int) -> np.ndarray:
        """Rows whose first column (a step, sorted) lies in [s0, s1]."""
        parts = []
        for c in self.chunks:
            if c[-1, 0] < s0 or c[0, 0] > s1:
                continue
            if c[0, 0] >= s0 and c[-1, 0] <= s1:
                parts.append(c)
            else:
                a, b = np.searchsorted(c[:, 0], [s0, s1 + 1e-9])
                parts.append(c[a:b])
        if not parts:
            return np.zeros((0, width))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def all(self, width: int) -> np.ndarray:
        if not self.chunks:
            return np.zeros((0, width))
        return np.concatenate(self.chunks) if len(self.chunks) > 1 else self.chunks[0]


@njit(nogil=True, cache=True)
def _paint(data, s0, sx, y0, sy, wpx, hpx, n_exc, n, lut32, pix):
    """Paint the pixel of every spike (step, id) in its population's colour; returns the count."""
    k = 0
    for r in range(data.shape[0]):
        xi = int(np.floor((data[r, 0] - s0) * sx))
        yi = int(np.floor((data[r, 1] - y0) * sy))
        if 0 <= xi < wpx and 0 <= yi < hpx:
            j = data[r, 1]
            pix[yi * wpx + xi] = lut32[1 if j < n_exc else (2 if j < n else 3)]
            k += 1
    return k


def bin_raster(
    spikes: np.ndarray,
    steps: tuple[float, float],
    units: tuple[float, float],
    size: tuple[int, int],
    n_exc: int,
    n: int,
    lut32: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Paint spikes ``(step, unit)`` into a ``height x width`` image of 32-bit colour words.

    ``steps`` = (s0, s1) and ``units`` = (y0, y1) are the visible ranges; ``lut32``
    holds four colours: background, excitatory (unit < ``n_exc``), inhibitory
    (unit < ``n``) and input. Returns the pixels (``uint32``, row ``y`` is unit
    ``y0 + y * (y1 - y0) / height``) and how many spikes fell inside the view.
    """
    wpx, hpx = size
    (s0, s1), (y0, y1) = steps, units
    pix = np.full(hpx * wpx, lut32[0], np.uint32)
    drawn = 0
    if spikes.shape[0] and s1 > s0 and y1 > y0:
        drawn = _paint(spikes, s0, wpx / (s1 - s0), y0, hpx / (y1 - y0), wpx, hpx, n_exc, n, lut32, pix)
    return pix.reshape(hpx, wpx), int(drawn)


@dataclass(frozen=True)
class PopulationRates:
    """Mean rates (Hz) of the excitatory and inhibitory populations per bin; ``t_s`` the bins' starts."""

    t_s: np.ndarray
    e_hz: np.ndarray
    i_hz: np.ndarray


def bin_rates(rates: np.ndarray, dt_s: float, n: int, n_exc: int, bin_s: float = 1e-3) -> PopulationRates:
    """Population rates from per-step records ``(step, E spikes, I spikes)`` in bins of ``bin_s``.

    A bin's rate divides its spikes by the population and by the time the
    records cover inside it (a bin half held counts half the time); bins
    without records are left out. ``i_hz`` is empty when there are no
    inhibitory neurons.
    """
    if rates.shape[0] == 0:
        empty = frozen_array(np.zeros(0))
        return PopulationRates(empty, empty, empty)
    per_bin = max(1, int(round(bin_s / dt_s)))
    b = rates[:, 0].astype(np.int64) // per_bin
    b0 = b[0]
    idx = b - b0
    ne = np.bincount(idx, weights=rates[:, 1])
    ni = np.bincount(idx, weights=rates[:, 2])
    cnt = np.bincount(idx)
    keep = cnt > 0
    t = (np.arange(ne.size) + b0) * per_bin * dt_s
    held_s = np.maximum(cnt, 1) * dt_s
    n_i = n - n_exc
    re = ne / max(n_exc, 1) / held_s
    ri = ni / max(n_i, 1) / held_s if n_i else np.zeros(0)
    return PopulationRates(
        frozen_array(t[keep]), frozen_array(re[keep]), frozen_array(ri[keep] if n_i else ri)
    )


def flashing(spikes: np.ndarray, n: int) -> np.ndarray:
    """A boolean mask of the ``n`` neurons that appear in ``spikes`` (inputs, ids >= n, left out)."""
    ids = np.asarray(spikes[:, 1])
    lit = np.zeros(n, bool)
    lit[ids[(ids >= 0) & (ids < n)].astype(np.int64)] = True
    return lit


@dataclass(frozen=True)
class NetworkLayout:
    """Node positions ``xy`` (n, 2) and edges as segment end points ``segments`` (2 x edges, 2)."""

    xy: np.ndarray
    segments: np.ndarray


def network_layout(
    pre: np.ndarray,
    post: np.ndarray,
    n: int,
    *,
    seed: int = 0,
    iterations: int = 40,
    max_edges: int = 6000,
) -> NetworkLayout:
    """A spring layout of the ``n`` neurons joined by synapses ``pre[k] -> post[k]``.

    Synapses from inputs (``pre >= n``) are left out. At most ``max_edges``
    edges are returned as segments (a sample drawn with ``seed``); the layout
    itself uses every edge. Takes seconds for large networks: call it on a
    worker thread.
    """
    import networkx as nx

    pre, post = np.asarray(pre), np.asarray(post)
    rec = pre < n
    pre, post = pre[rec], post[rec]
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(pre.tolist(), post.tolist(), strict=True))
    pos = nx.spring_layout(g, seed=seed, iterations=iterations)
    xy = np.array([pos[i] for i in range(n)]).reshape(n, 2)
    if pre.size > max_edges:
        keep = np.random.default_rng(seed).choice(pre.size, max_edges, replace=False)
        pre, post = pre[keep], post[keep]
    seg = np.empty((2 * pre.size, 2))
    seg[0::2], seg[1::2] = xy[pre], xy[post]
    return NetworkLayout(frozen_array(xy), frozen_array(seg))
