"""SQLite persistence of room updates.

One table of Yjs updates per room, appended in group commits (several updates
merged into one row per transaction) and compacted now and then into a single
snapshot row. The database runs in WAL mode with ``synchronous=FULL``: once
:meth:`UpdateStore.append` returns, the rows survive the process being killed
(and a power cut). All SQLite work happens on one worker thread owned by the
store, so the asyncio loop never blocks on the disk.

Opening is careful, because the path comes from a user: a file that is not
already one of our stores (a folder, a text file, random bytes, a damaged or
truncated SQLite file, somebody else's database) is refused with a
:class:`StoreError` of one line naming it, and nothing is written to it. A new
store is made only where nothing is (or a 0-byte file is, which is said in a
warning), and only when the store is opened for writing (``create=True``, the
server); the read-only tools open with ``create=False`` and never make one.

A row the server cannot use (garbage in ``data``) is not deleted: the server
loads a room row by row (:meth:`UpdateStore.load_rows`) and moves a bad row,
in one transaction, into the table ``yupdates_damaged`` with the reason
(:meth:`UpdateStore.quarantine`), where ``collab damaged STORE`` lists it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import secrets
import sqlite3
import stat
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = ["UpdateStore", "StoreError", "RoomStats", "DamagedRow"]

log = logging.getLogger("engines.collab.store")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100  # an SQLite file is at least its 100-byte header (and one page)
_MAX_REASON_CHARS = 1000
# what SQLite raises on a damaged file: its errors, and a UnicodeDecodeError where the message it
# returns quotes bytes of the file that are not UTF-8 (Python decodes the message to raise the error)
_DB_ERRORS = (sqlite3.Error, UnicodeDecodeError)

# the tables of a store and their columns, in order: anything else under these names is not ours
_COLUMNS = {
    "yupdates": ("id", "room", "data"),
    "yupdates_damaged": ("id", "room", "data", "reason", "at"),
    "yupdates_v1": ("id", "room", "data", "at"),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS yupdates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS yupdates_room ON yupdates (room, id);
CREATE TABLE IF NOT EXISTS yupdates_damaged (
    id INTEGER PRIMARY KEY,
    room TEXT NOT NULL,
    data BLOB NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


class StoreError(ValueError):
    """The store file cannot be opened or written; the message (one line) starts with its path."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).splitlines()))


@dataclass(frozen=True)
class RoomStats:
    """What a store holds for one room: usable rows, their bytes, and rows kept aside as damaged."""

    room: str
    rows: int
    bytes: int
    damaged: int


@dataclass(frozen=True)
class DamagedRow:
    """A row moved aside by :meth:`UpdateStore.quarantine`; ``at`` is UTC, ISO 8601."""

    room: str
    id: int
    bytes: int
    reason: str
    at: str


def _said(e: BaseException) -> str:
    """What an SQLite error says, in words."""
    if isinstance(e, UnicodeDecodeError):
        return "SQLite's error message quotes bytes of the file that are not text: the file is damaged"
    return str(e)


def _uri(path: Path, mode: str) -> str:
    """An SQLite URI for a path (any character in it quoted) that never creates the file."""
    return f"file:{urllib.parse.quote(str(path.absolute()))}?mode={mode}"


def _describe_foreign(head: bytes) -> str:
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "a text file, not an SQLite store"
        except UnicodeDecodeError:
            pass
    return "not an SQLite store (no SQLite header)"


class UpdateStore:
    """Append-only Yjs updates per room in one SQLite file (``":memory:"`` for tests).

    Parameters
    ----------
    path
        The store file.
    create
        True (the server): make a new store where the path does not exist or is a
        0-byte file, and open for writing. False (read-only tools): the store must
        exist; nothing is created and nothing is written.

    Raises
    ------
    StoreError
        The path is not a usable store; the message names it and says why.
    """

    def __init__(self, path: str | os.PathLike, *, create: bool = True) -> None:
        self.path = str(path)
        self.create = create
        self.readonly = False
        self.notice: str | None = None  # said once at opening (a new store in place of an empty file)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-sqlite")
        self._db: sqlite3.Connection | None = None
        try:
            self._pool.submit(self._open).result()
        except Exception:
            self._pool.shutdown(wait=True)
            raise
        if self.notice:
            log.warning("%s", self.notice)

    # --- opening (on the store's thread) ---------------------------------
    def _fail(self, why: str) -> StoreError:
        return StoreError(f"{self.path}: {why}")

    def _open(self) -> None:
        if self.path == ":memory:":
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.executescript(_SCHEMA)
            self._db = db
            return
        if not self.path:
            raise StoreError("store path is empty")
        p = Path(self.path)
        size = self._inspect(p)
        if size <= 0:
            if not self.create:
                raise self._fail(
                    "no such store (the file does not exist)"
                    if size < 0
                    else "the file is empty, not a store"
                )
            self._make_new(p, replace_empty=size == 0)
            if size == 0:
                self.notice = f"{self.path} is empty: starting a new store"
        self._db = self._connect_checked(p)

    def _inspect(self, p: Path) -> int:
        """The file's size (-1: nothing there), having refused what cannot be a store by its first bytes."""
        try:
            st = p.stat()
        except FileNotFoundError:
            return -1
        except OSError as e:
            raise self._fail(f"cannot look at it ({e.strerror or e})") from e
        if stat.S_ISDIR(st.st_mode):
            raise self._fail("is a folder, not a store file")
        if not stat.S_ISREG(st.st_mode):
            raise self._fail("is not a regular file")
        try:
            with open(p, "rb") as f:
                head = f.read(_HEADER_BYTES)
        except OSError as e:
            raise self._fail(f"cannot read it ({e.strerror or e})") from e
        if self.create and not os.access(p, os.W_OK):
            raise self._fail("cannot write it (no permission); the server needs a writable store")
        if self.create and not os.access(p.parent, os.W_OK | os.X_OK):
            raise self._fail(
                "cannot write its folder (no permission), where SQLite keeps its -wal and -shm files"
            )
        if not head:
            return 0
        if not head.startswith(_SQLITE_MAGIC):
            raise self._fail(_describe_foreign(head))
        if len(head) < _HEADER_BYTES:
            raise self._fail(f"a truncated SQLite file ({len(head)} bytes)")
        return st.st_size

    def _make_new(self, p: Path, *, replace_empty: bool) -> None:
        """Make a complete empty store beside the path, then move it into place (never half a store)."""
        for side in ("-wal", "-journal"):
            q = Path(self.path + side)
            try:
                with_data = q.is_dir() or q.stat().st_size > 0
            except FileNotFoundError:
                with_data = False
            except OSError as e:
                raise self._fail(f"cannot look at {q.name} beside it ({e.strerror or e})") from e
            if with_data:
                raise self._fail(
                    f"{'is empty' if replace_empty else 'does not exist'} but {q.name} beside it holds data:"
                    " restore the store or move both aside"
                )
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._fail(f"cannot make its folder ({e.strerror or e})") from e
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
        try:
            db = sqlite3.connect(_uri(tmp, "rwc"), uri=True, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("BEGIN IMMEDIATE")
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
                db.execute("COMMIT")
            finally:
                db.close()
            if replace_empty:
                os.replace(tmp, p)
            else:
                try:
                    os.link(tmp, p)  # fails where a file appeared meanwhile: that one is checked instead
                except FileExistsError:
                    pass
                except OSError:
                    os.replace(tmp, p)  # file systems without hard links
        except (OSError, *_DB_ERRORS) as e:
            raise self._fail(
                f"cannot make a new store there ({getattr(e, 'strerror', None) or _said(e)})"
            ) from e
        finally:
            for q in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
                try:
                    q.unlink()
                except OSError:
                    pass

    def _connect_checked(self, p: Path) -> sqlite3.Connection:
        mode = "rw"
        if not self.create and not (os.access(p, os.W_OK) and os.access(p.parent, os.W_OK | os.X_OK)):
            # a store we may only read (read-only media, another user's file): SQLite would leave -shm
            # and -wal files of ours beside it, which can keep its owner's server from writing. Without
            # a write-ahead log to read (no server has it open), read the file alone: no side files.
            try:
                wal_bytes = os.stat(self.path + "-wal").st_size
            except OSError:
                wal_bytes = 0
            mode = "ro" if wal_bytes > 0 else "ro&immutable=1"
            self.readonly = True
        try:
            db = sqlite3.connect(_uri(p, mode), uri=True, isolation_level=None, check_same_thread=False)
        except _DB_ERRORS as e:
            raise self._fail(f"cannot open it ({_said(e)})") from e
        # text in a damaged file may be any bytes: read it with replacement characters, never fail decoding
        db.text_factory = lambda b: b.decode("utf-8", "replace")
        try:
            db.execute("PRAGMA busy_timeout=5000")
            self._check(db)
            if self.create:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.executescript(_SCHEMA)  # adds what an older store lacks (yupdates_damaged)
        except StoreError:
            db.close()
            raise
        except _DB_ERRORS as e:
            db.close()
            raise self._fail(f"not a usable store ({_said(e)})") from e
        return db

    def _check(self, db: sqlite3.Connection) -> None:
        """Refuse a damaged SQLite file or a database that is not a store of ours (reads only)."""
        try:
            problems = [r[0] for r in db.execute("PRAGMA quick_check(3)")]
        except (sqlite3.DatabaseError, UnicodeDecodeError) as e:
            raise self._fail(f"a damaged SQLite database ({_said(e)})") from e
        if problems != ["ok"]:
            raise self._fail(f"a damaged SQLite database (quick_check: {'; '.join(map(str, problems))})")
        tables = [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        if "yupdates" not in tables:
            listed = ", ".join(t for t in tables if not t.startswith("sqlite_")) or "none"
            raise self._fail(
                f"an SQLite database but not a session store (no table yupdates; its tables: {listed})"
            )
        for table, want in _COLUMNS.items():
            if table not in tables:
                continue
            have = tuple(r[1] for r in db.execute(f"PRAGMA table_info({table})"))
            if have != want:
                raise self._fail(
                    f"an SQLite database but not a session store (table {table} has columns"
                    f" ({', '.join(have)}), expected ({', '.join(want)}))"
                )

    # --- work (on the store's thread) --------------------------------------
    def _has_damaged_table(self) -> bool:
        assert self._db is not None
        q = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'yupdates_damaged'"
        return self._db.execute(q).fetchone() is not None

    def _load_rows(self, room: str) -> list[tuple[int, bytes]]:
        assert self._db is not None
        # CAST: a row whose data is not a blob (a damaged or hand-made row) comes back as its bytes,
        # for the caller to refuse and put aside, never as something else
        q = "SELECT id, CAST(data AS BLOB) FROM yupdates WHERE room = ? ORDER BY id"
        return [(int(i), bytes(d) if d is not None else b"") for i, d in self._db.execute(q, (room,))]

    def _load(self, room: str) -> list[bytes]:
        return [d for _, d in self._load_rows(room)]

    def _write(self, fn, *args):
        if self.readonly or not self.create:
            raise self._fail("opened read-only: not written")
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            out = fn(db, *args)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return out

    def _append(self, room: str, data: bytes) -> int:
        assert self._db is not None
        self._write(lambda db: db.execute("INSERT INTO yupdates (room, data) VALUES (?, ?)", (room, data)))
        (n,) = self._db.execute("SELECT count(*) FROM yupdates WHERE room = ?", (room,)).fetchone()
        return int(n)

    def _snapshot(self, room: str, data: bytes) -> None:
        def write(db):
            cur = db.execute("INSERT INTO yupdates (room, data) VALUES (?, ?)", (room, data))
            db.execute("DELETE FROM yupdates WHERE room = ? AND id < ?", (room, cur.lastrowid))

        self._write(write)

    def _quarantine(self, room: str, row_id: int, reason: str) -> bool:
        reason = " ".join(str(reason).split())[:_MAX_REASON_CHARS] or "unusable"
        at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        def write(db) -> bool:
            moved = db.execute(
                "INSERT INTO yupdates_damaged (id, room, data, reason, at)"
                " SELECT id, room, data, ?, ? FROM yupdates WHERE id = ? AND room = ?",
                (reason, at, int(row_id), room),
            ).rowcount
            if moved:
                db.execute("DELETE FROM yupdates WHERE id = ? AND room = ?", (int(row_id), room))
            return moved == 1

        return self._write(write)

    def _migrate(self, room: str, row_ids: list[int], data: bytes) -> None:
        at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

        def write(db) -> None:
            db.execute(
                "CREATE TABLE IF NOT EXISTS yupdates_v1 (id INTEGER PRIMARY KEY, room TEXT NOT NULL,"
                " data BLOB NOT NULL, at TEXT NOT NULL)"
            )
            for row_id in row_ids:
                moved = db.execute(
                    "INSERT INTO yupdates_v1 (id, room, data, at)"
                    " SELECT id, room, data, ? FROM yupdates WHERE id = ? AND room = ?",
                    (at, int(row_id), room),
                ).rowcount
                if moved:
                    db.execute("DELETE FROM yupdates WHERE id = ? AND room = ?", (int(row_id), room))
            db.execute("INSERT INTO yupdates (room, data) VALUES (?, ?)", (room, data))

        self._write(write)

    def _damaged(self, room: str | None) -> list[DamagedRow]:
        assert self._db is not None
        if not self._has_damaged_table():
            return []
        q = "SELECT room, id, length(CAST(data AS BLOB)), reason, at FROM yupdates_damaged"
        args: tuple = ()
        if room is not None:
            q += " WHERE room = ?"
            args = (room,)
        rows = self._db.execute(q + " ORDER BY room, id", args)
        return [DamagedRow(str(r), int(i), int(n or 0), str(why), str(at)) for r, i, n, why, at in rows]

    def _rooms(self) -> list[str]:
        assert self._db is not None
        return [r[0] for r in self._db.execute("SELECT DISTINCT room FROM yupdates ORDER BY room")]

    def _room_stats(self) -> list[RoomStats]:
        assert self._db is not None
        q = "SELECT room, count(*), sum(length(CAST(data AS BLOB))) FROM yupdates GROUP BY room"
        usable = {r: (int(n), int(b or 0)) for r, n, b in self._db.execute(q)}
        damaged: dict[str, int] = {}
        if self._has_damaged_table():
            q = "SELECT room, count(*) FROM yupdates_damaged GROUP BY room"
            damaged = {r: int(n) for r, n in self._db.execute(q)}
        return [
            RoomStats(str(r), *usable.get(r, (0, 0)), damaged.get(r, 0))
            for r in sorted(set(usable) | set(damaged), key=str)
        ]

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # --- calling in -----------------------------------------------------------
    def _wrap(self, e: Exception) -> StoreError:
        return self._fail(_said(e))

    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except _DB_ERRORS as e:
            raise self._wrap(e) from e

    def _run_sync(self, fn, *args):
        try:
            return self._pool.submit(fn, *args).result()
        except _DB_ERRORS as e:
            raise self._wrap(e) from e

    async def load(self, room: str) -> list[bytes]:
        """Every stored update of a room, oldest first."""
        return await self._run(self._load, room)

    def load_sync(self, room: str) -> list[bytes]:
        return self._run_sync(self._load, room)

    async def load_rows(self, room: str) -> list[tuple[int, bytes]]:
        """Every stored update of a room with its row id, oldest first: ``[(row_id, data), ...]``.

        The ids are those :meth:`quarantine` takes to put a row the caller cannot use aside.
        """
        return await self._run(self._load_rows, room)

    def load_rows_sync(self, room: str) -> list[tuple[int, bytes]]:
        return self._run_sync(self._load_rows, room)

    async def append(self, room: str, data: bytes) -> int:
        """Store one update durably; returns the number of rows the room now has."""
        return await self._run(self._append, room, data)

    async def snapshot(self, room: str, data: bytes) -> None:
        """Replace every row of a room by one update holding its whole state."""
        await self._run(self._snapshot, room, data)

    async def migrate(self, room: str, row_ids: list[int], data: bytes) -> None:
        """Move rows of a room (painting schema version 1) into ``yupdates_v1`` as they were, and
        store ``data`` (the room in version 2) in their place, in one transaction."""
        await self._run(self._migrate, room, row_ids, data)

    async def quarantine(self, room: str, row_id: int, reason: str) -> bool:
        """Move one row of a room into ``yupdates_damaged`` with the reason, in one transaction.

        The data is kept as it was, never deleted. Returns False where the room has no such row
        (already moved, or compacted away).
        """
        return await self._run(self._quarantine, room, row_id, reason)

    def quarantine_sync(self, room: str, row_id: int, reason: str) -> bool:
        return self._run_sync(self._quarantine, room, row_id, reason)

    async def damaged(self, room: str | None = None) -> list[DamagedRow]:
        """The rows kept aside (of one room, or of all), by room then row id."""
        return await self._run(self._damaged, room)

    def damaged_sync(self, room: str | None = None) -> list[DamagedRow]:
        return self._run_sync(self._damaged, room)

    async def rooms(self) -> list[str]:
        """The rooms that have usable rows, by name."""
        return await self._run(self._rooms)

    def rooms_sync(self) -> list[str]:
        return self._run_sync(self._rooms)

    async def room_stats(self) -> list[RoomStats]:
        """Every room with usable or damaged rows, by name, with its counts."""
        return await self._run(self._room_stats)

    def room_stats_sync(self) -> list[RoomStats]:
        return self._run_sync(self._room_stats)

    def close(self) -> None:
        """Close the database and stop the store's thread (idempotent)."""
        if self._pool is None:
            return
        try:
            self._pool.submit(self._close).result()
        finally:
            self._pool.shutdown(wait=True)
            self._pool = None  # type: ignore[assignment]

    def __enter__(self) -> UpdateStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
