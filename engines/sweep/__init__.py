"""Parameter sweeps of every engine, run as Dask tasks from one machine to a cluster.

* :mod:`engines.sweep.model`  the sweep file (TOML): kind, grid / samples, seeds, metrics;
* :mod:`engines.sweep.kinds`  what one point runs (demo, spiking, routing);
* :mod:`engines.sweep.store`  the results folder (Parquet part files, atomic appends);
* :mod:`engines.sweep.runner` the Dask runner (a generator of progress).
"""

from engines.sweep.model import Point, SweepError, SweepSpec, load_sweep, sweep_from_dict
from engines.sweep.runner import SweepStatus, SweepSummary, run_sweep, sweep_job
from engines.sweep.store import export_results, read_results

__all__ = [
    "Point",
    "SweepError",
    "SweepSpec",
    "SweepStatus",
    "SweepSummary",
    "export_results",
    "load_sweep",
    "read_results",
    "run_sweep",
    "sweep_from_dict",
    "sweep_job",
]
