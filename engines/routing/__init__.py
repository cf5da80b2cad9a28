"""Route maps: routing problems, loaders, evaluator, solvers and road networks.

* :mod:`.problem`: the problem model and its one evaluator;
* :mod:`.params` / :mod:`.engine`: :class:`RoutingParams`, :class:`RoutingEngine` and its
  :class:`RoutingSnapshot`;
* :mod:`.io`: file formats (VRPLIB, Solomon, TSPLIB ATSP, CSV, road-network ``.npz``; solutions);
* :mod:`.edit`: map edits of coordinate instances; :mod:`.layout` and :mod:`.report`: what the
  panel draws (map coordinates, route paths, arrows; table rows, hover texts, Gantt bars), headless;
* :mod:`.solvers`, :mod:`.ls`, :mod:`.pyvrp_bridge`, :mod:`.neural`: the solvers;
* :mod:`.osm`: road-network instances from OpenStreetMap;
* :mod:`.cli`: ``python -m engines routing info|solve|osm|train``.
"""

from engines.routing.engine import RoutingEngine, RoutingSnapshot
from engines.routing.params import RoutingParams
from engines.routing.problem import Evaluation, Problem, check_instance, evaluate

__all__ = [
    "Evaluation",
    "Problem",
    "RoutingEngine",
    "RoutingParams",
    "RoutingSnapshot",
    "check_instance",
    "evaluate",
]
