"""The engine contract shared by every workbench.

An engine is a plain Python object that owns its state and knows nothing of
screens. It is driven by a runner (``studio.runner``) from one worker thread,
or directly from scripts and tests.

* Parameters are frozen dataclasses deriving from :class:`Params`; every field
  is declared with :func:`param`, which carries its unit, allowed range,
  choices and a one-line description. Construction validates every field and
  raises :class:`ValueError` naming the field and its allowed range.
* :class:`Engine` defines ``reset(seed)``, ``step(n)``, ``snapshot()``,
  ``set_params(p)``, ``state_dict()``, ``load_state_dict(d)`` and ``close()``.
* ``snapshot()`` returns an immutable record of *copied* arrays
  (see :func:`frozen_array`).
* Event streams that must not lose events go through :class:`RingBuffer`, read
  with a cursor: ``read_since(cursor)``.
* Long one-shot jobs are generators yielding :class:`Progress`; the caller may
  stop them between yields with ``gen.close()`` (see :func:`drive_job`).
  Work that runs long between two yields (a numba kernel over many chunks, an
  attack's gradient steps) calls :func:`check_cancelled` between chunks: inside
  a :func:`cancel_scope` whose event is set it raises :class:`Cancelled`, so a
  runner can stop a job within a fraction of a second.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import math
import threading
import types
import typing
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np

__all__ = [
    "Cancelled",
    "Engine",
    "EngineError",
    "Job",
    "Params",
    "Progress",
    "RingBuffer",
    "StateError",
    "cancel_scope",
    "check_cancelled",
    "drive_job",
    "frozen_array",
    "param",
    "param_specs",
    "ParamSpec",
]


class EngineError(RuntimeError):
    """An engine could not do what was asked (blow-up, bad state...)."""


class StateError(ValueError):
    """A state dict does not fit this engine (other shape, other kind...)."""


#: what a state loader raises on a state that does not fit (wrapped as StateError)
_STATE_MISFITS = (KeyError, TypeError, ValueError, OverflowError, IndexError, AttributeError)


def load_all_or_nothing(
    load: Callable[[Mapping[str, Any]], None], backup: Mapping[str, Any], d: Any, what: str
) -> None:
    """``load(d)``; if it fails, ``load(backup)`` puts the engine back as it was, and a state that does
    not fit is reported as a :class:`StateError` naming ``what`` (other errors pass through)."""
    try:
        load(d)
    except Exception as e:
        load(backup)
        if isinstance(e, StateError):
            raise
        if isinstance(e, _STATE_MISFITS):
            raise StateError(f"{what}: {type(e).__name__}: {e}") from None
        raise


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    """What a form needs to know about one parameter field."""

    name: str
    type: type
    default: Any
    unit: str = ""
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    step: float | None = None
    advanced: bool = False
    optional: bool = False  # None is allowed

    @property
    def label(self) -> str:
        """``tau_m_ms`` with unit ``ms`` reads ``tau m [ms]``: the unit is not said twice."""
        name = self.name
        if self.unit:
            suffix = "_" + self.unit.replace("/", "_per_").replace(" ", "_")
            if name.lower().endswith(suffix.lower()) and len(name) > len(suffix):
                name = name[: -len(suffix)]
        base = name.replace("_", " ")
        return f"{base} [{self.unit}]" if self.unit else base

    def range_text(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"[{lo}, {hi}]"


def param(
    default: Any,
    *,
    unit: str = "",
    doc: str = "",
    min: float | None = None,  # noqa: A002 - mirrors the field vocabulary
    max: float | None = None,  # noqa: A002
    choices: tuple | list | None = None,
    step: float | None = None,
    advanced: bool = False,
) -> Any:
    """Declare a parameter field with its unit, range and description."""
    meta = {
        "unit": unit,
        "doc": doc,
        "min": min,
        "max": max,
        "choices": tuple(choices) if choices is not None else None,
        "step": step,
        "advanced": advanced,
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("mutable parameter defaults are not allowed; use a tuple")
    return dataclasses.field(default=default, metadata=meta)


def _resolve_type(cls: type, f: dataclasses.Field) -> Any:
    hints = typing.get_type_hints(cls)
    return hints.get(f.name, f.type)


def _scalar_type(tp: Any) -> tuple[type, bool]:
    """Return (base type, optional) for an annotation like ``float | None``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        if len(args) == 1:
            return _scalar_type(args[0])[0], optional
        return object, optional
    if origin is tuple:
        return tuple, False
    if isinstance(tp, type):
        return tp, False
    return object, False


def param_specs(cls_or_obj: Any) -> list[ParamSpec]:
    """The :class:`ParamSpec` of each field of a parameter dataclass."""
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    specs = []
    for f in dataclasses.fields(cls):
        tp, optional = _scalar_type(_resolve_type(cls, f))
        m = f.metadata
        specs.append(
            ParamSpec(
                name=f.name,
                type=tp,
                default=f.default,
                unit=m.get("unit", ""),
                doc=m.get("doc", ""),
                min=m.get("min"),
                max=m.get("max"),
                choices=m.get("choices"),
                step=m.get("step"),
                advanced=m.get("advanced", False),
                optional=optional,
            )
        )
    return specs


@dataclass(frozen=True)
class Params:
    """Base of every engine's parameters: frozen and validated.

    Subclasses are declared with ``@dataclass(frozen=True)`` and fields made
    with :func:`param`. A subclass may add cross-field checks in
    ``validate(self)``, raising ``ValueError`` that names the fields.
    """

    def __post_init__(self) -> None:
        cls = type(self)
        for f in dataclasses.fields(cls):
            value = getattr(self, f.name)
            tp, optional = _scalar_type(_resolve_type(cls, f))
            if value is None:
                if optional:
                    continue
                raise ValueError(f"{cls.__name__}.{f.name}: a value is required")
            value = _coerce(cls.__name__, f.name, value, tp)
            object.__setattr__(self, f.name, value)
            m = f.metadata
            choices = m.get("choices")
            if choices is not None and value not in choices:
                raise ValueError(
                    f"{cls.__name__}.{f.name} = {value!r}: allowed values are "
                    + ", ".join(repr(c) for c in choices)
                )
            lo, hi = m.get("min"), m.get("max")
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{cls.__name__}.{f.name} = {value!r}: must be a finite number")
                if (lo is not None and value < lo) or (hi is not None and value > hi):
                    spec = ParamSpec(f.name, tp, f.default, min=lo, max=hi)
                    unit = m.get("unit", "")
                    raise ValueError(
                        f"{cls.__name__}.{f.name} = {value!r}{(' ' + unit) if unit else ''}: "
                        f"allowed range is {spec.range_text()}"
                    )
        self.validate()

    def validate(self) -> None:  # pragma: no cover - default does nothing
        """Cross-field checks; override and raise ``ValueError``."""

    # -- convenience -----------------------------------------------------
    def replace(self, **changes: Any):
        """A copy with some fields changed (validated)."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            out[f.name] = list(v) if isinstance(v, tuple) else v
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, strict: bool = True):
        """Build from a mapping; unknown keys raise ``ValueError`` when strict."""
        if not isinstance(d, Mapping):
            raise ValueError(f"{cls.__name__}: parameters must be a mapping, got {type(d).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown and strict:
            raise ValueError(f"{cls.__name__}: unknown parameter(s) {', '.join(unknown)}")
        kwargs = {k: v for k, v in d.items() if k in names}
        return cls(**kwargs)


def _coerce(owner: str, name: str, value: Any, tp: type) -> Any:
    where = f"{owner}.{name}"
    if tp is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise ValueError(f"{where} = {value!r}: must be true or false")
    if tp is int:
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{where} = {value!r}: must be an integer")
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise ValueError(f"{where} = {value!r}: must be an integer")
    if tp is float:
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{where} = {value!r}: must be a number")
        if isinstance(value, (int, float, np.integer, np.floating)):
            try:
                return float(value)
            except OverflowError:  # an integer beyond the float range
                raise ValueError(f"{where} = {value}: must be a finite number") from None
        raise ValueError(f"{where} = {value!r}: must be a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"{where} = {value!r}: must be text")
    if tp is tuple:
        if isinstance(value, (list, tuple, np.ndarray)):
            return tuple(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else tuple(value)
        raise ValueError(f"{where} = {value!r}: must be a list")
    return value


# --------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------


def frozen_array(a: Any, dtype: Any = None) -> np.ndarray:
    """A read-only *copy* of ``a`` for a snapshot."""
    out = np.array(a, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


# --------------------------------------------------------------------------
# Ring buffer with cursor
# --------------------------------------------------------------------------


class RingBuffer:
    """A bounded buffer of fixed-shape records, read by cursor.

    ``cursor`` counts every record ever appended. ``read_since(k)`` returns the
    records with index >= k still held, the new cursor, and how many records
    between k and the oldest held one were dropped because the buffer wrapped.
    Writers and readers may live on different threads.
    """

    def __init__(self, capacity: int, dtype: Any = np.float64, shape: tuple[int, ...] = ()):
        if capacity <= 0:
            raise ValueError(f"RingBuffer.capacity = {capacity}: must be > 0")
        self.capacity = int(capacity)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(shape)
        self._data = np.zeros((self.capacity, *self.shape), dtype=self.dtype)
        self._total = 0
        self._lock = threading.Lock()

    @property
    def cursor(self) -> int:
        return self._total

    def __len__(self) -> int:
        return min(self._total, self.capacity)

    def clear(self) -> None:
        with self._lock:
            self._total = 0

    def append(self, records: Any) -> None:
        """Append one record or an array of records (first axis)."""
        arr = np.asarray(records, dtype=self.dtype)
        if arr.shape == self.shape:
            arr = arr[None]
        if arr.shape[1:] != self.shape:
            raise ValueError(f"RingBuffer: records of shape {arr.shape[1:]} do not fit {self.shape}")
        n = arr.shape[0]
        if n == 0:
            return
        with self._lock:
            if n >= self.capacity:
                arr = arr[-self.capacity :]
                start = (self._total + n - self.capacity) % self.capacity
                m = self.capacity
            else:
                start = self._total % self.capacity
                m = n
            end = start + m
            if end <= self.capacity:
                self._data[start:end] = arr
            else:
                k = self.capacity - start
                self._data[start:] = arr[:k]
                self._data[: end - self.capacity] = arr[k:]
            self._total += n

    def read_since(self, cursor: int) -> tuple[np.ndarray, int, int]:
        """(records since ``cursor``, new cursor, number dropped)."""
        with self._lock:
            total = self._total
            oldest = max(0, total - self.capacity)
            cursor = max(0, min(int(cursor), total))
            dropped = max(0, oldest - cursor)
            first = max(cursor, oldest)
            n = total - first
            if n == 0:
                return np.zeros((0, *self.shape), self.dtype), total, dropped
            start = first % self.capacity
            idx = (start + np.arange(n)) % self.capacity
            return self._data[idx].copy(), total, dropped

    def latest(self, n: int) -> np.ndarray:
        """The last ``n`` records (fewer if fewer are held)."""
        data, _, _ = self.read_since(max(0, self._total - n))
        return data

    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "capacity": self.capacity,
                "total": self._total,
                "data": self._data.copy(),
            }

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        raw = np.asarray(d["data"])
        if raw.dtype.kind not in "biuf":
            raise StateError(f"RingBuffer: saved buffer is not numeric ({raw.dtype})")
        data = raw.astype(self.dtype)
        if data.shape != self._data.shape:
            raise StateError(f"RingBuffer: saved buffer has shape {data.shape}, this one {self._data.shape}")
        total = d["total"]
        if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or not 0 <= total < 2**62:
            raise StateError(f"RingBuffer: saved total {str(total)[:40]} is not a count")
        with self._lock:
            self._data[...] = data
            self._total = int(total)


# --------------------------------------------------------------------------
# Long jobs
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """One step of a long job: ``done`` of ``total`` (total may be None)."""

    done: float
    total: float | None = None
    message: str = ""
    value: Any = None  # optional partial result (e.g. current best, loss curve)

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


Job = Generator[Progress, None, Any]


class Cancelled(BaseException):
    """Raised by :func:`check_cancelled` inside a job whose runner asked it to stop.

    A ``BaseException`` (like ``GeneratorExit``), so that the ``except Exception``
    blocks of engine code let it through; the job's ``finally`` blocks run.
    """


_cancel = threading.local()


@contextlib.contextmanager
def cancel_scope(*events: threading.Event) -> Iterator[None]:
    """While the block runs in this thread, :func:`check_cancelled` raises once any of ``events`` is set."""
    before = getattr(_cancel, "events", ())
    _cancel.events = before + tuple(events)
    try:
        yield
    finally:
        _cancel.events = before


def check_cancelled() -> None:
    """A cancellation point for long work between two yields (cheap: call it between chunks).

    Raises :class:`Cancelled` inside a :func:`cancel_scope` whose event is set;
    does nothing elsewhere (scripts, tests, other threads).
    """
    for ev in getattr(_cancel, "events", ()):
        if ev.is_set():
            raise Cancelled()


def drive_job(
    job: Job,
    on_progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[Any, bool]:
    """Run a job generator to its end; return (result, completed).

    The job is stopped between yields when ``should_stop()`` turns true; its
    ``finally`` blocks then run (``gen.close()``). The result is the value the
    generator returned, or the last progress ``value`` when stopped.
    """
    last: Progress | None = None
    try:
        while True:
            if should_stop is not None and should_stop():
                job.close()
                return (last.value if last else None), False
            try:
                last = next(job)
            except StopIteration as stop:
                return stop.value, True
            if on_progress is not None:
                on_progress(last)
    finally:
        job.close()


# --------------------------------------------------------------------------
# Engine
# --------------------------------------------------------------------------


P = TypeVar("P", bound=Params)
S = TypeVar("S")


class Engine(abc.ABC, Generic[P, S]):
    """Base class of every engine, generic over its parameters ``P`` and snapshot ``S``.

    Subclasses name both, ``class SpikingEngine(Engine[SpikingParams, SpikingSnapshot])``,
    set ``params_type`` (the same :class:`Params` subclass), ``name`` and
    ``title``, and implement ``reset``, ``step``, ``snapshot``, ``state_dict``
    and ``load_state_dict``. ``step(n)`` advances by ``n`` units of
    ``step_unit`` and returns how many it did. Engines log through
    ``self.log(text)``; messages are kept in a bounded list read by cursor.
    """

    params_type: ClassVar[type[Params]] = Params
    name: ClassVar[str] = "engine"
    title: ClassVar[str] = "Engine"
    step_unit: ClassVar[str] = "steps"
    #: a sensible number of steps per call so that one call takes a few ms
    default_chunk: ClassVar[int] = 1

    def __init__(self, params: P | None = None, seed: int = 0):
        p: Params = self.params_type() if params is None else params
        self._check_params_type(p)
        self.params: P = typing.cast(P, p)
        self.seed = int(seed)
        self._messages: list[tuple[int, str, str]] = []  # (index, level, text)
        self._message_total = 0
        self._msg_lock = threading.Lock()
        self.closed = False

    # -- parameters ------------------------------------------------------
    def _check_params_type(self, params: Params) -> None:
        if not isinstance(params, self.params_type):
            raise TypeError(
                f"{type(self).__name__} takes {self.params_type.__name__}, got {type(params).__name__}"
            )

    def set_params(self, params: P) -> None:
        """Apply new parameters; the default keeps state and stores them.

        Engines whose structure depends on a parameter override this and
        rebuild (or raise ``ValueError`` naming the field when they cannot).
        """
        self._check_params_type(params)
        self.params = params

    # -- lifecycle -------------------------------------------------------
    @abc.abstractmethod
    def reset(self, seed: int | None = None) -> None: ...

    @abc.abstractmethod
    def step(self, n: int = 1) -> int: ...

    def run_until(self, t: float) -> None:
        """Step until ``self.time >= t`` (engines with a clock)."""
        while self.time < t:
            self.step(max(1, self.default_chunk))

    @property
    def time(self) -> float:
        """Engine time in its own unit (biological seconds, iterations...)."""
        return 0.0

    @abc.abstractmethod
    def snapshot(self) -> S: ...

    @abc.abstractmethod
    def state_dict(self) -> dict[str, Any]: ...

    @abc.abstractmethod
    def load_state_dict(self, d: Mapping[str, Any]) -> None: ...

    def close(self) -> None:
        self.closed = True

    # -- messages --------------------------------------------------------
    def log(self, text: str, level: str = "info") -> None:
        with self._msg_lock:
            self._messages.append((self._message_total, level, str(text)))
            self._message_total += 1
            if len(self._messages) > 1000:
                del self._messages[:-1000]

    def messages_since(self, cursor: int) -> tuple[list[tuple[str, str]], int]:
        with self._msg_lock:
            out = [(lvl, txt) for i, lvl, txt in self._messages if i >= cursor]
            return out, self._message_total

    def iter_messages(self) -> Iterator[tuple[str, str]]:
        msgs, _ = self.messages_since(0)
        return iter(msgs)
