"""Painting while the engine is busy: no mouse or keyboard slot of the painting panel waits for the worker.

The engine's worker is kept busy by a call that sleeps; meanwhile the test drags a brush on the
real canvas (and later undoes and erases) and measures how long the GUI thread goes without
running its event loop. Before the panel sent its edits with ``runner.submit``, the release of
the button waited on ``runner.call()`` until the worker was free: a gap as long as the sleep.

The bound, ``FRAME_BUDGET_S`` = 50 ms: a frame at 60 Hz is 16.7 ms, but under Xvfb on a loaded
2-core machine a repaint of the canvas or a garbage collection alone can take 20-30 ms, so the
bound allows three frames. It is still 20 times shorter than the worker's sleep (``BUSY_S``), so a
slot that waits for the worker cannot pass.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PySide6 import QtCore

from .test_panel_painting import panel  # noqa: F401 - the fixture: a painting panel in the real window

pytestmark = pytest.mark.gui

FRAME_BUDGET_S = 0.05
BUSY_S = 1.0
T = 30000


class LoopGaps:
    """The longest time between two turns of the GUI event loop, seen by a 0 ms timer
    (it fires on every turn of the loop, so nothing that blocks the GUI thread escapes it)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._last: float | None = None
        self._timer = QtCore.QTimer()
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.longest = max(self.longest, now - self._last)
        self._last = now

    def __enter__(self) -> LoopGaps:
        self._last = time.perf_counter()
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._tick()  # the time since the last turn counts too
        self._timer.stop()
        print(f"longest gap between event-loop turns: {1000 * self.longest:.1f} ms")


def _keep_busy(runner) -> object:
    """Occupy the engine's worker for BUSY_S; returns once the sleep has begun (its future)."""
    started = threading.Event()

    def sleep(_engine) -> None:
        started.set()
        time.sleep(BUSY_S)

    fut = runner.submit(sleep)
    assert started.wait(10), "the worker did not start the sleep"
    return fut


def test_dragging_a_brush_while_the_engine_is_busy_never_blocks_the_gui(panel, qtbot):  # noqa: F811
    canvas = panel.canvas
    pts = [canvas.to_widget(0.2 + 0.04 * i, 0.5 + 0.02 * np.sin(i)).toPoint() for i in range(12)]
    busy = _keep_busy(panel.runner)
    with LoopGaps() as gaps:
        qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=pts[0])
        for p in pts[1:]:
            qtbot.mouseMove(canvas, p)
            qtbot.wait(10)  # the event loop turns between the moves, as with a real mouse
        qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=pts[-1])
        qtbot.wait(30)  # what the release set off runs here too
    assert gaps.longest < FRAME_BUDGET_S, f"the GUI thread blocked for {1000 * gaps.longest:.0f} ms"
    assert not busy.done(), "the drag outlasted the worker's sleep: the engine was not busy throughout"
    # once the worker is free, the stroke lands
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=T)
    assert panel._snap.n_mine == panel._snap.n_strokes


def test_undo_and_erase_while_the_engine_is_busy_never_block_the_gui(panel, qtbot):  # noqa: F811
    canvas = panel.canvas
    a, b = canvas.to_widget(0.3, 0.3).toPoint(), canvas.to_widget(0.6, 0.3).toPoint()
    qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=a)
    qtbot.mouseMove(canvas, b)
    qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=b)
    qtbot.waitUntil(lambda: panel._snap.n_strokes > 0, timeout=T)
    n = panel._snap.n_strokes
    # a second drag, then Ctrl+Z of it, while busy: the first drag stays
    panel.window().activateWindow()
    qtbot.waitActive(panel.window())
    canvas.setFocus()
    c, d = canvas.to_widget(0.3, 0.7).toPoint(), canvas.to_widget(0.6, 0.7).toPoint()
    busy = _keep_busy(panel.runner)
    with LoopGaps() as gaps:
        qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=c)
        qtbot.mouseMove(canvas, d)
        qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=d)
        qtbot.wait(10)
        qtbot.keyClick(canvas, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
        qtbot.wait(30)
    assert gaps.longest < FRAME_BUDGET_S, f"the GUI thread blocked for {1000 * gaps.longest:.0f} ms"
    assert not busy.done()
    # queued behind the drag and its undo: the painting is the first drag again
    assert panel.runner.submit(lambda e: len(e.doc)).result(timeout=30) == n
    # the eraser over the first drag, while busy
    panel.tool_box.setCurrentText("eraser")
    panel.size_slider.setValue(150)
    busy = _keep_busy(panel.runner)
    with LoopGaps() as gaps:
        for x in (0.3, 0.45, 0.6):
            p = canvas.to_widget(x, 0.3).toPoint()
            qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=p)
            qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=p)
            qtbot.wait(10)
        qtbot.wait(30)
    assert gaps.longest < FRAME_BUDGET_S, f"the GUI thread blocked for {1000 * gaps.longest:.0f} ms"
    assert not busy.done()
    qtbot.waitUntil(lambda: panel._snap.n_strokes == 0, timeout=T)
