"""Multi-user painting in the real window: two studios on loopback host and join one room.

Each test opens two main windows (two painting panels, each with its own engine,
runner and session) and drives them through the panels' own methods and widgets.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui

from studio.panels.painting import PaintingPanel
from studio.window import MainWindow

from .test_panel_painting import _drag, _grab, use_tiny_model

pytestmark = pytest.mark.gui

T = 30000  # ms: generous bound for a loaded 2-core machine; every wait ends as soon as it holds


def _window(qtbot, tmp_path, name: str, x: int):
    w = MainWindow(panel_classes={"painting": PaintingPanel}, settings_file=tmp_path / f"{name}.ini")
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.move(x, 0)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["painting"]
    w.runner_for("painting")
    qtbot.waitUntil(lambda: p._snap is not None, timeout=T)
    return w, p


@pytest.fixture
def two(qtbot, tmp_path):
    wa, a = _window(qtbot, tmp_path, "ada", 0)
    wb, b = _window(qtbot, tmp_path, "bob", 40)
    yield a, b
    wb.close()
    wa.close()
    assert not a.session.active and not b.session.active


def _ids(panel) -> set[str]:
    return set(panel._snap.ids)


def _host_and_join(qtbot, a, b, **host_kw):
    assert a.host_session(name="Ada", **host_kw)
    qtbot.waitUntil(lambda: a.session.status is not None and a.session.status.state == "online", timeout=T)
    address, token = a.address_edit.text(), a.session.status.token
    assert address.startswith("ws://127.0.0.1:") and address.endswith("/" + host_kw.get("room", "studio"))
    assert len(token) >= 20
    from studio.widgets.collab import parse_join_address

    target = parse_join_address(address)
    assert b.join_session(url=target.url, room=target.room, token=token, name="Bob")
    qtbot.waitUntil(lambda: b.indicator.text_now == "Connected (1 peer)", timeout=T)
    qtbot.waitUntil(lambda: a.indicator.text_now == "Connected (1 peer)", timeout=T)
    return target, token


def test_two_panels_paint_together_see_cursors_and_undo_only_their_own(two, qtbot):
    a, b = two
    assert a.indicator.text_now == "Disconnected"
    # Ada had started painting before hosting: it goes into the room
    _drag(qtbot, a.canvas, [(0.2, 0.2), (0.3, 0.25)])
    qtbot.waitUntil(lambda: a._snap.n_strokes > 0, timeout=T)
    before = _ids(a)
    _host_and_join(qtbot, a, b, room="atelier")
    qtbot.waitUntil(lambda: _ids(b) == before, timeout=T)
    # participants, both ways
    qtbot.waitUntil(lambda: a.participants.names() == ["Ada (you)", "Bob"], timeout=T)
    assert b.participants.names() == ["Bob (you)", "Ada"]
    # a stroke painted in Bob's canvas appears in Ada's, authored by Bob
    b.set_color(QtGui.QColor("#2060e0"))
    _drag(qtbot, b.canvas, [(0.6, 0.7), (0.8, 0.7)])
    qtbot.waitUntil(lambda: b._snap.n_mine > 0, timeout=T)
    bobs = {i for i, au in zip(b._snap.ids, b._snap.authors) if au == "Bob"}
    qtbot.waitUntil(lambda: bobs <= _ids(a), timeout=T)
    assert {au for i, au in zip(a._snap.ids, a._snap.authors) if i in bobs} == {"Bob"}
    # ... and is on Ada's screen: blue where Bob painted
    pt = a.canvas.to_widget(0.7, 0.7).toPoint()
    qtbot.waitUntil(lambda: _grab(a.canvas)[pt.y(), pt.x()][2] > 150, timeout=T)
    # one in Ada's appears in Bob's
    _drag(qtbot, a.canvas, [(0.2, 0.8), (0.3, 0.8)])
    qtbot.waitUntil(lambda: len(_ids(a)) > len(before) + len(bobs), timeout=T)
    qtbot.waitUntil(lambda: _ids(b) == _ids(a), timeout=T)
    # Bob's cursor is drawn on Ada's canvas with his name
    qtbot.mouseMove(b.canvas, b.canvas.to_widget(0.4, 0.6).toPoint())
    qtbot.waitUntil(
        lambda: (
            [c[0] for c in a.canvas.cursors] == ["Bob"]
            and a.canvas.cursors[0][2:] == pytest.approx((0.4, 0.6), abs=0.01)
        ),
        timeout=T,
    )
    name, colour, x, y = a.canvas.cursors[0]
    tip = a.canvas.to_widget(x, y)
    shot = _grab(a.canvas)
    want = QtGui.QColor(colour)
    inside = shot[int(tip.y()) + 8, int(tip.x()) + 2].astype(int)  # inside the arrow
    assert np.abs(inside - [want.red(), want.green(), want.blue()]).max() < 40, (inside, colour)
    # a drag in progress is seen growing before the button is released
    c = b.canvas
    pts = [c.to_widget(0.1 + 0.02 * i, 0.4).toPoint() for i in range(8)]
    qtbot.mousePress(c, QtCore.Qt.MouseButton.LeftButton, pos=pts[0])
    for q in pts[1:]:
        qtbot.mouseMove(c, q)
    qtbot.waitUntil(
        lambda: len(a.canvas.remote_drags) == 1 and len(a.canvas.remote_drags[0][2]) >= 6, timeout=T
    )
    colour, size, path = a.canvas.remote_drags[0]
    assert colour == "#2060e0" and size == pytest.approx(b.canvas.brush_size)
    assert path[-1] == pytest.approx((0.24, 0.4), abs=0.01)
    bobs_first = bobs
    n_a = len(_ids(a))
    qtbot.mouseRelease(c, QtCore.Qt.MouseButton.LeftButton, pos=pts[-1])
    qtbot.waitUntil(lambda: a.canvas.remote_drags == [] and len(_ids(a)) > n_a, timeout=T)
    bobs = {i for i, au in zip(b._snap.ids, b._snap.authors) if au == "Bob"}
    bobs_second = bobs - bobs_first
    assert bobs_second
    qtbot.waitUntil(lambda: _ids(a) == _ids(b), timeout=T)
    # undo in Ada's panel removes only her last stroke, on both canvases; Bob's stay
    ada_last = _ids(a) - before - bobs
    a.undo()
    qtbot.waitUntil(lambda: not (ada_last & _ids(b)) and bobs <= _ids(b), timeout=T)
    qtbot.waitUntil(lambda: _ids(a) == _ids(b), timeout=T)
    assert bobs <= _ids(a) and before <= _ids(a)
    # Bob's undo takes his last drag away for both, and leaves Ada's strokes alone
    b.undo()
    qtbot.waitUntil(lambda: not (bobs_second & _ids(a)) and _ids(a) == before | bobs_first, timeout=T)
    b.undo()
    qtbot.waitUntil(lambda: _ids(a) == before, timeout=T)
    qtbot.waitUntil(lambda: _ids(b) == before, timeout=T)
    # redo brings back his first drag everywhere
    b.redo()
    qtbot.waitUntil(lambda: _ids(a) == before | bobs_first, timeout=T)
    bobs = bobs_first
    # leaving: the host stops the server; Bob is told, and keeps the painting
    a.leave_session()
    qtbot.waitUntil(lambda: not a.session.active and a.indicator.text_now == "Disconnected", timeout=T)
    qtbot.waitUntil(lambda: b.indicator.text_now in ("Reconnecting…",), timeout=T)
    assert b.participants.names() == ["Bob (you)"] and b.canvas.cursors == []
    assert _ids(b) == before | bobs


def test_server_down_shows_reconnecting_and_offline_strokes_merge(two, qtbot, tmp_path):
    a, b = two
    store = str(tmp_path / "sessions.db")
    target, token = _host_and_join(qtbot, a, b, room="lab", store=store, token="a-fixed-room-token-123")
    port = int(target.url.rsplit(":", 1)[1])
    _drag(qtbot, b.canvas, [(0.3, 0.3), (0.4, 0.3)])
    qtbot.waitUntil(lambda: b._snap.n_strokes > 0 and _ids(a) == _ids(b), timeout=T)
    first = _ids(b)
    # the host goes away (its server with it): Bob sees Reconnecting… and paints on, offline
    a.leave_session()
    qtbot.waitUntil(lambda: not a.session.active, timeout=T)
    qtbot.waitUntil(lambda: b.indicator.text_now == "Reconnecting…", timeout=T)
    _drag(qtbot, b.canvas, [(0.7, 0.2), (0.8, 0.3)])
    qtbot.waitUntil(lambda: len(_ids(b)) > len(first), timeout=T)
    offline = _ids(b) - first
    assert not (offline & _ids(a))
    # the host comes back on the same port, from the same store, with the same token
    assert a.host_session(name="Ada", room="lab", store=store, token=token, port=port)
    qtbot.waitUntil(lambda: b.indicator.text_now == "Connected (1 peer)", timeout=T)
    qtbot.waitUntil(lambda: offline <= _ids(a), timeout=T)
    assert _ids(a) == _ids(b)
    log = "\n".join(t for _, t in b.window().log_dock.lines)
    assert "connection to ws://127.0.0.1:" in log and "reconnected to ws://127.0.0.1:" in log
    # a dropped connection (network failure) comes back by itself, too
    n = b.session.status.connects
    b.session.drop_connection()
    qtbot.waitUntil(lambda: b.session.status.connects > n, timeout=T)
    qtbot.waitUntil(lambda: b.indicator.text_now == "Connected (1 peer)", timeout=T)
    _drag(qtbot, b.canvas, [(0.5, 0.5), (0.6, 0.5)])
    qtbot.waitUntil(lambda: len(_ids(a)) > len(first | offline) and _ids(a) == _ids(b), timeout=T)


def test_accepted_proposals_are_authored_model_in_the_room(two, qtbot):
    a, b = two
    _host_and_join(qtbot, a, b)
    use_tiny_model(b, 3)
    _drag(qtbot, b.canvas, [(0.3, 0.3), (0.6, 0.6)])
    qtbot.waitUntil(lambda: b._snap.n_strokes > 0, timeout=T)
    b.proposals_box.setValue(1)
    with qtbot.waitSignal(b.runner.job_finished, timeout=60000):
        qtbot.mouseClick(b.complete_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: b.accept_button.isEnabled(), timeout=T)
    k = len(b._snap.proposals[0])
    assert k > 0
    qtbot.mouseClick(b.accept_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: b._snap.n_strokes == b._snap.n_mine + k, timeout=T)
    qtbot.waitUntil(lambda: a._snap.n_strokes == b._snap.n_mine + k, timeout=T)
    assert a._snap.authors.count("model") == b._snap.authors.count("model") == k
    # the ids carry Bob's replica tag: two people accepting proposals never clash
    assert all("@" in i for i, au in zip(a._snap.ids, a._snap.authors) if au == "model")
    # Bob's undo takes his accepted proposal away for both
    b.undo()
    qtbot.waitUntil(lambda: a._snap.authors.count("model") == 0, timeout=T)


def test_bad_join_and_busy_port_are_messages(two, qtbot):
    a, b = two
    _host_and_join(qtbot, a, b)
    # a second host on the port Ada uses: a clear error, no session, the app lives on
    port = int(a.session.status.url.rsplit(":", 1)[1])
    b.leave_session()
    qtbot.waitUntil(lambda: not b.session.active, timeout=T)
    assert b.host_session(name="Bob", port=port)
    qtbot.waitUntil(lambda: not b.session.active, timeout=T)
    assert "Session:" in b.banner.label.text() and "ddress" in b.banner.label.text()
    # a wrong token: refused, said so
    target = a.session.status.url
    assert b.join_session(url=target, room="studio", token="wrong-token", name="Bob")
    qtbot.waitUntil(lambda: b.indicator.text_now == "Refused", timeout=T)
    assert "401" in b.indicator.toolTip()
    b.leave_session()
    qtbot.waitUntil(lambda: not b.session.active, timeout=T)


def test_a_panel_that_falls_behind_the_feed_reads_the_whole_room(two, qtbot):
    import collections

    a, b = two
    _host_and_join(qtbot, a, b)
    # Bob's panel stops reading while Ada paints five separate drags into a tiny feed
    b.session.timer.stop()
    b.session.session._events = collections.deque(maxlen=2)
    for i in range(5):
        _drag(qtbot, a.canvas, [(0.1 + 0.15 * i, 0.2), (0.15 + 0.15 * i, 0.25)])
    qtbot.waitUntil(
        lambda: a._snap.n_strokes > 0 and b.session.session.status().strokes == a._snap.n_strokes, timeout=T
    )
    assert b._snap.n_strokes == 0
    resyncs = b.session.resyncs
    b.session.timer.start()
    qtbot.waitUntil(lambda: _ids(b) == _ids(a), timeout=T)
    assert b.session.resyncs == resyncs + 1


def test_two_people_whose_names_hash_to_one_colour_get_two_colours(two, qtbot):
    from studio.widgets.collab import colour_for

    a, b = two
    assert colour_for("Eve") == colour_for("Bob")
    assert a.host_session(name="Eve")
    qtbot.waitUntil(lambda: a.session.status is not None and a.session.status.state == "online", timeout=T)
    st = a.session.status
    assert b.join_session(url=st.url, room=st.room, token=st.token, name="Bob")
    qtbot.waitUntil(
        lambda: (
            [p[0] for p in a.session.people()] == ["Eve (you)", "Bob"]
            and a.session.people()[1][1] != a.session.colour
        ),
        timeout=T,
    )
    assert b.session.colour != colour_for("Bob") and b.session.people()[0] == ("Bob (you)", b.session.colour)


def _serve(store, port=0, token="kill-test-token-0123456789"):
    """`studio serve` in its own process; returns (process, port)."""
    import subprocess
    import sys
    from pathlib import Path

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "studio",
            "serve",
            "--port",
            str(port),
            "--store",
            str(store),
            "--token",
            token,
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    while True:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"studio serve did not start: {seen} {proc.stderr.read()}")
        seen.append(line)
        if line.startswith("port: "):
            return proc, int(line.split()[1])


def test_a_killed_server_restarted_from_its_store_gets_everyones_offline_strokes(two, qtbot, tmp_path):
    import signal

    a, b = two
    token = "kill-test-token-0123456789"
    store = tmp_path / "lab.db"
    proc, port = _serve(store, token=token)
    try:
        url = f"ws://127.0.0.1:{port}"
        assert a.join_session(url=url, room="lab", token=token, name="Ada")
        assert b.join_session(url=url, room="lab", token=token, name="Bob")
        qtbot.waitUntil(
            lambda: a.indicator.text_now == b.indicator.text_now == "Connected (1 peer)", timeout=T
        )
        _drag(qtbot, a.canvas, [(0.2, 0.2), (0.3, 0.2)])
        qtbot.waitUntil(lambda: a._snap.n_strokes > 0 and _ids(a) == _ids(b), timeout=T)
        online = _ids(a)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
        qtbot.waitUntil(lambda: a.indicator.text_now == b.indicator.text_now == "Reconnecting…", timeout=T)
        _drag(qtbot, a.canvas, [(0.2, 0.6), (0.3, 0.6)])
        _drag(qtbot, b.canvas, [(0.7, 0.6), (0.8, 0.6)])
        qtbot.waitUntil(lambda: len(_ids(a)) > len(online) and len(_ids(b)) > len(online), timeout=T)
        a_off, b_off = _ids(a) - online, _ids(b) - online
        assert not (a_off & _ids(b)) and not (b_off & _ids(a))
        proc, _ = _serve(store, port=port, token=token)
        qtbot.waitUntil(
            lambda: a.indicator.text_now == b.indicator.text_now == "Connected (1 peer)", timeout=T
        )
        qtbot.waitUntil(lambda: _ids(a) == _ids(b) == online | a_off | b_off, timeout=T)
    finally:
        a.leave_session()
        b.leave_session()
        qtbot.waitUntil(lambda: not a.session.active and not b.session.active, timeout=T)
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def test_locked_strokes_are_left_alone_by_the_others(two, qtbot):
    a, b = two
    _host_and_join(qtbot, a, b)
    _drag(qtbot, a.canvas, [(0.4, 0.4), (0.5, 0.45)])
    qtbot.waitUntil(lambda: a._snap.n_mine > 0, timeout=T)
    adas = {i for i, au in zip(a._snap.ids, a._snap.authors) if au == "Ada"}
    qtbot.waitUntil(lambda: adas <= _ids(b), timeout=T)
    a.lock_box.setChecked(True)
    qtbot.waitUntil(lambda: b.runner.call(lambda e: e.locked_authors) == {"Ada"}, timeout=T)
    # Bob's Clear, eraser and stroke edits leave Ada's strokes alone
    qtbot.mouseClick(b.clear_button, QtCore.Qt.MouseButton.LeftButton)
    first = sorted(adas)[0]
    s = b.runner.call(lambda e: e.doc.strokes[first])
    assert b.runner.call(lambda e: e.erase_at(s.x, s.y, 0.05)) == []
    with pytest.raises(ValueError, match="locked by Ada"):
        b.runner.call(lambda e: e.edit_stroke(first, x=0.1))
    b.runner.refresh()
    qtbot.waitUntil(lambda: adas <= _ids(b) and adas <= _ids(a), timeout=T)
    # unlocked: Bob's Clear takes them away, everywhere
    a.lock_box.setChecked(False)
    qtbot.waitUntil(lambda: b.runner.call(lambda e: e.locked_authors) == frozenset(), timeout=T)
    qtbot.mouseClick(b.clear_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not (adas & _ids(a)) and not (adas & _ids(b)), timeout=T)
    # leaving forgets the others' locks
    a.lock_box.setChecked(True)
    qtbot.waitUntil(lambda: b.runner.call(lambda e: e.locked_authors) == {"Ada"}, timeout=T)
    b.leave_session()
    qtbot.waitUntil(lambda: not b.session.active, timeout=T)
    qtbot.waitUntil(lambda: b.runner.call(lambda e: e.locked_authors) == frozenset(), timeout=T)


def test_hosting_on_a_file_that_is_not_a_store_says_so_and_changes_nothing(qtbot, tmp_path):
    w, a = _window(qtbot, tmp_path, "ada", 0)
    _drag(qtbot, a.canvas, [(0.2, 0.2), (0.3, 0.25)])
    qtbot.waitUntil(lambda: a._snap.n_strokes > 0, timeout=T)
    before = _ids(a)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 20)
    a.host_session(name="Ada", room="lab", store=str(notes))
    qtbot.waitUntil(lambda: a.banner.isVisible(), timeout=T)
    assert str(notes) in a.banner.label.text()
    qtbot.waitUntil(lambda: not a.session.active, timeout=T)
    assert notes.read_text() == "my notes, not a database\n" * 20  # left as it was
    assert _ids(a) == before  # the painting stays on the canvas
    assert a.indicator.text_now == "Disconnected"
    w.close()
