"""Collaborative painting: paint with strokes, let the model propose the rest, paint a reference.

A thin view over :class:`engines.painting.PaintingEngine`. Mouse drags on the
canvas become strokes of the chosen brush size, colour and opacity (the drag is
previewed while the button is down, then sent to the engine). The eraser removes
the strokes under it. Ctrl+Z / Ctrl+Shift+Z undo and redo *my* strokes only.
"Complete" asks the trained model for several proposals; each is drawn over the
canvas as ghost strokes as soon as it is ready (the others are still computed),
with thumbnails beside; accept (Enter, A) or reject (Esc, X) them, Tab or the
arrows go through them; an accepted proposal is one undoable edit. Each proposal is one
diffusion sample, or with "Best guess" the strokes fitted to the mean render of 8
samples (closer on average, softer); the first is fitted to the painting the render
network expects from what is painted ("First proposal: the expected painting"). "Paint reference…" fits strokes to an image,
appearing live. Files: open and save JSON, export PNG and SVG. When zoomed in, the
visible part of the canvas is rendered again at the screen's resolution on the
engine's worker (never an upscaled blur, never on the GUI thread).

Every edit goes to the engine's worker with ``runner.submit``: no mouse, keyboard
or button slot waits for the worker, so painting stays fluid while the engine is
busy; the result shows with the next snapshot, and a refusal in the error banner.

Multi-user sessions (Session menu in the toolbar, and the Session box): host a
room (a server inside the studio, bound to 127.0.0.1 unless chosen otherwise) or
join one; everyone's strokes appear live, the others' cursors are drawn with their
names and colours, the participant list and the connection state are always
visible, and undo only ever undoes my own edits. See
:mod:`studio.panels.painting.session`.

This module wires the areas of the folder, one widget class each.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from engines.painting import COMPLETE_MODES, PaintingEngine, PaintingSnapshot
from engines.painting.engine import DEFAULT_MODEL, DEFAULT_REFINER
from studio import theme
from studio.panels.base import Panel
from studio.panels.painting.brush import PALETTE, BrushBox
from studio.panels.painting.canvas import Canvas, Tool
from studio.panels.painting.canvas_bars import ProgressOverlay, ProposalBar
from studio.panels.painting.edit_bar import EditBar
from studio.panels.painting.file_actions import FileActions
from studio.panels.painting.files_box import FilesBox
from studio.panels.painting.layout import workbench_splitter
from studio.panels.painting.proposals import CompletionBox
from studio.panels.painting.replay import ReplayBar
from studio.panels.painting.session import SessionController
from studio.panels.painting.session_box import SessionActions, SessionBox
from studio.panels.painting.sharp_view import SharpView
from studio.panels.painting.stroke_table import StrokeTable
from studio.runner import RunnerState

_BUSY_TEXT = {"complete": "  — proposing…", "decompose": "  — painting the reference…"}


class PaintingPanel(FileActions, SessionActions, Panel[PaintingSnapshot]):
    name = "painting"
    title = "Collaborative painting"
    engine_type = PaintingEngine
    COLUMNS = StrokeTable.COLUMNS
    TABLE_ROWS = StrokeTable.ROWS

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._snap: PaintingSnapshot | None = None
        self._has_model = False
        self._job_kind = ""  # "demo", "complete" or "reference" while a job of this panel runs
        self.strokes_drawn = 0
        self.canvas = Canvas(self)
        self._build_side()
        self._build_session()
        self._build_layout()
        self.sharp = SharpView(
            self.canvas, lambda: self.runner, lambda: self._snap.image.shape[0] if self._snap else 512
        )
        self._connect_edits()
        self._connect_proposals()
        self._connect_files()
        self._connect_canvas()
        self._sync_brush(self.brush.size, self.brush.opacity)
        self.set_color(QtGui.QColor(PALETTE[2]))
        self._sync_buttons()

    # -- assembly ----------------------------------------------------------------
    def _build_layout(self) -> None:
        controls = (self.brush, self.edits, self.completion, self.files, self.replay)
        self.splitter = workbench_splitter(
            controls, self.canvas, self.proposal_bar, self.session_box, self.info, self.table
        )
        outer = QtWidgets.QHBoxLayout(self.body)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)

    def _build_side(self) -> None:
        self.brush = BrushBox()
        self.edits = EditBar()
        self.completion = CompletionBox()
        self.files = FilesBox()
        self.replay = ReplayBar()
        self.info = QtWidgets.QLabel("")
        self.info.setWordWrap(True)
        self.table = StrokeTable()
        self.proposal_bar = ProposalBar()
        self.overlay = ProgressOverlay(self.canvas)
        self.canvas_hint = theme.EmptyHint(
            self.canvas,
            "An empty canvas: drag with the left button to paint (wheel: zoom, right button: pan), "
            "or Paint reference… to have an image painted in strokes.",
        )
        self.table_hint = theme.EmptyHint(
            self.table, "The strokes of the painting are listed here, newest first."
        )
        # the widgets tests, scripts and workspaces reach by name
        b, c, f = self.brush, self.completion, self.files
        self.tool_box, self.size_slider, self.opacity_slider = b.tool_box, b.size_slider, b.opacity_slider
        self.color_button = b.color_button
        self.undo_button, self.redo_button = self.edits.undo_button, self.edits.redo_button
        self.clear_button, self.lock_box = self.edits.clear_button, self.edits.lock_box
        self.proposals_box, self.complete_button = c.proposals_box, c.complete_button
        self.best_guess_box, self.mode_box, self.p_box = c.best_guess_box, c.mode_box, c.p_box
        self.accept_button, self.reject_button = c.accept_button, c.reject_button
        self.reference_button, self.cancel_button, self.progress = (
            f.reference_button,
            f.cancel_button,
            f.progress,
        )
        self.play_button, self.timelapse_slider = self.replay.play_button, self.replay.slider

    def _build_session(self) -> None:
        self.session = SessionController(self)
        self.session_box = SessionBox(
            self.session,
            author=lambda: self._snap.author if self._snap is not None else "",
            strokes_open=lambda: self._snap.n_strokes if self._snap is not None else 0,
        )
        sb = self.session_box
        self.indicator, self.participants = sb.indicator, sb.participants
        self.address_edit, self.token_edit = sb.address_edit, sb.token_edit
        self.session_menu, self.session_action = sb.menu, sb.action
        self.act_host, self.act_join, self.act_leave = sb.act_host, sb.act_join, sb.act_leave
        self.act_invite = sb.act_invite
        # the others' cursors and drags in progress onto the canvas
        self.session.changed.connect(
            lambda: self.canvas.show_others(self.session.cursors(), self.session.drags())
        )

    def _connect_edits(self) -> None:
        self.brush.tool_changed.connect(lambda tool: setattr(self.canvas, "tool", Tool(tool)))
        self.brush.brush_changed.connect(self._sync_brush)
        self.brush.color_changed.connect(lambda c: setattr(self.canvas, "color", QtGui.QColor(c)))
        self.edits.undo_button.clicked.connect(self.undo)
        self.edits.redo_button.clicked.connect(self.redo)
        self.edits.clear_button.clicked.connect(lambda: self._edit(lambda e: e.clear()))
        self.edits.lock_box.toggled.connect(self._set_lock)
        self.replay.prefix_requested.connect(lambda k: self._edit(lambda e: e.set_timelapse(k)))
        self.table.edited.connect(self._cell_edited)
        ctx = QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.undo_shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Z"), self)
        self.redo_shortcut = QtGui.QShortcut(QtGui.QKeySequence("Ctrl+Shift+Z"), self)
        for sc, slot in ((self.undo_shortcut, self.undo), (self.redo_shortcut, self.redo)):
            sc.setContext(ctx)
            sc.activated.connect(slot)

    def _connect_proposals(self) -> None:
        c, bar, canvas = self.completion, self.proposal_bar, self.canvas
        c.complete_button.clicked.connect(self.complete)
        c.proposal_selected.connect(lambda k: self._edit(lambda e: e.select_proposal(k)))
        for accept, reject in ((c.accept_button.clicked, c.reject_button.clicked), (bar.accept, bar.reject)):
            accept.connect(self.accept_proposal)
            reject.connect(self.reject_proposals)
        canvas.accept_requested.connect(self.accept_proposal)
        canvas.reject_requested.connect(self.reject_proposals)
        canvas.cycle_requested.connect(self.cycle_proposal)
        bar.cycle.connect(self.cycle_proposal)

    def _connect_files(self) -> None:
        self.files.reference_chosen.connect(self.paint_reference)
        self.files.cancel_button.clicked.connect(self.cancel)
        self.files.open_chosen.connect(self.open_json)
        self.files.save_chosen.connect(self.save_json)
        self.files.png_chosen.connect(self.export_png)
        self.files.svg_chosen.connect(self.export_svg)

    def _connect_canvas(self) -> None:
        self.canvas.dragged.connect(self.paint_path)
        self.canvas.erased.connect(self.erase)
        self.canvas.undo_requested.connect(self.undo)
        self.canvas.redo_requested.connect(self.redo)
        self.canvas.hovered.connect(self.session.set_cursor)
        self.canvas.drag_progress.connect(
            lambda pts: self.session.set_drag(pts, self.canvas.color.name(), self.canvas.brush_size)
        )

    # -- engine ----------------------------------------------------------------------
    def on_attached(self) -> None:
        self._has_model = DEFAULT_MODEL.exists()  # until the first snapshot says
        self.completion.set_has_refiner(DEFAULT_REFINER.exists())
        self._sync_buttons()
        self.runner.refresh()

    def start_demo(self) -> None:
        """The screenshot's painting: the astronaut of scikit-image as 180 decomposed strokes."""
        from engines.painting.io import demo_job

        self._start_job("demo", demo_job)
        self.overlay.show_progress(None, "Painting the demo: starting")
        self.canvas_hint.set_empty(False)

    def _edit(
        self,
        fn: Callable[[PaintingEngine], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> concurrent.futures.Future | None:
        """Run ``fn(engine)`` on the worker, then publish; a refusal goes to the banner. Never waits."""

        def refused(exc: BaseException) -> None:
            known = isinstance(exc, (ValueError, OSError))
            self.show_error(str(exc) if known else f"{type(exc).__name__}: {exc}")
            if failed is not None:
                failed(exc)

        if self.runner is None:
            return None
        fut = self.runner.submit(fn, done, refused, context=self)
        self.runner.refresh()
        return fut

    # -- actions -----------------------------------------------------------------------
    def set_color(self, color: QtGui.QColor) -> None:
        self.brush.set_color(color)

    def _sync_brush(self, size: float, opacity: float) -> None:
        self.canvas.brush_size = size
        self.canvas.opacity = opacity

    def paint_path(self, points) -> None:
        """A finished drag: send it to the engine as strokes."""
        c = self.canvas.color
        color = (c.redF(), c.greenF(), c.blueF())
        size, opacity = self.canvas.brush_size, self.canvas.opacity
        self._edit(lambda e: e.add_drag(points, size, color, opacity))

    def erase(self, x: float, y: float) -> None:
        r = max(self.canvas.brush_size, 0.01)
        self._edit(lambda e: e.erase_at(x, y, r))

    def undo(self) -> None:
        self._edit(lambda e: e.undo())

    def redo(self) -> None:
        self._edit(lambda e: e.redo())

    def _set_lock(self, on: bool) -> None:
        self._edit(lambda e: e.set_lock(on))
        self.session.set_locked(on)

    def _cell_edited(self, sid: str, field: str, text: str) -> None:
        try:
            value = float(text)
        except ValueError:
            self.show_error(f"stroke {sid}: {field} = {text!r} is not a number")
            self._show_stored_values()
            return
        self._edit(
            lambda e: e.edit_stroke(sid, **{field: value}), failed=lambda _e: self._show_stored_values()
        )

    def _show_stored_values(self) -> None:
        self.table.invalidate()
        self.runner.refresh()

    def show_prefix(self, k: int | None) -> None:
        """Show only the first ``k`` strokes (None: the whole painting)."""
        self.replay.request(k)

    def complete(self) -> bool:
        if not self._has_model:
            self.show_error("No trained completion model: assets/painting/model.zip is missing.")
            return False
        n, k, mode, p = self.completion.request()
        region = self.canvas.region
        # (queued before the job: the worker applies them in order)
        fit = self.completion.expected_fit()
        self._edit(lambda e: e.set_params(e.params.replace(proposals=n, samples=k, expected_fit=fit)))
        self.canvas.setFocus()  # the keys that accept, reject and go through the proposals
        return self._start_job("complete", lambda e: e.complete_job(region, mode=mode, p=p))

    def accept_proposal(self) -> None:
        """Add the proposal on show to the painting (one undoable edit); stops a Complete still running."""
        self._stop_completing()
        self._edit(lambda e: e.accept_proposal())

    def reject_proposals(self) -> None:
        self._stop_completing()
        self._edit(lambda e: e.reject_proposals())

    def cycle_proposal(self, step: int) -> None:
        """Show the next (``step`` 1) or previous (-1) proposal."""
        s = self._snap
        if s is not None and s.proposals:
            k = (s.selected + step) % len(s.proposals)
            self._edit(lambda e: e.select_proposal(k) if k < len(e.proposals) else None)

    def _stop_completing(self) -> None:
        if self._job_kind == "complete" and self.runner is not None and self.runner.state == RunnerState.JOB:
            self.runner.cancel_job()  # (the proposals ready so far stay)

    def _start_job(self, kind: str, factory: Callable[[PaintingEngine], Any]) -> bool:
        if self.runner is None or not self.runner.run_job(factory):
            return False
        self._job_kind = kind
        return True

    # -- jobs --------------------------------------------------------------------------
    def on_job_progress(self, progress) -> None:
        if self._job_kind in ("demo", "complete"):  # over the canvas, where the result will appear
            prefix = "Complete: " if self._job_kind == "complete" else ""
            self.overlay.show_progress(progress.fraction, prefix + progress.message)
        else:
            self.files.show_progress(progress.fraction, progress.message)
        self._sync_buttons(job=True)

    def on_job_finished(self, result: Any, completed: bool) -> None:
        self._job_kind = ""
        self.progress.hide()
        self.overlay.hide()
        self._sync_buttons(job=False)
        self.runner.refresh()

    # -- drawing ---------------------------------------------------------------------------
    @property
    def _thumb_buttons(self) -> list[QtWidgets.QToolButton]:
        return self.completion.thumb_buttons

    @property
    def view_renders(self) -> int:
        return self.sharp.renders

    def _sync_buttons(self, job: bool | None = None) -> None:
        busy = (
            job if job is not None else bool(self.runner is not None and self.runner.state == RunnerState.JOB)
        )
        s = self._snap
        self.edits.set_state(bool(s and s.can_undo) and not busy, bool(s and s.can_redo) and not busy)
        proposing = busy and self._job_kind == "complete"  # (the proposals ready so far can be taken)
        self.completion.set_state(self._has_model, bool(s and s.proposals), busy, proposing)
        self.files.set_busy(busy)

    def update_view(self, snapshot: Any) -> None:
        if not isinstance(snapshot, PaintingSnapshot):
            return
        self._snap = snapshot
        self._has_model = snapshot.has_model
        self.canvas.set_image(snapshot.image)
        if self.canvas.zoom > 1.001:
            self.sharp.soon()
        shown = snapshot.proposals[snapshot.selected] if snapshot.proposals else None
        self.canvas.set_ghosts(shown)
        self.proposal_bar.show_proposals(
            len(snapshot.proposals),
            snapshot.selected,
            0 if shown is None else len(shown),
            snapshot.busy == "complete",
        )
        empty = snapshot.n_strokes == 0
        self.canvas_hint.set_empty(empty and not self._job_kind and shown is None)
        self.table_hint.set_empty(empty)
        self.completion.show_snapshot(snapshot)
        self.strokes_drawn = snapshot.n_strokes
        self.table.show_snapshot(snapshot)
        self.replay.set_count(snapshot.n_strokes)
        props = f", {len(snapshot.proposals)} proposals" if snapshot.proposals else ""
        if self.canvas.region is not None:
            props += ", completing inside the region"
        busy = _BUSY_TEXT.get(snapshot.busy, "")
        self.info.setText(f"{snapshot.n_strokes} strokes ({snapshot.n_mine} mine){props}{busy}")
        self._sync_buttons()

    # -- workspace -----------------------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        return {
            "size": self.size_slider.value(),
            "opacity": self.opacity_slider.value(),
            "color": self.canvas.color.name(),
            "complete_mode": self.mode_box.currentText(),
            "complete_p": float(self.p_box.value()),
        }

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        if "size" in state:
            self.size_slider.setValue(int(state["size"]))
        if "opacity" in state:
            self.opacity_slider.setValue(int(state["opacity"]))
        if "color" in state:
            self.set_color(QtGui.QColor(str(state["color"])))
        if state.get("complete_mode") in COMPLETE_MODES:
            self.mode_box.setCurrentText(str(state["complete_mode"]))
        if isinstance(state.get("complete_p"), (int, float)):
            self.p_box.setValue(float(state["complete_p"]))
