"""Built-in sweep kinds: what one point runs and which metrics it returns.

A kind is a function ``run(params: dict, seed: int) -> dict[str, float]``
living at module level (so Dask workers import it by name), the parameters it
accepts with their defaults, the metrics it returns and a ``check`` that
validates a parameter set without running it.

* ``demo``     a tiny numpy function (tests, benchmarks, trying the machinery);
* ``spiking``  a LIF network (a preset of :mod:`engines.spiking` with overrides)
               -> mean rates, ISI coefficient of variation, spike-count synchrony;
* ``routing``  an instance x solver x time limit of :mod:`engines.routing`
               -> cost, gap to the best known solution, time;
* ``geometry`` a digit network x perturbation size x noise x seed of
               :mod:`engines.geometry` -> manifold capacity, radius, dimension
               and accuracy on the perturbed images;
* ``spiking-geometry`` a spiking digit classifier (TESS or NeuroCoreX STDP)
               trained with the point's parameters -> the manifold geometry of
               its readout population's responses (:mod:`engines.spiking.geometry`).
"""

from __future__ import annotations

import importlib
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engines.base import check_cancelled
from engines.paths import shared_data

__all__ = ["Kind", "get_kind", "kind_names", "register_kind", "resolve_data_path", "unit_of"]


@dataclass(frozen=True)
class Kind:
    """One kind of sweep point."""

    name: str
    title: str
    func: str  # "module:function", imported where the point runs
    metrics: tuple[str, ...]
    defaults: Mapping[str, Any]  # every accepted parameter and its default
    docs: Mapping[str, str] = field(default_factory=dict)
    checker: Callable[[dict], None] | None = None

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.defaults)

    def check(self, params: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` naming the field when ``params`` cannot run."""
        for k, v in params.items():
            if k not in self.defaults:
                raise ValueError(f"kind {self.name!r} has no parameter {k!r}")
            d = self.defaults[k]
            if d is None:
                continue
            if isinstance(d, bool):
                ok = isinstance(v, bool)
            elif isinstance(d, int):
                ok = isinstance(v, int) and not isinstance(v, bool)
            elif isinstance(d, float):
                ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            else:
                ok = isinstance(v, type(d))
            if not ok:
                raise ValueError(f"{k} = {v!r}: expected {type(d).__name__} like the default {d!r}")
        if self.checker is not None:
            self.checker(dict(params))

    def function(self) -> Callable[[dict, int], Mapping[str, Any]]:
        mod, _, fn = self.func.partition(":")
        return getattr(importlib.import_module(mod), fn)

    def run(self, params: Mapping[str, Any], seed: int) -> dict[str, float]:
        out = self.function()(dict(params), int(seed))
        return {m: _metric(out.get(m)) for m in self.metrics}


def _metric(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f


_FACTORIES: dict[str, Callable[[], Kind]] = {}
_BUILT: dict[str, Kind] = {}


def register_kind(name: str, factory: Callable[[], Kind]) -> None:
    """Register a kind by a factory called on first use (kinds import their engine lazily)."""
    _FACTORIES[name] = factory
    _BUILT.pop(name, None)


def kind_names() -> list[str]:
    return list(_FACTORIES)


def get_kind(name: str) -> Kind:
    """The kind called ``name`` (``ValueError`` when unknown or its engine cannot be imported)."""
    if name in _BUILT:
        return _BUILT[name]
    if name not in _FACTORIES:
        raise ValueError(f"unknown kind {name!r}; known: {', '.join(_FACTORIES)}")
    try:
        kind = _FACTORIES[name]()
    except ImportError as e:
        raise ValueError(f"kind {name!r} is not available here: {e}") from None
    _BUILT[name] = kind
    return kind


#: units read from the end of a parameter's or metric's name
_SUFFIX_UNITS = {"_hz": "Hz", "_ms": "ms", "_s": "s", "_mv": "mV", "_percent": "%", "_km": "km"}


def unit_of(kind: str, name: str) -> str | None:
    """The unit of parameter or metric ``name`` of ``kind``: the ``[unit]`` that ends its doc, else
    its name's suffix (``rate_hz``: Hz, ``duration_s``: s, ``gap_percent``: %); None when it has none."""
    try:
        doc = get_kind(kind).docs.get(name, "")
    except ValueError:
        doc = ""
    doc = doc.rstrip()
    if doc.endswith("]") and "[" in doc:
        unit = doc[doc.rindex("[") + 1 : -1].strip()
        if unit:
            return unit
    low = name.lower()
    for suffix, unit in _SUFFIX_UNITS.items():
        if low.endswith(suffix) and len(low) > len(suffix):
            return unit
    return None


# --------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------


def run_demo(params: dict, seed: int) -> dict[str, float]:
    """f = sin(x) cos(y) + noise * N(0, 1); r = |(x, y)|; draw = U(0, 1) from the seed."""
    p = {**_DEMO_DEFAULTS, **params}
    if p["sleep_s"] > 0:  # in slices: a point run inside a studio job stops when the job is cancelled
        end = time.monotonic() + p["sleep_s"]
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.05))
            check_cancelled()
    if p["x"] > p["crash_above"]:  # tests of worker deaths: the process ends at once
        os._exit(3)
    if p["x"] > p["fail_above"]:
        raise ValueError(f"demo: x = {p['x']} is above fail_above = {p['fail_above']}")
    rng = np.random.default_rng(seed)
    x, y = float(p["x"]), float(p["y"])
    if p["work"] > 0:  # a little numpy work (benchmarks: CPU-bound points)
        a = rng.standard_normal((p["work"], p["work"]))
        for _ in range(4):
            a = np.tanh(a @ a.T / p["work"])
    return {
        "f": math.sin(x) * math.cos(y) + p["noise"] * rng.standard_normal(),
        "r": math.hypot(x, y),
        "draw": rng.random(),
    }


def _check_demo(p: dict) -> None:
    if p.get("sleep_s", 0.0) < 0:
        raise ValueError(f"sleep_s = {p['sleep_s']}: must be >= 0")
    if p.get("noise", 0.0) < 0:
        raise ValueError(f"noise = {p['noise']}: must be >= 0")
    if not 0 <= p.get("work", 0) <= 4000:
        raise ValueError(f"work = {p['work']}: allowed range is [0, 4000]")


_DEMO_DEFAULTS = {
    "x": 0.0,
    "y": 0.0,
    "noise": 0.0,
    "sleep_s": 0.0,
    "work": 0,
    "fail_above": 1e300,
    "crash_above": 1e300,
}

register_kind(
    "demo",
    lambda: Kind(
        name="demo",
        title="Demo function (numpy)",
        func="engines.sweep.kinds:run_demo",
        metrics=("f", "r", "draw"),
        defaults=_DEMO_DEFAULTS,
        docs={
            "x": "first coordinate",
            "y": "second coordinate",
            "noise": "std of the Gaussian noise added to f",
            "sleep_s": "seconds each point sleeps (to try the machinery)",
            "work": "size of a matrix multiplied a few times (CPU work per point)",
            "fail_above": "points with x above this raise an error",
            "crash_above": "points with x above this end their worker process (tests of worker deaths)",
        },
        checker=_check_demo,
    ),
)


# --------------------------------------------------------------------------
# spiking
# --------------------------------------------------------------------------

_SPIKING_EXTRA = {"preset": "coba", "duration_s": 0.5, "warmup_s": 0.1, "bin_ms": 5.0}


def _spiking_split(params: dict) -> tuple[dict, dict]:
    extra = {k: params.get(k, v) for k, v in _SPIKING_EXTRA.items()}
    net = {k: v for k, v in params.items() if k not in _SPIKING_EXTRA}
    return extra, net


def _check_spiking(params: dict) -> None:
    from engines.spiking.params import preset

    extra, net = _spiking_split(params)
    if not extra["duration_s"] > 0:
        raise ValueError(f"duration_s = {extra['duration_s']}: must be > 0")
    if extra["warmup_s"] < 0:
        raise ValueError(f"warmup_s = {extra['warmup_s']}: must be >= 0")
    if not extra["bin_ms"] > 0:
        raise ValueError(f"bin_ms = {extra['bin_ms']}: must be > 0")
    preset(extra["preset"], **net)  # raises ValueError naming the field


def spike_metrics(
    steps: np.ndarray, units: np.ndarray, n: int, n_exc: int, n_steps: int, dt_ms: float, bin_ms: float
):
    """Rates, mean ISI CV and spike-count synchrony of spikes ``(steps, units)`` over ``n_steps``.

    * ``isi_cv``: the coefficient of variation of the inter-spike intervals of
      each neuron with at least 3 spikes, averaged over those neurons;
    * ``synchrony``: Golomb's chi on spike counts in bins of ``bin_ms``: the
      variance of the population-mean count divided by the mean variance of
      the single-neuron counts, square-rooted (1: fully synchronous, about
      1/sqrt(N) for independent neurons).
    """
    dur_s = n_steps * dt_ms * 1e-3
    k = steps.shape[0]
    out = {
        "rate_hz": k / max(n, 1) / dur_s,
        "rate_e_hz": float(np.sum(units < n_exc)) / max(n_exc, 1) / dur_s if n_exc else 0.0,
        "rate_i_hz": float(np.sum(units >= n_exc)) / max(n - n_exc, 1) / dur_s if n > n_exc else 0.0,
        "active_fraction": float(np.unique(units).size) / max(n, 1),
        "spikes": float(k),
        "isi_cv": float("nan"),
        "synchrony": float("nan"),
    }
    if k == 0:
        return out
    order = np.lexsort((steps, units))
    u, s = units[order], steps[order].astype(np.float64)
    same = u[1:] == u[:-1]
    isi = np.diff(s)[same]
    owner = u[1:][same]
    counts = np.bincount(owner, minlength=n)
    ok = counts >= 2  # at least 3 spikes
    if ok.any():
        s1 = np.bincount(owner, weights=isi, minlength=n)
        s2 = np.bincount(owner, weights=isi * isi, minlength=n)
        c = counts[ok]
        mean = s1[ok] / c
        var = np.maximum(s2[ok] / c - mean**2, 0.0)
        out["isi_cv"] = float(np.mean(np.sqrt(var) / mean))
    bin_steps = max(1, int(round(bin_ms / dt_ms)))
    n_bins = max(1, n_steps // bin_steps)
    b = np.minimum(steps // bin_steps, n_bins - 1)
    flat = np.bincount(units * n_bins + b, minlength=n * n_bins).reshape(n, n_bins).astype(np.float64)
    pop = flat.mean(axis=0)
    var_single = flat.var(axis=1).mean()
    if var_single > 0:
        out["synchrony"] = float(math.sqrt(pop.var() / var_single))
    return out


def run_spiking(params: dict, seed: int) -> dict[str, float]:
    """Run a spiking preset with overrides; record rates, ISI CV and synchrony after a warm-up."""
    from engines.spiking.engine import SpikingEngine
    from engines.spiking.params import preset

    extra, net = _spiking_split(params)
    sp = preset(extra["preset"], **net)
    t0 = time.perf_counter()
    eng = SpikingEngine(sp, seed=seed)
    try:
        dt_s = sp.dt_ms * 1e-3
        eng.step(int(round(extra["warmup_s"] / dt_s)))
        start = eng.step_count
        n_steps = int(round(extra["duration_s"] / dt_s))
        # read the spike stream in chunks small enough never to overflow its ring buffer
        chunk = max(1, min(n_steps, 1000))
        cursor = eng.spikes.cursor
        got = []
        done = 0
        while done < n_steps:
            done += eng.step(min(chunk, n_steps - done))
            rec, cursor, dropped = eng.spikes.read_since(cursor)
            if dropped:
                raise RuntimeError(f"{dropped} spikes dropped: raise spike_buffer")
            got.append(rec)
        rec = np.concatenate(got) if got else np.zeros((0, 2), np.int64)
        rec = rec[rec[:, 1] < eng.n]
        out = spike_metrics(
            rec[:, 0] - start, rec[:, 1], eng.n, eng.n_exc, n_steps, sp.dt_ms, extra["bin_ms"]
        )
        out["synapses"] = float(eng.conn.n_synapses)
        out["wall_s"] = time.perf_counter() - t0
        return out
    finally:
        eng.close()


def _spiking_defaults() -> dict[str, Any]:
    from engines.spiking.params import SpikingParams

    d = dict(_SPIKING_EXTRA)
    for k, v in SpikingParams().to_dict().items():
        d[k] = v
    return d


def _spiking_docs() -> dict[str, str]:
    from engines.base import param_specs
    from engines.spiking.params import SpikingParams

    d = {
        "preset": "spiking preset the other parameters override (coba, cuba, small-world, stdp-poisson)",
        "duration_s": "recorded biological time [s]",
        "warmup_s": "time simulated before recording, to skip the initial transient [s]",
        "bin_ms": "bin of the spike-count synchrony measure [ms]",
    }
    for s in param_specs(SpikingParams):
        d[s.name] = s.doc + (f" [{s.unit}]" if s.unit else "")
    return d


def _spiking_kind() -> Kind:
    return Kind(
        name="spiking",
        title="Spiking network (LIF)",
        func="engines.sweep.kinds:run_spiking",
        metrics=(
            "rate_hz",
            "rate_e_hz",
            "rate_i_hz",
            "isi_cv",
            "synchrony",
            "active_fraction",
            "spikes",
            "synapses",
            "wall_s",
        ),
        defaults=_spiking_defaults(),
        docs=_spiking_docs(),
        checker=_check_spiking,
    )


register_kind("spiking", _spiking_kind)


# --------------------------------------------------------------------------
# routing
# --------------------------------------------------------------------------


def resolve_data_path(name: str, sub: str = "routing") -> Path:
    """Find a data file: absolute, relative to the working folder, ``$STUDIO_DATA``/<sub>,
    or the shared data folder next to the checkout."""
    p = Path(name).expanduser()
    if p.is_absolute():
        if p.exists():
            return p
        raise FileNotFoundError(f"{p}: no such file")
    roots = [Path.cwd()]
    env = os.environ.get("STUDIO_DATA")
    if env:
        roots += [Path(env) / sub, Path(env)]
    here = Path(__file__).resolve().parents[3]  # .../<checkout>/engines/sweep/kinds.py -> parent of checkout
    roots += [here / "shared" / "data" / sub, shared_data(sub)]
    for r in roots:
        if (r / p).exists():
            return r / p
    raise FileNotFoundError(f"{name}: not found in {', '.join(str(r) for r in roots)}")


def run_routing(params: dict, seed: int) -> dict[str, float]:
    """Solve one instance with one solver for a time limit; record cost, gap and time."""
    from engines.routing.io import load_problem
    from engines.routing.solvers import solve

    p = {**_ROUTING_DEFAULTS, **params}
    if not p["instance"]:
        raise ValueError("instance: give a routing instance file (e.g. 'cvrplib/X-n101-k25.vrp')")
    problem = load_problem(resolve_data_path(p["instance"]))
    max_it = p["max_iterations"] or None
    res = solve(problem, p["solver"], float(p["time_limit_s"]), seed, max_iterations=max_it)
    d = res.to_json(problem)
    return {
        "cost": d["cost"],
        "gap_percent": d["gap_percent"],
        "time_s": res.elapsed,
        "feasible": 1.0 if d["feasible"] else 0.0,
        "num_routes": d["num_routes"],
        "iterations": res.iterations,
        "bks": problem.bks,
        "customers": problem.n - 1,
    }


def _check_routing(p: dict) -> None:
    from engines.routing.solvers import SOLVERS

    solver = p.get("solver", "ls")
    if solver not in SOLVERS:
        raise ValueError(f"solver = {solver!r}: allowed values are {', '.join(SOLVERS)}")
    t = p.get("time_limit_s", 1.0)
    if not t > 0:
        raise ValueError(f"time_limit_s = {t}: must be > 0")
    if p.get("max_iterations", 0) < 0:
        raise ValueError(f"max_iterations = {p['max_iterations']}: must be >= 0 (0: no cap)")
    inst = p.get("instance", "")
    if not inst:
        raise ValueError("instance: required (a routing instance file, e.g. 'cvrplib/X-n101-k25.vrp')")
    try:
        resolve_data_path(inst)
    except FileNotFoundError as e:
        raise ValueError(f"instance: {e}") from None


_ROUTING_DEFAULTS = {"instance": "", "solver": "ls", "time_limit_s": 1.0, "max_iterations": 0}


def _routing_kind() -> Kind:
    importlib.import_module("engines.routing.solvers")
    return Kind(
        name="routing",
        title="Vehicle routing solvers",
        func="engines.sweep.kinds:run_routing",
        metrics=("cost", "gap_percent", "time_s", "feasible", "num_routes", "iterations", "bks", "customers"),
        defaults=_ROUTING_DEFAULTS,
        docs={
            "instance": "instance file: absolute, or relative to the working folder or the shared "
            "routing data (e.g. 'cvrplib/X-n101-k25.vrp', 'solomon/C101.txt')",
            "solver": "ls, pyvrp, neural, neural+ls or neural+pyvrp",
            "time_limit_s": "time limit of the solver [s]",
            "max_iterations": "cap on local-search iterations (0: none) for machine-independent runs",
        },
        checker=_check_routing,
    )


register_kind("routing", _routing_kind)


# --------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------

_GEOMETRY_DEFAULTS = {
    "model": "standard",
    "eps": 0.1,
    "noise_scale": 1.0,
    "layer": "fc1",
    "manifold": "exemplar",
    "attack": "pgd",
    "norm": "linf",
    "steps": 8,
    "eot": 4,
    "P": 10,
    "M": 16,
    "kappa": 0.0,
    "n_t": 100,
    "max_features": 2000,
}


def _geometry_analysis_params(params: dict, seed: int):
    from engines.geometry.params import AnalysisParams

    p = {**_GEOMETRY_DEFAULTS, **params}
    if p["model"] not in ("standard", "adversarial", "stochastic"):
        raise ValueError(f"model = {p['model']!r}: allowed values are standard, adversarial, stochastic")
    if "," in str(p["layer"]) or p["layer"] == "all":
        raise ValueError(f"layer = {p['layer']!r}: one layer per point (sweep over layers with [grid])")
    if not p["eps"] >= 0:
        raise ValueError(f"eps = {p['eps']}: must be >= 0")
    return AnalysisParams(
        models=p["model"],
        manifold=p["manifold"],
        layers=p["layer"],
        eps=repr(float(p["eps"])),
        attack=p["attack"],
        norm=p["norm"],
        steps=p["steps"],
        eot=p["eot"],
        noise_scale=float(p["noise_scale"]),
        P=p["P"],
        M=p["M"],
        kappa=float(p["kappa"]),
        n_t=p["n_t"],
        seeds=1,
        seed=int(seed),
        max_features=p["max_features"],
    )


_GEOMETRY_MODELS: dict[str, Any] = {}


def run_geometry(params: dict, seed: int) -> dict[str, float]:
    """Manifold geometry of one layer of one digit network at one perturbation size and seed."""
    from engines.base import drive_job
    from engines.geometry.analysis import analysis_job, load_models

    ap = _geometry_analysis_params(params, seed)
    kind = ap.models
    if kind not in _GEOMETRY_MODELS:  # loaded once per worker process
        _GEOMETRY_MODELS.update(load_models((kind,)))
    result, _ = drive_job(analysis_job(ap, models={kind: _GEOMETRY_MODELS[kind]}))
    row = result.rows[0]
    return {
        k: row.get(k)
        for k in (
            "capacity",
            "radius",
            "dimension",
            "center_correlation",
            "K",
            "PR",
            "EVD90",
            "accuracy",
            "N",
        )
    }


def _check_geometry(p: dict) -> None:
    from engines.geometry.train import asset_path

    ap = _geometry_analysis_params(p, 0)  # AnalysisParams names a bad field
    path = asset_path(ap.models)
    if not path.exists():
        raise ValueError(
            f"model: {path}: no trained {ap.models} network; run `python -m engines geometry train`"
        )


def _geometry_kind() -> Kind:
    importlib.import_module("engines.geometry.analysis")
    return Kind(
        name="geometry",
        title="Population geometry of digit networks",
        func="engines.sweep.kinds:run_geometry",
        metrics=(
            "capacity",
            "radius",
            "dimension",
            "accuracy",
            "center_correlation",
            "K",
            "PR",
            "EVD90",
            "N",
        ),
        defaults=_GEOMETRY_DEFAULTS,
        docs={
            "model": "standard, adversarial (PGD-trained) or stochastic (VOne-style noisy front end)",
            "eps": "perturbation size (L-inf or L2, see norm); 0: clean images",
            "noise_scale": "noise multiplier of the stochastic front end (stochastic model only)",
            "layer": "pixels, front, conv2, conv3, fc1 or logits",
            "manifold": "exemplar (M perturbations of one image per digit) or class (M images per digit)",
            "attack": "pgd, fgsm or random",
            "norm": "linf or l2",
            "steps": "PGD steps",
            "eot": "noise draws averaged per gradient for the stochastic model",
            "P": "number of manifolds (digits, 2-10)",
            "M": "points per manifold",
            "kappa": "margin of the capacity",
            "n_t": "Gaussian samples per manifold (MFTMA)",
            "max_features": "random projection of wider layers to this many features",
        },
        checker=_check_geometry,
    )


register_kind("geometry", _geometry_kind)


# --------------------------------------------------------------------------
# spiking-geometry
# --------------------------------------------------------------------------


def run_spiking_geometry(params: dict, seed: int) -> dict[str, float]:
    """Train a small spiking digit classifier, then the geometry of its readout's responses."""
    from engines.spiking.geometry import sweep_point

    return sweep_point(params, seed)


def _check_spiking_geometry(p: dict) -> None:
    from engines.spiking.geometry import check_sweep_point

    check_sweep_point(p)


def _spiking_geometry_kind() -> Kind:
    from engines.spiking.geometry import SWEEP_DEFAULTS, SWEEP_DOCS

    return Kind(
        name="spiking-geometry",
        title="Population geometry of spiking digit classifiers",
        func="engines.sweep.kinds:run_spiking_geometry",
        metrics=("capacity", "radius", "dimension", "center_correlation", "accuracy", "N"),
        defaults=SWEEP_DEFAULTS,
        docs=SWEEP_DOCS,
        checker=_check_spiking_geometry,
    )


register_kind("spiking-geometry", _spiking_geometry_kind)
