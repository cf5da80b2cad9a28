"""The Neural Studio main window: panels in tabs, engine toolbar, status bar, log dock,
menus, workspaces and persistent settings."""

from __future__ import annotations

import html
import os
import time
from pathlib import Path
from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets

from engines.base import Params
from engines.serialize import FormatError
from studio import theme
from studio import workspace as wsmod
from studio.config import APP_NAME, MAX_RECENT, __version__, settings_path, versions
from studio.panels.base import Panel
from studio.registry import discover_panels
from studio.runner import ERROR, IDLE, JOB, RUNNING, MainThreadGC, Runner

#: closing the window waits at most this long for the workers, whatever job runs (seconds)
CLOSE_BUDGET_S = 1.5

#: where the built-in workbenches stand among the tabs; others follow by name
PANEL_ORDER = ("spiking", "geometry", "routing", "painting", "sweeps")


def panel_order(name: str, cls: type) -> tuple[int, str]:
    order = getattr(cls, "order", None)
    if order is None:
        order = PANEL_ORDER.index(name) if name in PANEL_ORDER else len(PANEL_ORDER)
    return (int(order), name)


#: the smallest window the studio allows: well inside a 1280x720 laptop screen with the desktop's
#: own bars (a panel larger than its share scrolls instead of growing the window)
MIN_WINDOW = (800, 540)


class _Fill(QtWidgets.QWidget):
    """The page inside a :class:`PanelHolder`: it holds the panel and says it has no
    height-for-width, so a word-wrapped label anywhere in a panel cannot make the scroll area
    size the panel by its preferred height (taller than the view) instead of its minimum."""

    def __init__(self, panel: QtWidgets.QWidget):
        super().__init__()
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(panel)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return False


class PanelHolder(QtWidgets.QScrollArea):
    """The tab page of one panel: the panel fills it, and scrolls only when the window is smaller
    than the panel's minimum size, so no panel can force the window past :data:`MIN_WINDOW`."""

    def __init__(self, panel: QtWidgets.QWidget):
        super().__init__()
        self.setObjectName(f"holder_{panel.objectName()}")
        self.setWidgetResizable(True)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setWidget(_Fill(panel))
        self.panel = panel

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt API
        return QtCore.QSize(160, 120)


class LogDock(QtWidgets.QDockWidget):
    def __init__(self, parent=None):
        super().__init__("Log", parent)
        self.setObjectName("LogDock")
        self.view = QtWidgets.QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(5000)
        self.view.setObjectName("LogView")
        # two lines at least; the dock can be dragged taller or closed (View > Log)
        self.view.setMinimumHeight(self.view.fontMetrics().lineSpacing() * 2 + 8)
        self.setWidget(self.view)
        self.lines: list[tuple[str, str]] = []

    def add(self, level: str, text: str) -> None:
        self.lines.append((level, text))
        if len(self.lines) > 5000:
            del self.lines[:-5000]
        stamp = time.strftime("%H:%M:%S")
        t = theme.current()
        colour = {"error": t.error, "warning": t.warning}.get(level, "")
        body = html.escape(text).replace("\n", "<br>")
        if colour:
            body = f'<span style="color:{colour}">{body}</span>'
        self.view.appendHtml(f"<tt>{stamp}</tt> [{level}] {body}")


class MainWindow(QtWidgets.QMainWindow):
    """The studio's main window."""

    #: a workspace save or open started from the window's menus has ended: (path, it worked)
    workspace_saved = QtCore.Signal(str, bool)
    workspace_opened = QtCore.Signal(str, bool)

    def __init__(
        self,
        panel_classes: dict[str, type] | None = None,
        settings_file: str | os.PathLike | None = None,
        restore_settings: bool = True,
    ):
        super().__init__()
        theme.apply()  # pyqtgraph's colours follow the system palette (before any panel builds a plot)
        self.setWindowTitle(APP_NAME)
        self.setObjectName("MainWindow")
        self.settings = QtCore.QSettings(
            str(settings_file or settings_path()), QtCore.QSettings.Format.IniFormat
        )
        problems: list[str] = []
        if panel_classes is None:
            panel_classes, problems = discover_panels()
        self.panel_classes = dict(sorted(panel_classes.items(), key=lambda kv: panel_order(kv[0], kv[1])))
        self.panels: dict[str, Any] = {}
        self.runners: dict[str, Runner] = {}
        self._extra_runners: list[Runner] = []
        self._gc = MainThreadGC(self)  # garbage is collected on this thread only (see MainThreadGC)
        self.workspace_path: Path | None = None
        self._foreign: dict[str, wsmod.PanelEntry] = {}
        self._frames = 0
        self._fps_t0 = time.perf_counter()
        self.fps = 0.0
        self._closing = False
        self.workspace_problems: list[str] = []  # what the last open_workspace could not read
        #: start a panel's demo when it is first shown (the ``studio`` command turns this on; see
        #: :meth:`enable_demos`); panels restored from a workspace keep what they were given
        self.demos_on_first_show = False
        self._demo_done: set[str] = set()
        self._job_outcome: dict[str, str] = {}  # how each panel's last job ended, until it runs again

        self.log_dock = LogDock(self)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)

        self.tabs = QtWidgets.QTabWidget()
        self.tabs.setObjectName("PanelTabs")
        self.tabs.setDocumentMode(True)
        self.setCentralWidget(self.tabs)
        for name, cls in self.panel_classes.items():
            try:
                panel = cls(self)
            except Exception as e:
                problems.append(f"panel {name!r} failed to open: {type(e).__name__}: {e}")
                continue
            panel.setObjectName(f"panel_{name}")
            self.panels[name] = panel
            self.tabs.addTab(PanelHolder(panel), getattr(cls, "title", name))
        if not self.panels:
            empty = QtWidgets.QLabel(
                "No workbench panels are installed.\n"
                "Panels register through the 'studio.panels' entry-point group."
            )
            empty.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.tabs.addTab(empty, "Neural Studio")

        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_statusbar()
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.redraw_timer = QtCore.QTimer(self)
        self.redraw_timer.setInterval(16)
        self.redraw_timer.timeout.connect(self._redraw)
        self.redraw_timer.start()
        self.status_timer = QtCore.QTimer(self)
        self.status_timer.setInterval(250)
        self.status_timer.timeout.connect(self._update_status)
        self.status_timer.start()

        for p in problems:
            self.log("error", p)
        self.setMinimumSize(*MIN_WINDOW)
        self.resize(1400, 900)
        self.resizeDocks([self.log_dock], [110], QtCore.Qt.Orientation.Vertical)
        if restore_settings:
            self._restore_settings()
        self._on_tab_changed(self.tabs.currentIndex())
        self.log("info", f"{APP_NAME} {__version__} ready with {len(self.panels)} panel(s)")

    # -- helpers ------------------------------------------------------
    def log(self, level: str, text: str) -> None:
        self.log_dock.add(level, text)

    def current_name(self) -> str | None:
        w = self.tabs.currentWidget()
        for name, p in self.panels.items():
            if p is w or (isinstance(w, PanelHolder) and w.panel is p):
                return name
        return None

    def holder(self, name: str) -> QtWidgets.QWidget:
        """The tab page that holds panel ``name`` (a :class:`PanelHolder`)."""
        panel = self.panels[name]
        for i in range(self.tabs.count()):
            w = self.tabs.widget(i)
            if isinstance(w, PanelHolder) and w.panel is panel:
                return w
        raise KeyError(name)

    def current_panel(self):
        name = self.current_name()
        return self.panels.get(name) if name else None

    def runner_for(self, name: str) -> Runner:
        """The runner of a panel, creating its engine on first use."""
        if name not in self.runners:
            panel = self.panels[name]
            engine = panel.create_engine()
            runner = Runner(engine, name=name, chunk=getattr(panel, "chunk", None), parent=self)
            runner.message.connect(self.log)
            runner.error.connect(lambda msg, tb, n=name: self._on_error(n, msg, tb))
            runner.state_changed.connect(lambda _s: self._sync_actions())
            runner.job_progress.connect(lambda p, n=name: self._on_job_progress(n, p))
            runner.job_finished.connect(lambda res, ok, n=name: self._on_job_finished(n, ok))
            self.runners[name] = runner
            panel.attach(runner)
        return self.runners[name]

    def create_runner(self, engine, name: str, *, owner=None, chunk: int | None = None) -> Runner:
        """A further runner for a panel (a session, say): the window owns it, logs its messages and
        stops it on close. ``owner`` (a panel) sees its errors in its banner. Stop it early with
        :meth:`release_runner`."""
        runner = Runner(engine, name=name, chunk=chunk, parent=self)
        runner.message.connect(self.log)
        if owner is not None:
            runner.error.connect(lambda msg, _tb, p=owner: p.show_error(msg))
        self._extra_runners.append(runner)
        return runner

    def release_runner(self, runner: Runner, timeout_s: float = 2.0) -> bool:
        """Stop and forget a runner made by :meth:`create_runner`; True when its worker has ended."""
        ok = runner.shutdown(timeout_s)
        if runner in self._extra_runners:
            self._extra_runners.remove(runner)
        return ok

    def all_runners(self) -> list[Runner]:
        """Every runner the window owns: one per panel, then the extra ones."""
        return [*self.runners.values(), *self._extra_runners]

    def show_panel(self, name: str) -> None:
        self.tabs.setCurrentWidget(self.holder(name))

    def _warn(self, title: str, text: str) -> QtWidgets.QMessageBox:
        """A non-blocking warning box (window-modal)."""
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, text, parent=self)
        box.setObjectName("WarningBox")
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.log("warning", f"{title}: {text}")
        return box

    # -- building -----------------------------------------------------
    def _build_actions(self) -> None:
        A = QtGui.QAction
        S = QtGui.QKeySequence
        style = self.style()
        sp = QtWidgets.QStyle.StandardPixmap
        self.act_run = A(style.standardIcon(sp.SP_MediaPlay), "&Run", self)
        self.act_run.setObjectName("act_run")
        self.act_run.setShortcut(S(QtCore.Qt.Key.Key_Space))
        self.act_run.setToolTip("Run / pause the current engine (Space)")
        self.act_run.triggered.connect(self.toggle_run)
        self.act_step = A(style.standardIcon(sp.SP_MediaSkipForward), "&Step", self)
        self.act_step.setObjectName("act_step")
        self.act_step.setShortcut(S("Ctrl+Right"))
        self.act_step.setToolTip("Advance the current engine by one chunk (Ctrl+Right)")
        self.act_step.triggered.connect(self.step_once)
        self.act_reset = A(style.standardIcon(sp.SP_BrowserReload), "R&eset", self)
        self.act_reset.setObjectName("act_reset")
        self.act_reset.setShortcut(S("Ctrl+R"))
        self.act_reset.setToolTip("Reset the current engine (Ctrl+R)")
        self.act_reset.triggered.connect(self.reset_current)
        self.act_open = A("&Open workspace…", self)
        self.act_open.setShortcut(S.StandardKey.Open)
        self.act_open.triggered.connect(self.open_workspace_dialog)
        self.act_save = A("&Save workspace", self)
        self.act_save.setShortcut(S.StandardKey.Save)
        self.act_save.triggered.connect(self.save_workspace_action)
        self.act_save_as = A("Save workspace &as…", self)
        self.act_save_as.setShortcut(S("Ctrl+Shift+S"))
        self.act_save_as.triggered.connect(self.save_workspace_dialog)
        self.act_quit = A("&Quit", self)
        self.act_quit.setShortcut(S("Ctrl+Q"))
        self.act_quit.triggered.connect(self.close)
        self.act_about = A("&About Neural Studio", self)
        self.act_about.triggered.connect(self.show_about)
        for a in (self.act_run, self.act_step, self.act_reset, self.act_quit):
            a.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
            self.addAction(a)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.file_menu = mb.addMenu("&File")
        self.file_menu.addAction(self.act_open)
        self.recent_menu = self.file_menu.addMenu("Open &recent")
        self.recent_menu.setObjectName("RecentMenu")
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_save)
        self.file_menu.addAction(self.act_save_as)
        entries = [e for panel in self.panels.values() for e in panel.file_menu_entries()]
        if entries:
            self.file_menu.addSeparator()
        for e in entries:
            if isinstance(e, QtWidgets.QMenu):
                self.file_menu.addMenu(e)
            else:
                self.file_menu.addAction(e)
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.act_quit)
        self.engine_menu = mb.addMenu("&Engine")
        for a in (self.act_run, self.act_step, self.act_reset):
            self.engine_menu.addAction(a)
        self.view_menu = mb.addMenu("&View")
        self.view_menu.addAction(self.log_dock.toggleViewAction())
        self.act_demos = QtGui.QAction("Run each workbench's &demo when it first opens", self)
        self.act_demos.setObjectName("act_demos")
        self.act_demos.setCheckable(True)
        self.act_demos.setToolTip(
            "At launch every workbench shows its model at work: a spiking network runs, a city is routed, "
            "a sweep fills its heat map. Untick to open them idle."
        )
        self.act_demos.toggled.connect(lambda on: self.settings.setValue("view/demos", bool(on)))
        self.view_menu.addAction(self.act_demos)
        self.panels_menu = self.view_menu.addMenu("&Panels")
        for i, name in enumerate(self.panels):
            act = self.panels_menu.addAction(self.panels[name].title)
            if i < 9:
                act.setShortcut(QtGui.QKeySequence(f"Ctrl+{i + 1}"))
                self.addAction(act)  # shortcuts work with the menu closed
            act.triggered.connect(lambda _c=False, n=name: self.show_panel(n))
        help_menu = mb.addMenu("&Help")
        help_menu.addAction(self.act_about)
        self._refresh_recent_menu()

    def _build_toolbar(self) -> None:
        self.toolbar = QtWidgets.QToolBar("Engine")
        self.toolbar.setObjectName("EngineToolbar")
        self.toolbar.setToolButtonStyle(QtCore.Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(self.toolbar)
        self.toolbar.addAction(self.act_run)
        self.toolbar.addAction(self.act_step)
        self.toolbar.addAction(self.act_reset)
        self._panel_sep = self.toolbar.addSeparator()
        self._panel_actions: list[QtGui.QAction] = []
        self.view_menu.insertAction(self.panels_menu.menuAction(), self.toolbar.toggleViewAction())

    def _build_statusbar(self) -> None:
        sb = self.statusBar()
        self.lbl_state = QtWidgets.QLabel("—")
        self.lbl_state.setObjectName("StatusState")
        self.lbl_rate = QtWidgets.QLabel("")
        self.lbl_rate.setObjectName("StatusRate")
        self.lbl_fps = QtWidgets.QLabel("")
        self.lbl_fps.setObjectName("StatusFps")
        self.job_bar = QtWidgets.QProgressBar()
        self.job_bar.setObjectName("JobProgress")
        self.job_bar.setMinimumWidth(240)
        self.job_bar.setMaximumWidth(340)
        self.job_bar.setTextVisible(True)
        self.job_bar.hide()
        self.job_cancel = QtWidgets.QToolButton()
        self.job_cancel.setObjectName("JobCancel")
        self.job_cancel.setText("Cancel")
        self.job_cancel.setToolTip("Stop the running job (Esc)")
        self.job_cancel.clicked.connect(self.cancel_job)
        self.job_cancel.hide()
        sb.addPermanentWidget(self.job_bar)
        sb.addPermanentWidget(self.job_cancel)
        for w in (self.lbl_state, self.lbl_rate, self.lbl_fps):
            w.setMinimumWidth(120)
            sb.addPermanentWidget(w)
        self.act_cancel = QtGui.QAction("Cancel job", self)
        self.act_cancel.setShortcut(QtGui.QKeySequence(QtCore.Qt.Key.Key_Escape))
        self.act_cancel.triggered.connect(self.cancel_job)
        self.addAction(self.act_cancel)

    # -- engine control -----------------------------------------------
    def toggle_run(self) -> None:
        name = self.current_name()
        if name is None:
            return
        self.runner_for(name)
        self.panels[name].run_or_pause()

    def step_once(self) -> None:
        name = self.current_name()
        if name is not None:
            self.runner_for(name).step_once()

    def reset_current(self) -> None:
        name = self.current_name()
        if name is None:
            return
        panel = self.panels[name]
        panel.clear_error()
        self.runner_for(name).reset()

    def cancel_job(self) -> None:
        name = self.current_name()
        r = self.runners.get(name) if name else None
        if r is not None and r.state == JOB:
            r.cancel_job()

    def _on_job_progress(self, name: str, prog) -> None:
        if name != self.current_name():
            return
        frac = prog.fraction
        if frac is None:
            self.job_bar.setRange(0, 0)  # busy indicator
        else:
            self.job_bar.setRange(0, 1000)
            self.job_bar.setValue(int(frac * 1000))
        label = prog.message or (f"{frac:.0%}" if frac is not None else "working")
        # one line, cut with an ellipsis where it is wider than the bar (the tooltip has it whole)
        room = max(self.job_bar.width(), self.job_bar.minimumWidth()) - 12
        self.job_bar.setFormat(
            self.job_bar.fontMetrics().elidedText(label, QtCore.Qt.TextElideMode.ElideRight, room)
        )
        self.job_bar.setToolTip(prog.message)
        self.job_bar.show()
        self.job_cancel.show()

    def _on_job_finished(self, name: str, completed: bool) -> None:
        self.job_bar.hide()
        self.job_cancel.hide()
        # the state label says it until the engine runs again: one true thing, not "paused" beside it
        self._job_outcome[name] = "job done" if completed else "job stopped"

    def _on_error(self, name: str, message: str, tb: str) -> None:
        panel = self.panels.get(name)
        if panel is not None:
            panel.show_error(f"{message}  (details in the log; Reset to run again)" if tb else message)
        self._sync_actions()

    def _sync_actions(self) -> None:
        name = self.current_name()
        runner = self.runners.get(name) if name else None
        state = runner.state if runner else "paused"
        running = state == RUNNING
        sp = QtWidgets.QStyle.StandardPixmap
        self.act_run.setText("&Pause" if running else "&Run")
        self.act_run.setIcon(self.style().standardIcon(sp.SP_MediaPause if running else sp.SP_MediaPlay))
        has = name is not None
        steppable = has and getattr(self.panels[name], "steppable", True)
        if has and not steppable:  # Run starts the panel's job, and stops it
            in_job = state == JOB
            self.act_run.setText("S&top" if in_job else "&Run")
            self.act_run.setIcon(self.style().standardIcon(sp.SP_MediaStop if in_job else sp.SP_MediaPlay))
            self.act_run.setEnabled(state != ERROR)
        else:
            self.act_run.setEnabled(has and state not in (ERROR, JOB))
        self.act_step.setEnabled(steppable and state not in (ERROR, JOB))
        self.act_reset.setEnabled(has)

    def _on_tab_changed(self, _index: int) -> None:
        name = self.current_name()
        for n, r in self.runners.items():
            r.visible = n == name
        for a in self._panel_actions:
            self.toolbar.removeAction(a)
        self._panel_actions = []
        if name is not None:
            self.runner_for(name)
            self._maybe_start_demo(name)
            self._panel_actions = list(self.panels[name].extra_actions())
            for a in self._panel_actions:
                self.toolbar.addAction(a)
        r = self.runners.get(name) if name else None
        if r is None or r.state != JOB:
            self.job_bar.hide()
            self.job_cancel.hide()
        self._sync_actions()

    def enable_demos(self) -> None:
        """Start each panel's demo when it is first shown, unless the user turned that off
        (View menu; remembered); the panel in front starts now."""
        on = str(self.settings.value("view/demos", True)).lower() not in ("false", "0")
        self.act_demos.setChecked(on)
        self.demos_on_first_show = on
        name = self.current_name()
        if name is not None:
            self._maybe_start_demo(name)

    def _maybe_start_demo(self, name: str) -> None:
        if not self.demos_on_first_show or name in self._demo_done:
            return
        self._demo_done.add(name)
        panel = self.panels[name]
        # after the window has drawn once, so the demo is seen starting
        QtCore.QTimer.singleShot(50, panel, panel.start_demo)

    # -- drawing --------------------------------------------------------
    def _redraw(self) -> None:
        name = self.current_name()
        if name is None or name not in self.runners:
            return
        snap = self.runners[name].take_news()
        if snap is None:
            return
        try:
            self.panels[name].redraw(snap)
        except Exception as e:  # a drawing bug must not kill the app
            import traceback

            tb = traceback.format_exc()
            self.log("error", f"{name}: drawing failed: {type(e).__name__}: {e}\n{tb}")
            self.panels[name].show_error(f"Drawing failed: {type(e).__name__}: {e}")
        self._frames += 1

    def _update_status(self) -> None:
        now = time.perf_counter()
        dt = now - self._fps_t0
        if dt >= 1.0:
            self.fps = self._frames / dt
            self._frames = 0
            self._fps_t0 = now
        name = self.current_name()
        r = self.runners.get(name) if name else None
        if r is None:
            self.lbl_state.setText("no engine")
            return
        if r.state in (RUNNING, JOB):
            self._job_outcome.pop(name, None)
        panel = self.panels[name]
        outcome = self._job_outcome.get(name)
        own_words = type(panel).state_text is not Panel.state_text  # the panel says it itself
        text = outcome if outcome and r.state == IDLE and not own_words else panel.state_text(r.state)
        self.lbl_state.setText(f"{name}: {text}")
        unit = getattr(self.panels[name].engine_type, "step_unit", "steps")
        self.lbl_rate.setText(f"{r.steps_per_s:,.0f} {unit}/s" if r.state == RUNNING else "")
        self.lbl_fps.setText(f"{self.fps:.0f} fps" if r.state in (RUNNING, JOB) else "")

    # -- workspaces ---------------------------------------------------
    @staticmethod
    def _engine_entry(engine) -> tuple[dict, dict, str]:
        """(state, params, engine class) of an engine: runs on its worker."""
        cls = type(engine)
        return engine.state_dict(), engine.params.to_dict(), f"{cls.__module__}:{cls.__qualname__}"

    def _workspace_from(self, entries: dict[str, tuple[dict, dict, str]]) -> wsmod.Workspace:
        ws = wsmod.Workspace(current_panel=self.current_name())
        for name, (state, params, engine) in entries.items():
            ws.panels[name] = wsmod.PanelEntry(
                name=name,
                engine=engine,
                params=params,
                panel_state=self.panels[name].panel_state(),
                state=state,
            )
        ws.panels.update(self._foreign)
        return ws

    def collect_workspace(self) -> wsmod.Workspace:
        """Every panel's engine and view state, waiting for each worker (scripts and tests; the
        window's own Save goes through :meth:`save_workspace_async`)."""
        return self._workspace_from(
            {name: self.runner_for(name).call(self._engine_entry, timeout_s=60) for name in self.panels}
        )

    def save_workspace(self, path: str | os.PathLike) -> bool:
        """Save now and say whether it worked (waits for the workers: for scripts and tests)."""
        path = Path(path)
        try:
            ws = self.collect_workspace()
        except Exception as e:
            self._save_failed(path, e)
            return False
        return self._write_workspace(path, ws)

    def save_workspace_async(self, path: str | os.PathLike) -> None:
        """Save without waiting: each worker hands its engine's state over between steps, and the
        file is written once all have; ``workspace_saved(path, ok)`` says how it went."""
        path = Path(path)
        names = list(self.panels)
        entries: dict[str, tuple[dict, dict, str]] = {}
        failed: list[str] = []

        def settle() -> None:
            if len(entries) + len(failed) < len(names):
                return
            if failed:
                self._save_failed(path, RuntimeError("; ".join(failed)))
                self.workspace_saved.emit(str(path), False)
                return
            ok = self._write_workspace(path, self._workspace_from({n: entries[n] for n in names}))
            self.workspace_saved.emit(str(path), ok)

        def got(name: str, entry) -> None:
            entries[name] = entry
            settle()

        def lost(name: str, exc: BaseException) -> None:
            failed.append(f"{name}: {type(exc).__name__}: {exc}")
            settle()

        self.statusBar().showMessage(f"Saving {path}…")
        for name in names:
            self.runner_for(name).submit(
                self._engine_entry,
                done=lambda e, n=name: got(n, e),
                failed=lambda x, n=name: lost(n, x),
                context=self,
            )

    def _save_failed(self, path: Path, e: BaseException) -> None:
        self._warn("Save failed", f"Could not save the workspace to {path}:\n{type(e).__name__}: {e}")

    def _write_workspace(self, path: Path, ws: wsmod.Workspace) -> bool:
        try:
            wsmod.save(path, ws, app_version=__version__)
        except Exception as e:
            self._save_failed(path, e)
            return False
        self.workspace_path = path
        self._add_recent(path)
        self.setWindowTitle(f"{APP_NAME} — {path.name}")
        self.statusBar().showMessage(f"Saved {path}", 4000)
        self.log("info", f"workspace saved to {path}")
        return True

    def _read_workspace(self, path: Path) -> wsmod.Workspace | None:
        """The workspace file read and checked (on this thread: no engine involved), or None (said)."""
        self.workspace_problems = []
        try:
            return wsmod.load(path, known_panels=set(self.panels))
        except FormatError as e:
            self.workspace_problems = [str(e)]
            self._warn("Cannot open workspace", str(e))
            return None
        except (OSError, ValueError, EOFError, RecursionError, MemoryError) as e:  # a loader's own error
            text = f"{path}: not a readable workspace ({type(e).__name__}: {e})"
            if isinstance(e, OSError) and e.filename:
                from engines.files import describe_os_error

                text = describe_os_error(e)
            self.workspace_problems = [text]
            self._warn("Cannot open workspace", text)
            return None

    def _entry_params(self, name: str, entry: wsmod.PanelEntry) -> Params:
        ptype: type[Params] = self.panels[name].engine_type.params_type
        return ptype.from_dict(entry.params, strict=False)

    @staticmethod
    def _apply_entry(params: Params, entry: wsmod.PanelEntry):
        def apply(engine) -> None:  # on the worker
            engine.set_params(params)
            if entry.state is not None:
                engine.load_state_dict(entry.state)

        return apply

    def _panel_restored(self, name: str, entry: wsmod.PanelEntry, params: Params) -> None:
        self._demo_done.add(name)  # a restored panel shows the workspace, not the demo
        panel = self.panels[name]
        self.runners[name].refresh()
        if hasattr(panel, "on_params_restored"):
            panel.on_params_restored(params)
        panel.restore_panel_state(entry.panel_state)
        panel.clear_error()

    def _opened(self, path: Path, ws: wsmod.Workspace, problems: list[str]) -> bool:
        if ws.current_panel in self.panels:
            self.show_panel(ws.current_panel)
        self.workspace_path = path
        self._add_recent(path)
        self.setWindowTitle(f"{APP_NAME} — {path.name}")
        if problems:
            self.workspace_problems = problems
            self._warn("Workspace opened with problems", "\n".join(problems))
            return False
        self.statusBar().showMessage(f"Opened {path}", 4000)
        self.log("info", f"workspace opened from {path}")
        return True

    def open_workspace(self, path: str | os.PathLike) -> bool:
        """Load a workspace now; True when every panel in it loaded (waits for the workers: for
        scripts, tests and ``studio --workspace``; the window's own Open uses :meth:`open_workspace_async`)."""
        path = Path(path)
        ws = self._read_workspace(path)
        if ws is None:
            return False
        problems = list(ws.problems)
        self._foreign = {n: e for n, e in ws.panels.items() if n not in self.panels}
        for name, entry in ws.panels.items():
            if name not in self.panels:
                continue
            try:
                params = self._entry_params(name, entry)
                runner = self.runner_for(name)
                runner.pause()
                runner.call(self._apply_entry(params, entry), timeout_s=120)
                self._panel_restored(name, entry, params)
            except Exception as e:
                problems.append(f"{path.name}: panel {name!r} could not be restored: {e}")
        return self._opened(path, ws, problems)

    def open_workspace_async(self, path: str | os.PathLike) -> None:
        """Load a workspace without waiting: each engine takes its state between steps; then
        ``workspace_opened(path, ok)`` says whether every panel loaded."""
        path = Path(path)
        ws = self._read_workspace(path)
        if ws is None:
            self.workspace_opened.emit(str(path), False)
            return
        problems = list(ws.problems)
        self._foreign = {n: e for n, e in ws.panels.items() if n not in self.panels}
        todo = {n: e for n, e in ws.panels.items() if n in self.panels}
        left = set(todo)

        def settle(name: str) -> None:
            left.discard(name)
            if not left:
                self.workspace_opened.emit(str(path), self._opened(path, ws, problems))

        def restored(name: str, params: Params) -> None:
            self._panel_restored(name, todo[name], params)
            settle(name)

        def refused(name: str, e: BaseException) -> None:
            problems.append(f"{path.name}: panel {name!r} could not be restored: {e}")
            settle(name)

        if not todo:
            self.workspace_opened.emit(str(path), self._opened(path, ws, problems))
            return
        self.statusBar().showMessage(f"Opening {path}…")
        for name, entry in todo.items():
            try:
                params = self._entry_params(name, entry)
            except Exception as e:
                refused(name, e)
                continue
            runner = self.runner_for(name)
            runner.pause()
            runner.submit(
                self._apply_entry(params, entry),
                done=lambda _r, n=name, p=params: restored(n, p),
                failed=lambda e, n=name: refused(n, e),
                context=self,
            )

    def open_workspace_dialog(self) -> None:
        start = str(self.workspace_path.parent) if self.workspace_path else str(Path.home())
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open workspace", start, f"Neural Studio workspace (*{wsmod.SUFFIX});;All files (*)"
        )
        if path:
            self.open_workspace_async(path)

    def save_workspace_action(self) -> None:
        if self.workspace_path is None:
            self.save_workspace_dialog()
        else:
            self.save_workspace_async(self.workspace_path)

    def save_workspace_dialog(self) -> None:
        start = str(self.workspace_path or Path.home() / f"workspace{wsmod.SUFFIX}")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Save workspace", start, f"Neural Studio workspace (*{wsmod.SUFFIX})"
        )
        if path:
            if not path.endswith(wsmod.SUFFIX):
                path += wsmod.SUFFIX
            self.save_workspace_async(path)

    # -- recent files and settings ------------------------------------
    def recent_files(self) -> list[str]:
        val = self.settings.value("recent", [])
        if isinstance(val, str):
            val = [val]
        return [str(v) for v in (val or [])]

    def _add_recent(self, path: Path) -> None:
        p = str(Path(path).resolve())
        items = [p] + [r for r in self.recent_files() if r != p]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self._refresh_recent_menu()

    def _refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        items = self.recent_files()
        for p in items:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _c=False, q=p: self.open_workspace_async(q))
        self.recent_menu.setEnabled(bool(items))

    def _restore_settings(self) -> None:
        geo = self.settings.value("window/geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        last = self.settings.value("window/panel")
        if isinstance(last, str) and last in self.panels:
            self.tabs.setCurrentWidget(self.holder(last))

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        name = self.current_name()
        if name:
            self.settings.setValue("window/panel", name)
        self.settings.sync()

    # -- about --------------------------------------------------------
    def about_text(self) -> str:
        rows = "".join(f"<tr><td>{k}</td><td>{html.escape(v)}</td></tr>" for k, v in versions().items())
        return (
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>A desktop studio for neural mechanisms: spiking networks, population geometry, "
            "neural routing and collaborative neural painting.</p>"
            f"<table>{rows}</table>"
            "<p>Map data © OpenStreetMap contributors (ODbL). Routing benchmarks: CVRPLIB (Uchoa et al. "
            "2017), Solomon VRPTW, TSPLIB.</p>"
        )

    def show_about(self) -> None:
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("AboutBox")
        box.setWindowTitle(f"About {APP_NAME}")
        box.setTextFormat(QtCore.Qt.TextFormat.RichText)
        box.setText(self.about_text())
        box.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    # -- shutdown -----------------------------------------------------
    def shutdown(self) -> None:
        if self._closing:
            return
        self._closing = True
        deadline = time.monotonic() + CLOSE_BUDGET_S
        self.redraw_timer.stop()
        self.status_timer.stop()
        for name, panel in self.panels.items():
            try:
                panel.shutdown()
            except Exception as e:  # a panel's failure must not keep the window from closing
                self.log("error", f"{name}: shutdown failed: {type(e).__name__}: {e}")
        # every worker is told to stop at once, then joined within one shared, bounded wait:
        # a job stops at its next yield or check_cancelled(); one stuck in a call that cannot be
        # interrupted is given up on (see studio.runner) rather than keeping the window open
        runners = self.all_runners()
        for r in runners:
            r.request_stop()
        for r in runners:
            r.shutdown(timeout_s=max(0.05, deadline - time.monotonic()))
        self._gc.release()
        stuck = [r.name for r in runners if r.abandoned]
        if stuck:
            self.log(
                "warning", f"closed without waiting for {', '.join(stuck)} (busy in a call that cannot stop)"
            )

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt API
        self.save_settings()
        self.shutdown()
        super().closeEvent(event)
