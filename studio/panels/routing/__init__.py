"""Route maps: open a routing instance, solve it with a chosen solver, watch routes and cost.

* :mod:`.panel`: :class:`RoutingPanel`, the wiring (files, solving, map edits, drawing);
* :mod:`.controls`: :class:`SolverForm`, the instance and solver controls on the left;
* :mod:`.map_view`: :class:`RouteMap`, routes over the streets with direction arrows;
* :mod:`.map_overlays`: the map's scale bar, OpenStreetMap attribution and legend;
* :mod:`.editing`: :class:`MapEditBox`, the map's view box that turns clicks and drags into edits;
* :mod:`.route_table`, :mod:`.compare_table`, :mod:`.gantt`, :mod:`.matrix`, :mod:`.curve`:
  the tabs below the map and the improvement curve on the right;
* :mod:`.colours`: one colour-blind-safe colour per route, shared by the map, the route table and the Gantt.

What they draw is computed headless in :mod:`engines.routing.layout` and :mod:`engines.routing.report`.
"""

from .panel import RoutingPanel

__all__ = ["RoutingPanel"]
