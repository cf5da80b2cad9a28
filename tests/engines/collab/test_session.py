"""The studio-side session: host + join, driven as job generators from one thread, no threads of its own."""

import numpy as np
import pytest

from engines.collab.session import CollabSession
from engines.painting.strokes import Painting


def _pump(jobs, until, steps=1500):
    for _ in range(steps):
        for j in jobs:
            next(j)
        if until():
            return True
    raise AssertionError("condition not reached")


def test_host_and_join_sessions(tmp_path):
    start = Painting()
    start.add_many(np.full((2, 8), 0.4), author="ada")
    host = CollabSession(room="r", author="ada", name="Ada", host=True, store=str(tmp_path / "s.db"))
    hj = host.job(slice_s=0.005, initial=start)
    next(hj)
    st = host.status()
    assert st.hosting and st.url.startswith("ws://127.0.0.1:") and len(st.token) >= 20
    with pytest.raises(ValueError, match="url and token"):
        CollabSession(room="r", author="bob")
    guest = CollabSession(room="r", author="bob", name="Bob", url=st.url, token=st.token)
    gj = guest.job(slice_s=0.005)
    jobs = [hj, gj]
    try:
        _pump(jobs, lambda: guest.status().state == "online" and guest.status().strokes == 2)
        fut = guest.add(np.full((3, 8), 0.6))
        host.set_cursor(0.1, 0.9)
        _pump(jobs, lambda: fut.done() and host.status().strokes == 5)
        made = fut.result()
        assert [s.author for s in made] == ["bob"] * 3
        _pump(jobs, lambda: any(p.get("cursor") == [0.1, 0.9] for p in guest.status().peers.values()))
        # the change feed: guest's own add, seen by host as remote
        changes, cur, dropped = host.changes_since(0)
        assert dropped == 0 and sum(len(c.added) for c in changes if not c.local) == 3
        # undo only touches bob's own strokes
        u = guest.undo()
        _pump(jobs, lambda: u.done() and host.status().strokes == 2)
        p = host.painting()
        _pump(jobs, p.done)
        assert {s.author for s in p.result().ordered()} == {"ada"}
        more, cur2, _ = host.changes_since(cur)
        assert sum(len(c.removed) for c in more) == 3 and cur2 > cur
    finally:
        gj.close()
        hj.close()
    assert guest.status().state == "closed"
    late = guest.add(np.full((1, 8), 0.5))
    with pytest.raises(RuntimeError, match="closed"):
        late.result(0)


def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_hosting_on_ipv6_loopback_joins_itself():
    s = CollabSession(room="r", author="a", host=True, bind="::1")
    j = s.job(slice_s=0.005)
    try:
        _pump([j], lambda: s.status().state == "online")
        assert s.status().url.startswith("ws://[::1]:")
    finally:
        j.close()
