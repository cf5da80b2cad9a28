"""Collaborative neural painting: strokes, renderers, decomposition, completion model.

Headless; no Qt. :mod:`engines.painting.params` (the engine's parameters),
:mod:`engines.painting.engine` (the engine behind the canvas and its snapshot),
:mod:`engines.painting.io` (files: JSON, images, exports), :mod:`engines.painting.cli`
(``python -m engines painting ...``); :mod:`engines.painting.strokes` (the document),
:mod:`engines.painting.render` (renderers), :mod:`engines.painting.decompose`
(image -> strokes) and :mod:`engines.painting.model` (completion by diffusion).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engines import lazy_exports

if TYPE_CHECKING:
    from engines.painting.engine import PaintingEngine, PaintingSnapshot
    from engines.painting.params import COMPLETE_MODES, PaintingParams

__all__ = ["COMPLETE_MODES", "PaintingEngine", "PaintingParams", "PaintingSnapshot"]

# imported on first use: the engine needs torch, and the strokes document (which the room
# server uses) must not pull it in
_LAZY = {
    "PaintingEngine": "engines.painting.engine",
    "PaintingSnapshot": "engines.painting.engine",
    "PaintingParams": "engines.painting.params",
    "COMPLETE_MODES": "engines.painting.params",
}


__getattr__ = lazy_exports(__name__, _LAZY)
