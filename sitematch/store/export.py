"""Write plots out for other tools: GeoPackage (EPSG:3006), GeoJSON (EPSG:4326) or CSV (WKT, EPSG:3006).

CSV cells that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return — OWASP's rule) get a leading ``'``, which keeps the value readable.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from sitematch import schema as s
from sitematch._io import atomic_target, for_ogr, spreadsheet_safe
from sitematch.crs import SERVING_CRS
from sitematch.errors import StoreError

logger = logging.getLogger(__name__)

#: Export formats by suffix.
FORMATS = {".gpkg": "GeoPackage", ".geojson": "GeoJSON", ".json": "GeoJSON", ".csv": "CSV"}


def export_plots(plots: gpd.GeoDataFrame, target: str | Path) -> Path:
    """Write plots to ``target``, its format chosen by suffix; the file appears whole or not at all.

    Parameters
    ----------
    plots : geopandas.GeoDataFrame
        Plots as a store returns them (EPSG:3006).
    target : str or pathlib.Path
        ``.gpkg`` (layer ``plots``, EPSG:3006), ``.geojson``/``.json`` (EPSG:4326) or ``.csv``
        (a ``wkt`` column in EPSG:3006).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    StoreError
        For any other suffix.

    Examples
    --------
    >>> import tempfile
    >>> from sitematch import LayerSet
    >>> export_plots(LayerSet.from_path("layers")["plots"], f"{tempfile.mkdtemp()}/plots.geojson").suffix
    '.geojson'
    """
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise StoreError(f"{target}: export to .gpkg, .geojson or .csv")
    frame = for_ogr(plots)
    with atomic_target(target) as tmp:
        if suffix == ".gpkg":
            pyogrio.write_dataframe(frame, tmp, layer="plots", driver="GPKG")
        elif suffix == ".csv":
            table = pd.DataFrame(frame.drop(columns=s.GEOMETRY)).assign(wkt=frame.geometry.to_wkt())
            spreadsheet_safe(table).to_csv(tmp, index=False)
        else:
            pyogrio.write_dataframe(frame.to_crs(SERVING_CRS), tmp, driver="GeoJSON")
    logger.info("exported %d plots to %s", len(plots), target)
    return target
