"""The time-lapse: a slider over the strokes in paint order and a Replay button that plays them."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


class ReplayBar(QtWidgets.QWidget):
    """Emits ``prefix_requested(k)``: show only the first ``k`` strokes (None: the whole painting)."""

    prefix_requested = QtCore.Signal(object)
    TICK_MS = 40

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.play_button = QtWidgets.QPushButton("Replay")
        self.play_button.setCheckable(True)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("time-lapse: strokes shown in paint order")
        lay.addWidget(self.play_button)
        lay.addWidget(self.slider, 1)
        self._n = 0
        self._k = 0
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(self.TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.slider.sliderMoved.connect(self.request)
        self.play_button.toggled.connect(self._toggle)

    def set_count(self, n: int) -> None:
        """The painting has ``n`` strokes; the slider follows it unless held or playing."""
        self._n = n
        self.slider.setMaximum(n)
        if not self.slider.isSliderDown() and not self.play_button.isChecked():
            self.slider.setValue(n)

    def request(self, k: int | None) -> None:
        self.prefix_requested.emit(None if k is None or k >= self._n else int(k))

    def _toggle(self, on: bool) -> None:
        if on:
            self._k = 0
            self._timer.start()
        else:
            self._timer.stop()
            self.request(None)

    def _tick(self) -> None:
        n = self._n
        self._k = min(n, self._k + max(1, n // 100))
        self.slider.setValue(self._k)
        self.request(self._k)
        if self._k >= n:
            self.play_button.setChecked(False)


__all__ = ["ReplayBar"]
