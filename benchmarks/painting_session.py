"""Two painting panels in one room, end to end: joining a big room and stroke latency panel to panel.

    xvfb-run -a python benchmarks/painting_session.py            # a 10,000-stroke room, 20 strokes
    xvfb-run -a python benchmarks/painting_session.py --strokes 2000 --repeats 10

Two real main windows in this process: Ada fills her painting with N random
strokes and hosts a session on loopback; Bob joins. Printed: how long until
Bob's canvas snapshot holds all N strokes (with its phases: the room synced
into Bob's session, his engine's snapshot, on screen), then the latency of a
stroke Bob paints until it is in Ada's canvas snapshot (p50 and max). This
covers everything the user waits for: the session client, the server, both
painting runners and the panels' redraw timers. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strokes", type=int, default=10_000, help="strokes in the room (default 10000)")
    ap.add_argument("--repeats", type=int, default=20, help="strokes timed from Bob to Ada (default 20)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication([])
    from studio.panels.painting import PaintingPanel
    from studio.widgets.collab import parse_join_address
    from studio.window import MainWindow

    def spin(sec: float) -> None:
        t = time.perf_counter()
        while time.perf_counter() - t < sec:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)

    def until(f, sec: float = 300.0) -> float:
        t = time.perf_counter()
        while not f():
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 2)
            if time.perf_counter() - t > sec:
                raise SystemExit(f"timed out after {sec:.0f} s")
        return time.perf_counter() - t

    tmp = tempfile.TemporaryDirectory()
    wins = []
    for name in ("ada", "bob"):
        w = MainWindow(
            panel_classes={"painting": PaintingPanel}, settings_file=Path(tmp.name) / f"{name}.ini"
        )
        w.resize(1200, 800)
        w.show()
        w.runner_for("painting")
        wins.append(w)
    a, b = (w.panels["painting"] for w in wins)
    try:
        until(lambda: a._snap is not None and b._snap is not None)
        n_strokes = args.strokes
        rng = np.random.default_rng(0)
        p = rng.uniform(0.05, 0.95, (n_strokes, 8))
        p[:, 2:4] *= 0.05
        a.runner.call(lambda e: e.add_strokes(p, author="ada"))
        a.runner.refresh()
        until(lambda: a._snap.n_strokes == n_strokes)
        a.host_session(name="Ada")
        until(
            lambda: (
                a.session.status is not None
                and a.session.status.state == "online"
                and a.session.status.pending_initial == 0
            )
        )
        until(lambda: a.session.status.strokes == n_strokes)
        target = parse_join_address(a.address_edit.text())
        t0 = time.perf_counter()
        b.join_session(url=target.url, room=target.room, token=a.session.status.token, name="Bob")
        t_sess = until(
            lambda: b.session.session is not None and b.session.session.status().strokes == n_strokes
        )
        t_eng = until(lambda: b.runner.latest() is not None and b.runner.latest().n_strokes == n_strokes)
        t_screen = until(lambda: b._snap is not None and b._snap.n_strokes == n_strokes)
        join_s = time.perf_counter() - t0
        print(
            f"join a {n_strokes}-stroke room: {join_s:.2f} s until Bob's canvas snapshot holds every stroke"
        )
        print(
            f"  phases: room synced into Bob's session {t_sess:.2f} s, engine snapshot +{t_eng:.2f} s, "
            f"on screen +{t_screen:.2f} s"
        )
        spin(1.0)
        lat = []
        for _ in range(args.repeats):
            n = a._snap.n_strokes
            b.runner.call(lambda e: e.add_drag([[0.5, 0.5], [0.55, 0.5]], 0.02, (0, 0, 1)))
            b.runner.refresh()
            lat.append(until(lambda n=n: a._snap.n_strokes > n) * 1000)
            spin(0.05)
        lat.sort()
        print(
            f"stroke latency Bob -> Ada's canvas snapshot ({n_strokes} strokes in the room, {len(lat)} strokes): "
            f"p50 {statistics.median(lat):.0f} ms, max {lat[-1]:.0f} ms"
        )
        print(f"load average: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    finally:
        for w in wins:
            w.close()
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
