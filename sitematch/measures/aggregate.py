"""``AggregateWithin(layer, column, how, radius_parameter)``: max / sum / count within a radius."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from sitematch.measures import _base as base
from sitematch.measures._base import Fail, Measure, MeasureContext, Measured
from sitematch.measures._registry import register
from sitematch.measures._where import Clause, parse_where

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.schema import LayerSchema
    from sitematch.screen import Screen

HOWS = ("max", "sum", "count")


@register
@dataclass(frozen=True)
class AggregateWithin(Measure):
    """The max, sum or count of a layer's ``column`` over its features within a radius of the site.

    The radius is a profile parameter (``radius_parameter``), so a lead can say how far it would
    connect or commute. Sites with no feature within the radius get 0; a region without the layer
    gives unknown (NaN).

    Parameters
    ----------
    layer : str
        The layer kind aggregated.
    how : str
        ``"max"``, ``"sum"`` or ``"count"``.
    radius_parameter : str
        Name of the profile parameter holding the radius in metres.
    column : str, optional
        The layer's numeric column (not needed for ``count``); empty values count as 0.
    where : tuple of Clause
        Only features meeting these conditions count.

    Examples
    --------
    >>> AggregateWithin("places", "sum", "labour_pool_radius_m", "population").parameters()
    ('labour_pool_radius_m',)
    """

    layer: str
    how: str
    radius_parameter: str
    column: str | None = None
    where: tuple[Clause, ...] = ()

    name = "aggregate"
    keys = ("layer", "how", "radius_parameter", "column", "where")

    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        gdf = ctx.layer(self.layer)
        if gdf is None:
            return Measured(np.full(len(sites), np.nan))
        index, positions = base.indexed_rows(ctx, self.layer, self.where)
        values = self._values(gdf, positions)
        radius = ctx.parameter(self.radius_parameter)
        how = "sum" if self.how == "count" else self.how
        return Measured(index.aggregate_within(sites.geometry.to_numpy(), radius, values, how))

    def _values(self, gdf: gpd.GeoDataFrame, positions: np.ndarray) -> np.ndarray:
        """The values aggregated, of the rows at ``positions`` (1 each for a count; empty counts as 0)."""
        if self.how == "count":
            return np.ones(len(positions))
        return gdf[self.column].astype("Float64").fillna(0.0).to_numpy(dtype=float)[positions]

    def screen(self, ctx: MeasureContext) -> Screen | None:
        """Inner and outer disc aggregates over a point layer's non-negative values; None otherwise."""
        from sitematch import screen, settings

        gdf = ctx.layer(self.layer)
        if gdf is None:
            return None
        cell = float(settings.screen_cell_m)
        radius = ctx.parameter(self.radius_parameter)
        cap = float(settings.screen_radius_cap_m)
        _, positions = base.indexed_rows(ctx, self.layer, self.where)
        geoms = gdf.geometry.to_numpy()[positions]
        values = self._values(gdf, positions)
        how = "sum" if self.how == "count" else self.how
        extent = base.screen_extent(ctx)

        def build() -> Screen | None:
            if not (shapely.get_type_id(geoms) == 0).all():
                return None
            digest = screen.digest("aggregate", shapely.get_coordinates(geoms), values, how, radius, extent, cell, cap)
            return screen.cached_surface(
                digest,
                screen.AggregateSurface,
                lambda: screen.AggregateSurface.build(geoms, values, how, radius, extent, cell, cap),
            )

        key = (self.layer, "screen", self.how, self.column, base.where_key(ctx, self.where), radius, cell, cap)
        return ctx.cached(key, build)

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> AggregateWithin:
        base.check_keys(spec, cls.keys, ("layer", "how", "radius_parameter"), path, fail)
        how = base.check_choice(spec, "how", HOWS, path, fail)
        if how != "count" and not spec.get("column"):
            raise fail(path, f"missing 'column': the layer's numeric column to take the {how} of")
        radius = str(spec["radius_parameter"])
        if radius not in parameters:
            raise fail(
                (*path, "radius_parameter"),
                f"no parameter '{radius}' is declared; declare it under 'parameters:' with a default in metres",
            )
        where = parse_where(spec.get("where"), parameters, (*path, "where"), fail)
        return cls(str(spec["layer"]), how, radius, spec.get("column"), where)

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def parameters(self) -> tuple[str, ...]:
        return (self.radius_parameter, *(c.parameter for c in self.where if c.parameter))

    def default_cost(self, geometry_type: str | None = None) -> int:
        return 4

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        super().check(schema_of, path, fail)
        if self.column:
            base.check_column(schema_of, self.layer, self.column, (*path, "column"), fail)
        for c in self.where:
            base.check_column(schema_of, self.layer, c.column, (*path, "where"), fail)

    def describe(self) -> str:
        what = "number of features" if self.how == "count" else f"{self.how} of '{self.column}'"
        return f"{what} of '{self.layer}' within {self.radius_parameter}"
