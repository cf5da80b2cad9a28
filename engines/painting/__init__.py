"""Collaborative neural painting: strokes, renderers, decomposition, completion model.

Headless; no Qt. :mod:`engines.painting.params` (the engine's parameters),
:mod:`engines.painting.engine` (the engine behind the canvas and its snapshot),
:mod:`engines.painting.io` (files: JSON, images, exports), :mod:`engines.painting.cli`
(``python -m engines painting ...``); :mod:`engines.painting.strokes` (the document),
:mod:`engines.painting.render` (renderers), :mod:`engines.painting.decompose`
(image -> strokes) and :mod:`engines.painting.model` (completion by diffusion).
"""

from engines.painting.engine import PaintingEngine, PaintingSnapshot
from engines.painting.params import COMPLETE_MODES, PaintingParams

__all__ = ["COMPLETE_MODES", "PaintingEngine", "PaintingParams", "PaintingSnapshot"]
