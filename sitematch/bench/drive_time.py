"""The drive-time benchmark: travel-time criteria for N plots on a synthetic regional road network.

The network is a county-sized grid (``size_km`` × ``size_km``, a road every ``spacing_km``),
local roads at 50–70 km/h and every tenth line a 90 km/h trunk road with a motorway junction every
10 km along it, drawn as one line per road (so the graph builder splits them at the crossings, as
it does OpenStreetMap ways). Population sits on a 1 km grid (an SCB-like ``population_grid``),
plots are 200 m squares spread over the region. Timed through the catalogue criteria that
``sitematch layers import`` declares: building the graph, ``drive_time_to_motorway_junction_min``
(one multi-source search) and ``labour_pool_within_30_min`` (one search per plot).
Synthetic, and labelled so in ``source``; the same ``seed`` gives the same data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
import yaml

from sitematch import schema as s
from sitematch.features import compute_features
from sitematch.layers.catalogue import parse_catalogue
from sitematch.layers.layerset import LayerSet
from sitematch.measures import MeasureContext
from sitematch.measures.travel_time import TravelTime

SOURCE = "synthetic: sitematch drive-time benchmark, not real"
#: South-west corner of the synthetic region in EPSG:3006 (Mälardalen).
ORIGIN = (520_000.0, 6_560_000.0)


@dataclass
class DriveTimeResult:
    """What the drive-time benchmark measured."""

    n: int
    nodes: int
    edges: int
    cells: int
    graph_s: float
    junction_s: float
    pool_s: float
    median_junction_min: float
    median_pool: float


def synthetic_region(n_plots: int, size_km: int = 100, spacing_km: float = 1.0, seed: int = 0) -> LayerSet:
    """Roads, junctions, a population grid and ``n_plots`` plots, with the importers' catalogue entries.

    Examples
    --------
    >>> layers = synthetic_region(5, size_km=10)
    >>> len(layers["plots"]), len(layers["roads"])
    (5, 22)
    """
    rng = np.random.default_rng(seed)
    x0, y0 = ORIGIN
    size = size_km * 1000.0
    ticks = np.arange(0.0, size + 1, spacing_km * 1000)
    lines, speeds = [], []
    for i, t in enumerate(ticks):
        trunk = i % 10 == 5
        speed = 90.0 if trunk else float(rng.choice([50.0, 60.0, 70.0]))
        # A vertex at every crossing: crossing roads share it (a bridge would not).
        lines += [shapely.LineString(np.column_stack([np.full_like(ticks, x0 + t), y0 + ticks]))]
        lines += [shapely.LineString(np.column_stack([x0 + ticks, np.full_like(ticks, y0 + t)]))]
        speeds += [speed, speed]
    prov = {s.SOURCE: SOURCE, s.LICENCE: "CC0"}
    roads = gpd.GeoDataFrame(
        {s.SPEED_KMH: speeds, s.ONEWAY: 0, s.ROAD_CLASS: "synthetic", **prov}, geometry=lines, crs=3006
    )
    trunk_at = ticks[5::10]
    jx, jy = np.meshgrid(trunk_at, np.arange(0.0, size + 1, 10_000))
    junctions = gpd.GeoDataFrame(
        {s.NAME: [f"Tp {i}" for i in range(jx.size)], s.ROAD: "Rv 0", **prov},
        geometry=shapely.points(x0 + jx.ravel(), y0 + jy.ravel()),
        crs=3006,
    )
    cx, cy = np.meshgrid(np.arange(500.0, size, 1000), np.arange(500.0, size, 1000))
    people = rng.lognormal(3.0, 1.5, cx.size).round().astype(int)
    cells = gpd.GeoDataFrame(
        {s.CELL_ID: [f"c{i}" for i in range(cx.size)], s.POPULATION: people, **prov},
        geometry=shapely.points(x0 + cx.ravel(), y0 + cy.ravel()),
        crs=3006,
    )
    px, py = rng.uniform(0, size - 200, n_plots), rng.uniform(0, size - 200, n_plots)
    plots = gpd.GeoDataFrame(
        {
            s.PLOT_ID: [f"9999:{i}" for i in range(n_plots)],
            s.MUNICIPALITY_CODE: "9999",
            s.LOCAL_REF: [str(i) for i in range(n_plots)],
            s.AREA_HA: 4.0,
            s.ZONING: "J",
            s.PLAN_STATUS: "laga_kraft",
            s.OWNER: "kommun",
            s.READY: True,
            s.BROWNFIELD: False,
            **prov,
        },
        geometry=shapely.box(x0 + px, y0 + py, x0 + px + 200, y0 + py + 200),
        crs=3006,
    )
    from sitematch.importers._registry import brought, importer_kinds

    kinds = importer_kinds()
    columns = {
        kind: {
            "file": "synthetic",
            "geometry": kinds[kind].geometry_type,
            "columns": {c.name: {"type": c.dtype, "required": c.required} for c in kinds[kind].columns},
        }
        for kind in ("roads", "population_grid")
    }
    wanted = ("drive_time_to_motorway_junction_min", "labour_pool_within_30_min")
    catalogue = {
        "layers": {"plots": {"file": "synthetic"}, "motorway_junctions": {"file": "synthetic"}, **columns},
        "criteria": {
            name: spec for name, spec in brought(set(kinds) | {"motorway_junctions"}, set()).items() if name in wanted
        },
    }
    frames = {"plots": plots, "roads": roads, "motorway_junctions": junctions, "population_grid": cells}
    return LayerSet(frames, origin="synthetic drive-time region", catalogue=parse_catalogue(yaml.safe_dump(catalogue)))


def bench_drive_time(n: int = 10_000, *, size_km: int = 100) -> DriveTimeResult:
    """Time the drive-time criteria for ``n`` plots (see the module docstring).

    Examples
    --------
    >>> r = bench_drive_time(20, size_km=10)
    >>> r.n, r.nodes, r.median_pool > 0
    (20, 121, True)
    """
    layers = synthetic_region(n, size_km=size_km)
    plots = layers["plots"]
    junction, pool = "drive_time_to_motorway_junction_min", "labour_pool_within_30_min"
    measure = layers.registry[junction].measure
    if not isinstance(measure, TravelTime):
        raise TypeError(f"{junction} is measured by {type(measure).__name__}, not a drive time")
    t = time.perf_counter()
    graph = measure.graph(MeasureContext(layers, layers.registry.resolve()))
    graph_s = time.perf_counter() - t
    if graph is None:
        raise ValueError("the synthetic region has no road network")
    t = time.perf_counter()
    minutes = compute_features(plots, layers, columns=[junction])[junction]
    junction_s = time.perf_counter() - t
    t = time.perf_counter()
    people = compute_features(plots, layers, columns=[pool])[pool]
    pool_s = time.perf_counter() - t
    return DriveTimeResult(
        n,
        graph.n_nodes,
        len(graph.edge_u),
        len(layers["population_grid"]),
        graph_s,
        junction_s,
        pool_s,
        float(np.median(minutes)),
        float(np.median(people)),
    )


def report_lines(r: DriveTimeResult) -> list[str]:
    """The drive-time section of ``bench/results.md``."""
    return [
        "## Drive time",
        "",
        f"Synthetic road grid ({r.nodes:,} nodes, {r.edges:,} edges), {r.cells:,} population cells, "
        f"{r.n:,} plots (`sitematch/bench/drive_time.py`): road graph built in {r.graph_s:.2f} s; "
        f"`drive_time_to_motorway_junction_min` (one multi-source search) {r.junction_s:.2f} s; "
        f"`labour_pool_within_30_min` (one search per plot) {r.pool_s:.2f} s "
        f"({1000 * r.pool_s / max(r.n, 1):.1f} ms per plot). Medians: {r.median_junction_min:.1f} min to a "
        f"junction, {r.median_pool:,.0f} people within 30 min.",
        "",
    ]
