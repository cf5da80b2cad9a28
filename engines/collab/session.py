"""A painting session for the studio: host and/or join a room, driven from one worker thread.

The server and the client are asyncio code; the studio owns its threads in
``studio.runner``. :class:`CollabSession` bridges the two without a thread of
its own: it keeps a private event loop that is *pumped* in short slices from
whatever thread runs :meth:`CollabSession.job` (a job generator, stoppable
between yields, as the runner expects). Every other method is thread-safe:
commands (add, remove, update, undo, cursor) are queued and applied on the
next slice, and what changed is read back with a cursor::

    session = CollabSession(room="studio", author="ada", host=True, store="sessions.db")
    runner.run_job(lambda _engine: session.job())     # on the worker thread
    session.add([[x, y, w, h, theta, r, g, b]])       # from the GUI thread
    changes, cursor, dropped = session.changes_since(cursor)   # in the redraw timer
    session.status()                                   # state, peers, join address, token
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from engines.base import Progress
from engines.painting.strokes import PARAM_NAMES, Painting, Stroke

from .client import CollabClient
from .engine import SessionStatus
from .schema import Change
from .server import CollabServer, ServerLimits

__all__ = ["CollabSession", "SessionStatus", "net_effect"]


def net_effect(changes: list[Change]) -> dict[str, Any]:
    """The net effect of a batch of changes, in order (the last word on each stroke id wins).

    Returns keyword arguments for :meth:`engines.painting.engine.PaintingEngine.apply_remote`:
    ``added`` (strokes present at the end, new or changed), ``removed`` (ids) and ``background``.
    """
    last: dict[str, Any] = {}
    background = None
    for ch in changes:
        for s in ch.added:
            last[s.id] = s
        for s in ch.updated:
            last[s.id] = s
        for s in ch.removed:
            last[s.id] = None
        if ch.background is not None:
            background = ch.background
    return {
        "added": [s for s in last.values() if s is not None],
        "removed": [sid for sid, s in last.items() if s is None],
        "background": background,
    }


class CollabSession:
    """Host (``host=True``: a server in this session, bound to ``bind`` on ``port``) and/or join a room.

    Without ``host``, ``url`` (``ws://host:port``) and ``token`` name the room to join.
    ``max_events`` bounds the change feed; a reader that falls further behind gets
    ``dropped > 0`` from :meth:`changes_since` and should re-read :meth:`painting`.
    """

    def __init__(
        self,
        *,
        room: str = "studio",
        author: str = "me",
        name: str | None = None,
        colour: str = "#3366cc",
        host: bool = False,
        store: str = ":memory:",
        bind: str = "127.0.0.1",
        port: int = 0,
        url: str | None = None,
        token: str | None = None,
        limits: ServerLimits | None = None,
        max_events: int = 10_000,
    ) -> None:
        if not host and (url is None or token is None):
            raise ValueError("join a session: url and token are both needed (or host=True)")
        self.room = room
        self._hosting = host
        self._server_args = dict(store=store, host=bind, port=port, token=token, limits=limits)
        self._url = url
        self._token = token
        self._client_args = dict(author=author, name=name, colour=colour)
        self._lock = threading.Lock()
        self._commands: collections.deque[tuple[Callable[[CollabClient], Any], concurrent.futures.Future]] = (
            collections.deque()
        )
        self._events: collections.deque[Change] = collections.deque(maxlen=max_events)
        self._first = 0  # cursor of self._events[0]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._server: CollabServer | None = None
        self._client: CollabClient | None = None
        self._ever_online = False
        self._initial: Painting | None = None
        self._status = SessionStatus("offline", None, {}, url or "", room, token or "", host, 0)

    # ------------------------------------------------------- thread-safe API
    def submit(self, fn: Callable[[CollabClient], Any]) -> concurrent.futures.Future:
        """Run ``fn(client)`` on the session's loop at the next slice; returns a future."""
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            if not self._closed:
                self._commands.append((fn, fut))
                return fut
        fut.set_exception(RuntimeError("the session is closed"))
        return fut

    def add(self, params: np.ndarray, opacity: float | np.ndarray = 1.0, author: str | None = None):
        """Add strokes (rows of (N, 8) params) on top; the future gives the new strokes."""
        p = np.array(params, dtype=np.float64, copy=True).reshape(-1, 8)
        return self.submit(lambda c: c.add_many(p, opacity=opacity, author=author))

    def remove(self, ids: list[str]):
        ids = list(ids)
        return self.submit(lambda c: c.sdoc.remove_many(ids))

    def update(self, sid: str, **changes):
        return self.submit(lambda c: c.update(sid, **changes))

    def undo(self):
        return self.submit(lambda c: c.undo())

    def redo(self):
        return self.submit(lambda c: c.redo())

    def set_cursor(self, x: float | None, y: float | None = None):
        return self.submit(lambda c: c.set_cursor(x, y))

    def set_presence(self, **fields: Any):
        """Change what the others see of me in one awareness message (``cursor``, ``drag``, ...)."""
        return self.submit(lambda c: c.set_awareness(**fields))

    def share_edit(self, op: str, payload: Any) -> concurrent.futures.Future:
        """Write one local edit of a painting engine into the room (thread-safe).

        The callback of :meth:`engines.painting.engine.PaintingEngine.share`:
        ``("add", strokes)`` inserts them keeping ids and ordering keys,
        ``("remove", strokes)`` removes them by id, ``("update", strokes)``
        writes their parameters (a stroke someone else removed meanwhile is
        skipped).
        """
        if op == "add":
            strokes = list(payload)
            return self.submit(lambda c: c.sdoc.insert_strokes(strokes))
        if op == "remove":
            ids = [s.id if isinstance(s, Stroke) else str(s) for s in payload]
            return self.submit(lambda c: c.sdoc.remove_many(ids))
        if op == "update":
            strokes = list(payload)

            def write(c: CollabClient) -> int:
                n = 0
                for st in strokes:
                    if st.id in c.sdoc:
                        fields = {k: float(getattr(st, k)) for k in (*PARAM_NAMES, "opacity")}
                        c.sdoc.update(st.id, **fields)
                        n += 1
                return n

            return self.submit(write)
        raise ValueError(f"share_edit: unknown edit {op!r} (add, remove or update)")

    def flush(self, timeout: float = 30.0) -> concurrent.futures.Future:
        """A future of the stroke ids the server has stored durably (every edit made so far)."""
        out: concurrent.futures.Future = concurrent.futures.Future()

        def start(c: CollabClient) -> None:
            assert self._loop is not None
            task = self._loop.create_task(c.flush(timeout))

            def done(t: asyncio.Task) -> None:
                if t.cancelled():
                    out.set_exception(RuntimeError("the session closed before the acknowledgement"))
                elif t.exception() is not None:
                    out.set_exception(t.exception())
                else:
                    out.set_result(t.result())

            task.add_done_callback(done)

        started = self.submit(start)
        started.add_done_callback(lambda f: f.exception() is not None and out.set_exception(f.exception()))
        return out

    def drop(self) -> concurrent.futures.Future:
        """Cut the connection as a network failure would (it comes back by itself)."""
        return self.submit(lambda c: c.drop())

    def painting(self) -> concurrent.futures.Future:
        """A copy of the whole painting (a future)."""
        return self.submit(lambda c: c.sdoc.to_painting())

    def changes_since(self, cursor: int) -> tuple[list[Change], int, int]:
        """(changes since ``cursor``, new cursor, number of changes dropped)."""
        with self._lock:
            end = self._first + len(self._events)
            start = max(cursor, self._first)
            dropped = max(0, self._first - cursor)
            out = list(self._events)[start - self._first :]
            return out, end, dropped

    def status(self) -> SessionStatus:
        with self._lock:
            return self._status

    # ------------------------------------------------------------ the job
    def job(self, slice_s: float = 0.02, initial: Painting | None = None) -> Iterator[Progress]:
        """Open the session, pump it until closed (``gen.close()``), then shut it down.

        ``initial``: strokes to put into the room once joined (e.g. the painting
        open when the user chose Host session). They go in after the first
        sync, and only those whose id the room does not hold yet, so hosting
        again from a store that already has them makes no duplicates. Yields a
        Progress every slice whose ``value`` is the current :class:`SessionStatus`.
        """
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._open(initial))
            while True:
                self._drain()
                loop.run_until_complete(asyncio.sleep(slice_s))
                self._put_initial()
                self._publish()
                yield Progress(0, None, self._status.state, self._status)
        finally:
            try:
                loop.run_until_complete(asyncio.wait_for(self._close(), 30))
            finally:
                with self._lock:
                    self._closed = True
                self._fail_commands()
                loop.close()
                self._loop = None

    # ------------------------------------------------------------ internals
    async def _open(self, initial: Painting | None) -> None:
        if self._hosting:
            self._server = CollabServer(**self._server_args)
            await self._server.start()
            self._token = self._server.room_token(self.room)
            host = self._server.host if self._server.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
            if ":" in host:  # an IPv6 address goes in brackets in a URL
                host = f"[{host}]"
            self._url = f"ws://{host}:{self._server.port}"
        assert self._url is not None and self._token is not None

        def on_change(ch: Change) -> None:
            with self._lock:
                if len(self._events) == self._events.maxlen:
                    self._first += 1
                self._events.append(ch)

        self._client = CollabClient(
            self._url, self.room, self._token, on_change=on_change, **self._client_args
        )
        if initial is not None and len(initial):
            self._initial = initial.copy()
        await self._client.start()
        self._publish()

    def _put_initial(self) -> None:
        c = self._client
        if self._initial is None or c is None or c.state != "online":
            return
        initial, self._initial = self._initial, None
        if c.sdoc.meta.get("background") is None:
            c.sdoc.set_background(initial.background)
        c.sdoc.insert_strokes(initial.ordered())

    async def _close(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._server is not None:
            await self._server.stop()
        self._publish()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._commands:
                    return
                fn, fut = self._commands.popleft()
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn(self._client))
            except Exception as e:  # noqa: BLE001 - handed to the caller
                fut.set_exception(e)

    def _fail_commands(self) -> None:
        with self._lock:
            pending = list(self._commands)
            self._commands.clear()
        for _, fut in pending:
            if fut.set_running_or_notify_cancel():
                fut.set_exception(RuntimeError("the session is closed"))

    def _publish(self) -> None:
        c = self._client
        if c is not None and c.state == "online":
            self._ever_online = True
        st = SessionStatus(
            state=c.state if c is not None else "offline",
            error=c.error if c is not None else None,
            peers=dict(c.peers) if c is not None else {},
            url=self._url or "",
            room=self.room,
            token=self._token or "",
            hosting=self._hosting,
            strokes=len(c.sdoc) if c is not None else 0,
            ever_online=self._ever_online,
            client_id=c.client_id if c is not None else 0,
            pending_initial=len(self._initial) if self._initial is not None else 0,
            connects=c.connects if c is not None else 0,
        )
        with self._lock:
            self._status = st
