"""The criteria a profile can require or prefer: one registry, used by profile, features, scoring.

A criterion is a feature column (``distance_to_rail_m``, ``grid_capacity_mw``…) with a kind:

- ``numeric``: requirements ``min_<name>`` / ``max_<name>``; preferences with breakpoints;
- ``category``: requirement ``<name>: [allowed values]``; preferences as a value → score table;
- ``flag``: a yes/no column; requirement ``<name>: true|false``; preference table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitematch import schema as s


@dataclass(frozen=True)
class Criterion:
    """One criterion sites are measured by.

    Parameters
    ----------
    name : str
        The feature column, with its unit as suffix (``_m``, ``_mw``, ``_ha``, ``_sek_m2``).
    kind : str
        ``"numeric"``, ``"category"`` or ``"flag"``.
    label : str
        Human label for tables, maps and dossiers.
    unit : str
        Unit shown to people (``"m"``, ``"MW"``, ``"ha"``); empty for categories and flags.
    higher_is_better : bool
        Default direction for numeric criteria (only used to word explanations).
    """

    name: str
    kind: str
    label: str
    unit: str = ""
    higher_is_better: bool = True


CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(s.AREA_HA, "numeric", "Area", "ha", True),
        Criterion(s.GRID_CAPACITY_MW, "numeric", "Grid capacity available", "MW", True),
        Criterion(s.DISTANCE_TO_MOTORWAY_JUNCTION_M, "numeric", "Distance to motorway junction", "m", False),
        Criterion(s.DISTANCE_TO_MOTORWAY_M, "numeric", "Distance to motorway", "m", False),
        Criterion(s.DISTANCE_TO_RAIL_M, "numeric", "Distance to rail line", "m", False),
        Criterion(s.DISTANCE_TO_FREIGHT_TERMINAL_M, "numeric", "Distance to rail freight terminal", "m", False),
        Criterion(s.DISTANCE_TO_PORT_M, "numeric", "Distance to port (meeting the depth)", "m", False),
        Criterion(s.DISTANCE_TO_AIRPORT_M, "numeric", "Distance to airport", "m", False),
        Criterion(s.DISTANCE_TO_SUBSTATION_M, "numeric", "Distance to substation", "m", False),
        Criterion(s.LABOUR_POOL_POPULATION, "numeric", "Labour pool (population within radius)", "inhabitants", True),
        Criterion(s.PRICE_SEK_M2, "numeric", "Price", "SEK/m²", False),
        Criterion(s.MIFO_RISK_CLASS, "numeric", "MIFO risk class (1 very high – 4 low)", "", True),
        Criterion(s.ZONING, "category", "Zoning (plan use code)"),
        Criterion(s.PLAN_STATUS, "category", "Plan status"),
        Criterion(s.OWNER, "category", "Owner"),
        Criterion(s.MUNICIPALITY_CODE, "category", "Municipality"),
        Criterion(s.READY, "flag", "Build-ready (byggklar)"),
        Criterion(s.BROWNFIELD, "flag", "Brownfield"),
    )
}

#: Units people might wrongly write in a key, and what sitematch uses instead.
WRONG_UNIT_SUFFIXES: dict[str, str] = {
    "_km": "_m",
    "_kilometres": "_m",
    "_meters": "_m",
    "_metres": "_m",
    "_kw": "_mw",
    "_gw": "_mw",
    "_m2": "_ha",
    "_sqm": "_ha",
    "_hectares": "_ha",
    "_kvm": "_ha",
    "_acres": "_ha",
}


def format_values(criterion: Criterion, values: pd.Series | np.ndarray) -> np.ndarray:
    """Format many values of a numeric criterion at once (vectorised; same words as :func:`format_value`).

    Parameters
    ----------
    criterion : Criterion
        A numeric criterion.
    values : pandas.Series or numpy.ndarray
        Finite numbers (callers word NaN and infinity themselves).

    Returns
    -------
    numpy.ndarray of str
    """
    v = pd.Series(np.asarray(values, dtype=float))
    if criterion.unit == "m":
        km = (v / 1000).round(1).astype(str) + " km"
        m = v.round(0).astype("int64").astype(str) + " m"
        return np.where(v >= 1000, km, m).astype(object)
    if criterion.unit == "inhabitants":
        return v.round(0).astype("int64").map("{:,}".format).str.replace(",", " ").to_numpy(dtype=object)
    if criterion.name == s.MIFO_RISK_CLASS:
        return ("class " + v.round(0).astype("int64").astype(str)).to_numpy(dtype=object)
    text = v.round(1).astype(str).str.replace(r"\.0$", "", regex=True)
    return (text + (" " + criterion.unit if criterion.unit else "")).to_numpy(dtype=object)


def format_value(criterion: Criterion, value: object) -> str:
    """Format a criterion's value for people: ``"4.2 km"``, ``"40 MW"``, ``"25 ha"``, ``"yes"``."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "unknown"
    if criterion.kind != "numeric":
        if isinstance(value, bool) or criterion.kind == "flag":
            return "yes" if bool(value) else "no"
        return str(value)
    v = float(value)  # type: ignore[arg-type]
    if v == float("inf"):
        return "none"
    # the scalar twin of format_values (pure Python: fast for one value; tested to agree)
    if criterion.unit == "m":
        return f"{round(v / 1000, 1)} km" if v >= 1000 else f"{round(v)} m"
    if criterion.unit == "inhabitants":
        return f"{round(v):,}".replace(",", " ")
    if criterion.name == s.MIFO_RISK_CLASS:
        return f"class {round(v)}"
    text = str(round(v, 1)).removesuffix(".0")
    return f"{text} {criterion.unit}" if criterion.unit else text
