"""How criteria are measured: a small family of vectorised measures, registered by name.

Each measure is one call over all sites (shapely 2 style), and one module here:

========================  ===============================================================
``attribute``             :class:`Attribute` — a plot's own value (area, zoning, price…)
``nearest``               :class:`NearestDistance` — exact metres to the nearest feature
``aggregate``             :class:`AggregateWithin` — max / sum / count within a radius
``overlay``               :class:`Overlay` — share / any / largest overlap with polygons
========================  ===============================================================

A new measure (a raster's zonal statistics, travel time on a road graph) is a new module in this
package defining a :class:`Measure` subclass decorated with :func:`register`; catalogues can use it
by its ``name`` at once (:func:`measure_class` finds it). A measure outside the package is named by
its dotted path (``measure: mypackage.mymeasure:MyMeasure``), as pygeoapi names its plugins.
"""

from __future__ import annotations

from sitematch.errors import CatalogueError
from sitematch.measures._base import Measure, MeasureContext, Measured
from sitematch.measures._registry import MEASURES, discover, register
from sitematch.measures._where import Clause
from sitematch.measures.aggregate import AggregateWithin
from sitematch.measures.attribute import Attribute
from sitematch.measures.nearest import NearestDistance
from sitematch.measures.overlay import Overlay


def measure_class(name: str) -> type[Measure]:
    """The measure registered under ``name``, or named by a dotted path (``package.module[:Class]``).

    Raises
    ------
    CatalogueError
        If no measure has that name, or the dotted path names none.

    Examples
    --------
    >>> measure_class("nearest").__name__
    'NearestDistance'
    """
    table = discover()
    if name in table:
        return table[name]
    from sitematch._plugins import is_dotted, load_dotted

    if is_dotted(name):
        return load_dotted(name, Measure, "a measure", CatalogueError)
    raise CatalogueError(f"unknown measure {name!r}; known: {', '.join(sorted(table))} (or a dotted path)")


__all__ = [
    "MEASURES",
    "AggregateWithin",
    "Attribute",
    "Clause",
    "Measure",
    "MeasureContext",
    "Measured",
    "NearestDistance",
    "Overlay",
    "measure_class",
    "register",
]
