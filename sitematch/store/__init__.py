"""The plot store: GeoPackage (embedded default) and PostGIS, one interface.

Use :func:`open_store` with a ``.gpkg`` path or a ``postgresql://`` URL, and :func:`export_plots`
to write plots out as GeoPackage, GeoJSON or CSV.
"""

from __future__ import annotations

from pathlib import Path

from sitematch.errors import StoreError, StoreNotFoundError
from sitematch.store.base import STATUSES, PlotStore, UploadSummary
from sitematch.store.export import export_plots
from sitematch.store.gpkg import GeoPackageStore


def open_store(url: str | Path, *, create: bool = True) -> PlotStore:
    """Open a plot store.

    Opening never writes: a new store is created by its first upload.

    Parameters
    ----------
    url : str or pathlib.Path
        A GeoPackage path (``plots.gpkg``) or a PostgreSQL URL (``postgresql://user@host:5432/db``,
        PostGIS installed).
    create : bool
        Whether a store that does not exist yet may be opened, to be created by an upload (default).
        Readers pass False, so a mistyped path is an error rather than an empty store.

    Returns
    -------
    PlotStore

    Raises
    ------
    StoreNotFoundError
        If ``create`` is false and there is no store.
    StoreError
        If the store cannot be opened.

    Examples
    --------
    >>> import tempfile
    >>> store = open_store(f"{tempfile.mkdtemp()}/plots.gpkg")  # created by its first upload
    >>> len(store.plots())
    0
    """
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from sitematch.store.postgis import PostGISStore

        return PostGISStore(text, create=create)
    if not text.lower().endswith(".gpkg"):
        raise StoreError(f"{text}: a plot store is a .gpkg file or a postgresql:// URL")
    if not create and not Path(text).is_file():
        raise StoreNotFoundError(f"{text}: no such plot store; upload plots to it first")
    return GeoPackageStore(text)


__all__ = ["STATUSES", "GeoPackageStore", "PlotStore", "UploadSummary", "export_plots", "open_store"]
