"""Spiking networks: LIF neurons (conductance- and current-based), STDP, monitors.

* :mod:`.engine` / :mod:`.kernels`: :class:`SpikingEngine`, whose numba
  kernels advance a whole chunk of time steps per call without the GIL;
* :mod:`.params`: :class:`SpikingParams` and the presets (COBA, CUBA,
  small-world, STDP with Poisson inputs), :class:`NeuroCoreXParams`;
* :mod:`.connectivity`: fixed probability, dense, networkx graphs, edge lists;
* :mod:`.io`: the files it reads and writes: edge lists, NWB spike exports,
  saved states;
* :mod:`.inputs`: rate coding of images;
* :mod:`.neurocorex`: the NeuroCoreX integer datapath (Q7.10 LIF, int8
  weights, rectangular STDP) in two profiles: ``chip`` (:mod:`.ncx_chip`, as
  the public VHDL does, the default; its STDP clock by clock in
  :mod:`.ncx_chip_stdp`) and ``extended``; :mod:`.ncx_digits` its
  digits preset, :mod:`.ncx_chip_digits` the digits on the chip profile;
* :mod:`.tess`: TESS-style local learning of feed-forward SNN classifiers;
* :mod:`.geometry`: the population geometry (MFTMA capacity, radius,
  dimension, center correlation) of these networks' responses to digits,
  recorded per population and time window as geometry activations files;
* :mod:`.display`: what the studio's views compute (raster and rate binning,
  rolling record windows, the network layout), headless;
* :mod:`.cli`: ``python -m engines spiking run|train|record|presets``.
"""

from .engine import SpikingEngine, SpikingRecords, SpikingSnapshot, StreamCursors
from .neurocorex import NeuroCoreXEngine, NeuroCoreXSnapshot
from .params import PRESETS, NeuroCoreXParams, SpikingParams, preset

__all__ = [
    "PRESETS",
    "NeuroCoreXEngine",
    "NeuroCoreXParams",
    "NeuroCoreXSnapshot",
    "SpikingEngine",
    "SpikingParams",
    "SpikingRecords",
    "SpikingSnapshot",
    "StreamCursors",
    "preset",
]
