"""The base class of every workbench panel.

A panel is a thin view over one engine. The main window gives it a
:class:`studio.runner.Runner` (``self.runner``) that owns the engine and its
worker thread; the panel never touches threads itself. The window's single
redraw timer calls :meth:`Panel.update_view` with the newest snapshot, only when
the panel is visible and the runner has news.

Panels are registered through the ``studio.panels`` entry-point group::

    [project.entry-points."studio.panels"]
    spiking = "studio.panels.spiking:SpikingPanel"
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from PySide6 import QtCore, QtGui, QtWidgets

from engines.base import Engine, Params, Progress

if TYPE_CHECKING:
    from studio.runner import Runner, RunnerState


class ErrorBanner(QtWidgets.QFrame):
    """A red strip at the top of a panel showing the last engine error."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("ErrorBanner")
        self.setStyleSheet(
            "#ErrorBanner { background: #7a1f1f; border-radius: 3px; }#ErrorBanner QLabel { color: white; }"
        )
        lay = QtWidgets.QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.label, 1)
        close = QtWidgets.QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        lay.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()


S = TypeVar("S")


class Panel(QtWidgets.QWidget, Generic[S]):
    """Base class of the workbench panels.

    Generic over the snapshot type it draws (``class RoutingPanel(Panel[RoutingSnapshot])``).
    Subclasses set ``name`` (registry key), ``title`` and ``engine_type``, build
    their widgets in ``__init__`` (inside ``self.body``), and implement
    :meth:`update_view`. Optional hooks: :meth:`panel_state` /
    :meth:`restore_panel_state` for what a workspace keeps beyond the engine,
    :meth:`on_job_progress` / :meth:`on_job_finished` for one-shot jobs,
    :meth:`on_attached` when the runner is ready.
    """

    name: ClassVar[str] = "panel"
    title: ClassVar[str] = "Panel"
    #: the engine class this panel views (subclasses set it)
    engine_type: ClassVar[type[Engine[Any, Any]]]
    #: steps per worker call; None lets the runner adapt (aim: a few ms a call)
    chunk: ClassVar[int | None] = None
    #: False for panels whose engine works only through one-shot jobs: then the
    #: toolbar's Run starts (or stops) the job through :meth:`run_or_pause` and Step is off
    steppable: ClassVar[bool] = True

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.runner: Runner | None = None  # set by attach()
        self.drawn_frames = 0
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.setSpacing(4)
        self.banner = ErrorBanner(self)
        outer.addWidget(self.banner)
        self.body = QtWidgets.QWidget(self)
        outer.addWidget(self.body, 1)

    # -- engine ----------------------------------------------------------
    def create_engine(self, params: Params | None = None, seed: int = 0) -> Engine:
        """Make this panel's engine (the runner then owns it)."""
        return self.engine_type(params, seed=seed)

    def make_runner(self, engine: Engine, name: str, *, show_errors: bool = True) -> Runner:
        """A further runner for this panel, owned by the main window (which stops it on close);
        its errors go to this panel's banner unless ``show_errors`` is False (the caller shows them)."""
        win = self.window()
        if not hasattr(win, "create_runner"):
            raise RuntimeError(f"{self.name}: a panel makes runners only inside the main window")
        return win.create_runner(engine, name, owner=self if show_errors else None)

    def release_runner(self, runner: Runner, timeout_s: float = 2.0) -> bool:
        """Stop a runner made by :meth:`make_runner` before the window closes."""
        win = self.window()
        if hasattr(win, "release_runner"):
            return win.release_runner(runner, timeout_s)
        return runner.shutdown(timeout_s)

    def attach(self, runner: Runner) -> None:
        self.runner = runner
        runner.error.connect(self._on_runner_error)
        runner.job_progress.connect(self.on_job_progress)
        runner.job_finished.connect(self.on_job_finished)
        runner.state_changed.connect(self._on_state_changed)
        self.on_attached()

    def on_attached(self) -> None:
        """Called once the runner exists (e.g. to fill the parameter form)."""

    def run_or_pause(self) -> None:
        """What the toolbar's Run/Pause (Space) does; job-driven panels override it."""
        if self.runner is not None:
            self.runner.toggle()

    def state_text(self, state: RunnerState) -> str:
        """What the status bar says of this panel's engine in ``state`` (default: the state's
        name); a panel whose words differ (a sweep is done, not paused) overrides it."""
        return str(state)

    def start_demo(self) -> None:
        """What ``studio --screenshot`` does to show real data: run the engine.

        Panels whose engine needs a job first (an analysis, a solve) override this.
        """
        if self.runner is not None:
            self.runner.start()

    # -- drawing ---------------------------------------------------------
    def update_view(self, snapshot: S) -> None:
        """Draw the newest snapshot (GUI thread). Keep it cheap."""

    def redraw(self, snapshot: S) -> None:
        self.update_view(snapshot)
        self.drawn_frames += 1

    # -- jobs ------------------------------------------------------------
    def on_job_progress(self, progress: Progress) -> None:
        """A one-shot job reported progress."""

    def on_job_finished(self, result: Any, completed: bool) -> None:
        """A one-shot job ended (``completed`` False when cancelled)."""

    # -- workspace -------------------------------------------------------
    def panel_state(self) -> dict[str, Any]:
        """View state kept in a workspace (JSON-able); engine state is separate."""
        return {}

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`panel_state` returned."""

    # -- errors ----------------------------------------------------------
    def show_error(self, text: str) -> None:
        self.banner.show_message(text)

    def clear_error(self) -> None:
        self.banner.hide()

    def _on_runner_error(self, message: str, _traceback: str) -> None:
        self.show_error(message)

    def _on_state_changed(self, state: str) -> None:
        if state in ("running", "job"):
            self.clear_error()

    # -- extras ----------------------------------------------------------
    def file_menu_entries(self) -> list[QtGui.QAction | QtWidgets.QMenu]:
        """Actions or submenus this panel adds to the window's File menu, above Quit (asked once)."""
        return []

    def shutdown(self) -> None:
        """The window is closing: stop what the panel owns (servers, extra runners), before the runners stop."""

    def extra_actions(self) -> list[QtGui.QAction]:
        """Panel-specific actions for the toolbar (after Run/Step/Reset)."""
        return []
