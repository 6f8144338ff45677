"""Canonical layers and columns: defined once, used everywhere.

Every layer kind sitematch knows has a :class:`LayerSchema`: its name (also the layer name inside
``layers/region.gpkg``), its geometry type and its columns, each with a unit in its name where it
has one (``area_ha``, ``available_capacity_mw``, ``max_draught_m``). Every layer row carries
``source`` (where the row came from, and whether it is real, ``generalised``, ``illustrative`` or
``example`` data) and ``licence``.

Code refers to column names through the constants below, never through scattered string literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- provenance columns, on every layer -------------------------------------------------------
SOURCE = "source"
LICENCE = "licence"
GEOMETRY = "geometry"

# --- identity and administrative columns --------------------------------------------------------
NAME = "name"
MUNICIPALITY_CODE = "municipality_code"
MUNICIPALITY_NAME = "municipality_name"
COUNTY_CODE = "county_code"
COUNTY_NAME = "county_name"
MEMBER = "member"

# --- plots (detaljplanerad mark, available land, brownfield) -----------------------------------
PLOT_ID = "plot_id"
LOCAL_REF = "local_ref"
AREA_HA = "area_ha"
ZONING = "zoning"
PLAN_STATUS = "plan_status"
OWNER = "owner"
PRICE_SEK_M2 = "price_sek_m2"
READY = "ready"
BROWNFIELD = "brownfield"
MIFO_RISK_CLASS = "mifo_risk_class"
UPDATED = "updated"

# --- infrastructure ------------------------------------------------------------------------------
POPULATION = "population"
ROAD = "road"
LINE_NAME = "line_name"
KIND = "kind"
LOCODE = "locode"
MAX_DRAUGHT_M = "max_draught_m"
RAIL_CONNECTED = "rail_connected"
OPERATOR = "operator"
ICAO = "icao"
IATA = "iata"
AIRPORT_CLASS = "airport_class"
#: Classes of airport: scheduled international traffic; scheduled domestic or small; no scheduled traffic.
AIRPORT_CLASSES: tuple[str, ...] = ("international", "regional", "airfield")
AVAILABLE_CAPACITY_MW = "available_capacity_mw"
CAPACITY_DATE = "capacity_date"
VOLTAGE_KV = "voltage_kv"
GRID_COMPANY = "grid_company"

# --- the members table (non-spatial) ----------------------------------------------------------
MEMBER_FROM_YEAR = "member_from_year"
MEMBER_TO_YEAR = "member_to_year"

#: Zoning use codes from Boverket's plan regulation catalogue that sitematch knows.
ZONING_CODES: dict[str, str] = {
    "J": "industri (industry)",
    "Z": "verksamheter (business)",
    "E": "tekniska anläggningar (technical facilities)",
    "H": "detaljhandel (retail)",
    "K": "kontor (offices)",
    "T": "trafik (transport)",
    "C": "centrum (centre)",
    "B": "bostäder (housing)",
}

#: Plan status values, from least to most certain.
PLAN_STATUSES: tuple[str, ...] = ("ingen_plan", "pagaende", "antagen", "laga_kraft")

#: Owners of land.
OWNERS: tuple[str, ...] = ("kommun", "privat", "statlig", "okand")


@dataclass(frozen=True)
class Column:
    """One canonical column of a layer.

    Parameters
    ----------
    name : str
        The column name, with its unit as a suffix where it has one.
    dtype : str
        One of ``"str"``, ``"float"``, ``"int"``, ``"bool"``, ``"date"``.
    required : bool
        Whether every row must have a value.
    description : str
        What the column holds, for the README and validation messages.
    """

    name: str
    dtype: str
    required: bool = True
    description: str = ""


@dataclass(frozen=True)
class LayerSchema:
    """The schema of one layer kind: its name, geometry type and columns."""

    kind: str
    geometry_type: str  # "Point", "LineString" or "Polygon" (multi-part accepted)
    columns: tuple[Column, ...]
    description: str = ""
    provenance: tuple[Column, ...] = field(
        default=(
            Column(SOURCE, "str", True, "where the row came from; says generalised/illustrative/example"),
            Column(LICENCE, "str", True, "licence of the source data"),
        )
    )

    @property
    def all_columns(self) -> tuple[Column, ...]:
        """Columns including the provenance columns, without geometry."""
        return self.columns + self.provenance

    @property
    def column_names(self) -> list[str]:
        """Names of :attr:`all_columns`."""
        return [c.name for c in self.all_columns]

    @property
    def required_names(self) -> list[str]:
        """Names of the columns every row must fill."""
        return [c.name for c in self.all_columns if c.required]


MUNICIPALITIES = LayerSchema(
    "municipalities",
    "Polygon",
    (
        Column(MUNICIPALITY_CODE, "str", True, "SCB kommunkod, 4 digits"),
        Column(MUNICIPALITY_NAME, "str", True, "municipality name"),
        Column(COUNTY_CODE, "str", True, "SCB länskod, 2 digits"),
        Column(COUNTY_NAME, "str", True, "county name"),
        Column(MEMBER, "bool", True, "member of the partnership in the members table's year"),
    ),
    "municipal boundaries (SCB, simplified for thematic maps)",
)

COUNTIES = LayerSchema(
    "counties",
    "Polygon",
    (
        Column(COUNTY_CODE, "str", True, "SCB länskod"),
        Column(COUNTY_NAME, "str", True, "county name"),
    ),
    "county boundaries (SCB)",
)

PLACES = LayerSchema(
    "places",
    "Point",
    (
        Column(NAME, "str", True, "place name"),
        Column(POPULATION, "int", True, "inhabitants"),
    ),
    "populated places (GeoNames, CC BY 4.0)",
)

AIRPORTS = LayerSchema(
    "airports",
    "Point",
    (
        Column(NAME, "str", True, "airport name"),
        Column(ICAO, "str", True, "ICAO code"),
        Column(IATA, "str", False, "IATA code"),
        Column(AIRPORT_CLASS, "str", False, "international, regional or airfield (no scheduled traffic)"),
    ),
    "airports (airportsdata)",
)

PORTS = LayerSchema(
    "ports",
    "Point",
    (
        Column(NAME, "str", True, "port name"),
        Column(LOCODE, "str", True, "UN/LOCODE"),
        Column(MAX_DRAUGHT_M, "float", True, "maximum draught / quay depth in metres"),
        Column(RAIL_CONNECTED, "bool", True, "the port has a rail connection"),
        Column(OPERATOR, "str", False, "port operator"),
    ),
    "cargo and deep-water ports (curated table)",
)

MOTORWAYS = LayerSchema(
    "motorways",
    "LineString",
    (
        Column(ROAD, "str", True, "road number, e.g. E18"),
        Column(NAME, "str", False, "section name"),
    ),
    "motorways (generalised polylines through real places)",
)

MOTORWAY_JUNCTIONS = LayerSchema(
    "motorway_junctions",
    "Point",
    (
        Column(NAME, "str", True, "trafikplats name"),
        Column(ROAD, "str", True, "road number"),
    ),
    "motorway junctions, trafikplatser (generalised)",
)

RAIL = LayerSchema(
    "rail",
    "LineString",
    (Column(LINE_NAME, "str", True, "line name, e.g. Mälarbanan"),),
    "railway lines (generalised polylines through real stations)",
)

FREIGHT_TERMINALS = LayerSchema(
    "freight_terminals",
    "Point",
    (
        Column(NAME, "str", True, "terminal or siding name"),
        Column(KIND, "str", True, "'terminal' (intermodal/freight terminal) or 'siding'"),
    ),
    "rail freight terminals and sidings (generalised)",
)

SUBSTATIONS = LayerSchema(
    "substations",
    "Point",
    (
        Column(NAME, "str", True, "substation / capacity zone name"),
        Column(AVAILABLE_CAPACITY_MW, "float", True, "indicative capacity available for new load, MW"),
        Column(CAPACITY_DATE, "date", True, "date the capacity figure refers to (ISO)"),
        Column(VOLTAGE_KV, "float", False, "voltage level, kV"),
        Column(GRID_COMPANY, "str", False, "grid company (nätbolag)"),
    ),
    "grid capacity at substations (illustrative: no open Swedish source exists)",
)

PLOTS = LayerSchema(
    "plots",
    "Polygon",
    (
        Column(PLOT_ID, "str", True, "stable id: municipality_code + ':' + local_ref"),
        Column(MUNICIPALITY_CODE, "str", True, "SCB kommunkod of the municipality the plot is in"),
        Column(LOCAL_REF, "str", True, "the municipality's own reference for the plot"),
        Column(NAME, "str", False, "plot or area name"),
        Column(AREA_HA, "float", True, "area in hectares"),
        Column(ZONING, "str", True, "plan use code: J industry, Z business, E technical, ..."),
        Column(PLAN_STATUS, "str", True, "laga_kraft, antagen, pagaende or ingen_plan"),
        Column(OWNER, "str", True, "kommun, privat, statlig or okand"),
        Column(PRICE_SEK_M2, "float", False, "asking price, SEK per m²"),
        Column(READY, "bool", True, "build-ready (byggklar)"),
        Column(BROWNFIELD, "bool", True, "former industrial / potentially contaminated land"),
        Column(MIFO_RISK_CLASS, "int", False, "MIFO risk class 1 (very high) to 4 (low), if assessed"),
        Column(UPDATED, "date", False, "date the municipality last updated the plot"),
    ),
    "available plots on detaljplanerad mark, and brownfield sites",
)

#: Every spatial layer kind, by name.
LAYERS: dict[str, LayerSchema] = {
    s.kind: s
    for s in (
        MUNICIPALITIES,
        COUNTIES,
        PLACES,
        AIRPORTS,
        PORTS,
        MOTORWAYS,
        MOTORWAY_JUNCTIONS,
        RAIL,
        FREIGHT_TERMINALS,
        SUBSTATIONS,
        PLOTS,
    )
}

#: The members table (non-spatial; layer ``members`` in the GeoPackage).
MEMBERS_COLUMNS: tuple[Column, ...] = (
    Column(MUNICIPALITY_CODE, "str", True, "SCB kommunkod"),
    Column(MUNICIPALITY_NAME, "str", True, "municipality name"),
    Column(COUNTY_CODE, "str", True, "SCB länskod"),
    Column(MEMBER_FROM_YEAR, "int", True, "first year of membership known to the table"),
    Column(MEMBER_TO_YEAR, "int", False, "last year of membership, empty if still a member"),
    Column(SOURCE, "str", True, "where the membership fact comes from"),
    Column(LICENCE, "str", False, "licence of the membership table"),
)

# --- feature columns: one row per site, one column per criterion --------------------------------
DISTANCE_TO_MOTORWAY_JUNCTION_M = "distance_to_motorway_junction_m"
DISTANCE_TO_MOTORWAY_M = "distance_to_motorway_m"
DISTANCE_TO_RAIL_M = "distance_to_rail_m"
DISTANCE_TO_FREIGHT_TERMINAL_M = "distance_to_freight_terminal_m"
DISTANCE_TO_PORT_M = "distance_to_port_m"
DISTANCE_TO_AIRPORT_M = "distance_to_airport_m"
DISTANCE_TO_INTERNATIONAL_AIRPORT_M = "distance_to_international_airport_m"
DISTANCE_TO_SUBSTATION_M = "distance_to_substation_m"
GRID_CAPACITY_MW = "grid_capacity_mw"
LABOUR_POOL_POPULATION = "labour_pool_population"
NEAREST_PORT = "nearest_port"
NEAREST_JUNCTION = "nearest_junction"
NEAREST_SUBSTATION = "nearest_substation"
NEAREST_AIRPORT = "nearest_airport"
NEAREST_INTERNATIONAL_AIRPORT = "nearest_international_airport"

# --- kinds that importers bring (declared in a region's catalogue when imported) ----------------
# These are not in LAYERS: a region has them only when its catalogue declares them, which
# ``sitematch layers import`` does (geometry and columns written from these schemas).
SPEED_KMH = "speed_kmh"
ONEWAY = "oneway"
ROAD_CLASS = "road_class"
RISK_CLASS = "risk_class"
RISK_CLASS_NUMBER = "risk_class_number"
BRANCH = "branch"
SITE_ID = "site_id"
CELL_ID = "cell_id"
PLAN_ID = "plan_id"
PLAN_DATE = "plan_date"
USE_CODE = "use_code"
LANDUSE = "landuse"
USAGE = "usage"
SERVICE = "service"
OSM_ID = "osm_id"
SUBSTATION_TYPE = "substation_type"
DESO_CODE = "deso_code"
AVAILABLE_MW_PRODUCTION = "available_mw_production"
CAPACITY_METHOD = "capacity_method"
SOURCE_URL = "source_url"
CAPACITY_STALE = "capacity_stale"
CAPACITY_AGE_DAYS = "capacity_age_days"

ROADS = LayerSchema(
    "roads",
    "LineString",
    (
        Column(SPEED_KMH, "float", True, "speed used for travel time, km/h (the speed limit where known)"),
        Column(ONEWAY, "int", True, "0 both directions, 1 only along the line, -1 only against it"),
        Column(ROAD_CLASS, "str", False, "the source's road class (OSM highway=*, NVDB functional class)"),
        Column(ROAD, "str", False, "road number, e.g. E18, 56"),
        Column(NAME, "str", False, "street or road name"),
    ),
    "the drivable road network, for drive times",
)

CONTAMINATED_SITES = LayerSchema(
    "contaminated_sites",
    "Point",
    (
        Column(SITE_ID, "str", True, "the register's object id"),
        Column(NAME, "str", False, "object name"),
        Column(RISK_CLASS, "str", True, "MIFO risk class 1–4, E (not inventoried), KM/MKM (remediated)"),
        Column(RISK_CLASS_NUMBER, "int", False, "the risk class as a number 1 (very high) to 4 (low); empty otherwise"),
        Column(BRANCH, "str", False, "industry branch (bransch)"),
    ),
    "potentially contaminated sites (EBH register, Länsstyrelsen)",
)

POPULATION_GRID = LayerSchema(
    "population_grid",
    "Point",
    (
        Column(CELL_ID, "str", True, "the grid cell's id (SCB rutid)"),
        Column(POPULATION, "int", True, "inhabitants in the cell"),
    ),
    "population on a grid, one point per cell at its centre (SCB)",
)

PLAN_AREAS = LayerSchema(
    "plan_areas",
    "Polygon",
    (
        Column(PLAN_ID, "str", True, "plan designation (beteckning) or id"),
        Column(NAME, "str", False, "plan name"),
        Column(MUNICIPALITY_CODE, "str", False, "SCB kommunkod"),
        Column(PLAN_STATUS, "str", True, "laga_kraft, antagen or pagaende"),
        Column(PLAN_DATE, "date", False, "date the plan gained legal force (or was adopted)"),
    ),
    "detailed plan areas (Lantmäteriet)",
)

PLAN_USES = LayerSchema(
    "plan_uses",
    "Polygon",
    (
        Column(PLAN_ID, "str", True, "the plan the provision belongs to"),
        Column(ZONING, "str", True, "use letter (J, Z, E, …) from Boverket's catalogue code"),
        Column(USE_CODE, "str", True, "Boverket's planbestämmelsekatalog code, e.g. DP_KM_J2"),
        Column(PLAN_STATUS, "str", True, "status of the plan"),
        Column(NAME, "str", False, "the provision as worded (bestämmelseformulering)"),
    ),
    "land-use provisions of detailed plans (användningsbestämmelser)",
)

POWER_SUBSTATIONS = LayerSchema(
    "power_substations",
    "Point",
    (
        Column(OSM_ID, "str", True, "the source's id of the substation"),
        Column(NAME, "str", False, "substation name"),
        Column(OPERATOR, "str", False, "operator"),
        Column(VOLTAGE_KV, "float", False, "highest voltage, kV"),
        Column(SUBSTATION_TYPE, "str", False, "transmission, distribution, …"),
    ),
    "electrical substations without capacity figures (OpenStreetMap)",
)

HARBOURS = LayerSchema(
    "harbours",
    "Point",
    (
        Column(OSM_ID, "str", True, "the source's id"),
        Column(NAME, "str", False, "port or harbour name"),
        Column(KIND, "str", True, "port (industrial=port, landuse=port) or harbour"),
    ),
    "ports and harbours without draught figures (OpenStreetMap)",
)

INDUSTRIAL_LAND = LayerSchema(
    "industrial_land",
    "Polygon",
    (
        Column(OSM_ID, "str", True, "the source's id"),
        Column(NAME, "str", False, "area name"),
        Column(LANDUSE, "str", True, "industrial or brownfield"),
    ),
    "industrial and brownfield land (OpenStreetMap)",
)

DESO_AREAS = LayerSchema(
    "deso_areas",
    "Polygon",
    (
        Column(DESO_CODE, "str", True, "DeSO code: kommunkod + A/B/C + 4 digits"),
        Column(MUNICIPALITY_CODE, "str", True, "SCB kommunkod"),
        Column(POPULATION, "int", False, "inhabitants, where a population table was given"),
    ),
    "demographic statistical areas (SCB DeSO)",
)

#: Kinds importers write, by name (declared in the region's catalogue on import, not built in).
IMPORTED: dict[str, LayerSchema] = {
    s.kind: s
    for s in (
        ROADS,
        CONTAMINATED_SITES,
        POPULATION_GRID,
        PLAN_AREAS,
        PLAN_USES,
        POWER_SUBSTATIONS,
        HARBOURS,
        INDUSTRIAL_LAND,
        DESO_AREAS,
    )
}
