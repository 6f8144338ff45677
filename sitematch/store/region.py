"""A region's layers with a plot store's plots joined: the composition the CLI's match and partition use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sitematch.layers.region import check_plots_mode, with_stored_plots
from sitematch.layers.region import open_region as open_layers

if TYPE_CHECKING:
    from sitematch.layers.layerset import LayerSet


def open_region(layers: str | Path | None = None, *, store: str | None = None, plots: str = "all") -> LayerSet:
    """The layers to match against, with the active plots of a plot store if one is given.

    Parameters
    ----------
    layers : str or pathlib.Path, optional
        As :func:`sitematch.layers.region.open_region`.
    store : str, optional
        A plot store (``.gpkg`` or ``postgresql://``) whose active plots join the region's.
    plots : str
        ``"all"``: the region's plots and the store's (a plot in both is taken from the store);
        ``"store-only"``: the store's alone.

    Returns
    -------
    LayerSet

    Raises
    ------
    SitematchError
        For an unknown ``plots`` mode; LayerError, CatalogueError or StoreError as they arise.
    """
    check_plots_mode(plots)
    region = open_layers(layers)
    if store is None:
        return region
    from sitematch.store import open_store

    return with_stored_plots(region, open_store(store, create=False).plots(), store, plots)
