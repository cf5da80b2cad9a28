"""Population geometry: manifold capacity (MFTMA) of activations and of digit networks under attack.

Subcommands::

    python -m engines geometry analyze FILE --kappa 0 --n-t 200 --json
    python -m engines geometry train --kind all
    python -m engines geometry sweep --models all --eps 0,0.05,0.1 --seeds 3 --out results.csv
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time

from engines.cliargs import count, int_range, nonnegative_float, nonnegative_int, positive_int, seed, suggest
from engines.files import check_input, check_output, reading

__all__ = ["add_parser"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("geometry", help="manifold capacity, radius and dimension (MFTMA)")
    sub = p.add_subparsers(dest="geometry_cmd", metavar="COMMAND")

    a = sub.add_parser("analyze", help="MFTMA of activations from a .npz, .npy or .h5 file")
    a.add_argument("file", help="P x M x N array, or features with labels")
    a.add_argument("--kappa", type=nonnegative_float, default=0.0, help="margin (default 0)")
    a.add_argument("--n-t", type=count, default=200, help="Gaussian samples per manifold (default 200)")
    a.add_argument("--seed", type=seed, default=0)
    a.add_argument("--features", default=None, help="dataset/key of the features (default: guessed)")
    a.add_argument("--labels", default=None, help="dataset/key of the labels (default: guessed)")
    a.add_argument("--simcap", action="store_true", help="also measure the simulated capacity")
    a.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="kernel threads (default: the free cores, see auto_threads)",
    )
    a.add_argument(
        "--device",
        default="auto",
        help="where the steps that grow with N run: auto (a CUDA GPU for large data), numpy, cpu, cuda, cuda:N",
    )
    a.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a.set_defaults(func=_analyze)

    t = sub.add_parser("train", help="train the digit networks and write assets/geometry/")
    t.add_argument("--kind", default="all", help="standard, adversarial, stochastic or all")
    t.add_argument("--epochs", type=count, default=25)
    t.add_argument(
        "--n-train", type=nonnegative_int, default=0, help="only the first n training images (0: all)"
    )
    t.add_argument(
        "--at-eps", type=nonnegative_float, default=0.1, help="PGD radius for adversarial training"
    )
    t.add_argument("--seed", type=seed, default=0)
    t.add_argument("--out", default=None, help="output folder (default: assets/geometry)")
    t.set_defaults(func=_train)

    v = sub.add_parser("activations", help="write a layer's activations of a digit network as .npz to import")
    v.add_argument("--kind", default="standard", choices=("standard", "adversarial", "stochastic"))
    v.add_argument("--layer", default="fc1", help="pixels, front, conv2, conv3, fc1 or logits (default fc1)")
    v.add_argument("--P", type=int_range(2, 10), default=10, help="digits (manifolds), 2 to 10")
    v.add_argument("--M", type=count, default=20, help="test images per digit")
    v.add_argument("--seed", type=seed, default=0)
    v.add_argument("--assets", default=None, help="folder with the trained networks")
    v.add_argument("--out", required=True, help="the .npz file to write")
    v.set_defaults(func=_activations)

    s = sub.add_parser("sweep", help="capacity/radius/dimension of the networks over eps, layers, seeds")
    s.add_argument("--models", default="all")
    s.add_argument("--eps", default="0,0.05,0.1")
    s.add_argument("--seeds", type=count, default=1)
    s.add_argument("--layers", default="front,conv2,conv3,fc1")
    s.add_argument("--manifold", default="exemplar", choices=("class", "exemplar"))
    s.add_argument("--attack", default="pgd", choices=("pgd", "fgsm", "random"))
    s.add_argument("--norm", default="linf", choices=("linf", "l2"))
    s.add_argument(
        "--noise-scale", default="1.0", help="noise scale(s) of the stochastic net, comma list (e.g. 0.5,1,2)"
    )
    s.add_argument("--steps", type=count, default=8, help="PGD steps (step size eps / 4)")
    s.add_argument("--eot", type=count, default=4, help="noise draws per gradient for the stochastic net")
    s.add_argument("--P", type=int_range(2, 10), default=10, help="manifolds (digits), 2 to 10")
    s.add_argument("--M", type=count, default=16, help="points per manifold")
    s.add_argument("--n-t", type=count, default=100)
    s.add_argument("--kappa", type=nonnegative_float, default=0.0)
    s.add_argument("--assets", default=None, help="folder with the trained networks")
    s.add_argument("--out", default=None, help="CSV file (default: print to stdout)")
    s.set_defaults(func=_sweep)

    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _analyze(args) -> int:
    from engines.geometry.io import load_activations
    from engines.geometry.measures import evd, participation_ratio
    from engines.geometry.mftma import manifold_analysis, simulated_capacity

    check_input(args.file, "activation file")
    with reading(args.file, "activation file"):
        manifolds = load_activations(args.file, features=args.features, labels=args.labels)
    t0 = time.perf_counter()
    res = manifold_analysis(
        manifolds, kappa=args.kappa, n_t=args.n_t, seed=args.seed, threads=args.threads, device=args.device
    )
    import numpy as np

    allx = np.concatenate(manifolds)
    out = res.to_dict()
    out.update(
        {
            "PR": participation_ratio(allx),
            "EVD90": evd(allx, 0.9),
            "P": len(manifolds),
            "M": int(min(len(m) for m in manifolds)),
            "N": int(allx.shape[1]),
            "seconds": round(time.perf_counter() - t0, 3),
            "file": str(args.file),
        }
    )
    if args.simcap:
        sim = simulated_capacity(manifolds, seed=args.seed, kappa=args.kappa, threads=args.threads)
        out["simulated_capacity"] = sim.capacity
        out["simulated_n_critical"] = sim.n_critical
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for k in (
            "capacity",
            "radius",
            "dimension",
            "center_correlation",
            "K",
            "PR",
            "EVD90",
            "P",
            "M",
            "N",
            "seconds",
        ):
            print(f"{k:20s} {out[k]}")
        if "simulated_capacity" in out:
            print(f"{'simulated_capacity':20s} {out['simulated_capacity']}")
    return 0


def _train(args) -> int:
    from tqdm import tqdm

    from engines.geometry.models import KINDS
    from engines.geometry.train import TrainParams, train_and_save

    kinds = KINDS if args.kind == "all" else tuple(k.strip() for k in args.kind.split(","))
    for k in kinds:
        if k not in KINDS:
            raise ValueError(f"--kind {k!r}: allowed values are all, {', '.join(KINDS)}{suggest(k, KINDS)}")
    if args.out is not None:
        check_output(args.out, "--out", folder=True)
    command = "python -m engines " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    for k in kinds:
        p = TrainParams(kind=k, epochs=args.epochs, n_train=args.n_train, at_eps=args.at_eps, seed=args.seed)
        with tqdm(total=p.epochs, desc=f"train {k}", file=sys.stderr) as bar:

            def tick(prog, bar=bar):
                bar.update(1)
                bar.set_postfix_str(prog.message.split("loss")[-1].strip())

            metrics = train_and_save(p, args.out, command=command, on_progress=tick)
        print(json.dumps({"kind": k, **metrics}))
    return 0


def _activations(args) -> int:
    from engines.geometry.analysis import layer_activations, load_models
    from engines.geometry.io import save_activations
    from engines.geometry.models import LAYERS

    if args.layer not in LAYERS:
        raise ValueError(
            f"--layer {args.layer!r}: allowed values are {', '.join(LAYERS)}{suggest(args.layer, LAYERS)}"
        )
    check_output(args.out, "--out")
    model = load_models([args.kind], args.assets)[args.kind]
    features, labels = layer_activations(model, args.layer, args.P, args.M, args.seed)
    save_activations(args.out, features, labels)
    print(
        f"wrote {args.out}: {args.kind} network, layer {args.layer}, {len(features)} images of {args.P} digits, "
        f"{features.shape[1]} features; import it in the studio or run "
        f"python -m engines geometry analyze {shlex.quote(str(args.out))}",
        file=sys.stderr,
    )
    return 0


def _sweep(args) -> int:
    from tqdm import tqdm

    from engines.geometry.analysis import analysis_job, load_models
    from engines.geometry.io import rows_to_csv
    from engines.geometry.params import AnalysisParams, parse_floats

    if args.out is not None:
        check_output(args.out, "--out")
    scales = parse_floats(args.noise_scale, "--noise-scale")
    base = AnalysisParams(
        models=args.models,
        manifold=args.manifold,
        layers=args.layers,
        eps=args.eps,
        attack=args.attack,
        norm=args.norm,
        noise_scale=scales[0],
        steps=args.steps,
        eot=args.eot,
        P=args.P,
        M=args.M,
        n_t=args.n_t,
        kappa=args.kappa,
        seeds=args.seeds,
    )
    models = load_models(base.model_list, args.assets)
    rows: list[dict] = []
    # deterministic nets do not depend on the noise: analyse them once
    runs = [base]
    if len(scales) > 1 and "stochastic" in base.model_list:
        others = [k for k in base.model_list if k != "stochastic"]
        runs = [base.replace(models=",".join(others))] if others else []
        runs += [base.replace(models="stochastic", noise_scale=ns) for ns in scales]
    total = sum(len(p.model_list) * p.seeds * len(p.eps_list) for p in runs)
    with tqdm(total=total, desc="sweep", file=sys.stderr, disable=None) as bar:
        for p in runs:
            job = analysis_job(p, models)
            try:
                while True:
                    prog = next(job)
                    bar.update(1)
                    bar.set_postfix_str(prog.message)
            except StopIteration as stop:
                rows.extend(stop.value.rows)
    text = rows_to_csv(rows, args.out)
    if args.out is None:
        sys.stdout.write(text)
    else:
        print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    ns = parser.parse_args()
    sys.exit(ns.func(ns))
