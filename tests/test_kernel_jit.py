"""The compiled kernel (sitematch.kernel_jit: Numba) against GEOS, the NumPy kernel and hand-computed cases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from sitematch import kernel_jit
from sitematch.index import LineProbes
from sitematch.kernel import Sites
from tests.test_kernel import _random_layers, coord, offset, polygons

pytestmark = pytest.mark.skipif(not kernel_jit.available(), reason="Numba is not installed")


def _sites(polys: list[shapely.Geometry], north: float) -> tuple[np.ndarray, Sites]:
    at = np.array([500_000.0, north])
    geoms = np.array([shapely.transform(p, lambda xy: xy + at) for p in polys])
    sites = Sites.of(geoms)
    assert sites is not None
    return geoms, sites


@given(
    st.lists(polygons(), min_size=1, max_size=4),
    st.lists(st.tuples(coord, coord), min_size=1, max_size=40),
    offset,
    st.floats(1.0, 800.0),
)
@settings(max_examples=150, deadline=None)
def test_points_equal_geos(polys: list, pts: list, north: float, radius_m: float) -> None:
    """Nearest point and radius sums/max over random polygons (holes, two parts) and points: GEOS within 1e-6 m."""
    geoms, sites = _sites(polys, north)
    xy = np.array(pts) + np.array([500_000.0, north])
    tree = kernel_jit.PointTree.build(xy)
    rows = np.arange(len(geoms), dtype=np.intp)
    which, dist = kernel_jit.nearest(tree, xy, sites, rows)
    geos = shapely.distance(geoms[:, None], shapely.points(xy)[None, :])
    np.testing.assert_allclose(dist, geos.min(axis=1), rtol=0, atol=1e-6)
    np.testing.assert_allclose(geos[rows, which], geos.min(axis=1), rtol=0, atol=1e-6)  # the point it names
    values = np.arange(len(xy), dtype=float) + 1
    within = shapely.dwithin(geoms[:, None], shapely.points(xy)[None, :], radius_m)
    got_sum = kernel_jit.aggregate(tree, xy, sites, rows, values, radius_m, "sum")
    got_max = kernel_jit.aggregate(tree, xy, sites, rows, values, radius_m, "max")
    assert got_sum.tolist() == (within * values).sum(axis=1).tolist()
    assert got_max.tolist() == (within * values).max(axis=1).tolist()


@given(
    st.lists(polygons(), min_size=1, max_size=4),
    st.lists(st.tuples(coord, coord, coord, coord), min_size=1, max_size=12),
    offset,
    st.floats(10.0, 200.0),
)
@settings(max_examples=150, deadline=None)
def test_segments_equal_geos(polys: list, segs: list, north: float, spacing_m: float) -> None:
    """Nearest segment (through probes along the segments) of random polygons: GEOS within 1e-6 m; with a limit too."""
    geoms, sites = _sites(polys, north)
    s = np.array(segs) + np.array([500_000.0, north, 500_000.0, north])
    lines = shapely.linestrings(s.reshape(-1, 2, 2))
    probes = LineProbes.build(lines, spacing_m)
    tree = kernel_jit.PointTree.build(probes.kd.data)
    rows = np.arange(len(geoms), dtype=np.intp)
    geos = shapely.distance(geoms[:, None], lines[None, :])
    which, dist = kernel_jit.nearest(tree, probes.kd.data, sites, rows, probes.segment, probes.ends, probes.half_m)
    np.testing.assert_allclose(dist, geos.min(axis=1), rtol=0, atol=1e-6)
    np.testing.assert_allclose(geos[rows, which], geos.min(axis=1), rtol=0, atol=1e-6)
    limit = float(np.median(geos.min(axis=1)))
    which, dist = kernel_jit.nearest(
        tree, probes.kd.data, sites, rows, probes.segment, probes.ends, probes.half_m, limit
    )
    beyond = geos.min(axis=1) > limit + 1e-6
    assert (which[beyond] == -1).all() and np.isinf(dist[beyond]).all()
    near = geos.min(axis=1) < limit - 1e-6
    np.testing.assert_allclose(dist[near], geos.min(axis=1)[near], rtol=0, atol=1e-6)


def test_hand_computed() -> None:
    """A 10 m square at the origin: points at 5 (3-4-5) and 1, ties to the lower point, sums within 2 m."""
    sites = Sites.of(np.array([shapely.box(0, 0, 10, 10), shapely.box(100, 0, 110, 10)]))
    xy = np.array([[13.0, 14.0], [11.0, 5.0], [99.0, 5.0], [111.0, 5.0]])
    tree = kernel_jit.PointTree.build(xy)
    which, dist = kernel_jit.nearest(tree, xy, sites, np.array([0, 1], np.intp))
    assert which.tolist() == [1, 2] and dist.tolist() == [1.0, 1.0]  # site 1: points 2 and 3 both at 1 m
    values = np.array([1.0, 10.0, 100.0, 1000.0])
    got = kernel_jit.aggregate(tree, xy, sites, np.array([0, 1], np.intp), values, 5.0, "sum")
    assert got.tolist() == [11.0, 1100.0]  # (13, 14) is 5 m from the corner (10, 10): within, as dwithin says
    ends = np.array([[20.0, -5.0, 20.0, 30.0], [-3.0, -30.0, -3.0, 30.0]])
    probes = LineProbes.build(shapely.linestrings(ends.reshape(-1, 2, 2)), 7.0)
    t = kernel_jit.PointTree.build(probes.kd.data)
    which, dist = kernel_jit.nearest(t, probes.kd.data, sites, np.array([0], np.intp), probes.segment, probes.ends, 3.5)
    assert which.tolist() == [1] and dist.tolist() == [3.0]


def test_point_tree_layout() -> None:
    """20 points: three leaves of at most 8 under one root, every point in exactly one leaf, boxes hold them."""
    xy = np.random.default_rng(0).uniform(0, 100, (20, 2))
    t = kernel_jit.PointTree.build(xy)
    assert t.leaf.tolist() == [False, True, True, True] and t.count.tolist() == [3, 8, 8, 4]
    assert sorted(t.item.tolist()) == list(range(20))
    for node in (1, 2, 3):
        pts = xy[t.item[t.first[node] : t.first[node] + t.count[node]]]
        assert (pts[:, 0] >= t.lo_x[node]).all() and (pts[:, 0] <= t.hi_x[node]).all()
        assert (pts[:, 1] >= t.lo_y[node]).all() and (pts[:, 1] <= t.hi_y[node]).all()


@pytest.mark.parametrize("path", ["numba", "numpy"])
@pytest.mark.parametrize("seed", [0, 1])
def test_index_paths_equal_geos(seed: int, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """NearestIndex through either kernel gives GEOS's nearest distances, owners and radius sums and maxima."""
    from sitematch import kernel
    from sitematch import settings as config
    from sitematch.index import NearestIndex

    sites, points, lines = _random_layers(seed)
    values = np.arange(len(points), dtype=float) + 1
    got: dict[str, list] = {}
    for mode, smallest in ((path, 0), ("geos", 10**9)):
        monkeypatch.setenv("SITEMATCH_KERNEL", path)
        monkeypatch.setattr(config, "kernel_min_sites", smallest)
        kernel.forget()
        p_idx, l_idx = NearestIndex.build(points), NearestIndex.build(lines)
        got[mode] = [
            *p_idx.nearest(sites),
            *l_idx.nearest(sites),
            *l_idx.nearest(sites, max_distance_m=1500.0),
            p_idx.aggregate_within(sites, 8000.0, values, "sum"),
            p_idx.aggregate_within(sites, 8000.0, values, "max"),
        ]
        assert kernel_jit.which() == path
    for i, (a, b) in enumerate(zip(got[path], got["geos"], strict=True)):
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, err_msg=str(i))
        else:
            assert a.tolist() == b.tolist(), i


def test_import_sitematch_does_not_load_numba() -> None:
    """Numba loads only when a large query runs: `import sitematch` (and the index module) leave it out."""
    code = "import sys, sitematch, sitematch.index, sitematch.matching; print('numba' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "False"


def test_read_only_package_caches_in_the_user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Installed read-only: Numba's cache goes to $XDG_CACHE_HOME/sitematch/numba; a set NUMBA_CACHE_DIR wins."""
    package = tmp_path / "sitematch"
    package.mkdir()
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kernel_jit._cache_dir_fallback(package)  # writable: Numba's own __pycache__ next to the module
    assert "NUMBA_CACHE_DIR" not in os.environ
    asked: list[Path] = []
    kernel_jit._cache_dir_fallback(package, writable=lambda p: asked.append(p) or False)
    assert asked == [package]
    assert os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "cache" / "sitematch" / "numba")
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/elsewhere")
    kernel_jit._cache_dir_fallback(package, writable=lambda p: False)
    assert os.environ["NUMBA_CACHE_DIR"] == "/elsewhere"
