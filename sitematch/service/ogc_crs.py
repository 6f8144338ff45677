"""Coordinate reference systems of OGC API – Features Part 2, as the service offers them.

CRS84 (longitude, latitude) is the default; EPSG:4326 (latitude, longitude: its axis order as
EPSG defines it), SWEREF 99 TM (EPSG:3006, the storage CRS: northing, easting) and the SWEREF 99
local zones EPSG:3007–3018 (northing, easting) on request. Coordinates are written and ``bbox``
is read in the requested CRS's own axis order, as Part 2 asks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from sitematch.service.errors import ServiceError

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
STORAGE_CRS = EPSG_URI + "3006"
#: Every CRS offered, default first.
SUPPORTED = (CRS84, EPSG_URI + "4326", *(EPSG_URI + str(code) for code in range(3006, 3019)))
_CURIE = re.compile(r"\[?EPSG:(\d{4,5})\]?", re.IGNORECASE)
_OGC = re.compile(r"https?://www\.opengis\.net/def/crs/(OGC/1\.3/CRS84|EPSG/0/(\d{4,5}))")


class CrsError(ServiceError):
    """A ``crs`` or ``bbox-crs`` the service does not offer, or a ``bbox`` that does not fit it (400)."""

    status = 400


@dataclass(frozen=True)
class OfferedCrs:
    """One offered CRS: its URI, the pyproj CRS, and whether its first axis is northing/latitude."""

    uri: str
    crs: pyproj.CRS
    north_first: bool

    @property
    def header(self) -> str:
        """The ``Content-Crs`` header's value."""
        return f"<{self.uri}>"


@lru_cache(maxsize=32)
def offered(uri: str) -> OfferedCrs:
    """An offered CRS from its URI (or ``EPSG:nnnn``); CrsError for any other.

    Examples
    --------
    >>> offered("EPSG:3006").uri, offered("EPSG:3006").north_first
    ('http://www.opengis.net/def/crs/EPSG/0/3006', True)
    >>> offered(CRS84).north_first, offered("http://www.opengis.net/def/crs/EPSG/0/4326").north_first
    (False, True)
    """
    text = uri.strip()
    curie = _CURIE.fullmatch(text)
    if curie:
        text = EPSG_URI + curie.group(1)
    match = _OGC.fullmatch(text)
    if match:
        text = CRS84 if match.group(2) is None else EPSG_URI + match.group(2)
    if text not in SUPPORTED:
        raise CrsError(
            f"the CRS {uri[:80]!r} is not offered; use one of CRS84, EPSG:4326, EPSG:3006 to EPSG:3018 "
            f"(as URIs: {CRS84}, {EPSG_URI}<code>)",
            key="crs",
        )
    crs = pyproj.CRS.from_user_input("OGC:CRS84" if text == CRS84 else int(text.rsplit("/", 1)[1]))
    return OfferedCrs(text, crs, crs.axis_info[0].direction.lower() in ("north", "south"))


def _swap(geometries: np.ndarray) -> np.ndarray:
    return shapely.transform(geometries, lambda xy: xy[:, ::-1])


def to_output(gdf: gpd.GeoDataFrame, target: OfferedCrs) -> gpd.GeoDataFrame:
    """``gdf`` in ``target``, its coordinates in the CRS's axis order (the frame's CRS is then unset).

    Examples
    --------
    >>> g = gpd.GeoDataFrame(geometry=[shapely.Point(500000, 6500000)], crs=3006)
    >>> to_output(g, offered("EPSG:3006")).geometry.iloc[0].coords[0]
    (6500000.0, 500000.0)
    """
    out = gdf.to_crs(target.crs)
    geoms = out.geometry.to_numpy()
    if target.north_first:
        geoms = _swap(geoms)
    return out.set_geometry(gpd.GeoSeries(geoms, index=out.index))


def read_bbox(text: str, source: OfferedCrs) -> shapely.Geometry:
    """A ``bbox`` in ``source``'s axis order, as a box (x east, y north) in that CRS; CrsError if it is not one.

    Four numbers (or six, with heights): the lower corner, then the upper, each in the CRS's axis
    order. In CRS84 a box whose west is east of its east crosses the antimeridian.

    Examples
    --------
    >>> read_bbox("16,59,17,60", offered(CRS84)).bounds
    (16.0, 59.0, 17.0, 60.0)
    >>> read_bbox("59,16,60,17", offered("http://www.opengis.net/def/crs/EPSG/0/4326")).bounds
    (16.0, 59.0, 17.0, 60.0)
    """
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise CrsError("bbox: four numbers, the lower corner then the upper, in the axis order of bbox-crs "
                       "(CRS84: minlon,minlat,maxlon,maxlat)", key="bbox")  # fmt: skip
    a0, b0, a1, b1 = values
    x0, y0, x1, y1 = (b0, a0, b1, a1) if source.north_first else (a0, b0, a1, b1)
    geographic = source.crs.is_geographic
    if geographic and not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise CrsError("bbox: longitudes within ±180, latitudes within ±90, the lower before the upper", key="bbox")
    if geographic and x0 > x1:
        return shapely.union(shapely.box(x0, y0, 180, y1), shapely.box(-180, y0, x1, y1))
    if x0 > x1 or y0 > y1:
        raise CrsError("bbox: the lower corner's coordinates must not exceed the upper's", key="bbox")
    return shapely.box(x0, y0, x1, y1)


def within_bbox(gdf: gpd.GeoDataFrame, text: str, bbox_crs: str | None) -> gpd.GeoDataFrame:
    """The rows of ``gdf`` whose geometry intersects ``bbox`` (read in ``bbox_crs``, default CRS84)."""
    source = offered(bbox_crs) if bbox_crs is not None else offered(CRS84)
    box = read_bbox(text, source)
    if gdf.empty:
        return gdf
    return gdf[gdf.to_crs(source.crs).intersects(box)]


def extent_crs84(gdf: gpd.GeoDataFrame) -> list[float] | None:
    """The CRS84 bounding box of ``gdf`` (rounded to 6 decimals), or None when it has no rows."""
    if gdf.empty:
        return None
    return [round(float(v), 6) for v in gdf.to_crs("OGC:CRS84").total_bounds]
