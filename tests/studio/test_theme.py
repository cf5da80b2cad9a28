"""The studio's shared theme: colours follow the palette, legends sit outside the data, hints over empty views."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtGui

from studio import theme


def test_the_theme_follows_the_palette_and_the_override(qapp, monkeypatch):
    monkeypatch.delenv("NEURAL_STUDIO_THEME", raising=False)
    saved = qapp.palette()
    try:
        dark = QtGui.QPalette(saved)
        dark.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("#202020"))
        qapp.setPalette(dark)
        assert theme.current() is theme.DARK
        light = QtGui.QPalette(saved)
        light.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor("#f0f0f0"))
        qapp.setPalette(light)
        assert theme.current() is theme.LIGHT
        monkeypatch.setenv("NEURAL_STUDIO_THEME", "dark")
        assert theme.current() is theme.DARK
    finally:
        qapp.setPalette(saved)


def _contrast(a: str, b: str) -> float:
    def lum(c: str) -> float:
        rgb = np.array(QtGui.QColor(c).getRgbF()[:3])
        rgb = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        return float(rgb @ [0.2126, 0.7152, 0.0722])

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("t", [theme.LIGHT, theme.DARK], ids=["light", "dark"])
def test_text_colours_meet_wcag_aa_contrast(t):
    assert _contrast(t.foreground, t.background) >= 7.0
    assert _contrast(t.muted, t.background) >= 4.5
    assert _contrast(t.muted, t.hint_background) >= 4.5
    assert _contrast(t.error, t.background) >= 4.5
    assert _contrast(t.warning, t.background) >= 4.5


def test_category_colours_are_distinct():
    cols = theme.category_colours(8)
    assert cols.shape == (8, 4)
    d = np.linalg.norm(cols[:, None, :3] - cols[None, :, :3], axis=-1)
    assert d[~np.eye(8, dtype=bool)].min() > 0.15
    many = theme.category_colours(20)
    assert len({tuple(np.round(c, 3)) for c in many}) == 20


def test_the_legend_sits_above_the_data(qtbot):
    w = pg.PlotWidget()
    qtbot.addWidget(w)
    theme.style_plot(w, x=("time", "s"), y=("rate", "Hz"))
    legend = theme.legend_above(w)
    w.plot([0, 1, 2], [3, 1, 2], pen=theme.category_pen(0), name="E")
    w.plot([0, 1, 2], [1, 2, 3], pen=theme.category_pen(1), name="I")
    w.resize(500, 300)
    w.show()
    qtbot.waitExposed(w)
    assert len(legend.items) == 2
    vb = w.getPlotItem().vb
    legend_rect = legend.mapRectToScene(legend.boundingRect())
    data_rect = vb.mapRectToScene(vb.boundingRect())
    assert legend_rect.bottom() <= data_rect.top() + 1
    assert w.getPlotItem().getAxis("bottom").labelText == "time"


def test_an_empty_hint_covers_the_view_until_data_arrives(qtbot):
    view = pg.PlotWidget()
    qtbot.addWidget(view)
    view.resize(400, 300)
    hint = theme.EmptyHint(view, "Weights appear here once the network runs.")
    view.show()
    qtbot.waitExposed(view)
    assert hint.isVisible() and hint.empty
    assert view.rect().contains(hint.geometry())
    view.resize(600, 400)
    qtbot.wait(20)
    assert abs(hint.geometry().center().x() - view.rect().center().x()) <= 2
    hint.set_empty(False)
    assert not hint.isVisible() and not hint.empty
    hint.set_empty(True, "Nothing yet.")
    assert hint.isVisible() and hint.text() == "Nothing yet."


def test_numbers_are_rounded_to_significant_digits():
    assert theme.round_sig(123456.789) == "123,457"
    assert theme.round_sig(0.0123456) == "0.0123"
    assert theme.round_sig(float("nan")) == "–"
    assert theme.round_sig(2.5e-7) == "2.50e-07"
