"""Potentially contaminated sites: Länsstyrelsernas EBH register (MIFO risk class, bransch).

The register's export (GeoJSON, Shapefile or GeoPackage, SWEREF 99 TM) holds about 85,000 objects,
each a point placed on one property of the site. Its attribute names are not confirmed
(docs/importers.md), so the default mapping lists likely names and a mapping file can name others.
Risk classes are normalised to ``1``–``4`` (MIFO: 1 very high … 4 low), ``E`` (identified, not
inventoried), ``KM`` / ``MKM`` (remediated for sensitive / less sensitive use); rows with any
other class are dropped and counted. The absence of an object does not mean clean land.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.importers._base import ImportedLayer, Importer, need_columns

RISK_CLASSES = ("1", "2", "3", "4", "E", "KM", "MKM")


def normalise_risk_class(value: Any) -> str | None:
    """``"Riskklass 2"``, ``2``, ``"2.0"``, ``" km "`` → ``"2"``, ``"2"``, ``"2"``, ``"KM"``; None if not a class.

    Examples
    --------
    >>> [normalise_risk_class(v) for v in ("Riskklass 2", 3, "mkm", "okänd", None)]
    ['2', '3', 'MKM', None, None]
    """
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = re.sub(r"^(mifo\s*)?(risk\s*klass|riskklass)\s*", "", str(value).strip(), flags=re.IGNORECASE).upper()
    text = re.sub(r"^(\d)\.0$", r"\1", text)
    return text if text in RISK_CLASSES else None


class EbhImporter(Importer):
    """EBH register export → ``contaminated_sites`` (points with risk class and branch)."""

    name = "ebh"
    title = "Potentially contaminated sites (EBH, Länsstyrelsen)"
    source = "Länsstyrelserna, EBH-stödet: potentiellt förorenade områden"
    licence = "CC0 (Länsstyrelserna, EBH-stödet)"
    suffixes = (".geojson", ".shp", ".zip", ".gpkg")
    writes = ("contaminated_sites",)
    kinds = """
contaminated_sites:
  geometry: Point
  description: potentially contaminated sites (EBH register, Länsstyrelsen)
  columns:
    site_id: {type: str, description: "the register's object id"}
    name: {type: str, required: false, description: "object name"}
    risk_class: {type: str, description: "MIFO risk class 1–4, E (not inventoried), KM/MKM (remediated)"}
    risk_class_number: {type: int, required: false, description: "the risk class as a number 1 (very high) to 4 (low)"}
    branch: {type: str, required: false, description: "industry branch (bransch)"}
"""
    parameters = {  # noqa: RUF012
        "contamination_search_radius_m": {
            "default": 50,
            "label": "Contaminated-site search radius",
            "description": (
                "EBH objects this close to a plot count as on it (the register places a point on one property)"
            ),
        },
    }
    criteria = {  # noqa: RUF012
        "distance_to_contaminated_site_class_1_2_m": (
            ("contaminated_sites",),
            {
                "measure": "nearest",
                "layer": "contaminated_sites",
                "where": f"{s.RISK_CLASS_NUMBER} <= 2",
                "name_column": s.NAME,
                "names_as": "nearest_contaminated_site",
                "label": "Distance to a contaminated site of risk class 1–2",
                "short_label": "→ MIFO 1–2",
            },
        ),
        "contaminated_sites_class_1_2_on_plot_count": (
            ("contaminated_sites",),
            {
                "measure": "aggregate",
                "layer": "contaminated_sites",
                "how": "count",
                "where": f"{s.RISK_CLASS_NUMBER} <= 2",
                "radius_parameter": "contamination_search_radius_m",
                "label": "Contaminated sites of risk class 1–2 on the plot",
                "short_label": "MIFO 1–2 on plot",
                "higher_is_better": False,
            },
        ),
    }
    default_mapping: ClassVar[dict[str, Any]] = {
        # Field names are not confirmed: the first present of each list is used.
        "columns": {
            s.SITE_ID: ["EBH_ID", "EBHID", "ObjektID", "Objekt_ID", "ID", "Id"],
            s.NAME: ["Objektnamn", "OBJEKTNAMN", "Namn", "NAMN", "Name"],
            s.RISK_CLASS: ["Riskklass", "RISKKLASS", "Risk_klass", "MIFO_riskklass"],
            s.BRANCH: ["Bransch", "BRANSCH", "Huvudbransch", "HUVUDBRANSCH"],
        },
    }

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        frames = []
        for path in files:
            gdf = self.read_vector(path)
            mapped = self.map_columns(gdf, [s.SITE_ID, s.NAME, s.RISK_CLASS, s.BRANCH], path.name)
            need_columns(mapped, [s.SITE_ID, s.RISK_CLASS], path.name, "see docs/importers.md, EBH")
            frames.append(gpd.GeoDataFrame(mapped, geometry=gdf.geometry.to_numpy(), crs=gdf.crs))
        gdf = self.to_working(gpd.GeoDataFrame(pd.concat(frames, ignore_index=True)), "EBH")
        raw = gdf[s.RISK_CLASS]
        gdf[s.RISK_CLASS] = raw.map(normalise_risk_class)
        bad = gdf[s.RISK_CLASS].isna()
        if bad.any():
            seen = ", ".join(sorted({str(v) for v in raw[bad]})[:5])
            self.report.drop("contaminated_sites", int(bad.sum()), f"risk class not 1–4, E, KM or MKM ({seen})")
        no_geom = gdf.geometry.isna() | gdf.geometry.is_empty
        self.report.drop("contaminated_sites", int((no_geom & ~bad).sum()), "no geometry")
        gdf = gdf[~bad & ~no_geom].copy()
        areas = ~gdf.geometry.geom_type.isin(["Point"])
        if areas.any():
            gdf.loc[areas, "geometry"] = shapely.point_on_surface(gdf.geometry[areas].to_numpy())
            self.report.note(f"{int(areas.sum())} object(s) given as areas were placed at a point inside them")
        gdf[s.RISK_CLASS_NUMBER] = pd.to_numeric(gdf[s.RISK_CLASS], errors="coerce").astype("Int64")
        gdf[s.SITE_ID] = gdf[s.SITE_ID].astype("string")
        source, licence, date = self.provenance()
        return [ImportedLayer("contaminated_sites", gdf.reset_index(drop=True), source, licence, date)]
