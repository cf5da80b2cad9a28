"""NeuroCoreX digits: 64 input channels -> 10 integer LIF neurons on sklearn's 8x8 digits.

The set-up of the NeuroCoreX digits tutorial: each 8x8 image (pixels 0..16)
becomes 32 time steps of input spikes (pixel k spikes in a step with
probability pixel/16), the split is ``train_test_split(test_size=0.33,
random_state=42)`` and the class is the output neuron with most spikes.

Training here is offline and one-shot: the int8 feed-forward weights are the
class-mean images minus the mean image, scaled and rounded
(``w = round(alpha * (mu_c - mu))``), then run on the bit-exact NeuroCoreX
integer datapath (:mod:`engines.spiking.neurocorex`). It is a template
classifier, not the hardware's on-chip STDP.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Progress

from .neurocorex import NeuroCoreXEngine, NeuroCoreXParams

T_STEPS = 32
ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "spiking"
ASSET = ASSET_DIR / "neurocorex_digits.json"


def preset_params(**over) -> NeuroCoreXParams:
    d = dict(n_neurons=10, n_inputs=64, threshold=16.0, leak=0.0, amp_ff=1, refractory=0, step_ms=1.0)
    d.update(over)
    return NeuroCoreXParams(**d)


def load_split():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    return train_test_split(d.data, d.target, test_size=0.33, random_state=42)


def encode(x: np.ndarray, seed: int, steps: int = T_STEPS) -> np.ndarray:
    """Bernoulli rate code: (samples, steps, 64) booleans."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    return rng.random((len(x), steps, x.shape[1])) < (x[:, None, :] / 16.0)


def template_weights(x: np.ndarray, y: np.ndarray, alpha: float = 8.0) -> np.ndarray:
    """int8 (64, 10) weights: scaled class means minus the grand mean."""
    mu = np.array([x[y == c].mean(0) for c in range(10)]) / 16.0
    w = np.round(alpha * (mu - mu.mean(0)))
    return np.clip(w, -128, 127).astype(np.int8).T.copy()


def evaluate(w_ff: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int = 1, params=None) -> dict[str, Any]:
    eng = NeuroCoreXEngine(params or preset_params())
    eng.set_weights(w_ff=w_ff)
    rasters = encode(x, seed)
    conf = np.zeros((10, 10), np.int64)
    for r, label in zip(rasters, y):
        counts = eng.run_sample(r)
        conf[int(label), int(np.argmax(counts))] += 1
    return {"accuracy": float(np.trace(conf) / conf.sum()), "confusion": conf}


def train_job(alpha: float = 8.0, seed: int = 1, save: bool = False, n_test: int | None = None):
    """Generator: fit the templates, test on the split; returns a result dict."""
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = load_split()
    yield Progress(0, 3, "fitting int8 templates")
    w = template_weights(x_tr, y_tr, alpha)
    yield Progress(1, 3, "testing on the NeuroCoreX datapath")
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    ev = evaluate(w, x_te, y_te, seed)
    wall = time.perf_counter() - t0
    result = {
        "preset": "neurocorex-digits",
        "test_accuracy": ev["accuracy"],
        "confusion": ev["confusion"].tolist(),
        "n_train": int(len(y_tr)),
        "n_test": int(len(y_te)),
        "wall_s": wall,
        "w_ff": w.tolist(),
    }
    yield Progress(2, 3, f"test accuracy {ev['accuracy']:.3f}", value=result)
    if save:
        save_asset(result, alpha, seed)
    yield Progress(3, 3, "done", value=result)
    return result


def save_asset(result: dict, alpha: float, seed: int) -> None:
    ASSET_DIR.mkdir(parents=True, exist_ok=True)
    ASSET.write_text(json.dumps({"w_ff": result["w_ff"], "params": preset_params().to_dict()}))
    manifest_path = ASSET_DIR / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest["neurocorex_digits.json"] = {
        "what": "int8 feed-forward weights (64 inputs x 10 neurons) of the NeuroCoreX digits preset",
        "command": f"python -m engines spiking train --preset neurocorex-digits --alpha {alpha} --seed {seed} --save",
        "data": "sklearn load_digits, train_test_split(test_size=0.33, random_state=42), 32 steps per image",
        "method": "class-mean templates minus the grand mean, x alpha, rounded to int8 (offline, no STDP)",
        "wall_s": round(result["wall_s"], 2),
        "metrics": {"test_accuracy": round(result["test_accuracy"], 4), "n_test": result["n_test"]},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def load_asset() -> tuple[np.ndarray, NeuroCoreXParams]:
    d = json.loads(ASSET.read_text())
    return np.asarray(d["w_ff"], np.int8), NeuroCoreXParams.from_dict(d["params"])


def demo_job(seed: int = 1, pause_s: float = 0.0, limit: int | None = None):
    """Generator: classify the test digits one by one on the NeuroCoreX datapath.

    Each progress ``value`` holds the sample (``image`` 8x8, ``spikes`` as
    (step within the sample, unit) with inputs after the 10 neurons,
    ``counts``, ``label``, ``predicted``) and the running ``accuracy``.
    ``pause_s`` paces the presentation for a viewer.
    """
    w, params = load_asset()
    _, x_te, _, y_te = load_split()
    if limit is not None:
        x_te, y_te = x_te[:limit], y_te[:limit]
    eng = NeuroCoreXEngine(params)
    eng.set_weights(w_ff=w)
    rasters = encode(x_te, seed)
    correct = 0
    for i, (r, label) in enumerate(zip(rasters, y_te)):
        c0 = eng.spikes.cursor
        start = eng.step_count
        counts = eng.run_sample(r)
        data = eng.spikes.read_since(c0)[0].copy()
        data[:, 0] -= start
        pred = int(np.argmax(counts))
        correct += int(pred == int(label))
        if pause_s > 0:
            time.sleep(pause_s)
        yield Progress(
            i + 1,
            len(y_te),
            f"digit {int(label)}: predicted {pred} (accuracy {correct / (i + 1):.3f})",
            value={
                "image": x_te[i].reshape(8, 8) / 16.0,
                "spikes": data,
                "counts": counts.tolist(),
                "label": int(label),
                "predicted": pred,
                "accuracy": correct / (i + 1),
                "n": i + 1,
            },
        )
    return {
        "preset": "neurocorex-digits-demo",
        "test_accuracy": correct / max(len(y_te), 1),
        "n_test": len(y_te),
    }
