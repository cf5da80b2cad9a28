"""The left column: analysis parameters, Analyze / Stop, progress, the noise slider, the view selectors
(layer, eps), CSV / PNG export and the import of activations."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from engines.geometry.models import LAYERS
from engines.geometry.params import AnalysisParams
from studio.widgets.paramform import ParamForm

#: lighter defaults than the engine's so that a first analysis takes seconds
PANEL_DEFAULTS = dict(P=8, M=10, steps=3, eot=2, n_t=60, layers="conv3,fc1", eps="0,0.1,0.2")
NOISE_STEPS = 20  # slider units per unit of noise scale

IMPORT_TIP = (
    "MFTMA of your own activations: .npz / .h5 (a P x M x N array, or features with labels) "
    "or .npy (P x M x N), with the kappa and n t above"
)


class Controls(QtWidgets.QWidget):
    """The parameter form and the buttons, sliders and boxes beside the views (no logic: the panel
    connects to them)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setMaximumWidth(330)
        lay = QtWidgets.QVBoxLayout(self)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidgetResizable(True)
        self.form = ParamForm(AnalysisParams(**PANEL_DEFAULTS), exclude=("seed",))
        scroll.setWidget(self.form)
        lay.addWidget(scroll, 1)
        lay.addLayout(self._build_run_row())
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        lay.addWidget(self.progress)
        self.status = QtWidgets.QLabel("Press Analyze")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        lay.addLayout(self._build_noise_row())
        lay.addWidget(self._build_view_box())
        lay.addLayout(self._build_export_row())
        self.import_button = QtWidgets.QPushButton("Import activations…")
        self.import_button.setToolTip(IMPORT_TIP)
        lay.addWidget(self.import_button)

    def _build_run_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.analyze_button = QtWidgets.QPushButton("Analyze")
        self.analyze_button.setObjectName("GeometryAnalyze")
        self.stop_button = QtWidgets.QPushButton("Stop")
        row.addWidget(self.analyze_button)
        row.addWidget(self.stop_button)
        return row

    def _build_noise_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Noise"))
        self.noise_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, 2 * NOISE_STEPS)
        self.noise_slider.setValue(NOISE_STEPS)
        self.noise_slider.setToolTip("noise scale of the stochastic front end; recomputes in the background")
        self.noise_label = QtWidgets.QLabel("1.00")
        row.addWidget(self.noise_slider, 1)
        row.addWidget(self.noise_label)
        return row

    def _build_view_box(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("View")
        grid = QtWidgets.QFormLayout(box)
        self.layer_box = QtWidgets.QComboBox()
        self.layer_box.addItems(list(LAYERS))
        self.layer_box.setCurrentText("fc1")
        self.eps_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.eps_slider.setRange(0, 0)
        self.eps_label = QtWidgets.QLabel("eps 0")
        grid.addRow("Layer", self.layer_box)
        grid.addRow(self.eps_label, self.eps_slider)
        return box

    def _build_export_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.csv_button = QtWidgets.QPushButton("Export CSV…")
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        row.addWidget(self.csv_button)
        row.addWidget(self.png_button)
        return row

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        # the wrapped status line must not make the whole panel height-for-width: a scroll area around the
        # panel would then size it by its preferred height instead of its minimum, and scroll
        return False

    # -- read-outs -------------------------------------------------------
    def noise(self) -> float:
        """The noise scale the slider asks for."""
        return self.noise_slider.value() / NOISE_STEPS

    def show_noise(self, shown: float | None = None) -> None:
        """The slider's value, and the analysed level shown instead when it differs."""
        text = f"{self.noise():.2f}"
        if shown is not None and shown != self.noise():
            text += f" (showing {shown:g})"
        self.noise_label.setText(text)

    def set_eps_count(self, n: int) -> None:
        """``n`` eps values analysed: the slider spans them, at the last one when their number changes."""
        top = max(n - 1, 0)
        if self.eps_slider.maximum() != top:
            self.eps_slider.blockSignals(True)
            self.eps_slider.setRange(0, top)
            self.eps_slider.setValue(top)
            self.eps_slider.blockSignals(False)

    def current_eps(self, eps_vals: list[float]) -> float | None:
        if not eps_vals:
            return None
        return eps_vals[min(self.eps_slider.value(), len(eps_vals) - 1)]
