"""The built-in criteria and parameters: one declaration each.

A region's catalogue (``layers.yaml``) adds its own next to these; see :mod:`sitematch.layers.catalogue`.
"""

from __future__ import annotations

from sitematch import schema as s
from sitematch.criteria.model import Criterion, Parameter, Registry
from sitematch.i18n import N_
from sitematch.measures import AggregateWithin, Attribute, Clause, NearestDistance

PORT_MIN_DEPTH_M = "port_min_depth_m"
LABOUR_POOL_RADIUS_M = "labour_pool_radius_m"
GRID_CONNECTION_RADIUS_M = "grid_connection_radius_m"

PARAMETERS = (
    Parameter(
        PORT_MIN_DEPTH_M,
        0.0,
        N_("Least port draught"),
        description=N_("only ports this deep count for distance_to_port_m"),
    ),
    Parameter(
        LABOUR_POOL_RADIUS_M,
        30_000.0,
        N_("Labour pool radius"),
        description=N_("population this close counts as labour pool"),
    ),
    Parameter(
        GRID_CONNECTION_RADIUS_M,
        15_000.0,
        N_("Grid connection radius"),
        description=N_("substations this close count for grid_capacity_mw"),
    ),
)


def _near(layer: str, names_as: str | None = None, where: tuple[Clause, ...] = ()) -> NearestDistance:
    return NearestDistance(layer, where, s.NAME if names_as else None, names_as)


CRITERIA = (
    Criterion(s.AREA_HA, "numeric", N_("Area"), Attribute(s.AREA_HA), headline=True, description=N_("plot area")),
    Criterion(
        s.GRID_CAPACITY_MW,
        "numeric",
        N_("Grid capacity available"),
        AggregateWithin("substations", "max", GRID_CONNECTION_RADIUS_M, s.AVAILABLE_CAPACITY_MW),
        short_label="grid",
        headline=True,
        cost=2,
        description=N_("largest indicative capacity among substations within grid_connection_radius_m"),
    ),
    Criterion(
        s.DISTANCE_TO_MOTORWAY_JUNCTION_M,
        "numeric",
        N_("Distance to motorway junction"),
        _near("motorway_junctions", s.NEAREST_JUNCTION),
        higher_is_better=False,
        short_label="→ junction",
        headline=True,
        cost=1,
        description=N_("to the nearest trafikplats"),
    ),
    Criterion(
        s.DISTANCE_TO_MOTORWAY_M,
        "numeric",
        N_("Distance to motorway"),
        _near("motorways"),
        higher_is_better=False,
        short_label="→ motorway",
        cost=3,
        description=N_("to the nearest motorway"),
    ),
    Criterion(
        s.DISTANCE_TO_RAIL_M,
        "numeric",
        N_("Distance to rail line"),
        _near("rail"),
        higher_is_better=False,
        short_label="→ rail",
        headline=True,
        cost=3,
        description=N_("to the nearest railway line"),
    ),
    Criterion(
        s.DISTANCE_TO_FREIGHT_TERMINAL_M,
        "numeric",
        N_("Distance to rail freight terminal"),
        _near("freight_terminals"),
        higher_is_better=False,
        short_label="→ terminal",
        cost=2,
        description=N_("to the nearest rail freight terminal or siding"),
    ),
    Criterion(
        s.DISTANCE_TO_PORT_M,
        "numeric",
        N_("Distance to port (meeting the depth)"),
        _near("ports", s.NEAREST_PORT, (Clause(s.MAX_DRAUGHT_M, ">=", parameter=PORT_MIN_DEPTH_M),)),
        higher_is_better=False,
        short_label="→ port",
        headline=True,
        cost=1,
        description=N_("to the nearest port with at least port_min_depth_m draught"),
    ),
    Criterion(
        s.DISTANCE_TO_AIRPORT_M,
        "numeric",
        N_("Distance to airport"),
        _near("airports", s.NEAREST_AIRPORT),
        higher_is_better=False,
        short_label="→ airport",
        cost=1,
        description=N_("to the nearest airport or airfield of any class"),
    ),
    Criterion(
        s.DISTANCE_TO_INTERNATIONAL_AIRPORT_M,
        "numeric",
        N_("Distance to international airport"),
        _near("airports", s.NEAREST_INTERNATIONAL_AIRPORT, (Clause(s.AIRPORT_CLASS, "==", "international"),)),
        higher_is_better=False,
        short_label="→ intl airport",
        cost=1,
        description=N_("to the nearest airport with scheduled international flights (Arlanda, Skavsta in the demo)"),
    ),
    Criterion(
        s.DISTANCE_TO_SUBSTATION_M,
        "numeric",
        N_("Distance to substation"),
        _near("substations", s.NEAREST_SUBSTATION),
        higher_is_better=False,
        short_label="→ substation",
        cost=1,
        description=N_("to the nearest substation"),
    ),
    Criterion(
        s.LABOUR_POOL_POPULATION,
        "numeric",
        N_("Labour pool (population within radius)"),
        AggregateWithin("places", "sum", LABOUR_POOL_RADIUS_M, s.POPULATION),
        short_label="labour pool",
        headline=True,
        cost=4,
        description=N_("population of places within labour_pool_radius_m"),
    ),
    Criterion(
        s.PRICE_SEK_M2,
        "numeric",
        N_("Price"),
        Attribute(s.PRICE_SEK_M2),
        higher_is_better=False,
        short_label="SEK/m²",
        headline=True,
        if_unknown="verify",
        description=N_("asking price (often 'on request': unknown prices are to verify by default)"),
    ),
    Criterion(
        s.MIFO_RISK_CLASS,
        "numeric",
        N_("MIFO risk class (1 very high – 4 low)"),
        Attribute(s.MIFO_RISK_CLASS),
        short_label="MIFO",
        display="class",
        if_unknown="verify",
        applies_to=s.BROWNFIELD,
        description=N_(
            "MIFO risk class of brownfield (1 very high … 4 low); min_mifo_risk_class: 3 allows 3–4; "
            "applies to brownfield sites only"
        ),
    ),
    Criterion(
        s.ZONING,
        "category",
        N_("Zoning (plan use code)"),
        Attribute(s.ZONING),
        values=tuple(s.ZONING_CODES),
        short_label="zoning",
        headline=True,
        description=N_("plan use code (Boverket)"),
    ),
    Criterion(
        s.PLAN_STATUS,
        "category",
        N_("Plan status"),
        Attribute(s.PLAN_STATUS),
        values=s.PLAN_STATUSES,
        short_label="plan",
        headline=True,
        description=N_("detaljplan status"),
    ),
    Criterion(
        s.OWNER,
        "category",
        N_("Owner"),
        Attribute(s.OWNER),
        values=s.OWNERS,
        short_label="owner",
        headline=True,
        description=N_("land owner"),
    ),
    Criterion(
        s.MUNICIPALITY_CODE,
        "category",
        N_("Municipality"),
        Attribute(s.MUNICIPALITY_CODE),
        short_label="kommun",
        pattern=r"\d{4}",
        pattern_example="0114",
        description=N_('SCB kommunkod (4 digits, quoted in YAML: "0114")'),
    ),
    Criterion(
        s.READY,
        "flag",
        N_("Build-ready (byggklar)"),
        Attribute(s.READY),
        short_label="ready",
        description=N_("build-ready (byggklar)"),
    ),
    Criterion(
        s.BROWNFIELD,
        "flag",
        N_("Brownfield"),
        Attribute(s.BROWNFIELD),
        short_label="brownfield",
        allowed_key="brownfield_allowed",
        refusal=N_("brownfield site, and the profile does not allow brownfield"),
        description=N_("former industrial / potentially contaminated land"),
    ),
)

#: The built-in registry: every criterion and parameter sitematch knows without a catalogue.
BUILTIN = Registry({c.name: c for c in CRITERIA}, {p.name: p for p in PARAMETERS})
