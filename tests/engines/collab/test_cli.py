"""``python -m engines collab ...`` and ``studio serve`` given careless or hostile stores and outputs.

Every refusal is one line on stderr naming the file, exit status 2, no traceback, nothing created
or left half-written; the tools that only read never make a store.
"""

import json
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engines.__main__ import main as engines_main
from engines.collab.store import UpdateStore
from studio.serve import main as serve_main
from tests.engines.collab.stores import folder_state, make_store, stroke_ids, stroke_updates

ROOT = Path(__file__).resolve().parents[3]


def collab(*args) -> int:
    return engines_main(["collab", *map(str, args)])


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def bad_stores(folder: Path) -> dict[str, Path]:
    """A store path of each careless kind, none of them a store."""
    folder.mkdir()
    (folder / "empty.db").touch()
    (folder / "text.db").write_text("not a database\n")
    (folder / "random.db").write_bytes(bytes(range(256)) * 20)
    (folder / "a folder.db").mkdir()
    db = sqlite3.connect(folder / "foreign.db")
    db.execute("CREATE TABLE notes (x)")
    db.commit()
    db.close()
    good = make_store(folder / "cut.db", {"r": stroke_updates(40)}).read_bytes()
    (folder / "cut.db").write_bytes(good[: len(good) // 2])
    return {p.name: p for p in folder.iterdir()} | {"missing.db": folder / "missing.db"}


@pytest.mark.parametrize("tool", ["rooms", "damaged", "export"])
def test_a_tool_that_reads_refuses_a_bad_store_in_one_line_and_creates_nothing(tmp_path, capsys, tool):
    stores = bad_stores(tmp_path / "stores")
    before = folder_state(tmp_path / "stores")
    out = tmp_path / "out.json"
    for name, path in stores.items():
        extra = ["lab", "--out", out] if tool == "export" else []
        assert collab(tool, path, *extra) == 2, name
        line = one_line(capsys.readouterr().err)
        assert line.startswith(f"collab {tool}: {path}: "), line
    assert folder_state(tmp_path / "stores") == before  # no store made, nothing written, nothing beside them
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["stores"]


def test_rooms_lists_names_and_with_long_the_rows_and_damaged_rows(tmp_path, capsys):
    path = make_store(
        tmp_path / "s.db", {"lab": stroke_updates(3) + [b"junk"], "b\x1b[2Jx": stroke_updates(1)}
    )
    with UpdateStore(path) as s:
        assert s.quarantine_sync("lab", 4, "cannot decode")
    assert collab("rooms", path) == 0
    got = capsys.readouterr()
    assert got.out.split() == [
        "'b\\x1b[2Jx'",
        "lab",
    ]  # a control character is shown, never sent to the terminal
    assert (
        one_line(got.err)
        == f"collab rooms: {path}: 1 damaged rows kept aside in 1 rooms (list them: collab damaged {path})"
    )
    assert collab("rooms", "--long", path) == 0
    lab = capsys.readouterr().out.splitlines()[1].split()
    assert lab[:2] == ["lab", "3"] and lab[-2:] == ["1", "damaged"]


def test_rooms_of_a_new_store_says_there_are_none(tmp_path, capsys):
    UpdateStore(tmp_path / "s.db").close()
    assert collab("rooms", tmp_path / "s.db") == 0
    got = capsys.readouterr()
    assert got.out == "" and one_line(got.err).endswith("s.db: no rooms yet")


def test_damaged_lists_rows_kept_aside_by_room_and_row(tmp_path, capsys):
    path = make_store(tmp_path / "s.db", {"a": [b"x" * 10, *stroke_updates(1)], "b": [b"yy"]})
    with UpdateStore(path) as s:
        s.quarantine_sync("a", 1, "cannot decode: bad")
        s.quarantine_sync("b", 3, "no\nnewline")
    assert collab("damaged", path) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[:5] for ln in lines] == [
        ["a", "row", "1", "10", "bytes"],
        ["b", "row", "3", "2", "bytes"],
    ]
    assert lines[0].endswith("cannot decode: bad") and lines[1].endswith("no newline")
    assert collab("damaged", path, "b") == 0
    assert [ln.split()[0] for ln in capsys.readouterr().out.splitlines()] == ["b"]
    assert collab("damaged", path, "zz") == 0
    assert one_line(capsys.readouterr().err).endswith("no damaged rows in room zz")


def test_export_skips_a_damaged_row_and_writes_the_rest(tmp_path, capsys):
    good = stroke_updates(4)
    path = make_store(tmp_path / "s.db", {"lab": good[:2] + [b"\xffjunk"] + good[2:]})
    out = tmp_path / "lab.json"
    assert collab("export", path, "lab", "--out", out) == 0
    got = capsys.readouterr()
    assert (
        one_line(got.err)
        == "collab export: skipped damaged row 3 of room 'lab': claims 13695 clients in 3 remaining bytes"
    )
    assert sorted(s["id"] for s in json.loads(out.read_text())["strokes"]) == stroke_ids(good)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.json", "s.db"]


def test_export_refuses_without_touching_the_output(tmp_path, capsys):
    path = make_store(tmp_path / "s.db", {"lab": stroke_updates(2), "junk": [b"\x00\x01", b"\xff"]})
    out = tmp_path / "out.json"
    out.write_text("precious")
    # a room whose every row is damaged
    assert collab("export", path, "junk", "--out", out) == 2
    assert "room 'junk' has no usable row (2 damaged" in one_line(capsys.readouterr().err)
    # a room that is not there: a user's mistake, answered with the rooms there are
    assert collab("export", path, "nope", "--out", out) == 2
    assert (
        one_line(capsys.readouterr().err)
        == f"collab export: {path}: no room named 'nope'; its rooms: junk, lab"
    )
    # an output that is a folder
    assert collab("export", path, "lab", "--out", tmp_path) == 2
    assert "is a folder; give a file name" in one_line(capsys.readouterr().err)
    # an output whose folder cannot be made (a file is in the way)
    assert collab("export", path, "lab", "--out", out / "x.json") == 2
    assert one_line(capsys.readouterr().err).startswith(
        f"collab export: --out {out / 'x.json'}: cannot write it"
    )
    assert out.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "s.db"]  # no temporary file left
    assert collab("export", path, "lab", "--out", out) == 0
    assert len(json.loads(out.read_text())["strokes"]) == 2


def test_export_failing_midway_leaves_no_temporary_file(tmp_path, capsys, monkeypatch):
    path = make_store(tmp_path / "s.db", {"lab": stroke_updates(2)})

    def no_room(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("engines.collab.cli.os.replace", no_room)
    assert collab("export", path, "lab", "--out", tmp_path / "o.json") == 2
    assert one_line(capsys.readouterr().err).endswith("cannot write it (No space left on device)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db"]


@pytest.mark.parametrize("name", ["text.db", "random.db", "a folder.db", "foreign.db", "cut.db"])
def test_serve_refuses_a_bad_store_in_one_line(tmp_path, capsys, name):
    path = bad_stores(tmp_path / "stores")[name]
    before = folder_state(tmp_path / "stores")
    assert serve_main(["--store", str(path), "--port", "0", "--token", "t"]) == 2
    assert one_line(capsys.readouterr().err).startswith(f"collab serve: {path}: ")
    assert folder_state(tmp_path / "stores") == before


@pytest.mark.parametrize(
    "cmd", [["-m", "studio", "serve"], ["-m", "engines", "collab", "serve"]], ids=["studio", "engines"]
)
def test_serve_command_prints_one_line_for_a_bad_store(tmp_path, cmd):
    bad = tmp_path / "s.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x07" * 3000)
    r = subprocess.run(
        [sys.executable, *cmd, "--store", str(bad), "--port", "0"], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 2 and r.stdout == ""
    assert one_line(r.stderr).startswith(f"collab serve: {bad}: ")


def test_serve_says_when_it_starts_a_new_store_in_an_empty_file(tmp_path):
    store = tmp_path / "s.db"
    store.touch()
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.serve", "--store", str(store), "--port", "0", "--token", "t"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (line := proc.stdout.readline()).startswith("port: "):
            assert line, proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        assert f"{store} is empty: starting a new store" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()
    with UpdateStore(store, create=False) as s:
        assert s.room_stats_sync() == []


def test_serve_answers_a_bad_port_or_a_busy_one_in_one_line(tmp_path, capsys):
    assert serve_main(["--store", str(tmp_path / "s.db"), "--port", "70000"]) == 2
    assert one_line(capsys.readouterr().err) == "collab serve: port = 70000: must be in [0, 65535]"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert serve_main(["--store", str(tmp_path / "s.db"), "--port", str(port), "--token", "t"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"collab serve: cannot listen on 127.0.0.1:{port}: ") and "--port 0" in line


def test_export_puts_hostile_rows_aside_without_reaching_pycrdt(tmp_path, capsys):
    """A row written before the server checked updates (a map nested 20,000 deep) is skipped by name."""
    import asyncio

    from tests.engines.collab.test_hostile_server import _nested

    path = tmp_path / "old.db"
    store = UpdateStore(path)
    good = stroke_updates(3)
    asyncio.run(store.append("lab", good[0]))
    asyncio.run(store.append("lab", _nested(20_000, 99)))
    store.close()
    out = tmp_path / "lab.json"
    assert collab("export", path, "lab", "--out", out) == 0
    err = capsys.readouterr().err
    assert "skipped damaged row 2 of room 'lab'" in err and "must be a plain value" in err
    assert out.exists()


def test_import_seeds_a_new_room_that_export_gives_back(tmp_path, capsys):
    import numpy as np

    from engines.painting.strokes import Painting

    p = Painting(background=(0.1, 0.2, 0.3))
    rng = np.random.default_rng(5)
    p.add_many(rng.uniform(0.1, 0.9, (700, 8)), author="teacher")
    p.add_many(rng.uniform(0.1, 0.9, (3, 8)), author="model")
    src = tmp_path / "lesson.json"
    src.write_text(json.dumps(p.to_dict()))
    store = tmp_path / "new" / "s.db"
    store.parent.mkdir()
    assert collab("import", src, "--store", store, "--room", "lesson-1") == 0
    assert capsys.readouterr().out.strip() == f"703 strokes -> room lesson-1 of {store}"
    out = tmp_path / "back.json"
    assert collab("export", store, "lesson-1", "--out", out) == 0
    assert json.loads(out.read_text()) == json.loads(src.read_text())
    capsys.readouterr()
    # a room that exists is not overwritten; a bad room name or painting file is refused in one line
    assert collab("import", src, "--store", store, "--room", "lesson-1") == 2
    assert "exists (1 rows)" in one_line(capsys.readouterr().err)
    assert collab("import", src, "--store", store, "--room", "../x") == 2
    assert "--room" in one_line(capsys.readouterr().err)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "neural-studio-painting", "version": 1, "strokes": [{"id": 3}]}')
    assert collab("import", bad, "--store", store, "--room", "r2") == 2
    assert str(bad) in one_line(capsys.readouterr().err)
    assert collab("import", tmp_path / "missing.json", "--store", store, "--room", "r2") == 2
    one_line(capsys.readouterr().err)
    s = UpdateStore(store, create=False)
    try:
        assert s.rooms_sync() == ["lesson-1"]
    finally:
        s.close()
