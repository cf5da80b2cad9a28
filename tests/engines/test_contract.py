"""The engine contract, checked on every engine the packages export (what tests/engines/test_base.py checks
on the toy engine): same seed, same snapshot; state_dict round-trips through engines.serialize; snapshot
arrays are read-only; a bad parameter is refused by name; each package exports its Engine, Params and
Snapshot types from params.py / engine.py."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import typing
from pathlib import Path

import numpy as np
import pytest

from engines import ENGINE_PACKAGES, serialize
from engines.base import Engine, Params, param_specs

ROOT = Path(__file__).resolve().parents[2]
#: engine packages that hold no Engine of their own
NO_ENGINE: set[str] = set()


def exported_engines() -> list[type[Engine]]:
    out = []
    for pkg in ENGINE_PACKAGES:
        mod = importlib.import_module(f"engines.{pkg}")
        for name in getattr(mod, "__all__", ()):
            obj = getattr(mod, name)
            if isinstance(obj, type) and issubclass(obj, Engine) and obj is not Engine:
                out.append(obj)
    return out


ENGINES = exported_engines()


def standalone(cls: type[Engine]) -> bool:
    """Made from (params, seed) alone. An engine bound to something outside it (the collab session
    engine drives a live network session) is checked for its shape, not for seeded replay."""
    sig = inspect.signature(cls.__init__)
    extra = [
        p
        for p in list(sig.parameters.values())[1:]
        if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return not extra


SEEDED = [e for e in ENGINES if standalone(e)]


def type_args(cls: type[Engine]) -> tuple[type, type]:
    """(Params, Snapshot) of ``class X(Engine[P, S])``."""
    for base in getattr(cls, "__orig_bases__", ()):
        if typing.get_origin(base) is Engine:
            p, s = typing.get_args(base)
            return p, s
    raise AssertionError(
        f"{cls.__name__} does not name its types: class {cls.__name__}(Engine[Params, Snapshot])"
    )


@pytest.mark.parametrize("pkg", [p for p in ENGINE_PACKAGES if p not in NO_ENGINE])
def test_each_package_has_the_common_shape(pkg):
    folder = ROOT / "engines" / pkg
    for f in ("params.py", "engine.py", "cli.py"):
        assert (folder / f).is_file(), f"engines/{pkg}/{f} is missing"
    mod = importlib.import_module(f"engines.{pkg}")
    engines = [e for e in ENGINES if e.__module__.startswith(f"engines.{pkg}.")]
    assert engines, f"engines.{pkg}.__all__ exports no Engine subclass"
    for e in engines:
        p, s = type_args(e)
        assert p is e.params_type, (
            f"{e.__name__}: Engine[{p.__name__}, ...] but params_type {e.params_type.__name__}"
        )
        assert p.__name__ in mod.__all__ and s.__name__ in mod.__all__, (
            f"engines.{pkg} must export {p.__name__}, {s.__name__}"
        )
        assert p.__module__ == f"engines.{pkg}.params", f"{p.__name__} lives in {p.__module__}"


def _equal(a, b, where="snapshot") -> None:
    """Deep equality of snapshots (dataclasses, arrays, containers; NaN equal to NaN)."""
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        assert type(a) is type(b), where
        measured = getattr(type(a), "measured", ())  # speeds of this machine, not of the model
        for f in dataclasses.fields(a):
            if f.name in measured:
                continue
            _equal(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _equal(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _equal(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        pass
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _arrays(x, where="snapshot", seen=None):
    seen = set() if seen is None else seen
    if id(x) in seen:
        return
    seen.add(id(x))
    if isinstance(x, np.ndarray):
        yield where, x
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        for f in dataclasses.fields(x):
            yield from _arrays(getattr(x, f.name), f"{where}.{f.name}", seen)
    elif isinstance(x, dict):
        for k, v in x.items():
            yield from _arrays(v, f"{where}[{k!r}]", seen)
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x[:50]):
            yield from _arrays(v, f"{where}[{i}]", seen)


def _run(engine: Engine, n: int = 3) -> None:
    engine.reset(engine.seed)
    engine.step(n)


@pytest.fixture(params=SEEDED, ids=lambda e: e.__name__)
def engine_cls(request):
    return request.param


def test_same_seed_same_snapshot(engine_cls):
    a, b = engine_cls(seed=11), engine_cls(seed=11)
    try:
        _run(a)
        _run(b)
        _equal(a.snapshot(), b.snapshot())
    finally:
        a.close()
        b.close()


def test_snapshot_arrays_are_read_only(engine_cls):
    e = engine_cls(seed=3)
    try:
        _run(e)
        snap = e.snapshot()
        writable = [w for w, arr in _arrays(snap) if arr.flags.writeable and arr.size]
        assert not writable, f"{engine_cls.__name__}: writable arrays in its snapshot: {writable}"
    finally:
        e.close()


def test_state_dict_round_trips_through_serialize(engine_cls, tmp_path):
    a = engine_cls(seed=5)
    b = engine_cls(seed=99)
    try:
        _run(a)
        path = tmp_path / "e.state"
        serialize.save_state(path, a.state_dict(), kind=engine_cls.name)
        b.load_state_dict(serialize.load_state(path, kind=engine_cls.name))
        _equal(a.snapshot(), b.snapshot())
        a.step(2)
        b.step(2)
        _equal(a.snapshot(), b.snapshot())
    finally:
        a.close()
        b.close()


def test_a_bad_parameter_is_refused_by_name(engine_cls):
    ptype: type[Params] = engine_cls.params_type
    specs = [s for s in param_specs(ptype) if s.max is not None and s.type in (int, float) and not s.optional]
    assert specs, f"{ptype.__name__} has no bounded number to try"
    s = specs[0]
    bad = s.max + (1 if s.type is int else abs(s.max) + 1.0)
    with pytest.raises(ValueError, match=s.name):
        ptype().replace(**{s.name: s.type(bad)})
    e = engine_cls(seed=0)
    try:
        before = e.params
        with pytest.raises(TypeError, match=ptype.__name__):  # parameters of another engine
            e.set_params(_OtherParams())
        assert e.params == before
    finally:
        e.close()


@dataclasses.dataclass(frozen=True)
class _OtherParams(Params):
    pass
