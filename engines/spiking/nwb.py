"""Spike export to Neurodata Without Borders (NWB 2) files with pynwb."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

import numpy as np

__all__ = ["export_nwb", "read_nwb_spikes"]


def export_nwb(engine, path: str | os.PathLike, description: str = "", all_neurons: bool = True) -> int:
    """Write the spikes held in ``engine.spikes`` as an NWB Units table; returns the unit count.

    One unit per LIF neuron (``id`` = neuron index) with its spike times in
    seconds and its population (``E`` or ``I``); input units are left out.
    The parameters go into the file's ``notes`` as JSON. Only the spikes
    still held by the ring buffer are written (a warning names how many were
    dropped).
    """
    from hdmf.common import ElementIdentifiers, VectorData, VectorIndex
    from pynwb import NWBHDF5IO, NWBFile
    from pynwb.misc import Units

    data, _, dropped = engine.spikes.read_since(0)
    n = int(engine.n)
    n_exc = int(getattr(engine, "n_exc", n))
    dt_s = float(engine.time) / max(engine.step_count, 1) if engine.step_count else 0.0
    steps, ids = data[:, 0], data[:, 1]
    keep = ids < n
    steps, ids = steps[keep], ids[keep]
    order = np.lexsort((steps, ids))
    steps, ids = steps[order], ids[order]
    bounds = np.searchsorted(ids, np.arange(n + 1))
    nwb = NWBFile(
        session_description=description
        or f"Neural Studio spiking engine ({engine.params.__class__.__name__})",
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.now(UTC),
        notes=json.dumps(
            {"params": engine.params.to_dict(), "seed": engine.seed, "dropped_spikes": int(dropped)}
        ),
    )
    unit_ids = np.arange(n)
    if not all_neurons:
        unit_ids = unit_ids[bounds[1:] > bounds[:-1]]
    # the whole ragged column at once (add_unit per neuron is slow for thousands)
    times = steps.astype(np.float64) * dt_s
    sel = np.concatenate([np.arange(bounds[j], bounds[j + 1]) for j in unit_ids]) if unit_ids.size else []
    ends = np.cumsum([bounds[j + 1] - bounds[j] for j in unit_ids]).astype(np.int64)
    spike_times = VectorData(name="spike_times", description="spike times (s)", data=times[sel])
    spike_index = VectorIndex(name="spike_times_index", data=ends, target=spike_times)
    population = VectorData(
        name="population",
        description="E (excitatory) or I (inhibitory)",
        data=["E" if j < n_exc else "I" for j in unit_ids],
    )
    nwb.units = Units(
        name="units",
        description="LIF neurons of the simulated network",
        id=ElementIdentifiers(name="id", data=unit_ids.tolist()),
        columns=[spike_times, spike_index, population],
    )
    count = int(unit_ids.size)
    from engines.files import atomic_output

    with atomic_output(path) as tmp, NWBHDF5IO(os.fspath(tmp), "w") as io:
        io.write(nwb)
    if dropped:
        engine.log(f"NWB export: {dropped} older spikes had left the ring buffer", "warning")
    return count


def read_nwb_spikes(path: str | os.PathLike) -> dict[int, np.ndarray]:
    """{unit id: spike times in s} of an NWB file (any NWB reader would do)."""
    from pynwb import NWBHDF5IO

    from engines.serialize import FormatError, open_regular

    open_regular(path)[0].close()  # FileNotFoundError passes; a folder or device is refused
    try:
        with NWBHDF5IO(os.fspath(path), "r") as io:
            f = io.read()
            units = f.units
            ids = list(units.id[:])
            out = {int(i): np.asarray(units["spike_times"][k], np.float64) for k, i in enumerate(ids)}
    except Exception as e:  # h5py / hdmf / pynwb raise many kinds on a damaged or foreign file
        raise FormatError(
            f"{path}: not a readable NWB file with spike units ({type(e).__name__}: {e})"
        ) from None
    for i, t in out.items():
        if t.ndim != 1 or not np.all(np.isfinite(t)):
            raise FormatError(f"{path}: unit {i}: spike times are not a list of finite numbers")
    return out
