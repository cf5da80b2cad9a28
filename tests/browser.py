"""Headless Chromium for the tests of the painting room's browser page (Selenium, Debian's chromium).

:func:`chromium` starts one browser (the caller quits it); :data:`WHY_NOT` says why none can start
here (no chromium / chromedriver / selenium, or no built page), for ``pytest.skip``.
:class:`ServerThread` runs a :class:`~engines.collab.server.CollabServer` on its own asyncio loop in
a thread, so a test can stop it and start it again on the same port and store.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engines.collab import web

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
#: the flags of a browser that reaches nothing but loopback and never throttles a background page
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--force-device-scale-factor=1",
    "--window-size=1280,900",
)


def web_node_modules() -> Path:
    """Where ``scripts/setup.sh`` installs the npm packages of ``web/package-lock.json``."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    lock = hashlib.sha256((web.WEB_DIR / "package-lock.json").read_bytes()).hexdigest()[:16]
    return cache / "neural-studio" / f"node-{lock}" / "node_modules"


def _why_not() -> str:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e .[test])"
    for path, what in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            return f"{path} not found: install Debian's {what} (./test.sh does, as root)"
    if web.bundle_state() != "current" and (web_node_modules() / ".bin" / "esbuild").exists():
        try:  # web/src changed since the set-up built it: build it again (seconds)
            web.build(web_node_modules())
        except (RuntimeError, OSError) as e:
            return f"the page's JavaScript could not be built: {e}"
    if web.bundle_state() == "missing":
        return f"the page's JavaScript is not built in {web.dist_dir()} (node and npm, then ./test.sh)"
    return ""


WHY_NOT = _why_not()


class Browser:
    """One headless Chromium; ``new_page(url)`` opens a window, ``use(handle)`` switches to it."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="ns-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for f in FLAGS:
            opts.add_argument(f)
        opts.add_argument(f"--user-data-dir={self.profile}")
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_script_timeout(30)
        self.first = True

    def new_page(self, url: str) -> str:
        """Open ``url`` in a new window (the first call uses the browser's own); returns its handle."""
        d = self.driver
        if self.first:
            self.first = False
        else:
            d.switch_to.new_window("window")
        d.set_window_size(1280, 900)
        d.get(url)
        return d.current_window_handle

    def reset(self) -> None:
        """Close every page but one and leave that one blank (between tests: no page of a test
        lives on, reconnecting, into the next)."""
        d = self.driver
        handles = d.window_handles
        for h in handles[1:]:
            d.switch_to.window(h)
            d.close()
        d.switch_to.window(handles[0])
        d.get("about:blank")
        self.first = True

    def use(self, handle: str) -> None:
        if self.driver.current_window_handle != handle:
            self.driver.switch_to.window(handle)

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def wait(self, what: Callable[[], Any], timeout: float = 15.0, why: str = "") -> Any:
        """Poll ``what()`` until it is truthy; its value, or AssertionError after ``timeout`` s."""
        end = time.monotonic() + timeout
        while True:
            v = what()
            if v:
                return v
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {timeout} s waiting for {why or what}")
            time.sleep(0.05)

    def room(self, expr: str) -> Any:
        """The value of ``window.nsRoom.<expr>`` in the current page (None before the page ran)."""
        return self.js(f"return window.nsRoom ? window.nsRoom.{expr} : null")

    def drag(self, points: list[tuple[float, float]]) -> None:
        """A real mouse drag over the canvas through ``points`` (canvas fractions)."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        overlay = self.driver.find_element(By.ID, "overlay")
        r = overlay.rect
        w, h = r["width"], r["height"]

        def off(p):  # selenium offsets are from the element's centre
            return int(round((p[0] - 0.5) * w)), int(round((p[1] - 0.5) * h))

        a = ActionChains(self.driver, duration=10)
        x, y = off(points[0])
        a.move_to_element_with_offset(overlay, x, y).click_and_hold()
        for p in points[1:]:
            nx, ny = off(p)
            a.move_by_offset(nx - x, ny - y)
            x, y = nx, ny
        a.release().perform()

    def pen(self, points: list[tuple[float, float]], pressure: float | None, kind: str = "pen") -> None:
        """A pen (or, ``kind="touch"``, a finger) stroke over the canvas through ``points`` (canvas
        fractions) at a constant ``pressure`` (None: the device's own)."""
        from selenium.webdriver.common.actions import interaction
        from selenium.webdriver.common.actions.action_builder import ActionBuilder
        from selenium.webdriver.common.actions.pointer_input import PointerInput
        from selenium.webdriver.common.by import By

        overlay = self.driver.find_element(By.ID, "overlay")
        w, h = overlay.rect["width"], overlay.rect["height"]
        device = PointerInput(interaction.POINTER_PEN if kind == "pen" else interaction.POINTER_TOUCH, kind)
        a = ActionBuilder(self.driver, mouse=device, duration=10)
        for k, (x, y) in enumerate(points):
            off = int(round((x - 0.5) * w)), int(round((y - 0.5) * h))
            a.pointer_action.move_to(overlay, *off, pressure=pressure)
            if k == 0:
                a.pointer_action.pointer_down(pressure=pressure)
        a.pointer_action.pointer_up()
        a.perform()

    def pixels(self) -> np.ndarray:
        """The page's canvas as an (S, S, 3) uint8 array."""
        size = int(self.room("size"))
        raw = base64.b64decode(self.js("return window.nsRoom.pixels()"))
        return np.frombuffer(raw, np.uint8).reshape(size, size, 3)

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def chromium() -> Browser:
    return Browser()


class ServerThread:
    """A room server on its own loop in a thread: ``start()``, ``stop()``, ``start()`` again (same port)."""

    def __init__(self, store: str | Path, token: str = "tok", port: int = 0) -> None:
        self.store, self.token, self.port = str(store), token, port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="test-collab-server", daemon=True)
        self.thread.start()
        self.server = None

    def call(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> ServerThread:
        from engines.collab.server import CollabServer

        async def go():
            s = CollabServer(self.store, port=self.port, token=self.token)
            await s.start()
            return s

        self.server = self.call(go())
        self.port = self.server.port
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.call(self.server.stop())
            self.server = None

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def url(self, room: str, token: str | None = None) -> str:
        return f"http://127.0.0.1:{self.port}/{room}?token={token if token is not None else self.token}"
