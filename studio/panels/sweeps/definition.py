"""The sweep definition: kind and template, the TOML editor checked as it is typed, the results folder."""

from __future__ import annotations

import html
import os

from PySide6 import QtCore, QtGui, QtWidgets

from engines.sweep.io import sweeps_dir
from engines.sweep.kinds import kind_names
from engines.sweep.model import SweepSpec
from studio import theme

from .toml_highlight import TomlHighlighter

EDITOR_TIP = (
    "The sweep in TOML: [sweep] kind, seeds, metrics; [fixed] values; [grid] lists or "
    "{start, stop, num[, log]}; [sample] method = random|lhs|sobol|halton, n, [sample.ranges]"
)


class DefinitionEditor(QtWidgets.QWidget):
    """Kind box, Template / Open / Save buttons, the TOML editor, its check line and the results folder.

    Signals ask the panel to act: ``template_requested(kind)``, ``open_requested``, ``save_requested``
    and ``check_requested`` (400 ms after the last keystroke).
    """

    template_requested = QtCore.Signal(str)
    open_requested = QtCore.Signal()
    save_requested = QtCore.Signal()
    check_requested = QtCore.Signal()

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(self._build_buttons())
        lay.addWidget(self._build_editor(), 1)
        self.check_label = QtWidgets.QLabel("")
        self.check_label.setObjectName("SweepCheck")
        self.check_label.setWordWrap(True)
        lay.addWidget(self.check_label)
        lay.addLayout(self._build_out_row())
        self._check_timer = QtCore.QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(400)
        self._check_timer.timeout.connect(self.check_requested)
        self.editor.textChanged.connect(self._check_timer.start)

    def _build_buttons(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        self.kind_box = QtWidgets.QComboBox()
        self.kind_box.setObjectName("SweepKind")
        self.kind_box.addItems(kind_names())
        self.kind_box.setToolTip("Kind of point: which engine each point runs")
        row.addWidget(self.kind_box, 1)
        self.template_button = QtWidgets.QPushButton("Template")
        self.template_button.setToolTip("Replace the definition with a starting sweep of this kind")
        self.template_button.clicked.connect(
            lambda: self.template_requested.emit(self.kind_box.currentText())
        )
        self.open_button = QtWidgets.QPushButton("Open…")
        self.open_button.clicked.connect(self.open_requested)
        self.save_button = QtWidgets.QPushButton("Save…")
        self.save_button.clicked.connect(self.save_requested)
        for b in (self.template_button, self.open_button, self.save_button):
            row.addWidget(b)
        return row

    def _build_editor(self) -> QtWidgets.QPlainTextEdit:
        self.editor = QtWidgets.QPlainTextEdit()
        self.editor.setObjectName("SweepEditor")
        self.editor.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.editor.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setToolTip(EDITOR_TIP)
        # a margin all round: the first line sits clear of the frame instead of against it
        self.editor.document().setDocumentMargin(6)
        self.highlighter = TomlHighlighter(self.editor.document())
        return self.editor

    def _build_out_row(self) -> QtWidgets.QHBoxLayout:
        row = QtWidgets.QHBoxLayout()
        row.addWidget(QtWidgets.QLabel("Results"))
        self.out_edit = QtWidgets.QLineEdit()
        self.out_edit.setObjectName("SweepOut")
        self.out_edit.setPlaceholderText(f"{sweeps_dir()}{os.sep}NAME.parquet")
        self.out_edit.setToolTip(
            "The results folder of this sweep (a Parquet dataset). Empty: NAME.parquet next to the "
            f"opened sweep file, else in your sweeps folder {sweeps_dir()} "
            "(set NEURAL_STUDIO_SWEEPS_DIR to move it)."
        )
        row.addWidget(self.out_edit, 1)
        browse = QtWidgets.QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose the results folder")
        browse.clicked.connect(self._browse_out)
        row.addWidget(browse)
        return row

    # -- contents --------------------------------------------------------
    def text(self) -> str:
        return self.editor.toPlainText()

    def set_text(self, text: str) -> None:
        self.editor.setPlainText(text)

    def out(self) -> str | None:
        """The results folder typed, or None for the default."""
        return self.out_edit.text().strip() or None

    def show_check(self, spec: SweepSpec | None, error: str = "") -> None:
        """The check line: the number of points of ``spec``, or ``error`` in red."""
        if spec is None:
            colour = theme.OKABE_ITO[5]  # vermillion
            self.check_label.setText(f'<span style="color:{colour}">✗ {html.escape(error)}</span>')
        else:
            colour = theme.OKABE_ITO[2]  # bluish green
            self.check_label.setText(
                f'<span style="color:{colour}">✓ {spec.n_points()} points of kind {spec.kind}</span>'
            )

    def _browse_out(self) -> None:
        start = self.out() or str(sweeps_dir())
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Results folder", start)
        if path:
            self.out_edit.setText(path)
