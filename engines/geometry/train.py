"""Training of the three digit networks (a stoppable job) and their assets."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional as F

from engines.base import Job, Params, Progress, param
from engines.files import atomic_write_text
from engines.geometry.attacks import pgd
from engines.geometry.models import KINDS, DigitNet, load_digits_data, save_model
from engines.serialize import FormatError, load_manifest

__all__ = ["ASSET_DIR", "TrainParams", "accuracy", "asset_path", "train_job", "train_and_save"]

ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "geometry"


def asset_path(kind: str, directory: str | Path | None = None) -> Path:
    return Path(directory or ASSET_DIR) / f"digits_{kind}.zip"


@dataclass(frozen=True)
class TrainParams(Params):
    kind: str = param("standard", choices=KINDS, doc="which network")
    epochs: int = param(25, min=1, max=500, doc="passes over the training set")
    batch_size: int = param(64, min=1, max=2048)
    lr: float = param(2e-3, min=1e-6, max=1.0, doc="Adam learning rate")
    at_eps: float = param(0.1, min=0.0, max=1.0, unit="L-inf", doc="PGD radius for adversarial training")
    at_steps: int = param(5, min=1, max=100, doc="PGD steps per adversarial example")
    noise_scale: float = param(1.0, min=0.0, max=10.0, doc="noise multiplier of the stochastic front end")
    n_train: int = param(0, min=0, doc="use only the first n training images (0: all)")
    seed: int = param(0, min=0)


def accuracy(model: DigitNet, x: torch.Tensor, y: torch.Tensor, draws: int = 1) -> float:
    """Accuracy; for a stochastic net, of the logits averaged over ``draws`` noise draws."""
    with torch.no_grad():
        logits = sum(model(x) for _ in range(max(1, draws)))
    return float((logits.argmax(1) == y).float().mean())


def train_job(p: TrainParams) -> Job:
    """Train one network; yields Progress per epoch and returns (model, metrics).

    Runs on one torch thread (small convolutions lose badly to thread
    contention on a shared machine); the previous setting is restored.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = yield from _train(p)
    finally:
        torch.set_num_threads(threads)
    return result


def _train(p: TrainParams) -> Job:
    torch.manual_seed(p.seed)
    data = load_digits_data()
    xtr, ytr = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    if p.n_train:
        xtr, ytr = xtr[: p.n_train], ytr[: p.n_train]
    xte, yte = torch.from_numpy(data.x_test), torch.from_numpy(data.y_test)
    model = DigitNet(p.kind, noise_scale=p.noise_scale)
    model.set_noise(seed=p.seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=p.lr)
    gen = torch.Generator().manual_seed(p.seed)
    n = len(xtr)
    t0 = time.perf_counter()
    losses = []
    for ep in range(p.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for k in range(0, n, p.batch_size):
            idx = perm[k : k + p.batch_size]
            xb, yb = xtr[idx], ytr[idx]
            if p.kind == "adversarial" and p.at_eps > 0:
                model.eval()
                xb = pgd(model, xb, yb, p.at_eps, steps=p.at_steps, seed=p.seed * 100003 + ep * 1000 + k)
                model.train()
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(idx)
        losses.append(tot / n)
        model.eval()
        yield Progress(
            ep + 1, p.epochs, f"{p.kind}: epoch {ep + 1}/{p.epochs} loss {losses[-1]:.3f}", losses[-1]
        )
    model.eval()
    wall = time.perf_counter() - t0
    metrics = {
        "clean_test_accuracy": accuracy(model, xte, yte, draws=1),
        "final_train_loss": losses[-1],
        "wall_time_s": round(wall, 2),
    }
    model.set_noise(seed=12345)
    x_adv = pgd(model, xte, yte, 0.1, steps=10, seed=7)
    metrics["pgd_linf_0.1_test_accuracy"] = accuracy(model, x_adv, yte)
    return model, metrics


def train_and_save(
    p: TrainParams, out_dir: str | Path | None = None, command: str = "", on_progress=None
) -> dict:
    """Run :func:`train_job` to the end, save the weights and update manifest.json."""
    from engines.base import drive_job

    out = Path(out_dir or ASSET_DIR)
    man_path = out / "manifest.json"
    manifest = {"models": {}}
    if man_path.exists():  # read before training: a damaged manifest must not cost the training
        manifest = load_manifest(man_path, {"models": {}})
        if not isinstance(manifest.get("models", {}), dict):
            raise FormatError(f"{man_path}: 'models' must be a JSON object")
    (model, metrics), done = drive_job(train_job(p), on_progress)
    if not done:  # pragma: no cover - drive_job without should_stop always completes
        raise RuntimeError("training was stopped")
    out.mkdir(parents=True, exist_ok=True)
    path = asset_path(p.kind, out)
    save_model(model, path, meta={"params": p.to_dict(), "metrics": metrics})
    manifest.setdefault("models", {})[p.kind] = {
        "file": path.name,
        "command": command or f"python -m engines geometry train --kind {p.kind}",
        "params": p.to_dict(),
        "data": "scikit-learn load_digits (1,797 8x8 images, /16 to [0,1]); stratified split, "
        "500 test images, random_state=0",
        "metrics": metrics,
        "torch": torch.__version__,
        "machine": platform.machine(),
        "threads": 1,
    }
    atomic_write_text(man_path, json.dumps(manifest, indent=1, sort_keys=True))
    return metrics
