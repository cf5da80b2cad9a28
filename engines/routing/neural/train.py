"""Training the neural constructive solver: REINFORCE with the POMO shared baseline.

Each step draws one kind of instance (uniform, clustered, city ACVRP, city
ATSP, random ATSP), B instances of n nodes, rolls out n-1 sampled tours per
instance (one per first customer) and uses their mean cost as the baseline.

    python -m engines routing train --config default --out assets/routing

writes ``routenet.state`` (pickle-free weights) and ``manifest.json``.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from engines.cliargs import suggest
from engines.files import atomic_write_text
from engines.paths import shared_data
from engines.routing.neural.env import batch_from_arrays, rollout
from engines.routing.neural.generate import KINDS, CityPool, generate
from engines.routing.neural.model import ModelConfig, RouteNet
from engines.serialize import load_manifest

__all__ = ["TrainConfig", "CONFIGS", "train"]

DEFAULT_PBF = shared_data("routing", "osm", "Helsinki.osm.pbf")


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = ModelConfig(dim=48, heads=4, layers=2, ff=96, bias_hidden=16)
    n: int = 50  # nodes per instance: drawn per batch in [n_min, n]
    n_min: int = 20
    batch: int = 24
    steps: int = 100000
    minutes: float = 30.0
    lr: float = 3e-4
    kinds: tuple = KINDS[:5]  # uniform, clustered, city, city_tsp, asym_tsp
    weights: tuple = (0.3, 0.25, 0.25, 0.1, 0.1)
    city_points: int = 400
    threads: int = 1  # small tensors: one thread is many times faster on a loaded machine
    seed: int = 0


CONFIGS = {
    "tiny": TrainConfig(
        model=ModelConfig(dim=16, heads=2, layers=1, ff=32, bias_hidden=4),
        n=8,
        n_min=8,
        batch=4,
        steps=3,
        minutes=1.0,
        city_points=30,
    ),
    "default": TrainConfig(),
    # fine-tuning of the shipped weights (--init) towards CVRPLIB-X-like instances (routes of 3 to 25
    # stops, seven demand laws, depot placements) and Solomon-like time windows, keeping some of the
    # road-network kinds so the asymmetric skills stay
    "finetune": TrainConfig(
        n=100,
        n_min=50,
        batch=8,
        lr=1e-4,
        minutes=45.0,
        kinds=("uniform", "clustered", "city", "city_tsp", "asym_tsp", "xlike", "tw"),
        weights=(0.05, 0.05, 0.1, 0.05, 0.05, 0.55, 0.15),
    ),
}
# the same mix with twice the share of Solomon-like time windows (neural alone was furthest from its
# target on VRPTW)
CONFIGS["finetune_tw"] = replace(CONFIGS["finetune"], weights=(0.04, 0.04, 0.08, 0.04, 0.04, 0.46, 0.30))
# the mix without time windows, for the weights that serve problems without them (a second round of
# finetune_tw improved held-out CVRP while its Solomon-like windows got worse: one set of weights per
# class lets each keep its best)
CONFIGS["finetune_cvrp"] = replace(CONFIGS["finetune"], weights=(0.05, 0.05, 0.12, 0.05, 0.05, 0.68, 0.0))
# for the weights of problems with time windows: 70 % of the draws have windows, two thirds of those
# drawn like Solomon's families (long routes, service of 90, long horizons:
# engines.routing.neural.generate._solomon)
CONFIGS["finetune_solomon"] = replace(
    CONFIGS["finetune"],
    kinds=(*CONFIGS["finetune"].kinds, "solomon"),
    weights=(0.03, 0.03, 0.05, 0.02, 0.02, 0.15, 0.25, 0.45),
)


HEADS = ("tw_head", "cap_head")


def with_heads(model: RouteNet, **hidden: int) -> RouteNet:
    """``model`` with step heads (``tw_head=``, ``cap_head=``: 1 linear, > 1 hidden units, 0 none)
    added or removed.

    The other weights are kept and a new head starts at zero, so the result decodes exactly as
    ``model`` did until it is trained.
    """
    if set(hidden) - set(HEADS):
        raise ValueError(f"unknown heads {sorted(set(hidden) - set(HEADS))}; allowed: {', '.join(HEADS)}")
    changed = {k: int(v) for k, v in hidden.items() if int(v) != getattr(model.config, k)}
    out = RouteNet(replace(model.config, **changed))
    kept = {k: v for k, v in model.state_dict().items() if k.split(".")[0] not in changed}
    out.load_state_dict(kept, strict=False)
    out.train(model.training)
    return out


def with_layers(model: RouteNet, layers: int) -> RouteNet:
    """``model`` with its encoder grown to ``layers`` layers (at least as many as it has).

    The new layers come after the old ones, with their output projections (attention and
    feed-forward) at zero: a pre-norm residual layer so made is the identity, and the result
    decodes exactly as ``model`` did until it is trained.
    """
    have = model.config.layers
    if layers < have:
        raise ValueError(f"layers = {layers}: the model has {have}; it can only grow")
    out = RouteNet(replace(model.config, layers=layers))
    out.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        for layer in out.layers[have:]:
            for lin in (layer.out, layer.ff[-1]):
                lin.weight.zero_()
                lin.bias.zero_()
    out.train(model.training)
    return out


def new_parameters(model: RouteNet, grown_from: int | None) -> set[str]:
    """Names of the parameters that start at zero in a fine-tune: the step heads, and the encoder
    layers from index ``grown_from`` on (None: none grown)."""
    names = set()
    for n, _ in model.named_parameters():
        parts = n.split(".")
        if parts[0] in HEADS or (
            grown_from is not None and parts[0] == "layers" and int(parts[1]) >= grown_from
        ):
            names.add(n)
    return names


def train(
    cfg: TrainConfig,
    pbf: Path | None = DEFAULT_PBF,
    init: RouteNet | None = None,
    grown_from: int | None = None,
):
    """Generator yielding (step, kind, mean cost, loss, elapsed s, model); returns the model.

    ``init`` continues training a model (its own shape is kept); its encoder layers from
    ``grown_from`` on are new (see with_layers).
    """
    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    city = None
    if pbf is not None and Path(pbf).exists():
        city = CityPool.from_pbf(pbf, points=cfg.city_points)
    model = init if init is not None else RouteNet(cfg.model)
    model.train()
    # a step head or a grown layer starts at zero (see with_heads, with_layers): it learns at 10 x
    # the rate, so that it takes effect within a fine-tuning run instead of after it
    new = new_parameters(model, grown_from)
    head = [p for n, p in model.named_parameters() if n in new]
    rest = [p for n, p in model.named_parameters() if n not in new]
    groups = [{"params": rest}] + ([{"params": head, "lr": 10 * cfg.lr}] if head else [])
    opt = torch.optim.Adam(groups, lr=cfg.lr)
    w = np.asarray(cfg.weights, float)
    w = w / w.sum()
    t0 = time.perf_counter()
    gen = torch.Generator().manual_seed(cfg.seed)
    for step in range(cfg.steps):
        if time.perf_counter() - t0 > cfg.minutes * 60:
            break
        kind = cfg.kinds[rng.choice(len(cfg.kinds), p=w)]
        n = int(rng.integers(cfg.n_min, cfg.n + 1))
        b = batch_from_arrays(**generate(kind, rng, cfg.batch, n, city))
        cost, logp, _ = rollout(model, b, greedy=False, generator=gen)
        scale = cost.mean(1, keepdim=True).detach() + 1e-9
        adv = (cost - cost.mean(1, keepdim=True)) / scale
        loss = (adv.detach() * logp).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        yield step, kind, float(cost.mean()), float(loss.detach()), time.perf_counter() - t0, model
    return model


#: the X instances of benchmarks/routing.py, then X instances it does not use (held out: checkpoints
#: are chosen on these), and two ATSP and one Solomon instance
BENCH_X = ("X-n101-k25", "X-n110-k13", "X-n120-k6", "X-n157-k13", "X-n195-k51")
HELD_OUT_X = ("X-n129-k18", "X-n139-k10", "X-n148-k46", "X-n167-k10", "X-n176-k26", "X-n186-k15")
EVAL_FILES = tuple(f"cvrplib/{x}.vrp" for x in BENCH_X + HELD_OUT_X) + (
    "tsplib_atsp/ftv33.atsp",
    "tsplib_atsp/ftv55.atsp",
    "solomon/RC101.txt",
)


def evaluate_model(model: RouteNet, data_dir: Path) -> dict:
    """Gap of the greedy POMO decoder (default decoding plan) on shipped instances (where they exist)."""
    from engines.routing.io import load_problem
    from engines.routing.neural.infer import neural_solve
    from engines.routing.problem import evaluate

    out = {}
    for f in EVAL_FILES:
        path = data_dir / f
        if not path.exists():
            continue
        p = load_problem(path)
        t = time.perf_counter()
        ev = evaluate(p, neural_solve(p, model))
        out[p.name] = {
            "cost": ev.cost,
            "feasible": ev.feasible,
            "gap_percent": p.gap(ev.cost),
            "time_s": round(time.perf_counter() - t, 3),
        }
    return out


def main(args) -> int:
    from tqdm import tqdm

    from engines.routing.neural.infer import save_model

    cfg = CONFIGS.get(args.config)
    if cfg is None:
        raise ValueError(
            f"--config {args.config!r}: allowed values are {', '.join(CONFIGS)}{suggest(args.config, CONFIGS)}"
        )
    if args.minutes is not None:
        cfg = replace(cfg, minutes=float(args.minutes))
    if getattr(args, "steps", None) is not None:
        cfg = replace(cfg, steps=int(args.steps))
    if getattr(args, "lr", None) is not None:
        cfg = replace(cfg, lr=float(args.lr))
    if getattr(args, "batch", None) is not None:
        cfg = replace(cfg, batch=int(args.batch))
    cfg = replace(cfg, seed=int(args.seed))
    out = Path(args.out)
    init = None
    grown_from = None
    stages = []
    heads = {k: getattr(args, k) for k in HEADS if getattr(args, k, None) is not None}
    if not getattr(args, "init", None):
        size = {**heads, **({"layers": args.layers} if getattr(args, "layers", None) is not None else {})}
        cfg = replace(cfg, model=replace(cfg.model, **size))
    if getattr(args, "init", None):
        from engines.routing.neural.infer import load_model

        init = load_model(args.init)
        if heads:
            init = with_heads(init, **heads)
        grow = getattr(args, "layers", None)
        if grow is not None and grow != init.config.layers:
            grown_from = init.config.layers
            init = with_layers(init, grow)
        cfg = replace(cfg, model=init.config)
        old = Path(args.init).with_name("manifest.json")
        if old.exists():
            prev = load_manifest(old)
            stages = prev.get("stages") or [
                {k: prev.get(k) for k in ("command", "training_steps", "wall_time_s", "metrics_greedy_pomo")}
            ]
    curve = []
    model = None
    bar = tqdm(total=cfg.steps if cfg.steps < 1000 else None, file=sys.stderr, unit="batch")
    t0 = time.perf_counter()
    ckpt = getattr(args, "checkpoints", None)
    last_k = int(getattr(args, "average_last", None) or 0)
    marks: list[dict] = []  # the weights at the last ``last_k`` 100-step marks
    for step, kind, c, loss, el, m in train(cfg, init=init, grown_from=grown_from):
        model = m
        if ckpt and step % 100 == 99:
            Path(ckpt).mkdir(parents=True, exist_ok=True)
            save_model(Path(ckpt) / f"step{step + 1:05d}.state", model)
        if last_k and step % 100 == 99:
            marks = [*marks, {k: v.detach().clone() for k, v in model.state_dict().items()}][-last_k:]
        curve.append((step, kind, round(c, 5), round(loss, 6), round(el, 2)))
        bar.update(1)
        bar.set_postfix_str(f"{kind} cost {c:.3f}")
    bar.close()
    wall = time.perf_counter() - t0
    if marks:  # the mean of the weights at the last marks (a steadier model than the last step's)
        model.load_state_dict({k: sum(w[k].float() for w in marks) / len(marks) for k in marks[0]})
    out.mkdir(parents=True, exist_ok=True)
    save_model(out / "routenet.state", model)
    data_dir = DEFAULT_PBF.parent.parent
    metrics = evaluate_model(model, data_dir) if args.config != "tiny" else {}
    manifest = {
        "model": "RouteNet: matrix-biased attention encoder, POMO decoder (engines/routing/neural)",
        "file": "routenet.state",
        "command": f"python -m engines routing train --config {args.config} --seed {cfg.seed} --out {args.out}"
        + (f" --minutes {args.minutes}" if args.minutes is not None else "")
        + (f" --steps {args.steps}" if getattr(args, "steps", None) is not None else "")
        + (f" --init {args.init}" if getattr(args, "init", None) else "")
        + "".join(
            f" --{k.replace('_', '-')} {getattr(args, k)}"
            for k in (*HEADS, "layers")
            if getattr(args, k, None) is not None
        )
        + (f" --average-last {last_k}" if last_k else ""),
        "config": {**asdict(cfg), "model": cfg.model.to_dict()},
        "parameters": model.num_parameters(),
        "data": "generated each step: uniform / clustered CVRP, asymmetric city ACVRP and ATSP sampled from "
        f"{cfg.city_points} points of the Helsinki OSM extract (road km / minutes), random ATSP",
        "training_steps": len(curve),
        "wall_time_s": round(wall, 1),
        "machine": f"CPU, torch threads = {cfg.threads}",
        "metrics_greedy_pomo": metrics,
        "curve_every_10": curve[::10],
    }
    if stages:
        this = {k: manifest[k] for k in ("command", "training_steps", "wall_time_s", "metrics_greedy_pomo")}
        manifest["stages"] = [*stages, this]
        manifest["note"] = "trained in stages: run the commands of 'stages' in order to reproduce"
        manifest["wall_time_s_total"] = round(
            sum(float(st.get("wall_time_s") or 0) for st in manifest["stages"]), 1
        )
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1))
    print(json.dumps({"steps": len(curve), "wall_time_s": round(wall, 1), "metrics": metrics}, indent=1))
    return 0
