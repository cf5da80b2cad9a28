"""The painting workbench: a canvas over :class:`engines.painting.PaintingEngine`, with sessions.

:mod:`studio.panels.painting.panel` wires the areas; each area is one widget in its
own module (canvas, brush, edit bar, proposals, files, replay, stroke table,
session box) and :mod:`studio.panels.painting.session` keeps a shared room in step.
"""

from studio.panels.painting.panel import PaintingPanel

__all__ = ["PaintingPanel"]
