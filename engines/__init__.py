"""Headless engines of Neural Studio (no Qt, no pyqtgraph, no vispy).

Each engine lives in its own sub-package and, when it has a command line, a
``cli`` module with ``add_parser(subparsers)`` registering its subcommands
under ``python -m engines NAME ...``.
"""

__version__ = "0.1.0"

#: engine packages with a headless command line, in menu order
ENGINE_PACKAGES = ("spiking", "geometry", "routing", "painting", "collab", "sweep")


def lazy_exports(package: str, names: dict[str, str]):
    """A module ``__getattr__`` (PEP 562) that imports each exported name's module on first use, so
    that importing a package stays light (no torch for the strokes document or the room server)."""
    import importlib

    def __getattr__(name: str):
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
