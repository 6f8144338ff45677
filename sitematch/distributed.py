"""Past one machine: the same evaluation on a Dask cluster, each worker reading its own partitions.

The plots live in a partitioned GeoParquet folder (:mod:`sitematch.partition`: spatially sorted,
one file per partition, counts and bounding boxes in the metadata — no shuffle). The driver plans
from the manifest alone: it counts the sites in the profile's region from each partition's
municipality counts and makes the one :class:`~sitematch.evaluate.Plan` a single process would
make for that many sites. Each task gets only a partition's path, the layers' path, the profile
and the plan; it reads the partition itself, takes the layers from a per-process cache (read from
the layer files once per worker, checked against the driver's fingerprint — never pickled from the
client), selects the region (:func:`sitematch.matching.region_mask`) and runs
:func:`sitematch.matching.score_sites`, the function one process runs.

What comes back, by default (``every_row=True``), is every site of the region with every column
and its geometry: the exports (``ranking.csv``, ``ranking.gpkg``) hold every site with its values,
as one process writes them. With ``every_row=False`` (a ranking only, no tables of every site)
what comes back is small:

- the **shortlist** with every column and its geometry: passing sites whose rank the partition
  proves (:func:`sitematch.matching.rankable`; in a staged plan the partition's best
  ``plan.exact_top`` always are), the near misses, and the partition's first
  ``map_max_polygons`` other excluded sites in the order :attr:`MatchResult.excluded` lists them;
- the **outcomes** of every other site without geometry or measured values: ``plot_id``,
  municipality, ``passed``, ``n_missed``, ``shortfall``, ``near_miss``, ``missed``, ``exact``,
  the score or its interval, and ``check_<key>`` / ``shortfall_<key>`` — what the funnel, the
  counts and the CSV's outcome columns read (the tables' other cells of those sites are empty).

The driver concatenates and ranks with :func:`sitematch.matching.ranked_result`. The global top-K
lies within the union of the partitions' top-K, so the best ``exact_top`` sites, their scores and
ranks, every near miss and every site's ``passed``/``missed`` are those of one process. Beyond
the exact top, a partition may have measured more than one process would (its own top-K), so a
few more sites can carry a proven rank — every rank given is the rank one process gives that site.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from geopandas.array import GeometryArray

from sitematch import schema as s
from sitematch import settings
from sitematch.crs import WORKING_CRS
from sitematch.errors import LayerError, SitematchError
from sitematch.evaluate import Plan
from sitematch.layers.layerset import LayerSet
from sitematch.matching import plan_for, rankable, ranked_result, region_mask, score_sites, staged_for
from sitematch.partition import read_manifest, read_partition
from sitematch.profile import Profile
from sitematch.result import (
    CHECK_PREFIX,
    EXACT,
    LOWER_PREFIX,
    MISSED,
    N_MISSED,
    NEAR_MISS,
    PASSED,
    SCORE,
    SHORTFALL,
    SHORTFALL_PREFIX,
    UPPER_PREFIX,
    VERIFY,
    MatchResult,
)

log = logging.getLogger(__name__)

#: Columns kept for sites outside the shortlist (besides ``check_<key>`` and ``shortfall_<key>``).
OUTCOME_COLUMNS = (
    s.PLOT_ID,
    s.NAME,
    s.MUNICIPALITY_CODE,
    s.AREA_HA,
    PASSED,
    N_MISSED,
    SHORTFALL,
    NEAR_MISS,
    MISSED,
    VERIFY,
    EXACT,
    SCORE,
    LOWER_PREFIX + SCORE,
    UPPER_PREFIX + SCORE,
)

#: Layers by (absolute path, fingerprint), in this process: each Dask worker reads them once.
_LAYERS: dict[tuple[str, str], LayerSet] = {}


@dataclass(frozen=True)
class PartitionScores:
    """What one partition sends back to the driver.

    Attributes
    ----------
    shortlist : geopandas.GeoDataFrame
        Every column, with geometry, of the sites the driver may rank or show (module docstring).
    outcomes : pandas.DataFrame
        :data:`OUTCOME_COLUMNS` and the per-requirement outcomes of every other site in the region.
    in_region : int
        Sites of the partition in the profile's region.
    seconds : float
        Time spent on the worker (reading, layers, scoring).
    export_part : str or None
        The Arrow file of the sites' export columns this worker wrote
        (:func:`sitematch.export._parts.write_part`), if asked to.
    """

    shortlist: gpd.GeoDataFrame
    outcomes: pd.DataFrame
    in_region: int
    seconds: float
    export_part: str | None = None


def region_layers(path: str | Path) -> LayerSet:
    """A region's layers without its plots (the plots come from partitions).

    Parameters
    ----------
    path : str or pathlib.Path
        A region folder (``layers.yaml``), a GeoPackage or a folder of files by kind.

    Returns
    -------
    LayerSet
    """
    from sitematch.layers.catalogue import CATALOGUE_FILE, read_catalogue

    path = Path(path)
    if path.name == CATALOGUE_FILE or (path.is_dir() and (path / CATALOGUE_FILE).is_file()):
        kinds = [k for k in read_catalogue(path).layers if k != "plots"]
    else:
        kinds = [k for k in s.LAYERS if k != "plots"]
    return LayerSet.from_path(path, kinds=kinds)


def worker_layers(path: str, fingerprint: str) -> LayerSet:
    """The layers at ``path``, read once per process and kept (with their indexes) for later tasks.

    Raises
    ------
    LayerError
        If the layers read here are not those the driver matched against (another fingerprint).
    """
    key = (path, fingerprint)
    if key not in _LAYERS:
        layers = region_layers(path)
        if layers.fingerprint() != fingerprint:
            raise LayerError(
                f"{path}: the layers on worker {os.uname().nodename} differ from the driver's "
                f"(fingerprint {layers.fingerprint()}, not {fingerprint})",
                hint="Give workers the same layer files (a shared filesystem or the same copy).",
                where=path,
            )
        _LAYERS[key] = layers
    return _LAYERS[key]


def score_partition(
    path: str | list[str],
    layers_path: str,
    fingerprint: str,
    profile: Profile,
    plan: Plan,
    *,
    screen_cache_dir: str | None = None,
    keep_excluded: int = 500,
    every_row: bool = True,
    export_dir: str | None = None,
) -> PartitionScores:
    """Read one partition, select the region, score it and keep what the driver needs: the Dask task.

    Parameters
    ----------
    path : str or list of str
        A partition file (:func:`sitematch.partition.read_partition`), or neighbouring files
        scored as one batch (one exact top per task, not per file).
    layers_path : str
        The region's layers, readable on this worker.
    fingerprint : str
        The layers' fingerprint on the driver.
    profile : Profile
        The profile.
    plan : Plan
        The driver's plan (for the region's total number of sites).
    screen_cache_dir : str, optional
        Where screening rasters are shared between processes (:data:`sitematch.settings.screen_cache_dir`).
    keep_excluded : int
        How many other excluded sites keep their geometry (the map draws that many) when not
        ``every_row``.
    every_row : bool
        Send back every site with every column (what the tables of every site need); False: the
        shortlist in full and the outcomes of the others (module docstring).
    export_dir : str, optional
        With ``every_row``: also write the sites' export columns (the CSV's text, the polygons'
        WKB, the centroids) to an Arrow file in this folder, which the driver reads
        (:mod:`sitematch.export._parts`): the per-site work of the exports done here.

    Returns
    -------
    PartitionScores
    """
    start = time.perf_counter()
    if screen_cache_dir:
        settings.screen_cache_dir = screen_cache_dir
    layers = worker_layers(layers_path, fingerprint)
    paths = [path] if isinstance(path, str) else list(path)
    batch = [read_partition(p) for p in paths]
    sites = batch[0] if len(batch) == 1 else pd.concat(batch, ignore_index=True)
    mask = region_mask(sites, layers, profile)
    in_region = sites[mask].reset_index(drop=True)
    scored = score_sites(in_region, layers, profile, plan=plan)
    if every_row:
        part = None
        if export_dir:
            from sitematch.export._parts import write_part

            name = f"{Path(paths[0]).stem}-{os.getpid()}-{time.monotonic_ns()}.arrow"
            part = str(write_part(scored, Path(export_dir) / name))
        return PartitionScores(
            shortlist=scored,
            outcomes=pd.DataFrame(),
            in_region=len(in_region),
            seconds=time.perf_counter() - start,
            export_part=part,
        )
    near = scored[NEAR_MISS].to_numpy(dtype=bool)
    keep = rankable(scored) | near
    other = np.flatnonzero(~scored[PASSED].to_numpy(dtype=bool) & ~near)
    if len(other):
        order = pd.DataFrame(scored.iloc[other][[N_MISSED, SHORTFALL, s.PLOT_ID]]).sort_values(
            [SHORTFALL, N_MISSED, s.PLOT_ID], kind="mergesort"
        )
        keep[order.index[:keep_excluded].to_numpy()] = True  # labels are positions: scored has a 0..n-1 index
    checks = [c for c in scored.columns if str(c).startswith((CHECK_PREFIX, SHORTFALL_PREFIX))]
    compact = [c for c in OUTCOME_COLUMNS if c in scored.columns] + checks
    return PartitionScores(
        shortlist=scored[keep],
        outcomes=pd.DataFrame(scored.loc[~keep, compact]),
        in_region=len(in_region),
        seconds=time.perf_counter() - start,
    )


def batches(files: list[str], workers: int) -> list[list[str]]:
    """Partition files in runs of neighbours, one run per worker (as even as the files allow).

    Each task makes its own best ``exact_top`` sites exact (the global top lies within the union
    of the tasks' tops): one task per worker does that work once per worker, not once per file.
    Files are in Hilbert order, so a run of neighbours is a compact piece of the country.

    Examples
    --------
    >>> batches(["a", "b", "c", "d", "e"], 2)
    [['a', 'b', 'c'], ['d', 'e']]
    >>> batches(["a"], 4)
    [['a']]
    """
    k = max(1, min(workers, len(files)))
    return [list(run) for run in np.array_split(np.array(files, dtype=object), k)]


def _in_region(counts: pd.Series, layers: LayerSet, profile: Profile) -> int:
    """Sites in the profile's region, from plot counts by kommunkod (no plots read)."""
    if not len(counts):
        return 0
    codes = pd.DataFrame({s.MUNICIPALITY_CODE: pd.array(counts.index.astype(str).to_numpy(), dtype="string")})
    return int(counts.to_numpy()[region_mask(codes, layers, profile)].sum())


def merge_scores(parts: list[PartitionScores]) -> gpd.GeoDataFrame:
    """One frame of every partition's shortlist and outcomes (outcome rows have no geometry)."""
    frames: list[pd.DataFrame] = []
    geoms: list[np.ndarray] = []
    for p in parts:
        frames.append(pd.DataFrame(p.shortlist).drop(columns=s.GEOMETRY))
        geoms.append(np.asarray(p.shortlist.geometry.array, dtype=object))
        if len(p.outcomes):
            frames.append(p.outcomes)
            geoms.append(np.full(len(p.outcomes), None, dtype=object))
    keep = [i for i, f in enumerate(frames) if len(f)] or [0]
    merged = pd.concat([frames[i] for i in keep], ignore_index=True)
    geometry = np.concatenate([geoms[i] for i in keep])
    for col in (PASSED, NEAR_MISS, EXACT):
        if col in merged.columns:
            merged[col] = merged[col].astype(bool)
    merged[N_MISSED] = merged[N_MISSED].astype("int64")
    merged[s.GEOMETRY] = GeometryArray(geometry, crs=WORKING_CRS)  # shapely objects already: no re-parsing
    return gpd.GeoDataFrame(merged, geometry=s.GEOMETRY, crs=WORKING_CRS)


def local_cluster(n_workers: int) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` processes with one thread each.

    Dask's nannies set ``MALLOC_TRIM_THRESHOLD_=65536`` in their workers, which makes the
    allocation-heavy scoring ~30-50 % slower (measured on 125k-plot partitions); these workers
    keep glibc's default (freed memory is returned to the system less eagerly).
    """
    import dask
    from distributed import LocalCluster

    if logging.getLogger().getEffectiveLevel() > logging.INFO:  # the scheduler's chatter only when asked (-v)
        logging.getLogger("distributed").setLevel(logging.WARNING)
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )


def _client(scheduler_address: str | None, n_workers: int | None) -> tuple[Any, Any]:
    """A client of the scheduler at ``scheduler_address``, or of a new local cluster: (client, cluster)."""
    try:
        from distributed import Client
    except ImportError:
        raise SitematchError("running on Dask needs: pip install 'sitematch[dask]'") from None
    try:
        if scheduler_address:
            return Client(scheduler_address, timeout="20s"), None
        cluster = local_cluster(n_workers or 2)
        return Client(cluster), cluster
    except (OSError, TimeoutError) as exc:
        raise SitematchError(
            f"cannot reach the Dask scheduler {scheduler_address}: {exc}", option="dask", where=scheduler_address
        ) from None


def match_distributed(
    profile: Profile,
    plots: str | Path,
    layers_path: str | Path,
    *,
    layers: LayerSet | None = None,
    scheduler_address: str | None = None,
    n_workers: int | None = None,
    client: Any | None = None,
    exact: str = "top",
    every_row: bool = True,
    prepare_exports: bool = True,
) -> MatchResult:
    """Score and rank the plots of a partitioned folder on a Dask cluster.

    Parameters
    ----------
    profile : Profile
        The lead's requirement profile.
    plots : str or pathlib.Path
        A partitioned plots folder (:func:`sitematch.partition.write_partitioned`), at a path
        every worker can read (the same machine or a shared filesystem).
    layers_path : str or pathlib.Path
        The region's layers (as :meth:`LayerSet.from_path` reads them), at a path every worker
        can read; made absolute here.
    layers : LayerSet, optional
        The same layers already read on the driver (default: read from ``layers_path``).
    scheduler_address : str, optional
        A running scheduler (``tcp://host:8786``).
    n_workers : int, optional
        Start a local cluster of this many worker processes (one thread each) for the call
        (default 2).
    client : distributed.Client, optional
        Use this client (and its cluster) instead; it is left open.
    exact : {"top", "all"}
        As :func:`sitematch.matching.match`: ``"all"`` evaluates every site in full.
    every_row : bool
        Every site with every column and its geometry (default: what the tables of every site
        need); False: the shortlist in full, the outcomes of the others (module docstring).
    prepare_exports : bool
        With ``every_row``, on a cluster of this machine (no ``scheduler_address``) and from
        :data:`sitematch.export.tables.ARROW_CSV_ROWS` sites: each worker also makes its sites'
        export columns (:mod:`sitematch.export._parts`), which ``ranking.csv`` and ``ranking.gpkg``
        then take instead of making them in this process.

    Returns
    -------
    MatchResult
        Ranked sites, near misses and every site's outcome. With ``every_row`` its sites hold
        what one process's do; beyond the exact top (a staged plan) a site may carry an exact
        value where one process gives bounds — each partition made its own best sites exact.

    Raises
    ------
    LayerError
        If the plots folder or a partition is unreadable, or the workers' layers differ.
    SitematchError
        If Dask is not installed or the scheduler cannot be reached.
    """
    started = time.perf_counter()
    manifest = read_manifest(plots)
    layers_path = Path(layers_path).resolve()
    layers = layers if layers is not None else region_layers(layers_path)
    in_region = _in_region(manifest.municipality_counts(), layers, profile)
    # one plan for every partition: the one a single process makes
    plan = plan_for(profile, in_region, staged_for(exact))
    cache = settings.screen_cache_dir
    own = client is None
    cluster = None
    if client is None:
        client, cluster = _client(scheduler_address, n_workers)
    from sitematch.export.tables import ARROW_CSV_ROWS

    export_dir = None
    if every_row and prepare_exports and not scheduler_address and in_region >= ARROW_CSV_ROWS:
        export_dir = Path(tempfile.mkdtemp(prefix="sitematch-export-parts-"))
    try:
        workers = len(client.scheduler_info()["workers"]) or 1
        files = [str(p.path.resolve()) for p in manifest.parts]
        tasks = batches(files, workers)
        futures = client.map(
            score_partition,
            tasks,
            layers_path=str(layers_path),
            fingerprint=layers.fingerprint(),
            profile=profile,
            plan=plan,
            screen_cache_dir=str(Path(cache).resolve()) if cache else None,
            keep_excluded=settings.map_max_polygons,
            every_row=every_row,
            export_dir=str(export_dir) if export_dir else None,
            pure=False,
        )
        parts: list[PartitionScores] = client.gather(futures)
        gathered = time.perf_counter()
    except BaseException:
        if export_dir is not None:
            shutil.rmtree(export_dir, ignore_errors=True)
        raise
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    merged = merge_scores(parts)
    log.info(
        "%d tasks scored; worker seconds %s; merged in %.2f s",
        len(parts),
        [round(p.seconds, 2) for p in parts],
        time.perf_counter() - gathered,
    )
    result = ranked_result(
        profile,
        merged,
        layers,
        plan=plan,
        sites_total=manifest.rows,
        outside_region=manifest.rows - in_region,
        dask_workers=workers,
        dask_partitions=len(files),
    )
    log.info(
        "ranked in %.2f s after the gather; %.2f s in all",
        time.perf_counter() - gathered,
        time.perf_counter() - started,
    )
    if export_dir is not None:
        from sitematch.export._parts import attach

        part_files = [Path(p.export_part) for p in parts if p.export_part]
        attached = len(part_files) == len(parts) and attach(result, part_files, export_dir)
        if not attached:
            shutil.rmtree(export_dir, ignore_errors=True)
        log.info("export columns from the workers: %s", "taken" if attached else "not taken (made here)")
    if manifest.provenance:
        plots_rows = pd.DataFrame(
            [
                {"layer": "plots", s.SOURCE: a, s.LICENCE: b, "rows": n, "date": "", "about": ""}
                for a, b, n in manifest.provenance
            ]
        )
        result.provenance = pd.concat([result.provenance, plots_rows], ignore_index=True)
    return result
