"""The criteria and parameters imported layer kinds bring, as catalogue declarations.

After every import, each criterion below whose layers the region's catalogue now declares is added
to it (unless the catalogue already declares one of that name: a user's edits are kept). So
importing OpenStreetMap roads into a region that already has the SCB population grid adds the
drive-time labour pools, whichever came first.
"""

from __future__ import annotations

from typing import Any

from sitematch import schema as s

_ZONING = list(s.ZONING_CODES)
_STATUSES = [v for v in s.PLAN_STATUSES if v != "ingen_plan"]


def _labour_pool(minutes: int) -> dict[str, Any]:
    return {
        "measure": "travel_time",
        "how": "reach",
        "targets": "population_grid",
        "column": s.POPULATION,
        "limit_min": minutes,
        "unit": "inhabitants",
        "label": f"Labour pool within {minutes} min by car",
        "short_label": f"pool {minutes} min",
    }


#: Parameters the criteria use, by name: their catalogue declaration.
PARAMETERS: dict[str, dict[str, Any]] = {
    "contamination_search_radius_m": {
        "default": 50,
        "label": "Contaminated-site search radius",
        "description": "EBH objects this close to a plot count as on it (the register places a point on one property)",
    },
}

#: Criterion name → (layer kinds it needs, its catalogue declaration).
CRITERIA: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
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
    "labour_pool_within_30_min": (("roads", "population_grid"), _labour_pool(30)),
    "labour_pool_within_45_min": (("roads", "population_grid"), _labour_pool(45)),
    "labour_pool_within_60_min": (("roads", "population_grid"), _labour_pool(60)),
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
    "plan_zoning": (
        ("plan_uses",),
        {
            "measure": "overlay",
            "layer": "plan_uses",
            "how": "largest_overlap",
            "column": s.ZONING,
            "values": _ZONING,
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
            "values": _STATUSES,
            "label": "Plan status by the detailed plan (overlay)",
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


def brought(kinds: set[str], declared: set[str]) -> dict[str, dict[str, Any]]:
    """The criteria whose layers are all in ``kinds`` and whose names are not yet ``declared``.

    Examples
    --------
    >>> sorted(brought({"roads", "motorway_junctions"}, set()))
    ['drive_time_to_motorway_junction_min']
    """
    return {
        name: dict(spec) for name, (needs, spec) in CRITERIA.items() if set(needs) <= kinds and name not in declared
    }
