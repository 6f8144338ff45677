"""Detailed plans: Lantmäteriet's digital detaljplaner (NGP JSON, spec 4.1) and plan boundaries (GeoPackage).

**Digital plans** (``application/vnd.lm.detaljplan.v4+json``, Nationell informationsspecifikation
Detaljplan 4.1), as Lantmäteriet's Nationella geodataplattformen delivers them: a
``FeatureCollection`` (``feature:mediatyp``) whose every feature has ``"geometry": null`` and
carries in its ``properties``:

- ``feature:typ`` = ``detaljplan`` | ``användningsbestämmelse`` | ``egenskapsbestämmelse``,
  ``objektidentitet`` (a UUID), ``objektversion``, ``versionGiltigFran`` (a UTC timestamp);
- the plan: ``kommun``, ``beteckning``, ``namn``, ``syfte``, ``status``, ``typ``,
  ``beslutsinformation[{beslutstyp, datumAntagande, datumLagakraft (a list), genomforandetid}]``
  and ``plangeometri``;
- a provision: ``detaljplan`` (the plan's ``objektidentitet``), ``planbestammelsekatalogreferens``
  (a UUID into Boverket's planbestämmelsekatalog), ``bestammelseformulering``,
  ``bestammelsevarde`` and ``bestammelsegeometri``.

``plangeometri`` and ``bestammelsegeometri`` are **lists** of ``{"geometri": {"typ": "yta" |
"linje" | "punkt", "koordinatsystemPlan": "EPSG:3011", "dimension": 2, "position": <GeoJSON
geometry>}, "geometrimetadata": {…}}``: the CRS is given per geometry (SWEREF 99 TM or one of the
12 local zones), and there is no top-level ``crs``. A plan's or provision's parts are joined into
one (multi)polygon; a geometry without ``koordinatsystemPlan`` takes a top-level ``crs`` member if
the file has one (older, GeoJSON-shaped files), else ``--crs``, else it is refused.

Provisions are joined to their plan through the plan's ``objektidentitet`` (a provision without a
``detaljplan`` reference goes to the plan that covers it). Use is mapped through the catalogue
**code**, not the printed letter: the mapping's ``catalogue`` (UUID → code such as ``DP_KM_J2``;
or ``catalogue_file``: a JSON export of Boverket's catalogue, a list of entries whose ``id`` and
``bestammelsekod`` fields the mapping names) and ``codes`` (code prefix → zoning letter:
``DP_KM_J`` → J). Provisions whose reference the catalogue does not hold are reported and left
out. The plan ``status`` is mapped through the mapping's ``status`` (the 4.1 code list's values
are not all confirmed here: ``påbörjad`` is, ``lagaKraft``/``antagen`` are taken as likely).
Writes ``plan_areas`` (plan status, date) and ``plan_uses`` (zoning letter per provision area),
which bring the overlay criteria ``plan_status_by_overlay`` and ``plan_zoning``. The layers' date
is the newest ``versionGiltigFran`` in the files (else the import day).

The GeoJSON-shaped simplification (a ``geometry`` on each feature, a top-level ``crs``) is read too.

**Plan boundaries** (*Markreglerande bestämmelse, nedladdning vektor*, GeoPackage, EPSG:3006 or
3007–3018): plans begun before 2022, mostly scanned, exist nationally only as boundaries; they
are written to ``plan_areas`` (status ``laga_kraft`` unless a field says otherwise). Field names
are not confirmed: the mapping lists likely ones.

Licence: Lantmäteriet's open data, CC BY 4.0 (older products CC0); Boverket's catalogue
"Boverket, Planbestämmelsekatalogen".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from sitematch import schema as s
from sitematch.crs import parse_crs
from sitematch.errors import CRSError, SitematchError
from sitematch.importers._base import ImportedLayer, Importer, SourceError, need_columns

TYPE_KEY = "feature:typ"


def zoning_letter(code: str | None, prefixes: dict[str, str]) -> str | None:
    """The zoning letter of a planbestämmelsekatalog code, by the longest matching prefix.

    Examples
    --------
    >>> zoning_letter("DP_KM_J2", {"DP_KM_J": "J", "DP_KM_H": "H"}), zoning_letter("DP_GM_X1", {"DP_KM_J": "J"})
    ('J', None)
    """
    if not code:
        return None
    hits = [p for p in prefixes if str(code).startswith(p)]
    return prefixes[max(hits, key=len)] if hits else None


def _props(feature: dict[str, Any]) -> dict[str, Any]:
    """A feature's members and its ``properties`` as one mapping (the real layout keeps all in properties)."""
    props = feature.get("properties")
    props = props if isinstance(props, dict) else {}
    return {**{k: v for k, v in feature.items() if k != "properties"}, **props}


def _dates(value: Any) -> list[str]:
    """ISO dates given as one value or a list (``datumLagakraft`` is a list in spec 4.1)."""
    values = value if isinstance(value, list) else [value]
    return [str(v)[:10] for v in values if isinstance(v, str) and v.strip()]


def _crs_name(value: Any) -> str | None:
    """``EPSG:3011`` from ``"EPSG:3011"`` or ``"urn:ogc:def:crs:EPSG::3011"``."""
    if not value:
        return None
    text = str(value)
    return f"EPSG:{text.split('EPSG::')[-1]}" if "EPSG::" in text else text


def _parts(props: dict[str, Any], key: str, what: str) -> list[tuple[str | None, Any]]:
    """The (CRS, shapely geometry) parts of a feature: its ``plangeometri`` / ``bestammelsegeometri``
    list (spec 4.1), else its GeoJSON ``geometry`` (the simplified layout; CRS from the file)."""
    listed = props.get(key)
    if isinstance(listed, dict):
        listed = [listed]
    out: list[tuple[str | None, Any]] = []
    if isinstance(listed, list) and listed:
        for i, item in enumerate(listed):
            geom = item.get("geometri") if isinstance(item, dict) else None
            if not isinstance(geom, dict) or not isinstance(geom.get("position"), dict):
                raise SourceError(
                    f"{what}: {key}[{i}] has no 'geometri' with a 'position' (a GeoJSON geometry)", where=what
                )
            try:
                shp = shape(geom["position"])
            except (ValueError, TypeError, AttributeError, KeyError) as exc:
                raise SourceError(
                    f"{what}: {key}[{i}].geometri.position is not a geometry ({exc})", where=what
                ) from None
            out.append((_crs_name(geom.get("koordinatsystemPlan")), shp))
        return out
    raw = props.get("geometry")
    if isinstance(raw, dict):
        try:
            out.append((None, shape(raw)))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise SourceError(f"{what}: its geometry is not a GeoJSON geometry ({exc})", where=what) from None
    return out


class DetaljplanImporter(Importer):
    """NGP detaljplan JSON (v4) and Markreglerande bestämmelse GeoPackage → ``plan_areas``, ``plan_uses``."""

    name = "detaljplan"
    title = "Lantmäteriet detaljplaner (NGP JSON 4.1) and plan boundaries"
    source = "Lantmäteriet, detaljplaner (Nationella geodataplattformen)"
    licence = "CC BY 4.0 (Lantmäteriet); use codes: Boverket, Planbestämmelsekatalogen"
    suffixes = (".json", ".gpkg")
    writes = ("plan_areas", "plan_uses")
    kinds = """
plan_areas:
  geometry: Polygon
  description: detailed plan areas (Lantmäteriet)
  columns:
    plan_id: {type: str, description: "plan designation (beteckning) or id"}
    name: {type: str, required: false, description: "plan name"}
    municipality_code: {type: str, required: false, description: "SCB kommunkod"}
    plan_status: {type: str, description: "laga_kraft, antagen or pagaende"}
    plan_date: {type: date, required: false, description: "date the plan gained legal force (or was adopted)"}
plan_uses:
  geometry: Polygon
  description: land-use provisions of detailed plans (användningsbestämmelser)
  columns:
    plan_id: {type: str, description: "the plan the provision belongs to"}
    zoning: {type: str, description: "use letter (J, Z, E, …) from Boverket's catalogue code"}
    use_code: {type: str, description: "Boverket's planbestämmelsekatalog code, e.g. DP_KM_J2"}
    plan_status: {type: str, description: "status of the plan"}
    name: {type: str, required: false, description: "the provision as worded (bestämmelseformulering)"}
"""
    criteria = {  # noqa: RUF012
        "plan_zoning": (
            ("plan_uses",),
            {
                "measure": "overlay",
                "layer": "plan_uses",
                "how": "largest_overlap",
                "column": s.ZONING,
                "values": list(s.ZONING_CODES),
                "label": "Zoning by the detailed plan (overlay)",
            },
        ),
        "plan_status_by_overlay": (
            ("plan_areas",),
            {
                "measure": "overlay",
                "layer": "plan_areas",
                "how": "largest_overlap",
                "column": s.PLAN_STATUS,
                "values": [v for v in s.PLAN_STATUSES if v != "ingen_plan"],
                "label": "Plan status by the detailed plan (overlay)",
            },
        ),
    }
    mapping_keys = ("catalogue", "catalogue_file", "catalogue_fields", "codes", "status")
    default_mapping: ClassVar[dict[str, Any]] = {
        # Boverket catalogue UUID → code; fill from Boverket's catalogue (catalogue_file) for real plans.
        "catalogue": {},
        "catalogue_fields": {"id": "id", "code": "bestammelsekod"},
        # Code prefix → zoning letter. J, E and H are Boverket's; the others follow the same pattern: check them.
        "codes": {
            "DP_KM_J": "J",
            "DP_KM_Z": "Z",
            "DP_KM_E": "E",
            "DP_KM_H": "H",
            "DP_KM_K": "K",
            "DP_KM_T": "T",
            "DP_KM_C": "C",
            "DP_KM_B": "B",
        },
        "status": {
            "lagaKraft": "laga_kraft",
            "laga kraft": "laga_kraft",
            "gällande": "laga_kraft",
            "antagen": "antagen",
            "antagande": "antagen",
            "pågående": "pagaende",
            "påbörjad": "pagaende",
            "samråd": "pagaende",
            "granskning": "pagaende",
        },
        # For plan-boundary GeoPackages (field names not confirmed).
        "columns": {
            s.PLAN_ID: ["beteckning", "Beteckning", "planbeteckning", "Aktbeteckning", "akt"],
            s.NAME: ["namn", "Namn", "plannamn"],
            s.MUNICIPALITY_CODE: ["kommunkod", "Kommunkod", "kommun"],
            s.PLAN_STATUS: ["status", "Status", "planstatus"],
            s.PLAN_DATE: ["datumLagakraft", "lagakraftdatum", "laga_kraft_datum"],
        },
        "defaults": {s.PLAN_STATUS: "laga_kraft"},
    }

    def _catalogue(self) -> dict[str, str]:
        table = {str(k): str(v) for k, v in (self.mapping.get("catalogue") or {}).items()}
        path = self.mapping.get("catalogue_file")
        if path:
            fields = self.mapping.get("catalogue_fields") or {}
            try:
                entries = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SourceError(f"{path}: cannot read Boverket's catalogue ({exc})", where=str(path)) from None
            entries = entries.get("data", entries) if isinstance(entries, dict) else entries
            for e in entries:
                table[str(e.get(fields.get("id", "id")))] = str(e.get(fields.get("code", "bestammelsekod")))
        return table

    def _status(self, value: Any) -> str | None:
        if value is None:
            return None
        table = {k.casefold(): v for k, v in (self.mapping.get("status") or {}).items()}
        return table.get(str(value).casefold(), str(value))

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        self.dates: list[str] = []
        areas, uses = [], []
        for path in files:
            if path.suffix.lower() == ".json":
                a, u = self._read_json(path)
                areas.append(a)
                uses.append(u)
            else:
                areas.append(self._read_boundaries(path))
        source, licence, date = self.provenance(max(self.dates, default=None), "the plans' newest versionGiltigFran")
        out_layers = []
        plan_areas = gpd.GeoDataFrame(pd.concat(areas, ignore_index=True), crs=3006)
        unknown = ~plan_areas[s.PLAN_STATUS].isin(s.PLAN_STATUSES)
        if unknown.any():
            seen = ", ".join(sorted(set(plan_areas.loc[unknown, s.PLAN_STATUS].astype(str))))
            self.report.drop("plan_areas", int(unknown.sum()), f"status not known to the mapping's 'status' ({seen})")
        if len(plan_areas[~unknown]):
            out_layers.append(
                ImportedLayer("plan_areas", plan_areas[~unknown].reset_index(drop=True), source, licence, date)
            )
        if uses and sum(len(u) for u in uses):
            plan_uses = gpd.GeoDataFrame(pd.concat(uses, ignore_index=True), crs=3006)
            out_layers.append(ImportedLayer("plan_uses", plan_uses, source, licence, date))
        return out_layers

    def _read_json(self, path: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SourceError(f"{path}: not a readable JSON plan ({exc})", where=str(path)) from None
        features = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(features, list):
            raise SourceError(f"{path}: no 'features' list: not an NGP detaljplan JSON (spec 4.1)", where=str(path))
        file_crs = _crs_name(((doc.get("crs") or {}).get("properties") or {}).get("name"))
        fallback = file_crs or (f"EPSG:{self.crs.to_epsg()}" if self.crs is not None else None)
        feats = [_props(f) for f in features if isinstance(f, dict)]
        kinds = pd.Series([f.get(TYPE_KEY) for f in feats], dtype=object).value_counts()
        self.report.read[f"features from {path.name} ({', '.join(f'{n} {k}' for k, n in kinds.items())})"] = len(
            features
        )
        stamps = [d for f in feats for d in _dates(f.get("versionGiltigFran"))]
        if stamps:
            self.dates.append(max(stamps))
        plans = [f for f in feats if f.get(TYPE_KEY) == "detaljplan"]
        provisions = [f for f in feats if f.get(TYPE_KEY) == "användningsbestämmelse"]
        if not plans:
            raise SourceError(f"{path}: holds no feature with {TYPE_KEY} = detaljplan", where=str(path))
        rows = []
        for p in plans:
            decisions = p.get("beslutsinformation") or []
            decisions = [decisions] if isinstance(decisions, dict) else decisions
            dates = [
                d
                for info in decisions
                if isinstance(info, dict)
                for d in (_dates(info.get("datumLagakraft")) or _dates(info.get("datumAntagande")))
            ]
            rows.append(
                {
                    "uuid": p.get("objektidentitet"),
                    s.PLAN_ID: p.get("beteckning") or p.get("objektidentitet"),
                    s.NAME: p.get("namn"),
                    s.MUNICIPALITY_CODE: _municipality_code(p.get("kommun")),
                    s.PLAN_STATUS: self._status(p.get("status")),
                    s.PLAN_DATE: max(dates, default=None),
                    "parts": _parts(p, "plangeometri", f"{path.name}: plan {p.get('beteckning') or ''}".strip()),
                }
            )
        plan_gdf = self._to_3006(rows, fallback, str(path), "plan")
        catalogue, prefixes = self._catalogue(), dict(self.mapping.get("codes") or {})
        use_rows, unmapped, not_areas = [], [], 0
        for f in provisions:
            ref = f.get("planbestammelsekatalogreferens")
            code = catalogue.get(str(ref)) if ref else f.get("bestammelsekod")
            letter = zoning_letter(code, prefixes)
            if letter is None:
                unmapped.append(str(ref or code))
                continue
            parts = _parts(f, "bestammelsegeometri", f"{path.name}: provision {f.get('objektidentitet') or ''}".strip())
            areas = [(c, g) for c, g in parts if g.geom_type in ("Polygon", "MultiPolygon")]
            not_areas += len(parts) > len(areas)
            if not areas:
                continue
            use_rows.append(
                {
                    "plan_ref": f.get("detaljplan"),
                    s.ZONING: letter,
                    s.USE_CODE: code,
                    s.NAME: f.get("bestammelseformulering"),
                    "parts": areas,
                }
            )
        self.report.drop(
            "användningsbestämmelser",
            len(unmapped),
            f"catalogue reference not in the mapping's catalogue ({', '.join(sorted(set(unmapped))[:3])})",
        )
        self.report.drop("användningsbestämmelse geometries", not_areas, "lines and points of a use (only areas count)")
        uses = self._to_3006(use_rows, fallback, str(path), "provision") if use_rows else _empty_uses(3006)
        if len(uses):
            by_uuid = {u: i for i, u in enumerate(plan_gdf["uuid"]) if u}
            owner = np.array([by_uuid.get(r, -1) for r in uses["plan_ref"]], dtype=np.intp)
            loose = owner < 0
            if loose.any():  # no (known) plan reference: the plan that covers the provision
                tree = shapely.STRtree(plan_gdf.geometry.to_numpy())
                where = shapely.point_on_surface(uses.geometry.to_numpy()[loose])
                owner[loose] = tree.query_nearest(where, all_matches=False)[1]
            uses[s.PLAN_ID] = plan_gdf[s.PLAN_ID].to_numpy()[owner]
            uses[s.PLAN_STATUS] = plan_gdf[s.PLAN_STATUS].to_numpy()[owner]
            uses = uses.drop(columns=["plan_ref"])
        return plan_gdf.drop(columns=["uuid"]), uses

    def _to_3006(self, rows: list[dict[str, Any]], fallback: str | None, what: str, noun: str) -> gpd.GeoDataFrame:
        """Rows with ``parts`` [(CRS, geometry)] as one GeoDataFrame in EPSG:3006, each part from its own CRS."""
        flat = [(i, crs or fallback, g) for i, r in enumerate(rows) for crs, g in r["parts"]]
        missing = [i for i, crs, _g in flat if crs is None]
        if missing:
            raise CRSError(
                f"{what}: a {noun} geometry has no koordinatsystemPlan and the file no 'crs'",
                where=what,
                hint="Give the CRS with the import (e.g. EPSG:3011), or fix the file.",
                option="crs",
            )
        owners = np.array([i for i, _c, _g in flat], dtype=np.intp)
        geoms = np.empty(len(flat), dtype=object)
        crss = np.array([c for _i, c, _g in flat], dtype=object)
        for crs in dict.fromkeys(crss):
            at = np.flatnonzero(crss == crs)
            try:
                part = gpd.GeoDataFrame(geometry=[flat[k][2] for k in at], crs=parse_crs(crs))
            except (SitematchError, ValueError) as exc:
                raise SourceError(f"{what}: koordinatsystemPlan {crs!r} is not a CRS ({exc})", where=what) from None
            geoms[at] = self.to_working(part, f"{what} ({crs})").geometry.to_numpy()
        merged = [shapely.union_all(geoms[owners == i]) if (owners == i).any() else None for i in range(len(rows))]
        frame = pd.DataFrame([{k: v for k, v in r.items() if k != "parts"} for r in rows])
        out = gpd.GeoDataFrame(frame, geometry=merged, crs=3006)
        empty = out.geometry.isna() | out.geometry.is_empty
        self.report.drop(f"{noun}s in {Path(what).name}", int(empty.sum()), "no geometry")
        return out[~empty].reset_index(drop=True)

    def _read_boundaries(self, path: Path) -> gpd.GeoDataFrame:
        gdf = self.read_vector(path, self.option("layer"))
        wanted = [s.PLAN_ID, s.NAME, s.MUNICIPALITY_CODE, s.PLAN_STATUS, s.PLAN_DATE]
        mapped = self.map_columns(gdf, wanted, path.name)
        need_columns(mapped, [s.PLAN_ID], path.name, "see docs/importers.md, detaljplan")
        mapped[s.PLAN_STATUS] = mapped[s.PLAN_STATUS].map(self._status)
        mapped[s.PLAN_ID] = mapped[s.PLAN_ID].astype("string")
        return self.to_working(gpd.GeoDataFrame(mapped, geometry=gdf.geometry.to_numpy(), crs=gdf.crs), path.name)


def _municipality_code(value: Any) -> str | None:
    """The kommunkod where ``kommun`` holds one (4 digits); spec 4.1 files may give the name instead."""
    text = str(value).strip() if value is not None else ""
    return text if len(text) == 4 and text.isdigit() else None


def _empty_uses(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({s.ZONING: [], s.USE_CODE: [], s.NAME: []}, geometry=[], crs=crs or 3006)
