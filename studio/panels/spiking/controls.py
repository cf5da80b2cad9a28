"""The side pane: preset, "run for", pacing, follow, read-outs and the parameter form."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtGui, QtWidgets

from engines.spiking import PRESETS, SpikingParams, SpikingSnapshot
from studio import theme
from studio.widgets.paramform import ParamForm

from .constants import KEEP_S

SPEEDS = (("as fast as possible", None), ("real time", 1.0), ("0.1x real time", 0.1))
READOUT_EVERY_S = 0.2  # a rich-text label re-laid out 5 times a second is enough to read


class ControlsPane(QtWidgets.QWidget):
    """The controls of the spiking panel; they only emit what a person asked for.

    Signals: :attr:`preset_chosen` (a preset's name), :attr:`run_for_requested`
    (seconds), :attr:`speed_chosen` (a real-time factor or None), and the form's
    ``params_changed``.
    """

    preset_chosen = QtCore.Signal(str)
    run_for_requested = QtCore.Signal(float)
    speed_chosen = QtCore.Signal(object)

    def __init__(self, params: SpikingParams, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(4, 0, 0, 0)
        lay.addLayout(self._preset_row())
        lay.addLayout(self._run_for_row())
        lay.addLayout(self._speed_row())
        lay.addLayout(self._follow_row())
        lay.addWidget(self._readouts())
        hint = QtWidgets.QLabel("Click the raster to record a neuron's membrane potential.")
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {theme.current().muted}")
        lay.addWidget(hint)
        self.form = ParamForm(params)
        self.form.setObjectName("spiking_form")
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        lay.addWidget(scroll, 1)
        self.setMinimumWidth(320)
        self._readout_at = 0.0

    def _readouts(self) -> QtWidgets.QWidget:
        """The time (every frame: it is the time axis's right edge) and the slower statistics."""
        box = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.readout = QtWidgets.QLabel("t = 0.000 s biological (not started)")
        self.readout.setObjectName("spiking_readout")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.PlainText)  # cheap to set every frame
        font = self.readout.font()
        font.setBold(True)
        self.readout.setFont(font)
        # a fixed size: a new text every frame then never asks the side pane to lay itself out again
        widest = QtGui.QFontMetrics(font).horizontalAdvance("t = 000000.000 s biological (not started)")
        self.readout.setFixedSize(widest + 4, QtGui.QFontMetrics(font).height() + 2)
        self.stats = QtWidgets.QLabel("")
        self.stats.setObjectName("spiking_stats")
        self.stats.setWordWrap(True)
        for label in (self.readout, self.stats):
            label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            lay.addWidget(label)
        return box

    def _preset_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Preset"))
        self.preset_box = QtWidgets.QComboBox()
        self.preset_box.setObjectName("spiking_preset")
        for key, (doc, _) in PRESETS.items():
            self.preset_box.addItem(key)
            self.preset_box.setItemData(self.preset_box.count() - 1, doc, QtCore.Qt.ItemDataRole.ToolTipRole)
        self.preset_box.activated.connect(lambda i: self.preset_chosen.emit(self.preset_box.itemText(i)))
        row.addWidget(self.preset_box, 1)
        return row

    def _run_for_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.run_for_s = QtWidgets.QDoubleSpinBox()
        self.run_for_s.setRange(0.001, 3600.0)
        self.run_for_s.setValue(1.0)
        self.run_for_s.setSuffix(" s")
        self.run_for_btn = QtWidgets.QPushButton("Run for")
        self.run_for_btn.setObjectName("spiking_run_for")
        self.run_for_btn.clicked.connect(lambda: self.run_for_requested.emit(self.run_for_s.value()))
        row.addWidget(self.run_for_btn)
        row.addWidget(self.run_for_s)
        return row

    def _speed_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Speed"))
        self.speed_box = QtWidgets.QComboBox()
        self.speed_box.setObjectName("spiking_speed")
        for label, factor in SPEEDS:
            self.speed_box.addItem(label, factor)
        self.speed_box.currentIndexChanged.connect(
            lambda _i: self.speed_chosen.emit(self.speed_box.currentData())
        )
        row.addWidget(self.speed_box, 1)
        return row

    def _follow_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.follow_box = QtWidgets.QCheckBox("Follow")
        self.follow_box.setChecked(True)
        row.addWidget(self.follow_box)
        row.addWidget(QtWidgets.QLabel("window"))
        self.window_s = QtWidgets.QDoubleSpinBox()
        self.window_s.setRange(0.01, KEEP_S)
        self.window_s.setValue(1.0)
        self.window_s.setSuffix(" s")
        row.addWidget(self.window_s)
        return row

    def show_readout(self, snap: SpikingSnapshot, running: bool) -> None:
        """Biological time at every frame (the same ``snap.t_s`` that ends the time axis while
        following); speed, events and rates at most 5 times a second while running."""
        self.readout.setText(f"t = {snap.t_s:.3f} s biological")
        now = time.monotonic()
        if running and now - self._readout_at < READOUT_EVERY_S:
            return
        self._readout_at = now
        self.stats.setText(
            f"{snap.realtime_factor:.2f}x real time (engine)<br>"
            f"{snap.events_per_s / 1e6:.1f} M synaptic events/s<br>"
            f"E {snap.rate_e_hz:.1f} Hz, I {snap.rate_i_hz:.1f} Hz (last 100 ms)<br>"
            f"{snap.total_spikes:,} spikes, {snap.n_synapses:,} synapses"
        )
