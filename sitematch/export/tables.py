"""Tables of a match: ``ranking.csv`` and ``funnel.csv`` for spreadsheets, ``ranking.gpkg`` for GIS.

The CSV holds every site in the region, ranked sites first (by rank), then excluded sites closest
to passing first, with the reason for every score and what excluded sites missed by. The
GeoPackage holds the same rows as polygons in two layers, ``ranked`` and ``excluded``, plus a
``sources`` table with the provenance of the layers used. It is written in EPSG:3006 (SWEREF 99 TM),
the CRS Swedish municipal GIS works in, so areas and distances measure right in QGIS.

CSV files come in two dialects: plain (UTF-8, ``,``, ``.`` decimals: pandas, R, QGIS) and
``excel`` (UTF-8 with a byte-order mark, ``;`` between fields and ``,`` decimals: what Excel with
Swedish settings opens with a double click). In both, text a spreadsheet would run as a formula
is neutralised (:func:`sitematch._io.spreadsheet_safe`). The ``excel`` dialect also writes yes/no
as ``Ja``/``Nej`` and codes with leading zeros (kommunkod ``0180``, länskod ``01``) as
``="0180"``: Excel turns a bare ``0180`` into the number 180 whatever the file says (it has no
type in CSV, and a ``'`` or a leading tab would stay in the cell as a character), but opens the
formula ``="0180"`` as the text 0180; only cells of 2–4 digits are written so, so nothing a file
holds can become a formula (see :func:`excel_cells`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from sitematch import schema as s
from sitematch._io import FORMULA_STARTS, atomic_target, for_ogr, spreadsheet_safe
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
    VERIFY,
    WHY_PREFIX,
    MatchResult,
)

#: Leading columns of the ranking table, in order.
LEAD_COLUMNS = (
    RANK,
    s.PLOT_ID,
    s.NAME,
    s.MUNICIPALITY_CODE,
    s.MUNICIPALITY_NAME,
    SCORE,
    PASSED,
    NEAR_MISS,
    N_MISSED,
    SHORTFALL,
    MISSED,
    VERIFY,
)
#: CSV dialects: plain, and what Excel with Swedish settings opens as it is.
DIALECTS = {
    "plain": {"sep": ",", "decimal": ".", "encoding": "utf-8"},
    "excel": {"sep": ";", "decimal": ",", "encoding": "utf-8-sig"},
}


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
    rows = rows.assign(**{s.MUNICIPALITY_NAME: _municipality_names(result, rows[s.MUNICIPALITY_CODE])})
    return gpd.GeoDataFrame(rows[table_columns(rows.columns)], geometry=s.GEOMETRY, crs=result.sites.crs)


def _municipality_names(result: MatchResult, codes: pd.Series) -> np.ndarray:
    """Each row's municipality name (looked up once per municipality)."""
    text = codes.astype(str)
    return text.map({c: result.run.municipality(c) for c in text.unique()}).to_numpy(dtype=object)


def table_columns(columns: pd.Index | list[str]) -> list[str]:
    """The columns of the ranking table, in its order, from a result's site columns (geometry last).

    Examples
    --------
    >>> table_columns(["geometry", "area_ha", "why_x", "points_a", "check_x", "score", "plot_id", "rank"])
    ['rank', 'plot_id', 'municipality_name', 'score', 'points_a', 'check_x', 'area_ha', 'geometry']
    """
    names = [*columns, s.MUNICIPALITY_NAME] if s.MUNICIPALITY_NAME not in columns else list(columns)
    lead = [c for c in LEAD_COLUMNS if c in names]
    points = [c for c in names if c.startswith(POINTS_PREFIX)]
    checks = [c for c in names if c.startswith((CHECK_PREFIX, SHORTFALL_PREFIX))]
    rest = [
        c
        for c in names
        if c not in lead and c not in points and c not in checks and c != s.GEOMETRY and not c.startswith(WHY_PREFIX)
    ]
    return [*lead, *points, *checks, *rest, s.GEOMETRY]


def _table_parts(result: MatchResult) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ranking table's rows in its order, as the result already holds them: ranked, then excluded."""
    return result.ranked, result.excluded


def _arrow_column(result: MatchResult, name: str) -> Any:
    """One column of the ranking table as an Arrow array, its rows in table order."""
    import pyarrow as pa

    from sitematch.export._parts import prepared_column

    parts = _table_parts(result)
    if name == s.MUNICIPALITY_NAME:
        names = [_municipality_names(result, part[s.MUNICIPALITY_CODE]) for part in parts]
        return pa.array(np.concatenate(names), pa.string())
    prepared = prepared_column(result, "raw", name)
    if prepared is not None:
        return prepared
    return arrow_of(parts, name, floats=result.sites[name].dtype.kind == "f")


def arrow_of(parts: Sequence[pd.DataFrame], name: str, *, floats: bool) -> Any:
    """Column ``name`` of the frames ``parts`` as one Arrow array, as the tables write it.

    Floats (``floats``) rounded to 6 decimals (whole figures, no float noise; NaN as missing);
    categories as their text; a column of nothing but missing values as text.
    """
    import pyarrow as pa

    if floats:
        values = np.concatenate([part[name].to_numpy() for part in parts])
        return pa.array(np.round(values, 6), from_pandas=True)
    chunks: list[Any] = []
    for part in parts:
        arr = pa.array(part[name], from_pandas=True)
        chunks += arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    filled = [c for c in chunks if len(c)]
    if len(filled) == 1 and not pa.types.is_null(filled[0].type):  # all ranked, or all excluded: no copy
        chunks = filled
    types = {c.type for c in chunks if len(c)} or {chunks[0].type}
    if len(chunks) == 1:
        arr = chunks[0]
    elif len(types) == 1:
        arr = pa.concat_arrays([c.cast(next(iter(types))) for c in chunks])
    else:  # one part all missing (null type), the other not
        kind = next(t for t in types if not pa.types.is_null(t))
        arr = pa.concat_arrays([c.cast(kind) for c in chunks])
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_null(arr.type):  # every value missing: GDAL and the CSV take it as text
        arr = arr.cast(pa.string())
    return arr


#: Arrow columns of results being exported (:func:`shared_columns`), by ``id(result)``: [users, columns].
_SHARED: dict[int, list[Any]] = {}
_SHARED_LOCK = threading.Lock()


@contextlib.contextmanager
def shared_columns(result: MatchResult) -> Iterator[None]:
    """While open, each column of ``result``'s table goes to Arrow once for the CSV and the GeoPackage.

    Without it each writer builds its own (a second copy of every column); with it the columns
    live until the outermost ``with`` ends (``write_all`` holds it around its writers).
    """
    key = id(result)
    with _SHARED_LOCK:
        _SHARED.setdefault(key, [0, {}])[0] += 1
    try:
        yield
    finally:
        with _SHARED_LOCK:
            _SHARED[key][0] -= 1
            if not _SHARED[key][0]:
                del _SHARED[key]


def _column(result: MatchResult, name: str) -> Any:
    """:func:`_arrow_column`, kept for the next writer while :func:`shared_columns` is open."""
    kept = _SHARED.get(id(result))
    if kept is None:
        return _arrow_column(result, name)
    columns = kept[1]
    if name not in columns:
        columns[name] = _arrow_column(result, name)
    return columns[name]


def _in_threads(function: Any, items: list[Any]) -> list[Any]:
    """``[function(x) for x in items]`` on every core: Arrow, NumPy, GEOS and PROJ let go of the GIL."""
    from concurrent.futures import ThreadPoolExecutor

    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [function(x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def _formula_safe(arr: Any) -> Any:
    """Text a spreadsheet would run as a formula, with ``'`` before it (as :func:`spreadsheet_safe`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return arr
    starts = "".join("\\t" if c == "\t" else "\\r" if c == "\r" else "\\" + c for c in FORMULA_STARTS)
    risky = pc.match_substring_regex(arr, f"^[{starts}]")
    if not pc.any(risky).as_py():
        return arr
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", arr.type), arr, pa.scalar("", arr.type)), arr)


def _lon_lat(geometry: np.ndarray, crs: Any) -> dict[str, np.ndarray]:
    """Each site's centroid in longitude and latitude, rounded to 6 decimals (as ``write_csv`` writes them).

    The centroids' coordinates go through PROJ as arrays — what ``GeoSeries.to_crs`` does
    (``always_xy``), without building a point per site twice; a site without geometry has none.
    """
    from pyproj import Transformer

    centroids = shapely.centroid(geometry)
    x, y = shapely.get_x(centroids), shapely.get_y(centroids)
    missing = np.isnan(x) | np.isnan(y)
    lon, lat = Transformer.from_crs(crs, SERVING_CRS, always_xy=True).transform(x, y)
    lon, lat = np.where(missing, np.nan, lon), np.where(missing, np.nan, lat)
    return {"lon": np.round(lon, 6), "lat": np.round(lat, 6)}


def _lon_lat_text(geometry: np.ndarray, crs: Any) -> list[Any]:
    """The ``lon`` and ``lat`` columns of ``ranking.csv`` as text."""
    import pyarrow as pa

    lonlat = _lon_lat(geometry, crs)
    return [float_text(pa.array(lonlat["lon"])), float_text(pa.array(lonlat["lat"]))]


def csv_text(arr: Any) -> Any:
    """An Arrow column as the plain CSV's cells: formulas neutralised, floats and yes/no as pandas writes them."""
    return _csv_cells(_formula_safe(arr))


def _write_csv_arrow(result: MatchResult, path: Path) -> Path:
    """``ranking.csv`` (plain dialect) straight from the result's columns through Arrow.

    The same cells as :func:`_write_table` writes through pandas (read back cell by cell in the
    tests), without a pandas copy of every site.
    """
    table = _csv_table(result)
    with atomic_target(Path(path)) as tmp:
        _write_arrow_table_csv(table, tmp)
    return Path(path)


def _write_arrow_table_csv(table: Any, path: Path) -> None:
    import pyarrow.csv as pacsv

    pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))


def _csv_table(result: MatchResult) -> Any:
    """The plain CSV's cells as one Arrow table of text columns, rows in table order."""
    import pyarrow as pa

    from sitematch.export._parts import prepared_column

    columns = table_columns(result.sites.columns)[:-1]
    geometry = np.concatenate([np.asarray(part.geometry.values) for part in _table_parts(result)])

    def column(name: str | None) -> Any:
        if name is None:  # the centroids, while the other threads turn columns into text
            prepared = [prepared_column(result, "csv", c) for c in ("lon", "lat")]
            if all(p is not None for p in prepared):
                return prepared
            return _lon_lat_text(geometry, result.sites.crs)
        prepared = prepared_column(result, "csv", name)
        return prepared if prepared is not None else csv_text(_column(result, name))

    lonlat, *arrays = _in_threads(column, [None, *columns])
    arrays += lonlat
    names = [("'" + c if c.startswith(FORMULA_STARTS) else c) for c in [*columns, "lon", "lat"]]
    return pa.Table.from_arrays(arrays, names=names)


def _write_table(frame: pd.DataFrame, path: Path, dialect: str, lang: str | None = None) -> Path:
    options = DIALECTS[dialect]
    if dialect == "excel" and lang:  # headers for people (Excel); the plain dialect keeps the column names
        from sitematch.export._labels import column_labels

        frame = frame.rename(columns=column_labels(frame.columns, lang))
    floats = frame.select_dtypes("float").columns
    frame = frame.assign(**{c: frame[c].round(6) for c in floats})  # whole figures, no float noise
    frame.columns = [("'" + c if str(c).startswith(FORMULA_STARTS) else c) for c in frame.columns]
    frame = spreadsheet_safe(frame)
    if dialect == "excel":
        frame = excel_cells(frame)
    with atomic_target(Path(path)) as tmp:
        if dialect != "plain" or len(frame) < ARROW_CSV_ROWS or not _write_arrow_csv(frame, tmp):
            frame.to_csv(
                tmp,
                index=False,
                sep=options["sep"],
                decimal=options["decimal"],
                encoding=options["encoding"],
            )
    return Path(path)


#: From this many rows the plain dialect is written through Arrow (smaller tables through pandas, as before).
ARROW_CSV_ROWS = 20_000


def _write_arrow_csv(frame: pd.DataFrame, path: Path) -> bool:
    """Write the plain dialect through Arrow's CSV writer (a million rows in seconds); False if Arrow cannot.

    Values read back as pandas writes them: yes/no as ``True``/``False``, floats as pandas writes
    them (``5.0``, ``1e-06``), missing values empty; text is quoted.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        arrays = [_csv_cells(pa.array(frame[name], from_pandas=True)) for name in frame.columns]
        table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
        pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))
    except (pa.ArrowException, TypeError, ValueError):
        return False
    return True


def _csv_cells(arr: Any) -> Any:
    """One Arrow column as the text pandas' ``to_csv`` writes for it (plain dialect)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    if pa.types.is_boolean(arr.type):
        return pc.if_else(arr, "True", "False")
    if pa.types.is_floating(arr.type):
        return float_text(arr)
    return arr


def float_text(arr: Any) -> Any:
    """Floats as Python (and so pandas' ``to_csv``) writes them: ``5.0``, ``0.25``, ``1e-06``; NaN as null.

    Arrow's shortest round-trip text has the same digits as Python's ``repr``; it differs only in
    form — ``5`` for ``5.0``, ``0.000001`` for ``1e-06``, ``1e+15`` for ``1000000000000000.0`` — so
    whole numbers get ``.0`` and the few values in exponent range are written by NumPy.

    Examples
    --------
    >>> import pyarrow as pa
    >>> float_text(pa.array([5.0, 0.25, 1e-06, -0.0, 1e15, float("nan"), float("inf")])).to_pylist()
    ['5.0', '0.25', '1e-06', '-0.0', '1000000000000000.0', None, 'inf']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    values = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    nan = np.isnan(values)
    text = pa.array(values, mask=nan).cast(pa.string())
    exponent = pc.match_substring(text, "e").fill_null(False).to_numpy(zero_copy_only=False)
    with np.errstate(invalid="ignore"):
        size = np.abs(values)
        infinite = np.isinf(values)  # Arrow writes "inf" / "-inf" as Python does (a never-measured column is all inf)
        odd = exponent | (~nan & ~infinite & ((size >= 1e16) | ((size < 1e-4) & (values != 0))))
        whole = ~odd & ~nan & ~infinite & (np.floor(values) == values)
    if whole.any():  # only the whole ones get their ".0"
        mask = pa.array(whole)
        text = pc.replace_with_mask(text, mask, pc.binary_join_element_wise(text.filter(mask), ".0", ""))
    if odd.any():  # rare: exponent form
        text = pc.replace_with_mask(text, pa.array(odd), pa.array(values[odd].astype(str), pa.string()))
    return text


def write_csv(result: MatchResult, path: Path, *, dialect: str = "plain", lang: str | None = None) -> Path:
    """Write ``ranking.csv``: one row per site, with its centroid in longitude/latitude.

    Parameters
    ----------
    result : MatchResult
    path : pathlib.Path
        Where to write; replaced atomically.
    dialect : str
        ``"plain"`` or ``"excel"`` (see the module docstring).
    lang : {"sv", "en"}, optional
        With the ``excel`` dialect: column headers in words of this language (``rang``, ``poäng``…)
        instead of the machine-readable names (which the plain dialect always keeps).

    Returns
    -------
    pathlib.Path
    """
    if dialect == "plain" and len(result.sites) >= ARROW_CSV_ROWS:
        return _write_csv_arrow(result, path)
    table = ranking_table(result)
    centroids = gpd.GeoSeries(table.geometry.centroid, crs=table.crs).to_crs(SERVING_CRS)
    df = pd.DataFrame(table.drop(columns=s.GEOMETRY))
    df["lon"] = centroids.x.round(6).to_numpy()
    df["lat"] = centroids.y.round(6).to_numpy()
    return _write_table(df, path, dialect, lang)


def write_funnel(result: MatchResult, path: Path, *, dialect: str = "plain", lang: str | None = None) -> Path:
    """Write ``funnel.csv``: per requirement, the sites it excludes, and the funnel to the shortlist.

    See :func:`sitematch.funnel.funnel` for the columns.
    """
    from sitematch.funnel import funnel

    return _write_table(funnel(result), path, dialect, lang)


def write_gpkg(result: MatchResult, path: Path) -> Path:
    """Write ``ranking.gpkg`` with layers ``ranked``, ``excluded`` and ``sources`` (EPSG:3006).

    ``path`` is replaced atomically; returns it. The sites go to GDAL as one Arrow table built
    from the result's columns (no pandas copy), polygons as one-part MultiPolygons
    (:mod:`sitematch.export._wkb`), into a fresh file with SQLite's journal and syncs off (the
    file is renamed into place only when whole).
    """
    from sitematch.export._gpkg_layers import write_site_layers

    table = _gpkg_table(result)
    if table is None:
        return _write_gpkg_pandas(result, path)
    with atomic_target(Path(path)) as tmp:
        with _GDAL_OPTIONS:  # GDAL's options are process-wide: one such write at a time
            write_site_layers(table, tmp, len(result.ranked), _crs_text(result))
        pyogrio.write_dataframe(result.provenance.astype(object), tmp, layer="sources", driver="GPKG")
    return Path(path)


def _crs_text(result: MatchResult) -> str | None:
    return f"EPSG:{result.sites.crs.to_epsg()}" if result.sites.crs is not None else None


def _gpkg_table(result: MatchResult) -> Any:
    """The sites as one Arrow table in table order, geometry as MultiPolygon WKB; None if Arrow cannot take them."""
    import pyarrow as pa

    columns = table_columns(result.sites.columns)[:-1]
    geometry = np.concatenate([np.asarray(part.geometry.values) for part in _table_parts(result)])
    from sitematch.export._parts import prepared_column

    def polygons() -> Any:
        prepared = prepared_column(result, "wkb", s.GEOMETRY)
        return prepared if prepared is not None else _multipolygon_wkb(geometry)

    try:  # the polygons' WKB in one thread while the others take the columns
        wkb, *arrays = _in_threads(lambda c: polygons() if c is None else _column(result, c), [None, *columns])
        if wkb is None:
            return None
        return pa.Table.from_arrays([*arrays, wkb], names=[*columns, s.GEOMETRY])
    except (pa.ArrowException, TypeError, ValueError):  # a column Arrow cannot take as it is
        return None


def write_tables(
    result: MatchResult, csv_path: Path, gpkg_path: Path, *, dialect: str = "plain", lang: str | None = None
) -> tuple[Path, Path]:
    """Write ``ranking.csv`` and ``ranking.gpkg`` together, as :func:`write_csv` and :func:`write_gpkg` would.

    Each column is taken to Arrow once for both files; every column of both is made first (in
    threads, on every core), then Arrow's CSV writer runs in a thread while GDAL inserts the
    GeoPackage's rows: GDAL holds Python's lock while it inserts, Arrow's writer does not need
    it, so the two run side by side. The CSV is byte for byte the one :func:`write_csv` writes.
    Each file is replaced atomically, and neither when either write fails.

    Returns
    -------
    tuple of pathlib.Path
        The CSV and the GeoPackage.
    """
    from concurrent.futures import ThreadPoolExecutor

    from sitematch.export._gpkg_layers import write_site_layers

    with shared_columns(result):
        if dialect != "plain" or len(result.sites) < ARROW_CSV_ROWS:
            return write_csv(result, csv_path, dialect=dialect, lang=lang), write_gpkg(result, gpkg_path)
        csv_table = _csv_table(result)
        gpkg_table = _gpkg_table(result)
    if gpkg_table is None:
        with atomic_target(Path(csv_path)) as tmp:
            _write_arrow_table_csv(csv_table, tmp)
        return Path(csv_path), _write_gpkg_pandas(result, gpkg_path)
    with (
        atomic_target(Path(csv_path)) as csv_tmp,
        atomic_target(Path(gpkg_path)) as gpkg_tmp,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        csv_job = pool.submit(_write_arrow_table_csv, csv_table, csv_tmp)
        try:
            with _GDAL_OPTIONS:  # GDAL's options are process-wide: one such write at a time
                write_site_layers(gpkg_table, gpkg_tmp, len(result.ranked), _crs_text(result))
            pyogrio.write_dataframe(result.provenance.astype(object), gpkg_tmp, layer="sources", driver="GPKG")
        finally:
            csv_job.result()
    return Path(csv_path), Path(gpkg_path)


def _multipolygon_wkb(geometry: np.ndarray) -> Any:
    from sitematch.export._wkb import multipolygon_wkb

    return multipolygon_wkb(geometry)


#: GDAL's configuration options are process-wide: one GeoPackage write sets them at a time.
_GDAL_OPTIONS = threading.Lock()


def _write_gpkg_pandas(result: MatchResult, path: Path) -> Path:
    """:func:`write_gpkg` through pandas and shapely, for geometries the Arrow path does not take."""
    table = ranking_table(result)
    with atomic_target(Path(path)) as tmp:
        for layer, rows in (("ranked", table[table[PASSED]]), ("excluded", table[~table[PASSED]])):
            pyogrio.write_dataframe(
                for_ogr(rows), tmp, layer=layer, driver="GPKG", promote_to_multi=True, use_arrow=True
            )
        pyogrio.write_dataframe(result.provenance.astype(object), tmp, layer="sources", driver="GPKG")
    return Path(path)


#: Columns of codes with leading zeros that Excel must keep as text.
CODE_COLUMNS = (s.MUNICIPALITY_CODE, s.COUNTY_CODE, "kommunkod", "lanskod")


def excel_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells as Excel with Swedish settings reads them right: yes/no as Ja/Nej, codes as text.

    A code cell (a column of :data:`CODE_COLUMNS` holding 2–4 digits) becomes ``="0180"``, the one
    form Excel opens as the text ``0180``; anything else in such a column is left as it is (and
    was already made formula-safe).

    Examples
    --------
    >>> excel_cells(pd.DataFrame({"municipality_code": ["0180", "x"], "ready": [True, False]})).to_dict("list")
    {'municipality_code': ['="0180"', 'x'], 'ready': ['Ja', 'Nej']}
    """
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if _yes_no(values):
            out[col] = [("Ja" if v else "Nej") if isinstance(v, bool | np.bool_) else "" for v in values]
        elif col in CODE_COLUMNS:
            out[col] = [f'="{v}"' if isinstance(v, str) and v.isdigit() and 2 <= len(v) <= 4 else v for v in values]
    return out


def _yes_no(values: pd.Series) -> bool:
    """Whether a column holds yes/no values (and nothing else but empty cells)."""
    if str(values.dtype) in ("bool", "boolean"):
        return True
    if values.dtype != object:
        return False
    present = [v for v in values if not (pd.api.types.is_scalar(v) and pd.isna(v))]
    return bool(present) and all(isinstance(v, bool | np.bool_) for v in present)
