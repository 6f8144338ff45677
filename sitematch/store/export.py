"""Write plots out for other tools: GeoPackage (EPSG:3006), GeoJSON (EPSG:4326) or CSV (WKT, EPSG:3006).

A plot's extra attributes (the municipality's own columns sitematch does not use, kept as
``extras``) come out as columns of their own, named as in the municipality's file, so an export
re-uploaded keeps them.

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
from sitematch._io import FORMULA_STARTS, atomic_target, for_ogr, spreadsheet_safe
from sitematch.crs import SERVING_CRS
from sitematch.errors import StoreError
from sitematch.store.base import EXTRAS, extras_of

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
    frame = for_ogr(with_extra_columns(plots))
    with atomic_target(target) as tmp:
        if suffix == ".gpkg":
            pyogrio.write_dataframe(frame, tmp, layer="plots", driver="GPKG")
        elif suffix == ".csv":
            table = pd.DataFrame(frame.drop(columns=s.GEOMETRY)).assign(wkt=frame.geometry.to_wkt())
            table.columns = [("'" + c if str(c).startswith(FORMULA_STARTS) else c) for c in table.columns]
            spreadsheet_safe(table).to_csv(tmp, index=False)
        else:
            pyogrio.write_dataframe(frame.to_crs(SERVING_CRS), tmp, driver="GeoJSON")
    logger.info("exported %d plots to %s", len(plots), target)
    return target


def with_extra_columns(plots: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Plots with each extra attribute as a column of its own (after the canonical ones), without ``extras``.

    A column holds numbers where every value is a number, text otherwise; an extra named like a
    column the plots already have gets `` (extra)`` appended.

    Examples
    --------
    >>> import shapely
    >>> p = gpd.GeoDataFrame({"plot_id": ["1980:A", "1980:B"], "extras": ['{"Pris kr/kvm": 450}', None]},
    ...                      geometry=[shapely.box(0, 0, 1, 1)] * 2, crs=3006)
    >>> with_extra_columns(p)[["plot_id", "Pris kr/kvm"]].to_dict("list")
    {'plot_id': ['1980:A', '1980:B'], 'Pris kr/kvm': [450.0, nan]}
    """
    if EXTRAS not in plots:
        return plots
    rows = [extras_of(v) for v in plots[EXTRAS]]
    out = plots.drop(columns=EXTRAS)
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        numeric = all(v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values)
        column = f"{name} (extra)" if name in out.columns or name == s.GEOMETRY else name
        columns[column] = pd.Series(
            [float(v) if numeric and v is not None else (None if v is None else str(v)) for v in values],
            index=out.index,
            dtype="float64" if numeric else object,
        )
    if not columns:
        return out
    geometry = out.geometry.name
    table = pd.concat([pd.DataFrame(out.drop(columns=geometry)), pd.DataFrame(columns, index=out.index)], axis=1)
    return gpd.GeoDataFrame(table.assign(**{geometry: out.geometry.values}), geometry=geometry, crs=out.crs)
