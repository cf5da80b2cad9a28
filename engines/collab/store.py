"""SQLite persistence of room updates.

One table of Yjs updates per room, appended in group commits (several updates
merged into one row per transaction) and compacted now and then into a single
snapshot row. The database runs in WAL mode with ``synchronous=FULL``: once
:meth:`UpdateStore.append` returns, the rows survive the process being killed
(and a power cut). All SQLite work happens on one worker thread owned by the
store, so the asyncio loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["UpdateStore", "StoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS yupdates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS yupdates_room ON yupdates (room, id);
"""


class StoreError(RuntimeError):
    """The store file cannot be opened or written; the message names it."""


class UpdateStore:
    """Append-only Yjs updates per room in one SQLite file (``":memory:"`` for tests)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = str(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-sqlite")
        self._db: sqlite3.Connection | None = None
        try:
            self._pool.submit(self._open).result()
        except Exception:
            self._pool.shutdown(wait=True)
            raise

    # all of these run on the store's thread
    def _open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a usable SQLite store ({e})") from e
        self._db = db

    def _load(self, room: str) -> list[bytes]:
        assert self._db is not None
        rows = self._db.execute("SELECT data FROM yupdates WHERE room = ? ORDER BY id", (room,))
        return [bytes(r[0]) for r in rows]

    def _append(self, room: str, data: bytes) -> int:
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO yupdates (room, data) VALUES (?, ?)", (room, data))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        (n,) = db.execute("SELECT count(*) FROM yupdates WHERE room = ?", (room,)).fetchone()
        return int(n)

    def _snapshot(self, room: str, data: bytes) -> None:
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            cur = db.execute("INSERT INTO yupdates (room, data) VALUES (?, ?)", (room, data))
            db.execute("DELETE FROM yupdates WHERE room = ? AND id < ?", (room, cur.lastrowid))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _rooms(self) -> list[str]:
        assert self._db is not None
        return [r[0] for r in self._db.execute("SELECT DISTINCT room FROM yupdates ORDER BY room")]

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # asyncio side
    async def _run(self, fn, *args):
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, *args)
        except sqlite3.Error as e:
            raise StoreError(f"{self.path}: {e}") from e

    async def load(self, room: str) -> list[bytes]:
        """Every stored update of a room, oldest first."""
        return await self._run(self._load, room)

    async def append(self, room: str, data: bytes) -> int:
        """Store one update durably; returns the number of rows the room now has."""
        return await self._run(self._append, room, data)

    async def snapshot(self, room: str, data: bytes) -> None:
        """Replace every row of a room by one update holding its whole state."""
        await self._run(self._snapshot, room, data)

    async def rooms(self) -> list[str]:
        return await self._run(self._rooms)

    def load_sync(self, room: str) -> list[bytes]:
        return self._pool.submit(self._load, room).result()

    def close(self) -> None:
        """Close the database and stop the store's thread (idempotent)."""
        if self._pool is None:
            return
        try:
            self._pool.submit(self._close).result()
        finally:
            self._pool.shutdown(wait=True)
            self._pool = None  # type: ignore[assignment]
