"""Drive time on a hand-built road graph, every minute worked out by hand.

Coordinates are EPSG:3006 metres relative to E0 = 580 000, N0 = 6 610 000 (kilometres below)::

    D (0,6) ◄──────── 6 km, 60 km/h, one way C → D only ─────── C (6,6)  junction "Tp C"
    │                                                           │
    │ 6 km, 30 km/h (12 min)                                    │ 6 km, 90 km/h (4 min)
    │                                                           │
    A (0,0) ──── 6 km, 60 km/h (6 min, 1 min per km) ─────────── B (6,0)
               ▲ H5 (3,0)
          ◆ plot P: a diamond whose top vertex is (1.5, -0.5): 500 m from A–B at (1.5, 0)

Access: 20 km/h over the straight line (500 m = 1.5 min), never under 1 min for plots and cells.

P → Tp C: 1.5 access + 4.5 (to B) + 4 (to C) = 10.0 min; round by A it is 1.5 + 1.5 + 12 + … longer.

Population cells and their time to P (cell access 1 min, P's 1.5 min):

====  =========  ========  ======================================================  =======
cell  where      people    route                                                   minutes
====  =========  ========  ======================================================  =======
H5    (3, 0)     10 000    along A–B to P: 1.5                                      4.0
H2    B          100       B → P: 4.5                                               7.0
H3    C          10        C → B → P: 4 + 4.5                                       11.0
H1    D          1 000     D → A → P: 12 + 1.5 (D → C is forbidden)                 16.0
H4    (3, 6.3)   1         on D–C, only towards D: 3 + 12 + 1.5                     19.0
====  =========  ========  ======================================================  =======

(If the one-way were ignored, H4 would go C → B → P: 3 + 4 + 4.5 + 2.5 = 14.0.)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, Point, Polygon

from sitematch.features import compute_features
from sitematch.layers.catalogue import parse_catalogue
from sitematch.layers.layerset import LayerSet
from sitematch.roadgraph import RoadGraph, Snapped
from tests.conftest import E0, N0, plot_row

KM = 1000.0
PROV = {"source": "example: hand-built road graph (test)", "licence": "CC0"}


def at(x_km: float, y_km: float) -> tuple[float, float]:
    return (E0 + x_km * KM, N0 + y_km * KM)


def roads() -> gpd.GeoDataFrame:
    rows = [
        (LineString([at(0, 0), at(6, 0)]), 60.0, 0),
        (LineString([at(6, 0), at(6, 6)]), 90.0, 0),
        (LineString([at(0, 0), at(0, 6)]), 30.0, 0),
        (LineString([at(0, 6), at(6, 6)]), 60.0, -1),  # drawn D → C, open only C → D
    ]
    return gpd.GeoDataFrame(
        [{"speed_kmh": v, "oneway": w, "road_class": "test", **PROV, "geometry": g} for g, v, w in rows],
        geometry="geometry",
        crs=3006,
    )


def diamond(x_km: float, top_y_km: float, half_m: float = 300.0) -> Polygon:
    x, y = at(x_km, top_y_km)
    return Polygon([(x, y), (x + half_m, y - half_m), (x, y - 2 * half_m), (x - half_m, y - half_m)])


CELLS = {"H5": ((3, 0), 10_000), "H2": ((6, 0), 100), "H3": ((6, 6), 10), "H1": ((0, 6), 1000), "H4": ((3, 6.3), 1)}

CATALOGUE = """
layers:
  plots: {file: x.gpkg}
  motorway_junctions: {file: x.gpkg}
  roads:
    file: x.gpkg
    geometry: LineString
    columns: {speed_kmh: float, oneway: int, road_class: {type: str, required: false}}
  population_grid:
    file: x.gpkg
    geometry: Point
    columns: {cell_id: str, population: int}
parameters:
  commute_limit_min: {default: 12, label: Commute limit}
criteria:
  drive_time_to_motorway_junction_min:
    measure: travel_time
    how: nearest
    targets: motorway_junctions
    label: Drive time to motorway junction
  labour_pool_within_limit:
    measure: travel_time
    how: reach
    targets: population_grid
    column: population
    limit_min: commute_limit_min
    unit: inhabitants
    label: Labour pool within the commute limit
"""


@pytest.fixture
def layers() -> LayerSet:
    cells = gpd.GeoDataFrame(
        [{"cell_id": k, "population": p, **PROV, "geometry": Point(at(*xy))} for k, (xy, p) in CELLS.items()],
        geometry="geometry",
        crs=3006,
    )
    junctions = gpd.GeoDataFrame(
        [{"name": "Tp C", "road": "E99", **PROV, "geometry": Point(at(6, 6))}], geometry="geometry", crs=3006
    )
    plots = gpd.GeoDataFrame([plot_row("P", "1980", diamond(1.5, -0.5), 18.0)], geometry="geometry", crs=3006)
    frames = {"plots": plots, "motorway_junctions": junctions, "roads": roads(), "population_grid": cells}
    return LayerSet(frames, origin="hand-built graph", catalogue=parse_catalogue(CATALOGUE))


def test_graph_splits_lines_at_shared_vertices_only() -> None:
    # One line A→B→C drawn as a single way, crossed at B by a second way that shares the vertex,
    # and crossed by a bridge that shares none.
    way = LineString([at(0, 0), at(6, 0), at(12, 0)])
    side = LineString([at(6, -3), at(6, 0), at(6, 3)])
    bridge = LineString([at(9, -3), at(9, 3)])
    g = RoadGraph.from_lines(np.array([way, side, bridge]), np.array([60.0, 60.0, 60.0]))
    assert g.n_nodes == 2 + 1 + 2 + 2  # way ends, the shared vertex, side ends, bridge ends
    assert sorted(np.round(g.t_forward, 6).tolist()) == [3.0, 3.0, 6.0, 6.0, 6.0]


def test_drive_time_to_junction_exact_minutes(layers: LayerSet) -> None:
    feats = compute_features(layers["plots"], layers, columns=["drive_time_to_motorway_junction_min"])
    assert feats["drive_time_to_motorway_junction_min"].iloc[0] == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(3.5, 0), (5, 10_000), (10, 10_100), (12, 10_110), (17, 11_110), (18.5, 11_110), (20, 11_111)],
)
def test_labour_pool_exact_minutes(layers: LayerSet, limit: float, expected: int) -> None:
    feats = compute_features(
        layers["plots"], layers, {"commute_limit_min": limit}, columns=["labour_pool_within_limit"]
    )
    assert feats["labour_pool_within_limit"].iloc[0] == expected


def _one(points: Snapped, i: int) -> Snapped:
    return Snapped(points.edge[[i]], points.fraction[[i]], points.access_min[[i]])


def test_one_way_and_access_time() -> None:
    r = roads()
    g = RoadGraph.from_lines(r.geometry.to_numpy(), r["speed_kmh"].to_numpy(), r["oneway"].to_numpy())
    corners = np.array([Point(at(0, 6)), Point(at(6, 6))])  # D, C
    sites, targets = g.snap(corners, 20.0, min_access_min=1.0), g.snap(corners, 20.0)
    # D → C is closed: round by A and B, 12 + 6 + 4 = 22 min, plus D's 1 min access.
    assert g.time_to_nearest(_one(sites, 0), _one(targets, 1))[0] == pytest.approx(23.0)
    # C → D is open: 6 min, plus C's 1 min access.
    assert g.time_to_nearest(_one(sites, 1), _one(targets, 0))[0] == pytest.approx(7.0)
    assert g.time_to_nearest(_one(sites, 0), _one(targets, 1), limit_min=20.0)[0] == np.inf


def test_plot_far_from_roads_pays_access_at_access_speed() -> None:
    g = RoadGraph.from_lines(np.array([LineString([at(0, 0), at(6, 0)])]), np.array([60.0]))
    snapped = g.snap(np.array([shapely.Point(at(3, 2))]), access_speed_kmh=20.0, min_access_min=1.0)
    assert snapped.access_min[0] == pytest.approx(6.0)  # 2 km at 20 km/h
    assert snapped.fraction[0] == pytest.approx(0.5)


def test_region_without_roads_gives_unknown(layers: LayerSet) -> None:
    no_roads = LayerSet(
        {k: layers[k] for k in ("plots", "motorway_junctions", "population_grid")},
        origin="no roads",
        catalogue=layers.catalogue,
    )
    feats = compute_features(no_roads["plots"], no_roads, columns=["drive_time_to_motorway_junction_min"])
    assert np.isnan(feats["drive_time_to_motorway_junction_min"].iloc[0])


def test_points_at_the_end_of_a_one_way_edge_raise_no_numpy_warning() -> None:
    """A point exactly on a node of a one-way edge: 0 × inf must not reach numpy (it warned on every match)."""
    import warnings

    g = RoadGraph.from_lines(
        np.array([LineString([at(0, 0), at(1, 0)]), LineString([at(1, 0), at(0, 0)])]),
        np.array([60.0, 60.0]),
        np.array([1, 1]),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        site = g.snap(np.array([Point(at(0, 0))]), 20, min_access_min=1)
        target = g.snap(np.array([Point(at(1, 0))]), 20)
        assert g.time_to_nearest(site, target).tolist() == [pytest.approx(2.0)]  # 1 min access + 1 km at 60
        assert g.reach_sum(site, target, np.array([5.0]), limit_min=3).tolist() == [5.0]


def test_a_point_farther_than_the_access_limit_is_not_snapped() -> None:
    g = RoadGraph.from_lines(np.array([LineString([at(0, 0), at(6, 0)])]), np.array([60.0]))
    snapped = g.snap(np.array([Point(at(3, 4.9)), Point(at(3, 5.1))]), 20, 1, max_access_m=5000)
    assert snapped.edge.tolist() == [0, -1]
    assert shapely.equals(g.extent, LineString([at(0, 0), at(6, 0)]))  # the hull of two nodes
