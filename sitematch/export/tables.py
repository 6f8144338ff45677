"""Tables of a match: ``ranking.csv`` for spreadsheets, ``ranking.gpkg`` for GIS.

The CSV holds every site in the region, ranked sites first (by rank), then excluded sites closest
to passing first, with the reason for every score and what excluded sites missed by. The
GeoPackage holds the same rows as polygons in two layers, ``ranked`` and ``excluded``, plus a
``sources`` table with the provenance of the layers used. It is written in EPSG:3006 (SWEREF 99 TM),
the CRS Swedish municipal GIS works in, so areas and distances measure right in QGIS.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from sitematch import schema as s
from sitematch._io import atomic_target, for_ogr
from sitematch.crs import SERVING_CRS
from sitematch.result import (
    CHECK_PREFIX,
    MISSED,
    N_MISSED,
    NEAR_MISS,
    PASSED,
    POINTS_PREFIX,
    RANK,
    SCORE,
    SHORTFALL,
    SHORTFALL_PREFIX,
    WHY_PREFIX,
    MatchResult,
)

#: Leading columns of the ranking table, in order.
LEAD_COLUMNS = (RANK, s.PLOT_ID, s.NAME, s.MUNICIPALITY_CODE, SCORE, PASSED, NEAR_MISS, N_MISSED, SHORTFALL, MISSED)


def ranking_table(result: MatchResult) -> gpd.GeoDataFrame:
    """All sites of a result in table order: ranked by rank, then excluded closest-first.

    Parameters
    ----------
    result : MatchResult

    Returns
    -------
    geopandas.GeoDataFrame
        Leading columns :data:`LEAD_COLUMNS`, then points, the per-requirement outcomes
        (``check_<key>``, ``shortfall_<key>``), features and plot attributes, geometry. The
        per-requirement words are in ``missed``.
    """
    rows = pd.concat([result.ranked, result.excluded])
    lead = [c for c in LEAD_COLUMNS if c in rows.columns]
    points = [c for c in rows.columns if c.startswith(POINTS_PREFIX)]
    checks = [c for c in rows.columns if c.startswith((CHECK_PREFIX, SHORTFALL_PREFIX))]
    rest = [
        c
        for c in rows.columns
        if c not in lead and c not in points and c not in checks and c != s.GEOMETRY and not c.startswith(WHY_PREFIX)
    ]
    return gpd.GeoDataFrame(
        rows[[*lead, *points, *checks, *rest, s.GEOMETRY]], geometry=s.GEOMETRY, crs=result.sites.crs
    )


def write_csv(result: MatchResult, path: Path) -> Path:
    """Write ``ranking.csv``: one row per site, with its centroid in longitude/latitude.

    Parameters
    ----------
    result : MatchResult
    path : pathlib.Path
        Where to write; replaced atomically.

    Returns
    -------
    pathlib.Path
    """
    table = ranking_table(result)
    centroids = gpd.GeoSeries(table.geometry.centroid, crs=table.crs).to_crs(SERVING_CRS)
    df = pd.DataFrame(table.drop(columns=s.GEOMETRY))
    df["lon"] = centroids.x.round(6).to_numpy()
    df["lat"] = centroids.y.round(6).to_numpy()
    with atomic_target(Path(path)) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    return Path(path)


def write_gpkg(result: MatchResult, path: Path) -> Path:
    """Write ``ranking.gpkg`` with layers ``ranked``, ``excluded`` and ``sources`` (EPSG:3006).

    ``path`` is replaced atomically; returns it.
    """
    table = ranking_table(result)
    with atomic_target(Path(path)) as tmp:
        for layer, rows in (("ranked", table[table[PASSED]]), ("excluded", table[~table[PASSED]])):
            pyogrio.write_dataframe(for_ogr(rows), tmp, layer=layer, driver="GPKG", promote_to_multi=True)
        pyogrio.write_dataframe(result.provenance.astype(object), tmp, layer="sources", driver="GPKG")
    return Path(path)
