"""NeuroCoreX digits: 64 input channels -> 10 integer LIF neurons on sklearn's 8x8 digits.

The set-up of the NeuroCoreX digits tutorial: each 8x8 image (pixels 0..16)
becomes 32 time steps of input spikes (pixel k spikes in a step with
probability pixel/16), the split is ``train_test_split(test_size=0.33,
random_state=42)`` and the class is the output neuron with most spikes.

Training (:func:`train_job`, the default of ``python -m engines spiking train
--preset neurocorex-digits``) uses the chip's own rectangular-window STDP on
the bit-exact integer datapath (:mod:`engines.spiking.neurocorex`): 10 extra
non-plastic teacher inputs (one per class, enable bit 0) and error-driven
teacher frames that open the STDP enable mask on one neuron at a time; the
host re-balances each neuron's leak register to its mean synaptic drive. See
:func:`stdp_train`.

NeuroCoreX's public digits tutorial does not train on chip: it loads weights
trained off-chip in SuperNeuroMAT and runs the FPGA with every STDP enable
bit at 0 (66 % on this split). :func:`template_train_job` keeps an offline
alternative of that kind: int8 class-mean templates minus the grand mean
(``w = round(alpha * (mu_c - mu))``), no STDP.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import Progress
from engines.serialize import FormatError, load_json_bounded, load_manifest

from .neurocorex import NeuroCoreXEngine, NeuroCoreXParams

T_STEPS = 32
ASSET_DIR = Path(__file__).resolve().parents[2] / "assets" / "spiking"
ASSET = ASSET_DIR / "neurocorex_digits.json"


def preset_params(**over) -> NeuroCoreXParams:
    d = dict(
        profile="extended",
        n_neurons=10,
        n_inputs=64,
        threshold=16.0,
        leak=0.0,
        amp_ff=1,
        refractory=0,
        step_ms=1.0,
    )
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


def evaluate(
    w_ff: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int = 1, params=None, leaks=None
) -> dict[str, Any]:
    eng = NeuroCoreXEngine(params or preset_params())
    eng.set_weights(w_ff=w_ff)
    if leaks is not None:
        eng.set_leaks(leaks)
    rasters = encode(x, seed)
    conf = np.zeros((10, 10), np.int64)
    for r, label in zip(rasters, y):
        counts = eng.run_sample(r)
        conf[int(label), int(np.argmax(counts))] += 1
    return {"accuracy": float(np.trace(conf) / conf.sum()), "confusion": conf}


def template_train_job(alpha: float = 8.0, seed: int = 1, n_test: int | None = None):
    """Generator: the offline alternative (int8 class-mean templates, no STDP); returns a result dict."""
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = load_split()
    yield Progress(0, 2, "fitting int8 templates")
    w = template_weights(x_tr, y_tr, alpha)
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    ev = evaluate(w, x_te, y_te, seed)
    result = {
        "preset": "neurocorex-digits",
        "method": "templates",
        "test_accuracy": ev["accuracy"],
        "confusion": ev["confusion"].tolist(),
        "n_train": int(len(y_tr)),
        "n_test": int(len(y_te)),
        "wall_s": time.perf_counter() - t0,
        "w_ff": w.tolist(),
    }
    yield Progress(2, 2, f"test accuracy {ev['accuracy']:.3f}", value=result)
    return result


def load_asset() -> tuple[np.ndarray, NeuroCoreXParams, np.ndarray]:
    """The shipped STDP-trained weights (64, 10) int8, the inference params and per-neuron leaks."""
    d = load_json_bounded(ASSET, allow_nonfinite=False)
    try:
        params = NeuroCoreXParams.from_dict(d["params"])
        leaks = np.asarray(d.get("leaks", [params.leak] * params.n_neurons), np.float64)
        w = np.asarray(d["w_ff"])
        if w.dtype.kind not in "iu" or w.shape != (params.n_inputs, params.n_neurons) or w.size == 0:
            raise ValueError(
                f"w_ff has shape {w.shape} of {w.dtype}, expected ({params.n_inputs}, {params.n_neurons}) integers"
            )
        if w.min() < -128 or w.max() > 127:
            raise ValueError("w_ff holds values outside the int8 range")
        if leaks.shape != (params.n_neurons,) or not np.all(np.isfinite(leaks)):
            raise ValueError(f"leaks must be {params.n_neurons} finite numbers")
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise FormatError(f"{ASSET}: not a NeuroCoreX weights file ({type(e).__name__}: {e})") from None
    return w.astype(np.int8), params, leaks


def demo_job(seed: int = 1, pause_s: float = 0.0, limit: int | None = None, profile: str = "chip"):
    """Generator: classify the test digits one by one on the NeuroCoreX datapath.

    Each progress ``value`` holds the sample (``image`` 8x8, ``spikes`` as
    (step within the sample, unit) with inputs after the 10 neurons,
    ``counts``, ``label``, ``predicted``) and the running ``accuracy``.
    ``pause_s`` paces the presentation for a viewer. ``profile`` ``chip``: the
    shipped weights on the chip profile, outputs in slots 4-13 with the shipped
    host-fitted thresholds (:mod:`.ncx_chip_digits`); ``extended``: with the
    shipped per-neuron leaks.
    """
    w, params, leaks = load_asset()
    _, x_te, _, y_te = load_split()
    if limit is not None:
        x_te, y_te = x_te[:limit], y_te[:limit]
    first = 0
    if profile == "chip":
        from . import ncx_chip_digits as chip

        eng = NeuroCoreXEngine(chip.chip_params())
        eng.set_weights(w_ff=chip.to_slots(w))
        thr = np.full(chip.N_SLOTS_USED, 100.0)
        thr[chip.FIRST_SLOT :] = chip.load_thresholds()
        eng.set_thresholds(thr)
        first = chip.FIRST_SLOT
    elif profile == "extended":
        eng = NeuroCoreXEngine(params)
        eng.set_weights(w_ff=w)
        eng.set_leaks(leaks)
    else:
        raise ValueError(f"profile = {profile!r}: chip or extended")
    rasters = encode(x_te, seed)
    correct = 0
    for i, (r, label) in enumerate(zip(rasters, y_te)):
        c0 = eng.spikes.cursor
        start = eng.step_count
        counts = eng.run_sample(r)[first : first + 10]
        data = eng.spikes.read_since(c0)[0].copy()
        data[:, 0] -= start
        if first:  # outputs 0-9 and inputs from 10, as the extended profile numbers them
            data = data[data[:, 1] >= first]
            data[:, 1] -= np.where(data[:, 1] < eng.n, first, eng.n - 10)
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
        "profile": profile,
        "test_accuracy": correct / max(len(y_te), 1),
        "n_test": len(y_te),
    }


# ---------------------------------------------------------------- on-chip STDP training

N_TEACH = 10


def stdp_params(threshold: float = 16.0) -> NeuroCoreXParams:
    """Training-time NeuroCoreX set-up: 64 pixels + 10 teacher inputs, STDP on.

    ``tpre_max=1`` keeps a pixel's pre window open two steps, ``tpost_max=0``
    keeps a post window open one step, ``refractory=2`` stops a neuron that a
    teacher fired from firing again inside a frame.
    """
    return NeuroCoreXParams(
        profile="extended",
        n_neurons=10,
        n_inputs=64 + N_TEACH,
        threshold=threshold,
        leak=0.0,
        amp_ff=1,
        refractory=2,
        stdp=True,
        tpre_max=1,
        tpost_max=0,
        dw_pos=1,
        dw_neg=1,
        spike_buffer=100_000,
    )


def teacher_weight(threshold: float) -> int:
    """Teacher synapse weight ``64 + ceil(threshold)``.

    It fires a neuron whatever its pixel drive ``S`` in [-64, threshold) and
    keeps ``S + w`` below 128, inside the 18-bit Q7.10 membrane. (A teacher of
    127 on top of a positive pixel drive wraps the membrane negative and the
    teacher spike is silently lost: potentiation then only happens where the
    neuron's drive is already <= 0.)
    """
    if not 0 < threshold < 32:
        raise ValueError(f"threshold = {threshold}: the STDP teacher needs 0 < threshold < 32")
    return 64 + int(np.ceil(threshold))


def pot_frame(pixels: np.ndarray, c: int) -> np.ndarray:
    """Pixels at step 0, teacher ``c`` at step 1: neuron ``c`` fires inside their pre windows."""
    r = np.zeros((2, 64 + N_TEACH), np.uint8)
    r[0, :64] = pixels
    r[1, 64 + c] = 1
    return r


def dep_frame(pixels: np.ndarray, c: int) -> np.ndarray:
    """Teacher ``c`` at step 0 (the neuron fires at step 1), pixels at step 2 inside its post window."""
    r = np.zeros((3, 64 + N_TEACH), np.uint8)
    r[0, 64 + c] = 1
    r[2, :64] = pixels
    return r


def stdp_engine(threshold: float = 16.0) -> NeuroCoreXEngine:
    """Weights 0, teacher synapses fixed (enable bit 0), every enable bit closed."""
    eng = NeuroCoreXEngine(stdp_params(threshold))
    w = np.zeros((64 + N_TEACH, 10), np.int8)
    w[64 + np.arange(10), np.arange(10)] = teacher_weight(threshold)
    eng.set_weights(w_ff=w)
    eng.set_stdp_enable(en_ff=np.zeros((64 + N_TEACH, 10), np.uint8))
    return eng


def balance_leaks(w_ff: np.ndarray, x: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Per-neuron leaks: ``scale`` x each neuron's mean synaptic drive per step on ``x``.

    The drive of neuron ``j`` in a step is the sum of its weights from the
    spiking pixels; its mean over images is ``(x / 16) @ w[:, j]``. A leak
    equal to it makes the spike count follow the drive minus that mean (the
    centring the templates get from subtracting the grand mean). Rounded to
    Q7.10.
    """
    d = (np.asarray(x, np.float64) / 16.0) @ np.asarray(w_ff, np.float64)
    return np.clip(np.round(scale * d.mean(0) * 1024), -(1 << 17), (1 << 17) - 1) / 1024


def _counts(eng: NeuroCoreXEngine, raster: np.ndarray) -> np.ndarray:
    eng.en_ff[:] = 0
    r = np.zeros((raster.shape[0], 64 + N_TEACH), np.uint8)
    r[:, :64] = raster
    return eng.run_sample(r)


def stdp_train(
    x,
    y,
    epochs: int = 3,
    threshold: float = 16.0,
    k_hi: int = 10,
    n_frames: int = 1,
    seed: int = 0,
    rebalance: int = 50,
    leak_scale: float = 1.0,
):
    """Generator over epochs (yields the number of images that caused an update).

    Returns ``(w_ff, leaks)``: the int8 (64, 10) pixel weights learned by the
    engine's own STDP and the per-neuron leaks (Q7.10 values).

    Protocol, per training image (32 Bernoulli steps as at inference, STDP
    masked off): the host reads the spike counts. When the target ``c`` does
    not win (the strongest other neuron ``j`` has as many spikes or more), it
    runs, on ``n_frames`` random time slices of the image, short teacher
    frames (membranes and windows cleared before each) with the STDP enable
    mask opened on one column only:

    * potentiation of ``c`` while its count is below ``k_hi``: the slice's
      pixels, then teacher ``c`` a step later (pre before post: +dw_pos on
      the active pixels' synapses onto ``c``);
    * depression of ``j`` when it spiked: teacher ``j``, then the slice's
      pixels inside its one-step post window (-dw_neg, floored at -1 as the
      hardware does).

    Every ``rebalance`` images the host sets each neuron's leak register to
    ``leak_scale`` x its mean synaptic drive per step over the training images
    (:func:`balance_leaks`). Without leaks the rule stays near 40 %:
    depression cannot go below -1, so weight mass piles up unevenly across
    neurons and the neuron with the largest mean drive wins the count; with
    leaks set only after training the error signal seen during training is
    that biased one, and accuracy is lower (see :data:`STDP_DEFAULTS`).
    """
    rng = np.random.default_rng(seed)
    eng = stdp_engine(threshold)
    for ep in range(epochs):
        ras = encode(x, seed=1000 * (seed + 1) + ep)
        upd = 0
        for n_seen, i in enumerate(rng.permutation(len(y))):
            if rebalance and n_seen % rebalance == 0:
                eng.set_leaks(balance_leaks(eng.w_ff[:64], x, leak_scale))
            c = int(y[i])
            cnt = _counts(eng, ras[i])
            other = cnt.copy()
            other[c] = -1
            j = int(np.argmax(other))
            wrong = cnt[j] >= cnt[c]
            pot = wrong and cnt[c] < k_hi
            dep = wrong and cnt[j] > 0
            if not (pot or dep):
                continue
            upd += 1
            for t in rng.choice(T_STEPS, n_frames, replace=False):
                if pot:
                    eng.en_ff[:] = 0
                    eng.en_ff[:64, c] = 1
                    eng.run_sample(pot_frame(ras[i, t], c))
                if dep:
                    eng.en_ff[:] = 0
                    eng.en_ff[:64, j] = 1
                    eng.run_sample(dep_frame(ras[i, t], j))
        yield upd
    w = eng.w_ff[:64].copy()
    return w, balance_leaks(w, x, leak_scale if rebalance else 0.0)


# Chosen on a validation split of the training part (20 %, random_state 0):
# threshold 16, k_hi 10, 1 frame, rebalance every 50 images, leak scale 1,
# 3 epochs gave 0.82 there (k_hi 6: 0.63-0.66; threshold 31 with k_hi 3:
# 0.54-0.60; rebalance 20: 0.78, 100: 0.81; 5 epochs: 0.79; no rebalancing
# during training, leaks set afterwards: 0.75; no leaks at all, best of the
# rules tried (threshold 31, k_hi 3): 0.40). The test split was not used for
# any choice; for the record, rebalance=0 gives 0.54 on it (seed 0).
STDP_DEFAULTS = {
    "epochs": 3,
    "threshold": 16.0,
    "k_hi": 10,
    "n_frames": 1,
    "rebalance": 50,
    "leak_scale": 1.0,
}


def train_job(
    seed: int = 0,
    save: bool = False,
    n_train: int | None = None,
    n_test: int | None = None,
    **over,
):
    """Generator: train with the on-chip STDP protocol (:func:`stdp_train`), test on the split.

    ``over`` overrides :data:`STDP_DEFAULTS`. ``save`` writes the weights,
    leaks and inference params to ``assets/spiking`` with a manifest entry.
    """
    cfg = {**STDP_DEFAULTS, **over}
    unknown = set(cfg) - set(STDP_DEFAULTS)
    if unknown:
        raise ValueError(f"neurocorex-digits train: unknown setting(s) {sorted(unknown)}")
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = load_split()
    if n_train is not None:
        x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    epochs = int(cfg["epochs"])
    n_upd: list[int] = []
    gen = stdp_train(x_tr, y_tr, seed=seed, **cfg)
    while True:
        try:
            upd = next(gen)
        except StopIteration as stop:
            w, leaks = stop.value
            break
        n_upd.append(upd)
        yield Progress(len(n_upd), epochs + 1, f"epoch {len(n_upd)}: {upd} images updated")
    params = preset_params(threshold=float(cfg["threshold"]))
    ev = evaluate(w, x_te, y_te, 1, params, leaks=leaks)
    result = {
        "preset": "neurocorex-digits",
        "method": "stdp",
        "test_accuracy": ev["accuracy"],
        "confusion": ev["confusion"].tolist(),
        "n_train": int(len(y_tr)),
        "n_test": int(len(y_te)),
        "updates_per_epoch": n_upd,
        "wall_s": time.perf_counter() - t0,
        "w_ff": w.tolist(),
        "leaks": leaks.tolist(),
    }
    if save:
        save_asset(result, params, cfg, seed)
    yield Progress(epochs + 1, epochs + 1, f"test accuracy {ev['accuracy']:.3f}", value=result)
    return result


def save_asset(result: dict, params: NeuroCoreXParams, cfg: dict, seed: int) -> None:
    ASSET_DIR.mkdir(parents=True, exist_ok=True)
    ASSET.write_text(
        json.dumps({"w_ff": result["w_ff"], "leaks": result["leaks"], "params": params.to_dict()})
    )
    record_asset(
        "neurocorex_digits.json",
        what="int8 feed-forward weights (64 inputs x 10 neurons) and per-neuron leaks of the NeuroCoreX digits preset",
        command=f"python -m engines spiking train --preset neurocorex-digits --seed {seed} --save",
        method=(
            "on-chip rectangular-window STDP of the integer datapath, error-driven teacher frames "
            "(10 non-plastic teacher inputs, enable mask opened on one neuron per frame), "
            "host-set per-neuron leak = mean synaptic drive per step"
        ),
        settings=cfg,
        result=result,
        updates_per_epoch=result["updates_per_epoch"],
    )


def record_asset(
    name: str, *, what: str, command: str, method: str, settings: dict, result: dict, **metrics
) -> None:
    """Write the manifest entry of a digits asset: what it is, the command that makes it, the data split, the
    method, its settings, wall time and test accuracy (plus any further ``metrics``)."""
    manifest_path = ASSET_DIR / "manifest.json"
    manifest = load_manifest(manifest_path)
    manifest[name] = {
        "what": what,
        "command": command,
        "data": "sklearn load_digits, train_test_split(test_size=0.33, random_state=42), 32 steps per image",
        "method": method,
        "settings": settings,
        "wall_s": round(result["wall_s"], 2),
        "metrics": {
            "test_accuracy": round(result["test_accuracy"], 4),
            "n_test": result["n_test"],
            "eval_seed": 1,
            **metrics,
        },
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
