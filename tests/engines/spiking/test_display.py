"""What the spiking views compute, headless: stream reading, record windows, raster and rate bins, layout."""

from __future__ import annotations

import numpy as np
import pytest

from engines.spiking import SpikingEngine, StreamCursors, preset
from engines.spiking.display import (
    RollingRecords,
    bin_raster,
    bin_rates,
    flashing,
    network_layout,
)

LUT = np.array([0, 11, 22, 33], np.uint32)  # background, E, I, input


@pytest.fixture(scope="module")
def small():
    """A 500-neuron COBA network driven by a constant current, run for 0.1 s (1,000 steps)."""
    eng = SpikingEngine(preset("coba", n_neurons=500, p_connect=0.1, i_ext_mV=20.0), seed=3)
    eng.run(0.1)
    return eng


# ---------------------------------------------------------------- reading the streams


def test_reading_the_streams_by_cursor_loses_nothing_and_repeats_nothing():
    eng = SpikingEngine(preset("coba", n_neurons=400, p_connect=0.1, i_ext_mV=20.0), seed=1)
    first = eng.read_streams()
    assert first.restarted and first.spikes.shape == (0, 2)
    parts, cur = [], first.cursors
    for _ in range(5):
        eng.step(137)
        rec = eng.read_streams(cur)
        assert not rec.restarted
        parts.append(rec.spikes)
        cur = rec.cursors
    got = np.concatenate(parts)
    assert got.shape[0] > 100
    assert np.array_equal(got, eng.spikes.read_since(0)[0])
    assert eng.read_streams(cur).rates.shape == (0, 3)
    assert cur.rates == eng.step_count == 5 * 137


def test_stream_records_are_read_only_copies():
    eng = SpikingEngine(preset("coba", n_neurons=400, p_connect=0.1, i_ext_mV=20.0), seed=1)
    eng.step(300)
    rec = eng.read_streams()
    for a in (rec.spikes, rec.rates, rec.monitor):
        assert not a.flags.writeable
    eng.step(300)
    assert rec.rates.shape[0] == 300  # the engine ran on; the records did not change


def test_a_reset_or_a_loaded_state_restarts_the_streams():
    eng = SpikingEngine(preset("coba", n_neurons=400, p_connect=0.1, i_ext_mV=20.0), seed=1)
    eng.step(500)
    state = eng.state_dict()
    cur = eng.read_streams().cursors
    eng.reset()
    eng.step(800)  # past the old cursors: only the epoch tells
    rec = eng.read_streams(cur)
    assert rec.restarted and rec.rates.shape[0] == 800 and rec.rates[0, 0] == 0
    eng.load_state_dict(state)
    rec2 = eng.read_streams(rec.cursors)
    assert rec2.restarted and rec2.rates.shape[0] == 500


def test_monitor_records_start_when_the_monitored_neurons_changed():
    eng = SpikingEngine(preset("coba", n_neurons=400, p_connect=0.1, i_ext_mV=20.0), seed=1)
    eng.step(200)
    eng.set_monitor([5, 6])
    eng.step(200)
    rec = eng.read_streams(StreamCursors())
    assert rec.monitor_since_step == eng.monitor_since_step > 0
    assert rec.monitor.shape[0] > 0 and rec.monitor[:, 0].min() >= rec.monitor_since_step


# ---------------------------------------------------------------- rolling records


def test_rolling_records_keep_the_last_seconds_and_cut_windows():
    keep = RollingRecords(keep_s=1.0, max_rows=1_000_000)
    dt = 0.1
    for k in range(30):  # one record per step: 3 s
        keep.add(np.array([[k, 10 * k]]), t_now=k * dt, time_of=lambda r: r[0] * dt)
    steps = keep.all(2)[:, 0]
    assert steps.min() >= 29 - 10 - 1 and steps.max() == 29  # about the last second
    win = keep.window(22, 25, 2)
    assert win[:, 0].tolist() == [22, 23, 24, 25]
    assert keep.window(100, 200, 2).shape == (0, 2)
    keep.clear()
    assert keep.rows == 0 and keep.all(2).shape == (0, 2)


def test_rolling_records_are_bounded_in_rows():
    keep = RollingRecords(keep_s=1e9, max_rows=100)
    for k in range(50):
        keep.add(np.column_stack([np.arange(10) + 10 * k, np.zeros(10)]), 0.0, lambda r: 0.0)
    assert keep.rows <= 110 and keep.all(2)[-1, 0] == 499


def test_a_window_cuts_inside_chunks():
    keep = RollingRecords(keep_s=1e9, max_rows=10**6)
    keep.add(np.column_stack([np.arange(0, 10), np.arange(10)]), 0.0, lambda r: 0.0)
    keep.add(np.column_stack([np.arange(10, 20), np.arange(10)]), 0.0, lambda r: 0.0)
    assert keep.window(7.0, 12.5, 2)[:, 0].tolist() == [7, 8, 9, 10, 11, 12]


# ---------------------------------------------------------------- raster


def test_raster_paints_each_population_in_its_colour():
    spikes = np.array([[0, 0], [5, 3], [9, 7], [9, 9], [50, 1]], np.int64)  # E 0-3, I 4-7, inputs 8-9
    pix, drawn = bin_raster(spikes, (0.0, 10.0), (0.0, 10.0), (10, 10), n_exc=4, n=8, lut32=LUT)
    assert pix.shape == (10, 10) and pix.dtype == np.uint32
    assert drawn == 4  # step 50 is out of view
    assert pix[0, 0] == 11 and pix[3, 5] == 11 and pix[7, 9] == 22 and pix[9, 9] == 33
    assert np.sum(pix != 0) == 4


def test_raster_bins_many_spikes_into_one_pixel_and_counts_them():
    spikes = np.array([[s, u] for s in range(100) for u in range(4)], np.int64)
    pix, drawn = bin_raster(spikes, (0.0, 100.0), (0.0, 4.0), (1, 1), n_exc=4, n=4, lut32=LUT)
    assert drawn == 400 and pix.tolist() == [[11]]


def test_an_empty_or_degenerate_view_paints_the_background():
    pix, drawn = bin_raster(np.zeros((0, 2), np.int64), (0.0, 1.0), (0.0, 1.0), (4, 3), 1, 1, LUT)
    assert drawn == 0 and pix.shape == (3, 4) and np.all(pix == 0)
    pix, drawn = bin_raster(np.array([[0, 0]]), (1.0, 1.0), (0.0, 1.0), (4, 3), 1, 1, LUT)
    assert drawn == 0


def test_raster_of_a_run_draws_every_spike_in_view(small):
    spikes = small.read_streams().spikes
    pix, drawn = bin_raster(spikes, (0.0, 1000.0), (0.0, 500.0), (200, 100), small.n_exc, small.n, LUT)
    assert drawn == spikes[spikes[:, 1] < 500].shape[0] > 100
    assert np.any(pix == 11) and np.any(pix == 22)


# ---------------------------------------------------------------- rates


def test_rates_in_one_ms_bins_match_the_counts():
    dt = 1e-4  # 10 steps a bin
    steps = np.arange(40)
    rec = np.column_stack([steps, np.where(steps < 20, 2, 0), np.ones(40, int)])
    r = bin_rates(rec, dt, n=10, n_exc=8)
    assert np.allclose(r.t_s, [0.0, 1e-3, 2e-3, 3e-3])
    # 20 E spikes in a bin of 8 neurons and 1 ms: 2,500 Hz; 10 I spikes over 2 neurons: 5,000 Hz
    assert np.allclose(r.e_hz, [2500.0, 2500.0, 0.0, 0.0])
    assert np.allclose(r.i_hz, 5000.0)
    assert not r.e_hz.flags.writeable


def test_a_partly_held_bin_counts_only_the_time_held():
    rec = np.array([[15, 4, 0], [16, 4, 0]])  # 2 of bin 1's 10 steps
    r = bin_rates(rec, 1e-4, n=4, n_exc=4)
    assert np.allclose(r.t_s, [1e-3]) and np.allclose(r.e_hz, [8 / 4 / 2e-4])
    assert r.i_hz.size == 0  # no inhibitory population


def test_rates_of_nothing_are_empty():
    r = bin_rates(np.zeros((0, 3)), 1e-4, n=10, n_exc=8)
    assert r.t_s.size == r.e_hz.size == r.i_hz.size == 0


def test_binned_rates_of_a_run_agree_with_the_engine(small):
    r = bin_rates(small.read_streams().rates, 1e-4, small.n, small.n_exc)
    assert r.t_s.size == 100  # 0.1 s in 1 ms bins
    spikes = small.read_streams().spikes
    e_spikes = int(np.sum(spikes[:, 1] < small.n_exc))
    assert np.sum(r.e_hz) * small.n_exc * 1e-3 == pytest.approx(e_spikes)


# ---------------------------------------------------------------- network view


def test_flashing_marks_the_neurons_that_spiked_not_the_inputs():
    lit = flashing(np.array([[0, 1], [1, 3], [2, 3], [3, 12]]), n=5)
    assert lit.tolist() == [False, True, False, True, False]


def test_network_layout_places_every_neuron_and_draws_a_sample_of_edges():
    rng = np.random.default_rng(0)
    pre = rng.integers(0, 60, 400)  # 50 neurons, 10 inputs
    post = rng.integers(0, 50, 400)
    lay = network_layout(pre, post, 50, max_edges=100)
    assert lay.xy.shape == (50, 2) and np.all(np.isfinite(lay.xy))
    assert lay.segments.shape == (200, 2)
    assert not lay.xy.flags.writeable and not lay.segments.flags.writeable
    again = network_layout(pre, post, 50, max_edges=100)
    assert np.array_equal(lay.xy, again.xy)  # seeded: the same picture every time


def test_network_layout_segments_join_the_synapses_end_points():
    pre, post = np.array([0, 1, 2, 5]), np.array([1, 2, 0, 0])  # unit 5 is an input
    lay = network_layout(pre, post, 3)
    assert lay.segments.shape == (6, 2)
    assert np.array_equal(lay.segments[0], lay.xy[0]) and np.array_equal(lay.segments[1], lay.xy[1])
