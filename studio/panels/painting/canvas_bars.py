"""What sits on and beside the canvas: the progress of a job over it, and the proposal bar under it."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from studio import theme


class ProgressOverlay(QtWidgets.QFrame):
    """A box over the top of ``view`` saying what is happening, with a progress bar.

    ``show_progress(fraction, text)`` (fraction None: busy, no measure yet) shows it and
    ``hide()`` takes it away; it follows the view's size and lets the mouse through."""

    def __init__(self, view: QtWidgets.QWidget):
        super().__init__(view)
        self.setObjectName("ProgressOverlay")
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        t = theme.current()
        self.setStyleSheet(
            f"QFrame#ProgressOverlay {{ background: {t.hint_background}; border: 1px solid {t.grid};"
            f" border-radius: 6px; }} QFrame#ProgressOverlay QLabel {{ color: {t.foreground}; }}"
        )
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 8)
        self.label = QtWidgets.QLabel("")
        self.label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.bar = QtWidgets.QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(8)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        self._view = view
        view.installEventFilter(self)
        self.hide()

    def show_progress(self, fraction: float | None, text: str) -> None:
        self.label.setText(text)
        if fraction is None:
            self.bar.setRange(0, 0)  # busy
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        r = self._view.rect()
        w = min(max(int(r.width() * 0.6), 200), 460, max(r.width() - 8, 60))
        h = self.sizeHint().height()
        self.setGeometry(r.center().x() - w // 2, 12, w, h)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self._view and event.type() == QtCore.QEvent.Type.Resize:
            self._place()
        return False


class ProposalBar(QtWidgets.QWidget):
    """Under the canvas: which proposal is on show, the previous and next ones, Accept and Reject with
    their keys (disabled while there are none). Emits ``cycle(step)``, ``accept`` and ``reject``."""

    cycle = QtCore.Signal(int)
    accept = QtCore.Signal()
    reject = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        self.prev_button = QtWidgets.QToolButton()
        self.prev_button.setArrowType(QtCore.Qt.ArrowType.LeftArrow)
        self.prev_button.setToolTip("previous proposal (Left, Shift+Tab)")
        self.next_button = QtWidgets.QToolButton()
        self.next_button.setArrowType(QtCore.Qt.ArrowType.RightArrow)
        self.next_button.setToolTip("next proposal (Right, Tab)")
        self.label = QtWidgets.QLabel("")
        # (the label gives way first when the window is narrow; its text is in the tooltip too)
        self.label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.label.setMinimumWidth(60)
        self.accept_button = QtWidgets.QPushButton("Accept (Enter)")
        self.accept_button.setToolTip(
            "add the proposal on show to the painting (A or Enter); Ctrl+Z undoes it"
        )
        self.reject_button = QtWidgets.QPushButton("Reject (Esc)")
        self.reject_button.setToolTip("drop the proposals (X or Esc)")
        for w in (self.prev_button, self.next_button):
            lay.addWidget(w)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.accept_button)
        lay.addWidget(self.reject_button)
        self.prev_button.clicked.connect(lambda: self.cycle.emit(-1))
        self.next_button.clicked.connect(lambda: self.cycle.emit(1))
        self.accept_button.clicked.connect(self.accept)
        self.reject_button.clicked.connect(self.reject)
        self.show_proposals(0, 0, 0, False)

    def show_proposals(self, n: int, selected: int, strokes: int, computing: bool) -> None:
        """``n`` proposals on show, the ``selected`` one of ``strokes`` strokes; ``computing``: more coming.

        The bar keeps its place when there are none (the canvas does not jump): it says how to get some."""
        if n == 0:
            text = "Proposals, computing…" if computing else "Complete draws the model's proposals here"
        else:
            more = ", more coming…" if computing else ""
            text = f"Proposal {selected + 1} of {n}: {strokes} ghost strokes{more}"
        self.label.setText(text)
        self.label.setToolTip(text)
        self.prev_button.setEnabled(n > 1)
        self.next_button.setEnabled(n > 1)
        self.accept_button.setEnabled(n > 0)
        self.reject_button.setEnabled(n > 0)


__all__ = ["ProgressOverlay", "ProposalBar"]
