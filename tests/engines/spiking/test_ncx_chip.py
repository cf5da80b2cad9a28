"""NeuroCoreX chip profile: each quirk of the VHDL, case by case, and bit for bit against GHDL.

The case tests were derived from reading ``Core_engine.vhd`` / ``LIF_unit.vhd`` (line numbers of the
public ORNL repository in each docstring); the GHDL tests replay rounds recorded from a GHDL simulation
of that VHDL, the datapath alone and with STDP on (``scripts/ncx_ghdl_reference.py`` made the fixture).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engines.spiking import ncx_chip
from engines.spiking.neurocorex import NeuroCoreXEngine, NeuroCoreXParams

FIXTURE = Path(__file__).parent / "data" / "ncx_chip_ghdl.npz"


def _engine(n=12, n_inputs=4, **over) -> NeuroCoreXEngine:
    kw = dict(n_neurons=n, n_inputs=n_inputs, threshold=100.0, leak=0.0, refractory=0, amp_ff=1)
    kw["monitor_count"] = n
    kw.update(over)
    return NeuroCoreXEngine(NeuroCoreXParams(**kw))


def _raster(steps, n_inputs, events):
    r = np.zeros((steps, n_inputs), np.uint8)
    for t, k, c in events:
        r[t, k] = c
    return r


def _fired(eng, steps):
    """Neurons that fire in each of the next ``steps`` steps."""
    out = []
    for _ in range(steps):
        c0 = eng.spikes.cursor
        eng.step(1)
        ids = eng.spikes.read_since(c0)[0][:, 1]
        out.append(sorted(int(i) for i in ids if i < eng.n))
    return out


def test_chip_is_the_default_and_old_parameters_load_as_extended():
    assert NeuroCoreXParams().profile == "chip"
    old = NeuroCoreXParams(profile="extended").to_dict()
    del old["profile"], old["bias_neuron"]  # what a file saved before the profiles holds
    assert NeuroCoreXParams.from_dict(old).profile == "extended"
    with pytest.raises(ValueError, match="96 neuron slots"):
        NeuroCoreXParams(n_neurons=100)
    assert NeuroCoreXParams(profile="extended", n_neurons=100).n_neurons == 100


def test_an_old_engine_state_loads_with_the_extended_profile_and_runs():
    eng = NeuroCoreXEngine(NeuroCoreXParams(profile="extended", n_neurons=5, n_inputs=3))
    eng.step(3)
    state = eng.state_dict()
    state["params"] = {k: v for k, v in state["params"].items() if k not in ("profile", "bias_neuron")}
    for k in NeuroCoreXEngine._NEWER:
        del state[k]
    fresh = NeuroCoreXEngine(NeuroCoreXParams(n_neurons=5, n_inputs=3))
    fresh.load_state_dict(state)
    assert fresh.params.profile == "extended" and fresh.step_count == 3
    assert fresh.thr_n.tolist() == [1024] * 5
    fresh.step(2)


def test_one_leak_for_every_neuron_the_register_of_neuron_8():
    """``V_by_Tau_dt <= tau_mem(8)`` (Core_engine.vhd 1486): neuron 8's leak register drives all."""
    eng = _engine()
    leaks = np.full(12, 0.125)
    leaks[8] = 0.5
    eng.set_leaks(leaks)
    eng.step(3)
    assert eng.v[4:].tolist() == [-3 * 512] * 8
    leaks[5] = 4.0  # another neuron's register changes nothing
    eng.set_leaks(leaks)
    eng.step(1)
    assert eng.v[4:].tolist() == [-4 * 512] * 8


def test_reset_is_always_to_zero_and_the_membrane_starts_at_zero():
    """``vreset`` is declared 0 and never assigned (Core_engine.vhd 133, 1419)."""
    eng = _engine(v_reset=-2.0, bias=5.0, bias_neuron=6, threshold=3.0)
    assert eng.v.tolist() == [0] * 12
    assert _fired(eng, 3) == [[6], [], [6]]
    assert eng.v[6] == 0


def test_the_bias_reaches_only_the_bias_neuron():
    """``Iin <= I_bias`` only when ``counter0 = N_debug`` (LIF_unit.vhd 315-320): slot N_debug + 3."""
    eng = _engine(bias=0.25, bias_neuron=6)
    eng.step(4)
    assert eng.v.tolist() == [0] * 6 + [1024] + [0] * 5


def test_only_slots_4_to_93_can_fire():
    """The spike condition holds ``cni > N0 + 3 and cni < N1 - 1`` (Core_engine.vhd 1416)."""
    eng = _engine(n=96, n_inputs=1, threshold=-1.0)
    assert _fired(eng, 1) == [list(range(4, 94))]


def test_inputs_sent_in_one_step_act_in_the_next_and_a_repeated_address_counts_twice():
    """``weight_FF_prev <= weight_FF`` at slot 95 (Core_engine.vhd 521-523) and one accumulation per
    address received (500): step 0's inputs reach the membranes in step 1."""
    once, twice = _engine(), _engine()
    for eng, c in ((once, 1), (twice, 2)):
        w = np.zeros((4, 12), np.int8)
        w[1, 6] = 7
        eng.set_weights(w_ff=w)
        eng.set_input_raster(_raster(3, 4, [(0, 1, c)]))
        eng.step(1)
        assert eng.v[6] == 0
        eng.step(1)
        assert eng.v[6] == 7 * c * 1024
        eng.step(1)
        assert eng.v[6] == 7 * c * 1024


def test_the_feedforward_scale_is_the_low_8_bits_of_slot_0s_refractory_register():
    """``Syn_amp_FF(7 downto 0) <= Tref_max(0)(7 downto 0)`` (Core_engine.vhd 279)."""

    def run(tref0):
        thr = np.full(96, 1 << 16, np.int64)
        tref = np.zeros(96, np.int64)
        tref[0] = tref0
        v, ref, st, isr = (np.zeros(96, np.int64) for _ in range(4))
        st = np.zeros(ncx_chip.N_STATE, np.int64)
        wffp, wlp, slp, sl = (np.zeros(96, np.int64) for _ in range(4))
        fired = np.zeros(96, np.bool_)
        wffp[12] = 5  # the FF RAM row of slot 10
        st[ncx_chip.R_GATE] = 1
        ncx_chip.chip_round(thr, tref, 0, 0, 0, 96, v, ref, st, isr, wffp, wlp, slp, fired, sl)
        return int(v[10])

    assert run(3) == 5 * 3 * 1024
    assert run(0x100 + 3) == 5 * 3 * 1024
    assert run(0x100) == 0
    # the engine writes amp_ff there, whatever neuron 0's refractory is
    eng = _engine(amp_ff=3)
    eng.set_refractory([100] + [0] * 11)
    assert eng._tref96[0] == 3


def test_the_lateral_scale_is_fixed_at_1():
    """``Syn_amp`` is the constant 1 (Core_engine.vhd 124): ``amp_aa`` does nothing."""
    runs = []
    for amp_aa in (1, 500):
        eng = _engine(amp_aa=amp_aa, refractory=127)
        eng.set_thresholds([100.0] * 10 + [-1.0, 100.0])
        w = np.zeros((12, 12), np.int8)
        w[10, 11] = 3
        eng.set_weights(w_aa=w)
        eng.step(4)
        runs.append(eng.v.tolist())
    assert runs[0] == runs[1]


def test_the_lateral_current_accumulates_in_one_register_without_decay():
    """``Isyn_out <= Isyn_in + mul_result_2`` where the lateral spike count is positive
    (Core_engine.vhd 1378-1390), ``Isyn_in`` being what the lateral FIFO returns from the round
    before: neuron 30 gets 3 from neuron 10's spike, then 3 + 4 when neuron 20 fires next."""
    eng = _engine(n=96, n_inputs=1, refractory=127, bias=0.625, bias_neuron=20)
    thr = np.full(96, 100.0)
    thr[10] = -1.0  # fires at step 0, then stays refractory
    thr[20] = 1.0  # the bias takes it there at step 1
    eng.set_thresholds(thr)
    w = np.zeros((96, 96), np.int8)
    w[10, 30] = 3
    w[20, 30] = 4
    eng.set_weights(w_aa=w)
    seen = []
    for _ in range(4):
        seen.append((_fired(eng, 1)[0], int(eng.v[30])))
    assert seen == [([10], 0), ([20], 3 * 1024), ([], 10 * 1024), ([], 10 * 1024)]


def test_a_neuron_loses_its_feedforward_current_in_a_step_where_the_neuron_before_it_fires():
    """``Isyn_out_FF <= All_zeros`` when the slot being processed fires (Core_engine.vhd 1381-1382,
    1394-1395); that register is what the next slot adds (1455)."""
    results = {}
    for thr6 in (100.0, -1.0):
        eng = _engine()
        eng.set_thresholds([100.0] * 6 + [thr6] + [100.0] * 5)
        w = np.zeros((4, 12), np.int8)
        w[0, 7] = 10
        w[0, 8] = 10
        eng.set_weights(w_ff=w)
        eng.set_input_raster(_raster(3, 4, [(1, 0, 1)]))
        fired = _fired(eng, 3)
        results[thr6] = (fired, int(eng.v[7]), int(eng.v[8]))
    assert results[100.0] == ([[], [], []], 10 * 1024, 10 * 1024)
    assert results[-1.0] == ([[6], [], [6]], 0, 10 * 1024)


def test_the_feedforward_register_is_held_when_the_gate_is_closed_and_a_neuron_fired():
    """With ``Sin = '0'`` and a positive lateral count neither branch writes ``Isyn_out_FF``
    (Core_engine.vhd 1389-1390): the value is handed on to every following slot."""
    thr = np.full(96, 1 << 16, np.int64)
    tref = np.zeros(96, np.int64)
    v, ref, isr, wffp, wlp, sl = (np.zeros(96, np.int64) for _ in range(6))
    slp = np.ones(96, np.int64)
    st = np.zeros(ncx_chip.N_STATE, np.int64)
    st[[ncx_chip.R_I1, ncx_chip.R_I2, ncx_chip.R_SI]] = 1
    st[ncx_chip.R_IFF] = 5000
    fired = np.zeros(96, np.bool_)
    ncx_chip.chip_round(thr, tref, 0, 0, 0, 96, v, ref, st, isr, wffp, wlp, slp, fired, sl)
    assert np.all(v[:94] == 5000)


def test_potentiation_wraps_in_the_8_bit_adder_at_the_word_the_chip_writes():
    """``FF_read_data + delta_w_pos`` is an 8-bit sum, so ``> 127`` never holds (Core_engine.vhd
    945-948): 127 + 1 gives -128 on the chip; the extended profile saturates. On the chip the word is
    not the firing neuron's synapse: input 2 opens the pre flags of FF RAM row 2 (``tpre_updater_FF``,
    ``NA * (N1+1) + index``), and the spike of neuron 6 is scanned while the slot counter shows 7, so the
    word potentiated is row 2, column 7: input 7 onto neuron 0 (row ``j + 2``, column ``k``)."""
    kw = dict(n_inputs=8, stdp=True, tpre_max=4, tpost_max=0, dw_pos=1, dw_neg=0)
    eng = _engine(profile="chip", **kw)
    eng.set_thresholds([100.0] * 6 + [-1.0] + [100.0] * 5)
    w = np.zeros((8, 12), np.int8)
    w[7, 0] = 127
    w[2, 6] = 5  # input 2 onto the firing neuron: untouched
    eng.set_weights(w_ff=w)
    eng.set_input_raster(_raster(1, 8, [(0, 2, 1)]))
    eng.step(1)
    changed = np.argwhere(eng.w_ff != w).tolist()
    assert changed == [[7, 0]] and int(eng.w_ff[7, 0]) == -128

    ext = _engine(profile="extended", **kw)
    ext.set_thresholds([100.0] * 6 + [-1.0] + [100.0] * 5)
    w = np.zeros((8, 12), np.int8)
    w[0, 6] = 127
    ext.set_weights(w_ff=w)
    ext.set_input_raster(_raster(4, 8, [(0, 0, 1), (1, 0, 1)]))
    ext.step(4)
    assert int(ext.w_ff[0, 6]) == 127


def test_a_chip_state_with_stdp_on_resumes_exactly_and_a_bad_scan_index_is_refused():
    """The fast clock's registers, window RAMs and the words outside the matrices are part of the state."""
    from engines.base import StateError
    from engines.spiking import ncx_chip_stdp

    def make():
        eng = _engine(n=20, n_inputs=16, stdp=True, tpre_max=3, tpost_max=2, dw_pos=2, dw_neg=1)
        rng = np.random.default_rng(3)
        eng.set_thresholds(rng.uniform(0.2, 2.0, 20))
        eng.set_weights(w_ff=rng.integers(-5, 30, (16, 20)), w_aa=rng.integers(-5, 10, (20, 20)))
        eng.set_stdp_enable(en_aa=np.ones((20, 20)))
        eng.set_input_raster(rng.integers(0, 2, (12, 16)) * (rng.random((12, 1)) < 0.7))
        return eng

    eng = make()
    eng.step(6)
    state = eng.state_dict()
    eng.step(6)
    other = make()
    other.load_state_dict(state)
    other.step(6)
    assert eng.total_spikes > 20 and not np.array_equal(eng.w_ff, make().w_ff)  # STDP wrote
    assert np.array_equal(other.w_ff, eng.w_ff) and np.array_equal(other.w_aa, eng.w_aa)
    assert np.array_equal(other.chip_rams, eng.chip_rams) and np.array_equal(other.chip_fs, eng.chip_fs)
    bad = dict(state, chip_fs=state["chip_fs"].copy())
    bad["chip_fs"][ncx_chip_stdp.F_LUI] = 500
    with pytest.raises(StateError, match="scan index"):
        other.load_state_dict(bad)
    assert np.array_equal(other.chip_rams, eng.chip_rams)  # nothing changed


def _ghdl_engine(z, **over):
    """An engine set up as the GHDL bench loads the chip, at the start of the first recorded round."""
    ibias, ndebug = int(z["ibias"]), int(z["ndebug"])
    p = NeuroCoreXParams(
        n_neurons=96,
        n_inputs=96,
        bias=ibias / 1024,
        bias_neuron=ndebug + 3,
        amp_ff=int(z["tref"][0]) & 0xFF,
        monitor_count=96,
        **over,
    )
    eng = NeuroCoreXEngine(p)
    # the RAMs as the engine's matrices: FF row j + 2 / lateral row j + 2, column i + 1
    w_ff = np.zeros((96, 96), np.int8)
    w_ff[:, :94] = z["ram_ff"][2:, :].T
    w_aa = np.zeros((96, 96), np.int8)
    w_aa[:95, :94] = z["ram_aa"][2:, 1:].T
    eng.set_weights(w_ff=w_ff, w_aa=w_aa)
    eng.set_thresholds(z["vthr"] / 1024)
    eng.set_refractory(z["tref"])
    eng.set_leaks(z["tau"] / 1024)
    # the state the first recorded round starts from (the simulation's start-up round before it)
    bias = np.array([ncx_chip._bias_at(c, ndebug, ibias) for c in range(96)])
    eng.chip_v[:] = z["vin0"] - bias
    eng.chip_st[ncx_chip.R_V93] = eng.chip_v[0]
    return eng


def _ghdl_raster(z):
    steps = [[int(a) for a in s if a >= 0] for s in z["steps"]]
    n_rounds = len(z["vout"])
    raster = np.zeros((n_rounds, 96), np.uint8)
    for t in range(n_rounds):
        for a in steps[t + 1] if t + 1 < len(steps) else []:
            raster[t, a] += 1
    return steps, raster


@pytest.mark.skipif(not FIXTURE.exists(), reason="GHDL fixture missing")
@pytest.mark.parametrize("case", ["lateral", "feedforward"])
def test_rounds_match_the_ghdl_simulation_of_the_vhdl_bit_for_bit(case):
    z = {k.split("/", 1)[1]: v for k, v in np.load(FIXTURE).items() if k.startswith(case + "/")}
    eng = _ghdl_engine(z)
    steps, raster = _ghdl_raster(z)
    first = np.bincount(steps[0], minlength=96)
    ncx_chip.chip_sums(first, eng.w_ff, np.zeros(96, np.bool_), eng.w_aa, eng.chip_wffp, eng.chip_wlp)
    eng.chip_st[ncx_chip.R_GATE] = int(len(steps[0]) > 0)
    n_rounds = len(z["vout"])
    eng.set_input_raster(raster)
    c0, s0 = eng.monitor.cursor, eng.spikes.cursor
    eng.step(n_rounds)
    v = np.round(eng.monitor.read_since(c0)[0][:, 1:] * 1024).astype(np.int64)
    sp = eng.spikes.read_since(s0)[0]
    fired = np.zeros((n_rounds, 96), bool)
    own = sp[sp[:, 1] < 96]
    fired[own[:, 0], own[:, 1]] = True
    assert z["spikes"].sum() > 50  # the case exercises spiking
    for t in range(n_rounds):
        assert np.array_equal(fired[t], z["spikes"][t]), f"round {t}: spikes"
        assert np.array_equal(v[t], z["vout"][t]), f"round {t}: membranes"


@pytest.mark.skipif(not FIXTURE.exists(), reason="GHDL fixture missing")
@pytest.mark.parametrize("case", ["stdp_a", "stdp_b", "stdp_sparse"])
def test_stdp_rounds_match_the_ghdl_simulation_of_the_vhdl_bit_for_bit(case):
    """STDP on: spikes, membranes and every word of both weight RAMs after each round, as GHDL has them
    (the fixture replays the RAM write ports of the fast clock; ``scripts/ncx_ghdl_reference.py``)."""
    z = {k.split("/", 1)[1]: v for k, v in np.load(FIXTURE).items() if k.startswith(case + "/")}
    tpre, tpost, dw_pos, dw_neg = (int(x) for x in z["stdp"])
    eng = _ghdl_engine(z, stdp=True, tpre_max=tpre, tpost_max=tpost, dw_pos=dw_pos, dw_neg=dw_neg)
    en_ff = np.zeros((96, 96), np.uint8)
    en_ff[:, :94] = z["en_ff"][2:, :].T
    en_aa = np.zeros((96, 96), np.uint8)
    en_aa[:95, :94] = z["en_aa"][2:, 1:].T
    eng.set_stdp_enable(en_ff=en_ff, en_aa=en_aa)
    # the words no engine matrix cell maps to (rows 0-1, lateral column 0, ...), loaded as the bench does
    for r, key in ((0, "ram_ff"), (1, "ram_aa"), (7, "en_ff"), (6, "en_aa")):
        eng.chip_rams[r, : 96 * 96] = np.asarray(z[key], np.int64).ravel()
    steps, raster = _ghdl_raster(z)
    assert not steps[0]  # a quiet start-up round: the fast registers start idle
    eng.set_input_raster(raster)
    # the RAMs as GHDL has them after each round: the start (row 96 past the loaded words: 6) and the
    # words each round changed
    ram = {k: np.vstack([z[f"ram_{k}"], np.full((1, 96), 6)]).astype(np.int64).ravel() for k in ("ff", "aa")}
    off = {"ff": 0, "aa": 0}
    for t in range(len(z["vout"])):
        c0, s0 = eng.monitor.cursor, eng.spikes.cursor
        eng.step(1)
        v = np.round(eng.monitor.read_since(c0)[0][0, 1:] * 1024).astype(np.int64)
        sp = eng.spikes.read_since(s0)[0]
        fired = np.zeros(96, bool)
        fired[sp[sp[:, 1] < 96, 1]] = True
        assert np.array_equal(fired, z["spikes"][t]), f"round {t}: spikes"
        assert np.array_equal(v, z["vout"][t]), f"round {t}: membranes"
        for k, r in (("ff", 0), ("aa", 1)):
            sl = slice(off[k], off[k] + int(z[f"{k}_n"][t]))
            off[k] = sl.stop
            ram[k][z[f"{k}_idx"][sl]] = z[f"{k}_val"][sl]
            got = eng.chip_rams[r, : 97 * 96]
            assert np.array_equal(got, ram[k]), (
                f"round {t}: {k} RAM, {int((got != ram[k]).sum())} words differ"
            )
        # the engine's matrices are the words the datapath reads
        assert np.array_equal(eng.w_ff[:, :94], ram["ff"].reshape(97, 96)[2:96, :].T)
        assert np.array_equal(eng.w_aa[:95, :94], ram["aa"].reshape(97, 96)[2:96, 1:].T)
    # the case writes with all four scans: FF potentiation, FF depression, lateral potentiation, depression
    assert z["spikes"].sum() > 50 and z["n_writes"].min() > 0, z["n_writes"]


def test_the_shipped_chip_thresholds_give_the_recorded_digits_accuracy():
    """``python -m engines spiking train --preset neurocorex-digits --profile chip --seed 1 --save``."""
    import json

    from engines.spiking import ncx_chip_digits as chip
    from engines.spiking import ncx_digits

    _, x_te, _, y_te = ncx_digits.load_split()
    w = ncx_digits.load_asset()[0]
    acc = chip.evaluate_chip(w, chip.load_thresholds(), x_te, y_te, seed=1)["accuracy"]
    manifest = json.loads((chip.ASSET_DIR / "manifest.json").read_text())
    assert round(acc, 4) == manifest[chip.ASSET.name]["metrics"]["test_accuracy"]
    assert acc > 0.6  # beside the chip's own demo (66-68 %)


def test_the_chip_demo_numbers_outputs_0_to_9_and_inputs_from_10():
    from engines.spiking import ncx_digits

    values = [p.value for p in ncx_digits.demo_job(limit=5, profile="chip")]
    assert values[-1]["n"] == 5 and len(values[-1]["counts"]) == 10
    sp = np.concatenate([v["spikes"] for v in values])
    assert sp[:, 1].min() >= 0 and sp[:, 1].max() < 10 + 64
    assert np.any(sp[:, 1] < 10) and np.any(sp[:, 1] >= 10)


@pytest.mark.parametrize("profile", ["chip", "extended"])
def test_the_cli_trains_or_fits_the_digits_on_either_profile(profile, capsys):
    import json

    from engines.__main__ import main

    extra = ["--set", "tune=0", "--set", "n_fit=100"] if profile == "chip" else ["--method", "templates"]
    rc = main(["spiking", "train", "--preset", "neurocorex-digits", "--profile", profile, "--json", *extra])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and out["n_test"] == 594 and out["test_accuracy"] > 0.5
    assert out.get("profile", "extended") == profile
