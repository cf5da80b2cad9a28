"""Rooms of painting schema version 1 are migrated when first loaded; version 1 clients are told to update."""

from __future__ import annotations

import asyncio
import sqlite3

import numpy as np
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from engines.collab import protocol as P
from engines.collab.client import CollabClient
from engines.collab.schema_v1 import StrokeDoc as StrokeDocV1
from engines.collab.server import CollabServer
from engines.collab.store import UpdateStore

from .stores import stroke_updates_v1

TOKEN = "migrate-token"


def _v1_store(path) -> tuple[dict, list[bytes]]:
    """A store written as the code of version 1 wrote it: updates of its StrokeDoc, one row each."""
    s = StrokeDocV1(author="teacher", undo=True)
    rows: list[bytes] = []
    s.doc.observe(lambda e: rows.append(e.update))
    s.set_background((0.9, 0.8, 0.7))
    made = s.add_many(np.random.default_rng(0).uniform(0.1, 0.9, (30, 8)))
    s.update(made[0].id, x=0.25)
    s.remove(made[1].id)
    s.add_many(np.full((2, 8), 0.5), author="pupil")
    want = s.to_painting().to_dict()
    st = UpdateStore(path)
    for r in rows:
        asyncio.run(st.append("class", r))
    for r in stroke_updates_v1(3, prefix="other"):
        asyncio.run(st.append("other", r))
    st.close()
    return want, rows


def test_a_version_1_room_is_migrated_at_first_load_and_its_rows_kept(tmp_path):
    store = tmp_path / "v1.db"
    want, rows = _v1_store(store)

    async def main():
        async with CollabServer(store, port=0, token=TOKEN) as srv:
            base = f"ws://127.0.0.1:{srv.port}"
            c = CollabClient(base, "class", TOKEN, author="pupil", reconnect=False)
            await c.start()
            await c.wait_online(20)
            got = c.sdoc.to_painting().to_dict()
            # the pupil's own strokes are theirs: undo and edits work in the migrated room
            mine = c.sdoc.by_author("pupil")
            c.update(mine[0].id, y=0.1)
            await c.flush(10)
            assert srv.rooms["class"].mirror().get(mine[0].id).y == 0.1
            await c.close()
            o = CollabClient(base, "other", TOKEN, author="x", reconnect=False)
            await o.start()
            await o.wait_online(20)
            n_other = len(o.sdoc)
            await o.close()
            return got, n_other

    got, n_other = asyncio.run(asyncio.wait_for(main(), 60))
    assert got == want and n_other == 3
    db = sqlite3.connect(store)
    kept = [bytes(r[0]) for r in db.execute("SELECT data FROM yupdates_v1 WHERE room = 'class' ORDER BY id")]
    n_rows = db.execute("SELECT count(*) FROM yupdates WHERE room = 'class'").fetchone()[0]
    damaged = db.execute("SELECT count(*) FROM yupdates_damaged").fetchone()[0]
    db.close()
    assert kept == rows and damaged == 0 and n_rows >= 1

    # a second load reads version 2 rows: nothing more to migrate, the same painting
    async def again():
        async with CollabServer(store, port=0, token=TOKEN) as srv:
            c = CollabClient(f"ws://127.0.0.1:{srv.port}", "class", TOKEN, author="t", reconnect=False)
            await c.start()
            await c.wait_online(20)
            out = c.sdoc.to_painting()
            await c.close()
            return out

    p = asyncio.run(asyncio.wait_for(again(), 60))
    assert len(p.strokes) == len(want["strokes"]) and p.background == tuple(want["background"])


def test_a_version_1_client_is_refused_with_a_reason_that_says_so(tmp_path):
    async def main():
        async with CollabServer(tmp_path / "s.db", port=0, token=TOKEN) as srv:
            base = f"ws://127.0.0.1:{srv.port}"
            good = CollabClient(base, "r", TOKEN, author="good", reconnect=False)
            await good.start()
            await good.wait_online()
            good.add_many(np.full((3, 8), 0.4))
            await good.flush(10)
            old = StrokeDocV1(author="old")
            old.add([0.5] * 8)
            async with connect(f"{base}/r?token={TOKEN}", max_size=None, compression=None) as ws:
                try:
                    await ws.send(P.sync_update(old.doc.get_update()))
                    async with asyncio.timeout(10):
                        async for _ in ws:
                            pass
                except ConnectionClosed:
                    pass
                code, reason = ws.close_code, ws.close_reason
            assert len(srv.rooms["r"].mirror()) == 3 and good.state == "online"
            await good.close()
            return code, reason

    code, reason = asyncio.run(asyncio.wait_for(main(), 60))
    assert code == 1008
    assert "version 1" in reason and "version 2" in reason and "update the client" in reason
