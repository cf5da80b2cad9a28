"""One look across the studio: colours, plot styling and empty-view hints for every panel.

The theme follows the system palette: a dark window colour gives the dark theme, otherwise the
light one (``NEURAL_STUDIO_THEME=light|dark`` overrides it). Panels never hard-code a background,
a plot colour or a colour map; they ask this module:

- :func:`current` gives the :class:`Theme` (background, foreground, grid, muted text, categorical
  colours from the Okabe-Ito palette, which stays distinct for the common forms of colour blindness);
- :func:`apply` sets pyqtgraph's defaults once, when the window opens;
- :func:`style_plot` gives a plot axis titles with units, a grid and the theme's colours;
- :func:`legend_above` puts a plot's legend in a row above the data, where it can never cover it;
- :func:`colorbar` adds a labelled colour bar with a perceptually uniform map;
- :func:`category_colour` / :func:`category_colours` give the n-th series colour;
- :func:`vispy_colours` gives the 3-D canvases the same background and text colours;
- :class:`EmptyHint` lays a sentence over a view that has nothing to show yet, saying what will
  appear there and what to do to get it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

#: Okabe & Ito (2008), "Color universal design": eight colours that stay apart under
#: protanopia, deuteranopia and tritanopia. Black is replaced by grey so it shows on dark.
OKABE_ITO = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#999999",  # grey
)
#: colour maps by role: sequential data, diverging data (signed, centred on 0)
SEQUENTIAL = "viridis"
DIVERGING = "CET-D1"


@dataclass(frozen=True)
class Theme:
    """The colours of one theme (hex strings)."""

    name: str
    background: str
    foreground: str
    grid: str
    muted: str  # secondary text: still at least 4.5:1 against the background
    hint_background: str
    error: str  # text colours of errors and warnings, 4.5:1 against the background
    warning: str

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def qcolor(self, field: str) -> QtGui.QColor:
        return QtGui.QColor(getattr(self, field))


LIGHT = Theme("light", "#ffffff", "#202020", "#c8c8c8", "#555555", "#f2f2f2", "#b00020", "#8a5300")
DARK = Theme("dark", "#1e1f22", "#e6e6e6", "#4a4d52", "#b0b0b0", "#2b2d31", "#ff7b7b", "#e8b45a")


def _palette_is_dark() -> bool:
    app = QtWidgets.QApplication.instance()
    if app is None:
        return False
    return app.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128


def current() -> Theme:
    """The theme in use: ``NEURAL_STUDIO_THEME`` if set, else from the system palette."""
    forced = os.environ.get("NEURAL_STUDIO_THEME", "").strip().lower()
    if forced in ("light", "dark"):
        return DARK if forced == "dark" else LIGHT
    return DARK if _palette_is_dark() else LIGHT


def apply(theme: Theme | None = None) -> Theme:
    """Set pyqtgraph's default colours for every plot made from now on; return the theme."""
    theme = theme or current()
    pg.setConfigOptions(background=theme.background, foreground=theme.foreground, antialias=True)
    return theme


def category_colour(k: int) -> QtGui.QColor:
    """The colour of series ``k`` (0-based): Okabe-Ito, repeating after eight with a dashed pen
    left to the caller (see :func:`category_pen`)."""
    return QtGui.QColor(OKABE_ITO[k % len(OKABE_ITO)])


def category_colours(n: int, alpha: float = 1.0) -> np.ndarray:
    """``n`` RGBA float colours (n x 4, float32) for categories: Okabe-Ito for up to eight, then
    evenly spaced hues of a perceptual map so more categories stay distinct."""
    if n <= len(OKABE_ITO):
        cols = [QtGui.QColor(OKABE_ITO[i]).getRgbF() for i in range(n)]
    else:
        cmap = pg.colormap.get("turbo" if "turbo" in pg.colormap.listMaps() else SEQUENTIAL)
        cols = [tuple(c) for c in cmap.map(np.linspace(0.05, 0.95, n), mode="float")]
    out = np.array(cols, dtype=np.float32).reshape(n, 4)
    out[:, 3] = alpha
    return out


def category_pen(k: int, width: float = 2.0) -> QtGui.QPen:
    """A pen for series ``k``: the category colour, dashed from the ninth series on."""
    pen = pg.mkPen(category_colour(k), width=width)
    if k >= len(OKABE_ITO):
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
    pen.setCosmetic(True)
    return pen


def style_plot(
    plot,
    *,
    x: tuple[str, str | None] | str | None = None,
    y: tuple[str, str | None] | str | None = None,
    title: str | None = None,
    grid: bool = True,
    si_prefix: bool = True,
) -> pg.PlotItem:
    """Give ``plot`` (a PlotWidget or PlotItem) axis titles with units, a light grid and the theme's
    colours. ``x``/``y`` are ``(title, unit)`` or a title alone (unit ``None`` for a pure number);
    pyqtgraph puts the unit in brackets and scales it (ms, kHz); ``si_prefix=False`` keeps the unit
    as written (for units such as "stroke" or "km" that must not become "kstroke" or "Mm")."""
    theme = current()
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    if isinstance(plot, pg.PlotWidget):
        plot.setBackground(theme.background)
    for side, spec in (("bottom", x), ("left", y)):
        if spec is None:
            continue
        text, unit = (spec, None) if isinstance(spec, str) else spec
        axis = item.getAxis(side)
        axis.setLabel(text, units=unit, color=theme.foreground)
        axis.enableAutoSIPrefix(si_prefix)
        axis.setPen(pg.mkPen(theme.muted))
        axis.setTextPen(pg.mkPen(theme.foreground))
    if title:
        item.setTitle(title, color=theme.foreground, size="10pt")
    if grid:
        item.showGrid(x=True, y=True, alpha=0.25)
    return item


def legend_above(plot, columns: int = 6) -> pg.LegendItem:
    """A legend laid out in one row above the plot's data area (it never covers the data).

    Items added to the plot with a ``name`` appear in it as with ``addLegend``."""
    theme = current()
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    legend = pg.LegendItem(colCount=columns, labelTextColor=theme.foreground, verSpacing=-6, horSpacing=12)
    legend.setBrush(pg.mkBrush(None))
    legend.setPen(pg.mkPen(None))
    # the title row (0, 1) of the PlotItem's grid holds the legend instead of a title
    item.layout.removeItem(item.titleLabel)
    item.titleLabel.setVisible(False)
    item.layout.addItem(legend, 0, 1)
    item.layout.setRowFixedHeight(0, 22)
    legend.setParentItem(item)
    item.legend = legend  # PlotItem.addItem(name=...) adds named items to item.legend
    return legend


def colorbar(
    plot,
    image_item,
    label: str,
    unit: str | None = None,
    cmap: str = SEQUENTIAL,
    limits=None,
    si_prefix: bool = False,
):
    """A colour bar beside ``plot`` for ``image_item`` with a label (and unit) on its axis."""
    item = plot.getPlotItem() if hasattr(plot, "getPlotItem") else plot
    bar = pg.ColorBarItem(values=limits, colorMap=pg.colormap.get(cmap), interactive=False, width=14)
    bar.setImageItem(image_item, insert_in=item)
    bar.axis.setLabel(label, units=unit, color=current().foreground)
    bar.axis.enableAutoSIPrefix(si_prefix)
    return bar


def vispy_colours() -> dict[str, tuple[float, float, float, float]]:
    """Background, text and axis colours for vispy canvases (RGBA floats)."""
    theme = current()
    return {
        "background": theme.qcolor("background").getRgbF(),
        "text": theme.qcolor("foreground").getRgbF(),
        "axis": theme.qcolor("muted").getRgbF(),
        "grid": theme.qcolor("grid").getRgbF(),
    }


def round_sig(x: float, digits: int = 3) -> str:
    """``x`` with ``digits`` significant digits, no exponent for ordinary magnitudes."""
    if x is None or not np.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    mag = abs(x)
    if 1e-3 <= mag < 1e6:
        decimals = max(0, digits - 1 - int(np.floor(np.log10(mag))))
        return f"{x:,.{decimals}f}"
    return f"{x:.{digits - 1}e}"


class EmptyHint(QtWidgets.QLabel):
    """A sentence laid over ``view`` while it has nothing to show.

    ``EmptyHint(view, "Weights appear here once the network runs. Press Run (Space).")`` shows
    the text centred over the view; ``hint.set_empty(False)`` hides it when data arrives and
    ``hint.set_empty(True, text)`` brings it back (with a new text if given). It follows the
    view's size and lets mouse events through to the view."""

    def __init__(self, view: QtWidgets.QWidget, text: str):
        super().__init__(text, view)
        self.setObjectName("EmptyHint")
        self.setWordWrap(True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(QtCore.Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        theme = current()
        self.setStyleSheet(
            f"QLabel#EmptyHint {{ color: {theme.muted}; background: {theme.hint_background};"
            f" border: 1px solid {theme.grid}; border-radius: 6px; padding: 10px; font-size: 11pt; }}"
        )
        self._view = view
        view.installEventFilter(self)
        self._place()
        self.show()
        self.raise_()

    @property
    def empty(self) -> bool:
        return not self.isHidden()

    def set_empty(self, empty: bool, text: str | None = None) -> None:
        if text is not None:
            self.setText(text)
            self._place()
        self.setVisible(empty)
        if empty:
            self.raise_()

    def _place(self) -> None:
        r = self._view.rect()
        w = min(max(int(r.width() * 0.7), 160), 520, max(r.width() - 8, 40))
        self.setFixedWidth(w)
        h = self.heightForWidth(w) if self.hasHeightForWidth() else self.sizeHint().height()
        h = min(max(h, 24), max(r.height() - 8, 24))
        self.setFixedHeight(h)
        self.move(r.center().x() - w // 2, r.center().y() - h // 2)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self._view and event.type() in (QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.Show):
            self._place()
        return False
