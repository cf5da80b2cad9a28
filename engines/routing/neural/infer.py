"""Neural decoding of a problem: POMO greedy rollouts (+ coordinate flips), best feasible kept."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from engines.routing.neural.env import batch_from_problem, rollout_steps, routes_from_actions
from engines.routing.neural.model import ModelConfig, RouteNet
from engines.routing.problem import Problem, evaluate
from engines.serialize import FormatError, load_state, numeric_arrays, save_state

__all__ = [
    "DECODE_BUDGET",
    "DEFAULT_WEIGHTS",
    "TW_WEIGHTS",
    "cheapest_routes",
    "decode_plan",
    "default_model",
    "load_model",
    "neural_solve",
    "neural_solve_steps",
    "distinct_passes",
    "pass_layout",
    "save_model",
]

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[3] / "assets" / "routing" / "routenet.state"
#: the weights for problems with time windows (``DEFAULT_WEIGHTS`` serves the others): fine-tuning
#: that helps one class hurt the other (assets/routing/manifest.json, ``per_class``), so each class
#: keeps the weights that were best on its own choice set
TW_WEIGHTS = DEFAULT_WEIGHTS.with_name("routenet_tw.state")
KIND = "routing-routenet"
_lock = threading.Lock()
_cache: dict[str, RouteNet] = {}


def save_model(path, model: RouteNet, extra: dict | None = None) -> None:
    weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    save_state(path, {"config": model.config.to_dict(), "weights": weights, "extra": extra or {}}, kind=KIND)


#: sizes a stored model configuration may ask for (a file cannot make us build a huge network)
MAX_CONFIG = {"dim": 1024, "heads": 64, "layers": 32, "ff": 8192, "bias_hidden": 1024}


def _config(raw) -> ModelConfig:
    """A ModelConfig from a stored dict, with every size bounded."""
    if not isinstance(raw, dict):
        raise ValueError("field 'config' is not an object")
    c = ModelConfig(**raw)
    for k, hi in MAX_CONFIG.items():
        v = getattr(c, k)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= hi:
            raise ValueError(f"config.{k} = {v!r}: must be an integer in [1, {hi}]")
    for k in ("tw_head", "cap_head"):
        v = getattr(c, k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 1024:
            raise ValueError(f"config.{k} = {v!r}: must be an integer in [0, 1024]")
    if c.dim % c.heads:
        raise ValueError(f"config.dim = {c.dim} is not a multiple of heads = {c.heads}")
    if isinstance(c.clip, bool) or not isinstance(c.clip, (int, float)) or not 0 < c.clip < 1e6:
        raise ValueError(f"config.clip = {c.clip!r}: must be a number in (0, 1e6)")
    return c


def load_model(path) -> RouteNet:
    d = load_state(path, kind=KIND)
    weights = numeric_arrays(d.get("weights"), str(path))
    try:
        model = RouteNet(_config(d["config"]))
        model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in weights.items()})
    except Exception as e:  # a malformed tree: KeyError, TypeError, ValueError, torch's RuntimeError
        raise FormatError(f"{path}: weights do not fit the model ({type(e).__name__}: {e})") from None
    model.eval()
    return model


def default_model(problem: Problem | None = None, time_windows: bool | None = None) -> RouteNet:
    """The shipped weights for ``problem``'s class (or for ``time_windows``): :data:`TW_WEIGHTS`
    with time windows (when that file exists), :data:`DEFAULT_WEIGHTS` otherwise. Loaded once each."""
    if time_windows is None:
        time_windows = problem is not None and problem.time_windows is not None
    path = TW_WEIGHTS if time_windows and TW_WEIGHTS.exists() else DEFAULT_WEIGHTS
    with _lock:
        key = str(path.resolve())  # the whole path: two weight files may share a name
        if key not in _cache:
            if not path.exists():
                raise FileNotFoundError(f"{path}: no trained weights; run `python -m engines routing train`")
            _cache[key] = load_model(path)
        return _cache[key]


#: decoding effort: about DECODE_BUDGET / n**2 rollouts for n nodes. Time per decoding step grows
#: with rollouts x n and there are about n steps, so this keeps one decoding near a fixed time
#: (0.8e6 took 0.16-0.24 s per CVRPLIB X instance of 100-195 customers on the shared 2-core machine
#: here at load ~6, 0.06 s at load ~2.3). 1.6e6, chosen on the X instances of ``train.HELD_OUT_X`` at
#: load ~2.3 with the stage 3 model: mean gap 8.93 % in at most 0.09 s (0.8e6: 9.41 %, 0.06 s; 3.2e6:
#: 8.26 %, 0.16-0.20 s, too close to 0.2 s for a loaded machine); see benchmarks/routing.py for the
#: other X instances
DECODE_BUDGET = 1.6e6


def decode_plan(problem: Problem) -> tuple[int, int]:
    """(POMO starts, coordinate augmentations) that fit the decoding budget for this problem size.

    Augmentations (the 8 x/y symmetries) only exist with coordinates; one per
    16 rollouts, the rest are starts spread over the customers.
    """
    n = problem.n
    rollouts = int(max(8, min(DECODE_BUDGET // n**2, 8 * (n - 1))))
    augment = 1 if problem.coords is None else int(min(8, max(1, rollouts // 16)))
    starts = int(max(1, min(n - 1, rollouts // augment)))
    return starts, augment


def neural_solve(
    problem: Problem,
    model: RouteNet | None = None,
    seed: int = 0,
    starts: int | None | str = "auto",
    augment: int | str = "auto",
) -> list[list[int]]:
    """Greedy POMO decoding (see :func:`neural_solve_steps`); returns the routes."""
    job = neural_solve_steps(problem, model, seed, starts, augment)
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def pass_layout(problem: Problem, starts: int, augment: int, k: int) -> tuple[int, int]:
    """(first coordinate flip, start offset) of decoding pass ``k`` (pass 0: (0, 0)).

    Later passes first cycle through the 8 flips, then shift the evenly spread first customers
    by golden-ratio steps within their spacing, so that each pass decodes rollouts not yet tried.
    """
    if problem.coords is None:
        aug_round, first = k, 0
    else:
        per = max(1, 8 // max(augment, 1))  # passes that one round of the 8 flips takes
        aug_round, first = divmod(k, per)
        first *= augment
    stride = max(1, (problem.n - 1) // max(starts, 1))
    offset = int(round(aug_round * 0.6180339887 * stride)) % stride if stride > 1 else 0
    return first, offset


def distinct_passes(problem: Problem, starts: int, augment: int) -> int:
    """How many passes of :func:`pass_layout` decode rollouts not decoded before."""
    per = 1 if problem.coords is None else max(1, 8 // max(augment, 1))
    return per * max(1, (problem.n - 1) // max(starts, 1))


def neural_solve_steps(
    problem: Problem,
    model: RouteNet | None = None,
    seed: int = 0,
    starts: int | None | str = "auto",
    augment: int | str = "auto",
    every: int = 10,
    pass_index: int = 0,
    sample: bool = False,
):
    """Greedy POMO decoding from up to ``starts`` first customers, ``augment`` coordinate flips.

    ``"auto"`` takes them from :func:`decode_plan`; ``starts=None`` starts from every customer.
    ``pass_index`` > 0 decodes other flips and first customers (:func:`pass_layout`), so that
    repeated passes of a time-limited run add new rollouts. ``sample`` draws each step from the
    model's distribution (seeded by ``seed`` and ``pass_index``) instead of taking its best.

    A generator: it yields every ``every`` decoding steps (so a job can stop
    it there) and returns the routes of the cheapest feasible rollout (the cheapest overall
    when none is feasible; the evaluator then names what is violated).
    """
    model = model or default_model(problem)
    plan = decode_plan(problem)
    starts = plan[0] if starts == "auto" else starts
    augment = plan[1] if augment == "auto" else augment
    first_aug, offset = pass_layout(problem, starts or problem.n - 1, augment, pass_index)
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    steps = None
    try:
        torch.set_num_threads(1)  # small tensors: one thread is faster than several here
        with torch.inference_mode():
            b = batch_from_problem(problem, augment=augment, first_aug=first_aug)
            gen = None
            if sample:
                gen = torch.Generator().manual_seed(int(seed) * 100_003 + int(pass_index))
            steps = rollout_steps(
                model, b, starts=starts, greedy=not sample, generator=gen, start_offset=offset
            )
        while True:
            torch.set_num_threads(1)
            try:
                with torch.inference_mode():
                    k = next(steps)
            except StopIteration as stop:
                cost, _, actions = stop.value
                break
            finally:
                torch.set_num_threads(threads)
            if k % every == every - 1:
                yield k  # a point where the caller may stop the decoding
    finally:
        torch.set_num_threads(threads)
        if steps is not None:
            steps.close()
    return cheapest_routes(problem, cost, actions)


def cheapest_routes(problem: Problem, cost, actions, feasible_only: bool = False) -> list[list[int]]:
    """The routes of the cheapest feasible rollout among the 16 cheapest of ``cost`` (B, P) and
    ``actions`` (B, P, steps); when none is feasible, the cheapest rollout's (``[]`` if ``feasible_only``)."""
    acts = actions.reshape(-1, actions.shape[-1]).numpy()
    order = np.argsort(cost.reshape(-1).numpy(), kind="stable")
    fallback = None
    for k in order[:16]:
        routes = routes_from_actions(acts[k])
        if fallback is None:
            fallback = routes
        if evaluate(problem, routes).feasible:
            return routes
    return [] if feasible_only else fallback
