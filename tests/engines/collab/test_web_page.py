"""The painting room's browser page: served by the room server under its token rule, drawn like the studio.

The HTTP checks need no browser. The others drive a real headless Chromium (Debian's ``chromium`` through
Selenium, one browser for the module) and are skipped, saying why, only where it or the built page is
missing (``./test.sh`` installs both as root where node and npm are present).
"""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request

import numpy as np
import pytest

from engines.collab import web
from engines.collab.client import CollabClient
from engines.painting.render import render_fast, to_uint8
from tests.browser import WHY_NOT, ServerThread

T = 20.0  # s: generous bound for a loaded 2-core machine; every wait ends as soon as it holds


def _get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


@pytest.fixture
def server(tmp_path):
    s = ServerThread(tmp_path / "rooms.db", token="tok/en+1").start()
    yield s
    s.close()


def test_the_page_is_served_on_the_websocket_port_under_the_same_token_rule(server):
    status, headers, body = _get(server.url("class", "tok%2Fen%2B1"))
    assert status == 200 and "text/html" in headers["Content-Type"]
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert "painting room" in body
    assert _get(server.url("class", "wrong"))[0] == 401
    assert "Wrong or missing token" in _get(server.url("class", ""))[2]
    assert _get(f"http://127.0.0.1:{server.port}/bad%2Fname?token=tok%2Fen%2B1")[0] == 404
    assert _get(f"http://127.0.0.1:{server.port}/_page/nothing.js")[0] == 404
    if web.bundle_state() != "missing":
        status, headers, js = _get(f"http://127.0.0.1:{server.port}/_page/app.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript") and "strokes2" in js
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.port}/_page/app.js", headers={"Accept-Encoding": "gzip"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(r.read()).decode() == js
    assert server.server.stats["refused"] == 3  # the refusals count like a WebSocket client's


def test_without_the_built_page_it_says_how_to_enable_it(server, tmp_path, monkeypatch):
    monkeypatch.setenv("NEURAL_STUDIO_WEB_DIST", str(tmp_path / "nothing-built"))
    status, _, body = _get(server.url("class", "tok%2Fen%2B1"))
    assert status == 200
    assert "Node.js and npm" in body and "./studio.sh" in body and "app.js" not in body
    assert _get(f"http://127.0.0.1:{server.port}/_page/app.js")[0] == 404


# --------------------------------------------------------------------------- in Chromium

needs_browser = pytest.mark.skipif(bool(WHY_NOT), reason=WHY_NOT)


def _client(server, room, **kw) -> CollabClient:
    return CollabClient(f"ws://127.0.0.1:{server.port}", room, server.token, **kw)


def _seed(server, room: str, params: np.ndarray, opacity: np.ndarray, background=None, author="py"):
    """Strokes put into the room by a Python client; returns the room's strokes in paint order."""

    async def go():
        c = _client(server, room, author=author)
        await c.start()
        await c.wait_online()
        if background is not None:
            c.sdoc.set_background(background)
        c.add_many(params, opacity=opacity)
        await c.flush()
        arrays = c.sdoc.arrays()
        await c.close()
        return arrays

    return server.call(go())


def _room_ids(server, room: str) -> set[str]:
    async def go():
        c = _client(server, room, author="reader")
        await c.start()
        await c.wait_online()
        await c.flush()
        ids = set(c.sdoc.ids())
        await c.close()
        return ids

    return server.call(go())


@needs_browser
def test_a_wrong_token_is_refused_page_and_websocket(server, browser):
    browser.new_page(server.url("class", "not-the-token"))
    assert "Wrong or missing token" in browser.driver.page_source
    assert browser.js("return typeof window.nsRoom") == "undefined"
    # the page's own transport is refused too: the WebSocket never opens
    said = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const ws = new WebSocket(arguments[0]);"
        "ws.onopen = () => done('open'); ws.onclose = (e) => done('closed ' + e.code);",
        f"ws://127.0.0.1:{server.port}/class?token=not-the-token",
    )
    assert said == "closed 1006"


@needs_browser
def test_a_page_says_refused_when_the_server_comes_back_with_another_token(server, browser):
    browser.new_page(server.url("class", "tok%2Fen%2B1"))
    browser.wait(lambda: browser.room("synced"), T, "the page to join")
    server.stop()
    server.token = "a new token"
    server.start()
    browser.wait(lambda: browser.room("state()") == "Refused", T, "the page to say refused")
    server.stop()
    server.token = "tok/en+1"
    server.start()  # the old token again: the page was reconnecting all along
    browser.wait(lambda: browser.room("state()") == "Connected (0 peers)", T, "the page to reconnect")


@needs_browser
def test_the_page_draws_a_painting_as_the_studio_renders_it(server, browser):
    rng = np.random.default_rng(7)
    n = 160
    params = rng.uniform(0, 1, (n, 8))
    params[:, 2] = rng.uniform(0.001, 0.25, n)  # lengths, down to a thousandth of the canvas
    params[:, 3] = rng.uniform(0.001, 0.06, n)  # thicknesses: sub-pixel ones included
    opacity = rng.uniform(0.2, 1.0, n)
    order, op = _seed(server, "parity", params, opacity, background=(0.95, 0.92, 0.85))
    browser.new_page(server.url("parity", "tok%2Fen%2B1"))
    browser.wait(lambda: browser.room("shown") == n, T, "the page to draw the room")
    shown = browser.pixels()
    want = to_uint8(render_fast(order, op, shown.shape[0], (0.95, 0.92, 0.85), footprint=True))
    diff = np.abs(shown.astype(int) - want.astype(int))
    # the same float64 maths in a different order of operations: a byte may round the other way
    assert diff.max() <= 1, (
        f"largest difference {diff.max()} at {np.unravel_index(diff.argmax(), diff.shape)}"
    )
    assert (diff > 0).mean() < 1e-3
    assert (want != want[0, 0]).any(axis=-1).mean() > 0.2  # (the picture is not blank)

    # strokes removed and one moved below the top: the page redraws the box they touched, same picture.
    # They are short strokes of the top-left corner, moved within it: whether the page gets the
    # edits one by one or all in one message (under load), the box they touched stays under half the
    # canvas, where the page redraws only that box
    async def change():
        c = _client(server, "parity", author="py")
        await c.start()
        await c.wait_online()
        await c.flush()
        ids = c.sdoc.ids()
        p = c.sdoc.arrays()[0]
        local = np.flatnonzero(
            (p[:, :2].max(axis=1) < 0.4) & (p[:, :2].min(axis=1) > 0.05) & (p[:, 2] < 0.15)
        )
        assert len(local) >= 7, len(local)  # (seeded: the edit below needs seven such strokes)
        for k in local[:6]:
            c.remove(ids[k])
        c.update(ids[local[6]], x=0.2, y=0.25)
        await c.flush()
        arrays = c.sdoc.arrays(), c.sdoc.ids(), ids[local[6]]
        await c.close()
        return arrays

    partial = browser.room("stats.partialRenders")
    (order, op), ids, moved = server.call(change())
    moved_x = "return window.nsRoom.doc.getArray('strokes2').toArray().find((v) => v[0] === arguments[0])[3]"
    browser.wait(
        lambda: (  # in this order: the edit is in the page's document, then drawn
            browser.js(moved_x, moved) == 0.2
            and browser.room("shown") == n - 6
            and browser.room("ids()") == ids
        ),
        T,
        "the page to redraw",
    )
    assert browser.room("stats.partialRenders") > partial
    shown = browser.pixels()
    want = to_uint8(render_fast(order, op, shown.shape[0], (0.95, 0.92, 0.85), footprint=True))
    diff = np.abs(shown.astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


@needs_browser
def test_accepted_model_proposals_show_as_they_arrive(server, browser):
    browser.new_page(server.url("feed", "tok%2Fen%2B1") + "&name=Lin")
    browser.wait(lambda: browser.room("synced"), T, "the page to join")
    _seed(server, "feed", np.full((5, 8), 0.5), np.ones(5), author="model")
    browser.wait(lambda: browser.room("shown") == 5, T, "the model's strokes")
    feed = browser.js("return document.getElementById('feed').textContent")
    assert "a proposal accepted: 5 strokes" in feed


@needs_browser
def test_a_page_reconnects_after_the_server_restarts_from_its_store_and_loses_nothing(server, browser):
    browser.new_page(server.url("lab", "tok%2Fen%2B1") + "&name=Grace")
    browser.wait(lambda: browser.room("synced"), T, "the page to join")
    browser.drag([(0.2, 0.2), (0.5, 0.25), (0.7, 0.3)])
    first = set(browser.wait(lambda: browser.room("ids()"), T, "the first drag"))
    browser.wait(lambda: _room_ids(server, "lab") == first, T, "the room to hold the first drag")
    server.stop()
    browser.wait(lambda: browser.room("state()") == "Reconnecting…", T, "the page to notice")
    # painting goes on while the server is away
    browser.drag([(0.2, 0.7), (0.5, 0.75), (0.8, 0.8)])
    both = set(browser.wait(lambda: (ids := browser.room("ids()")) and len(ids) > len(first) and ids))
    assert first < both
    server.start()  # the same port and store
    browser.wait(lambda: browser.room("state()") == "Connected (0 peers)", T, "the page to reconnect")
    browser.wait(lambda: _room_ids(server, "lab") == both, T, "the room to hold every stroke")
    assert set(browser.room("authors()")) == {"Grace"}


@needs_browser
def test_a_pens_pressure_sets_the_width_and_a_mouse_or_finger_paints_the_chosen_size(server, browser):
    browser.new_page(server.url("pen", "tok%2Fen%2B1") + "&name=Ada")
    browser.wait(lambda: browser.room("synced"), T, "the page to join")
    strokes = "return window.nsRoom.doc.getArray('strokes2').toArray().map((v) => v[6])"
    browser.drag([(0.2, 0.3), (0.5, 0.3), (0.8, 0.3)])
    mouse = browser.wait(lambda: browser.js(strokes), T, "the mouse's strokes")
    assert np.allclose(mouse, 0.03)  # the size slider's 30 thousandths
    browser.pen([(0.2 + 0.1 * k, 0.6) for k in range(7)], pressure=0.9)
    browser.pen([(0.2 + 0.1 * k, 0.8) for k in range(7)], pressure=0.1)
    h = browser.wait(lambda: (v := browser.js(strokes)) and len(v) > len(mouse) + 2 and v, T, "pen strokes")
    heavy, light = [x for x in h if x > 0.031], [x for x in h if x < 0.029]
    assert heavy and light and len(heavy) + len(light) + len(mouse) == len(h)
    assert np.allclose(heavy, 0.03 * (0.25 + 1.5 * 0.9)) and np.allclose(light, 0.03 * (0.25 + 1.5 * 0.1))
    browser.pen([(0.2 + 0.1 * k, 0.45) for k in range(7)], pressure=None, kind="touch")
    finger = browser.wait(lambda: (v := browser.js(strokes)) and len(v) > len(h) and v[: len(v) - len(h)], T)
    assert np.allclose(finger, 0.03)  # a touch screen that measures no pressure


def test_the_bundle_is_current_only_for_the_sources_it_was_built_from(tmp_path, monkeypatch):
    src = tmp_path / "web"
    (src / "src").mkdir(parents=True)
    (src / "package-lock.json").write_text("{}")
    (src / "src" / "app.js").write_text("let a = 1")
    monkeypatch.setattr(web, "WEB_DIR", src)
    dist = tmp_path / "dist"
    monkeypatch.setenv("NEURAL_STUDIO_WEB_DIST", str(dist))
    assert web.bundle_state() == "missing"
    dist.mkdir()
    for name in web.STATIC_FILES:
        (dist / name).write_text("built")
    (dist / web.STAMP).write_text(web.source_hash() + "\n")
    assert web.bundle_state() == "current"
    (src / "src" / "app.js").write_text("let a = 2")  # a source changed: build again
    assert web.bundle_state() == "stale"
    (src / "src" / "app.js").write_text("let a = 1")
    (src / "package-lock.json").write_text('{"lockfileVersion": 3}')  # so did the packages
    assert web.bundle_state() == "stale"
    with pytest.raises(RuntimeError, match="esbuild"):
        web.build(tmp_path / "no-node-modules")
    assert (dist / "app.js").read_text() == "built"  # a failed build leaves the old one


@needs_browser
def test_what_others_publish_is_shown_as_text_never_as_markup(server, browser):
    browser.new_page(server.url("people", "tok%2Fen%2B1") + "&name=Lin")
    browser.wait(lambda: browser.room("synced"), T, "the page to join")
    name = '<img src=x onerror="window.hacked=1">Eve'

    async def eve():
        c = _client(server, "people", author="eve", name=name, colour="red;background:url(//x)")
        await c.start()
        await c.wait_online()
        c.set_cursor(0.5, 0.5)
        return c

    c = server.call(eve())
    try:
        browser.wait(lambda: len(browser.room("people()")) == 2, T, "the page to see Eve")
        assert browser.room("people()") == ["Lin (you)", name[:40]]
        assert browser.room("cursors()") == [name[:40]]
        assert browser.js("return document.querySelectorAll('#people img').length") == 0
        assert browser.js("return window.hacked === undefined")
        swatch = browser.js("return document.querySelectorAll('#people .swatch-small')[1].style.background")
        assert "url" not in swatch and swatch == "rgb(136, 136, 136)"  # an unusable colour is grey
    finally:
        server.call(c.close())
