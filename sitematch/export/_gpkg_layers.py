"""The sites' layers of ``ranking.gpkg`` from one Arrow table (:func:`write_site_layers`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

GEOMETRY = "geometry"


def write_site_layers(table: Any, path: Path, n_ranked: int, crs: str | None) -> None:
    """Layers ``ranked`` (the first ``n_ranked`` rows) and ``excluded`` (the rest) of ``table`` into ``path``.

    The file is new (a temporary one, renamed into place by the caller once whole): SQLite's
    journal and syncs are off — neither protects anything there, both cost time.
    """
    import pyogrio

    keys = ("OGR_SQLITE_JOURNAL", "OGR_SQLITE_SYNCHRONOUS")
    before = {k: pyogrio.get_gdal_config_option(k) for k in keys}
    pyogrio.set_gdal_config_options(dict.fromkeys(keys, "OFF"))
    try:
        for layer, part in (("ranked", table.slice(0, n_ranked)), ("excluded", table.slice(n_ranked))):
            pyogrio.write_arrow(
                part,
                path,
                layer=layer,
                driver="GPKG",
                geometry_name=GEOMETRY,
                geometry_type="MultiPolygon" if part.column(GEOMETRY).null_count < part.num_rows else "Unknown",
                crs=crs,
            )
    finally:
        pyogrio.set_gdal_config_options(before)
