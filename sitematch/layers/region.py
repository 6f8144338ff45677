"""Opening the region a match runs on: its layers, and the plots of a plot store if one is given.

The one place the CLI and the web service resolve "which layers, which plots".
"""

from __future__ import annotations

import logging
from pathlib import Path

from sitematch import settings
from sitematch.errors import SitematchError
from sitematch.layers.layerset import LayerSet

log = logging.getLogger(__name__)

#: How a store's plots combine with the region's: both (the store's win on the same plot_id), or the store's alone.
PLOTS_MODES = ("all", "store-only")


def open_region(layers: str | Path | None = None, *, store: str | None = None, plots: str = "all") -> LayerSet:
    """The layers to match against.

    Parameters
    ----------
    layers : str or pathlib.Path, optional
        A region folder (with ``layers.yaml``), a GeoPackage, or a folder of files by kind.
        Default :func:`sitematch.settings.layers_path` (``$SITEMATCH_LAYERS``, the config file, or
        the bundled region).
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

    Examples
    --------
    >>> open_region().origin.endswith("_region")  # the bundled region
    True
    """
    if plots not in PLOTS_MODES:
        raise SitematchError(f"plots must be one of {', '.join(PLOTS_MODES)}, not {plots!r}", option="plots")
    from sitematch.layers.disk_cache import read_region

    region = read_region(Path(layers) if layers else settings.layers_path())
    if store is None:
        return region
    from sitematch.store import open_store

    stored = open_store(store, create=False).plots()
    log.info("%d plots from the store %s (%s)", len(stored), store, plots)
    if plots == "store-only":
        return region.with_plots(stored, origin=store)
    return region.with_plots(stored, origin=f"{region.origin} + {store}", add=True)
