"""Measures: each one vectorised call, checked by hand on tiny geometries; new measures plug in by name."""

from __future__ import annotations

import pkgutil
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import Point, box

import sitematch.measures as measures
from sitematch.errors import CatalogueError
from sitematch.layers.catalogue import parse_catalogue
from sitematch.layers.layerset import LayerSet
from sitematch.measures import AggregateWithin, MeasureContext, Measured, Overlay, measure_class, register
from sitematch.measures._where import parse_where
from sitematch.profile import Parameters
from tests.conftest import E0, N0, tiny_layer_frames

CRS = "EPSG:3006"


def _sites(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs=CRS)


def _layers_with(kind: str, gdf: gpd.GeoDataFrame, catalogue_text: str) -> LayerSet:
    frames = tiny_layer_frames()
    frames[kind] = gdf
    return LayerSet(frames, catalogue=parse_catalogue(catalogue_text))


PLANS = gpd.GeoDataFrame(
    {"use": ["J", "B", "Z"], "source": "t", "licence": "CC0"},
    geometry=gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 400, 100), box(1000, 1000, 1100, 1100)]).translate(E0, N0),
    crs=CRS,
)
PLANS_CATALOGUE = "layers:\n  plans: {file: x.gpkg, geometry: Polygon, columns: {use: str}}\n"


def test_overlay_largest_any_and_share_by_hand() -> None:
    layers = _layers_with("plans", PLANS, PLANS_CATALOGUE)
    ctx = MeasureContext(layers, Parameters())
    # a site 0..150 × 0..100: 100 m of it in plan J, 50 m in plan B → J
    # a site 50..300: 50 m in J, 200 m in B → B; a site far away: nothing
    sites = _sites(
        box(E0, N0, E0 + 150, N0 + 100), box(E0 + 50, N0, E0 + 300, N0 + 100), box(E0 + 5000, N0, E0 + 5100, N0 + 100)
    )
    largest = Overlay("plans", "largest_overlap", "use").compute(sites, ctx).values
    assert largest.iloc[0] == "J" and largest.iloc[1] == "B" and pd.isna(largest.iloc[2])
    assert Overlay("plans", "any").compute(sites, ctx).values.tolist() == [True, True, False]
    share = Overlay("plans", "share").compute(sites, ctx).values
    np.testing.assert_allclose(share, [1.0, 1.0, 0.0])
    half = _sites(box(E0 + 300, N0 + 50, E0 + 500, N0 + 150))  # 100 × 50 of its 200 × 100 inside B
    assert Overlay("plans", "share").compute(half, ctx).values.tolist() == [pytest.approx(0.25)]


def test_overlapping_polygons_are_not_counted_twice() -> None:
    twice = gpd.GeoDataFrame(
        {"use": ["J", "J"], "source": "t", "licence": "CC0"},
        geometry=[box(E0, N0, E0 + 100, N0 + 100), box(E0, N0, E0 + 100, N0 + 100)],
        crs=CRS,
    )
    layers = _layers_with("plans", twice, PLANS_CATALOGUE)
    site = _sites(box(E0, N0, E0 + 200, N0 + 100))
    assert Overlay("plans", "share").compute(site, MeasureContext(layers, Parameters())).values.tolist() == [0.5]


def test_aggregate_within_a_radius_with_a_condition() -> None:
    layers = LayerSet(tiny_layer_frames())
    ctx = MeasureContext(layers, Parameters(grid_connection_radius_m=3000))
    site = _sites(box(E0, N0, E0 + 500, N0 + 500))  # S1 (50 MW) 707 m away, S2 (10 MW) 4.0 km away
    big = AggregateWithin("substations", "max", "grid_connection_radius_m", "available_capacity_mw")
    assert big.compute(site, ctx).values.tolist() == [50.0]
    small_only = AggregateWithin(
        "substations", "count", "grid_connection_radius_m", where=parse_where("voltage_kv < 100", (), (), ValueError)
    )
    assert small_only.compute(site, ctx).values.tolist() == [0.0]
    wide = MeasureContext(layers, Parameters(grid_connection_radius_m=10_000))
    assert small_only.compute(site, wide).values.tolist() == [1.0]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("max_draught_m >= 7", [False, True, False]),
        ("name == 'Hamn B'", [False, True, False]),
        ("name != 'Hamn B'", [True, False, False]),
        ("kind in [terminal, siding]", [True, False, True]),
        ("rail_connected == true", [True, False, False]),
    ],
)
def test_where_conditions(text: str, rows: list[bool]) -> None:
    frame = pd.DataFrame(
        {
            "max_draught_m": [6.8, 9.0, None],
            "name": ["Hamn A", "Hamn B", None],
            "kind": ["terminal", "port", "siding"],
            "rail_connected": pd.array([True, False, None], dtype="boolean"),
        }
    )
    (clause,) = parse_where(text, (), ("where",), ValueError)
    assert clause.mask(frame, {}).tolist() == rows
    assert parse_where(clause.text(), (), ("where",), ValueError) == (clause,)


def test_every_module_in_the_package_is_a_registered_measure() -> None:
    modules = {m.name for m in pkgutil.iter_modules(measures.__path__) if not m.name.startswith("_")}
    assert modules == {"attribute", "nearest", "aggregate", "overlay", "zonal", "travel_time"}
    assert {measure_class(name).__module__.rsplit(".", 1)[1] for name in measures.discover()} == modules
    with pytest.raises(CatalogueError, match="unknown measure 'isochrone'"):
        measure_class("isochrone")


def test_a_registered_measure_is_usable_from_a_catalogue_at_once(tiny_layers: LayerSet) -> None:
    @register
    @dataclass(frozen=True)
    class Perimeter(measures.Measure):
        """The site's perimeter in metres (a measure a later module could add)."""

        name = "perimeter"

        def compute(self, sites: gpd.GeoDataFrame, ctx: Any, *, max_distance_m: float | None = None) -> Measured:
            return Measured(sites.geometry.length.to_numpy())

        def spec(self) -> dict[str, Any]:
            return {"measure": self.name}

        @classmethod
        def from_spec(cls, spec: Any, path: Any, fail: Any, parameters: Any = ()) -> Perimeter:
            return cls()

    try:
        cat = parse_catalogue(
            "layers:\n  plots: {file: p.gpkg}\ncriteria:\n  perimeter_m: {measure: perimeter, label: Perimeter}\n"
        )
        from sitematch.matching import match
        from sitematch.profile import parse_profile

        layers = LayerSet({k: tiny_layers[k] for k in tiny_layers.kinds}, catalogue=cat, validated=True)
        profile = parse_profile("name: t\nrequirements: {max_perimeter_m: 1700}", registry=cat.registry)
        result = match(profile, layers)
        assert result.ranked["plot_id"].tolist() == ["1980:B"]  # 1600 m; A is 2000 m, C 2200 m
    finally:
        measures.MEASURES.pop("perimeter", None)


def test_a_region_without_a_layer_gives_unknown() -> None:
    """No ports layer is not "no port anywhere": distances and radius sums are unknown alike."""
    frames = tiny_layer_frames()
    del frames["ports"], frames["places"]
    layers = LayerSet(frames)
    from sitematch.features import compute_features

    feats = compute_features(layers["plots"], layers, columns=["distance_to_port_m", "labour_pool_population"])
    assert feats["distance_to_port_m"].isna().all() and feats["labour_pool_population"].isna().all()


def test_point_sites_work_too() -> None:
    layers = LayerSet(tiny_layer_frames())
    ctx = MeasureContext(layers, Parameters())
    d = measure_class("nearest")("motorway_junctions").compute(_sites(Point(E0 + 3000, N0 - 1000)), ctx).values
    assert d.tolist() == [3000.0]
