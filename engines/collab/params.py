"""Parameters of the painting session engine (:class:`engines.collab.engine.SessionEngine`)."""

from __future__ import annotations

from dataclasses import dataclass

from engines.base import Params, param


@dataclass(frozen=True)
class SessionParams(Params):
    slice_ms: float = param(
        20.0,
        unit="ms",
        min=1.0,
        max=1000.0,
        doc="how long the session's event loop is pumped between two yields of its job",
    )


__all__ = ["SessionParams"]
