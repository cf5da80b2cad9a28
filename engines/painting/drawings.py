"""Drawings on bare canvas, generated: training images that are not photographs.

Every image the painting models learned from before was a photograph or a crop of one, and
their paintings cover the whole canvas. To those models bare canvas always meant paint still
to come, so around an icon or inside a line drawing on white they expected paint that is not
there. These images are diagrams, icons and sketches drawn with Pillow on a white or pale
canvas: lines and polylines of several widths, outlined and filled circles, boxes, rounded
boxes, polygons and arcs, node-and-edge graphs, and now and then a filled badge behind the
rest, as an app icon has. They are generated from a seed (``draw:K`` is the K-th), so a
dataset that uses them is rebuilt exactly and no image file ships.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DRAWING_PREFIX", "drawing", "drawing_names"]

#: source names of generated drawings: ``draw:K``
DRAWING_PREFIX = "draw:"

_PALETTES = (
    # strong (a plotting library's default cycle), pastel, greys with one accent, dark ink
    ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75)),
    ((174, 199, 232), (255, 187, 120), (152, 223, 138), (255, 152, 150), (197, 176, 213), (247, 182, 210)),
    ((60, 60, 60), (128, 128, 128), (190, 190, 190), (30, 90, 200)),
    ((0, 0, 0), (40, 40, 40), (20, 40, 90), (120, 20, 20)),
)


def drawing_names(n: int, start: int = 0) -> tuple[str, ...]:
    """The source names of ``n`` generated drawings from number ``start`` on."""
    return tuple(f"{DRAWING_PREFIX}{k}" for k in range(start, start + n))


def drawing(index: int, size: int = 192) -> np.ndarray:
    """The generated drawing number ``index`` as (size, size, 3) floats in [0, 1].

    Drawn at twice the size and halved (anti-aliased edges). The same index gives the same
    image on every machine (numpy's seeded generator, Pillow's primitives).
    """
    from PIL import Image, ImageDraw

    if index < 0:
        raise ValueError(f"drawing index {index}: must be 0 or more")
    rng = np.random.default_rng([0x5EED, index])
    big = 2 * size
    paper = (255, 255, 255) if rng.random() < 0.75 else tuple(int(v) for v in rng.integers(232, 256, 3))
    img = Image.new("RGB", (big, big), paper)
    d = ImageDraw.Draw(img)
    palette = _PALETTES[int(rng.integers(len(_PALETTES)))]

    def colour():
        c = np.array(palette[int(rng.integers(len(palette)))], float)
        return tuple(int(v) for v in np.clip(c + rng.normal(0, 12, 3), 0, 255))

    def point(margin=0.05):
        return tuple(float(v) for v in rng.uniform(margin * big, (1 - margin) * big, 2))

    def width():
        return int(rng.choice([2, 3, 4, 6, 8, 12]))

    if rng.random() < 0.25:  # a badge behind the drawing, as an app icon has
        m = rng.uniform(0.05, 0.2) * big
        d.rounded_rectangle((m, m, big - m, big - m), fill=colour(), radius=rng.uniform(0.05, 0.2) * big)
    kind = rng.choice(["shapes", "graph", "sketch"], p=[0.45, 0.3, 0.25])
    if kind == "graph":
        k = int(rng.integers(3, 9))
        nodes = [point(0.12) for _ in range(k)]
        for a in range(k):
            for b in range(a + 1, k):
                if rng.random() < 0.35:
                    d.line([nodes[a], nodes[b]], fill=colour(), width=width())
        r = rng.uniform(0.03, 0.07) * big
        for x, y in nodes:
            d.ellipse((x - r, y - r, x + r, y + r), fill=colour(), outline=(0, 0, 0), width=2)
    else:
        for _ in range(int(rng.integers(3, 13))):
            shape = rng.choice(["line", "polyline", "circle", "box", "rounded", "polygon", "arc"])
            (x0, y0), (x1, y1) = point(), point()
            box = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
            filled = kind == "shapes" and rng.random() < 0.6
            fill = colour() if filled else None
            outline = colour()
            if shape == "line":
                d.line([(x0, y0), (x1, y1)], fill=outline, width=width())
            elif shape == "polyline":
                d.line(
                    [point() for _ in range(int(rng.integers(3, 7)))],
                    fill=outline,
                    width=width(),
                    joint="curve",
                )
            elif shape == "circle":
                r = rng.uniform(0.03, 0.25) * big
                d.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=fill, outline=outline, width=width())
            elif shape == "box":
                d.rectangle(box, fill=fill, outline=outline, width=width())
            elif shape == "rounded":
                rad = 0.2 * min(box[2] - box[0], box[3] - box[1])
                d.rounded_rectangle(box, radius=rad, fill=fill, outline=outline, width=width())
            elif shape == "polygon":
                c, r = np.array([x0, y0]), rng.uniform(0.05, 0.25) * big
                ang = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 8))))
                pts = [tuple(c + r * np.array([np.cos(a), np.sin(a)])) for a in ang]
                d.polygon(pts, fill=fill, outline=outline, width=width())
            else:
                a0 = float(rng.uniform(0, 360))
                d.arc(box, a0, a0 + float(rng.uniform(60, 300)), fill=outline, width=width())
    small = img.resize((size, size), Image.LANCZOS)
    return np.asarray(small, dtype=np.float64) / 255.0
