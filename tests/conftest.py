import os
import threading
import time

import pytest

if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    # no screen: Qt draws offscreen; tests that need OpenGL are skipped below
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        skip = pytest.mark.skip(reason="needs an OpenGL context (run under Xvfb: ./test.sh)")
        for item in items:
            if "gl" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own settings folder: nothing leaks into the user's."""
    monkeypatch.setenv("NEURAL_STUDIO_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture(autouse=True)
def _no_leaked_threads():
    """Fail any test that leaves a worker thread running."""
    before = set(threading.enumerate())
    yield
    import sys

    deadline = time.monotonic() + 5.0
    while True:
        leaked = []
        runner = sys.modules.get("studio.runner")
        if runner is not None:
            leaked += [f"QThread {t.objectName()}" for t in runner.live_threads()]
        leaked += [
            t.name
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.daemon and not t.name.startswith("Dummy")
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test left threads running: {leaked}"


@pytest.fixture(autouse=True)
def _garbage_collection_restored():
    """Every window that turned automatic garbage collection off (studio.runner.MainThreadGC) has been
    closed by the end of its test, so collection is automatic again for the tests that follow."""
    import gc

    enabled = gc.isenabled()
    yield
    import sys

    runner = sys.modules.get("studio.runner")
    if runner is not None and runner.MainThreadGC._holders and enabled:
        held = runner.MainThreadGC._holders
        from PySide6 import QtWidgets

        for w in QtWidgets.QApplication.topLevelWidgets():  # a window the test did not close
            if hasattr(w, "_gc"):
                w.close()
        assert runner.MainThreadGC._holders == 0, f"{held} window(s) left open kept garbage collection off"
    assert gc.isenabled() == enabled


@pytest.fixture(scope="module")
def _chromium():
    """One headless Chromium per test module (tests.browser; its tests skip where there is none)."""
    from tests.browser import chromium

    b = chromium()
    yield b
    b.quit()


@pytest.fixture
def browser(_chromium):
    """The module's browser, its pages closed after each test."""
    yield _chromium
    _chromium.reset()


@pytest.fixture(autouse=True)
def _gui_garbage_collected_at_safe_points(request, _garbage_collection_restored):
    """A GUI test collects garbage as the studio does (studio.runner.MainThreadGC): never automatically,
    and at its end on the GUI thread, where no Qt lock is held.

    An automatic collection can start at any allocation, also inside a Qt call: a fresh-clone run hung
    when one started inside ``QObject::disconnect`` (a pyqtgraph item added to a plot) and destroyed an
    earlier test's closed window, whose ``QAction`` destructors waited for the lock that disconnect held.
    """
    if "qtbot" not in request.fixturenames:
        yield
        return
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        if was:
            gc.enable()


@pytest.fixture(autouse=True, scope="module")
def _lkh_child_stopped():
    """LKH-3's child process (engines.routing.lkh) lives as long as the process that used it;
    each test module that started it stops it, so no later test finds a process it did not make."""
    yield
    import sys

    lkh = sys.modules.get("engines.routing.lkh")
    if lkh is not None:
        lkh.shutdown()
