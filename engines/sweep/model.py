"""The sweep model: what to run, over which parameters and seeds, recording which metrics.

A sweep is written in a TOML file::

    [sweep]
    name = "coba-ei"              # optional (default: the file's stem)
    kind = "spiking"              # a built-in kind (see engines.sweep.kinds)
    seeds = [0, 1, 2]             # a list, or a count: seeds = 3 means 0, 1, 2
    metrics = ["rate_hz", "isi_cv"]   # optional: default every metric of the kind

    [fixed]                       # passed unchanged to every point
    duration_s = 0.5

    [grid]                        # the cartesian product of these values
    w_exc = [0.3, 0.6, 0.9]
    w_inh = { start = 2.0, stop = 10.0, num = 5 }        # linspace
    tau = { start = 1, stop = 100, num = 3, log = true }  # geomspace

    [sample]                      # random / Latin hypercube / Sobol / Halton samples
    method = "lhs"                # "random" | "lhs" | "sobol" | "halton"
    n = 16
    seed = 0
    [sample.ranges]
    p_connect = [0.01, 0.1]                       # uniform in [low, high]
    rate = { low = 1, high = 100, log = true }    # log-uniform
    n_inputs = { low = 10, high = 100, int = true }
    model = { choices = ["coba", "cuba_exp"] }

Points are the product grid x samples x seeds. Every point has a stable id, a
hash of its kind, parameters and seed, so that a re-run skips the points
already finished. Errors name the file and the field.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "RESERVED_COLUMNS",
    "SAMPLE_METHODS",
    "Point",
    "SweepError",
    "SweepSpec",
    "canonical",
    "load_sweep",
    "point_id",
    "sweep_from_dict",
    "sweep_from_text",
]

SAMPLE_METHODS = ("random", "lhs", "sobol", "halton")

#: columns of the results table that are not parameters or metrics
RESERVED_COLUMNS = (
    "point_id",
    "sweep",
    "kind",
    "seed",
    "status",
    "error",
    "elapsed_s",
    "worker",
    "finished_at",
)

_SECTIONS = ("sweep", "fixed", "grid", "sample")
_SWEEP_KEYS = ("name", "kind", "seeds", "metrics", "description")
_SAMPLE_KEYS = ("method", "n", "seed", "ranges", "scramble")
_MAX_POINTS = 5_000_000
#: largest sweep definition (bytes of TOML) read from a file or an editor
MAX_SWEEP_BYTES = 1 << 20


class SweepError(ValueError):
    """A sweep file or definition is invalid; the message names the file and the field."""


Scalar = bool | int | float | str


def _norm_value(v: Any) -> Scalar:
    """A parameter value in canonical form: Python scalars, floats to 12 significant digits."""
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"{f!r} is not a finite number")
        g = float(f"{f:.12g}")
        return 0.0 if g == 0 else g
    if isinstance(v, str):
        return v
    raise ValueError(f"{v!r} ({type(v).__name__}) is not a number, a boolean or a text")


def canonical(kind: str, params: Mapping[str, Any], seed: int) -> str:
    """The canonical JSON text of a point (sorted keys, normalised values)."""
    body = {"kind": kind, "params": {k: _norm_value(params[k]) for k in sorted(params)}, "seed": int(seed)}
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def point_id(kind: str, params: Mapping[str, Any], seed: int) -> str:
    """Stable id of a point: 16 hex digits of the SHA-1 of its canonical form."""
    return hashlib.sha1(canonical(kind, params, seed).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Point:
    """One run of a sweep: a kind, its full parameters and a seed."""

    id: str
    kind: str
    params: Mapping[str, Scalar]
    seed: int
    index: int = 0  # position in the sweep (order of submission)


@dataclass(frozen=True)
class Range:
    """How one sampled parameter maps a unit coordinate to a value."""

    name: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    integer: bool = False
    choices: tuple | None = None

    def map(self, u: np.ndarray) -> list[Scalar]:
        u = np.clip(np.asarray(u, dtype=np.float64), 0.0, np.nextafter(1.0, 0.0))
        if self.choices is not None:
            idx = np.floor(u * len(self.choices)).astype(int)
            return [self.choices[i] for i in idx]
        if self.integer:
            lo, hi = int(math.ceil(self.low)), int(math.floor(self.high))
            if self.log:  # log-uniform over [lo, hi + 1), floored
                a, b = math.log(lo), math.log(hi + 1)
                x = np.floor(np.exp(a + u * (b - a)))
            else:
                x = np.floor(lo + u * (hi - lo + 1))
            return [int(v) for v in np.clip(x, lo, hi)]
        if self.log:
            a, b = math.log(self.low), math.log(self.high)
            return [float(v) for v in np.exp(a + u * (b - a))]
        return [float(v) for v in self.low + u * (self.high - self.low)]


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep definition."""

    name: str
    kind: str
    seeds: tuple[int, ...]
    metrics: tuple[str, ...]
    fixed: Mapping[str, Scalar] = field(default_factory=dict)
    grid: Mapping[str, tuple[Scalar, ...]] = field(default_factory=dict)
    sample_method: str | None = None
    sample_n: int = 0
    sample_seed: int = 0
    sample_ranges: tuple[Range, ...] = ()
    sample_scramble: bool = True
    description: str = ""
    source: str = "<sweep>"  # the file it came from (for messages)

    # -- points ----------------------------------------------------------
    @property
    def swept(self) -> tuple[str, ...]:
        """Names of the parameters that vary (grid then sampled)."""
        return tuple(self.grid) + tuple(r.name for r in self.sample_ranges)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(self.fixed) + self.swept

    def n_points(self) -> int:
        n = len(self.seeds)
        for values in self.grid.values():
            n *= len(values)
        if self.sample_ranges:
            n *= self.sample_n
        return n

    def samples(self) -> list[dict[str, Scalar]]:
        """The sampled parameter sets (empty list of one dict when none are sampled)."""
        if not self.sample_ranges:
            return [{}]
        d = len(self.sample_ranges)
        n = self.sample_n
        method = self.sample_method or "random"
        if method == "random":
            u = np.random.default_rng(self.sample_seed).random((n, d))
        else:
            import warnings

            from scipy.stats import qmc

            if method == "lhs":
                eng = qmc.LatinHypercube(d, rng=np.random.default_rng(self.sample_seed))
            elif method == "sobol":
                eng = qmc.Sobol(d, scramble=self.sample_scramble, rng=np.random.default_rng(self.sample_seed))
            else:
                eng = qmc.Halton(
                    d, scramble=self.sample_scramble, rng=np.random.default_rng(self.sample_seed)
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Sobol's balance warning for n not a power of 2
                u = eng.random(n)
        cols = [r.map(u[:, j]) for j, r in enumerate(self.sample_ranges)]
        return [{r.name: cols[j][i] for j, r in enumerate(self.sample_ranges)} for i in range(n)]

    def points(self) -> Iterator[Point]:
        """Every point, in a stable order: grid (row-major), then samples, then seeds."""
        names = list(self.grid)
        samples = self.samples()
        k = 0
        for combo in itertools.product(*(self.grid[n] for n in names)):
            g = dict(zip(names, combo))
            for s in samples:
                params = {**self.fixed, **g, **s}
                params = {key: _norm_value(v) for key, v in params.items()}
                for seed in self.seeds:
                    yield Point(point_id(self.kind, params, seed), self.kind, params, int(seed), k)
                    k += 1

    def to_dict(self) -> dict[str, Any]:
        """A TOML-able mapping equal to the file's meaning."""
        out: dict[str, Any] = {
            "sweep": {
                "name": self.name,
                "kind": self.kind,
                "seeds": list(self.seeds),
                "metrics": list(self.metrics),
            }
        }
        if self.description:
            out["sweep"]["description"] = self.description
        if self.fixed:
            out["fixed"] = dict(self.fixed)
        if self.grid:
            out["grid"] = {k: list(v) for k, v in self.grid.items()}
        if self.sample_ranges:
            ranges = {}
            for r in self.sample_ranges:
                if r.choices is not None:
                    ranges[r.name] = {"choices": list(r.choices)}
                else:
                    ranges[r.name] = {"low": r.low, "high": r.high, "log": r.log, "int": r.integer}
            out["sample"] = {
                "method": self.sample_method,
                "n": self.sample_n,
                "seed": self.sample_seed,
                "scramble": self.sample_scramble,
                "ranges": ranges,
            }
        return out

    def to_toml(self) -> str:
        """The sweep as TOML text (read back by :func:`load_sweep`)."""
        return _dump_toml(self.to_dict())


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------


def _check_keys(src: str, section: str, table: Mapping, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SweepError(
            f"{src}: [{section}] unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )


def _grid_values(src: str, name: str, v: Any) -> tuple[Scalar, ...]:
    where = f"{src}: [grid] {name}"
    if isinstance(v, Mapping):
        allowed = ("start", "stop", "num", "log", "int")
        unknown = sorted(set(v) - set(allowed))
        if unknown:
            raise SweepError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        for key in ("start", "stop", "num"):
            if key not in v:
                raise SweepError(f"{where}: a range needs start, stop and num (missing {key})")
        start, stop, num = v["start"], v["stop"], v["num"]
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (start, stop)):
            raise SweepError(f"{where}: start and stop must be numbers")
        if not all(abs(x) <= 1e300 for x in (start, stop)):  # NaN fails too
            raise SweepError(f"{where}: start and stop must be finite numbers")
        start, stop = float(start), float(stop)
        if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= _MAX_POINTS:
            raise SweepError(f"{where}: num = {num!r} must be an integer in [1, {_MAX_POINTS}]")
        log = v.get("log", False)
        if not isinstance(log, bool):
            raise SweepError(f"{where}: log must be true or false")
        if log:
            if start <= 0 or stop <= 0:
                raise SweepError(f"{where}: a log range needs start and stop > 0")
            vals = np.geomspace(start, stop, num)
        else:
            vals = np.linspace(start, stop, num)
        if v.get("int", False):
            out = tuple(dict.fromkeys(int(round(x)) for x in vals))
        else:
            out = tuple(float(x) for x in vals)
    elif isinstance(v, list):
        if not v:
            raise SweepError(f"{where}: the list of values is empty")
        out = tuple(v)
    else:
        raise SweepError(
            f"{where} = {v!r}: expected a list of values or a range {{ start, stop, num [, log] }}"
        )
    try:
        norm = tuple(_norm_value(x) for x in out)
    except ValueError as e:
        raise SweepError(f"{where}: {e}") from None
    if len(set(map(repr, norm))) != len(norm):
        raise SweepError(f"{where}: values repeat ({list(norm)})")
    return norm


def _range(src: str, name: str, v: Any) -> Range:
    where = f"{src}: [sample.ranges] {name}"
    if isinstance(v, list):
        if len(v) != 2:
            raise SweepError(f"{where} = {v!r}: expected [low, high]")
        v = {"low": v[0], "high": v[1]}
    if not isinstance(v, Mapping):
        raise SweepError(
            f"{where} = {v!r}: expected [low, high] or {{ low, high [, log, int] }} or {{ choices }}"
        )
    allowed = ("low", "high", "log", "int", "choices")
    unknown = sorted(set(v) - set(allowed))
    if unknown:
        raise SweepError(f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    if "choices" in v:
        ch = v["choices"]
        if not isinstance(ch, list) or not ch:
            raise SweepError(f"{where}: choices must be a non-empty list")
        try:
            return Range(name, choices=tuple(_norm_value(c) for c in ch))
        except ValueError as e:
            raise SweepError(f"{where}: {e}") from None
    if "low" not in v or "high" not in v:
        raise SweepError(f"{where}: needs low and high")
    low, high = v["low"], v["high"]
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (low, high)):
        raise SweepError(f"{where}: low and high must be numbers")
    if not all(abs(x) <= 1e300 for x in (low, high)) or not low < high:  # NaN and inf fail too
        raise SweepError(f"{where}: low = {low!r} must be below high = {high!r}")
    log, integer = v.get("log", False), v.get("int", False)
    if not isinstance(log, bool) or not isinstance(integer, bool):
        raise SweepError(f"{where}: log and int must be true or false")
    if log and low <= 0:
        raise SweepError(f"{where}: a log range needs low > 0")
    if integer and math.floor(high) < math.ceil(low):
        raise SweepError(f"{where}: no integer lies in [{low}, {high}]")
    return Range(name, float(low), float(high), log, integer)


def sweep_from_dict(
    data: Mapping[str, Any], source: str = "<sweep>", default_name: str = "sweep"
) -> SweepSpec:
    """Validate a parsed TOML mapping into a :class:`SweepSpec`.

    The kind's parameters and metrics are checked against the built-in kinds
    (:mod:`engines.sweep.kinds`), and every point's parameters are validated
    before anything runs.
    """
    from engines.sweep.kinds import get_kind

    src = source
    if not isinstance(data, Mapping):
        raise SweepError(f"{src}: expected a table")
    _check_keys(src, "top level", data, _SECTIONS)
    for sec in _SECTIONS:
        if sec in data and not isinstance(data[sec], Mapping):
            raise SweepError(f"{src}: [{sec}] must be a table")
    head = data.get("sweep")
    if head is None:
        raise SweepError(f"{src}: missing the [sweep] table (with kind = ...)")
    _check_keys(src, "sweep", head, _SWEEP_KEYS)
    kind_name = head.get("kind")
    if not isinstance(kind_name, str):
        raise SweepError(f"{src}: [sweep] kind is required (a text)")
    try:
        kind = get_kind(kind_name)
    except ValueError as e:
        raise SweepError(f"{src}: [sweep] kind: {e}") from None
    name = head.get("name", default_name)
    if not isinstance(name, str) or not name:
        raise SweepError(f"{src}: [sweep] name must be a non-empty text")
    description = head.get("description", "")
    if not isinstance(description, str):
        raise SweepError(f"{src}: [sweep] description must be a text")

    seeds_v = head.get("seeds", [0])
    if isinstance(seeds_v, int) and not isinstance(seeds_v, bool):
        if not 1 <= seeds_v <= _MAX_POINTS:
            raise SweepError(f"{src}: [sweep] seeds = {seeds_v}: a count must be in [1, {_MAX_POINTS}]")
        seeds = tuple(range(seeds_v))
    elif isinstance(seeds_v, list) and seeds_v:
        if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds_v):
            raise SweepError(f"{src}: [sweep] seeds must be non-negative integers, got {seeds_v!r}")
        if len(set(seeds_v)) != len(seeds_v):
            raise SweepError(f"{src}: [sweep] seeds repeat: {seeds_v!r}")
        seeds = tuple(seeds_v)
    else:
        raise SweepError(
            f"{src}: [sweep] seeds = {seeds_v!r}: expected a count or a non-empty list of integers"
        )

    metrics_v = head.get("metrics", list(kind.metrics))
    if not isinstance(metrics_v, list) or not metrics_v or not all(isinstance(m, str) for m in metrics_v):
        raise SweepError(f"{src}: [sweep] metrics must be a non-empty list of names")
    bad = [m for m in metrics_v if m not in kind.metrics]
    if bad:
        raise SweepError(
            f"{src}: [sweep] metrics: {', '.join(bad)} not recorded by kind {kind_name!r}; "
            f"known: {', '.join(kind.metrics)}"
        )
    if len(set(metrics_v)) != len(metrics_v):
        raise SweepError(f"{src}: [sweep] metrics repeat")

    fixed_t = data.get("fixed", {})
    fixed = {}
    for k, v in fixed_t.items():
        try:
            fixed[k] = _norm_value(v)
        except ValueError as e:
            raise SweepError(f"{src}: [fixed] {k}: {e}") from None
    grid = {k: _grid_values(src, k, v) for k, v in data.get("grid", {}).items()}

    sample = data.get("sample")
    method, n, sseed, ranges, scramble = None, 0, 0, (), True
    if sample is not None:
        _check_keys(src, "sample", sample, _SAMPLE_KEYS)
        method = sample.get("method", "random")
        if method not in SAMPLE_METHODS:
            raise SweepError(
                f"{src}: [sample] method = {method!r}: allowed values are {', '.join(SAMPLE_METHODS)}"
            )
        n = sample.get("n")
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= _MAX_POINTS:
            raise SweepError(f"{src}: [sample] n = {n!r}: must be an integer in [1, {_MAX_POINTS}]")
        sseed = sample.get("seed", 0)
        if not isinstance(sseed, int) or isinstance(sseed, bool) or sseed < 0:
            raise SweepError(f"{src}: [sample] seed = {sseed!r}: must be a non-negative integer")
        scramble = sample.get("scramble", True)
        if not isinstance(scramble, bool):
            raise SweepError(f"{src}: [sample] scramble must be true or false")
        rt = sample.get("ranges")
        if not isinstance(rt, Mapping) or not rt:
            raise SweepError(f"{src}: [sample] needs a non-empty [sample.ranges] table")
        ranges = tuple(_range(src, k, v) for k, v in rt.items())

    # each name in one place only
    seen: dict[str, str] = {}
    for sec, names in (("fixed", fixed), ("grid", grid), ("sample.ranges", [r.name for r in ranges])):
        for nm in names:
            if nm in seen:
                raise SweepError(f"{src}: [{sec}] {nm}: already set in [{seen[nm]}]")
            seen[nm] = sec
    for nm, sec in seen.items():
        if nm in RESERVED_COLUMNS or nm in kind.metrics:
            raise SweepError(f"{src}: [{sec}] {nm}: this name is reserved for a column of the results")
        if nm not in kind.param_names:
            raise SweepError(
                f"{src}: [{sec}] {nm}: kind {kind_name!r} has no parameter {nm!r}; "
                f"known: {', '.join(kind.param_names)}"
            )

    spec = SweepSpec(
        name=name,
        kind=kind_name,
        seeds=seeds,
        metrics=tuple(metrics_v),
        fixed=fixed,
        grid=grid,
        sample_method=method,
        sample_n=n,
        sample_seed=sseed,
        sample_ranges=ranges,
        sample_scramble=scramble,
        description=description,
        source=src,
    )
    total = spec.n_points()
    if total > _MAX_POINTS:
        raise SweepError(f"{src}: {total} points; at most {_MAX_POINTS} in one sweep")
    # validate every distinct parameter set once (seeds do not change validity)
    checked: set[str] = set()
    for p in spec.points():
        key = canonical(p.kind, p.params, 0)
        if key in checked:
            continue
        checked.add(key)
        try:
            kind.check(dict(p.params))
        except (ValueError, TypeError) as e:
            where = ", ".join(f"{k} = {p.params[k]!r}" for k in spec.swept) or "fixed parameters"
            raise SweepError(f"{src}: point ({where}): {e}") from None
    return spec


def load_sweep(path: str | os.PathLike) -> SweepSpec:
    """Read and validate a sweep TOML file (errors name the file, line and field)."""
    from engines.serialize import read_text_bounded

    p = Path(path)
    try:
        text = read_text_bounded(p, str(p), max_bytes=MAX_SWEEP_BYTES, error=SweepError)
    except FileNotFoundError:
        raise FileNotFoundError(f"{p}: no such sweep file") from None
    return sweep_from_dict(parse_sweep_toml(text, str(p)), source=str(p), default_name=p.stem)


def sweep_from_text(text: str, source: str = "<editor>") -> SweepSpec:
    """Parse and validate the TOML text of a sweep (errors name ``source`` and the field).

    The sweep's default name is the stem of ``source`` when it is a file, else ``sweep``.
    """
    stem = Path(source).stem if not source.startswith("<") else "sweep"
    return sweep_from_dict(parse_sweep_toml(text, source), source=source, default_name=stem)


def parse_sweep_toml(text: str, source: str) -> dict[str, Any]:
    """Parse the TOML text of a sweep, bounded in size and nesting (errors name ``source``)."""
    from engines.serialize import parse_toml_bounded

    return parse_toml_bounded(text, source, max_bytes=MAX_SWEEP_BYTES, error=SweepError)


# --------------------------------------------------------------------------
# a small TOML writer for sweep files (flat tables of scalars, lists, inline tables)
# --------------------------------------------------------------------------


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        r = repr(v)
        return r if ("." in r or "e" in r or "inf" in r or "nan" in r) else r + ".0"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _toml_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _dump_toml(d: Mapping[str, Any]) -> str:
    lines: list[str] = []
    for section, table in d.items():
        sub = {k: v for k, v in table.items() if k == "ranges" and section == "sample"}
        lines.append(f"[{section}]")
        for k, v in table.items():
            if k in sub:
                continue
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in sub.items():
            lines.append("")
            lines.append(f"[{section}.{k}]")
            for name, r in v.items():
                lines.append(f"{_toml_key(name)} = {_toml_value(r)}")
        lines.append("")
    return "\n".join(lines)
