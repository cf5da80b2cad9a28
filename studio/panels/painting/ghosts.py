"""Ghost strokes: the proposal on show, drawn over the painting until it is accepted or rejected.

Each proposed stroke is drawn as the stroke's own shape (a stadium of length ``w`` and
thickness ``h`` turned by ``theta``, see :mod:`engines.painting.render`) in its colour, but
semi-transparent with its alpha pulsing, and with a thin dashed outline, so a proposal is told
apart from the painting at a glance and never mistaken for accepted paint. The painting under it
stays visible. Drawn as vectors, the ghosts stay sharp at every zoom.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets


class GhostStrokes(QtCore.QObject):
    """The ghost strokes of one canvas: ``set_strokes(params)`` ((M, 8) or None), ``paint(painter,
    square)`` from the canvas's paint event. A timer repaints the canvas while there are ghosts, so
    their alpha pulses between ``ALPHA_LOW`` and ``ALPHA_HIGH`` every ``PERIOD_S`` seconds."""

    ALPHA_LOW, ALPHA_HIGH = 0.35, 0.8
    PERIOD_S = 1.6
    FPS = 20

    def __init__(self, canvas: QtWidgets.QWidget):
        super().__init__(canvas)
        self._canvas = canvas
        self.params: np.ndarray | None = None
        self.draws = 0  #: paints that drew ghost strokes (tests, benchmarks)
        self.first_drawn_at: float | None = None  #: time.perf_counter() of the first paint of these ghosts
        self._layer: QtGui.QPixmap | None = None  # the strokes drawn once (see paint)
        self._layer_key: tuple = ()
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(int(1000 / self.FPS))
        self._timer.timeout.connect(canvas.update)

    @property
    def count(self) -> int:
        return 0 if self.params is None else len(self.params)

    def set_strokes(self, params: np.ndarray | None) -> None:
        """Show ``params`` (M, 8) as ghosts (None or empty: none)."""
        new = None if params is None or len(params) == 0 else np.asarray(params, np.float64).reshape(-1, 8)
        same = (new is None and self.params is None) or (
            new is not None and self.params is not None and np.array_equal(new, self.params)
        )
        if same:
            return
        self.params = new
        self.first_drawn_at = None
        if new is None:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()
        self._canvas.update()

    def alpha(self, t: float | None = None) -> float:
        """The fill alpha at time ``t`` (default now): a slow sine between the two bounds."""
        t = time.monotonic() if t is None else t
        s = 0.5 + 0.5 * math.sin(2 * math.pi * t / self.PERIOD_S)
        return self.ALPHA_LOW + (self.ALPHA_HIGH - self.ALPHA_LOW) * s

    def paint(self, p: QtGui.QPainter, square: QtCore.QRectF) -> None:
        """Draw the ghosts onto the canvas, whose whole painting lies in ``square`` (widget pixels).

        The strokes are drawn once into a transparent layer the size of ``square`` (again only when
        they or the size change); each pulse draws that layer with the current alpha, so the
        animation costs one pixmap copy a frame, not a hundred antialiased strokes."""
        if self.params is None:
            return
        key = (id(self.params), round(square.width()), round(square.height()))
        if self._layer is None or self._layer_key != key:
            self._layer = self._draw_layer(key[1], key[2])
            self._layer_key = key
        p.save()
        p.setOpacity(self.alpha())
        p.drawPixmap(square.topLeft(), self._layer)
        p.restore()
        self.draws += 1
        if self.first_drawn_at is None:
            self.first_drawn_at = time.perf_counter()

    def _draw_layer(self, width: int, height: int) -> QtGui.QPixmap:
        """The ghost strokes, opaque fills with dashed outlines, on a transparent pixmap."""
        layer = QtGui.QPixmap(max(1, width), max(1, height))
        layer.fill(QtCore.Qt.GlobalColor.transparent)
        side = float(width)
        p = QtGui.QPainter(layer)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        for x, y, w, h, theta, r, g, b in self.params:
            length = max(float(w) * side, 1.0)
            thick = max(float(h) * side, 1.0)
            rad = min(length, thick) / 2
            fill = QtGui.QColor.fromRgbF(*(float(np.clip(c, 0, 1)) for c in (r, g, b)), 1.0)
            outline = QtGui.QColor("white" if fill.lightness() < 128 else "black")
            pen = QtGui.QPen(outline, 1.0, QtCore.Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            p.save()
            p.translate(float(x) * side, float(y) * side)
            p.rotate(float(theta) * 180.0)
            p.setPen(pen)
            p.setBrush(fill)
            p.drawRoundedRect(QtCore.QRectF(-length / 2, -thick / 2, length, thick), rad, rad)
            p.restore()
        p.end()
        return layer


__all__ = ["GhostStrokes"]
