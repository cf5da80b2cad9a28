"""The spiking activity workbench: a live view over :class:`engines.spiking.SpikingEngine`.

* :mod:`.panel`: :class:`SpikingPanel`, the wiring: it reads the engine's
  streams on the worker (``runner.submit``), keeps the last seconds of them and
  dispatches each snapshot to the visible views;
* :mod:`.activity`: the Activity tab (:mod:`.raster`, :mod:`.rates` and
  :mod:`.traces` sharing one time axis);
* :mod:`.weights`, :mod:`.network`, :mod:`.training`, :mod:`.neurocorex`: the
  other tabs; :mod:`.controls`: presets, pacing, read-outs and the parameter form;
* :mod:`.constants`: colours, tabs and the bounds of what the views keep.

What the views compute (binning, layouts, windows) lives in
:mod:`engines.spiking.display`; these modules only format and draw.
"""

from .constants import E_RGB, I_RGB, IN_RGB
from .panel import SpikingPanel

__all__ = ["E_RGB", "I_RGB", "IN_RGB", "SpikingPanel"]
