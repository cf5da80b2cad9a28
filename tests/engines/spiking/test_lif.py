"""LIF engine: COBA fidelity, determinism, inputs, delays, STDP, state, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engines.base import EngineError, StateError
from engines.serialize import load_state, save_state
from engines.spiking import SpikingEngine, SpikingParams, preset
from engines.spiking.inputs import rate_code


def spikes_of(eng: SpikingEngine) -> np.ndarray:
    return eng.spikes.read_since(0)[0]


# ---------------------------------------------------------------- fidelity


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_coba_rates_match_brette2007(seed):
    """1 s of COBA: mean rate 17-20.5 Hz (Brian2 2.9: 17.2-20.0), E and I within 1 Hz."""
    eng = SpikingEngine(preset("coba"), seed=seed)
    assert eng.n == 4000 and eng.n_exc == 3200
    # p = 0.02 over 4000 x 4000 pairs: 320,000 synapses, binomial spread ~ 560
    assert abs(eng.conn.n_synapses - 320_000) < 5 * 566
    eng.run(1.0)
    s = eng.stats()
    assert s["duration_s"] == pytest.approx(1.0)
    assert 17.0 <= s["rate_hz"] <= 20.5, s
    assert abs(s["rate_e_hz"] - s["rate_i_hz"]) <= 1.0, s
    # the activity is self-sustained to the end (no early death of the network)
    last = eng.rates.latest(1000)  # last 100 ms
    assert last[:, 1:].sum() / 4000 / 0.1 > 5.0


@pytest.mark.parametrize("seed", [1, 2])
def test_coba_rates_in_float32(seed):
    """The faster float32 state keeps the benchmark's statistics."""
    eng = SpikingEngine(preset("coba", precision="float32"), seed=seed)
    assert eng.v.dtype == np.float32 and eng.se.dtype == np.float32
    eng.run(1.0)
    s = eng.stats()
    assert 17.0 <= s["rate_hz"] <= 20.5, s
    assert abs(s["rate_e_hz"] - s["rate_i_hz"]) <= 1.0, s


def test_same_seed_same_spikes_and_chunking_does_not_matter():
    p = preset("coba", n_neurons=800, p_connect=0.1)
    a = SpikingEngine(p, seed=7)
    a.run(0.2)
    b = SpikingEngine(p, seed=7)
    for _ in range(20):
        b.step(37)
    b.step(2000 - 20 * 37)
    assert np.array_equal(spikes_of(a), spikes_of(b))
    assert np.array_equal(a.v, b.v)
    c = SpikingEngine(p, seed=8)
    c.run(0.2)
    assert not np.array_equal(spikes_of(a)[:100], spikes_of(c)[:100])


# ---------------------------------------------------------------- connectivity


def test_fixed_probability_no_duplicates_no_autapses():
    p = SpikingParams(n_neurons=500, p_connect=0.1, autapses=False, model="cuba_exp")
    eng = SpikingEngine(p, seed=3)
    c = eng.conn
    pairs = c.sources().astype(np.int64) * 500 + c.indices
    assert np.unique(pairs).size == pairs.size
    assert not np.any(c.sources() == c.indices)
    expected = 500 * 499 * 0.1
    assert abs(c.n_synapses - expected) < 5 * np.sqrt(expected)
    # excitatory sources carry +w_exc, inhibitory ones -w_inh
    src = c.sources()
    assert np.all(c.weights[src < eng.n_exc] == p.w_exc)
    assert np.all(c.weights[src >= eng.n_exc] == -p.w_inh)


def test_dense_connectivity():
    eng = SpikingEngine(SpikingParams(n_neurons=30, connectivity="dense", autapses=False), seed=0)
    assert eng.conn.n_synapses == 30 * 29


def test_networkx_graph_and_small_world_preset():
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(range(5))
    g.add_edge(0, 1, weight=2.0, delay=0.5)
    g.add_edge(4, 2)
    eng = SpikingEngine(SpikingParams(n_neurons=5, exc_fraction=0.8, connectivity="none"), seed=0)
    eng.set_graph(g)
    c = eng.conn
    assert c.n_synapses == 2
    assert list(c.sources()) == [0, 4] and list(c.indices) == [1, 2]
    assert c.weights[0] == 2.0 and c.weights[1] == -eng.params.w_inh  # 4 is inhibitory
    assert c.delays[0] == 5
    with pytest.raises(ValueError, match="6 nodes"):
        eng.set_graph(nx.path_graph(6))
    sw = SpikingEngine(preset("small-world"), seed=1)
    assert sw.conn.n_synapses == 400 * 40  # undirected k-regular ring, both directions
    sw.run(0.2)
    assert sw.total_spikes > 0


def test_edge_list_file_and_errors(tmp_path):
    f = tmp_path / "net.txt"
    f.write_text("# pre post weight delay\n0 1 1.5 2.0\n1, 2\n\n2 0 -3\n")
    p = SpikingParams(n_neurons=3, exc_fraction=1.0, connectivity="edge_list", edge_list_path=str(f))
    eng = SpikingEngine(p, seed=0)
    c = eng.conn
    assert c.n_synapses == 3
    assert list(c.weights) == [1.5, p.w_exc, -3.0]
    assert list(c.delays) == [20, 0, 0]
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1\n0 x\n")
    with pytest.raises(ValueError, match=r"bad\.txt line 2"):
        SpikingEngine(p.replace(edge_list_path=str(bad)))
    bad.write_text("0 1\n\n7 1\n")
    with pytest.raises(ValueError, match=r"bad\.txt line 3: neuron index 7"):
        SpikingEngine(p.replace(edge_list_path=str(bad)))
    bad.write_text("0 1 2 3 4\n")
    with pytest.raises(ValueError, match=r"bad\.txt line 1"):
        SpikingEngine(p.replace(edge_list_path=str(bad)))
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        SpikingEngine(p.replace(edge_list_path=str(tmp_path / "missing.txt")))


# ---------------------------------------------------------------- dynamics


def _two_neuron(delay_ms: float, tmp_path) -> SpikingEngine:
    f = tmp_path / f"pair{delay_ms}.txt"
    f.write_text(f"0 1 20 {delay_ms}\n")
    p = SpikingParams(
        model="cuba_delta",
        n_neurons=2,
        exc_fraction=1.0,
        connectivity="edge_list",
        edge_list_path=str(f),
        v0_mean_mV=-60.0,
        v0_std_mV=0.0,
        refractory_ms=2.0,
    )
    eng = SpikingEngine(p, seed=0)
    eng.add_current_step(0.01, 1e4, neurons=[0])  # one step of +50 mV: neuron 0 fires at 10 ms
    eng.add_current_step(0.0101, 0.0, neurons=[0])
    eng.run(0.05)
    return eng


@pytest.mark.parametrize("delay_ms", [0.0, 0.1, 1.5])
def test_integer_delays(delay_ms, tmp_path):
    eng = _two_neuron(delay_ms, tmp_path)
    spk = spikes_of(eng)
    s0 = spk[spk[:, 1] == 0, 0]
    s1 = spk[spk[:, 1] == 1, 0]
    assert s0.size == 1 and s1.size == 1
    # a spike at step k with delay d enters neuron 1's integration at step k + d + 1 (Brian2 order)
    assert s1[0] - s0[0] == round(delay_ms / 0.1) + 1


def test_refractory_period_and_per_neuron_thresholds():
    p = SpikingParams(
        model="cuba_exp",
        n_neurons=3,
        connectivity="none",
        i_ext_mV=15.0,  # v_inf = -45 mV
        v0_mean_mV=-60.0,
        v0_std_mV=0.0,
        ge0_mean=0.0,
        ge0_std=0.0,
        gi0_mean=0.0,
        gi0_std=0.0,
        refractory_ms=5.0,
    )
    eng = SpikingEngine(p, seed=0)
    eng.set_thresholds([-50.0, -47.0, -44.0])
    eng.run(0.5)
    spk = spikes_of(eng)
    n0 = np.sum(spk[:, 1] == 0)
    n1 = np.sum(spk[:, 1] == 1)
    assert n0 > n1 > 0
    assert np.sum(spk[:, 1] == 2) == 0  # threshold above v_inf: never fires
    # with a huge drive a neuron fires as soon as its refractory period ends: ISI = 5 ms
    eng2 = SpikingEngine(p.replace(i_ext_mV=1e4), seed=0)  # +50 mV per step
    eng2.run(0.05)
    t = spikes_of(eng2)
    isi = np.diff(t[t[:, 1] == 0, 0])
    assert isi.size > 5 and np.all(isi == 50)


def test_poisson_inputs_and_rate_coding():
    p = SpikingParams(n_neurons=1, connectivity="none", n_inputs=1000, input_rate_hz=20.0, input_p=0.0)
    eng = SpikingEngine(p, seed=5)
    eng.run(1.0)
    spk = spikes_of(eng)
    n_in = np.sum(spk[:, 1] >= 1)
    assert abs(n_in - 20_000) < 5 * np.sqrt(20_000)
    # rate coding: a ramp image gives counts proportional to intensity
    img = np.linspace(0, 1, 1000)
    rates = rate_code(img, max_rate_hz=50.0)
    assert rates.max() == 50.0 and rates[0] == 0.0
    eng.reset(6)
    eng.set_input_rates(rates)
    eng.run(1.0)
    spk = spikes_of(eng)
    counts = np.bincount(spk[:, 1] - 1, minlength=1001)[:1000]
    assert counts[:100].sum() < counts[-100:].sum() / 5
    assert abs(counts.sum() - rates.sum()) < 5 * np.sqrt(rates.sum())
    with pytest.raises(ValueError, match="expected 1000 rates"):
        eng.set_input_rates(np.ones(3))
    with pytest.raises(ValueError):
        rate_code(np.array([-1.0, 2.0]))


def test_spike_time_arrays_drive_inputs_exactly():
    p = SpikingParams(n_neurons=1, connectivity="none", n_inputs=3, input_rate_hz=0.0)
    eng = SpikingEngine(p, seed=0)
    eng.set_spike_times([2, 0, 1, 2], [0.0123, 0.001, 0.0005, 0.002])
    eng.run(0.02)
    spk = spikes_of(eng)
    spk = spk[spk[:, 1] >= 1]  # input units are numbered after the neuron
    assert spk.tolist() == [[5, 2], [10, 1], [20, 3], [123, 3]]


def test_monitors_record_subset_at_interval_and_memory_is_bounded():
    p = preset(
        "coba",
        n_neurons=400,
        p_connect=0.1,
        i_ext_mV=20.0,
        monitor_count=4,
        monitor_every=20,
        spike_buffer=5000,
    )
    eng = SpikingEngine(p, seed=1)
    eng.set_monitor([3, 399])
    eng.run(0.1)  # 1000 steps
    rec, cur, dropped = eng.monitor.read_since(0)
    assert rec.shape == (50, 1 + 3 * 4)
    assert np.array_equal(rec[:, 0], np.arange(0, 1000, 20))
    assert np.all(np.isnan(rec[:, 3:5]))  # unused slots
    assert np.all(np.isfinite(rec[:, [1, 2, 5, 6, 9, 10]]))
    eng.run(2.0)
    # bounded: the spike buffer never holds more than its capacity, cursors keep counting
    data, cursor, dropped = eng.spikes.read_since(0)
    assert data.shape[0] == 5000 and cursor == eng.total_spikes and dropped == cursor - 5000
    assert eng.rates.cursor == eng.step_count


def test_monitor_values_are_the_state():
    p = preset("coba", n_neurons=200, p_connect=0.1, monitor_count=2, monitor_every=1)
    eng = SpikingEngine(p, seed=2)
    eng.set_monitor([5, 150])
    eng.step(13)
    rec = eng.monitor.latest(1)[0]
    assert rec[0] == 12
    assert rec[1] == eng.v[5] and rec[2] == eng.v[150]
    assert rec[3] == eng.se[5] and rec[6] == eng.si[150]


# ---------------------------------------------------------------- plasticity


def _stdp_engine(mode: str) -> SpikingEngine:
    p = SpikingParams(
        model="cuba_delta",
        n_neurons=1,
        connectivity="none",
        n_inputs=3,
        input_rate_hz=0.0,
        input_p=1.0,
        input_weight=6.0,
        v0_mean_mV=-60.0,
        v0_std_mV=0.0,
        stdp=mode,
        stdp_a_plus=0.01,
        stdp_a_minus=0.012,
        stdp_w_max=10.0,
        stdp_tau_pre_ms=20.0,
        stdp_tau_post_ms=30.0,
    )
    eng = SpikingEngine(p, seed=0)
    eng.set_plastic_mask([1, 0, 0])  # only input 0 -> neuron learns
    # input 0 at step 100; inputs 1 and 2 together at step 149 make the neuron fire at 150;
    # input 0 again at step 180
    eng.set_spike_times([0, 1, 2, 0], [0.0100, 0.0149, 0.0149, 0.0180])
    eng.run(0.03)
    return eng


def test_stdp_additive_pair_rule_exact():
    eng = _stdp_engine("additive")
    spk = spikes_of(eng)
    post = spk[spk[:, 1] == 0, 0]
    assert post.tolist() == [150]
    dpre, dpost = 1 - 0.1 / 20.0, 1 - 0.1 / 30.0
    expected = 6.0 + 0.01 * dpre**50 - 0.012 * dpost**30
    w = eng.weights()
    assert w[0] == pytest.approx(expected, rel=1e-12)
    assert w[1] == 6.0 and w[2] == 6.0  # masked out


def test_stdp_multiplicative_bounds_exact():
    eng = _stdp_engine("multiplicative")
    dpre, dpost = 1 - 0.1 / 20.0, 1 - 0.1 / 30.0
    w = 6.0 + 0.01 * dpre**50 * (10.0 - 6.0)
    w = w - 0.012 * dpost**30 * w
    assert eng.weights()[0] == pytest.approx(w, rel=1e-12)


def test_stdp_poisson_weights_stay_bounded_and_move():
    eng = SpikingEngine(preset("stdp-poisson", n_neurons=10), seed=3)
    w0 = eng.weights()
    eng.run(1.0)
    w1 = eng.weights()
    assert np.all(w1 >= 0) and np.all(w1 <= eng.params.stdp_w_max)
    assert eng.total_spikes > 1000 * 15 * 0.8  # the inputs and some output spikes
    assert np.abs(w1 - w0).max() > 1e-4
    snap = eng.snapshot()
    assert snap.plastic and snap.weight_hist.sum() == eng.conn.n_synapses
    assert snap.weight_matrix.shape == (1010, 10)


# ---------------------------------------------------------------- state


def _rich_params() -> SpikingParams:
    return preset(
        "coba",
        n_neurons=300,
        p_connect=0.1,
        delay_min_ms=0.0,
        delay_max_ms=2.0,
        n_inputs=50,
        input_rate_hz=30.0,
        input_p=0.2,
        input_weight=0.3,
        stdp="multiplicative",
        stdp_synapses="all_exc",
        monitor_count=3,
        monitor_every=7,
        v_thresh_std_mV=1.0,
    )


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_restored_run_continues_bit_identically(tmp_path, precision):
    a = SpikingEngine(_rich_params().replace(precision=precision), seed=11)
    a.add_current_step(0.15, 2.0, neurons=np.arange(10))
    a.set_spike_times([0, 1, 2], [0.12, 0.13, 0.25])
    a.run(0.1)
    f = tmp_path / "state.zip"
    save_state(f, a.state_dict(), kind="spiking-lif")
    a.run(0.2)
    b = SpikingEngine(_rich_params(), seed=999)  # other seed and precision: all comes from the file
    b.load_state_dict(load_state(f, kind="spiking-lif"))
    b.run(0.2)
    assert a.step_count == b.step_count and b.v.dtype == a.v.dtype
    for name in ("v", "se", "si", "refc", "xpre", "xpost", "acc_e", "acc_i", "iext"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.weights(), b.weights())
    assert np.array_equal(spikes_of(a), spikes_of(b))
    assert np.array_equal(a.monitor.read_since(0)[0], b.monitor.read_since(0)[0], equal_nan=True)
    assert a.total_events == b.total_events


def test_state_of_another_shape_is_refused():
    a = SpikingEngine(_rich_params(), seed=1)
    b = SpikingEngine(_rich_params().replace(n_neurons=301), seed=1)
    with pytest.raises(StateError, match="300 neurons and 50 inputs; this engine has 301 neurons"):
        b.load_state_dict(a.state_dict())
    with pytest.raises(StateError, match="not a spiking"):
        b.load_state_dict({"kind": "other"})


# ---------------------------------------------------------------- errors


def test_invalid_parameters_name_the_field():
    with pytest.raises(ValueError, match="tau_m_ms"):
        SpikingParams(tau_m_ms=0.0)
    with pytest.raises(ValueError, match="v_reset_mV"):
        SpikingParams(v_reset_mV=-40.0)
    with pytest.raises(ValueError, match="model"):
        SpikingParams(model="hh")
    with pytest.raises(ValueError, match="unknown spiking preset"):
        preset("nope")


def test_blow_up_raises_engine_error_and_stays_failed():
    p = SpikingParams(
        n_neurons=50, connectivity="none", ge0_mean=-1e3, ge0_std=0.0, gi0_mean=0.0, gi0_std=0.0
    )
    eng = SpikingEngine(p, seed=0)
    with pytest.raises(EngineError, match="blew up"):
        eng.run(0.1)
    with pytest.raises(EngineError, match="blew up"):
        eng.step(1)
    eng.reset(0)  # a reset clears the failure
    assert eng.step_count == 0


def test_runaway_rates_raise_engine_error():
    p = SpikingParams(
        model="cuba_exp",
        n_neurons=50,
        connectivity="none",
        i_ext_mV=1e4,
        refractory_ms=0.0,
        max_rate_hz=500.0,
    )
    eng = SpikingEngine(p, seed=0)
    with pytest.raises(EngineError, match="runaway activity"):
        eng.run(0.1)


def test_set_params_dynamic_keeps_state_structural_rebuilds():
    eng = SpikingEngine(preset("coba", n_neurons=400, p_connect=0.05), seed=1)
    eng.run(0.05)
    v = eng.v.copy()
    eng.set_params(eng.params.replace(tau_m_ms=10.0, i_ext_mV=1.0))
    assert eng.step_count == 500 and np.array_equal(eng.v, v) and eng.iext[0] == 1.0
    eng.set_params(eng.params.replace(p_connect=0.1))
    assert eng.step_count == 0


def test_cli_run_prints_json(capsys):
    from engines.__main__ import main

    rc = main(["spiking", "run", "--preset", "coba", "--duration", "0.05", "--seed", "42", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("rate_hz", "rate_e_hz", "rate_i_hz", "spikes", "synapses", "wall_s", "events_per_s"):
        assert key in out
    assert out["spikes"] > 0 and out["synapses"] > 300_000


def test_row_kinds_choose_the_propagation_path():
    from engines.spiking.connectivity import from_edges

    c = from_edges(
        6, 3, [0, 0, 1, 1, 3, 3, 4, 5, 5], [0, 1, 0, 2, 1, 2, 0, 0, 1], [1, 1, 2, 3, -1, -1, -2, 1, -1]
    )
    # uniform +, mixed-magnitude +, empty, uniform -, single -, mixed signs
    assert c.row_kinds().tolist() == [3, 1, 3, 4, 4, 0]


def test_mixed_sign_rows_propagate_like_split_rows(tmp_path):
    """A source with both signs (edge list) acts on both channels, as two one-sign sources would."""
    f = tmp_path / "mixed.txt"
    f.write_text("0 1 0.5\n0 2 -0.7\n")
    p = SpikingParams(
        n_neurons=3,
        exc_fraction=1.0,
        connectivity="edge_list",
        edge_list_path=str(f),
        ge0_mean=0.0,
        ge0_std=0.0,
        gi0_mean=0.0,
        gi0_std=0.0,
        v0_std_mV=0.0,
        v0_mean_mV=-60.0,
    )
    eng = SpikingEngine(p, seed=0)
    eng.add_current_step(0.0, 1e4, neurons=[0])
    eng.add_current_step(0.0001, 0.0, neurons=[0])
    eng.step(1)  # neuron 0 fires in step 0; its synapses deliver at the end of that step
    assert spikes_of(eng).tolist() == [[0, 0]]
    assert eng.se[1] == 0.5 and eng.si[1] == 0.0
    assert eng.si[2] == 0.7 and eng.se[2] == 0.0


def test_decayed_synaptic_variables_flush_to_zero_not_denormals():
    p = SpikingParams(
        n_neurons=10, connectivity="none", ge0_mean=4.0, ge0_std=0.0, gi0_mean=20.0, gi0_std=0.0
    )
    eng = SpikingEngine(p, seed=0)
    eng.run(1.0)  # 4 * 0.98**10000 and 20 * 0.99**10000 are tiny but normal float64 numbers
    assert np.all(eng.se == 0.0) and np.all(eng.si == 0.0)
    assert np.all(np.isfinite(eng.v))
