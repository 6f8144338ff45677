"""Exact distances from sites to points and segments, vectorised in NumPy (no GEOS call per pair).

A site (polygon, line or point, or a multi-part of them) is held as its boundary edges. The
distance from a site to a point or a segment is the least distance to any of its edges — two
segments that do not cross are nearest at an endpoint of one of them — and 0 where they cross,
or where the point (a segment's end) lies inside a polygon (even–odd rule over every ring, so
holes count). This is what GEOS computes; :mod:`tests.test_kernel` checks it against
``shapely.distance`` on random polygons and lines to 1e-6 m.

Work is over *pairs* (site, query) from the KD-tree probes in :mod:`sitematch.index`; each pair
is expanded to the site's edges in chunks of :data:`CHUNK_ROWS` rows, so memory stays bounded
whatever the number of pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

#: Rows (pair × site edge) evaluated at once: ≈ 20 float arrays of this length live together.
CHUNK_ROWS = 1 << 20

#: Geometry type ids the kernel handles: Point, LineString, LinearRing, Polygon and their multi-parts.
SUPPORTED = (0, 1, 2, 3, 4, 5, 6)


@dataclass
class Sites:
    """Sites as boundary edges: ``edges[start[i]:start[i + 1]]`` belong to site ``i``.

    Attributes
    ----------
    ax, ay, bx, by : numpy.ndarray of float
        Edge ends (a point is one edge from itself to itself).
    start : numpy.ndarray of int
        First edge of each site; ``len(sites) + 1`` entries.
    area : numpy.ndarray of bool
        Whether the site has an area (polygon): a query inside it is at distance 0.
    centre : numpy.ndarray of float, shape (n, 2)
        Centre of each site's bounding box (NaN for empty sites).
    reach : numpy.ndarray of float
        Largest distance from the centre to any point of the site (NaN for empty sites).
    """

    ax: NDArray[np.float64]
    ay: NDArray[np.float64]
    bx: NDArray[np.float64]
    by: NDArray[np.float64]
    start: NDArray[np.intp]
    area: NDArray[np.bool_]
    centre: NDArray[np.float64]
    reach: NDArray[np.float64]
    half: NDArray[np.float64] | None = None  # (n, 2): half the width and height of each site's box
    order: NDArray[np.intp] | None = None  # :meth:`present`, once computed
    ordered: tuple[Sites, NDArray[np.intp]] | None = None  # :meth:`in_order`, once computed

    @classmethod
    def of(cls, geoms: NDArray[np.object_]) -> Sites | None:
        """The edges of ``geoms``; None when some geometry is of a type the kernel does not handle.

        Examples
        --------
        >>> s = Sites.of(np.array([shapely.box(0, 0, 2, 2), shapely.Point(5, 5)]))
        >>> s.start.tolist(), s.area.tolist(), s.reach.round(3).tolist()
        ([0, 4, 5], [True, False], [1.414, 0.0])
        """
        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        kinds = shapely.get_type_id(geoms)
        if not np.isin(kinds[~shapely.is_missing(geoms)], SUPPORTED).all():
            return None
        if (kinds == 3).all() and not (shapely.get_num_interior_rings(geoms) > 0).any():
            chains, chain_site = geoms, np.arange(n)  # plain polygons (plots): each its own ring
        else:
            parts, part_site = shapely.get_parts(geoms, return_index=True)
            poly = shapely.get_type_id(parts) == 3
            rings, ring_part = shapely.get_rings(parts[poly], return_index=True)
            chains = np.concatenate([rings, parts[~poly]])
            chain_site = np.concatenate([part_site[poly][ring_part], part_site[~poly]])
        coords, which = shapely.get_coordinates(chains, return_index=True)
        single = shapely.get_num_coordinates(chains) == 1  # points: an edge from the point to itself
        same = which[1:] == which[:-1]
        a = np.concatenate([coords[:-1][same], coords[single[which]]])
        b = np.concatenate([coords[1:][same], coords[single[which]]])
        owner = chain_site[np.concatenate([which[:-1][same], which[single[which]]])]
        if len(owner) and (owner[1:] < owner[:-1]).any():
            order = np.argsort(owner, kind="stable")
            a, b, owner = a[order], b[order], owner[order]
        start = np.searchsorted(owner, np.arange(n + 1)).astype(np.intp)
        area = np.isin(kinds, (3, 6))
        bounds = shapely.bounds(geoms)
        centre = (bounds[:, :2] + bounds[:, 2:]) / 2
        far = np.maximum(np.hypot(a[:, 0] - centre[owner, 0], a[:, 1] - centre[owner, 1]), 0.0)
        far = np.maximum(far, np.hypot(b[:, 0] - centre[owner, 0], b[:, 1] - centre[owner, 1]))
        reach = np.full(n, np.nan)
        has = start[1:] > start[:-1]
        if len(far):
            reach[has] = np.maximum.reduceat(far, start[:-1][has])
        half = (bounds[:, 2:] - bounds[:, :2]) / 2
        return cls(a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy(), start, area, centre, reach, half)

    def present(self) -> NDArray[np.intp]:
        """Positions of the non-empty sites, in a space-filling (Morton) order of their centres.

        Queries from nearby sites then visit the same parts of a tree one after the other,
        which is several times faster than in the order the sites come in. Computed once per batch
        (an evaluation asks for it once per criterion).
        """
        if self.order is not None:
            return self.order
        ok = np.flatnonzero(np.isfinite(self.reach))
        if len(ok) >= 2:
            c = self.centre[ok]
            lo, span = c.min(axis=0), np.maximum(np.ptp(c, axis=0), 1e-9)
            q = ((c - lo) / span * 65535).astype(np.uint64)
            ok = ok[np.argsort(_spread(q[:, 0]) | (_spread(q[:, 1]) << np.uint64(1)), kind="stable")]
        self.order = ok
        return ok

    def in_order(self) -> tuple[Sites, NDArray[np.intp]]:
        """The non-empty sites rearranged in :meth:`present`'s order, and that order (computed once).

        A loop over sites in this order reads every array in sequence instead of jumping about.
        """
        if self.ordered is None:
            order = self.present()
            self.ordered = (self.take(order), order)
        return self.ordered

    def lower_bound(
        self, site: NDArray[np.intp], dx: NDArray[np.float64], dy: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Lower bounds of the distance from sites to convex sets (points, segments).

        ``(dx, dy)`` leads from the site's centre to the set's point nearest to it.

        With ``u`` the unit vector towards that point at distance ``p``, every point of the set
        lies at least ``p`` along ``u`` from the centre, and every point of the site at most
        ``half_x |u_x| + half_y |u_y|`` (its box's extent along ``u``): the difference bounds
        the distance from below.
        """
        assert self.half is not None
        p = np.hypot(dx, dy)
        with np.errstate(invalid="ignore", divide="ignore"):
            extent = (self.half[site, 0] * np.abs(dx) + self.half[site, 1] * np.abs(dy)) / p
        extent[p == 0] = 0.0
        return p - extent

    def take(self, rows: NDArray[np.intp]) -> Sites:
        """The sites at ``rows``, in that order."""
        count = self.start[rows + 1] - self.start[rows]
        edges = _expand(self.start[rows], count)
        start = np.concatenate([[0], np.cumsum(count)]).astype(np.intp)
        return Sites(
            self.ax[edges],
            self.ay[edges],
            self.bx[edges],
            self.by[edges],
            start,
            self.area[rows],
            self.centre[rows],
            self.reach[rows],
            None if self.half is None else self.half[rows],
        )


def _spread(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Spread the low 16 bits of ``v`` to the even bit positions (for a Morton key)."""
    v = v & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
    return v


def _expand(first: NDArray[np.intp], count: NDArray[np.intp]) -> NDArray[np.intp]:
    """``concatenate([arange(f, f + c) for f, c in zip(first, count)])``, without the loop."""
    total = int(count.sum())
    if total == 0:
        return np.empty(0, np.intp)
    offsets = np.cumsum(count) - count
    return np.repeat(first - offsets, count) + np.arange(total)


def _point_segment_sq(
    px: NDArray[np.float64],
    py: NDArray[np.float64],
    ax: NDArray[np.float64],
    ay: NDArray[np.float64],
    bx: NDArray[np.float64],
    by: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Squared distance from points ``p`` to segments ``ab`` (a degenerate segment is its point)."""
    vx, vy = bx - ax, by - ay
    wx, wy = px - ax, py - ay
    vv = vx * vx + vy * vy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip((wx * vx + wy * vy) / vv, 0.0, 1.0)
    t[vv == 0] = 0.0
    dx, dy = wx - t * vx, wy - t * vy
    return dx * dx + dy * dy


def _orient(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, px: np.ndarray, py: np.ndarray
) -> np.ndarray:
    """Sign of the turn a → b → p (+1 left, -1 right, 0 collinear)."""
    return np.sign((bx - ax) * (py - ay) - (by - ay) * (px - ax))


def _crosses_ray(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Whether edge ``ab`` crosses the ray from ``p`` towards +x (half-open in y: each crossing once)."""
    straddle = (ay > py) != (by > py)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = ax + (py - ay) * (bx - ax) / (by - ay)
    return straddle & (px < x)


def _rows(sites: Sites, site: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Expand pairs to (pair, edge) rows: the pair of each row, the edge, and each pair's first row."""
    count = sites.start[site + 1] - sites.start[site]
    edge = _expand(sites.start[site], count)
    pair = np.repeat(np.arange(len(site)), count)
    first = np.cumsum(count) - count
    return pair, edge, first


def _chunks(sites: Sites, site: NDArray[np.intp]) -> list[slice]:
    """Slices of the pairs whose rows fit :data:`CHUNK_ROWS` (at least one pair each)."""
    count = sites.start[site + 1] - sites.start[site]
    ends = np.cumsum(count)
    out, lo = [], 0
    while lo < len(site):
        base = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, base + CHUNK_ROWS, side="right")), lo + 1)
        out.append(slice(lo, hi))
        lo = hi
    return out


def _reduce_min(values: NDArray[np.float64], first: NDArray[np.intp], count: NDArray[np.intp]) -> NDArray[np.float64]:
    """Minimum of ``values`` over each pair's rows (``inf`` for pairs without rows)."""
    out = np.full(len(first), np.inf)
    has = count > 0
    if has.any():
        out[has] = np.minimum.reduceat(values, first[has])
    return out


def point_distance(
    sites: Sites, site: NDArray[np.intp], px: NDArray[np.float64], py: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Exact distance from ``sites[site[k]]`` to the point ``(px[k], py[k])`` for every pair ``k``.

    0 where the point lies in a polygon site or on its boundary; ``inf`` for empty sites.

    Examples
    --------
    >>> s = Sites.of(np.array([shapely.box(0, 0, 2, 2)]))
    >>> point_distance(s, np.array([0, 0]), np.array([5.0, 1.0]), np.array([6.0, 1.0])).tolist()
    [5.0, 0.0]
    """
    site = np.asarray(site, dtype=np.intp)
    out = np.empty(len(site))
    for sl in _chunks(sites, site):
        s = site[sl]
        pair, edge, first = _rows(sites, s)
        count = sites.start[s + 1] - sites.start[s]
        x, y = px[sl][pair], py[sl][pair]
        ax, ay, bx, by = sites.ax[edge], sites.ay[edge], sites.bx[edge], sites.by[edge]
        d = _reduce_min(_point_segment_sq(x, y, ax, ay, bx, by), first, count)
        inside = _reduce_count(_crosses_ray(x, y, ax, ay, bx, by), first, count) % 2 == 1
        d[inside & sites.area[s]] = 0.0
        out[sl] = np.sqrt(d)
    return out


def _reduce_count(flags: NDArray[np.bool_], first: NDArray[np.intp], count: NDArray[np.intp]) -> NDArray[np.intp]:
    out = np.zeros(len(first), np.intp)
    has = count > 0
    if has.any():
        out[has] = np.add.reduceat(flags.astype(np.intp), first[has])
    return out


def segment_distance(
    sites: Sites,
    site: NDArray[np.intp],
    cx: NDArray[np.float64],
    cy: NDArray[np.float64],
    dx: NDArray[np.float64],
    dy: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Exact distance from ``sites[site[k]]`` to the segment ``(cx, cy)–(dx, dy)`` for every pair ``k``.

    0 where the segment crosses or touches the site, or lies inside a polygon site.

    Examples
    --------
    >>> s = Sites.of(np.array([shapely.box(0, 0, 2, 2)]))
    >>> seg = np.array([[3.0, -5.0, 3.0, 5.0], [1.0, -1.0, 1.0, 1.5]])  # beside the square; across its edge
    >>> segment_distance(s, np.array([0, 0]), *seg.T).tolist()
    [1.0, 0.0]
    """
    site = np.asarray(site, dtype=np.intp)
    out = np.empty(len(site))
    for sl in _chunks(sites, site):
        s = site[sl]
        pair, edge, first = _rows(sites, s)
        count = sites.start[s + 1] - sites.start[s]
        c_x, c_y, d_x, d_y = cx[sl][pair], cy[sl][pair], dx[sl][pair], dy[sl][pair]
        ax, ay, bx, by = sites.ax[edge], sites.ay[edge], sites.bx[edge], sites.by[edge]
        d2 = _point_segment_sq(ax, ay, c_x, c_y, d_x, d_y)
        np.minimum(d2, _point_segment_sq(bx, by, c_x, c_y, d_x, d_y), out=d2)
        np.minimum(d2, _point_segment_sq(c_x, c_y, ax, ay, bx, by), out=d2)
        np.minimum(d2, _point_segment_sq(d_x, d_y, ax, ay, bx, by), out=d2)
        cross = (_orient(ax, ay, bx, by, c_x, c_y) * _orient(ax, ay, bx, by, d_x, d_y) < 0) & (
            _orient(c_x, c_y, d_x, d_y, ax, ay) * _orient(c_x, c_y, d_x, d_y, bx, by) < 0
        )
        d2[cross] = 0.0
        d = _reduce_min(d2, first, count)
        inside = _reduce_count(_crosses_ray(c_x, c_y, ax, ay, bx, by), first, count) % 2 == 1
        d[inside & sites.area[s]] = 0.0
        out[sl] = np.sqrt(d)
    return out


def nearest_per_site(
    site: NDArray[np.intp], target: NDArray[np.intp], distance: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    """Each site's least distance and its target (ties to the lowest target), from pairs grouped by site.

    Returns (site, target, distance), one row per site that has pairs.
    """
    if not len(site):
        return site, target, distance
    first = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    best = np.minimum.reduceat(distance, first)
    count = np.diff(np.r_[first, len(site)])
    best_rows = np.repeat(best, count)
    candidate = np.where(distance == best_rows, target, np.iinfo(np.intp).max)
    return site[first], np.minimum.reduceat(candidate, first), best


_memo: tuple[NDArray[np.object_], object, Sites] | None = None


def sites_of(geoms: NDArray[np.object_]) -> Sites | None:
    """:meth:`Sites.of`, remembered for the last (largest) batch: calls on it or a subset take its rows.

    An evaluation measures criterion after criterion on the same sites (or on some of them);
    their edges are extracted once. Rows are matched by the identity of the geometry objects,
    which the remembered batch keeps alive.
    """
    global _memo
    geoms = np.asarray(geoms, dtype=object)
    ids = np.fromiter(map(id, geoms), np.int64, len(geoms))
    memo = _memo
    if memo is not None and len(geoms) <= len(memo[0]):
        pos = memo[1].get_indexer(ids)  # type: ignore[attr-defined]
        if len(pos) and (pos >= 0).all():
            full = memo[2]
            return full if len(pos) == len(memo[0]) and (pos == np.arange(len(pos))).all() else full.take(pos)
    built = Sites.of(geoms)
    if built is not None and (memo is None or len(geoms) >= len(memo[0])) and len(geoms) >= 1000:
        import pandas as pd

        index = pd.Index(ids)
        if index.is_unique:
            _memo = (geoms, index, built)
    return built


def forget() -> None:
    """Drop the remembered batch of sites (its geometries and edges)."""
    global _memo
    _memo = None
