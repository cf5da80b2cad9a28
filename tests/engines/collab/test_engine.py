"""The painting session as an engine: the package's exports, its parameters and its snapshot (no network)."""

import pytest

from engines.collab import CollabSession, SessionEngine, SessionParams, SessionStatus


def test_the_snapshot_is_the_sessions_status_before_it_starts():
    s = CollabSession(room="lab", author="ada", url="ws://127.0.0.1:1", token="t")
    e = SessionEngine(s)
    assert isinstance(e.params, SessionParams) and e.params.slice_ms == 20.0
    snap = e.snapshot()
    assert isinstance(snap, SessionStatus) and snap == s.status()
    assert (snap.state, snap.room, snap.hosting, snap.strokes) == ("offline", "lab", False, 0)
    assert e.step(5) == 0 and e.state_dict() == {}


def test_a_bad_slice_is_refused_by_name():
    with pytest.raises(ValueError, match="slice_ms"):
        SessionParams(slice_ms=0.0)
