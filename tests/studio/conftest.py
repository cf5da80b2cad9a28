"""Shared by the studio's GUI tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_sweeps_folder(tmp_path, monkeypatch):
    """Sweeps write into the test's folder, never the user's (the demo defaults to the user's
    sweeps folder; ``studio`` subprocesses inherit the variable)."""
    monkeypatch.setenv("NEURAL_STUDIO_SWEEPS_DIR", str(tmp_path / "sweeps"))


def pytest_sessionfinish(session, exitstatus):
    """Delete the windows the last test closed before the interpreter ends.

    pytest-qt closes a test's widgets with ``deleteLater``, which only the event loop carries out:
    after the last test nothing runs it, so the last window outlived the ``QApplication`` and Python
    tore its pyqtgraph items (legends, infinite lines) down in no safe order, a segmentation fault
    after every test had passed.
    """
    import sys

    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is None or qtcore.QCoreApplication.instance() is None:
        return
    qtcore.QCoreApplication.sendPostedEvents(None, qtcore.QEvent.Type.DeferredDelete)
