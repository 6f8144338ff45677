"""``NearestDistance(layer, where)``: exact metres to the nearest feature of a layer."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from sitematch.measures import _base as base
from sitematch.measures._base import Fail, Measure, MeasureContext, Measured
from sitematch.measures._registry import register
from sitematch.measures._where import Clause, parse_where

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.schema import LayerSchema
    from sitematch.screen import Screen


@register
@dataclass(frozen=True)
class NearestDistance(Measure):
    """Distance in metres from a site's polygon to the nearest feature of ``layer`` (0 when touching).

    Parameters
    ----------
    layer : str
        The layer kind measured to.
    where : tuple of Clause
        Only features meeting these conditions count (e.g. ports deep enough for the lead).
    name_column : str, optional
        A column of the layer naming the feature; its value for the nearest feature is kept in
        ``names_as`` so explanations can say *which* port or junction.
    names_as : str, optional
        The companion column for the name (e.g. ``nearest_port``).

    Examples
    --------
    >>> NearestDistance("ports", name_column="name", names_as="nearest_port").extra_columns()
    ('nearest_port',)
    """

    layer: str
    where: tuple[Clause, ...] = ()
    name_column: str | None = None
    names_as: str | None = None

    name = "nearest"
    keys = ("layer", "where", "name_column", "names_as")
    boundable = True

    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        if ctx.layer(self.layer) is None:  # the region has no such layer: unknown, not "none in the layers"
            extra = {self.names_as: pd.Series(pd.NA, index=sites.index, dtype="string")} if self.names_as else {}
            return Measured(np.full(len(sites), np.nan), extra)
        index, positions = base.indexed_rows(ctx, self.layer, self.where)
        dist, which = index.nearest(sites.geometry.to_numpy(), max_distance_m)
        extra = {}
        if self.names_as and self.name_column:
            names = np.full(len(sites), None, dtype=object)
            found = which >= 0
            gdf = ctx.layer(self.layer)
            if gdf is not None and found.any():
                names[found] = gdf[self.name_column].to_numpy(dtype=object)[positions[which[found]]]
            extra[self.names_as] = pd.Series(names, index=sites.index, dtype="string")
        return Measured(dist, extra)

    def screen(self, ctx: MeasureContext) -> Screen | None:
        """A distance surface over the layer's (filtered) points or lines; None for polygon layers."""
        from sitematch import screen, settings

        gdf = ctx.layer(self.layer)
        if gdf is None:
            return None
        cell = float(settings.screen_cell_m)
        _, positions = base.indexed_rows(ctx, self.layer, self.where)
        geoms = gdf.geometry.to_numpy()[positions]
        extent = base.screen_extent(ctx)

        def build() -> Screen | None:
            digest = screen.digest("nearest", shapely.get_coordinates(geoms), shapely.get_type_id(geoms), extent, cell)
            return screen.cached_surface(
                digest, screen.DistanceSurface, lambda: screen.DistanceSurface.build(geoms, extent, cell)
            )

        return ctx.cached((self.layer, "screen", base.where_key(ctx, self.where), cell), build)

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> NearestDistance:
        base.check_keys(spec, cls.keys, ("layer",), path, fail)
        where = parse_where(spec.get("where"), parameters, (*path, "where"), fail)
        name_column = spec.get("name_column")
        names_as = spec.get("names_as") or (f"nearest_{spec['layer']}_name" if name_column else None)
        return cls(str(spec["layer"]), where, name_column, names_as)

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def parameters(self) -> tuple[str, ...]:
        return tuple(c.parameter for c in self.where if c.parameter)

    def extra_columns(self) -> tuple[str, ...]:
        return (self.names_as,) if self.names_as else ()

    def default_cost(self, geometry_type: str | None = None) -> int:
        return 1 if geometry_type in ("Point", None) else 3

    def default_higher_is_better(self) -> bool:
        return False

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        super().check(schema_of, path, fail)
        for c in self.where:
            base.check_column(schema_of, self.layer, c.column, (*path, "where"), fail)
        if self.name_column:
            base.check_column(schema_of, self.layer, self.name_column, (*path, "name_column"), fail)

    def describe(self) -> str:
        cond = f" where {' and '.join(c.text() for c in self.where)}" if self.where else ""
        return f"metres to the nearest feature of '{self.layer}'{cond}"
