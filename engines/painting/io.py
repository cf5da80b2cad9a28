"""The painting's files: the document as JSON, images in and out, the studio's exports.

The readers and writers live beside what they read (:mod:`engines.painting.strokes`
for the document, :mod:`engines.painting.imageio` for images); this module gathers
them and adds the exports of an engine's current painting, which run where the
engine lives (on its runner's worker in the studio).
"""

from __future__ import annotations

import os
from pathlib import Path

from engines.painting.engine import PaintingEngine
from engines.painting.imageio import load_image, save_png, strokes_svg
from engines.painting.strokes import PaintingFormatError, load_painting, save_painting


def save_json(engine: PaintingEngine, path: str | os.PathLike) -> None:
    """Save the engine's painting as JSON (:func:`engines.painting.strokes.save_painting`)."""
    save_painting(engine.document(), path)


def export_png(engine: PaintingEngine, path: str | os.PathLike, size: int = 1024) -> None:
    """Write the engine's painting rendered at ``size`` pixels as a PNG."""
    save_png(engine.export_image(size), path)


def export_svg(engine: PaintingEngine, path: str | os.PathLike, size: int = 1024) -> None:
    """Write the engine's painting as an SVG of ``size`` pixels."""
    Path(path).write_text(engine.export_svg(size))


__all__ = [
    "PaintingFormatError",
    "export_png",
    "export_svg",
    "load_image",
    "load_painting",
    "save_json",
    "save_painting",
    "save_png",
    "strokes_svg",
]
