"""NWB export: an NWB reader gets back every neuron's spike times."""

from __future__ import annotations

import numpy as np

from engines.spiking import SpikingEngine, preset


def test_nwb_export_round_trip(tmp_path):
    from pynwb import NWBHDF5IO

    eng = SpikingEngine(preset("coba", n_neurons=500, p_connect=0.1, i_ext_mV=20.0), seed=3)
    eng.run(0.1)
    path = tmp_path / "run.nwb"
    assert eng.export_nwb(path) == 500
    spikes = eng.spikes.read_since(0)[0]
    assert spikes.shape[0] > 100
    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        units = f.units
        assert list(units.id[:]) == list(range(500))
        pops = list(units["population"][:])
        assert pops[:400] == ["E"] * 400 and pops[400:] == ["I"] * 100
        for j in (0, 7, 450, 499):
            expect = np.sort(spikes[spikes[:, 1] == j, 0]) * 1e-4
            assert np.allclose(np.asarray(units["spike_times"][j]), expect)
        total = sum(len(units["spike_times"][k]) for k in range(500))
        assert total == spikes.shape[0]
        assert '"n_neurons": 500' in f.notes
