"""Plots and sites as GeoJSON, as the API and OGC API Features serve them: CRS84 unless asked otherwise."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

import geopandas as gpd

from sitematch import schema as s
from sitematch.service.accounts import User
from sitematch.service.ogc_crs import CRS84 as OGC_CRS84
from sitematch.service.ogc_crs import OfferedCrs, to_output

CRS84 = OGC_CRS84
#: Store bookkeeping columns that name a person.
_UPLOADER = "uploader"
#: A plot's extra attributes (the municipality's own columns), stored as JSON text.
_EXTRAS = "extras"
_BY = re.compile(r" by [A-Za-z0-9._@-]+")


def features(gdf: gpd.GeoDataFrame, id_column: str = s.PLOT_ID, crs: OfferedCrs | None = None) -> list[dict[str, Any]]:
    """Rows as GeoJSON features, each with ``id`` from ``id_column``.

    In CRS84 (longitude, latitude), or in ``crs`` with its own axis order (OGC API Features Part 2).

    Examples
    --------
    >>> import shapely
    >>> gdf = gpd.GeoDataFrame({"plot_id": ["1980:A"], "area_ha": [1.5]},
    ...                        geometry=[shapely.box(580000, 6610000, 580100, 6610100)], crs=3006)
    >>> f = features(gdf)[0]
    >>> f["id"], f["properties"], [round(v, 3) for v in f["geometry"]["coordinates"][0][0]]
    ('1980:A', {'plot_id': '1980:A', 'area_ha': 1.5}, [16.42, 59.62])
    """
    if gdf.empty:
        return []
    shown = gdf.to_crs(4326) if crs is None else to_output(gdf, crs)
    out = json.loads(shown.to_json(na="null", drop_id=True))["features"]
    for f, fid in zip(out, gdf[id_column].astype(str), strict=True):
        f["id"] = fid
        extras = f["properties"].get(_EXTRAS)
        if isinstance(extras, str):  # a plot's extra attributes: a JSON object, served as one
            with contextlib.suppress(ValueError):
                f["properties"][_EXTRAS] = json.loads(extras)
    return out


def redact(gdf: gpd.GeoDataFrame, user: User) -> gpd.GeoDataFrame:
    """Plots as ``user`` may see them: who uploaded a plot is shown to its municipality and admins only.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"municipality_code": ["1980"], "uploader": ["anna"],
    ...                    "source": ["municipality upload: 1980 tomter.csv by anna at 2026-01-01"]})
    >>> redact(df, User("bo", "adviser")).iloc[0].tolist()
    ['1980', 'municipality 1980', 'municipality upload: 1980 tomter.csv at 2026-01-01']
    """
    if user.is_admin or gdf.empty:
        return gdf
    out = gdf.copy()
    other = out[s.MUNICIPALITY_CODE].astype(str) != str(user.municipality)
    if _UPLOADER in out:
        out.loc[other, _UPLOADER] = "municipality " + out.loc[other, s.MUNICIPALITY_CODE].astype(str)
    if s.SOURCE in out:
        out.loc[other, s.SOURCE] = out.loc[other, s.SOURCE].astype(str).str.replace(_BY, "", regex=True)
    return out
