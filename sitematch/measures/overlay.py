"""``Overlay(layer, how)``: how a site lies in a polygon layer (plan areas, flood zones, protected areas)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from sitematch.measures._base import Fail, Measure, MeasureContext, Measured, check_choice, check_column, check_keys
from sitematch.measures._registry import register
from sitematch.measures._where import Clause, parse_where, where_mask

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.schema import LayerSchema

HOWS = ("largest_overlap", "any", "share")


@register
@dataclass(frozen=True)
class Overlay(Measure):
    """A site's relation to a polygon layer, exactly, from the intersection areas.

    ``how``:

    - ``"share"``: the fraction (0–1) of the site's area inside the layer's polygons (overlapping
      polygons are dissolved first, so nothing counts twice) — a numeric criterion (``…_share``);
    - ``"any"``: whether any part of the site (a positive area) lies inside — a flag;
    - ``"largest_overlap"``: the ``column`` value of the polygon covering most of the site (e.g.
      the plan use of the detaljplan a plot mostly lies in) — a category; unknown when none.

    A region without the layer gives unknown for every site.

    Examples
    --------
    >>> Overlay("flood_zones", "share").default_kind(), Overlay("plans", "largest_overlap", "use").default_kind()
    ('numeric', 'category')
    """

    layer: str
    how: str
    column: str | None = None
    where: tuple[Clause, ...] = ()

    name = "overlay"
    keys = ("layer", "how", "column", "where")

    def _polygons(self, ctx: MeasureContext, dissolve: bool) -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
        gdf = ctx.layer(self.layer)
        assert gdf is not None
        params = ctx.parameters_for(self.where)
        positions = np.flatnonzero(where_mask(gdf, self.where, params))

        def build() -> tuple[shapely.STRtree, np.ndarray, np.ndarray]:
            geoms = gdf.geometry.to_numpy()[positions]
            if dissolve:
                geoms = shapely.get_parts(shapely.union_all(geoms)) if len(geoms) else geoms
                return shapely.STRtree(geoms), geoms, np.arange(len(geoms))
            return shapely.STRtree(geoms), geoms, positions

        key = (self.layer, "overlay", dissolve, tuple((c.text(), c.resolved(params)) for c in self.where))
        return ctx.cached(key, build)

    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        n = len(sites)
        gdf = ctx.layer(self.layer)
        if gdf is None:
            empty: dict[str, np.ndarray | pd.api.extensions.ExtensionArray] = {
                "share": np.full(n, np.nan),
                "any": pd.array([pd.NA] * n, dtype="boolean"),
            }
            return Measured(empty.get(self.how, pd.Series(pd.NA, index=sites.index, dtype="string")))
        geoms = sites.geometry.to_numpy()
        tree, polys, positions = self._polygons(ctx, dissolve=self.how != "largest_overlap")
        site_i, poly_i = tree.query(geoms, predicate="intersects")
        areas = shapely.area(shapely.intersection(geoms[site_i], polys[poly_i]))
        if self.how == "largest_overlap":
            out = np.full(n, None, dtype=object)
            hit = areas > 0
            site_i, poly_i, areas = site_i[hit], poly_i[hit], areas[hit]
            order = np.lexsort((-areas, site_i))  # per site, the largest overlap first
            first = order[np.r_[True, site_i[order][1:] != site_i[order][:-1]]] if len(order) else order
            values = gdf[self.column].to_numpy(dtype=object)[positions[poly_i[first]]]
            out[site_i[first]] = values
            return Measured(pd.Series(out, index=sites.index, dtype="string"))
        inside = np.bincount(site_i, weights=areas, minlength=n)
        if self.how == "any":
            return Measured(pd.array(inside > 0, dtype="boolean"))
        total = shapely.area(geoms)
        with np.errstate(invalid="ignore", divide="ignore"):
            return Measured(np.clip(np.where(total > 0, inside / total, 0.0), 0.0, 1.0))

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> Overlay:
        check_keys(spec, cls.keys, ("layer", "how"), path, fail)
        how = check_choice(spec, "how", HOWS, path, fail)
        if how == "largest_overlap" and not spec.get("column"):
            raise fail(path, "missing 'column': the layer's column whose value the site takes")
        where = parse_where(spec.get("where"), parameters, (*path, "where"), fail)
        return cls(str(spec["layer"]), how, spec.get("column"), where)

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def parameters(self) -> tuple[str, ...]:
        return tuple(c.parameter for c in self.where if c.parameter)

    def default_cost(self, geometry_type: str | None = None) -> int:
        return 3

    def default_kind(self) -> str:
        return {"share": "numeric", "any": "flag"}.get(self.how, "category")

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        super().check(schema_of, path, fail)
        schema = schema_of(self.layer)
        if schema is not None and schema.geometry_type != "Polygon":
            raise fail(
                (*path, "layer"), f"an overlay needs a polygon layer; '{self.layer}' holds {schema.geometry_type}s"
            )
        if self.column:
            check_column(schema_of, self.layer, self.column, (*path, "column"), fail)
        for c in self.where:
            check_column(schema_of, self.layer, c.column, (*path, "where"), fail)

    def describe(self) -> str:
        words = {
            "share": "share of the site inside",
            "any": "whether the site lies partly inside",
            "largest_overlap": f"'{self.column}' of the polygon covering most of the site, in",
        }
        return f"{words[self.how]} '{self.layer}'"
