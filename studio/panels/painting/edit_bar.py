"""Undo, Redo, Clear and "Lock my strokes": the edits that are not drags."""

from __future__ import annotations

from PySide6 import QtWidgets


class EditBar(QtWidgets.QWidget):
    """Three buttons in a row and the lock check box under them (the panel connects them)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QtWidgets.QHBoxLayout()
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.redo_button = QtWidgets.QPushButton("Redo")
        self.clear_button = QtWidgets.QPushButton("Clear")
        for b in (self.undo_button, self.redo_button, self.clear_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.lock_box = QtWidgets.QCheckBox("Lock my strokes")
        self.lock_box.setToolTip(
            "the eraser, Clear and edits leave my strokes alone;\nin a session, everyone else's do too"
        )
        lay.addWidget(self.lock_box)

    def set_state(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_button.setEnabled(can_undo)
        self.redo_button.setEnabled(can_redo)


__all__ = ["EditBar"]
