"""Parameter sweeps of every engine, run as Dask tasks from one machine to a cluster.

* :mod:`engines.sweep.params`    :class:`SweepParams`, where and how the points run;
* :mod:`engines.sweep.engine`    :class:`SweepEngine` and its :class:`SweepSnapshot` (the Sweeps panel's engine);
* :mod:`engines.sweep.model`     the sweep file (TOML): kind, grid / samples, seeds, metrics;
* :mod:`engines.sweep.kinds`     what one point runs (demo, spiking, routing, geometry);
* :mod:`engines.sweep.execute`   the Dask execution of a sweep (a generator of progress);
* :mod:`engines.sweep.store`     the results folder (Parquet part files, atomic appends);
* :mod:`engines.sweep.io`        the files a sweep reads and writes (definitions, results, exports);
* :mod:`engines.sweep.templates` a starting definition per kind;
* :mod:`engines.sweep.aggregate` means over seeds and axes for plots;
* :mod:`engines.sweep.cli`       ``python -m engines sweep ...``.
"""

from engines.sweep.engine import SweepEngine, SweepRecord, SweepSnapshot
from engines.sweep.execute import SweepStatus, SweepSummary, run_sweep, sweep_job
from engines.sweep.io import export_results, read_results
from engines.sweep.model import Point, SweepError, SweepSpec, load_sweep, sweep_from_dict, sweep_from_text
from engines.sweep.params import SweepParams

__all__ = [
    "Point",
    "SweepEngine",
    "SweepError",
    "SweepParams",
    "SweepRecord",
    "SweepSnapshot",
    "SweepSpec",
    "SweepStatus",
    "SweepSummary",
    "export_results",
    "load_sweep",
    "read_results",
    "run_sweep",
    "sweep_from_dict",
    "sweep_from_text",
    "sweep_job",
]
