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

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

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
    codes = rows[s.MUNICIPALITY_CODE].astype(str)
    names = codes.map({c: result.run.municipality(c) for c in codes.unique()})  # once per municipality
    rows = rows.assign(**{s.MUNICIPALITY_NAME: names})
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

    Values read back as pandas writes them: yes/no as ``True``/``False``, whole numbers in float
    columns as ``5.0``, missing values empty; text is quoted.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        arrays = []
        for name in frame.columns:
            arr = pa.array(frame[name], from_pandas=True)
            if pa.types.is_dictionary(arr.type):
                arr = arr.cast(arr.type.value_type)
            if pa.types.is_boolean(arr.type):
                arr = pc.if_else(arr, "True", "False")
            elif pa.types.is_floating(arr.type):
                arr = pc.if_else(pc.is_nan(arr), pa.scalar(None, pa.float64()), arr)  # NaN: empty, as pandas
                text = arr.cast(pa.string())
                whole = pc.match_substring_regex(text, r"^-?[0-9]+$")
                arr = pc.if_else(whole, pc.binary_join_element_wise(text, pa.scalar(".0"), ""), text)
            arrays.append(arr)
        table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
        pacsv.write_csv(table, str(path), pacsv.WriteOptions(quoting_style="needed"))
    except (pa.ArrowException, TypeError, ValueError):
        return False
    return True


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

    ``path`` is replaced atomically; returns it.
    """
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
