"""Collaborative neural painting: decompose images into strokes, render, complete paintings.

Subcommands::

    python -m engines painting decompose IMAGE --strokes N --size S --out s.json
    python -m engines painting render s.json --size 256 --out x.png [--svg x.svg]
    python -m engines painting complete s.json --mode random --p 0.5 --seed 0 --out done.json
                                                           (any canvas size: regional windows past 180)
    python -m engines painting dataset --out data.npz      (training strokes from shipped images)
    python -m engines painting dataset --extend data.npz --sources matplotlib --out more.npz
                                                           (add the crops of new sources to a dataset)
    python -m engines painting train --data data.npz --out assets/painting/model.npz
    python -m engines painting eval --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from engines.cliargs import float_range, int_range, positive_int, seed
from engines.files import atomic_output, atomic_write_text, check_input, check_output, reading

#: the largest render a command makes (pixels per side)
MAX_RENDER_SIZE = 8192

PACKAGE = "painting"


def _tqdm(total, desc):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, disable=None)


def _cmd_decompose(args) -> int:
    import torch

    from engines.base import Progress
    from engines.painting.decompose import DecomposeParams, decompose_job
    from engines.painting.imageio import load_image, psnr, save_png
    from engines.painting.render import render_fast
    from engines.painting.strokes import params_to_strokes, save_painting

    check_output(args.out)
    if args.png:
        check_output(args.png, "--png")
    check_input(args.image, "image")
    torch.set_num_threads(max(1, args.threads))
    p = DecomposeParams(strokes=args.strokes, size=args.size, iters=args.iters, lr=args.lr)
    with reading(args.image, "image"):
        img = load_image(args.image, size=args.size)
    t0 = time.perf_counter()
    job = decompose_job(img, p, seed=args.seed)
    bar = _tqdm(p.iters * 3, "decompose")
    result = None
    try:
        while True:
            pr: Progress = next(job)
            bar.total = pr.total
            bar.n = int(pr.done)
            bar.set_postfix_str(pr.message.split(",")[0])
            bar.refresh()
    except StopIteration as stop:
        result = stop.value
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    painting = params_to_strokes(result.params[0], author="decompose")
    report = {
        "image": str(args.image),
        "strokes": int(result.params.shape[1]),
        "size": args.size,
        "wall_s": round(wall, 2),
        "levels": [
            {"strokes": int(c), "psnr_db": round(float(v), 2)} for c, v in zip(result.counts, result.psnr[0])
        ],
    }
    final = render_fast(result.params[0], size=args.size)
    report["psnr_db"] = round(psnr(final, img), 2)
    with contextlib.ExitStack() as outputs:  # both files, or neither
        save_painting(painting, outputs.enter_context(atomic_output(args.out)))
        if args.png:
            save_png(final, outputs.enter_context(atomic_output(args.png)))
    print(json.dumps(report) if args.json else _report_text(report))
    return 0


def _report_text(r: dict) -> str:
    lines = [
        f"{r['image']}: {r['strokes']} strokes at {r['size']} px in {r['wall_s']} s, PSNR {r['psnr_db']} dB"
    ]
    for lv in r["levels"]:
        lines.append(f"  after {lv['strokes']:4d} strokes: PSNR {lv['psnr_db']:.2f} dB")
    return "\n".join(lines)


def _cmd_render(args) -> int:
    from engines.painting.imageio import save_png, strokes_svg
    from engines.painting.render import render_fast
    from engines.painting.strokes import load_painting

    check_output(args.out)
    if args.svg:
        check_output(args.svg, "--svg")
    check_input(args.strokes_json, "painting")
    with reading(args.strokes_json, "painting"):
        painting = load_painting(args.strokes_json)
    params, opacity = painting.arrays()
    img = render_fast(params, opacity, size=args.size, background=painting.background, footprint=True)
    with contextlib.ExitStack() as outputs:  # both files, or neither
        save_png(img, outputs.enter_context(atomic_output(args.out)))
        if args.svg:
            svg = strokes_svg(params, opacity, args.size, painting.background)
            atomic_write_text(outputs.enter_context(atomic_output(args.svg)), svg)
    print(f"{args.out}: {len(params)} strokes at {args.size} x {args.size}")
    return 0


def add_parser(subparsers) -> None:
    ap = subparsers.add_parser(PACKAGE, help="collaborative neural painting (strokes, renderer, completion)")
    sub = ap.add_subparsers(dest="painting_cmd", metavar="COMMAND")

    d = sub.add_parser("decompose", help="turn an image into coarse-to-fine strokes")
    d.add_argument("image", type=Path)
    d.add_argument(
        "--strokes", type=int_range(1, 4000), default=180, help="number of strokes (default 180 = 9+45+126)"
    )
    d.add_argument("--size", type=int_range(16, 512), default=128, help="optimisation resolution in pixels")
    d.add_argument("--iters", type=int_range(1, 5000), default=120, help="Adam steps per level")
    d.add_argument("--lr", type=float_range(1e-5, 1.0), default=0.01)
    d.add_argument("--seed", type=seed, default=0)
    d.add_argument("--threads", type=positive_int, default=2)
    d.add_argument("--out", type=Path, required=True, help="painting JSON to write")
    d.add_argument("--png", type=Path, default=None, help="also write the render")
    d.add_argument("--json", action="store_true", help="print the report as JSON")
    d.set_defaults(func=_cmd_decompose)

    r = sub.add_parser("render", help="render a painting JSON to PNG (and SVG)")
    r.add_argument("strokes_json", type=Path)
    r.add_argument("--size", type=int_range(1, MAX_RENDER_SIZE), default=256, help="pixels per side")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--svg", type=Path, default=None)
    r.set_defaults(func=_cmd_render)

    try:
        from engines.painting import train_cli
    except ImportError:  # pragma: no cover - model parts not installed
        return
    train_cli.add_model_parsers(sub)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - convenience
    parser = argparse.ArgumentParser(prog="painting")
    add_parser(parser.add_subparsers(dest="engine"))
    args = parser.parse_args([PACKAGE, *(argv or sys.argv[1:])])
    return int(args.func(args))
