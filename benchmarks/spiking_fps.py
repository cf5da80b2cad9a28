"""Frames per second of the spiking panel with the raster, in the real main window.

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/spiking_fps.py
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/spiking_fps.py --seconds 20 --size 1280x720

Opens the studio's main window with the spiking panel (COBA, 4,000 neurons, the Activity tab:
raster, rates and membrane traces), runs the engine as fast as possible for ``--seconds`` and
samples once a second the window's frame counter (``MainWindow.fps``: snapshots drawn per second)
and the panel's own count of drawn frames (the raster re-binned and painted). Prints the median
and the range of both, the engine's time steps per second, the GUI thread's CPU time per frame
while running, and the time of one frame's GUI work alone (the engine paused: re-bin, redraw and
paint the window). The inverse of these bounds the frame rate where a core is free for the GUI;
on a busy machine the measured rate is lower. Nothing is asserted: the goal (at least 30
frames/s on a quiet machine) is read from the output.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="seconds of running measured (default 10)")
    ap.add_argument("--warmup", type=float, default=3.0, help="seconds run before measuring (default 3)")
    ap.add_argument("--size", default="1600x1000", help="window size WxH (default 1600x1000)")
    ap.add_argument("--preset", default="coba", help="spiking preset (default coba)")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    from PySide6 import QtCore, QtWidgets

    app = QtWidgets.QApplication([])
    from engines.spiking import preset
    from studio import theme
    from studio.panels.spiking import SpikingPanel
    from studio.window import MainWindow

    theme.apply()
    tmp = tempfile.TemporaryDirectory()
    win = MainWindow(panel_classes={"spiking": SpikingPanel}, settings_file=Path(tmp.name) / "s.ini")
    w, h = (int(v) for v in args.size.lower().split("x"))
    win.resize(w, h)
    win.show()

    def spin(sec: float) -> None:
        end = time.perf_counter() + sec
        while time.perf_counter() < end:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)

    runner = win.runner_for("spiking")
    panel = win.panels["spiking"]
    if args.preset != "coba":
        panel._apply(preset(args.preset))
    spin(0.5)
    runner.start()
    spin(args.warmup)
    window_fps, panel_fps, steps = [], [], []
    frames0, cpu0 = panel._frames, time.thread_time()  # the GUI thread's CPU time
    last_frames, last_t = panel._frames, time.perf_counter()
    end = last_t + args.seconds
    while time.perf_counter() < end:
        spin(1.0)
        now = time.perf_counter()
        window_fps.append(win.fps)
        panel_fps.append((panel._frames - last_frames) / (now - last_t))
        steps.append(runner.steps_per_s)
        last_frames, last_t = panel._frames, now
    gui_cpu_ms = 1e3 * (time.thread_time() - cpu0) / max(1, panel._frames - frames0)
    runner.pause()
    spin(0.3)
    # one frame's GUI work alone (engine paused): re-bin and redraw the last snapshot, then paint
    # the window synchronously; its inverse is the frame rate the GUI thread allows on its own
    frame_ms = []
    for _ in range(30):
        t0, c0 = time.perf_counter(), time.thread_time()
        panel._draw(panel._last_snap)
        win.repaint()
        frame_ms.append((1e3 * (time.perf_counter() - t0), 1e3 * (time.thread_time() - c0)))
    wall_ms = statistics.median(f[0] for f in frame_ms)
    cpu_ms = statistics.median(f[1] for f in frame_ms)
    size = panel.activity.size()
    print(
        f"spiking panel, preset {args.preset}, window {w}x{h} (activity view {size.width()}x{size.height()})"
    )
    for name, xs in (("window fps", window_fps), ("panel frames/s", panel_fps)):
        print(f"{name:>16}: median {statistics.median(xs):5.1f}  (min {min(xs):.1f}, max {max(xs):.1f})")
    print(f"{'engine':>16}: median {statistics.median(steps):,.0f} time steps/s")
    # on a machine with a core free for the GUI thread, the frame rate is bounded by this cost
    # (and by the window's 16 ms redraw timer): 1000 / cost frames per second
    print(
        f"{'GUI thread':>16}: {gui_cpu_ms:.1f} ms of CPU per frame -> at most {1e3 / gui_cpu_ms:.0f} frames/s"
    )
    print(
        f"{'one frame alone':>16}: {wall_ms:.1f} ms wall, {cpu_ms:.1f} ms CPU (median of 30, engine paused)"
        f" -> at most {1e3 / cpu_ms:.0f} frames/s"
    )
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    win.close()
    win.deleteLater()  # before the interpreter ends: pyqtgraph items must not outlive Qt
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
