"""Batched routing environment in torch: features, masks and POMO rollouts.

A batch holds B instances of the same size and kind. Distances and durations
are normalised by their mean off-diagonal entry, time windows by the depot's
horizon, demands by the capacity. Rollouts start from every customer (POMO
multi-start: the first move of rollout p is customer p + 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engines.routing.neural.model import NODE_FEATURES, RouteNet
from engines.routing.problem import Problem

__all__ = [
    "RouteBatch",
    "batch_from_arrays",
    "batch_from_problem",
    "rollout",
    "rollout_steps",
    "routes_from_actions",
    "start_nodes",
]


@dataclass
class RouteBatch:
    feats: torch.Tensor  # (B, n, F)
    Dn: torch.Tensor  # (B, n, n) normalised distance
    Tn: torch.Tensor  # (B, n, n) normalised duration
    D: torch.Tensor  # (B, n, n) raw distance (the objective)
    T: torch.Tensor  # (B, n, n) raw duration
    dem: torch.Tensor  # (B, n) demand / capacity (0 when uncapacitated)
    ready: torch.Tensor  # (B, n) raw
    due: torch.Tensor  # (B, n) raw (inf when none)
    svc: torch.Tensor  # (B, n) raw
    has_tw: bool
    single_route: bool
    tscale: torch.Tensor | None = None  # (B or 1,) the mean duration that normalised Tn

    @property
    def shape(self):
        return self.feats.shape[0], self.feats.shape[1]


def batch_from_arrays(
    D: np.ndarray,
    T: np.ndarray,
    coords: np.ndarray | None = None,
    demand: np.ndarray | None = None,
    capacity: float | None = None,
    tw: np.ndarray | None = None,
    svc: np.ndarray | None = None,
    single_route: bool = False,
) -> RouteBatch:
    """Arrays with a leading batch axis: D, T (B, n, n), coords (B, n, 2), demand (B, n)...

    D, T and the per-node arrays may have a batch axis of 1 while ``coords``
    has B (coordinate augmentations of one instance): they are then shared.
    """
    D = np.asarray(D, np.float64)
    T = np.asarray(T, np.float64)
    Bm, n, _ = D.shape
    B = Bm if coords is None else len(coords)
    off = ~np.eye(n, dtype=bool)
    sd = D[:, off].mean(1).reshape(Bm, 1, 1) + 1e-12
    st = T[:, off].mean(1).reshape(Bm, 1, 1) + 1e-12
    Dn = D / sd
    Tn = T / st
    f = np.zeros((B, n, NODE_FEATURES))
    if coords is not None:
        c = np.asarray(coords, np.float64)
        lo = c.min(1, keepdims=True)
        span = (c.max(1, keepdims=True) - lo).max(-1, keepdims=True) + 1e-12
        f[..., 0:2] = (c - lo) / span
    dem = np.zeros((Bm, n)) if demand is None or capacity is None else np.asarray(demand) / float(capacity)
    f[..., 2] = dem
    ready = np.zeros((Bm, n))
    due = np.full((Bm, n), np.inf)
    s = np.zeros((Bm, n)) if svc is None else np.asarray(svc, np.float64)
    if tw is not None:
        tw = np.asarray(tw, np.float64)
        ready, due = tw[..., 0], tw[..., 1]
        H = due[:, :1] + 1e-12
        f[..., 3] = ready / H
        f[..., 4] = due / H
        f[..., 5] = s / H
    else:
        f[..., 4] = 1.0
    f[:, 0, 6] = 1.0
    f[..., 7] = Dn[:, 0, :]
    f[..., 8] = Dn[:, :, 0]

    def t(a):
        return torch.from_numpy(np.array(a, dtype=np.float32))

    return RouteBatch(
        t(f),
        t(Dn),
        t(Tn),
        t(D),
        t(T),
        t(dem),
        t(ready),
        t(due),
        t(s),
        tw is not None,
        bool(single_route),
        t(st.reshape(Bm)),
    )


def batch_from_problem(p: Problem, augment: int = 1, first_aug: int = 0) -> RouteBatch:
    """One problem as a batch; ``augment`` > 1 adds coordinate flips (x, y symmetries).

    ``first_aug`` picks which of the 8 symmetries come first (they wrap around), so that later
    decoding passes see other flips. The matrices are stored once and shared by the augmented copies.
    """
    coords = None
    if p.coords is not None:
        coords = p.coords[:, ::-1] if p.coord_kind == "latlon" else p.coords
    cs = [coords]
    if coords is not None and (augment > 1 or first_aug % 8):
        x, y = coords[:, 0], coords[:, 1]
        allc = [
            np.stack(v, 1) for v in [(x, y), (-x, y), (x, -y), (-x, -y), (y, x), (-y, x), (y, -x), (-y, -x)]
        ]
        cs = [allc[(first_aug + i) % 8] for i in range(max(1, min(augment, 8)))]
    one = lambda a: None if a is None else np.asarray(a)[None]  # noqa: E731
    return batch_from_arrays(
        one(p.distance),
        one(p.duration),
        None if coords is None else np.stack(cs),
        one(p.demand) if p.capacity is not None else None,
        p.capacity,
        one(p.time_windows),
        one(p.service),
        single_route=p.is_tsp,
    )


def rollout(model: RouteNet, b: RouteBatch, starts: int | None = None, greedy: bool = False, generator=None):
    """POMO rollouts: returns (cost (B, P), log-prob sums (B, P), actions (B, P, steps))."""
    steps = rollout_steps(model, b, starts, greedy, generator)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


def start_nodes(n: int, starts: int | None, offset: int = 0) -> np.ndarray:
    """First customers of the POMO rollouts: all of them, or ``starts`` spread evenly over 1..n-1.

    ``offset`` shifts the evenly spread customers (wrapping around), for later decoding passes.
    """
    P = n - 1 if starts is None else max(1, min(int(starts), n - 1))
    return 1 + ((np.arange(P) * (n - 1)) // P + int(offset)) % max(n - 1, 1)


def rollout_steps(
    model: RouteNet,
    b: RouteBatch,
    starts=None,
    greedy: bool = False,
    generator=None,
    start_offset: int = 0,
    enc: dict | None = None,
):
    """:func:`rollout` as a generator yielding after each decoding step (so it can be stopped).

    One Python iteration per step; the state (current node, visited set,
    remaining load, clock) and the feasibility masks are tensors over all
    B x P rollouts. Matrices shared by the batch (batch axis 1) are indexed
    without being copied. ``enc``: the encoder's output to decode from
    (:meth:`RouteNet.encoding_of`) instead of encoding ``b`` here.
    """
    B, n = b.shape
    first = torch.as_tensor(start_nodes(n, starts, start_offset))
    P = len(first)
    if enc is None:
        enc = model.encode(b.feats, b.Dn, b.Tn)
    cache = model.decoder_cache(enc, b.Dn, b.Tn)
    dev = b.D.device
    bi = torch.arange(B, device=dev)[:, None].expand(B, P)
    bm = bi if b.D.shape[0] == B else torch.zeros_like(bi)  # row of the (maybe shared) matrices
    cur = torch.zeros(B, P, dtype=torch.long, device=dev)
    visited = torch.zeros(B, P, n, dtype=torch.bool, device=dev)
    visited[..., 0] = True
    nvis = torch.ones(B, P, dtype=torch.long, device=dev)
    load = torch.ones(B, P, device=dev)
    ready, due, svc, T = b.ready, b.due, b.svc, b.T
    t0 = ready[bm, 0].clone()
    clock = t0.clone()
    zero = torch.zeros(B, P, device=dev)
    logp = zero
    H = torch.where(torch.isfinite(due[bm, 0]), due[bm, 0], torch.ones_like(t0))
    dem = b.dem[:, None, :]  # (B or 1, 1, n)
    due_b, ready_b, svc_b = due[:, None, :], ready[:, None, :], svc[:, None, :]
    back_T = T[:, :, 0][:, None, :]
    due0 = due[bm, 0][..., None]
    Dn_b = b.Dn
    actions = []
    clock_feat = torch.zeros_like(t0)  # stays 0 without time windows
    tw_step = cap_step = None
    use_head = b.has_tw and getattr(model, "tw_head", None) is not None
    use_cap = getattr(model, "cap_head", None) is not None and not b.single_route and bool((b.dem > 0).any())
    if use_cap:
        back_D = b.Dn[:, :, 0][:, None, :]  # (B or 1, 1, n): d[j, 0]
    if use_head:
        ts = b.tscale if b.tscale is not None else torch.ones(b.D.shape[0])
        its = 1.0 / ts[bm][..., None]  # (B, P, 1): the step features are in units of the mean duration
    for step in range(4 * n):
        # every rollout is done once it visited all n - 1 customers (never before step n - 1) and is home
        if step >= n - 1 and bool((nvis == n).all()) and not bool(cur.any()):
            break
        if step == 0:
            a = first.to(dev)[None].expand(B, P)
        else:
            allowed = ~visited & (dem <= load[..., None] + 1e-6)
            if b.has_tw:
                arr = (clock + svc[bm, cur])[..., None] + T[bm, cur]
                allowed &= arr <= due_b + 1e-6
                start = torch.maximum(arr, ready_b)
                back = start + svc_b + back_T
                allowed &= back <= due0 + 1e-6
                if use_head:  # in units of the mean duration; masked moves' values do not matter
                    tw_step = torch.stack(
                        [(start - arr) * its, (due_b - start) * its, (due0 - back) * its, Dn_b[bm, cur]], 0
                    ).clamp_(-10.0, 10.0)  # an open window (due = inf) gives 10
            any_c = allowed[..., 1:].any(-1)
            if b.single_route:
                allowed[..., 0] = ~any_c
            else:
                allowed[..., 0] = ~any_c | (cur != 0)
            frac = nvis.to(load.dtype) / n
            if use_cap:  # loads are shares of the capacity, distances in units of the mean distance
                d_row = Dn_b[bm, cur]
                left = load[..., None]
                cap_step = torch.stack(
                    [dem / left.clamp(min=1e-3), left - dem, d_row + back_D - d_row[..., :1], d_row], 0
                ).clamp_(-10.0, 10.0)
            if b.has_tw:
                clock_feat = (clock - t0) / H
            u = model.step_logits(cache, bi, cur, load, clock_feat, frac, allowed, tw_step, cap_step)
            if greedy and not torch.is_grad_enabled():
                a = u.argmax(-1)
            else:
                lp = torch.log_softmax(u, dim=-1)
                if greedy:
                    a = lp.argmax(-1)
                else:
                    a = torch.multinomial(lp.exp().view(B * P, n), 1, generator=generator).view(B, P)
                # a finished rollout can only stay at the depot (log-prob 0)
                logp = logp + lp.gather(-1, a[..., None]).squeeze(-1)
        is_dep = a == 0
        if b.has_tw:
            arr = clock + svc[bm, cur] + T[bm, cur, a]
            clock = torch.where(is_dep, t0, torch.maximum(arr, ready[bm, a]))
        load = torch.where(is_dep, 1.0, load - b.dem[bm, a])
        nvis = nvis + (~is_dep).long()  # the masks only ever allow unvisited customers
        visited = visited.scatter(-1, a[..., None], True)
        cur = a
        actions.append(a)
        yield step
    acts = torch.stack(actions, -1)
    prev = torch.cat([torch.zeros_like(acts[..., :1]), acts[..., :-1]], -1)
    cost = b.D[bm[..., None], prev, acts].sum(-1) + b.D[bm, acts[..., -1], 0]
    return cost, logp, acts


def routes_from_actions(actions: np.ndarray) -> list[list[int]]:
    routes, cur = [], []
    for a in np.asarray(actions).tolist():
        if a == 0:
            if cur:
                routes.append(cur)
            cur = []
        else:
            cur.append(int(a))
    if cur:
        routes.append(cur)
    return routes
