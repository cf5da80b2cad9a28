"""The SQLite store: what it refuses (and leaves untouched), new stores, and rows kept aside as damaged."""

import asyncio
import functools
import logging
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc

from engines.collab.store import DamagedRow, RoomStats, StoreError, UpdateStore
from tests.engines.collab.stores import folder_state, make_store, old_store, stroke_ids, stroke_updates


def _good_store_bytes(tmp: Path) -> bytes:
    path = make_store(tmp / "good.db", {"a": stroke_updates(30), "b": stroke_updates(30, "t")})
    data = path.read_bytes()
    path.unlink()
    return data


def _foreign_db(path: Path, sql: str) -> None:
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.commit()
    db.close()


def _bad_text(p):
    p.write_text("room,data\nlab,hello\n" * 50)


def _bad_random(p):
    p.write_bytes(os.urandom(5000))


def _bad_header_only(p):
    p.write_bytes(b"SQLite format 3\x00" + bytes(84))


def _bad_short_header(p):
    p.write_bytes(b"SQLite format 3\x00\x10\x00")


def _bad_magic_then_random(p):
    p.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))


def _bad_truncated(frac):
    def make(p):
        p.write_bytes(_good_store_bytes(p.parent)[: int(8192 * frac * 4)])

    return make


def _bad_page_one(p):
    data = bytearray(_good_store_bytes(p.parent))
    data[100:4096] = os.urandom(3996)
    p.write_bytes(bytes(data))


def _bad_foreign(p):
    _foreign_db(
        p, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes (text) VALUES ('x');"
    )


def _bad_no_tables(p):
    _foreign_db(p, "CREATE TABLE t (x); DROP TABLE t;")


def _bad_wrong_columns(p):
    _foreign_db(p, "CREATE TABLE yupdates (id INTEGER PRIMARY KEY, doc TEXT, payload BLOB);")


def _bad_wrong_damaged_columns(p):
    _foreign_db(
        p,
        "CREATE TABLE yupdates (id INTEGER PRIMARY KEY, room TEXT, data BLOB);"
        "CREATE TABLE yupdates_damaged (id INTEGER PRIMARY KEY, why TEXT);",
    )


BAD_FILES = {
    "text file": (_bad_text, "text file"),
    "random bytes": (_bad_random, "not an SQLite store"),
    "SQLite header only": (_bad_header_only, "SQLite"),
    "cut inside the header": (_bad_short_header, "truncated SQLite file"),
    "SQLite magic then random bytes": (_bad_magic_then_random, "SQLite"),
    "truncated to a quarter": (_bad_truncated(0.25), "damaged SQLite database"),
    "truncated to half": (_bad_truncated(0.5), "damaged SQLite database"),
    "first page garbled": (_bad_page_one, "damaged SQLite database"),
    "a foreign database": (_bad_foreign, "no table yupdates; its tables: notes"),
    "a database without tables": (_bad_no_tables, "no table yupdates"),
    "yupdates with other columns": (_bad_wrong_columns, "expected (id, room, data)"),
    "yupdates_damaged with other columns": (_bad_wrong_damaged_columns, "table yupdates_damaged has columns"),
}


@pytest.mark.parametrize("create", [True, False], ids=["serving", "read-only"])
@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_a_file_that_is_not_a_store_of_ours_is_refused_in_one_line_and_left_untouched(tmp_path, kind, create):
    make, says = BAD_FILES[kind]
    path = tmp_path / "store.db"
    make(path)
    before = folder_state(tmp_path)
    with pytest.raises(StoreError) as e:
        UpdateStore(path, create=create)
    msg = str(e.value)
    assert msg.startswith(f"{path}: ") and says in msg and "\n" not in msg
    assert folder_state(tmp_path) == before  # not a byte written, no -wal / -shm left beside it


@pytest.mark.parametrize("create", [True, False], ids=["serving", "read-only"])
def test_a_folder_is_refused(tmp_path, create):
    (tmp_path / "store.db").mkdir()
    with pytest.raises(StoreError, match=r"store\.db: is a folder, not a store file$"):
        UpdateStore(tmp_path / "store.db", create=create)
    assert list((tmp_path / "store.db").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes files whatever their permissions")
def test_a_store_without_permission_is_refused(tmp_path):
    path = make_store(tmp_path / "s.db", {"a": stroke_updates(2)})
    path.chmod(0o444)
    with pytest.raises(StoreError, match="cannot write it"):
        UpdateStore(path)
    path.chmod(0)
    with pytest.raises(StoreError, match="cannot read it"):
        UpdateStore(path, create=False)


def test_a_store_we_may_not_write_is_read_without_leaving_files_beside_it(tmp_path, monkeypatch):
    ups = stroke_updates(3)
    path = make_store(tmp_path / "s.db", {"a": ups})
    before = folder_state(tmp_path)
    # as another user would see it (root may write anything, so the permission is simulated)
    monkeypatch.setattr("engines.collab.store.os.access", lambda p, mode: not mode & os.W_OK)
    with pytest.raises(StoreError, match="cannot write it"):
        UpdateStore(path)
    with UpdateStore(path, create=False) as s:
        assert s.readonly and [d for _, d in s.load_rows_sync("a")] == ups
        assert folder_state(tmp_path) == before  # no -shm / -wal of ours, even while open


def test_a_missing_store_is_made_with_its_folders_only_when_serving(tmp_path):
    path = tmp_path / "sub" / "dir" / "s.db"
    with pytest.raises(StoreError, match=r"s\.db: no such store"):
        UpdateStore(path, create=False)
    assert not (tmp_path / "sub").exists()
    s = UpdateStore(path)
    try:
        assert s.notice is None and s.room_stats_sync() == [] and s.damaged_sync() == []
    finally:
        s.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["s.db"]  # no temporary file left
    tables = {
        r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {"yupdates", "yupdates_damaged"} <= tables


def test_an_empty_file_becomes_a_new_store_with_a_warning_when_serving_and_is_refused_by_the_tools(
    tmp_path, caplog
):
    path = tmp_path / "s.db"
    path.touch()
    with pytest.raises(StoreError, match=r"s\.db: the file is empty, not a store$"):
        UpdateStore(path, create=False)
    assert path.stat().st_size == 0
    with caplog.at_level(logging.WARNING, logger="engines.collab.store"):
        s = UpdateStore(path)
    try:
        assert s.notice == f"{path} is empty: starting a new store"
        assert s.notice in caplog.text
        assert asyncio.run(s.append("a", stroke_updates(1)[0])) == 1
    finally:
        s.close()
    assert path.stat().st_size > 0


def test_no_new_store_over_a_journal_that_holds_data(tmp_path):
    path = tmp_path / "s.db"
    Path(f"{path}-wal").write_bytes(b"x" * 100)
    with pytest.raises(StoreError, match="s.db-wal beside it holds data"):
        UpdateStore(path)
    assert not path.exists()


def test_a_store_of_the_older_layout_opens_and_gains_the_damaged_table_only_when_serving(tmp_path):
    ups = stroke_updates(3)
    path = old_store(tmp_path / "old.db", [("a", u) for u in ups])
    before = folder_state(tmp_path)
    s = UpdateStore(path, create=False)
    try:
        assert s.damaged_sync() == [] and s.room_stats_sync() == [RoomStats("a", 3, sum(map(len, ups)), 0)]
        with pytest.raises(StoreError, match="read-only"):
            s.quarantine_sync("a", 1, "x")
    finally:
        s.close()
    assert folder_state(tmp_path) == before
    s = UpdateStore(path)
    try:
        assert [d for _, d in s.load_rows_sync("a")] == ups
        assert s.quarantine_sync("a", 1, "test") and [r.id for r in s.damaged_sync()] == [1]
    finally:
        s.close()


def test_a_garbage_row_among_good_ones_is_put_aside_by_room_and_row_and_the_rest_loads(tmp_path):
    good = stroke_updates(6)
    garbage = b"\xff\x00garbage\x13" * 7
    path = tmp_path / "s.db"
    other = stroke_updates(2, "o")
    make_store(path, {"lab": good[:3] + [garbage] + good[3:], "other": other})

    async def main():
        s = UpdateStore(path)
        try:
            rows = await s.load_rows("lab")
            assert [d for _, d in rows] == good[:3] + [garbage] + good[3:]
            assert [i for i, _ in rows] == sorted(i for i, _ in rows)
            bad_id = rows[3][0]
            # what a server does: apply row by row, put aside what fails
            doc = Doc()
            for row_id, data in rows:
                try:
                    doc.apply_update(data)
                except ValueError as e:
                    assert await s.quarantine("lab", row_id, f"cannot decode: {e}")
            assert sorted(v[0] for v in doc.get("strokes2", type=Array).to_py()) == stroke_ids(good)
            assert await s.quarantine("lab", bad_id, "again") is False  # already moved
            assert await s.quarantine("other", rows[0][0], "wrong room") is False  # never another room's row
            (aside,) = await s.damaged()
            assert aside.room == "lab" and aside.id == bad_id and aside.bytes == len(garbage)
            assert aside.reason.startswith("cannot decode:") and aside.at.endswith("Z")
            assert await s.damaged("other") == []
            return bad_id
        finally:
            s.close()

    bad_id = asyncio.run(main())
    s = UpdateStore(path, create=False)  # kept across reopening, and by the read-only tools
    try:
        assert [d for _, d in s.load_rows_sync("lab")] == good
        assert s.load_sync("lab") == good  # the old API sees the usable rows too
        assert [(r.room, r.id) for r in s.damaged_sync("lab")] == [("lab", bad_id)]
        assert s.room_stats_sync() == [
            RoomStats("lab", 6, sum(map(len, good)), 1),
            RoomStats("other", 2, sum(map(len, other)), 0),
        ]
    finally:
        s.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT room, data FROM yupdates_damaged WHERE id = ?", (bad_id,)).fetchone() == (
        "lab",
        garbage,
    )  # the data is kept byte for byte, never deleted


def test_putting_aside_is_all_or_nothing(tmp_path):
    ups = stroke_updates(2)
    path = make_store(tmp_path / "s.db", {"a": ups})
    db = sqlite3.connect(path)
    db.execute("INSERT INTO yupdates_damaged (id, room, data, reason, at) VALUES (1, 'a', x'00', 'x', 'y')")
    db.commit()
    db.close()
    s = UpdateStore(path)
    try:
        with pytest.raises(StoreError, match=r"s\.db: .*UNIQUE"):
            s.quarantine_sync("a", 1, "clash")  # the copy fails: the row stays where it was
        assert [d for _, d in s.load_rows_sync("a")] == ups
    finally:
        s.close()


def test_a_reason_is_one_bounded_line_and_an_only_damaged_room_is_still_listed(tmp_path):
    path = make_store(tmp_path / "s.db", {"a": [b"junk"]})
    s = UpdateStore(path)
    try:
        assert s.quarantine_sync("a", 1, "line one\nline two " + "x" * 5000)
        (r,) = s.damaged_sync()
        assert r == DamagedRow("a", 1, 4, r.reason, r.at)
        assert r.reason.startswith("line one line two x") and len(r.reason) <= 1000
        assert s.rooms_sync() == [] and s.room_stats_sync() == [RoomStats("a", 0, 0, 1)]
    finally:
        s.close()


def test_data_that_is_not_a_blob_comes_back_as_its_bytes(tmp_path):
    path = old_store(tmp_path / "s.db", [("a", b"\x01")])
    db = sqlite3.connect(path)
    db.execute("INSERT INTO yupdates (room, data) VALUES ('a', 5), ('a', 'text')")
    db.commit()
    db.close()
    s = UpdateStore(path, create=False)
    try:
        assert [d for _, d in s.load_rows_sync("a")] == [b"\x01", b"5", b"text"]  # not five zero bytes
    finally:
        s.close()


@functools.cache
def good_store_bytes() -> bytes:
    """A real store of two rooms, as bytes (made once)."""
    with tempfile.TemporaryDirectory() as d:
        return _good_store_bytes(Path(d))


@settings(max_examples=300, deadline=None)
@given(
    edits=st.lists(  # (offset, bytes): in the first pages (the schema, the b-tree roots) or anywhere
        st.tuples(
            st.one_of(st.integers(0, 3 * 4096), st.integers(0, 2**20)), st.binary(min_size=1, max_size=64)
        ),
        min_size=1,
        max_size=8,
    ),
    cut=st.one_of(st.none(), st.integers(0, 2**20)),
)
def test_fuzz_a_damaged_store_opens_or_is_refused_in_one_line_and_is_never_written(
    tmp_path_factory, edits, cut
):
    folder = tmp_path_factory.mktemp("fuzz")
    data = bytearray(good_store_bytes())
    for at, chunk in edits:
        at %= len(data)
        data[at : at + len(chunk)] = chunk
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    path = folder / "s.db"
    path.write_bytes(bytes(data))
    before = folder_state(folder)
    try:
        s = UpdateStore(path, create=False)
    except StoreError as e:
        assert str(e).startswith(f"{path}: ") and "\n" not in str(e)
    else:
        try:
            for stats in s.room_stats_sync():
                s.load_rows_sync(stats.room)
            s.damaged_sync()
        except StoreError as e:  # damage quick_check does not see, met while reading
            assert str(e).startswith(f"{path}: ")
        finally:
            s.close()
    assert folder_state(folder) == before
