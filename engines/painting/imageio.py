"""Reading reference images and writing renders (PNG, SVG), with clear errors."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from engines.painting.strokes import PaintingFormatError

#: larger images are downscaled on reading (longest side, pixels)
MAX_SIDE = 2048
#: the most pixels an image may decode to (after the JPEG draft scaling); PIL's own
#: decompression-bomb limit (Image.MAX_IMAGE_PIXELS) stays as it is and is reported the same way
MAX_PIXELS = 64_000_000
#: the formats :func:`load_image` opens (PIL plugins that only decode pixels)
IMAGE_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "TIFF", "WEBP", "PPM", "TGA")


def square_crop(img: np.ndarray) -> np.ndarray:
    """The largest centred square of an (H, W, C) image."""
    h, w = img.shape[:2]
    s = min(h, w)
    y0, x0 = (h - s) // 2, (w - s) // 2
    return img[y0 : y0 + s, x0 : x0 + s]


def resize(img: np.ndarray, size: int) -> np.ndarray:
    """Resize an (S, S, 3) float image in [0, 1] to (size, size, 3) (area-averaging when shrinking)."""
    from PIL import Image

    arr = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    out = Image.fromarray(arr).resize(
        (size, size), Image.Resampling.BOX if size < img.shape[0] else Image.BICUBIC
    )
    return np.asarray(out, dtype=np.float64) / 255.0


def as_rgb_float(img: np.ndarray) -> np.ndarray:
    """Any grey/RGB/RGBA array (uint8 or float) -> (H, W, 3) float64 in [0, 1]."""
    a = np.asarray(img)
    if a.dtype == np.uint8:
        a = a.astype(np.float64) / 255.0
    elif a.dtype == np.uint16:
        a = a.astype(np.float64) / 65535.0
    else:
        a = a.astype(np.float64)
        if a.size and a.max() > 1.0:
            a = a / 255.0
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ValueError(f"image of shape {np.asarray(img).shape} is not grey, RGB or RGBA")
    if a.shape[2] == 4:  # over white
        al = a[..., 3:4]
        a = a[..., :3] * al + (1 - al)
    return np.clip(a, 0, 1)


def load_image(path: str | os.PathLike, size: int | None = None) -> np.ndarray:
    """Read an image file as (S, S, 3) float64: centre-cropped to a square, resized to ``size``.

    Only the raster formats of :data:`IMAGE_FORMATS` are opened (never a
    format that runs a helper program, like EPS). Huge images are downscaled
    while reading (JPEG) so memory stays bounded; an image that would still
    decode to more than :data:`MAX_PIXELS` pixels is refused. Every failure is
    a :class:`PaintingFormatError` naming the file.
    """
    from PIL import Image

    from engines.serialize import open_regular

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such image file")
    fh, _ = open_regular(path, str(path), error=PaintingFormatError)
    try:
        with fh, Image.open(fh, formats=IMAGE_FORMATS) as im:
            if max(im.size) > MAX_SIDE:
                im.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG: decode at 1/2 .. 1/8 scale
            w, h = im.size
            if w < 1 or h < 1 or w * h > MAX_PIXELS:
                raise PaintingFormatError(
                    f"{path}: an image of {w} x {h} pixels; at most {MAX_PIXELS} pixels can be read"
                )
            if max(im.size) > MAX_SIDE:
                scale = MAX_SIDE / max(im.size)
                im = im.resize((max(1, int(w * scale)), max(1, int(h * scale))))
            im = im.convert("RGBA")
            arr = np.asarray(im)
    except PaintingFormatError:
        raise
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError, struct.error, zlib.error...
        raise PaintingFormatError(f"{path}: not a readable image ({type(e).__name__}: {e})") from None
    img = square_crop(as_rgb_float(arr))
    if size is not None:
        img = resize(img, int(size))
    return img


def save_png(img: np.ndarray, path: str | os.PathLike) -> None:
    """Write an (S, S, 3) float image in [0, 1] (or uint8) as PNG."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.asarray(img)
    if a.dtype != np.uint8:
        a = (np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8)
    from engines.files import atomic_output

    with atomic_output(path) as tmp:
        Image.fromarray(a).save(tmp, format="PNG")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two images in [0, 1]."""
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * math.log10(1.0 / mse)


def strokes_svg(params: np.ndarray, opacity: np.ndarray, size: int, background=(1.0, 1.0, 1.0)) -> str:
    """An SVG where each stroke is a rotated, coloured stadium (rounded rectangle)."""

    def hexcol(c) -> str:
        r, g, b = (int(round(255 * float(np.clip(v, 0, 1)))) for v in c)
        return f"#{r:02x}{g:02x}{b:02x}"

    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">',
        f'<rect width="{size}" height="{size}" fill="{hexcol(background)}"/>',
    ]
    for p, o in zip(np.asarray(params, np.float64), np.asarray(opacity, np.float64)):
        x, y, w, h, th = p[:5] * [size, size, size, size, 180.0]
        r = min(w, h) / 2
        lines.append(
            f'<rect x="{-w / 2:.2f}" y="{-h / 2:.2f}" width="{w:.2f}" height="{h:.2f}" rx="{r:.2f}" '
            f'fill="{hexcol(p[5:8])}" fill-opacity="{o:.3f}" '
            f'transform="translate({x:.2f} {y:.2f}) rotate({th:.2f})"/>'
        )
    lines.append("</svg>")
    return "\n".join(lines) + "\n"
