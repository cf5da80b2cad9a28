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

    @property
    def shape(self):
        return self.D.shape[0], self.D.shape[1]


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
    """Arrays with a leading batch axis: D, T (B, n, n), coords (B, n, 2), demand (B, n)..."""
    D = np.asarray(D, np.float64)
    T = np.asarray(T, np.float64)
    B, n, _ = D.shape
    off = ~np.eye(n, dtype=bool)
    sd = D[:, off].mean(1).reshape(B, 1, 1) + 1e-12
    st = T[:, off].mean(1).reshape(B, 1, 1) + 1e-12
    Dn = D / sd
    Tn = T / st
    f = np.zeros((B, n, NODE_FEATURES))
    if coords is not None:
        c = np.asarray(coords, np.float64)
        lo = c.min(1, keepdims=True)
        span = (c.max(1, keepdims=True) - lo).max(-1, keepdims=True) + 1e-12
        f[..., 0:2] = (c - lo) / span
    dem = np.zeros((B, n)) if demand is None or capacity is None else np.asarray(demand) / float(capacity)
    f[..., 2] = dem
    ready = np.zeros((B, n))
    due = np.full((B, n), np.inf)
    s = np.zeros((B, n)) if svc is None else np.asarray(svc, np.float64)
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
        return torch.as_tensor(np.ascontiguousarray(a), dtype=torch.float32)

    return RouteBatch(
        t(f), t(Dn), t(Tn), t(D), t(T), t(dem), t(ready), t(due), t(s), tw is not None, bool(single_route)
    )


def batch_from_problem(p: Problem, augment: int = 1) -> RouteBatch:
    """One problem as a batch; ``augment`` > 1 adds coordinate flips (x, y symmetries)."""
    coords = None
    if p.coords is not None:
        coords = p.coords[:, ::-1] if p.coord_kind == "latlon" else p.coords
    cs = [coords]
    if coords is not None and augment > 1:
        x, y = coords[:, 0], coords[:, 1]
        allc = [
            np.stack(v, 1) for v in [(x, y), (-x, y), (x, -y), (-x, -y), (y, x), (-y, x), (y, -x), (-y, -x)]
        ]
        cs = allc[: max(1, min(augment, 8))]
    B = len(cs)
    rep = lambda a: None if a is None else np.repeat(np.asarray(a)[None], B, axis=0)  # noqa: E731
    return batch_from_arrays(
        rep(p.distance),
        rep(p.duration),
        None if coords is None else np.stack(cs),
        rep(p.demand) if p.capacity is not None else None,
        p.capacity,
        rep(p.time_windows),
        rep(p.service),
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


def rollout_steps(model: RouteNet, b: RouteBatch, starts=None, greedy: bool = False, generator=None):
    """:func:`rollout` as a generator yielding after each decoding step (so it can be stopped)."""
    B, n = b.shape
    P = n - 1 if starts is None else max(1, min(starts, n - 1))
    enc = model.encode(b.feats, b.Dn, b.Tn)
    dev = b.D.device
    bi = torch.arange(B, device=dev)[:, None].expand(B, P)
    cur = torch.zeros(B, P, dtype=torch.long, device=dev)
    visited = torch.zeros(B, P, n, dtype=torch.bool, device=dev)
    visited[..., 0] = True
    load = torch.ones(B, P, device=dev)
    t0 = b.ready[:, :1].expand(B, P).clone()
    clock = t0.clone()
    cost = torch.zeros(B, P, device=dev)
    logp = torch.zeros(B, P, device=dev)
    H = torch.where(torch.isfinite(b.due[:, :1]), b.due[:, :1], torch.ones_like(b.due[:, :1]))
    actions = []
    first = torch.arange(1, P + 1, device=dev)[None].expand(B, P)
    d_back = b.Dn[:, :, 0]
    due0 = b.due[:, :1, None]
    for step in range(4 * n):
        done = visited.all(-1) & (cur == 0)
        if bool(done.all()):
            break
        d_row = b.Dn[bi, cur]  # (B, P, n)
        t_row = b.Tn[bi, cur]
        allowed = ~visited & (b.dem[:, None, :] <= load[..., None] + 1e-6)
        if b.has_tw:
            arr = clock[..., None] + b.svc[bi, cur][..., None] + b.T[bi, cur]
            allowed &= arr <= b.due[:, None, :] + 1e-6
            back = torch.maximum(arr, b.ready[:, None, :]) + b.svc[:, None, :] + b.T[:, :, 0][:, None, :]
            allowed &= back <= due0 + 1e-6
        any_c = allowed[..., 1:].any(-1)
        dep_ok = ~any_c | ((cur != 0) & (not b.single_route))
        allowed[..., 0] = dep_ok
        if step == 0:
            a = first
        else:
            lp = model.logits(
                enc, cur, load, (clock - t0) / H, visited.float().mean(-1), d_row, t_row, d_back, allowed
            )
            if greedy:
                a = lp.argmax(-1)
            else:
                a = torch.multinomial(lp.exp().view(B * P, n), 1, generator=generator).view(B, P)
            chosen = lp.gather(-1, a[..., None]).squeeze(-1)
            logp = logp + torch.where(done, torch.zeros_like(chosen), chosen)
        a = torch.where(done, torch.zeros_like(a), a)
        cost = cost + b.D[bi, cur, a]
        if b.has_tw:
            arr = clock + b.svc[bi, cur] + b.T[bi, cur, a]
            clock = torch.maximum(arr, b.ready[bi, a])
        is_dep = a == 0
        clock = torch.where(is_dep, t0, clock)
        load = torch.where(is_dep, torch.ones_like(load), load - b.dem[bi, a])
        visited = visited.scatter(-1, a[..., None], True)
        cur = a
        actions.append(a)
        yield step
    return cost, logp, torch.stack(actions, -1)


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
