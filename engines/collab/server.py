"""A Yjs room server over WebSocket: sync, awareness, SQLite persistence, tokens, limits.

Any Yjs client speaking the standard protocol (y-protocols sync + awareness,
e.g. the JavaScript ``y-websocket`` provider) can join ``ws://HOST:PORT/ROOM``
with the room's token in the ``token`` query parameter.

Guarantees:

* **Durability.** Every update applied to a room is written to SQLite in
  group commits. A client's SyncStep1 is answered only once everything the
  room had applied when it arrived is on disk, so the SyncStep2 reply is an
  acknowledgement: whatever the client had sent before its SyncStep1 survives
  a crash of the server (SIGKILL included). :class:`~engines.collab.client.CollabClient`
  uses this for :meth:`~engines.collab.client.CollabClient.flush`.
* **Security.** Tokens are compared with :func:`hmac.compare_digest` before
  the WebSocket upgrade (HTTP 401 otherwise); messages larger than
  ``max_message_bytes`` close the connection (1009); a token bucket per
  connection limits messages and bytes per second (1008); a message that
  breaks the protocol (1002) or the document schema (1008) drops the client.
  Every update is checked by :class:`~engines.collab.validate_v2.UpdateValidatorV2`
  before pycrdt or the store sees it: sizes, counts, nesting and the painting
  schema version 2 (see :mod:`engines.collab.validate` and
  :mod:`engines.collab.validate_v2`). A refused update is never applied, stored
  or forwarded, and its sender is dropped (1008, with the reason; a version 1
  client is told so). State vectors and presence are bounded the same way.
* **Stores.** A room is loaded row by row through the same checks: a row that
  fails them is moved aside in the store (``python -m engines collab damaged``
  lists it), logged by room and row, and the rest of the room loads. A room
  written in painting schema version 1 is migrated when it is first loaded: its
  rows go, as they were, to the table ``yupdates_v1``, and one row holding the
  room in version 2 takes their place.
* **Memory.** The server holds each room as a pycrdt document and the
  validator's tables, no mirror of the strokes.
* **Network.** Binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import hmac
import logging
import re
import secrets
import time
import weakref
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from urllib.parse import parse_qs

from pycrdt import Doc, merge_updates
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from . import protocol as P
from . import web
from .schema import StrokeDoc
from .store import StoreError, UpdateStore
from .validate import (
    Budget,
    MalformedUpdate,
    UpdateRejected,
    check_state_vector,
    warm_up,
)
from .validate_v2 import UpdateValidatorV2, load_room

__all__ = ["CollabServer", "ServerLimits", "ROOM_RE"]

log = logging.getLogger("engines.collab.server")

ROOM_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,99}")
#: largest stored row a room loads (a snapshot holds the whole room)
_MAX_ROW_BYTES = 512 * 1024 * 1024
#: close codes
CLOSE_PROTOCOL = 1002
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


@dataclass(frozen=True)
class ServerLimits:
    """Limits per connection and per server."""

    max_message_bytes: int = 8 * 1024 * 1024
    messages_per_s: float = 400.0
    message_burst: int = 2000
    bytes_per_s: float = 8 * 1024 * 1024
    byte_burst: int = 32 * 1024 * 1024
    max_clients_per_room: int = 64
    max_rooms: int = 256
    #: messages queued for a slow reader before it is dropped
    send_queue: int = 20000
    #: rows per room before they are compacted into one snapshot
    compact_rows: int = 500
    #: seconds a room without clients stays loaded
    idle_unload_s: float = 30.0

    def __post_init__(self) -> None:
        for name in ("max_message_bytes", "message_burst", "byte_burst", "send_queue", "compact_rows"):
            if getattr(self, name) < 1:
                raise ValueError(f"ServerLimits.{name} = {getattr(self, name)!r}: must be >= 1")
        for name in ("messages_per_s", "bytes_per_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ServerLimits.{name} = {getattr(self, name)!r}: must be > 0")


def _give_back_memory(collect: bool = True) -> None:
    """Return freed heap to the system after a big transient (a room loaded, a whole room sent).

    Loading a room parses every stored update into Python objects that live a moment; glibc keeps
    the freed pages (per thread) unless asked. Elsewhere (no glibc) nothing happens.

    The cyclic collection runs only where automatic collection is on: a process that turned it
    off has taken collection over (the studio collects on its GUI thread only, because a
    collection on this thread could destroy Qt objects here while the GUI thread deletes widgets,
    and the two deadlock: a hosted session hung a test that way)."""
    if collect and gc.isenabled():
        gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _large_blocks_mapped() -> None:
    """Ask glibc to keep blocks of 256 KiB and more in their own mappings, returned when freed.

    Its default raises that threshold to the largest block freed so far (up to 32 MiB), after
    which the 10 MB updates a room's join sends stay in the heap for good. Elsewhere: nothing."""
    try:
        ctypes.CDLL(None).mallopt(-3, 256 * 1024)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


def _split_target(target: str) -> tuple[str | None, str]:
    """(room, query) of a request target ``/ROOM?QUERY``; room None unless the path is exactly that."""
    path, _, query = target.partition("?")
    room = path[1:] if path.startswith("/") else ""
    return (room if ROOM_RE.fullmatch(room) else None), query


class _Bucket:
    __slots__ = ("rate", "cap", "level", "t")

    def __init__(self, rate: float, cap: float) -> None:
        self.rate, self.cap, self.level, self.t = rate, cap, cap, time.monotonic()

    def take(self, n: float) -> bool:
        now = time.monotonic()
        self.level = min(self.cap, self.level + (now - self.t) * self.rate)
        self.t = now
        if self.level < n:
            return False
        self.level -= n
        return True


class _Drop(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


@dataclass(eq=False)
class _Conn:
    ws: ServerConnection
    queue: asyncio.Queue
    peer: str
    awareness_ids: set[int] = field(default_factory=set)
    sender: asyncio.Task | None = None

    def send(self, msg: bytes) -> bool:
        try:
            self.queue.put_nowait(msg)
            return True
        except asyncio.QueueFull:
            return False


def _is_fatal(e: BaseException) -> bool:
    return isinstance(e, (KeyboardInterrupt, SystemExit, asyncio.CancelledError, GeneratorExit))


class _Room:
    def __init__(
        self, server: CollabServer, name: str, doc: Doc, validator: UpdateValidatorV2 | None = None
    ) -> None:
        self.server = server
        self.name = name
        self.doc = doc
        self.validator = validator or UpdateValidatorV2(server.budget)
        self.clients: set[_Conn] = set()
        #: client id -> (clock, state, owner)
        self.awareness: dict[int, tuple[int, dict | None, _Conn | None]] = {}
        self.seq = 0
        self.persisted = 0
        self._pending: list[bytes] = []
        self._origin: _Conn | None = None
        self._wake = asyncio.Event()
        self._durable = asyncio.Condition()
        self._writer = asyncio.create_task(self._write_loop(), name=f"collab-room-{name}")
        self._unload: asyncio.Task | None = None
        self.write_error: str | None = None
        self._sub = self.doc.observe(self._on_update)

    def mirror(self) -> StrokeDoc:
        """A mirror of the room's strokes, made now (for tests and tools; the room holds none)."""
        sdoc = StrokeDoc(Doc(), author="server")
        sdoc.apply_remote(self.doc.get_update())
        return sdoc

    # --- updates --------------------------------------------------------
    def _on_update(self, event) -> None:
        update = event.update
        if self._origin is None:
            # the server's own change (a repair): record where its items live
            try:
                self.validator.absorb(update)
            except UpdateRejected as e:
                log.error("room %s: the server's own update does not place: %s", self.name, e)
        self.seq += 1
        self._pending.append(update)
        self._wake.set()
        msg = P.sync_update(update)
        for c in list(self.clients):
            if c is not self._origin and not c.send(msg):
                self.server._kick(c, CLOSE_POLICY, "too slow: send queue full")

    def apply(self, conn: _Conn, update: bytes) -> None:
        if update == P.EMPTY_UPDATE:
            return
        try:
            checked = self.validator.check(update)
        except UpdateRejected as e:
            log.warning("room %s: refused an update from %s: %s", self.name, conn.peer, e)
            code = CLOSE_PROTOCOL if isinstance(e, MalformedUpdate) else CLOSE_POLICY
            raise _Drop(code, f"update refused: {e}") from None
        if checked.empty:
            return
        self._origin = conn
        sv = self.doc.get_state()
        try:
            self.doc.apply_update(update)
        except BaseException as e:  # pyo3 panics derive from BaseException
            if _is_fatal(e):
                raise
            # the bytes were checked, so this came from integrating or observing the change:
            # keep the tables in step with what the document now holds, then drop the sender
            if self.doc.get_state() != sv:
                self.validator.commit(checked)
            log.exception("room %s: applying a checked update from %s failed", self.name, conn.peer)
            raise _Drop(1011, f"the server could not apply the update ({type(e).__name__})") from None
        finally:
            self._origin = None
        self.validator.commit(checked)

    async def wait_durable(self, target: int) -> None:
        async with self._durable:
            await self._durable.wait_for(lambda: self.persisted >= target)

    async def _write_loop(self) -> None:
        store = self.server.store
        rows = 0
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending:
                continue
            batch, upto = self._pending, self.seq
            self._pending = []
            data = batch[0] if len(batch) == 1 else merge_updates(*batch)
            try:
                rows = await store.append(self.name, data)
                self.write_error = None
            except StoreError as e:
                # keep the batch and try again: nothing is acknowledged meanwhile
                self.write_error = str(e)
                log.error("room %s: %s", self.name, e)
                self._pending[0:0] = batch
                await asyncio.sleep(1.0)
                self._wake.set()
                continue
            async with self._durable:
                self.persisted = upto
                self._durable.notify_all()
            if rows > self.server.limits.compact_rows:
                try:
                    await store.snapshot(self.name, self.doc.get_update())
                except StoreError as e:
                    log.error("room %s: compaction failed: %s", self.name, e)

    async def flush(self) -> None:
        if self._writer.done():
            return
        self._wake.set()
        await self.wait_durable(self.seq)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush(), 30.0)
        self._writer.cancel()
        with contextlib.suppress(BaseException):
            await self._writer
        with contextlib.suppress(Exception):
            self.doc.unobserve(self._sub)

    # --- awareness ------------------------------------------------------
    def awareness_all(self) -> bytes | None:
        entries = [P.AwarenessEntry(cid, clk, st) for cid, (clk, st, _) in self.awareness.items()]
        if not entries:
            return None
        return P.awareness_message(P.encode_awareness(entries))

    def apply_awareness(self, conn: _Conn, payload: bytes) -> None:
        try:
            entries = P.parse_awareness(payload)
        except P.ProtocolError as e:
            raise _Drop(CLOSE_PROTOCOL, f"awareness: {e}") from None
        changed = []
        for e in entries:
            cur = self.awareness.get(e.client_id)
            if cur is not None and cur[2] is not None and cur[2] is not conn:
                continue  # another connection's client id: ignore
            if cur is not None and e.clock < cur[0]:
                continue
            if e.client_id not in conn.awareness_ids:
                if len(conn.awareness_ids) >= P.MAX_AWARENESS_ENTRIES:
                    raise _Drop(CLOSE_POLICY, "too many awareness client ids")
                conn.awareness_ids.add(e.client_id)
            if e.state is None:
                self.awareness.pop(e.client_id, None)
            else:
                self.awareness[e.client_id] = (e.clock, e.state, conn)
            changed.append(e)
        if changed:
            msg = P.awareness_message(P.encode_awareness(changed))
            for c in list(self.clients):
                if c is not conn:
                    c.send(msg)

    def leave(self, conn: _Conn) -> None:
        self.clients.discard(conn)
        gone = []
        for cid in conn.awareness_ids:
            cur = self.awareness.get(cid)
            if cur is not None and cur[2] is conn:
                del self.awareness[cid]
                gone.append(P.AwarenessEntry(cid, cur[0] + 1, None))
        if gone:
            msg = P.awareness_message(P.encode_awareness(gone))
            for c in list(self.clients):
                c.send(msg)


class CollabServer:
    """Rooms of painting documents served over WebSocket (see module doc).

    ``token`` is accepted for every room, ``room_tokens`` maps a room to its own
    token (which then replaces ``token`` for that room). With neither, a random
    token is made (:attr:`token`). ``port=0`` picks a free port (see :attr:`port`).
    Use ``async with CollabServer(...) as s:`` or :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        store: str | UpdateStore = ":memory:",
        *,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: str | None = None,
        room_tokens: Mapping[str, str] | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        if not isinstance(port, int) or not (0 <= port <= 65535):
            raise ValueError(f"port = {port!r}: must be in [0, 65535]")
        self.host = host
        self.port = port
        self.room_tokens = dict(room_tokens or {})
        for room, tok in self.room_tokens.items():
            if not ROOM_RE.fullmatch(room):
                raise ValueError(f"room_tokens: room name {room!r} must match {ROOM_RE.pattern}")
            if not tok:
                raise ValueError(f"room_tokens[{room!r}]: empty token")
        if token is None and not self.room_tokens:
            token = secrets.token_urlsafe(24)
        if token is not None and not token:
            raise ValueError("token: must not be empty")
        self.token = token
        self.limits = limits or ServerLimits()
        self.budget = Budget(max_bytes=self.limits.max_message_bytes)
        self._store_arg = store
        self.store: UpdateStore | None = None
        self.rooms: dict[str, _Room] = {}
        self._loading: dict[str, asyncio.Future] = {}
        self._server: Server | None = None
        self._conns: set[_Conn] = set()
        self._tasks: set[asyncio.Task] = set()
        self._opening: weakref.WeakSet[ServerConnection] = weakref.WeakSet()
        self._loader: ThreadPoolExecutor | None = None
        self.stats = {"refused": 0, "dropped": 0, "connections": 0}

    # --- lifecycle -------------------------------------------------------
    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("server already started")
        self.store = (
            self._store_arg if isinstance(self._store_arg, UpdateStore) else UpdateStore(self._store_arg)
        )
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-load")
        _large_blocks_mapped()
        opening = self._opening

        class _Connection(ServerConnection):
            # known from its first byte on, so that stop() can end the idle sockets a browser opens
            # ahead of need (preconnects): they send no request and would hold stop() for the whole
            # handshake timeout (10 s)
            def connection_made(self, transport) -> None:
                super().connection_made(transport)
                opening.add(self)

        try:
            self._server = await serve(
                self._handle,
                self.host,
                self.port,
                process_request=self._check_request,
                create_connection=_Connection,
                max_size=self.limits.max_message_bytes,
                max_queue=16,
                compression=None,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=2,
            )
        except OSError:
            if not isinstance(self._store_arg, UpdateStore):
                self.store.close()
            self._loader.shutdown(wait=True)
            self._loader = None
            raise
        sock = next(iter(self._server.sockets))
        self.port = sock.getsockname()[1]
        # load the compiled code off the loop (compiled once per machine: seconds): version 1's
        # check (migrations) and the tables' commit, which every room uses
        self._loader.submit(warm_up)

    async def stop(self) -> None:
        """Close every connection, write what is pending, close the store."""
        if self._server is None:
            return
        self._server.close()
        for conn in list(self._opening):
            if conn.request is None and conn.transport is not None:
                conn.transport.abort()  # no request yet: nobody waits for an answer
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 10.0)
        for t in list(self._tasks):
            t.cancel()
        for t in list(self._tasks):
            with contextlib.suppress(BaseException):
                await t
        for room in list(self.rooms.values()):
            await room.close()
        self.rooms.clear()
        if self.store is not None and not isinstance(self._store_arg, UpdateStore):
            self.store.close()
        if self._loader is not None:
            self._loader.shutdown(wait=True)
            self._loader = None
        self._server = None

    async def __aenter__(self) -> CollabServer:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    def url(self, room: str) -> str:
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"ws://{host}:{self.port}/{room}"

    def room_token(self, room: str) -> str | None:
        return self.room_tokens.get(room, self.token)

    # --- rooms ----------------------------------------------------------
    async def get_room(self, name: str) -> _Room:
        room = self.rooms.get(name)
        if room is not None:
            return room
        fut = self._loading.get(name)
        if fut is not None:
            return await asyncio.shield(fut)
        fut = asyncio.get_running_loop().create_future()
        self._loading[name] = fut
        try:
            assert self.store is not None
            rows = await self.store.load_rows(name)
            bad: list[tuple[int, str]] = []
            migrated: list[bytes] = []
            # rows are the server's own (snapshots hold a whole room): above a message's size
            budget = replace(self.budget, max_bytes=max(self.budget.max_bytes, _MAX_ROW_BYTES))

            def build() -> tuple[Doc, UpdateValidatorV2]:
                # row by row, each through the same checks as a client's update: a row
                # that fails them is put aside, the rest loads; on the loader thread, so
                # the loop serves the other rooms meanwhile. A version 1 room is migrated.
                doc, validator, failed, data = load_room(rows, budget)
                bad.extend(failed)
                if data is not None:
                    migrated.append(data)
                return doc, validator

            if self._loader is not None and (len(rows) > 1 or (rows and len(rows[0][1]) > 256 * 1024)):
                doc, validator = await asyncio.get_running_loop().run_in_executor(self._loader, build)
            else:
                doc, validator = build()
            row_ids = [r for r, _ in rows]
            rows = []  # (the stored bytes: not kept while the room lives)
            if self._loader is not None:
                await asyncio.get_running_loop().run_in_executor(self._loader, _give_back_memory)
            if migrated:
                failed_ids = {r for r, _ in bad}
                try:
                    await self.store.migrate(name, [r for r in row_ids if r not in failed_ids], migrated[0])
                    log.warning(
                        "room %s: migrated from painting schema version 1 to 2 (%d rows kept in yupdates_v1)",
                        name,
                        len(row_ids) - len(failed_ids),
                    )
                except StoreError as e:
                    log.error("room %s: its migration to schema version 2 could not be stored: %s", name, e)
            for row_id, why in bad:
                log.error("room %s: stored row %d kept aside (not loaded): %s", name, row_id, why)
                try:
                    await self.store.quarantine(name, row_id, why)
                except StoreError as e:
                    log.error("room %s: row %d could not be put aside: %s", name, row_id, e)
            room = _Room(self, name, doc, validator)
            self.rooms[name] = room
            fut.set_result(room)
            return room
        except BaseException as e:
            fut.set_exception(e)
            fut.exception()  # mark retrieved
            raise
        finally:
            del self._loading[name]

    def _maybe_unload(self, room: _Room) -> None:
        if room.clients or self.rooms.get(room.name) is not room:
            return

        async def unload() -> None:
            await asyncio.sleep(self.limits.idle_unload_s)
            await room.flush()
            if not room.clients and self.rooms.get(room.name) is room:
                del self.rooms[room.name]
                await room.close()

        if room._unload is not None:
            room._unload.cancel()
        room._unload = self._spawn(unload())

    def _spawn(self, coro) -> asyncio.Task:
        t = asyncio.ensure_future(coro)
        self._tasks.add(t)
        t.add_done_callback(self._tasks.discard)
        return t

    # --- connections ----------------------------------------------------
    def _refusal(self, target: str) -> tuple[HTTPStatus, str] | None:
        """Why a request for ``target`` (``/ROOM?token=T``) is refused, or None: the one rule for
        WebSocket clients and the browser page alike."""
        room, query = _split_target(target)
        if room is None:
            return HTTPStatus.NOT_FOUND, "bad room name\n"
        expected = self.room_token(room)
        given = parse_qs(query).get("token", [""])[0]
        if expected is None or not hmac.compare_digest(given.encode(), expected.encode()):
            return HTTPStatus.UNAUTHORIZED, "wrong or missing token\n"
        if room not in self.rooms and len(self.rooms) >= self.limits.max_rooms:
            return HTTPStatus.SERVICE_UNAVAILABLE, "too many rooms\n"
        r = self.rooms.get(room)
        if r is not None and len(r.clients) >= self.limits.max_clients_per_room:
            return HTTPStatus.SERVICE_UNAVAILABLE, "room is full\n"
        return None

    def _check_request(self, connection: ServerConnection, request):
        page = web.is_page_request(request)
        static = page and request.path.startswith(web.STATIC_PREFIX)
        refusal = None if static else self._refusal(request.path)
        if refusal is not None:
            self.stats["refused"] += 1
        if page:
            # a browser opening the room's page (or its script): answered here, never upgraded
            return web.page_response(request, refusal)
        if refusal is not None:
            return connection.respond(*refusal)
        return None

    def _kick(self, conn: _Conn, code: int, reason: str) -> None:
        self.stats["dropped"] += 1
        log.info("dropping %s: %s", conn.peer, reason)
        with contextlib.suppress(Exception):
            conn.queue.put_nowait(None)
        self._spawn(self._close(conn, code, reason))

    @staticmethod
    async def _close(conn: _Conn, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.ws.close(code, reason[:120]), 3.0)
        conn.ws.transport.abort() if conn.ws.transport is not None else None

    async def _send_loop(self, conn: _Conn) -> None:
        while True:
            msg = await conn.queue.get()
            if msg is None:
                return
            await conn.ws.send(msg)
            if len(msg) > 4 * 1024 * 1024 and self._loader is not None:
                # a whole big room went out (a join): give the pages of its copies back
                del msg
                self._loader.submit(_give_back_memory, False)

    async def _handle(self, ws: ServerConnection) -> None:
        name, _ = _split_target(ws.request.path)
        assert name is not None  # _check_request refused the others
        peer = f"{ws.remote_address}"
        self.stats["connections"] += 1
        try:
            room = await self.get_room(name)
        except Exception as e:  # noqa: BLE001 - a broken store must not kill the server
            log.error("room %s cannot be loaded: %s", name, e)
            await ws.close(1011, "room cannot be loaded")
            return
        if room._unload is not None:
            room._unload.cancel()
            room._unload = None
        conn = _Conn(ws, asyncio.Queue(self.limits.send_queue), peer)
        room.clients.add(conn)
        self._conns.add(conn)
        conn.sender = asyncio.create_task(self._send_loop(conn))
        conn.send(P.sync_step1(room.doc.get_state()))
        aw = room.awareness_all()
        if aw is not None:
            conn.send(aw)
        msgs = _Bucket(self.limits.messages_per_s, self.limits.message_burst)
        nbytes = _Bucket(self.limits.bytes_per_s, self.limits.byte_burst)
        try:
            async for data in ws:
                if not msgs.take(1) or not nbytes.take(len(data)):
                    raise _Drop(CLOSE_POLICY, "rate limit exceeded")
                try:
                    msg = P.parse_message(data)
                except P.ProtocolError as e:
                    raise _Drop(CLOSE_PROTOCOL, f"protocol error: {e}") from None
                if msg.kind == "step1":
                    target = room.seq
                    try:
                        await asyncio.wait_for(room.wait_durable(target), 60.0)
                    except TimeoutError:
                        raise _Drop(1011, "the store is not writing: no acknowledgement") from None
                    try:
                        check_state_vector(msg.payload, self.budget)
                    except UpdateRejected as e:
                        raise _Drop(CLOSE_PROTOCOL, f"state vector refused: {e}") from None
                    try:
                        diff = room.doc.get_update(msg.payload)
                    except BaseException as e:
                        if _is_fatal(e):
                            raise
                        raise _Drop(CLOSE_PROTOCOL, "malformed state vector") from None
                    conn.send(P.sync_step2(diff))
                elif msg.kind in ("step2", "update"):
                    room.apply(conn, msg.payload)
                elif msg.kind == "awareness":
                    room.apply_awareness(conn, msg.payload)
                elif msg.kind == "query":
                    aw = room.awareness_all()
                    if aw is not None:
                        conn.send(aw)
        except _Drop as d:
            self.stats["dropped"] += 1
            log.info("dropping %s: %s", conn.peer, d.reason)
            await self._close(conn, d.code, d.reason)
        except ConnectionClosed:
            pass
        finally:
            room.leave(conn)
            self._conns.discard(conn)
            with contextlib.suppress(asyncio.QueueFull):
                conn.queue.put_nowait(None)
            if conn.sender is not None:
                conn.sender.cancel()
                with contextlib.suppress(BaseException):
                    await conn.sender
            self._maybe_unload(room)
