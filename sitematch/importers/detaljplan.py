"""Detailed plans: Lantmäteriet's digital detaljplaner (NGP JSON, spec 4.x) and plan boundaries (GeoPackage).

**Digital plans** (``application/vnd.lm.detaljplan.v4+json``): a GeoJSON-like feature collection
whose features carry ``feature:typ`` = ``detaljplan`` | ``användningsbestämmelse`` |
``egenskapsbestämmelse`` (as a member of the feature or of its ``properties``). From the plan:
``kommun``, ``beteckning``, ``namn``, ``status`` and ``beslutsinformation[].datumLagakraft`` /
``datumAntagande``; its geometry is the feature's, or ``plangeometri``. From each
användningsbestämmelse: ``planbestammelsekatalogreferens`` (a UUID into Boverket's
planbestämmelsekatalog), ``bestammelseformulering`` and the geometry (``bestammelsegeometri``).
Use is mapped through the catalogue **code**, not the printed letter: the mapping's ``catalogue``
(UUID → code such as ``DP_KM_J2``; or ``catalogue_file``: a JSON export of Boverket's catalogue,
a list of entries whose ``id`` and ``bestammelsekod`` fields the mapping names) and ``codes``
(code prefix → zoning letter: ``DP_KM_J`` → J). Provisions whose reference the catalogue does not
hold are reported and left out. A file's CRS comes from its ``crs`` member, else the one given.
Writes ``plan_areas`` (plan status, date) and ``plan_uses`` (zoning letter per provision area),
which bring the overlay criteria ``plan_status_by_overlay`` and ``plan_zoning``: a plot's plan
status and use where the municipality did not state them.

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
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape

from sitematch import schema as s
from sitematch.crs import parse_crs
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


def _prop(feature: dict[str, Any], key: str) -> Any:
    props = feature.get("properties") or {}
    return feature.get(key, props.get(key))


def _geometry(feature: dict[str, Any], key: str) -> Any:
    raw = feature.get("geometry") or _prop(feature, key)
    return shape(raw) if raw else None


class DetaljplanImporter(Importer):
    """NGP detaljplan JSON (v4) and Markreglerande bestämmelse GeoPackage → ``plan_areas``, ``plan_uses``."""

    name = "detaljplan"
    title = "Lantmäteriet detaljplaner (NGP JSON 4.x) and plan boundaries"
    source = "Lantmäteriet, detaljplaner (Nationella geodataplattformen)"
    licence = "CC BY 4.0 (Lantmäteriet); use codes: Boverket, Planbestämmelsekatalogen"
    suffixes = (".json", ".gpkg")
    mapping_keys = ("catalogue", "catalogue_file", "catalogue_fields", "codes", "status")
    default_mapping: dict[str, Any] = {  # noqa: RUF012
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
        areas, uses = [], []
        for path in files:
            if path.suffix.lower() == ".json":
                a, u = self._read_json(path)
                areas.append(a)
                uses.append(u)
            else:
                areas.append(self._read_boundaries(path))
        source, licence, date = self.provenance()
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
            raise SourceError(f"{path}: no 'features' list: not an NGP detaljplan JSON (spec 4.x)", where=str(path))
        crs_name = ((doc.get("crs") or {}).get("properties") or {}).get("name")
        crs = parse_crs(crs_name.split("EPSG::")[-1] if "EPSG::" in str(crs_name) else crs_name) if crs_name else None
        crs = crs or self.crs
        kinds = pd.Series([_prop(f, TYPE_KEY) for f in features]).value_counts()
        self.report.read[f"features from {path.name} ({', '.join(f'{n} {k}' for k, n in kinds.items())})"] = len(
            features
        )
        plans = [f for f in features if _prop(f, TYPE_KEY) == "detaljplan"]
        provisions = [f for f in features if _prop(f, TYPE_KEY) == "användningsbestämmelse"]
        if not plans:
            raise SourceError(f"{path}: holds no feature with {TYPE_KEY} = detaljplan", where=str(path))
        rows = []
        for p in plans:
            decisions = _prop(p, "beslutsinformation") or []
            dates = [d.get("datumLagakraft") or d.get("datumAntagande") for d in decisions if isinstance(d, dict)]
            rows.append(
                {
                    s.PLAN_ID: _prop(p, "beteckning"),
                    s.NAME: _prop(p, "namn"),
                    s.MUNICIPALITY_CODE: _prop(p, "kommun"),
                    s.PLAN_STATUS: self._status(_prop(p, "status")),
                    s.PLAN_DATE: max((d for d in dates if d), default=None),
                    "geometry": _geometry(p, "plangeometri"),
                }
            )
        plan_gdf = self.with_crs(gpd.GeoDataFrame(rows, geometry="geometry", crs=crs), str(path))
        plan_gdf = self.to_working(plan_gdf, str(path))
        catalogue, prefixes = self._catalogue(), dict(self.mapping.get("codes") or {})
        use_rows, unmapped = [], []
        for f in provisions:
            ref = _prop(f, "planbestammelsekatalogreferens")
            code = catalogue.get(str(ref)) if ref else _prop(f, "bestammelsekod")
            letter = zoning_letter(code, prefixes)
            if letter is None:
                unmapped.append(str(ref or code))
                continue
            use_rows.append(
                {
                    s.ZONING: letter,
                    s.USE_CODE: code,
                    s.NAME: _prop(f, "bestammelseformulering"),
                    "geometry": _geometry(f, "bestammelsegeometri"),
                }
            )
        self.report.drop(
            "användningsbestämmelser",
            len(unmapped),
            f"catalogue reference not in the mapping's catalogue ({', '.join(sorted(set(unmapped))[:3])})",
        )
        uses = gpd.GeoDataFrame(use_rows, geometry="geometry", crs=crs) if use_rows else _empty_uses(crs)
        uses = self.to_working(self.with_crs(uses, str(path)), str(path)) if len(uses) else uses.to_crs(3006)
        # Each provision belongs to the plan that covers most of it.
        if len(uses):
            tree = shapely.STRtree(plan_gdf.geometry.to_numpy())
            owner = tree.query_nearest(shapely.point_on_surface(uses.geometry.to_numpy()), all_matches=False)[1]
            uses[s.PLAN_ID] = plan_gdf[s.PLAN_ID].to_numpy()[owner]
            uses[s.PLAN_STATUS] = plan_gdf[s.PLAN_STATUS].to_numpy()[owner]
        return plan_gdf, uses

    def _read_boundaries(self, path: Path) -> gpd.GeoDataFrame:
        gdf = self.read_vector(path, self.option("layer"))
        wanted = [s.PLAN_ID, s.NAME, s.MUNICIPALITY_CODE, s.PLAN_STATUS, s.PLAN_DATE]
        mapped = self.map_columns(gdf, wanted, path.name)
        need_columns(mapped, [s.PLAN_ID], path.name, "see docs/importers.md, detaljplan")
        mapped[s.PLAN_STATUS] = mapped[s.PLAN_STATUS].map(self._status)
        mapped[s.PLAN_ID] = mapped[s.PLAN_ID].astype("string")
        return self.to_working(gpd.GeoDataFrame(mapped, geometry=gdf.geometry.to_numpy(), crs=gdf.crs), path.name)


def _empty_uses(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({s.ZONING: [], s.USE_CODE: [], s.NAME: []}, geometry=[], crs=crs or 3006)
