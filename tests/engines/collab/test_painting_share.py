"""Two painting engines in one room, wired as the studio wires them (no Qt, no threads).

Each engine reports its local edits to its session (``engine.share(session.share_edit)``);
the session's change feed, folded by ``net_effect``, goes back in with ``apply_remote``.
The sessions are pumped as job generators from this one thread.
"""

import numpy as np

from engines.collab.session import CollabSession, net_effect
from engines.painting.engine import PaintingEngine, PaintingParams
from engines.painting.strokes import Painting


class Replica:
    def __init__(self, session: CollabSession, author: str, initial: Painting | None = None):
        self.session = session
        self.engine = PaintingEngine(PaintingParams(canvas_px=64, author=author))
        if initial is not None:
            self.engine.load_document(initial.copy())
        self.job = session.job(slice_s=0.005, initial=self.engine.doc.copy() if initial else None)
        self.engine.share(session.share_edit)
        self.cursor = 0

    def pump(self) -> None:
        next(self.job)
        changes, self.cursor, dropped = self.session.changes_since(self.cursor)
        assert dropped == 0
        if changes:
            self.engine.apply_remote(**net_effect(changes))

    def ids(self) -> list[str]:
        return self.engine.doc.ids()


def _pump(reps, until, steps=2000):
    for _ in range(steps):
        for r in reps:
            r.pump()
        if until():
            return
    raise AssertionError("condition not reached")


def _strokes(n, seed):
    p = np.random.default_rng(seed).uniform(0.1, 0.9, size=(n, 8))
    p[:, 2:4] *= 0.2
    return p


def test_two_engines_same_name_share_undo_redo_and_erase(tmp_path):
    mine = Painting()
    mine.add_many(_strokes(2, 0), author="me")
    host = Replica(CollabSession(room="r", author="me", host=True), "me", initial=mine)
    next(host.job)
    st = host.session.status()
    guest = Replica(CollabSession(room="r", author="me", url=st.url, token=st.token), "me")
    reps = [host, guest]
    try:
        _pump(reps, lambda: guest.ids() == host.ids() and len(host.ids()) == 2)
        # both are called "me": their new strokes still get different ids
        a = host.engine.add_strokes(_strokes(3, 1))
        b = guest.engine.add_strokes(_strokes(3, 2))
        assert not {s.id for s in a} & {s.id for s in b}
        _pump(reps, lambda: len(host.ids()) == 8 and guest.ids() == host.ids())
        # the remote strokes did not enter either undo history
        assert [len(x[1]) for x in host.engine.undo_stack] == [3]
        # undo: only my own strokes go, on both replicas
        assert guest.engine.undo()
        _pump(reps, lambda: len(host.ids()) == 5 and guest.ids() == host.ids())
        assert {s.id for s in a} <= set(host.ids())
        assert guest.engine.redo()
        _pump(reps, lambda: len(host.ids()) == 8 and guest.ids() == host.ids())
        # the guest erases one of the host's strokes; the host's undo leaves that alone
        victim = a[0]
        gone = guest.engine.erase_at(victim.x, victim.y, 1e-6)
        assert [s.id for s in gone] == [victim.id]
        _pump(reps, lambda: victim.id not in host.ids())
        # an edit made in the stroke list reaches the other side
        guest.engine.edit_stroke(b[0].id, r=0.05)
        _pump(reps, lambda: host.engine.doc.strokes[b[0].id].r == 0.05)
        # accepted model strokes keep the author "model" and a replica-unique id
        made = host.engine.add_strokes(_strokes(2, 3), author="model")
        _pump(reps, lambda: all(s.id in guest.engine.doc.strokes for s in made))
        assert {guest.engine.doc.strokes[s.id].author for s in made} == {"model"}
        # opening a file while sharing: the room sees the old strokes go and the file's come
        f = Painting()
        f.add_many(_strokes(4, 4), author="someone")
        guest.engine.load_document(f)
        _pump(reps, lambda: len(host.ids()) == 4 and guest.ids() == host.ids())
        assert {host.engine.doc.strokes[i].author for i in host.ids()} == {"someone"}
    finally:
        guest.job.close()
        host.job.close()


def test_hosting_again_from_the_store_makes_no_duplicates(tmp_path):
    store = str(tmp_path / "s.db")
    first = Replica(
        CollabSession(room="r", author="ada", host=True, store=store, token="tok-1234567890"), "ada"
    )
    try:
        first.engine.add_strokes(_strokes(5, 0))
        _pump([first], lambda: first.session.status().strokes == 5)
        fut = first.session.flush(10)
        _pump([first], fut.done)
        assert len(fut.result()) == 5  # acknowledged: on disk
    finally:
        first.job.close()
    # the same painting is open when hosting again from the same store
    again = Replica(
        CollabSession(room="r", author="ada", host=True, store=store, token="tok-1234567890"),
        "ada",
        initial=first.engine.doc,
    )
    try:
        _pump(
            [again],
            lambda: again.session.status().state == "online" and again.session.status().pending_initial == 0,
        )
        for _ in range(20):
            again.pump()
        p = again.session.painting()
        _pump([again], p.done)
        assert sorted(p.result().ids()) == sorted(first.ids()) and len(p.result()) == 5
        # one Y.Map per stroke, nothing for the server to repair, never dropped for it
        n = again.session.submit(lambda c: (len(c.sdoc.strokes_array), len(c.sdoc.invalid)))
        _pump([again], n.done)
        assert n.result() == (5, 0)
        st = again.session.status()
        assert st.ever_online and st.connects == 1
    finally:
        again.job.close()
