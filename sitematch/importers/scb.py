"""SCB statistics: the 1 km population grid and DeSO areas.

- **Population grid** (*befolkning på rutor*, CC0): a GeoPackage of grid squares, or a table (CSV)
  with ``rutid_scb`` and ``beftotalt``. A cell id's first 6 digits are the easting and the next
  7 the northing of the square's lower-left corner in SWEREF 99 TM; a table's cells are placed at
  the square's centre from it (``options.cell_size_m``, default 1000). Writes ``population_grid``
  (one point per cell, ``population``), which brings the labour-pool criteria (straight line, and
  by car within 30 / 45 / 60 min when the region has roads).
- **DeSO** (demographic statistical areas, GeoPackage): writes ``deso_areas`` with the DeSO code,
  its kommunkod (the code's first four characters when no field holds it) and, when a table is
  given as a second file (CSV: DeSO code and population), the population.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.importers._base import ImportedLayer, Importer, SourceError, need_columns

_LICENCE = "CC0 (SCB)"


def _labour_pool(minutes: int) -> tuple[tuple[str, ...], dict[str, Any]]:
    return (
        ("roads", "population_grid"),
        {
            "measure": "travel_time",
            "how": "reach",
            "targets": "population_grid",
            "column": s.POPULATION,
            "limit_min": minutes,
            "unit": "inhabitants",
            "label": f"Labour pool within {minutes} min by car",
            "short_label": f"pool {minutes} min",
        },
    )


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SourceError(f"{path}: cannot be read as a CSV table ({exc})", where=str(path)) from None


def cell_centres(cell_ids: pd.Series, cell_size_m: float = 1000.0) -> np.ndarray:
    """SWEREF 99 TM centres of SCB grid cells from their ``rutid_scb`` (6 digits E, 7 digits N of the lower-left).

    Examples
    --------
    >>> cell_centres(pd.Series(["6740006580000"])).tolist()
    [[674500.0, 6580500.0]]
    """
    ids = cell_ids.astype(str).str.strip()
    ok = ids.str.fullmatch(r"\d{13}")
    if not ok.all():
        raise SourceError(f"cell ids not of 13 digits: {', '.join(ids[~ok].head(3))} (rutid_scb: 6 digits E, 7 N)")
    east = ids.str[:6].astype(float) + cell_size_m / 2
    north = ids.str[6:].astype(float) + cell_size_m / 2
    return np.column_stack([east, north])


class PopulationGridImporter(Importer):
    """SCB population grid (GeoPackage or CSV) → ``population_grid``."""

    name = "scb-grid"
    title = "SCB population grid (befolkning på rutor)"
    source = "SCB, befolkning på rutor (1 km)"
    licence = _LICENCE
    suffixes = (".gpkg", ".csv")
    writes = ("population_grid",)
    kinds = """
population_grid:
  geometry: Point
  description: population on a grid, one point per cell at its centre (SCB)
  columns:
    cell_id: {type: str, description: "the grid cell's id (SCB rutid)"}
    population: {type: int, description: "inhabitants in the cell"}
"""
    criteria = {  # noqa: RUF012
        "labour_pool_within_30_min": _labour_pool(30),
        "labour_pool_within_45_min": _labour_pool(45),
        "labour_pool_within_60_min": _labour_pool(60),
        "labour_pool_grid_population": (
            ("population_grid",),
            {
                "measure": "aggregate",
                "layer": "population_grid",
                "how": "sum",
                "column": s.POPULATION,
                "radius_parameter": "labour_pool_radius_m",
                "label": "Labour pool (population grid, straight line)",
                "short_label": "pool (grid)",
            },
        ),
    }
    default_mapping: ClassVar[dict[str, Any]] = {
        "columns": {
            s.CELL_ID: ["rutid_scb", "Rutid_scb", "RUTID_SCB", "rutid", "Ruta"],
            s.POPULATION: ["beftotalt", "Beftotalt", "BEFTOTALT", "pop"],
        },
        "options": {"cell_size_m": 1000},
    }

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        parts = []
        for path in files:
            if path.suffix.lower() == ".csv":
                table = _read_csv(path)
                self.report.read[f"rows from {path.name}"] = len(table)
                mapped = self.map_columns(table, [s.CELL_ID, s.POPULATION], path.name)
                need_columns(mapped, [s.CELL_ID, s.POPULATION], path.name, "see docs/importers.md, SCB")
                xy = cell_centres(mapped[s.CELL_ID], float(self.option("cell_size_m", 1000)))
                parts.append(gpd.GeoDataFrame(mapped, geometry=shapely.points(xy), crs=3006))
            else:
                gdf = self.read_vector(path)
                mapped = self.map_columns(gdf, [s.CELL_ID, s.POPULATION], path.name)
                need_columns(mapped, [s.CELL_ID, s.POPULATION], path.name, "see docs/importers.md, SCB")
                centres = shapely.centroid(gdf.geometry.to_numpy())
                parts.append(self.to_working(gpd.GeoDataFrame(mapped, geometry=centres, crs=gdf.crs), path.name))
        gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=3006)
        gdf[s.POPULATION] = pd.to_numeric(gdf[s.POPULATION], errors="coerce").astype("Int64")
        missing = gdf[s.POPULATION].isna()
        self.report.drop("population_grid", int(missing.sum()), "no population in the cell")
        gdf = gdf[~missing].reset_index(drop=True)
        gdf[s.CELL_ID] = gdf[s.CELL_ID].astype("string")
        self.report.note(f"{int(gdf[s.POPULATION].sum()):,} inhabitants in {len(gdf):,} cells")
        source, licence, date = self.provenance()
        return [ImportedLayer("population_grid", gdf, source, licence, date)]


class DesoImporter(Importer):
    """SCB DeSO areas (GeoPackage), with an optional population table (CSV) → ``deso_areas``."""

    name = "deso"
    title = "SCB DeSO areas"
    source = "SCB, DeSO – demografiska statistikområden"
    licence = _LICENCE
    suffixes = (".gpkg", ".csv")
    writes = ("deso_areas",)
    kinds = """
deso_areas:
  geometry: Polygon
  description: demographic statistical areas (SCB DeSO)
  columns:
    deso_code: {type: str, description: "DeSO code: kommunkod + A/B/C + 4 digits"}
    municipality_code: {type: str, description: "SCB kommunkod"}
    population: {type: int, required: false, description: "inhabitants, where a population table was given"}
"""
    criteria = {  # noqa: RUF012
        "deso_code": (
            ("deso_areas",),
            {
                "measure": "overlay",
                "layer": "deso_areas",
                "how": "largest_overlap",
                "column": s.DESO_CODE,
                "label": "DeSO area",
            },
        ),
    }
    default_mapping: ClassVar[dict[str, Any]] = {
        "columns": {
            s.DESO_CODE: ["deso", "Deso", "DESO", "desokod"],
            s.MUNICIPALITY_CODE: ["kommunkod", "Kommunkod", "KOMMUNKOD", "kommun"],
            s.POPULATION: ["befolkning", "folkmangd", "Folkmängd", "population", "antal"],
        },
    }

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        tables = [f for f in files if f.suffix.lower() == ".csv"]
        areas = [f for f in files if f.suffix.lower() != ".csv"]
        if not areas:
            raise SourceError("deso: give the DeSO areas (a GeoPackage); a population table (CSV) is optional")
        parts = []
        for path in areas:
            gdf = self.read_vector(path)
            mapped = self.map_columns(gdf, [s.DESO_CODE, s.MUNICIPALITY_CODE, s.POPULATION], path.name)
            need_columns(mapped, [s.DESO_CODE], path.name, "see docs/importers.md, SCB")
            parts.append(
                self.to_working(gpd.GeoDataFrame(mapped, geometry=gdf.geometry.to_numpy(), crs=gdf.crs), path.name)
            )
        gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=3006)
        gdf[s.DESO_CODE] = gdf[s.DESO_CODE].astype("string")
        code = gdf[s.MUNICIPALITY_CODE].astype("string")
        gdf[s.MUNICIPALITY_CODE] = code.where(code.notna(), gdf[s.DESO_CODE].str[:4])
        for path in tables:
            table = self.map_columns(_read_csv(path), [s.DESO_CODE, s.POPULATION], path.name)
            need_columns(table, [s.DESO_CODE, s.POPULATION], path.name, "see docs/importers.md, SCB")
            pop = dict(
                zip(table[s.DESO_CODE].astype(str), pd.to_numeric(table[s.POPULATION], errors="coerce"), strict=True)
            )
            gdf[s.POPULATION] = gdf[s.DESO_CODE].astype(str).map(pop)
            unmatched = sorted(set(pop) - set(gdf[s.DESO_CODE].astype(str)))
            if unmatched:
                self.report.note(
                    f"{len(unmatched)} DeSO code(s) in {path.name} match no area: {', '.join(unmatched[:5])}"
                )
        gdf[s.POPULATION] = pd.to_numeric(gdf[s.POPULATION], errors="coerce").astype("Int64")
        source, licence, date = self.provenance()
        return [ImportedLayer("deso_areas", gdf, source, licence, date)]
