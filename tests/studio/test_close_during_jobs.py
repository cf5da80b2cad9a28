"""Closing the real window while a long job runs: it closes within 2 s, every worker has ended, nothing aborts.

One test per kind of long job (geometry analysis, routing solves, painting decompose and completion,
spiking training and runs, sweeps in process and on Dask). Each starts the job from its panel, waits
until the job is well under way, closes the window and times the close. Whatever a job does between
two yields (a kernel over many chunks, an attack's gradient steps) must stop at its next
``check_cancelled()`` when the window closes.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from studio.runner import JOB, live_threads
from studio.window import CLOSE_BUDGET_S, MainWindow

pytestmark = pytest.mark.gui

#: what the issue asks: the window closes within this many seconds whatever job runs
CLOSE_WITHIN_S = 2.0


def open_window(qtbot, tmp_path, name: str, cls: type) -> MainWindow:
    w = MainWindow(panel_classes={name: cls}, settings_file=tmp_path / "s.ini")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.runner_for(name)
    return w


def wait_deep_in_job(qtbot, runner, settle_s: float = 0.7) -> None:
    """Until the runner is in a job, then a little longer: the close below lands inside the job's work."""
    qtbot.waitUntil(lambda: runner.state == JOB, timeout=60000)
    qtbot.wait(int(settle_s * 1000))
    assert runner.state == JOB, "the job ended before the window was closed: make it longer"


#: a worker still inside one call that cannot be interrupted when the window closes (the first torch
#: call of a process, a JIT compile on a loaded machine) is left to end by itself: it must, this soon
ABANDONED_ENDS_WITHIN_S = 10.0


def close_promptly(w: MainWindow) -> float:
    """Close the window; assert it took less than 2 s, and that every worker has ended (at once, or
    for one left inside an uninterruptible call, at its next cancellation check); return the time."""
    runners = list(w.runners.values())
    t0 = time.perf_counter()
    w.close()
    took = time.perf_counter() - t0
    print(f"closed in {took:.3f} s")
    assert took < CLOSE_WITHIN_S, f"closing took {took:.2f} s"
    left = [r for r in runners if r.abandoned]
    deadline = time.perf_counter() + ABANDONED_ENDS_WITHIN_S
    while live_threads() and time.perf_counter() < deadline:
        time.sleep(0.05)
    if left:
        print(
            f"{', '.join(r.name for r in left)} ended {time.perf_counter() - t0:.2f} s after the close began"
        )
    assert not live_threads(), "a worker never ended after the window closed"
    return took


def test_the_close_budget_leaves_room_within_two_seconds():
    assert CLOSE_BUDGET_S < CLOSE_WITHIN_S


@pytest.mark.gl
def test_closing_during_a_geometry_analysis(qtbot, tmp_path):
    from engines.geometry.analysis import AnalysisParams, analysis_job
    from studio.panels.geometry import GeometryPanel

    # compile the kernels in this process first: a JIT compilation cannot be interrupted
    tiny = AnalysisParams(models="standard", P=4, M=3, steps=1, eot=1, n_t=10, layers="fc1", eps="0,0.1")
    for _ in analysis_job(tiny):
        pass
    w = open_window(qtbot, tmp_path, "geometry", GeometryPanel)
    panel = w.panels["geometry"]
    # a heavy analysis (minutes): several seconds between two of its yields
    panel.form.set_params(
        AnalysisParams(P=10, M=40, n_t=400, steps=50, eot=8, layers="front,conv2,conv3,fc1", eps="0,0.1,0.2")
    )
    panel.analyze()
    wait_deep_in_job(qtbot, panel.runner, settle_s=1.5)
    close_promptly(w)


def test_closing_during_routing_solves(qtbot, tmp_path):
    from studio.panels.routing import RoutingPanel

    w = open_window(qtbot, tmp_path, "routing", RoutingPanel)
    panel = w.panels["routing"]
    qtbot.waitUntil(lambda: panel._snap is not None and panel._snap.problem is not None, timeout=20000)
    qtbot.waitUntil(lambda: not panel.warming, timeout=120000)  # kernels and weights loaded
    assert panel.solve("ls", 60.0)
    wait_deep_in_job(qtbot, panel.runner)
    close_promptly(w)


@pytest.mark.parametrize("solver", ["neural+ls", "pyvrp"])
def test_closing_during_other_routing_solvers(qtbot, tmp_path, solver):
    from studio.panels.routing import RoutingPanel

    w = open_window(qtbot, tmp_path, "routing", RoutingPanel)
    panel = w.panels["routing"]
    qtbot.waitUntil(lambda: panel._snap is not None and panel._snap.problem is not None, timeout=20000)
    qtbot.waitUntil(lambda: not panel.warming, timeout=120000)
    assert panel.solve(solver, 60.0)
    wait_deep_in_job(qtbot, panel.runner, settle_s=0.3)
    close_promptly(w)


def test_closing_during_a_painting_decomposition(qtbot, tmp_path):
    from PIL import Image

    from studio.panels.painting import PaintingPanel

    img = tmp_path / "img.png"
    rng = np.random.default_rng(0)
    Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)).save(img)
    w = open_window(qtbot, tmp_path, "painting", PaintingPanel)
    panel = w.panels["painting"]
    # a decomposition of minutes, whatever the machine: the close must land inside it
    panel.runner.call(lambda e: e.set_params(e.params.replace(decompose_iters=2000, decompose_px=256)))
    assert panel.paint_reference(img)
    wait_deep_in_job(qtbot, panel.runner)
    close_promptly(w)


def test_closing_during_a_painting_completion(qtbot, tmp_path):
    from studio.panels.painting import PaintingPanel

    w = open_window(qtbot, tmp_path, "painting", PaintingPanel)
    panel = w.panels["painting"]
    if not panel._has_model:
        pytest.skip("no trained completion model in assets/painting/")
    panel.start_demo()  # a job of its own: Complete waits until the demo is painted
    qtbot.waitUntil(lambda: panel._snap is not None and panel._snap.n_strokes > 0, timeout=120000)
    qtbot.waitUntil(lambda: not panel.runner.job_busy, timeout=120000)
    panel.proposals_box.setValue(panel.proposals_box.maximum())
    panel.best_guess_box.setChecked(True)  # several samples fitted to their mean render: the longest
    assert panel.complete()
    wait_deep_in_job(qtbot, panel.runner, settle_s=0.3)
    close_promptly(w)


@pytest.mark.parametrize("which", ["tess-digits", "neurocorex-digits"])
def test_closing_during_spiking_training(qtbot, tmp_path, which):
    from studio.panels.spiking import SpikingPanel

    w = open_window(qtbot, tmp_path, "spiking", SpikingPanel)
    panel = w.panels["spiking"]
    if which == "tess-digits":
        from engines.spiking.tess import TessParams

        assert panel.start_training(which, TessParams(epochs=50, hidden=(512, 512), batch=256))
    else:  # the panel's job with more epochs (its three take well under a second)
        from engines.spiking import ncx_digits

        assert panel.start_training(which)
        qtbot.waitUntil(lambda: not panel.runner.job_busy, timeout=60000)
        assert panel.runner.run_job(lambda _e: ncx_digits.train_job(epochs=500))
    wait_deep_in_job(qtbot, panel.runner)
    close_promptly(w)


def test_closing_while_a_network_runs(qtbot, tmp_path):
    from studio.panels.spiking import SpikingPanel

    w = open_window(qtbot, tmp_path, "spiking", SpikingPanel)
    panel = w.panels["spiking"]
    panel.start_demo()
    qtbot.waitUntil(lambda: panel.runner.is_running(), timeout=20000)
    qtbot.wait(500)
    close_promptly(w)


@pytest.mark.parametrize("workers", [0, 2])
def test_closing_during_a_sweep(qtbot, tmp_path, workers):
    from engines.sweep.engine import SweepParams
    from studio.panels.sweeps import SweepsPanel

    w = open_window(qtbot, tmp_path, "sweeps", SweepsPanel)
    panel = w.panels["sweeps"]
    panel.editor.setPlainText(
        '[sweep]\nname = "long"\nkind = "demo"\nseeds = [0]\n[fixed]\nsleep_s = 20.0\n[grid]\nx = [0.0, 1.0, 2.0]\n'
    )
    panel.out_edit.setText(str(tmp_path / "long.parquet"))
    panel.form.set_params(SweepParams(workers=workers))
    assert panel.run()
    wait_deep_in_job(qtbot, panel.runner, settle_s=1.0 if workers else 0.5)
    close_promptly(w)


@pytest.mark.gl
def test_screenshot_of_a_panel_whose_job_still_runs_exits_0(tmp_path):
    """`studio --panel geometry --screenshot x.png --after 0`: the window closes while the analysis runs."""
    out = tmp_path / "g.png"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--panel", "geometry", "--screenshot", str(out), "--after", "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.exists() and "frames drawn" in proc.stdout
    assert "Traceback" not in proc.stderr and "QThread" not in proc.stderr
    assert time.perf_counter() - t0 < 120
