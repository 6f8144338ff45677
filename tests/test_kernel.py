"""The NumPy exact kernel (sitematch.kernel) against GEOS (shapely.distance) and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import sitematch.kernel as kernel_module
from sitematch.kernel import Sites, nearest_per_site, point_distance, segment_distance

coord = st.floats(-1000.0, 1000.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)  # metres
offset = st.floats(6_400_000.0, 6_500_000.0)  # SWEREF 99 TM northings: large coordinates, as in use


@st.composite
def polygons(draw: st.DrawFn) -> shapely.Geometry:
    """A valid polygon: a star-shaped ring around a centre, sometimes with a hole, sometimes two parts."""

    def ring(cx: float, cy: float, r_min: float, r_max: float, k: int) -> np.ndarray:
        angles = np.sort(
            np.array(draw(st.lists(st.floats(0, 2 * np.pi, exclude_max=True), min_size=k, max_size=k, unique=True)))
        )
        radii = np.array(draw(st.lists(st.floats(r_min, r_max), min_size=k, max_size=k)))
        return np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])

    cx, cy = draw(coord), draw(coord)
    k = draw(st.integers(3, 9))
    outer = ring(cx, cy, 50.0, 300.0, k)
    holes = [ring(cx, cy, 5.0, 40.0, 3)] if draw(st.booleans()) else []
    poly = shapely.Polygon(outer, holes)
    if not poly.is_valid or poly.area < 1.0:
        poly = shapely.box(cx, cy, cx + 100, cy + 80)
    if draw(st.booleans()):
        other = shapely.box(cx + 700, cy - 50, cx + 800, cy + 50)
        poly = shapely.MultiPolygon([poly, other]) if not poly.intersects(other) else poly
    return poly


@given(polygons(), st.lists(st.tuples(coord, coord, coord, coord), min_size=1, max_size=20), offset)
@settings(max_examples=300, deadline=None)
def test_segment_distance_equals_geos(poly: shapely.Geometry, segs: list, north: float) -> None:
    """Random polygons (holes, multi-parts) and segments, near, far, across and inside: GEOS within 1e-6 m."""
    poly = shapely.transform(poly, lambda xy: xy + np.array([500_000.0, north]))
    s = np.array(segs) + np.array([500_000.0, north, 500_000.0, north])
    lines = shapely.linestrings(s.reshape(-1, 2, 2))
    sites = Sites.of(np.array([poly]))
    got = segment_distance(sites, np.zeros(len(s), np.intp), s[:, 0], s[:, 1], s[:, 2], s[:, 3])
    want = shapely.distance(poly, lines)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@given(polygons(), st.lists(st.tuples(coord, coord), min_size=1, max_size=30), offset)
@settings(max_examples=300, deadline=None)
def test_point_distance_equals_geos(poly: shapely.Geometry, pts: list, north: float) -> None:
    """Points outside, inside, in holes and in the other part: GEOS within 1e-6 m."""
    poly = shapely.transform(poly, lambda xy: xy + np.array([500_000.0, north]))
    p = np.array(pts) + np.array([500_000.0, north])
    sites = Sites.of(np.array([poly]))
    got = point_distance(sites, np.zeros(len(p), np.intp), p[:, 0], p[:, 1])
    want = shapely.distance(poly, shapely.points(p))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


@given(
    st.lists(st.tuples(coord, coord), min_size=2, max_size=6),
    st.lists(st.tuples(coord, coord, coord, coord), min_size=1, max_size=10),
)
@settings(max_examples=200, deadline=None)
def test_line_sites_equal_geos(site_coords: list, segs: list) -> None:
    """Sites that are lines (no area): distance to segments as GEOS gives it."""
    line = shapely.LineString(site_coords)
    assume(line.length > 1e-3)  # GEOS gives inf for a zero-length line (and mis-measures tiny ones); no plot is one
    s = np.array(segs)
    sites = Sites.of(np.array([line]))
    got = segment_distance(sites, np.zeros(len(s), np.intp), s[:, 0], s[:, 1], s[:, 2], s[:, 3])
    want = shapely.distance(line, shapely.linestrings(s.reshape(-1, 2, 2)))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_hand_computed_cases() -> None:
    """A 10 m square: a segment inside is at 0, one across at 0, one 3-4-5 away at 5, a point in a hole at 1."""
    square = shapely.box(0, 0, 10, 10)
    holed = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(4, 4), (6, 4), (6, 6), (4, 6)]])
    sites = Sites.of(np.array([square, holed]))
    seg = np.array([[2.0, 2.0, 3.0, 3.0], [-5.0, 5.0, 15.0, 5.0], [13.0, 14.0, 13.0, 20.0], [20.0, 0.0, 20.0, 10.0]])
    got = segment_distance(sites, np.zeros(4, np.intp), *seg.T)
    assert got.tolist() == [0.0, 0.0, 5.0, 10.0]
    assert point_distance(
        sites, np.array([1, 1, 0]), np.array([5.0, 5.0, 5.0]), np.array([5.0, 2.0, 5.0])
    ).tolist() == [1.0, 0.0, 0.0]


def test_many_sites_in_chunks(monkeypatch) -> None:
    """Pairs spread over several chunks give the same as one chunk (pairs of different sites)."""
    import sitematch.kernel as k

    boxes = shapely.box(np.arange(50) * 100.0, 0, np.arange(50) * 100.0 + 10, 10)
    sites = Sites.of(boxes)
    site = np.repeat(np.arange(50), 3)
    px, py = site * 100.0 + 5, np.tile([20.0, 5.0, -7.0], 50)
    whole = point_distance(sites, site, px, py)
    monkeypatch.setattr(k, "CHUNK_ROWS", 7)
    assert point_distance(sites, site, px, py).tolist() == whole.tolist() == np.tile([10.0, 0.0, 7.0], 50).tolist()


def test_nearest_per_site_ties_to_lowest_target() -> None:
    site = np.array([0, 0, 0, 2, 2])
    target = np.array([5, 3, 4, 1, 0])
    dist = np.array([2.0, 1.0, 1.0, 3.0, 4.0])
    s, t, d = nearest_per_site(site, target, dist)
    assert s.tolist() == [0, 2] and t.tolist() == [3, 1] and d.tolist() == [1.0, 3.0]


def test_unsupported_geometry_is_refused() -> None:
    assert Sites.of(np.array([shapely.GeometryCollection([shapely.Point(0, 0)])])) is None


def _random_layers(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0 = 500_000.0, 6_500_000.0
    xy = rng.uniform(0, 50_000, (400, 2))
    side = rng.uniform(20, 800, 400)
    sites = shapely.box(x0 + xy[:, 0], y0 + xy[:, 1], x0 + xy[:, 0] + side, y0 + xy[:, 1] + side * 0.7)
    sites[::7] = shapely.buffer(shapely.points(x0 + xy[::7, 0], y0 + xy[::7, 1]), 150)  # round plots too
    points = shapely.points(rng.uniform(x0, x0 + 50_000, 60), rng.uniform(y0, y0 + 50_000, 60))
    walks = [np.cumsum(rng.normal(0, 400, (40, 2)), axis=0) + rng.uniform(0, 50_000, 2) for _ in range(8)]
    lines = shapely.linestrings([w + np.array([x0, y0]) for w in walks])
    return sites, points, lines


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_index_through_the_kernel_equals_geos(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """NearestIndex with KD candidates and the kernel gives GEOS's nearest distances, owners and radius sums."""
    from sitematch import settings as config
    from sitematch.index import NearestIndex

    sites, points, lines = _random_layers(seed)
    values = np.arange(len(points), dtype=float) + 1
    got: dict[str, list] = {}
    for mode, smallest in (("kernel", 0), ("geos", 10**9)):
        monkeypatch.setattr(config, "kernel_min_sites", smallest)
        kernel_module.forget()
        p_idx, l_idx = NearestIndex.build(points), NearestIndex.build(lines)
        got[mode] = [
            *p_idx.nearest(sites),
            *l_idx.nearest(sites),
            *l_idx.nearest(sites, max_distance_m=1500.0),
            p_idx.aggregate_within(sites, 8000.0, values, "sum"),
            p_idx.aggregate_within(sites, 8000.0, values, "max"),
        ]
        assert (p_idx.kd is not None) == (mode == "kernel") and (l_idx.probes is not None) == (mode == "kernel")
    for i, (a, b) in enumerate(zip(got["kernel"], got["geos"], strict=True)):
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, err_msg=str(i))
        else:
            assert a.tolist() == b.tolist(), i
    assert np.isinf(got["kernel"][4]).any() and np.isfinite(got["kernel"][4]).any()  # the bound cuts some
