"""Completion quality: image MSE and stroke L1 after Hungarian matching, per masking mode.

For each held-out painting, mode and context ratio p, a context mask is drawn
with a fixed seed; a completer fills the other slots. Metrics:

* image MSE between the render of the completed strokes and the render of the
  true strokes (64 px, white background);
* stroke L1: the generated strokes are matched one-to-one to the true missing
  strokes (Hungarian, on L1 distance of all 8 parameters, theta taken on the
  circle) and the mean absolute difference of position, size, rotation and
  colour is reported.

Completers: the diffusion model, decoded from ``candidates`` samples in one
of three ways (the first sample; the minimum-Bayes-risk choice, the sample
whose render is closest to the mean render of all of them; or the generated
strokes fitted to that mean render), the regression twin and nearest-neighbour
retrieval (the training painting whose render best matches the context
render, restricted to the pixels the context covers, lends its strokes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import linear_sum_assignment

from engines.painting.model import (
    MASK_MODES,
    consensus_fit,
    context_colours,
    discordant,
    make_mask,
    mbr_select,
    sample,
)
from engines.painting.refiner import fit_expected, predict_render
from engines.painting.render import render_fast

RATIOS = (0.2, 0.4, 0.6, 0.8)
EVAL_SIZE = 64

Completer = Callable[[np.ndarray, np.ndarray, np.ndarray, int], np.ndarray]


def stroke_l1(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean L1 of parameters after optimal one-to-one matching (theta on the circle)."""
    if len(true) == 0:
        return 0.0
    d = np.abs(pred[:, None, :] - true[None, :, :])
    d[..., 4] = np.minimum(d[..., 4], 1 - d[..., 4])
    cost = d.mean(-1)
    r, c = linear_sum_assignment(cost)
    return float(cost[r, c].mean())


def stroke_colour_errors(out: np.ndarray, mask: np.ndarray, min_covered: float = 0.5) -> np.ndarray:
    """Each generated stroke's mean absolute RGB difference from the context paint under it (see
    :func:`colour_error`), for the strokes the context covers by at least ``min_covered``."""
    free = ~np.asarray(mask, bool)
    if not free.any() or not mask.any():
        return np.zeros(0)
    col, cov = context_colours(out[free], out[mask])
    keep = cov >= min_covered
    return np.abs(out[free][keep, 5:8] - col[keep]).mean(1)


def colour_error(out: np.ndarray, mask: np.ndarray, min_covered: float = 0.5) -> float:
    """Mean absolute RGB difference between each generated stroke and the context paint under it.

    Over the generated strokes (slots not in ``mask``) whose footprint the
    context covers by at least ``min_covered`` (see
    :func:`engines.painting.model.context_colours`); NaN when there is none.
    """
    free = ~np.asarray(mask, bool)
    if not free.any() or not mask.any():
        return float("nan")
    col, cov = context_colours(out[free], out[mask])
    keep = cov >= min_covered
    if not keep.any():
        return float("nan")
    return float(np.abs(out[free][keep, 5:8] - col[keep]).mean())


def context_only_completer() -> Completer:
    """Proposes nothing: the painting is its context strokes alone (free slots are invisible)."""

    def run(context, mask, levels, seed):
        return np.where(mask[:, None], context, 0.0).astype(np.float32)

    return run


def _render(p: np.ndarray) -> np.ndarray:
    return render_fast(p, size=EVAL_SIZE)


DECODERS = ("sample", "choice", "fit", "refine")


def diffusion_completers(
    model,
    steps: int = 20,
    guidance: float = 1.5,
    candidates: int = 1,
    temperature: float = 1.0,
    decoders: tuple[str, ...] = ("fit",),
    recolour: float = 0.0,
    drop_spread: float = 0.0,
    reach: float = 0.0,
    refiner=None,
    on_top: bool = False,
    unguided_modes: tuple[str, ...] = (),
) -> dict[str, Completer]:
    """Completers that decode the same ``candidates`` diffusion samples in different ways.

    ``sample``: the first sample as it is; ``choice``: the minimum-Bayes-risk
    choice among the samples (:func:`mbr_select`); ``fit``: the generated strokes
    fitted to the samples' mean render (:func:`consensus_fit`); ``refine``: the
    generated strokes of the first sample (the minimum-Bayes-risk choice when there are
    several) fitted to the render that ``refiner`` predicts from the context, less those
    that move away from it (:func:`engines.painting.refiner.fit_expected`). The samples of one call are shared by the
    decoders (drawn once per context and seed). ``on_top``: the completions are
    scored as Complete adds them to a painting, the generated strokes over the
    context ones (:func:`evaluate` reads the completer's ``on_top``), and the
    ``refine`` fit renders them so.
    Names: ``diffusion`` for the first decoder, ``diffusion-<decoder>`` for the others.
    ``recolour`` > 0: the samples are drawn with that context colour guidance during DDIM
    (:func:`engines.painting.model.sample`'s ``recolour_strength``, ``recolour_during``).
    ``drop_spread`` > 0: generated strokes on varied context paint are dropped (made invisible,
    :func:`engines.painting.model.discordant`). ``reach`` > 0: strokes over bare canvas take the colour of
    the context paint around them (``sample``'s ``recolour_reach``). ``unguided_modes``: masking modes
    in which the samples are drawn without that guidance, as Complete draws its fitted first proposal
    (:data:`engines.painting.params.FIT_UNGUIDED_MODES`); :func:`evaluate` tells these completers the mode.
    """
    if candidates < 1:
        raise ValueError(f"candidates = {candidates}: must be at least 1")
    for d in decoders:
        if d not in DECODERS:
            raise ValueError(f"decoder = {d!r}: allowed values are {', '.join(DECODERS)}")
    if "refine" in decoders and refiner is None:
        raise ValueError("decoder = 'refine' needs a render network (refiner)")
    last: dict = {}

    def draw(context, mask, levels, seed, mode=None):
        strength = 0.0 if mode in unguided_modes else recolour
        key = (seed, mask.tobytes(), context.tobytes(), reach, strength)
        if last.get("key") != key:
            last["key"] = key
            last["out"] = sample(
                model,
                context,
                mask,
                levels,
                steps=steps,
                guidance=guidance,
                seed=seed,
                proposals=candidates,
                temperature=temperature,
                recolour_strength=strength,
                recolour_during=True,
                recolour_reach=reach,
            )
        return last["out"]

    def make(decoder: str) -> Completer:
        def decode(context, mask, levels, seed, mode):
            out = draw(context, mask, levels, seed, mode)
            if decoder == "refine":
                start = out[0] if len(out) == 1 else out[mbr_select(out)]
                target = predict_render(refiner, context, mask, levels)
                fitted, keep = fit_expected(start, mask, target, on_top=on_top)
                return np.where(keep[:, None], fitted, 0.0).astype(np.float32)  # (left out: invisible)
            if decoder == "sample" or len(out) == 1:
                return out[0]
            if decoder == "choice":
                return out[mbr_select(out)]
            return consensus_fit(out, mask)

        def run(context, mask, levels, seed, mode=None):
            out = decode(context, mask, levels, seed, mode)
            if drop_spread > 0:
                out = np.where(discordant(out, mask, drop_spread)[:, None], 0.0, out).astype(np.float32)
            return out

        run.on_top = on_top
        run.takes_mode = bool(unguided_modes)
        return run

    return {("diffusion" if i == 0 else f"diffusion-{d}"): make(d) for i, d in enumerate(decoders)}


def diffusion_completer(
    model,
    steps: int = 20,
    guidance: float = 1.5,
    candidates: int = 1,
    temperature: float = 1.0,
    decoder: str = "choice",
    recolour: float = 0.0,
) -> Completer:
    """One diffusion completer (see :func:`diffusion_completers`)."""
    return diffusion_completers(model, steps, guidance, candidates, temperature, (decoder,), recolour)[
        "diffusion"
    ]


def regression_completer(model) -> Completer:
    def run(context, mask, levels, seed):
        return sample(model, context, mask, levels, seed=seed)[0]

    return run


def nearest_neighbour_completer(train: np.ndarray) -> Completer:
    """Retrieve the training painting whose render best matches the context."""
    small = 24
    renders = np.stack([render_fast(p, size=small) for p in train])  # (M, s, s, 3)
    blank = np.ones((small, small, 3))

    def run(context, mask, levels, seed):
        ctx_img = render_fast(context[mask], size=small)
        covered = np.any(np.abs(ctx_img - blank) > 1e-3, axis=-1)
        if covered.any():
            err = ((renders[:, covered] - ctx_img[covered]) ** 2).mean(axis=(1, 2))
        else:
            err = np.zeros(len(train))
        best = train[int(np.argmin(err))]
        return np.where(mask[:, None], context, best)

    return run


def evaluate(
    completers: dict[str, Completer],
    paintings: np.ndarray,
    levels: np.ndarray,
    modes: tuple[str, ...] = MASK_MODES,
    ratios: tuple[float, ...] = RATIOS,
    seed: int = 0,
    images: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] | None = None,
) -> list[dict]:
    """Rows of {method, mode, p, image_mse, stroke_l1, colour_err, n} averaged over ``paintings``.

    A completer whose ``on_top`` attribute is true is rendered as Complete shows it: its generated
    strokes over the context strokes (else every slot in its order). One whose ``takes_mode`` attribute
    is true is also given the masking mode (keyword ``mode``).

    ``colour_err`` is :func:`colour_error` averaged over the paintings where it is defined (NaN if none).
    ``images``: predictors of the finished painting's render ((context, mask, levels) -> (64, 64, 3)
    image, e.g. :func:`engines.painting.refiner.predict_render`), scored on the same masks by image MSE
    alone (their stroke L1 and colour error are NaN): what an image can reach, which strokes fitted to
    it approach.
    """
    images = images or {}
    rows = []
    truth = [_render(p) for p in paintings]
    for mode in modes:
        for p in ratios if mode not in ("unconditional",) else (0.0,):
            acc = {name: ([], [], []) for name in completers}
            each = {name: [] for name in completers}
            seen = {name: [] for name in images}
            for i, true in enumerate(paintings):
                rng = np.random.default_rng([seed, i, int(p * 100), MASK_MODES.index(mode)])
                mask = make_mask(mode, true, levels, rng, p)
                context = np.where(mask[:, None], true, 0.0).astype(np.float32)
                for name, fn in completers.items():
                    if getattr(fn, "takes_mode", False):  # (it draws differently by masking mode)
                        out = fn(context, mask, levels, seed + i, mode=mode)
                    else:
                        out = fn(context, mask, levels, seed + i)
                    shown = np.vstack([out[mask], out[~mask]]) if getattr(fn, "on_top", False) else out
                    mse = float(np.mean((_render(shown) - truth[i]) ** 2))
                    l1 = stroke_l1(out[~mask], true[~mask])
                    acc[name][0].append(mse)
                    acc[name][1].append(l1)
                    errs = stroke_colour_errors(out, mask)
                    acc[name][2].append(float(errs.mean()) if len(errs) else float("nan"))
                    each[name].append(errs)
                for name, fn in images.items():
                    seen[name].append(float(np.mean((fn(context, mask, levels) - truth[i]) ** 2)))
            for name, (mses, l1s, cols) in acc.items():
                cols = [c for c in cols if np.isfinite(c)]
                rows.append(
                    {
                        "method": name,
                        "mode": mode,
                        "p": p,
                        "image_mse": float(np.mean(mses)),
                        "stroke_l1": float(np.mean(l1s)),
                        "colour_err": float(np.mean(cols)) if cols else float("nan"),
                        "colour_err_p95": _p95(each[name]),
                        "colour_err_max": _pmax(each[name]),
                        "n": len(mses),
                    }
                )
            for name, mses in seen.items():
                rows.append(
                    {
                        "method": name,
                        "mode": mode,
                        "p": p,
                        "image_mse": float(np.mean(mses)),
                        "stroke_l1": float("nan"),
                        "colour_err": float("nan"),
                        "colour_err_p95": float("nan"),
                        "colour_err_max": float("nan"),
                        "n": len(mses),
                    }
                )
    return rows


def _p95(parts: list[np.ndarray]) -> float:
    a = np.concatenate(parts) if parts else np.zeros(0)
    return float(np.percentile(a, 95)) if len(a) else float("nan")


def _pmax(parts: list[np.ndarray]) -> float:
    a = np.concatenate(parts) if parts else np.zeros(0)
    return float(a.max()) if len(a) else float("nan")


def colour_table(rows: list[dict], method: str) -> str:
    """Per mode and ratio: the colour error of each of ``method``'s proposed strokes (mean, 95th
    percentile and largest over every stroke on painted context)."""
    lines = [f"colour error of each proposed stroke ({method}) against the context paint under it"]
    lines.append(f"{'mode':8s} {'p':>4s} {'mean':>7s} {'p95':>7s} {'max':>7s}")
    for r in rows:
        if r["method"] == method and np.isfinite(r.get("colour_err", np.nan)):
            lines.append(
                f"{r['mode']:8s} {r['p']:4.1f} {r['colour_err']:7.3f} {r['colour_err_p95']:7.3f} "
                f"{r['colour_err_max']:7.3f}"
            )
    return "\n".join(lines)


def ratio_table(rows: list[dict], reference: str = "context") -> str:
    """Per mode and ratio: each method's image MSE / the ``reference`` method's, and its colour error.

    Below 1: the completion is closer to the truth than the context alone (proposing nothing).
    The colour error is :func:`colour_error` (mean |RGB| difference between a proposed stroke and
    the context paint under it; '-' where no proposed stroke lies on painted context).
    """
    methods = [m for m in dict.fromkeys(r["method"] for r in rows) if m != reference]
    lines = [
        f"image MSE / {reference}-only MSE, and the colour error of the proposed strokes against the "
        "context paint under them",
        f"{'mode':8s} {'p':>4s} " + " ".join(f"{m:>20s}" for m in methods),
    ]
    for mode, p in dict.fromkeys((r["mode"], r["p"]) for r in rows):
        ref = next(r for r in rows if r["method"] == reference and r["mode"] == mode and r["p"] == p)
        cells = []
        for m in methods:
            r = next(r for r in rows if r["method"] == m and r["mode"] == mode and r["p"] == p)
            ratio = r["image_mse"] / ref["image_mse"] if ref["image_mse"] > 0 else float("nan")
            col = "-" if not np.isfinite(r.get("colour_err", np.nan)) else f"{r['colour_err']:.3f}"
            cells.append(f"{ratio:>13.2f} {col:>6s}")
        lines.append(f"{mode:8s} {p:4.1f} " + " ".join(cells))
    return "\n".join(lines)


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    """Mean image MSE and stroke L1 of each method over all modes and ratios."""
    out: dict[str, dict[str, float]] = {}
    for name in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == name]
        out[name] = {
            "image_mse": float(np.mean([r["image_mse"] for r in rs])),
            "stroke_l1": float(np.mean([r["stroke_l1"] for r in rs])),
        }
    return out


def table(rows: list[dict]) -> str:
    methods = list(dict.fromkeys(r["method"] for r in rows))
    head = f"{'mode':14s} {'p':>4s} " + " ".join(f"{m + ' mse':>16s} {m + ' L1':>14s}" for m in methods)
    lines = [head]
    keys = list(dict.fromkeys((r["mode"], r["p"]) for r in rows))
    for mode, p in keys:
        cells = []
        for m in methods:
            r = next(r for r in rows if r["method"] == m and r["mode"] == mode and r["p"] == p)
            cells.append(f"{r['image_mse']:16.5f} {r['stroke_l1']:14.4f}")
        lines.append(f"{mode:14s} {p:4.1f} " + " ".join(cells))
    return "\n".join(lines)
