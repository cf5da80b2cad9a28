"""The painting session as an engine: what a studio runner drives, and the status it publishes.

:class:`SessionEngine` wraps a :class:`engines.collab.session.CollabSession`
(the room, its server when hosting, its client) so that a runner pumps the
session's event loop on its worker thread; its snapshot is the
:class:`SessionStatus`. The server modules (:mod:`engines.collab.server`,
:mod:`~engines.collab.protocol`, :mod:`~engines.collab.validate`,
:mod:`~engines.collab.store`) need no engine and stay beside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engines.base import Engine, Progress
from engines.collab.params import SessionParams

if TYPE_CHECKING:
    from engines.collab.session import CollabSession
    from engines.painting.strokes import Painting


@dataclass(frozen=True)
class SessionStatus:
    """What the panel shows: connection state, the others, how to join."""

    state: str
    error: str | None
    peers: dict  # client id -> {"name", "colour", "cursor"}
    url: str  # ws://host:port (without room and token)
    room: str
    token: str
    hosting: bool
    strokes: int
    #: True once the session has been connected and synced (then a drop reads "reconnecting")
    ever_online: bool = False
    #: this replica's Yjs client id (its key among the others' peers)
    client_id: int = 0
    #: strokes of ``initial`` still waiting for the first sync to be put into the room
    pending_initial: int = 0
    #: connections opened so far (more than one: it has reconnected)
    connects: int = 0


class SessionEngine(Engine[SessionParams, SessionStatus]):
    """A :class:`CollabSession` as an engine, so a studio runner can pump it on its worker thread.

    Its only work is the job ``engine.job(initial)`` (the session's own job);
    ``snapshot()`` is the session status. Everything else the GUI does goes
    through the session's thread-safe methods.
    """

    params_type = SessionParams
    name = "collab"
    title = "Painting session"
    step_unit = "slices"

    def __init__(self, session: CollabSession, params: SessionParams | None = None, seed: int = 0) -> None:
        super().__init__(params, seed)
        self.session = session

    def job(self, initial: Painting | None = None, slice_s: float | None = None) -> Iterator[Progress]:
        """The session's job (see :meth:`CollabSession.job`), pumped every ``slice_s`` (default: ``params.slice_ms``)."""
        if slice_s is None:
            slice_s = self.params.slice_ms / 1000.0
        return self.session.job(slice_s=slice_s, initial=initial)

    def reset(self, seed: int | None = None) -> None:
        pass

    def step(self, n: int = 1) -> int:
        return 0

    def snapshot(self) -> SessionStatus:
        return self.session.status()

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, d) -> None:
        pass


__all__ = ["SessionEngine", "SessionStatus"]
