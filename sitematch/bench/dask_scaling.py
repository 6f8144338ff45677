"""Dask against one process on the same partitioned GeoParquet plots: :func:`measure_dask`.

The synthetic national layers are written to a GeoPackage (what workers read, once each) and the
plots to a partitioned GeoParquet folder. Three runs match the same profile on them:

``one_process_s``
    one process reads every partition (:func:`sitematch.partition.read_partitioned`) and runs
    :func:`sitematch.matching.match` on them (``sites=``: as a worker does, no second validation) —
    indexes and screens already built, as a warm service has them;
``dask_<k>_workers_s``
    :func:`sitematch.distributed.match_distributed` on a ``LocalCluster`` of ``k`` worker
    processes with one thread each. The cluster is started once and the match run twice; the
    **second** run is timed (workers hold their layers, indexes and screens: a warm cluster).
    Cluster start and the first run are reported separately (``dask_<k>_workers_first_s``).

Screening rasters are shared through :data:`sitematch.settings.screen_cache_dir` (a folder in
``work``), built by the one-process run and memory-mapped by the workers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sitematch import settings
from sitematch.bench.profiles import FULL_PROFILE
from sitematch.bench.synthetic import synthetic_layers
from sitematch.layers.layerset import LayerSet
from sitematch.result import MatchResult

#: The full-measure profile of issue 16 (:data:`sitematch.bench.profiles.FULL_PROFILE`).
FULL_MEASURE_PROFILE = FULL_PROFILE


def write_layers(layers: LayerSet, path: Path) -> Path:
    """Write every layer but the plots to one GeoPackage that :meth:`LayerSet.from_path` reads.

    Examples
    --------
    >>> import tempfile
    >>> from sitematch.distributed import region_layers
    >>> out = write_layers(synthetic_layers(10), Path(tempfile.mkdtemp()) / "region.gpkg")
    >>> sorted(region_layers(out).kinds) == sorted(k for k in synthetic_layers(10).kinds if k != "plots")
    True
    """
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.unlink(missing_ok=True)
    for kind in layers.kinds:
        if kind != "plots":
            layers[kind].to_file(tmp, layer=kind, driver="GPKG")
    os.replace(tmp, path)
    return path


def _ranking(result: MatchResult) -> list[tuple[Any, ...]]:
    ranked = result.ranked[result.ranked["rank"].notna()]
    return list(zip(ranked["plot_id"], ranked["rank"].astype(int), ranked["score"].round(6), strict=True))


def same_ranking(a: MatchResult, b: MatchResult) -> bool:
    """Whether two results rank the same sites the same way, as far as both prove ranks.

    Every site ranked in both has the same rank and score, and the shorter ranking is the
    longer's start (beyond ``exact_top`` a partition may prove a few more ranks than one process).
    """
    ra, rb = _ranking(a), _ranking(b)
    k = min(len(ra), len(rb))
    return k > 0 and ra[:k] == rb[:k] and len(a.near_misses) == len(b.near_misses)


def measure_dask(n: int, profile_text: str, work: Path, workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Time one process and Dask with ``workers`` worker processes on ``n`` synthetic plots.

    Parameters
    ----------
    n : int
        Plots (synthetic national data set, seed 0).
    profile_text : str
        The profile (YAML), e.g. :data:`FULL_MEASURE_PROFILE`.
    work : pathlib.Path
        A folder for the layers, the partitions and the screen cache (created).
    workers : tuple of int
        Cluster sizes to time.

    Returns
    -------
    dict
        ``n``, ``cores``, ``partitions``, ``one_process_s``, ``one_process_read_s`` (of it, reading
        the parquet folder), and per cluster size ``k``: ``dask_<k>_workers_s`` (warm, second
        run), ``dask_<k>_workers_first_s`` (first run), ``dask_<k>_workers_start_s`` (cluster
        start), ``dask_<k>_workers_same_ranking`` (:func:`same_ranking` with one process); and
        ``ranked`` (ranks proven by one process), ``identical`` (every size gave the same ranking).
    """
    from distributed import Client

    from sitematch.distributed import local_cluster, match_distributed, region_layers
    from sitematch.features import build_indexes
    from sitematch.matching import match
    from sitematch.partition import read_manifest, read_partitioned, write_partitioned
    from sitematch.profile import parse_profile

    work.mkdir(parents=True, exist_ok=True)
    layers = synthetic_layers(n)
    layers_path = write_layers(layers, work / "region.gpkg")
    plots_path = write_partitioned(layers["plots"], work / "plots.parquet", overwrite=True)
    del layers
    previous = settings.screen_cache_dir
    settings.screen_cache_dir = str(work / "screens")
    try:
        region = region_layers(layers_path)
        profile = parse_profile(profile_text, registry=region.registry)
        build_indexes(region, profile.parameters, screens=True)
        out: dict[str, Any] = {"n": n, "cores": os.cpu_count(), "partitions": len(read_manifest(plots_path).parts)}
        t = time.perf_counter()
        plots = read_partitioned(plots_path)
        out["one_process_read_s"] = time.perf_counter() - t
        single = match(profile, region, sites=plots)  # what a worker does: read, then score (no re-validation)
        out["one_process_s"] = time.perf_counter() - t
        out["ranked"] = int(single.ranked["rank"].notna().sum())
        del plots
        identical = True
        for k in workers:
            t = time.perf_counter()
            cluster = local_cluster(k)
            client = Client(cluster)
            out[f"dask_{k}_workers_start_s"] = time.perf_counter() - t
            try:
                for run in ("first", "warm"):
                    t = time.perf_counter()
                    dist = match_distributed(profile, plots_path, layers_path, layers=region, client=client)
                    key = f"dask_{k}_workers_first_s" if run == "first" else f"dask_{k}_workers_s"
                    out[key] = time.perf_counter() - t
            finally:
                client.close()
                cluster.close()
            same = same_ranking(single, dist)
            out[f"dask_{k}_workers_same_ranking"] = same
            identical &= same
        out["identical"] = identical
        return out
    finally:
        settings.screen_cache_dir = previous


def _main() -> None:  # pragma: no cover - a manual entry point: python -m sitematch.bench.dask_scaling N [N…]
    import sys
    import tempfile

    for n in [int(a) for a in sys.argv[1:]] or [100_000]:
        with tempfile.TemporaryDirectory() as tmp:
            print(measure_dask(n, FULL_MEASURE_PROFILE, Path(tmp)), flush=True)


if __name__ == "__main__":  # pragma: no cover
    _main()

__all__ = ["FULL_MEASURE_PROFILE", "measure_dask", "same_ranking", "write_layers"]
