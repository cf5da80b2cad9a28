"""Shared pieces of the command lines: checked argument types, one-line usage errors, ``--set``.

* :class:`Parser` is an ``argparse.ArgumentParser`` whose usage errors are
  one line on stderr (``error: argument --duration: ... (see PROG --help)``)
  with exit status 2, like every other mistake a command reports.
* The ``type=`` functions (:func:`positive_float`, :func:`count`,
  :func:`seed`, :func:`probability`, :func:`int_range`...) refuse a bad
  number while the command line is parsed, before anything runs.
* :func:`parse_set` reads ``--set NAME=VALUE`` overrides against the fields
  they may set: a misspelt name gets the nearest valid one and the list of
  allowed names, a value of the wrong type names the field and the type.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

__all__ = [
    "Parser",
    "count",
    "float_range",
    "int_range",
    "nonnegative_float",
    "nonnegative_int",
    "parse_set",
    "positive_float",
    "positive_int",
    "probability",
    "seed",
    "suggest",
]


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line: ``error: ... (see PROG --help)``, exit 2."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(str(message).split())
        self.exit(2, f"error: {text} (see: {self.prog} --help)\n")


# ----------------------------------------------------------------------
# numbers
# ----------------------------------------------------------------------
def _number(text: str, kind: type) -> float | int:
    s = str(text).strip()
    try:
        value = int(s) if kind is int else float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {'an integer' if kind is int else 'a number'}"
        ) from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def float_range(
    lo: float | None = None, hi: float | None = None, *, lo_open: bool = False, hi_open: bool = False
) -> Callable[[str], float]:
    """An argparse type: a finite float in [lo, hi] (``lo_open``: lo excluded)."""

    def parse(text: str) -> float:
        v = float(_number(text, float))
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise argparse.ArgumentTypeError(f"{text} must be {'>' if lo_open else '>='} {lo:g}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise argparse.ArgumentTypeError(f"{text} must be {'<' if hi_open else '<='} {hi:g}")
        return v

    parse.__name__ = "number"
    return parse


def int_range(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [lo, hi]."""

    def parse(text: str) -> int:
        v = int(_number(text, int))
        if lo is not None and v < lo:
            raise argparse.ArgumentTypeError(f"{text} must be >= {lo}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"{text} must be <= {hi}")
        return v

    parse.__name__ = "integer"
    return parse


#: a duration, a rate, a size: a finite number > 0
positive_float = float_range(0.0, lo_open=True)
#: a margin, a learning rate that may be 0: a finite number >= 0
nonnegative_float = float_range(0.0)
#: a probability or a fraction
probability = float_range(0.0, 1.0)
#: a count of things (steps, samples, epochs): an integer >= 1
positive_int = count = int_range(1)
#: an integer >= 0 (0 often means "none" or "all")
nonnegative_int = int_range(0)
#: a random seed: an integer in [0, 2**32 - 1] (what numpy and torch accept)
seed = int_range(0, 2**32 - 1)


# ----------------------------------------------------------------------
# --set NAME=VALUE
# ----------------------------------------------------------------------
def suggest(name: str, allowed: Iterable[str]) -> str:
    """'; did you mean X?' for the nearest of ``allowed``, or ''."""
    close = difflib.get_close_matches(name, list(allowed), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _field_types(fields: Any) -> dict[str, Any]:
    """{name: type or None} from a dataclass (type or instance) or a mapping of defaults."""
    if dataclasses.is_dataclass(fields):
        cls = fields if isinstance(fields, type) else type(fields)
        try:
            hints = typing.get_type_hints(cls)
        except Exception:  # pragma: no cover - unresolvable annotations
            hints = {}
        return {f.name: hints.get(f.name) for f in dataclasses.fields(cls) if f.init}
    if isinstance(fields, Mapping):
        return {k: (type(v) if v is not None else None) for k, v in fields.items()}
    return {k: None for k in fields}


def _type_name(tp: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "text"}
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if args and typing.get_origin(tp) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if typing.get_origin(tp) in (tuple, list) or tp in (tuple, list):
        return "a list, e.g. [1, 2]"
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _coerce(name: str, raw: str, value: Any, tp: Any) -> Any:
    """Check a parsed --set value against the field's type; return it (ints accepted for floats)."""
    if tp is None or tp is Any:
        return value
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    optional = type(None) in typing.get_args(tp)
    if optional and value is None:
        return None
    base = args[0] if (args and len(args) == 1) else tp
    origin = typing.get_origin(base) or base
    ok = True
    if origin is bool:
        ok = isinstance(value, bool)
    elif origin is int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif origin is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
        if ok and not math.isfinite(value):
            raise ValueError(f"--set {name}={raw}: {name} must be a finite number")
    elif origin is str:
        ok = isinstance(value, str)
        if not ok and isinstance(value, (int, float)) and not isinstance(value, bool):
            value, ok = raw.strip(), True  # a name that looks like a number ("--set layers=3")
    elif origin in (tuple, list):
        ok = isinstance(value, list)
    if not ok:
        raise ValueError(f"--set {name}={raw}: {name} must be {_type_name(tp)}, got {raw!r}")
    return value


def parse_set(items: Iterable[str] | None, fields: Any, what: str = "parameters") -> dict[str, Any]:
    """``["NAME=VALUE", ...]`` -> {name: value}, checked against ``fields``.

    ``fields``: a dataclass (its init fields and their types), a mapping of
    defaults (their types), or an iterable of names. VALUE is read as JSON
    (``1e-3``, ``true``, ``[1, 2]``), else taken as text. A name that is not
    a field raises ``ValueError`` naming the nearest valid name and the
    allowed ones; a value of the wrong type names the field and its type.
    """
    types = _field_types(fields)
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(
                f"--set {item!r}: expected NAME=VALUE (e.g. --set {next(iter(types), 'name')}=1)"
            )
        key, raw = item.split("=", 1)
        key = key.strip()
        if key not in types:
            allowed = ", ".join(sorted(types))
            raise ValueError(
                f"--set {key}: no such setting in {what}{suggest(key, types)} (allowed: {allowed})"
            )
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            value = raw
        out[key] = _coerce(key, raw, value, types[key])
    return out
