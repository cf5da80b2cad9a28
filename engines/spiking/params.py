"""Parameters of the spiking engines: the LIF network (and its presets), NeuroCoreX (Q7.10 integers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from engines.base import Params, param

MODELS = ("coba", "cuba_exp", "cuba_delta")
CONNECTIVITY = ("fixed_prob", "dense", "small_world", "scale_free", "edge_list", "none")
STDP_MODES = ("off", "additive", "multiplicative")
STDP_TARGETS = ("inputs", "exc", "all_exc")


@dataclass(frozen=True)
class SpikingParams(Params):
    """A network of leaky integrate-and-fire neurons.

    Neurons ``[0, n_exc)`` are excitatory, the rest inhibitory; ``n_inputs``
    input units (Poisson generators or spike-time arrays) project to the
    network. Weights are in units of the leak conductance for ``coba`` and in
    mV for the current-based models.
    """

    model: str = param("coba", choices=MODELS, doc="neuron model: conductance-based or current-based LIF")
    n_neurons: int = param(4000, min=1, max=4_000_000, doc="number of LIF neurons")
    exc_fraction: float = param(0.8, min=0.0, max=1.0, doc="fraction of excitatory neurons")
    dt_ms: float = param(0.1, unit="ms", min=0.001, max=5.0, doc="integration time step")
    precision: str = param(
        "float64",
        choices=("float64", "float32"),
        doc="floating point type of membranes and synaptic variables (float32: faster, less exact)",
        advanced=True,
    )
    integration: str = param(
        "euler",
        choices=("euler", "exponential"),
        doc="forward Euler (as Brian2's 'euler') or exponential Euler with exact synaptic decay",
    )
    # -- neurons ------------------------------------------------------------
    tau_m_ms: float = param(20.0, unit="ms", min=0.01, max=1e4, doc="membrane time constant")
    v_rest_mV: float = param(-60.0, unit="mV", min=-200, max=100, doc="leak reversal (resting) potential")
    v_reset_mV: float = param(-60.0, unit="mV", min=-200, max=100, doc="reset potential after a spike")
    v_thresh_mV: float = param(-50.0, unit="mV", min=-200, max=100, doc="spike threshold (mean)")
    v_thresh_std_mV: float = param(
        0.0, unit="mV", min=0.0, max=50.0, doc="spread of per-neuron thresholds (normal)"
    )
    refractory_ms: float = param(5.0, unit="ms", min=0.0, max=1000.0, doc="absolute refractory period")
    i_ext_mV: float = param(0.0, unit="mV", min=-1e5, max=1e5, doc="constant drive (R*I) to every neuron")
    tau_e_ms: float = param(5.0, unit="ms", min=0.01, max=1e4, doc="excitatory synaptic time constant")
    tau_i_ms: float = param(10.0, unit="ms", min=0.01, max=1e4, doc="inhibitory synaptic time constant")
    e_exc_mV: float = param(0.0, unit="mV", min=-200, max=200, doc="excitatory reversal potential (coba)")
    e_inh_mV: float = param(-80.0, unit="mV", min=-200, max=200, doc="inhibitory reversal potential (coba)")
    # -- initial state --------------------------------------------------------
    v0_distribution: str = param("normal", choices=("normal", "uniform"), doc="initial v: normal or uniform")
    v0_mean_mV: float = param(-65.0, unit="mV", min=-200, max=100, doc="initial membrane potential mean")
    v0_std_mV: float = param(
        5.0, unit="mV", min=0.0, max=100, doc="initial v std (normal) or half-width (uniform)"
    )
    ge0_mean: float = param(4.0, min=-1e3, max=1e3, doc="initial excitatory synaptic variable mean")
    ge0_std: float = param(1.5, min=0.0, max=1e3, doc="initial excitatory synaptic variable std")
    gi0_mean: float = param(20.0, min=-1e3, max=1e3, doc="initial inhibitory synaptic variable mean")
    gi0_std: float = param(12.0, min=0.0, max=1e3, doc="initial inhibitory synaptic variable std")
    # -- connectivity ---------------------------------------------------------
    connectivity: str = param("fixed_prob", choices=CONNECTIVITY, doc="how recurrent synapses are made")
    p_connect: float = param(0.02, min=0.0, max=1.0, doc="connection probability (fixed_prob)")
    autapses: bool = param(True, doc="allow a neuron to connect to itself")
    graph_k: int = param(10, min=1, max=10_000, doc="small-world: neighbours per node (even)")
    graph_rewire_p: float = param(0.1, min=0.0, max=1.0, doc="small-world: rewiring probability")
    graph_m: int = param(3, min=1, max=10_000, doc="scale-free: edges added per new node")
    edge_list_path: str = param("", doc="edge list file: 'pre post [weight [delay_ms]]' per line")
    w_exc: float = param(0.6, min=0.0, max=1e4, doc="excitatory weight (g_L units for coba, mV otherwise)")
    w_inh: float = param(6.7, min=0.0, max=1e4, doc="inhibitory weight magnitude")
    delay_min_ms: float = param(0.0, unit="ms", min=0.0, max=3000.0, doc="smallest synaptic delay")
    delay_max_ms: float = param(0.0, unit="ms", min=0.0, max=3000.0, doc="largest synaptic delay")
    # -- inputs ---------------------------------------------------------------
    n_inputs: int = param(0, min=0, max=1_000_000, doc="input units (Poisson generators / spike times)")
    input_rate_hz: float = param(10.0, unit="Hz", min=0.0, max=10_000, doc="Poisson rate of each input")
    input_p: float = param(0.1, min=0.0, max=1.0, doc="probability of an input -> neuron synapse")
    input_weight: float = param(0.5, min=0.0, max=1e4, doc="input synapse weight")
    input_weight_random: bool = param(False, doc="draw input weights uniformly in [0, input_weight]")
    # -- plasticity -----------------------------------------------------------
    stdp: str = param("off", choices=STDP_MODES, doc="pair STDP with exponential traces")
    stdp_synapses: str = param(
        "inputs",
        choices=STDP_TARGETS,
        doc="plastic synapses: from inputs, excitatory recurrent, or both",
    )
    stdp_tau_pre_ms: float = param(20.0, unit="ms", min=0.01, max=1e4, doc="presynaptic trace time constant")
    stdp_tau_post_ms: float = param(20.0, unit="ms", min=0.01, max=1e4, doc="postsynaptic trace constant")
    stdp_a_plus: float = param(0.01, min=0.0, max=1e3, doc="potentiation step")
    stdp_a_minus: float = param(0.0105, min=0.0, max=1e3, doc="depression step")
    stdp_w_max: float = param(1.0, min=0.0, max=1e4, doc="upper weight bound")
    # -- monitors and safety --------------------------------------------------
    monitor_count: int = param(8, min=0, max=1000, doc="neurons whose v, ge, gi are recorded")
    monitor_every: int = param(10, min=1, max=100_000, doc="state monitor interval (steps)")
    spike_buffer: int = param(
        1_000_000, min=1000, max=100_000_000, doc="spikes kept for readers", advanced=True
    )
    rate_buffer: int = param(
        200_000, min=100, max=10_000_000, doc="steps of population counts kept", advanced=True
    )
    monitor_buffer: int = param(
        100_000, min=10, max=10_000_000, doc="state monitor records kept", advanced=True
    )
    max_rate_hz: float = param(
        2000.0, unit="Hz", min=1.0, max=1e6, doc="runaway guard: mean rate above this stops the run"
    )

    def validate(self) -> None:
        if self.v_reset_mV >= self.v_thresh_mV:
            raise ValueError(
                f"SpikingParams.v_reset_mV = {self.v_reset_mV} must be below v_thresh_mV = {self.v_thresh_mV}"
            )
        if self.delay_max_ms < self.delay_min_ms:
            raise ValueError(
                f"SpikingParams.delay_max_ms = {self.delay_max_ms} must be >= delay_min_ms = {self.delay_min_ms}"
            )
        if round(self.delay_max_ms / self.dt_ms) > 32767:
            raise ValueError("SpikingParams.delay_max_ms: at most 32767 time steps")
        if self.connectivity == "edge_list" and not self.edge_list_path:
            raise ValueError("SpikingParams.edge_list_path: required when connectivity is 'edge_list'")

    @property
    def n_exc(self) -> int:
        return int(round(self.n_neurons * self.exc_fraction))


#: name -> (description, parameter overrides)
PRESETS: dict[str, tuple[str, dict]] = {
    "coba": (
        "Brette et al. 2007 benchmark 1 (COBA): 4,000 LIF, 3,200 E / 800 I, p = 0.02, "
        "conductance synapses, self-sustained activity, dt 0.1 ms",
        {},
    ),
    "cuba": (
        "Brette et al. 2007 benchmark 2 (CUBA): 4,000 LIF, current-based exponential synapses, "
        "El = -49 mV, we = 1.62 mV, wi = 9 mV",
        dict(
            model="cuba_exp",
            v_rest_mV=-49.0,
            w_exc=1.62,
            w_inh=9.0,
            v0_distribution="uniform",
            v0_mean_mV=-55.0,
            v0_std_mV=5.0,
            ge0_mean=0.0,
            ge0_std=0.0,
            gi0_mean=0.0,
            gi0_std=0.0,
        ),
    ),
    "small-world": (
        "400 COBA neurons on a Watts-Strogatz small-world graph (k = 40), with a constant drive",
        dict(
            n_neurons=400,
            connectivity="small_world",
            graph_k=40,
            graph_rewire_p=0.2,
            w_exc=0.4,
            w_inh=3.0,
            i_ext_mV=12.0,
            ge0_mean=0.0,
            ge0_std=0.0,
            gi0_mean=0.0,
            gi0_std=0.0,
            v0_mean_mV=-55.0,
        ),
    ),
    "stdp-poisson": (
        "Song, Miller & Abbott 2000: 1,000 Poisson inputs drive 100 neurons through "
        "additive STDP (weights go bimodal)",
        dict(
            model="coba",
            n_neurons=100,
            exc_fraction=1.0,
            connectivity="none",
            n_inputs=1000,
            input_rate_hz=15.0,
            input_p=1.0,
            input_weight=0.01,
            input_weight_random=True,
            tau_m_ms=10.0,
            v_rest_mV=-74.0,
            v_reset_mV=-60.0,
            v_thresh_mV=-54.0,
            refractory_ms=0.0,
            v0_mean_mV=-65.0,
            v0_std_mV=3.0,
            ge0_mean=0.0,
            ge0_std=0.0,
            gi0_mean=0.0,
            gi0_std=0.0,
            stdp="additive",
            stdp_synapses="inputs",
            stdp_a_plus=0.0001,
            stdp_a_minus=0.000105,
            stdp_w_max=0.01,
        ),
    ),
}


def preset(name: str, **overrides) -> SpikingParams:
    """The parameters of a named preset (with optional overrides)."""
    if name not in PRESETS:
        raise ValueError(f"unknown spiking preset {name!r}; known: {', '.join(PRESETS)}")
    d = dict(PRESETS[name][1])
    d.update(overrides)
    return SpikingParams(**d)


# ---------------------------------------------------------------- NeuroCoreX

Q_ONE = 1024  # 1.0 in Q7.10
Q_MIN, Q_MAX = -(1 << 17), (1 << 17) - 1


def to_q(x: float, name: str = "value") -> int:
    """A real number as raw Q7.10 (raises when it does not fit 18 bits)."""
    raw = int(round(float(x) * Q_ONE))
    if not Q_MIN <= raw <= Q_MAX:
        raise ValueError(f"{name} = {x}: outside the Q7.10 range [-128, 127.999]")
    return raw


def from_q(raw) -> np.ndarray | float:
    return np.asarray(raw) / Q_ONE


NCX_PROFILES = ("chip", "extended")


@dataclass(frozen=True)
class NeuroCoreXParams(Params):
    """NeuroCoreX network: ``n_inputs`` -> ``n_neurons`` (all-to-all among neurons).

    ``profile`` ``chip`` (the default) does what the public VHDL does (one round of the chip's
    96-slot pipeline per step, :mod:`engines.spiking.ncx_chip`); ``extended`` keeps the
    project's generalisations (per-neuron leak, bias on every neuron, reset to ``v_reset``,
    free ``amp_ff``/``amp_aa``, saturating potentiation, instantaneous input): see
    :mod:`engines.spiking.neurocorex` for the full list of differences. Parameters saved
    before profiles existed load as ``extended``, the behaviour they were saved with.
    """

    profile: str = param("chip", choices=NCX_PROFILES, doc="chip: as the VHDL does; extended: generalised")
    n_neurons: int = param(
        10, min=1, max=1024, doc="LIF neurons (chip: at most 96 slots, only slots 4-93 can fire)"
    )
    n_inputs: int = param(64, min=0, max=4096, doc="input channels (feed-forward; chip: at most 96)")
    threshold: float = param(1.0, min=-128.0, max=127.99, doc="spike threshold (Q7.10)")
    leak: float = param(0.0, min=-128.0, max=127.99, doc="constant subtractive leak per step (Q7.10)")
    bias: float = param(
        0.0, min=-128.0, max=127.99, doc="bias current per step (Q7.10; chip: only the bias neuron)"
    )
    bias_neuron: int = param(
        4, min=3, max=95, doc="chip: the debug slot, the one neuron the bias reaches (N_debug + 3)"
    )
    v_reset: float = param(0.0, min=-128.0, max=127.99, doc="reset potential (Q7.10; chip: always 0)")
    refractory: int = param(4, min=0, max=127, doc="refractory counter maximum (steps)")
    amp_aa: int = param(1, min=0, max=1023, doc="lateral synaptic scale (integer; chip: fixed at 1)")
    amp_ff: int = param(
        9, min=0, max=255, doc="feed-forward scale (chip: written to neuron 0's refractory register)"
    )
    stdp: bool = param(False, doc="rectangular-window STDP on enabled synapses")
    tpre_max: int = param(4, min=0, max=126, doc="pre window length (steps)")
    tpost_max: int = param(4, min=0, max=126, doc="post window length (steps)")
    dw_pos: int = param(1, min=0, max=127, doc="potentiation step (int8)")
    dw_neg: int = param(1, min=0, max=127, doc="depression step (int8)")
    input_rate_hz: float = param(0.0, unit="Hz", min=0.0, max=1000.0, doc="Bernoulli input rate")
    step_ms: float = param(1.0, unit="ms", min=0.001, max=1000.0, doc="biological time per step (display)")
    monitor_count: int = param(8, min=0, max=1024, doc="neurons whose v is recorded every step")
    spike_buffer: int = param(200_000, min=1000, max=100_000_000, doc="spikes kept", advanced=True)

    def validate(self) -> None:
        if self.profile == "chip" and (self.n_neurons > 96 or self.n_inputs > 96):
            raise ValueError(
                f"NeuroCoreXParams: the chip profile has 96 neuron slots and 96 input addresses; "
                f"n_neurons = {self.n_neurons}, n_inputs = {self.n_inputs} (use profile 'extended')"
            )

    @classmethod
    def from_dict(cls, d, *, strict: bool = True):
        """As :meth:`Params.from_dict`; a mapping without ``profile`` (saved before profiles) is ``extended``."""
        if isinstance(d, Mapping) and "profile" not in d:
            d = {**d, "profile": "extended"}
        return super().from_dict(d, strict=strict)

    def quantized(self) -> dict[str, int]:
        return {
            "threshold": to_q(self.threshold, "NeuroCoreXParams.threshold"),
            "leak": to_q(self.leak, "NeuroCoreXParams.leak"),
            "bias": to_q(self.bias, "NeuroCoreXParams.bias"),
            "v_reset": to_q(self.v_reset, "NeuroCoreXParams.v_reset"),
        }
