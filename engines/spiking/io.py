"""The files of the LIF engine: edge lists it reads, NWB spike exports, saved states.

* :func:`load_edge_list`: ``pre post [weight [delay_ms]]`` text files
  (``SpikingParams.edge_list_path``); errors name the file and the line;
* :func:`export_nwb` / :func:`read_nwb_spikes`: spikes as an NWB 2 Units table
  (Neurodata Without Borders, with pynwb);
* :func:`save_state_file` / :func:`load_state_file`: an engine's whole state
  through :mod:`engines.serialize` (``SpikingEngine.save`` / ``load``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

__all__ = [
    "MAX_DELAY_STEPS",
    "MAX_EDGE_DELAY_MS",
    "STATE_KIND",
    "export_nwb",
    "load_edge_list",
    "load_state_file",
    "read_nwb_spikes",
    "save_state_file",
]

#: the ``kind`` of a saved LIF engine state
STATE_KIND = "spiking-lif"


# ---------------------------------------------------------------- edge lists

#: longest synaptic delay an edge list may give (as SpikingParams.delay_max_ms), and in time steps
MAX_EDGE_DELAY_MS = 3000.0
MAX_DELAY_STEPS = 32767


def load_edge_list(
    path: str | os.PathLike,
    n_neurons: int,
    weight_of_source: np.ndarray,
    dt_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read ``pre post [weight [delay_ms]]`` lines (whitespace or commas).

    ``#`` starts a comment. Weights are signed as written; when absent the
    default weight of the presynaptic population is used. Errors name the
    file and the line.
    """
    from engines.serialize import FormatError, read_text_bounded

    path = os.fspath(path)
    pre, post, w, d = [], [], [], []
    try:
        content = read_text_bounded(path, path)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"edge list file {path!r} does not exist") from e
    for lineno, raw in enumerate(content.splitlines(), start=1):
        text = raw.split("#", 1)[0].replace(",", " ").strip()
        if not text:
            continue
        parts = text.split()
        where = f"{path} line {lineno}"
        shown = raw.strip()[:80]
        if not 2 <= len(parts) <= 4:
            raise FormatError(f"{where}: expected 'pre post [weight [delay_ms]]', got {shown!r}")
        try:
            i, j = int(parts[0]), int(parts[1])
        except ValueError:
            raise FormatError(f"{where}: neuron indices must be integers, got {shown!r}") from None
        for k in (i, j):
            if not 0 <= k < n_neurons:
                raise FormatError(f"{where}: neuron index {k} is outside [0, {n_neurons})")
        try:
            weight = float(parts[2]) if len(parts) > 2 else float(weight_of_source[i])
            delay = float(parts[3]) if len(parts) > 3 else 0.0
        except ValueError:
            raise FormatError(f"{where}: weight and delay must be numbers, got {shown!r}") from None
        if not np.isfinite(weight):
            raise FormatError(f"{where}: weight {parts[2][:40]!r} is not a finite number")
        if not (np.isfinite(delay) and 0 <= delay <= MAX_EDGE_DELAY_MS):
            raise FormatError(
                f"{where}: delay {parts[3][:40]!r} must be a number in [0, {MAX_EDGE_DELAY_MS:g}] ms"
            )
        if round(delay / dt_ms) > MAX_DELAY_STEPS:
            raise FormatError(
                f"{where}: delay {parts[3][:40]!r} ms is more than {MAX_DELAY_STEPS} time steps"
            )
        pre.append(i)
        post.append(j)
        w.append(weight)
        d.append(int(round(delay / dt_ms)))
    return (
        np.asarray(pre, np.int64),
        np.asarray(post, np.int64),
        np.asarray(w, np.float64),
        np.asarray(d, np.int64),
    )


# ---------------------------------------------------------------- NWB


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


# ---------------------------------------------------------------- state files


def save_state_file(path: str | os.PathLike, state: Mapping[str, Any]) -> None:
    """Write an engine's ``state_dict()`` to ``path`` (atomically, see :mod:`engines.serialize`)."""
    from engines.serialize import save_state

    save_state(path, dict(state), kind=STATE_KIND)


def load_state_file(path: str | os.PathLike) -> dict[str, Any]:
    """Read a state written by :func:`save_state_file`; a file of another kind is refused by name."""
    from engines.serialize import load_state

    return load_state(path, kind=STATE_KIND)
