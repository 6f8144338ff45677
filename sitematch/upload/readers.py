"""Read a municipality's upload, whatever its GIS exported: one reader per format.

GeoPackage, zipped Shapefile, GeoJSON, KML/GML/FlatGeobuf (where GDAL reads them) and CSV (a WKT
column, or lon/lat columns, or N/E columns). Every failure to read becomes an
:class:`~sitematch.errors.UploadError` that names the file and says what to do.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from sitematch.crs import parse_crs
from sitematch.errors import UploadError

GDAL_SUFFIXES = (".gpkg", ".geojson", ".json", ".kml", ".gml", ".fgb", ".shp")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "geometri")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "longitud")
LAT_COLUMNS = ("lat", "latitude", "latitud")
E_COLUMNS = ("e", "east", "easting", "x", "ost", "öst", "e_koord")
N_COLUMNS = ("n", "north", "northing", "y", "nord", "n_koord")

#: How a CSV row with a point (lon/lat or N/E) becomes a plot: a square of the row's ``area_ha``
#: around the point, flagged as approximate in the report.
POINT_SQUARE_NOTE = "located by a point: drawn as a square of its area_ha around it (approximate boundary)"


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


def _read_gdal(path: str, what: str) -> gpd.GeoDataFrame:
    try:
        layers = pyogrio.list_layers(path)
        spatial = [row[0] for row in layers if row[1] is not None]
        if not spatial:
            raise UploadError(f"{what}: holds no layer with geometries")
        if len(spatial) > 1:
            raise UploadError(f"{what}: holds {len(spatial)} layers ({', '.join(spatial)}); upload one layer per file")
        with warnings.catch_warnings():  # pyogrio warns when a GeoJSON property is not JSON; we validate it anyway
            warnings.simplefilter("ignore", UserWarning)
            return pyogrio.read_dataframe(path, layer=spatial[0])
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise UploadError(
            f"{what}: not a readable geodata file ({str(exc).splitlines()[0]}); export it again from your GIS "
            "as GeoPackage, zipped Shapefile, GeoJSON or CSV"
        ) from None


def _read_zip(path: Path) -> gpd.GeoDataFrame:
    if not zipfile.is_zipfile(path):
        raise UploadError(f"{path.name}: not a valid zip file (corrupt or truncated); zip the Shapefile again")
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UploadError(f"{path.name}: corrupt zip file ({exc}); zip the Shapefile again") from None
    if bad is not None:
        raise UploadError(f"{path.name}: corrupt zip file (member {bad!r} fails its checksum); zip the Shapefile again")
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        found = "no .shp file" if not shps else f"{len(shps)} .shp files"
        raise UploadError(
            f"{path.name}: a zipped Shapefile must hold exactly one .shp (with .shx, .dbf, .prj); found {found}"
        )
    stem = shps[0][:-4]
    for ext in (".shx", ".dbf"):
        if not any(n.lower() == (stem + ext).lower() for n in names):
            raise UploadError(f"{path.name}: {shps[0]} comes without its {ext} file; zip all the Shapefile's files")
    return _read_gdal(f"/vsizip/{path}/{shps[0]}", path.name)


def _sniff_csv(text: str) -> pd.DataFrame:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        sep = dialect.delimiter
    except csv.Error:
        sep = ";" if sample.count(";") > sample.count(",") else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)


def _read_csv(path: Path, crs: CRS | None) -> tuple[gpd.GeoDataFrame, list[str]]:
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    try:
        df = _sniff_csv(text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UploadError(f"{path.name}: not a readable CSV file ({exc})") from None
    cols = list(df.columns)
    notes: list[str] = []
    wkt = _find(cols, WKT_COLUMNS)
    lon, lat = _find(cols, LON_COLUMNS), _find(cols, LAT_COLUMNS)
    east, north = _find(cols, E_COLUMNS), _find(cols, N_COLUMNS)
    if wkt:
        geoms = []
        for i, value in enumerate(df[wkt]):
            try:
                geoms.append(shapely.from_wkt(value) if value.strip() else None)
            except shapely.errors.GEOSException:
                geoms.append(None)
                notes.append(f"row {i + 1}: column {wkt!r} is not valid WKT")
        gdf = gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms, crs=crs)
        return gdf, notes
    if lon and lat:
        xs, ys = (
            pd.to_numeric(df[lon].str.replace(",", "."), errors="coerce"),
            pd.to_numeric(df[lat].str.replace(",", "."), errors="coerce"),
        )
        point_crs = crs or CRS.from_epsg(4326)
        gdf = gpd.GeoDataFrame(df.drop(columns=[lon, lat]), geometry=gpd.points_from_xy(xs, ys), crs=point_crs)
        gdf.attrs["from_points"] = True
        return gdf, notes
    if east and north:
        xs, ys = (
            pd.to_numeric(df[east].str.replace(",", "."), errors="coerce"),
            pd.to_numeric(df[north].str.replace(",", "."), errors="coerce"),
        )
        gdf = gpd.GeoDataFrame(df.drop(columns=[east, north]), geometry=gpd.points_from_xy(xs, ys), crs=crs)
        gdf.attrs["from_points"] = True
        return gdf, notes
    raise UploadError(
        f"{path.name}: a CSV needs a geometry: a WKT column ({', '.join(WKT_COLUMNS[:3])}), lon/lat columns, "
        f"or N/E columns; found columns {', '.join(cols)}"
    )


def read_upload(path: str | Path, *, crs: str | None = None) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read an uploaded file as it is (its own columns, its own CRS).

    Parameters
    ----------
    path : str or pathlib.Path
        The file: ``.gpkg``, ``.zip`` (Shapefile), ``.geojson``/``.json``, ``.csv``, ``.kml``,
        ``.gml``, ``.fgb``.
    crs : str, optional
        The CRS to assume when the file declares none (``EPSG:3006``, ``3011``…). A file that does
        declare one is read in its own; ``crs`` then must agree or is refused.

    Returns
    -------
    gdf : geopandas.GeoDataFrame
        The rows as read, with the file's CRS (or ``crs``).
    notes : list of str
        Remarks on reading (rows whose WKT did not parse…).

    Raises
    ------
    UploadError
        If the file is missing, empty, corrupt, of an unknown kind, or has no CRS and none is given.
    """
    path = Path(path)
    if not path.is_file():
        raise UploadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise UploadError(f"{path.name}: the file is empty (0 bytes); export it again")
    given = parse_crs(crs) if crs else None
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".zip":
        gdf = _read_zip(path)
    elif suffix == ".csv":
        gdf, notes = _read_csv(path, given)
    elif suffix in GDAL_SUFFIXES:
        if suffix == ".shp":
            raise UploadError(f"{path.name}: upload a Shapefile as a .zip holding its .shp, .shx, .dbf and .prj")
        gdf = _read_gdal(str(path), path.name)
    else:
        raise UploadError(
            f"{path.name}: unknown file kind {suffix!r}; upload GeoPackage (.gpkg), zipped Shapefile (.zip), "
            "GeoJSON (.geojson), CSV (.csv), KML or GML"
        )
    if len(gdf) == 0:
        raise UploadError(f"{path.name}: the file holds no rows")
    if gdf.crs is None:
        if given is None:
            raise UploadError(
                f"{path.name}: the file declares no coordinate reference system (CRS). Give it one in your GIS "
                "(a .prj beside a Shapefile), or pass --crs, e.g. --crs EPSG:3006 (SWEREF 99 TM) or EPSG:3011 "
                "(SWEREF 99 18 00, Stockholm)"
            )
        gdf = gdf.set_crs(given)
    elif given is not None and suffix != ".csv" and not gdf.crs.equals(given):
        raise UploadError(
            f"{path.name}: the file declares {gdf.crs.to_string()} but --crs says {given.to_string()}; "
            "drop --crs, or fix the CRS in the file"
        )
    return gdf, notes
