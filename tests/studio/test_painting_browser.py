"""Two browser pages and a studio window paint in one room on loopback.

The studio hosts the room (Session → Host session), its Invite dialog gives the browser link, and a real
headless Chromium (Debian's ``chromium`` through Selenium) opens it twice. Strokes are drawn with mouse
events in the pages and in the studio's canvas. Skipped, saying why, only where Chromium or the built page
is missing (``./test.sh`` installs both as root where node and npm are present).
"""

from __future__ import annotations

import pytest

from studio.panels.painting import PaintingPanel
from studio.window import MainWindow
from tests.browser import WHY_NOT

from .test_panel_painting import _drag

pytestmark = [pytest.mark.gui, pytest.mark.skipif(bool(WHY_NOT), reason=WHY_NOT)]

T = 30000  # ms: generous bound for a loaded 2-core machine; every wait ends as soon as it holds


def test_two_pages_and_the_studio_paint_together_and_a_page_undoes_only_its_own(qtbot, tmp_path, browser):
    w = MainWindow(panel_classes={"painting": PaintingPanel}, settings_file=tmp_path / "ada.ini")
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["painting"]
    w.runner_for("painting")
    qtbot.waitUntil(lambda: p._snap is not None, timeout=T)
    try:
        assert p.host_session(name="Ada", room="class", show_invite=True)
        qtbot.waitUntil(lambda: p._invite_dialog is not None, timeout=T)
        link = p._invite_dialog.page_edit.text()
        address = p._invite_dialog.address_edit.text()
        assert link == f"http://{address[len('ws://') :]}?token={p.session.status.token}"
        p._invite_dialog.close()

        def until(cond, why):
            qtbot.waitUntil(cond, timeout=T)

        grace = browser.new_page(link + "&name=Grace")
        lin = browser.new_page(link + "&name=Lin")
        browser.use(grace)
        until(lambda: browser.room("state()") == "Connected (2 peers)", "Grace to see Ada and Lin")
        until(lambda: p.participants.names() == ["Ada (you)", "Grace", "Lin"], "the studio's People list")
        assert browser.room("people()") == ["Grace (you)", "Ada", "Lin"]

        # a drag in Grace's page: in Lin's page and in the studio, authored by Grace
        browser.drag([(0.2, 0.2), (0.35, 0.3), (0.5, 0.35)])
        g_ids = set(browser.wait(lambda: browser.room("ids()"), T / 1000, "Grace's strokes"))
        until(lambda: g_ids <= set(p._snap.ids), "Grace's strokes in the studio")
        assert {a for s, a in zip(p._snap.ids, p._snap.authors) if s in g_ids} == {"Grace"}
        # her cursor is drawn on the studio's canvas with her name
        until(lambda: "Grace" in [c[0] for c in p.canvas.cursors], "Grace's cursor in the studio")
        browser.use(lin)
        browser.wait(lambda: g_ids <= set(browser.room("ids()")), T / 1000, "Grace's strokes in Lin's page")

        # a drag in Lin's page and one in the studio: everywhere
        browser.drag([(0.6, 0.8), (0.8, 0.7)])
        l_ids = set(browser.room("ids()")) - g_ids
        assert l_ids
        _drag(qtbot, p.canvas, [(0.2, 0.8), (0.3, 0.85), (0.4, 0.9)])
        until(lambda: p._snap.n_mine > 0, "the studio's own strokes")
        a_ids = set(p._snap.ids) - g_ids - l_ids
        until(lambda: set(p._snap.ids) == g_ids | l_ids | a_ids, "Lin's strokes in the studio")
        qtbot.mouseMove(p.canvas, p.canvas.to_widget(0.5, 0.5).toPoint())  # Ada's cursor, for the pages
        for page in (lin, grace):
            browser.use(page)
            browser.wait(lambda: set(browser.room("ids()")) == g_ids | l_ids | a_ids, T / 1000, "all strokes")
            until(lambda: "Ada" in browser.room("cursors()"), "the studio's cursor in the page")

        # undo in Grace's page takes back only her drag, on every canvas; redo brings it back
        browser.driver.find_element("id", "undo").click()
        browser.wait(lambda: set(browser.room("ids()")) == l_ids | a_ids, T / 1000, "Grace's undo")
        until(lambda: set(p._snap.ids) == l_ids | a_ids, "Grace's undo in the studio")
        browser.use(lin)
        browser.wait(lambda: set(browser.room("ids()")) == l_ids | a_ids, T / 1000, "Grace's undo for Lin")
        browser.use(grace)
        browser.driver.find_element("id", "redo").click()
        until(lambda: set(p._snap.ids) == g_ids | l_ids | a_ids, "Grace's redo in the studio")
    finally:
        w.close()
