"""A painting-room client: sync, awareness, acknowledged writes, reconnection.

:class:`CollabClient` holds a :class:`~engines.collab.schema.StrokeDoc` that
is always editable, online or not. While connected, each local transaction is
sent as a Yjs update at once; after a drop the client reconnects by itself
(exponential back-off with jitter) and the sync handshake merges what either
side did meanwhile. :meth:`CollabClient.flush` returns once the server has
stored every local edit durably (see :mod:`engines.collab.server`).

Everything runs on one asyncio loop; call the methods from that loop (a GUI
thread hands work over with :func:`asyncio.run_coroutine_threadsafe` or
``loop.call_soon_threadsafe``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from . import protocol as P
from .schema import Change, StrokeDoc

__all__ = ["CollabClient", "ClientRefused"]

log = logging.getLogger("engines.collab.client")

#: connection states, as shown to the user
STATES = ("offline", "connecting", "syncing", "online", "refused", "closed")
#: seconds between awareness refreshes (Yjs drops peers silent for 30 s)
AWARENESS_REFRESH_S = 15.0
AWARENESS_TIMEOUT_S = 30.0


class ClientRefused(ConnectionError):
    """The server refused the connection (wrong token, unknown room, full)."""


class CollabClient:
    """A client of one room (see module doc).

    ``url`` is ``ws://host:port`` (the room and the token are added), ``author``
    names this user's strokes; ``name`` and ``colour`` are shown to the others
    with the cursor. ``on_state(state)``, ``on_change(change)`` and
    ``on_peers(peers)`` are called on the loop.
    """

    def __init__(
        self,
        url: str,
        room: str,
        token: str,
        *,
        author: str = "me",
        name: str | None = None,
        colour: str = "#3366cc",
        reconnect: bool = True,
        backoff: tuple[float, float] = (0.05, 2.0),
        on_state: Callable[[str], None] | None = None,
        on_change: Callable[[Change], None] | None = None,
        on_peers: Callable[[dict[int, dict]], None] | None = None,
        seed: int | None = None,
    ) -> None:
        self.url = f"{url.rstrip('/')}/{room}?token={quote(token, safe='')}"
        self.room = room
        self.sdoc = StrokeDoc(author=author, undo=True)
        self.reconnect = reconnect
        self.backoff = backoff
        self.on_state = on_state
        self.on_peers = on_peers
        self.state = "offline"
        self.error: str | None = None
        self.peers: dict[int, dict] = {}
        self._peer_seen: dict[int, float] = {}
        self._local_state: dict[str, Any] = {"name": name or author, "colour": colour, "cursor": None}
        self._aw_clock = 0
        self._rng = random.Random(seed)
        self._ws: ClientConnection | None = None
        self._out: asyncio.Queue | None = None
        self._pending_step1: deque[asyncio.Future | None] = deque()
        self._online = asyncio.Event()
        self._closed = False
        self._task: asyncio.Task | None = None
        self.connects = 0
        if on_change is not None:
            self.sdoc.on_change(on_change)
        self._doc_sub = self.sdoc.doc.observe(self._on_local_update)

    # ----------------------------------------------------------- lifecycle
    async def start(self) -> None:
        """Start connecting (returns at once; see :meth:`wait_online`)."""
        if self._task is None:
            self._closed = False
            self._task = asyncio.create_task(self._run(), name=f"collab-client-{self.room}")

    async def close(self) -> None:
        """Say goodbye (awareness null) and stop reconnecting."""
        self._closed = True
        ws = self._ws
        if ws is not None and self.state == "online":
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.send(self._awareness_msg(None)), 1.0)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._task = None
        self._set_state("closed")

    async def __aenter__(self) -> CollabClient:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def wait_online(self, timeout: float | None = 10.0) -> None:
        """Wait until connected and synced (raises ClientRefused, TimeoutError)."""
        async with asyncio.timeout(timeout):
            while not self._online.is_set():
                if self.state == "refused":
                    raise ClientRefused(self.error or "refused")
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.05):
                        await self._online.wait()

    def drop(self) -> None:
        """Cut the connection abruptly (as a network failure would); it comes back by itself."""
        ws = self._ws
        if ws is not None and ws.transport is not None:
            ws.transport.abort()

    async def flush(self, timeout: float | None = 30.0) -> set[str]:
        """Wait until the server has stored every edit made so far; returns the ids acknowledged.

        Survives reconnections (it asks again) until ``timeout``.
        """
        ids = set(self.sdoc._by_id)
        async with asyncio.timeout(timeout):
            while True:
                await self.wait_online(None)
                fut = asyncio.get_running_loop().create_future()
                if self._send_step1(fut):
                    with contextlib.suppress(ConnectionError):
                        await fut
                        return ids
                await asyncio.sleep(0.02)

    # -------------------------------------------------------------- edits
    def add(self, params: Sequence[float] | np.ndarray, *, opacity: float = 1.0, author: str | None = None):
        return self.sdoc.add(params, opacity=opacity, author=author)

    def add_many(self, params: np.ndarray, *, opacity=1.0, author: str | None = None):
        return self.sdoc.add_many(params, opacity=opacity, author=author)

    def remove(self, sid: str):
        return self.sdoc.remove(sid)

    def update(self, sid: str, **changes):
        return self.sdoc.update(sid, **changes)

    def undo(self) -> bool:
        """Undo my last edit only (never another user's)."""
        return self.sdoc.undo()

    def redo(self) -> bool:
        return self.sdoc.redo()

    # ----------------------------------------------------------- awareness
    @property
    def client_id(self) -> int:
        return int(self.sdoc.doc.client_id)

    def set_awareness(self, **fields: Any) -> None:
        """Change what the others see of me (``name``, ``colour``, ``cursor`` = [x, y] or None)."""
        self._local_state.update(fields)
        self._aw_clock += 1
        self._queue(self._awareness_msg(self._local_state))

    def set_cursor(self, x: float | None, y: float | None = None) -> None:
        self.set_awareness(cursor=None if x is None else [float(x), float(y)])

    def _awareness_msg(self, state: dict | None) -> bytes:
        if state is None:
            self._aw_clock += 1
        entry = P.AwarenessEntry(self.client_id, self._aw_clock, state)
        return P.awareness_message(P.encode_awareness([entry]))

    def _apply_awareness(self, payload: bytes) -> None:
        try:
            entries = P.parse_awareness(payload)
        except P.ProtocolError as e:
            log.warning("ignoring a malformed awareness update: %s", e)
            return
        now = time.monotonic()
        changed = False
        for e in entries:
            if e.client_id == self.client_id:
                continue
            if e.state is None:
                changed |= self.peers.pop(e.client_id, None) is not None
                self._peer_seen.pop(e.client_id, None)
            else:
                changed |= self.peers.get(e.client_id) != e.state
                self.peers[e.client_id] = e.state
                self._peer_seen[e.client_id] = now
        if changed and self.on_peers is not None:
            self.on_peers(dict(self.peers))

    def _expire_peers(self) -> None:
        now = time.monotonic()
        old = [c for c, t in self._peer_seen.items() if now - t > AWARENESS_TIMEOUT_S]
        for c in old:
            self.peers.pop(c, None)
            self._peer_seen.pop(c, None)
        if old and self.on_peers is not None:
            self.on_peers(dict(self.peers))

    # ----------------------------------------------------------- transport
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            if self.on_state is not None:
                self.on_state(state)

    def _queue(self, msg: bytes) -> bool:
        if self._out is None or self.state not in ("syncing", "online"):
            return False
        self._out.put_nowait(msg)
        return True

    def _send_step1(self, fut: asyncio.Future | None) -> bool:
        if self._out is None:
            return False
        self._pending_step1.append(fut)
        self._out.put_nowait(P.sync_step1(self.sdoc.doc.get_state()))
        return True

    def _on_local_update(self, event) -> None:
        if self.sdoc.applying_remote:
            return
        # offline edits need nothing: the next handshake carries them
        self._queue(P.sync_update(event.update))

    async def _run(self) -> None:
        delay = self.backoff[0]
        while not self._closed:
            self._set_state("connecting")
            last: ClientConnection | None = None
            try:
                async with connect(
                    self.url,
                    max_size=None,
                    compression=None,
                    open_timeout=5,
                    ping_interval=10,
                    ping_timeout=10,
                    close_timeout=1,
                ) as ws:
                    last = ws
                    delay = self.backoff[0]
                    await self._session(ws)
            except InvalidStatus as e:
                self.error = f"refused by the server: HTTP {e.response.status_code}"
                self._set_state("refused")
                self._fail_pending()
                return
            except (OSError, ConnectionClosed, TimeoutError, asyncio.IncompleteReadError) as e:
                self.error = f"{type(e).__name__}: {e}"
            finally:
                self._ws = None
                self._out = None
                self._online.clear()
                self._fail_pending()
            if last is not None and last.close_code == 1009:
                # the same backlog would be refused again on every reconnection
                self.error = "refused by the server: a message was larger than it accepts"
                self._set_state("refused")
                return
            if self._closed or not self.reconnect:
                break
            self._set_state("offline")
            await asyncio.sleep(delay * (0.5 + self._rng.random()))
            delay = min(self.backoff[1], delay * 2)
        if self.state != "refused":
            self._set_state("closed" if self._closed else "offline")

    def _fail_pending(self) -> None:
        while self._pending_step1:
            f = self._pending_step1.popleft()
            if f is not None and not f.done():
                f.set_exception(ConnectionError("connection lost before the acknowledgement"))
                f.exception()

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._out = asyncio.Queue()
        self.connects += 1
        self._set_state("syncing")
        got_server_step1 = False
        got_step2 = False
        self._send_step1(None)
        self._out.put_nowait(self._awareness_msg(self._local_state))

        async def sender() -> None:
            last_aw = time.monotonic()
            assert self._out is not None
            while True:
                try:
                    async with asyncio.timeout(1.0):
                        msg = await self._out.get()
                except TimeoutError:
                    msg = None
                if msg is not None:
                    await ws.send(msg)
                if time.monotonic() - last_aw > AWARENESS_REFRESH_S:
                    last_aw = time.monotonic()
                    self._aw_clock += 1
                    await ws.send(self._awareness_msg(self._local_state))
                    self._expire_peers()

        send_task = asyncio.create_task(sender())
        try:
            async for data in ws:
                if send_task.done():
                    break
                try:
                    msg = P.parse_message(data)
                except P.ProtocolError as e:
                    log.warning("server sent a malformed message: %s", e)
                    continue
                if msg.kind == "step1":
                    diff = self.sdoc.doc.get_update(msg.payload)
                    self._out.put_nowait(P.sync_step2(diff))
                    got_server_step1 = True
                elif msg.kind == "step2":
                    self.sdoc.apply_remote(msg.payload)
                    fut = self._pending_step1.popleft() if self._pending_step1 else None
                    if fut is None:
                        got_step2 = True
                    elif not fut.done():
                        fut.set_result(None)
                elif msg.kind == "update":
                    self.sdoc.apply_remote(msg.payload)
                elif msg.kind == "awareness":
                    self._apply_awareness(msg.payload)
                if got_step2 and got_server_step1 and not self._online.is_set():
                    self._set_state("online")
                    self._online.set()
        finally:
            send_task.cancel()
            with contextlib.suppress(BaseException):
                await send_task
            self.peers.clear()
            self._peer_seen.clear()
            if self.on_peers is not None:
                self.on_peers({})
