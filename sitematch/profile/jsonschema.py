"""The profile's JSON Schema, generated from the criteria registry.

Editors validate YAML profiles against it (e.g. the YAML language server:
``# yaml-language-server: $schema=profile.schema.json``), and web forms can be built from it. It
states what the validator checks that a schema can express: keys, types, allowed values, ranges.
Rules across keys (a minimum above its maximum, all weights 0) are checked by
:func:`sitematch.profile.build.build_profile` only.
"""

from __future__ import annotations

from typing import Any

from sitematch.criteria import BUILTIN, IF_UNKNOWN, Criterion, Registry
from sitematch.profile.build import LEAD_KEYS, SHAPES

_NUMBER = {"type": "number", "minimum": 0}


def _values(c: Criterion) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string"}
    if c.values:
        item["enum"] = list(c.values)
    return item


def _requirements(registry: Registry) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for key, (c, op) in registry.requirement_keys().items():
        if op in ("min", "max"):
            word = "at least" if op == "min" else "at most"
            props[key] = {**_NUMBER, "description": f"{c.label} {word} this many {c.unit}".rstrip()}
        elif op == "in":
            one = _values(c)
            props[key] = {
                "description": f"{c.label}: the allowed values",
                "anyOf": [one, {"type": "array", "items": one, "minItems": 1}],
            }
        else:
            what = "allowed (false excludes such sites)" if op == "allowed" else "required value"
            props[key] = {"type": "boolean", "description": f"{c.label}: {what}"}
        short = props[key]
        long = {
            "type": "object",
            "properties": {"value": short, "if_unknown": {"enum": list(IF_UNKNOWN)}},
            "required": ["value"],
            "additionalProperties": False,
        }
        props[key] = {"description": short.pop("description"), "anyOf": [short, long]}
    return {"type": "object", "properties": props, "additionalProperties": False}


def _preference(c: Criterion) -> dict[str, Any]:
    weight = {**_NUMBER, "description": "relative weight"}
    if c.kind == "numeric":
        unit = f" ({c.unit})" if c.unit else ""
        return {
            "type": "object",
            "description": c.label,
            "properties": {
                "weight": weight,
                "full_at": {**_NUMBER, "description": f"value{unit} that earns full points"},
                "zero_at": {**_NUMBER, "description": f"value{unit} that earns none"},
                "shape": {"enum": list(SHAPES)},
            },
            "required": ["weight", "full_at", "zero_at"],
            "additionalProperties": False,
        }
    names = ["true", "false"] if c.kind == "flag" else list(c.values)
    scores: dict[str, Any] = {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
    }
    if names:
        scores["propertyNames"] = {"enum": names}
    return {
        "type": "object",
        "description": c.label,
        "properties": {"weight": weight, "scores": scores},
        "required": ["weight", "scores"],
        "additionalProperties": False,
    }


def profile_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a profile using this registry's criteria.

    Parameters
    ----------
    registry : Registry, optional
        Default: the built-in criteria. A region's (``layers.registry``) adds its catalogue's.

    Returns
    -------
    dict
        The schema, ready for ``json.dumps``.

    Examples
    --------
    >>> schema = profile_schema()
    >>> schema["required"], "min_area_ha" in schema["properties"]["requirements"]["properties"]
    (['name'], True)
    """
    registry = registry or BUILTIN
    code = {"type": "string", "pattern": "^[0-9]{4}$"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "sitematch requirement profile",
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "anyOf": [{"required": ["requirements"]}, {"required": ["preferences"]}],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "sector": {"type": "string"},
            "description": {"type": "string"},
            "lead": {
                "type": "object",
                "properties": {
                    **{k: {"type": "boolean" if k == "confidential" else "string"} for k in LEAD_KEYS},
                    "language": {"enum": ["sv", "en"], "description": "the dossier's language (default en)"},
                },
                "additionalProperties": False,
            },
            "region": {
                "type": "object",
                "properties": {
                    "members_only": {"type": "boolean"},
                    "include_municipalities": {"type": "array", "items": code},
                    "exclude_municipalities": {"type": "array", "items": code},
                    "counties": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{2}$"}},
                },
                "additionalProperties": False,
            },
            "parameters": {
                "type": "object",
                "properties": {
                    p.name: {**_NUMBER, "description": f"{p.label} ({p.unit}), default {p.default:g}"}
                    for p in registry.parameters.values()
                },
                "additionalProperties": False,
            },
            "requirements": _requirements(registry),
            "preferences": {
                "type": "object",
                "properties": {c.name: _preference(c) for c in registry},
                "additionalProperties": False,
            },
            "near_miss_tolerance": {"type": "number", "minimum": 0, "maximum": 1},
            "assembly": {
                "type": "object",
                "description": "offer neighbouring plots together to reach the minimum area",
                "properties": {"max_gap_m": {"type": "number", "minimum": 0, "maximum": 5000}},
                "additionalProperties": False,
            },
        },
    }
