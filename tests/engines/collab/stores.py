"""Store files for the collab tests: Yjs updates of the documented schema, stores made from them."""

import asyncio
import hashlib
import sqlite3
from pathlib import Path

from pycrdt import Array, Doc, Map

from engines.collab.store import UpdateStore


def stroke_updates(n: int, prefix: str = "s") -> list[bytes]:
    """n Yjs updates, each adding one stroke of the documented schema (version 2) to ``strokes2``."""
    doc = Doc()
    strokes = doc.get("strokes2", type=Array)
    out = []
    for i in range(n):
        before = doc.get_state()
        strokes.insert(0, [f"{prefix}:{i}", prefix, i, 0.5, 0.5, 0.1, 0.02, 0.0, 1.0, 0.0, 0.0, 1.0])
        out.append(doc.get_update(before))
    return out


def stroke_updates_v1(n: int, prefix: str = "s") -> list[bytes]:
    """n Yjs updates, each adding one stroke of painting schema version 1 (a map in ``strokes``)."""
    doc = Doc()
    strokes = doc.get("strokes", type=Array)
    out = []
    for i in range(n):
        before = doc.get_state()
        fields = dict(id=f"{prefix}:{i}", author=prefix, x=0.5, y=0.5, w=0.1, h=0.02, theta=0.0)
        fields.update(r=1.0, g=0.0, b=0.0, opacity=1.0, clock=i)
        strokes.append(Map(fields))
        out.append(doc.get_update(before))
    return out


def stroke_ids(updates: list[bytes]) -> list[str]:
    doc = Doc()
    for u in updates:
        doc.apply_update(u)
    return sorted(v[0] for v in doc.get("strokes2", type=Array).to_py())


def make_store(path: Path, rooms: dict[str, list[bytes]]) -> Path:
    async def fill():
        s = UpdateStore(path)
        try:
            for room, rows in rooms.items():
                for data in rows:
                    await s.append(room, data)
        finally:
            s.close()

    asyncio.run(fill())
    return path


def old_store(path: Path, rows: list[tuple[str, bytes]]) -> Path:
    """A store as the code before ``yupdates_damaged`` made it."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(
        "CREATE TABLE yupdates (id INTEGER PRIMARY KEY AUTOINCREMENT, room TEXT NOT NULL, data BLOB NOT NULL);"
        "CREATE INDEX yupdates_room ON yupdates (room, id);"
    )
    db.executemany("INSERT INTO yupdates (room, data) VALUES (?, ?)", rows)
    db.close()
    return path


def folder_state(folder: Path) -> dict[str, str]:
    """Every file of a folder with a hash of its bytes."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(folder.iterdir())
    }
