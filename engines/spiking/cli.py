"""Spiking LIF networks (COBA/CUBA, STDP, NeuroCoreX): run presets headless.

``python -m engines spiking run --preset coba --duration 1.0 --seed 42 --json``
``python -m engines spiking presets``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time

from engines.cliargs import count, parse_set, positive_float, seed
from engines.files import atomic_output, check_input, check_output, reading


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .engine import SpikingEngine
    from .params import SpikingParams, preset

    for path, option in ((args.save, "--save"), (args.nwb, "--nwb")):
        if path:
            check_output(path, option)
    if args.load:
        check_input(args.load, "saved state")
    params = preset(args.preset, **parse_set(args.set, SpikingParams, "the spiking parameters"))
    t0 = time.perf_counter()
    eng = SpikingEngine(params, seed=args.seed)
    build_s = time.perf_counter() - t0
    if args.load:
        with reading(args.load, "spiking state file"):
            eng.load(args.load)
    steps = int(round(args.duration / (params.dt_ms * 1e-3)))
    chunk = max(1, int(round(0.1 / (params.dt_ms * 1e-3))))
    show = not args.no_progress and sys.stderr.isatty()
    with tqdm(total=steps, unit="step", disable=not show, file=sys.stderr) as bar:
        done = 0
        while done < steps:
            k = eng.step(min(chunk, steps - done))
            done += k
            bar.update(k)
    out = eng.stats()
    out.update({"preset": args.preset, "seed": args.seed, "build_s": build_s})
    with contextlib.ExitStack() as outputs:  # both files, or neither
        if args.save:
            eng.save(outputs.enter_context(atomic_output(args.save)))
            out["saved"] = args.save
        if args.nwb:
            out["nwb_units"] = eng.export_nwb(outputs.enter_context(atomic_output(args.nwb)))
            out["nwb"] = args.nwb
    if args.json:
        print(json.dumps({k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}))
    else:
        for k, v in out.items():
            print(f"{k:18s} {v:.6g}" if isinstance(v, float) else f"{k:18s} {v}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engines.base import drive_job

    if args.preset == "neurocorex-digits" and args.profile == "chip":
        from . import ncx_chip_digits

        over = parse_set(args.set, ncx_chip_digits.CHIP_DEFAULTS, "the chip-profile settings")
        job = ncx_chip_digits.chip_job(
            method=args.method, seed=1 if args.seed is None else args.seed, save=args.save, **over
        )
        total = 2
    elif args.preset == "neurocorex-digits":
        from . import ncx_digits

        if args.method == "stdp":
            over = {
                "epochs": args.epochs,
                **parse_set(args.set, ncx_digits.STDP_DEFAULTS, "the STDP settings"),
            }
            job = ncx_digits.train_job(seed=0 if args.seed is None else args.seed, save=args.save, **over)
            total = int(over["epochs"]) + 1
        else:
            if args.save:
                raise ValueError(
                    "train --method templates: --save is refused (the shipped weights are STDP-trained)"
                )
            job = ncx_digits.template_train_job(alpha=args.alpha, seed=1 if args.seed is None else args.seed)
            total = 2
    elif args.preset == "tess-digits":
        from . import tess

        tp = tess.TessParams(**parse_set(args.set, tess.TessParams, "the TESS parameters"))
        job = tess.train_job(tp, seed=0 if args.seed is None else args.seed, save=args.save)
        total = tp.epochs * -(-(tp.n_train or 1203) // tp.batch)
    else:
        raise ValueError(f"train: unknown preset {args.preset!r} (available: neurocorex-digits, tess-digits)")
    show = not args.no_progress and sys.stderr.isatty()
    with tqdm(total=total, disable=not show, file=sys.stderr) as bar:
        result, _ = drive_job(
            job, on_progress=lambda p: (bar.update(p.done - bar.n), bar.set_description(p.message))
        )
    out = {k: v for k, v in result.items() if k not in ("w_ff", "confusion", "leaks", "thresholds")}
    if args.json:
        print(json.dumps(out))
    else:
        print(f"test accuracy {out['test_accuracy']:.4f} on {out['n_test']} images ({out['wall_s']:.1f} s)")
    return 0


def cmd_presets(args: argparse.Namespace) -> int:
    from .params import PRESETS

    for name, (doc, _) in PRESETS.items():
        print(f"{name:18s} {doc}")
    print(f"{'neurocorex-digits':18s} NeuroCoreX integer LIF, 64 inputs -> 10 neurons on 8x8 digits (train)")
    print(
        f"{'tess-digits':18s} feed-forward SNN trained online with the TESS local rule on 8x8 digits (train)"
    )
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("spiking", help=__doc__.strip().splitlines()[0])
    sub = p.add_subparsers(dest="spiking_cmd", metavar="COMMAND")
    r = sub.add_parser("run", help="simulate a preset network and print its rates and speed")
    r.add_argument("--preset", default="coba", help="preset name (see 'presets')")
    r.add_argument("--duration", type=positive_float, default=1.0, help="biological time in seconds (> 0)")
    r.add_argument("--seed", type=seed, default=42)
    r.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a parameter")
    r.add_argument("--save", metavar="FILE", help="save the final state to FILE")
    r.add_argument("--load", metavar="FILE", help="continue from a saved state")
    r.add_argument("--nwb", metavar="FILE", help="export the spikes to an NWB file")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.add_argument("--no-progress", action="store_true")
    r.set_defaults(func=cmd_run)
    t = sub.add_parser("train", help="train a classifier preset and print its test accuracy")
    t.add_argument("--preset", default="tess-digits", help="tess-digits or neurocorex-digits")
    t.add_argument(
        "--set",
        action="append",
        metavar="NAME=VALUE",
        help="override a TESS parameter (or a neurocorex-digits STDP setting)",
    )
    t.add_argument(
        "--alpha", type=positive_float, default=8.0, help="template scale (neurocorex-digits templates)"
    )
    t.add_argument(
        "--method",
        choices=("stdp", "templates"),
        default="stdp",
        help="neurocorex-digits: on-chip STDP with teacher frames (default) or offline int8 templates",
    )
    t.add_argument(
        "--profile",
        choices=("chip", "extended"),
        default="chip",
        help="neurocorex-digits: chip (as the VHDL does: off-chip weights, host-fitted per-neuron thresholds) "
        "or extended (the generalised model: STDP training with per-neuron leaks)",
    )
    t.add_argument("--epochs", type=count, default=3, help="STDP epochs (neurocorex-digits, extended)")
    t.add_argument("--seed", type=seed, default=None, help="seed (default 1 for neurocorex, 0 for tess)")
    t.add_argument("--save", action="store_true", help="write the weights and manifest to assets/spiking")
    t.add_argument("--json", action="store_true")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=cmd_train)
    ps = sub.add_parser("presets", help="list the presets")
    ps.set_defaults(func=cmd_presets)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])
