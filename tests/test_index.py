"""Nearest and radius queries against a brute-force reference."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sitematch.index import NearestIndex, explode_segments


def test_explode_segments_keeps_owners_and_geometry() -> None:
    lines = np.array(
        [
            shapely.LineString([(0, 0), (10, 0), (10, 10)]),
            shapely.MultiLineString([[(0, 20), (5, 20)], [(7, 20), (9, 20), (9, 25)]]),
        ]
    )
    segs, owner = explode_segments(lines)
    assert owner.tolist() == [0, 0, 1, 1, 1]
    assert shapely.length(segs).sum() == shapely.length(lines).sum()


def test_empty_layer_gives_infinite_distance() -> None:
    idx = NearestIndex.build(np.empty(0, dtype=object))
    d, which = idx.nearest(np.array([shapely.Point(0, 0)]))
    assert np.isinf(d).all() and which.tolist() == [-1]
    assert idx.aggregate_within(np.array([shapely.Point(0, 0)]), 10, np.empty(0), "sum").tolist() == [0.0]


coords = st.floats(-1000, 1000, allow_nan=False, allow_subnormal=False)  # metres; GEOS mis-measures subnormals


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.lists(st.tuples(coords, coords), min_size=2, max_size=6), min_size=1, max_size=5),
    sites=st.lists(st.tuples(coords, coords, st.floats(1, 200)), min_size=1, max_size=20),
)
def test_nearest_equals_brute_force(lines, sites) -> None:
    layer = np.array([shapely.LineString(line) for line in lines])
    polys = np.array([shapely.box(x, y, x + w, y + w) for x, y, w in sites])
    d, which = NearestIndex.build(layer).nearest(polys)
    brute = shapely.distance(polys[:, None], layer[None, :])
    np.testing.assert_allclose(d, brute.min(axis=1), atol=1e-6)
    np.testing.assert_allclose(brute[np.arange(len(polys)), which], d, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(st.tuples(coords, coords, st.integers(0, 10_000)), min_size=1, max_size=30),
    sites=st.lists(st.tuples(coords, coords), min_size=1, max_size=20),
    radius=st.floats(1, 1500),
)
def test_radius_sum_and_max_equal_brute_force(points, sites, radius) -> None:
    layer = np.array([shapely.Point(x, y) for x, y, _ in points])
    values = np.array([v for *_, v in points], dtype=float)
    site_geoms = np.array([shapely.Point(x, y) for x, y in sites])
    idx = NearestIndex.build(layer)
    close = shapely.distance(site_geoms[:, None], layer[None, :]) <= radius
    np.testing.assert_allclose(idx.aggregate_within(site_geoms, radius, values, "sum"), (close * values).sum(axis=1))
    np.testing.assert_allclose(idx.aggregate_within(site_geoms, radius, values, "max"), (close * values).max(axis=1))
