"""Stroke renderers: a differentiable torch renderer and a fast twin for the canvas.

Every stroke is an analytic brush shape: a stadium (a rectangle whose short
sides are half discs) of length ``w`` and thickness ``h`` with a soft edge, in
the stroke's own frame. A pixel centre is mapped into that frame by the
inverse of the stroke's affine placement (translate by ``x, y``, rotate by
``theta * pi``); the signed distance to the stadium gives the alpha mask::

    u = ( dx cos t + dy sin t),  v = (-dx sin t + dy cos t)
    q = (|u| - w/2 + r, |v| - h/2 + r),  r = min(w, h) / 2
    sdf = |max(q, 0)| + min(max(q), 0) - r
    alpha = opacity * smoothstep((e - sdf) / (2 e)),  e = EDGE * r

All lengths are fractions of the canvas side, so the same strokes render the
same picture at 128 or 1024 pixels (up to sampling). Strokes are composited in
order with "over": ``canvas = canvas (1 - a) + colour a``.

* :func:`render` (torch) is batched and differentiable. Strokes are taken in
  chunks; inside a chunk the ordered "over" is computed in closed form with a
  reverse cumulative product, chunks are applied one after another, so memory
  stays bounded. Passing ``canvas=`` composites new strokes onto a cached image
  (incremental rendering gives the same image as a full one).
* :func:`render_fast` is the same mathematics in a numba kernel, tile-binned:
  the canvas is cut into TILE x TILE tiles, each stroke is listed in the tiles
  its bounding box touches, and tiles are rendered in parallel without the GIL.
  Inside a tile the strokes are composited front to back (top stroke first,
  ``colour += T a c``, ``T *= 1 - a``), and a tile stops as soon as every one of
  its pixels is exactly opaque (``T == 0``: an opaque stroke interior has
  ``a == 1`` exactly), so strokes buried under opaque paint cost nothing. The
  result is the "over" composite in paint order, equal to the torch renderer
  up to rounding. It is what the canvas and the command line use.
* :class:`CanvasCache` keeps a rendered image for a document, composites only
  new strokes, and re-renders from a keyframe when strokes below the top change.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np
import torch

__all__ = [
    "EDGE",
    "render",
    "render_fast",
    "render_coverage",
    "composite_fast",
    "stroke_alpha",
    "CanvasCache",
    "to_uint8",
]

#: soft-edge half width, as a fraction of the stroke's half thickness
EDGE = 0.35
_EPS = 1e-4


def _prep(params: torch.Tensor) -> tuple[torch.Tensor, ...]:
    x, y, w, h, th = (params[..., i] for i in range(5))
    hw = 0.5 * w.clamp_min(_EPS)
    hh = 0.5 * h.clamp_min(_EPS)
    ang = th * math.pi
    return x, y, hw, hh, torch.cos(ang), torch.sin(ang)


def stroke_alpha(
    params: torch.Tensor, opacity: torch.Tensor, px: torch.Tensor, py: torch.Tensor
) -> torch.Tensor:
    """Alpha of strokes ``params`` (..., K, 8) at points px (W,), py (H,) -> (..., K, H, W)."""
    x, y, hw, hh, c, s = (t[..., None, None] for t in _prep(params))
    dx = px.view(1, -1) - x
    dy = py.view(-1, 1) - y
    u = (dx * c + dy * s).abs()
    v = (dy * c - dx * s).abs()
    r = torch.minimum(hw, hh)
    qx = u - hw + r
    qy = v - hh + r
    outside = torch.sqrt(qx.clamp_min(0) ** 2 + qy.clamp_min(0) ** 2 + 1e-12)
    inside = torch.maximum(qx, qy).clamp_max(0)
    sdf = outside + inside - r
    e = EDGE * r
    t = ((e - sdf) / (2 * e)).clamp(0, 1)
    a = t * t * (3 - 2 * t)
    return a * opacity[..., None, None]


def _grid(size: int, device=None, dtype=torch.float32) -> torch.Tensor:
    return (torch.arange(size, device=device, dtype=dtype) + 0.5) / size


def render(
    params: torch.Tensor | np.ndarray,
    opacity: torch.Tensor | np.ndarray | None = None,
    size: int = 256,
    *,
    background: Sequence[float] | torch.Tensor = (1.0, 1.0, 1.0),
    canvas: torch.Tensor | None = None,
    chunk: int | None = None,
) -> torch.Tensor:
    """Render strokes (..., N, 8) to images (..., 3, size, size), differentiably.

    ``opacity`` (..., N) defaults to 1. ``canvas`` (..., 3, size, size), when
    given, is the image the strokes are composited onto (incremental render);
    otherwise a plain ``background`` colour. ``chunk`` strokes are composited at
    once (default: as many as fit ~32 M mask values).
    """
    params = torch.as_tensor(params, dtype=torch.float32)
    if params.shape[-1] != 8:
        raise ValueError(f"render: strokes must have 8 parameters, got shape {tuple(params.shape)}")
    size = int(size)
    if not 8 <= size <= 4096:
        raise ValueError(f"render: size = {size}: allowed range is [8, 4096]")
    batch = params.shape[:-2]
    n = params.shape[-2]
    if opacity is None:
        opacity = torch.ones(params.shape[:-1], dtype=params.dtype, device=params.device)
    opacity = torch.as_tensor(opacity, dtype=params.dtype, device=params.device)
    if canvas is None:
        bg = torch.as_tensor(background, dtype=params.dtype, device=params.device).view(3, 1, 1)
        img = bg.expand(*batch, 3, size, size)
    else:
        img = canvas.to(params.dtype)
        if tuple(img.shape[-3:]) != (3, size, size):
            raise ValueError(
                f"render: canvas has shape {tuple(img.shape)}, expected (..., 3, {size}, {size})"
            )
    if n == 0:
        return img.clone()
    bsz = int(np.prod(batch)) if len(batch) else 1
    if chunk is None:
        chunk = max(1, min(n, (32 * 1024 * 1024) // (size * size * bsz)))
    px = _grid(size, params.device, params.dtype)
    for k0 in range(0, n, chunk):
        p = params[..., k0 : k0 + chunk, :]
        a = stroke_alpha(p, opacity[..., k0 : k0 + chunk], px, px)  # (..., K, H, W)
        keep = 1 - a
        # transmittance above each stroke inside the chunk: prod_{j > k} (1 - a_j)
        rev = torch.flip(keep, dims=(-3,))
        above = torch.flip(torch.cumprod(rev, dim=-3), dims=(-3,))
        total = above[..., :1, :, :]  # prod over the whole chunk
        above = torch.cat([above[..., 1:, :, :], torch.ones_like(above[..., :1, :, :])], dim=-3)
        weight = a * above  # (..., K, H, W)
        col = p[..., 5:8]  # (..., K, 3)
        paint = torch.einsum("...khw,...kc->...chw", weight, col)
        img = img * total + paint
    return img


# --------------------------------------------------------------------------
# fast path (numba): same maths, only each stroke's bounding box
# --------------------------------------------------------------------------


#: side of the tiles of the fast renderer, in pixels
TILE = 16


@numba.njit(nogil=True, cache=True)
def _bin_tiles(boxes, ntx, nty, tile):  # pragma: no cover - compiled
    """CSR lists (offsets, stroke indices in paint order) of the strokes touching each tile."""
    n = boxes.shape[0]
    counts = np.zeros(ntx * nty + 1, np.int64)
    for k in range(n):
        if boxes[k, 1] <= boxes[k, 0] or boxes[k, 3] <= boxes[k, 2]:
            continue
        tx0 = boxes[k, 0] // tile
        tx1 = (boxes[k, 1] - 1) // tile
        ty0 = boxes[k, 2] // tile
        ty1 = (boxes[k, 3] - 1) // tile
        for ty in range(ty0, ty1 + 1):
            for tx in range(tx0, tx1 + 1):
                counts[ty * ntx + tx + 1] += 1
    offs = np.cumsum(counts)
    idx = np.empty(offs[-1], np.int64)
    pos = offs[:-1].copy()
    for k in range(n):
        if boxes[k, 1] <= boxes[k, 0] or boxes[k, 3] <= boxes[k, 2]:
            continue
        tx0 = boxes[k, 0] // tile
        tx1 = (boxes[k, 1] - 1) // tile
        ty0 = boxes[k, 2] // tile
        ty1 = (boxes[k, 3] - 1) // tile
        for ty in range(ty0, ty1 + 1):
            for tx in range(tx0, tx1 + 1):
                t = ty * ntx + tx
                idx[pos[t]] = k
                pos[t] += 1
    return offs, idx


@numba.njit(nogil=True, parallel=True, cache=True, fastmath=True)
def _tiled_kernel(img, geo, boxes, offs, idx, tile, ntx):  # pragma: no cover - compiled
    # geo rows: x, y, hw, hh, cos, sin, r, e, opacity, r, g, b
    hgt, wid = img.shape[0], img.shape[1]
    inv_w = 1.0 / wid
    ntiles = offs.shape[0] - 1
    for tix in numba.prange(ntiles):
        q0 = offs[tix]
        q1 = offs[tix + 1]
        if q1 == q0:
            continue
        ya = (tix // ntx) * tile
        xa = (tix % ntx) * tile
        yb = min(hgt, ya + tile)
        xb = min(wid, xa + tile)
        npx = (yb - ya) * (xb - xa)
        trans = np.ones((tile, tile))
        acc = np.zeros((tile, tile, 3))
        opaque = 0  # pixels of the tile with trans == 0 exactly
        for q in range(q1 - 1, q0 - 1, -1):  # top stroke first
            k = idx[q]
            x = geo[k, 0]
            hw = geo[k, 2]
            hh = geo[k, 3]
            c = geo[k, 4]
            s = geo[k, 5]
            r = geo[k, 6]
            e = geo[k, 7]
            op = geo[k, 8]
            cr = geo[k, 9]
            cg = geo[k, 10]
            cb = geo[k, 11]
            inv2e = 1.0 / (2 * e)
            ea = hw + e
            eb = hh + e
            for i in range(max(ya, boxes[k, 2]), min(yb, boxes[k, 3])):
                dy = (i + 0.5) / hgt - geo[k, 1]
                dys = dy * s
                dyc = dy * c
                # exact span of this row inside the rotated support |u| <= hw+e, |v| <= hh+e
                lo = -1e9
                hi = 1e9
                if abs(c) > 1e-9:
                    a0 = (-ea - dys) / c
                    a1 = (ea - dys) / c
                    lo = max(lo, min(a0, a1))
                    hi = min(hi, max(a0, a1))
                elif abs(dys) > ea:
                    continue
                if abs(s) > 1e-9:
                    b0 = (dyc - eb) / s
                    b1 = (dyc + eb) / s
                    lo = max(lo, min(b0, b1))
                    hi = min(hi, max(b0, b1))
                elif abs(dyc) > eb:
                    continue
                j0 = max(xa, boxes[k, 0], int(math.floor((x + lo) * wid - 0.5)))
                j1 = min(xb, boxes[k, 1], int(math.ceil((x + hi) * wid - 0.5)) + 1)
                li = i - ya
                tr = trans[li]
                ac = acc[li]
                for j in range(j0, j1):
                    dx = (j + 0.5) * inv_w - x
                    u = abs(dx * c + dys)
                    v = abs(dyc - dx * s)
                    qx = u - hw + r
                    qy = v - hh + r
                    ox = max(qx, 0.0)
                    oy = max(qy, 0.0)
                    sdf = math.sqrt(ox * ox + oy * oy + 1e-12) + min(max(qx, qy), 0.0) - r
                    t = min(max((e - sdf) * inv2e, 0.0), 1.0)
                    a = t * t * (3 - 2 * t) * op
                    lj = j - xa
                    t0 = tr[lj]
                    w = t0 * a
                    ac[lj, 0] += w * cr
                    ac[lj, 1] += w * cg
                    ac[lj, 2] += w * cb
                    t1 = t0 * (1 - a)
                    tr[lj] = t1
                    opaque += (t1 == 0.0) & (t0 != 0.0)
            if opaque >= npx:
                break  # everything below is hidden
        for i in range(ya, yb):
            for j in range(xa, xb):
                tt = trans[i - ya, j - xa]
                img[i, j, 0] = img[i, j, 0] * tt + acc[i - ya, j - xa, 0]
                img[i, j, 1] = img[i, j, 1] * tt + acc[i - ya, j - xa, 1]
                img[i, j, 2] = img[i, j, 2] * tt + acc[i - ya, j - xa, 2]


def _shape(params: np.ndarray, opacity: np.ndarray, size: int, footprint: bool) -> tuple[np.ndarray, ...]:
    """Half length, half thickness, corner radius, soft edge and opacity of each stroke.

    With ``footprint``, a stroke thinner than one pixel of the ``size``-pixel image is drawn one
    pixel thick with its opacity scaled by the part of the pixel it covers, and its soft edge is at
    least half a pixel. Sampled only at pixel centres, such a stroke would otherwise hit a centre
    here and there along its length and show as a dotted line; this way it shows as the faint
    continuous line it is. Strokes a pixel thick or more are unchanged.
    """
    hw = 0.5 * np.maximum(params[:, 2], _EPS)
    hh = 0.5 * np.maximum(params[:, 3], _EPS)
    op = np.asarray(opacity, dtype=np.float64)
    e = EDGE * np.minimum(hw, hh)
    if footprint:
        half_px = 0.5 / size
        thin = (hw < half_px) | (hh < half_px)
        if thin.any():
            op = op * np.minimum(hw / half_px, 1.0) * np.minimum(hh / half_px, 1.0)
            hw = np.maximum(hw, half_px)
            hh = np.maximum(hh, half_px)
            e = np.where(thin, np.maximum(EDGE * np.minimum(hw, hh), half_px), e)
    return hw, hh, np.minimum(hw, hh), e, op


def _geometry(params: np.ndarray, opacity: np.ndarray, size: int = 0, footprint: bool = False) -> np.ndarray:
    hw, hh, r, e, op = _shape(params, opacity, size, footprint)
    ang = params[:, 4] * np.pi
    cols = [params[:, 0], params[:, 1], hw, hh, np.cos(ang), np.sin(ang), r, e, op]
    return np.ascontiguousarray(np.column_stack(cols + [params[:, 5], params[:, 6], params[:, 7]]))


def _boxes(params: np.ndarray, size: int, geo: np.ndarray | None = None) -> np.ndarray:
    """Pixel bounding boxes [x0, x1, y0, y1) of each stroke's support (from ``geo`` when given)."""
    if geo is None:
        geo = _geometry(params, np.ones(len(params)), size)
    hw, hh, e = geo[:, 2], geo[:, 3], geo[:, 7]
    ang = params[:, 4] * np.pi
    c, s = np.abs(np.cos(ang)), np.abs(np.sin(ang))
    ex = c * (hw + e) + s * (hh + e)
    ey = s * (hw + e) + c * (hh + e)
    x0 = np.floor((params[:, 0] - ex) * size - 0.5)
    x1 = np.ceil((params[:, 0] + ex) * size + 0.5) + 1
    y0 = np.floor((params[:, 1] - ey) * size - 0.5)
    y1 = np.ceil((params[:, 1] + ey) * size + 0.5) + 1
    out = np.stack([x0, x1, y0, y1], axis=1)
    return np.clip(out, 0, size).astype(np.int64)


def composite_fast(
    img: np.ndarray, params: np.ndarray, opacity: np.ndarray | None = None, *, footprint: bool = False
) -> np.ndarray:
    """Composite strokes onto ``img`` (H, W, 3) float64 in place; returns it.

    ``footprint``: strokes thinner than a pixel are drawn as faint one-pixel lines rather than
    sampled into dotted ones (see :func:`_shape`); for the images shown to people, not for the
    renders the model and the decomposition were fitted with."""
    if img.ndim != 3 or img.shape[2] != 3 or img.shape[0] != img.shape[1]:
        raise ValueError(f"composite_fast: image must be (S, S, 3), got {img.shape}")
    if img.dtype != np.float64 or not img.flags.c_contiguous:
        raise ValueError("composite_fast: image must be a C-contiguous float64 array")
    p = np.ascontiguousarray(params, dtype=np.float64).reshape(-1, 8)
    if len(p) == 0:
        return img
    o = np.ones(len(p)) if opacity is None else np.ascontiguousarray(opacity, dtype=np.float64).reshape(-1)
    if o.shape[0] != p.shape[0]:
        raise ValueError(f"composite_fast: {p.shape[0]} strokes but {o.shape[0]} opacities")
    geo = _geometry(p, o, img.shape[0], footprint)
    boxes = _boxes(p, img.shape[0], geo)
    nt = -(-img.shape[0] // TILE)
    offs, idx = _bin_tiles(boxes, nt, nt, TILE)
    _tiled_kernel(img, geo, boxes, offs, idx, TILE, nt)
    return img


def render_fast(
    params: np.ndarray,
    opacity: np.ndarray | None = None,
    size: int = 256,
    background: Sequence[float] = (1.0, 1.0, 1.0),
    *,
    footprint: bool = False,
) -> np.ndarray:
    """Render strokes (N, 8) to an (size, size, 3) float64 image in [0, 1] (``footprint``: see
    :func:`composite_fast`)."""
    size = int(size)
    if not 8 <= size <= 8192:
        raise ValueError(f"render: size = {size}: allowed range is [8, 8192]")
    img = np.empty((size, size, 3), dtype=np.float64)
    img[...] = np.asarray(background, dtype=np.float64).reshape(1, 1, 3)
    return composite_fast(img, params, opacity, footprint=footprint)


def render_coverage(
    params: np.ndarray, opacity: np.ndarray | None = None, size: int = 256
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(on white (S, S, 3), on black (S, S, 3), coverage (S, S)) of strokes (N, 8).

    The render on black is the paint times its coverage; the coverage (how much
    paint lies on each pixel, 0 on bare canvas) is what the two renders differ by.
    """
    white = render_fast(params, opacity, size=size)
    black = render_fast(params, opacity, size=size, background=(0.0, 0.0, 0.0))
    return white, black, 1.0 - (white - black).mean(-1)


def to_uint8(img: np.ndarray | torch.Tensor) -> np.ndarray:
    """(S, S, 3) or (3, S, S) float image in [0, 1] -> (S, S, 3) uint8."""
    if isinstance(img, torch.Tensor):
        img = img.detach().cpu().numpy()
        if img.ndim == 3 and img.shape[0] == 3:
            img = img.transpose(1, 2, 0)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)


class CanvasCache:
    """An incrementally updated render of an ordered list of strokes.

    ``update(ids, params, opacity)`` takes the whole document in paint order.
    When the cached strokes are a prefix of it (the usual case: strokes were
    added on top) only the new strokes are composited. Otherwise rendering
    restarts from the last keyframe (a copy kept every ``keyframe_every``
    strokes) below the first difference, so an undo or an edit near the top
    of 10,000 strokes costs at most ``keyframe_every`` strokes. ``footprint``: see
    :func:`composite_fast` (on for the canvas people look at).
    """

    def __init__(
        self,
        size: int,
        background: Sequence[float] = (1.0, 1.0, 1.0),
        keyframe_every: int = 256,
        *,
        footprint: bool = False,
    ) -> None:
        self.size = int(size)
        self.footprint = bool(footprint)
        self.background = tuple(float(c) for c in background)
        self.keyframe_every = int(keyframe_every)
        self.ids: list[str] = []
        self.image = render_fast(np.zeros((0, 8)), size=self.size, background=self.background)
        self._keyframes: dict[int, np.ndarray] = {0: self.image.copy()}
        self.last_rendered = 0  # strokes composited by the last update (for tests/stats)

    def _blank(self) -> np.ndarray:
        return self._keyframes[0].copy()

    def update(self, ids: Sequence[str], params: np.ndarray, opacity: np.ndarray | None = None) -> np.ndarray:
        ids = list(ids)
        n = len(ids)
        params = np.asarray(params, dtype=np.float64).reshape(-1, 8)
        if params.shape[0] != n:
            raise ValueError(f"CanvasCache: {n} ids but {params.shape[0]} strokes")
        opacity = np.ones(n) if opacity is None else np.asarray(opacity, dtype=np.float64)
        old = self.ids
        m = min(len(old), n)
        prefix = 0
        while prefix < m and old[prefix] == ids[prefix]:
            prefix += 1
        if prefix < len(old):
            # something below the top changed: restart from a keyframe
            start = max(k for k in self._keyframes if k <= prefix)
            for k in [k for k in self._keyframes if k > start]:
                del self._keyframes[k]
            self.image = self._keyframes[start].copy()
        else:
            start = prefix
        # composite [start, n) in keyframe-sized pieces, storing keyframes
        pos = start
        while pos < n:
            nxt = min(n, (pos // self.keyframe_every + 1) * self.keyframe_every)
            composite_fast(self.image, params[pos:nxt], opacity[pos:nxt], footprint=self.footprint)
            pos = nxt
            if pos % self.keyframe_every == 0 and pos not in self._keyframes:
                self._keyframes[pos] = self.image.copy()
        self.last_rendered = n - start
        self.ids = ids
        return self.image

    def resize(self, size: int) -> None:
        self.__init__(size, self.background, self.keyframe_every, footprint=self.footprint)  # type: ignore[misc]


# --------------------------------------------------------------------------
# differentiable fast path: numba forward and hand-derived backward
# --------------------------------------------------------------------------


@numba.njit(nogil=True, parallel=True, cache=True)
def _fwd_kernel(img, geo, boxes, offs, store):  # pragma: no cover - compiled
    """Composite strokes in order over each image, saving the pixels under each stroke."""
    nb, hgt, wid = img.shape[0], img.shape[1], img.shape[2]
    n = geo.shape[1]
    for bi in numba.prange(nb * hgt):
        b = bi // hgt
        i = bi % hgt
        py = (i + 0.5) / hgt
        for k in range(n):
            y0 = boxes[b, k, 2]
            if i < y0 or i >= boxes[b, k, 3]:
                continue
            x0 = boxes[b, k, 0]
            bw = boxes[b, k, 1] - x0
            base = offs[b, k] + (i - y0) * bw - x0
            x = geo[b, k, 0]
            hw = geo[b, k, 2]
            hh = geo[b, k, 3]
            c = geo[b, k, 4]
            s = geo[b, k, 5]
            r = geo[b, k, 6]
            e = geo[b, k, 7]
            op = geo[b, k, 8]
            dy = py - geo[b, k, 1]
            for j in range(x0, boxes[b, k, 1]):
                store[base + j, 0] = img[b, i, j, 0]
                store[base + j, 1] = img[b, i, j, 1]
                store[base + j, 2] = img[b, i, j, 2]
                dx = (j + 0.5) / wid - x
                u = abs(dx * c + dy * s)
                v = abs(dy * c - dx * s)
                qx = u - hw + r
                qy = v - hh + r
                ox = max(qx, 0.0)
                oy = max(qy, 0.0)
                sdf = math.sqrt(ox * ox + oy * oy + 1e-12) + min(max(qx, qy), 0.0) - r
                t = (e - sdf) / (2 * e)
                if t <= 0.0:
                    continue
                if t > 1.0:
                    t = 1.0
                a = t * t * (3 - 2 * t) * op
                for ch in range(3):
                    img[b, i, j, ch] = img[b, i, j, ch] * (1 - a) + geo[b, k, 9 + ch] * a


@numba.njit(nogil=True, parallel=True, cache=True)
def _bwd_kernel(grad, geo, boxes, offs, store, acc):  # pragma: no cover - compiled
    """Walk strokes top to bottom: turn d loss / d image into d loss / d stroke parameters.

    ``grad`` (B, H, W, 3) enters as d loss / d final image and leaves as
    d loss / d canvas underneath. ``acc`` (B*H, K, 9) receives per-row sums of
    d loss / d (x, y, w, h, theta, r, g, b, opacity).
    """
    nb, hgt, wid = grad.shape[0], grad.shape[1], grad.shape[2]
    n = geo.shape[1]
    for bi in numba.prange(nb * hgt):
        b = bi // hgt
        i = bi % hgt
        py = (i + 0.5) / hgt
        for k in range(n - 1, -1, -1):
            y0 = boxes[b, k, 2]
            if i < y0 or i >= boxes[b, k, 3]:
                continue
            x0 = boxes[b, k, 0]
            bw = boxes[b, k, 1] - x0
            base = offs[b, k] + (i - y0) * bw - x0
            x = geo[b, k, 0]
            hw = geo[b, k, 2]
            hh = geo[b, k, 3]
            c = geo[b, k, 4]
            s = geo[b, k, 5]
            r = geo[b, k, 6]
            e = geo[b, k, 7]
            op = geo[b, k, 8]
            dy = py - geo[b, k, 1]
            r_is_hw = hw <= hh
            for j in range(x0, boxes[b, k, 1]):
                dx = (j + 0.5) / wid - x
                uu = dx * c + dy * s
                vv = dy * c - dx * s
                u = abs(uu)
                v = abs(vv)
                qx = u - hw + r
                qy = v - hh + r
                ox = max(qx, 0.0)
                oy = max(qy, 0.0)
                ln = math.sqrt(ox * ox + oy * oy + 1e-12)
                mx = max(qx, qy)
                sdf = ln + min(mx, 0.0) - r
                t = (e - sdf) / (2 * e)
                if t <= 0.0:
                    continue
                inner = t < 1.0
                if t > 1.0:
                    t = 1.0
                sm = t * t * (3 - 2 * t)
                a = sm * op
                g0 = grad[b, i, j, 0]
                g1 = grad[b, i, j, 1]
                g2 = grad[b, i, j, 2]
                ga = (
                    g0 * (geo[b, k, 9] - store[base + j, 0])
                    + g1 * (geo[b, k, 10] - store[base + j, 1])
                    + g2 * (geo[b, k, 11] - store[base + j, 2])
                )
                acc[bi, k, 5] += g0 * a
                acc[bi, k, 6] += g1 * a
                acc[bi, k, 7] += g2 * a
                acc[bi, k, 8] += ga * sm
                grad[b, i, j, 0] = g0 * (1 - a)
                grad[b, i, j, 1] = g1 * (1 - a)
                grad[b, i, j, 2] = g2 * (1 - a)
                if not inner:
                    continue
                gt = ga * op * 6 * t * (1 - t)
                gsdf = -gt / (2 * e)
                ge = gt * sdf / (2 * e * e)
                gqx = 0.0
                gqy = 0.0
                if qx > 0.0:
                    gqx += gsdf * ox / ln
                if qy > 0.0:
                    gqy += gsdf * oy / ln
                if mx < 0.0:
                    if qx >= qy:
                        gqx += gsdf
                    else:
                        gqy += gsdf
                gr = gqx + gqy - gsdf + EDGE * ge
                su = 1.0 if uu >= 0 else -1.0
                sv = 1.0 if vv >= 0 else -1.0
                acc[bi, k, 0] += gqx * (-c * su) + gqy * (s * sv)
                acc[bi, k, 1] += gqx * (-s * su) + gqy * (-c * sv)
                acc[bi, k, 4] += gqx * su * vv - gqy * sv * uu
                if r_is_hw:
                    acc[bi, k, 2] += -gqx + gr
                    acc[bi, k, 3] += -gqy
                else:
                    acc[bi, k, 2] += -gqx
                    acc[bi, k, 3] += -gqy + gr


def _geometry_batch(params: np.ndarray, opacity: np.ndarray) -> np.ndarray:
    b, k = params.shape[:2]
    return _geometry(params.reshape(-1, 8), opacity.reshape(-1)).reshape(b, k, 12)


class _RenderFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, params, opacity, canvas):  # noqa: D401 - torch API
        p = params.detach().cpu().double().numpy()
        o = opacity.detach().cpu().double().numpy()
        b, k = p.shape[:2]
        size = canvas.shape[-1]
        img = np.ascontiguousarray(canvas.detach().cpu().double().numpy().transpose(0, 2, 3, 1))
        geo = _geometry_batch(p, o)
        boxes = _boxes(p.reshape(-1, 8), size).reshape(b, k, 4)
        areas = (boxes[..., 1] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 2])
        offs = np.concatenate([[0], np.cumsum(areas.reshape(-1))])[:-1].reshape(b, k).astype(np.int64)
        store = np.empty((max(1, int(areas.sum())), 3), np.float64)
        _fwd_kernel(img, geo, boxes, offs, store)
        ctx.saved = (geo, boxes, offs, store, p)
        return torch.from_numpy(img.transpose(0, 3, 1, 2).copy()).to(canvas.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        geo, boxes, offs, store, p = ctx.saved
        b, k = p.shape[:2]
        grad = np.ascontiguousarray(grad_out.detach().cpu().double().numpy().transpose(0, 2, 3, 1))
        hgt = grad.shape[1]
        acc = np.zeros((b * hgt, k, 9), np.float64)
        _bwd_kernel(grad, geo, boxes, offs, store, acc)
        g = acc.reshape(b, hgt, k, 9).sum(1)
        gp = g[..., :8].copy()
        gp[..., 2] *= 0.5 * (p[..., 2] > _EPS)
        gp[..., 3] *= 0.5 * (p[..., 3] > _EPS)
        gp[..., 4] *= math.pi
        gparams = torch.from_numpy(gp).float()
        gop = torch.from_numpy(g[..., 8]).float()
        gcanvas = torch.from_numpy(grad.transpose(0, 3, 1, 2).copy()).float()
        return gparams, gop, gcanvas


def render_sparse(
    params: torch.Tensor,
    opacity: torch.Tensor | None = None,
    size: int = 128,
    *,
    canvas: torch.Tensor | None = None,
    background: Sequence[float] = (1.0, 1.0, 1.0),
) -> torch.Tensor:
    """Like :func:`render` for (B, N, 8) strokes, but computing only each stroke's bounding box.

    Differentiable with respect to the parameters, opacities and canvas (the
    gradient is derived by hand and walks the strokes top to bottom). It is
    the renderer the decomposition optimises through: strokes cover a small
    part of the canvas, so this is many times cheaper than the dense one.
    """
    params = torch.as_tensor(params, dtype=torch.float32)
    squeeze = params.dim() == 2
    if squeeze:
        params = params[None]
    if params.dim() != 3 or params.shape[-1] != 8:
        raise ValueError(f"render_sparse: strokes must be (B, N, 8), got {tuple(params.shape)}")
    b = params.shape[0]
    if opacity is None:
        opacity = torch.ones(params.shape[:2])
    opacity = torch.as_tensor(opacity, dtype=torch.float32).reshape(params.shape[:2])
    if canvas is None:
        bg = torch.as_tensor(background, dtype=torch.float32).view(1, 3, 1, 1)
        canvas = bg.expand(b, 3, size, size).contiguous()
    elif canvas.dim() == 3:
        canvas = canvas[None]
    out = _RenderFn.apply(params, opacity, canvas)
    return out[0] if squeeze else out
