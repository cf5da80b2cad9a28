"""The spiking panel's wiring: areas, signals, stream reading and the dispatch of each snapshot.

* raster: spikes read by cursor from the engine's streams, kept for the last
  seconds, and drawn as one image binned at the view's own pixel resolution
  (excitatory red, inhibitory blue, inputs grey); zoom and pan re-bin at full
  resolution; the view scrolls with time while "follow" is on;
* population rates of E and I (1 ms bins), membrane traces of the neurons
  clicked on the raster, weight matrix and weight histogram under plasticity;
* presets, the parameter form, "run for" and real-time pacing, and read-outs
  (biological time, real-time factor, synaptic events per second).

The GUI thread never touches the engine: each snapshot asks the worker for the
stream records since the panel's cursors (``runner.submit``) and the views draw
when they arrive; the network layout is computed on the worker too.
"""

from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from engines.base import Progress
from engines.spiking import (
    SpikingEngine,
    SpikingParams,
    SpikingRecords,
    SpikingSnapshot,
    StreamCursors,
    preset,
)
from engines.spiking.display import RollingRecords, bin_rates, flashing, network_layout
from engines.spiking.geometry import record
from studio.panels.base import Panel
from studio.runner import RunnerState

from .activity import ActivityView
from .constants import FLASH_S, KEEP_S, MAX_KEEP_SPIKES, NETWORK_VIEW_MAX, WEIGHTS_EVERY, Tab
from .controls import ControlsPane
from .geometry_link import GEOMETRY_WINDOWS, geometry_probe, geometry_workbench
from .network import NetworkView
from .neurocorex import NeuroCoreXView
from .training import TrainingView
from .weights import WeightsView


class SpikingPanel(Panel[SpikingSnapshot]):
    name = "spiking"
    title = "Spiking activity"
    engine_type = SpikingEngine

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._params = preset("coba")
        self._dt_s = self._params.dt_ms * 1e-3
        self._picked: list[int] = []
        self._last_snap: SpikingSnapshot | None = None
        self._frames = 0
        self.train_result: dict | None = None
        # the streams as read so far (see _read_streams)
        self._cursors: StreamCursors | None = None
        self._reading = False
        self._pending: SpikingSnapshot | None = None
        self._generation = 0  # bumped when the views start afresh: records read before are dropped
        self._mon_since = -1
        self._spikes = RollingRecords(KEEP_S, MAX_KEEP_SPIKES)
        self._rates = RollingRecords(KEEP_S, 10_000_000)
        self._mon = RollingRecords(KEEP_S, 10_000_000)
        self._net_key: Any = None
        self._build()
        self._connect()

    # ------------------------------------------------------------------ UI
    def _build(self) -> None:
        self.activity = ActivityView()
        self.weights = WeightsView()
        self.network = NetworkView()
        self.training = TrainingView()
        self.ncx = NeuroCoreXView()
        self.view_tabs = QtWidgets.QTabWidget()
        self.view_tabs.setObjectName("spiking_tabs")
        self.view_tabs.addTab(self.activity, "Activity")
        self.view_tabs.addTab(self.weights, "Weights")
        self.view_tabs.addTab(self.network, "Network")
        self.view_tabs.addTab(self.training, "Training")
        self.view_tabs.addTab(self.ncx, "NeuroCoreX")
        self.controls = ControlsPane(self._params)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(self.view_tabs)
        split.addWidget(self.controls)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        lay = QtWidgets.QHBoxLayout(self.body)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

    def _connect(self) -> None:
        c = self.controls
        c.preset_chosen.connect(lambda name: self._apply(preset(name)))
        c.form.params_changed.connect(self._apply)
        c.run_for_requested.connect(self._run_for)
        c.speed_chosen.connect(self._speed_chosen)
        self.activity.user_moved.connect(lambda: c.follow_box.setChecked(False))
        self.activity.raster.neuron_clicked.connect(self.pick_neuron)
        self.training.train_requested.connect(lambda which: self.start_training(which))
        self.ncx.demo_requested.connect(lambda: self.start_ncx_demo())
        self.training.geometry_requested.connect(lambda: self.analyse_geometry())
        self.view_tabs.currentChanged.connect(self._tab_shown)

    def _tab_shown(self, index: int) -> None:
        """A tab drawn only while visible shows the newest snapshot at once, not a frame later."""
        if index == Tab.WEIGHTS and self._last_snap is not None:
            self.weights.draw(self._last_snap)

    # ------------------------------------------------------------------ engine
    def create_engine(self, params: SpikingParams | None = None, seed: int = 0) -> SpikingEngine:
        self._params = params or self._params  # the panel's parameters are its engine's
        return SpikingEngine(self._params, seed=seed)

    def on_attached(self) -> None:
        # longer engine calls: every return to Python waits for the GIL that the GUI thread
        # holds while drawing (up to the 5 ms switch interval), so few long calls keep more
        # of the headless speed; 30 ms still pauses at once for a person
        self.runner.target_chunk_s = 0.03
        self._adopt_params(self._params)  # what create_engine built the engine from

    def _adopt_params(self, p: SpikingParams) -> None:
        self._params = p
        self._dt_s = p.dt_ms * 1e-3
        self.controls.form.set_params(p)
        self.activity.adopt(p)
        self._picked = []

    def on_params_restored(self, params: SpikingParams) -> None:
        """A workspace was opened: new parameters and engine state, so redraw from scratch."""
        self._adopt_params(params)
        self._clear_views()
        self._last_snap = None

    def _apply(self, p: SpikingParams) -> None:
        if self.runner is None:
            self._params = p
            return
        self.runner.set_params(p)
        self._adopt_params(p)

    def _run_for(self, seconds: float) -> None:
        if self.runner is not None:
            self.runner.run_for(int(round(seconds / self._dt_s)))

    def _speed_chosen(self, factor: float | None) -> None:
        if self.runner is not None:
            self.runner.set_realtime(factor)

    def pick_neuron(self, j: int) -> None:
        """Record neuron ``j``'s state (the oldest pick makes room)."""
        if self.runner is None or not 0 <= j < self._params.n_neurons or j in self._picked:
            return
        self._picked = (self._picked + [j])[-max(1, self._params.monitor_count) :]
        picked = list(self._picked)
        self.runner.call_async(lambda e: e.set_monitor(picked))

    def start_demo(self) -> None:
        self.runner.start()

    # ------------------------------------------------------------------ streams
    def update_view(self, snap: Any) -> None:
        """Ask the worker for the records since our cursors; the views draw when they come."""
        if snap is None or self.runner is None:
            return
        self._pending = snap
        if not self._reading:
            self._read_streams()

    def _read_streams(self) -> None:
        snap, self._pending = self._pending, None
        cursors, generation = self._cursors, self._generation
        self._reading = True
        self.runner.submit(
            lambda e: e.read_streams(cursors),
            done=lambda rec: self._on_records(rec, snap, generation),
            failed=self._on_read_failed,
            context=self,
        )

    def _on_records(self, rec: SpikingRecords, snap: SpikingSnapshot, generation: int) -> None:
        self._reading = False
        if generation == self._generation:
            self._keep(rec, snap)
            self._draw(snap)
        if self._pending is not None:
            self._read_streams()

    def _on_read_failed(self, exc: BaseException) -> None:
        self._reading = False
        self.show_error(f"reading the spike streams: {type(exc).__name__}: {exc}")

    def _keep(self, rec: SpikingRecords, snap: SpikingSnapshot) -> None:
        if rec.restarted:
            self._clear_records()
        self._cursors = rec.cursors
        t_now, dt = snap.t_s, snap.dt_ms * 1e-3
        self._dt_s = dt
        self._spikes.add(rec.spikes, t_now, lambda r: r[0] * dt)
        self._rates.add(rec.rates, t_now, lambda r: r[0] * dt)
        if rec.monitor_since_step != self._mon_since:
            self._mon.clear()
            self._mon_since = rec.monitor_since_step
        self._mon.add(rec.monitor, t_now, lambda r: r[0] * dt)

    def _clear_records(self) -> None:
        self._spikes.clear()
        self._rates.clear()
        self._mon.clear()
        self._mon_since = -1

    def _clear_views(self) -> None:
        """Start afresh: records still on their way are dropped, the next read takes everything held."""
        self._clear_records()
        self._cursors = None
        self._generation += 1

    # ------------------------------------------------------------------ drawing
    def _draw(self, snap: SpikingSnapshot) -> None:
        p, dt = self._params, self._dt_s
        if self.controls.follow_box.isChecked():
            self.activity.follow(snap.t_s, self.controls.window_s.value())
        self.activity.raster.draw(
            self._spikes, dt, snap.n_exc, snap.n_neurons, snap.n_neurons + snap.n_inputs
        )
        visible = self.activity.visible_steps(dt)
        self.activity.rates.draw(bin_rates(self._rates.window(*visible, 3), dt, snap.n_neurons, snap.n_exc))
        self.activity.traces.draw(self._mon.window(*visible, 1), snap.monitor_idx, dt)
        self._frames += 1
        tab = self.view_tabs.currentIndex()
        if tab == Tab.WEIGHTS and (self._frames % WEIGHTS_EVERY == 0 or self.weights.hint.empty):
            self.weights.draw(snap)  # every few frames, and at once while the tab has nothing yet
        if tab == Tab.NETWORK:
            self._draw_network(snap, p)
        self.controls.show_readout(snap, running=self.runner.state == RunnerState.RUNNING)
        self._last_snap = snap

    def _draw_network(self, snap: SpikingSnapshot, p: SpikingParams) -> None:
        n = snap.n_neurons
        if n > NETWORK_VIEW_MAX:
            self.network.show_too_large()
            self._net_key = None
            return
        key = (p, snap.n_synapses)
        if key != self._net_key:  # lay the network out on the worker: seconds of networkx
            self._net_key = key
            self.runner.submit(
                lambda e: network_layout(e.conn.sources(), e.conn.indices, n),
                done=lambda layout: self._on_layout(key, layout),
                failed=lambda _exc: self._on_layout(key, None),
                context=self,
            )
        layout = self.network.layout_shown
        if layout is None or layout.xy.shape[0] != n:
            return
        t1 = snap.t_s
        recent = self._spikes.window((t1 - FLASH_S) / self._dt_s, t1 / self._dt_s + 1, 2)
        self.network.flash(flashing(recent, n), snap.n_exc)

    def _on_layout(self, key: Any, layout) -> None:
        if key != self._net_key:
            return  # the network changed meanwhile; a newer layout is on its way
        if layout is None:
            self._net_key = None  # try again next frame
            return
        self.network.show_layout(layout)

    # ------------------------------------------------------------------ jobs
    def start_training(self, which: str, tess_params=None) -> bool:
        """Run a training job on the worker (the network keeps its state)."""
        if self.runner is None:
            return False
        if which == "tess-digits":
            from engines.spiking import tess

            tp = tess_params or tess.TessParams()
            probe = geometry_probe(tp)
            factory = lambda _eng: tess.train_job(tp, seed=0, geometry=probe)  # noqa: E731
        elif which == "neurocorex-digits":
            from engines.spiking import ncx_digits

            factory = lambda _eng: ncx_digits.train_job()  # noqa: E731
        else:
            raise ValueError(f"unknown training preset {which!r}")
        self.training.starting(which)
        self.view_tabs.setCurrentIndex(Tab.TRAINING)
        return self.runner.run_job(factory)

    def start_ncx_demo(self, pause_s: float = 0.05, limit: int | None = None) -> bool:
        """Stream the NeuroCoreX digits test set through the integer datapath (a job)."""
        if self.runner is None:
            return False
        from engines.spiking import ncx_digits

        self.ncx.samples = 0
        self.ncx.status.setText("NeuroCoreX: loading the digits...")
        self.view_tabs.setCurrentIndex(Tab.NEUROCOREX)
        profile = self.ncx.profile()
        return self.runner.run_job(
            lambda _eng: ncx_digits.demo_job(pause_s=pause_s, limit=limit, profile=profile)
        )

    def analyse_geometry(self, windows: str = GEOMETRY_WINDOWS) -> bool:
        """Record the digits network's responses on the worker (the TESS network trained last here, else
        the shipped one), then send every population and window to the geometry workbench."""
        target = geometry_workbench(self)
        if self.runner is None or target is None:
            self.training.status.setText("Analyse geometry: open the Population geometry workbench first")
            return False
        state = (self.train_result or {}).get("state")
        self.training.status.setText("recording the responses to test digits…")
        self.runner.submit(
            lambda _eng: record("tess-digits", windows, tess_state=state),
            done=self._send_geometry,
            failed=lambda e: self.training.status.setText(f"Analyse geometry: {e}"),
            context=self,
        )
        return True

    def _send_geometry(self, resp) -> None:
        target = geometry_workbench(self)
        if target is None:
            return
        sets = resp.manifold_sets()
        self.window().show_panel(target.name)
        if target.analyse_activations(sets):
            self.training.status.setText(
                f"sent {len(sets)} response sets ({len(resp.labels)} digits) to {target.title}"
            )
        else:
            self.training.status.setText(
                f"Analyse geometry: {target.title} is busy; try again when it is done"
            )

    def on_job_progress(self, progress: Progress) -> None:
        v = progress.value
        if isinstance(v, dict) and "image" in v:
            self.ncx.show_sample(v)
            return
        self.training.status.setText(progress.message)
        self.training.show_result(v)

    def on_job_finished(self, result: Any, completed: bool) -> None:
        if isinstance(result, dict) and "image" in result:  # the demo was stopped
            self.ncx.status.setText(f"NeuroCoreX: stopped after {result['n']} digits")
            return
        if isinstance(result, dict) and result.get("preset") == "neurocorex-digits-demo":
            self.ncx.status.setText(
                f"NeuroCoreX ({result.get('profile', 'extended')} profile): test accuracy "
                f"{result['test_accuracy']:.3f} on {result['n_test']} digits"
            )
            return
        if isinstance(result, dict):
            self.training.show_result(result)
            acc = result.get("test_accuracy")
            if acc is None or not completed:
                self.training.status.setText("training stopped")
                return
            self.train_result = result
            self.training.status.setText(
                f"{result.get('preset', 'training')}: test accuracy {acc:.3f}"
                + (f" in {result['wall_s']:.0f} s" if "wall_s" in result else "")
            )
        elif not completed:
            self.training.status.setText("training stopped")

    # ------------------------------------------------------------------ workspace
    def panel_state(self) -> dict[str, Any]:
        c = self.controls
        return {
            "follow": c.follow_box.isChecked(),
            "window_s": c.window_s.value(),
            "picked": list(self._picked),
        }

    def restore_panel_state(self, state: dict[str, Any]) -> None:
        self.controls.follow_box.setChecked(bool(state.get("follow", True)))
        self.controls.window_s.setValue(float(state.get("window_s", 1.0)))
        picked = state.get("picked", [])
        if isinstance(picked, list):  # the engine state already records these neurons
            n = self._params.n_neurons
            self._picked = [int(j) for j in picked if isinstance(j, int) and 0 <= j < n]
