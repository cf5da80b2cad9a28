"""The LIF network engine: conductance- and current-based LIF, STDP, monitors."""

from __future__ import annotations

import dataclasses
import math
import os
import threading
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engines.base import (
    Engine,
    EngineError,
    RingBuffer,
    StateError,
    check_cancelled,
    frozen_array,
    load_all_or_nothing,
)

from . import connectivity as conn_mod
from . import kernels as K
from .connectivity import Connectivity
from .io import STATE_KIND, load_edge_list, load_state_file, save_state_file
from .params import SpikingParams

__all__ = ["SpikingEngine", "SpikingRecords", "SpikingSnapshot", "StreamCursors"]


#: parameters that can change while running without rebuilding the network
DYNAMIC_FIELDS = frozenset(
    {
        "integration",
        "tau_m_ms",
        "v_rest_mV",
        "v_reset_mV",
        "v_thresh_mV",
        "refractory_ms",
        "i_ext_mV",
        "tau_e_ms",
        "tau_i_ms",
        "e_exc_mV",
        "e_inh_mV",
        "input_rate_hz",
        "stdp",
        "stdp_tau_pre_ms",
        "stdp_tau_post_ms",
        "stdp_a_plus",
        "stdp_a_minus",
        "stdp_w_max",
        "monitor_every",
        "max_rate_hz",
        # only used when (re)initialising the state:
        "v0_distribution",
        "v0_mean_mV",
        "v0_std_mV",
        "ge0_mean",
        "ge0_std",
        "gi0_mean",
        "gi0_std",
    }
)

_MODEL_CODE = {"coba": K.COBA, "cuba_exp": K.CUBA_EXP, "cuba_delta": K.CUBA_DELTA}
_STDP_CODE = {"off": 0, "additive": 1, "multiplicative": 2}
_KERNEL_STEPS = 2000  # steps per kernel call at most (bounds scratch memory)
_V_LIMIT = 1e5  # |v| in mV beyond which a run has blown up


@dataclass(frozen=True)
class SpikingSnapshot:
    """An immutable view of the network for a GUI (arrays are read-only copies)."""

    #: fields that measure this machine's speed, not the model: they differ between runs of one seed
    measured: ClassVar[tuple[str, ...]] = ("wall_s", "events_per_s", "realtime_factor")

    t_s: float
    step: int
    dt_ms: float
    model: str
    n_neurons: int
    n_exc: int
    n_inputs: int
    n_synapses: int
    total_spikes: int
    total_events: int
    wall_s: float
    events_per_s: float
    realtime_factor: float  # biological seconds per wall second
    rate_e_hz: float  # over the last ~100 ms
    rate_i_hz: float
    spike_cursor: int
    rate_cursor: int
    monitor_cursor: int
    monitor_idx: np.ndarray
    monitor_since_step: int
    plastic: bool
    weight_hist: np.ndarray | None  # counts of plastic weights
    weight_edges: np.ndarray | None
    weight_matrix: np.ndarray | None  # (n_sources, n_neurons), small networks only
    v: np.ndarray | None  # membrane potentials (networks up to 100k neurons)


@dataclass(frozen=True)
class StreamCursors:
    """Where a reader of the engine's streams stands: what :meth:`SpikingEngine.read_streams` returned.

    ``epoch`` names the streams read (a reset or a loaded state starts new
    ones); the default, ``epoch = -1``, reads everything held.
    """

    epoch: int = -1
    spikes: int = 0
    rates: int = 0
    monitor: int = 0


@dataclass(frozen=True)
class SpikingRecords:
    """The stream records a reader has not seen yet (read-only copies).

    ``restarted`` is True when the streams are not those the reader's cursors
    came from (the engine was reset or loaded a state): what the reader kept
    from before belongs to another run. ``monitor`` holds only the records
    since ``monitor_since_step`` (when the monitored neurons last changed).
    """

    cursors: StreamCursors
    restarted: bool
    spikes: np.ndarray  # (k, 2): step, unit
    rates: np.ndarray  # (k, 3): step, E spikes, I spikes
    monitor: np.ndarray  # (k, 1 + 3 * monitor_count): step, v..., ge..., gi...
    monitor_since_step: int


def _count(v: Any, name: str, hi: int = 2**31) -> int:
    """A stored integer field in [0, hi) (a StateError otherwise)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not 0 <= v < hi:
        raise StateError(f"state field {name!r} = {str(v)[:40]}: must be an integer in [0, {hi})")
    return int(v)


class SpikingEngine(Engine[SpikingParams, SpikingSnapshot]):
    """A network of LIF neurons simulated in chunks of time steps by numba kernels.

    Streams read by cursor:

    * ``spikes``: records ``(step, unit)``; units ``>= n_neurons`` are inputs;
    * ``rates``: per time step ``(step, excitatory spikes, inhibitory spikes)``;
    * ``monitor``: every ``monitor_every`` steps ``(step, v[k]..., ge[k]..., gi[k]...)``
      for the ``monitor_count`` monitored neurons (NaN in unused slots).
    """

    params_type = SpikingParams
    name = "spiking"
    title = "Spiking activity"
    step_unit = "time steps"
    default_chunk = 100

    def __init__(self, params: SpikingParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._lock = threading.RLock()
        self._graph = None
        self._pending_monitor: np.ndarray | None = None
        self._custom_mask: np.ndarray | None = None
        self._stream_epoch = 0  # counts the ring buffers made (reset, load): see read_streams
        self.reset(seed)

    # ------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------
    @property
    def n(self) -> int:
        return self.params.n_neurons

    @property
    def n_exc(self) -> int:
        return self.params.n_exc

    @property
    def n_inputs(self) -> int:
        return self.params.n_inputs

    @property
    def time(self) -> float:
        return self.step_count * self.params.dt_ms * 1e-3

    @property
    def dtype(self) -> type:
        """Floating point type of the neuron and synapse state."""
        return np.float32 if self.params.precision == "float32" else np.float64

    def _weight_of_source(self) -> np.ndarray:
        p = self.params
        w = np.full(self.n, p.w_exc)
        w[self.n_exc :] = -p.w_inh
        return w

    def _delay_steps(self) -> tuple[int, int]:
        p = self.params
        return int(round(p.delay_min_ms / p.dt_ms)), int(round(p.delay_max_ms / p.dt_ms))

    def _build_connectivity(self, rng: np.random.Generator) -> Connectivity:
        p = self.params
        n, n_in = self.n, self.n_inputs
        wsrc = self._weight_of_source()
        parts = []
        if self._graph is not None:
            parts.append(conn_mod.from_networkx(self._graph, n, wsrc, p.dt_ms))
        elif p.connectivity == "fixed_prob":
            parts.append(
                conn_mod.fixed_probability(
                    rng, n, n, p.p_connect, wsrc, autapses=p.autapses, delays=self._delay_steps()
                )
            )
        elif p.connectivity == "dense":
            pre, post, w, d = conn_mod.dense(n, n, wsrc, autapses=p.autapses)
            parts.append((pre, post, w, conn_mod._draw_delays(rng, pre.size, self._delay_steps())))
        elif p.connectivity in ("small_world", "scale_free"):
            import networkx as nx

            gseed = int(rng.integers(2**31))
            if p.connectivity == "small_world":
                k = min(p.graph_k, n - 1)
                g = nx.watts_strogatz_graph(n, k, p.graph_rewire_p, seed=gseed)
            else:
                if not 1 <= p.graph_m < n:
                    raise ValueError(f"SpikingParams.graph_m = {p.graph_m}: must be in [1, n_neurons)")
                g = nx.barabasi_albert_graph(n, p.graph_m, seed=gseed)
            pre, post, w, d = conn_mod.from_networkx(g, n, wsrc, p.dt_ms)
            parts.append((pre, post, w, conn_mod._draw_delays(rng, pre.size, self._delay_steps())))
        elif p.connectivity == "edge_list":
            parts.append(load_edge_list(p.edge_list_path, n, wsrc, p.dt_ms))
        if n_in > 0 and p.input_p > 0:
            pre, post, _, d = conn_mod.fixed_probability(rng, n_in, n, p.input_p, np.zeros(n_in))
            if p.input_weight_random:
                w = rng.uniform(0.0, p.input_weight, size=pre.size)
            else:
                w = np.full(pre.size, p.input_weight)
            parts.append((pre + n, post, w, np.zeros(pre.size, np.int64)))
        if parts:
            pre = np.concatenate([q[0] for q in parts])
            post = np.concatenate([q[1] for q in parts])
            w = np.concatenate([q[2] for q in parts])
            d = np.concatenate([q[3] for q in parts])
        else:
            pre = post = d = np.zeros(0, np.int64)
            w = np.zeros(0)
        return conn_mod.from_edges(n + n_in, n, pre, post, w, d)

    def _default_mask(self) -> np.ndarray:
        p = self.params
        src = self._syn_pre
        w = self.conn.weights
        if p.stdp_synapses == "inputs":
            m = src >= self.n
        elif p.stdp_synapses == "exc":
            m = src < self.n_exc
        else:
            m = (src < self.n_exc) | (src >= self.n)
        return (m & (w >= 0)).astype(np.uint8)

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            if seed is not None:
                self.seed = int(seed)
            p = self.params
            n, n_in = self.n, self.n_inputs
            ss = np.random.SeedSequence(self.seed)
            rng_conn, rng_init, rng_thr = (np.random.default_rng(s) for s in ss.spawn(3))
            self.conn = self._build_connectivity(rng_conn)
            self._finish_connectivity()
            # state
            if p.v0_distribution == "normal":
                self.v = p.v0_mean_mV + p.v0_std_mV * rng_init.standard_normal(n)
            else:
                self.v = rng_init.uniform(p.v0_mean_mV - p.v0_std_mV, p.v0_mean_mV + p.v0_std_mV, n)
            self.se = p.ge0_mean + p.ge0_std * rng_init.standard_normal(n)
            self.si = p.gi0_mean + p.gi0_std * rng_init.standard_normal(n)
            if p.model == "cuba_delta":
                self.se[:] = 0.0
                self.si[:] = 0.0
            self.refc = np.zeros(n, np.int32)
            self.vt = np.full(n, p.v_thresh_mV)
            if p.v_thresh_std_mV > 0:
                self.vt += p.v_thresh_std_mV * rng_thr.standard_normal(n)
            self.iext = np.full(n, p.i_ext_mV)
            fdt = self.dtype
            self.v, self.se, self.si = self.v.astype(fdt), self.se.astype(fdt), self.si.astype(fdt)
            self.vt, self.iext = self.vt.astype(fdt), self.iext.astype(fdt)
            self.in_rate_hz = np.full(n_in, p.input_rate_hz)
            self.st_steps = np.zeros(0, np.int64)
            self.st_ids = np.zeros(0, np.int32)
            self.st_ptr = np.zeros(1, np.int64)
            self.current_events: list[tuple[int, float, np.ndarray | None]] = []
            self.xpre = np.zeros(n + n_in)
            self.xpost = np.zeros(n)
            self.step_count = 0
            self.total_spikes = 0
            self.total_events = 0
            self.wall_s = 0.0
            self._guard = [0, 0]  # spikes, steps since the last runaway check
            self._failed: str | None = None
            # monitors
            mc = p.monitor_count
            self.monitor_idx = np.full(mc, -1, np.int64)
            default = np.linspace(0, n - 1, min(mc, n)).round().astype(np.int64)
            self.monitor_idx[: default.size] = default
            self.monitor_since_step = 0
            self.spikes = RingBuffer(p.spike_buffer, np.int64, (2,))
            self.rates = RingBuffer(p.rate_buffer, np.int64, (3,))
            self.monitor = RingBuffer(p.monitor_buffer, np.float64, (1 + 3 * mc,))
            self._stream_epoch += 1
            self._alloc_scratch()
            self._compile_constants()
            self._run_kernel(0)  # compile (or load the compiled kernel) outside the timed runs
            self.wall_s = 0.0

    def _finish_connectivity(self) -> None:
        """Derived arrays of ``self.conn``: sources, CSC order, delay queue, mask."""
        c = self.conn
        self._syn_pre = c.sources()
        self._post_ptr, self._post_syn = c.by_target()
        dmax = c.max_delay
        slots = dmax + 1 if dmax > 0 else 0
        self.acc_e = np.zeros((max(slots, 1), self.n), self.dtype)
        self.acc_i = np.zeros((max(slots, 1), self.n), self.dtype)
        self._delay_slots = slots
        if self._custom_mask is not None and self._custom_mask.shape == c.weights.shape:
            self.plastic_mask = (self._custom_mask & (c.weights >= 0)).astype(np.uint8)
        else:
            self._custom_mask = None
            self.plastic_mask = self._default_mask()

    def _alloc_scratch(self) -> None:
        n, n_in = self.n, self.n_inputs
        cap = max(4 * (n + n_in), 1 << 16)
        self._spk_step = np.zeros(cap, np.int64)
        self._spk_id = np.zeros(cap, np.int64)
        self._rate_buf = np.zeros((_KERNEL_STEPS, 2), np.int64)
        mc = self.params.monitor_count
        self._mon_buf = np.zeros((_KERNEL_STEPS + 1, 1 + 3 * mc))
        self._counters = np.zeros(K.N_COUNTERS, np.int64)

    def _compile_constants(self) -> None:
        p = self.params
        dt = p.dt_ms
        fp = np.zeros(K.N_FP)
        fp[K.F_DT_TAU] = dt / p.tau_m_ms
        if p.integration == "euler":
            fp[K.F_DECAY_E] = 1.0 - dt / p.tau_e_ms
            fp[K.F_DECAY_I] = 1.0 - dt / p.tau_i_ms
            fp[K.F_TR_DECAY_PRE] = 1.0 - dt / p.stdp_tau_pre_ms
            fp[K.F_TR_DECAY_POST] = 1.0 - dt / p.stdp_tau_post_ms
        else:
            fp[K.F_DECAY_E] = math.exp(-dt / p.tau_e_ms)
            fp[K.F_DECAY_I] = math.exp(-dt / p.tau_i_ms)
            fp[K.F_TR_DECAY_PRE] = math.exp(-dt / p.stdp_tau_pre_ms)
            fp[K.F_TR_DECAY_POST] = math.exp(-dt / p.stdp_tau_post_ms)
        fp[K.F_V_REST] = p.v_rest_mV
        fp[K.F_V_RESET] = p.v_reset_mV
        fp[K.F_E_E] = p.e_exc_mV
        fp[K.F_E_I] = p.e_inh_mV
        fp[K.F_A_PLUS] = p.stdp_a_plus
        fp[K.F_A_MINUS] = p.stdp_a_minus
        fp[K.F_W_MAX] = p.stdp_w_max
        fp[K.F_V_LIMIT] = _V_LIMIT
        fp[K.F_TINY] = K.TINY
        fp[K.F_ONE] = 1.0
        fp = fp.astype(self.dtype)  # the kernel's scalars take the state's type
        ip = np.zeros(K.N_IP, np.int64)
        ip[K.I_MODEL] = _MODEL_CODE[p.model]
        ip[K.I_N] = self.n
        ip[K.I_N_IN] = self.n_inputs
        ip[K.I_REF_STEPS] = int(round(p.refractory_ms / dt))
        ip[K.I_N_EXC] = self.n_exc
        ip[K.I_DELAY_SLOTS] = self._delay_slots
        ip[K.I_STDP] = _STDP_CODE[p.stdp]
        ip[K.I_MON_EVERY] = p.monitor_every if p.monitor_count > 0 else 0
        ip[K.I_EXP_EULER] = 1 if p.integration == "exponential" else 0
        ip[K.I_SEED] = self.seed & 0x7FFFFFFFFFFFFFFF
        self._fp, self._ip = fp, ip
        self._in_prob = np.clip(self.in_rate_hz * dt * 1e-3, 0.0, 1.0)
        # STDP may have made uniform rows non-uniform: the kinds are recomputed here
        self._row_kind = self.conn.row_kinds()

    def set_params(self, params: SpikingParams) -> None:
        self._check_params_type(params)
        with self._lock:
            old = self.params
            changed = {
                f.name for f in dataclasses.fields(params) if getattr(params, f.name) != getattr(old, f.name)
            }
            self.params = params
            if not changed <= DYNAMIC_FIELDS:
                self.reset(self.seed)
                return
            if "v_thresh_mV" in changed:
                self.vt += params.v_thresh_mV - old.v_thresh_mV
            if "i_ext_mV" in changed:
                self.iext[:] = params.i_ext_mV
            if "input_rate_hz" in changed:
                self.in_rate_hz[:] = params.input_rate_hz
            if "refractory_ms" in changed:
                np.minimum(self.refc, int(round(params.refractory_ms / params.dt_ms)), out=self.refc)
            self._compile_constants()

    # ------------------------------------------------------------------
    # inputs, structure and monitors
    # ------------------------------------------------------------------
    def set_input_rates(self, rates_hz: Any) -> None:
        """Poisson rate (Hz) of every input unit (e.g. a rate-coded image)."""
        r = np.asarray(rates_hz, np.float64).ravel()
        if r.shape != (self.n_inputs,):
            raise ValueError(f"set_input_rates: expected {self.n_inputs} rates, got {r.size}")
        if not np.all(np.isfinite(r)) or r.min(initial=0) < 0:
            raise ValueError("set_input_rates: rates must be finite and >= 0 Hz")
        with self._lock:
            self.in_rate_hz = r.copy()
            self._in_prob = np.clip(r * self.params.dt_ms * 1e-3, 0.0, 1.0)

    def set_spike_times(self, units: Any, times_s: Any) -> None:
        """Input unit ``units[k]`` fires at biological time ``times_s[k]`` (replaces the schedule)."""
        u = np.asarray(units, np.int64).ravel()
        t = np.asarray(times_s, np.float64).ravel()
        if u.shape != t.shape:
            raise ValueError(f"set_spike_times: {u.size} units but {t.size} times")
        if u.size and (u.min() < 0 or u.max() >= self.n_inputs):
            raise ValueError(f"set_spike_times: input units must be in [0, {self.n_inputs})")
        if not np.all(np.isfinite(t)):
            raise ValueError("set_spike_times: times must be finite")
        steps = np.round(t / (self.params.dt_ms * 1e-3))
        if steps.size and np.abs(steps).max() > 2**61 // max(self.n_inputs, 1):
            raise ValueError("set_spike_times: times are too far from 0")
        steps = steps.astype(np.int64)
        # one spike per unit and step at most (the kernel's spike buffer holds one per unit)
        pairs = np.unique(np.stack([steps, u], axis=1), axis=0) if u.size else np.zeros((0, 2), np.int64)
        with self._lock:
            self.st_steps = np.ascontiguousarray(pairs[:, 0])
            self.st_ids = np.ascontiguousarray(pairs[:, 1].astype(np.int32))
            self.st_ptr[0] = int(np.searchsorted(self.st_steps, self.step_count))

    def add_current_step(self, t_s: float, value_mV: float, neurons: Any = None) -> None:
        """From biological time ``t_s`` on, drive ``neurons`` (default all) with ``value_mV``."""
        if not (math.isfinite(t_s) and math.isfinite(value_mV)):
            raise ValueError("add_current_step: time and value must be finite")
        idx = None
        if neurons is not None:
            idx = np.asarray(neurons, np.int64).ravel()
            if idx.size and (idx.min() < 0 or idx.max() >= self.n):
                raise ValueError(f"add_current_step: neurons must be in [0, {self.n})")
        step = int(round(t_s / (self.params.dt_ms * 1e-3)))
        with self._lock:
            self.current_events.append((step, float(value_mV), idx))
            self.current_events.sort(key=lambda e: e[0])

    def set_currents(self, values_mV: Any) -> None:
        """Constant drive of every neuron now (scalar or one value per neuron)."""
        v = np.broadcast_to(np.asarray(values_mV, np.float64), (self.n,))
        if not np.all(np.isfinite(v)):
            raise ValueError("set_currents: values must be finite")
        with self._lock:
            self.iext[:] = v

    def set_thresholds(self, vt_mV: Any) -> None:
        """Per-neuron thresholds (scalar or one value per neuron), in mV."""
        v = np.broadcast_to(np.asarray(vt_mV, np.float64), (self.n,))
        if not np.all(np.isfinite(v)):
            raise ValueError("set_thresholds: thresholds must be finite")
        if np.any(v <= self.params.v_reset_mV):
            raise ValueError("set_thresholds: every threshold must be above v_reset_mV")
        with self._lock:
            self.vt[:] = v

    def set_graph(self, graph) -> None:
        """Use a networkx graph as the recurrent connectivity (rebuilds and resets)."""
        if graph is not None and graph.number_of_nodes() != self.n:
            raise ValueError(
                f"set_graph: the graph has {graph.number_of_nodes()} nodes, the network {self.n} neurons"
            )
        self._graph = graph
        self.reset(self.seed)

    def set_plastic_mask(self, mask: Any) -> None:
        """Which synapses learn (one flag per synapse, in ``conn`` order)."""
        m = np.asarray(mask).ravel().astype(bool)
        if m.shape != self.conn.weights.shape:
            raise ValueError(f"set_plastic_mask: expected {self.conn.n_synapses} flags, got {m.size}")
        with self._lock:
            self._custom_mask = m
            self.plastic_mask = (m & (self.conn.weights >= 0)).astype(np.uint8)

    def set_monitor(self, neurons: Any) -> None:
        """Record these neurons' state (at most ``monitor_count``); applied before the next step."""
        idx = np.asarray(neurons, np.int64).ravel()
        if idx.size > self.params.monitor_count:
            raise ValueError(f"set_monitor: at most monitor_count = {self.params.monitor_count} neurons")
        if idx.size and (idx.min() < 0 or idx.max() >= self.n):
            raise ValueError(f"set_monitor: neurons must be in [0, {self.n})")
        full = np.full(self.params.monitor_count, -1, np.int64)
        full[: idx.size] = idx
        with self._lock:
            self._pending_monitor = full

    def weights(self) -> np.ndarray:
        with self._lock:
            return self.conn.weights.copy()

    # ------------------------------------------------------------------
    # running
    # ------------------------------------------------------------------
    def step(self, n: int = 1) -> int:
        n = int(n)
        if n <= 0:
            return 0
        with self._lock:
            if self._failed:
                raise EngineError(self._failed)
            if self._pending_monitor is not None:
                self.monitor_idx = self._pending_monitor
                self._pending_monitor = None
                self.monitor_since_step = self.step_count
            done = 0
            while done < n:
                if done:
                    check_cancelled()  # a long step(n) stops between kernel chunks when its job is cancelled
                # apply due current steps, and stop the chunk at the next one
                while self.current_events and self.current_events[0][0] <= self.step_count:
                    _, val, idx = self.current_events.pop(0)
                    if idx is None:
                        self.iext[:] = val
                    else:
                        self.iext[idx] = val
                m = min(n - done, _KERNEL_STEPS)
                if self.current_events:
                    m = min(m, self.current_events[0][0] - self.step_count)
                s = self._run_kernel(m)
                done += s
                if self._counters[K.C_STATUS] != 0:
                    j = int(self._counters[K.C_BAD_NEURON])
                    # j < 0: the neuron passed the limit, fired and was reset within the step
                    where = (
                        f"neuron {j} has v = {float(self.v[j]):.4g} mV"
                        if 0 <= j < self.v.size
                        else f"a membrane potential passed +-{_V_LIMIT:g} mV"
                    )
                    self._failed = (
                        f"the network blew up: {where} at t = {self.time:.4f} s "
                        f"(model {self.params.model}, dt {self.params.dt_ms} ms); lower the weights, the "
                        "drive or dt_ms, then reset"
                    )
                    self.log(self._failed, "error")
                    raise EngineError(self._failed)
            self._check_runaway()
            return done

    def _run_kernel(self, m: int) -> int:
        c = self.conn
        t0 = _time.perf_counter()
        s = K.run_chunk(
            m,
            self.step_count,
            self._fp,
            self._ip,
            self.v,
            self.se,
            self.si,
            self.refc,
            self.vt,
            self.iext,
            c.indptr,
            c.indices,
            c.weights,
            c.delays,
            self._row_kind,
            self.acc_e,
            self.acc_i,
            self._in_prob,
            self.st_steps,
            self.st_ids,
            self.st_ptr,
            self.plastic_mask,
            self.xpre,
            self.xpost,
            self._post_ptr,
            self._post_syn,
            self._syn_pre,
            self.monitor_idx,
            self._mon_buf,
            self._spk_step,
            self._spk_id,
            self._rate_buf,
            self._counters,
        )
        self.wall_s += _time.perf_counter() - t0
        cnt = self._counters
        k = int(cnt[K.C_SPIKES])
        if k:
            self.spikes.append(np.stack([self._spk_step[:k], self._spk_id[:k]], axis=1))
        if s:
            steps = np.arange(self.step_count, self.step_count + s, dtype=np.int64)
            self.rates.append(np.column_stack([steps, self._rate_buf[:s]]))
            self._guard[0] += int(self._rate_buf[:s].sum())
            self._guard[1] += s
        nm = int(cnt[K.C_MON])
        if nm:
            self.monitor.append(self._mon_buf[:nm])
        self.total_spikes += k
        self.total_events += int(cnt[K.C_EVENTS])
        self.step_count += s
        return s

    def _check_runaway(self) -> None:
        spikes, steps = self._guard
        window_s = steps * self.params.dt_ms * 1e-3
        if window_s < 0.02:
            return
        self._guard = [0, 0]
        rate = spikes / max(self.n, 1) / window_s
        if rate > self.params.max_rate_hz:
            self._failed = (
                f"runaway activity: mean rate {rate:.0f} Hz over the last {window_s * 1e3:.0f} ms at "
                f"t = {self.time:.3f} s exceeds max_rate_hz = {self.params.max_rate_hz:g}; lower the "
                "excitatory weights or the drive, then reset"
            )
            self.log(self._failed, "error")
            raise EngineError(self._failed)

    def run(self, duration_s: float) -> int:
        """Advance by ``duration_s`` of biological time."""
        return self.step(int(round(duration_s / (self.params.dt_ms * 1e-3))))

    # ------------------------------------------------------------------
    # read-outs
    # ------------------------------------------------------------------
    def recent_rates(self, window_steps: int | None = None) -> tuple[float, float]:
        """Mean E and I rates (Hz) over the last ``window_steps`` (default 100 ms)."""
        p = self.params
        if window_steps is None:
            window_steps = max(1, int(round(100.0 / p.dt_ms)))
        rec = self.rates.latest(window_steps)
        if rec.shape[0] == 0:
            return 0.0, 0.0
        t = rec.shape[0] * p.dt_ms * 1e-3
        n_i = self.n - self.n_exc
        re = rec[:, 1].sum() / max(self.n_exc, 1) / t if self.n_exc else 0.0
        ri = rec[:, 2].sum() / max(n_i, 1) / t if n_i else 0.0
        return float(re), float(ri)

    def snapshot(self) -> SpikingSnapshot:
        with self._lock:
            p = self.params
            re, ri = self.recent_rates()
            plastic = p.stdp != "off" and bool(self.plastic_mask.any())
            hist = edges = mat = None
            if plastic:
                w = self.conn.weights[self.plastic_mask.astype(bool)]
                hist, edges = np.histogram(w, bins=50, range=(0.0, max(p.stdp_w_max, 1e-12)))
            n_src = self.n + self.n_inputs
            if n_src * self.n <= 250_000:
                mat = np.zeros((n_src, self.n))
                mat[self._syn_pre, self.conn.indices] = self.conn.weights
            bio = self.time
            return SpikingSnapshot(
                t_s=bio,
                step=self.step_count,
                dt_ms=p.dt_ms,
                model=p.model,
                n_neurons=self.n,
                n_exc=self.n_exc,
                n_inputs=self.n_inputs,
                n_synapses=self.conn.n_synapses,
                total_spikes=self.total_spikes,
                total_events=self.total_events,
                wall_s=self.wall_s,
                events_per_s=self.total_events / self.wall_s if self.wall_s > 0 else 0.0,
                realtime_factor=bio / self.wall_s if self.wall_s > 0 else 0.0,
                rate_e_hz=re,
                rate_i_hz=ri,
                spike_cursor=self.spikes.cursor,
                rate_cursor=self.rates.cursor,
                monitor_cursor=self.monitor.cursor,
                monitor_idx=frozen_array(self.monitor_idx),
                monitor_since_step=self.monitor_since_step,
                plastic=plastic,
                weight_hist=None if hist is None else frozen_array(hist),
                weight_edges=None if edges is None else frozen_array(edges),
                weight_matrix=None if mat is None else frozen_array(mat),
                v=frozen_array(self.v) if self.n <= 100_000 else None,
            )

    def read_streams(self, since: StreamCursors | None = None) -> SpikingRecords:
        """The spikes, rates and monitor records added since ``since`` (everything held if None).

        A reader keeps the returned ``cursors`` and passes them back next time;
        when the streams were replaced meanwhile (reset, loaded state) it gets
        everything held and ``restarted`` set.
        """
        with self._lock:
            since = since or StreamCursors()
            restarted = since.epoch != self._stream_epoch
            if restarted:
                since = StreamCursors(self._stream_epoch)
            spikes, c_spikes, _ = self.spikes.read_since(since.spikes)
            rates, c_rates, _ = self.rates.read_since(since.rates)
            monitor, c_monitor, _ = self.monitor.read_since(since.monitor)
            if monitor.shape[0]:
                monitor = monitor[monitor[:, 0] >= self.monitor_since_step]
            for a in (spikes, rates, monitor):  # fresh copies already: freeze, do not copy again
                a.setflags(write=False)
            return SpikingRecords(
                cursors=StreamCursors(self._stream_epoch, c_spikes, c_rates, c_monitor),
                restarted=restarted,
                spikes=spikes,
                rates=rates,
                monitor=monitor,
                monitor_since_step=self.monitor_since_step,
            )

    def stats(self) -> dict[str, Any]:
        """Totals since reset: spikes, rates, synapses, wall time, events/s."""
        t = self.time
        rec = self.rates.read_since(0)[0]
        held = rec.shape[0] == self.step_count
        n_i = self.n - self.n_exc
        out = {
            "model": self.params.model,
            "n_neurons": self.n,
            "duration_s": t,
            "spikes": self.total_spikes,
            "synapses": self.conn.n_synapses,
            "rate_hz": self._rate_total() / t if t > 0 else 0.0,
            "synaptic_events": self.total_events,
            "wall_s": self.wall_s,
            "events_per_s": self.total_events / self.wall_s if self.wall_s > 0 else 0.0,
            "realtime_factor": t / self.wall_s if self.wall_s > 0 else 0.0,
        }
        if held and t > 0:
            out["rate_e_hz"] = float(rec[:, 1].sum()) / max(self.n_exc, 1) / t if self.n_exc else 0.0
            out["rate_i_hz"] = float(rec[:, 2].sum()) / max(n_i, 1) / t if n_i else 0.0
        return out

    def _rate_total(self) -> float:
        rec = self.rates.read_since(0)[0]
        if rec.shape[0] == self.step_count:
            return float(rec[:, 1:].sum()) / max(self.n, 1)
        return self.total_spikes / max(self.n + self.n_inputs, 1)

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "kind": STATE_KIND,
                "params": self.params.to_dict(),
                "seed": self.seed,
                "step": self.step_count,
                "n_neurons": self.n,
                "n_inputs": self.n_inputs,
                "v": self.v.copy(),
                "se": self.se.copy(),
                "si": self.si.copy(),
                "refc": self.refc.copy(),
                "vt": self.vt.copy(),
                "iext": self.iext.copy(),
                "conn": self.conn.state_dict(),
                "plastic_mask": self.plastic_mask.copy(),
                "custom_mask": None if self._custom_mask is None else self._custom_mask.copy(),
                "acc_e": self.acc_e.copy(),
                "acc_i": self.acc_i.copy(),
                "xpre": self.xpre.copy(),
                "xpost": self.xpost.copy(),
                "in_rate_hz": self.in_rate_hz.copy(),
                "st_steps": self.st_steps.copy(),
                "st_ids": self.st_ids.copy(),
                "st_ptr": int(self.st_ptr[0]),
                "current_events": [
                    {"step": s, "value": v, "neurons": None if i is None else i.copy()}
                    for s, v, i in self.current_events
                ],
                "monitor_idx": self.monitor_idx.copy(),
                "monitor_since_step": self.monitor_since_step,
                "spikes": self.spikes.state_dict(),
                "rates": self.rates.state_dict(),
                "monitor": self.monitor.state_dict(),
                "totals": {
                    "spikes": self.total_spikes,
                    "events": self.total_events,
                    "guard_spikes": self._guard[0],
                    "guard_steps": self._guard[1],
                },
            }

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; one that does not fit raises StateError and changes nothing.

        Every array is checked before the kernels see it (shapes, finite values,
        indices in range), since they index without bounds checks.
        """
        load_all_or_nothing(self._load_state, self.state_dict(), d, "spiking state")

    def _load_state(self, d: Mapping[str, Any]) -> None:
        if not isinstance(d, Mapping) or d.get("kind") != STATE_KIND:
            raise StateError("not a spiking LIF engine state (kind is missing or different)")
        n, n_in = _count(d["n_neurons"], "n_neurons"), _count(d["n_inputs"], "n_inputs")
        if (n, n_in) != (self.n, self.n_inputs):
            raise StateError(
                f"the state is of a network of {n} neurons and {n_in} inputs; this engine has "
                f"{self.n} neurons and {self.n_inputs} inputs: set matching parameters (the same preset) "
                "before loading it"
            )
        params = SpikingParams.from_dict(d["params"])

        def arr(key, dtype, shape, lo=None, hi=None):
            raw = np.asarray(d[key])
            if raw.dtype.kind not in "biuf":
                raise StateError(f"state field {key!r} is not numeric ({raw.dtype})")
            if shape is not None and raw.shape != shape:
                raise StateError(f"state field {key!r} has shape {raw.shape}, expected {shape}")
            if raw.size and not np.all(np.isfinite(raw)):
                raise StateError(f"state field {key!r} holds non-finite values")
            if np.dtype(dtype).kind in "iu":
                info = np.iinfo(dtype)
                lo = info.min if lo is None else lo
                hi = info.max if hi is None else hi
            if raw.size and ((lo is not None and raw.min() < lo) or (hi is not None and raw.max() > hi)):
                raise StateError(f"state field {key!r} holds values outside [{lo}, {hi}]")
            return raw.astype(dtype, copy=True)

        conn = Connectivity.from_state(d["conn"])
        if (conn.n_sources, conn.n_targets) != (n + n_in, n) or conn.indptr.shape != (n + n_in + 1,):
            raise StateError("state field 'conn' does not fit the network shape")
        with self._lock:
            self.params = params
            self.seed = _count(d["seed"], "seed", 2**63)
            self.step_count = _count(d["step"], "step", 2**62)
            fdt = np.float32 if params.precision == "float32" else np.float64
            self.v = arr("v", fdt, (n,))
            self.se = arr("se", fdt, (n,))
            self.si = arr("si", fdt, (n,))
            self.refc = arr("refc", np.int32, (n,), 0)
            self.vt = arr("vt", fdt, (n,))
            self.iext = arr("iext", fdt, (n,))
            self.conn = conn
            cm = d.get("custom_mask")
            self._custom_mask = None if cm is None else arr("custom_mask", bool, None)
            self._finish_connectivity()
            self.plastic_mask = arr("plastic_mask", np.uint8, conn.weights.shape, 0, 1)
            self.acc_e = arr("acc_e", fdt, self.acc_e.shape)
            self.acc_i = arr("acc_i", fdt, self.acc_i.shape)
            self.xpre = arr("xpre", np.float64, (n + n_in,))
            self.xpost = arr("xpost", np.float64, (n,))
            self.in_rate_hz = arr("in_rate_hz", np.float64, (n_in,), 0.0)
            lim = 2**61 // max(n_in, 1)
            self.st_steps = arr("st_steps", np.int64, None, -lim, lim)
            if self.st_steps.ndim != 1:
                raise StateError("state field 'st_steps' must be 1-D")
            self.st_ids = arr("st_ids", np.int32, self.st_steps.shape, 0, max(n_in - 1, 0))
            if self.st_steps.size and n_in == 0:
                raise StateError("state field 'st_steps': scheduled input spikes but no inputs")
            key = self.st_steps * max(n_in, 1) + self.st_ids
            if np.any(np.diff(key) <= 0):  # sorted by step then unit, at most once per step
                raise StateError("state fields 'st_steps' / 'st_ids' are not a sorted spike schedule")
            self.st_ptr = np.array([_count(d["st_ptr"], "st_ptr", self.st_steps.size + 1)], np.int64)
            self.current_events = [self._current_event(e, n) for e in d["current_events"]]
            mc = params.monitor_count
            self.monitor_idx = arr("monitor_idx", np.int64, (mc,), -1, n - 1)
            self.monitor_since_step = _count(d["monitor_since_step"], "monitor_since_step", 2**62)
            self._pending_monitor = None
            self.spikes = RingBuffer(params.spike_buffer, np.int64, (2,))
            self.spikes.load_state_dict(d["spikes"])
            self.rates = RingBuffer(params.rate_buffer, np.int64, (3,))
            self.rates.load_state_dict(d["rates"])
            self.monitor = RingBuffer(params.monitor_buffer, np.float64, (1 + 3 * mc,))
            self.monitor.load_state_dict(d["monitor"])
            self._stream_epoch += 1
            tot = d["totals"]
            self.total_spikes = _count(tot["spikes"], "totals.spikes", 2**62)
            self.total_events = _count(tot["events"], "totals.events", 2**62)
            self._guard = [
                _count(tot["guard_spikes"], "totals.guard_spikes", 2**62),
                _count(tot["guard_steps"], "totals.guard_steps", 2**62),
            ]
            self.wall_s = 0.0
            self._failed = None
            self._alloc_scratch()
            self._compile_constants()

    @staticmethod
    def _current_event(e: Any, n: int) -> tuple[int, float, np.ndarray | None]:
        """One stored current step, checked: (step, value mV, neurons or None)."""
        if not isinstance(e, Mapping):
            raise StateError("a current event is not an object")
        value = e["value"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise StateError(f"a current event's value {value!r} is not a finite number")
        neurons = e["neurons"]
        if neurons is not None:
            neurons = np.asarray(neurons)
            if neurons.dtype.kind not in "iu" or neurons.ndim != 1:
                raise StateError("a current event's neurons are not a list of indices")
            if neurons.size and (neurons.min() < 0 or neurons.max() >= n):
                raise StateError(f"a current event names neurons outside [0, {n})")
            neurons = neurons.astype(np.int64)
        return _count(e["step"], "current event step", 2**62), float(value), neurons

    def export_nwb(self, path: str | os.PathLike, description: str = "") -> int:
        """Write the spikes held in the ring buffer to an NWB file (see :func:`.io.export_nwb`)."""
        from .io import export_nwb

        with self._lock:
            return export_nwb(self, path, description)

    def save(self, path: str | os.PathLike) -> None:
        save_state_file(path, self.state_dict())

    def load(self, path: str | os.PathLike) -> None:
        """Load a state file written by :meth:`save`; a refused one names the file and changes nothing."""
        d = load_state_file(path)
        try:
            self.load_state_dict(d)
        except StateError as e:
            raise StateError(f"{path}: {e}") from None
