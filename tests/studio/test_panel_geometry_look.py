"""The geometry panel as a user first sees it: labelled plots, hints before results, 3-D views that fill their
area with axes, a legend and a camera reset, and a size that fits a laptop."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from engines.geometry.params import AnalysisParams
from studio import theme
from studio.panels.geometry import GeometryPanel
from studio.panels.geometry.scatter3d import AZIMUTH, ELEVATION
from studio.window import MainWindow

pytestmark = [pytest.mark.gui, pytest.mark.gl]

SMALL = dict(models="all", P=4, M=5, steps=2, eot=2, n_t=30, layers="fc1", eps="0,0.1")


@pytest.fixture
def panel(qtbot, tmp_path):
    w = MainWindow(panel_classes={"geometry": GeometryPanel}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    qtbot.waitExposed(w)
    p = w.panels["geometry"]
    w.runner_for("geometry")
    yield p
    w.close()


@pytest.fixture
def analysed(panel, qtbot):
    """The panel after a small analysis of the three networks (layer fc1, eps 0 and 0.1)."""
    panel.form.set_params(AnalysisParams(**SMALL))
    with qtbot.waitSignal(panel.runner.job_finished, timeout=180000) as sig:
        panel.analyze()
    assert sig.args[1] is True
    qtbot.waitUntil(lambda: all(n == 2 * 4 * 5 for n in panel.points_by_model.values()), timeout=10000)
    return panel


def test_eps_axes_span_the_planned_grid_and_tick_its_values(panel):
    """Before any result the eps axes already run from 0 to the form's largest eps (never negative), ticked at the
    grid's own values; a grid too dense to label value by value keeps the range with automatic ticks."""
    panel.form.set_params(AnalysisParams(**{**SMALL, "eps": "0,0.2"}))
    panel.plots.set_eps_axis(panel.planned_eps())
    for m in ("capacity", "radius", "dimension", "accuracy"):
        pl = panel.plots.plot_items[("eps", m)]
        lo, hi = pl.getViewBox().viewRange()[0]
        assert -0.06 < lo < 0 and 0.2 < hi < 0.26
        ticks = pl.getAxis("bottom")._tickLevels
        assert ticks == [[(0.0, "0"), (0.2, "0.2")]]
    panel.plots.set_eps_axis([0, 0.005, 0.01, 0.02, 0.05, 0.1])  # crowded near 0: automatic ticks
    pl = panel.plots.plot_items[("eps", "capacity")]
    assert pl.getAxis("bottom")._tickLevels is None
    assert pl.getViewBox().viewRange()[0][1] < 0.13


def _screen_box(scatter):
    """The drawn points' bounding box on the canvas, in canvas pixels (x right, y down)."""
    tr = scatter.clean.get_transform("visual", "canvas")
    p = tr.map(scatter.positions)
    xy = p[:, :2] / p[:, 3:4]
    return xy.min(axis=0), xy.max(axis=0)


def _covers(scatter, share: float) -> bool:
    """Every point inside the canvas, the cloud spanning at least ``share`` of its width or height."""
    lo, hi = _screen_box(scatter)
    w, h = scatter.canvas.size
    inside = lo[0] >= 0 and lo[1] >= 0 and hi[0] <= w and hi[1] <= h
    return bool(inside and max((hi[0] - lo[0]) / w, (hi[1] - lo[1]) / h) >= share)


def test_plots_name_their_axes_and_models(panel):
    plots = panel.plots
    left = {
        m: plots.plot_items[("eps", m)].getAxis("left").labelText for m in ("capacity", "radius", "dimension")
    }
    assert left == {"capacity": "capacity α_M", "radius": "radius R_M", "dimension": "dimension D_M"}
    assert plots.plot_items[("eps", "accuracy")].getAxis("left").labelText.startswith("accuracy")
    for m in ("capacity", "radius", "dimension"):
        assert plots.plot_items[("eps", m)].getAxis("bottom").labelText.startswith("attack ε")
        assert plots.plot_items[("layer", m)].getAxis("bottom").labelText == "layer"
    assert "attack strength ε" in plots.plot_items[("eps", "accuracy")].getAxis("bottom").labelText
    # one legend above the plots, in the colour-blind-safe series colours
    names = [label.text for _sample, label in plots.legend.items]
    assert names == ["standard", "adversarial", "stochastic", "simulated"]
    for k, kind in enumerate(("standard", "adversarial", "stochastic")):
        pen = plots.curves[("eps", "capacity", kind)].opts["pen"]
        assert pen.color().name() == theme.category_colour(k).name()
    legend_bottom = plots.legend.mapRectToScene(plots.legend.boundingRect()).bottom()
    for item in plots.plot_items.values():
        assert item.getViewBox().sceneBoundingRect().top() >= legend_bottom - 1  # never over the data


def test_every_view_says_what_will_appear_before_results(panel):
    assert panel.plots.hint.isVisible() and "as each layer" in panel.plots.hint.text()
    for kind, scatter in panel.views.scatters.items():
        assert scatter.hint.isVisible() and kind in scatter.hint.text()
        assert scatter.canvas.bgcolor.rgba == pytest.approx(theme.vispy_colours()["background"])
    panel.right_tabs.setCurrentIndex(1)
    hint = panel.imported.hint
    assert hint.isVisible()
    for words in ("Import activations", ".npz", "labels", "python -m engines geometry activations"):
        assert words in hint.text()


def test_the_panel_fits_a_laptop_screen(panel):
    size = panel.minimumSizeHint()
    assert size.width() <= 1000 and size.height() <= 500
    # the window's scroll area around the panel (if any) has nothing to scroll at 1280 x 720
    holder = panel.parentWidget()
    while holder is not None and not isinstance(holder, QtWidgets.QScrollArea):
        holder = holder.parentWidget()
    if holder is not None:
        viewport = holder.viewport().size()
        assert panel.height() <= viewport.height() and panel.width() <= viewport.width()
    # at 1280 x 720 the 3-D views share their area as near-square cells, none a narrow strip
    for scatter in panel.views.scatters.values():
        w, h = scatter.canvas.native.width(), scatter.canvas.native.height()
        assert w >= 150 and h >= 150 and 0.5 <= w / h <= 2.0


def test_results_replace_the_hints_with_labelled_3d_clouds(analysed, qtbot):
    panel = analysed
    assert not panel.plots.hint.isVisible()
    views = panel.views
    for scatter in views.scatters.values():
        assert not scatter.hint.isVisible()
        assert all(
            label.visible and label.text.startswith(f"PC{i + 1}")
            for i, label in enumerate(scatter.axis_labels)
        )
    # the legend lists the four digit manifolds and the marker shapes
    assert views.legend.labels() == ["digit 0", "digit 1", "digit 2", "digit 3", "clean", "perturbed"]
    # the canvas is drawn in the theme's background, with the cloud on it
    qtbot.wait(200)
    img = views.scatters["standard"].canvas.native.grabFramebuffer()
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    colours = np.unique(arr.reshape(-1, 4), axis=0)
    assert len(colours) > 10


def test_the_camera_fits_the_cloud_and_reset_brings_it_back(analysed, qtbot):
    views = analysed.views
    qtbot.wait(200)  # the fit again after the views took their size
    for scatter in views.scatters.values():
        assert _covers(scatter, 0.5)  # the cloud fills the view, none of it outside
    cam = views.scatters["standard"].view.camera
    cam.azimuth, cam.elevation = 150.0, -40.0
    cam.scale_factor *= 8  # zoomed far out: the cloud is a speck
    assert not _covers(views.scatters["standard"], 0.5)
    assert views.scatters["adversarial"].view.camera.scale_factor == pytest.approx(cam.scale_factor)  # linked
    qtbot.mouseClick(views.reset_button, QtCore.Qt.MouseButton.LeftButton)
    assert (cam.azimuth, cam.elevation) == (AZIMUTH, ELEVATION)
    for scatter in views.scatters.values():
        assert _covers(scatter, 0.5)
    cam.scale_factor /= 8  # zoomed in: points leave the view
    assert not _covers(views.scatters["standard"], 0.5)
    window = analysed.window()
    window.activateWindow()  # shortcuts reach the active window only
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    views.canvas.native.setFocus()
    qtbot.keyClick(views.canvas.native, QtCore.Qt.Key.Key_R)  # the key does what the button does
    assert _covers(views.scatters["standard"], 0.5)


def test_imported_files_show_in_a_rounded_table_with_a_fitted_view(panel, qtbot, tmp_path):
    rng = np.random.default_rng(1)
    feats = np.concatenate([rng.standard_normal(30) * 3 + rng.standard_normal((10, 30)) for _ in range(3)])
    np.savez(tmp_path / "acts.npz", features=feats, labels=np.repeat(np.arange(3), 10))
    with qtbot.waitSignal(panel.runner.job_finished, timeout=120000):
        assert panel.import_activations(tmp_path / "acts.npz")
    qtbot.waitUntil(lambda: panel.imported_points_drawn == 30, timeout=10000)
    tab = panel.imported
    assert not tab.hint.isVisible()
    for j in range(1, 8):  # the measures: at most four significant digits
        text = panel.import_table.item(0, j).text()
        digits = text.split("e")[0].replace("-", "").replace(".", "").lstrip("0")
        assert len(digits) <= 4, text
    assert panel.import_table.horizontalHeaderItem(1).text() == "capacity α_M"
    assert tab.legend.labels()[:3] == ["manifold 0", "manifold 1", "manifold 2"]
    qtbot.wait(200)
    assert _covers(tab.scatter, 0.5)
