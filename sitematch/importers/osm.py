"""OpenStreetMap extracts (``.osm.pbf``), streamed with pyosmium.

The file is read once, object by object (pyosmium's ``FileProcessor``): nothing but the node
locations (in the index the mapping's ``options.node_cache`` names: ``flex_mem`` by default,
``dense_file_array,/path/nodes.cache`` for a whole country on a small machine) and the features
kept is held in memory. Tags read (OpenStreetMap's own keys, so the mapping here is about values):

==========================  ===========================================================================
layer (kind)                from
==========================  ===========================================================================
``roads``                   drivable ``highway=*`` ways (``speeds`` lists the classes), ``maxspeed`` in km/h
                            (or a class default), ``oneway`` (motorways and roundabouts are one-way)
``motorways``               ``highway=motorway`` ways; ``road`` from ``ref`` (``E 18`` → ``E18``)
``motorway_junctions``      ``highway=motorway_junction`` nodes: ``name`` (else "exit <ref>"), ``road``
                            the ``ref`` of the motorway through the node, ``exit_ref``
``rail``                    ``railway=rail`` ways that are not sidings: ``line_name`` (``name``, ``ref``),
                            ``usage`` (main, branch, industrial), ``service``
``freight_terminals``       sidings: ``railway=rail`` with ``service=siding|spur|yard`` or ``usage=industrial``,
                            one point at the middle of each, ``kind`` siding
``harbours``                ``landuse=industrial`` + ``industrial=port``, ``landuse=port`` (kind port) and
                            ``harbour=*`` (kind harbour): one point each (no draught in OpenStreetMap)
``power_substations``       ``power=substation`` nodes and areas: ``voltage`` in volts, ``;``-separated →
                            the highest in ``voltage_kv``; ``substation`` → ``substation_type``
``industrial_land``         ``landuse=industrial`` and ``landuse=brownfield`` areas
==========================  ===========================================================================

Licence: ODbL 1.0, "© OpenStreetMap contributors".
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from sitematch import schema as s
from sitematch.errors import CRSError
from sitematch.importers._base import ImportedLayer, Importer, SourceError, note_extent

log = logging.getLogger(__name__)

_KEYS = ("highway", "railway", "power", "landuse", "harbour")
_TRUE = {"yes", "true", "1"}


def parse_voltage_kv(value: str | None) -> float | None:
    """The highest voltage of an OpenStreetMap ``voltage`` tag (volts, often ``;``-separated), in kV.

    Examples
    --------
    >>> parse_voltage_kv("130000;20000;10000"), parse_voltage_kv("medium"), parse_voltage_kv(None)
    (130.0, None, None)
    """
    if not value:
        return None
    volts = [float(v) for v in re.findall(r"\d+(?:\.\d+)?", value)]
    return max(volts) / 1000.0 if volts else None


def parse_maxspeed(value: str | None, named: dict[str, float]) -> float | None:
    """km/h from a ``maxspeed`` tag: a number, ``"30 mph"``, or a named value the mapping knows (``SE:urban``).

    Examples
    --------
    >>> parse_maxspeed("70", {}), parse_maxspeed("30 mph", {}), parse_maxspeed("SE:urban", {"SE:urban": 50})
    (70.0, 48.28, 50.0)
    """
    if not value:
        return None
    if value in named:
        return float(named[value])
    m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(mph)?\s*$", value)
    if m is None:
        return None
    speed = float(m.group(1))
    return round(speed * 1.609344, 2) if m.group(2) else speed


def normalise_ref(ref: str | None) -> str | None:
    """Road numbers as written on Swedish signs: ``"E 18"`` → ``"E18"``, ``"E 4;E 20"`` → ``"E4;E20"``.

    Examples
    --------
    >>> normalise_ref("E 18"), normalise_ref(None)
    ('E18', None)
    """
    return re.sub(r"\s+", "", ref) if ref else None


class _Collector:
    """Rows of one layer, kept until the end of the file."""

    def __init__(self) -> None:
        self.geoms: list[Any] = []
        self.rows: list[dict[str, Any]] = []

    def add(self, geom: Any, **row: Any) -> None:
        self.geoms.append(geom)
        self.rows.append(row)

    def frame(self) -> gpd.GeoDataFrame:
        geoms = np.array(self.geoms, dtype=object)
        return gpd.GeoDataFrame(pd.DataFrame(self.rows), geometry=gpd.GeoSeries(geoms, crs=4326))


def way_line(way: Any) -> shapely.LineString | None:
    """A way's line through those of its nodes the extract holds (None with fewer than two distinct places).

    A way cut at the extract's edge keeps the part inside it.
    """
    coords = [(n.lon, n.lat) for n in way.nodes if n.location.valid()]
    coords = [c for i, c in enumerate(coords) if i == 0 or c != coords[i - 1]]
    return shapely.LineString(coords) if len(coords) >= 2 else None


class OsmImporter(Importer):
    """OpenStreetMap ``.osm.pbf`` → roads, motorways and junctions, rail and sidings, ports, substations, land."""

    name = "osm"
    title = "OpenStreetMap extract (.osm.pbf)"
    source = "© OpenStreetMap contributors"
    licence = "ODbL 1.0"
    suffixes = (".osm.pbf",)
    writes = (
        "roads",
        "motorways",
        "motorway_junctions",
        "rail",
        "freight_terminals",
        "harbours",
        "power_substations",
        "industrial_land",
    )
    kinds = """
roads:
  geometry: LineString
  description: the drivable road network, for drive times
  columns:
    speed_kmh: {type: float, description: "speed used for travel time, km/h (the speed limit where known)"}
    oneway: {type: int, description: "0 both directions, 1 only along the line, -1 only against it"}
    road_class: {type: str, required: false, description: "the source's road class (OSM highway=*, NVDB class)"}
    road: {type: str, required: false, description: "road number, e.g. E18, 56"}
    name: {type: str, required: false, description: "street or road name"}
harbours:
  geometry: Point
  description: ports and harbours without draught figures (OpenStreetMap)
  columns:
    osm_id: {type: str, description: "the source's id"}
    name: {type: str, required: false, description: "port or harbour name"}
    kind: {type: str, description: "port (industrial=port, landuse=port) or harbour"}
power_substations:
  geometry: Point
  description: electrical substations without capacity figures (OpenStreetMap)
  columns:
    osm_id: {type: str, description: "the source's id of the substation"}
    name: {type: str, required: false, description: "substation name"}
    operator: {type: str, required: false, description: "operator"}
    voltage_kv: {type: float, required: false, description: "highest voltage, kV"}
    substation_type: {type: str, required: false, description: "transmission, distribution, …"}
industrial_land:
  geometry: Polygon
  description: industrial and brownfield land (OpenStreetMap)
  columns:
    osm_id: {type: str, description: "the source's id"}
    name: {type: str, required: false, description: "area name"}
    landuse: {type: str, description: "industrial or brownfield"}
"""
    criteria = {  # noqa: RUF012
        "drive_time_to_motorway_junction_min": (
            ("roads", "motorway_junctions"),
            {
                "measure": "travel_time",
                "how": "nearest",
                "targets": "motorway_junctions",
                "label": "Drive time to motorway junction",
                "short_label": "→ junction min",
            },
        ),
        "distance_to_port_area_m": (
            ("harbours",),
            {
                "measure": "nearest",
                "layer": "harbours",
                "where": f"{s.KIND} == 'port'",
                "name_column": s.NAME,
                "label": "Distance to a port area (OpenStreetMap, draught unknown)",
            },
        ),
        "distance_to_power_substation_m": (
            ("power_substations",),
            {
                "measure": "nearest",
                "layer": "power_substations",
                "name_column": s.NAME,
                "label": "Distance to an electrical substation",
            },
        ),
        "industrial_land_share": (
            ("industrial_land",),
            {"measure": "overlay", "layer": "industrial_land", "how": "share", "label": "Share on industrial land"},
        ),
        "on_brownfield_land": (
            ("industrial_land",),
            {
                "measure": "overlay",
                "layer": "industrial_land",
                "how": "any",
                "where": f"{s.LANDUSE} == 'brownfield'",
                "label": "Partly on brownfield land (OpenStreetMap)",
            },
        ),
    }
    mapping_keys = ("speeds", "maxspeed", "sidings")
    default_mapping: ClassVar[dict[str, Any]] = {
        # Drivable highway classes and the speed (km/h) a way gets when it has no usable maxspeed.
        "speeds": {
            "motorway": 110,
            "motorway_link": 60,
            "trunk": 90,
            "trunk_link": 50,
            "primary": 80,
            "primary_link": 50,
            "secondary": 70,
            "secondary_link": 50,
            "tertiary": 60,
            "tertiary_link": 40,
            "unclassified": 50,
            "residential": 40,
            "living_street": 10,
            "service": 20,
        },
        # Named maxspeed values (OpenStreetMap wiki, implicit speed limits), km/h.
        "maxspeed": {"SE:urban": 50, "SE:rural": 70, "SE:motorway": 110, "FI:urban": 50, "FI:rural": 80, "walk": 7},
        # railway=rail service values that are sidings, and the freight_terminals kind they become.
        "sidings": {"siding": "siding", "spur": "siding", "yard": "siding"},
        "options": {
            "node_cache": "flex_mem",
            "exclude_access": ["no", "private"],
            "exclude_service": ["parking_aisle", "driveway", "parking", "emergency_access"],
            "progress_every": 100_000,
        },
    }

    def read(self, files: list[Path], out: Path) -> list[ImportedLayer]:
        import osmium

        layers: dict[str, _Collector] = {}
        date = None
        for path in files:
            if not path.is_file():
                raise SourceError(f"{path}: no such file", where=str(path))
            try:
                reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
                header = reader.header()
                reader.close()
            except RuntimeError as exc:
                raise SourceError(f"{path}: not an OpenStreetMap file pyosmium can read ({exc})") from None
            date = date or header.get("osmosis_replication_timestamp", "")[:10] or None
            self._read_file(path, layers)
        source, licence, date = self.provenance(date, "the extract's header (osmosis_replication_timestamp)")
        imported = [
            ImportedLayer(kind, self._to_working(kind, c.frame(), str(files[0])), source, licence, date)
            for kind, c in layers.items()
            if c.rows
        ]
        for layer in imported:
            if layer.kind == "roads":
                layer.description = f"the drivable road network (OpenStreetMap); {self.roads_extent}"
        return imported

    def _to_working(self, kind: str, gdf: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
        try:
            out = self.to_working(gdf, f"{what} ({kind})")
        except CRSError:
            # OpenStreetMap is always longitude/latitude: a CRS option cannot help, another extract can.
            xmin, ymin, xmax, ymax = (round(float(v), 3) for v in gdf.total_bounds)
            raise SourceError(
                f"{what}: its {kind} lie outside Sweden (longitude {xmin}–{xmax}, latitude {ymin}–{ymax}).",
                where=what,
                hint=(
                    "sitematch works on Swedish data. Import an extract of Sweden, e.g. Geofabrik's "
                    "sweden-latest.osm.pbf, or one cut to your region (osmium extract -b LON1,LAT1,LON2,LAT2)."
                ),
            ) from None
        if kind == "roads" and len(out):
            self.roads_extent = note_extent(self.report, out.geometry.to_numpy())
        return out

    def _objects(self, path: Path) -> Iterator[Any]:
        import osmium

        every = int(self.option("progress_every", 100_000))
        processor = (
            osmium.FileProcessor(str(path))
            .with_locations(str(self.option("node_cache", "flex_mem")))
            .with_areas()
            .with_filter(osmium.filter.KeyFilter(*_KEYS))
        )
        for i, obj in enumerate(processor, start=1):
            if i % every == 0:
                self.progress(f"reading {path.name}", i, None)
            yield obj

    def _read_file(self, path: Path, layers: dict[str, _Collector]) -> None:
        import osmium

        wkb = osmium.geom.WKBFactory()
        speeds = {str(k): float(v) for k, v in (self.mapping.get("speeds") or {}).items()}
        named = {str(k): float(v) for k, v in (self.mapping.get("maxspeed") or {}).items()}
        sidings = {str(k): str(v) for k, v in (self.mapping.get("sidings") or {}).items()}
        no_access = set(self.option("exclude_access", []))
        no_service = set(self.option("exclude_service", []))
        junctions: dict[int, dict[str, Any]] = {}
        on_motorway: dict[int, str] = {}
        bad = {"way": 0, "area": 0, "partial": 0}

        def layer(kind: str) -> _Collector:
            return layers.setdefault(kind, _Collector())

        for obj in self._objects(path):
            tags = obj.tags
            try:
                if obj.is_node():
                    self._node(obj, tags, layer, junctions)
                elif obj.is_way():
                    hw = tags.get("highway")
                    road = hw in speeds and tags.get("access") not in no_access
                    road = road and tags.get("service") not in no_service
                    rail = tags.get("railway") == "rail"
                    if not (road or rail):
                        continue
                    line = way_line(obj)
                    if line is None:
                        bad["way"] += 1
                        continue
                    bad["partial"] += not all(n.location.valid() for n in obj.nodes)
                    if road:
                        self._road(obj, tags, hw, line, speeds, named, layer, on_motorway)
                    if rail:
                        self._rail(obj, tags, line, sidings, layer)
                elif obj.is_area():
                    self._area(obj, tags, shapely.from_wkb(wkb.create_multipolygon(obj)), layer)
            except (osmium.InvalidLocationError, RuntimeError):
                bad["area" if obj.is_area() else "way"] += 1
        unknown = 0
        for node_id, row in junctions.items():
            row[s.ROAD] = on_motorway.get(node_id) or "?"
            unknown += row[s.ROAD] == "?"
            layer("motorway_junctions").add(row.pop("_geom"), **row)
        if unknown:
            self.report.note(f"{unknown} motorway junction(s) lie on no motorway way with a ref: their 'road' is '?'")
        self.report.read[f"features kept from {path.name} (tags {', '.join(_KEYS)})"] = sum(
            len(c.rows) for c in layers.values()
        )
        self.report.drop("ways", bad["way"], "fewer than two of their nodes are in the extract (clipped at its edge)")
        if bad["partial"]:
            self.report.note(f"{bad['partial']} way(s) cut at the extract's edge: kept as far as their nodes are in it")
        self.report.drop("areas", bad["area"], "could not be assembled into polygons (broken or clipped)")

    @staticmethod
    def _node(obj: Any, tags: Any, layer: Any, junctions: dict[int, dict[str, Any]]) -> None:
        if not obj.location.valid():
            return
        point = shapely.Point(obj.location.lon, obj.location.lat)
        if tags.get("highway") == "motorway_junction":
            ref = tags.get("ref")
            name = tags.get("name") or (f"exit {ref}" if ref else f"trafikplats (OSM node {obj.id})")
            junctions[obj.id] = {"_geom": point, s.NAME: name, "exit_ref": ref, s.OSM_ID: f"n{obj.id}"}
        if tags.get("power") == "substation":
            layer("power_substations").add(point, **_substation(tags, f"n{obj.id}"))
        if "harbour" in tags:
            layer("harbours").add(point, **{s.OSM_ID: f"n{obj.id}", s.NAME: tags.get("name"), s.KIND: "harbour"})

    @staticmethod
    def _road(
        obj: Any,
        tags: Any,
        hw: str,
        line: shapely.LineString,
        speeds: dict[str, float],
        named: dict[str, float],
        layer: Any,
        on_motorway: dict[int, str],
    ) -> None:
        speed = parse_maxspeed(tags.get("maxspeed"), named) or speeds[hw]
        oneway_tag = tags.get("oneway")
        oneway = 1 if oneway_tag in _TRUE else -1 if oneway_tag == "-1" else 0
        if oneway_tag is None and (hw in ("motorway", "motorway_link") or tags.get("junction") == "roundabout"):
            oneway = 1
        ref = normalise_ref(tags.get("ref"))
        layer("roads").add(
            line, **{s.SPEED_KMH: speed, s.ONEWAY: oneway, s.ROAD_CLASS: hw, s.ROAD: ref, s.NAME: tags.get("name")}
        )
        if hw == "motorway":
            layer("motorways").add(line, **{s.ROAD: ref or tags.get("name") or "?", s.NAME: tags.get("name")})
            if ref:
                for n in obj.nodes:
                    on_motorway.setdefault(n.ref, ref)

    @staticmethod
    def _rail(obj: Any, tags: Any, line: shapely.LineString, sidings: dict[str, str], layer: Any) -> None:
        service, usage = tags.get("service"), tags.get("usage")
        if service in sidings or usage == "industrial":
            middle = shapely.line_interpolate_point(line, 0.5, normalized=True)
            name = tags.get("name") or f"{service or usage} (OSM way {obj.id})"
            kind = sidings.get(str(service), "siding")
            layer("freight_terminals").add(middle, **{s.NAME: name, s.KIND: kind})
            return
        name = tags.get("name") or tags.get("ref") or f"järnväg ({usage or 'okänd'})"
        layer("rail").add(line, **{s.LINE_NAME: name, s.USAGE: usage, s.SERVICE: service, s.OSM_ID: f"w{obj.id}"})

    @staticmethod
    def _area(obj: Any, tags: Any, polygon: shapely.MultiPolygon, layer: Any) -> None:
        osm_id = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
        landuse = tags.get("landuse")
        point = None
        if landuse in ("industrial", "brownfield"):
            layer("industrial_land").add(polygon, **{s.OSM_ID: osm_id, s.NAME: tags.get("name"), s.LANDUSE: landuse})
        port = landuse == "port" or (landuse == "industrial" and tags.get("industrial") == "port")
        if port or "harbour" in tags:
            point = shapely.point_on_surface(polygon)
            kind = "port" if port else "harbour"
            layer("harbours").add(point, **{s.OSM_ID: osm_id, s.NAME: tags.get("name"), s.KIND: kind})
        if tags.get("power") == "substation":
            point = point or shapely.point_on_surface(polygon)
            layer("power_substations").add(point, **_substation(tags, osm_id))


def _substation(tags: Any, osm_id: str) -> dict[str, Any]:
    return {
        s.OSM_ID: osm_id,
        s.NAME: tags.get("name"),
        s.OPERATOR: tags.get("operator"),
        s.VOLTAGE_KV: parse_voltage_kv(tags.get("voltage")),
        s.SUBSTATION_TYPE: tags.get("substation"),
    }
