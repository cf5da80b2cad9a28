"""Active search: the neural solver adapted to the one instance it is solving.

Sampling more rollouts from a fixed policy soon stops paying: the same
mistakes are sampled again. Efficient active search (EAS-Emb: Hottung, Kwon
and Tierney, "Efficient Active Search for Combinatorial Optimization
Problems", ICLR 2022) keeps the trained weights and adjusts only this
instance's node embeddings, the encoder's output, by gradient steps on the
rollouts it samples. Each iteration samples one rollout from each of up to
:data:`ROLLOUTS` first customers (fewer on large instances:
:func:`search_rollouts`); REINFORCE with their mean cost as the baseline
(POMO's shared baseline) moves the embeddings so that the cheaper tours
become likelier, and the next samples search around them. The encoder
runs once; an iteration costs one sampled decoding pass and its backward pass
through the decoder. No classical improvement is involved: every solution it
offers is a rollout of the network. EAS also adds an imitation term for the
best tour so far; it is left out here (the best is kept by the caller).
"""

from __future__ import annotations

import torch

from engines.routing.neural.env import batch_from_problem, rollout_steps
from engines.routing.neural.infer import cheapest_routes
from engines.routing.neural.model import RouteNet
from engines.routing.problem import Problem

__all__ = ["ACTIVE_LR", "ACTIVE_LR_TW", "MEMORY_BYTES", "ROLLOUTS", "active_search_steps", "search_rollouts"]

#: Adam's step size on the embeddings: the default of the EAS authors' search script (for their
#: embedding and layer variants). Kept for problems without time windows: on the X instances of
#: ``neural.train.HELD_OUT_X`` at 10 s, 4.43 % mean gap against 4.68 % with ACTIVE_LR_TW
ACTIVE_LR = 0.0041
#: the step size with time windows (their own weights, :data:`neural.infer.TW_WEIGHTS`), chosen on
#: the 22 Solomon files outside benchmarks/routing.py's vrptw section, neural alone, mean gap at
#: 2 s / 5 s: 0.002 11.65 / 10.57 %, 0.0041 11.45 / 9.81 %, 0.008 11.09 / 9.01 %, 0.016 10.49 / 8.42 %
#: (one run); 0.016 10.23 / 8.04 %, 0.032 10.32 / 8.61 %, 0.064 11.48 / 10.94 % (another); at 10 s
#: 0.016 6.49 % against 0.0041's 7.41 %
ACTIVE_LR_TW = 0.016
#: sampled rollouts per iteration (first customers spread evenly when there are more); memory and
#: the time of an iteration grow with rollouts x nodes x steps
ROLLOUTS = 128
#: the memory an iteration may take for what the backward pass keeps: about 200 bytes per rollout, node
#: and decoding step (measured: 1.2 GB for 128 rollouts of CVRPLIB X-n195-k51, 0.37 GB for 32), with
#: 1.5 n steps for n nodes (n + the routes: 1.26 n there, 1.2 n on Solomon R101)
MEMORY_BYTES = 1e9
BYTES_PER_ROLLOUT_NODE_STEP = 200
#: fewer rollouts than this give the shared baseline too little to compare: no active search
MIN_ROLLOUTS = 8


def search_rollouts(n: int, rollouts: int = ROLLOUTS) -> int:
    """Rollouts per iteration for ``n`` nodes within :data:`MEMORY_BYTES`; 0 where too few fit
    (:data:`MIN_ROLLOUTS`: above 645 nodes), and the solver keeps to sampled passes."""
    fit = int(MEMORY_BYTES // (BYTES_PER_ROLLOUT_NODE_STEP * n * 1.5 * n))
    p = min(int(rollouts), n - 1, fit)
    return p if p >= min(MIN_ROLLOUTS, n - 1) and p >= 1 else 0


def active_search_steps(
    problem: Problem,
    model: RouteNet,
    seed: int = 0,
    lr: float | None = None,
    rollouts: int = ROLLOUTS,
    every: int = 10,
):
    """Iterations of active search on ``problem``; a generator that runs until it is closed.

    It yields ``None`` every ``every`` decoding steps (a point where the caller
    may stop it) and, once an iteration's rollouts are decoded (before its
    update), the routes of its cheapest feasible rollout (``[]`` when none is
    feasible). ``model``'s weights are not changed. Seeded by ``seed``: the same problem,
    model and seed give the same iterations. ``lr``: :data:`ACTIVE_LR_TW` for problems with
    time windows, :data:`ACTIVE_LR` for the others, unless given.
    """
    if lr is None:
        lr = ACTIVE_LR_TW if problem.time_windows is not None else ACTIVE_LR
    if lr <= 0 or rollouts < 1:
        raise ValueError(f"active search: lr = {lr}, rollouts = {rollouts}: both must be positive")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: one thread is faster than several here
    try:
        b = batch_from_problem(problem, augment=1)
        with torch.no_grad():
            h0 = model.encode(b.feats, b.Dn, b.Tn)["h"]
        delta = torch.zeros_like(h0, requires_grad=True)
        opt = torch.optim.Adam([delta], lr=lr)
        gen = torch.Generator().manual_seed(int(seed) * 100_003 + 7)
        starts = search_rollouts(problem.n, rollouts)
        if starts == 0:
            raise ValueError(f"{problem.name}: {problem.n} nodes: too many for active search in memory")
        while True:
            with torch.enable_grad():
                enc = model.encoding_of(h0 + delta)
            steps = rollout_steps(model, b, starts=starts, greedy=False, generator=gen, enc=enc)
            try:
                while True:
                    try:
                        with torch.enable_grad():  # (only while it decodes: not while we are suspended)
                            k = next(steps)
                    except StopIteration as stop:
                        cost, logp, actions = stop.value
                        break
                    if k % every == every - 1:
                        torch.set_num_threads(threads)
                        yield None
                        torch.set_num_threads(1)
            finally:
                steps.close()
            # offered before the update: a caller out of time stops here and loses nothing
            torch.set_num_threads(threads)
            yield cheapest_routes(problem, cost.detach(), actions, feasible_only=True)
            torch.set_num_threads(1)
            with torch.enable_grad():
                advantage = (cost - cost.mean(-1, keepdim=True)).detach()
                loss = (advantage * logp).mean()
                # the gradient of the embeddings only: the shared weights get none and are not changed
                (delta.grad,) = torch.autograd.grad(loss, [delta])
            opt.step()
    finally:
        torch.set_num_threads(threads)
