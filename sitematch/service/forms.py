"""The adviser's profile form: a profile's data as form fields, and form fields back into profile data.

The form edits what advisers change most — name, area, grid capacity, distances, zoning, the
weights and breakpoints of the preferences — on top of a base profile (a stored one, or
:data:`STARTER`) that the form carries as JSON. Validation is the library's
(:func:`sitematch.profile.build_profile`): the form only moves values.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sitematch.criteria import Registry

#: The numeric requirements the form shows (empty: not required).
REQUIREMENTS = (
    "min_area_ha",
    "min_grid_capacity_mw",
    "max_distance_to_motorway_junction_m",
    "max_distance_to_rail_m",
    "max_distance_to_port_m",
)
#: The category requirement the form shows as check boxes.
CATEGORY = "zoning"
#: A profile to start from when none is picked.
STARTER: dict[str, Any] = {
    "name": "New lead",
    "requirements": {"min_area_ha": 10, "zoning": ["J", "Z"]},
    "preferences": {
        "distance_to_motorway_junction_m": {"weight": 2, "full_at": 1000, "zero_at": 10000},
        "grid_capacity_mw": {"weight": 2, "zero_at": 5, "full_at": 50},
        "area_ha": {"weight": 1, "zero_at": 10, "full_at": 40},
    },
}


@dataclass(frozen=True)
class Field:
    """One input of the form."""

    name: str
    label: str
    value: str
    unit: str = ""


def _number(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("value")
    if value is None or value == "":
        return ""
    return f"{float(value):g}"


def _label(registry: Registry, criterion: str) -> tuple[str, str]:
    if criterion not in registry:
        return criterion, ""
    c = registry[criterion]
    return c.label, c.unit


def fields(data: Mapping[str, Any], registry: Registry) -> dict[str, Any]:
    """What the form shows for profile ``data``: lead fields, requirements, zoning, preferences.

    Examples
    --------
    >>> from sitematch.criteria import BUILTIN
    >>> f = fields(STARTER, BUILTIN)
    >>> [(r.name, r.value) for r in f["requirements"]][:2]
    [('min_area_ha', '10'), ('min_grid_capacity_mw', '')]
    >>> f["zoning"][:2], f["preferences"][0]["criterion"]
    ([('J', True), ('Z', True)], 'distance_to_motorway_junction_m')
    """
    reqs = data.get("requirements") or {}
    lead = data.get("lead") or {}
    requirements = []
    for key in REQUIREMENTS:
        criterion = key.split("_", 1)[1]
        label, unit = _label(registry, criterion)
        word = "at least" if key.startswith("min_") else "at most"
        requirements.append(Field(key, f"{label} {word}", _number(reqs.get(key)), unit))
    chosen = reqs.get(CATEGORY) or []
    chosen = chosen.get("value", []) if isinstance(chosen, Mapping) else chosen
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    zoning_values = registry[CATEGORY].values if CATEGORY in registry else ()
    prefs = []
    for criterion, pref in (data.get("preferences") or {}).items():
        label, unit = _label(registry, criterion)
        numeric = "full_at" in pref
        prefs.append(
            {
                "criterion": criterion,
                "label": label,
                "unit": unit,
                "weight": _number(pref.get("weight")),
                "full_at": _number(pref.get("full_at")) if numeric else None,
                "zero_at": _number(pref.get("zero_at")) if numeric else None,
            }
        )
    return {
        "name": str(data.get("name", "")),
        "sector": str(data.get("sector", "")),
        "reference": str(lead.get("reference", "")),
        "confidential": bool(lead.get("confidential", False)),
        "requirements": requirements,
        "zoning": [(v, v in chosen) for v in zoning_values],
        "preferences": prefs,
        "base": json.dumps(data, ensure_ascii=False),
    }


def _float(form: Mapping[str, str], key: str) -> float | str | None:
    text = (form.get(key) or "").strip().replace(",", ".").replace(" ", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text  # the library says what is wrong with it, naming the key


def apply(base: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """Profile data: ``base`` with the form's values put in.

    Examples
    --------
    >>> data = apply(STARTER, {"name": "Plant", "min_area_ha": "25", "max_distance_to_rail_m": "3 000",
    ...                        "zoning": "J", "pref.area_ha.weight": "3"})
    >>> data["requirements"], data["preferences"]["area_ha"]["weight"]
    ({'min_area_ha': 25.0, 'zoning': ['J'], 'max_distance_to_rail_m': 3000.0}, 3.0)
    """
    data = copy.deepcopy(dict(base))
    data["name"] = (form.get("name") or "").strip()
    if form.get("sector", "").strip():
        data["sector"] = form["sector"].strip()
    lead = dict(data.get("lead") or {})
    lead["reference"] = (form.get("reference") or "").strip()
    lead["confidential"] = form.get("confidential") in ("on", "true", "1")
    data["lead"] = {k: v for k, v in lead.items() if v not in ("", None)}
    reqs = dict(data.get("requirements") or {})
    for key in REQUIREMENTS:
        value = _float(form, key)
        if value is None:
            reqs.pop(key, None)
        else:
            reqs[key] = value
    chosen = form.getlist(CATEGORY) if hasattr(form, "getlist") else [v for v in [form.get(CATEGORY)] if v]
    if chosen:
        reqs[CATEGORY] = list(chosen)
    else:
        reqs.pop(CATEGORY, None)
    data["requirements"] = reqs
    prefs = copy.deepcopy(dict(data.get("preferences") or {}))
    for criterion, pref in prefs.items():
        for part in ("weight", "full_at", "zero_at"):
            value = _float(form, f"pref.{criterion}.{part}")
            if value is not None and (part == "weight" or part in pref):
                pref[part] = value
    data["preferences"] = prefs
    return data
