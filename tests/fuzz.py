"""Hostile files for the loader tests: mutations of valid files, and the check every loader must pass.

A loader given any of these either loads the file or refuses it with one of the
project's errors (a ``ValueError`` subclass) whose message starts with the
file's path. Anything else (RecursionError, MemoryError, numpy's or zipfile's
own errors, a crash) fails the test. Each fuzz test sizes ``max_examples`` so
that it runs in about 5-15 s.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from engines.base import StateError
from engines.painting.strokes import PaintingFormatError
from engines.serialize import FormatError
from engines.sweep.model import SweepError

#: the errors a loader may raise for a bad file
PROJECT_ERRORS = (FormatError, PaintingFormatError, SweepError, StateError)

#: settings of the fuzz tests (a file per example, written to a temporary folder)
FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

#: byte strings that make parsers misbehave: non-finite and huge numbers, deep nesting,
#: broken encodings, magic numbers of the formats, .npy header pieces
SNIPPETS = (
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"Infinity",
    b"-1e308",
    b"1e999",
    b"-1",
    b"0",
    b"1e15",
    b"4294967296",
    b"9" * 30,
    b"[" * 300,
    b"{" * 300,
    b'{"a":' * 200,
    b"a = [" + b"[" * 300,
    b'"',
    b"'",
    b"\x00",
    b"\xff\xfe",
    b"\n",
    b"#",
    b":",
    b",",
    b"\x93NUMPY\x01\x00",
    b"PK\x03\x04",
    b"'|O'",
    b"'<f8'",
    b"'|V8'",
    b"'fortran_order': True",
    b"(1000000000000000,)",
    b"(0, 1000000000000000)",
    b"(-1,)",
    b"'shape': (",
)


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    """``seed`` after 1-6 edits: flipped, set, inserted, deleted or duplicated bytes,
    a snippet inserted or put in place of a number, or a truncation."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(
            st.sampled_from(("flip", "set", "insert", "delete", "dup", "snippet", "number", "truncate"))
        )
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "dup":
            end = pos + draw(st.integers(1, 256))
            data[end:end] = data[pos:end]
        elif op == "snippet":
            data[pos:pos] = draw(st.sampled_from(SNIPPETS))
        elif op == "number":
            digits = [i for i in range(len(data)) if 48 <= data[i] <= 57]
            if digits:
                i = draw(st.sampled_from(digits))
                j = i
                while j < len(data) and (48 <= data[j] <= 57 or data[j] in b".eE-+"):
                    j += 1
                data[i:j] = draw(st.sampled_from(SNIPPETS[:12]))
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


#: values put into arrays by :func:`mutated_values` (cast to the array's type where they fit)
EXTREMES = (np.nan, np.inf, -np.inf, -1, 0, 1, 7, 255, 2**15, 2**31 - 1, -(2**31), 10**6, -1e308, 1e308)


@st.composite
def mutated_values(draw, seed: bytes) -> bytes:
    """The ``.npy`` array ``seed`` with a few values set to extremes, or reversed, or reshaped:
    a well-formed file whose content is hostile (it gets past the format checks)."""
    a = np.load(io.BytesIO(seed), allow_pickle=False).copy()
    op = draw(st.sampled_from(("set", "set", "reverse", "reshape", "empty")))
    if op == "set" and a.size and a.dtype.kind in "biuf":
        flat = a.reshape(-1)
        for _ in range(draw(st.integers(1, 3))):
            v = draw(st.sampled_from(EXTREMES))
            i = draw(st.integers(0, flat.size - 1))
            if a.dtype.kind in "iub":
                if not np.isfinite(v):
                    continue
                info = np.iinfo(a.dtype) if a.dtype.kind != "b" else None
                v = bool(v) if info is None else int(min(max(v, info.min), info.max))
            with np.errstate(over="ignore"):  # 1e308 into float32 is inf: fine, that is hostile too
                flat[i] = v
    elif op == "reverse" and a.ndim:
        a = a[::-1].copy()
    elif op == "reshape" and a.size:
        a = a.reshape(-1)[: max(a.size - 1, 0)]
    elif op == "empty":
        a = a.reshape(-1)[:0]
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def hostile_bytes(*seeds: bytes) -> st.SearchStrategy[bytes]:
    """Mutations of the valid ``seeds`` (mostly), or random bytes."""
    return st.one_of(
        st.sampled_from(seeds).flatmap(mutated),
        st.sampled_from(seeds).flatmap(mutated),
        st.sampled_from(seeds).flatmap(mutated),
        st.binary(max_size=2048),
    )


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@st.composite
def mutated_zip(draw, members: dict[str, bytes]) -> bytes:
    """A well-formed zip whose members are mutated (the readers get past the zip layer),
    sometimes with a member dropped or added."""
    out = dict(members)
    names = sorted(out)
    for name in draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True)):
        if name.endswith(".npy") and out[name].startswith(b"\x93NUMPY") and draw(st.booleans()):
            out[name] = draw(mutated_values(out[name]))
        else:
            out[name] = draw(mutated(out[name]))
    extra = draw(st.integers(0, 9))
    if extra == 0 and len(names) > 1:
        out.pop(draw(st.sampled_from(names)))
    elif extra == 1:
        out["arrays/extra.npy" if any(n.startswith("arrays/") for n in names) else "extra.npy"] = draw(
            st.binary(max_size=64)
        )
    return zip_bytes(out)


def hostile_zips(members: dict[str, bytes]) -> st.SearchStrategy[bytes]:
    """Zips with mutated members (mostly), mutations of the zip file itself, or random bytes."""
    whole = zip_bytes(members)
    return st.one_of(
        mutated_zip(members),
        mutated_zip(members),
        mutated(whole),
        st.binary(max_size=2048),
    )


def check_loader(load: Callable[[Path], object], path: Path, data: bytes, errors=PROJECT_ERRORS) -> object:
    """Write ``data`` to ``path`` and load it: a result, or one of ``errors`` naming the file.

    Any other exception propagates and fails the calling test; the file is
    never changed by the loader.
    """
    path.write_bytes(data)
    try:
        return load(path)
    except errors as e:
        assert str(e).startswith(str(path)), f"the error does not start with the file's path: {e}"
        return None
    finally:
        assert path.read_bytes() == data, "the loader changed the file it read"
