"""The painting's files: the document as JSON, images in and out, the studio's exports.

The readers and writers live beside what they read (:mod:`engines.painting.strokes`
for the document, :mod:`engines.painting.imageio` for images); this module gathers
them and adds the exports of an engine's current painting, which run where the
engine lives (on its runner's worker in the studio).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from engines.base import Job, Progress
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


def demo_job(engine: PaintingEngine, seconds: float = 4.0, path: str | os.PathLike = DEMO_STROKES) -> Job:
    """Paint the demo (:func:`paint_demo`) as a job the studio can show progress of.

    First the renderer is made ready (its compiled kernels are loaded, or compiled on a first
    launch: seconds), then the strokes are added a few at a time over about ``seconds``, so the
    painting builds up on screen; each yield says how far it is ("Painting the demo: 40 / 180
    strokes"). Returns the demo's name.
    """
    from engines.painting.render import render_fast

    demo = demo_strokes(path)
    n = 0 if demo is None else len(demo[0])
    yield Progress(0, max(n, 1), "Painting the demo: preparing the renderer")
    render_fast(np.array([[0.5, 0.5, 0.2, 0.001, 0.1, 0.0, 0.0, 0.0]]), size=16, footprint=True)
    if demo is None:
        return paint_demo(engine, path)
    params, source = demo
    steps = max(1, min(n, int(seconds * 30)))
    edges = np.linspace(0, n, steps + 1).round().astype(int)
    t0 = time.perf_counter()
    for i in range(steps):
        engine.add_strokes(params[edges[i] : edges[i + 1]], author="reference")
        yield Progress(int(edges[i + 1]), n, f"Painting the demo: {edges[i + 1]} / {n} strokes")
        wait = t0 + seconds * (i + 1) / steps - time.perf_counter()
        if wait > 0:
            time.sleep(min(wait, 0.1))  # (the worker takes edits between two yields)
    return source


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
    "demo_job",
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
