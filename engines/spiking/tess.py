"""TESS-style local learning for feed-forward spiking classifiers (8x8 digits).

A temporally and spatially local rule, no backpropagation through time or
across layers. Every hidden layer ``l`` of LIF neurons (leak ``beta``,
threshold 1, reset by subtraction) keeps, per time step ``t``:

* an eligibility trace of its presynaptic activity ``x_l(t) = beta x_l(t-1) + s_{l-1}(t)``;
* a surrogate derivative of its membrane ``psi_l(t) = 1 / (1 + k |u_l(t) - 1|)^2``;
* a rate trace of its own spikes ``r_l(t) = beta_r r_l(t-1) + s_l(t)``, read by a
  *fixed* random projection ``B_l`` (n_l x 10) as a local classifier; its
  error ``e_l(t) = softmax(r_l(t) B_l) - onehot(label)`` projected back by the
  same fixed matrix is the layer's learning signal ``L_l(t) = e_l(t) B_l^T``.

The weight change is ``dW_l = -lr * sum_t (L_l(t) * psi_l(t))^T x_l(t)``,
applied after each mini-batch of samples. The output layer is a leaky
integrator (no spikes) trained with its own softmax error the same way; the
class is the argmax of its membrane summed over the presentation.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Params, Progress, check_cancelled, param
from engines.serialize import FormatError, load_manifest, load_npz, numeric_arrays, parse_json_bounded

from .ncx_digits import load_split

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "spiking"
ASSET = ASSET_DIR / "tess_digits.npz"


@dataclass(frozen=True)
class TessParams(Params):
    """A small feed-forward SNN trained online with the local rule."""

    hidden: tuple = param((128, 64), doc="hidden LIF layer sizes")
    steps: int = param(32, min=1, max=1000, doc="time steps per image")
    epochs: int = param(8, min=1, max=1000, doc="passes over the training set")
    batch: int = param(16, min=1, max=4096, doc="samples per weight update")
    lr: float = param(0.3, min=0.0, max=100.0, doc="learning rate at the start")
    lr_final: float = param(0.1, min=0.0, max=1.0, doc="final learning rate as a fraction of lr (cosine)")
    beta: float = param(0.9, min=0.0, max=1.0, doc="membrane and eligibility decay per step")
    trace_decay: float = param(0.9, min=0.0, max=1.0, doc="decay of the local readout's rate trace")
    surrogate_slope: float = param(2.0, min=0.0, max=100.0, doc="k of the surrogate derivative")
    warmup: int = param(3, min=0, max=1000, doc="steps before learning signals count")
    init_gain: float = param(2.0, min=0.0, max=100.0, doc="initial weight scale (x 1/sqrt(fan-in))")
    n_train: int = param(0, min=0, doc="use only the first n training images (0: all)")

    def validate(self) -> None:
        if not self.hidden or any(int(h) < 1 for h in self.hidden):
            raise ValueError("TessParams.hidden: needs at least one layer, sizes >= 1")


class TessNet:
    """The network: LIF hidden layers with fixed local readouts, leaky-integrator output."""

    def __init__(self, p: TessParams, seed: int = 0, n_in: int = 64, n_out: int = 10):
        self.p = p
        rng = np.random.default_rng(seed)
        self.sizes = [n_in, *[int(h) for h in p.hidden], n_out]
        self.n_layers = len(self.sizes) - 1
        self.w = [
            (
                rng.standard_normal((self.sizes[k + 1], self.sizes[k]))
                * p.init_gain
                / math.sqrt(self.sizes[k])
            ).astype(np.float32)
            for k in range(self.n_layers)
        ]
        self.b = [np.zeros(self.sizes[k + 1], np.float32) for k in range(self.n_layers)]
        self.proj = [
            (rng.standard_normal((self.sizes[k + 1], n_out)) / math.sqrt(self.sizes[k + 1])).astype(
                np.float32
            )
            for k in range(self.n_layers - 1)
        ]

    def run(
        self,
        spikes: np.ndarray,
        labels: np.ndarray | None = None,
        lr: float = 0.0,
        record: list | None = None,
    ) -> np.ndarray:
        """Present (steps, batch, inputs) spikes; learn when ``labels`` is given; returns output sums.

        ``record``, a list, receives per time step the list of every layer's
        activity after that step: the spikes of the hidden layers and the
        membrane of the (non-spiking) output layer, each (batch, n) float32.
        """
        p = self.p
        steps, nb, _ = spikes.shape
        n_l = self.n_layers
        u = [np.zeros((nb, n), np.float32) for n in self.sizes[1:]]
        s = [np.zeros((nb, n), np.float32) for n in self.sizes[1:]]
        x = [np.zeros((nb, n), np.float32) for n in self.sizes[:-1]]
        r = [np.zeros((nb, n), np.float32) for n in self.sizes[1:]]
        learn = labels is not None and lr > 0
        if learn:
            onehot = np.eye(self.sizes[-1], dtype=np.float32)[labels]
            dw = [np.zeros_like(w) for w in self.w]
            db = [np.zeros_like(b) for b in self.b]
        out = np.zeros((nb, self.sizes[-1]), np.float32)
        beta, k = np.float32(p.beta), np.float32(p.surrogate_slope)
        for t in range(steps):
            inp = spikes[t]
            for li in range(n_l):
                x[li] = beta * x[li] + inp
                if li < n_l - 1:
                    u[li] = beta * u[li] + inp @ self.w[li].T + self.b[li] - s[li]
                    s[li] = (u[li] >= 1.0).astype(np.float32)
                    r[li] = np.float32(p.trace_decay) * r[li] + s[li]
                    if learn and t >= p.warmup:
                        err = _softmax(r[li] @ self.proj[li]) - onehot
                        g = (err @ self.proj[li].T) / (1.0 + k * np.abs(u[li] - 1.0)) ** 2
                        dw[li] += g.T @ x[li]
                        db[li] += g.sum(0)
                    inp = s[li]
                else:
                    u[li] = beta * u[li] + inp @ self.w[li].T + self.b[li]
                    out += u[li]
                    if learn and t >= p.warmup:
                        g = _softmax(u[li]) - onehot
                        dw[li] += g.T @ x[li]
                        db[li] += g.sum(0)
            if record is not None:
                record.append([*(a.copy() for a in s[:-1]), u[-1].copy()])
        if learn:
            scale = np.float32(lr / (nb * steps))
            for li in range(n_l):
                self.w[li] -= scale * dw[li]
                self.b[li] -= scale * db[li]
        return out

    def state(self) -> dict[str, np.ndarray]:
        d = {}
        for k in range(self.n_layers):
            d[f"w{k}"], d[f"b{k}"] = self.w[k], self.b[k]
        for k, m in enumerate(self.proj):
            d[f"proj{k}"] = m
        return d

    def load(self, d) -> None:
        for k in range(self.n_layers):
            w, b = np.asarray(d[f"w{k}"], np.float32), np.asarray(d[f"b{k}"], np.float32)
            if w.shape != self.w[k].shape or b.shape != self.b[k].shape:
                raise ValueError(
                    f"TESS weights: layer {k} has shape {w.shape} / {b.shape}, "
                    f"the network {self.w[k].shape} / {self.b[k].shape}"
                )
            self.w[k], self.b[k] = w.copy(), b.copy()
        for k in range(len(self.proj)):
            p = np.asarray(d[f"proj{k}"], np.float32)
            if p.shape != self.proj[k].shape:
                raise ValueError(
                    f"TESS weights: projection {k} has shape {p.shape}, the network {self.proj[k].shape}"
                )
            self.proj[k] = p.copy()


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def encode(x: np.ndarray, rng: np.random.Generator, steps: int) -> np.ndarray:
    """(steps, batch, 64) float32 Bernoulli spikes with probability pixel/16."""
    return (rng.random((steps, len(x), x.shape[1])) < (x[None] / 16.0)).astype(np.float32)


def evaluate(net: TessNet, x: np.ndarray, y: np.ndarray, seed: int = 1, batch: int = 256) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    conf = np.zeros((10, 10), np.int64)
    for i in range(0, len(x), batch):
        out = net.run(encode(x[i : i + batch], rng, net.p.steps))
        np.add.at(conf, (y[i : i + batch], out.argmax(1)), 1)
    return {"accuracy": float(np.trace(conf) / conf.sum()), "confusion": conf}


def train_job(params: TessParams | None = None, seed: int = 0, save: bool = False, geometry=None):
    """Generator: train online, evaluate after each epoch; returns the result dict.

    Each progress ``value`` holds the accuracy curve so far and the latest
    confusion matrix (for a GUI). ``geometry``, a
    :class:`engines.spiking.geometry.GeometryProbe`, measures the manifold
    geometry of the readout population (``geometry.population``, by default the
    output layer) on a fixed set of test images
    before training, every ``geometry.every`` training steps (mini-batches)
    and at the end: the points (step, capacity, radius, dimension, center
    correlation, accuracy on those images) are the value's and the result's
    ``geometry_curve``. The result's ``state`` holds the trained network
    (``params`` and ``weights``) for :func:`engines.spiking.geometry.record`.
    """
    p = params or TessParams()
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = load_split()
    if p.n_train:
        x_tr, y_tr = x_tr[: p.n_train], y_tr[: p.n_train]
    net = TessNet(p, seed)
    rng = np.random.default_rng(seed + 1)
    n_batches = math.ceil(len(x_tr) / p.batch)
    total = p.epochs * n_batches
    curve: list[float] = []
    geo: list[dict[str, Any]] = []
    if geometry is not None:
        x_probe, y_probe = geometry.stimuli(x_te, y_te)
        geo.append(geometry.point(net, x_probe, y_probe, 0))
    ev: dict[str, Any] = {"accuracy": 0.0, "confusion": np.zeros((10, 10), np.int64)}
    done = 0
    for epoch in range(p.epochs):
        order = rng.permutation(len(x_tr))
        for bi in range(n_batches):
            check_cancelled()  # it yields every 10 batches; a cancelled job stops at the next one
            frac = done / max(total - 1, 1)
            lr = p.lr * (p.lr_final + (1 - p.lr_final) * 0.5 * (1 + math.cos(math.pi * frac)))
            idx = order[bi * p.batch : (bi + 1) * p.batch]
            net.run(encode(x_tr[idx], rng, p.steps), y_tr[idx], lr=lr)
            done += 1
            measured = geometry is not None and (done % geometry.every == 0 or done == total)
            if measured:
                geo.append(geometry.point(net, x_probe, y_probe, done))
            if bi % 10 == 0 or measured:
                yield Progress(done, total, f"epoch {epoch + 1}/{p.epochs}", value=_value(curve, ev, geo))
        ev = evaluate(net, x_te, y_te)
        curve.append(ev["accuracy"])
        yield Progress(
            done,
            total,
            f"epoch {epoch + 1}: test accuracy {ev['accuracy']:.3f}",
            value=_value(curve, ev, geo),
        )
    wall = time.perf_counter() - t0
    result = {
        "preset": "tess-digits",
        "test_accuracy": ev["accuracy"],
        "accuracy_curve": curve,
        "confusion": ev["confusion"].tolist(),
        "n_train": int(len(y_tr)),
        "n_test": int(len(y_te)),
        "wall_s": wall,
        "params": p.to_dict(),
        "geometry_curve": list(geo),
        "state": {"params": p.to_dict(), "weights": {k: v.copy() for k, v in net.state().items()}},
    }
    if save:
        save_asset(net, result, seed)
    return result


def _value(curve: list[float], ev: dict[str, Any], geo: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "accuracy_curve": list(curve),
        "confusion": np.array(ev["confusion"]).tolist(),
        "geometry_curve": list(geo),
    }


def save_asset(net: TessNet, result: dict, seed: int) -> None:
    ASSET_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(ASSET, **net.state(), params=json.dumps(net.p.to_dict()), seed=seed)
    manifest_path = ASSET_DIR / "manifest.json"
    manifest = load_manifest(manifest_path)
    manifest["tess_digits.npz"] = {
        "what": "TESS-trained feed-forward SNN (64 -> hidden LIF -> 10 leaky-integrator outputs), float32",
        "command": f"python -m engines spiking train --preset tess-digits --seed {seed} --save",
        "data": "sklearn load_digits, train_test_split(test_size=0.33, random_state=42), 32 steps per image",
        "method": "local rule: presynaptic eligibility x surrogate derivative x fixed projection of a local error",
        "params": result["params"],
        "wall_s": round(result["wall_s"], 1),
        "metrics": {
            "test_accuracy": round(result["test_accuracy"], 4),
            "accuracy_curve": [round(a, 4) for a in result["accuracy_curve"]],
            "n_test": result["n_test"],
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def load_asset() -> TessNet:
    d = load_npz(ASSET)
    try:
        params = TessParams.from_dict(parse_json_bounded(str(d["params"]), f"{ASSET}: array 'params'"))
        net = TessNet(params, int(d["seed"]))
        net.load(numeric_arrays({k: v for k, v in d.items() if k not in ("params", "seed")}, str(ASSET)))
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise FormatError(f"{ASSET}: not a TESS weights file ({type(e).__name__}: {e})") from None
    return net
