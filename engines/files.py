"""Files that commands read and write: checked up front, written atomically, errors that name them.

* :func:`check_output` refuses an output path that cannot be written (its
  folder is missing, it is a folder, the folder is read-only) *before* any
  work starts, with :class:`OutputPathError` naming the path and the fix.
* :func:`atomic_output` yields a temporary path beside the target (same
  suffix, so writers that look at it still work); the target is replaced by
  ``os.replace`` only when the block ends without error, and the temporary
  file is removed on *any* failure (an exception, Ctrl-C). A reader never
  sees half a file, and a failed command leaves nothing behind.
* :func:`reading` turns whatever a loader raises on a bad file into the
  project's :class:`engines.serialize.FormatError` whose message starts with
  the file's path, so a command can report it in one line.
* :func:`describe_os_error` says what an ``OSError`` means, with its path.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "OutputPathError",
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_input",
    "check_output",
    "describe_os_error",
    "reading",
    "safe_message",
]


class OutputPathError(ValueError):
    """An output path cannot be written; the message names it and the fix."""


def check_output(path: str | os.PathLike, option: str = "--out", *, folder: bool = False) -> Path:
    """Check before any work that ``path`` can be written; return it as a Path.

    A file output must not be an existing folder, and its folder must exist
    and be writable. A folder output (``folder=True``) must not be an existing
    file, and its parent folder must exist (the folder itself is created later
    by the writer). Raises :class:`OutputPathError` naming the path.
    """
    text = os.fspath(path)
    if not str(text).strip():
        raise OutputPathError(f"{option}: the path is empty; give a file name")
    p = Path(text).expanduser()
    if folder:
        if p.exists() and not p.is_dir():
            raise OutputPathError(f"{p}: exists and is not a folder ({option} names a folder)")
        parent = p if p.is_dir() else p.parent
    else:
        if p.is_dir():
            raise OutputPathError(
                f"{p}: is a folder; give {option} a file name (a new file inside it, for example)"
            )
        if str(text).endswith(("/", os.sep)):
            raise OutputPathError(f"{p}: {option} ends with a slash; give a file name")
        parent = p.parent
    parent = parent if str(parent) else Path(".")
    if not parent.exists():
        raise OutputPathError(f"{p}: the folder {parent} does not exist (create it first)")
    if not parent.is_dir():
        raise OutputPathError(f"{p}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{p}: the folder {parent} is not writable (choose another {option})")
    return p


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def check_input(path: str | os.PathLike, what: str = "file") -> Path:
    """An input file that exists and is a file (not a folder), else ``FileNotFoundError``/``IsADirectoryError``."""
    p = Path(os.fspath(path)).expanduser()
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"is a folder, expected {_a(what)}", str(p))
    if not p.exists():
        raise FileNotFoundError(errno.ENOENT, f"no such {what}", str(p))
    return p


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path beside ``path``; moved onto ``path`` when the block succeeds, removed otherwise.

    The temporary name keeps the suffix (``.out.1a2b3c.tmp.npz`` for
    ``out.npz``) so that writers choosing a format by suffix, or appending
    one, write where expected. It is created empty (with the usual
    permissions) so the name is reserved; writers may truncate or replace it.
    A symbolic link is followed (the file it points to is replaced, the link
    kept); a target that exists and is not a regular file (``/dev/null``, a
    FIFO) is written in place.
    """
    path = Path(os.fspath(path))
    if path.is_symlink():  # write where the link points, and keep the link
        path = Path(os.path.realpath(path))
    if path.exists() and not path.is_file():  # /dev/null, a FIFO: write to it, never replace it
        yield path
        return
    parent = path.parent if str(path.parent) else Path(".")
    while True:
        tmp = parent / f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
        os.close(fd)
        break
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write text atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write bytes atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


_OS_HINTS = {
    FileNotFoundError: "no such file or folder (check the path)",
    IsADirectoryError: "is a folder, expected a file",
    NotADirectoryError: "a part of the path is not a folder",
    PermissionError: "permission denied (choose a path you may use)",
    FileExistsError: "already exists",
}


def describe_os_error(e: OSError) -> str:
    """One line: the path(s) of an ``OSError`` and what went wrong."""
    reason = e.strerror or str(e) or type(e).__name__
    standard = e.errno is not None and e.strerror == os.strerror(e.errno)
    hint = next((h for t, h in _OS_HINTS.items() if isinstance(e, t)), None)
    if hint and (standard or not (e.strerror or str(e))):
        reason = hint
    names = [os.fsdecode(n) if isinstance(n, bytes) else str(n) for n in (e.filename, e.filename2) if n]
    if names:
        return f"{' -> '.join(names)}: {reason}"
    return reason


def safe_message(text: str) -> str:
    """``text`` without numpy's advice to load pickled data (unsafe to follow with a file from elsewhere)."""
    low = text.lower()
    if not any(w in low for w in ("allow_pickle", "pickle.load", "contains pickled", "containing pickled")):
        return text
    i = low.find("pickl")
    cut = max(text.rfind(c, 0, i) for c in "(:;")
    if cut < 0:
        return "not a NumPy array file (it holds pickled objects, which are refused)"
    head = text[: cut + 1]
    if head.endswith("("):
        return f"{head}it holds pickled objects, which are refused)"
    return f"{head} it holds pickled objects, which are refused"


def _plain(message: str) -> str:
    """A library's message on one line, without advice that would be unsafe to follow."""
    return safe_message(" ".join(str(message).split()))


@contextmanager
def reading(path: str | os.PathLike, what: str = "file") -> Iterator[None]:
    """Report anything a loader raises on ``path`` as a FormatError naming it.

    ``OSError`` with a file name passes through (it names the path);
    ValueErrors whose message already names the file pass through unchanged;
    every other failure (numpy's ``EOFError``, ``BadZipFile``, a
    ``MemoryError`` from a hostile header, a ``TypeError`` deep in a parser...)
    becomes ``FormatError("PATH: not a valid <what> (...)")``.
    """
    from engines.serialize import FormatError

    try:
        yield
    except OSError as e:
        if e.filename:
            raise  # it names the path already
        raise FormatError(f"{os.fspath(path)}: cannot be read as {_a(what)} ({_plain(str(e))})") from e
    except Exception as e:  # numpy's EOFError, BadZipFile, MemoryError from a hostile header, TypeError...
        p = os.fspath(path)
        msg = str(e)
        name = Path(p).name
        named = p in msg or (len(name) > 3 and name in msg)
        if isinstance(e, ValueError) and named:  # the project's errors (and others) that name the file
            if safe_message(msg) == msg:
                raise
            raise FormatError(safe_message(" ".join(msg.split()))) from e
        detail = _plain(msg)
        if not isinstance(e, ValueError) or not detail:
            detail = f"{type(e).__name__}: {detail}" if detail else type(e).__name__
        raise FormatError(f"{p}: not a valid {what} ({detail})") from e
