"""The painting's files: the document as JSON, images in and out, the studio's exports.

The readers and writers live beside what they read (:mod:`engines.painting.strokes`
for the document, :mod:`engines.painting.imageio` for images); this module gathers
them and adds the exports of an engine's current painting, which run where the
engine lives (on its runner's worker in the studio).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engines.painting.engine import PaintingEngine
from engines.painting.imageio import load_image, save_png, strokes_svg
from engines.painting.strokes import PaintingFormatError, load_painting, save_painting

#: shipped training strokes: scikit-image samples decomposed into strokes
DEMO_STROKES = Path(__file__).resolve().parents[2] / "assets" / "painting" / "strokes.npz"
DEMO_SOURCE = "astronaut#1"


def demo_strokes(
    path: str | os.PathLike = DEMO_STROKES, source: str = DEMO_SOURCE
) -> tuple[np.ndarray, str] | None:
    """A decomposed sample image (the astronaut) from the shipped training strokes: its (N, 8)
    stroke parameters and its name; None when the file is missing or unreadable."""
    from engines.serialize import load_npz

    try:
        d = load_npz(path, keys=lambda k: k in ("source", "params"))
        names = [str(n) for n in d["source"]]
        i = names.index(source) if source in names else 0
        return np.asarray(d["params"][i], np.float64), names[i]
    except (OSError, KeyError, IndexError, ValueError):
        return None


def paint_demo(engine: PaintingEngine, path: str | os.PathLike = DEMO_STROKES) -> str:
    """Paint the demo into ``engine`` (the studio's screenshot): the astronaut's strokes, authored
    "reference", or without the shipped file twelve wavy drags of seeded colours. Returns its name."""
    demo = demo_strokes(path)
    if demo is not None:
        params, source = demo
        engine.add_strokes(params, author="reference")
        return source
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 20)
    for i in range(12):
        y0 = 0.1 + 0.07 * i
        pts = np.column_stack([0.1 + 0.8 * t, y0 + 0.05 * np.sin(6 * t + i)])
        engine.add_drag(pts, 0.04, tuple(float(c) for c in rng.random(3)))
    return "waves"


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
    "DEMO_STROKES",
    "PaintingFormatError",
    "demo_strokes",
    "export_png",
    "export_svg",
    "load_image",
    "load_painting",
    "paint_demo",
    "save_json",
    "save_painting",
    "save_png",
    "strokes_svg",
]
