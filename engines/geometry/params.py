"""The parameters of a geometry analysis: models, manifolds, layers, perturbations, noise, MFTMA."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engines.base import Params, param
from engines.geometry.models import KINDS, LAYERS

__all__ = ["AnalysisParams", "parse_floats", "parse_names"]


def parse_floats(text: str, name: str) -> tuple[float, ...]:
    try:
        vals = tuple(float(v) for v in str(text).replace(";", ",").split(",") if v.strip())
    except ValueError as e:
        raise ValueError(f"{name} = {text!r}: expected comma-separated numbers") from e
    if not vals:
        raise ValueError(f"{name}: give at least one value")
    if any(not np.isfinite(v) or v < 0 for v in vals):
        raise ValueError(f"{name} = {text!r}: values must be finite and >= 0")
    return vals


def parse_names(text: str, allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    vals = tuple(v.strip() for v in str(text).split(",") if v.strip())
    if vals == ("all",):
        return allowed
    bad = [v for v in vals if v not in allowed]
    if bad or not vals:
        raise ValueError(f"{name} = {text!r}: allowed values are all, {', '.join(allowed)}")
    return vals


@dataclass(frozen=True)
class AnalysisParams(Params):
    models: str = param("all", doc="comma list of standard, adversarial, stochastic (or all)")
    manifold: str = param("exemplar", choices=("class", "exemplar"), doc="class or exemplar manifolds")
    layers: str = param("front,conv2,conv3,fc1", doc="comma list of pixels, front, conv2, conv3, fc1, logits")
    eps: str = param("0,0.05,0.1,0.2", unit="L-inf or L2", doc="comma list of perturbation sizes")
    attack: str = param("pgd", choices=("pgd", "fgsm", "random"), doc="perturbation")
    norm: str = param("linf", choices=("linf", "l2"))
    steps: int = param(8, min=1, max=200, doc="PGD steps (step size eps / 4)")
    eot: int = param(4, min=1, max=64, doc="noise draws averaged per gradient for the stochastic net")
    noise_scale: float = param(1.0, min=0.0, max=5.0, doc="noise multiplier of the stochastic front end")
    noise_levels: str = param(
        "",
        doc="comma list of noise multipliers of the stochastic net, each analysed in this run "
        "(empty: the noise scale only)",
    )
    P: int = param(10, min=2, max=10, doc="number of manifolds (digits)")
    M: int = param(16, min=1, max=100, doc="points per manifold")
    kappa: float = param(0.0, min=0.0, max=5.0, doc="margin")
    n_t: int = param(100, min=10, max=2000, doc="Gaussian samples per manifold")
    seeds: int = param(1, min=1, max=20, doc="repetitions with different images and draws")
    seed: int = param(0, min=0)
    max_features: int = param(2000, min=10, max=100000, doc="random projection above this width")
    simcap: bool = param(False, doc="also measure the simulated capacity (slow)")

    def validate(self) -> None:
        parse_names(self.models, KINDS, "models")
        parse_names(self.layers, LAYERS, "layers")
        parse_floats(self.eps, "eps")
        if self.noise_levels.strip():
            levels = parse_floats(self.noise_levels, "noise_levels")
            if max(levels) > 5.0:
                raise ValueError(f"noise_levels = {self.noise_levels!r}: values must be <= 5")

    @property
    def noise_list(self) -> tuple[float, ...]:
        """The noise multipliers analysed for the stochastic net."""
        if self.noise_levels.strip():
            return tuple(dict.fromkeys(parse_floats(self.noise_levels, "noise_levels")))
        return (float(self.noise_scale),)

    @property
    def main_noise(self) -> float:
        """The level shown where one is shown: the noise scale when analysed, else the first."""
        levels = self.noise_list
        return float(self.noise_scale) if self.noise_scale in levels else levels[0]

    @property
    def model_list(self) -> tuple[str, ...]:
        return parse_names(self.models, KINDS, "models")

    @property
    def layer_list(self) -> tuple[str, ...]:
        return parse_names(self.layers, LAYERS, "layers")

    @property
    def eps_list(self) -> tuple[float, ...]:
        return parse_floats(self.eps, "eps")
