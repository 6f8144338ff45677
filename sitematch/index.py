"""Spatial indexes: exact nearest distances and within-radius aggregates, vectorised.

Lines are split into their segments before indexing: an STRtree over short segments prunes far
better than one over a few long polylines whose boxes cover half the region, so a nearest query
touches a handful of segments instead of whole motorways. Every query runs over all sites at once
(shapely 2 ``STRtree.query_nearest`` / ``STRtree.query``); no Python loop per site.

Point layers are also held in a KD-tree (``scipy.spatial.cKDTree``) over their coordinates: the
nearest point to a site's box centre gives an upper bound on the site's distance, every point
that could be nearer lies within that bound plus the box's half-diagonal of the centre, and
exact distances (GEOS, as ``query_nearest`` computes them) are taken only to those few — about
ten times faster than a tree search from each polygon, with the same values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import shapely
from numpy.typing import NDArray

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

from sitematch import kernel, kernel_jit, settings
from sitematch.kernel import Sites


def explode_segments(geoms: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.intp]]:
    """Split (multi)linestrings into two-point segments.

    Parameters
    ----------
    geoms : array of shapely geometries
        Lines or multi-lines. Points and polygons are returned unchanged (one part each).

    Returns
    -------
    segments : array of LineString
        Every segment of every line.
    owner : array of int
        For each segment, the position of the geometry it came from.

    Examples
    --------
    >>> segs, owner = explode_segments(np.array([shapely.LineString([(0, 0), (1, 0), (1, 1)])]))
    >>> len(segs), owner.tolist()
    (2, [0, 0])
    """
    geoms = np.asarray(geoms, dtype=object)
    kinds = shapely.get_type_id(geoms)
    is_line = np.isin(kinds, (1, 5))  # LineString, MultiLineString
    if not is_line.any():
        return geoms, np.arange(len(geoms))
    parts, part_owner = shapely.get_parts(geoms[is_line], return_index=True)
    line_pos = np.flatnonzero(is_line)[part_owner]
    coords, coord_part = shapely.get_coordinates(parts, return_index=True)
    same = coord_part[1:] == coord_part[:-1]
    starts = coords[:-1][same]
    ends = coords[1:][same]
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))
    owner = line_pos[coord_part[:-1][same]]
    others = np.flatnonzero(~is_line)
    return np.concatenate([segments, geoms[others]]), np.concatenate([owner, others])


T = TypeVar("T")

#: Sites queried at once (bounds the k-nearest arrays: sites × k).
_SITE_CHUNK = 1 << 17


def _k_then_ball(
    kd: cKDTree,
    centre: NDArray[np.float64],
    radius: NDArray[np.float64],
    dk: NDArray[np.float64],
    jk: NDArray[np.intp],
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Every (centre, point) pair with the point within ``radius`` of the centre, grouped by centre.

    ``dk``, ``jk`` are each centre's ``k`` nearest points (one KD query for all); only centres
    whose ``k``-th nearest is still within their radius are asked again, for twice as many
    (arrays throughout: no Python list per centre).
    """
    k = dk.shape[1]
    valid = dk <= radius[:, None]
    over = valid[:, -1] & (k < kd.n)
    valid[over] = False
    rows = [np.repeat(np.arange(len(centre)), valid.sum(axis=1))]
    points = [jk[valid]]
    which = np.flatnonzero(over)
    while len(which):  # twice as many nearest, for the centres that may have more within their radius
        k = min(2 * k, kd.n)
        r = radius[which]
        dk, jk = kd.query(centre[which], k=k, distance_upper_bound=float(r.max()) * (1 + 1e-12), workers=-1)
        dk, jk = np.asarray(dk).reshape(len(which), k), np.asarray(jk).reshape(len(which), k)
        valid = dk <= r[:, None]
        over = valid[:, -1] & (k < kd.n)
        valid[over] = False
        rows.append(np.repeat(which, valid.sum(axis=1)))
        points.append(jk[valid])
        which = which[over]
    return np.concatenate(rows).astype(np.intp), np.concatenate(points).astype(np.intp)


def _map_chunks(work: Callable[[NDArray[np.intp]], T], order: NDArray[np.intp]) -> list[T]:
    """``work`` over chunks of ``order`` (at most :data:`_SITE_CHUNK` sites), on two threads when large.

    NumPy and the KD-tree release the GIL in their loops, so two chunks run at once on two cores.
    """
    if not len(order):
        return []
    size = min(_SITE_CHUNK, max(-(-len(order) // 2), 1 << 14))
    chunks = [order[lo : lo + size] for lo in range(0, len(order), size)]
    if len(chunks) == 1:
        return [work(chunks[0])]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(work, chunks))


def _joined(
    parts: list[tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]],
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
    if not parts:
        return np.empty(0, np.intp), np.empty(0, np.intp), np.empty(0)
    a, b, c = zip(*parts, strict=True)
    return np.concatenate(a), np.concatenate(b), np.concatenate(c)


def _knearest(kd: cKDTree, centre: NDArray[np.float64], k: int) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """The ``k`` nearest points of each centre (``inf`` and ``kd.n`` past the last point), as 2-D arrays."""
    dk, jk = kd.query(centre, k=k, workers=-1)
    return np.asarray(dk).reshape(len(centre), k), np.asarray(jk).reshape(len(centre), k)


def _foot_offset(
    px: NDArray[np.float64], py: NDArray[np.float64], e: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """From each point to the nearest point of its segment ``e`` (x0, y0, x1, y1): (dx, dy)."""
    vx, vy = e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]
    wx, wy = px - e[:, 0], py - e[:, 1]
    vv = vx * vx + vy * vy
    with np.errstate(invalid="ignore", divide="ignore"):
        tt = np.clip((wx * vx + wy * vy) / vv, 0.0, 1.0)
    tt[vv == 0] = 0.0
    return tt * vx - wx, tt * vy - wy


@dataclass
class LineProbes:
    """Points every ``spacing_m`` (250 m: measured fastest) along each segment, in a KD-tree: exact nearest segments.

    A segment's points are the centres of equal pieces at most ``spacing_m`` long, so every point
    of the segment lies within ``half_m`` (half the longest piece) of one of them. For a site with
    box centre ``c`` and half-diagonal ``r``: the segment of the probe nearest ``c`` gives an exact
    distance ``U``; a segment nearer the site than ``U`` has a probe within ``U + half_m + r`` of
    ``c``. Only the segments of those probes are measured exactly (GEOS) — a handful per site,
    where an unbounded ``STRtree.query_nearest`` from a site tens of kilometres from the nearest
    line visits thousands of tree nodes.
    """

    kd: cKDTree
    segment: NDArray[np.intp]
    half_m: float
    ends: NDArray[np.float64] | None = None  # (segment, 4): x0, y0, x1, y1 of every segment
    tree: kernel_jit.PointTree | None = None  # the probes for the compiled kernel, built at its first use

    @classmethod
    def build(cls, segments: NDArray[np.object_], spacing_m: float = 250.0) -> LineProbes:
        """Probes along two-point ``segments``."""
        coords = shapely.get_coordinates(segments).reshape(-1, 2, 2)
        start, vec = coords[:, 0], coords[:, 1] - coords[:, 0]
        length = np.hypot(vec[:, 0], vec[:, 1])
        pieces = np.maximum(np.ceil(length / spacing_m), 1).astype(np.intp)
        seg = np.repeat(np.arange(len(segments)), pieces)
        first = np.cumsum(pieces) - pieces
        frac = (np.arange(len(seg)) - first[seg] + 0.5) / pieces[seg]
        points = start[seg] + vec[seg] * frac[:, None]
        from scipy.spatial import cKDTree  # scipy loads when a layer is indexed, not at import

        return cls(cKDTree(points), seg, float((length / pieces).max()) / 2, coords.reshape(-1, 4))

    def nearest_exact(
        self, sites: Sites, max_distance_m: float | None = None
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """As :meth:`nearest`, with the NumPy kernel (:mod:`sitematch.kernel`) instead of GEOS.

        ``U`` is the exact distance to the segment of the probe nearest the site's centre (or
        the search limit if less). Candidates are the segments of the probes within
        ``U + half_m + reach`` of the centre; a candidate whose lower bound
        (:meth:`~sitematch.kernel.Sites.lower_bound`) exceeds ``U`` cannot be nearer and is not
        measured. Sites with nothing within ``max_distance_m`` are left out.
        """
        assert self.ends is not None
        e = self.ends
        k = min(16, self.kd.n)
        if kernel_jit.available():
            limit = np.inf if max_distance_m is None else float(max_distance_m)
            if self.tree is None:
                self.tree = kernel_jit.PointTree.build(self.kd.data)
            tree = self.tree

            ordered, order = sites.in_order()

            def fused(pos: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
                seg, d = kernel_jit.nearest(tree, self.kd.data, ordered, pos, self.segment, e, self.half_m, limit)
                keep = seg >= 0
                return order[pos[keep]], seg[keep], d[keep]

            return _joined(_map_chunks(fused, np.arange(len(order), dtype=np.intp)))

        def one(chunk: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
            centre, reach = sites.centre[chunk], sites.reach[chunk]
            dk, jk = _knearest(self.kd, centre, k)
            seg0 = self.segment[jk[:, 0]]
            upper = kernel.segment_distance(sites, chunk, e[seg0, 0], e[seg0, 1], e[seg0, 2], e[seg0, 3])
            if max_distance_m is not None:
                upper = np.minimum(upper, max_distance_m)
            slack = 1e-9 * (1 + upper) + 1e-6  # generous against rounding
            row, probe = _k_then_ball(self.kd, centre, upper + self.half_m + reach + slack, dk, jk)
            seg = self.segment[probe]
            dx, dy = _foot_offset(centre[row, 0], centre[row, 1], e[seg])
            keep = sites.lower_bound(chunk[row], dx, dy) <= upper[row] + slack[row]
            row, seg = row[keep], seg[keep]
            d = kernel.segment_distance(sites, chunk[row], e[seg, 0], e[seg, 1], e[seg, 2], e[seg, 3])
            r, j, dd = kernel.nearest_per_site(row, seg, d)
            if max_distance_m is not None:
                inside = dd <= max_distance_m
                r, j, dd = r[inside], j[inside], dd[inside]
            return chunk[r], j, dd

        return _joined(_map_chunks(one, sites.present()))

    def nearest(
        self, sites: NDArray[np.object_], tree: shapely.STRtree
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """(site, segment, exact distance) of the nearest segment of each non-empty site; ties to the first."""
        segs = tree.geometries
        b = shapely.bounds(sites)
        ok = np.flatnonzero(np.isfinite(b).all(axis=1))
        centre = (b[ok, :2] + b[ok, 2:]) / 2
        reach = np.hypot(b[ok, 2] - b[ok, 0], b[ok, 3] - b[ok, 1]) / 2
        _, j = self.kd.query(centre)
        first = shapely.distance(sites[ok], segs[self.segment[j]])
        radius = first + self.half_m + reach + 1e-3 * (1 + first)  # generous against rounding
        hits = self.kd.query_ball_point(centre, radius)
        counts = np.fromiter((len(h) for h in hits), np.intp, len(hits))
        si = np.repeat(np.arange(len(ok)), counts)
        seg = self.segment[np.fromiter((p for h in hits for p in h), np.intp, int(counts.sum()))]
        pairs = np.unique(si.astype(np.int64) * len(segs) + seg)  # each (site, segment) once
        si, seg = (pairs // len(segs)).astype(np.intp), (pairs % len(segs)).astype(np.intp)
        d = shapely.distance(sites[ok[si]], segs[seg])
        order = np.lexsort((seg, d, si))
        si, seg, d = si[order], seg[order], d[order]
        best = np.r_[True, si[1:] != si[:-1]]
        return ok[si[best]], seg[best], d[best]


@dataclass
class NearestIndex:
    """An STRtree over a layer's geometries (lines split into segments), for nearest queries.

    Parameters
    ----------
    geoms : array of shapely geometries
        The layer's geometries, in the working CRS (metres).

    Examples
    --------
    >>> idx = NearestIndex.build(np.array([shapely.Point(0, 0), shapely.Point(10, 0)]))
    >>> d, which = idx.nearest(np.array([shapely.Point(7, 0)]))
    >>> d.tolist(), which.tolist()
    ([3.0], [1])
    """

    tree: shapely.STRtree
    owner: NDArray[np.intp]
    n: int
    kd: cKDTree | None = None
    probes: LineProbes | None = None
    shape: str | None = None  # "points" or "segments" when every part is one: KD-tree or probes on demand
    point_tree: kernel_jit.PointTree | None = None  # the points for the compiled kernel, built at its first use

    def _point_tree(self) -> kernel_jit.PointTree:
        assert self.kd is not None
        if self.point_tree is None:
            self.point_tree = kernel_jit.PointTree.build(self.kd.data)
        return self.point_tree

    @classmethod
    def build(cls, geoms: NDArray[np.object_]) -> NearestIndex:
        """Index ``geoms``; lines are indexed segment by segment, points also in a KD-tree.

        The KD-tree (points) and the probes (segments) are built at the first query of at least
        :data:`sitematch.settings.kernel_min_sites` sites: a small region's queries go through
        the STRtree alone, and a fresh process answering one never loads SciPy.
        """
        geoms = np.asarray(geoms, dtype=object)
        parts, owner = explode_segments(geoms)
        shape = None
        if len(parts) and not shapely.is_empty(parts).any():
            kinds = shapely.get_type_id(parts)
            if (kinds == 0).all():
                shape = "points"
            elif (kinds == 1).all() and (shapely.get_num_coordinates(parts) == 2).all():
                shape = "segments"
        return cls(shapely.STRtree(parts), owner, len(geoms), shape=shape)

    def _trees(self, n_sites: int) -> None:
        """Build the KD-tree or the probes once a query is large enough to gain from them."""
        if n_sites < settings.kernel_min_sites or self.kd is not None or self.probes is not None:
            return
        parts = self.tree.geometries
        if self.shape == "points":
            from scipy.spatial import cKDTree  # scipy loads when a large query needs it, not at import

            self.kd = cKDTree(shapely.get_coordinates(parts))
        elif self.shape == "segments":
            self.probes = LineProbes.build(parts)

    def nearest(
        self, sites: NDArray[np.object_], max_distance_m: float | None = None
    ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Distance in metres from each site to the nearest geometry, and that geometry's position.

        Parameters
        ----------
        sites : array of shapely geometries
            The sites, in the same CRS as the index.
        max_distance_m : float, optional
            Search no further than this; sites with nothing within it get ``inf`` and ``-1``.

        Returns
        -------
        distance_m : numpy.ndarray of float
            ``inf`` where the layer is empty or nothing is within ``max_distance_m``.
        which : numpy.ndarray of int
            Position in the indexed layer of the nearest geometry, ``-1`` where there is none.
        """
        sites = np.asarray(sites, dtype=object)
        dist = np.full(len(sites), np.inf)
        which = np.full(len(sites), -1, dtype=np.intp)
        if self.n == 0 or len(sites) == 0:
            return dist, which
        self._trees(len(sites))
        edges = kernel.sites_of(sites) if (self.kd is not None or self.probes is not None) else None
        if self.kd is not None:
            site_i, part_i, d = self._nearest_points(sites) if edges is None else self._nearest_points_exact(edges)
            keep = d <= (np.inf if max_distance_m is None else max_distance_m)
            dist[site_i[keep]] = d[keep]
            which[site_i[keep]] = self.owner[part_i[keep]]
            return dist, which
        if self.probes is not None and edges is not None:  # the NumPy kernel over the probes' candidates
            site_i, part_i, d = self.probes.nearest_exact(edges, max_distance_m)
        elif self.probes is not None and max_distance_m is None:  # unbounded: far sites are slow in the tree
            site_i, part_i, d = self.probes.nearest(sites, self.tree)
        else:
            (site_i, part_i), d = self.tree.query_nearest(
                sites, max_distance=max_distance_m, return_distance=True, all_matches=False
            )
        dist[site_i] = d
        which[site_i] = self.owner[part_i]
        return dist, which

    def _nearest_points(
        self, sites: NDArray[np.object_]
    ) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """Nearest point of a point layer to each (non-empty) site: (site, point, exact distance).

        Every point nearer to the site than the point nearest its box's centre lies within that
        distance plus the box's half-diagonal of the centre; among those, the exact (GEOS)
        distances decide, ties going to the first point.
        """
        assert self.kd is not None
        points = self.tree.geometries
        b = shapely.bounds(sites)
        ok = np.flatnonzero(np.isfinite(b).all(axis=1))
        centre = (b[ok, :2] + b[ok, 2:]) / 2
        reach = np.hypot(b[ok, 2] - b[ok, 0], b[ok, 3] - b[ok, 1]) / 2
        k = min(3, len(points))
        dk, jk = self.kd.query(centre, k=k)
        dk, jk = dk.reshape(len(ok), k), jk.reshape(len(ok), k)
        first = shapely.distance(sites[ok], points[jk[:, 0]])
        limit = first + reach + 1e-3 * (1 + first)  # generous against rounding
        row, col = np.nonzero(dk[:, 1:] <= limit[:, None])
        pair_site, pair_point = [np.arange(len(ok)), row], [jk[:, 0], jk[row, col + 1]]
        more = np.flatnonzero(dk[:, -1] <= limit) if k < len(points) else np.empty(0, np.intp)
        if len(more):  # more candidates than the k found: all within the limit
            hits = self.kd.query_ball_point(centre[more], limit[more])
            counts = np.fromiter((len(h) for h in hits), np.intp, len(hits))
            pair_site.append(np.repeat(more, counts))
            pair_point.append(np.fromiter((j for h in hits for j in h), np.intp, int(counts.sum())))
        si, pj = np.concatenate(pair_site), np.concatenate(pair_point)
        d = np.concatenate([first, shapely.distance(sites[ok[si[len(ok) :]]], points[pj[len(ok) :]])])
        order = np.lexsort((pj, d, si))
        si, pj, d = si[order], pj[order], d[order]
        best = np.r_[True, si[1:] != si[:-1]]
        return ok[si[best]], pj[best], d[best]

    def _nearest_points_exact(self, sites: Sites) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """:meth:`_nearest_points` with the NumPy kernel: exact distances without GEOS.

        ``U`` is the exact distance to the point nearest the site's centre; every point nearer
        the site lies within ``U + reach`` of the centre, and of those only points whose lower
        bound (:meth:`~sitematch.kernel.Sites.lower_bound`) is within ``U`` are measured.
        """
        assert self.kd is not None
        xy = self.kd.data
        k = min(4, len(xy))
        if kernel_jit.available():
            tree = self._point_tree()

            ordered, order = sites.in_order()

            def fused(pos: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
                pt, d = kernel_jit.nearest(tree, xy, ordered, pos)
                return order[pos], pt, d

            return _joined(_map_chunks(fused, np.arange(len(order), dtype=np.intp)))

        def one(chunk: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
            centre, reach = sites.centre[chunk], sites.reach[chunk]
            dk, jk = _knearest(self.kd, centre, k)
            upper = kernel.point_distance(sites, chunk, xy[jk[:, 0], 0], xy[jk[:, 0], 1])
            slack = 1e-9 * (1 + upper) + 1e-6  # generous against rounding
            row, pt = _k_then_ball(self.kd, centre, upper + reach + slack, dk, jk)
            bound = sites.lower_bound(chunk[row], xy[pt, 0] - centre[row, 0], xy[pt, 1] - centre[row, 1])
            keep = bound <= upper[row] + slack[row]
            row, pt = row[keep], pt[keep]
            d = kernel.point_distance(sites, chunk[row], xy[pt, 0], xy[pt, 1])
            r, j, dd = kernel.nearest_per_site(row, pt, d)
            return chunk[r], j, dd

        return _joined(_map_chunks(one, sites.present()))

    def within(self, sites: NDArray[np.object_], distance_m: float) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
        """All (site, geometry) pairs closer than ``distance_m``, as two index arrays."""
        sites = np.asarray(sites, dtype=object)
        if self.n == 0 or len(sites) == 0:
            return np.empty(0, np.intp), np.empty(0, np.intp)
        site_i, part_i = self.tree.query(sites, predicate="dwithin", distance=distance_m)
        pairs = np.unique(np.stack([site_i, self.owner[part_i]]), axis=1)
        return pairs[0], pairs[1]

    def aggregate_within(
        self, sites: NDArray[np.object_], distance_m: float, values: NDArray[np.float64], how: str
    ) -> NDArray[np.float64]:
        """Sum or max of ``values`` over the geometries within ``distance_m`` of each site.

        Sites with none get 0. Sites are processed in chunks of :data:`sitematch.settings.radius_chunk`
        to bound the memory the pair arrays take.
        """
        sites = np.asarray(sites, dtype=object)
        out = np.zeros(len(sites))
        values = np.asarray(values, dtype=float)
        if how not in ("sum", "max"):
            raise ValueError(f"how must be 'sum' or 'max', not {how!r}")
        self._trees(len(sites))
        edges = kernel.sites_of(sites) if self.kd is not None and len(sites) and self.n else None
        if edges is not None:
            return self._aggregate_points_exact(edges, distance_m, values[self.owner], how)
        chunk_size = settings.radius_chunk
        for start in range(0, len(sites), chunk_size):
            chunk = sites[start : start + chunk_size]
            site_i, geom_i = self.within(chunk, distance_m)
            if how == "sum":
                np.add.at(out, start + site_i, values[geom_i])
            elif how == "max":
                np.maximum.at(out, start + site_i, values[geom_i])
            else:
                raise ValueError(f"how must be 'sum' or 'max', not {how!r}")
        return out

    def _aggregate_points_exact(
        self, sites: Sites, distance_m: float, values: NDArray[np.float64], how: str
    ) -> NDArray[np.float64]:
        """Sum or max over a point layer's points within ``distance_m`` of each site, with the NumPy kernel.

        Candidates are the points within ``distance_m`` plus the site's reach of its centre; a
        point counts when its exact distance is at most ``distance_m``, as GEOS's ``dwithin``
        decides. The kernel runs only where the bounds leave that open: a point within
        ``distance_m`` of a centre that lies in its site is in; one whose lower bound is beyond
        is out.
        """
        assert self.kd is not None
        kd = self.kd
        xy = kd.data
        n = len(sites.reach)
        out = np.zeros(n)
        k = min(32, len(xy))
        if kernel_jit.available():
            tree = self._point_tree()

            ordered, order = sites.in_order()

            def fused(pos: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
                return order[pos], kernel_jit.aggregate(tree, xy, ordered, pos, values, distance_m, how)

            for rows, agg in _map_chunks(fused, np.arange(len(order), dtype=np.intp)):
                out[rows] = agg
            return out

        def one(chunk: NDArray[np.intp]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
            centre = sites.centre[chunk]
            radius = distance_m + sites.reach[chunk] + 1e-9 * (1 + distance_m) + 1e-6
            dk, jk = kd.query(centre, k=k, distance_upper_bound=float(radius.max()), workers=-1)
            dk, jk = np.asarray(dk).reshape(len(chunk), k), np.asarray(jk).reshape(len(chunk), k)
            row, pt = _k_then_ball(self.kd, centre, radius, dk, jk)
            dx, dy = xy[pt, 0] - centre[row, 0], xy[pt, 1] - centre[row, 1]
            lower = sites.lower_bound(chunk[row], dx, dy)
            centred = kernel.point_distance(sites, chunk, centre[:, 0], centre[:, 1]) == 0
            sure = centred[row] & (np.hypot(dx, dy) <= distance_m)
            open_ = ~sure & (lower <= distance_m + 1e-6)
            hit = sure.copy()
            o = np.flatnonzero(open_)
            hit[o] = kernel.point_distance(sites, chunk[row[o]], xy[pt[o], 0], xy[pt[o], 1]) <= distance_m
            return chunk[row[hit]], pt[hit]

        for si, pj in _map_chunks(one, sites.present()):
            if how == "sum":
                out += np.bincount(si, weights=values[pj], minlength=n)
            else:
                np.maximum.at(out, si, values[pj])
        return out
