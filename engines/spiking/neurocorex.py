"""NeuroCoreX mode: the FPGA's discrete-time integer LIF with rectangular STDP, in two profiles.

A model of the neuron and learning datapath of ORNL's NeuroCoreX (an FPGA emulator of up to 90
all-to-all LIF neurons), written from its public VHDL design. Membrane potential, threshold, leak,
bias and reset are 18-bit two's complement Q7.10 (raw / 1024 gives the value) and wrap as the
hardware adder does; weights are int8: ``W_ff[input, neuron]`` and ``W_aa[pre, post]``.

``profile="chip"`` (the default, :mod:`engines.spiking.ncx_chip`) does what the VHDL does: one step
is one trigger round of the chip's 96-slot pipeline, checked bit for bit against a GHDL simulation of
the VHDL. ``profile="extended"`` is the project's generalised model (below), one update per neuron per
step. Every difference between them (chip first, extended second):

1. leak: one register for every neuron, the leak of slot 8 (``tau_mem(8)``) / one leak per neuron
   (:meth:`NeuroCoreXEngine.set_leaks`);
2. reset: always to 0 and starting at 0 (``vreset`` is never assigned) / to ``v_reset``, starting there;
3. bias: only the debug neuron ``bias_neuron`` gets it / every neuron;
4. feed-forward scale: the low 8 bits of neuron 0's refractory register (the engine writes ``amp_ff``
   there; slot 0 cannot fire) / ``amp_ff``;
5. lateral scale: fixed at 1 / ``amp_aa``;
6. lateral current: one register, accumulating without decay, updated only at slots whose lateral
   spike count is positive, its weight sum read one slot off (a neuron's weight onto the neuron
   before it is ignored, its weight onto itself counts) / the previous step's lateral spikes,
   instantaneous, no self-connections;
7. feed-forward current: one register handed from slot to slot: the value a neuron gets was made at
   the slot before it, is zeroed in a step where that previous slot fires (``Core_engine.vhd`` near
   lines 1381 and 1394, confirmed in simulation), and is held rather than cleared when no input
   arrived but a neuron fired the round before / each neuron's own sum, every step;
8. input timing: inputs sent in one step act in the next, and only if an input was on the bus at
   slot 1 (the host sends each step's addresses from the start of the round, lowest first) /
   inputs act in the step they are sent;
9. repeated input addresses in a step count once per sending / once;
10. firing: only slots 4-93 can fire (neurons 0-3 and 94-95 never do), at most 96 neurons and 96
    inputs; weights onto neurons 94 and 95 do not exist on the chip / any neuron, any size;
11. STDP: the fast clock's scans as the VHDL has them (:mod:`engines.spiking.ncx_chip_stdp`): the
    words they write are not all the firing neuron's synapses (a spike of neuron ``c`` potentiates the
    feed-forward words of input ``c + 1``; an input's depression scan writes row 3 of the FF RAM), the
    8-bit window counters drift against the slots, and words outside the engine's matrices take part /
    the rule below on the synapses of each spike;
12. potentiation: ``w + dw_pos`` in an 8-bit adder that wraps (127 + 1 = -128), so the clamp at 127
    never fires / saturating at 127;
13. depression: ``w - dw_neg`` in 8 bits (it wraps too) then floored at -1 / floored at -1; STDP input
    events: only the first address of a step / every input spike.

Items 1-13 are checked against a GHDL simulation of the VHDL (``tests/engines/spiking/
test_ncx_chip.py``): the datapath round by round, and with STDP on both weight RAMs word for word
after every round (the STDP enable masks of the chip profile gate the RAM words as the weights map).

Both profiles share: per-neuron thresholds (:meth:`~NeuroCoreXEngine.set_thresholds`) and
refractory maxima, refractoriness that only blocks spiking (``v`` keeps integrating), 15-bit
wrapped synaptic sums and ``resize18`` (VHDL ``numeric_std.resize``: sign bit plus low 17 bits) of
``sum * scale << 10``. The extended profile's STDP is rectangular-window STDP with 8-bit counters per
presynaptic source and per postsynaptic neuron under a per-synapse enable mask: a spike sets its
counter to 0 and opens its window; each step without a spike the counter counts up to ``t_max`` and
then closes the window (counter -1). After the neurons of a step, every firing neuron potentiates its
enabled synapses from sources whose pre window is open; then every presynaptic spike depresses its
enabled synapses onto neurons whose post window is open; then the counters advance.

The extended step, for every neuron ``j``::

    u      = wrap18(v + bias)
    fires  = u >= threshold_j and ref == 0
    syn    = resize18(wrap15(sum_aa) * amp_aa << 10) + resize18(wrap15(sum_ff) * amp_ff << 10)
    v      = v_reset                    if fires
             wrap18(u - leak_j + syn)   otherwise
    ref    = 1 if fires; ref + 1 if 1 <= ref < ref_max_j; 0 if ref >= ref_max_j

where ``sum_aa`` sums the lateral weights of the neurons that fired in the previous step and
``sum_ff`` the feed-forward weights of the inputs that spike in this step.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numba import njit

from engines.base import Engine, RingBuffer, StateError, frozen_array, load_all_or_nothing

from . import ncx_chip, ncx_chip_stdp
from .ncx_chip import N_SLOTS, _uniform, record_step, resize18, wrap_bits
from .params import Q_MAX, NeuroCoreXParams, from_q, to_q

__all__ = ["NeuroCoreXEngine", "NeuroCoreXParams", "NeuroCoreXSnapshot", "to_q", "from_q"]

STATE_KIND = "spiking-neurocorex"
# ---------------------------------------------------------------- kernel


@njit(nogil=True, cache=True, inline="always")
def _advance(cnt, flag, tmax):
    if flag:
        if cnt < tmax:
            return cnt + 1, True
        return -1, False
    return cnt, False


@njit(nogil=True, cache=True)
def ncx_run(
    n_steps,
    step0,
    ip,  # threshold, leak, bias, reset, ref_max, amp_aa, amp_ff, stdp, tpre_max, tpost_max, dw_pos, dw_neg, seed
    leak_n,  # per-neuron leak (raw Q7.10)
    thr_n,  # per-neuron threshold (raw Q7.10)
    tref_n,  # per-neuron refractory maximum
    v,
    ref,
    w_aa,
    w_ff,
    en_aa,
    en_ff,
    prev_spk,
    tpre_in,
    apre_in,
    tpre_n,
    apre_n,
    tpost,
    apost,
    in_raster,
    raster_start,
    in_prob,
    mon_idx,
    mon_buf,
    spk_step,
    spk_id,
    counts,
):
    bias = ip[2]
    reset = ip[3]
    amp_aa = ip[5]
    amp_ff = ip[6]
    stdp = ip[7]
    tpre_max = ip[8]
    tpost_max = ip[9]
    dw_pos = ip[10]
    dw_neg = ip[11]
    seed = ip[12]
    n = v.shape[0]
    n_in = w_ff.shape[0]
    n_rast = in_raster.shape[0]
    inp = np.zeros(n_in, np.bool_)
    fired = np.zeros(n, np.bool_)
    nspk = 0
    for s in range(n_steps):
        step = step0 + s
        # inputs of this step
        r = step - raster_start
        for k in range(n_in):
            if 0 <= r < n_rast:
                inp[k] = in_raster[r, k] != 0
            elif in_prob[k] > 0.0:
                inp[k] = _uniform(seed, step, k) < in_prob[k]
            else:
                inp[k] = False
        # neurons
        for j in range(n):
            s_aa = np.int64(0)
            for i in range(n):
                if prev_spk[i] and i != j:
                    s_aa += w_aa[i, j]
            s_ff = np.int64(0)
            for k in range(n_in):
                if inp[k]:
                    s_ff += w_ff[k, j]
            syn = resize18(wrap_bits(s_aa, 15) * amp_aa * 1024) + resize18(
                wrap_bits(s_ff, 15) * amp_ff * 1024
            )
            u = wrap_bits(np.int64(v[j]) + bias, 18)
            rj = ref[j]
            f = u >= thr_n[j] and rj == 0
            fired[j] = f
            if f:
                v[j] = reset
                ref[j] = 1
            else:
                v[j] = wrap_bits(u - leak_n[j] + syn, 18)
                if rj >= 1 and rj < tref_n[j]:
                    ref[j] = rj + 1
                elif rj >= tref_n[j]:
                    ref[j] = 0
        # STDP
        if stdp:
            for j in range(n):  # potentiation: post spike inside open pre windows
                if fired[j]:
                    for k in range(n_in):
                        if apre_in[k] and en_ff[k, j]:
                            w = np.int64(w_ff[k, j]) + dw_pos
                            w_ff[k, j] = 127 if w > 127 else w
                    for i in range(n):
                        if i != j and apre_n[i] and en_aa[i, j]:
                            w = np.int64(w_aa[i, j]) + dw_pos
                            w_aa[i, j] = 127 if w > 127 else w
            for k in range(n_in):  # depression: pre spike after a recent post spike
                if inp[k]:
                    for j in range(n):
                        if apost[j] and en_ff[k, j]:
                            w = np.int64(w_ff[k, j]) - dw_neg
                            w_ff[k, j] = -1 if w < -1 else w
            for i in range(n):
                if fired[i]:
                    for j in range(n):
                        if j != i and apost[j] and en_aa[i, j]:
                            w = np.int64(w_aa[i, j]) - dw_neg
                            w_aa[i, j] = -1 if w < -1 else w
            for k in range(n_in):
                if inp[k]:
                    tpre_in[k] = 0
                    apre_in[k] = True
                else:
                    c, a = _advance(tpre_in[k], apre_in[k], tpre_max)
                    tpre_in[k] = c
                    apre_in[k] = a
            for i in range(n):
                if fired[i]:
                    tpre_n[i] = 0
                    apre_n[i] = True
                    tpost[i] = 0
                    apost[i] = True
                else:
                    c, a = _advance(tpre_n[i], apre_n[i], tpre_max)
                    tpre_n[i] = c
                    apre_n[i] = a
                    c, a = _advance(tpost[i], apost[i], tpost_max)
                    tpost[i] = c
                    apost[i] = a
        # records
        for j in range(n):
            prev_spk[j] = fired[j]
        nspk = record_step(step, s, n, fired, inp, v, spk_step, spk_id, nspk, counts, mon_buf, mon_idx)
    return nspk


# ---------------------------------------------------------------- engine


@dataclass(frozen=True)
class NeuroCoreXSnapshot:
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
    realtime_factor: float
    rate_e_hz: float
    rate_i_hz: float
    spike_cursor: int
    rate_cursor: int
    monitor_cursor: int
    monitor_idx: np.ndarray
    monitor_since_step: int
    plastic: bool
    weight_hist: np.ndarray | None
    weight_edges: np.ndarray | None
    weight_matrix: np.ndarray | None
    v: np.ndarray | None


_CHUNK = 4096


def _int_field(v: Any, name: str, lo: int = 0, hi: int = 2**62) -> int:
    """A stored integer field in [lo, hi) (a StateError otherwise)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or not lo <= v < hi:
        raise StateError(f"state field {name!r} = {str(v)[:40]}: must be an integer in [{lo}, {hi})")
    return int(v)


class NeuroCoreXEngine(Engine[NeuroCoreXParams, NeuroCoreXSnapshot]):
    """The NeuroCoreX integer datapath, stepped by a numba kernel.

    Streams as :class:`~engines.spiking.engine.SpikingEngine`: ``spikes``
    (step, unit; inputs after the neurons), ``rates`` (step, neuron spikes,
    0) and ``monitor`` (step, v of the monitored neurons in Q7.10 units).
    """

    params_type = NeuroCoreXParams
    name = "neurocorex"
    title = "NeuroCoreX"
    step_unit = "time steps"
    default_chunk = 10

    def __init__(self, params: NeuroCoreXParams | None = None, seed: int = 0):
        super().__init__(params, seed)
        self._lock = threading.RLock()
        self.reset(seed)

    @property
    def n(self) -> int:
        return self.params.n_neurons

    @property
    def n_inputs(self) -> int:
        return self.params.n_inputs

    @property
    def time(self) -> float:
        return self.step_count * self.params.step_ms * 1e-3

    def reset(self, seed: int | None = None) -> None:
        with self._lock:
            if seed is not None:
                self.seed = int(seed)
            p = self.params
            n, n_in = p.n_neurons, p.n_inputs
            self.v = np.zeros(n, np.int64)
            self.ref = np.zeros(n, np.int64)
            self.w_aa = np.zeros((n, n), np.int8)
            self.w_ff = np.zeros((n_in, n), np.int8)
            self.leak_n = np.full(n, p.quantized()["leak"], np.int64)
            self.thr_n = np.full(n, p.quantized()["threshold"], np.int64)
            self.tref_n = np.full(n, p.refractory, np.int64)
            self.en_aa = np.zeros((n, n), np.uint8)
            self.en_ff = np.ones((n_in, n), np.uint8)
            self.in_prob = np.full(n_in, min(1.0, p.input_rate_hz * p.step_ms * 1e-3))
            self.raster = np.zeros((0, n_in), np.uint8)
            self.raster_start = 0
            self.step_count = 0
            self.total_spikes = 0
            self.wall_s = 0.0
            self.chip_rams = None
            self._reset_dynamic()
            mc = min(p.monitor_count, n)
            self.monitor_idx = np.arange(mc, dtype=np.int64)
            self.spikes = RingBuffer(p.spike_buffer, np.int64, (2,))
            self.rates = RingBuffer(100_000, np.int64, (3,))
            self.monitor = RingBuffer(100_000, np.float64, (1 + mc,))
            self._chunk = max(1, min(_CHUNK, 2_000_000 // (n + n_in)))
            self._spk_step = np.zeros(self._chunk * (n + n_in), np.int64)
            self._spk_id = np.zeros(self._chunk * (n + n_in), np.int64)
            self._counts = np.zeros(self._chunk, np.int64)
            self._mon_buf = np.zeros((self._chunk, 1 + mc))
            self._compile()

    def _reset_dynamic(self) -> None:
        """Membranes, refractory counters, pending spikes and STDP windows (not weights)."""
        n, n_in = self.n, self.n_inputs
        chip = self.params.profile == "chip"
        self.v = np.full(n, 0 if chip else self.params.quantized()["v_reset"], np.int64)
        self.ref = np.zeros(n, np.int64)
        # the chip's 96 slots and the registers of its pipeline (unused by the extended profile)
        self.chip_v = np.zeros(N_SLOTS, np.int64)
        self.chip_ref = np.zeros(N_SLOTS, np.int64)
        self.chip_st = np.zeros(ncx_chip.N_STATE, np.int64)
        self.chip_isr = np.zeros(N_SLOTS, np.int64)
        self.chip_wffp = np.zeros(N_SLOTS, np.int64)
        self.chip_wlp = np.zeros(N_SLOTS, np.int64)
        self.chip_slp = np.zeros(N_SLOTS, np.int64)
        # the fast clock's registers, window RAMs and sums (the chip's STDP, ncx_chip_stdp)
        self.chip_fs, self.chip_tpost = ncx_chip_stdp.fresh_state()
        self.chip_wacc = np.zeros((2, N_SLOTS), np.int64)
        fresh = ncx_chip_stdp.fresh_rams()
        if getattr(self, "chip_rams", None) is None:
            self.chip_rams = fresh
        else:
            self.chip_rams[2:6] = fresh[2:6]  # the windows; the weight and enable words stay
        self.prev_spk = np.zeros(n, np.bool_)
        self.tpre_in = np.full(n_in, -1, np.int64)
        self.apre_in = np.zeros(n_in, np.bool_)
        self.tpre_n = np.full(n, -1, np.int64)
        self.apre_n = np.zeros(n, np.bool_)
        self.tpost = np.full(n, -1, np.int64)
        self.apost = np.zeros(n, np.bool_)

    def clear_state(self) -> None:
        """Between samples: reset membranes, counters and windows; keep weights."""
        with self._lock:
            self._reset_dynamic()

    def _compile(self) -> None:
        p = self.params
        q = p.quantized()
        self._ip = np.array(
            [
                q["threshold"],
                q["leak"],
                q["bias"],
                q["v_reset"],
                p.refractory,
                p.amp_aa,
                p.amp_ff,
                int(p.stdp),
                p.tpre_max,
                p.tpost_max,
                p.dw_pos,
                p.dw_neg,
                self.seed & 0x7FFFFFFFFFFFFFFF,
            ],
            np.int64,
        )
        self._compile_chip()

    def _compile_chip(self) -> None:
        """The chip's per-slot registers from the per-neuron ones (slots past ``n_neurons`` never fire)."""
        p, n = self.params, self.n
        if p.profile != "chip":
            return
        q = p.quantized()
        self._thr96 = np.full(N_SLOTS, Q_MAX, np.int64)
        self._thr96[:n] = self.thr_n
        self._tref96 = np.zeros(N_SLOTS, np.int64)
        self._tref96[:n] = self.tref_n
        self._tref96[0] = p.amp_ff  # the host writes the feed-forward scale into slot 0's register
        leak96 = np.full(N_SLOTS, q["leak"], np.int64)
        leak96[:n] = self.leak_n
        self._ip_chip = np.array(
            [
                q["bias"],
                p.bias_neuron - 3,
                int(p.stdp),
                p.tpre_max,
                p.tpost_max,
                p.dw_pos,
                p.dw_neg,
                self.seed & 0x7FFFFFFFFFFFFFFF,
                leak96[ncx_chip.LEAK_SLOT],
            ],
            np.int64,
        )

    def set_params(self, params: NeuroCoreXParams) -> None:
        self._check_params_type(params)
        with self._lock:
            old = self.params
            self.params = params
            if (params.n_neurons, params.n_inputs, params.monitor_count, params.spike_buffer) != (
                old.n_neurons,
                old.n_inputs,
                old.monitor_count,
                old.spike_buffer,
            ):
                self.reset(self.seed)
                return
            if params.profile != old.profile:
                self._reset_dynamic()
            if params.leak != old.leak:
                self.leak_n[:] = params.quantized()["leak"]
            if params.threshold != old.threshold:
                self.thr_n[:] = params.quantized()["threshold"]
            if params.refractory != old.refractory:
                self.tref_n[:] = params.refractory
            if params.input_rate_hz != old.input_rate_hz or params.step_ms != old.step_ms:
                self.in_prob[:] = min(1.0, params.input_rate_hz * params.step_ms * 1e-3)
            self._compile()

    # -- configuration --------------------------------------------------
    def set_weights(self, w_ff: Any = None, w_aa: Any = None) -> None:
        """int8 weights: ``w_ff`` (n_inputs, n_neurons), ``w_aa`` (n_neurons, n_neurons)."""
        with self._lock:
            if w_ff is not None:
                self.w_ff = self._int8(w_ff, (self.n_inputs, self.n), "w_ff")
            if w_aa is not None:
                self.w_aa = self._int8(w_aa, (self.n, self.n), "w_aa")

    def set_leaks(self, leaks: Any) -> None:
        """Per-neuron constant leaks (Q7.10 values; ``params.leak`` sets them all)."""
        a = np.asarray(leaks, np.float64)
        if a.shape != (self.n,):
            raise ValueError(f"set_leaks: expected {self.n} leaks, got shape {a.shape}")
        raw = np.array([to_q(x, f"leak[{i}]") for i, x in enumerate(a)], np.int64)
        with self._lock:
            self.leak_n = raw
            self._compile_chip()

    def set_thresholds(self, thresholds: Any) -> None:
        """Per-neuron thresholds (Q7.10 values; ``params.threshold`` sets them all). The chip has one per slot."""
        a = np.asarray(thresholds, np.float64)
        if a.shape != (self.n,):
            raise ValueError(f"set_thresholds: expected {self.n} thresholds, got shape {a.shape}")
        raw = np.array([to_q(x, f"threshold[{i}]") for i, x in enumerate(a)], np.int64)
        with self._lock:
            self.thr_n = raw
            self._compile_chip()

    def set_refractory(self, steps: Any) -> None:
        """Per-neuron refractory maxima (``params.refractory`` sets them all).

        In the chip profile slot 0's register also holds the feed-forward scale: the engine writes
        ``params.amp_ff`` there, whatever is given for neuron 0 (slot 0 cannot fire).
        """
        a = np.asarray(steps)
        if a.shape != (self.n,) or (
            a.size and (a.min() < 0 or a.max() > 127 or not np.all(a == np.round(a)))
        ):
            raise ValueError(f"set_refractory: expected {self.n} integers in [0, 127], got {a!r:.60}")
        with self._lock:
            self.tref_n = a.astype(np.int64)
            self._compile_chip()

    def set_stdp_enable(self, en_ff: Any = None, en_aa: Any = None) -> None:
        """Per-synapse STDP enable masks (same shapes as the weights)."""
        with self._lock:
            if en_ff is not None:
                self.en_ff = self._mask(en_ff, (self.n_inputs, self.n), "en_ff")
            if en_aa is not None:
                self.en_aa = self._mask(en_aa, (self.n, self.n), "en_aa")

    @staticmethod
    def _int8(a: Any, shape: tuple, name: str) -> np.ndarray:
        a = np.asarray(a)
        if a.shape != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
        if a.size and (a.min() < -128 or a.max() > 127 or not np.all(a == np.round(a))):
            raise ValueError(f"{name}: weights must be integers in [-128, 127]")
        return a.astype(np.int8)

    @staticmethod
    def _mask(a: Any, shape: tuple, name: str) -> np.ndarray:
        a = np.asarray(a)
        if a.shape != shape:
            raise ValueError(f"{name}: expected shape {shape}, got {a.shape}")
        return (a != 0).astype(np.uint8)

    def set_input_raster(self, raster: Any, start_step: int | None = None) -> None:
        """Input spikes for the steps ``start_step ...`` (rows: steps, columns: inputs).

        An entry is how many times the address is sent in that step (0-255; booleans are 0 or 1):
        the chip profile adds an address's weights once per sending, the extended profile once.
        """
        r = np.asarray(raster)
        if r.ndim != 2 or r.shape[1] != self.n_inputs:
            raise ValueError(f"set_input_raster: expected (steps, {self.n_inputs}), got {r.shape}")
        if r.dtype != np.bool_ and r.size and (r.min() < 0 or not np.all(r == np.round(r))):
            raise ValueError("set_input_raster: entries must be counts (non-negative integers)")
        with self._lock:
            self.raster = np.ascontiguousarray(np.minimum(r, 255), dtype=np.uint8)
            self.raster_start = self.step_count if start_step is None else int(start_step)

    def set_monitor(self, neurons: Any) -> None:
        idx = np.asarray(neurons, np.int64).ravel()
        mc = self.monitor_idx.size
        if idx.size > mc or (idx.size and (idx.min() < 0 or idx.max() >= self.n)):
            raise ValueError(f"set_monitor: at most {mc} neurons in [0, {self.n})")
        with self._lock:
            full = np.full(mc, -1, np.int64)
            full[: idx.size] = idx
            self.monitor_idx = full

    # -- running ------------------------------------------------------------
    def step(self, n: int = 1) -> int:
        import time as _t

        done = 0
        with self._lock:
            while done < n:
                m = min(n - done, self._chunk)
                t0 = _t.perf_counter()
                k = (
                    self._run_chip(m)
                    if self.params.profile == "chip"
                    else ncx_run(
                        m,
                        self.step_count,
                        self._ip,
                        self.leak_n,
                        self.thr_n,
                        self.tref_n,
                        self.v,
                        self.ref,
                        self.w_aa,
                        self.w_ff,
                        self.en_aa,
                        self.en_ff,
                        self.prev_spk,
                        self.tpre_in,
                        self.apre_in,
                        self.tpre_n,
                        self.apre_n,
                        self.tpost,
                        self.apost,
                        self.raster,
                        self.raster_start,
                        self.in_prob,
                        self.monitor_idx,
                        self._mon_buf,
                        self._spk_step,
                        self._spk_id,
                        self._counts,
                    )
                )
                self.wall_s += _t.perf_counter() - t0
                if k:
                    self.spikes.append(np.stack([self._spk_step[:k], self._spk_id[:k]], axis=1))
                steps = np.arange(self.step_count, self.step_count + m)
                self.rates.append(np.column_stack([steps, self._counts[:m], np.zeros(m, np.int64)]))
                if self.monitor_idx.size:
                    self.monitor.append(self._mon_buf[:m])
                self.total_spikes += int(self._counts[:m].sum())
                self.step_count += m
                done += m
        return done

    def _run_chip(self, m: int) -> int:
        stdp = bool(self.params.stdp)
        if stdp:
            ncx_chip_stdp.load_matrices(self.chip_rams, self.w_ff, self.w_aa, self.en_ff, self.en_aa)
        k = ncx_chip.chip_run(
            m,
            self.step_count,
            self._ip_chip,
            self._thr96,
            self._tref96,
            self.chip_v,
            self.chip_ref,
            self.chip_st,
            self.chip_isr,
            self.chip_wffp,
            self.chip_wlp,
            self.chip_slp,
            self.w_aa,
            self.w_ff,
            self.chip_rams,
            self.chip_fs,
            self.chip_tpost,
            self.chip_wacc,
            self.raster,
            self.raster_start,
            self.in_prob,
            self.monitor_idx,
            self._mon_buf,
            self._spk_step,
            self._spk_id,
            self._counts,
        )
        if stdp:
            w_ff = self.w_ff.astype(np.int64)
            w_aa = self.w_aa.astype(np.int64)
            ncx_chip_stdp.read_matrices(self.chip_rams, w_ff, w_aa)
            self.w_ff = w_ff.astype(np.int8)
            self.w_aa = w_aa.astype(np.int8)
        self.v[:] = self.chip_v[: self.n]
        self.ref[:] = self.chip_ref[: self.n]
        return k

    def run_sample(self, raster: Any) -> np.ndarray:
        """Present one input raster from a clean state; spike counts per neuron.

        Runs ``len(raster) + 1`` steps: the last input step can still make a
        neuron fire one step later.
        """
        with self._lock:
            self.clear_state()
            self.set_input_raster(raster)
            c0 = self.spikes.cursor
            self.step(len(raster) + 1)
            data = self.spikes.read_since(c0)[0]
            ids = data[:, 1]
            return np.bincount(ids[ids < self.n], minlength=self.n)

    # -- read-outs ------------------------------------------------------------
    def snapshot(self) -> NeuroCoreXSnapshot:
        with self._lock:
            rec = self.rates.latest(100)
            t = max(rec.shape[0], 1) * self.params.step_ms * 1e-3
            rate = float(rec[:, 1].sum()) / self.n / t if rec.shape[0] else 0.0
            w = np.concatenate([self.w_ff, self.w_aa]).astype(np.float64)
            hist, edges = np.histogram(self.w_ff, bins=64, range=(-128, 128))
            return NeuroCoreXSnapshot(
                t_s=self.time,
                step=self.step_count,
                dt_ms=self.params.step_ms,
                model="neurocorex",
                n_neurons=self.n,
                n_exc=self.n,
                n_inputs=self.n_inputs,
                n_synapses=int(self.w_ff.size + self.n * (self.n - 1)),
                total_spikes=self.total_spikes,
                total_events=0,
                wall_s=self.wall_s,
                events_per_s=0.0,
                realtime_factor=self.time / self.wall_s if self.wall_s > 0 else 0.0,
                rate_e_hz=rate,
                rate_i_hz=0.0,
                spike_cursor=self.spikes.cursor,
                rate_cursor=self.rates.cursor,
                monitor_cursor=self.monitor.cursor,
                monitor_idx=frozen_array(self.monitor_idx),
                monitor_since_step=0,
                plastic=bool(self.params.stdp),
                weight_hist=frozen_array(hist),
                weight_edges=frozen_array(edges),
                weight_matrix=frozen_array(w),
                v=frozen_array(from_q(self.v)),
            )

    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            d = {
                "kind": STATE_KIND,
                "params": self.params.to_dict(),
                "seed": self.seed,
                "step": self.step_count,
                "raster_start": self.raster_start,
                "total_spikes": self.total_spikes,
            }
            for k in self._ARRAYS:
                d[k] = getattr(self, k).copy()
            d["spikes"] = self.spikes.state_dict()
            d["rates"] = self.rates.state_dict()
            d["monitor"] = self.monitor.state_dict()
            return d

    #: arrays that states written before the chip profile lack (they start from the parameters / zero)
    _NEWER = (
        "thr_n",
        "tref_n",
        "chip_v",
        "chip_ref",
        "chip_st",
        "chip_isr",
        "chip_wffp",
        "chip_wlp",
        "chip_slp",
        "chip_fs",
        "chip_tpost",
        "chip_rams",
        "chip_wacc",
    )
    _ARRAYS = (
        (
            "v",
            "ref",
            "w_aa",
            "w_ff",
            "en_aa",
            "en_ff",
            "prev_spk",
            "tpre_in",
            "apre_in",
            "tpre_n",
            "apre_n",
            "tpost",
            "apost",
            "in_prob",
            "leak_n",
        )
        + _NEWER
        + ("raster", "monitor_idx")
    )

    def load_state_dict(self, d: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict`; one that does not fit raises StateError and changes nothing.

        Arrays are checked before the kernel sees them (shapes, finite values
        within their type's range, indices in range): it indexes without bounds checks.
        """
        load_all_or_nothing(self._load_state, self.state_dict(), d, "NeuroCoreX state")

    def _load_state(self, d: Mapping[str, Any]) -> None:
        if not isinstance(d, Mapping) or d.get("kind") != STATE_KIND:
            raise StateError("not a NeuroCoreX engine state")
        params = NeuroCoreXParams.from_dict(d["params"])
        if (params.n_neurons, params.n_inputs) != (self.n, self.n_inputs):
            raise StateError(
                f"the state is of a NeuroCoreX network of {params.n_neurons} neurons and "
                f"{params.n_inputs} inputs; this engine has {self.n} and {self.n_inputs}"
            )
        with self._lock:
            self.params = params
            self.seed = _int_field(d["seed"], "seed")
            for k in self._ARRAYS:
                cur = getattr(self, k)
                if k == "leak_n" and k not in d:  # states written before per-neuron leaks
                    cur[:] = params.quantized()["leak"]
                    continue
                if k in ("chip_fs", "chip_tpost", "chip_rams") and k not in d:
                    fresh = dict(zip(("chip_fs", "chip_tpost"), ncx_chip_stdp.fresh_state()))
                    cur[:] = fresh[k] if k in fresh else ncx_chip_stdp.fresh_rams()
                    continue
                if k in self._NEWER and k not in d:
                    cur[:] = {"thr_n": params.quantized()["threshold"], "tref_n": params.refractory}.get(k, 0)
                    continue
                raw = np.asarray(d[k])
                if raw.dtype.kind not in "biuf" or (raw.size and not np.all(np.isfinite(raw))):
                    raise StateError(f"state field {k!r} is not an array of finite numbers")
                if cur.dtype.kind in "iu" and raw.size:
                    info = np.iinfo(cur.dtype)
                    if raw.min() < info.min or raw.max() > info.max:
                        raise StateError(f"state field {k!r} holds values outside the range of {cur.dtype}")
                a = raw.astype(cur.dtype)
                if k == "raster":
                    if a.ndim != 2 or a.shape[1] != self.n_inputs:
                        raise StateError(
                            f"state field 'raster' has shape {a.shape}, expected (steps, {self.n_inputs})"
                        )
                elif a.shape != cur.shape:
                    raise StateError(f"state field {k!r} has shape {a.shape}, expected {cur.shape}")
                if k == "monitor_idx" and a.size and (a.min() < 0 or a.max() >= self.n):
                    raise StateError(f"state field 'monitor_idx' names neurons outside [0, {self.n})")
                setattr(self, k, a.copy())
            ncx_chip_stdp.check_state(self.chip_fs, self.chip_tpost, self.chip_rams, StateError)
            self.step_count = _int_field(d["step"], "step")
            self.raster_start = _int_field(d["raster_start"], "raster_start", lo=-(2**62))
            self.total_spikes = _int_field(d["total_spikes"], "total_spikes")
            self.spikes.load_state_dict(d["spikes"])
            # the rate and monitor streams (states written before they were kept start them empty)
            for k in ("rates", "monitor"):
                if k in d:
                    getattr(self, k).load_state_dict(d[k])
                else:
                    getattr(self, k).clear()
            self._compile()

    def close(self) -> None:
        super().close()
