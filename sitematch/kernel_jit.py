"""The exact kernel compiled with Numba: KD-tree candidates to nearest and within-radius, in one loop per site.

:mod:`sitematch.kernel` measures (site, candidate) *pairs* in NumPy: every pair is expanded to
the site's edges, some twenty temporary arrays of that length are made, and the pairs are
reduced again. Here one compiled loop per site takes the KD-tree's ``k`` nearest candidates of
the site's centre as they come (ascending distance), skips those a bound rules out, measures
the rest against the site's edges and keeps the least — no pair arrays and no temporaries. The
geometry is the NumPy kernel's, operation for operation (same distances; the same property
tests run on both, ``tests/test_kernel_jit.py``).

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
import sys
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

_jit: Any = None  # the compiled functions (a module-like namespace) once loaded; False when unavailable


def _cache_dir_fallback() -> None:
    """Point Numba's cache at the user's cache folder when this package's folder is read-only."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent
    pycache = here / "__pycache__"
    if os.access(pycache if pycache.exists() else here, os.W_OK):
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


def loaded() -> bool:
    """Whether Numba has been imported in this process (for the import-time test)."""
    return "numba" in sys.modules


#: Sites (consecutive in the space-filling order) that share one KD-tree query.
BLOCK = 32


def _blocks(
    sites: Any, rows: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
    """Blocks of :data:`BLOCK` consecutive ``rows``: their starts (and the end), box centres, and each site's offset."""
    m = len(rows)
    bstart = np.r_[np.arange(0, m, BLOCK), m].astype(np.intp)
    c = sites.centre[rows]
    lo = np.minimum.reduceat(c, bstart[:-1], axis=0)
    hi = np.maximum.reduceat(c, bstart[:-1], axis=0)
    bc = (lo + hi) / 2
    at = np.repeat(np.arange(len(bc)), np.diff(bstart))
    off = np.hypot(c[:, 0] - bc[at, 0], c[:, 1] - bc[at, 1])
    return bstart, bc, off


def _query(kd: Any, centres: NDArray[np.float64], k: int, bound: float) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    dk, jk = kd.query(centres, k=k, distance_upper_bound=bound, workers=1)
    return np.asarray(dk).reshape(len(centres), k), np.asarray(jk).reshape(len(centres), k).astype(np.intp)


def nearest(
    kd: Any,
    sites: Any,
    rows: NDArray[np.intp],
    probe_segment: NDArray[np.intp] | None = None,
    ends: NDArray[np.float64] | None = None,
    half_m: float = 0.0,
    limit_m: float = np.inf,
    k: int = 32,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Nearest target of each site ``rows[i]``: the point of ``kd``, or the segment (``ends``) of its probes.

    Sites go in blocks of :data:`BLOCK`; one KD query per block gives the ``k`` points nearest the
    block's centre, from which every site of the block takes its own candidates (those within its
    upper bound + ``half_m`` + reach of its centre — the candidates a query from its centre would
    give); a block whose ``k``-th point is still within reach of one of its sites is asked again
    with twice ``k``. Returns (target, exact distance) per site; ties go to the lower target.
    """
    jit = _load()
    edges = (sites.ax, sites.ay, sites.bx, sites.by, sites.start, sites.area)
    rest = (sites.centre, sites.reach, sites.half)
    xy = kd.data
    bstart, bc, off = _blocks(sites, rows)
    _, p0 = kd.query(bc, k=1, workers=1)
    p0 = np.asarray(p0, dtype=np.intp).reshape(-1)
    if ends is not None:
        assert probe_segment is not None
        u, j0 = jit.upper_segments(rows, bstart, p0, probe_segment, ends, *edges)
    else:
        probe_segment, ends = np.empty(0, np.intp), np.empty((0, 4))
        u, j0 = jit.upper_points(rows, bstart, p0, xy, *edges)
    upper = np.minimum(u, limit_m)
    need = off + upper + half_m + sites.reach[rows] + 1e-9 * (1 + upper) + 1e-6
    radius = np.maximum.reduceat(need, bstart[:-1]) * (1 + 1e-12) + 1e-9
    blocks = np.arange(len(bc), dtype=np.intp)
    k = min(k, kd.n)
    while len(blocks):
        dk, jk = _query(kd, bc[blocks], k, float(radius[blocks].max()))
        over = jit.nearest_blocks(
            rows, bstart, blocks, bc[blocks], dk, jk, radius[blocks], u, j0, xy, probe_segment, ends, half_m,
            limit_m, *edges, *rest,
        )
        blocks = blocks[over]
        k = min(2 * k, kd.n)
    return j0, u


def aggregate(
    kd: Any,
    sites: Any,
    rows: NDArray[np.intp],
    values: NDArray[np.float64],
    distance_m: float,
    how: str,
    k: int = 64,
) -> NDArray[np.float64]:
    """Sum or max of ``values`` (one per KD point) over the points within ``distance_m`` of each site ``rows[i]``."""
    jit = _load()
    edges = (sites.ax, sites.ay, sites.bx, sites.by, sites.start, sites.area)
    rest = (sites.centre, sites.reach, sites.half)
    xy = kd.data
    bstart, bc, off = _blocks(sites, rows)
    need = off + distance_m + sites.reach[rows] + 1e-9 * (1 + distance_m) + 1e-6
    radius = np.maximum.reduceat(need, bstart[:-1]) * (1 + 1e-12) + 1e-9
    out = np.zeros(len(rows))
    blocks = np.arange(len(bc), dtype=np.intp)
    k = min(k, kd.n)
    while len(blocks):
        dk, jk = _query(kd, bc[blocks], k, float(radius[blocks].max()))
        over = jit.aggregate_blocks(
            rows, bstart, blocks, bc[blocks], dk, jk, radius[blocks], out, xy, values, distance_m, how == "max",
            *edges, *rest,
        )
        blocks = blocks[over]
        k = min(2 * k, kd.n)
    return out
