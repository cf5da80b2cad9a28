"""Class and exemplar manifolds of the digit networks, clean and perturbed.

After Dapello, Feather et al. (NeurIPS 2021): P class manifolds (M test images
of each of P digits) or P exemplar manifolds (one image and M perturbations of
it: PGD from M random starts, or M random perturbations, or for a stochastic
net M noise draws), per layer, per eps, per noise level and per seed, with the
accuracy on the perturbed images beside the geometry. Layers wider than
``max_features`` are randomly projected, as in the paper.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engines.base import Job, Progress, check_cancelled
from engines.geometry.attacks import fgsm, pgd, random_perturbation
from engines.geometry.measures import evd, participation_ratio, pca
from engines.geometry.mftma import manifold_analysis
from engines.geometry.models import LAYERS, DigitNet, DigitsData, load_digits_data, load_model
from engines.geometry.params import AnalysisParams
from engines.geometry.train import asset_path

__all__ = [
    "AnalysisResult",
    "Embedding",
    "analysis_job",
    "layer_activations",
    "load_models",
    "manifold_overlap",
]


@dataclass(frozen=True)
class Embedding:
    """3-D PCA view of one layer: clean and perturbed points of every manifold."""

    points: np.ndarray  # (n, 3)
    manifold: np.ndarray  # (n,) manifold index
    perturbed: np.ndarray  # (n,) bool
    explained: np.ndarray  # (3,) explained variance ratio


@dataclass(frozen=True)
class AnalysisResult:
    rows: tuple[dict, ...]
    embeddings: Mapping[tuple[str, str, float], Embedding] = field(default_factory=dict)
    accuracy: Mapping[tuple[str, float], float] = field(default_factory=dict)

    def select(self, **match) -> list[dict]:
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]


def load_models(kinds, directory: str | Path | None = None) -> dict[str, DigitNet]:
    out = {}
    for k in kinds:
        p = asset_path(k, directory)
        if not p.exists():
            raise FileNotFoundError(
                f"{p}: no trained {k} network; run `python -m engines geometry train --kind {k}`"
            )
        out[k] = load_model(p)
    return out


def _select_images(data: DigitsData, P: int, M: int, manifold: str, rng: np.random.Generator):
    """Test images (and labels) for the manifolds: (P*M or P, ...)."""
    x, y = data.x_test, data.y_test
    if manifold == "class":
        idx = []
        for c in range(P):
            pool = np.nonzero(y == c)[0]
            idx.append(rng.choice(pool, size=min(M, len(pool)), replace=False))
        idx = np.concatenate(idx)
    else:
        idx = np.array([rng.choice(np.nonzero(y == c)[0]) for c in range(P)])
    return torch.from_numpy(x[idx]), torch.from_numpy(y[idx])


def _perturb(model, x, y, eps, p: AnalysisParams, seed: int):
    if eps == 0:
        return x.clone()
    if p.attack == "random":
        return random_perturbation(x, eps, p.norm, seed=seed)
    if p.attack == "fgsm":
        return fgsm(model, x, y, eps, p.norm, eot=p.eot if model.stochastic else 1)
    return pgd(model, x, y, eps, steps=p.steps, norm=p.norm, eot=p.eot if model.stochastic else 1, seed=seed)


def _project(a: np.ndarray, max_features: int, seed: int) -> np.ndarray:
    if a.shape[1] <= max_features:
        return a
    r = np.random.default_rng(seed)
    return a @ (r.standard_normal((a.shape[1], max_features)) / np.sqrt(max_features))


def analysis_job(
    p: AnalysisParams,
    models: Mapping[str, DigitNet] | None = None,
    data: DigitsData | None = None,
    *,
    per_layer: bool = False,
) -> Job:
    """Run the analysis; yields Progress per (model, seed, eps) and returns an AnalysisResult.

    With ``per_layer`` it also yields after each layer but the last of a unit (``done`` then counts the
    unit's finished share of layers), so that a viewer shows each layer as soon as it is measured.
    """
    kinds = p.model_list
    layers = p.layer_list
    eps_list = p.eps_list
    if models is None:
        models = load_models(kinds)
    missing = [k for k in kinds if k not in models]
    if missing:
        raise ValueError(f"models: no network given for {', '.join(missing)}")
    data = data or load_digits_data()
    levels_of = {k: (p.noise_list if k == "stochastic" else (None,)) for k in kinds}
    total = sum(len(levels_of[k]) for k in kinds) * p.seeds * len(eps_list)
    done = 0
    rows: list[dict] = []
    embeddings: dict = {}
    accuracy: dict = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for kind, level in ((k, lv) for k in kinds for lv in levels_of[k]):
            model = models[kind]
            model.eval()
            model.set_noise(on=kind == "stochastic", scale=p.noise_scale if level is None else level)
            main = level is None or level == p.main_noise
            tag = "" if level is None else f" (noise {level:g})"
            for s in range(p.seeds):
                seed = p.seed + s
                rng = np.random.default_rng(seed)
                x0, y0 = _select_images(data, p.P, p.M, p.manifold, rng)
                clean_reps = None
                for eps in eps_list:
                    model.set_noise(seed=seed * 7919 + 17)
                    if p.manifold == "class":
                        xs = _perturb(model, x0, y0, eps, p, seed)
                        owner = y0.numpy()
                        ys = y0
                    else:
                        # M perturbations of each exemplar: different random starts (and noise)
                        xs_list = [_perturb(model, x0, y0, eps, p, seed * 1000 + j) for j in range(p.M)]
                        xs = torch.stack(xs_list, dim=1).reshape(-1, *x0.shape[1:])
                        owner = np.repeat(np.arange(p.P), p.M)
                        ys = y0.repeat_interleave(p.M)
                    with torch.no_grad():
                        logits, acts = model(xs, return_layers=True)
                    acc = float((logits.argmax(1) == ys).float().mean())
                    if main:
                        accuracy[(kind, float(eps))] = acc
                    if level is not None:
                        accuracy[(kind, float(eps), float(level))] = acc
                    if clean_reps is None and eps == 0:
                        clean_reps = {k: v.numpy().astype(np.float64) for k, v in acts.items()}
                    for li, layer in enumerate(layers):
                        check_cancelled()  # several seconds per unit: stop between layers too
                        a = acts[layer].numpy().astype(np.float64)
                        a = _project(a, p.max_features, seed)
                        mans = [a[owner == i] for i in range(p.P)]
                        res = manifold_analysis(mans, kappa=p.kappa, n_t=p.n_t, seed=seed)
                        row = {
                            "model": kind,
                            "layer": layer,
                            "eps": float(eps),
                            "seed": seed,
                            "capacity": res.capacity_mean,
                            "radius": res.radius_mean,
                            "dimension": res.dimension_mean,
                            "center_correlation": res.center_correlation,
                            "K": res.K,
                            "PR": participation_ratio(a),
                            "EVD90": evd(a, 0.9),
                            "P": p.P,
                            "M": int(np.bincount(owner).min()),
                            "N": a.shape[1],
                            "kappa": p.kappa,
                            "manifold": p.manifold,
                            "attack": p.attack,
                            "norm": p.norm,
                            "noise_scale": 0.0 if level is None else float(level),
                            "accuracy": acc,
                        }
                        if clean_reps is not None and eps > 0:
                            row["overlap"] = manifold_overlap(
                                _project(clean_reps[layer], p.max_features, seed), a, owner
                            )
                        if p.simcap:
                            from engines.geometry.mftma import simulated_capacity

                            try:
                                row["simcap"] = simulated_capacity(
                                    mans, n_dichotomies=40, seed=seed, kappa=p.kappa
                                ).capacity
                            except ValueError:  # not separable even in the full space
                                row["simcap"] = float("nan")
                        rows.append(row)
                        if s == 0:
                            base = clean_reps[layer] if clean_reps is not None else None
                            emb = _embed(base, acts[layer].numpy(), owner)
                            if main:
                                embeddings[(kind, layer, float(eps))] = emb
                            if level is not None:
                                embeddings[(kind, layer, float(eps), float(level))] = emb
                        if per_layer and li < len(layers) - 1:
                            partial = AnalysisResult(tuple(rows), dict(embeddings), dict(accuracy))
                            msg = f"{kind}{tag}: seed {seed}, eps {eps:g}, layer {layer}"
                            yield Progress(done + (li + 1) / len(layers), total, msg, partial)
                    done += 1
                    partial = AnalysisResult(tuple(rows), dict(embeddings), dict(accuracy))
                    yield Progress(done, total, f"{kind}{tag}: seed {seed}, eps {eps:g}", partial)
    finally:
        torch.set_num_threads(threads)
    return AnalysisResult(tuple(rows), embeddings, accuracy)


def layer_activations(
    model: DigitNet, layer: str, P: int = 10, M: int = 20, seed: int = 0, data: DigitsData | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """What a network's ``layer`` does with ``M`` test images of each digit 0 .. P-1 (class manifolds).

    Returns ``features`` (P*M x N, float32) and ``labels`` (P*M, the digits): the file that "Import
    activations…" and ``python -m engines geometry analyze`` read. A stochastic net draws its noise
    from ``seed``.
    """
    if layer not in LAYERS:
        raise ValueError(f"layer = {layer!r}: allowed values are {', '.join(LAYERS)}")
    data = data or load_digits_data()
    x, y = _select_images(data, P, M, "class", np.random.default_rng(seed))
    model.eval()
    model.set_noise(on=model.kind == "stochastic", seed=seed)
    with torch.no_grad():
        _, acts = model(x, return_layers=True)
    return acts[layer].reshape(len(x), -1).numpy().astype(np.float32), y.numpy().astype(np.int64)


def manifold_overlap(clean: np.ndarray, perturbed: np.ndarray, owner: np.ndarray) -> float:
    """Mean over manifolds of |c_clean - c_pert| / (r_clean + r_pert).

    c: centroids, r: root-mean-square radii of the clean and perturbed point
    clouds of each manifold. Below 1 the two clouds overlap (their RMS balls
    intersect); a deterministic net's clean exemplar manifold is a point.
    """
    ratios = []
    for i in np.unique(owner):
        a, b = clean[owner == i], perturbed[owner == i]
        ca, cb = a.mean(axis=0), b.mean(axis=0)
        ra = np.sqrt(np.mean(np.sum((a - ca) ** 2, axis=1)))
        rb = np.sqrt(np.mean(np.sum((b - cb) ** 2, axis=1)))
        d = np.linalg.norm(ca - cb)
        ratios.append(d / (ra + rb) if ra + rb > 0 else np.inf)
    return float(np.mean(ratios))


def _embed(clean: np.ndarray | None, pert: np.ndarray, owner: np.ndarray) -> Embedding:
    pert = pert.astype(np.float64)
    if clean is None or clean.shape != pert.shape or np.array_equal(clean, pert):
        X = pert
        flags = np.zeros(len(pert), dtype=bool)
        own = owner
    else:
        X = np.concatenate([clean, pert])
        flags = np.concatenate([np.zeros(len(clean), bool), np.ones(len(pert), bool)])
        own = np.concatenate([owner, owner])
    r = pca(X, 3)
    return Embedding(r.scores.astype(np.float32), own.astype(np.int32), flags, r.explained_variance_ratio)
