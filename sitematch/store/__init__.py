"""The plot store: GeoPackage (embedded default) and PostGIS, one interface.

Use :func:`open_store` with a ``.gpkg`` path or a ``postgresql://`` URL.
"""

from __future__ import annotations

from pathlib import Path

from sitematch.errors import StoreError
from sitematch.store.base import PlotStore, UploadSummary
from sitematch.store.gpkg import GeoPackageStore


def open_store(url: str | Path, *, create: bool = True) -> PlotStore:
    """Open (or create) a plot store.

    Parameters
    ----------
    url : str or pathlib.Path
        A GeoPackage path (``plots.gpkg``, created if missing) or a PostgreSQL URL
        (``postgresql://user@host:5432/db``, PostGIS installed).
    create : bool
        Create a missing GeoPackage store (default). Readers pass False, so a mistyped path is an
        error rather than a new, empty store.

    Returns
    -------
    PlotStore

    Raises
    ------
    StoreError
        If the store cannot be opened.

    Examples
    --------
    >>> store = open_store("plots.gpkg")  # doctest: +SKIP
    """
    text = str(url)
    if text.startswith(("postgresql://", "postgres://")):
        from sitematch.store.postgis import PostGISStore

        return PostGISStore(text)
    if not text.lower().endswith(".gpkg"):
        raise StoreError(f"{text}: a plot store is a .gpkg file or a postgresql:// URL")
    if not create and not Path(text).is_file():
        raise StoreError(f"{text}: no such plot store; upload plots first with `sitematch plots upload`")
    return GeoPackageStore(text)


__all__ = ["GeoPackageStore", "PlotStore", "UploadSummary", "open_store"]
