"""The exact kernel compiled with Numba: nearest and within-radius, one tree search per site.

:mod:`sitematch.kernel` measures (site, candidate) *pairs* in NumPy: every pair is expanded to
the site's edges, some twenty temporary arrays of that length are made, and the pairs are
reduced again. Here the layer's points (or the probes along its lines) sit in a packed box tree
(:class:`PointTree`), and one compiled loop per site searches it depth-first, nearer boxes
first, starting from the previous site's answer: boxes further than the best exact distance so
far (+ the site's reach) are skipped, candidates whose lower bound exceeds it are skipped, the
rest are measured against the site's edges — no pair arrays and no temporaries. The geometry is
the NumPy kernel's, operation for operation (the same values; property tests against GEOS in
``tests/test_kernel_jit.py``).

Why Numba: a compiled loop without a compiler on the machine (wheels for CPython 3.11 on
Linux, macOS and Windows, with LLVM inside), maintained by Anaconda and the NumFOCUS community
for a decade, releases following NumPy's. It is imported only when a large query runs (not by
``import sitematch``); compiled code is cached on disk (``cache=True``; where the installed
package is read-only, in ``$NUMBA_CACHE_DIR`` or the user's cache folder), so only the first
run on a machine pays the compile (:func:`warm_up` does it ahead; the bench reports it).

Threads: the loops release the GIL (``nogil``); :func:`sitematch.index._map_chunks` runs two
chunks of sites at once on two cores, as for the NumPy kernel.

``SITEMATCH_KERNEL=numpy`` (or Numba missing) keeps the NumPy kernel; :func:`which` says which runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

_jit: Any = None  # the compiled functions (a module-like namespace) once loaded; False when unavailable


def _cache_dir_fallback(here: Path | None = None, writable: Callable[[Path], bool] | None = None) -> None:
    """Point Numba's cache at the user's cache folder when this package's folder (``here``) is read-only."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = here or Path(__file__).resolve().parent
    pycache = here / "__pycache__"
    if (writable or (lambda p: os.access(p, os.W_OK)))(pycache if pycache.exists() else here):
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    os.environ["NUMBA_CACHE_DIR"] = str(base / "sitematch" / "numba")


def which() -> str:
    """``"numba"`` when the compiled kernel runs, else ``"numpy"`` (``SITEMATCH_KERNEL=numpy`` or no Numba)."""
    return "numba" if _load() is not None else "numpy"


def _load() -> Any:
    global _jit
    if os.environ.get("SITEMATCH_KERNEL", "").lower() == "numpy":
        return None
    if _jit is None:
        try:
            _cache_dir_fallback()
            from sitematch import _kernel_numba

            _jit = _kernel_numba
        except ImportError:
            _jit = False
    return _jit or None


def available() -> bool:
    """Whether the compiled kernel will run (Numba importable and not switched off)."""
    return _load() is not None


def warm_up() -> float:
    """Compile (or load from the disk cache) every compiled function; the seconds it took."""
    import time

    t = time.perf_counter()
    jit = _load()
    if jit is not None:
        jit.warm_up()
    return time.perf_counter() - t


#: Points per leaf of a :class:`PointTree`, and children per inner node.
LEAF, FANOUT = 8, 8


@dataclass
class PointTree:
    """A bounding-box tree over points, packed in a space-filling (Morton) order, as flat arrays.

    Nodes are numbered from the root (0) level by level. Node ``i`` has the box
    ``lo_x, lo_y, hi_x, hi_y``; an inner node's children are nodes ``first[i] : first[i] + count[i]``,
    a leaf's points are ``item[first[i] : first[i] + count[i]]`` (positions in the points given).
    Built with a sort and a few reductions; searched by the compiled loops.
    """

    lo_x: NDArray[np.float64]
    lo_y: NDArray[np.float64]
    hi_x: NDArray[np.float64]
    hi_y: NDArray[np.float64]
    first: NDArray[np.intp]
    count: NDArray[np.intp]
    leaf: NDArray[np.bool_]
    item: NDArray[np.intp]
    xy: NDArray[np.float64]  # the points in the tree's order: ``xy[q]`` is point ``item[q]``

    @classmethod
    def build(cls, xy: NDArray[np.float64]) -> PointTree:
        """The tree over the points ``xy`` (n ≥ 1, shape (n, 2)).

        Examples
        --------
        >>> t = PointTree.build(np.array([[0.0, 0.0], [10.0, 0.0]]))
        >>> t.leaf.tolist(), t.count.tolist(), t.hi_x.tolist()
        ([True], [2], [10.0])
        """
        from sitematch.kernel import _spread

        n = len(xy)
        lo, span = xy.min(axis=0), np.maximum(np.ptp(xy, axis=0), 1e-9)
        q = ((xy - lo) / span * 65535).astype(np.uint64)
        item = np.argsort(_spread(q[:, 0]) | (_spread(q[:, 1]) << np.uint64(1)), kind="stable").astype(np.intp)
        p = xy[item]
        first = np.arange(0, n, LEAF, dtype=np.intp)
        level = [
            np.minimum.reduceat(p[:, 0], first),
            np.minimum.reduceat(p[:, 1], first),
            np.maximum.reduceat(p[:, 0], first),
            np.maximum.reduceat(p[:, 1], first),
            first,
            np.diff(np.r_[first, n]).astype(np.intp),
        ]
        levels = [(level, True)]
        while len(level[0]) > 1:
            m = len(level[0])
            first = np.arange(0, m, FANOUT, dtype=np.intp)
            level = [
                np.minimum.reduceat(level[0], first),
                np.minimum.reduceat(level[1], first),
                np.maximum.reduceat(level[2], first),
                np.maximum.reduceat(level[3], first),
                first,
                np.diff(np.r_[first, m]).astype(np.intp),
            ]
            levels.append((level, False))
        levels.reverse()  # the root first
        offset = np.cumsum([0] + [len(lv[0]) for lv, _ in levels])
        for depth, (lv, is_leaf) in enumerate(levels):
            if not is_leaf:
                lv[4] = lv[4] + offset[depth + 1]
        cols = [np.concatenate([lv[c] for lv, _ in levels]) for c in range(6)]
        leaf = np.concatenate([np.full(len(lv[0]), is_leaf) for lv, is_leaf in levels])
        return cls(
            cols[0], cols[1], cols[2], cols[3], cols[4].astype(np.intp), cols[5].astype(np.intp), leaf, item,
            np.ascontiguousarray(p),
        )  # fmt: skip

    def arrays(self) -> tuple[NDArray, ...]:
        return (self.lo_x, self.lo_y, self.hi_x, self.hi_y, self.first, self.count, self.leaf, self.item)


def nearest(
    tree: PointTree,
    xy: NDArray[np.float64],
    sites: Any,
    rows: NDArray[np.intp],
    probe_segment: NDArray[np.intp] | None = None,
    ends: NDArray[np.float64] | None = None,
    half_m: float = 0.0,
    limit_m: float = np.inf,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Nearest point ``xy`` (or segment ``ends``, whose probes ``xy`` are) of each site ``rows[i]``, exactly.

    Returns (target, distance) per site; ties go to the lower target; (-1, inf) where nothing is
    within ``limit_m``.
    """
    if ends is None:
        probe_segment, ends = np.empty(0, np.intp), np.empty((0, 4))
    assert probe_segment is not None
    return _load().nearest_tree(
        rows, *tree.arrays(), xy, tree.xy, probe_segment, ends, half_m, limit_m, *_site_arrays(sites)
    )


def aggregate(
    tree: PointTree,
    xy: NDArray[np.float64],
    sites: Any,
    rows: NDArray[np.intp],
    values: NDArray[np.float64],
    distance_m: float,
    how: str,
) -> NDArray[np.float64]:
    """Sum or max of ``values`` (one per point) over the points within ``distance_m`` of each site ``rows[i]``."""
    return _load().aggregate_tree(
        rows, *tree.arrays(), tree.xy, values[tree.item], distance_m, how == "max", *_site_arrays(sites)
    )


def _site_arrays(sites: Any) -> tuple[Any, ...]:
    return (
        sites.ax,
        sites.ay,
        sites.bx,
        sites.by,
        sites.start,
        sites.area,
        sites.centre,
        sites.reach,
        sites.half,
    )
