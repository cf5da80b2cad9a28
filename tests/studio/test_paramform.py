"""The parameter form generated from a parameter dataclass."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6 import QtWidgets

from engines.base import Params, param
from studio.widgets.paramform import ParamForm
from tests.toy import ToyParams


@dataclass(frozen=True)
class Mixed(Params):
    tau_ms: float = param(20.0, unit="ms", min=0.1, max=1000.0, doc="membrane time constant")
    count: int = param(3, min=1, max=9, doc="how many")
    on: bool = param(True, doc="switch")
    kind: str = param("a", choices=("a", "b"), doc="kind")
    label: str = param("x", doc="free text")
    sizes: tuple = param((1, 2), doc="layer sizes")
    limit: float | None = param(None, min=0.0, doc="optional limit", advanced=True)


def test_editors_follow_types_ranges_and_units(qtbot):
    form = ParamForm(Mixed())
    qtbot.addWidget(form)
    tau = form.editor("tau_ms")
    assert isinstance(tau, QtWidgets.QDoubleSpinBox)
    assert (tau.minimum(), tau.maximum(), tau.value()) == (0.1, 1000.0, 20.0)
    assert (
        "membrane time constant" in tau.toolTip() and "[0.1, 1000]" in tau.toolTip() and "ms" in tau.toolTip()
    )
    assert isinstance(form.editor("count"), QtWidgets.QSpinBox) and form.editor("count").maximum() == 9
    assert isinstance(form.editor("on"), QtWidgets.QCheckBox) and form.editor("on").isChecked()
    kind = form.editor("kind")
    assert isinstance(kind, QtWidgets.QComboBox) and [kind.itemText(i) for i in range(kind.count())] == [
        "a",
        "b",
    ]
    assert form.editor("sizes").text() == "1, 2"
    labels = [w.text() for w in form.findChildren(QtWidgets.QLabel)]
    assert "tau [ms]" in labels  # the unit is not said twice
    assert form.advanced_box is not None and not form.advanced_box.isChecked()


def test_edits_emit_validated_params(qtbot):
    form = ParamForm(Mixed())
    qtbot.addWidget(form)
    got = []
    form.params_changed.connect(got.append)
    form.editor("tau_ms").setValue(35.0)
    form.editor("kind").setCurrentIndex(1)
    form.editor("sizes").setText("4, 8, 16")
    form.editor("sizes").editingFinished.emit()
    form.editor("limit").setText("2.5")
    form.editor("limit").editingFinished.emit()
    assert got[-1] == Mixed(tau_ms=35.0, kind="b", sizes=(4, 8, 16), limit=2.5)
    form.editor("limit").setText("")
    form.editor("limit").editingFinished.emit()
    assert got[-1].limit is None


def test_invalid_value_is_marked_and_not_emitted(qtbot):
    form = ParamForm(Mixed())
    qtbot.addWidget(form)
    got, bad = [], []
    form.params_changed.connect(got.append)
    form.invalid.connect(bad.append)
    form.editor("limit").setText("-1")
    form.editor("limit").editingFinished.emit()
    assert not got and "Mixed.limit = -1.0" in bad[0] and "[0, inf]" in bad[0]
    assert not form.error_label.isHidden() and "limit" in form.error_label.text()
    assert "d04040" in form.editor("limit").styleSheet()
    form.editor("limit").setText("1")
    form.editor("limit").editingFinished.emit()
    assert got and form.error_label.isHidden()


def test_set_params_shows_without_emitting(qtbot):
    form = ParamForm(ToyParams())
    qtbot.addWidget(form)
    got = []
    form.params_changed.connect(got.append)
    form.set_params(ToyParams(noise=3.0, mode="uniform"))
    assert not got
    assert form.editor("noise").value() == 3.0 and form.editor("mode").currentText() == "uniform"
    assert form.params() == ToyParams(noise=3.0, mode="uniform")


@pytest.mark.parametrize("bad", ["ten", "1, 2, x"])
def test_text_that_does_not_parse_is_refused(qtbot, bad):
    form = ParamForm(Mixed())
    qtbot.addWidget(form)
    got = []
    form.params_changed.connect(got.append)
    form.editor("limit").setText(bad)
    form.editor("limit").editingFinished.emit()
    assert not got and form.error_label.text()
