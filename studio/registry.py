"""The panel registry: workbench panels come from the ``studio.panels`` entry-point group.

Listing names needs no Qt; :func:`discover_panels` imports the panel classes.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["panel_entry_points", "discover_panels"]


def panel_entry_points() -> list[metadata.EntryPoint]:
    eps = metadata.entry_points(group="studio.panels")
    return sorted(eps, key=lambda ep: ep.name)


def discover_panels() -> tuple[dict[str, type], list[str]]:
    """Load every registered panel class: ({name: class}, [problems])."""
    found: dict[str, type] = {}
    problems: list[str] = []
    for ep in panel_entry_points():
        try:
            cls = ep.load()
        except Exception as e:  # a broken plug-in must not stop the studio
            problems.append(f"panel {ep.name!r} ({ep.value}) could not be loaded: {type(e).__name__}: {e}")
            continue
        found[ep.name] = cls
    return found, problems
