"""What the geometry workbench plots, computed from a snapshot's rows (no Qt).

Each result row is one (model, layer, eps, seed[, noise]) analysis; the
workbench shows capacity, radius and dimension against eps at one layer and
against layer at one eps (mean and standard deviation over seeds), the
simulated capacity beside them, accuracy against eps, and one 3-D embedding
per model. The stochastic net may have been analysed at several noise levels:
the one shown is the analysed level nearest to the one asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engines.geometry.analysis import Embedding
from engines.geometry.models import LAYERS

__all__ = [
    "Curve",
    "accuracy_vs_eps",
    "embedding_for",
    "eps_values",
    "mean_sd",
    "metric_vs_eps",
    "metric_vs_layer",
    "model_rows",
    "nearest_level",
    "noise_levels",
    "simcap_vs_eps",
    "simcap_vs_layer",
    "unit_scaled",
]


@dataclass(frozen=True)
class Curve:
    """Points of one plotted line: x, y and the standard deviation of y (zeros when not measured)."""

    x: np.ndarray
    y: np.ndarray
    sd: np.ndarray

    @classmethod
    def of(cls, xs: Sequence[float], ys: Sequence[float], sd: Sequence[float] | None = None) -> Curve:
        x, y = np.asarray(xs, float), np.asarray(ys, float)
        return cls(x, y, np.zeros(len(x)) if sd is None else np.asarray(sd, float))


def eps_values(rows: Iterable[Mapping]) -> list[float]:
    """The perturbation sizes in the rows, ascending."""
    return sorted({r["eps"] for r in rows})


def noise_levels(rows: Iterable[Mapping]) -> list[float]:
    """The noise levels of the stochastic net in the rows, ascending."""
    return sorted({float(r["noise_scale"]) for r in rows if r["model"] == "stochastic"})


def nearest_level(levels: Sequence[float], value: float) -> float | None:
    """The level nearest to ``value`` (the lower one on a tie); None when there is none."""
    if not levels:
        return None
    return min(levels, key=lambda x: (abs(x - value), x))


def mean_sd(rows: Sequence[Mapping], key: str) -> tuple[float, float]:
    """Mean and standard deviation of ``key`` over ``rows`` (the seeds); 0 deviation for one row."""
    v = np.array([r[key] for r in rows], dtype=float)
    return float(v.mean()), float(v.std()) if len(v) > 1 else 0.0


def model_rows(rows: Iterable[Mapping], kind: str, level: float | None) -> list[Mapping]:
    """The rows of model ``kind``; for the stochastic net, only those at noise ``level`` (if given)."""
    mine = [r for r in rows if r["model"] == kind]
    if kind == "stochastic" and level is not None:
        mine = [r for r in mine if float(r["noise_scale"]) == level]
    return mine


def metric_vs_eps(mine: Sequence[Mapping], metric: str, layer: str, eps_vals: Sequence[float]) -> Curve:
    """``metric`` at ``layer`` against eps, mean and deviation over seeds (eps without rows left out)."""
    xs, ys, sd = [], [], []
    for e in eps_vals:
        sel = [r for r in mine if r["layer"] == layer and r["eps"] == e]
        if sel:
            m, s = mean_sd(sel, metric)
            xs.append(e), ys.append(m), sd.append(s)
    return Curve.of(xs, ys, sd)


def metric_vs_layer(
    mine: Sequence[Mapping], metric: str, eps: float | None, layers: Sequence[str] = LAYERS
) -> Curve:
    """``metric`` at ``eps`` against the index of the layer in ``layers`` (layers without rows left out)."""
    xs, ys, sd = [], [], []
    for li, name in enumerate(layers):
        sel = [r for r in mine if r["layer"] == name and r["eps"] == eps]
        if sel:
            m, s = mean_sd(sel, metric)
            xs.append(li), ys.append(m), sd.append(s)
    return Curve.of(xs, ys, sd)


def _simcap(mine: Sequence[Mapping], xs: Iterable, pick) -> Curve:
    pts = [(x, [r["simcap"] for r in mine if "simcap" in r and pick(r, x)]) for x in xs]
    pts = [(x, float(np.mean(v))) for x, v in pts if v]
    return Curve.of([x for x, _ in pts], [y for _, y in pts])


def simcap_vs_eps(mine: Sequence[Mapping], layer: str, eps_vals: Sequence[float]) -> Curve:
    """The simulated capacity (where measured) at ``layer`` against eps, mean over seeds."""
    return _simcap(mine, eps_vals, lambda r, x: r["layer"] == layer and r["eps"] == x)


def simcap_vs_layer(mine: Sequence[Mapping], eps: float | None, layers: Sequence[str] = LAYERS) -> Curve:
    """The simulated capacity (where measured) at ``eps`` against the layer index, mean over seeds."""
    return _simcap(mine, range(len(layers)), lambda r, x: r["layer"] == layers[x] and r["eps"] == eps)


def accuracy_vs_eps(accuracy: Mapping[tuple, float], kind: str, level: float | None) -> Curve:
    """Accuracy of model ``kind`` against eps. Keys are (model, eps), and (model, eps, noise) for the
    stochastic net analysed at several levels: then the curve is the one at noise ``level``."""
    if kind == "stochastic" and any(len(k) == 3 for k in accuracy):
        acc = sorted((k[1], a) for k, a in accuracy.items() if len(k) == 3 and k[2] == level)
    else:
        acc = sorted((k[1], a) for k, a in accuracy.items() if len(k) == 2 and k[0] == kind)
    return Curve.of([e for e, _ in acc], [a for _, a in acc])


def embedding_for(
    embeddings: Mapping[tuple, Embedding], kind: str, layer: str, eps: float | None, level: float | None
) -> Embedding | None:
    """The 3-D embedding of model ``kind`` at ``layer`` and ``eps``: for the stochastic net the one at
    noise ``level`` when analysed there, else the one of the main noise level."""
    emb = embeddings.get((kind, layer, eps, level)) if kind == "stochastic" else None
    if emb is None:
        emb = embeddings.get((kind, layer, eps))
    return emb


def unit_scaled(points: np.ndarray) -> np.ndarray:
    """``points`` as float32, divided by their largest absolute coordinate (so they fit in [-1, 1]^3)."""
    pts = np.asarray(points, np.float32)
    scale = float(np.abs(pts).max()) if pts.size else 0.0
    return pts / (scale or 1.0)
