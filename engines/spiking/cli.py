"""Spiking LIF networks (COBA/CUBA, STDP, NeuroCoreX): run presets headless.

``python -m engines spiking run --preset coba --duration 1.0 --seed 42 --json``
``python -m engines spiking presets``
``python -m engines spiking record --preset tess-digits --windows 0:16,16:32 --out acts.npz``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time

from engines.cliargs import count, int_range, nonnegative_float, parse_set, positive_float, seed
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
        probe = None
        if args.geometry_every:
            from .geometry import GeometryProbe

            probe = GeometryProbe(every=args.geometry_every)
        job = tess.train_job(tp, seed=0 if args.seed is None else args.seed, save=args.save, geometry=probe)
        total = tp.epochs * -(-(tp.n_train or 1203) // tp.batch)
    else:
        raise ValueError(f"train: unknown preset {args.preset!r} (available: neurocorex-digits, tess-digits)")
    if args.geometry_every and args.preset != "tess-digits":
        raise ValueError("train --geometry-every: only the tess-digits preset measures its geometry live")
    show = not args.no_progress and sys.stderr.isatty()
    with tqdm(total=total, disable=not show, file=sys.stderr) as bar:
        result, _ = drive_job(
            job, on_progress=lambda p: (bar.update(p.done - bar.n), bar.set_description(p.message))
        )
    out = {k: v for k, v in result.items() if k not in ("w_ff", "confusion", "leaks", "state", "thresholds")}
    if not args.geometry_every:
        out.pop("geometry_curve", None)
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"test accuracy {out['test_accuracy']:.4f} on {out['n_test']} images ({out['wall_s']:.1f} s)")
    for g in out.get("geometry_curve", []):
        print(
            f"step {g['step']:5d}  {g['population']} capacity {g['capacity']:.4f}  radius {g['radius']:.3f}  "
            f"dimension {g['dimension']:.2f}  center corr. {g['center_correlation']:.3f}  "
            f"accuracy {g['probe_accuracy']:.3f} (probe images)"
        )
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from . import geometry

    check_output(args.out, "--out")
    if not str(args.out).lower().endswith(".npz"):
        raise ValueError(f"--out {args.out}: the activations file must end in .npz")
    resp = geometry.record(
        args.preset,
        args.windows,
        classes=args.classes,
        per_class=args.per_class,
        noise=args.noise,
        seed=args.seed,
        datapath=args.datapath,
    )
    keys = geometry.save_responses(resp, args.out)
    out: dict = {
        "out": str(args.out),
        "network": resp.network,
        "samples": int(len(resp.labels)),
        "populations": {p: int(resp.counts[p].shape[2]) for p in resp.populations},
        "windows": [list(w) for w in resp.windows],
        "keys": keys,
        "accuracy": resp.accuracy,
    }
    if args.geometry:
        out["geometry"] = geometry.geometry_rows(resp, n_t=args.n_t, seed=args.seed)
    if args.json:
        print(json.dumps(out))
        return 0
    print(
        f"{out['samples']} stimuli ({args.classes} digits), {resp.network} accuracy {resp.accuracy:.3f}: "
        f"wrote {args.out} (features: {geometry.default_population(resp)}, last window; "
        f"per population and window: {', '.join(keys)})"
    )
    for row in out.get("geometry", []):
        print(
            f"{row['population']:8s} {row['window']:8s} capacity {row['capacity']:.4f}  "
            f"radius {row['radius']:.4f}  dimension {row['dimension']:.3f}  "
            f"center corr. {row['center_correlation']:.3f}  N {row['N']}"
        )
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
    t.add_argument(
        "--geometry-every",
        type=int_range(0),
        default=0,
        metavar="N",
        help="tess-digits: measure the readout's manifold geometry every N training steps (0: never)",
    )
    t.add_argument("--json", action="store_true")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=cmd_train)
    rec = sub.add_parser(
        "record",
        help="record the spike counts of every population per time window for digit stimuli "
        "(an activations file of the geometry workbench)",
    )
    rec.add_argument("--preset", choices=("tess-digits", "neurocorex-digits"), default="tess-digits")
    rec.add_argument("--out", required=True, metavar="FILE.npz", help="the activations file to write")
    rec.add_argument(
        "--windows",
        default=None,
        metavar="A:B,C:D",
        help="time windows in steps of the presentation, half-open (default: the whole presentation)",
    )
    rec.add_argument("--classes", type=int_range(2, 10), default=10, help="digits 0..classes-1 (2-10)")
    rec.add_argument("--per-class", type=int_range(2, 50), default=20, help="test images per digit (2-50)")
    rec.add_argument(
        "--noise", type=nonnegative_float, default=0.0, help="std of Gaussian pixel noise (full scale 1)"
    )
    rec.add_argument(
        "--datapath",
        choices=("fixed", "float"),
        default="fixed",
        help="neurocorex-digits: the integer datapath or its float twin",
    )
    rec.add_argument("--seed", type=seed, default=1, help="seed of the image choice and the rate code")
    rec.add_argument("--geometry", action="store_true", help="also print the manifold geometry (MFTMA)")
    rec.add_argument("--n-t", type=int_range(10, 2000), default=100, help="MFTMA samples per manifold")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=cmd_record)
    ps = sub.add_parser("presets", help="list the presets")
    ps.set_defaults(func=cmd_presets)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])
