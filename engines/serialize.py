"""Safe, pickle-free storage of engine state dicts, and the bounded readers every loader uses.

A state dict is a tree of dicts (string keys), lists, tuples, strings, numbers,
booleans, None and numpy arrays (torch tensors are converted to numpy). It is
stored as a zip file holding ``tree.json`` (the structure, with arrays replaced
by references) and one ``.npy`` member per array. Nothing in a file can run code.

The bounded readers below are what the loaders of the project use for their
files (state and workspace zips, ``.npy`` / ``.npz`` arrays, JSON and TOML
text). A hostile or careless file is refused with :class:`FormatError` (or the
caller's own ``ValueError`` subclass) whose message starts with the file's path
and names the member or field, and nothing is allocated beyond what the file
holds and a documented budget allows:

- files are read only when they are regular files, and text only up to a size;
- JSON and TOML nesting is measured by a scan of the brackets outside strings
  (no recursion) before the parser sees the text;
- a ``.npy`` header is parsed here, object and structured dtypes are refused
  (no pickle), and the shape times the item size must equal the bytes that the
  file or zip member holds before the array is allocated;
- zip members are read with their declared sizes checked against a budget.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import stat
import struct
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

ARRAY_KEY = "__ndarray__"
TUPLE_KEY = "__tuple__"


class FormatError(ValueError):
    """A file is not a valid state or workspace file; the message names it."""


#: budgets of the bounded readers (a file that needs more is refused before anything is allocated)
MAX_TEXT_BYTES = 256 << 20  #: one text file (instances, edge lists, sweep definitions)
MAX_JSON_BYTES = 64 << 20  #: one JSON document
MAX_DEPTH = 100  #: nesting of JSON / TOML arrays and objects
MAX_ARRAY_BYTES = 2 << 30  #: one array of a .npy file or zip member
MAX_ARCHIVE_BYTES = 4 << 30  #: all the arrays read from one zip archive
MAX_MEMBERS = 65536  #: members of one zip archive
MAX_NPY_HEADER = 65536  #: bytes of one .npy header (numpy writes about 128)
MAX_NDIM = 32  #: dimensions of one array
MAX_ZIP_RATIO = 1100  #: most a compressed zip member may expand (deflate reaches about 1032)
#: dtype kinds an array file may hold: bool, integers, floats, complex, byte and unicode strings
ARRAY_KINDS = "biufcSU"

ErrorType = type[ValueError]

#: what readers of damaged files raise besides FormatError (zipfile, zlib, struct, numpy)
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    RuntimeError,  # zipfile: an encrypted member; RecursionError
    NotImplementedError,  # zipfile: an unknown compression method
    MemoryError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
)


def describe(e: BaseException) -> str:
    """``Type: first line of the message`` (at most 200 characters) for an error message."""
    text = str(e).strip()
    text = text.splitlines()[0][:200] if text else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


# --------------------------------------------------------------------------
# state dicts
# --------------------------------------------------------------------------


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
    """Rebuild the state dict of a tree written by :func:`pack` (FormatError on a malformed tree)."""

    def go(o: Any, path: str) -> Any:
        if isinstance(o, dict):
            if set(o) == {ARRAY_KEY}:
                key = o[ARRAY_KEY]
                if not isinstance(key, str) or key not in arrays:
                    raise FormatError(f"array {key!r} at {path or '/'} is referenced but missing")
                return arrays[key]
            if set(o) == {TUPLE_KEY}:
                items = o[TUPLE_KEY]
                if not isinstance(items, list):
                    raise FormatError(f"tuple at {path or '/'} is not a list")
                return tuple(go(v, f"{path}/{i}") for i, v in enumerate(items))
            return {k: go(v, f"{path}/{k}") for k, v in o.items()}
        if isinstance(o, list):
            return [go(v, f"{path}/{i}") for i, v in enumerate(o)]
        return o

    return go(tree, "")


def array_keys(tree: Any) -> list[str]:
    """The array references of a packed tree, in order (without recursion)."""
    keys: list[str] = []
    stack = [tree]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if set(o) == {ARRAY_KEY}:
                keys.append(str(o[ARRAY_KEY]))
                continue
            stack.extend(reversed(list(o.values())))
        elif isinstance(o, list):
            stack.extend(reversed(o))
    return keys


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


def save_state(path: str | os.PathLike, state: Mapping[str, Any], kind: str, version: int = 1) -> None:
    """Save one engine state dict to ``path`` (a zip file)."""
    tree, arrays = pack(state)
    members = {"tree.json": json.dumps({"kind": kind, "version": version, "state": tree}).encode()}
    for key, a in arrays.items():
        members[f"arrays/{key}.npy"] = array_bytes(a)
    write_zip(path, members)


def load_state(path: str | os.PathLike, kind: str, max_version: int = 1) -> dict[str, Any]:
    """Load a file written by :func:`save_state`; errors name the file (and the member)."""
    path = Path(path)
    where = str(path)
    zf = open_zip(path, where, what="state file (not a zip archive)")
    with zf:
        try:
            raw = read_member(zf, "tree.json", where, max_bytes=MAX_JSON_BYTES)
        except KeyError:
            raise FormatError(f"{path}: tree.json is missing") from None
        head = parse_json_bounded(raw, f"{path}: member tree.json")
        if not isinstance(head, dict) or head.get("kind") != kind:
            raise FormatError(
                f"{path}: holds {head.get('kind') if isinstance(head, dict) else '?'!r}, expected {kind!r}"
            )
        version = head.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise FormatError(f"{path}: member tree.json: field 'version' = {version!r} is not an integer")
        if version > max_version:
            raise FormatError(f"{path}: written by a newer version (format {version} > {max_version})")
        if "state" not in head:
            raise FormatError(f"{path}: member tree.json: field 'state' is missing")
        tree = head["state"]
        arrays: dict[str, np.ndarray] = {}
        total = 0
        for key in dict.fromkeys(array_keys(tree)):
            name = f"arrays/{key}.npy"
            try:
                total += zf.getinfo(name).file_size
            except KeyError:
                raise FormatError(f"{path}: member {name} is missing") from None
            if total > MAX_ARCHIVE_BYTES:
                raise FormatError(f"{path}: its arrays hold more than the {MAX_ARCHIVE_BYTES} bytes allowed")
            arrays[key] = read_array(zf, name, where)
        try:
            state = unpack(tree, arrays)
        except FormatError as e:
            raise FormatError(f"{path}: member tree.json: {e}") from None
        if not isinstance(state, dict):
            raise FormatError(f"{path}: member tree.json: field 'state' is not an object")
        return state


# --------------------------------------------------------------------------
# bounded reading of files and zip members
# --------------------------------------------------------------------------


def open_regular(
    path: str | os.PathLike, where: str | None = None, *, error: ErrorType = FormatError
) -> tuple[IO[bytes], int]:
    """Open ``path`` for binary reading; returns ``(file, size)``.

    Anything but a regular file is refused: a FIFO or a device (``/dev/zero``)
    would block or never end. :class:`FileNotFoundError` passes through.
    """
    where = str(path) if where is None else where
    try:
        # non-blocking, so that opening a FIFO does not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise error(f"{where}: is a folder, not a file") from None
    except OSError as e:
        raise error(f"{where}: cannot be read ({describe(e)})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise error(f"{where}: is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{where}: not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return fh, st.st_size


def read_bytes_bounded(
    path: str | os.PathLike,
    where: str | None = None,
    *,
    max_bytes: int = MAX_TEXT_BYTES,
    error: ErrorType = FormatError,
) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (FileNotFoundError passes through)."""
    where = str(path) if where is None else where
    fh, size = open_regular(path, where, error=error)
    with fh:
        if size > max_bytes:
            raise error(f"{where}: {size} bytes, more than the {max_bytes} a file of this kind may have")
        try:
            data = fh.read(max_bytes + 1)
        except OSError as e:
            raise error(f"{where}: cannot be read ({describe(e)})") from None
    if len(data) > max_bytes:
        raise error(f"{where}: more than the {max_bytes} bytes a file of this kind may have")
    return data


def read_text_bounded(
    path: str | os.PathLike,
    where: str | None = None,
    *,
    max_bytes: int = MAX_TEXT_BYTES,
    error: ErrorType = FormatError,
) -> str:
    """A UTF-8 text file of at most ``max_bytes`` (errors name the file and the byte)."""
    where = str(path) if where is None else where
    data = read_bytes_bounded(path, where, max_bytes=max_bytes, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def open_zip(
    path: str | os.PathLike,
    where: str | None = None,
    *,
    what: str = "zip archive",
    error: ErrorType = FormatError,
) -> zipfile.ZipFile:
    """Open a zip archive for reading; a damaged one raises ``error`` naming the file.

    :class:`FileNotFoundError` passes through. The archive may hold at most
    :data:`MAX_MEMBERS` members.
    """
    where = str(path) if where is None else where
    fh, _ = open_regular(path, where, error=error)
    fh.close()
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise
    except READ_ERRORS as e:
        raise error(f"{where}: not a {what} ({describe(e)})") from None
    if len(zf.infolist()) > MAX_MEMBERS:
        zf.close()
        raise error(f"{where}: {len(zf.infolist())} members, more than {MAX_MEMBERS}")
    return zf


def check_member(info: zipfile.ZipInfo, where: str, max_bytes: int, error: ErrorType = FormatError) -> None:
    """Refuse a zip member whose declared size exceeds ``max_bytes`` or what its compressed
    bytes can hold (stored: the same size; compressed: at most :data:`MAX_ZIP_RATIO` times)."""
    if info.file_size > max_bytes:
        raise error(
            f"{where}: member {info.filename} is {info.file_size} bytes, more than the {max_bytes} allowed"
        )
    limit = (
        info.compress_size if info.compress_type == zipfile.ZIP_STORED else info.compress_size * MAX_ZIP_RATIO
    )
    if info.file_size > limit + 1024:
        raise error(
            f"{where}: member {info.filename} declares {info.file_size} bytes from {info.compress_size} "
            "compressed bytes (damaged, or a decompression bomb)"
        )


def read_member(
    zf: zipfile.ZipFile,
    name: str,
    where: str,
    *,
    max_bytes: int = MAX_JSON_BYTES,
    error: ErrorType = FormatError,
) -> bytes:
    """The bytes of member ``name``, its declared size checked against ``max_bytes`` first.

    A missing member raises :class:`KeyError`; anything else wrong raises ``error``.
    """
    info = zf.getinfo(name)
    check_member(info, where, max_bytes, error)
    try:
        with zf.open(info) as fh:
            data = fh.read(max_bytes + 1)
    except READ_ERRORS as e:
        raise error(f"{where}: member {name} cannot be read ({describe(e)})") from None
    if len(data) > max_bytes:  # pragma: no cover - zipfile stops at the declared size
        raise error(f"{where}: member {name} is larger than {max_bytes} bytes")
    return data


# --------------------------------------------------------------------------
# JSON and TOML with bounded nesting
# --------------------------------------------------------------------------

# strings (whose brackets do not count) or brackets, for the depth scans
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[\]{}]', re.S)
_TOML_TOKENS = re.compile(
    rb'"""(?:[^"\\]++|\\.|"(?!""))*+"""'  # multi-line basic string
    rb"|'''(?:[^']++|'(?!''))*+'''"  # multi-line literal string
    rb'|"(?:[^"\\\n]++|\\.)*+"'  # basic string
    rb"|'[^'\n]*+'"  # literal string
    rb"|#[^\n]*+"  # comment
    rb"|[\[\]{}]",
    re.S,
)


def nesting_depth(data: bytes | str, *, toml: bool = False) -> int:
    """The deepest nesting of ``[`` / ``{`` outside strings (and comments, for TOML).

    A linear scan without recursion, safe on any input; an unterminated string
    only makes the answer larger.
    """
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    depth = deepest = 0
    for m in (_TOML_TOKENS if toml else _JSON_TOKENS).finditer(data):
        c = m.group()
        if len(c) != 1:
            continue  # a string or a comment
        if c in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def check_depth(
    data: bytes | str,
    where: str,
    *,
    max_depth: int = MAX_DEPTH,
    toml: bool = False,
    error: ErrorType = FormatError,
) -> None:
    """Refuse text whose arrays / objects nest deeper than ``max_depth``."""
    depth = nesting_depth(data, toml=toml)
    if depth > max_depth:
        raise error(f"{where}: nested {depth} levels deep, more than the {max_depth} allowed")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed here (a finite number is needed)")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"number {text[:40]} is out of range")
    return v


def parse_json_bounded(
    data: bytes | str,
    where: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_JSON_BYTES,
    allow_nonfinite: bool = True,
    error: ErrorType = FormatError,
) -> Any:
    """Parse JSON text after checking its size and nesting depth (errors start with ``where``).

    ``allow_nonfinite=False`` refuses ``NaN`` / ``Infinity`` and numbers that
    overflow to infinity.
    """
    if len(data) > max_bytes:
        raise error(f"{where}: {len(data)} bytes of JSON, more than the {max_bytes} allowed")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise error(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    check_depth(data, where, max_depth=max_depth, error=error)
    kw: dict[str, Callable] = {}
    if not allow_nonfinite:
        kw = {"parse_constant": _refuse_constant, "parse_float": _finite_float}
    try:
        return json.loads(data, **kw)
    except json.JSONDecodeError as e:
        raise error(f"{where}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    except (ValueError, RecursionError, MemoryError) as e:  # e.g. an integer of more than 4300 digits
        raise error(f"{where}: not valid JSON ({describe(e)})") from None


def load_json_bounded(
    src: str | os.PathLike | bytes,
    where: str | None = None,
    *,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_JSON_BYTES,
    allow_nonfinite: bool = True,
    error: ErrorType = FormatError,
) -> Any:
    """A JSON document from a file (a path) or from ``bytes``, bounded in size and depth.

    Errors are ``error`` and start with ``where`` (default: the path);
    :class:`FileNotFoundError` passes through.
    """
    if isinstance(src, bytes):
        data = src
        where = "<bytes>" if where is None else where
    else:
        where = str(src) if where is None else where
        data = read_bytes_bounded(src, where, max_bytes=max_bytes, error=error)
    return parse_json_bounded(
        data, where, max_depth=max_depth, max_bytes=max_bytes, allow_nonfinite=allow_nonfinite, error=error
    )


def parse_toml_bounded(
    text: str,
    where: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_TEXT_BYTES,
    error: ErrorType = FormatError,
) -> dict[str, Any]:
    """Parse TOML text after checking its size and nesting depth (errors start with ``where``)."""
    import tomllib

    if len(text) > max_bytes:
        raise error(f"{where}: {len(text)} characters of TOML, more than the {max_bytes} allowed")
    check_depth(text, where, max_depth=max_depth, toml=True, error=error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{where}: invalid TOML: {e}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise error(f"{where}: invalid TOML ({describe(e)})") from None


# --------------------------------------------------------------------------
# .npy / .npz arrays, checked before anything is allocated
# --------------------------------------------------------------------------


def _read_exact(fh: IO[bytes], n: int) -> bytes:
    out = fh.read(n)
    if len(out) != n:
        raise EOFError(f"{n} bytes wanted, {len(out)} found")
    return out


def read_npy(
    fh: IO[bytes],
    size: int,
    where: str,
    *,
    max_bytes: int = MAX_ARRAY_BYTES,
    error: ErrorType = FormatError,
) -> np.ndarray:
    """One array in ``.npy`` format from a binary stream holding ``size`` bytes.

    The header is parsed here (format versions 1.0 and 2.0). Object and
    structured dtypes are refused (no pickle can run). The shape times the
    item size must equal the bytes that follow the header and stay within
    ``max_bytes`` before the array is allocated. Errors start with ``where``.
    """
    from numpy.lib import format as npformat

    try:
        pre = _read_exact(fh, 8)
        if pre[:6] != b"\x93NUMPY":
            raise error(f"{where}: not a .npy array (no NUMPY magic)")
        version = (pre[6], pre[7])
        if version == (1, 0):
            more = _read_exact(fh, 2)
            hlen = struct.unpack("<H", more)[0]
        elif version == (2, 0):
            more = _read_exact(fh, 4)
            hlen = struct.unpack("<I", more)[0]
        else:
            raise error(f"{where}: .npy format version {version[0]}.{version[1]} is not supported")
        if hlen > MAX_NPY_HEADER:
            raise error(f"{where}: a .npy header of {hlen} bytes, more than {MAX_NPY_HEADER}")
        header = _read_exact(fh, hlen)
        buf = io.BytesIO(pre + more + header)
        npformat.read_magic(buf)
        read_header = npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
        with warnings.catch_warnings():  # a hostile header's odd escapes are refused, not warned about
            warnings.simplefilter("ignore")
            shape, fortran, dtype = read_header(buf, max_header_size=MAX_NPY_HEADER + 1)
        dtype = np.dtype(dtype)
    except Exception as e:  # numpy: ValueError, SyntaxError, tokenize.TokenError, ...
        if isinstance(e, error):
            raise
        raise error(f"{where}: not a valid .npy array (bad header: {describe(e)})") from None
    if dtype.hasobject or dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype:
        raise error(f"{where}: arrays of dtype {dtype.str!r} are not accepted (numbers and strings only)")
    if (
        not isinstance(shape, tuple)
        or len(shape) > MAX_NDIM
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
        or math.prod(d for d in shape if d) * max(dtype.itemsize, 1) > 2**62  # numpy's limit, even when empty
    ):
        raise error(f"{where}: the .npy header has an invalid shape {str(shape)[:80]}")
    count = math.prod(shape)
    if dtype.itemsize == 0 and count:
        raise error(f"{where}: the .npy header has a zero-size dtype {dtype.str!r}")
    nbytes = count * dtype.itemsize
    held = size - len(pre) - len(more) - hlen
    if nbytes != held:
        raise error(
            f"{where}: the .npy header claims shape {shape} of {dtype.str} ({nbytes} bytes) "
            f"but {max(held, 0)} bytes of data follow (truncated or damaged)"
        )
    if nbytes > max_bytes:
        raise error(f"{where}: an array of {nbytes} bytes, more than the {max_bytes} allowed")
    try:
        flat = np.empty(count, dtype=dtype)
        view = memoryview(flat.view(np.uint8)) if nbytes else memoryview(bytearray())
        got = 0
        while got < nbytes:
            n = fh.readinto(view[got:])
            if not n:
                break
            got += n
    except READ_ERRORS as e:
        raise error(f"{where}: the array data cannot be read ({describe(e)})") from None
    if got != nbytes:
        raise error(f"{where}: the array data is truncated ({got} of {nbytes} bytes)")
    try:
        return flat.reshape(shape[::-1]).transpose() if fortran else flat.reshape(shape)
    except ValueError as e:  # pragma: no cover - the shape checks above come first
        raise error(f"{where}: the .npy header has an invalid shape {shape!r} ({e})") from None


def load_npy(
    path: str | os.PathLike,
    where: str | None = None,
    *,
    max_bytes: int = MAX_ARRAY_BYTES,
    error: ErrorType = FormatError,
) -> np.ndarray:
    """The array of a ``.npy`` file, checked by :func:`read_npy` (FileNotFoundError passes through)."""
    where = str(path) if where is None else where
    fh, size = open_regular(path, where, error=error)
    with fh:
        return read_npy(fh, size, where, max_bytes=max_bytes, error=error)


def read_array(
    zf: zipfile.ZipFile,
    name: str,
    where: str,
    *,
    max_bytes: int = MAX_ARRAY_BYTES,
    error: ErrorType = FormatError,
) -> np.ndarray:
    """The ``.npy`` member ``name`` of an open zip archive (errors name ``where`` and the member)."""
    label = f"{where}: member {name}"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise error(f"{label} is missing") from None
    check_member(info, where, max_bytes + MAX_NPY_HEADER + 16, error)
    try:
        with zf.open(info) as fh:
            return read_npy(fh, info.file_size, label, max_bytes=max_bytes, error=error)
    except error:
        raise
    except READ_ERRORS as e:
        raise error(f"{label}: not a valid array ({describe(e)})") from None


def load_npz(
    path: str | os.PathLike,
    where: str | None = None,
    *,
    keys: Callable[[str], bool] | None = None,
    what: str = ".npz file",
    max_bytes: int = MAX_ARRAY_BYTES,
    max_total: int = MAX_ARCHIVE_BYTES,
    error: ErrorType = FormatError,
) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file as ``{name: array}`` (the member name without ``.npy``).

    Only members named ``*.npy`` are arrays; ``keys`` (a predicate on the name)
    picks the ones to read. The declared sizes of the arrays read total at most
    ``max_total`` bytes. A random or damaged file raises ``error`` naming it;
    :class:`FileNotFoundError` passes through.
    """
    where = str(path) if where is None else where
    zf = open_zip(path, where, what=f"{what} (not a zip of .npy arrays)", error=error)
    with zf:
        out: dict[str, np.ndarray] = {}
        seen: set[str] = set()
        total = 0
        for info in zf.infolist():
            if info.is_dir() or not info.filename.endswith(".npy"):
                continue
            key = info.filename[: -len(".npy")]
            if key in seen:
                raise error(f"{where}: array {key!r} appears twice")
            seen.add(key)
            if keys is not None and not keys(key):
                continue
            total += info.file_size
            if total > max_total:
                raise error(f"{where}: its arrays hold more than the {max_total} bytes allowed")
            out[key] = read_array(zf, info.filename, where, max_bytes=max_bytes, error=error)
        return out


def check_finite(a: np.ndarray, where: str, *, error: ErrorType = FormatError) -> np.ndarray:
    """Refuse an array holding NaN or an infinity (arrays of other kinds pass unchanged)."""
    a = np.asarray(a)
    if a.dtype.kind in "fc" and a.size and not np.all(np.isfinite(a)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise error(f"{where}: a non-finite value ({a[bad]} at index {list(bad)})")
    return a


def numeric_arrays(raw: Any, where: str, *, error: ErrorType = FormatError) -> dict[str, np.ndarray]:
    """``{name: array}`` of finite numeric arrays (model weights) from a loaded state tree."""
    if not isinstance(raw, dict):
        raise error(f"{where}: the weights are not an object of arrays")
    out = {}
    for k, v in raw.items():
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf":
            raise error(f"{where}: weight {k!r} is not an array of numbers")
        out[k] = check_finite(v, f"{where}: weight {k!r}", error=error)
    return out


def load_manifest(path: str | os.PathLike, default: dict | None = None) -> dict[str, Any]:
    """A JSON object file such as an assets manifest (``default`` when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return {} if default is None else default
    d = load_json_bounded(path)
    if not isinstance(d, dict):
        raise FormatError(f"{path}: not a JSON object")
    return d
