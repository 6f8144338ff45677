"""Numba-compiled loops of :mod:`sitematch.kernel_jit` (imported only through it: importing this compiles).

Every arithmetic step is the NumPy kernel's (:mod:`sitematch.kernel`) in the same order, without
``fastmath``, so both give the same distances.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_opts = {"nogil": True, "cache": True, "error_model": "numpy"}


@numba.njit(inline="always", **_opts)
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


@numba.njit(inline="always", **_opts)
def _orient(ax, ay, bx, by, px, py):  # type: ignore[no-untyped-def]
    v = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


@numba.njit(inline="always", **_opts)
def _crosses_ray(px, py, ax, ay, bx, by):  # type: ignore[no-untyped-def]
    if (ay > py) == (by > py):
        return False
    x = ax + (py - ay) * (bx - ax) / (by - ay)
    return px < x


@numba.njit(**_opts)
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


@numba.njit(**_opts)
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


@numba.njit(inline="always", **_opts)
def _lower(hx, hy, dx, dy):  # type: ignore[no-untyped-def]
    """:meth:`sitematch.kernel.Sites.lower_bound` for one (site, set)."""
    p = math.hypot(dx, dy)
    if p == 0:
        return p
    return p - (hx * abs(dx) + hy * abs(dy)) / p


@numba.njit(**_opts)
def upper_segments(rows, bstart, p0, probe_segment, ends, ax, ay, bx, by, start, area):  # type: ignore[no-untyped-def]
    """Distance of each site to the segment of its block's nearest probe (an upper bound), and that segment."""
    m = len(rows)
    u = np.empty(m)
    seg0 = np.empty(m, np.intp)
    for b in range(len(bstart) - 1):
        seg = probe_segment[p0[b]]
        for i in range(bstart[b], bstart[b + 1]):
            seg0[i] = seg
            u[i] = _site_segment(rows[i], ends[seg, 0], ends[seg, 1], ends[seg, 2], ends[seg, 3], ax, ay, bx, by, start, area)
    return u, seg0


@numba.njit(**_opts)
def upper_points(rows, bstart, p0, xy, ax, ay, bx, by, start, area):  # type: ignore[no-untyped-def]
    """Distance of each site to its block's nearest point (an upper bound), and that point."""
    m = len(rows)
    u = np.empty(m)
    pt0 = np.empty(m, np.intp)
    for b in range(len(bstart) - 1):
        p = p0[b]
        for i in range(bstart[b], bstart[b + 1]):
            pt0[i] = p
            u[i] = _site_point(rows[i], xy[p, 0], xy[p, 1], ax, ay, bx, by, start, area)
    return u, pt0


@numba.njit(**_opts)
def nearest_blocks(  # type: ignore[no-untyped-def]
    rows, bstart, blocks, bc, dk, jk, radius, best_d, best_j, probe_xy, probe_segment, ends, half_m, limit_m,
    ax, ay, bx, by, start, area, centre, reach, half,
):
    """Nearest segment (``ends`` given) or point of every site of ``blocks``, over its block's candidates.

    ``jk[r]`` are the KD points nearest block ``blocks[r]``'s centre ``bc[r]``, ascending (``dk``);
    a site takes those within its own search radius (upper bound + ``half_m`` + reach + slack of
    its centre), skips those its lower bound rules out and measures the rest. ``best_d``/``best_j``
    hold each site's upper bound and its target on entry, the nearest on return (ties to the
    lower target). Returns, per block, whether its ``k``-th point is still within ``radius``
    (ask again with a larger ``k``).
    """
    k = jk.shape[1]
    n = len(probe_xy)
    lines = ends.shape[0] > 0
    over = np.zeros(len(blocks), np.bool_)
    for r in range(len(blocks)):
        b = blocks[r]
        over[r] = k < n and dk[r, k - 1] <= radius[r]
        if over[r]:
            continue
        for i in range(bstart[b], bstart[b + 1]):
            s = rows[i]
            cx, cy = centre[s, 0], centre[s, 1]
            off = math.hypot(cx - bc[r, 0], cy - bc[r, 1])
            hx, hy = half[s, 0], half[s, 1]
            bd, bj = best_d[i], best_j[i]
            for j in range(k):
                p = jk[r, j]
                if p >= n:
                    break
                upper = min(bd, limit_m)
                slack = 1e-9 * (1 + upper) + 1e-6
                need = upper + half_m + reach[s] + slack
                if dk[r, j] - off > need * (1 + 1e-12) + 1e-9:
                    break
                px, py = probe_xy[p, 0], probe_xy[p, 1]
                if math.hypot(px - cx, py - cy) > need:
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
                    if t_ == bj:
                        continue
                    if _lower(hx, hy, px - cx, py - cy) > upper + slack:
                        continue
                    d = _site_point(s, px, py, ax, ay, bx, by, start, area)
                if d < bd or (d == bd and t_ < bj):
                    bd, bj = d, t_
            best_d[i], best_j[i] = bd, bj
    return over


@numba.njit(**_opts)
def aggregate_blocks(  # type: ignore[no-untyped-def]
    rows, bstart, blocks, bc, dk, jk, radius, out, xy, values, distance_m, use_max,
    ax, ay, bx, by, start, area, centre, reach, half,
):
    """Sum (or max) of ``values`` over the points within ``distance_m`` of every site of ``blocks`` (into ``out``).

    Candidates of a site are its block's KD points within ``distance_m`` + reach + slack of the
    site's centre (as a KD ball query from the centre would give). A point within ``distance_m``
    of a centre that lies in its site is in; one whose lower bound is beyond is out; the exact
    distance decides the rest. Returns the blocks to ask again with a larger ``k``.
    """
    k = jk.shape[1]
    n = len(xy)
    over = np.zeros(len(blocks), np.bool_)
    for r in range(len(blocks)):
        b = blocks[r]
        over[r] = k < n and dk[r, k - 1] <= radius[r]
        if over[r]:
            continue
        for i in range(bstart[b], bstart[b + 1]):
            s = rows[i]
            cx, cy = centre[s, 0], centre[s, 1]
            off = math.hypot(cx - bc[r, 0], cy - bc[r, 1])
            need = distance_m + reach[s] + 1e-9 * (1 + distance_m) + 1e-6
            centred = _site_point(s, cx, cy, ax, ay, bx, by, start, area) == 0
            hx, hy = half[s, 0], half[s, 1]
            acc = 0.0
            for j in range(k):
                p = jk[r, j]
                if p >= n or dk[r, j] - off > need * (1 + 1e-12) + 1e-9:
                    break
                dx, dy = xy[p, 0] - cx, xy[p, 1] - cy
                if math.hypot(dx, dy) > need:
                    continue
                if centred and math.hypot(dx, dy) <= distance_m:
                    hit = True
                elif _lower(hx, hy, dx, dy) <= distance_m + 1e-6:
                    hit = _site_point(s, xy[p, 0], xy[p, 1], ax, ay, bx, by, start, area) <= distance_m
                else:
                    hit = False
                if hit:
                    if use_max:
                        acc = max(acc, values[p])
                    else:
                        acc += values[p]
            out[i] = acc
    return over


def warm_up() -> None:
    """Compile (or load from the cache) every function for the argument types the index passes."""
    ax, ay = np.array([0.0, 1.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0, 1.0])  # the unit square's edges
    bx, by = np.array([1.0, 1.0, 0.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0])
    edges = (ax, ay, bx, by, np.array([0, 4], np.intp), np.array([True]))
    rest = (np.array([[0.5, 0.5]]), np.array([0.8]), np.array([[0.5, 0.5]]))
    rows, bstart, blocks = np.zeros(1, np.intp), np.array([0, 1], np.intp), np.zeros(1, np.intp)
    dk, jk, radius = np.zeros((1, 1)), np.zeros((1, 1), np.intp), np.array([10.0])
    xy, seg, ends = np.array([[3.0, 0.5]]), np.zeros(1, np.intp), np.array([[3.0, 0.0, 3.0, 1.0]])
    u, j = upper_segments(rows, bstart, jk[:, 0].copy(), seg, ends, *edges)
    upper_points(rows, bstart, jk[:, 0].copy(), xy, *edges)
    for e in (ends, np.empty((0, 4))):
        nearest_blocks(rows, bstart, blocks, xy, dk, jk, radius, u, j, xy, seg, e, 0.5, np.inf, *edges, *rest)
    aggregate_blocks(rows, bstart, blocks, xy, dk, jk, radius, np.zeros(1), xy, np.ones(1), 5.0, False, *edges, *rest)
