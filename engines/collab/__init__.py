"""Multi-user painting: the painting as a Yjs (pycrdt) document, its server and its client.

Headless; no Qt. :mod:`engines.collab.params` and :mod:`engines.collab.engine` (the
session as an engine a studio runner drives: :class:`SessionEngine`, its
:class:`SessionParams` and its snapshot :class:`SessionStatus`),
:mod:`engines.collab.session` (host/join for the studio, pumped from a runner
job), :mod:`engines.collab.cli` (``python -m engines collab ...``);
:mod:`engines.collab.schema` (the document and its mirror as painting strokes),
:mod:`engines.collab.protocol` (the Yjs sync and awareness messages, parsed
strictly), :mod:`engines.collab.store` (SQLite persistence: the package's files),
:mod:`engines.collab.server` (rooms over WebSocket) and
:mod:`engines.collab.client` (a reconnecting client). The schema and the protocol
are documented in docs/collab-schema.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engines import lazy_exports

if TYPE_CHECKING:
    from engines.collab.engine import SessionEngine, SessionStatus
    from engines.collab.params import SessionParams
    from engines.collab.session import CollabSession

__all__ = ["CollabSession", "SessionEngine", "SessionParams", "SessionStatus"]

# imported on first use: the session side needs the painting engine (and torch); the room
# server (``studio serve``) needs neither
_LAZY = {
    "CollabSession": "engines.collab.session",
    "SessionEngine": "engines.collab.engine",
    "SessionStatus": "engines.collab.engine",
    "SessionParams": "engines.collab.params",
}


__getattr__ = lazy_exports(__name__, _LAZY)
