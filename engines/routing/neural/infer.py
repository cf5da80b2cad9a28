"""Neural decoding of a problem: POMO greedy rollouts (+ coordinate flips), best feasible kept."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch

from engines.routing.neural.env import batch_from_problem, rollout_steps, routes_from_actions
from engines.routing.neural.model import ModelConfig, RouteNet
from engines.routing.problem import Problem, evaluate
from engines.serialize import FormatError, load_state, save_state

__all__ = [
    "DEFAULT_WEIGHTS",
    "default_model",
    "load_model",
    "neural_solve",
    "neural_solve_steps",
    "save_model",
]

DEFAULT_WEIGHTS = Path(__file__).resolve().parents[3] / "assets" / "routing" / "routenet.state"
KIND = "routing-routenet"
_lock = threading.Lock()
_cache: dict[str, RouteNet] = {}


def save_model(path, model: RouteNet, extra: dict | None = None) -> None:
    weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    save_state(path, {"config": model.config.to_dict(), "weights": weights, "extra": extra or {}}, kind=KIND)


def load_model(path) -> RouteNet:
    d = load_state(path, kind=KIND)
    try:
        model = RouteNet(ModelConfig(**d["config"]))
        model.load_state_dict({k: torch.as_tensor(v) for k, v in d["weights"].items()})
    except (KeyError, TypeError, RuntimeError) as e:
        raise FormatError(f"{path}: weights do not fit the model ({e})") from e
    model.eval()
    return model


def default_model() -> RouteNet:
    with _lock:
        if "default" not in _cache:
            if not DEFAULT_WEIGHTS.exists():
                raise FileNotFoundError(
                    f"{DEFAULT_WEIGHTS}: no trained weights; run `python -m engines routing train`"
                )
            _cache["default"] = load_model(DEFAULT_WEIGHTS)
        return _cache["default"]


def neural_solve(
    problem: Problem, model: RouteNet | None = None, seed: int = 0, starts: int | None = 16, augment: int = 2
) -> list[list[int]]:
    """Greedy POMO decoding (see :func:`neural_solve_steps`); returns the routes."""
    job = neural_solve_steps(problem, model, seed, starts, augment)
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def neural_solve_steps(
    problem: Problem,
    model: RouteNet | None = None,
    seed: int = 0,
    starts: int | None = 16,
    augment: int = 2,
    every: int = 10,
):
    """Greedy POMO decoding from up to ``starts`` first customers, ``augment`` coordinate flips.

    A generator: it yields every ``every`` decoding steps (so a job can stop
    it there) and returns the routes of the cheapest feasible rollout (the cheapest overall
    when none is feasible; the evaluator then names what is violated).
    """
    model = model or default_model()
    torch.manual_seed(seed)
    threads = torch.get_num_threads()
    steps = None
    try:
        torch.set_num_threads(1)  # small tensors: one thread is faster than several here
        with torch.inference_mode():
            b = batch_from_problem(problem, augment=augment)
            steps = rollout_steps(model, b, starts=starts, greedy=True)
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
    acts = actions.reshape(-1, actions.shape[-1]).numpy()
    order = np.argsort(cost.reshape(-1).numpy(), kind="stable")
    fallback = None
    for k in order[:16]:
        routes = routes_from_actions(acts[k])
        if fallback is None:
            fallback = routes
        if evaluate(problem, routes).feasible:
            return routes
    return fallback
