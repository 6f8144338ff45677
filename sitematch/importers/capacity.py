"""Grid-capacity tables from a grid company or Svenska kraftnät, joined to substations.

No Swedish grid company publishes open capacity tables: capacity is answered per connection
request, and Svenska kraftnät's map covers 220–400 kV only. So capacity comes as **dated, sourced
records** in a table (CSV) a user keeps: per substation, the MW available for demand and for
production, voltage, operator, as-of date, method (firm / indicative) and where it was published.
The records are joined to substations **by id** (the substation layer's ``osm_id`` or the given
file's id field) **or by name** (compared without case, accents or the words *station*,
*transformatorstation*, *ställverk*); records that match no substation are reported by name.
Substations come from a vector file given with the table, else from the region's
``power_substations`` (``sitematch layers import osm``) or ``substations`` layer.

Writes the built-in ``substations`` layer (``available_capacity_mw`` = MW for demand, ``capacity_date``
= as-of, ``grid_company`` = operator), plus ``available_mw_production``, ``capacity_method``,
``source_url``, ``capacity_age_days`` and ``capacity_stale``: true when the record is older than
``options.max_age_days`` (default 365) on the import date. With several records for a substation
the latest counts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import pandas as pd

from sitematch import schema as s
from sitematch.importers._base import ImportedLayer, Importer, SourceError, need_columns
from sitematch.importers.scb import _read_csv

_FIELDS = (
    "substation_id",
    "substation_name",
    "available_mw_demand",
    "available_mw_production",
    s.VOLTAGE_KV,
    s.OPERATOR,
    "as_of",
    "method",
    s.SOURCE_URL,
)


def name_key(name: Any) -> str:
    """A substation name for matching: lower case, no accents, no 'station' words, no punctuation.

    Examples
    --------
    >>> name_key("Köping Transformatorstation"), name_key("KÖPING"), name_key(None)
    ('koping', 'koping', '')
    """
    if name is None or (isinstance(name, float) and pd.isna(name)):
        return ""
    text = unicodedata.normalize("NFKD", str(name).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\b(transformatorstation|fordelningsstation|stallverk|station|ss)\b", " ", text)
    return re.sub(r"[^a-z0-9]+", "", text)


class CapacityImporter(Importer):
    """Dated capacity records (CSV) joined to substations → ``substations`` with capacity and a staleness flag."""

    name = "capacity"
    title = "Grid capacity records (grid company / Svenska kraftnät)"
    source = "grid capacity records"
    licence = "as given by the grid company"
    suffixes = (".csv", ".gpkg", ".geojson")
    writes = ("substations",)
    default_mapping: ClassVar[dict[str, Any]] = {
        "columns": {
            "substation_id": ["substation_id", "station_id", "osm_id", "id"],
            "substation_name": ["substation", "substation_name", "station", "namn", "name"],
            "available_mw_demand": ["available_mw_demand", "effekt_uttag_mw", "uttag_mw", "effekt_uttag"],
            "available_mw_production": ["available_mw_production", "effekt_inmatning_mw", "inmatning_mw"],
            s.VOLTAGE_KV: ["voltage_kv", "spanning_kv", "spänning_kv"],
            s.OPERATOR: ["operator", "natbolag", "nätbolag"],
            "as_of": ["as_of", "datum", "date"],
            "method": ["method", "metod"],
            s.SOURCE_URL: ["source_url", "kalla", "källa", "url"],
        },
        "values": {"method": {"fast": "firm", "firm": "firm", "indikativ": "indicative", "indicative": "indicative"}},
        "options": {"max_age_days": 365, "today": None, "substation_id_field": None},
    }

    def _substations(self, files: list[Path], out: Path) -> tuple[gpd.GeoDataFrame, str]:
        given = [f for f in files if f.suffix.lower() != ".csv"]
        if given:
            gdf = self.to_working(self.read_vector(given[0]), given[0].name)
            id_field = self.option("substation_id_field") or next(
                (c for c in ("osm_id", "id", "ID", "station_id") if c in gdf.columns), None
            )
            gdf["_id"] = gdf[id_field].astype(str) if id_field else None
            name_col = next((c for c in ("name", "namn", "NAMN", "Name") if c in gdf.columns), None)
            gdf["_name"] = gdf[name_col] if name_col else None
            return gdf, given[0].name
        for kind, id_col in (("power_substations", s.OSM_ID), ("substations", None)):
            path = out / f"{kind}.gpkg"
            if path.is_file():
                gdf = gpd.read_file(path, layer=kind)
                gdf["_id"] = gdf[id_col].astype(str) if id_col else None
                gdf["_name"] = gdf[s.NAME]
                return gdf, f"{path.name}"
        raise SourceError(
            "capacity: no substations to join the capacity records to.",
            hint="Give a substation file with the table, or import OpenStreetMap into the region first "
            "(its power_substations layer).",
        )

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        tables = [f for f in files if f.suffix.lower() == ".csv"]
        if not tables:
            raise SourceError("capacity: give the capacity table as a CSV file")
        records = []
        for path in tables:
            table = _read_csv(path)
            self.report.read[f"capacity records from {path.name}"] = len(table)
            mapped = self.map_columns(table, _FIELDS, path.name)
            need_columns(mapped, ["available_mw_demand", "as_of"], path.name, "see docs/importers.md, capacity")
            if mapped["substation_id"].isna().all() and mapped["substation_name"].isna().all():
                raise SourceError(f"{path.name}: no field names the substation (an id or a name)", option="mapping")
            records.append(mapped)
        rec = pd.concat(records, ignore_index=True)
        subs, what = self._substations(files, out)
        today = dt.date.fromisoformat(str(self.option("today"))) if self.option("today") else dt.date.today()
        rec["as_of"] = pd.to_datetime(rec["as_of"], errors="coerce")
        undated = rec["as_of"].isna()
        self.report.drop("capacity records", int(undated.sum()), "no readable as-of date (write YYYY-MM-DD)")
        rec = rec[~undated]
        by_id = {k: i for i, k in enumerate(subs["_id"].astype(str)) if k and k != "None"}
        by_name: dict[str, int] = {}
        for i, n in enumerate(subs["_name"]):
            by_name.setdefault(name_key(n), i)
        pos = [by_id.get(str(v)) if pd.notna(v) else None for v in rec["substation_id"]]
        pos = [
            p if p is not None else by_name.get(name_key(n)) if name_key(n) else None
            for p, n in zip(pos, rec["substation_name"], strict=True)
        ]
        rec["_pos"] = pd.array(pos, dtype="Int64")
        unmatched = rec["_pos"].isna()
        if unmatched.any():
            names = rec.loc[unmatched, "substation_name"].fillna(rec.loc[unmatched, "substation_id"]).astype(str)
            self.report.drop(
                "capacity records", int(unmatched.sum()), f"match no substation in {what}: {', '.join(names)}"
            )
        rec = rec[~unmatched].sort_values("as_of").drop_duplicates("_pos", keep="last")
        self.report.note(f"{len(rec)} substation(s) given capacity; {len(subs) - len(rec)} without a record left out")
        layer = subs.iloc[rec["_pos"].astype(int).to_numpy()].reset_index(drop=True)
        rec = rec.reset_index(drop=True)
        source, licence, date = self.provenance(
            str(rec["as_of"].max().date()) if len(rec) else None, "the newest record's as-of date"
        )
        age = (pd.Timestamp(today) - rec["as_of"]).dt.days
        out_frame = gpd.GeoDataFrame(
            {
                s.NAME: layer["_name"].fillna(rec["substation_name"]).astype("string"),
                s.AVAILABLE_CAPACITY_MW: pd.to_numeric(rec["available_mw_demand"], errors="coerce"),
                s.CAPACITY_DATE: rec["as_of"].dt.date.astype(str),
                s.VOLTAGE_KV: pd.to_numeric(rec[s.VOLTAGE_KV], errors="coerce").fillna(
                    pd.to_numeric(layer.get(s.VOLTAGE_KV), errors="coerce")
                ),
                s.GRID_COMPANY: rec[s.OPERATOR].astype("string"),
                s.AVAILABLE_MW_PRODUCTION: pd.to_numeric(rec["available_mw_production"], errors="coerce"),
                s.CAPACITY_METHOD: rec["method"].astype("string"),
                s.SOURCE_URL: rec[s.SOURCE_URL].astype("string"),
                s.CAPACITY_AGE_DAYS: age.astype("Int64"),
                s.CAPACITY_STALE: (age > int(self.option("max_age_days", 365))).astype("boolean"),
                s.SOURCE: [
                    f"{source}: {op or 'operator not given'} ({m or 'method not given'}) {url or ''}".strip()
                    for op, m, url in zip(rec[s.OPERATOR], rec["method"], rec[s.SOURCE_URL], strict=True)
                ],
            },
            geometry=layer.geometry.to_numpy(),
            crs=layer.crs,
        )
        no_mw = out_frame[s.AVAILABLE_CAPACITY_MW].isna()
        self.report.drop("substations", int(no_mw.sum()), "no MW figure for demand")
        stale = int(out_frame[s.CAPACITY_STALE].fillna(False).sum())
        if stale:
            self.report.note(f"{stale} capacity figure(s) older than {self.option('max_age_days', 365)} days: flagged")
        return [ImportedLayer("substations", out_frame[~no_mw].reset_index(drop=True), source, licence, date)]
