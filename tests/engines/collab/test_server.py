"""The room server and the client on loopback: convergence, crash safety, refusals, presence."""

import asyncio
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from engines.collab import protocol as P
from engines.collab.client import ClientRefused, CollabClient
from engines.collab.server import CollabServer, ServerLimits
from engines.painting.strokes import load_painting

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "s3cret-token"


def _params(n, seed):
    return np.random.default_rng(seed).uniform(0.05, 0.95, size=(n, 8))


async def _until(pred, timeout, what):
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.02)
    return True


def _run(coro):
    return asyncio.run(asyncio.wait_for(coro, 90))


def test_ten_clients_with_random_drops_converge(tmp_path):
    n_clients, per_client = 10, 200

    async def main():
        async with CollabServer(tmp_path / "s.db", port=0, token=TOKEN) as srv:
            base = f"ws://127.0.0.1:{srv.port}"
            clients = [CollabClient(base, "room", TOKEN, author=f"u{i}", seed=i) for i in range(n_clients)]
            for c in clients:
                await c.start()
            for c in clients:
                await c.wait_online()
            rng = random.Random(0)

            async def paint(i, c):
                p = _params(per_client, i)
                k = 0
                while k < per_client:
                    m = min(rng.randint(1, 8), per_client - k)
                    c.add_many(p[k : k + m])
                    k += m
                    if rng.random() < 0.04:
                        c.drop()  # the network fails; the client comes back by itself
                    await asyncio.sleep(rng.uniform(0, 0.01))

            await asyncio.gather(*(paint(i, c) for i, c in enumerate(clients)))
            acked = set()
            for c in clients:
                acked |= await c.flush(60)
            total = n_clients * per_client
            assert len(acked) == total
            await _until(lambda: all(len(c.sdoc) == total for c in clients), 60, "convergence")
            room = srv.rooms["room"]
            ref = room.mirror().ids()
            assert len(ref) == total and set(ref) == acked
            for c in clients:
                assert c.sdoc.ids() == ref  # same strokes, same paint order
            assert sum(c.connects for c in clients) > n_clients  # drops really happened
            assert srv.stats["dropped"] == 0
            for c in clients:
                await c.close()

    _run(main())


def _start_server(store, port=0):
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.serve", "--port", str(port), "--store", str(store), "--token", TOKEN],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"server did not start: {lines} {proc.stderr.read()}")
        lines.append(line)
        if line.startswith("port: "):
            return proc, int(line.split()[1]), lines


def test_sigkill_keeps_every_acknowledged_stroke(tmp_path):
    store = tmp_path / "sessions.db"
    proc, port, lines = _start_server(store)
    assert f"token: {TOKEN}\n" in lines
    try:

        async def session():
            base = f"ws://127.0.0.1:{port}"
            clients = [CollabClient(base, "lab", TOKEN, author=f"p{i}", reconnect=False) for i in range(3)]
            for c in clients:
                await c.start()
                await c.wait_online()
            removed = set()
            for rnd in range(4):
                for i, c in enumerate(clients):
                    c.add_many(_params(25, 10 * rnd + i))
                    removed.add(c.remove(c.sdoc.by_author(c.sdoc.author)[0].id).id)
                acked = set()
                for c in clients:  # each vouches for its own strokes
                    acked |= {s for s in await c.flush(30) if s.startswith(c.sdoc.author + ":")}
            # more strokes in flight, unacknowledged, then the server is killed mid-session
            for i, c in enumerate(clients):
                c.add_many(_params(50, 100 + i))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            for c in clients:
                await c.close()
            return acked, removed

        acked, removed = _run(session())
        assert len(acked) == 4 * 3 * 24
        proc2, port2, _ = _start_server(store, port)
        try:

            async def audit():
                c = CollabClient(f"ws://127.0.0.1:{port2}", "lab", TOKEN, author="auditor", reconnect=False)
                await c.start()
                await c.wait_online()
                have = set(c.sdoc._by_id)
                await c.close()
                return have

            have = _run(audit())
            assert acked <= have, f"lost {len(acked - have)} acknowledged strokes"
            assert not (removed & have), "an acknowledged removal came back"
        finally:
            proc2.send_signal(signal.SIGTERM)
            assert proc2.wait(20) == 0
            proc2.stdout.close()
            proc2.stderr.close()
        # the headless tools read the same store
        out = tmp_path / "lab.json"
        cmd = [sys.executable, "-m", "engines", "collab"]
        r = subprocess.run([*cmd, "rooms", str(store)], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.split() == ["lab"]
        r = subprocess.run(
            [*cmd, "export", str(store), "lab", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        assert acked <= set(load_painting(out).ids())
        r = subprocess.run(
            [*cmd, "export", str(store), "nope", "--out", str(out)], cwd=ROOT, capture_output=True, text=True
        )
        assert r.returncode == 2 and "no room named 'nope'; its rooms: lab" in r.stderr
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for p in (proc,):
            p.stdout.close()
            p.stderr.close()


async def _raw_close_code(url, payloads):
    """Send raw payloads; return the close code the server answers with."""
    async with connect(url, max_size=None, compression=None) as ws:
        try:
            for p in payloads:
                await ws.send(p)
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
        return ws.close_code


def test_refusals_leave_the_document_unchanged(tmp_path):
    limits = ServerLimits(max_message_bytes=64 * 1024)

    async def main():
        async with CollabServer(tmp_path / "s.db", port=0, token=TOKEN, limits=limits) as srv:
            base = f"ws://127.0.0.1:{srv.port}"
            good = CollabClient(base, "room", TOKEN, author="good")
            await good.start()
            await good.wait_online()
            good.add_many(_params(30, 0))
            await good.flush()
            room = srv.rooms["room"]

            def fingerprint():
                return room.doc.get_state(), room.mirror().ids(), [s.x for s in room.mirror().ordered()]

            before = fingerprint()
            # wrong token, missing token, bad room name: refused before the upgrade
            bad = CollabClient(base, "room", "wrong", author="bad")
            await bad.start()
            with pytest.raises(ClientRefused, match="401"):
                await bad.wait_online(5)
            await bad.close()
            for url, status in [
                (f"{base}/room", 401),
                (f"{base}/room?token=s3cret", 401),
                (f"{base}/../x?token={TOKEN}", 404),
            ]:
                with pytest.raises(InvalidStatus) as e:
                    async with connect(url):
                        pass
                assert e.value.response.status_code == status
            url = f"{base}/room?token={TOKEN}"
            rng = np.random.default_rng(0)
            # oversized message
            assert await _raw_close_code(url, [P.sync_update(b"\x00" * (65 * 1024))]) == 1009
            # garbage bytes, truncated framing, an update that is not a Yjs update, a bad state vector
            garbage = [
                rng.bytes(200),
                b"\x00\x02\xff\xff\xff",
                P.sync_update(rng.bytes(300)),
                P.sync_update(b"\x01\x01" + rng.bytes(40)),
                P.sync_step1(rng.bytes(50)),
                "text frame",
                P.awareness_message(b"\x01\x05\x01\x02{x"),
            ]
            for g in garbage:
                code = await _raw_close_code(url, [g])
                assert code in (1002, 1003), (g, code)
            assert fingerprint() == before
            # a well-formed update that breaks the schema: undone, client dropped
            from engines.collab.schema import StrokeDoc

            evil = StrokeDoc(author="evil")
            evil.apply_remote(room.doc.get_update())
            with evil.doc.transaction():
                evil.strokes_array.insert(0, "not a stroke")
                v = evil.strokes_array.to_py()[3]
                del evil.strokes_array[3]
                evil.strokes_array.insert(0, [*v[:3], 99.0, *v[4:]])
            diff = evil.doc.get_update(room.doc.get_state())
            assert await _raw_close_code(url, [P.sync_update(diff)]) == 1008
            assert fingerprint() == before
            assert room.mirror().invalid == []
            await _until(lambda: len(good.sdoc.strokes_array) == 30, 10, "repair reaches clients")
            assert good.sdoc.ids() == before[1] and good.sdoc.invalid == []
            # rate limit per client
            fast = ServerLimits(messages_per_s=5, message_burst=10)
            srv.limits = fast
            assert await _raw_close_code(url, [P.query_awareness()] * 50) == 1008
            srv.limits = limits
            # the good client was never disturbed
            assert good.state == "online" and good.connects == 1
            await good.close()

    _run(main())


def test_offline_edits_merge_and_presence(tmp_path):
    async def main():
        async with CollabServer(tmp_path / "s.db", port=0, token=TOKEN) as srv:
            base = f"ws://127.0.0.1:{srv.port}"
            peers_seen = []
            a = CollabClient(base, "r", TOKEN, author="ada", name="Ada", colour="#cc3366")
            b = CollabClient(base, "r", TOKEN, author="bob", on_peers=peers_seen.append)
            a.add_many(_params(5, 1))  # made before ever connecting
            await a.start()
            await b.start()
            await a.wait_online()
            await b.wait_online()
            await _until(lambda: len(b.sdoc) == 5, 10, "offline strokes arrive")
            a.set_cursor(0.25, 0.75)
            await _until(lambda: any(p.get("cursor") == [0.25, 0.75] for p in b.peers.values()), 10, "cursor")
            (st,) = b.peers.values()
            assert st["name"] == "Ada" and st["colour"] == "#cc3366"
            # a goes offline, both sides edit, a comes back: everything merges
            a.drop()
            a.add_many(_params(3, 2))
            a.remove(a.sdoc.ids()[0])
            b.add_many(_params(4, 3))
            await a.wait_online()
            await a.flush()
            await b.flush()
            await _until(lambda: len(a.sdoc) == len(b.sdoc) == 5 + 3 - 1 + 4, 10, "merge")
            assert a.sdoc.ids() == b.sdoc.ids()
            assert a.connects == 2
            # undo of my own stroke only: bob removes his last stroke, ada's strokes stay
            mine = b.sdoc.by_author("bob")[-1]
            b.remove(mine.id)
            await _until(lambda: mine.id not in a.sdoc, 10, "removal")
            await a.close()
            await _until(lambda: not b.peers, 10, "peer leaves")
            assert peers_seen[-1] == {}
            await b.close()
            assert b.state == "closed"

    _run(main())


def test_backlog_over_the_message_limit_is_reported_not_retried(tmp_path):
    async def main():
        limits = ServerLimits(max_message_bytes=64 * 1024)
        async with CollabServer(tmp_path / "s.db", port=0, token=TOKEN, limits=limits) as srv:
            c = CollabClient(f"ws://127.0.0.1:{srv.port}", "r", TOKEN, author="big")
            c.add_many(_params(1000, 0))  # ~330 kB of offline work, then connect
            await c.start()
            await _until(lambda: c.state == "refused", 10, "refusal")
            assert "larger" in c.error
            with pytest.raises(ClientRefused, match="larger"):
                await c.wait_online(1)
            await asyncio.sleep(0.3)
            assert c.connects == 1  # not retried
            await c.close()

    _run(main())


def test_giving_memory_back_never_collects_where_the_process_turned_collection_off():
    """The studio turns automatic collection off and collects on its GUI thread only; the room
    server's loader thread must then leave cyclic garbage to it (a collection there deadlocked
    a hosted session against the GUI thread)."""
    import gc
    import weakref

    from engines.collab.server import _give_back_memory

    class Node:
        pass

    def cycle():
        a, b = Node(), Node()
        a.other, b.other = b, a
        return weakref.ref(a)

    was = gc.isenabled()
    try:
        gc.disable()
        ref = cycle()
        _give_back_memory()
        assert ref() is not None  # left for the process's own collector
        gc.enable()
        _give_back_memory()
        assert ref() is None
    finally:
        (gc.enable if was else gc.disable)()
