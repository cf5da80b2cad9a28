"""Painting benchmark: completion quality against two baselines, and speed.

    python benchmarks/painting.py [--n 20] [--quick]

Quality (held-out paintings of assets/painting/strokes.npz, never their crops
in training): image MSE between the render of the completed strokes and the
render of the true strokes, and stroke L1 after Hungarian matching, for each
masking mode and context ratio p in {0.2, 0.4, 0.6, 0.8}; the diffusion model
against the regression twin and nearest-neighbour retrieval.

Speed (targets from the issue, printed as ratios, never asserted):
  * render 1,000 strokes at 512 x 512: <= 50 ms
  * canvas with 10,000 strokes: >= 30 frames/s (a frame = one new stroke
    composited on the cached canvas + conversion to 8-bit for display)
  * one completion proposal for 100 context strokes: <= 2 s on 2 cores
  * one proposal (issue 16) with 180 context strokes: <= 1 s; with 1,000 context
    strokes (a canvas with an empty part, completed over regional windows): <= 2 s

Pictures (``--pngs``, default out/painting_benchmark/): for each held-out source
image (engines.painting.data.HELD_OUT_IMAGES, never cropped into training) and
each masking mode at p = 0.5, one PNG side by side: the original, its 180-stroke
decomposition, the context the mode leaves, and Complete's proposal added to it.

``--split validation`` scores the validation paintings instead of the held-out ones
(where settings are chosen); ``--split photos`` scores 20 crops of shipped photographs that
no split uses (engines.painting.data.PHOTO_VALIDATION), decomposed on the spot: where
Complete's per-mode choices are made (params.FIT_UNGUIDED_MODES).

``--big-square`` (issue 16): holes in big canvases, the held-out images decomposed
into 400 strokes and completed in square mode at p = 0.5 over regional windows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engines.base import drive_job  # noqa: E402
from engines.painting.data import load_dataset, photo_validation  # noqa: E402
from engines.painting.decompose import level_sizes  # noqa: E402
from engines.painting.evaluate import (  # noqa: E402
    DECODERS,
    colour_table,
    context_only_completer,
    diffusion_completer,
    diffusion_completers,
    evaluate,
    nearest_neighbour_completer,
    ratio_table,
    regression_completer,
    summary,
    table,
)
from engines.painting.model import (  # noqa: E402
    MASK_MODES,
    load_model,
    sample,
    slots_for_context,
)
from engines.painting.params import (  # noqa: E402
    DEFAULT_DROP_SPREAD,
    DEFAULT_REACH,
    DEFAULT_RECOLOUR,
    DROP_MODES,
    FIT_UNGUIDED_MODES,
)
from engines.painting.refiner import fit_expected, load_refiner, predict_render  # noqa: E402
from engines.painting.render import CanvasCache, render_fast, to_uint8  # noqa: E402

ASSETS = ROOT / "assets" / "painting"


def _best_of(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _timings(fn, repeat: int = 21) -> tuple[float, float, float]:
    """(median wall, best wall, median CPU time of the process) in seconds over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(min(walls)), float(np.median(cpus))


def speed(
    data: np.ndarray,
    candidates: int = 1,
    guidance: float = 1.5,
    decoder: str = "fit",
    recolour: float = 0.0,
    refiner=None,
) -> dict[str, float]:
    rng = np.random.default_rng(0)
    # realistic strokes: decomposed paintings, concatenated
    pool = data.reshape(-1, 8)
    strokes = pool[rng.integers(0, len(pool), 1000)]
    render_fast(strokes[:10], size=64)  # compile / load the kernel
    render_fast(strokes, size=512)
    t_render, t_render_best, cpu_render = _timings(lambda: render_fast(strokes, size=512))
    many = pool[rng.integers(0, len(pool), 10_000)]
    ids = [f"s{i}" for i in range(10_001)]
    cache = CanvasCache(512)
    cache.update(ids[:10_000], many)
    extra = np.vstack([many, pool[:1]])

    def frame():
        cache.update(ids, extra)
        to_uint8(cache.image)
        cache.update(ids[:10_000], many)  # undo it again (keyframe restart)
        to_uint8(cache.image)

    t_frame = _best_of(frame) / 2
    t_full = _best_of(lambda: render_fast(many, size=512), repeat=2)
    out = {
        "render_1000_at_512_ms": 1000 * t_render,
        "render_1000_at_512_best_ms": 1000 * t_render_best,
        "render_1000_at_512_cpu_ms": 1000 * cpu_render,
        "load_average_1min": os.getloadavg()[0],
        "canvas_10000_frame_ms": 1000 * t_frame,
        "canvas_10000_fps": 1.0 / t_frame,
        "full_render_10000_at_512_ms": 1000 * t_full,
    }
    model_path = ASSETS / "model.zip"
    if model_path.exists():
        model = load_model(model_path)
        ctx, mask, levels = slots_for_context(data[0][:100], level_sizes(model.cfg.n_strokes))
        sample(model, ctx, mask, levels, steps=20, guidance=1.5)  # warm up
        out["proposal_100_context_s"] = _best_of(
            lambda: sample(
                model,
                ctx,
                mask,
                levels,
                steps=20,
                guidance=guidance,
                recolour_strength=recolour,
                recolour_during=True,
            ),
            repeat=3,
        )
        if refiner is not None:
            out["proposal_100_context_fitted_s"] = _best_of(
                lambda: fitted_proposal(model, refiner, ctx, mask, levels, guidance, recolour), repeat=3
            )
        out.update(proposal_speed(model, data, guidance, recolour, refiner))
        if candidates > 1:
            # a new completer per call: a completer reuses the samples of a repeated call
            out["completion_decoder_100_context_s"] = _best_of(
                lambda: diffusion_completer(model, 20, guidance, candidates, decoder=decoder)(
                    ctx, mask, levels, 0
                ),
                repeat=3,
            )
    return out


def big_canvas(data: np.ndarray, n: int, empty_cells: tuple[int, ...] = (8,), seed: int = 0) -> np.ndarray:
    """About ``n`` strokes: paintings of the dataset shrunk into the cells of a 3 x 3 grid, except
    ``empty_cells``, in random order (as a person may paint them)."""
    rng = np.random.default_rng(seed)
    cells = [c for c in range(9) if c not in empty_cells]
    per = int(np.ceil(n / len(cells)))
    out = []
    for c in cells:
        p = data[rng.integers(len(data))][rng.permutation(data.shape[1])[:per]].copy()
        i, j = divmod(c, 3)
        p[:, 0] = (p[:, 0] + j) / 3
        p[:, 1] = (p[:, 1] + i) / 3
        p[:, 2:4] = np.maximum(p[:, 2:4] / 3, 1e-3)  # (the smallest stroke size)
        out.append(p)
    out = np.concatenate(out)[:n]
    return out[rng.permutation(len(out))]


def fitted_proposal(model, refiner, ctx, mask, levels, guidance: float, recolour: float) -> np.ndarray:
    """Complete's first proposal: one sample fitted to the render network's expected painting."""
    out = sample(
        model,
        ctx,
        mask,
        levels,
        steps=20,
        guidance=guidance,
        recolour_strength=recolour,
        recolour_during=True,
        recolour_reach=DEFAULT_REACH,
    )[0]
    fitted, keep = fit_expected(out, mask, predict_render(refiner, ctx, mask, levels))
    return fitted[keep]


def proposal_speed(
    model, data: np.ndarray, guidance: float, recolour: float, refiner=None
) -> dict[str, float]:
    """Seconds for one proposal as Complete makes it: 180 context strokes (one painting, the model's
    slots), and 1,000 context strokes (regional windows, one empty cell of nine to fill); with
    ``refiner``, also the first proposal fitted to the expected painting (180 slots, 90 of them context)."""
    from engines.base import drive_job
    from engines.painting.regions import complete_regions_job

    out = {}
    ctx, mask, levels = slots_for_context(data[0], level_sizes(model.cfg.n_strokes))  # 179 of 180
    kw = dict(steps=20, guidance=guidance, recolour_strength=recolour, recolour_during=True)
    kw["recolour_reach"] = DEFAULT_REACH
    sample(model, ctx, mask, levels, **kw)
    out["proposal_180_context_s"] = _best_of(lambda: sample(model, ctx, mask, levels, **kw), repeat=3)
    if refiner is not None:
        half = np.arange(len(mask)) % 2 == 0  # every other slot of one painting: 90 context, 90 proposed
        ctx90 = np.where(half[:, None], data[0], 0).astype(np.float32)
        out["proposal_180_slots_fitted_s"] = _best_of(
            lambda: fitted_proposal(model, refiner, ctx90, half, levels, guidance, recolour), repeat=3
        )
    big = big_canvas(data, 1000)

    def windows():
        return drive_job(
            complete_regions_job(
                model, big, steps=20, guidance=guidance, recolour_strength=recolour, reach=DEFAULT_REACH
            )
        )[0]

    made = windows()
    job = complete_regions_job(model, big, steps=1, guidance=guidance)
    out["proposal_1000_windows"] = float(next(job).message.split("(")[-1].split()[0])  # "(K windows)"
    job.close()
    out["proposal_1000_context_s"] = _best_of(windows, repeat=3)
    if refiner is not None:  # Complete's first proposal: each window fitted to its expected painting
        out["proposal_1000_context_fitted_s"] = _best_of(
            lambda: drive_job(
                complete_regions_job(
                    model,
                    big,
                    steps=20,
                    guidance=guidance,
                    recolour_strength=recolour,
                    reach=DEFAULT_REACH,
                    refiner=refiner,
                )
            ),
            repeat=3,
        )
    out["proposal_1000_context_strokes"] = float(len(made))
    out["load_average_1min_proposals"] = os.getloadavg()[0]
    return out


def pictures(
    model, folder: Path, guidance: float, recolour: float, reach: float, drop: float, refiner=None
) -> list[dict]:
    """Side-by-side PNGs (original | decomposition | context | completion) of the held-out source images
    in each masking mode at p = 0.5; returns each one's image MSE ratio to the context alone. The
    completion is Complete's first proposal: with ``refiner``, fitted to the expected painting."""
    from engines.painting.data import HELD_OUT_IMAGES, sample_images
    from engines.painting.decompose import DecomposeParams, decompose
    from engines.painting.imageio import resize, save_png, square_crop
    from engines.painting.model import discordant, make_mask

    folder.mkdir(parents=True, exist_ok=True)
    side = 160
    gap = np.ones((side, 6, 3))
    found = {name: img for name, img in sample_images() if name in HELD_OUT_IMAGES}
    out = []
    for k, (name, img) in enumerate(sorted(found.items())):
        original = resize(square_crop(img), 128)
        dec = decompose(original, DecomposeParams(strokes=180, size=96, iters=60), seed=0)
        true = dec.params[0]
        levels = dec.levels
        for m, mode in enumerate(("random", "block", "level", "square")):
            rng = np.random.default_rng([k, m])
            mask = make_mask(mode, true, levels, rng, 0.5)
            context = np.where(mask[:, None], true, 0.0).astype(np.float32)
            full = sample(
                model,
                context,
                mask,
                levels,
                steps=20,
                guidance=guidance,
                seed=k,
                recolour_strength=0.0 if refiner is not None and mode in FIT_UNGUIDED_MODES else recolour,
                recolour_during=True,
                recolour_reach=reach,
            )[0]
            if refiner is not None:
                full, fit_keep = fit_expected(full, mask, predict_render(refiner, context, mask, levels))
            keep = ~mask if refiner is None else ~mask & fit_keep
            if refiner is None and mode in DROP_MODES and drop > 0:
                keep &= ~discordant(full, mask, drop)
            completed = np.vstack([true[mask], full[keep]])
            t, c, f = (render_fast(x, size=64) for x in (true, true[mask], completed))
            ratio = float(((f - t) ** 2).mean() / max(((c - t) ** 2).mean(), 1e-12))
            panels = [
                resize(original, side),
                *(render_fast(x, size=side) for x in (true, true[mask], completed)),
            ]
            row = np.concatenate([x for pnl in panels for x in (pnl, gap)][:-1], axis=1)
            path = folder / f"{name.replace(':', '_').replace('.', '_')}_{mode}.png"
            save_png(row, path)
            out.append({"image": name, "mode": mode, "ratio_to_context": ratio, "png": str(path)})
    return out


def big_square(
    model,
    guidance: float,
    recolour: float,
    reach: float,
    strokes: int = 400,
    seeds: tuple[int, ...] = (0, 1, 2),
    refiner=None,
) -> list[dict]:
    """Holes in big canvases (issue 16): each held-out source image decomposed into ``strokes`` strokes (more
    than the model's slots: completed over regional windows), a square mode at p = 0.5 hides part of it, and
    Complete's path (regions.masked_target, complete_regions_job) refills it. Image MSE of the completion
    and of the context alone against the full decomposition (128 px), and the mean colour error of each
    proposed stroke against the full painting's paint under it; with windows that read only their own margin
    ("own", min_context 0, as before) and with the context-poor windows' grown context and canvas paint
    ("grown", the default), and, with ``refiner``, grown windows each fitted to the painting the render
    network expects there ("fitted": Complete's first proposal)."""
    from engines.base import drive_job
    from engines.painting.data import HELD_OUT_IMAGES, sample_images
    from engines.painting.decompose import DecomposeParams, decompose
    from engines.painting.imageio import resize, square_crop
    from engines.painting.model import context_colours
    from engines.painting.regions import MIN_CONTEXT, complete_regions_job, masked_target

    found = {name: img for name, img in sample_images() if name in HELD_OUT_IMAGES}
    out = []
    for name, img in sorted(found.items()):
        dec = decompose(resize(square_crop(img), 128), DecomposeParams(strokes=strokes, size=128), seed=0)
        true = dec.params[0].astype(np.float32)
        truth = render_fast(true, size=128)
        for seed in seeds:
            keep, target = masked_target(true, None, "square", 0.5, np.random.default_rng(seed))
            context = true[keep]
            mse0 = float(((render_fast(context, size=128) - truth) ** 2).mean())
            row = {"image": name, "seed": seed, "hidden": int((~keep).sum())}
            variants = [("own", 0.0, None), ("grown", MIN_CONTEXT, None)]
            if refiner is not None:
                variants.append(("fitted", MIN_CONTEXT, refiner))
            for label, mc, net in variants:
                new = drive_job(
                    complete_regions_job(
                        model,
                        context,
                        target=target,
                        steps=20,
                        guidance=guidance,
                        seed=seed,
                        recolour_strength=recolour,
                        reach=reach,
                        min_context=mc,
                        refiner=net,
                    )
                )[0]
                mse = float(((render_fast(np.vstack([context, new]), size=128) - truth) ** 2).mean())
                col, _ = context_colours(new, true)
                row[f"{label}_ratio"] = mse / max(mse0, 1e-12)
                row[f"{label}_colour_error"] = float(np.abs(col - new[:, 5:8]).mean()) if len(new) else 0.0
                row[f"{label}_proposals"] = len(new)
            out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20, help="held-out paintings")
    ap.add_argument("--quick", action="store_true", help="random and level modes only")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=1.5)
    ap.add_argument("--temperature", type=float, default=1.0, help="scale of the initial DDIM noise")
    ap.add_argument(
        "--candidates",
        type=int,
        default=1,
        help="diffusion samples per completion, decoded by each of --decoders",
    )
    ap.add_argument(
        "--decoders",
        default="refine,sample",
        help="comma-separated ways to turn the samples into one completion, the first one is 'diffusion' "
        "in the summary: refine (Complete's first proposal: the strokes fitted to the render network's "
        "expected painting), fit (strokes fitted to the samples' mean render), choice (the sample closest "
        "to that mean), sample (the first sample)",
    )
    ap.add_argument(
        "--recolour",
        type=float,
        default=DEFAULT_RECOLOUR,
        help="context colour guidance of 'diffusion' (as in Complete: with the refine decoder, not in "
        f"{' and '.join(FIT_UNGUIDED_MODES)} modes); 'diffusion-before' is the same sampler without it (0) "
        "in every mode, on the same seeds",
    )
    ap.add_argument(
        "--drop-spread",
        type=float,
        default=DEFAULT_DROP_SPREAD,
        help="'diffusion-drop': 'diffusion' without the generated strokes over varied context paint "
        f"(what Complete does in {' and '.join(DROP_MODES)} modes); 0: no such row",
    )
    ap.add_argument(
        "--reach",
        type=float,
        default=DEFAULT_REACH,
        help="how far the context colour reaches over bare canvas (as in Complete; 0: off)",
    )
    ap.add_argument(
        "--split",
        choices=("held-out", "validation", "photos"),
        default="held-out",
        help="paintings to score: the dataset's held-out or validation split, or 'photos', crops of shipped "
        "photographs no split uses, decomposed here (engines.painting.data.PHOTO_VALIDATION: where "
        "Complete's choices are made)",
    )
    ap.add_argument(
        "--pngs",
        type=Path,
        default=ROOT / "out" / "painting_benchmark",
        help="folder for the side-by-side pictures",
    )
    ap.add_argument("--skip-pngs", action="store_true", help="no pictures")
    ap.add_argument("--skip-speed", action="store_true", help="quality only")
    ap.add_argument("--speed-only", action="store_true", help="speed only (no quality, no pictures)")
    ap.add_argument(
        "--big-square",
        action="store_true",
        help="only the holes in big canvases: the held-out images decomposed into 400 strokes, square mode "
        "at p 0.5 over regional windows, windows that read only their own margin against grown context",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument(
        "--model",
        type=Path,
        default=ASSETS / "model.zip",
        help="completion model whose quality and pictures are scored (default: the shipped one; e.g. a "
        "training chunk's, on --split validation); the speed figures always time the shipped one",
    )
    ap.add_argument(
        "--refiner",
        type=Path,
        default=ASSETS / "refiner.zip",
        help="render network of the 'refine' decoder (default: the shipped one)",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    decoders = tuple(x.strip() for x in args.decoders.split(",") if x.strip())
    for dec in decoders:
        if dec not in DECODERS:
            ap.error(f"--decoders: {dec!r} is not one of {', '.join(DECODERS)}")
    refiner = None
    if "refine" in decoders:
        if not args.refiner.exists():
            ap.error(
                f"--decoders refine: {args.refiner} does not exist (train one with `painting train-refiner`)"
            )
        refiner = load_refiner(args.refiner)
    d = load_dataset(ASSETS / "strokes.npz")
    train = d["params"][d["split"] == 0]
    levels = d["levels"]
    if args.split == "photos":
        (test, photo_levels, _), _ = drive_job(photo_validation(int(d["size"]), d["params"].shape[1]))
        if not np.array_equal(photo_levels, levels):
            raise SystemExit("--split photos: the decomposition's levels differ from the dataset's")
        test = test[: args.n]
    else:
        test = d["params"][d["split"] == (1 if args.split == "held-out" else 2)][: args.n]

    if args.big_square:
        rows = big_square(load_model(args.model), args.guidance, args.recolour, args.reach, refiner=refiner)
        print("holes in big canvases: 400-stroke decompositions of the held-out images, square mode, p 0.5")
        print("  (image MSE / context-only MSE, and proposals' colour error against the paint under them)")
        print(f"  {'image':20s} seed hidden   own ratio  grown ratio   own colour  grown colour")
        for r in rows:
            print(
                f"  {r['image']:20s} {r['seed']:4d} {r['hidden']:6d}   {r['own_ratio']:9.3f}  "
                f"{r['grown_ratio']:11.3f}   {r['own_colour_error']:10.4f}  {r['grown_colour_error']:12.4f}"
            )
        for key in ("ratio", "colour_error"):
            own = np.mean([r[f"own_{key}"] for r in rows])
            grown = np.mean([r[f"grown_{key}"] for r in rows])
            print(f"  mean {key}: own {own:.4f}, grown {grown:.4f} (grown / own = {grown / own:.2f})")
        if refiner is not None:
            print("  fitted (Complete's first proposal: grown windows fitted to the expected painting):")
            for r in rows:
                print(
                    f"  {r['image']:20s} {r['seed']:4d}   ratio {r['fitted_ratio']:.3f}   colour "
                    f"{r['fitted_colour_error']:.4f}   proposals {r['fitted_proposals']}"
                )
            print(f"  mean ratio: fitted {np.mean([r['fitted_ratio'] for r in rows]):.4f}")
        if args.json:
            args.json.write_text(json.dumps({"big_square": rows, "args": vars(args)}, indent=1, default=str))
        return 0
    sp = (
        {}
        if args.skip_speed
        else speed(d["params"], args.candidates, args.guidance, decoders[0], args.recolour, refiner)
    )
    if sp:
        _print_speed(sp, args, decoders)
    if args.speed_only:
        if args.json:
            args.json.write_text(json.dumps({"speed": sp, "args": vars(args)}, indent=1, default=str))
        return 0
    completers = {"context": context_only_completer()}
    if args.model.exists():
        model = load_model(args.model)
        completers.update(
            diffusion_completers(
                model,
                args.steps,
                args.guidance,
                args.candidates,
                args.temperature,
                decoders,
                args.recolour,
                reach=args.reach,
                refiner=refiner,
                on_top=decoders[0] == "refine",
                # (as Complete draws its first proposal when it is fitted to the expected painting)
                unguided_modes=FIT_UNGUIDED_MODES if decoders[0] == "refine" else (),
            )
        )
        if args.recolour > 0:
            before = diffusion_completers(
                model,
                args.steps,
                args.guidance,
                args.candidates,
                args.temperature,
                decoders[:1],
                0.0,
                refiner=refiner,
                on_top=decoders[0] == "refine",
            )
            completers["diffusion-before"] = before["diffusion"]
        if args.drop_spread > 0:  # the same samples as 'diffusion'
            # (Complete without the expected fit: the refine decoder is not dropped from, so this row
            # decodes as 'sample' when 'diffusion' is 'refine')
            plain = ("sample",) if decoders[0] == "refine" else decoders[:1]
            dropped = diffusion_completers(
                model,
                args.steps,
                args.guidance,
                args.candidates,
                args.temperature,
                plain,
                args.recolour,
                args.drop_spread,
                args.reach,
                on_top=decoders[0] == "refine",
            )
            completers["diffusion-drop"] = dropped["diffusion"]
    if (ASSETS / "regression.zip").exists():
        completers["regression"] = regression_completer(load_model(ASSETS / "regression.zip"))
    completers["nearest"] = nearest_neighbour_completer(train)
    modes = ("random", "level") if args.quick else MASK_MODES
    t0 = time.perf_counter()
    images = {}
    if refiner is not None:  # the render network's own image: what strokes fitted to it approach
        images["expected-image"] = lambda c, m, lv: predict_render(refiner, c, m, lv)
    rows = evaluate(completers, test, levels, modes=modes, images=images)
    print(
        f"\nquality on {len(test)} {'photo validation' if args.split == 'photos' else args.split} paintings "
        f"({time.perf_counter() - t0:.0f} s; diffusion: "
        f"{args.steps} DDIM steps, guidance {args.guidance}, temperature {args.temperature}, "
        f"{args.candidates} candidate(s), context colour guidance {args.recolour}"
        + (f" (none in {' and '.join(FIT_UNGUIDED_MODES)} modes)" if decoders[0] == "refine" else "")
        + f"; 'diffusion' is decoder "
        f"{decoders[0]}, 'diffusion-X' decoder X, 'diffusion-before' decoder {decoders[0]} without the "
        f"colour guidance; 'diffusion-drop' is decoder "
        f"{'sample' if decoders[0] == 'refine' else decoders[0]} less the strokes on context paint that varies by "
        f"more than {args.drop_spread}, as Complete does in {' and '.join(DROP_MODES)} modes without the "
        "expected fit; 'expected-image' is the render network's predicted image itself, not strokes; "
        "'context' proposes nothing)"
    )
    print(table(rows))
    print()
    print(ratio_table(rows))
    print()
    # (Complete's first proposal: the refine decoder, else the drop row)
    complete_row = (
        "diffusion-drop" if "diffusion-drop" in completers and decoders[0] != "refine" else "diffusion"
    )
    print(colour_table(rows, complete_row))
    s = summary(rows)
    for name, v in s.items():
        print(f"  {name:16s} mean image MSE {v['image_mse']:.5f}   stroke L1 {v['stroke_l1']:.4f}")
    if "diffusion" in s:
        for base in ("regression", "nearest", "context", "diffusion-before"):
            if base in s:
                r = s[base]["image_mse"] / s["diffusion"]["image_mse"]
                print(
                    f"  image MSE {base}/diffusion = {r:.2f} ({'diffusion better' if r > 1 else 'diffusion WORSE'})"
                )
    pics = []
    if not args.skip_pngs and args.model.exists():
        pics = pictures(
            load_model(args.model),
            args.pngs,
            args.guidance,
            args.recolour,
            args.reach,
            args.drop_spread,
            refiner,
        )
        print(f"\npictures (original | decomposition | context | completion) in {args.pngs}:")
        for r in pics:
            print(
                f"  {r['image']:20s} {r['mode']:8s} p 0.5  image MSE / context-only {r['ratio_to_context']:.2f}"
            )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "speed": sp,
                    "rows": rows,
                    "summary": s,
                    "pictures": pics,
                    "args": vars(args)
                    | {
                        "json": str(args.json),
                        "pngs": str(args.pngs),
                        "model": str(args.model),
                        "refiner": str(args.refiner),
                    },
                    "load_average_1min_at_end": os.getloadavg()[0],
                },
                indent=1,
            )
        )
    return 0


def _print_speed(sp: dict, args, decoders) -> None:
    print(f"speed (the machine may be shared: load average {sp['load_average_1min']:.1f})")
    print(
        f"  render 1,000 strokes at 512 px: median {sp['render_1000_at_512_ms']:.1f} ms of 21 "
        f"(target 50 ms: x{50 / sp['render_1000_at_512_ms']:.2f}); best {sp['render_1000_at_512_best_ms']:.1f} ms, "
        f"median CPU time {sp['render_1000_at_512_cpu_ms']:.1f} ms on {numba.get_num_threads()} threads"
    )
    print(
        f"  canvas with 10,000 strokes: {sp['canvas_10000_fps']:.1f} frames/s "
        f"(target 30: x{sp['canvas_10000_fps'] / 30:.2f}); full re-render {sp['full_render_10000_at_512_ms']:.0f} ms"
    )
    if "proposal_100_context_s" in sp:
        print(
            f"  one proposal, 100 context strokes, {args.steps} DDIM steps + CFG "
            f"+ colour guidance {args.recolour}: "
            f"{sp['proposal_100_context_s']:.2f} s (target 2 s: x{2 / sp['proposal_100_context_s']:.2f})"
        )
    if "proposal_180_context_s" in sp:
        print(
            f"  one proposal, 180-slot painting (179 context strokes): {sp['proposal_180_context_s']:.2f} s "
            f"(target 1 s: x{1 / sp['proposal_180_context_s']:.2f}); 1,000 context strokes over regional "
            f"windows ({sp['proposal_1000_context_strokes']:.0f} strokes proposed in one empty ninth by "
            f"{sp['proposal_1000_windows']:.0f} windows): "
            f"{sp['proposal_1000_context_s']:.2f} s (target 2 s: x{2 / sp['proposal_1000_context_s']:.2f}); "
            f"load average {sp['load_average_1min_proposals']:.1f}"
        )
    if "proposal_180_slots_fitted_s" in sp:
        print(
            f"  Complete's first proposal fitted to the expected painting: 100 context strokes "
            f"{sp['proposal_100_context_fitted_s']:.2f} s (target 2 s: x{2 / sp['proposal_100_context_fitted_s']:.2f}); "
            f"180-slot painting, 90 context strokes, 90 proposed: {sp['proposal_180_slots_fitted_s']:.2f} s "
            f"(target 1 s: x{1 / sp['proposal_180_slots_fitted_s']:.2f}); 1,000 context strokes over regional "
            f"windows, each fitted: {sp['proposal_1000_context_fitted_s']:.2f} s "
            f"(target 2 s: x{2 / sp['proposal_1000_context_fitted_s']:.2f})"
        )
    if "completion_decoder_100_context_s" in sp:
        print(
            f"  the summary's decoder ({args.candidates} samples + {decoders[0]}), 100 context strokes: "
            f"{sp['completion_decoder_100_context_s']:.2f} s"
        )


if __name__ == "__main__":
    sys.exit(main())
