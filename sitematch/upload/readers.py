"""Read a municipality's upload, whatever its GIS exported: one format, one reader, one GDAL driver.

Each accepted suffix is read by exactly one driver (:data:`DRIVERS`); CSV by our own reader, in
the calling process when it is small and plain (:data:`IN_PROCESS_CSV_MAX_BYTES`: no GDAL is
involved, so nothing there can open another file or the network). Every other read runs in a
child process in which no other GDAL driver exists and GDAL cannot reach the network (see
:mod:`sitematch.upload._sandbox`), on a private copy of the upload (so nothing beside the upload is
read, and no sidecar such as a GML ``.gfs`` is written beside it), within a size and a time limit
(``settings.upload_max_bytes``, ``settings.upload_read_timeout_s``). Every failure to read becomes
an :class:`~sitematch.errors.UploadError` that names the file and says what to do.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from sitematch import settings
from sitematch.crs import parse_crs
from sitematch.errors import UploadError
from sitematch.store.rules import shown, shown_list
from sitematch.upload import _precheck, _sandbox

logger = logging.getLogger(__name__)

#: The one GDAL driver that reads each accepted suffix (CSV: sitematch's own reader).
DRIVERS: dict[str, str | None] = {
    ".gpkg": "GPKG",
    ".zip": "ESRI Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "LIBKML",
    ".gml": "GML",
    ".fgb": "FlatGeobuf",
    ".csv": None,
}
#: What each suffix is called in messages.
FORMATS = {
    ".gpkg": "GeoPackage",
    ".zip": "zipped Shapefile",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".kml": "KML",
    ".gml": "GML",
    ".fgb": "FlatGeobuf",
    ".csv": "CSV",
}
#: GDAL settings in the reader process: KML keeps its field names as written (``Användning``, not
#: ``Anv__ndning``) and its placemark id apart from the file's own fields; GML fetches no schema.
GDAL_CONFIG = {
    "LIBKML_LAUNDER_FIELD_NAMES": "NO",
    "LIBKML_ID_FIELD": "kml_id",
    "GML_DOWNLOAD_WFS_SCHEMA": "NO",
    "GML_SKIP_RESOLVE_ELEMS": "ALL",
}
#: Driver open options (GeoJSON: text that looks like a date stays the text it is).
OPEN_OPTIONS = {
    "GML": {"WRITE_GFS": "NO", "DOWNLOAD_SCHEMA": "NO"},
    "GPKG": {"IMMUTABLE": "YES"},
    "GeoJSON": {"DATE_AS_STRING": "YES"},
}
#: pyogrio drops measures (M) as it reads, and says so in a warning; the report says so in a note.
M_DROPPED_NOTE = "measures (M) dropped from the geometries: plots are stored in 2D"
#: LIBKML's presentation fields, which are no plot data.
KML_PRESENTATION = (
    "timestamp", "begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon", "snippet",
)  # fmt: skip
#: Markers of GDAL virtual datasets, which point at other files (for a precise refusal).
VIRTUAL_MARKERS = (b"OGRVRTDataSource", b"VRTDataset", b"gdal_streamed_alg", b"OGRWFSDataSource")
SHAPEFILE_PARTS = (".shx", ".dbf")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom", "geometri")
LON_COLUMNS = ("lon", "lng", "long", "longitude", "longitud")
LAT_COLUMNS = ("lat", "latitude", "latitud")
E_COLUMNS = ("e", "east", "easting", "x", "ost", "öst", "e_koord")
N_COLUMNS = ("n", "north", "northing", "y", "nord", "n_koord")

#: How a CSV row with a point (lon/lat or N/E) becomes a plot: a square of the row's ``area_ha``
#: around the point, flagged as approximate in the report.
POINT_SQUARE_NOTE = "located by a point: drawn as a square of its area_ha around it (approximate boundary)"
#: A CSV of at most this many bytes, with fewer than :data:`IN_PROCESS_CSV_MAX_COLUMNS` separators in
#: its first line, is read in the calling process (pure Python and pandas, no GDAL: nothing there can
#: open another file or the network, and the work is bounded by the size); a larger or wider one in
#: a reader process, as every other format.
IN_PROCESS_CSV_MAX_BYTES = 4_000_000
IN_PROCESS_CSV_MAX_COLUMNS = 200
#: Text that makes GEOS's WKT reader recurse (a collection nests collections): such a CSV is read in
#: a reader process, where a stack overflow ends only that process.
_NESTING = re.compile(rb"geometrycollection", re.IGNORECASE)
_EXPORT_AGAIN = "export it again from your GIS as GeoPackage, zipped Shapefile, GeoJSON or CSV"


def _find(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.lower().strip(): c for c in columns}
    return next((lower[n] for n in names if n in lower), None)


# -- in the reader process ------------------------------------------------------------------------
def _copy_bounded(src: str, dst: Path, max_bytes: int, name: str) -> None:
    """Copy the upload to the private folder, refusing it if it grew past the limit meanwhile."""
    with open(src, "rb") as fin, dst.open("wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)
        copied = fout.tell()
    if copied > max_bytes:
        raise UploadError(_too_large(name, copied, max_bytes), where=name)


def _virtual(head: bytes) -> bool:
    return any(marker in head for marker in VIRTUAL_MARKERS)


def _unreadable(name: str, suffix: str, exc: Exception, local: str, head: bytes) -> UploadError:
    if _virtual(head):
        return UploadError(
            f"{name}: a GDAL virtual dataset (VRT or GDALG) saved as {suffix}; it points at other files or "
            "services, and sitematch reads only the data inside an upload: export the data itself",
            where=name,
        )
    detail = shown(str(exc).splitlines()[0].replace(local, name) if str(exc) else type(exc).__name__, 120)
    return UploadError(f"{name}: not a readable {FORMATS[suffix]} file ({detail}); {_EXPORT_AGAIN}", where=name)


def _unbuildable(name: str, source: str, layer: str, driver: str, exc: Exception) -> UploadError:
    """An UploadError naming the rows whose geometry cannot be built (e.g. a ring that is not closed)."""
    detail = str(exc).split(":", 1)[-1].strip() or type(exc).__name__
    try:
        again = pyogrio.read_dataframe(source, layer=layer, on_invalid="ignore", **OPEN_OPTIONS.get(driver, {}))
        rows = [i + 1 for i, g in enumerate(again.geometry) if g is None]
    except (pyogrio.errors.DataSourceError, shapely.errors.GEOSException):
        rows = []
    where = f"row(s) {shown_list([str(r) for r in rows], 10)}" if rows else "at least one row"
    return UploadError(
        f"{name}: the geometry of {where} cannot be built ({shown(detail, 120)}); a polygon's ring must end "
        "where it starts. Repair the geometries in your GIS (QGIS: Vector > Geometry Tools > Fix Geometries) "
        "and export again",
        where=name,
    )


def _read_gdal(
    source: str, name: str, suffix: str, layers: list[str] | None, head: bytes
) -> tuple[gpd.GeoDataFrame, list[str]]:
    driver = str(DRIVERS[suffix])
    try:
        spatial = layers if layers is not None else [r[0] for r in pyogrio.list_layers(source) if r[1] is not None]
        if not spatial:
            raise UploadError(f"{name}: holds no layer with geometries", where=name)
        if len(spatial) > 1:
            raise UploadError(
                f"{name}: holds {len(spatial)} layers ({shown_list(spatial, 5)}); upload one layer per file",
                where=name,
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = pyogrio.read_dataframe(source, layer=spatial[0], **OPEN_OPTIONS.get(driver, {}))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise _unreadable(name, suffix, exc, source, head) from None
    except shapely.errors.GEOSException as exc:  # GDAL read it, GEOS cannot build it (an unclosed ring…)
        raise _unbuildable(name, source, spatial[0], driver, exc) from None
    if driver == "LIBKML":
        gdf = gdf.drop(columns=[c for c in KML_PRESENTATION if c in gdf.columns])
    measured = any("(M)" in str(w.message) for w in caught)
    return gdf, [M_DROPPED_NOTE] if measured else []


def _shapefile(local: Path, name: str, max_unpacked_bytes: int) -> tuple[str, bytes]:
    """The ``/vsizip/`` path of the one Shapefile in a zip, and the first bytes of its ``.shp``."""
    names = _precheck.zip_members(local, name, max_unpacked_bytes)
    shps = [n for n in names if n.lower().endswith(".shp")]
    if len(shps) != 1:
        found = "no .shp file" if not shps else f"{len(shps)} .shp files"
        raise UploadError(
            f"{name}: a zipped Shapefile must hold exactly one .shp (with .shx, .dbf, .prj); found {found}", where=name
        )
    stem = shps[0][:-4]
    for ext in SHAPEFILE_PARTS:
        if not any(n.lower() == (stem + ext).lower() for n in names):
            raise UploadError(
                f"{name}: {shown(shps[0])} comes without its {ext} file; zip all the Shapefile's files", where=name
            )
    with zipfile.ZipFile(local) as zf, zf.open(shps[0]) as member:
        head = member.read(4096)  # only the start: enough to name a VRT posing as a .shp
    return f"/vsizip/{local}/{shps[0]}", head


def _sniff_csv(text: str) -> pd.DataFrame:
    sample = text[:4096]
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        sep = ";" if sample.count(";") > sample.count(",") else ","
    return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)


def _points(df: pd.DataFrame, x: str, y: str, crs: CRS | None) -> gpd.GeoDataFrame:
    xs, ys = (pd.to_numeric(df[c].str.replace(",", "."), errors="coerce") for c in (x, y))
    return gpd.GeoDataFrame(df.drop(columns=[x, y]), geometry=gpd.points_from_xy(xs, ys), crs=crs)


def _read_csv(local: Path, name: str) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    return read_csv_bytes(local.read_bytes(), name)


def read_csv_bytes(raw: bytes, name: str) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    """Read a CSV upload's bytes: checked as text (:func:`~sitematch.upload._precheck.csv_text`), then parsed.

    Pure Python and pandas (no GDAL): the one reader of CSV, in the reader process or, for a small
    file, in the calling one (:func:`read_upload`).

    Returns
    -------
    gdf, notes, from_points
        As :func:`read_in_reader_process`.
    """
    text = _precheck.csv_text(raw, name)
    try:
        df = _sniff_csv(text)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise UploadError(f"{name}: not a readable CSV file ({shown(str(exc), 120)})", where=name) from None
    cols = [str(c) for c in df.columns]
    wkt = _find(cols, WKT_COLUMNS)
    if wkt:
        geoms, notes = [], []
        for i, value in enumerate(df[wkt]):
            try:
                geoms.append(shapely.from_wkt(value) if value.strip() else None)
            except shapely.errors.GEOSException:
                geoms.append(None)
                notes.append(f"row {i + 1}: column {shown(wkt)} is not valid WKT")
        return gpd.GeoDataFrame(df.drop(columns=[wkt]), geometry=geoms), notes, False
    lon, lat = _find(cols, LON_COLUMNS), _find(cols, LAT_COLUMNS)
    if lon and lat:
        return _points(df, lon, lat, CRS.from_epsg(4326)), [], True
    east, north = _find(cols, E_COLUMNS), _find(cols, N_COLUMNS)
    if east and north:
        return _points(df, east, north, None), [], True
    raise UploadError(
        f"{name}: a CSV needs a geometry: a WKT column ({', '.join(WKT_COLUMNS[:3])}), lon/lat columns, "
        f"or N/E columns; found columns {shown_list(cols)}",
        where=name,
    )


def read_in_reader_process(
    src: str, work: str, name: str, suffix: str, max_bytes: int, max_unpacked_bytes: int
) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    """Read the upload ``src`` (run by :func:`read_upload` in the locked-down reader process).

    Returns
    -------
    gdf, notes, from_points
        The rows (CRS as the file declares it; a lon/lat CSV in EPSG:4326), remarks on reading,
        and whether the geometries are points from coordinate columns.
    """
    local = Path(work) / f"upload{suffix}"
    _copy_bounded(src, local, max_bytes, name)
    if suffix == ".csv":
        return _read_csv(local, name)
    pyogrio.set_gdal_config_options(GDAL_CONFIG)
    with local.open("rb") as f:
        head = f.read(4096)
    layers = None
    source = str(local)
    if suffix == ".zip":
        source, head = _shapefile(local, name, max_unpacked_bytes)
    elif suffix == ".gpkg":
        layers = _precheck.geopackage_layers(local, name)
    gdf, notes = _read_gdal(source, name, suffix, layers, head)
    return gdf, notes, False


# -- in the calling process -----------------------------------------------------------------------
def _bytes(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: {_bytes(size)}, more than the {_bytes(limit)} an upload may be; upload the plots in several files "
        "(for example one per area)"
    )


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".shp":
        raise UploadError(
            f"{path.name}: upload a Shapefile as a .zip holding its .shp, .shx, .dbf and .prj", where=path.name
        )
    if suffix not in DRIVERS:
        raise UploadError(
            f"{path.name}: unknown file kind {shown(suffix)}; upload GeoPackage (.gpkg), zipped Shapefile (.zip), "
            "GeoJSON (.geojson), CSV (.csv), KML, GML or FlatGeobuf (.fgb)",
            where=path.name,
        )
    return suffix


def _with_crs(gdf: gpd.GeoDataFrame, name: str, suffix: str, given: CRS | None) -> gpd.GeoDataFrame:
    if suffix == ".csv" and given is not None:
        return gdf.set_crs(given, allow_override=True)
    if gdf.crs is None:
        if given is None:
            raise UploadError(
                f"{name}: the file declares no coordinate reference system (CRS)",
                hint="Give it one in your GIS (a .prj beside a Shapefile), or give the CRS with the upload, e.g. "
                "EPSG:3006 (SWEREF 99 TM) or EPSG:3011 (SWEREF 99 18 00, Stockholm)",
                option="crs",
                where=name,
            )
        return gdf.set_crs(given)
    if given is not None and not gdf.crs.equals(given):
        raise UploadError(
            f"{name}: the file declares {gdf.crs.to_string()}, but the CRS given with the upload is "
            f"{given.to_string()}",
            hint="Leave out the CRS you gave, or fix the CRS in the file.",
            option="crs",
            where=name,
        )
    return gdf


def _in_process_csv(path: Path, size: int) -> bytes | None:
    """The bytes of a CSV small and narrow enough to read in this process; None: read it in a reader process.

    Bounded: at most :data:`IN_PROCESS_CSV_MAX_BYTES` are read (a file that grew past them since it
    was measured goes to the reader process, which applies the upload limits), and a header with
    more than :data:`IN_PROCESS_CSV_MAX_COLUMNS` separators goes there too.
    """
    if size > IN_PROCESS_CSV_MAX_BYTES:
        return None
    with path.open("rb") as f:
        raw = f.read(IN_PROCESS_CSV_MAX_BYTES + 1)
    if len(raw) > IN_PROCESS_CSV_MAX_BYTES:
        return None
    header = raw[: raw.find(b"\n")] if b"\n" in raw else raw
    if max(header.count(sep) for sep in (b",", b";", b"\t")) >= IN_PROCESS_CSV_MAX_COLUMNS:
        return None
    # GEOS parses nested collections recursively: deep enough, it overflows the stack (UTF-16 would hide the word)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or _NESTING.search(raw):
        return None
    return raw


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
        The rows as read, with the file's CRS (or ``crs``); ``gdf.attrs["from_points"]`` is true
        when the geometries are points from coordinate columns.
    notes : list of str
        Remarks on reading (rows whose WKT did not parse…).

    Raises
    ------
    UploadError
        If the file is missing, empty, too large, of an unknown kind, corrupt, not what its suffix
        says, refers to other files or the network, takes too long to read, or has no CRS and none
        is given.

    Notes
    -----
    The file is read in a child process (see :mod:`sitematch.upload._sandbox`), a small plain CSV
    in this one: a script that calls this must guard its entry point with
    ``if __name__ == "__main__":``.

    Examples
    --------
    >>> gdf, notes = read_upload("docs/examples/tomter_1980.csv")
    >>> gdf["Objekt_ID"].tolist()
    ['Å-1', 'Å-2']
    """
    path = Path(path)
    if not path.is_file():
        raise UploadError(f"{path}: no such file", where=str(path))
    size = path.stat().st_size
    if size == 0:
        raise UploadError(f"{path.name}: the file is empty (0 bytes); export it again", where=path.name)
    if size > settings.upload_max_bytes:
        raise UploadError(_too_large(path.name, size, settings.upload_max_bytes), where=path.name)
    suffix = _suffix(path)
    given = parse_crs(crs) if crs else None
    driver = DRIVERS[suffix]
    started = time.perf_counter()
    raw = _in_process_csv(path, size) if suffix == ".csv" else None
    if raw is not None:
        gdf, notes, from_points = read_csv_bytes(raw, path.name)
        where = "in process"
    else:
        gdf, notes, from_points = _read_isolated(path, suffix, driver)
        where = "in a reader process"
    logger.info(
        "read %s (%s, %d rows) %s in %.2f s", path.name, FORMATS[suffix], len(gdf), where, time.perf_counter() - started
    )
    if len(gdf) == 0:
        raise UploadError(f"{path.name}: the file holds no rows", where=path.name)
    gdf = _with_crs(gdf, path.name, suffix, given)
    gdf.attrs["from_points"] = from_points
    return gdf, notes


def _read_isolated(path: Path, suffix: str, driver: str | None) -> tuple[gpd.GeoDataFrame, list[str], bool]:
    with tempfile.TemporaryDirectory(prefix="sitematch-upload-") as work:
        return _sandbox.run_isolated(
            read_in_reader_process,
            str(path.resolve()),
            work,
            path.name,
            suffix,
            settings.upload_max_bytes,
            settings.upload_max_unpacked_bytes,
            drivers=[driver] if driver else [],
            what=path.name,
            timeout_s=settings.upload_read_timeout_s,
        )
