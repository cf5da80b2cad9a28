"""A small attention model for routing with matrix-biased attention (after MatNet / RRNCO).

Encoder: node features -> d-dim embeddings, then ``layers`` transformer
layers whose attention logits receive, per head, a learned function of the
pair (d_ij, d_ji, t_ij, t_ji) of normalised distance and duration entries. So
the encoder sees both matrices, in both directions, not just coordinates.

Decoder (autoregressive, POMO multi-start): the query is built from the
current node's embedding, the graph mean, the remaining load and the clock;
one masked multi-head glimpse whose logits are again biased by the current
row of the distance and duration matrices, then a single-head pointer with
``clip * tanh`` logits plus a learned linear term in (d[cur, j], t[cur, j],
d[j, depot]). Infeasible moves (visited, over capacity, too late for a time
window or to return to the depot) are masked.

Two optional step heads add to each pointer logit a function (1: linear, > 1: an MLP with that
many hidden units) of what moving to j now would mean. ``tw_head``, with time windows: the wait at
j, the slack left in j's window, the slack left to return to the depot after j, and d[cur, j];
they depend on the current time, which only the query carries, while the embeddings only know
each window. ``cap_head``, with capacities: j's demand as a share of the load left, the load
left after j, the detour of j before going home (d[cur, j] + d[j, 0] - d[cur, 0]), and d[cur, j].
A head's last layer starts at zero, so a trained model given a head decodes exactly as before
until it is fine-tuned.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["ModelConfig", "RouteNet", "NODE_FEATURES", "head_logits"]

NODE_FEATURES = 9  # x, y, demand/cap, ready/H, due/H, service/H, is_depot, d(0,i), d(i,0)
TW_STEP_FEATURES = 4  # wait at j, slack in j's window, slack to return home after j, d[cur, j]
CAP_STEP_FEATURES = 4  # demand / load left, load left after j, detour of j before home, d[cur, j]


@dataclass(frozen=True)
class ModelConfig:
    dim: int = 64
    heads: int = 4
    layers: int = 3
    ff: int = 128
    bias_hidden: int = 16
    clip: float = 10.0
    tw_head: int = 0  # time-window step head: 0 none, 1 linear, > 1 an MLP with this many hidden units
    cap_head: int = 0  # capacity step head, the same way

    def to_dict(self) -> dict:
        return asdict(self)


def _step_head(features: int, hidden: int) -> nn.Module | None:
    """None (0), a linear map (1) or an MLP with ``hidden`` units, from ``features`` to one logit;
    its last layer starts at zero."""
    if hidden <= 0:
        return None
    if hidden == 1:
        head = last = nn.Linear(features, 1)
    else:
        head = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        last = head[-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return head


def head_logits(head: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A step head on features stacked first, (F, B, P, n) -> (B, P, n).

    Feature-first, the layers are two matrix products over all B x P x n candidates at once,
    several times faster here than ``nn.Linear`` on the last axis (the same weights and result).
    """
    F = x.shape[0]
    flat = x.reshape(F, -1)
    if isinstance(head, nn.Linear):
        y = head.weight @ flat + head.bias[:, None]
    else:
        first, last = head[0], head[-1]
        y = last.weight @ torch.addmm(first.bias[:, None], first.weight, flat).relu_() + last.bias[:, None]
    return y.view(x.shape[1:])


class BiasedLayer(nn.Module):
    def __init__(self, c: ModelConfig):
        super().__init__()
        self.h = c.heads
        self.dk = c.dim // c.heads
        self.qkv = nn.Linear(c.dim, 3 * c.dim, bias=False)
        self.out = nn.Linear(c.dim, c.dim)
        self.bias_head = nn.Linear(c.bias_hidden, c.heads)
        self.n1 = nn.LayerNorm(c.dim)
        self.n2 = nn.LayerNorm(c.dim)
        self.ff = nn.Sequential(nn.Linear(c.dim, c.ff), nn.ReLU(), nn.Linear(c.ff, c.dim))

    def forward(self, x: torch.Tensor, pair_hidden: torch.Tensor) -> torch.Tensor:
        B, n, d = x.shape
        q, k, v = self.qkv(self.n1(x)).view(B, n, 3, self.h, self.dk).permute(2, 0, 3, 1, 4)
        bias = self.bias_head(pair_hidden).permute(0, 3, 1, 2)  # (B, H, n, n)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dk) + bias, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, n, d)
        x = x + self.out(y)
        return x + self.ff(self.n2(x))


class RouteNet(nn.Module):
    def __init__(self, config: ModelConfig | None = None):
        super().__init__()
        c = config or ModelConfig()
        self.config = c
        self.embed = nn.Linear(NODE_FEATURES, c.dim)
        self.pair = nn.Sequential(nn.Linear(4, c.bias_hidden), nn.ReLU())
        self.layers = nn.ModuleList([BiasedLayer(c) for _ in range(c.layers)])
        self.final_norm = nn.LayerNorm(c.dim)
        self.kv_glimpse = nn.Linear(c.dim, 2 * c.dim, bias=False)
        self.k_logit = nn.Linear(c.dim, c.dim, bias=False)
        self.ctx = nn.Linear(2 * c.dim + 3, c.dim, bias=False)
        self.glimpse_bias = nn.Linear(2, c.heads)
        self.glimpse_out = nn.Linear(c.dim, c.dim)
        self.logit_lin = nn.Linear(3, 1)
        self.tw_head = _step_head(TW_STEP_FEATURES, c.tw_head)
        self.cap_head = _step_head(CAP_STEP_FEATURES, c.cap_head)

    # -- encoder -------------------------------------------------------------
    def encode(self, feats: torch.Tensor, Dn: torch.Tensor, Tn: torch.Tensor):
        """feats (B, n, F), Dn/Tn (B, n, n) normalised -> cached decoder tensors."""
        pair = torch.stack([Dn, Dn.transpose(1, 2), Tn, Tn.transpose(1, 2)], dim=-1)
        ph = self.pair(pair)
        x = self.embed(feats)
        for layer in self.layers:
            x = layer(x, ph)
        return self.encoding_of(self.final_norm(x))

    def encoding_of(self, h: torch.Tensor) -> dict:
        """The encoder's output dict from its final node embeddings ``h`` (B, n, d).

        Active search (:mod:`engines.routing.neural.search`) calls it with embeddings it adjusts.
        """
        B, n, d = h.shape
        c = self.config
        kg, vg = self.kv_glimpse(h).view(B, n, 2, c.heads, d // c.heads).permute(2, 0, 3, 1, 4)
        return {"h": h, "mean": h.mean(1), "kg": kg, "vg": vg, "kl": self.k_logit(h)}

    # -- decoding ------------------------------------------------------------------
    def decoder_cache(self, enc: dict, Dn: torch.Tensor, Tn: torch.Tensor) -> dict:
        """Everything the decoder needs that does not change between steps.

        The linear terms of the query (current node, graph mean), of the
        glimpse bias (a linear function of d[cur, j], t[cur, j]) and of the
        pointer logits (of d[cur, j], t[cur, j], d[j, 0]) are folded into
        per-node tables here, so that a decoding step only gathers rows.
        ``Dn``/``Tn`` may have a batch axis of 1 (shared by every instance).
        """
        h = enc["h"]
        B, n, d = h.shape
        c = self.config
        dk = d // c.heads
        W = self.ctx.weight  # (d, 2d + 3)
        hc = h @ W[:, :d].t()  # (B, n, d)
        mc = enc["mean"] @ W[:, d : 2 * d].t()  # (B, d)
        # glimpse bias, per head h: a_h d[cur, j] + c_h t[cur, j] + b_h. The softmax over j ignores
        # b_h (the same for every j), so a step adds a_h d_row + c_h t_row to the attention scores
        wg = self.glimpse_bias.weight  # (H, 2)
        same = Dn.shape == Tn.shape and bool(torch.equal(Dn, Tn))  # e.g. CVRPLIB: durations = distances
        wl, bl = self.logit_lin.weight[0], self.logit_lin.bias[0]
        lin = wl[0] * Dn + wl[1] * Tn + wl[2] * Dn[:, :, 0][:, None, :] + bl  # (Bm, n, n)
        kl = enc["kl"]  # (B, n, d)
        # pointer: (g Wo^T + bo) kl^T / sqrt(d) = g (kl Wo)^T / sqrt(d) + (kl bo) / sqrt(d)
        klo = (kl @ self.glimpse_out.weight) / math.sqrt(d)  # (B, n, d)
        klb = (kl @ self.glimpse_out.bias) / math.sqrt(d)  # (B, n)
        return {
            "hc": hc,
            "mc": mc[:, None, :],
            "wctx": W[:, 2 * d :].t(),  # (3, d): load, clock, frac
            "kgT": (enc["kg"].transpose(-1, -2) / math.sqrt(dk)).reshape(B * c.heads, dk, n),
            "vg": enc["vg"].reshape(B * c.heads, n, dk),
            "Dn": Dn,
            "Tn": None if same else Tn,
            "ga": (wg[:, 0] + wg[:, 1] if same else wg[:, 0]).view(1, -1, 1, 1),
            "gc": wg[:, 1].view(1, -1, 1, 1),
            "lin": lin + klb[:, None, :] if lin.shape[0] == B else lin.expand(B, n, n) + klb[:, None, :],
            "kloT": klo.transpose(1, 2).contiguous(),  # (B, d, n)
        }

    def step_logits(self, cache: dict, bi, cur, load, clock, frac, allowed, tw_step=None, cap_step=None):
        """Logits (B, P, n) of the next node for P rollouts per instance (-inf where not allowed).

        ``bi`` (B, P) holds the batch index of each rollout, ``cur`` (B, P) its
        current node, ``allowed`` (B, P, n) the feasible moves, ``tw_step`` (TW_STEP_FEATURES,
        B, P, n) the time-window step features (used by ``tw_head``; None without windows),
        ``cap_step`` the capacity ones (``cap_head``; None without capacities).
        """
        hc = cache["hc"]
        B, n, d = hc.shape
        P = cur.shape[1]
        c = self.config
        H = c.heads
        q = hc[bi, cur] + cache["mc"]
        q = q + torch.stack([load, clock, frac], -1) @ cache["wctx"]
        q = q.view(B, P, H, d // H).transpose(1, 2)  # (B, H, P, dk)
        Dn = cache["Dn"]
        bm = bi if Dn.shape[0] == B else torch.zeros_like(bi)
        s = torch.bmm(q.reshape(B * H, P, d // H), cache["kgT"]).view(B, H, P, n)
        s.addcmul_(cache["ga"], Dn[bm, cur][:, None])
        if cache["Tn"] is not None:
            s.addcmul_(cache["gc"], cache["Tn"][bm, cur][:, None])
        blocked = ~allowed
        s.masked_fill_(blocked[:, None], float("-inf"))
        g = torch.bmm(torch.softmax(s, dim=-1).view(B * H, P, n), cache["vg"])
        g = g.view(B, H, P, d // H).transpose(1, 2).reshape(B, P, d)
        lin = cache["lin"][bi, cur]  # (B, P, n)
        u = torch.baddbmm(lin, g, cache["kloT"])
        if self.tw_head is not None and tw_step is not None:
            u = u + head_logits(self.tw_head, tw_step)
        if self.cap_head is not None and cap_step is not None:
            u = u + head_logits(self.cap_head, cap_step)
        return (c.clip * torch.tanh(u)).masked_fill_(blocked, float("-inf"))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
