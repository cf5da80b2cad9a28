"""The completion box: ask the model for proposals, see them as thumbnails, pick, accept or reject."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from engines.painting.engine import COMPLETE_MODES, PaintingSnapshot
from studio.panels.painting.canvas import qimage

#: samples per proposal when "Best guess" is ticked (the decoder the benchmark scores)
BEST_GUESS_SAMPLES = 8


class CompletionBox(QtWidgets.QGroupBox):
    """How many proposals, Best guess, the masking mode and its p; the thumbnails; Accept / Reject.

    ``proposal_selected(i)`` when a thumbnail is clicked; the panel connects the buttons.
    """

    proposal_selected = QtCore.Signal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__("Complete with the model", parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.addLayout(self._build_request_row())
        self.best_guess_box = QtWidgets.QCheckBox("Best guess (fit to the mean of 8 samples)")
        self.best_guess_box.setObjectName("BestGuess")
        self.best_guess_box.setToolTip(
            "each proposal is fitted to the average render of 8 model samples:\n"
            "closer to the missing strokes on average, softer and less varied, slower"
        )
        lay.addWidget(self.best_guess_box)
        self.expected_box = QtWidgets.QCheckBox("First proposal: the expected painting")
        self.expected_box.setObjectName("ExpectedFit")
        self.expected_box.setChecked(True)
        self.expected_box.setToolTip(
            "the first proposal is fitted to the painting that the render network expects\n"
            "from what is painted (closest to the finished painting on average, calmer);\n"
            "the others stay the model's own samples, choices that differ.\n"
            "On canvases of more strokes than the model's 180 slots, each regional\n"
            "window of the first proposal is fitted so"
        )
        lay.addWidget(self.expected_box)
        lay.addLayout(self._build_mode_row())
        self.thumbs = QtWidgets.QHBoxLayout()
        lay.addLayout(self.thumbs)
        self.thumb_buttons: list[QtWidgets.QToolButton] = []
        self._thumb_key: tuple | None = None
        row = QtWidgets.QHBoxLayout()
        self.accept_button = QtWidgets.QPushButton("Accept")
        self.reject_button = QtWidgets.QPushButton("Reject")
        row.addWidget(self.accept_button)
        row.addWidget(self.reject_button)
        lay.addLayout(row)
        self.mode_box.currentTextChanged.connect(self._sync_mode)
        self._sync_mode(self.mode_box.currentText())

    def _build_request_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.proposals_box = QtWidgets.QSpinBox()
        self.proposals_box.setRange(1, 6)
        self.proposals_box.setValue(3)
        self.proposals_box.setPrefix("proposals: ")
        row.addWidget(self.proposals_box)
        self.complete_button = QtWidgets.QPushButton("Complete")
        row.addWidget(self.complete_button)
        return row

    def _build_mode_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.mode_box = QtWidgets.QComboBox()
        self.mode_box.setObjectName("CompleteMode")
        self.mode_box.addItems(list(COMPLETE_MODES))
        self.mode_box.setToolTip(
            "which of the painted strokes the model sees as context:\n"
            "all: every one; random: each with probability p; block: a run of 1 - p of the\n"
            "stroke order is hidden; level: only the coarse level (two levels when p >= 0.5);\n"
            "square: a square around a random stroke holding 1 - p of them is hidden;\n"
            "unconditional: none (a new painting). Every slot not in the context is proposed."
        )
        self.p_box = QtWidgets.QDoubleSpinBox()
        self.p_box.setObjectName("CompleteP")
        self.p_box.setRange(0.05, 0.95)
        self.p_box.setSingleStep(0.05)
        self.p_box.setDecimals(2)
        self.p_box.setValue(0.5)
        self.p_box.setPrefix("p = ")
        self.p_box.setToolTip("context ratio of the masking mode")
        row.addWidget(QtWidgets.QLabel("Mode"))
        row.addWidget(self.mode_box, 1)
        row.addWidget(self.p_box)
        return row

    # -- what the engine is asked -------------------------------------------------
    def request(self) -> tuple[int, int, str, float]:
        """(proposals, samples per proposal, masking mode, p) as chosen."""
        samples = BEST_GUESS_SAMPLES if self.best_guess_box.isChecked() else 1
        return self.proposals_box.value(), samples, self.mode_box.currentText(), float(self.p_box.value())

    def _sync_mode(self, mode: str) -> None:
        self.p_box.setEnabled(mode in ("random", "block", "level", "square"))

    # -- drawing -------------------------------------------------------------------
    def show_snapshot(self, snap: PaintingSnapshot) -> None:
        """Rebuild the thumbnails when the proposals or the selection changed."""
        key = (
            snap.selected,
            snap.first_fitted,
            tuple(len(p) for p in snap.proposals),
            tuple(round(float(p.sum()), 4) for p in snap.proposals),
        )
        if key != self._thumb_key:
            self._thumb_key = key
            self._set_thumbs(snap)

    def _set_thumbs(self, snap: PaintingSnapshot) -> None:
        for b in self.thumb_buttons:
            self.thumbs.removeWidget(b)
            b.deleteLater()
        self.thumb_buttons = []
        for i, img in enumerate(snap.proposal_images):
            b = QtWidgets.QToolButton()
            b.setIcon(QtGui.QIcon(QtGui.QPixmap.fromImage(qimage(img))))
            b.setIconSize(QtCore.QSize(72, 72))
            b.setCheckable(True)
            b.setChecked(i == snap.selected)
            what = ", fitted to the expected painting" if i == 0 and snap.first_fitted else ""
            b.setToolTip(f"proposal {i + 1}: {len(snap.proposals[i])} strokes{what}")
            b.clicked.connect(lambda _c=False, k=i: self.proposal_selected.emit(k))
            self.thumbs.addWidget(b)
            self.thumb_buttons.append(b)

    def expected_fit(self) -> bool:
        """Whether the first proposal is to be fitted to the expected painting."""
        return self.expected_box.isChecked()

    def set_has_refiner(self, has: bool) -> None:
        """No render network file: the box is off and says why."""
        self.expected_box.setEnabled(has)
        if not has:
            self.expected_box.setToolTip("no render network in assets/painting/refiner.zip")

    def set_state(self, has_model: bool, has_proposals: bool, busy: bool, proposing: bool = False) -> None:
        """``proposing``: the job running is Complete, whose proposals ready so far can be taken."""
        self.complete_button.setEnabled(has_model and not busy)
        self.complete_button.setToolTip("" if has_model else "no trained model in assets/painting/")
        self.accept_button.setEnabled(has_proposals and (proposing or not busy))
        self.reject_button.setEnabled(has_proposals and (proposing or not busy))


__all__ = ["BEST_GUESS_SAMPLES", "CompletionBox"]
