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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

__all__ = ["ModelConfig", "RouteNet", "NODE_FEATURES"]

NODE_FEATURES = 9  # x, y, demand/cap, ready/H, due/H, service/H, is_depot, d(0,i), d(i,0)


@dataclass(frozen=True)
class ModelConfig:
    dim: int = 64
    heads: int = 4
    layers: int = 3
    ff: int = 128
    bias_hidden: int = 16
    clip: float = 10.0

    def to_dict(self) -> dict:
        return asdict(self)


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

    # -- encoder -------------------------------------------------------------
    def encode(self, feats: torch.Tensor, Dn: torch.Tensor, Tn: torch.Tensor):
        """feats (B, n, F), Dn/Tn (B, n, n) normalised -> cached decoder tensors."""
        pair = torch.stack([Dn, Dn.transpose(1, 2), Tn, Tn.transpose(1, 2)], dim=-1)
        ph = self.pair(pair)
        x = self.embed(feats)
        for layer in self.layers:
            x = layer(x, ph)
        h = self.final_norm(x)
        B, n, d = h.shape
        c = self.config
        kg, vg = self.kv_glimpse(h).view(B, n, 2, c.heads, d // c.heads).permute(2, 0, 3, 1, 4)
        return {"h": h, "mean": h.mean(1), "kg": kg, "vg": vg, "kl": self.k_logit(h)}

    # -- one decoding step -------------------------------------------------------
    def logits(self, enc, cur, load, clock, frac, d_row, t_row, d_back, mask):
        """Log-probabilities (B, P, n) of the next node for P rollouts per instance."""
        h = enc["h"]
        B, n, d = h.shape
        P = cur.shape[1]
        c = self.config
        hc = torch.gather(h, 1, cur.unsqueeze(-1).expand(B, P, d))
        ctx = torch.cat(
            [
                hc,
                enc["mean"].unsqueeze(1).expand(B, P, d),
                load[..., None],
                clock[..., None],
                frac[..., None],
            ],
            dim=-1,
        )
        q = self.ctx(ctx).view(B, P, c.heads, d // c.heads).transpose(1, 2)  # (B, H, P, dk)
        gb = self.glimpse_bias(torch.stack([d_row, t_row], dim=-1)).permute(0, 3, 1, 2)  # (B, H, P, n)
        s = q @ enc["kg"].transpose(-1, -2) / math.sqrt(d // c.heads) + gb
        s = s.masked_fill(~mask.unsqueeze(1), float("-inf"))
        g = (torch.softmax(s, dim=-1) @ enc["vg"]).transpose(1, 2).reshape(B, P, d)
        g = self.glimpse_out(g)
        u = g @ enc["kl"].transpose(1, 2) / math.sqrt(d)  # (B, P, n)
        lin = self.logit_lin(torch.stack([d_row, t_row, d_back.unsqueeze(1).expand(B, P, n)], dim=-1))
        u = c.clip * torch.tanh(u + lin.squeeze(-1))
        u = u.masked_fill(~mask, float("-inf"))
        return torch.log_softmax(u, dim=-1)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
