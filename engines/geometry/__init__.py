"""Population geometry: manifold capacity (MFTMA), dimensionality and similarity
measures, small digit classifiers (standard, adversarially trained, stochastic),
adversarial attacks and the analysis engine behind the geometry workbench.

* :mod:`engines.geometry.params`   :class:`AnalysisParams`, what an analysis covers;
* :mod:`engines.geometry.engine`   :class:`GeometryEngine` and its :class:`GeometrySnapshot`;
* :mod:`engines.geometry.analysis` the analysis job (manifolds, attacks, embeddings);
* :mod:`engines.geometry.curves`   what the workbench plots, computed from snapshot rows;
* :mod:`engines.geometry.io`       activations read from files, results written as CSV;
* :mod:`engines.geometry.mftma`, :mod:`~engines.geometry.measures`, :mod:`~engines.geometry.models`,
  :mod:`~engines.geometry.attacks`, :mod:`~engines.geometry.train` the science;
* :mod:`engines.geometry.cli`      ``python -m engines geometry ...``.

Nothing here imports Qt, pyqtgraph or vispy. The engine, its parameters and its
snapshot need torch: they are imported on first use, so that ``import
engines.geometry`` (and the command line's parser) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engines import lazy_exports
from engines.geometry.mftma import (
    MFTMAResult,
    SimCapResult,
    check_manifolds,
    manifold_analysis,
    simulated_capacity,
)

if TYPE_CHECKING:
    from engines.geometry.engine import GeometryEngine, GeometrySnapshot
    from engines.geometry.params import AnalysisParams

__all__ = [
    "AnalysisParams",
    "GeometryEngine",
    "GeometrySnapshot",
    "MFTMAResult",
    "SimCapResult",
    "check_manifolds",
    "manifold_analysis",
    "simulated_capacity",
]

_LAZY = {
    "AnalysisParams": "engines.geometry.params",
    "GeometryEngine": "engines.geometry.engine",
    "GeometrySnapshot": "engines.geometry.engine",
}


__getattr__ = lazy_exports(__name__, _LAZY)
