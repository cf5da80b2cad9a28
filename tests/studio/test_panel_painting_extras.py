"""The painting panel's Complete mode chooser, sharp zoomed views, demo painting and session dialogs."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from studio.panels.painting import PaintingPanel
from studio.widgets.collab import HostDialog, JoinDialog, parse_join_address
from studio.window import MainWindow

from .test_panel_painting import _drag, _grab, use_tiny_model

pytestmark = pytest.mark.gui

T = 30000


@pytest.fixture
def win(qtbot, tmp_path):
    w = MainWindow(panel_classes={"painting": PaintingPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["painting"]
    w.runner_for("painting")
    qtbot.waitUntil(lambda: p._snap is not None, timeout=T)
    yield w
    w.close()


def test_mode_chooser_passes_mode_and_p_to_the_engine(win, qtbot):
    from engines.painting.decompose import level_sizes

    panel = win.panels["painting"]
    use_tiny_model(panel, 2)
    _drag(qtbot, panel.canvas, [(0.1, 0.5), (0.9, 0.5)])
    qtbot.waitUntil(lambda: panel._snap.n_strokes >= 5, timeout=T)
    n = panel._snap.n_strokes
    assert panel.mode_box.currentText() == "all" and not panel.p_box.isEnabled()

    def complete(mode, p=None):
        panel.mode_box.setCurrentText(mode)
        if p is not None:
            assert panel.p_box.isEnabled()
            panel.p_box.setValue(p)
        with qtbot.waitSignal(panel.runner.job_finished, timeout=60000) as sig:
            qtbot.mouseClick(panel.complete_button, QtCore.Qt.MouseButton.LeftButton)
        assert sig.args[1] is True
        return panel.runner.call(lambda e: dict(e.last_completion))

    info = complete("all")
    assert info["mode"] == "all" and info["context"] == n and info["proposed_slots"] == 30 - n
    info = complete("unconditional")
    assert info["mode"] == "unconditional" and info["context"] == 0 and info["proposed_slots"] == 30
    assert not panel.p_box.isEnabled()
    first_level = level_sizes(30)[0]
    info = complete("level", 0.3)  # p < 0.5: only the first level is context
    assert info == {**info, "mode": "level", "p": pytest.approx(0.3), "context": min(n, first_level)}
    info = complete("random", 0.95)
    assert info["mode"] == "random" and info["p"] == pytest.approx(0.95) and 0 < info["context"] <= n
    # the choice is kept in the workspace
    state = panel.panel_state()
    assert state["complete_mode"] == "random" and state["complete_p"] == pytest.approx(0.95)
    panel.mode_box.setCurrentText("all")
    panel.restore_panel_state(state)
    assert panel.mode_box.currentText() == "random"


def _sharpness(img: np.ndarray) -> float:
    """Mean squared step between neighbours: a ramp k pixels wide scores 1/k of a sharp edge."""
    g = img.astype(float).mean(-1)
    return float((np.diff(g, axis=0) ** 2).mean() + (np.diff(g, axis=1) ** 2).mean())


def test_zoomed_view_is_rendered_sharp_at_screen_resolution(win, qtbot):
    panel = win.panels["painting"]
    c = panel.canvas
    panel.start_demo()  # the astronaut: 180 strokes
    # and fine detail: small dark dabs, about 2 pixels of the 512-pixel canvas image each
    rng = np.random.default_rng(0)
    dabs = np.column_stack(
        [
            rng.uniform(0.3, 0.4, 60),
            rng.uniform(0.25, 0.35, 60),
            np.full((60, 2), 0.004),
            rng.random(60),
            np.zeros((60, 3)),
        ]
    )
    panel.runner.call(lambda e: e.add_strokes(dabs, author="detail"))
    panel.runner.refresh()
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 240, timeout=T)
    assert c.view_image is None  # not zoomed: the canvas image is shown as it is
    c.set_view(6.0, (0.35, 0.3))
    qtbot.waitUntil(lambda: panel.view_renders > 0 and c.view_image is not None, timeout=T)
    rect, px = c.visible_view(panel._snap.image.shape[0])
    assert c.view_rect == pytest.approx(rect) and c.view_image.width() == px
    assert px > 1.5 * panel._snap.image.shape[0] * rect[2]  # far more pixels than the canvas image has there

    # the view is the strokes rendered at that resolution: a square aligned on the pixels of a
    # 640-pixel render equals that render's crop (computed on the worker, as the panel does)
    def check(e):
        from engines.painting.render import render_fast

        _, view = e.render_view((0.25, 0.125, 0.25), 160)
        big = render_fast(*e.doc.arrays(), size=640, footprint=True)  # (as the canvas draws thin strokes)
        ref = (np.clip(big[80:240, 160:320], 0, 1) * 255 + 0.5).astype(np.uint8)
        return int(np.abs(view.astype(int) - ref).max())

    assert panel.runner.call(check) <= 1
    # on screen: sharper than the enlarged canvas image (a blur has small pixel-to-pixel steps)
    qtbot.waitUntil(lambda: c.view_draws > 0, timeout=T)
    sharp = _grab(c)
    saved = c.view_image
    c.view_image = None
    c.repaint()
    blurry = _grab(c)
    c.view_image = saved
    assert _sharpness(sharp) > 1.3 * _sharpness(blurry), (_sharpness(sharp), _sharpness(blurry))
    # a stroke painted while zoomed shows in the sharp view too
    renders = panel.view_renders
    panel.set_color(QtGui.QColor("#00ff00"))
    _drag(qtbot, c, [(0.33, 0.3), (0.37, 0.3)])
    qtbot.waitUntil(lambda: panel.view_renders > renders and panel._snap.n_strokes > 240, timeout=T)
    pt = c.to_widget(0.35, 0.3).toPoint()
    qtbot.waitUntil(lambda: _grab(c)[pt.y(), pt.x()][1] > 200, timeout=T)
    # back to the whole canvas: the view is dropped
    c.set_view(1.0, (0.5, 0.5))
    qtbot.waitUntil(lambda: c.view_image is None, timeout=T)


def test_demo_is_a_decomposed_sample_image(win, qtbot):
    panel = win.panels["painting"]
    panel.start_demo()
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 180, timeout=T)
    assert set(panel._snap.authors) == {"reference"}
    img = panel._snap.image
    assert len(np.unique(img.reshape(-1, 3) // 16, axis=0)) > 100  # a picture, not a few flat strokes
    # the astronaut's orange suit fills the lower part
    r, g, b = img[int(0.8 * img.shape[0]) :, :, :].reshape(-1, 3).mean(0)
    assert r > g + 40 and r > b + 40, (r, g, b)


def test_session_menu_dialogs_and_addresses(win, qtbot, tmp_path):
    panel = win.panels["painting"]
    # the Session menu sits in the window's toolbar while the panel is in front
    assert panel.session_action in win.toolbar.actions()
    texts = [a.text().replace("&", "") for a in panel.session_menu.actions()]
    assert texts == ["Host session…", "Join session…", "Invite (address and token)…", "Leave session"]
    assert not panel.act_leave.isEnabled() and panel.indicator.text_now == "Disconnected"
    # ... and in the File menu, above Quit
    file_texts = [a.text().replace("&", "") for a in win.file_menu.actions()]
    assert file_texts[-3:] == ["Painting session", "", "Quit"], file_texts
    # host dialog: warns when listening beyond loopback, checks the room name
    settings = QtCore.QSettings(str(tmp_path / "d.ini"), QtCore.QSettings.Format.IniFormat)
    h = HostDialog(panel, settings, name="Ada")
    qtbot.addWidget(h)
    h.show()
    assert not h.warning.isVisible()
    h.bind_edit.setText("0.0.0.0")
    assert h.warning.isVisible()
    h.bind_edit.setText("::1")
    assert not h.warning.isVisible()
    h.room_edit.setText("no spaces")
    with pytest.raises(ValueError, match="Room 'no spaces'"):
        h.values()
    h.room_edit.setText("atelier")
    h._accept()
    assert h.result() == QtWidgets.QDialog.DialogCode.Accepted
    assert h.values()["store"] == ":memory:" and h.values()["port"] == 0
    # join dialog remembers what was typed
    j = JoinDialog(panel, settings)
    qtbot.addWidget(j)
    j.address_edit.setText("127.0.0.1:9000/atelier")
    j._accept()
    assert "Token" in j.error.text() and j.result() != QtWidgets.QDialog.DialogCode.Accepted
    j.token_edit.setText("tok")
    j.name_edit.setText("Bob")
    j._accept()
    assert j.values() == {
        "url": "ws://127.0.0.1:9000",
        "room": "atelier",
        "token": "tok",
        "name": "Bob",
        "bring": False,
    }
    assert j.replace_warning.isHidden()  # nothing open to lose
    again = JoinDialog(panel, settings, strokes_open=12)
    qtbot.addWidget(again)
    again.show()
    assert again.replace_warning.isVisible() and "12 strokes" in again.replace_warning.text()
    again.bring_box.setChecked(True)
    assert not again.replace_warning.isVisible()
    assert (again.address_edit.text(), again.token_edit.text(), again.name_edit.text()) == (
        "127.0.0.1:9000/atelier",
        "tok",
        "Bob",
    )
    assert parse_join_address("ws://h:1/r?token=abc").token == "abc"
    for bad, why in (("h:1", "no room"), ("h/r", "no port"), ("http://h:1/r", "scheme"), ("h:1/a b", "room")):
        with pytest.raises(ValueError, match=why):
            parse_join_address(bad)
    # hosting from the menu path shows the invite: address and token to copy
    assert panel.host_session(show_invite=True, name="Ada")
    qtbot.waitUntil(lambda: panel._invite_dialog is not None, timeout=T)
    d = panel._invite_dialog
    assert d.address_edit.text() == panel.address_edit.text() and d.address_edit.text().startswith(
        "ws://127.0.0.1:"
    )
    assert d.token_edit.text() == panel.session.status.token
    qtbot.mouseClick(d.findChild(QtWidgets.QPushButton, "InviteTokenCopy"), QtCore.Qt.MouseButton.LeftButton)
    assert QtGui.QGuiApplication.clipboard().text() == panel.session.status.token
    d.close()
    qtbot.waitUntil(lambda: panel.indicator.text_now == "Connected (0 peers)", timeout=T)
    assert panel.participants.names() == ["Ada (you)"]
    assert panel.act_leave.isEnabled() and not panel.act_host.isEnabled()
