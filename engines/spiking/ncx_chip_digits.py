"""NeuroCoreX digits on the chip profile, with only what the chip offers.

The chip's own digits tutorial loads weights trained off-chip and places its 10 output neurons in
slots 4-13 (slots 0-3 cannot fire); this does the same. The chip has one leak register for all
neurons, so the per-neuron leaks the extended profile's training balances (:func:`ncx_digits.
balance_leaks`) are not available; what it does have per neuron is a threshold. The host sets each
output neuron's threshold to ``scale`` x its mean synaptic drive per step on the training images
(:func:`balance_thresholds`), ``scale`` picked on training images only. Inputs act one step after they
are sent (the chip's round), which :meth:`NeuroCoreXEngine.run_sample`'s extra step covers.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np

from engines.base import Progress
from engines.serialize import FormatError, load_json_bounded

from .ncx_digits import ASSET_DIR, T_STEPS, encode, load_asset, load_split, record_asset, template_weights
from .neurocorex import NeuroCoreXEngine, NeuroCoreXParams

FIRST_SLOT = 4  #: output neuron ``c`` is slot ``FIRST_SLOT + c``
N_SLOTS_USED = FIRST_SLOT + 10
SCALES = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def chip_params(threshold: float = 16.0, **over) -> NeuroCoreXParams:
    d = dict(
        profile="chip",
        n_neurons=N_SLOTS_USED,
        n_inputs=64,
        threshold=threshold,
        leak=0.0,
        amp_ff=1,
        refractory=0,
        step_ms=1.0,
        spike_buffer=100_000,
    )
    d.update(over)
    return NeuroCoreXParams(**d)


def to_slots(w_ff: np.ndarray) -> np.ndarray:
    """(64, 10) weights -> (64, 14): output ``c`` in slot ``4 + c``."""
    w = np.zeros((w_ff.shape[0], N_SLOTS_USED), np.int8)
    w[:, FIRST_SLOT:] = w_ff
    return w


def mean_drive(w_ff: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each output's mean feed-forward drive per step, ``(x / 16) @ w`` averaged over the images."""
    return ((np.asarray(x, np.float64) / 16.0) @ np.asarray(w_ff, np.float64)).mean(0)


def balance_thresholds(w_ff: np.ndarray, x: np.ndarray, scale: float, floor: float = 1.0) -> np.ndarray:
    """Per-output thresholds ``max(floor, scale x mean drive)``, in Q7.10 range (homeostasis by threshold)."""
    return np.clip(np.round(scale * mean_drive(w_ff, x) * 1024) / 1024, floor, 127.0)


def evaluate_chip(
    w_ff: np.ndarray, thresholds: np.ndarray | float, x: np.ndarray, y: np.ndarray, seed: int = 1
) -> dict[str, Any]:
    """Test accuracy on the chip profile: outputs in slots 4-13 with the given thresholds."""
    eng = NeuroCoreXEngine(chip_params())
    eng.set_weights(w_ff=to_slots(w_ff))
    thr = np.full(N_SLOTS_USED, 100.0)
    thr[FIRST_SLOT:] = thresholds
    eng.set_thresholds(thr)
    conf = np.zeros((10, 10), np.int64)
    for r, label in zip(encode(x, seed, T_STEPS), y):
        counts = eng.run_sample(r)[FIRST_SLOT:]
        conf[int(label), int(np.argmax(counts))] += 1
    return {"accuracy": float(np.trace(conf) / conf.sum()), "confusion": conf}


def fit_and_evaluate(
    w_ff: np.ndarray,
    x_tr,
    y_tr,
    x_te,
    y_te,
    per_neuron: bool = True,
    n_fit: int = 400,
    seed: int = 1,
    tune: int = 0,
    floor: float = 1.0,
) -> dict[str, Any]:
    """Pick the threshold scale on ``n_fit`` training images, then report the test accuracy.

    ``tune`` passes then scale single thresholds by 0.75 or 1.33 while that raises the accuracy on the
    same training images (a host-side homeostasis loop; the test images are used only at the end).

    ``per_neuron=False`` gives every output the same threshold (``scale`` x the mean drive over all
    outputs): the chip without threshold homeostasis.
    """
    x_fit, y_fit = x_tr[:n_fit], y_tr[:n_fit]
    best = None
    for s in SCALES:
        thr = balance_thresholds(w_ff, x_tr, s, floor)
        if not per_neuron:
            thr = np.full(10, float(np.clip(s * max(mean_drive(w_ff, x_tr).mean(), 0.0), floor, 127.0)))
        acc = evaluate_chip(w_ff, thr, x_fit, y_fit, seed=seed + 1)["accuracy"]
        if best is None or acc > best[0]:
            best = (acc, s, thr)
    acc, scale, thr = best
    if per_neuron and tune:
        # the host's homeostasis loop: nudge one threshold at a time while the training accuracy rises
        for _ in range(tune):
            for j in range(10):
                for f in (0.75, 1.33):
                    t = thr.copy()
                    t[j] = float(np.round(np.clip(t[j] * f, floor, 127.0) * 1024) / 1024)
                    a = evaluate_chip(w_ff, t, x_fit, y_fit, seed=seed + 1)["accuracy"]
                    if a > acc:
                        acc, thr = a, t
    ev = evaluate_chip(w_ff, thr, x_te, y_te, seed=seed)
    return {"accuracy": ev["accuracy"], "fit_accuracy": acc, "scale": scale, "thresholds": thr}


CHIP_DEFAULTS = {"threshold": 1.0, "tune": 2, "n_fit": 400}
ASSET = ASSET_DIR / "neurocorex_digits_chip.json"


def chip_job(method: str = "stdp", seed: int = 1, save: bool = False, **settings):
    """Generator: the digits on the chip profile; returns a result dict like ``ncx_digits.train_job``.

    ``method`` ``stdp``: the shipped STDP weights (trained off-chip, on the extended profile, as the
    chip's own demo uses weights trained off-chip); ``templates``: the offline int8 templates. The
    host then fits per-output thresholds (``threshold`` is the lowest it may set, ``tune`` the passes
    of the homeostasis loop, ``n_fit`` the training images it looks at). ``save`` writes the
    thresholds of the ``stdp`` weights to ``assets/spiking`` for the studio's demo.
    """
    cfg = {**CHIP_DEFAULTS, **settings}
    t0 = time.perf_counter()
    x_tr, x_te, y_tr, y_te = load_split()
    if method == "stdp":
        w = load_asset()[0]
    elif method == "templates":
        w = template_weights(x_tr, y_tr, 8.0)
    else:
        raise ValueError(f"method = {method!r}: stdp or templates")
    yield Progress(0, 2, "fitting per-neuron thresholds on training images")
    r = fit_and_evaluate(
        w, x_tr, y_tr, x_te, y_te, n_fit=int(cfg["n_fit"]), seed=seed, tune=int(cfg["tune"]),
        floor=float(cfg["threshold"]),
    )  # fmt: skip
    result = {
        "preset": "neurocorex-digits",
        "profile": "chip",
        "method": method,
        "test_accuracy": r["accuracy"],
        "fit_accuracy": r["fit_accuracy"],
        "thresholds": [float(t) for t in r["thresholds"]],
        "n_test": int(len(y_te)),
        "wall_s": time.perf_counter() - t0,
    }
    if save:
        if method != "stdp":
            raise ValueError(
                "--save on the chip profile keeps the thresholds of the shipped STDP weights only"
            )
        save_thresholds(result, cfg, seed)
    yield Progress(2, 2, f"test accuracy {r['accuracy']:.3f}", value=result)
    return result


def save_thresholds(result: dict, cfg: dict, seed: int) -> None:
    ASSET.write_text(json.dumps({"thresholds": result["thresholds"]}) + "\n")
    record_asset(
        ASSET.name,
        what="per-output thresholds (Q7.10) of the NeuroCoreX digits on the chip profile, outputs in slots 4-13",
        command=f"python -m engines spiking train --preset neurocorex-digits --profile chip --seed {seed} --save",
        method=(
            "the shipped STDP weights (neurocorex_digits.json); host homeostasis by threshold: "
            "scale x mean drive, then single thresholds x0.75 / x1.33 while the training accuracy rises"
        ),
        settings=cfg,
        result=result,
    )


def load_thresholds() -> np.ndarray:
    """The shipped chip-profile thresholds of the 10 outputs (FormatError if the file is not one)."""
    d = load_json_bounded(ASSET, allow_nonfinite=False)
    try:
        t = np.asarray(d["thresholds"], np.float64)
        if t.shape != (10,) or not np.all((t >= -128) & (t < 128)):
            raise ValueError(f"thresholds: expected 10 numbers in [-128, 128), got shape {t.shape}")
    except (KeyError, TypeError, ValueError) as e:
        raise FormatError(
            f"{ASSET}: not a NeuroCoreX chip thresholds file ({type(e).__name__}: {e})"
        ) from None
    return t
