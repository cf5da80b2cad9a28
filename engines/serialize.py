"""Safe, pickle-free storage of engine state dicts.

A state dict is a tree of dicts (string keys), lists, tuples, strings, numbers,
booleans, None and numpy arrays (torch tensors are converted to numpy). It is
stored as a zip file holding ``tree.json`` (the structure, with arrays replaced
by references) and one ``.npy`` member per array, loaded with
``allow_pickle=False``. Nothing in a file can run code.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

ARRAY_KEY = "__ndarray__"
TUPLE_KEY = "__tuple__"


class FormatError(ValueError):
    """A file is not a valid state or workspace file; the message names it."""


def pack(obj: Any, arrays: dict[str, np.ndarray] | None = None, prefix: str = "a") -> tuple[Any, dict]:
    """Split ``obj`` into a JSON-able tree and a dict of arrays."""
    if arrays is None:
        arrays = {}

    def go(o: Any, path: str) -> Any:
        if isinstance(o, np.ndarray):
            key = f"{prefix}{len(arrays)}"
            arrays[key] = o
            return {ARRAY_KEY: key}
        if hasattr(o, "detach") and hasattr(o, "cpu") and hasattr(o, "numpy"):  # torch tensor
            return go(o.detach().cpu().numpy(), path)
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, Mapping):
            out = {}
            for k, v in o.items():
                if not isinstance(k, str):
                    raise TypeError(f"state key {path}/{k!r} is not a string")
                out[k] = go(v, f"{path}/{k}")
            return out
        if isinstance(o, tuple):
            return {TUPLE_KEY: [go(v, f"{path}/{i}") for i, v in enumerate(o)]}
        if isinstance(o, list):
            return [go(v, f"{path}/{i}") for i, v in enumerate(o)]
        if o is None or isinstance(o, (bool, int, float, str)):
            return o
        raise TypeError(f"state value at {path or '/'} has unsupported type {type(o).__name__}")

    return go(obj, ""), arrays


def unpack(tree: Any, arrays: Mapping[str, np.ndarray]) -> Any:
    def go(o: Any) -> Any:
        if isinstance(o, dict):
            if set(o) == {ARRAY_KEY}:
                key = o[ARRAY_KEY]
                if key not in arrays:
                    raise FormatError(f"array {key!r} is referenced but missing")
                return arrays[key]
            if set(o) == {TUPLE_KEY}:
                return tuple(go(v) for v in o[TUPLE_KEY])
            return {k: go(v) for k, v in o.items()}
        if isinstance(o, list):
            return [go(v) for v in o]
        return o

    return go(tree)


def write_zip(path: str | os.PathLike, members: Mapping[str, bytes]) -> None:
    """Write a zip atomically: a temporary file then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def array_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(a), allow_pickle=False)
    return buf.getvalue()


def read_array(zf: zipfile.ZipFile, name: str, where: str) -> np.ndarray:
    try:
        with zf.open(name) as fh:
            return np.load(io.BytesIO(fh.read()), allow_pickle=False)
    except (ValueError, OSError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise FormatError(f"{where}: member {name} is not a valid array ({e})") from e


def save_state(path: str | os.PathLike, state: Mapping[str, Any], kind: str, version: int = 1) -> None:
    """Save one engine state dict to ``path`` (a zip file)."""
    tree, arrays = pack(state)
    members = {"tree.json": json.dumps({"kind": kind, "version": version, "state": tree}).encode()}
    for key, a in arrays.items():
        members[f"arrays/{key}.npy"] = array_bytes(a)
    write_zip(path, members)


def load_state(path: str | os.PathLike, kind: str, max_version: int = 1) -> dict[str, Any]:
    """Load a file written by :func:`save_state`; errors name the file."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, OSError) as e:
        raise FormatError(f"{path}: not a state file ({e})") from e
    with zf:
        try:
            head = json.loads(zf.read("tree.json"))
        except KeyError as e:
            raise FormatError(f"{path}: tree.json is missing") from e
        except (ValueError, zipfile.BadZipFile) as e:
            raise FormatError(f"{path}: tree.json is not valid JSON ({e})") from e
        if not isinstance(head, dict) or head.get("kind") != kind:
            raise FormatError(
                f"{path}: holds {head.get('kind') if isinstance(head, dict) else '?'!r}, expected {kind!r}"
            )
        if int(head.get("version", 0)) > max_version:
            raise FormatError(
                f"{path}: written by a newer version (format {head.get('version')} > {max_version})"
            )
        arrays = {}
        for name in zf.namelist():
            if name.startswith("arrays/") and name.endswith(".npy"):
                arrays[name[len("arrays/") : -len(".npy")]] = read_array(zf, name, str(path))
        return unpack(head["state"], arrays)
