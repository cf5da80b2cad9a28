"""Completing canvases of any size: the stroke model run over regional windows.

The completion model (:mod:`engines.painting.model`) sees one painting of
``n_strokes`` slots (180) on a unit canvas. A canvas painted by hand may hold
thousands of strokes, in any order. Here the canvas is cut into square windows
(a quadtree: a cell is split while more strokes than ``cap`` lie in it with its
margin), and each window the completion needs is one painting for the model:

* its context is the strokes whose centre lies in the window or its margin,
  re-normalised to the window (positions and sizes divided by its side) and
  ranked largest first into the coarse-to-fine slots
  (:func:`engines.painting.model.slots_for_context`), so the order in which a
  person painted them does not matter;
* every slot the context leaves free is generated (the windows in one batch of
  DDIM, with the context colour guidance), so a window over empty canvas
  proposes many strokes and a full one few;
* only the windows with more than :data:`MIN_PART` of their core to fill are
  sampled (in batches of :data:`WINDOW_BATCH`: larger batches cost more per
  window on a CPU); the empty canvas to fill leaves out gaps narrower than
  :data:`MIN_GAP`;
* a generated stroke is kept when its centre lies in its window's core (not the
  margin: windows do not propose twice for one place) and in the target: the
  ``region`` asked for, else the empty part of the canvas when there is one,
  else anywhere. Kept strokes go back to canvas coordinates, largest first.

The number of proposals thus grows with the area to fill, and the cost with
the number of windows the target touches, not with the number of strokes.

A window with little or no context (inside a masked hole, over bare canvas)
would paint the model's own unconditional strokes, in colours foreign to the
painting. A window with fewer than :data:`MIN_CONTEXT` times ``cap`` context
strokes therefore reads the context of a margin grown until it holds that
many (:func:`grow_window`; the strokes beyond its square lie at its edge, and
it paints its own square at its own scale), and its strokes take the colour
of the whole canvas's paint, whose bare parts carry the colour of the nearest
paint (:func:`canvas_paint`). Where such a window's core is still bare after
the pass, a second pass over it reads the first pass's strokes as context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engines.base import Job, Progress
from engines.painting.strokes import MIN_SIZE

__all__ = [
    "Window",
    "plan_windows",
    "window_side",
    "empty_map",
    "target_windows",
    "window_context",
    "slots_by_size",
    "complete_regions_job",
    "masked_target",
    "grow_window",
    "canvas_paint",
    "window_paint",
]

#: side, in pixels, of the map of canvas coverage that tells empty from painted canvas
COVER_PX = 64
#: a canvas pixel whose paint coverage is below this is empty
EMPTY_BELOW = 0.5
#: smallest size sqrt(w h) of a stroke of each coarse level, in the model's unit canvas: between the 5th
#: percentile of level 0 and the median of level 1, and near the 75th percentiles of levels 1 and 2, of
#: the training decompositions (assets/painting/strokes.npz; levels 9 + 45 + 126)
LEVEL_BOUNDS = (0.28, 0.09)
#: the empty canvas to fill leaves out gaps narrower than this (a fraction of the canvas side)
MIN_GAP = 0.08
#: a window is sampled when more than this part of its core is to be filled (a sliver of target along
#: its edge is not worth a window)
MIN_PART = 0.1
#: windows sampled in one batch (larger batches cost more per window on a CPU)
WINDOW_BATCH = 4
#: below this part of the canvas empty, the canvas counts as full (proposals go anywhere)
MIN_EMPTY = 0.01
#: a window whose outer square holds fewer context strokes than this part of ``cap`` is context-poor (it lies
#: over a hole or bare canvas): its margin grows until it holds that many, and its strokes read their colour
#: from the paint of the whole canvas around the hole (:func:`canvas_paint`); chosen on the validation split
MIN_CONTEXT = 0.1
#: a context-poor window's margin grows by this factor a step
GROW = 1.5
#: side, in pixels, of the whole canvas's context paint that context-poor windows read their colour from
PAINT_PX = 128
#: standard deviation, in pixels of that paint, of the blur that smooths its fill of bare canvas
FILL_BLUR = 2.0


@dataclass(frozen=True)
class Window:
    """A square of the canvas: its core ``(x0, y0, side)`` and a ``margin`` on each side (canvas units)."""

    x0: float
    y0: float
    side: float
    margin: float

    @property
    def outer(self) -> tuple[float, float, float]:
        """(x0, y0, side) of the window with its margin, kept on the canvas: the unit canvas of the model.

        At an edge of the canvas the margin square is shifted inward (the model
        sees canvas, not the void beyond it); it never exceeds the canvas.
        """
        s = min(self.side + 2 * self.margin, 1.0)
        x0 = min(max(self.x0 - self.margin, 0.0), 1.0 - s)
        y0 = min(max(self.y0 - self.margin, 0.0), 1.0 - s)
        return x0, y0, s

    def holds(self, xy: np.ndarray, outer: bool = False) -> np.ndarray:
        """Whether points (K, 2) lie in the core (half-open) or, with ``outer``, in the margin too."""
        x0, y0, s = self.outer if outer else (self.x0, self.y0, self.side)
        x, y = xy[:, 0], xy[:, 1]
        return (x >= x0) & (x < x0 + s) & (y >= y0) & (y < y0 + s)

    def to_window(self, params: np.ndarray) -> np.ndarray:
        """Strokes (K, 8) in canvas units -> in the window's unit square (sizes clipped to [MIN_SIZE, 1])."""
        x0, y0, s = self.outer
        out = np.array(params, np.float32, copy=True).reshape(-1, 8)
        out[:, 0] = (out[:, 0] - x0) / s
        out[:, 1] = (out[:, 1] - y0) / s
        out[:, 2:4] = np.clip(out[:, 2:4] / s, MIN_SIZE, 1.0)
        out[:, :2] = np.clip(out[:, :2], 0.0, 1.0)
        return out

    def to_canvas(self, params: np.ndarray) -> np.ndarray:
        """Strokes (K, 8) in the window's unit square -> canvas units (clipped to the canvas)."""
        x0, y0, s = self.outer
        out = np.array(params, np.float32, copy=True).reshape(-1, 8)
        out[:, 0] = x0 + out[:, 0] * s
        out[:, 1] = y0 + out[:, 1] * s
        out[:, 2:4] = np.clip(out[:, 2:4] * s, MIN_SIZE, 1.0)
        out[:, :2] = np.clip(out[:, :2], 0.0, 1.0)
        return out


def window_side(n_strokes: int, painted: float, cap: int, margin: float = 0.25) -> float:
    """Core side of windows that hold about ``cap`` strokes with their margin.

    ``n_strokes`` strokes paint the fraction ``painted`` of the canvas; a
    window over painted canvas then holds its density times its outer area.
    Windows over empty canvas get the same side, so the strokes proposed there
    are of the scale of the painting around them.
    """
    density = n_strokes / max(painted, 1e-3)
    side = np.sqrt(cap / max(density, 1e-9)) / (1 + 2 * margin)
    return float(min(1.0, side))


def plan_windows(
    params: np.ndarray,
    cap: int,
    margin: float = 0.25,
    min_side: float = 1 / 32,
    side: float = 1.0,
) -> list[Window]:
    """Windows over the unit canvas for strokes (M, 8): a grid of cells of about ``side``, then a quadtree.

    The canvas is cut into g x g cells with g = ceil(1 / side); a cell is split
    in four while more than ``cap`` stroke centres lie in it with its margin
    (``margin`` times its side on each side) and its side is at least twice
    ``min_side``.
    """
    if cap < 1:
        raise ValueError(f"plan_windows: cap = {cap}: must be at least 1")
    if not 0 < side <= 1:
        raise ValueError(f"plan_windows: side = {side}: allowed range is (0, 1]")
    xy = np.asarray(params, np.float32).reshape(-1, 8)[:, :2]
    g = int(np.ceil(1.0 / side - 1e-9))
    out: list[Window] = []
    todo = [(i / g, j / g, 1.0 / g) for j in range(g) for i in range(g)]
    while todo:
        x0, y0, s = todo.pop()
        w = Window(x0, y0, s, margin * s)
        if int(w.holds(xy, outer=True).sum()) > cap and s / 2 >= min_side:
            h = s / 2
            todo.extend([(x0, y0, h), (x0 + h, y0, h), (x0, y0 + h, h), (x0 + h, y0 + h, h)])
        else:
            out.append(w)
    out.sort(key=lambda w: (w.y0, w.x0))
    return out


def empty_map(params: np.ndarray, opacity: np.ndarray | None = None, size: int = COVER_PX) -> np.ndarray:
    """(size, size) bool: the canvas pixels that the strokes (M, 8) paint less than :data:`EMPTY_BELOW`."""
    from engines.painting.render import render_coverage

    params = np.asarray(params, np.float64).reshape(-1, 8)
    if len(params) == 0:
        return np.ones((size, size), bool)
    return render_coverage(params, opacity, size=size)[2] < EMPTY_BELOW


def _in_map(xy: np.ndarray, where: np.ndarray) -> np.ndarray:
    size = where.shape[0]
    ij = np.clip((np.asarray(xy) * size).astype(int), 0, size - 1)
    return where[ij[:, 1], ij[:, 0]]


def target_windows(windows: Sequence[Window], target: np.ndarray, min_part: float = 0.0) -> list[int]:
    """Indices of the windows whose core holds more than ``min_part`` of its pixels in ``target`` (S, S) bool.

    (Any target pixel at all when ``min_part`` is 0.)
    """
    size = target.shape[0]
    out = []
    for i, w in enumerate(windows):
        a0, b0 = int(np.floor(w.x0 * size)), int(np.floor(w.y0 * size))
        a1, b1 = int(np.ceil((w.x0 + w.side) * size)), int(np.ceil((w.y0 + w.side) * size))
        cell = target[max(b0, 0) : min(b1, size), max(a0, 0) : min(a1, size)]
        if cell.size and cell.any() and cell.mean() > min_part:
            out.append(i)
    return out


def slots_by_size(
    ctx_params: np.ndarray, level_sizes: list[int], bounds: Sequence[float] = LEVEL_BOUNDS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place strokes (M, 8) into the model's level slots by their size: (context, mask, levels).

    A stroke whose size sqrt(w h) is at least ``bounds[k]`` belongs to level k
    (the first bound it reaches; the finest level otherwise), as in the
    decompositions the model learnt from. Each level's strokes fill its slots
    largest first; those a full level cannot take go to the free slots of the
    next finer level, then of any level. Unlike ``slots_for_context`` (which
    fills the coarsest slots first), a window whose context is a few small
    strokes at its margin keeps its coarse slots free, so the model paints the
    empty part with strokes of every size. At most N - 1 strokes are placed
    (the smallest are left out).
    """
    n = int(sum(level_sizes))
    levels = np.concatenate([np.full(k, i) for i, k in enumerate(level_sizes)]).astype(np.int64)
    context = np.zeros((n, 8), np.float32)
    mask = np.zeros(n, bool)
    ctx_params = np.asarray(ctx_params, np.float32).reshape(-1, 8)
    size = np.sqrt(ctx_params[:, 2] * ctx_params[:, 3])
    order = np.argsort(-size, kind="stable")[: n - 1]
    top = len(level_sizes) - 1
    want = np.full(len(order), top)
    for k in range(min(top, len(bounds)) - 1, -1, -1):
        want[size[order] >= bounds[k]] = k
    for i, lv in zip(order, want, strict=True):  # largest first
        free = np.flatnonzero(~mask & (levels >= lv))
        if len(free) == 0:
            free = np.flatnonzero(~mask)
        j = free[0]
        context[j] = ctx_params[i]
        mask[j] = True
    return context, mask, levels


def window_context(
    window: Window, params: np.ndarray, level_sizes: list[int], reads: Window | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One window's model input: (context (N, 8), mask (N,), levels (N,)), see :func:`slots_by_size`.

    The context is the strokes in the window with its margin, or in ``reads`` (the same window with a
    wider margin, :func:`grow_window`): those beyond the window's own square then lie at its edge (their
    centres clipped to it), so the model paints the window at its own scale, next to the painting around.
    """
    params = np.asarray(params, np.float32).reshape(-1, 8)
    inside = params[(reads or window).holds(params[:, :2], outer=True)]
    return slots_by_size(window.to_window(inside), level_sizes)


def target_map(
    params: np.ndarray,
    opacity: np.ndarray | None = None,
    region: tuple[float, float, float, float] | None = None,
    size: int = COVER_PX,
) -> np.ndarray:
    """Where proposals may go (S, S) bool: ``region``, else the empty canvas if any, else everywhere."""
    if region is not None:
        x0, y0, x1, y1 = region
        c = (np.arange(size) + 0.5) / size
        return ((c[None, :] >= x0) & (c[None, :] <= x1)) & ((c[:, None] >= y0) & (c[:, None] <= y1))
    empty = empty_map(params, opacity, size)
    empty &= open_map(empty, max(1, round(MIN_GAP * size)))
    if empty.mean() >= MIN_EMPTY:
        return empty
    return np.ones((size, size), bool)


def open_map(where: np.ndarray, width: int) -> np.ndarray:
    """``where`` (S, S) bool less its parts narrower than ``width`` pixels (a morphological opening)."""
    from scipy.ndimage import binary_opening

    return binary_opening(where, structure=np.ones((width, width), bool), border_value=0)


def masked_target(
    params: np.ndarray,
    opacity: np.ndarray | None,
    mode: str,
    p: float,
    rng: np.random.Generator,
    region: tuple[float, float, float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A masking mode on a canvas of any size: (keep (M,) bool, target (S, S) bool).

    ``mode`` "all" keeps every stroke and targets :func:`target_map` of
    ``region`` (the region, else the empty canvas, else anywhere). Any other
    mode is one of the model's masking schemes (:func:`engines.painting.model.make_mask`)
    applied to the painted strokes ranked by size (the largest first, as the
    decompositions the schemes were made for; levels by size rank in the
    proportions of :func:`engines.painting.decompose.level_sizes`): ``keep``
    says which strokes stay as context, and the target is the part of the
    canvas the hidden strokes painted (within ``region`` if one is given).
    The Complete of the studio (:meth:`engines.painting.engine.PaintingEngine.complete_job`)
    and the ``complete`` command both use this.
    """
    from engines.painting.decompose import level_sizes
    from engines.painting.model import MASK_MODES, make_mask

    params = np.asarray(params, np.float32).reshape(-1, 8)
    if mode not in (*MASK_MODES, "all"):
        raise ValueError(f"mode = {mode!r}: allowed values are {', '.join((*MASK_MODES, 'all'))}")
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p = {p!r}: allowed range is [0, 1]")
    target = target_map(params, opacity, region)
    keep = np.ones(len(params), bool)
    if mode == "all" or len(params) == 0:
        return keep, target
    rank = np.empty(len(params), np.int64)
    rank[np.argsort(-params[:, 2] * params[:, 3], kind="stable")] = np.arange(len(params))
    sizes = level_sizes(len(params))
    lv = np.repeat(np.arange(len(sizes)), sizes)[rank]
    order = np.argsort(rank, kind="stable")  # largest first, as the schemes expect
    keep[order] = make_mask(mode, params[order], lv[order], rng, float(p))
    hidden_op = None if opacity is None else np.asarray(opacity)[~keep]
    hidden = ~empty_map(params[~keep], hidden_op, COVER_PX) if (~keep).any() else np.zeros_like(target)
    target = hidden & (target if region is not None else True)
    return keep, target


def grow_window(window: Window, xy: np.ndarray, least: int, factor: float = GROW) -> Window:
    """``window`` with its margin grown until its outer square holds ``least`` of the points ``xy`` (K, 2).

    The core (the area the window paints) stays; only the context it reads
    grows. The margin starts at a quarter of the side at least and grows by
    ``factor`` a step, until the outer square holds enough points or covers
    the whole canvas.
    """
    w = window
    if least <= 0 or int(w.holds(xy, outer=True).sum()) >= least:
        return w
    margin = max(w.margin, 0.25 * w.side)
    while True:
        w = Window(w.x0, w.y0, w.side, margin)
        if int(w.holds(xy, outer=True).sum()) >= least or w.outer[2] >= 1.0:
            return w
        margin *= factor


def canvas_paint(
    params: np.ndarray, opacity: np.ndarray | None = None, size: int = PAINT_PX
) -> tuple[np.ndarray, np.ndarray] | None:
    """The context paint of the whole canvas with its bare parts filled: (colour (S, S, 3), coverage (S, S)).

    The strokes (M, 8) are rendered on white and on black (as
    :func:`engines.painting.model.context_colours` does); each bare pixel takes
    the colour of the nearest paint (smoothed by a Gaussian of
    :data:`FILL_BLUR` pixels) for its bare part, so the coverage is 1
    everywhere: a stroke proposed in a hole, however far from its edge, reads
    the colour of the painting around it. None without strokes.
    """
    from scipy.ndimage import distance_transform_edt, gaussian_filter

    from engines.painting.render import render_coverage

    params = np.asarray(params, np.float64).reshape(-1, 8)
    if len(params) == 0:
        return None
    _, black, cov = render_coverage(params, opacity, size=size)
    cov = np.clip(cov, 0.0, 1.0)
    colour = np.clip(black / np.maximum(cov, 1e-6)[..., None], 0.0, 1.0)
    painted = cov >= EMPTY_BELOW
    if not painted.any():
        painted = cov >= cov.max()
    idx = distance_transform_edt(~painted, return_distances=False, return_indices=True)
    near = colour[idx[0], idx[1]]
    near = np.stack([gaussian_filter(near[..., c], FILL_BLUR, mode="nearest") for c in range(3)], -1)
    paint = black + (1.0 - cov)[..., None] * near
    return paint, np.ones_like(cov)


def window_paint(
    window: Window, paint: tuple[np.ndarray, np.ndarray], size: int
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the canvas paint (:func:`canvas_paint`) under the window's outer square, at ``size`` px."""
    black, cov = paint
    big = cov.shape[0]
    x0, y0, s = window.outer
    u = np.clip(((x0 + (np.arange(size) + 0.5) / size * s) * big).astype(int), 0, big - 1)
    v = np.clip(((y0 + (np.arange(size) + 0.5) / size * s) * big).astype(int), 0, big - 1)
    return black[np.ix_(v, u)], cov[np.ix_(v, u)]


def complete_regions_job(
    model,
    params: np.ndarray,
    opacity: np.ndarray | None = None,
    *,
    region: tuple[float, float, float, float] | None = None,
    target: np.ndarray | None = None,
    steps: int = 20,
    guidance: float = 1.5,
    seed: int = 0,
    samples: int = 1,
    recolour_strength: float = 1.0,
    reach: float = 0.0,
    drop_spread: float = 0.0,
    cap: int | None = None,
    margin: float = 0.125,
    min_context: float = MIN_CONTEXT,
    refiner=None,
) -> Job:
    """Propose strokes for a canvas of any size (see the module docstring); returns (K, 8) canvas strokes.

    ``params`` (M, 8) are the context strokes in any order; ``target`` (S, S)
    bool overrides where proposals may go (default :func:`target_map` of
    ``region``). ``samples`` > 1 fits each window's generated strokes to the
    mean render of that many samples (:func:`engines.painting.model.consensus_fit`); ``recolour_strength``
    and ``reach`` are the context colour guidance (``sample``'s ``recolour_strength``, ``recolour_reach``);
    ``drop_spread`` > 0 leaves out strokes over varied context paint
    (:func:`engines.painting.model.discordant`). ``cap`` is the most context
    strokes in a window (default: 60 % of the model's slots, so that every
    window has room to propose). A window whose outer square holds fewer than ``min_context`` times ``cap``
    context strokes (over a hole or bare canvas) reads the context of a wider margin (:func:`grow_window`)
    and, with the colour guidance on, the colour of the whole canvas's paint around it
    (:func:`canvas_paint`); where its core is still bare, a second pass refills it (0 turns all this off).
    ``refiner`` (a render network, :mod:`engines.painting.refiner`): each window's generated strokes are
    fitted to the painting it expects of that window, less those that move away from it
    (:func:`engines.painting.refiner.fit_expected`; no drop then). Yields Progress after each DDIM step.
    """
    params = np.asarray(params, np.float32).reshape(-1, 8)
    cap = int(cap if cap is not None else max(1, round(0.6 * model.cfg.n_strokes)))
    if not 0 <= margin <= 1:
        raise ValueError(f"margin = {margin}: allowed range is [0, 1]")
    if min_context < 0:
        raise ValueError(f"min_context = {min_context}: must be at least 0")
    if target is None:
        target = target_map(params, opacity, region)
    kw = dict(
        steps=steps,
        guidance=guidance,
        samples=samples,
        recolour_strength=recolour_strength,
        reach=reach,
        drop_spread=drop_spread,
        cap=cap,
        margin=margin,
        least=int(round(min_context * cap)),
        refiner=refiner,
    )
    new, poor_cores = yield from _progress(_complete_pass(model, params, opacity, target, seed, **kw), "")
    if not poor_cores.any() or len(new) == 0:
        return new
    # a grown window keeps only the strokes in its core, a small part of what it paints: where its core is
    # still bare, a second pass reads the first pass's strokes as context
    op = np.ones(len(params)) if opacity is None else np.asarray(opacity, np.float64).reshape(-1)
    both, both_op = np.vstack([params, new]), np.concatenate([op, np.ones(len(new))])
    left = target & poor_cores & empty_map(both, both_op)
    left &= open_map(left, 2)  # (not single bare pixels)
    if left.mean() < MIN_EMPTY:
        return new
    refill = _complete_pass(model, both, both_op, left, seed + 104_729, min_part=0.0, **kw)
    more, _ = yield from _progress(refill, "refill: ")
    return np.vstack([new, more]).astype(np.float32)


def _progress(job, prefix: str):
    """Drive a pass, yielding its Progress with ``prefix`` on its message; returns its result."""
    try:
        while True:
            pr = next(job)
            yield Progress(pr.done, pr.total, prefix + pr.message)
    except StopIteration as stop:
        return stop.value


def _complete_pass(
    model,
    params: np.ndarray,
    opacity: np.ndarray | None,
    target: np.ndarray,
    seed: int,
    *,
    steps: int,
    guidance: float,
    samples: int,
    recolour_strength: float,
    reach: float,
    drop_spread: float,
    cap: int,
    margin: float,
    least: int,
    min_part: float = MIN_PART,
    refiner=None,
):
    """One pass of :func:`complete_regions_job` over the windows whose core holds more than ``min_part``
    of ``target``: returns (strokes (K, 8), (S, S) bool: the cores of the windows that were context-poor)."""
    from engines.painting.decompose import level_sizes as split_levels
    from engines.painting.model import RECOLOUR_PX, consensus_fit, discordant, mbr_select, sample_job

    n = model.cfg.n_strokes
    size = target.shape[0]
    cores = np.zeros((size, size), bool)
    painted = 1.0 - float(empty_map(params, opacity).mean()) if len(params) else 1.0
    windows = plan_windows(params, cap, margin, side=window_side(len(params), painted, cap, margin))
    chosen = [windows[i] for i in target_windows(windows, target, min_part)]
    if not chosen:
        return np.zeros((0, 8), np.float32), cores
    poor = [int(w.holds(params[:, :2], outer=True).sum()) < least for w in chosen]
    for w, p in zip(chosen, poor, strict=True):
        if p:
            a0, b0 = int(np.floor(w.x0 * size)), int(np.floor(w.y0 * size))
            cores[b0 : int(np.ceil((w.y0 + w.side) * size)), a0 : int(np.ceil((w.x0 + w.side) * size))] = True
    # a context-poor window reads the context of a wider margin, and paints its own square at its own scale
    reads = [grow_window(w, params[:, :2], least) if p else w for w, p in zip(chosen, poor, strict=True)]
    paints = [None] * len(chosen)
    if any(poor) and recolour_strength > 0 and len(params):
        whole = canvas_paint(params, opacity)
        paints = [
            window_paint(w, whole, RECOLOUR_PX) if p else None for w, p in zip(chosen, poor, strict=True)
        ]
    sizes = split_levels(n)
    built = [window_context(w, params, sizes, r) for w, r in zip(chosen, reads, strict=True)]
    contexts = np.stack([b[0] for b in built])
    masks = np.stack([b[1] for b in built])
    levels = built[0][2]
    chunks = range(0, len(chosen), WINDOW_BATCH)
    parts = []
    for c, start in enumerate(chunks):
        sl = slice(start, start + WINDOW_BATCH)
        job = sample_job(
            model,
            contexts[sl],
            masks[sl],
            levels,
            steps=steps,
            guidance=guidance,
            seed=seed + 7919 * c,
            proposals=samples,
            recolour_strength=recolour_strength,
            recolour_during=True,
            recolour_reach=reach,
            paints=paints[sl],
        )
        try:
            while True:
                pr = next(job)
                yield Progress(
                    c * steps + pr.done, len(chunks) * steps, f"{pr.message} ({len(chosen)} windows)"
                )
        except StopIteration as stop:
            parts.append(stop.value)  # (windows * samples, N, 8)
    out = np.concatenate(parts)
    kept, keys = [], []
    for i, w in enumerate(chosen):
        mask = masks[i]
        runs = out[i * samples : (i + 1) * samples]
        free = ~mask
        if refiner is not None:
            from engines.painting.refiner import fit_expected, predict_render

            start = runs[mbr_select(runs)] if samples > 1 else runs[0]
            full, keep = fit_expected(start, mask, predict_render(refiner, contexts[i], mask, levels))
            free &= keep
        else:
            full = consensus_fit(runs, mask) if samples > 1 else runs[0]
            if drop_spread > 0:
                free &= ~discordant(full, mask, drop_spread)
        gen = w.to_canvas(full[free])
        ok = w.holds(gen[:, :2]) & _in_map(gen[:, :2], target)
        kept.append(gen[ok])
        keys.append(np.stack([levels[free][ok], -gen[ok, 2] * gen[ok, 3]], 1))
    strokes = np.concatenate(kept)
    key = np.concatenate(keys)
    order = np.lexsort((key[:, 1], key[:, 0]))  # coarse levels first, then larger first
    return strokes[order].astype(np.float32), cores
