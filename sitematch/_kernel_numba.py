"""Numba-compiled loops of :mod:`sitematch.kernel_jit` (imported only through it: importing this compiles).

Every arithmetic step is the NumPy kernel's (:mod:`sitematch.kernel`) in the same order, without
``fastmath``, so both give the same distances.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _pt_seg_sq(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    vx, vy = bx - ax, by - ay
    wx, wy = px - ax, py - ay
    vv = vx * vx + vy * vy
    t = 0.0
    if vv != 0:
        t = (wx * vx + wy * vy) / vv
        if t < 0.0:
            t = 0.0
        elif t > 1.0:
            t = 1.0
    dx, dy = wx - t * vx, wy - t * vy
    return dx * dx + dy * dy


@numba.njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _orient(ax, ay, bx, by, px, py):  # type: ignore[no-untyped-def]
    v = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


@numba.njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _crosses_ray(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    if (ay > py) == (by > py):
        return False
    x = ax + (py - ay) * (bx - ax) / (by - ay)
    return px < x


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _site_point(s, px, py, ax, ay, bx, by, start, area):  # type: ignore[no-untyped-def]
    """Exact distance from site ``s`` to a point (0 inside a polygon site; inf for an empty site)."""
    best = np.inf
    crossings = 0
    for e in range(start[s], start[s + 1]):
        d2 = _pt_seg_sq(px, py, ax[e], ay[e], bx[e], by[e])
        if d2 < best:
            best = d2
        if _crosses_ray(px, py, ax[e], ay[e], bx[e], by[e]):
            crossings += 1
    if area[s] and crossings % 2 == 1:
        best = 0.0
    return math.sqrt(best)


@numba.njit(nogil=True, cache=True, error_model="numpy")
def _site_segment(s, cx, cy, dx, dy, ax, ay, bx, by, start, area):  # type: ignore[no-untyped-def]
    """Exact distance from site ``s`` to the segment c–d (0 where they cross or touch, or inside a polygon)."""
    best = np.inf
    crossings = 0
    for e in range(start[s], start[s + 1]):
        a_x, a_y, b_x, b_y = ax[e], ay[e], bx[e], by[e]
        d2 = _pt_seg_sq(a_x, a_y, cx, cy, dx, dy)
        d2 = min(d2, _pt_seg_sq(b_x, b_y, cx, cy, dx, dy))
        d2 = min(d2, _pt_seg_sq(cx, cy, a_x, a_y, b_x, b_y))
        d2 = min(d2, _pt_seg_sq(dx, dy, a_x, a_y, b_x, b_y))
        if (_orient(a_x, a_y, b_x, b_y, cx, cy) * _orient(a_x, a_y, b_x, b_y, dx, dy) < 0) and (
            _orient(cx, cy, dx, dy, a_x, a_y) * _orient(cx, cy, dx, dy, b_x, b_y) < 0
        ):
            d2 = 0.0
        if d2 < best:
            best = d2
        if _crosses_ray(cx, cy, a_x, a_y, b_x, b_y):
            crossings += 1
    if area[s] and crossings % 2 == 1:
        best = 0.0
    return math.sqrt(best)


@numba.njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _lower(hx, hy, dx, dy):  # type: ignore[no-untyped-def]
    """:meth:`sitematch.kernel.Sites.lower_bound` for one (site, set)."""
    p = math.hypot(dx, dy)
    if p == 0:
        return p
    return p - (hx * abs(dx) + hy * abs(dy)) / p


@numba.njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _box_gap2(cx, cy, lo_x, lo_y, hi_x, hi_y):  # type: ignore[no-untyped-def]
    """Squared distance from (cx, cy) to a box (0 inside)."""
    dx = max(lo_x - cx, 0.0, cx - hi_x)
    dy = max(lo_y - cy, 0.0, cy - hi_y)
    return dx * dx + dy * dy


_STACK = 512


@numba.njit(nogil=True, cache=True, error_model="numpy")
def nearest_tree(  # type: ignore[no-untyped-def]
    rows,
    lo_x,
    lo_y,
    hi_x,
    hi_y,
    first,
    count,
    leaf,
    item,
    pxy,
    sxy,
    probe_segment,
    ends,
    half_m,
    limit_m,
    ax,
    ay,
    bx,
    by,
    start,
    area,
    centre,
    reach,
    half,
):
    """Nearest segment (``ends`` given: ``pxy`` are probes along them) or point ``pxy`` of each site ``rows[i]``.

    One depth-first search of the point tree per site, nearer children first. A node is skipped
    when the gap from the site's centre to its box exceeds the search radius — the least exact
    distance found so far (or ``limit_m``) + ``half_m`` + the site's reach + slack: nothing in it
    can be nearer. A candidate within the radius is skipped when its lower bound
    (:meth:`sitematch.kernel.Sites.lower_bound`) exceeds that distance, else measured exactly.
    Ties go to the lower target. Returns (target, distance); (-1, inf) where nothing is within ``limit_m``.
    """
    m = len(rows)
    lines = ends.shape[0] > 0
    best_j = np.full(m, -1, np.intp)
    best_d = np.full(m, np.inf)
    stack = np.empty(_STACK, np.intp)
    kid_d = np.empty(64)
    kid_n = np.empty(64, np.intp)
    for i in range(m):
        s = rows[i]
        cx, cy = centre[s, 0], centre[s, 1]
        hx, hy, rs = half[s, 0], half[s, 1], reach[s]
        bd, bj = np.inf, -1
        if i > 0 and best_j[i - 1] >= 0:  # the previous site's nearest (close by, in the sites' order): a tight start
            bj = best_j[i - 1]
            if lines:
                bd = _site_segment(s, ends[bj, 0], ends[bj, 1], ends[bj, 2], ends[bj, 3], ax, ay, bx, by, start, area)
            else:
                bd = _site_point(s, pxy[bj, 0], pxy[bj, 1], ax, ay, bx, by, start, area)
        stack[0] = 0
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            upper = min(bd, limit_m)
            slack = 1e-9 * (1 + upper) + 1e-6
            need = upper + half_m + rs + slack
            need2 = need * need
            if _box_gap2(cx, cy, lo_x[node], lo_y[node], hi_x[node], hi_y[node]) > need2:
                continue
            f, c = first[node], count[node]
            if not leaf[node]:
                for q in range(c):  # children by gap, the nearest pushed last (visited first)
                    g = _box_gap2(cx, cy, lo_x[f + q], lo_y[f + q], hi_x[f + q], hi_y[f + q])
                    w = q
                    while w > 0 and kid_d[w - 1] < g:
                        kid_d[w], kid_n[w] = kid_d[w - 1], kid_n[w - 1]
                        w -= 1
                    kid_d[w], kid_n[w] = g, f + q
                for q in range(c):
                    if kid_d[q] <= need2:
                        stack[top] = kid_n[q]
                        top += 1
                continue
            for q in range(f, f + c):
                p = item[q]
                px, py = sxy[q, 0], sxy[q, 1]  # the points in the tree's order: read in sequence
                upper = min(bd, limit_m)
                slack = 1e-9 * (1 + upper) + 1e-6
                need = upper + half_m + rs + slack
                if (px - cx) * (px - cx) + (py - cy) * (py - cy) > need * need:
                    continue
                if lines:
                    t_ = probe_segment[p]
                    if t_ == bj:
                        continue
                    x0, y0, x1, y1 = ends[t_, 0], ends[t_, 1], ends[t_, 2], ends[t_, 3]
                    vx, vy = x1 - x0, y1 - y0
                    wx, wy = cx - x0, cy - y0
                    vv = vx * vx + vy * vy
                    t = 0.0
                    if vv != 0:
                        t = (wx * vx + wy * vy) / vv
                        t = 0.0 if t < 0.0 else (1.0 if t > 1.0 else t)
                    if _lower(hx, hy, t * vx - wx, t * vy - wy) > upper + slack:
                        continue
                    d = _site_segment(s, x0, y0, x1, y1, ax, ay, bx, by, start, area)
                else:
                    t_ = p
                    if t_ == bj or _lower(hx, hy, px - cx, py - cy) > upper + slack:
                        continue
                    d = _site_point(s, px, py, ax, ay, bx, by, start, area)
                if d < bd or (d == bd and t_ < bj):
                    bd, bj = d, t_
        if bd <= limit_m:
            best_d[i], best_j[i] = bd, bj
    return best_j, best_d


@numba.njit(nogil=True, cache=True, error_model="numpy")
def aggregate_tree(  # type: ignore[no-untyped-def]
    rows,
    lo_x,
    lo_y,
    hi_x,
    hi_y,
    first,
    count,
    leaf,
    item,
    xy,
    values,
    distance_m,
    use_max,
    ax,
    ay,
    bx,
    by,
    start,
    area,
    centre,
    reach,
    half,
):
    """Sum (or max) of ``values`` over the points ``xy`` within ``distance_m`` of each site ``rows[i]`` (0 for none).

    ``xy`` and ``values`` are in the tree's order (``xy[q]`` is the point ``item[q]``).

    Candidates are the points within ``distance_m`` + reach + slack of the site's centre (nodes
    whose box is further are skipped). A point within ``distance_m`` of a centre that lies in its
    site is in; one whose lower bound is beyond is out; the exact distance decides the rest.
    """
    m = len(rows)
    out = np.zeros(m)
    stack = np.empty(_STACK, np.intp)
    for i in range(m):
        s = rows[i]
        cx, cy = centre[s, 0], centre[s, 1]
        hx, hy = half[s, 0], half[s, 1]
        need = distance_m + reach[s] + 1e-9 * (1 + distance_m) + 1e-6
        need2 = need * need
        centred = _site_point(s, cx, cy, ax, ay, bx, by, start, area) == 0
        acc = 0.0
        stack[0] = 0
        top = 1
        while top > 0:
            top -= 1
            node = stack[top]
            if _box_gap2(cx, cy, lo_x[node], lo_y[node], hi_x[node], hi_y[node]) > need2:
                continue
            f, c = first[node], count[node]
            if not leaf[node]:
                for q in range(f, f + c):
                    stack[top] = q
                    top += 1
                continue
            for q in range(f, f + c):
                dx, dy = xy[q, 0] - cx, xy[q, 1] - cy
                if dx * dx + dy * dy > need2:
                    continue
                if centred and math.hypot(dx, dy) <= distance_m:
                    hit = True
                elif _lower(hx, hy, dx, dy) <= distance_m + 1e-6:
                    hit = _site_point(s, xy[q, 0], xy[q, 1], ax, ay, bx, by, start, area) <= distance_m
                else:
                    hit = False
                if hit:
                    if use_max:
                        acc = max(acc, values[q])
                    else:
                        acc += values[q]
        out[i] = acc
    return out


def warm_up() -> None:
    """Compile (or load from the cache) every function for the argument types the index passes."""
    ax, ay = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])  # the unit square's edges
    bx, by = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0])
    edges = (ax, ay, bx, by, np.array([0, 4], np.intp), np.array([True]))
    rest = (np.array([[0.5, 0.5]]), np.array([0.8]), np.array([[0.5, 0.5]]))
    rows = np.zeros(1, np.intp)
    xy, seg, ends = np.array([[3.0, 0.5]]), np.zeros(1, np.intp), np.array([[3.0, 0.0, 3.0, 1.0]])
    box = (xy[:, 0].copy(), xy[:, 1].copy(), xy[:, 0].copy(), xy[:, 1].copy())
    tree = (*box, np.zeros(1, np.intp), np.ones(1, np.intp), np.array([True]), np.zeros(1, np.intp))
    for e in (ends, np.empty((0, 4))):
        nearest_tree(rows, *tree, xy, xy, seg, e, 0.5, np.inf, *edges, *rest)
    aggregate_tree(rows, *tree, xy, np.ones(1), 5.0, False, *edges, *rest)
