"""Past one machine: the same features and scoring on a Dask cluster.

Plots are partitioned spatially (Hilbert curve, with ``dask-geopandas``), so each partition's
sites are near each other and touch the same parts of the layer indexes. The LayerSet (without
plots) is scattered to every worker once; each partition runs :func:`sitematch.match.score_sites`
— the function the single-process path runs — and the driver ranks the union. The ranking is
identical to :func:`sitematch.match.match`.
"""

from __future__ import annotations

import logging

import pandas as pd

from sitematch.errors import SitematchError
from sitematch.layers.layerset import LayerSet
from sitematch.match import plan_for, ranked_result, region_mask, score_sites
from sitematch.profile import Profile
from sitematch.result import MatchResult


def match_distributed(
    profile: Profile,
    layers: LayerSet,
    *,
    scheduler_address: str | None = None,
    n_workers: int | None = None,
    npartitions: int | None = None,
    client: object | None = None,
) -> MatchResult:
    """Score and rank every candidate site on a Dask cluster.

    Parameters
    ----------
    profile : Profile
        The lead's requirement profile.
    layers : LayerSet
        Layers with plots.
    scheduler_address : str, optional
        A running scheduler (``tcp://host:8786``).
    n_workers : int, optional
        Start a local cluster of this many worker processes (one thread each) for the call.
    npartitions : int, optional
        Spatial partitions of the plots (default: 4 per worker).
    client : distributed.Client, optional
        Use this client instead of connecting.

    Returns
    -------
    MatchResult
        The same as :func:`sitematch.match.match` returns.

    Raises
    ------
    SitematchError
        If Dask is not installed or the scheduler cannot be reached.
    """
    try:
        import dask
        import dask_geopandas
        from distributed import Client, LocalCluster
    except ImportError:
        raise SitematchError("running on Dask needs: pip install 'sitematch[dask]'") from None

    sites = layers["plots"]
    mask = region_mask(sites, layers, profile)
    in_region = sites[mask].reset_index(drop=True)
    plan = plan_for(profile, len(in_region))  # one plan for every partition: the same as one process
    light = LayerSet(
        {k: layers[k] for k in layers.kinds if k != "plots"},
        layers.members,
        layers.origin,
        catalogue=layers.catalogue,
        validated=True,
    )

    cluster = None
    own_client = client is None
    try:
        if client is None:
            if scheduler_address:
                client = Client(scheduler_address, timeout="20s")
            else:
                cluster = LocalCluster(
                    n_workers=n_workers or 2,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
                client = Client(cluster)
    except OSError as exc:
        raise SitematchError(f"cannot reach the Dask scheduler {scheduler_address}: {exc}") from None
    try:
        workers = len(client.scheduler_info()["workers"]) or 1  # type: ignore[attr-defined]
        nparts = npartitions or max(1, min(4 * workers, len(in_region) // 1000 or 1))
        numbered = in_region.assign(_row=range(len(in_region)))  # spatial_shuffle re-indexes by Hilbert distance
        ddf = dask_geopandas.from_geopandas(numbered, npartitions=nparts).spatial_shuffle(by="hilbert")
        shared = client.scatter(light, broadcast=True)  # type: ignore[attr-defined]
        tasks = [dask.delayed(score_sites)(part, shared, profile, plan=plan) for part in ddf.to_delayed()]
        parts = client.compute(tasks, sync=True)  # type: ignore[attr-defined]
    finally:
        if own_client and client is not None:
            client.close()  # type: ignore[attr-defined]
        if cluster is not None:
            cluster.close()
    scored = pd.concat(parts).sort_values("_row").drop(columns="_row").reset_index(drop=True)
    return ranked_result(
        profile,
        scored,
        layers,
        plan=plan,
        sites_total=len(sites),
        outside_region=int((~mask).sum()),
        dask_workers=workers,
        dask_partitions=nparts,
    )
