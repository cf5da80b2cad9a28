"""Command-line parts of the completion model: dataset, train, complete, eval."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from engines.cliargs import (
    count,
    float_range,
    int_range,
    nonnegative_float,
    nonnegative_int,
    positive_int,
    probability,
    seed,
    suggest,
)
from engines.files import atomic_output, check_input, check_output, reading
from engines.painting.params import (
    DEFAULT_DROP_SPREAD,
    DEFAULT_REACH,
    DEFAULT_RECOLOUR,
    DROP_MODES,
    FIT_UNGUIDED_MODES,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "painting"
DEFAULT_MODEL = ASSETS / "model.zip"
DEFAULT_BASELINE = ASSETS / "regression.zip"
DEFAULT_DATA = ASSETS / "strokes.npz"
DEFAULT_REFINER = ASSETS / "refiner.zip"


def _bar(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, leave=False, disable=None)


def _command_line(sub: str) -> str:
    """The command as typed, from the subcommand ``sub`` on ("" when it was not typed, e.g. in tests)."""
    if sub not in sys.argv:
        return ""
    return "python -m engines painting " + " ".join(sys.argv[sys.argv.index(sub) :])


def _drive(job, total: int, desc: str, log: bool = False, on_report=None):
    """Run ``job`` under a progress bar; ``log`` prints every report, ``on_report(progress)`` sees each."""
    bar = _bar(total, desc)
    try:
        while True:
            pr = next(job)
            bar.n = int(pr.done)
            bar.set_postfix_str(pr.message.split(" (")[0][-60:])
            bar.refresh()
            if log:
                print(pr.message, file=sys.stderr, flush=True)
            if on_report is not None:
                on_report(pr)
    except StopIteration as stop:
        return stop.value
    finally:
        bar.close()


def _cmd_dataset(args) -> int:
    import torch

    from engines.painting.data import build_dataset_job, save_dataset

    check_output(args.out)
    if args.sources is not None and args.val_sources is not None:
        raise ValueError("--sources and --val-sources: one split per extension (run it twice for both)")
    if (args.extend is None) != (args.sources is None and args.val_sources is None):
        raise ValueError(
            "--extend and --sources (or --val-sources) go together (the dataset to extend, the sources to add)"
        )
    if args.extend is not None and (args.held_out_from is not None or args.val_images):
        raise ValueError(
            "--extend keeps the dataset's held-out split and adds to its validation split with --val-sources: "
            "drop --held-out-from and --val-images"
        )
    if args.held_out_from is not None:  # checked now, not after the first decompositions
        _load_dataset(args.held_out_from)
    torch.set_num_threads(max(1, args.threads))
    t0 = time.perf_counter()
    if args.extend is not None:
        return _extend_dataset(args, t0)
    job = build_dataset_job(
        crops_per_image=args.crops,
        n_faces=args.faces,
        size=args.size,
        iters=args.iters,
        strokes=args.strokes,
        seed=args.seed,
        max_images=args.max_images,
        batch=args.batch,
        face_copies=args.face_copies,
        min_side=args.min_side,
        jitter=args.jitter,
        val_images=tuple(v for v in args.val_images.split(",") if v),
        held_out_from=args.held_out_from,
    )
    d = _drive(job, 1, "decompose")
    save_dataset(d, args.out, half=args.half)
    print(
        f"{args.out}: {len(d['params'])} paintings of {d['params'].shape[1]} strokes "
        f"({int((d['split'] == 0).sum())} train, {int((d['split'] == 1).sum())} held out"
        + (f", {int((d['split'] == 2).sum())} validation" if (d["split"] == 2).any() else "")
        + "), "
        f"mean PSNR {float(d['psnr'].mean()):.2f} dB, {time.perf_counter() - t0:.0f} s"
    )
    return 0


def _extend_dataset(args, t0: float) -> int:
    """``dataset --extend OLD --sources A,B`` (or ``--val-sources``): OLD's paintings, then the training (or
    validation) crops of the sources."""
    from engines.painting.data import extend_dataset_job, save_dataset

    old = _load_dataset(args.extend)
    flag, listed, split = (
        ("--sources", args.sources, 0) if args.val_sources is None else ("--val-sources", args.val_sources, 2)
    )
    sources = [s.strip() for s in listed.split(",") if s.strip()]
    if not sources:
        raise ValueError(f"{flag}: no source named (e.g. {flag} matplotlib)")
    job = extend_dataset_job(
        old,
        sources,
        crops_per_image=args.crops,
        iters=args.iters,
        batch=args.batch,
        seed=args.seed,
        min_side=args.min_side,
        jitter=args.jitter,
        split=split,
    )
    d = _drive(job, 1, "decompose")
    save_dataset(d, args.out, half=args.half)
    new = len(d["params"]) - len(old["params"])
    names = sorted({str(s).split("#")[0] for s in d["source"][-new:]})
    named = ", ".join(names) if len(names) <= 6 else f"{len(names)} sources: {', '.join(names[:3])}, ..."
    print(
        f"{args.out}: {len(d['params'])} paintings ({len(old['params'])} of {args.extend} and {new} new "
        f"{'training' if split == 0 else 'validation'} paintings of {named}), "
        f"mean PSNR of the new ones {float(d['psnr'][-new:].mean()):.2f} dB, {time.perf_counter() - t0:.0f} s"
    )
    return 0


def _training_splits(path: Path) -> tuple[dict, np.ndarray, np.ndarray]:
    """(dataset, training paintings, validation paintings: the validation split when the dataset has one,
    else the held-out paintings); no training painting is an error naming the file."""
    d = _load_dataset(path)
    train = d["params"][d["split"] == 0]
    if len(train) == 0:
        raise ValueError(f"{path}: no training paintings (split 0) to train on")
    val = d["params"][d["split"] == 2] if (d["split"] == 2).any() else d["params"][d["split"] == 1]
    return d, train, val


def _cmd_train(args) -> int:
    import torch

    from engines.painting.model import ModelConfig, TrainParams, save_model, train_job

    check_output(args.out)
    torch.set_num_threads(max(1, args.threads))
    d, train, val = _training_splits(args.data)
    levels = d["levels"]
    cfg = ModelConfig(
        n_strokes=train.shape[1],
        n_levels=int(levels.max()) + 1,
        d_model=args.d_model,
        layers=args.layers,
        heads=args.heads,
        objective=args.objective,
        prediction=args.prediction,
        image_grid=args.image_grid,
    )
    tp = TrainParams(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        report_every=args.report_every,
        ema=args.ema,
        max_seconds=60.0 * args.max_minutes,
    )
    from engines.painting.model import load_checkpoint, save_checkpoint

    resume = init = None
    if args.resume is not None:
        check_input(args.resume, "training checkpoint")
        with reading(args.resume, "training checkpoint"):
            resume = load_checkpoint(args.resume)
    elif args.init is not None:
        init = _load_or_die(args.init)
        cfg = init.cfg
    if args.state is not None:
        check_output(args.state)

    def keep_state(state: dict) -> None:
        save_checkpoint(args.state, state)
        last_state["step"] = state["step"]

    last_state = {"step": int(resume["step"]) if resume is not None else 0}
    start_step = last_state["step"]
    t0 = time.perf_counter()
    job = train_job(
        train,
        levels,
        cfg,
        tp,
        seed=args.seed,
        val=val[: args.val_size],
        resume=resume,
        init=init,
        checkpoint=keep_state if args.state is not None else None,
    )

    def save_partial(pr) -> None:
        if args.checkpoint and isinstance(pr.value, tuple):
            m, h = pr.value
            save_model(
                m,
                args.out,
                {
                    "wall_s": round(time.perf_counter() - t0, 1),
                    "step": int(pr.done),
                    "final_loss": h["loss"][-1],
                    "final_val_loss": h["val_loss"][-1],
                    "partial": True,
                },
            )

    model, history = _drive(job, tp.steps, f"train {cfg.objective}", args.log, save_partial)
    wall = time.perf_counter() - t0
    command = _command_line("train")
    extra = {
        "wall_s": round(wall, 1),
        "final_loss": history["loss"][-1],
        "final_val_loss": history["val_loss"][-1],
        "train_paintings": int(len(train)),
        "steps_done": int(history["step"][-1]) if history["step"] else 0,
        "command": command,
    }
    if args.manifest is not None:
        extra["val_loss_by_mode"] = _record_chunk(args, model, d, val[: args.val_size], start_step, extra)
    save_model(model, args.out, extra)
    print(json.dumps({"out": str(args.out), **extra}))
    return 0


def _record_chunk(args, model, d: dict, val: np.ndarray, start_step: int, extra: dict) -> dict:
    """Append this training chunk to the manifest's ``training.chunks``; returns its per-mode validation loss."""
    import datetime

    from engines.painting.model import val_loss_by_mode
    from engines.serialize import load_manifest

    by_mode = {k: round(v, 5) for k, v in val_loss_by_mode(model, val, d["levels"]).items()}
    manifest = load_manifest(args.manifest)
    chunks = manifest.setdefault("training", {}).setdefault("chunks", [])
    chunks.append(
        {
            "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
            "command": extra["command"],
            "data": f"{args.data} ({extra['train_paintings']} training paintings, validation split of "
            f"{len(val)} paintings)",
            "resumed_from": str(args.resume) if args.resume is not None else None,
            "initialised_from": str(args.init) if args.init is not None else None,
            "steps": [int(start_step), int(extra["steps_done"])],
            "wall_s": extra["wall_s"],
            "final_loss": round(float(extra["final_loss"]), 5),
            "val_loss_by_mode": by_mode,
            "state": str(args.state) if args.state is not None else None,
            "out": str(args.out),
        }
    )
    with atomic_output(args.manifest) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n")
    return by_mode


def _cmd_train_refiner(args) -> int:
    import datetime

    import torch

    from engines.painting.refiner import (
        RefinerConfig,
        RefinerTrainParams,
        load_refiner_state,
        save_refiner,
        save_refiner_state,
        train_refiner_job,
        val_ratios,
    )
    from engines.serialize import load_manifest

    check_output(args.out)
    torch.set_num_threads(max(1, args.threads))
    d, train, val = _training_splits(args.data)
    val = val[: args.val_size]
    levels = d["levels"]
    resume = None
    if args.resume is not None:
        check_input(args.resume, "render network training state")
        with reading(args.resume, "render network training state"):
            resume = load_refiner_state(args.resume)
    if args.state is not None:
        check_output(args.state)
    cfg = RefinerConfig(n_levels=int(levels.max()) + 1, width=args.width, depth=args.depth)
    tp = RefinerTrainParams(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        report_every=args.report_every,
        max_seconds=60.0 * args.max_minutes,
        inset=args.inset,
    )
    start = int(resume["step"]) if resume is not None else 0
    t0 = time.perf_counter()
    job = train_refiner_job(
        train,
        levels,
        cfg,
        tp,
        seed=args.seed,
        val=val,
        resume=resume,
        checkpoint=(lambda st: save_refiner_state(args.state, st)) if args.state is not None else None,
    )
    net, history = _drive(job, tp.steps, "train render network", args.log)
    wall = time.perf_counter() - t0
    ratios = {k: round(v, 4) for k, v in val_ratios(net, val, levels).items()}
    command = _command_line("train-refiner")
    extra = {
        "wall_s": round(wall, 1),
        "steps": [start, int(history["step"][-1]) if history["step"] else start],
        "final_loss": round(history["loss"][-1], 6) if history["loss"] else None,
        "final_val_loss": round(history["val_loss"][-1], 6) if history["val_loss"] else None,
        "val_mse_over_context_by_mode": ratios,
        "train_paintings": int(len(train)),
        "inset": tp.inset,
        "command": command,
    }
    save_refiner(net, args.out, extra)
    if args.manifest is not None:
        manifest = load_manifest(args.manifest)
        chunks = manifest.setdefault("render_network", {}).setdefault("chunks", [])
        chunks.append(
            {
                "date_utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M"),
                "data": f"{args.data} ({len(train)} training paintings, validation split of {len(val)})",
                "resumed_from": str(args.resume) if args.resume is not None else None,
                "state": str(args.state) if args.state is not None else None,
                "out": str(args.out),
                **extra,
            }
        )
        with atomic_output(args.manifest) as tmp:
            Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps({"out": str(args.out), **extra}))
    return 0


def _load_or_die(path: Path):
    from engines.painting.model import load_model

    if not Path(path).exists():
        raise FileNotFoundError(
            f"{path}: no trained model (train one with `python -m engines painting train`)"
        )
    check_input(path, "model file")
    with reading(path, "model file"):
        return load_model(path)


def _load_dataset(path: Path) -> dict:
    from engines.painting.data import load_dataset

    check_input(path, "stroke dataset")
    with reading(path, "stroke dataset"):
        d = load_dataset(path)
        if len(d["levels"]) != d["params"].shape[1] or len(d["split"]) != len(d["params"]):
            raise ValueError("fields 'levels' and 'split' do not fit 'params'")
    return d


def _cmd_complete(args) -> int:
    import torch

    from engines.painting.decompose import level_sizes
    from engines.painting.model import (
        MASK_MODES,
        consensus_fit,
        discordant,
        make_mask,
        sample,
        slots_for_context,
    )
    from engines.painting.strokes import load_painting, save_painting

    check_output(args.out)
    if args.mode not in (*MASK_MODES, "all"):
        raise ValueError(
            f"--mode {args.mode!r}: allowed values are {', '.join((*MASK_MODES, 'all'))}"
            + suggest(args.mode, (*MASK_MODES, "all"))
        )
    check_input(args.strokes_json, "painting")
    torch.set_num_threads(max(1, args.threads))
    model = _load_or_die(args.model)
    with reading(args.strokes_json, "painting"):
        painting = load_painting(args.strokes_json)
    params, opacity = painting.arrays()
    if len(params) > model.cfg.n_strokes or (len(params) == model.cfg.n_strokes and args.mode == "all"):
        return _complete_regions(args, model, painting, params, opacity)
    sizes = level_sizes(model.cfg.n_strokes)
    rng = np.random.default_rng(args.seed)
    if len(params) == model.cfg.n_strokes and args.mode != "all":
        # a full painting: hide part of it by the masking scheme, complete the rest
        levels = np.concatenate([np.full(k, i) for i, k in enumerate(sizes)])
        mask = make_mask(args.mode, params, levels, rng, args.p)
        context = np.where(mask[:, None], params, 0).astype(np.float32)
    else:
        context, mask, levels = slots_for_context(params, sizes)
    refiner = _refiner_or_none(args)
    t0 = time.perf_counter()
    out = sample(
        model,
        context,
        mask,
        levels,
        steps=args.steps,
        guidance=args.guidance,
        seed=args.seed,
        proposals=args.samples,
        # (fitted to the expected painting, it takes its colours from there in FIT_UNGUIDED_MODES)
        recolour_strength=0.0 if refiner is not None and args.mode in FIT_UNGUIDED_MODES else args.recolour,
        recolour_during=True,
        recolour_reach=args.reach,
    )
    if refiner is not None:
        from engines.painting.model import mbr_select
        from engines.painting.refiner import fit_expected, predict_render

        start = out[0] if args.samples == 1 else out[mbr_select(out)]
        # (the result lists the proposals after the kept strokes: they are fitted as painted over them)
        out, fit_keep = fit_expected(start, mask, predict_render(refiner, context, mask, levels))
        how = "fitted to the expected painting"
    else:
        out = consensus_fit(out, mask) if args.samples > 1 else out[0]
        how = f"fitted to the mean of {args.samples} samples" if args.samples > 1 else "one sample"
    wall = time.perf_counter() - t0
    # the result: the kept context strokes as they were, then the proposals in level order
    result = painting.copy()
    if len(params) == model.cfg.n_strokes and args.mode != "all":
        ids = painting.ids()
        for i in np.flatnonzero(~mask):
            result.remove(ids[i])
    keep = ~mask if refiner is None else ~mask & fit_keep
    if refiner is None and args.mode in DROP_MODES and args.drop_spread > 0:
        keep &= ~discordant(out, mask, args.drop_spread)
    new = out[keep]
    result.add_many(new, author="model")
    with atomic_output(args.out) as tmp:
        save_painting(result, tmp)
    print(
        f"{args.out}: {int(mask.sum())} context strokes, {len(new)} proposed in {wall:.2f} s "
        f"({args.steps} DDIM steps, guidance {args.guidance}, {how})"
    )
    return 0


def _refiner_or_none(args):
    """The render network of ``complete``'s expected fit: None with --no-expected-fit or when its file is
    missing (the default path only; a named --refiner that is missing is an error)."""
    from engines.painting.refiner import load_refiner

    if args.no_expected_fit:
        return None
    if not Path(args.refiner).exists():
        if Path(args.refiner) == DEFAULT_REFINER:
            return None
        raise FileNotFoundError(
            f"{args.refiner}: no render network (train one with `painting train-refiner`)"
        )
    check_input(args.refiner, "render network")
    with reading(args.refiner, "render network"):
        return load_refiner(args.refiner)


def _complete_regions(args, model, painting, params, opacity) -> int:
    """``complete`` of a canvas with more strokes than the model's slots, over regional windows.

    The studio's path (:func:`engines.painting.regions.masked_target`, then
    :func:`engines.painting.regions.complete_regions_job`): in mode 'all' the
    proposals fill the empty canvas (else anywhere); in a masking mode the
    scheme hides some of the painted strokes (ranked by size), the result
    keeps the others and proposes strokes where the hidden ones painted.
    """
    from engines.base import drive_job
    from engines.painting.params import DROP_MODES
    from engines.painting.regions import complete_regions_job, masked_target
    from engines.painting.strokes import save_painting

    keep, target = masked_target(params, opacity, args.mode, args.p, np.random.default_rng(args.seed))
    t0 = time.perf_counter()
    new = drive_job(
        complete_regions_job(
            model,
            params[keep],
            opacity[keep],
            target=target,
            steps=args.steps,
            guidance=args.guidance,
            seed=args.seed,
            samples=args.samples,
            recolour_strength=args.recolour,
            reach=args.reach,
            drop_spread=args.drop_spread if args.mode in DROP_MODES else 0.0,
            refiner=_refiner_or_none(args),
        )
    )[0]
    wall = time.perf_counter() - t0
    result = painting.copy()
    ids = painting.ids()
    for i in np.flatnonzero(~keep):
        result.remove(ids[i])
    result.add_many(new, author="model")
    with atomic_output(args.out) as tmp:
        save_painting(result, tmp)
    hidden = f", {int((~keep).sum())} hidden by mode {args.mode}" if args.mode != "all" else ""
    print(
        f"{args.out}: {int(keep.sum())} context strokes{hidden}, {len(new)} proposed over windows "
        f"in {wall:.2f} s"
    )
    return 0


def _cmd_eval(args) -> int:
    import torch

    from engines.painting.evaluate import (
        diffusion_completer,
        evaluate,
        nearest_neighbour_completer,
        regression_completer,
        summary,
        table,
    )
    from engines.painting.model import MASK_MODES

    modes = tuple(m.strip() for m in args.modes.split(",") if m.strip()) if args.modes else MASK_MODES
    for m in modes:
        if m not in MASK_MODES:
            raise ValueError(
                f"--modes: unknown masking mode {m!r} (allowed: {', '.join(MASK_MODES)}){suggest(m, MASK_MODES)}"
            )
    torch.set_num_threads(max(1, args.threads))
    d = _load_dataset(args.data)
    train = d["params"][d["split"] == 0]
    test = d["params"][d["split"] == args.split][: args.n]
    if len(test) == 0:
        raise ValueError(f"{args.data}: no paintings in split {args.split} to evaluate")
    levels = d["levels"]
    completers = {
        "diffusion": diffusion_completer(
            _load_or_die(args.model),
            args.steps,
            args.guidance,
            args.candidates,
            args.temperature,
            decoder=args.decoder,
            recolour=args.recolour,
        )
    }
    if not args.no_baselines:
        if Path(args.baseline).exists():
            completers["regression"] = regression_completer(_load_or_die(args.baseline))
        completers["nearest"] = nearest_neighbour_completer(train)
    t0 = time.perf_counter()
    rows = evaluate(completers, test, levels, modes=modes)
    out = {"rows": rows, "summary": summary(rows), "n_paintings": int(len(test)), "wall_s": 0.0}
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    if args.json:
        print(json.dumps(out))
    else:
        print(table(rows))
        for name, s in out["summary"].items():
            print(f"{name:12s} mean image MSE {s['image_mse']:.5f}  stroke L1 {s['stroke_l1']:.4f}")
    return 0


def add_model_parsers(sub) -> None:
    ds = sub.add_parser("dataset", help="decompose the shipped sample images into training strokes")
    ds.add_argument("--out", type=Path, default=DEFAULT_DATA)
    ds.add_argument("--crops", type=count, default=6, help="random crops per sample image")
    ds.add_argument("--faces", type=nonnegative_int, default=200, help="LFW faces to use (of 200)")
    ds.add_argument("--size", type=int_range(16, 512), default=48)
    ds.add_argument("--iters", type=int_range(1, 5000), default=60)
    ds.add_argument("--strokes", type=int_range(1, 4000), default=180)
    ds.add_argument("--max-images", type=count, default=None, help="limit (for quick runs)")
    ds.add_argument("--seed", type=seed, default=0)
    ds.add_argument("--batch", type=count, default=16, help="images decomposed at once")
    ds.add_argument("--face-copies", type=count, default=1, help="variants of each training face")
    ds.add_argument(
        "--min-side",
        type=float_range(0.0, 1.0, lo_open=True),
        default=0.4,
        help="smallest crop side (fraction)",
    )
    ds.add_argument("--jitter", type=nonnegative_float, default=0.0, help="colour jitter of training crops")
    ds.add_argument("--val-images", default="", help="comma-separated sources for a validation split")
    ds.add_argument(
        "--held-out-from", type=Path, default=None, help="copy the held-out paintings of this dataset"
    )
    ds.add_argument(
        "--half", action="store_true", help="store training paintings as float16 (held-out ones stay exact)"
    )
    ds.add_argument(
        "--extend",
        type=Path,
        default=None,
        help="add the crops of --sources (training) or --val-sources (validation) to this dataset "
        "(its paintings kept as they are) instead of building one",
    )
    ds.add_argument(
        "--sources",
        default=None,
        help="with --extend: comma-separated sources to add (names as in the dataset's 'source' field, "
        "e.g. mpl:grace_hopper.jpg, or 'matplotlib' for matplotlib's four sample images)",
    )
    ds.add_argument(
        "--val-sources",
        default=None,
        help="with --extend: comma-separated sources whose crops join the validation split instead "
        "(a source already there gets more crops; 'drawings-val' for 30 drawings kept from training)",
    )
    ds.add_argument("--threads", type=positive_int, default=1)
    ds.set_defaults(func=_cmd_dataset)

    tr = sub.add_parser("train", help="train the completion model (or its regression baseline)")
    tr.add_argument("--data", type=Path, default=DEFAULT_DATA)
    tr.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    tr.add_argument("--objective", choices=("diffusion", "regression"), default="diffusion")
    tr.add_argument(
        "--prediction", choices=("eps", "x0"), default="eps", help="diffusion output: noise or clean strokes"
    )
    tr.add_argument("--steps", type=count, default=3000)
    tr.add_argument("--batch", type=count, default=16)
    tr.add_argument("--lr", type=float_range(0.0, 1.0, lo_open=True), default=1e-3)
    tr.add_argument("--d-model", type=count, default=64)
    tr.add_argument("--layers", type=count, default=3)
    tr.add_argument("--heads", type=count, default=4)
    tr.add_argument(
        "--image-grid", type=nonnegative_int, default=0, help="context image patches per side (0: off)"
    )
    tr.add_argument(
        "--ema", type=float_range(0.0, 1.0, hi_open=True), default=0.0, help="weight average decay (0: off)"
    )
    tr.add_argument(
        "--max-minutes",
        type=nonnegative_float,
        default=0.0,
        help="wall-time budget; the schedule ends with it (0: none)",
    )
    tr.add_argument("--val-size", type=count, default=16)
    tr.add_argument("--report-every", type=count, default=100)
    tr.add_argument("--seed", type=seed, default=0)
    tr.add_argument("--threads", type=positive_int, default=1)
    tr.add_argument("--log", action="store_true", help="print every report to stderr")
    tr.add_argument("--checkpoint", action="store_true", help="save the model at every report")
    tr.add_argument(
        "--state",
        type=Path,
        default=None,
        help="write the whole training state here at every report (weights, weight average, optimiser, "
        "step): what --resume reads to continue in a later session",
    )
    tr.add_argument(
        "--resume",
        type=Path,
        default=None,
        help="continue the run saved by --state (its configuration; --steps is the total of the run)",
    )
    tr.add_argument("--init", type=Path, default=None, help="start from the weights of this trained model")
    tr.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="append this chunk (command, data, steps, wall time, validation loss per masking mode) to the "
        "'training.chunks' list of this JSON manifest",
    )
    tr.set_defaults(func=_cmd_train)

    rf = sub.add_parser(
        "train-refiner",
        help="train the render network that predicts a finished painting's render from its context render",
    )
    rf.add_argument("--data", type=Path, default=DEFAULT_DATA)
    rf.add_argument("--out", type=Path, default=DEFAULT_REFINER)
    rf.add_argument("--steps", type=count, default=3000, help="steps of the whole run (its cosine schedule)")
    rf.add_argument("--batch", type=count, default=32)
    rf.add_argument("--lr", type=float_range(0.0, 1.0, lo_open=True), default=2e-3)
    rf.add_argument("--width", type=int_range(8, 256), default=32, help="channels of the first stage")
    rf.add_argument("--depth", type=int_range(2, 5), default=4, help="U-Net stages")
    rf.add_argument(
        "--max-minutes", type=nonnegative_float, default=0.0, help="end this chunk after this long (0: none)"
    )
    rf.add_argument(
        "--inset",
        type=float_range(0.0, 1.0),
        default=0.0,
        help="share of training paintings shrunk into a random part of the canvas, bare canvas around them"
        " (so that bare canvas is not always taken for hidden paint)",
    )
    rf.add_argument("--val-size", type=count, default=16)
    rf.add_argument("--report-every", type=count, default=100)
    rf.add_argument("--seed", type=seed, default=0)
    rf.add_argument("--threads", type=positive_int, default=1)
    rf.add_argument("--log", action="store_true", help="print every report to stderr")
    rf.add_argument(
        "--state", type=Path, default=None, help="write the whole training state here at every report"
    )
    rf.add_argument("--resume", type=Path, default=None, help="continue the run saved by --state")
    rf.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="append this chunk (data, steps, wall time, validation figures per mode) to the "
        "'render_network.chunks' list of this JSON manifest",
    )
    rf.set_defaults(func=_cmd_train_refiner)

    co = sub.add_parser("complete", help="propose the strokes that complete a painting")
    co.add_argument("strokes_json", type=Path)
    co.add_argument(
        "--mode",
        default="random",
        help="masking mode (random, block, level, square, unconditional) hiding part of the painted strokes, "
        "whose place the proposals fill (on a canvas of more strokes than the model's slots, over regional "
        "windows as the studio's Complete does), or 'all' to keep every stroke",
    )
    co.add_argument("--p", type=probability, default=0.5, help="context ratio")
    co.add_argument("--steps", type=count, default=20, help="DDIM steps (10-50)")
    co.add_argument("--guidance", type=nonnegative_float, default=1.5, help="classifier-free guidance weight")
    co.add_argument(
        "--samples",
        type=count,
        default=1,
        help="diffusion samples; above 1 the proposal is fitted to their mean render (a best guess)",
    )
    co.add_argument(
        "--recolour",
        type=float_range(0.0, 1.0),
        default=DEFAULT_RECOLOUR,
        help="pull each proposed stroke's colour toward the context paint under it while denoising "
        "(0: off, the model's own colours; 1: the context's colour where the context covers the stroke; "
        "in level and block modes the proposal fitted to the expected painting is drawn without it)",
    )
    co.add_argument(
        "--reach",
        type=float_range(0.0, 1.0),
        default=DEFAULT_REACH,
        help="how far (a fraction of the canvas side) the context colour reaches over bare canvas (0: off)",
    )
    co.add_argument(
        "--drop-spread",
        type=float_range(0.0, 1.0),
        default=DEFAULT_DROP_SPREAD,
        help=f"in {' and '.join(DROP_MODES)} modes, leave out proposed strokes over context paint whose "
        "colour varies by more than this (0: keep all)",
    )
    co.add_argument("--seed", type=seed, default=0)
    co.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    co.add_argument(
        "--refiner",
        type=Path,
        default=DEFAULT_REFINER,
        help="render network whose expected painting the proposal is fitted to (engines.painting.refiner)",
    )
    co.add_argument(
        "--no-expected-fit",
        action="store_true",
        help="keep the diffusion model's strokes as sampled (in level and block modes less those over "
        "varied paint, --drop-spread)",
    )
    co.add_argument("--threads", type=positive_int, default=2)
    co.add_argument("--out", type=Path, required=True)
    co.set_defaults(func=_cmd_complete)

    ev = sub.add_parser("eval", help="completion quality on held-out paintings vs baselines")
    ev.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ev.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    ev.add_argument("--baseline", type=Path, default=DEFAULT_BASELINE)
    ev.add_argument("--n", type=count, default=20, help="held-out paintings to use")
    ev.add_argument("--modes", default="", help="comma-separated masking modes (default: all)")
    ev.add_argument("--steps", type=count, default=20)
    ev.add_argument("--guidance", type=nonnegative_float, default=1.5)
    ev.add_argument("--candidates", type=count, default=1, help="diffusion samples per completion")
    ev.add_argument(
        "--decoder",
        choices=("fit", "choice", "sample"),
        default="fit",
        help="with several candidates: fit strokes to their mean render, or choose the sample closest to it",
    )
    ev.add_argument(
        "--temperature", type=nonnegative_float, default=1.0, help="scale of the initial DDIM noise"
    )
    ev.add_argument(
        "--recolour",
        type=float_range(0.0, 1.0),
        default=DEFAULT_RECOLOUR,
        help="context colour guidance of the diffusion samples, as in 'complete' (0: off)",
    )
    ev.add_argument("--no-baselines", action="store_true", help="score the diffusion model only")
    ev.add_argument(
        "--split",
        type=int,
        choices=(1, 2),
        default=1,
        help="paintings to evaluate: 1 held out (default), 2 validation",
    )
    ev.add_argument("--threads", type=positive_int, default=2)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=_cmd_eval)
