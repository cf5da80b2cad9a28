"""Sweeps: define a parameter sweep of any engine, run it on Dask, watch results arrive.

:mod:`.panel` wires the areas: :mod:`.definition` (the TOML editor, its kind and
template, the results folder), :mod:`.launch` (where the points run, Run / Stop /
Export, progress and the Dask dashboard link), :mod:`.plot` (heat map or lines),
:mod:`.table` (the results), :mod:`.runs` (every run of this session) and
:mod:`.kind_help` (the parameters of a kind).
"""

from studio.panels.sweeps.panel import SweepsPanel

__all__ = ["SweepsPanel"]
