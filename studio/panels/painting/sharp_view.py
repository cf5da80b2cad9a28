"""Sharp zoomed views: the visible square of the canvas rendered again at the screen's resolution.

The render runs on the engine's worker (``runner.submit``); its result comes back on
the GUI thread. At most one render is in flight and at most one is asked for every
``VIEW_MS``; a view change while one is rendering asks again when it is back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore

from studio.panels.painting.canvas import Canvas


class SharpView(QtCore.QObject):
    """Keeps ``canvas.view_image`` in step with the zoom, through ``runner()`` (None: no runner yet).

    ``base_px()`` is the size of the canvas image the engine publishes (the view is
    rendered only when that image would be enlarged on screen).
    """

    VIEW_MS = 40

    def __init__(self, canvas: Canvas, runner: Callable[[], object], base_px: Callable[[], int]):
        super().__init__(canvas)
        self.canvas = canvas
        self._runner = runner
        self._base_px = base_px
        self.renders = 0
        self._in_flight = False
        self._again = False
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.VIEW_MS)
        self._timer.timeout.connect(self._request)
        canvas.view_changed.connect(self.soon)

    def soon(self) -> None:
        """Ask for a render in a moment (the view or the painting changed)."""
        if not self._timer.isActive():
            self._timer.start()

    def _request(self) -> None:
        runner = self._runner()
        if runner is None:
            return
        if self._in_flight:
            self._again = True  # one render at a time; ask again when it is back
            return
        want = self.canvas.visible_view(self._base_px())
        if want is None:
            if self.canvas.view_image is not None:
                self.canvas.set_view_image(None)
            return
        rect, px = want
        self._in_flight = True
        runner.submit(
            lambda e: e.render_view(rect, px),
            done=lambda out: self._arrived(rect, out[1]),
            failed=lambda _exc: self._arrived(rect, None),
            context=self,
        )

    def _arrived(self, rect: tuple[float, float, float], img) -> None:
        self._in_flight = False
        if img is not None and self.canvas.zoom > 1.001:
            self.canvas.set_view_image(img, rect)
            self.renders += 1
        if self._again:
            self._again = False
            self._request()


__all__ = ["SharpView"]
