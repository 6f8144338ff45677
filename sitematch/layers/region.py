"""Opening the region a match runs on: its layers, read (through the disk cache) from a region path.

The one place the CLI and the web service resolve "which layers". Joining a plot store's plots
is :func:`sitematch.store.region.open_region`'s (the store stands above the layers, so the layers
never import it); :func:`with_stored_plots` is the joining rule both use.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sitematch import settings
from sitematch.errors import SitematchError
from sitematch.layers.layerset import LayerSet

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

#: How a store's plots combine with the region's: both (the store's win on the same plot_id), or the store's alone.
PLOTS_MODES = ("all", "store-only")


def check_plots_mode(plots: str) -> str:
    """``plots`` if it is one of :data:`PLOTS_MODES`; else a clear error."""
    if plots not in PLOTS_MODES:
        raise SitematchError(f"plots must be one of {', '.join(PLOTS_MODES)}, not {plots!r}", option="plots")
    return plots


def open_region(layers: str | Path | None = None, *, plots: str = "all") -> LayerSet:
    """The layers to match against.

    Parameters
    ----------
    layers : str or pathlib.Path, optional
        A region folder (with ``layers.yaml``), a GeoPackage, or a folder of files by kind.
        Default :func:`sitematch.settings.layers_path` (``$SITEMATCH_LAYERS``, the config file, or
        the bundled region).
    plots : str
        Checked only (one of :data:`PLOTS_MODES`): without a store, the region's plots are matched.

    Returns
    -------
    LayerSet

    Raises
    ------
    SitematchError
        For an unknown ``plots`` mode; LayerError or CatalogueError as they arise.

    Examples
    --------
    >>> open_region().origin.endswith("_region")  # the bundled region
    True
    """
    check_plots_mode(plots)
    from sitematch.layers.disk_cache import read_region

    return read_region(Path(layers) if layers else settings.layers_path())


def with_stored_plots(region: LayerSet, stored: gpd.GeoDataFrame, store: str, plots: str = "all") -> LayerSet:
    """The region with a store's plots: both (a plot in both taken from the store), or the store's alone.

    Parameters
    ----------
    region : LayerSet
    stored : geopandas.GeoDataFrame
        The store's active plots.
    store : str
        The store's name, for the origin.
    plots : str
        One of :data:`PLOTS_MODES`.
    """
    log.info("%d plots from the store %s (%s)", len(stored), store, check_plots_mode(plots))
    if plots == "store-only":
        return region.with_plots(stored, origin=store)
    return region.with_plots(stored, origin=f"{region.origin} + {store}", add=True)
