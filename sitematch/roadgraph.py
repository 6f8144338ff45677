"""Drive times on a road network: a sparse graph of minutes, points snapped onto it, SciPy's Dijkstra.

A road layer (OpenStreetMap ways, NVDB links: any lines with a speed) becomes a directed graph whose
nodes are the lines' end points and every vertex that two lines share (so an OpenStreetMap way that
crosses others at shared nodes is split there, and a bridge over a road, which shares no vertex,
is not joined to it), and whose edges weigh ``length / speed`` in minutes. Only the largest
strongly connected part is used for snapping, so a point never lands on an island of private
roads it cannot leave.

A point (a plot, a population cell, a junction) is **snapped** to the nearest place on an edge,
not to the nearest node: it enters the network there after an *access time* (the straight
distance at ``access_speed_kmh``, never less than ``min_access_min`` for plots and population) and
then drives along the edge to either of its ends, as the edge's direction allows. Times between
points are then exact on the graph, including two points on the same edge.

A point the network does not cover is **not snapped** (its times are unknown, not long): one
farther than ``max_access_m`` from every road, e.g. a plot in a county whose roads were not
imported. The network's :attr:`RoadGraph.extent` (the convex hull of its nodes) is recorded.

SciPy's ``csgraph.dijkstra`` does the searches, with a time ``limit``; sources are run in chunks
whose distance rows fit :data:`ROW_BUDGET_BYTES`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse import csgraph

log = logging.getLogger(__name__)

#: Memory for one chunk of Dijkstra distance rows (sources × nodes × 8 bytes).
ROW_BUDGET_BYTES = 128 * 2**20
#: Coordinates closer than this (metres) are the same node.
NODE_TOLERANCE_M = 0.01
_MIN_WEIGHT = 1e-9  # SciPy treats zero-weight entries of a sparse graph as missing edges


def _minutes(length_m: NDArray[np.float64], speed_kmh: NDArray[np.float64] | float) -> NDArray[np.float64]:
    return length_m / (speed_kmh * 1000.0 / 60.0)


def _part(share: NDArray[np.float64], minutes: NDArray[np.float64]) -> NDArray[np.float64]:
    """Minutes for a share of an edge: 0 for none of it, ``inf`` where the direction is closed."""
    finite = np.isfinite(minutes)
    return np.where(share == 0, 0.0, np.where(finite, share * np.where(finite, minutes, 0.0), np.inf))


@dataclass(frozen=True)
class Snapped:
    """Points placed on a road graph.

    Attributes
    ----------
    edge : numpy.ndarray of int
        The edge each point lies on (-1: the graph has no edge to snap to).
    fraction : numpy.ndarray of float
        Where along the edge, 0 at its start node, 1 at its end node.
    access_min : numpy.ndarray of float
        Minutes from the point to that place on the edge (and back).
    """

    edge: NDArray[np.intp]
    fraction: NDArray[np.float64]
    access_min: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.edge)


@dataclass(frozen=True)
class RoadGraph:
    """A directed road graph weighted in minutes, with its edges' geometries for snapping.

    Build it with :meth:`from_lines`. Edge ``e`` runs from node ``edge_u[e]`` to ``edge_v[e]`` along
    ``edge_geom[e]``; it takes ``t_forward[e]`` minutes that way and ``t_backward[e]`` the other way
    (``inf`` where one-way forbids it).

    Examples
    --------
    >>> g = RoadGraph.from_lines(np.array([shapely.LineString([(0, 0), (1000, 0)])]), np.array([60.0]))
    >>> g.n_nodes, g.t_forward.tolist()
    (2, [1.0])
    """

    graph: sparse.csr_matrix
    xy: NDArray[np.float64]
    edge_u: NDArray[np.intp]
    edge_v: NDArray[np.intp]
    edge_geom: NDArray[np.object_]
    t_forward: NDArray[np.float64]
    t_backward: NDArray[np.float64]
    snappable: NDArray[np.intp]
    tree: shapely.STRtree

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.graph.shape[0])

    @cached_property
    def extent(self) -> shapely.Geometry:
        """The area the network covers: the convex hull of its nodes (EPSG:3006)."""
        return shapely.convex_hull(shapely.multipoints(self.xy)) if len(self.xy) else shapely.Polygon()

    @classmethod
    def from_lines(
        cls,
        lines: NDArray[np.object_],
        speed_kmh: NDArray[np.float64],
        oneway: NDArray[np.int64] | None = None,
    ) -> RoadGraph:
        """Build the graph from road lines (metres), each with a speed and a direction.

        Parameters
        ----------
        lines : array of LineString or MultiLineString
            Roads in a metric CRS (EPSG:3006).
        speed_kmh : array of float
            Speed on each line; lines without a positive speed are left out.
        oneway : array of int, optional
            ``0`` both ways (default), ``1`` only along the line, ``-1`` only against it.

        Returns
        -------
        RoadGraph
        """
        lines = np.asarray(lines, dtype=object)
        speed = np.asarray(speed_kmh, dtype=float)
        way = np.zeros(len(lines), dtype=np.int64) if oneway is None else np.asarray(oneway, dtype=np.int64)
        keep = np.isfinite(speed) & (speed > 0) & ~shapely.is_empty(lines) & ~pd.isna(lines)
        if (~keep).any():
            log.info("road graph: %d line(s) without a usable speed or geometry left out", int((~keep).sum()))
        parts, owner = shapely.get_parts(lines[keep], return_index=True)
        owner = np.flatnonzero(keep)[owner]
        coords, part_of = shapely.get_coordinates(parts, return_index=True)
        if len(coords) == 0:
            return cls._empty()
        keys = _node_keys(coords)
        vid, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        first = np.r_[True, part_of[1:] != part_of[:-1]]
        last = np.r_[part_of[1:] != part_of[:-1], True]
        is_node = first | last | (counts[inverse] >= 2)
        step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
        step[first] = 0.0
        cum = np.cumsum(step)
        at = np.flatnonzero(is_node)
        same = part_of[at[1:]] == part_of[at[:-1]]
        start, end = at[:-1][same], at[1:][same]
        length = cum[end] - cum[start]
        # Compact node ids: only coordinates that are nodes.
        node_keys = np.unique(inverse[at])
        compact = np.full(len(vid), -1, dtype=np.intp)
        compact[node_keys] = np.arange(len(node_keys))
        u, v = compact[inverse[start]], compact[inverse[end]]
        xy = np.empty((len(node_keys), 2))
        xy[compact[inverse[at]]] = coords[at]
        # Each edge's own line: its coordinates from start to end.
        sizes = end - start + 1
        edge_id = np.repeat(np.arange(len(start)), sizes)
        offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        geoms = shapely.linestrings(coords[np.repeat(start, sizes) + offsets], indices=edge_id)
        e_owner = owner[part_of[start]]
        minutes = _minutes(length, speed[e_owner])
        t_fwd = np.where(way[e_owner] >= 0, minutes, np.inf)
        t_back = np.where(way[e_owner] <= 0, minutes, np.inf)
        return cls._assemble(xy, u, v, np.asarray(geoms, dtype=object), t_fwd, t_back)

    @classmethod
    def _assemble(
        cls,
        xy: NDArray[np.float64],
        u: NDArray[np.intp],
        v: NDArray[np.intp],
        geoms: NDArray[np.object_],
        t_fwd: NDArray[np.float64],
        t_back: NDArray[np.float64],
    ) -> RoadGraph:
        n = len(xy)
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u])
        w = np.concatenate([t_fwd, t_back])
        ok = np.isfinite(w) & (rows != cols)
        graph = _csr(rows[ok], cols[ok], w[ok], n)
        _, label = csgraph.connected_components(graph, directed=True, connection="strong")
        main = np.argmax(np.bincount(label)) if n else 0
        snappable = np.flatnonzero((label[u] == main) & (label[v] == main) & (shapely.length(geoms) > 0))
        log.info("road graph: %d nodes, %d edges, %d in the main component", n, len(u), len(snappable))
        return cls(graph, xy, u, v, geoms, t_fwd, t_back, snappable, shapely.STRtree(geoms[snappable]))

    @classmethod
    def _empty(cls) -> RoadGraph:
        e = np.empty(0, dtype=np.intp)
        return cls._assemble(np.empty((0, 2)), e, e, np.empty(0, dtype=object), np.empty(0), np.empty(0))

    # -- snapping ---------------------------------------------------------------------------------
    def snap(
        self,
        geoms: NDArray[np.object_],
        access_speed_kmh: float,
        min_access_min: float = 0.0,
        max_access_m: float | None = None,
    ) -> Snapped:
        """Place geometries on the nearest edge of the main component.

        A geometry farther than ``max_access_m`` from every edge is not placed (edge -1): the
        network does not cover it.

        Parameters
        ----------
        geoms : array of shapely geometries
            Points or polygons in the graph's CRS; a polygon enters the network from its nearest edge.
        access_speed_kmh : float
            Speed over the straight distance from the geometry to the edge.
        min_access_min : float
            The least access time (plots and population: never zero).
        max_access_m : float, optional
            The farthest a geometry may lie from the nearest edge (default: no limit).

        Returns
        -------
        Snapped

        Examples
        --------
        >>> g = RoadGraph.from_lines(np.array([shapely.LineString([(0, 0), (1000, 0)])]), np.array([60.0]))
        >>> s = g.snap(np.array([shapely.Point(250, 500)]), access_speed_kmh=30, min_access_min=1)
        >>> s.edge.tolist(), s.fraction.tolist(), s.access_min.tolist()
        ([0], [0.25], [1.0])
        """
        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        edge = np.full(n, -1, dtype=np.intp)
        frac = np.zeros(n)
        access = np.full(n, np.inf)
        if n == 0 or len(self.snappable) == 0:
            return Snapped(edge, frac, access)
        (gi, ti), dist = self.tree.query_nearest(
            geoms, max_distance=max_access_m, return_distance=True, all_matches=False
        )
        e = self.snappable[ti]
        lines = self.edge_geom[e]
        touch = shapely.get_point(shapely.shortest_line(geoms[gi], lines), 1)
        edge[gi] = e
        frac[gi] = shapely.line_locate_point(lines, touch, normalized=True)
        access[gi] = np.maximum(_minutes(dist, np.float64(access_speed_kmh)), min_access_min)
        return Snapped(edge, frac, access)

    def _exits(self, p: Snapped) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """For each point, the two nodes it can drive to from its place, and the minutes to each."""
        e = p.edge
        nodes = np.stack([self.edge_v[e], self.edge_u[e]], axis=1)
        cost = np.stack([_part(1 - p.fraction, self.t_forward[e]), _part(p.fraction, self.t_backward[e])], axis=1)
        return nodes, cost

    def _entries(self, p: Snapped) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """For each point, the two nodes it can be reached from, and the minutes from each to it."""
        e = p.edge
        nodes = np.stack([self.edge_u[e], self.edge_v[e]], axis=1)
        cost = np.stack([_part(p.fraction, self.t_forward[e]), _part(1 - p.fraction, self.t_backward[e])], axis=1)
        return nodes, cost

    def _along(self, a: Snapped, b: Snapped) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.float64]]:
        """Pairs (i, j) of points of ``a`` and ``b`` on the same edge, and the minutes from a[i] to b[j] along it."""
        left = pd.DataFrame({"e": a.edge, "i": np.arange(len(a))})
        right = pd.DataFrame({"e": b.edge, "j": np.arange(len(b))})
        pairs = left[left.e >= 0].merge(right[right.e >= 0], on="e")
        i, j, e = (pairs[c].to_numpy(dtype=np.intp) for c in ("i", "j", "e"))
        delta = b.fraction[j] - a.fraction[i]
        along = np.where(delta >= 0, _part(delta, self.t_forward[e]), _part(-delta, self.t_backward[e]))
        return i, j, along + a.access_min[i] + b.access_min[j]

    # -- searches ---------------------------------------------------------------------------------
    def time_to_nearest(self, origins: Snapped, targets: Snapped, limit_min: float | None = None) -> NDArray:
        """Minutes from each origin to the nearest target (``inf`` if none within ``limit_min``).

        One multi-source search for all origins: backwards from every target at once.

        Examples
        --------
        >>> g = RoadGraph.from_lines(np.array([shapely.LineString([(0, 0), (3000, 0)])]), np.array([60.0]))
        >>> site = g.snap(np.array([shapely.Point(0, 0)]), 30, min_access_min=1)
        >>> junction = g.snap(np.array([shapely.Point(3000, 0)]), 30)
        >>> g.time_to_nearest(site, junction).tolist()
        [4.0]
        """
        out = np.full(len(origins), np.inf)
        t_ok = targets.edge >= 0
        o_ok = origins.edge >= 0
        if not t_ok.any() or not o_ok.any():
            return out
        n = self.n_nodes
        nodes, cost = self._entries(targets)
        cost = cost + targets.access_min[:, None]
        keep = t_ok[:, None] & np.isfinite(cost)
        # A super-source on the reversed graph: its distance to a node is that node's time to the nearest target.
        rows = np.full(int(keep.sum()), n)
        reverse = _csr(rows, nodes[keep], cost[keep], n + 1, base=self.graph.T)
        limit = np.inf if limit_min is None else limit_min
        dist = csgraph.dijkstra(reverse, directed=True, indices=n, limit=limit)
        exits, ecost = self._exits(origins)
        via = np.min(ecost + dist[np.where(o_ok[:, None], exits, 0)], axis=1) + origins.access_min
        out[o_ok] = via[o_ok]
        i, _j, direct = self._along(origins, targets)
        np.minimum.at(out, i, direct)
        if limit_min is not None:
            out[out > limit_min] = np.inf
        return out

    def reach_sum(
        self, sites: Snapped, sources: Snapped, weights: NDArray[np.float64], limit_min: float, *, to_sites: bool = True
    ) -> NDArray[np.float64]:
        """For each site, the sum of the weights of the sources within ``limit_min`` minutes.

        Parameters
        ----------
        sites : Snapped
            The sites (plots).
        sources : Snapped
            The weighted points (population cells).
        weights : array of float
            Each source's weight (inhabitants).
        limit_min : float
            The time limit.
        to_sites : bool
            Count sources that reach the site in time (commuting to it; default), else sources the
            site reaches.

        Returns
        -------
        numpy.ndarray of float
            NaN for a site that could not be snapped.

        Examples
        --------
        >>> g = RoadGraph.from_lines(np.array([shapely.LineString([(0, 0), (6000, 0)])]), np.array([60.0]))
        >>> site = g.snap(np.array([shapely.Point(0, 0)]), 30, min_access_min=1)
        >>> homes = g.snap(np.array([shapely.Point(2000, 0), shapely.Point(6000, 0)]), 30, min_access_min=1)
        >>> g.reach_sum(site, homes, np.array([10.0, 100.0]), limit_min=5).tolist()
        [10.0]
        """
        n_sites = len(sites)
        out = np.zeros(n_sites)
        s_ok = sites.edge >= 0
        out[~s_ok] = np.nan
        w = np.asarray(weights, dtype=float)
        src_ok = (sources.edge >= 0) & (w > 0)
        if not s_ok.any() or not src_ok.any():
            return out
        graph = self.reversed_graph if to_sites else self.graph
        leave, arrive = (self._entries, self._exits) if to_sites else (self._exits, self._entries)
        s_nodes, s_cost = leave(sites)
        t_nodes, t_cost = arrive(sources)
        src_ids = np.flatnonzero(src_ok)
        t_nodes, t_cost = t_nodes[src_ids], t_cost[src_ids] + sources.access_min[src_ids, None]
        # Sources on a site's own edge may be quicker to reach along it than through a node.
        a, b = (sources, sites) if to_sites else (sites, sources)
        i, j, direct = self._along(a, b)
        pair_site, pair_src = (j, i) if to_sites else (i, j)
        col = np.full(len(sources), -1, dtype=np.intp)
        col[src_ids] = np.arange(len(src_ids))
        pair_col = col[pair_src]
        n = self.n_nodes
        site_ids = np.flatnonzero(s_ok)
        chunk = max(1, ROW_BUDGET_BYTES // (8 * (n + len(src_ids) + 1)))
        graph_limit = max(limit_min - float(np.min(sites.access_min[s_ok])), 0.0)
        for start in range(0, len(site_ids), chunk):
            ids = site_ids[start : start + chunk]
            dist = csgraph.dijkstra(
                _with_sources(graph, s_nodes[ids], s_cost[ids]),
                directed=True,
                indices=np.arange(n, n + len(ids)),
                limit=graph_limit,
            )
            times = np.minimum(dist[:, t_nodes[:, 0]] + t_cost[:, 0], dist[:, t_nodes[:, 1]] + t_cost[:, 1])
            times += sites.access_min[ids][:, None]
            local = np.full(n_sites, -1, dtype=np.intp)
            local[ids] = np.arange(len(ids))
            hit = (local[pair_site] >= 0) & (pair_col >= 0)
            np.minimum.at(times, (local[pair_site[hit]], pair_col[hit]), direct[hit])
            out[ids] = (times <= limit_min) @ w[src_ids]
        return out

    @cached_property
    def reversed_graph(self) -> sparse.csr_matrix:
        """The graph with every edge turned round (searches towards a point)."""
        return self.graph.T.tocsr()


def _with_sources(graph: sparse.csr_matrix, nodes: NDArray[np.intp], cost: NDArray[np.float64]) -> sparse.csr_matrix:
    """``graph`` plus one new node per row of ``nodes``, with edges to those nodes weighing ``cost``.

    The new nodes only have outgoing edges, so paths between the old nodes do not change.
    """
    n = graph.shape[0]
    k = len(nodes)
    cost = np.where(np.isfinite(cost), np.maximum(cost, _MIN_WEIGHT), np.inf)
    cost[:, 1] = np.where(nodes[:, 0] == nodes[:, 1], np.inf, cost[:, 1])
    order = np.argsort(nodes, axis=1)
    nodes = np.take_along_axis(nodes, order, axis=1)
    cost = np.take_along_axis(cost, order, axis=1)
    keep = np.isfinite(cost)
    per_row = keep.sum(axis=1)
    indptr = np.concatenate([graph.indptr, graph.indptr[-1] + np.cumsum(per_row)])
    indices = np.concatenate([graph.indices, nodes[keep]])
    data = np.concatenate([graph.data, cost[keep]])
    return sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def _node_keys(coords: NDArray[np.float64]) -> NDArray[np.int64]:
    """One integer per coordinate, equal for coordinates within :data:`NODE_TOLERANCE_M` on a grid."""
    q = np.round(coords / NODE_TOLERANCE_M).astype(np.int64)
    q -= q.min(axis=0)
    return q[:, 0] * (int(q[:, 1].max()) + 1) + q[:, 1]


def _csr(
    rows: NDArray[np.intp],
    cols: NDArray[np.intp],
    weights: NDArray[np.float64],
    n: int,
    base: sparse.spmatrix | None = None,
) -> sparse.csr_matrix:
    """An n×n graph of the given edges (the quickest of parallel ones), plus ``base``'s edges."""
    w = np.maximum(np.asarray(weights, dtype=float), _MIN_WEIGHT)
    if base is not None:
        b = sparse.coo_matrix(base)
        rows = np.concatenate([b.row, rows])
        cols = np.concatenate([b.col, cols])
        w = np.concatenate([b.data, w])
    order = np.lexsort((w, cols, rows))
    rows, cols, w = rows[order], cols[order], w[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    return sparse.csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))
