"""Spiking loaders: edge lists and state files that are hostile are refused, and a refused state changes nothing.

The kernels index arrays without bounds checks, so a state that reached them
with an index out of range would corrupt memory: every array is checked first.
"""

import zipfile

import numpy as np
import pytest
from hypothesis import given, settings

from engines.base import EngineError, StateError
from engines.serialize import FormatError, load_state, save_state
from engines.spiking.engine import SpikingEngine
from engines.spiking.io import load_edge_list
from engines.spiking.neurocorex import NeuroCoreXEngine, NeuroCoreXParams
from engines.spiking.params import preset
from tests.fuzz import FUZZ, check_loader, hostile_bytes, hostile_zips

EDGES = b"# pre post weight delay\n0 1 1.5 2.0\n1, 2\n\n2 0 -3\n3 4 0.5 0.1\n"


def _load_edges(path):
    return load_edge_list(path, 5, np.full(5, 0.5), 0.1)


@pytest.mark.parametrize(
    "line, match",
    [
        ("0 1 nan", "weight 'nan' is not a finite number"),
        ("0 1 1 1e300", "delay '1e300' must be a number in"),
        ("0 1 1 -1", "delay '-1' must be a number in"),
        ("0 1 1 inf", "delay 'inf' must be a number in"),
        ("0 " + "9" * 5000, "neuron indices must be integers"),
        ("0 1 1e999", "weight '1e999' is not a finite number"),
    ],
)
def test_edge_lists_with_nonfinite_or_huge_values_are_refused_with_the_line(tmp_path, line, match):
    f = tmp_path / "net.txt"
    f.write_text("0 1\n" + line + "\n")
    with pytest.raises(FormatError, match=rf"net.txt line 2: {match}"):
        _load_edges(f)


def test_edge_list_that_is_not_text_or_not_a_file_is_refused(tmp_path):
    f = tmp_path / "bin.txt"
    f.write_bytes(b"\xff\xfe\x00 binary")
    with pytest.raises(FormatError, match="bin.txt: not UTF-8"):
        _load_edges(f)
    with pytest.raises(FormatError, match="is a folder"):
        _load_edges(tmp_path)


@settings(FUZZ, max_examples=2500)
@given(data=hostile_bytes(EDGES))
def test_fuzzed_edge_lists_load_or_are_refused(tmp_path, data):
    out = check_loader(_load_edges, tmp_path / "fuzz.txt", data)
    if out is not None:
        pre, post, w, d = out
        assert pre.max(initial=0) < 5 and post.max(initial=0) < 5 and np.all(np.isfinite(w))
        assert d.min(initial=0) >= 0 and d.max(initial=0) <= 32767


# --------------------------------------------------------------------------
# LIF state files
# --------------------------------------------------------------------------


def _params():
    return preset(
        "coba",
        n_neurons=20,
        p_connect=0.3,
        delay_min_ms=0.0,
        delay_max_ms=1.0,
        n_inputs=4,
        input_rate_hz=50.0,
        input_p=0.5,
        input_weight=0.3,
        stdp="multiplicative",
        stdp_synapses="all_exc",
        monitor_count=2,
        monitor_every=3,
    )


@pytest.fixture(scope="module")
def lif(tmp_path_factory):
    """A small LIF engine with inputs, a spike schedule, a current step and monitors, and its state file."""
    eng = SpikingEngine(_params(), seed=3)
    eng.set_spike_times([0, 1, 3], [0.001, 0.002, 0.004])
    eng.add_current_step(0.002, 1.5, neurons=np.arange(4))
    eng.step(10)
    f = tmp_path_factory.mktemp("lif") / "state.zip"
    eng.save(f)
    yield eng, f
    eng.close()


def _fingerprint(eng) -> dict:
    return {
        k: np.array(getattr(eng, k)) for k in ("v", "se", "refc", "st_steps", "st_ids", "monitor_idx")
    } | {
        "w": eng.conn.weights.copy(),
        "step": eng.step_count,
    }


def _same(a: dict, b: dict) -> bool:
    return all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("st_ids", np.array([0, 1, 99]), "st_ids"),
        ("monitor_idx", np.array([0, 10**6]), "monitor_idx"),
        ("v", np.full(20, np.nan), "'v' holds non-finite values"),
        ("refc", np.full(20, -5), "'refc' holds values outside"),
        ("st_ptr", 10**9, "st_ptr"),
        ("seed", 2**70, "seed"),
    ],
)
def test_states_that_would_send_the_kernel_out_of_bounds_are_refused_and_change_nothing(
    lif, tmp_path, field, value, match
):
    eng, good = lif
    state = load_state(good, "spiking-lif")
    state[field] = value
    bad = tmp_path / "bad.zip"
    save_state(bad, state, "spiking-lif")
    eng.load(good)
    before = _fingerprint(eng)
    with pytest.raises(StateError, match=rf"bad.zip: .*{match}"):
        eng.load(bad)
    assert _same(before, _fingerprint(eng))
    eng.step(5)  # and it still runs


def test_connectivity_that_points_outside_the_network_is_refused(lif, tmp_path):
    eng, good = lif
    state = load_state(good, "spiking-lif")
    for key, change in (
        ("indices", lambda a: a + 1000),
        ("indptr", lambda a: a[::-1]),
        ("delays", lambda a: a - 7),
    ):
        s = {**state, "conn": {**state["conn"], key: change(np.asarray(state["conn"][key]))}}
        bad = tmp_path / f"{key}.zip"
        save_state(bad, s, "spiking-lif")
        with pytest.raises(StateError, match=f"{key}.zip: .*connectivity"):
            eng.load(bad)


def test_duplicated_spike_times_do_not_overflow_the_spike_buffer():
    eng = SpikingEngine(_params(), seed=1)
    try:
        eng.set_spike_times(np.zeros(200_000, int), np.full(200_000, 0.001))
        assert eng.st_steps.size == 1
        eng.step(20)
    finally:
        eng.close()


def test_fuzzed_lif_state_files_load_or_are_refused_and_a_refusal_changes_nothing(lif, tmp_path):
    eng, good = lif
    with zipfile.ZipFile(good) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    eng.load(good)
    base = eng.state_dict()

    @settings(FUZZ, max_examples=150)
    @given(data=hostile_zips(members))
    def run(data):
        eng.load_state_dict(base)
        before = _fingerprint(eng)
        loaded = check_loader(lambda p: eng.load(p) or True, tmp_path / "fuzz.zip", data)
        if not loaded:
            assert _same(before, _fingerprint(eng))
        try:
            eng.step(3)  # whatever was accepted runs, or says in the project's words that it blew up
        except EngineError as e:
            assert "the network blew up" in str(e)

    run()


# --------------------------------------------------------------------------
# NeuroCoreX states
# --------------------------------------------------------------------------


def test_neurocorex_state_with_a_raster_of_the_wrong_width_or_bad_monitors_is_refused():
    eng = NeuroCoreXEngine(NeuroCoreXParams(n_neurons=3, n_inputs=2))
    try:
        eng.set_input_raster(np.ones((5, 2)))
        eng.step(3)
        good = eng.state_dict()
        v = eng.v.copy()
        for key, value in (
            ("raster", np.ones((5, 50))),
            ("monitor_idx", np.array([0, 1, 99])),
            ("w_ff", np.full(eng.w_ff.shape, 10**6)),
            ("v", np.full(3, np.nan)),
        ):
            with pytest.raises(StateError, match=key):
                eng.load_state_dict({**good, key: value})
            assert np.array_equal(eng.v, v)
        eng.step(3)
    finally:
        eng.close()
