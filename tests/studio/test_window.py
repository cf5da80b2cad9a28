"""The real main window, driven as a user would (pytest-qt; Xvfb in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from studio import workspace as wsmod
from studio.window import MainWindow
from tests.toy import ToyParams, make_toy_panel_class

pytestmark = pytest.mark.gui

PANELS = {"toy": make_toy_panel_class("toy", "Toy"), "toy2": make_toy_panel_class("toy2", "Second toy")}


@pytest.fixture
def window(qtbot, tmp_path):
    made = []

    def make(**kw):
        kw.setdefault("settings_file", tmp_path / "settings.ini")
        w = MainWindow(panel_classes=PANELS, **kw)
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        w.activateWindow()  # keyboard shortcuts go to the active window
        qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is w, timeout=10000)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def distinct_colours(img: QtGui.QImage) -> int:
    img = img.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint32, count=img.width() * img.height())
    return len(np.unique(arr))


def test_opens_with_a_tab_per_panel_and_switches(window, qtbot):
    w = window()
    assert [w.tabs.tabText(i) for i in range(w.tabs.count())] == ["Toy", "Second toy"]
    assert w.current_name() == "toy" and "toy" in w.runners
    assert "toy2" not in w.runners  # engines start when first shown
    w.tabs.setCurrentIndex(1)
    assert w.current_name() == "toy2" and "toy2" in w.runners
    assert w.runners["toy2"].visible and not w.runners["toy"].visible
    # View > Panels switches too (Ctrl+1)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_1, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert w.current_name() == "toy"


def test_space_runs_and_pauses_and_the_panel_draws(window, qtbot):
    w = window()
    panel = w.panels["toy"]
    r = w.runner_for("toy")
    before = panel.plot.grab().toImage()
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: r.state == "running", timeout=10000)
    qtbot.waitUntil(lambda: w.act_run.text() == "&Pause", timeout=10000)  # after the queued state signal
    qtbot.waitUntil(lambda: panel.drawn_frames > 5, timeout=10000)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: r.state == "paused", timeout=10000)
    qtbot.wait(100)
    after = panel.plot.grab().toImage()
    assert after != before  # the plot changed: it drew real data
    assert distinct_colours(after) > 3
    assert panel.last_step > 0
    qtbot.waitUntil(lambda: "toy: paused" in w.lbl_state.text(), timeout=2000)


def test_step_and_reset_buttons(window, qtbot):
    w = window()
    r = w.runner_for("toy")
    w.act_step.trigger()
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 10, timeout=10000)
    w.act_reset.trigger()
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 0, timeout=10000)


def test_save_and_reopen_restores_every_panel(window, qtbot, tmp_path):
    w = window()
    for name, steps, noise in (("toy", 37, 2.0), ("toy2", 11, 0.5)):
        w.show_panel(name)
        r = w.runner_for(name)
        r.set_params(ToyParams(noise=noise, n_walkers=5))
        r.step_once(steps)
        qtbot.waitUntil(lambda r=r, s=steps: r.call(lambda e: e.t) == s, timeout=10000)
    w.panels["toy2"].zoom = 3.5
    path = tmp_path / "ws.nsw"
    assert w.save_workspace(path)
    expected = {n: w.runner_for(n).call(lambda e: (e.t, e.x.copy(), e.params)) for n in PANELS}
    w.close()

    w2 = window()
    w2.show_panel("toy")
    assert w2.open_workspace(path)
    assert w2.current_name() == "toy2"  # the panel in front when saved
    for n in PANELS:
        t, x, params = w2.runner_for(n).call(lambda e: (e.t, e.x.copy(), e.params))
        assert t == expected[n][0] and np.array_equal(x, expected[n][1]) and params == expected[n][2]
    assert w2.panels["toy2"].zoom == 3.5
    assert w2.panels["toy"].form.params().noise == 2.0  # the form shows the restored parameters
    assert str(path.resolve()) in w2.recent_files()
    # the restored engines continue exactly as the saved ones would have
    r = w2.runner_for("toy")
    r.step_once(5)
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 42, timeout=10000)


def test_ctrl_s_saves_to_the_current_workspace(window, qtbot, tmp_path):
    w = window()
    path = tmp_path / "ctrl.nsw"
    assert w.save_workspace(path)
    mtime = path.stat().st_mtime_ns
    r = w.runner_for("toy")
    r.step_once(3)
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 3, timeout=10000)
    qtbot.keyClick(w, QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: path.stat().st_mtime_ns != mtime, timeout=10000)
    ws = wsmod.load(path, known_panels=set(PANELS))
    assert ws.panels["toy"].state["t"] == 3


def _warning_text(w):
    boxes = [b for b in w.findChildren(QtWidgets.QMessageBox) if b.objectName() == "WarningBox"]
    return "\n".join(b.text() for b in boxes)


def test_corrupt_workspace_is_refused_and_never_overwritten(window, qtbot, tmp_path):
    w = window()
    bad = tmp_path / "bad.nsw"
    bad.write_bytes(b"\x00not a zip at all")
    assert not w.open_workspace(bad)
    assert "bad.nsw" in _warning_text(w) and "not a Neural Studio workspace" in _warning_text(w)
    assert w.workspace_path is None  # Ctrl+S will ask for a new path, not write over it
    assert bad.read_bytes() == b"\x00not a zip at all"
    half = tmp_path / "half.nsw"
    with zipfile.ZipFile(half, "w") as zf:
        zf.writestr("workspace.json", "{ this is not json")
    assert not w.open_workspace(half)
    assert "workspace.json is corrupt" in _warning_text(w)


def _write_ws(path, panels, version=1):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "workspace.json",
            json.dumps(
                {"format": wsmod.FORMAT, "version": version, "current_panel": "toy", "panels": panels}
            ),
        )


def test_unknown_panel_and_bad_entry_load_the_rest(window, qtbot, tmp_path):
    w = window()
    good = tmp_path / "good.nsw"
    r = w.runner_for("toy")
    r.step_once(4)
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 4, timeout=10000)
    assert w.save_workspace(good)
    with zipfile.ZipFile(good) as zf:
        head = json.loads(zf.read("workspace.json"))
        members = {n: zf.read(n) for n in zf.namelist()}
    head["panels"]["ghost"] = {"engine": "x:Y", "params": {"a": 1}, "panel_state": {}, "state": {"k": 2}}
    head["panels"]["toy2"] = {"params": "not a mapping"}
    mixed = tmp_path / "mixed.nsw"
    with zipfile.ZipFile(mixed, "w") as zf:
        for n, data in members.items():
            zf.writestr(n, json.dumps(head) if n == "workspace.json" else data)
    w2 = window()
    assert not w2.open_workspace(mixed)
    text = _warning_text(w2)
    assert "'ghost' is not available" in text and "'toy2'" in text and "params" in text
    assert w2.runner_for("toy").call(lambda e: e.t) == 4  # the good panel loaded
    # saving keeps the unknown panel's entry: nothing is lost
    out = tmp_path / "resaved.nsw"
    assert w2.save_workspace(out)
    with zipfile.ZipFile(out) as zf:
        again = json.loads(zf.read("workspace.json"))
    assert again["panels"]["ghost"]["state"] == {"k": 2}


def test_newer_workspace_version_warns_and_loads(window, qtbot, tmp_path):
    w = window()
    path = tmp_path / "future.nsw"
    _write_ws(path, {"toy": {"params": {"noise": 4.0}, "panel_state": {}, "state": None}}, version=99)
    assert not w.open_workspace(path)
    assert "newer Neural Studio" in _warning_text(w)
    assert w.runner_for("toy").call(lambda e: e.params.noise) == 4.0


def test_worker_error_shows_banner_and_log_and_reset_recovers(window, qtbot):
    w = window()
    panel = w.panels["toy"]
    r = w.runner_for("toy")
    r.set_params(ToyParams(fail_at_step=20))
    with qtbot.waitSignal(r.error, timeout=10000):
        w.act_run.trigger()
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=10000)
    assert "toy failure at step 20" in panel.banner.label.text()
    log = w.log_dock.view.toPlainText()
    assert "Traceback" in log and "RuntimeError: toy failure" in log
    assert not w.act_run.isEnabled()
    r.set_params(ToyParams())
    w.act_reset.trigger()
    qtbot.waitUntil(lambda: w.act_run.isEnabled(), timeout=10000)
    assert not panel.banner.isVisible()
    w.act_run.trigger()
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) > 50, timeout=10000)
    w.act_run.trigger()


def test_job_progress_in_status_bar_and_escape_cancels(window, qtbot):
    w = window()
    r = w.runner_for("toy")
    r.run_job(lambda e: e.count_job(100_000, delay_s=0.001))
    qtbot.waitUntil(lambda: w.job_bar.isVisible() and w.job_bar.value() > 0, timeout=10000)
    assert w.job_cancel.isVisible() and "step" in w.job_bar.format()
    assert not w.act_run.isEnabled()  # no run while a job holds the engine
    with qtbot.waitSignal(r.job_finished, timeout=10000) as blocker:
        qtbot.keyClick(w, QtCore.Qt.Key.Key_Escape)
    assert blocker.args[1] is False
    qtbot.waitUntil(lambda: not w.job_bar.isVisible(), timeout=10000)
    assert w.act_run.isEnabled()
    # the status bar says how the job ended, once, and not "paused" beside it
    qtbot.waitUntil(lambda: w.lbl_state.text() == "toy: job stopped", timeout=2000)
    assert "paused" not in w.statusBar().currentMessage()
    r.start()
    qtbot.waitUntil(lambda: w.lbl_state.text() == "toy: running", timeout=5000)
    r.pause()
    qtbot.waitUntil(lambda: w.lbl_state.text() == "toy: paused", timeout=5000)


def test_a_long_job_message_stays_on_one_line_in_the_status_bar(window, qtbot):
    w = window()
    r = w.runner_for("toy")
    long = "studio-demo: 63/192 done, 0 failed, 1 running, 128 queued, 16.1 s so far on 2 local workers"

    def wordy(engine):
        from engines.base import Progress

        for i in range(100_000):
            time.sleep(0.001)
            yield Progress(i + 1, 100_000, long)

    r.run_job(wordy)
    qtbot.waitUntil(lambda: w.job_bar.isVisible() and w.job_bar.value() > 0, timeout=10000)
    fm = w.job_bar.fontMetrics()
    assert w.job_bar.format().endswith("…") and w.job_bar.toolTip() == long
    assert fm.horizontalAdvance(w.job_bar.format()) <= w.job_bar.width()
    with qtbot.waitSignal(r.job_finished, timeout=10000):
        w.cancel_job()


def test_param_form_edits_reach_the_engine(window, qtbot):
    w = window()
    panel = w.panels["toy"]
    r = w.runner_for("toy")
    spin = panel.form.editor("noise")
    spin.setValue(7.5)
    qtbot.waitUntil(lambda: r.call(lambda e: e.params.noise) == 7.5, timeout=10000)
    # a cross-field violation is shown and not sent
    panel.form.editor("mode").setCurrentIndex(1)  # uniform with noise 7.5: allowed (<= 10)
    qtbot.waitUntil(lambda: r.call(lambda e: e.params.mode) == "uniform", timeout=10000)
    spin.setValue(20.0)
    assert "at most 10" in panel.form.error_label.text()
    assert r.call(lambda e: e.params.noise) == 7.5


def test_settings_persist_between_launches(window, qtbot, tmp_path):
    w = window()
    w.resize(1111, 777)
    w.show_panel("toy2")
    path = tmp_path / "a.nsw"
    w.save_workspace(path)
    w.close()
    w2 = window()
    assert w2.current_name() == "toy2"
    assert (w2.width(), w2.height()) == (1111, 777)
    assert w2.recent_files()[0] == str(path.resolve())
    acts = w2.recent_menu.actions()
    assert acts and acts[0].text() == str(path.resolve())


def test_about_names_versions(window, qtbot):
    w = window()
    text = w.about_text()
    for key in ("Python", "Qt", "torch", "numpy"):
        assert key in text
    import torch

    assert torch.__version__ in text
    w.show_about()
    box = w.findChild(QtWidgets.QMessageBox, "AboutBox")
    assert box is not None and box.isVisible()
    box.close()


def test_close_stops_every_worker(window, qtbot):
    from studio.runner import live_threads

    w = window()
    w.show_panel("toy2")
    w.runner_for("toy").start()
    w.runner_for("toy2").start()
    qtbot.waitUntil(lambda: len(live_threads()) == 2, timeout=10000)
    w.close()
    assert not live_threads()


def test_panel_file_menu_entries_and_shutdown_hook(qtbot, tmp_path):
    base = make_toy_panel_class("toy", "Toy")
    calls = []

    class WithMenu(base):
        def file_menu_entries(self):
            self.menu_action = QtGui.QAction("Toy thing…", self)
            return [self.menu_action]

        def shutdown(self):
            from studio.runner import live_threads

            calls.append(len(live_threads()))

    w = MainWindow(panel_classes={"toy": WithMenu}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.runner_for("toy").start()
    texts = [a.text() for a in w.file_menu.actions()]
    assert texts[-3:] == ["Toy thing…", "", "&Quit"], texts
    w.close()
    assert calls == [1]  # asked once, while the runner's worker still ran


def test_cli_version_and_list_panels():
    out = subprocess.run(
        [sys.executable, "-m", "studio", "--version"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0 and "Neural Studio 0.1.0" in out.stdout
    out = subprocess.run(
        [sys.executable, "-m", "studio", "--list-panels"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    names = sorted(ep.name for ep in metadata.entry_points(group="studio.panels"))
    assert out.stdout.split() == names


def test_cli_screenshot(qtbot, tmp_path, monkeypatch):
    import studio.window
    from studio import app

    monkeypatch.setattr(studio.window, "discover_panels", lambda: (PANELS, []))
    out = tmp_path / "shot.png"
    assert app.main(["--panel", "toy2", "--screenshot", str(out), "--after", "0.5", "--size", "900x600"]) == 0
    img = QtGui.QImage(str(out))
    assert (img.width(), img.height()) == (900, 600)
    assert distinct_colours(img) > 20
    assert app.main(["--panel", "nope", "--screenshot", str(out)]) == 2


def test_cli_serve_prints_its_token_and_stops_on_sigterm(tmp_path):
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "serve", "--port", "0", "--store", str(tmp_path / "s.db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("port:"):
                break
        text = "".join(lines)
        assert "token:" in text and "127.0.0.1" in text, text
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
    assert rc == 0


def _stuck_job(engine, seconds):
    """A job inside a call that cannot be interrupted (no yield, no check_cancelled) for ``seconds``."""
    import time

    time.sleep(seconds)
    yield


def test_close_gives_up_on_a_worker_stuck_in_a_call_that_cannot_stop(window, qtbot):
    import time

    from studio.runner import live_threads
    from studio.window import CLOSE_BUDGET_S

    w = window()
    r = w.runner_for("toy")
    r.run_job(lambda e: _stuck_job(e, 3.0))
    qtbot.waitUntil(lambda: r.state == "job", timeout=10000)
    t0 = time.perf_counter()
    w.close()
    assert time.perf_counter() - t0 < CLOSE_BUDGET_S + 0.3
    assert r.abandoned
    assert any(lv == "warning" and "closed without waiting for toy" in t for lv, t in w.log_dock.lines)
    qtbot.waitUntil(lambda: not live_threads(), timeout=10000)  # it ends by itself, nothing aborts


def test_cli_screenshot_exits_0_at_once_when_a_worker_cannot_stop(tmp_path):
    """The process neither waits for a stuck worker nor aborts ("QThread: Destroyed while thread is running")."""
    import textwrap
    import time

    out = tmp_path / "shot.png"
    code = textwrap.dedent(
        f"""
        import sys
        import time

        import studio.window
        from studio import app
        from tests.toy import make_toy_panel_class


        def stuck_job(engine):
            time.sleep(60)  # a call that cannot be interrupted
            yield


        class Stuck(make_toy_panel_class("stuck", "Stuck")):
            def start_demo(self):
                self.runner.run_job(stuck_job)


        studio.window.discover_panels = lambda: ({{"stuck": Stuck}}, [])
        sys.exit(app.main(["--screenshot", {str(out)!r}, "--after", "0.2", "--size", "800x600"]))
        """
    )
    t0 = time.perf_counter()
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.perf_counter() - t0 < 25  # not the 60 s the worker would take
    assert out.exists() and "frames drawn" in proc.stdout
    assert "exiting without waiting for runner-stuck" in proc.stderr
    assert "QThread" not in proc.stderr and "Traceback" not in proc.stderr


STUDIO_CARELESS = [
    (["--size", "abc"], "--size"),
    (["--size", "10x10"], "out of range"),
    (["--size", "99999x99999"], "out of range"),
    (["--after", "-1"], "--after"),
    (["--after", "nan"], "--after"),
    (["--workspace", "{missing}"], "no such workspace file"),
    (["--workspace", "{folder}"], "is a folder"),
    (["--workspace", "{noise}"], "not a Neural Studio workspace"),
    (["--screenshot", "{folder}"], "is a folder"),
    (["--screenshot", "{folder}/shot.txt"], ".png"),
    (["--screenshot", "{folder}/no/shot.png"], "does not exist"),
    (["--panel", "toy3"], "did you mean 'toy'"),
]


@pytest.mark.parametrize("args, words", STUDIO_CARELESS, ids=[" ".join(a) for a, _ in STUDIO_CARELESS])
def test_cli_careless_arguments_get_one_line_and_exit_2(args, words, qtbot, tmp_path, monkeypatch, capsys):
    import studio.window
    from studio import app
    from studio.runner import live_threads

    monkeypatch.setattr(studio.window, "discover_panels", lambda: (PANELS, []))
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "noise.nsw").write_bytes(np.random.default_rng(0).bytes(3000))
    names = {"missing": folder / "missing.nsw", "folder": folder, "noise": folder / "noise.nsw"}
    argv = [a.format(**names) for a in args]
    if "--screenshot" not in argv:
        argv += ["--screenshot", str(folder / "shot.png")]
    before = sorted(p.name for p in folder.rglob("*"))
    try:
        rc = app.main([*argv, "--after", "0"] if "--after" not in argv else argv)
    except SystemExit as e:  # argparse
        rc = e.code
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err
    assert sorted(p.name for p in folder.rglob("*")) == before  # no screenshot, no temporary file
    assert not live_threads()


def test_the_window_owns_every_runner_and_stops_them_on_close(window, qtbot):
    from studio.runner import live_threads
    from tests.toy import ToyEngine

    w = window()
    panel = next(iter(w.panels.values()))
    extra = panel.make_runner(ToyEngine(), "extra")
    assert extra in w.all_runners() and extra.parent() is w
    extra.start()
    qtbot.waitUntil(lambda: extra.state == "running", timeout=10000)
    gone = panel.make_runner(ToyEngine(), "gone")
    assert panel.release_runner(gone) and gone not in w.all_runners()

    def failing(_engine):
        raise RuntimeError("worker failed")
        yield

    with qtbot.waitSignal(extra.error, timeout=10000):
        extra.run_job(failing)
    qtbot.waitUntil(lambda: panel.banner.isVisible(), timeout=10000)
    assert "worker failed" in panel.banner.label.text()
    w.close()
    assert extra.state == "stopped" and extra._thread not in live_threads()


def test_menu_save_and_open_never_wait_for_a_busy_engine(window, qtbot, tmp_path):
    """Save and Open from the window's menus hand the work to the workers: the GUI thread returns at
    once while an engine is busy, and the file is right once the workers have answered."""
    import time

    w = window()
    r = w.runner_for("toy")
    r.step_once(9)
    qtbot.waitUntil(lambda: r.call(lambda e: e.t) == 9, timeout=10000)
    w.runner_for("toy2")
    path = tmp_path / "busy.nsw"
    w.workspace_path = path
    r.submit(lambda e: time.sleep(1.0))  # the toy's worker is busy for a second
    t0 = time.perf_counter()
    with qtbot.waitSignal(w.workspace_saved, timeout=20000) as sig:
        w.act_save.trigger()
        assert time.perf_counter() - t0 < 0.3  # Ctrl+S returned while the worker slept
    assert sig.args == [str(path), True] and path.exists()
    w.close()

    w2 = window()
    r2 = w2.runner_for("toy")
    r2.submit(lambda e: time.sleep(1.0))
    t0 = time.perf_counter()
    with qtbot.waitSignal(w2.workspace_opened, timeout=20000) as sig:
        w2.open_workspace_async(path)
        assert time.perf_counter() - t0 < 0.3
    assert sig.args == [str(path), True]
    assert r2.call(lambda e: e.t) == 9


def test_the_studio_fits_a_laptop_screen(qtbot, tmp_path):
    """Every real panel together: the window can be 1280x720 and shrinks to at most 1024x640; a panel
    larger than its share scrolls instead of growing the window."""
    from studio.window import PanelHolder

    w = MainWindow(settings_file=tmp_path / "s.ini", restore_settings=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.resize(1280, 720)
        qtbot.waitUntil(lambda: (w.width(), w.height()) == (1280, 720), timeout=5000)
        w.resize(1024, 640)
        qtbot.waitUntil(lambda: (w.width(), w.height()) == (1024, 640), timeout=5000)
        hint = w.minimumSizeHint().expandedTo(w.minimumSize())
        assert hint.width() <= 1024 and hint.height() <= 640
        w.resize(1280, 720)
        qtbot.waitUntil(lambda: (w.width(), w.height()) == (1280, 720), timeout=5000)
        qtbot.wait(100)
        for name in w.panels:  # every page is laid out, shown or not (no engine is started here)
            holder = w.holder(name)
            assert isinstance(holder, PanelHolder) and holder.panel is w.panels[name]
            # the panel fills the view, and scrolls only below its minimum size
            min_h = w.panels[name].minimumSizeHint().height()
            assert holder.verticalScrollBar().maximum() == 0 or min_h > holder.viewport().height(), name
        name = w.current_name()
        assert w.current_panel() is w.panels[name] and w.tabs.currentWidget() is w.holder(name)
    finally:
        w.close()


def test_each_demo_starts_when_its_panel_first_opens_unless_turned_off(window, qtbot):
    w = window()
    assert not w.runners["toy"].is_running()  # a window made by code starts idle
    w.enable_demos()
    assert w.act_demos.isChecked()
    qtbot.waitUntil(lambda: w.runners["toy"].is_running(), timeout=5000)
    w.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: w.runners["toy2"].is_running(), timeout=5000)
    w.runners["toy2"].pause()
    w.tabs.setCurrentIndex(0)
    w.tabs.setCurrentIndex(1)
    qtbot.wait(200)
    assert not w.runners["toy2"].is_running()  # once per panel: paused stays paused
    w.act_demos.setChecked(False)  # remembered for the next launch
    w.close()
    w2 = window()
    w2.enable_demos()
    assert not w2.act_demos.isChecked()
    qtbot.wait(200)
    assert not w2.runners[w2.current_name()].is_running()
