"""Population geometry: manifolds of clean, adversarial and stochastic digit networks in 3-D.

:mod:`.panel` wires the areas: :mod:`.controls` (parameters, Analyze / Stop,
noise slider, view selectors, exports, import), :mod:`.views3d` (the three
models side by side in 3-D: :mod:`.scatter3d` one view, :mod:`.legend` the
colours), :mod:`.plots` (capacity, radius, dimension and accuracy curves) and
:mod:`.imported` (the user's own activations: a table and a 3-D view).
"""

from studio.panels.geometry.panel import GeometryPanel

__all__ = ["GeometryPanel"]
