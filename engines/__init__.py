"""Headless engines of Neural Studio (no Qt, no pyqtgraph, no vispy).

Each engine lives in its own sub-package and, when it has a command line, a
``cli`` module with ``add_parser(subparsers)`` registering its subcommands
under ``python -m engines NAME ...``.
"""

__version__ = "0.1.0"

#: engine packages with a headless command line, in menu order
ENGINE_PACKAGES = ("spiking", "geometry", "routing", "painting", "collab", "sweep")
