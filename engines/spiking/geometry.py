"""Population geometry of the spiking digit classifiers' own responses.

For each stimulus (an 8x8 digit, rate-coded as Bernoulli spikes), the spike
counts of every population of a network in chosen time windows of the
presentation, with the class labels (:class:`Responses`). They are written as
an activations file of the geometry workbench (:func:`save_responses`, read
back by :func:`engines.geometry.io.load_activations`) and measured with the
workbench's own mean-field manifold analysis (:func:`geometry_rows`:
capacity, radius, dimension and center correlation per population and per
window; :func:`engines.geometry.mftma.manifold_analysis` does the work).

Two networks:

* TESS (:mod:`engines.spiking.tess`): populations ``input`` (the pixel
  spikes), ``hidden0``, ``hidden1``... (LIF spikes) and ``output`` (the
  leaky-integrator readout does not spike: its value in a window is the sum of
  its membrane over the window's steps, the quantity the classifier compares);
* NeuroCoreX (:mod:`engines.spiking.neurocorex`): ``input`` and ``neurons``
  (the 10 integer LIF neurons), on the bit-exact fixed-point datapath or on
  its float twin (:func:`ncx_float_counts`: the same update in float64,
  unrounded weights and leaks, no wrap-around).

Input noise (``noise``): each image's pixel spike probabilities ``x / 16``
get Gaussian noise of standard deviation ``noise`` (in units of the full
scale), drawn once per image and clipped to [0, 1].

Windows are half-open step ranges ``(start, stop)`` of the presentation
(TESS: ``TessParams.steps`` steps; NeuroCoreX: 32 input steps and one more in
which the last input can still make a neuron fire).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "GeometryProbe",
    "Responses",
    "geometry_rows",
    "measure",
    "ncx_comparison",
    "ncx_float_counts",
    "ncx_responses",
    "noisy_probabilities",
    "parse_windows",
    "probe_set",
    "record",
    "save_responses",
    "tess_responses",
]

#: the measures of one population in one window (the geometry workbench's names)
MEASURES = ("capacity", "radius", "dimension", "center_correlation")


# ---------------------------------------------------------------- stimuli and windows


def parse_windows(text: str | Sequence | None, steps: int) -> tuple[tuple[int, int], ...]:
    """Windows from ``"0:16,16:32"`` (or a list of pairs); ``None``/``"all"``: the whole presentation.

    Raises ``ValueError`` naming the window and the allowed range
    ``0 <= start < stop <= steps``.
    """
    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "all")):
        return ((0, int(steps)),)
    if isinstance(text, str):
        pairs: list[Any] = []
        for part in text.split(","):
            bits = part.strip().split(":")
            if len(bits) != 2:
                raise ValueError(f"--windows: {part.strip()!r} is not START:STOP (for example 0:16,16:32)")
            try:
                pairs.append((int(bits[0]), int(bits[1])))
            except ValueError:
                raise ValueError(f"--windows: {part.strip()!r}: START and STOP must be whole steps") from None
    else:
        pairs = list(text)
    out = []
    for a, b in pairs:
        a, b = int(a), int(b)
        if not 0 <= a < b <= steps:
            raise ValueError(f"--windows: {a}:{b} is outside 0 <= start < stop <= {steps} (steps per image)")
        out.append((a, b))
    if not out:
        raise ValueError("--windows: no window given")
    return tuple(out)


def window_name(w: tuple[int, int]) -> str:
    return f"t{w[0]}-{w[1]}"


def probe_set(
    x: np.ndarray, y: np.ndarray, classes: int = 10, per_class: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` images of each of the first ``classes`` digits (drawn with ``seed``), class-sorted."""
    if not 2 <= classes <= 10:
        raise ValueError(f"classes = {classes}: allowed range is [2, 10]")
    if per_class < 2:
        raise ValueError(f"per_class = {per_class}: at least 2 images per class")
    rng = np.random.default_rng(seed)
    idx = []
    for c in range(classes):
        pool = np.flatnonzero(y == c)
        if len(pool) < per_class:
            raise ValueError(f"per_class = {per_class}: digit {c} has only {len(pool)} images here")
        idx.append(np.sort(rng.choice(pool, per_class, replace=False)))
    i = np.concatenate(idx)
    return np.asarray(x[i], np.float64), np.asarray(y[i], np.int64)


def noisy_probabilities(x: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Pixel spike probabilities ``x / 16`` plus Gaussian noise of std ``noise``, clipped to [0, 1]."""
    if not (noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"noise = {noise}: must be a finite number >= 0")
    p = np.asarray(x, np.float64).reshape(len(x), -1) / 16.0
    if noise > 0:
        p = p + noise * rng.standard_normal(p.shape)
    return np.clip(p, 0.0, 1.0)


# ---------------------------------------------------------------- responses


@dataclass(frozen=True)
class Responses:
    """Window counts of every population: ``counts[pop]`` is (samples, windows, neurons)."""

    counts: dict[str, np.ndarray]
    labels: np.ndarray  # (samples,) int
    windows: tuple[tuple[int, int], ...]
    steps: int
    network: str = ""
    predicted: np.ndarray | None = None  # the network's class per sample (whole presentation)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def populations(self) -> tuple[str, ...]:
        return tuple(self.counts)

    def features(self, population: str, window: int = -1) -> np.ndarray:
        """(samples, neurons) counts of ``population`` in window number ``window``."""
        if population not in self.counts:
            raise ValueError(f"population {population!r}: known are {', '.join(self.counts)}")
        return self.counts[population][:, window, :]

    def manifolds(self, population: str, window: int = -1) -> list[np.ndarray]:
        f, lab = self.features(population, window), self.labels
        return [f[lab == c] for c in np.unique(lab)]

    def manifold_sets(self) -> dict[str, list[np.ndarray]]:
        """Every population in every window as ``{"<network> <population> <window>": manifolds}``
        (what the geometry workbench's ``analyse_activations`` takes)."""
        return {
            f"{self.network} {pop} {window_name(w)}": self.manifolds(pop, k)
            for pop in self.populations
            for k, w in enumerate(self.windows)
        }

    def key(self, population: str, window: int) -> str:
        return f"{population}_{window_name(self.windows[window])}"

    @property
    def accuracy(self) -> float | None:
        if self.predicted is None:
            return None
        return float(np.mean(self.predicted == self.labels))


def _window_sums(per_step: np.ndarray, windows) -> np.ndarray:
    """(steps, samples, n) -> (samples, windows, n) sums over each window's steps."""
    c = np.concatenate([np.zeros((1, *per_step.shape[1:])), np.cumsum(per_step, axis=0, dtype=np.float64)])
    return np.stack([c[b] - c[a] for a, b in windows], axis=1)


def tess_responses(
    net,
    x: np.ndarray,
    y: np.ndarray,
    windows=None,
    seed: int = 1,
    noise: float = 0.0,
    batch: int = 256,
) -> Responses:
    """Present ``x`` to a :class:`~engines.spiking.tess.TessNet` (no learning); counts per window."""
    steps = net.p.steps
    wins = parse_windows(windows, steps)
    rng = np.random.default_rng(seed)
    probs = noisy_probabilities(x, noise, rng)
    names = ["input", *[f"hidden{k}" for k in range(net.n_layers - 1)], "output"]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    pred = []
    for i in range(0, len(probs), batch):
        p = probs[i : i + batch]
        spikes = (rng.random((steps, len(p), p.shape[1])) < p[None]).astype(np.float32)
        rec: list = []
        out = net.run(spikes, record=rec)
        pred.append(out.argmax(1))
        per_layer = [spikes, *[np.stack([r[k] for r in rec]) for k in range(net.n_layers)]]
        for n, a in zip(names, per_layer):
            parts[n].append(_window_sums(a, wins))
    counts = {n: np.concatenate(v) for n, v in parts.items()}
    return Responses(
        counts,
        np.asarray(y, np.int64),
        wins,
        steps,
        network="tess",
        predicted=np.concatenate(pred),
        meta={"noise": float(noise), "seed": int(seed)},
    )


def ncx_float_counts(
    rasters: np.ndarray,
    w_ff: np.ndarray,
    params,
    leaks: np.ndarray | None = None,
    wrap: bool = False,
) -> np.ndarray:
    """The NeuroCoreX update in float64: (samples, steps + 1, neurons) spikes of the float twin.

    The step of :func:`engines.spiking.neurocorex.ncx_run` without its
    integer datapath: weights and leaks as given (not rounded to int8 /
    Q7.10), no 18-bit wrap-around, no lateral synapses (the digits preset has
    none); ``u = v + bias``; fire when ``u >= threshold`` and not refractory;
    then ``v = reset`` or ``u - leak + amp_ff * sum of the weights of this
    step's input spikes``. ``wrap``: wrap the membrane into [-128, 128) as
    the chip's 18-bit Q7.10 adder does (with integer weights and Q7.10 leaks
    this reproduces the chip exactly; the tests check it). The shipped digits
    network drives losing neurons far below -128, where the chip's membrane
    wraps to large positive values and fires: the float twin does not.
    """
    r = np.asarray(rasters, np.float64)
    n_s, steps, n_in = r.shape
    w = np.asarray(w_ff, np.float64)
    n = w.shape[1]
    leak = np.full(n, float(params.leak)) if leaks is None else np.asarray(leaks, np.float64)
    v = np.zeros((n_s, n))
    ref = np.zeros((n_s, n), np.int64)
    out = np.zeros((n_s, steps + 1, n), np.float32)
    syn_all = np.einsum("stk,kn->stn", r, w) * float(params.amp_ff)
    for t in range(steps + 1):
        syn = syn_all[:, t] if t < steps else 0.0
        u = _wrap(v + float(params.bias), wrap)
        fired = (u >= float(params.threshold)) & (ref == 0)
        v = np.where(fired, float(params.v_reset), _wrap(u - leak + syn, wrap))
        ref = np.where(fired, 1, np.where((ref >= 1) & (ref < params.refractory), ref + 1, 0))
        out[:, t] = fired
    return out


def _wrap(v: np.ndarray, on: bool) -> np.ndarray:
    return (v + 128.0) % 256.0 - 128.0 if on else v


def ncx_responses(
    w_ff: np.ndarray,
    params,
    leaks: np.ndarray | None,
    x: np.ndarray,
    y: np.ndarray,
    windows=None,
    seed: int = 1,
    noise: float = 0.0,
    datapath: str = "fixed",
) -> Responses:
    """Present ``x`` to the NeuroCoreX digits network; ``datapath`` "fixed" (integer) or "float" (twin).

    ``w_ff`` (64, 10) may hold floats: the fixed-point network rounds them to
    int8 (clipped to [-128, 127]) and its leak registers round the leaks to
    Q7.10; the float twin uses them as they are.
    """
    from .ncx_digits import T_STEPS
    from .neurocorex import NeuroCoreXEngine

    if datapath not in ("fixed", "float"):
        raise ValueError(f"datapath = {datapath!r}: allowed values are fixed, float")
    steps = T_STEPS + 1
    wins = parse_windows(windows, steps)
    rng = np.random.default_rng(seed)
    probs = noisy_probabilities(x, noise, rng)
    rasters = rng.random((len(probs), T_STEPS, probs.shape[1])) < probs[:, None, :]
    w = np.asarray(w_ff, np.float64)
    if datapath == "float":
        spk = ncx_float_counts(rasters, w, params, leaks)
    else:
        eng = NeuroCoreXEngine(params)
        eng.set_weights(w_ff=np.clip(np.round(w), -128, 127).astype(np.int8))
        if leaks is not None:
            eng.set_leaks(np.round(np.asarray(leaks, np.float64) * 1024) / 1024)
        spk = np.zeros((len(rasters), steps, params.n_neurons), np.float32)
        for i, r in enumerate(rasters):
            c0, start = eng.spikes.cursor, eng.step_count
            eng.run_sample(r)
            ev = eng.spikes.read_since(c0)[0]
            ev = ev[ev[:, 1] < params.n_neurons]
            spk[i, ev[:, 0] - start, ev[:, 1]] = 1
    inp = np.concatenate([rasters, np.zeros((len(rasters), 1, rasters.shape[2]), bool)], axis=1)
    counts = {
        "input": _window_sums(np.moveaxis(inp.astype(np.float32), 1, 0), wins),
        "neurons": _window_sums(np.moveaxis(spk, 1, 0), wins),
    }
    total = spk.sum(1)
    return Responses(
        counts,
        np.asarray(y, np.int64),
        wins,
        steps,
        network=f"neurocorex-{datapath}",
        predicted=total.argmax(1),
        meta={"noise": float(noise), "seed": int(seed), "datapath": datapath},
    )


#: the networks :func:`record` presents digits to
RECORD_PRESETS = ("tess-digits", "neurocorex-digits")


def record(
    preset: str = "tess-digits",
    windows=None,
    classes: int = 10,
    per_class: int = 20,
    noise: float = 0.0,
    seed: int = 1,
    datapath: str = "fixed",
    tess_state: dict | None = None,
) -> Responses:
    """Responses of a shipped network (or of ``tess_state``, TESS weights) to test digits.

    ``per_class`` test images of each of the first ``classes`` digits (the
    split of the training presets), rate-coded with ``seed``, with input
    ``noise``; ``datapath`` picks NeuroCoreX's integer network or its float
    twin. Bad values raise ``ValueError`` naming the argument.
    """
    from .ncx_digits import load_split

    if preset not in RECORD_PRESETS:
        raise ValueError(f"preset {preset!r}: available are {', '.join(RECORD_PRESETS)}")
    _, x_te, _, y_te = load_split()
    x, y = probe_set(x_te, y_te, classes, per_class, seed)
    if preset == "tess-digits":
        from . import tess

        if tess_state is not None:
            net = tess.TessNet(tess.TessParams.from_dict(tess_state["params"]))
            net.load(tess_state["weights"])
        else:
            net = tess.load_asset()
        return tess_responses(net, x, y, windows, seed=seed, noise=noise)
    from .ncx_digits import load_asset

    w, params, leaks = load_asset()
    return ncx_responses(w, params, leaks, x, y, windows, seed=seed, noise=noise, datapath=datapath)


def ncx_comparison(
    noises: Sequence[float] = (0.0, 0.25, 0.5),
    seeds: Sequence[int] = (1, 2),
    classes: int = 10,
    per_class: int = 20,
    n_t: int = 80,
    windows=None,
) -> list[dict[str, Any]]:
    """The shipped NeuroCoreX digits network on its integer datapath and on its float twin, per input
    noise level and rate-code seed: the neurons' geometry in each window, accuracy and spike count."""
    from .ncx_digits import load_asset, load_split

    w, params, leaks = load_asset()
    _, x_te, _, y_te = load_split()
    x, y = probe_set(x_te, y_te, classes, per_class, 0)
    rows = []
    for noise in noises:
        for datapath in ("fixed", "float"):
            for seed in seeds:
                resp = ncx_responses(w, params, leaks, x, y, windows, seed, noise, datapath)
                for row in geometry_rows(resp, ["neurons"], n_t=n_t, seed=0):
                    row.update(
                        datapath=datapath,
                        seed=int(seed),
                        accuracy=resp.accuracy,
                        spikes=int(resp.counts["neurons"].sum()),
                    )
                    rows.append(row)
    return rows


#: the parameters of one point of the ``spiking-geometry`` sweep kind, and their defaults
SWEEP_DEFAULTS: dict[str, Any] = {
    "network": "tess",
    "lr": 0.3,
    "beta": 0.9,
    "init_gain": 2.0,
    "hidden": 32,
    "steps": 16,
    "threshold": 16.0,
    "k_hi": 10,
    "leak_scale": 1.0,
    "datapath": "fixed",
    "epochs": 1,
    "n_train": 300,
    "noise": 0.0,
    "population": "",
    "classes": 10,
    "per_class": 10,
    "n_t": 80,
    "kappa": 0.0,
}

SWEEP_DOCS = {
    "network": "tess (feed-forward LIF, local TESS rule) or neurocorex (integer LIF, on-chip STDP)",
    "lr": "tess: learning rate of the local rule",
    "beta": "tess: membrane and eligibility decay per step",
    "init_gain": "tess: initial weight scale (x 1/sqrt(fan-in))",
    "hidden": "tess: neurons of the one hidden LIF layer",
    "steps": "tess: time steps per image",
    "threshold": "neurocorex: spike threshold (0-32)",
    "k_hi": "neurocorex: STDP potentiates the target neuron while its count is below this",
    "leak_scale": "neurocorex: E/I balance, each neuron's leak = leak_scale x its mean excitatory drive",
    "datapath": "neurocorex: fixed (the integer chip) or float (its float twin)",
    "epochs": "passes over the training images",
    "n_train": "training images (the first n of the split)",
    "noise": "std of the Gaussian pixel noise of the test stimuli (full scale 1)",
    "population": "measured population ('': the readout: tess output, neurocorex neurons)",
    "classes": "digits measured (2-10)",
    "per_class": "test images per digit",
    "n_t": "Gaussian samples per manifold (MFTMA)",
    "kappa": "margin of the capacity",
}


def check_sweep_point(params: dict) -> dict[str, Any]:
    """All the parameters of a point (defaults filled in); ``ValueError`` naming a bad one."""
    p = {**SWEEP_DEFAULTS, **params}
    if p["network"] not in ("tess", "neurocorex"):
        raise ValueError(f"network = {p['network']!r}: allowed values are tess, neurocorex")
    if p["datapath"] not in ("fixed", "float"):
        raise ValueError(f"datapath = {p['datapath']!r}: allowed values are fixed, float")
    for name, lo, hi in (("classes", 2, 10), ("per_class", 2, 50), ("epochs", 1, 50), ("n_train", 10, 1203)):
        if not lo <= p[name] <= hi:
            raise ValueError(f"{name} = {p[name]}: allowed range is [{lo}, {hi}]")
    if not (0 <= p["noise"] < math.inf):
        raise ValueError(f"noise = {p['noise']}: must be a finite number >= 0")
    if not 0 < p["threshold"] < 32:
        raise ValueError(f"threshold = {p['threshold']}: allowed range is (0, 32)")
    if not 10 <= p["n_t"] <= 2000:
        raise ValueError(f"n_t = {p['n_t']}: allowed range is [10, 2000]")
    if p["network"] == "tess":
        _tess_params(p)  # TessParams names a bad field
    return p


def _tess_params(p: dict):
    from .tess import TessParams

    return TessParams(
        hidden=(int(p["hidden"]),),
        steps=int(p["steps"]),
        epochs=int(p["epochs"]),
        batch=10,
        lr=float(p["lr"]),
        beta=float(p["beta"]),
        init_gain=float(p["init_gain"]),
        n_train=int(p["n_train"]),
    )


def sweep_point(params: dict, seed: int) -> dict[str, Any]:
    """Train a small network with ``params`` and seed, then measure one population's geometry.

    Returns capacity, radius, dimension, center_correlation, the accuracy on
    the measured test images and N (neurons of the population).
    """
    from .ncx_digits import load_split

    p = check_sweep_point(params)
    x_tr, x_te, y_tr, y_te = load_split()
    x, y = probe_set(x_te, y_te, p["classes"], p["per_class"], seed)
    if p["network"] == "tess":
        from engines.base import drive_job

        from .tess import TessNet, train_job

        result, _ = drive_job(train_job(_tess_params(p), seed=seed))
        state = result["state"]
        net = TessNet(_tess_params(p))
        net.load(state["weights"])
        resp = tess_responses(net, x, y, None, seed=seed + 1, noise=p["noise"])
        pop = p["population"] or "output"
    else:
        from .ncx_digits import preset_params, stdp_train

        n = int(p["n_train"])
        gen = stdp_train(
            x_tr[:n],
            y_tr[:n],
            epochs=int(p["epochs"]),
            threshold=float(p["threshold"]),
            k_hi=int(p["k_hi"]),
            seed=seed,
            leak_scale=float(p["leak_scale"]),
        )
        while True:
            try:
                next(gen)
            except StopIteration as stop:
                w, leaks = stop.value
                break
        params_ = preset_params(threshold=float(p["threshold"]))
        resp = ncx_responses(w, params_, leaks, x, y, None, seed + 1, p["noise"], p["datapath"])
        pop = p["population"] or "neurons"
    geo = measure(resp.manifolds(pop), float(p["kappa"]), int(p["n_t"]), seed)
    return {**geo, "accuracy": resp.accuracy, "N": int(resp.counts[pop].shape[2])}


# ---------------------------------------------------------------- files


def save_responses(resp: Responses, path: str | Path, default: str | None = None) -> list[str]:
    """Write an activations file of the geometry workbench (``.npz``); returns the feature keys.

    It holds ``features`` (the ``default`` population, last hidden layer for
    TESS, the neurons for NeuroCoreX, over the last window) and ``labels``,
    which :func:`engines.geometry.io.load_activations` reads by default; one
    array ``<population>_t<start>-<stop>`` per population and window (read
    with ``--features KEY``); and ``populations``, ``windows`` (steps),
    ``network``, ``predicted``.
    """
    from engines.files import atomic_output

    default = default or default_population(resp)
    arrays: dict[str, np.ndarray] = {
        "features": resp.features(default, -1).astype(np.float32),
        "labels": resp.labels,
    }
    keys = []
    for pop in resp.populations:
        for k in range(len(resp.windows)):
            arrays[resp.key(pop, k)] = resp.features(pop, k).astype(np.float32)
            keys.append(resp.key(pop, k))
    arrays["populations"] = np.array(resp.populations)
    arrays["windows"] = np.array(resp.windows, np.int64)
    arrays["network"] = np.array(resp.network)
    arrays["default_population"] = np.array(default)
    if resp.predicted is not None:
        arrays["predicted"] = np.asarray(resp.predicted, np.int64)
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return keys


def default_population(resp: Responses) -> str:
    """The population the readout reads: TESS's last hidden layer, NeuroCoreX's neurons."""
    hidden = [p for p in resp.populations if p.startswith("hidden")]
    if hidden:
        return hidden[-1]
    return "neurons" if "neurons" in resp.counts else resp.populations[-1]


# ---------------------------------------------------------------- geometry


def measure(
    manifolds: list[np.ndarray], kappa: float = 0.0, n_t: int = 100, seed: int = 0
) -> dict[str, float]:
    """Capacity, radius, dimension and center correlation of ``manifolds`` (the workbench's MFTMA).

    The same numbers as the geometry workbench gives for the same arrays,
    kappa, n_t and seed. A population silent for every stimulus has no
    geometry: capacity 0 (MFTMA is undefined there).
    """
    from engines.geometry.mftma import manifold_analysis

    allx = np.concatenate(manifolds)
    n_live = int((allx.std(0) > 0).sum())
    if n_live == 0:
        nan = float("nan")
        return {"capacity": 0.0, "radius": nan, "dimension": nan, "center_correlation": nan, "N_live": 0}
    res = manifold_analysis(manifolds, kappa=kappa, n_t=n_t, seed=seed, threads=1)
    return {
        "capacity": res.capacity_mean,
        "radius": res.radius_mean,
        "dimension": res.dimension_mean,
        "center_correlation": float(res.center_correlation),
        "N_live": n_live,
    }


def geometry_rows(
    resp: Responses,
    populations: Iterable[str] | None = None,
    kappa: float = 0.0,
    n_t: int = 100,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per population and window: the geometry workbench's measures and the sizes."""
    rows = []
    for pop in populations or resp.populations:
        for k, w in enumerate(resp.windows):
            mans = resp.manifolds(pop, k)
            row = {
                "network": resp.network,
                "population": pop,
                "window": window_name(w),
                **measure(mans, kappa, n_t, seed),
                "P": len(mans),
                "M": int(min(len(m) for m in mans)),
                "N": int(mans[0].shape[1]),
                "noise": resp.meta.get("noise", 0.0),
            }
            rows.append(row)
    return rows


@dataclass(frozen=True)
class GeometryProbe:
    """What the live geometry during training measures, every ``every`` training steps (batches)."""

    every: int = 10
    classes: int = 10
    per_class: int = 10
    population: str = "output"  # the trained readout; or "hidden0"... ("": the last hidden layer)
    n_t: int = 60
    kappa: float = 0.0
    seed: int = 0
    noise: float = 0.0

    def __post_init__(self):
        if self.every < 1:
            raise ValueError(f"GeometryProbe.every = {self.every}: at least 1 training step")
        if not 2 <= self.classes <= 10:
            raise ValueError(f"GeometryProbe.classes = {self.classes}: allowed range is [2, 10]")
        if self.per_class < 2:
            raise ValueError(f"GeometryProbe.per_class = {self.per_class}: at least 2")

    def stimuli(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return probe_set(x, y, self.classes, self.per_class, self.seed)

    def point(self, net, x: np.ndarray, y: np.ndarray, step: int) -> dict[str, Any]:
        """The geometry of the probed population now, and the network's accuracy on the probe images."""
        resp = tess_responses(net, x, y, None, seed=self.seed + 1, noise=self.noise)
        pop = self.population or default_population(resp)
        geo = measure(resp.manifolds(pop), self.kappa, self.n_t, self.seed)
        return {"step": int(step), "population": pop, **geo, "probe_accuracy": resp.accuracy}
