"""Route maps: routing problems, loaders, evaluator, solvers and road networks.

The problem model and its one evaluator live in :mod:`engines.routing.problem`;
file formats in :mod:`engines.routing.io`.
"""

from engines.routing.problem import Evaluation, Problem, check_instance, evaluate

__all__ = ["Evaluation", "Problem", "check_instance", "evaluate"]
