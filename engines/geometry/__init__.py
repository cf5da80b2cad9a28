"""Population geometry: manifold capacity (MFTMA), dimensionality and similarity
measures, small digit classifiers (standard, adversarially trained, stochastic),
adversarial attacks and the analysis engine behind the geometry workbench.

Nothing here imports Qt, pyqtgraph or vispy.
"""

from engines.geometry.mftma import (
    MFTMAResult,
    SimCapResult,
    check_manifolds,
    manifold_analysis,
    simulated_capacity,
)

__all__ = [
    "MFTMAResult",
    "SimCapResult",
    "check_manifolds",
    "manifold_analysis",
    "simulated_capacity",
]
