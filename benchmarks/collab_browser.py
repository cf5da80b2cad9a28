"""The painting room's browser page: stroke propagation to and from a page, and a 10,000-stroke room.

    python benchmarks/collab_browser.py                 # 100 strokes each way, a 10,000-stroke room
    python benchmarks/collab_browser.py --strokes 300 --room 10000 --json out.json

The server runs in its own process (``python -m studio.serve``, loopback, a SQLite store in a temporary
folder), as ``studio serve`` does; the studio-side client (:class:`~engines.collab.client.CollabClient`,
what the studio's session runs) has its own asyncio loop in a thread of this process; the page runs in
headless Chromium (Debian's ``chromium`` through Selenium, as in the tests). Printed, side by side:

* browser -> studio: a stroke drawn in the page (the page's own pointer-up code, ``nsRoom.paintPath``,
  timed inside the page) until it is in the studio-side client's document; p50 / p99;
* studio -> browser: a stroke added by the studio-side client until the page has painted it on its
  canvas (timed inside the page), and until the page's document has it; p50 / p99;
  the anchor: the same from one Python client to another;
* the same two ways in that room of N strokes (below), where each change costs the page more;
* a room of N strokes (``--room``): navigation start -> the page's canvas shows every stroke (median of
  3 loads), with its parts (synced; the page's full render), the redraw after the undo of a drag in it,
  against the anchors: a Python client
  joining the room (connect -> synced, mirror built) and ``render_fast`` of the same strokes at the
  page's canvas size (the studio's renderer).

One-way times compare the page's clock (``performance.timeOrigin + performance.now()``) with this
process's ``time.time()``: both the machine's wall clock. Figures from one run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.collab import TOKEN, pct, start_server, stop_server  # noqa: E402
from engines.collab.client import CollabClient  # noqa: E402
from engines.painting.render import render_fast  # noqa: E402
from tests.browser import WHY_NOT, chromium  # noqa: E402


class Loop:
    """An asyncio loop in a thread for the studio-side clients."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float = 300.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def _stats(ms: list[float]) -> str:
    return f"p50 {pct(ms, 50):7.1f} ms   p99 {pct(ms, 99):7.1f} ms   (n={len(ms)})"


def propagation(loop: Loop, b, port: int, n: int, room: str = "prop") -> dict:
    base = f"ws://127.0.0.1:{port}"
    arrived: dict[str, float] = {}  # at the studio-side client
    at_other: dict[str, float] = {}  # at the anchor's Python client

    def watcher(into):
        def watch(ch):
            t = time.time()
            if not ch.local:
                for s in ch.added:
                    into.setdefault(s.id, t)

        return watch

    studio = CollabClient(base, room, TOKEN, author="studio", on_change=watcher(arrived))
    other = CollabClient(base, room, TOKEN, author="other", on_change=watcher(at_other))

    async def up():
        for c in (studio, other):
            await c.start()
            await c.wait_online()

    loop.run(up())
    b.new_page(f"http://127.0.0.1:{port}/{room}?token={TOKEN}&name=page")
    b.wait(lambda: b.room("synced") and b.room("shown") >= 0, 120, "the page to join")
    rng = np.random.default_rng(0)

    def wait_for(cond, what):
        end = time.monotonic() + 30
        while not cond():
            if time.monotonic() > end:
                raise SystemExit(f"timed out: {what}")
            time.sleep(0.0005)

    # browser -> studio
    up_ms = []
    for _ in range(n):
        x, y = rng.uniform(0.1, 0.9, 2)
        sent, ids = b.js(
            "const t = performance.timeOrigin + performance.now();"
            "return [t, window.nsRoom.paintPath(arguments[0])]",
            [[x, y], [x + 0.01, y + 0.005]],
        )
        wait_for(lambda ids=ids: all(i in arrived for i in ids), "a page stroke at the studio")
        up_ms.append(max(arrived[i] for i in ids) * 1000 - sent)
    # studio -> browser
    paint_ms, seen_ms, py_ms = [], [], []
    for _ in range(n):
        p = rng.uniform(0, 1, (1, 8))
        p[:, 2:4] = 0.02

        async def add(p=p):
            t = time.time()
            return t, studio.add_many(p)[0].id

        sent, sid = loop.run(add())
        got = b.wait(
            lambda sid=sid: b.js(
                "const s = window.nsRoom.stats; return s.painted.has(arguments[0]) ? "
                "[s.seen.get(arguments[0]), s.painted.get(arguments[0])] : null",
                sid,
            ),
            30,
            "a studio stroke in the page",
        )
        seen_ms.append(got[0] - sent * 1000)
        paint_ms.append(got[1] - sent * 1000)
        wait_for(lambda sid=sid: sid in at_other, "a studio stroke at the other client")
        py_ms.append((at_other[sid] - sent) * 1000)

    async def down():
        for c in (studio, other):
            await c.close()

    loop.run(down())
    return {
        "browser_to_studio_ms": up_ms,
        "studio_to_page_painted_ms": paint_ms,
        "studio_to_page_doc_ms": seen_ms,
        "studio_to_python_ms": py_ms,
    }


def big_room(loop: Loop, b, port: int, n: int) -> dict:
    base = f"ws://127.0.0.1:{port}"
    rng = np.random.default_rng(1)
    params = rng.uniform(0, 1, (n, 8))
    params[:, 2] = rng.uniform(0.02, 0.12, n)  # brush-drag-like strokes
    params[:, 3] = rng.uniform(0.01, 0.05, n)
    opacity = rng.uniform(0.5, 1.0, n)

    async def seed():
        c = CollabClient(base, "big", TOKEN, author="seed")
        await c.start()
        await c.wait_online()
        for k in range(0, n, 2000):
            c.add_many(params[k : k + 2000], opacity=opacity[k : k + 2000])
        await c.flush()
        await c.close()

    loop.run(seed())

    async def python_join():
        t = time.perf_counter()
        c = CollabClient(base, "big", TOKEN, author="join")
        await c.start()
        await c.wait_online(60)
        await c.flush()
        assert len(c.sdoc) == n
        dt = time.perf_counter() - t
        order, op = c.sdoc.arrays()
        await c.close()
        return dt, order, op

    py_join = [loop.run(python_join()) for _ in range(3)]
    order, op = py_join[0][1], py_join[0][2]
    shown, synced, render, sizes, undo = [], [], [], [], []
    for _ in range(3):
        b.new_page(f"http://127.0.0.1:{port}/big?token={TOKEN}&name=viewer")
        b.wait(lambda: b.room("shown") == n, 120, "the page to show the room")
        t = b.js(
            "const s = window.nsRoom.stats, o = performance.timeOrigin;"
            "return [s.shownAt - o, s.syncedAt - o, s.lastRenderMs, window.nsRoom.size]"
        )
        shown.append(t[0])
        synced.append(t[1])
        render.append(t[2])
        sizes.append(int(t[3]))
        # a drag, then its undo: the page redraws only the box the drag covered
        b.js("window.nsRoom.paintPath([[0.3, 0.3], [0.4, 0.35], [0.5, 0.3]])")
        b.wait(lambda: b.room("shown") > n, 30, "the drag")
        b.js("window.nsRoom.undo()")
        b.wait(lambda: b.room("shown") == n, 30, "the undo")
        undo.append(b.room("stats.lastRenderMs"))
        b.driver.close()
        b.driver.switch_to.window(b.driver.window_handles[0])
    size = sizes[0]
    render_fast(order[:10], op[:10], size, footprint=True)  # (compiled)
    fast = []
    for _ in range(3):
        t = time.perf_counter()
        render_fast(order, op, size, footprint=True)
        fast.append((time.perf_counter() - t) * 1000)
    return {
        "strokes": n,
        "canvas_px": size,
        "page_shown_ms": shown,
        "page_synced_ms": synced,
        "page_full_render_ms": render,
        "page_undo_redraw_ms": undo,
        "python_join_ms": [d * 1000 for d, _, _ in py_join],
        "render_fast_ms": fast,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--strokes", type=int, default=100, help="strokes sent each way (one at a time)")
    ap.add_argument("--room", type=int, default=10000, help="strokes in the big room")
    ap.add_argument("--json", type=Path, help="write the raw figures here")
    args = ap.parse_args()
    if WHY_NOT:
        print(f"cannot run: {WHY_NOT}")
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="collab-browser-"))
    proc, port = start_server(tmp / "rooms.db", quiet=True)
    loop = Loop()
    b = chromium()
    try:
        b.new_page(
            f"http://127.0.0.1:{port}/warm?token={TOKEN}"
        )  # (the server's first room: compiled checks)
        b.wait(lambda: b.room("synced"), 60, "a first page")
        prop = propagation(loop, b, port, args.strokes)
        room = big_room(loop, b, port, args.room)
        b.driver.get("about:blank")
        big = propagation(loop, b, port, args.strokes, room="big")  # the same, in the big room
    finally:
        b.quit()
        loop.close()
        stop_server(proc)
    print(f"stroke propagation on loopback ({args.strokes} strokes each way, one at a time)")
    print(f"  browser -> studio-side client              {_stats(prop['browser_to_studio_ms'])}")
    print(f"  studio-side client -> page, painted        {_stats(prop['studio_to_page_painted_ms'])}")
    print(f"  studio-side client -> page, in its doc     {_stats(prop['studio_to_page_doc_ms'])}")
    print(f"  anchor: studio-side client -> Python client {_stats(prop['studio_to_python_ms'])}")
    print(f"the same in the room of {args.room:,} strokes")
    print(f"  browser -> studio-side client              {_stats(big['browser_to_studio_ms'])}")
    print(f"  studio-side client -> page, painted        {_stats(big['studio_to_page_painted_ms'])}")
    print(f"  studio-side client -> page, in its doc     {_stats(big['studio_to_page_doc_ms'])}")
    print(f"  anchor: studio-side client -> Python client {_stats(big['studio_to_python_ms'])}")
    r = room
    med = lambda a: float(np.median(a))  # noqa: E731
    print(f"a room of {r['strokes']:,} strokes (median of 3; page canvas {r['canvas_px']} px)")
    print(f"  page: navigation -> canvas shows every stroke {med(r['page_shown_ms']):8.0f} ms")
    print(f"        of which: navigation -> synced            {med(r['page_synced_ms']):8.0f} ms")
    print(f"                  full render in JavaScript       {med(r['page_full_render_ms']):8.0f} ms")
    print(f"  page: redraw after the undo of a drag (a box)   {med(r['page_undo_redraw_ms']):8.0f} ms")
    print(
        f"  anchor: Python client join (connect -> mirror)  {med(r['python_join_ms']):8.0f} ms"
        f"   page / Python {med(r['page_shown_ms']) / med(r['python_join_ms']):.2f}x"
    )
    print(
        f"  anchor: render_fast (numba), same strokes, size {med(r['render_fast_ms']):8.0f} ms"
        f"   JavaScript / numba {med(r['page_full_render_ms']) / med(r['render_fast_ms']):.2f}x"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"propagation": prop, "room": room, "propagation_big_room": big}, indent=1)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
