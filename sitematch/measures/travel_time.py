"""``TravelTime(targets, how)``: minutes by road to the nearest feature, or what is reachable in time.

Measured on the region's road layer (kind ``roads``: lines with ``speed_kmh`` and ``oneway``, as
``sitematch layers import osm|nvdb`` writes it) turned into a graph of minutes once per LayerSet
(:class:`sitematch.roadgraph.RoadGraph`), with SciPy's Dijkstra:

- ``how: nearest`` — minutes from the plot to the nearest feature of ``targets`` (one search
  backwards from all targets at once), e.g. ``drive_time_to_motorway_junction_min``;
- ``how: reach`` — the sum of a column of ``targets`` within ``limit_min`` minutes, e.g. the
  population of the grid cells that can drive to the plot within 45 minutes
  (``labour_pool_within_45_min``).

Plots and targets are snapped onto the nearest road with an access time (the straight distance at
``access_speed_kmh``); a plot's and a population cell's access time is never below
``min_access_min``. A plot (or target) the network does not cover — farther than ``max_access_m``
(default 5 km) from every road, e.g. in a county whose roads were not imported — gets an
**unknown** value (NaN: a requirement on it follows its ``if_unknown``), never a long drive or an
empty labour pool. ::

    criteria:
      labour_pool_within_45_min:
        measure: travel_time
        how: reach
        targets: population_grid
        column: population
        limit_min: 45
        unit: inhabitants
        label: Labour pool within 45 min by car
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from sitematch import schema as s
from sitematch.i18n import N_
from sitematch.measures._base import Fail, Measure, MeasureContext, Measured, check_choice, check_column, check_keys
from sitematch.measures._registry import register
from sitematch.measures._where import Clause, parse_where, where_mask

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.roadgraph import RoadGraph, Snapped
    from sitematch.schema import LayerSchema

log = logging.getLogger(__name__)

HOWS = ("nearest", "reach")
DIRECTIONS = ("from_site", "to_site")
#: Speed over the straight line from a plot or cell to the road it is snapped to, km/h.
ACCESS_SPEED_KMH = 20.0
#: The least access time of a plot or a population cell, minutes.
MIN_ACCESS_MIN = 1.0
#: Farther than this from every road, a plot or target is outside the network (its time unknown), metres.
MAX_ACCESS_M = 5000.0


def _number(spec: Mapping[str, Any], key: str, default: float, path: tuple[str, ...], fail: Fail) -> float:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise fail((*path, key), f"expected a number ≥ 0, got {value!r}")
    return float(value)


@register
@dataclass(frozen=True)
class TravelTime(Measure):
    """Drive time on the road graph: to the nearest target, or the targets' sum within a time limit.

    Parameters
    ----------
    targets : str
        The layer kind driven to (or from).
    how : str
        ``"nearest"`` (minutes; ``inf`` when none is reachable within ``limit_min``) or ``"reach"``.
    limit_min : float or str, optional
        Time limit in minutes, or the name of a profile parameter holding it; required for reach.
    column : str, optional
        For reach: the targets' column summed (e.g. ``population``); without it, targets are counted.
    direction : str, optional
        ``"to_site"`` (targets drive to the site: commuting; reach's default) or ``"from_site"``
        (the site drives to them: nearest's default).
    layer : str
        The road layer kind.
    where : tuple of Clause
        Only targets meeting these conditions count.
    access_speed_kmh, min_access_min : float
        How plots and targets join the road (see the module docstring).
    max_access_m : float
        Farther than this from every road, a plot or target is outside the network.

    Examples
    --------
    >>> TravelTime("population_grid", "reach", 30.0, "population").describe()
    "sum of 'population' of 'population_grid' that can drive to the site within 30 min on 'roads'"
    """

    targets: str
    how: str
    limit_min: float | str | None = None
    column: str | None = None
    direction: str | None = None
    layer: str = "roads"
    where: tuple[Clause, ...] = ()
    access_speed_kmh: float = ACCESS_SPEED_KMH
    min_access_min: float = MIN_ACCESS_MIN
    max_access_m: float = MAX_ACCESS_M

    name = "travel_time"
    unknown_reason = N_("outside the road network")
    keys = (
        "targets",
        "how",
        "limit_min",
        "column",
        "direction",
        "layer",
        "where",
        "access_speed_kmh",
        "min_access_min",
        "max_access_m",
    )

    def graph(self, ctx: MeasureContext) -> RoadGraph | None:
        """The region's road graph, built once per LayerSet (None without a road layer)."""
        from sitematch.roadgraph import RoadGraph

        roads = ctx.layer(self.layer)
        if roads is None:
            return None

        def build() -> RoadGraph:
            return RoadGraph.from_lines(
                roads.geometry.to_numpy(),
                roads[s.SPEED_KMH].to_numpy(dtype=float, na_value=np.nan),
                roads[s.ONEWAY].fillna(0).to_numpy(dtype=np.int64),
            )

        return ctx.cached((self.layer, "roadgraph"), build)

    def _targets(self, ctx: MeasureContext, graph: RoadGraph) -> tuple[Snapped, np.ndarray] | None:
        gdf = ctx.layer(self.targets)
        if gdf is None:
            return None
        params = ctx.parameters_for(self.where)
        rows = np.flatnonzero(where_mask(gdf, self.where, params))
        weights = (
            gdf[self.column].astype("Float64").fillna(0.0).to_numpy(dtype=float)[rows]
            if self.column
            else np.ones(len(rows))
        )
        key: tuple[Any, ...] = (self.targets, "snapped", self.layer, self.access_speed_kmh)
        key += (self.min_access_min, self.how, self.max_access_m)
        key += tuple((c.text(), c.resolved(params)) for c in self.where)
        floor = self.min_access_min if self.how == "reach" else 0.0
        geoms = gdf.geometry.to_numpy()[rows]
        snapped = ctx.cached(key, lambda: graph.snap(geoms, self.access_speed_kmh, floor, self.max_access_m))
        return snapped, weights

    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        n = len(sites)
        graph = self.graph(ctx)
        found = self._targets(ctx, graph) if graph is not None else None
        if graph is None or found is None:
            return Measured(np.full(n, np.nan))
        targets, weights = found
        plots = graph.snap(sites.geometry.to_numpy(), self.access_speed_kmh, self.min_access_min, self.max_access_m)
        outside = int((plots.edge < 0).sum())
        if outside:
            log.info("%d site(s) outside the road network '%s': drive time unknown", outside, self.layer)
        limit = ctx.parameter(self.limit_min) if isinstance(self.limit_min, str) else self.limit_min
        direction = self.direction or ("to_site" if self.how == "reach" else "from_site")
        if self.how == "reach":
            assert limit is not None
            values = graph.reach_sum(plots, targets, weights, float(limit), to_sites=direction == "to_site")
        else:
            values = graph.time_to_nearest(plots, targets, limit)
        values = np.where(plots.edge >= 0, values, np.nan)
        log.debug("travel time %s to %s for %d sites", self.how, self.targets, n)
        return Measured(values)

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> TravelTime:
        check_keys(spec, cls.keys, ("targets", "how"), path, fail)
        how = check_choice(spec, "how", HOWS, path, fail)
        limit = spec.get("limit_min")
        if limit is None and how == "reach":
            raise fail(path, "missing 'limit_min': the time limit in minutes (a number or a parameter's name)")
        if isinstance(limit, str) and limit not in parameters:
            raise fail((*path, "limit_min"), f"{limit!r} is neither a number nor a declared parameter")
        if limit is not None and not isinstance(limit, str):
            limit = _number(spec, "limit_min", 0.0, path, fail)
        direction = check_choice(spec, "direction", DIRECTIONS, path, fail) if "direction" in spec else None
        if direction == "to_site" and how == "nearest":
            raise fail((*path, "direction"), "nearest measures from the site; leave 'direction' out")
        return cls(
            str(spec["targets"]),
            how,
            limit,
            spec.get("column"),
            direction,
            str(spec.get("layer", "roads")),
            parse_where(spec.get("where"), parameters, (*path, "where"), fail),
            _number(spec, "access_speed_kmh", ACCESS_SPEED_KMH, path, fail) or ACCESS_SPEED_KMH,
            _number(spec, "min_access_min", MIN_ACCESS_MIN, path, fail),
            _number(spec, "max_access_m", MAX_ACCESS_M, path, fail) or MAX_ACCESS_M,
        )

    def layers(self) -> tuple[str, ...]:
        return (self.targets, self.layer)

    def parameters(self) -> tuple[str, ...]:
        limit = (self.limit_min,) if isinstance(self.limit_min, str) else ()
        return (*limit, *(c.parameter for c in self.where if c.parameter))

    def default_cost(self, geometry_type: str | None = None) -> int:
        return 5

    def default_higher_is_better(self) -> bool:
        return self.how == "reach"

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        super().check(schema_of, path, fail)
        for col in (s.SPEED_KMH, s.ONEWAY):
            check_column(schema_of, self.layer, col, (*path, "layer"), fail)
        if self.column:
            check_column(schema_of, self.targets, self.column, (*path, "column"), fail)
        for c in self.where:
            check_column(schema_of, self.targets, c.column, (*path, "where"), fail)

    def describe(self) -> str:
        limit = self.limit_min if isinstance(self.limit_min, str | None) else f"{self.limit_min:g} min"
        if self.how == "nearest":
            within = f" (within {limit})" if self.limit_min is not None else ""
            return f"minutes by road to the nearest feature of '{self.targets}'{within} on '{self.layer}'"
        what = f"sum of '{self.column}'" if self.column else "number of features"
        verb = "that can drive to the site" if (self.direction or "to_site") == "to_site" else "the site reaches"
        return f"{what} of '{self.targets}' {verb} within {limit} on '{self.layer}'"
