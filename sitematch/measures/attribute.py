"""``Attribute(column)``: a plot's own value (area, zoning, price, build-ready…)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sitematch.measures._base import Fail, Measure, MeasureContext, Measured, check_column, check_keys
from sitematch.measures._registry import register

if TYPE_CHECKING:
    import geopandas as gpd

    from sitematch.schema import LayerSchema


@register
@dataclass(frozen=True)
class Attribute(Measure):
    """A column of the plots themselves; nothing to compute.

    Examples
    --------
    >>> import geopandas as gpd
    >>> Attribute("area_ha").compute(gpd.GeoDataFrame({"area_ha": [2.5]}), None).values.tolist()
    [2.5]
    """

    column: str

    name = "attribute"
    keys = ("column",)

    def compute(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, max_distance_m: float | None = None) -> Measured:
        return Measured(sites[self.column])

    @classmethod
    def from_spec(
        cls, spec: Mapping[str, Any], path: tuple[str, ...], fail: Fail, parameters: Collection[str] = ()
    ) -> Attribute:
        check_keys(spec, cls.keys, ("column",), path, fail)
        return cls(str(spec["column"]))

    def default_cost(self, geometry_type: str | None = None) -> int:
        return 0

    def check(self, schema_of: Callable[[str], LayerSchema | None], path: tuple[str, ...], fail: Fail) -> None:
        check_column(schema_of, "plots", self.column, (*path, "column"), fail)

    def describe(self) -> str:
        return f"the plot's '{self.column}'"
