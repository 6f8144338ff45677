"""The CRS policy: one CRS inside, explicit CRSs at every boundary.

sitematch works in **EPSG:3006** (SWEREF 99 TM, metres) and stores/serves **EPSG:4326**. Every
layer is reprojected to the working CRS on the way in. A layer without a CRS is refused with an
error that says how to declare one; it is never guessed silently. A layer whose coordinates land
outside Sweden after reprojection is refused too: the declared CRS is almost certainly wrong.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from pyproj import CRS
from pyproj.exceptions import CRSError as PyprojCRSError

from sitematch.errors import CRSError

#: The CRS all computation happens in: SWEREF 99 TM, metres.
WORKING_CRS = CRS.from_epsg(3006)
#: The CRS maps and GeoJSON are served in.
SERVING_CRS = CRS.from_epsg(4326)

#: Swedish CRSs a municipality's GIS export is likely to be in.
SWEDISH_CRS: dict[int, str] = {
    3006: "SWEREF 99 TM",
    3007: "SWEREF 99 12 00",
    3008: "SWEREF 99 13 30",
    3009: "SWEREF 99 15 00",
    3010: "SWEREF 99 16 30",
    3011: "SWEREF 99 18 00 (Stockholm)",
    3012: "SWEREF 99 14 15",
    3013: "SWEREF 99 15 45",
    3014: "SWEREF 99 17 15",
    3015: "SWEREF 99 18 45",
    3016: "SWEREF 99 20 15",
    3017: "SWEREF 99 21 45",
    3018: "SWEREF 99 23 15",
    3021: "RT90 2.5 gon V",
    4326: "WGS 84 (longitude/latitude)",
    4619: "SWEREF99 (geographic)",
}

#: Sweden's extent in EPSG:3006 (easting min, northing min, easting max, northing max), with a
#: margin of a few tens of kilometres for coast, lakes and border tolerance.
SWEDEN_BOUNDS_3006 = (180_000.0, 6_080_000.0, 1_100_000.0, 7_700_000.0)

_DECLARE_HINT = (
    "To use it, declare it: give the file a CRS in your GIS (e.g. a .prj beside a Shapefile), or give "
    "the CRS with the file: EPSG:3006 (SWEREF 99 TM), EPSG:3011 (Stockholm's local zone), EPSG:3021 "
    "(RT90) or EPSG:4326 (longitude/latitude)."
)


def parse_crs(value: str | int | CRS) -> CRS:
    """Parse a user-given CRS: ``3011``, ``"EPSG:3011"``, ``"epsg:4326"`` or a WKT/PROJ string.

    Parameters
    ----------
    value : str, int or pyproj.CRS
        The CRS as a user wrote it.

    Returns
    -------
    pyproj.CRS

    Raises
    ------
    CRSError
        If the value is not a CRS pyproj knows.

    Examples
    --------
    >>> parse_crs("3011").to_epsg()
    3011
    """
    if isinstance(value, CRS):
        return value
    text = str(value).strip()
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return CRS.from_user_input(text)
    except PyprojCRSError as exc:
        known = ", ".join(f"EPSG:{k} ({v})" for k, v in list(SWEDISH_CRS.items())[:3])
        raise CRSError(f"{value!r} is not a CRS sitematch knows; use an EPSG code such as {known}") from exc


def describe_crs(crs: CRS | None) -> str:
    """A short human name for a CRS, e.g. ``"EPSG:3011 (SWEREF 99 18 00 (Stockholm))"``."""
    if crs is None:
        return "no CRS"
    epsg = crs.to_epsg()
    if epsg is None:
        return crs.name
    return f"EPSG:{epsg} ({SWEDISH_CRS.get(epsg, crs.name)})"


def guess_crs_from_bounds(bounds: tuple[float, float, float, float]) -> int | None:
    """Guess which Swedish CRS coordinates with these bounds are in; only used for hints.

    Returns the EPSG code for WGS 84, SWEREF 99 TM or RT90 when the bounds fit one of them, and
    None when they fit none or are ambiguous (the local SWEREF zones 3007–3018 overlap).
    """
    xmin, ymin, xmax, ymax = bounds
    if xmin >= 10.0 and xmax <= 25.0 and ymin >= 55.0 and ymax <= 70.0:
        return 4326
    if ymin >= 6_050_000 and ymax <= 7_750_000:
        if xmin >= 1_150_000 and xmax <= 1_950_000:
            return 3021
        if xmin >= 250_000 and xmax <= 950_000:
            return 3006
    return None


def to_working_crs(gdf: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    """Reproject a layer to EPSG:3006, refusing a missing CRS or one that puts it outside Sweden.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read.
    what : str
        What the layer is, for error messages (a file name, a layer name).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in EPSG:3006. The input is not modified.

    Raises
    ------
    CRSError
        If the layer has no CRS, or its coordinates do not lie in Sweden in the declared CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(18.059196, 59.330231)], crs=4326)
    >>> round(to_working_crs(g, what="example").geometry.x.iloc[0])
    674032
    """
    if gdf.crs is None:
        guess = guess_crs_from_bounds(tuple(gdf.total_bounds)) if len(gdf) else None
        hint = f" Its coordinates look like EPSG:{guess} ({SWEDISH_CRS[guess]})." if guess else ""
        raise CRSError(
            f"{what} has no coordinate reference system (CRS).{hint}", where=what, hint=_DECLARE_HINT, option="crs"
        )
    out = gdf if gdf.crs.equals(WORKING_CRS) else gdf.to_crs(WORKING_CRS)
    if len(out) and not out.geometry.is_empty.all():
        xmin, ymin, xmax, ymax = out.total_bounds
        sxmin, symin, sxmax, symax = SWEDEN_BOUNDS_3006
        if (
            not np.all(np.isfinite([xmin, ymin, xmax, ymax]))
            or xmin < sxmin
            or ymin < symin
            or xmax > sxmax
            or ymax > symax
        ):
            bounds = tuple(gdf.total_bounds)
            guess = guess_crs_from_bounds(bounds)
            hint = f" The coordinates look like EPSG:{guess} ({SWEDISH_CRS[guess]})." if guess else ""
            swapped = guess_crs_from_bounds((bounds[1], bounds[0], bounds[3], bounds[2]))
            if not guess and swapped is not None and gdf.crs.equals(SERVING_CRS):
                hint = " Are longitude and latitude swapped? (lon is east, 11–24 in Sweden; lat is north, 55–69)"
            raise CRSError(
                f"{what} is declared as {describe_crs(gdf.crs)}, but in that CRS its coordinates do not lie "
                f"in Sweden (bounds {tuple(round(float(v), 3) for v in gdf.total_bounds)}).{hint}",
                where=what,
                hint="Check the CRS in your GIS export, or give the right one with the file.",
                option="crs",
            )
    if out is gdf:
        out = gdf.copy()
    return out
