"""Aggregation of sweep results for plots: axes of distinct values, means over seeds, colour levels.

Plain numpy on the columns of a :class:`~engines.sweep.engine.SweepSnapshot`; the
Sweeps panel only draws what these return.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cell_means", "codes", "codes_on", "colour_levels", "curve_means", "unit_scale"]


def codes(values: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(sorted unique values, their labels, the index of each value).

    Text columns (dtype ``object``) sort as strings; numbers are labelled with 4 significant digits.
    """
    if values.dtype == object:
        uniq, idx = np.unique(values.astype(str), return_inverse=True)
        return uniq, [str(u) for u in uniq], idx
    uniq, idx = np.unique(values, return_inverse=True)
    return uniq, [f"{u:.4g}" for u in uniq], idx


def codes_on(values: np.ndarray, axis: tuple = ()) -> tuple[np.ndarray, list[str], np.ndarray]:
    """:func:`codes` over the union of ``values`` and ``axis`` (a grid parameter's every value), so a
    heat map has its whole grid from the first point on and fills in as results arrive."""
    if not axis:
        return codes(values)
    if values.dtype == object:
        extra = np.array([str(a) for a in axis], dtype=object)
    else:
        try:
            extra = np.array([float(a) for a in axis], dtype=values.dtype)
        except (TypeError, ValueError):  # text values in a numeric column: leave the grid out
            return codes(values)
    uniq, labels, idx = codes(np.concatenate([values, extra]))
    return uniq, labels, idx[: len(values)]


def cell_means(xi: np.ndarray, yi: np.ndarray, m: np.ndarray, nx: int, ny: int) -> np.ndarray:
    """The mean of ``m`` in each cell (``xi``, ``yi``) of an ``nx`` x ``ny`` grid, over its finite
    values (the seeds of a point); NaN where a cell has none."""
    good = np.isfinite(m)
    s = np.zeros((nx, ny))
    c = np.zeros((nx, ny))
    np.add.at(s, (xi[good], yi[good]), m[good])
    np.add.at(c, (xi[good], yi[good]), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan)


def curve_means(xi: np.ndarray, m: np.ndarray, nx: int) -> np.ndarray:
    """The mean of ``m`` for each of the ``nx`` values of X (NaN where none is finite)."""
    return cell_means(xi, np.zeros(len(xi), int), m, nx, 1)[:, 0]


def colour_levels(values: np.ndarray) -> tuple[float, float]:
    """(lowest, highest) finite value, for a colour map; (0, 1) when none is finite, and a
    range of 1e-12 above the lowest when all are equal."""
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1e-12
    return lo, hi


def unit_scale(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``values`` mapped linearly so that ``lo`` is 0 and ``hi`` is 1 (NaN stays NaN)."""
    return (values - lo) / max(hi - lo, 1e-12)
