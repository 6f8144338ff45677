"""Shared fixtures: a tiny region small enough to check by hand.

All coordinates are EPSG:3006 metres around an origin near Västerås, E0 = 580 000, N0 = 6 610 000::

    municipality 1980 (member):      E0-20 km … E0+20 km, N0-20 km … N0+20 km
    municipality 1981 (not member):  same width, N0+20 km … N0+60 km

    plot A  1980:A  E0+0…500,     N0+0…500   25 ha  J  (corner 1 km from junction "Tp A")
    plot B  1980:B  E0+3000…3400, N0+0…400   16 ha  J  (crossed by the rail line)
    plot C  1980:C  E0-5000…4500, N0+0…600   30 ha  Z
    plot D  1981:D  E0+0…500,     N0+30 000  25 ha  J  (outside the region: not a member)

    motorway     N = N0-1000, E0-20 km … E0+20 km
    junctions    Tp A (E0, N0-1000), Tp B (E0+10 000, N0-1000)
    rail         E = E0+3200, N0-20 km … N0+20 km
    substations  S1 (E0+1000, N0+1000) 50 MW; S2 (E0-4000, N0+300) 10 MW
    port         Hamn (E0-10 000, N0+5000) draught 6.8 m
    place        Stad (E0, N0+2000) 100 000 inhabitants
    airport      Flygplats (E0+15 000, N0+15 000)
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import LineString, Point, box

from sitematch.layers.layerset import LayerSet

E0, N0 = 580_000.0, 6_610_000.0
CRS = "EPSG:3006"
EXAMPLE = "example: test fixture"
LIC = "CC0"


def _gdf(rows: list[dict], crs: str = CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def plot_row(ref: str, muni: str, geom, area_ha: float, zoning: str = "J", **kw) -> dict:
    row = {
        "plot_id": f"{muni}:{ref}",
        "municipality_code": muni,
        "local_ref": ref,
        "name": f"Plot {ref}",
        "area_ha": area_ha,
        "zoning": zoning,
        "plan_status": "laga_kraft",
        "owner": "kommun",
        "price_sek_m2": 300.0,
        "ready": True,
        "brownfield": False,
        "mifo_risk_class": None,
        "updated": "2026-01-01",
        "source": EXAMPLE,
        "licence": LIC,
        "geometry": geom,
    }
    row.update(kw)
    return row


def tiny_plots() -> gpd.GeoDataFrame:
    return _gdf(
        [
            plot_row("A", "1980", box(E0, N0, E0 + 500, N0 + 500), 25.0),
            plot_row("B", "1980", box(E0 + 3000, N0, E0 + 3400, N0 + 400), 16.0),
            plot_row("C", "1980", box(E0 - 5000, N0, E0 - 4500, N0 + 600), 30.0, zoning="Z", owner="privat"),
            plot_row("D", "1981", box(E0, N0 + 30_000, E0 + 500, N0 + 30_500), 25.0),
        ]
    )


def tiny_layer_frames() -> dict[str, gpd.GeoDataFrame]:
    prov = {"source": EXAMPLE, "licence": LIC}
    return {
        "municipalities": _gdf(
            [
                {
                    "municipality_code": "1980",
                    "municipality_name": "Västerås",
                    "county_code": "19",
                    "county_name": "Västmanlands län",
                    "member": True,
                    **prov,
                    "geometry": box(E0 - 20_000, N0 - 20_000, E0 + 20_000, N0 + 20_000),
                },
                {
                    "municipality_code": "1981",
                    "municipality_name": "Sala",
                    "county_code": "19",
                    "county_name": "Västmanlands län",
                    "member": False,
                    **prov,
                    "geometry": box(E0 - 20_000, N0 + 20_000, E0 + 20_000, N0 + 60_000),
                },
            ]
        ),
        "motorways": _gdf(
            [
                {
                    "road": "E18",
                    "name": "E18",
                    **prov,
                    "geometry": LineString([(E0 - 20_000, N0 - 1000), (E0 + 20_000, N0 - 1000)]),
                }
            ]
        ),
        "motorway_junctions": _gdf(
            [
                {"name": "Tp A", "road": "E18", **prov, "geometry": Point(E0, N0 - 1000)},
                {"name": "Tp B", "road": "E18", **prov, "geometry": Point(E0 + 10_000, N0 - 1000)},
            ]
        ),
        "rail": _gdf(
            [
                {
                    "line_name": "Testbanan",
                    **prov,
                    "geometry": LineString([(E0 + 3200, N0 - 20_000), (E0 + 3200, N0 + 20_000)]),
                }
            ]
        ),
        "freight_terminals": _gdf(
            [{"name": "Terminal", "kind": "terminal", **prov, "geometry": Point(E0 + 3200, N0 - 5000)}]
        ),
        "ports": _gdf(
            [
                {
                    "name": "Hamn",
                    "locode": "SEXXX",
                    "max_draught_m": 6.8,
                    "rail_connected": True,
                    "operator": "Test",
                    **prov,
                    "geometry": Point(E0 - 10_000, N0 + 5000),
                }
            ]
        ),
        "substations": _gdf(
            [
                {
                    "name": "S1",
                    "available_capacity_mw": 50.0,
                    "capacity_date": "2026-06-30",
                    "voltage_kv": 130.0,
                    "grid_company": "Test",
                    **prov,
                    "geometry": Point(E0 + 1000, N0 + 1000),
                },
                {
                    "name": "S2",
                    "available_capacity_mw": 10.0,
                    "capacity_date": "2026-06-30",
                    "voltage_kv": 40.0,
                    "grid_company": "Test",
                    **prov,
                    "geometry": Point(E0 - 4000, N0 + 300),
                },
            ]
        ),
        "places": _gdf([{"name": "Stad", "population": 100_000, **prov, "geometry": Point(E0, N0 + 2000)}]),
        "airports": _gdf(
            [{"name": "Flygplats", "icao": "ESXX", "iata": "", **prov, "geometry": Point(E0 + 15_000, N0 + 15_000)}]
        ),
        "plots": tiny_plots(),
    }


@pytest.fixture
def tiny_layers() -> LayerSet:
    """The hand-checkable region described in this module's docstring."""
    return LayerSet(tiny_layer_frames(), origin="tiny fixture")


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium (never a downloaded browser), one per test module."""
    from playwright.sync_api import sync_playwright

    from sitematch.export.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
