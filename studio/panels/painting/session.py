"""The painting panel's multi-user session: host or join a room, keep the canvas and the room in step.

:class:`SessionController` owns one :class:`engines.collab.session.CollabSession`
driven by its own :class:`studio.runner.Runner` (the session's asyncio loop is
pumped by a runner job on that runner's worker thread: the server, when
hosting, and the client never run on the GUI thread, and the painting
engine's runner stays free for Complete and Paint reference).

* Local edits: the painting engine reports each of its edits (brush, eraser,
  Clear, stroke-list edits, undo/redo, accepted proposals, painted
  references) to ``session.share_edit`` from its worker thread; the session
  writes them into the shared document.
* Everyone's edits: a GUI timer reads the session's change feed by cursor,
  folds each batch into its net effect, and hands it to the painting engine
  through its runner (``apply_remote``), never touching the engine from
  another thread. Every change of the shared document is applied, the
  replica's own included (they are no-ops), so the canvas converges to the
  room even when edits cross.
* Presence: the status (state, peers with name, colour and cursor) is read by
  the same timer; the cursor is sent at most 20 times a second.
* Nothing here waits for a worker on the GUI thread: the painting engine is
  prepared for the room (``_start``) and let go of it (``_unshare``) through
  ``runner.submit``, whose results arrive on the GUI thread; a re-read of the
  whole room arrives as a signal. Only :meth:`SessionController.shutdown`
  (the window closing) waits, bounded.
"""

from __future__ import annotations

import socket
from typing import Any

from PySide6 import QtCore

from engines.collab import CollabSession, SessionEngine, SessionStatus
from engines.collab.presence import (
    drag_message,
    locked_names,
    peer_cursors,
    peer_drags,
    peer_names,
    peer_states,
)
from engines.collab.session import net_effect
from engines.painting.strokes import Painting
from studio.runner import Runner, RunnerState
from studio.widgets.collab import PEER_COLOURS, colour_for, is_loopback

__all__ = ["SessionController"]


class SessionController(QtCore.QObject):
    """Host / join / leave for one painting panel (see module doc)."""

    changed = QtCore.Signal()  # status, peers or state changed
    failed = QtCore.Signal(str)  # the session could not start or broke
    #: the whole room, read after falling behind the change feed (sent from the session's thread)
    _room_read = QtCore.Signal(object)

    POLL_MS = 30
    CURSOR_MS = 50

    def __init__(self, panel, parent: QtCore.QObject | None = None):
        super().__init__(parent or panel)
        self.panel = panel
        self.session: CollabSession | None = None
        self.runner: Runner | None = None
        self.status: SessionStatus | None = None
        self.name = ""
        self.colour = "#3366cc"
        self.bind = "127.0.0.1"
        self.leaving = False
        self.error: str | None = None
        self.applied_batches = 0
        self.resyncs = 0
        self._cursor = 0
        self._resync: Any = None
        self._pending: dict[str, Any] = {}  # presence fields waiting for the next send
        self._locked_authors: frozenset[str] = frozenset()  # the others who locked their strokes
        self._colour_settled = False
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(self.POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.cursor_timer = QtCore.QTimer(self)
        self.cursor_timer.setSingleShot(True)
        self.cursor_timer.setInterval(self.CURSOR_MS)
        self.cursor_timer.timeout.connect(self._send_presence)
        self._room_read.connect(self._apply_room, QtCore.Qt.ConnectionType.QueuedConnection)

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        return self.session is not None

    @property
    def hosting(self) -> bool:
        return bool(self.session is not None and self.status is not None and self.status.hosting)

    def join_address(self) -> str:
        """ws://host:port/room as the others should type it."""
        st = self.status
        if st is None or not st.url:
            return ""
        url = st.url
        if st.hosting and not is_loopback(self.bind):
            port = url.rsplit(":", 1)[-1]
            host = self.bind if self.bind not in ("0.0.0.0", "::", "") else socket.gethostname()
            host = f"[{host}]" if ":" in host else host
            url = f"ws://{host}:{port}"
        return f"{url}/{st.room}"

    def indicator(self) -> tuple[str, str, str]:
        """(kind, text, tooltip) for the connection indicator."""
        st = self.status
        if self.session is None:
            return ("bad" if self.error else "off", "Disconnected", self.error or "not in a session")
        if self.leaving:
            return "wait", "Leaving…", ""
        if st is None:
            return "wait", "Connecting…", ""
        where = f"{'hosting' if st.hosting else 'joined'} {self.join_address()}"
        if st.state == "online":
            n = len(st.peers)
            return "ok", f"Connected ({n} peer{'s' if n != 1 else ''})", where
        if st.state == "refused":
            return "bad", "Refused", f"{where}: {st.error or 'refused by the server'}"
        if st.state == "closed":
            return "off", "Disconnected", where
        if st.ever_online:
            return "wait", "Reconnecting…", f"{where}: {st.error or 'connection lost'}; edits are kept"
        return "wait", "Connecting…", where

    def people(self) -> list[tuple[str, str]]:
        """(name, colour) of everyone in the room, me first."""
        if self.session is None:
            return []
        return [(f"{self.name} (you)", self.colour), *(peer_names(self.status) if self.status else [])]

    def cursors(self) -> list[tuple[str, str, float, float]]:
        """(name, colour, x, y) of the others' cursors on the canvas."""
        return peer_cursors(self.status) if self.session is not None and self.status is not None else []

    def drags(self) -> list[tuple[str, float, list[tuple[float, float]]]]:
        """The others' brush drags in progress: (brush colour, size, points), checked."""
        return peer_drags(self.status) if self.session is not None and self.status is not None else []

    # ---------------------------------------------------------------- start
    def host(
        self,
        *,
        bind: str = "127.0.0.1",
        port: int = 0,
        room: str = "studio",
        store: str = ":memory:",
        token: str | None = None,
        name: str = "host",
        limits=None,
    ) -> bool:
        """Start a server in this studio and join it; the current painting goes into the room."""
        if self.session is not None:
            self.panel.show_error("Already in a session: leave it first.")
            return False
        self.bind = bind
        session = CollabSession(
            room=room,
            author=name,
            name=name,
            colour=colour_for(name),
            host=True,
            store=store,
            bind=bind,
            port=int(port),
            token=token,
            limits=limits,
        )
        return self._start(session, name, bring=True)

    def join(self, *, url: str, room: str, token: str, name: str, bring: bool = False) -> bool:
        """Join a room; the canvas then shows the room's painting (plus mine when ``bring``)."""
        if self.session is not None:
            self.panel.show_error("Already in a session: leave it first.")
            return False
        session = CollabSession(
            room=room, author=name, name=name, colour=colour_for(name), url=url, token=token
        )
        return self._start(session, name, bring=bring)

    def _start(self, session: CollabSession, name: str, bring: bool) -> bool:
        """Prepare the painting engine for the room on its worker; the session starts when it is."""
        self.name, self.colour = name, colour_for(name)
        self._colour_settled = False
        self.error = None
        self.session = session  # from now on a second host or join is refused
        self.status = session.status()
        self._cursor = 0
        self.leaving = False
        self.panel.runner.submit(
            lambda e: e.enter_room(session.share_edit, name, bring),
            done=lambda initial: self._started(session, initial),
            failed=lambda exc: self._not_started(session, exc),
            context=self,
        )
        self.changed.emit()
        return True

    def _started(self, session: CollabSession, initial: Painting | None) -> None:
        if self.session is not session:  # left while the engine was being prepared
            return
        self.runner = self.panel.make_runner(SessionEngine(session), "painting-session", show_errors=False)
        self.runner.error.connect(self._on_runner_error)
        self.runner.run_job(lambda eng: eng.job(initial))
        if self.panel.lock_box.isChecked():
            self.set_locked(True)
        self.timer.start()
        self.panel.runner.refresh()
        self.changed.emit()

    def _not_started(self, session: CollabSession, exc: BaseException) -> None:
        if self.session is not session:
            return
        self.panel.show_error(f"Cannot start the session: {exc}")
        self._unshare()
        self._teardown()

    # ---------------------------------------------------------------- leave
    def leave(self) -> None:
        """Leave the room (and stop the server when hosting); the canvas keeps the painting."""
        if self.session is None or self.leaving:
            return
        self._unshare()
        if self.runner is None:  # still preparing the engine: nothing runs yet
            self._teardown()
            return
        self.leaving = True
        self.runner.cancel_job()  # the job's finally closes the client and the server
        self._log("info", f"left {self.join_address()}" + (" (server stopped)" if self.hosting else ""))
        self.changed.emit()

    def _unshare(self) -> None:
        """Local edits stop going to the room (queued on the painting worker: the edits
        asked for before still go, none after)."""
        if self.panel.runner is not None:
            self.panel.runner.submit(lambda e: e.share(None))

    def shutdown(self, timeout_s: float = 15.0) -> None:
        """Leave at once, waiting for the session to close (window closing: bounded waits)."""
        if self.session is None:
            return
        try:
            self.panel.runner.call(lambda e: e.share(None), timeout_s=min(timeout_s, 10.0))
        except Exception:  # noqa: BLE001 - the painting runner may be shutting down
            pass
        if self.runner is not None:
            self.runner.shutdown(timeout_s)
        self._teardown()

    def _teardown(self) -> None:
        self.timer.stop()
        self.cursor_timer.stop()
        if self._locked_authors:
            self._locked_authors = frozenset()
            self.panel.runner.submit(lambda e: e.set_locked_authors(()))
        if self.runner is not None:
            self.panel.release_runner(self.runner, 10.0)
            self.runner.deleteLater()
        self.runner = None
        self.session = None
        self.status = None
        self.leaving = False
        self._resync = None
        self.changed.emit()

    def _on_runner_error(self, message: str, _tb: str) -> None:
        self.error = message
        self._log("error", message)
        self.panel.show_error(f"Session: {message}")
        self._unshare()
        self.failed.emit(message)
        self._teardown()

    # ----------------------------------------------------------------- poll
    def poll(self) -> None:
        if self.session is None or self.runner is None:
            return
        if self.leaving and self.runner.state != RunnerState.JOB:
            self._teardown()
            return
        if self.runner.state == RunnerState.ERROR:
            return
        session = self.session
        if self._resync is None:  # (while the room is being re-read, its feed waits)
            changes, self._cursor, dropped = session.changes_since(self._cursor)
            if dropped:
                self._resync = session.painting()  # fell behind the feed: read the whole room
                self._resync.add_done_callback(self._room_read.emit)
                self.resyncs += 1
            elif changes:
                net = net_effect(changes)
                if net["added"] or net["removed"] or net["background"] is not None:
                    self.panel.runner.submit(lambda e: e.apply_remote(**net))
                    self.panel.runner.refresh()
                    self.applied_batches += 1
        st = session.status()
        if st != self.status:
            prev, self.status = self.status, st
            self._log_transition(prev, st)
            self._avoid_taken_colour(st)
            self._sync_locks(st)
            self.changed.emit()

    def _apply_room(self, fut) -> None:
        """The whole room, read after falling behind: the canvas becomes it."""
        if fut is not self._resync:
            return  # (a session left meanwhile)
        self._resync = None
        if fut.exception() is None:
            room: Painting = fut.result()
            self.panel.runner.submit(lambda e: e.follow_room(room))
            self.panel.runner.refresh()

    def _sync_locks(self, st: SessionStatus) -> None:
        """Tell the painting engine whose strokes the others have locked (presence ``locked``)."""
        names = locked_names(st)
        if names != self._locked_authors:
            self._locked_authors = names
            self.panel.runner.submit(lambda e: e.set_locked_authors(names))

    def _avoid_taken_colour(self, st: SessionStatus) -> None:
        """Once online, take a colour nobody in the room has (names hash to only 8 colours)."""
        if self._colour_settled or st.state != "online":
            return
        self._colour_settled = True
        taken = {str(p.get("colour", "")).lower() for p in peer_states(st)}
        if self.colour.lower() in taken:
            free = [c for c in PEER_COLOURS if c.lower() not in taken]
            if free:
                self.colour = free[0]
                self._presence("colour", self.colour)

    def _log(self, level: str, text: str) -> None:
        win = self.panel.window()
        if hasattr(win, "log"):
            win.log(level, f"session: {text}")

    def _log_transition(self, prev: SessionStatus | None, st: SessionStatus) -> None:
        before = prev.state if prev is not None else ""
        if st.state == before:
            if prev is not None and set(st.peers) != set(prev.peers):
                names = ", ".join(sorted(str(p.get("name", "?")) for p in peer_states(st))) or "nobody"
                self._log("info", f"in the room with {names}")
            return
        where = self.join_address()
        if st.state == "online":
            again = prev is not None and prev.ever_online
            if again:
                self._log("info", f"reconnected to {where}; edits made meanwhile are merged")
            else:
                self._log("info", f"{'hosting' if st.hosting else 'joined'} {where} as {self.name}")
        elif st.state == "refused":
            self._log("error", f"refused by {where}: {st.error}")
        elif st.state in ("offline", "connecting") and before == "online":
            self._log("warning", f"connection to {where} lost ({st.error}); reconnecting, edits are kept")

    # ------------------------------------------------------------- presence
    def set_cursor(self, xy: tuple[float, float] | None) -> None:
        """My cursor on the canvas (None: off it); sent at most every CURSOR_MS."""
        self._presence("cursor", None if xy is None else [round(float(xy[0]), 4), round(float(xy[1]), 4)])

    def set_locked(self, on: bool) -> None:
        """Tell the room that my strokes are locked: the others' erasers, Clear and edits skip them."""
        self._presence("locked", bool(on))

    def set_drag(self, points: list | None, colour: str = "#000000", size: float = 0.03) -> None:
        """My brush drag while the button is down (None when it ends): the others see it grow."""
        if points is None or len(points) == 0:
            self._presence("drag", None)
            return
        self._presence("drag", drag_message(points, colour, size))

    def _presence(self, key: str, value: Any) -> None:
        if self.session is None:
            return
        self._pending[key] = value
        if not self.cursor_timer.isActive():
            self._send_presence()
            self.cursor_timer.start()

    def _send_presence(self) -> None:
        fields, self._pending = self._pending, {}
        if fields and self.session is not None:
            self.session.set_presence(**fields)

    # ----------------------------------------------------------------- test aid
    def drop_connection(self) -> None:
        """Cut the network connection as a failure would (it reconnects by itself)."""
        if self.session is not None:
            self.session.drop()
