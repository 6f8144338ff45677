"""Screening: cheap, guaranteed lower and upper bounds on a criterion for every site.

Staged evaluation (:mod:`sitematch.evaluate`) asks a criterion's measure for a *screen* before it
measures anything exactly. A screen is a raster built once per layer set (and cached, optionally
on disk) that bounds the exact value of every site from a handful of array look-ups:

:class:`DistanceSurface`
    for ``nearest`` on point and line layers: the Euclidean distance transform of the cells the
    features touch. A site's exact distance lies in ``[lo, hi]``, where the slack is the cell's
    half-diagonal (twice), the sampling step along lines, and the site's own extent.
:class:`AggregateSurface`
    for ``aggregate`` over point layers: the sum or max over the features *surely* within the
    radius (an inner disc) and over those *possibly* within it (an outer disc).

The bounds are proofs, not estimates: every exact value lies within them (tests check this on
national synthetic data). Where bounds decide a question — a requirement passes or misses by more
than the tolerance, a preference scores nothing or everything, a site cannot reach the exact
top of the ranking — the exact value is never computed; everywhere else it is, with the upper
bound as the search limit. An aggregate whose bounds meet (the same features are surely and
possibly within the radius) is exact.

Sites are described only by their bounding boxes (:class:`SiteBoxes`): a site lies within its
box, and the box's centre lies within half the box's diagonal of every point of the site.

Settings: :data:`sitematch.settings.screen_cell_m` (cell size), ``screen_radius_cap_m`` (sites
larger than this get no aggregate bounds), ``screen_cache_dir`` (where rasters are kept between
processes; none by default).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray

from sitematch import settings

log = logging.getLogger(__name__)

#: Bump when the rasters' meaning changes: cached files of older versions are not read.
FORMAT_VERSION = 1
#: Added to every slack: float32 storage and floating-point rounding, generously.
ROUNDING_M = 0.5


@dataclass(frozen=True)
class Grid:
    """A raster grid in the working CRS: origin at the lower-left corner, square cells.

    Examples
    --------
    >>> g = Grid.covering((0.0, 0.0, 1000.0, 500.0), 250.0)
    >>> g.x0, g.y0, g.nx, g.ny  # a cell to spare on every side
    (-250.0, -250.0, 6, 4)
    >>> g.locate(np.array([10.0, 990.0, -5.0, -600.0]), np.array([10.0, 260.0, 0.0, 0.0])).tolist()
    [7, 16, 6, -1]
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell: float) -> Grid:
        """The grid of ``cell``-metre cells covering ``bounds`` with at least one cell to spare around it."""
        xmin, ymin, xmax, ymax = bounds
        x0 = math.floor(xmin / cell) * cell - cell
        y0 = math.floor(ymin / cell) * cell - cell
        nx = math.ceil((xmax - x0) / cell) + 1
        ny = math.ceil((ymax - y0) / cell) + 1
        return cls(float(x0), float(y0), float(cell), nx, ny)

    @property
    def key(self) -> tuple[float, float, float, int, int]:
        return (self.x0, self.y0, self.cell, self.nx, self.ny)

    def locate(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.int64]:
        """Flat cell index (row-major, rows along y) of each point; -1 outside the grid."""
        i = np.floor((np.asarray(x, dtype=float) - self.x0) / self.cell)
        j = np.floor((np.asarray(y, dtype=float) - self.y0) / self.cell)
        inside = (i >= 0) & (i < self.nx) & (j >= 0) & (j < self.ny)
        return np.where(inside, j * self.nx + i, -1).astype(np.int64)

    def centres(self, axis: str) -> NDArray[np.float64]:
        """Cell-centre coordinates along ``"x"`` or ``"y"``."""
        n, origin = (self.nx, self.x0) if axis == "x" else (self.ny, self.y0)
        return origin + (np.arange(n, dtype=np.float64) + 0.5) * self.cell


@dataclass
class SiteBoxes:
    """Sites as their bounding boxes: the centre, and the half-diagonal every point of a site is within.

    Look-ups into a raster are made in cell order (the sort is cached per grid), so that reading
    a million cells touches memory in sequence instead of at random.

    Examples
    --------
    >>> b = SiteBoxes.of(np.array([shapely.box(0, 0, 30, 40)]))
    >>> b.x.tolist(), b.y.tolist(), b.r.tolist()
    ([15.0], [20.0], [25.0])
    """

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    r: NDArray[np.float64]
    _cells: dict[tuple[object, ...], tuple[NDArray[np.int64], NDArray[np.intp]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(cls, geoms: NDArray[np.object_]) -> SiteBoxes:
        """The boxes of an array of geometries (empty geometries get NaN: no bounds)."""
        b = shapely.bounds(np.asarray(geoms, dtype=object))
        return cls((b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, np.hypot(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / 2)

    def __len__(self) -> int:
        return len(self.x)

    def take(self, rows: NDArray[np.intp]) -> SiteBoxes:
        """The boxes of some sites."""
        return SiteBoxes(self.x[rows], self.y[rows], self.r[rows])

    def cells(self, grid: Grid) -> NDArray[np.int64]:
        """Flat cell index of each box's centre (-1 outside the grid)."""
        return self._located(grid)[0]

    def lookup(self, grid: Grid, raster: NDArray[np.generic]) -> NDArray[np.float64]:
        """Each centre's cell value in a raster on ``grid`` (NaN outside it)."""
        k, order = self._located(grid)
        out = np.empty(len(k))
        ks = k[order]
        out[order] = raster[np.maximum(ks, 0)]
        out[k < 0] = np.nan
        return out

    def _located(self, grid: Grid) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
        if grid.key not in self._cells:
            k = grid.locate(self.x, self.y)
            self._cells[grid.key] = (k, np.argsort(k, kind="stable"))
        return self._cells[grid.key]


@dataclass(frozen=True)
class Bounds:
    """Per-site bounds on a criterion's exact value: ``lo <= value <= hi``.

    ``exact`` marks sites whose value the bounds determine exactly (``lo == hi``, and the screen
    can prove the value is bit-for-bit what the measure computes).
    """

    lo: NDArray[np.float64]
    hi: NDArray[np.float64]
    exact: NDArray[np.bool_]


@dataclass(frozen=True)
class DistanceSurface:
    """Bounds on the distance from a site to the nearest feature of a point or line layer.

    ``values`` holds, per cell, the distance from the cell's centre to the nearest *marked* cell's
    centre (a cell is marked when a feature — a point, or a sample along a line at most ``step``
    apart — falls in it). With ``h`` the cell's half-diagonal, the exact distance ``D`` from a
    cell's centre obeys ``E - h - step/2 <= D <= E + h``; from a site within ``r`` of its box's
    centre, ``D(centre) - r <= D(site) <= D(centre) + r``.

    Examples
    --------
    >>> s = DistanceSurface.build(np.array([shapely.LineString([(0, 0), (10_000, 0)])]), (0, -5000, 10_000, 5000), 250)
    >>> b = s.bounds(SiteBoxes.of(np.array([shapely.box(4000, 2000, 4100, 2100)])))
    >>> bool(b.lo[0] <= 2000 <= b.hi[0]), bool(b.hi[0] - b.lo[0] < 1000)
    (True, True)
    """

    grid: Grid
    values: NDArray[np.float32]
    step: float
    extent: tuple[float, float, float, float]  # the features' bounding box

    @classmethod
    def build(
        cls, geoms: NDArray[np.object_], extent: tuple[float, float, float, float], cell: float
    ) -> DistanceSurface | None:
        """The surface of some point or line features over ``extent`` (None: nothing to screen with)."""
        from scipy import ndimage

        geoms = np.asarray(geoms, dtype=object)
        if not len(geoms) or not _points_or_lines(geoms):
            return None
        step = cell / 2
        xy = _samples(geoms, step)
        if not len(xy):
            return None
        fb = (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))
        grid = Grid.covering(_union(extent, fb), cell)
        free = np.ones(grid.ny * grid.nx, dtype=bool)
        free[grid.locate(xy[:, 0], xy[:, 1])] = False
        edt = ndimage.distance_transform_edt(free.reshape(grid.ny, grid.nx), sampling=cell)
        return cls(grid, edt.astype(np.float32).ravel(), step, fb)

    def bounds(self, boxes: SiteBoxes) -> Bounds:
        """Lower and upper bounds on each site's distance (never exact: distances are always measured)."""
        half = self.grid.cell * math.sqrt(2) / 2
        e = boxes.lookup(self.grid, self.values)
        lo = e - (2 * half + self.step / 2 + ROUNDING_M)
        hi = e + (2 * half + ROUNDING_M)
        outside = np.isnan(e)
        if outside.any():  # no closer than the features' bounding box, no farther than its far corner
            xmin, ymin, xmax, ymax = self.extent
            x, y = boxes.x[outside], boxes.y[outside]
            lo[outside] = np.hypot(
                np.maximum(np.maximum(xmin - x, x - xmax), 0), np.maximum(np.maximum(ymin - y, y - ymax), 0)
            )
            hi[outside] = np.hypot(
                np.maximum(np.abs(x - xmin), np.abs(x - xmax)), np.maximum(np.abs(y - ymin), np.abs(y - ymax))
            )
        lo = np.maximum(lo - boxes.r, 0.0)
        hi = hi + boxes.r
        bad = np.isnan(boxes.x)
        lo[bad], hi[bad] = 0.0, np.inf
        return Bounds(lo, hi, np.zeros(len(boxes), dtype=bool))


@dataclass(frozen=True)
class AggregateSurface:
    """Bounds on the max / sum of a point layer's values within a radius of a site.

    ``inner`` aggregates, per cell, the features within ``radius - half-diagonal - r_cap`` of the
    cell's centre (surely within the radius of any site no larger than ``r_cap`` centred in the
    cell); ``outer`` those within ``radius + half-diagonal + r_cap`` (every feature possibly
    within the radius). Values are non-negative. Sites larger than ``r_cap``, or outside the
    grid, get ``[0, all]``.

    Examples
    --------
    >>> pts = np.array([shapely.Point(0, 0), shapely.Point(20_000, 0)])
    >>> s = AggregateSurface.build(pts, np.array([5.0, 7.0]), "sum", 10_000, (-1000, -1000, 21_000, 1000), 250, 500)
    >>> b = s.bounds(SiteBoxes.of(np.array([shapely.box(0, 0, 100, 100)])))
    >>> b.lo.tolist(), b.hi.tolist(), b.exact.tolist()
    ([5.0], [5.0], [True])
    """

    grid: Grid
    inner: NDArray[np.float64]
    outer: NDArray[np.float64]
    how: str
    r_cap: float
    everything: float  # the aggregate over every feature: the upper bound where nothing better is known
    slack: float  # rounding allowance of the sums (0 where they are exact: integer values)

    @classmethod
    def build(
        cls,
        points: NDArray[np.object_],
        values: NDArray[np.float64],
        how: str,
        radius: float,
        extent: tuple[float, float, float, float],
        cell: float,
        r_cap: float,
    ) -> AggregateSurface | None:
        """The surface for ``how`` (``"sum"`` or ``"max"``) of ``values`` at ``points`` (None: cannot screen)."""
        points = np.asarray(points, dtype=object)
        values = np.asarray(values, dtype=float)
        if how not in ("sum", "max") or (len(points) and not (shapely.get_type_id(points) == 0).all()):
            return None
        if len(values) and (values.min() < 0 or not np.isfinite(values).all()):
            return None
        xy = shapely.get_coordinates(points)
        grid = Grid.covering(extent, cell)
        half = cell * math.sqrt(2) / 2
        integral = bool(np.all(values == np.round(values))) and float(values.sum()) < 2**52
        everything = float(values.sum() if how == "sum" else (values.max() if len(values) else 0.0))
        slack = 0.0 if (integral or how == "max") else 1e-9 * max(everything, 1.0)
        rasters = [
            _disc_aggregate(grid, xy, values, how, rho)
            for rho in (radius - half - r_cap - 0.01, radius + half + r_cap + 0.01)
        ]
        return cls(grid, rasters[0], rasters[1], how, r_cap, everything, slack)

    def bounds(self, boxes: SiteBoxes) -> Bounds:
        """Bounds per site; exact where the surely-within and possibly-within aggregates agree."""
        lo = boxes.lookup(self.grid, self.inner)
        hi = boxes.lookup(self.grid, self.outer)
        unknown = np.isnan(lo) | ~(boxes.r <= self.r_cap)
        lo[unknown], hi[unknown] = 0.0, self.everything
        exact = ~unknown & (lo == hi) & (self.slack == 0)
        return Bounds(np.maximum(lo - self.slack, 0.0), hi + self.slack, exact)


def _points_or_lines(geoms: NDArray[np.object_]) -> bool:
    kinds = shapely.get_type_id(geoms)
    return bool(np.isin(kinds, (0, 1, 2, 4, 5)).all())  # (multi)points, (multi)lines, rings


def _union(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float, float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _samples(geoms: NDArray[np.object_], step: float) -> NDArray[np.float64]:
    """Points on the features, at most ``step`` apart along every line (points as they are)."""
    parts = shapely.get_parts(geoms)
    kinds = shapely.get_type_id(parts)
    out = [shapely.get_coordinates(parts[kinds == 0])]
    lines = parts[kinds != 0]
    if len(lines):
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        same = owner[1:] == owner[:-1]
        a, b = coords[:-1][same], coords[1:][same]
        n = np.maximum(np.ceil(np.hypot(*(b - a).T) / step).astype(np.int64), 1) + 1
        seg = np.repeat(np.arange(len(a)), n)
        first = np.cumsum(n) - n
        t = (np.arange(int(n.sum())) - first[seg]) / (n[seg] - 1)
        out.append(a[seg] + (b[seg] - a[seg]) * t[:, None])
    return np.concatenate(out) if out else np.empty((0, 2))


def _disc_aggregate(
    grid: Grid, xy: NDArray[np.float64], values: NDArray[np.float64], how: str, rho: float
) -> NDArray[np.float64]:
    """Per cell, the sum or max of ``values`` over the points within ``rho`` of the cell's centre."""
    out = np.zeros((grid.ny, grid.nx + 1))
    if rho < 0 or not len(xy):
        return np.ascontiguousarray(out[:, :-1]).ravel()
    ys = grid.centres("y")
    j0 = np.clip(np.ceil((xy[:, 1] - rho - grid.y0) / grid.cell - 0.5), 0, grid.ny).astype(np.int64)
    j1 = np.clip(np.floor((xy[:, 1] + rho - grid.y0) / grid.cell - 0.5), -1, grid.ny - 1).astype(np.int64)
    rows_per = np.maximum(j1 - j0 + 1, 0)
    who = np.repeat(np.arange(len(xy)), rows_per)
    j = (np.arange(int(rows_per.sum())) - np.repeat(np.cumsum(rows_per) - rows_per, rows_per)) + j0[who]
    dy = ys[j] - xy[who, 1]
    w = np.sqrt(np.maximum(rho * rho - dy * dy, 0.0))
    i0 = np.clip(np.ceil((xy[who, 0] - w - grid.x0) / grid.cell - 0.5), 0, grid.nx).astype(np.int64)
    i1 = np.clip(np.floor((xy[who, 0] + w - grid.x0) / grid.cell - 0.5), -1, grid.nx - 1).astype(np.int64)
    keep = i1 >= i0
    who, j, i0, i1 = who[keep], j[keep], i0[keep], i1[keep]
    if how == "sum":
        np.add.at(out, (j, i0), values[who])
        np.add.at(out, (j, i1 + 1), -values[who])
        out = np.cumsum(out, axis=1)
    else:  # max: paint each row's run of cells, largest values last
        order = np.argsort(values[who], kind="stable")
        flat = out.ravel()
        for w_, jj, a, b in zip(values[who][order], j[order], i0[order], i1[order], strict=True):
            base = jj * (grid.nx + 1)
            flat[base + a : base + b + 1] = w_
    return np.ascontiguousarray(out[:, :-1]).ravel()


#: What a measure's screen is.
Screen = DistanceSurface | AggregateSurface
Surface = Screen

# -- caching ------------------------------------------------------------------------------------


def digest(*parts: object) -> str:
    """A short content hash of arrays and plain values (the key of a cached raster)."""
    h = hashlib.sha256(f"sitematch-screen-v{FORMAT_VERSION}".encode())
    for p in parts:
        if isinstance(p, np.ndarray):
            h.update(str(p.dtype).encode() + str(p.shape).encode())
            h.update(np.ascontiguousarray(p).tobytes())
        else:
            h.update(repr(p).encode())
    return h.hexdigest()[:24]


def cached_surface(key: str, kind: type[Surface], build: Callable[[], Surface | None]) -> Surface | None:
    """``build()``, or the surface kept under ``key`` in :data:`sitematch.settings.screen_cache_dir`.

    A cached surface is a folder of ``.npy`` rasters and a ``meta.json``; the rasters are
    memory-mapped when read, so processes on one machine (Dask workers) share them through the
    page cache. Without a cache folder (the default) surfaces live in memory only, cached per
    :class:`~sitematch.layers.LayerSet`.
    """
    folder = settings.screen_cache_dir
    if not folder:
        return build()
    base = Path(folder) / key
    if (base / "meta.json").is_file():
        try:
            return _load(base, kind)
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("screen cache %s unreadable; rebuilding", base)
    surface = build()
    _store(base, surface)
    return surface


def _store(base: Path, surface: Surface | None) -> None:
    base.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=base.parent, prefix=f".{base.name}."))
    meta: dict[str, object] = {"none": surface is None}
    if surface is not None:
        for f in dataclasses.fields(surface):
            value = getattr(surface, f.name)
            if isinstance(value, np.ndarray):
                np.save(tmp / f"{f.name}.npy", value)
            elif isinstance(value, Grid):
                meta[f.name] = {"grid": list(value.key)}
            else:
                meta[f.name] = value
    (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    try:
        os.replace(tmp, base)
    except OSError:  # another process stored it first
        shutil.rmtree(tmp, ignore_errors=True)


def _load(base: Path, kind: type[Surface]) -> Surface | None:
    meta = json.loads((base / "meta.json").read_text(encoding="utf-8"))
    if meta["none"]:
        return None
    values: dict[str, object] = {}
    for f in dataclasses.fields(kind):
        if f.name in meta:
            v = meta[f.name]
            values[f.name] = Grid(*v["grid"]) if isinstance(v, dict) else (tuple(v) if isinstance(v, list) else v)
        else:
            values[f.name] = np.load(base / f"{f.name}.npy", mmap_mode="r")
    return kind(**values)  # type: ignore[arg-type]
