"""Paint a reference (with its progress and Cancel) and the painting's files: open, save, export."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


class FilesBox(QtWidgets.QWidget):
    """Buttons that ask for a file and emit the path chosen: ``reference_chosen``, ``open_chosen``,
    ``save_chosen``, ``png_chosen``, ``svg_chosen``; ``cancel_button`` stops the running job."""

    reference_chosen = QtCore.Signal(str)
    open_chosen = QtCore.Signal(str)
    save_chosen = QtCore.Signal(str)
    png_chosen = QtCore.Signal(str)
    svg_chosen = QtCore.Signal(str)

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.reference_button = QtWidgets.QPushButton("Paint reference…")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        lay.addWidget(self.reference_button)
        lay.addWidget(self.progress)
        lay.addWidget(self.cancel_button)
        grid = QtWidgets.QGridLayout()
        self.open_button = QtWidgets.QPushButton("Open JSON…")
        self.save_button = QtWidgets.QPushButton("Save JSON…")
        self.png_button = QtWidgets.QPushButton("Export PNG…")
        self.svg_button = QtWidgets.QPushButton("Export SVG…")
        grid.addWidget(self.open_button, 0, 0)
        grid.addWidget(self.save_button, 0, 1)
        grid.addWidget(self.png_button, 1, 0)
        grid.addWidget(self.svg_button, 1, 1)
        lay.addLayout(grid)
        self.reference_button.clicked.connect(self._ask_reference)
        self.open_button.clicked.connect(self._ask_open)
        self.save_button.clicked.connect(self._ask_save)
        self.png_button.clicked.connect(self._ask_png)
        self.svg_button.clicked.connect(self._ask_svg)

    def show_progress(self, fraction: float | None, message: str) -> None:
        self.progress.show()
        self.progress.setValue(int(1000 * (fraction or 0)))
        self.progress.setFormat(message[:50])

    def set_busy(self, busy: bool) -> None:
        self.reference_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)

    def _ask_reference(self) -> None:
        f, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Reference image", "", IMAGE_FILTER)
        if f:
            self.reference_chosen.emit(f)

    def _ask_open(self) -> None:
        f, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open painting", "", "Painting JSON (*.json);;All files (*)"
        )
        if f:
            self.open_chosen.emit(f)

    def _ask_save(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save painting", "painting.json", "Painting JSON (*.json)"
        )
        if f:
            self.save_chosen.emit(f)

    def _ask_png(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export PNG", "painting.png", "PNG (*.png)")
        if f:
            self.png_chosen.emit(f)

    def _ask_svg(self) -> None:
        f, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Export SVG", "painting.svg", "SVG (*.svg)")
        if f:
            self.svg_chosen.emit(f)


__all__ = ["FilesBox"]
