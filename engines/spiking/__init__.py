"""Spiking networks: LIF neurons (conductance- and current-based), STDP, monitors.

The hot loops are numba kernels (:mod:`engines.spiking.kernels`) that advance
a whole chunk of time steps per call without holding the GIL.
"""

from .engine import SpikingEngine, SpikingSnapshot
from .params import PRESETS, SpikingParams, preset

__all__ = ["PRESETS", "SpikingEngine", "SpikingParams", "SpikingSnapshot", "preset"]
