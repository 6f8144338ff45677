"""Trafikverket: the NVDB road database ("homogeniserad" export) and the rail network (järnvägsnät).

**NVDB** (File GeoDatabase or GeoPackage, SWEREF 99 TM; fields confirmed in SOURCES.md):
``Motorvag`` (motorway), ``Motortrafikled``, ``Klass_181`` (functional class 0–9), ``Kateg_380``
(1 E-road, 2 riksväg, 3/4 county roads), road numbers ``Evag_555`` / ``Huvnr_556_1`` (newer
exports) or ``Europ_16`` / ``Huvud_13`` (older ones; both generations are read),
``F_Hogst_225`` / ``B_Hogst_225`` (speed limit with / against the link's direction),
``F_ForbjudenFardriktning`` / ``B_ForbjudenFardriktning`` (the link is closed with / against its
direction: one-way streets, ramps), ``Barig_64``, ``KOMMUNNR``. Writes ``roads`` (every link:
``speed_kmh`` the higher of the two limits, else the mapping's speed for its functional class;
``oneway`` 1 where travel against the link is forbidden, −1 where travel with it is; a link
closed both ways is left out) and ``motorways`` (links with ``Motorvag`` set; ``road`` "E18" from
the European number, else the national number). The report gives the network's extent.
NVDB has no junction layer: take ``motorway_junctions`` from OpenStreetMap.

**Rail network** (Shapefile/GeoPackage; field names not confirmed, so the mapping lists likely
ones): writes ``rail`` (``line_name``, ``track_type``) and, for tracks whose type the mapping's
``options.siding_types`` lists, ``freight_terminals`` (a point at each siding's middle, kind siding).
Licence: Trafikverket's open data, CC0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.importers._base import ImportedLayer, Importer, need_columns, note_extent

_TRUE = {"1", "1.0", "ja", "j", "true", "yes", "sant"}
_LICENCE = "CC0 (Trafikverket)"


def _flag(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.lower().isin(_TRUE).fillna(False).astype(bool)


def _read_all(importer: Importer, files: list[Path], wanted: list[str], required: list[str]) -> gpd.GeoDataFrame:
    parts = []
    for path in files:
        gdf = importer.read_vector(path, importer.option("layer"))
        mapped = importer.map_columns(gdf, wanted, path.name)
        need_columns(mapped, required, path.name, "see docs/importers.md, Trafikverket")
        frame = gpd.GeoDataFrame(mapped, geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
        parts.append(importer.to_working(frame, path.name))
    gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=3006)
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    importer.report.drop("links", int(empty.sum()), "no geometry")
    gdf = gdf[~empty].reset_index(drop=True)
    gdf["geometry"] = shapely.force_2d(gdf.geometry.to_numpy())
    return gdf


class NvdbImporter(Importer):
    """NVDB homogeniserad export → ``roads`` (with speeds) and ``motorways``."""

    name = "nvdb"
    title = "Trafikverket NVDB (homogeniserad)"
    source = "Trafikverket, NVDB (homogeniserad)"
    licence = _LICENCE
    suffixes = (".gdb", ".gpkg")
    writes = ("roads", "motorways")  # roads: declared by the OpenStreetMap importer
    default_mapping: ClassVar[dict[str, Any]] = {
        "columns": {
            "motorway": "Motorvag",
            "speed_forward": "F_Hogst_225",
            "speed_backward": "B_Hogst_225",
            s.ROAD_CLASS: "Klass_181",
            "category": "Kateg_380",
            # Newer exports first, then the older names (the first field present is used).
            "european": ["Evag_555", "Europ_16"],
            "national": ["Huvnr_556_1", "Huvud_13"],
            "closed_forward": "F_ForbjudenFardriktning",
            "closed_backward": "B_ForbjudenFardriktning",
            s.NAME: ["Namn_130", "Gatunamn", "Vagnamn"],  # not confirmed
        },
        # Speed (km/h) for a link with no speed limit, by functional class 0–9 (an assumption: edit it).
        "options": {"class_speeds": {0: 110, 1: 100, 2: 90, 3: 80, 4: 70, 5: 60, 6: 50, 7: 40, 8: 30, 9: 20}},
    }

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        wanted = ["motorway", "speed_forward", "speed_backward", s.ROAD_CLASS, "category", "european", "national"]
        wanted += ["closed_forward", "closed_backward"]
        gdf = _read_all(self, files, [*wanted, s.NAME], ["speed_forward"])
        limit = np.fmax(
            pd.to_numeric(gdf["speed_forward"], errors="coerce").to_numpy(dtype=float),
            pd.to_numeric(gdf["speed_backward"], errors="coerce").to_numpy(dtype=float),
        )
        by_class = {str(k): float(v) for k, v in self.option("class_speeds", {}).items()}
        klass = pd.to_numeric(gdf[s.ROAD_CLASS], errors="coerce").astype("Int64").astype("string")
        fallback = klass.map(by_class).astype(float).to_numpy()
        guessed = np.isnan(limit) & ~np.isnan(fallback)
        if guessed.any():
            self.report.note(f"{int(guessed.sum())} link(s) without a speed limit take their functional class's speed")
        speed = np.where(np.isnan(limit), fallback, limit)
        european = gdf["european"].astype("string").str.replace(r"\.0$", "", regex=True)
        national = gdf["national"].astype("string").str.replace(r"\.0$", "", regex=True)
        road = ("E" + european).where(european.notna() & (european != "0") & (european != ""), national)
        closed_fwd = _flag(gdf["closed_forward"]).to_numpy()
        closed_back = _flag(gdf["closed_backward"]).to_numpy()
        oneway = np.where(closed_back & ~closed_fwd, 1, np.where(closed_fwd & ~closed_back, -1, 0))
        if (closed_fwd | closed_back).any():
            self.report.note(f"{int((oneway != 0).sum())} one-way link(s) (F_/B_ForbjudenFardriktning)")
        roads = gpd.GeoDataFrame(
            {
                s.SPEED_KMH: speed,
                s.ONEWAY: oneway,
                s.ROAD_CLASS: klass,
                s.ROAD: road,
                s.NAME: gdf[s.NAME].astype("string"),
            },
            geometry=gdf.geometry.to_numpy(),
            crs=3006,
        )
        no_speed = np.isnan(speed)
        self.report.drop("roads", int(no_speed.sum()), "no speed limit and no functional class")
        shut = closed_fwd & closed_back & ~no_speed
        self.report.drop("roads", int(shut.sum()), "closed in both directions")
        no_speed |= shut
        extent = note_extent(self.report, roads.geometry.to_numpy()[~no_speed]) if (~no_speed).any() else ""
        motor = _flag(gdf["motorway"]).to_numpy()
        motorways = gpd.GeoDataFrame(
            {s.ROAD: road[motor].fillna("?").to_numpy(), s.NAME: gdf[s.NAME][motor].astype("string").to_numpy()},
            geometry=gdf.geometry.to_numpy()[motor],
            crs=3006,
        )
        source, licence, date = self.provenance()
        kept = roads[~no_speed].reset_index(drop=True)
        about = f"the drivable road network (NVDB); {extent}"
        out_layers = [ImportedLayer("roads", kept, source, licence, date, about)]
        if len(motorways):
            out_layers.append(ImportedLayer("motorways", motorways, source, licence, date))
        return out_layers


class RailImporter(Importer):
    """Trafikverket's rail network → ``rail`` and sidings as ``freight_terminals``."""

    name = "jarnvag"
    title = "Trafikverket rail network (järnvägsnät)"
    source = "Trafikverket, järnvägsnät"
    licence = _LICENCE
    suffixes = (".shp", ".zip", ".gpkg")
    writes = ("rail", "freight_terminals")
    default_mapping: ClassVar[dict[str, Any]] = {
        # Not confirmed: the first present of each list is used.
        "columns": {
            s.LINE_NAME: ["Bandelnamn", "BANDELNAMN", "Linjenamn", "Namn", "NAMN"],
            # Shapefiles cut field names to 10 characters: Sparkategori is then Sparkatego.
            "track_type": ["Sparkategori", "Sparkatego", "SPARKATEGO", "Spartyp", "SPARTYP", "Typ"],
        },
        "defaults": {s.LINE_NAME: "järnväg (namn saknas)"},
        "options": {"siding_types": ["Sidospår", "sidospår", "Industrispår", "industrispår", "Uppställningsspår"]},
    }

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        gdf = _read_all(self, files, [s.LINE_NAME, "track_type"], [])
        gdf[s.LINE_NAME] = gdf[s.LINE_NAME].fillna(self.mapping["defaults"][s.LINE_NAME]).astype("string")
        siding = gdf["track_type"].astype("string").isin(list(self.option("siding_types", []))).fillna(False)
        siding = siding.to_numpy(dtype=bool)
        rail = gdf[~siding].reset_index(drop=True)
        middles = shapely.line_interpolate_point(gdf.geometry.to_numpy()[siding], 0.5, normalized=True)
        terminals = gpd.GeoDataFrame(
            {s.NAME: gdf[s.LINE_NAME][siding].to_numpy(), s.KIND: "siding"}, geometry=middles, crs=3006
        )
        source, licence, date = self.provenance()
        layers = [ImportedLayer("rail", rail, source, licence, date)] if len(rail) else []
        if len(terminals):
            layers.append(ImportedLayer("freight_terminals", terminals, source, licence, date))
        return layers
