"""Where a match runs: in this process, or on Dask — the one place the CLI (and any caller) chooses.

:func:`match_layers` opens what a match runs on (the region, a store's plots, or a partitioned plots
folder) and :func:`run_match` runs one profile on it, locally (:func:`sitematch.matching.match`) or
on a Dask cluster (:func:`sitematch.distributed.match_distributed`). The CLI stays a shell: it
parses options and shows progress and results.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sitematch import settings
from sitematch.errors import SitematchError
from sitematch.layers.region import PLOTS_MODES

if TYPE_CHECKING:
    from sitematch.layers.layerset import LayerSet
    from sitematch.profile import Profile
    from sitematch.result import MatchResult


def plots_folder(plots: str, store: str | None = None) -> Path | None:
    """The partitioned plots folder ``plots`` names, or None when it is a plots mode (``all``, ``store-only``).

    Raises
    ------
    SitematchError
        When both a plot store and a plots folder are given.

    Examples
    --------
    >>> plots_folder("all") is None, plots_folder("plots.parquet")
    (True, PosixPath('plots.parquet'))
    """
    folder = None if plots in PLOTS_MODES else Path(plots)
    if folder is not None and store is not None:
        raise SitematchError(
            "give either a plot store or a partitioned plots folder, not both "
            "(partition the store's plots with: sitematch plots partition OUT.parquet/ --store …)",
            option="plots",
        )
    return folder


def match_layers(
    layers_path: Path | None = None, *, store: str | None = None, plots: str = "all", distributed: bool = False
) -> LayerSet:
    """The LayerSet a match runs on: the region (with a store's plots), or its layers with a folder's plots.

    Parameters
    ----------
    layers_path : pathlib.Path, optional
        The region (default :func:`sitematch.settings.layers_path`).
    store : str, optional
        A plot store whose active plots join the region's.
    plots : str
        ``all``, ``store-only``, or a partitioned plots folder (:mod:`sitematch.partition`).
    distributed : bool
        Whether the match runs on Dask: a plots folder is then left to the workers (only checked here).
    """
    from sitematch.store.region import open_region

    folder = plots_folder(plots, store)
    if folder is None:
        return open_region(layers_path, store=store, plots=plots)
    from sitematch.distributed import region_layers
    from sitematch.partition import read_manifest, read_partitioned

    region = region_layers(layers_path or settings.layers_path())
    if distributed:
        read_manifest(folder)  # a bad folder is refused before a cluster starts
        return region
    return region.with_plots(read_partitioned(folder), origin=f"{region.origin} + {folder}")


def run_match(
    profile: Profile,
    layers: LayerSet,
    *,
    layers_path: Path | None = None,
    plots: str = "all",
    scheduler: str | None = None,
    workers: int | None = None,
    exact: str = "top",
    progress: Callable[[str], None] | None = None,
) -> MatchResult:
    """Match one profile: in this process, or on Dask when a scheduler or a number of workers is given.

    Parameters
    ----------
    profile : Profile
    layers : LayerSet
        From :func:`match_layers`.
    layers_path : pathlib.Path, optional
        The region's path (Dask workers read it themselves).
    plots : str
        As :func:`match_layers`: a partitioned plots folder is matched partition by partition.
    scheduler : str, optional
        A Dask scheduler's address.
    workers : int, optional
        Workers of a local Dask cluster.
    exact : str
        ``"top"`` or ``"all"`` (see :func:`sitematch.matching.match`).
    progress : callable, optional
        Called with each step's name (one ``"dask"`` step on Dask).

    Returns
    -------
    MatchResult
    """
    if not (scheduler or workers):
        from sitematch.matching import match

        return match(profile, layers, progress=progress, exact=exact)
    if progress is not None:
        progress("dask")
    return _on_dask(profile, layers, layers_path, plots_folder(plots), scheduler, workers, exact)


def _on_dask(
    profile: Profile,
    layers: LayerSet,
    layers_path: Path | None,
    folder: Path | None,
    scheduler: str | None,
    workers: int | None,
    exact: str,
) -> MatchResult:
    """:func:`sitematch.distributed.match_distributed`; without a plots folder, on the region's plots
    partitioned to a temporary folder (on this machine: a remote cluster needs a shared folder)."""
    from sitematch.distributed import match_distributed
    from sitematch.partition import write_partitioned

    path = (layers_path or settings.layers_path()).resolve()
    if folder is not None:
        return match_distributed(
            profile, folder, path, layers=layers, scheduler_address=scheduler, n_workers=workers, exact=exact
        )
    with tempfile.TemporaryDirectory(prefix="sitematch-plots-") as tmp:
        written = write_partitioned(layers["plots"], Path(tmp) / "plots.parquet")
        return match_distributed(profile, written, path, scheduler_address=scheduler, n_workers=workers, exact=exact)
