"""A small engine and panel used to test the contract, the runner and the window."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.base import Engine, Params, Progress, RingBuffer, StateError, frozen_array, param


@dataclass(frozen=True)
class ToyParams(Params):
    n_walkers: int = param(8, min=1, max=10_000, doc="number of random walkers")
    drift: float = param(0.0, unit="1/step", min=-1.0, max=1.0, doc="mean step of every walker")
    noise: float = param(1.0, min=0.0, max=100.0, doc="standard deviation of a step")
    threshold: float = param(3.0, min=0.1, max=1e6, doc="a walker above it emits an event and resets")
    fail_at_step: int = param(-1, min=-1, doc="raise RuntimeError at this step (-1: never)")
    mode: str = param("gauss", choices=("gauss", "uniform"), doc="distribution of steps")
    sleep_ms: float = param(0.0, unit="ms", min=0.0, max=100.0, doc="sleep per step (slows it down)")

    def validate(self) -> None:
        if self.mode == "uniform" and self.noise > 10:
            raise ValueError("ToyParams.noise: at most 10 when mode is 'uniform'")


@dataclass(frozen=True)
class ToySnapshot:
    step: int
    x: np.ndarray
    events: np.ndarray
    params: ToyParams


class ToyEngine(Engine):
    params_type = ToyParams
    name = "toy"
    title = "Toy"
    step_unit = "steps"
    default_chunk = 10

    def __init__(self, params: ToyParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self.events = RingBuffer(256, dtype=np.int64, shape=(2,))
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        if seed is not None:
            self.seed = int(seed)
        self.rng = np.random.default_rng(self.seed)
        self.x = np.zeros(self.params.n_walkers)
        self.t = 0
        self.events.clear()
        self.log(f"reset with seed {self.seed}")

    @property
    def time(self) -> float:
        return float(self.t)

    def set_params(self, params: ToyParams) -> None:
        self._check_params_type(params)
        old = self.params
        self.params = params
        if params.n_walkers != old.n_walkers:
            self.reset(self.seed)

    def step(self, n: int = 1) -> int:
        p = self.params
        for _ in range(n):
            if p.fail_at_step >= 0 and self.t >= p.fail_at_step:
                raise RuntimeError(f"toy failure at step {self.t}")
            if p.mode == "gauss":
                self.x += p.drift + p.noise * self.rng.standard_normal(self.x.shape)
            else:
                self.x += p.drift + p.noise * self.rng.uniform(-1, 1, self.x.shape)
            hit = np.flatnonzero(np.abs(self.x) > p.threshold)
            if hit.size:
                self.events.append(np.stack([np.full(hit.size, self.t), hit], axis=1))
                self.x[hit] = 0.0
            self.t += 1
            if p.sleep_ms:
                time.sleep(p.sleep_ms / 1000)
        return n

    def snapshot(self) -> ToySnapshot:
        return ToySnapshot(self.t, frozen_array(self.x), frozen_array(self.events.latest(64)), self.params)

    def state_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "x": self.x.copy(),
            "rng": self.rng.bit_generator.state,
            "events": self.events.state_dict(),
        }

    def load_state_dict(self, d: dict[str, Any]) -> None:
        x = np.asarray(d["x"], dtype=float)
        if x.shape != self.x.shape:
            raise StateError(f"toy state holds {x.shape[0]} walkers, this engine has {self.x.shape[0]}")
        self.x = x.copy()
        self.t = int(d["t"])
        self.rng.bit_generator.state = d["rng"]
        self.events.load_state_dict(d["events"])

    def count_job(self, n: int, delay_s: float = 0.0):
        """A one-shot job: n steps, reporting progress after each."""
        total = 0
        try:
            for i in range(n):
                self.step(1)
                total += 1
                if delay_s:
                    time.sleep(delay_s)
                yield Progress(i + 1, n, f"step {i + 1}", value=total)
        finally:
            self.job_cleanup = True
        return total


def make_toy_panel_class(name: str = "toy", title: str = "Toy"):
    """A real (small) panel over ToyEngine: a curve of the walkers and a parameter form."""
    import pyqtgraph as pg
    from PySide6 import QtWidgets

    from studio.panels.base import Panel
    from studio.widgets.paramform import ParamForm

    class ToyPanel(Panel):
        engine_type = ToyEngine

        def __init__(self, parent=None):
            super().__init__(parent)
            lay = QtWidgets.QHBoxLayout(self.body)
            self.plot = pg.PlotWidget()
            self.curve = self.plot.plot([], [], pen=pg.mkPen("c", width=1), symbol="o")
            self.plot.setYRange(-5, 5)
            lay.addWidget(self.plot, 1)
            self.form = ParamForm(ToyParams())
            self.form.params_changed.connect(lambda p: self.runner.set_params(p))
            lay.addWidget(self.form)
            self.last_step = -1
            self.zoom = 1.0

        def update_view(self, snap: ToySnapshot) -> None:
            self.curve.setData(np.arange(snap.x.size), snap.x)
            self.last_step = snap.step

        def on_params_restored(self, params):
            self.form.set_params(params)

        def panel_state(self):
            return {"zoom": self.zoom}

        def restore_panel_state(self, state):
            self.zoom = float(state.get("zoom", 1.0))

    ToyPanel.name = name
    ToyPanel.title = title
    ToyPanel.__name__ = f"ToyPanel_{name}"
    return ToyPanel
