"""A parameter form generated from a parameter dataclass (engines.base.Params).

Each field becomes an editor chosen from its type: a spin box for numbers
(range from the field's ``min``/``max``), a check box for booleans, a combo box
for fields with ``choices``, a line edit for text and lists. Labels carry the
unit, tooltips the description and the allowed range. An edit builds a new
parameter object; when construction fails the field is marked and the message
(which names the field) is shown under the form, and nothing is emitted.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6 import QtCore, QtWidgets

from engines.base import Params, ParamSpec, param_specs

_BIG = 1e12


def _decimals(spec: ParamSpec) -> int:
    if spec.step:
        return max(0, min(8, -math.floor(math.log10(spec.step)) + 1))
    vals = [abs(v) for v in (spec.default, spec.min, spec.max) if isinstance(v, (int, float)) and v]
    smallest = min(vals) if vals else 1.0
    if smallest >= 1:
        return 3
    return max(3, min(8, -math.floor(math.log10(smallest)) + 2))


class ParamForm(QtWidgets.QWidget):
    """Editors for every field of a :class:`Params` subclass."""

    params_changed = QtCore.Signal(object)  # the new, validated Params
    invalid = QtCore.Signal(str)  # the validation message

    def __init__(
        self,
        params: Params,
        parent: QtWidgets.QWidget | None = None,
        exclude: tuple[str, ...] = (),
    ):
        super().__init__(parent)
        self._params = params
        self._specs = [s for s in param_specs(type(params)) if s.name not in exclude]
        self._editors: dict[str, QtWidgets.QWidget] = {}
        self._updating = False
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        basic = QtWidgets.QFormLayout()
        basic.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(basic)
        adv_specs = [s for s in self._specs if s.advanced]
        adv_layout = None
        if adv_specs:
            self.advanced_box = QtWidgets.QGroupBox("Advanced")
            self.advanced_box.setCheckable(True)
            self.advanced_box.setChecked(False)
            adv_inner = QtWidgets.QWidget()
            adv_layout = QtWidgets.QFormLayout(adv_inner)
            box_lay = QtWidgets.QVBoxLayout(self.advanced_box)
            box_lay.addWidget(adv_inner)
            adv_inner.setVisible(False)
            self.advanced_box.toggled.connect(adv_inner.setVisible)
            outer.addWidget(self.advanced_box)
        for spec in self._specs:
            editor = self._make_editor(spec, getattr(params, spec.name))
            editor.setObjectName(f"param_{spec.name}")
            tip = spec.doc or spec.name
            tip += f"\nallowed: {spec.range_text()}"
            if spec.unit:
                tip += f"\nunit: {spec.unit}"
            editor.setToolTip(tip)
            label = QtWidgets.QLabel(spec.label)
            label.setToolTip(tip)
            (adv_layout if spec.advanced and adv_layout is not None else basic).addRow(label, editor)
            self._editors[spec.name] = editor
        self.error_label = QtWidgets.QLabel()
        self.error_label.setObjectName("param_error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d04040;")
        self.error_label.hide()
        outer.addWidget(self.error_label)
        outer.addStretch(1)

    # ------------------------------------------------------------------
    def editor(self, name: str) -> QtWidgets.QWidget:
        return self._editors[name]

    def params(self) -> Params:
        return self._params

    def set_params(self, params: Params) -> None:
        """Show ``params`` without emitting ``params_changed``."""
        self._params = params
        self._updating = True
        try:
            for spec in self._specs:
                self._set_value(self._editors[spec.name], spec, getattr(params, spec.name))
        finally:
            self._updating = False
        self._mark(None, "")

    # ------------------------------------------------------------------
    def _make_editor(self, spec: ParamSpec, value: Any) -> QtWidgets.QWidget:
        if spec.choices is not None:
            w = QtWidgets.QComboBox()
            for c in spec.choices:
                w.addItem(str(c), c)
            w.currentIndexChanged.connect(lambda _i, s=spec: self._edited(s))
        elif spec.type is bool:
            w = QtWidgets.QCheckBox()
            w.toggled.connect(lambda _v, s=spec: self._edited(s))
        elif spec.type is int and not spec.optional:
            w = QtWidgets.QSpinBox()
            lo = int(spec.min) if spec.min is not None else -(2**31 - 1)
            hi = int(spec.max) if spec.max is not None else 2**31 - 1
            w.setRange(max(lo, -(2**31 - 1)), min(hi, 2**31 - 1))
            if spec.step:
                w.setSingleStep(int(spec.step))
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda _v, s=spec: self._edited(s))
        elif spec.type is float and not spec.optional:
            w = QtWidgets.QDoubleSpinBox()
            w.setDecimals(_decimals(spec))
            w.setRange(
                spec.min if spec.min is not None else -_BIG,
                spec.max if spec.max is not None else _BIG,
            )
            step = spec.step
            if step is None:
                ref = abs(spec.default) if isinstance(spec.default, (int, float)) and spec.default else 1.0
                step = 10 ** math.floor(math.log10(ref)) / 10 if ref else 0.1
            w.setSingleStep(step)
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda _v, s=spec: self._edited(s))
        else:  # str, tuple, optional numbers and anything else: text
            w = QtWidgets.QLineEdit()
            if spec.optional:
                w.setPlaceholderText("none")
            w.editingFinished.connect(lambda s=spec: self._edited(s))
        self._updating = True
        try:
            self._set_value(w, spec, value)
        finally:
            self._updating = False
        return w

    def _set_value(self, w: QtWidgets.QWidget, spec: ParamSpec, value: Any) -> None:
        w.blockSignals(True)
        try:
            if isinstance(w, QtWidgets.QComboBox):
                idx = w.findData(value)
                w.setCurrentIndex(max(0, idx))
            elif isinstance(w, QtWidgets.QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox)):
                w.setValue(value if value is not None else 0)
            elif isinstance(w, QtWidgets.QLineEdit):
                if value is None:
                    w.setText("")
                elif isinstance(value, tuple):
                    w.setText(", ".join(str(v) for v in value))
                else:
                    w.setText(str(value))
        finally:
            w.blockSignals(False)

    def _read(self, w: QtWidgets.QWidget, spec: ParamSpec) -> Any:
        if isinstance(w, QtWidgets.QComboBox):
            return w.currentData()
        if isinstance(w, QtWidgets.QCheckBox):
            return w.isChecked()
        if isinstance(w, (QtWidgets.QSpinBox, QtWidgets.QDoubleSpinBox)):
            return w.value()
        text = w.text().strip()
        if spec.type is tuple:
            if not text:
                return ()
            items = []
            for part in text.split(","):
                part = part.strip()
                try:
                    items.append(int(part))
                except ValueError:
                    try:
                        items.append(float(part))
                    except ValueError:
                        items.append(part)
            return tuple(items)
        if spec.type in (int, float):  # optional numbers shown as text
            if not text:
                return None
            try:
                return spec.type(text)
            except ValueError:
                return text
        return text if text or spec.default is not None else None

    def _edited(self, spec: ParamSpec) -> None:
        if self._updating:
            return
        value = self._read(self._editors[spec.name], spec)
        try:
            new = self._params.replace(**{spec.name: value})
        except ValueError as e:
            self._mark(spec.name, str(e))
            self.invalid.emit(str(e))
            return
        self._mark(None, "")
        if new != self._params:
            self._params = new
            self.params_changed.emit(new)

    def _mark(self, name: str | None, message: str) -> None:
        for n, w in self._editors.items():
            w.setStyleSheet("border: 1px solid #d04040;" if n == name else "")
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
