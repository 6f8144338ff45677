"""Canonical layers and columns: defined once, used everywhere.

Every layer kind sitematch knows has a :class:`LayerSchema`: its name (also the layer name inside
``layers/region.gpkg``), its geometry type and its columns, each with a unit in its name where it
has one (``area_ha``, ``available_capacity_mw``, ``max_draught_m``). Every layer row carries
``source`` (where the row came from, and whether it is real, ``generalised``, ``illustrative`` or
``example`` data) and ``licence``. The kinds are data: the built-in ones are the packaged
catalogue ``sitematch/kinds.yaml`` (read by :mod:`sitematch._kinds`, the same reader as a region's
``layers.yaml``); importers declare the kinds they write in their own modules.

Code refers to column names through the constants below, never through scattered string literals.
"""

from __future__ import annotations

from sitematch._kinds import LICENCE, SOURCE, Column, LayerSchema, builtin_kinds

# --- provenance columns, on every layer -------------------------------------------------------
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


#: Every built-in spatial layer kind, by name (from the packaged ``sitematch/kinds.yaml``).
LAYERS: dict[str, LayerSchema] = builtin_kinds()
MUNICIPALITIES = LAYERS["municipalities"]
COUNTIES = LAYERS["counties"]
PLACES = LAYERS["places"]
AIRPORTS = LAYERS["airports"]
PORTS = LAYERS["ports"]
MOTORWAYS = LAYERS["motorways"]
MOTORWAY_JUNCTIONS = LAYERS["motorway_junctions"]
RAIL = LAYERS["rail"]
FREIGHT_TERMINALS = LAYERS["freight_terminals"]
SUBSTATIONS = LAYERS["substations"]
PLOTS = LAYERS["plots"]

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

# --- columns of the kinds that importers bring (declared in the importers' modules) -------------
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

# -- result columns (reserved: no catalogue criterion may take these names; see sitematch.result) --
#: Outcomes of one requirement for one site, by code (``<NA>``: not checked). "unknown": no value,
#: and the requirement's ``if_unknown`` is ``fail``; "to verify": no value, passes, listed to ask.
OUTCOMES = ("passed", "failed", "unknown", "to verify", "not applicable")
PASSED_CODE, FAILED, UNKNOWN, TO_VERIFY, NOT_APPLICABLE = range(len(OUTCOMES))
SCORE = "score"
RANK = "rank"
PASSED = "passed"
N_MISSED = "n_missed"
SHORTFALL = "shortfall"
NEAR_MISS = "near_miss"
MISSED = "missed"
VERIFY = "to_verify"
IN_REGION = "in_region"
EXACT = "exact"
LOWER_PREFIX = "lower_"
UPPER_PREFIX = "upper_"
POINTS_PREFIX = "points_"
CHECK_PREFIX = "check_"
SHORTFALL_PREFIX = "shortfall_"
WHY_PREFIX = "why_"
#: Columns every evaluation adds (besides the per-requirement and per-preference ones).
RESULT_COLUMNS = (SCORE, RANK, PASSED, N_MISSED, SHORTFALL, NEAR_MISS, MISSED, VERIFY, IN_REGION, EXACT)
#: Prefixes of the per-requirement and per-preference result columns.
RESULT_PREFIXES = (POINTS_PREFIX, CHECK_PREFIX, SHORTFALL_PREFIX, WHY_PREFIX, LOWER_PREFIX, UPPER_PREFIX)
