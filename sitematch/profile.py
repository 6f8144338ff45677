"""Investor requirement profiles: YAML in, validated typed objects out.

A profile states **hard requirements** (a site that fails one is excluded, and told by how much)
and **weighted preferences** (absolute value functions between breakpoints the profile states).
Every mistake a user can make gets a :class:`~sitematch.errors.ProfileError` naming the file, the
line and the key, what was wrong and how to fix it.

Example profile::

    name: Battery-component plant
    sector: battery manufacturing
    requirements:
      min_area_ha: 25                 # min_<criterion> / max_<criterion>, units in the name
      min_grid_capacity_mw: 40
      zoning: [J]                     # allowed values of a category
      max_distance_to_motorway_junction_m: 5000
      max_distance_to_port_m: 80000
      brownfield_allowed: true
    parameters:
      port_min_depth_m: 6.0           # which ports count for distance_to_port_m
    preferences:
      distance_to_motorway_junction_m: {weight: 3, full_at: 1000, zero_at: 5000}
      grid_capacity_mw: {weight: 4, zero_at: 40, full_at: 120, shape: logistic}
      owner: {weight: 1, scores: {kommun: 1.0, privat: 0.4}}
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sitematch import schema as s
from sitematch.criteria import CRITERIA, WRONG_UNIT_SUFFIXES, Criterion, format_value
from sitematch.errors import ProfileError

TOP_KEYS = (
    "name",
    "sector",
    "description",
    "lead",
    "region",
    "parameters",
    "requirements",
    "preferences",
    "near_miss_tolerance",
)
REGION_KEYS = ("members_only", "include_municipalities", "exclude_municipalities", "counties")
PREFERENCE_KEYS = ("weight", "full_at", "zero_at", "shape", "scores")
SHAPES = ("linear", "logistic")
CATEGORY_VALUES: dict[str, tuple[str, ...]] = {
    s.ZONING: tuple(s.ZONING_CODES),
    s.PLAN_STATUS: s.PLAN_STATUSES,
    s.OWNER: s.OWNERS,
}


@dataclass(frozen=True)
class Parameters:
    """Parameters that shape how features are measured for this profile.

    Attributes
    ----------
    port_min_depth_m : float
        Only ports with at least this draught count for ``distance_to_port_m``.
    labour_pool_radius_m : float
        Radius within which population counts towards ``labour_pool_population``.
    grid_connection_radius_m : float
        Substations within this distance of a site count for its ``grid_capacity_mw``.
    """

    port_min_depth_m: float = 0.0
    labour_pool_radius_m: float = 30_000.0
    grid_connection_radius_m: float = 15_000.0


@dataclass(frozen=True)
class Constraint:
    """One hard requirement: ``criterion op value``.

    ``op`` is ``"min"`` (value ≥ threshold), ``"max"`` (value ≤ threshold), ``"in"`` (value in an
    allowed set) or ``"eq"`` (a flag equals true/false).
    """

    criterion: str
    op: str
    value: Any
    key: str  # the key as written in the profile

    def describe(self) -> str:
        """The requirement in words, e.g. ``"at least 25 ha"``."""
        c = CRITERIA[self.criterion]
        if self.op == "min":
            return f"{c.label} at least {format_value(c, self.value)}"
        if self.op == "max":
            return f"{c.label} at most {format_value(c, self.value)}"
        if self.op == "in":
            return f"{c.label} one of {', '.join(map(str, self.value))}"
        return f"{c.label}: {'yes' if self.value else 'no'}"


@dataclass(frozen=True)
class Preference:
    """One weighted preference with an absolute value function.

    Numeric criteria score 1 at ``full_at`` and 0 at ``zero_at`` (either may be the larger),
    linearly or along a logistic S-curve in between; categories and flags score from ``scores``.
    A site with no value for the criterion scores 0 on it.
    """

    criterion: str
    weight: float
    shape: str = "linear"
    full_at: float | None = None
    zero_at: float | None = None
    scores: Mapping[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        """The value function in words."""
        c = CRITERIA[self.criterion]
        if self.scores:
            table = ", ".join(f"{k}: {v:g}" for k, v in self.scores.items())
            return f"{c.label} (weight {self.weight:g}): {table}"
        return (
            f"{c.label} (weight {self.weight:g}): full points at {format_value(c, self.full_at)}, "
            f"none at {format_value(c, self.zero_at)} ({self.shape})"
        )


@dataclass(frozen=True)
class Region:
    """Which municipalities' sites are ranked.

    By default only member municipalities; an adviser may include neighbours by kommunkod, or
    restrict to counties by länskod.
    """

    members_only: bool = True
    include_municipalities: tuple[str, ...] = ()
    exclude_municipalities: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A validated investor requirement profile."""

    name: str
    slug: str
    sector: str = ""
    description: str = ""
    lead: Mapping[str, Any] = field(default_factory=dict)
    region: Region = field(default_factory=Region)
    parameters: Parameters = field(default_factory=Parameters)
    requirements: tuple[Constraint, ...] = ()
    preferences: tuple[Preference, ...] = ()
    near_miss_tolerance: float = 0.25
    path: Path | None = None

    @property
    def total_weight(self) -> float:
        """Sum of the preference weights."""
        return sum(p.weight for p in self.preferences)


# --- loading -----------------------------------------------------------------------------------


class _Lines:
    """Line numbers of keys in a YAML document, by key path."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return
        self._walk(node, ())

    def _walk(self, node: yaml.Node | None, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = (*path, str(k.value))
                self.lines[key] = k.start_mark.line + 1
                self._walk(v, key)

    def at(self, *path: str) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


class _Builder:
    def __init__(self, where: str, text: str) -> None:
        self.where = where
        self.lines = _Lines(text)

    def error(self, path: tuple[str, ...], message: str) -> ProfileError:
        line = self.lines.at(*path)
        loc = f"{self.where}, line {line}" if line else self.where
        key = ".".join(path)
        return ProfileError(f"{loc}: '{key}': {message}" if key else f"{loc}: {message}")

    def number(self, path: tuple[str, ...], value: Any, *, unit_hint: str = "") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str) and any(ch.isalpha() for ch in value):
                hint = f" Write a plain number{' in ' + unit_hint if unit_hint else ''}: the unit is in the key's name."
            raise self.error(path, f"expected a number, got {value!r}.{hint}")
        if not math.isfinite(float(value)):
            raise self.error(path, f"expected a finite number, got {value!r}")
        return float(value)

    def unknown_key(self, path: tuple[str, ...], key: str, allowed: list[str]) -> ProfileError:
        for wrong, right in WRONG_UNIT_SUFFIXES.items():
            if key.endswith(wrong):
                fixed = key[: -len(wrong)] + right
                if fixed in allowed:
                    return self.error(
                        path,
                        f"unknown key: sitematch measures this in {right.lstrip('_')} "
                        f"(units are in the key's name); write '{fixed}' and convert the value",
                    )
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        did = f" Did you mean '{close[0]}'?" if close else f" Known keys: {', '.join(sorted(allowed))}."
        return self.error(path, f"unknown key.{did}")


def _unit_of(c: Criterion) -> str:
    return {"m": "metres", "MW": "MW", "ha": "hectares", "SEK/m²": "SEK per m²"}.get(c.unit, c.unit)


def _requirement_keys() -> dict[str, tuple[str, str]]:
    keys: dict[str, tuple[str, str]] = {}
    for c in CRITERIA.values():
        if c.kind == "numeric":
            keys[f"min_{c.name}"] = (c.name, "min")
            keys[f"max_{c.name}"] = (c.name, "max")
        elif c.kind == "category":
            keys[c.name] = (c.name, "in")
        else:
            keys[c.name] = (c.name, "eq")
    keys["brownfield_allowed"] = (s.BROWNFIELD, "allowed")
    return keys


REQUIREMENT_KEYS = _requirement_keys()


def _requirements(b: _Builder, raw: Any) -> tuple[Constraint, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise b.error(("requirements",), "expected a mapping of requirement: value")
    out: list[Constraint] = []
    for key, value in raw.items():
        key = str(key)
        path = ("requirements", key)
        if key not in REQUIREMENT_KEYS:
            raise b.unknown_key(path, key, list(REQUIREMENT_KEYS))
        name, op = REQUIREMENT_KEYS[key]
        c = CRITERIA[name]
        if op in ("min", "max"):
            v = b.number(path, value, unit_hint=_unit_of(c))
            if v < 0:
                raise b.error(path, f"must not be negative, got {value!r}")
            out.append(Constraint(name, op, v, key))
        elif op == "in":
            values = value if isinstance(value, list) else [value]
            values = [str(v) for v in values]
            if not values:
                raise b.error(path, "expected at least one allowed value")
            known = CATEGORY_VALUES.get(name)
            for v in values:
                if known is not None and v not in known:
                    raise b.error(path, f"unknown value {v!r}; known values: {', '.join(known)}")
            out.append(Constraint(name, "in", tuple(values), key))
        else:
            if not isinstance(value, bool):
                raise b.error(path, f"expected true or false, got {value!r}")
            if op == "allowed":
                if not value:
                    out.append(Constraint(name, "eq", False, key))
            else:
                out.append(Constraint(name, "eq", value, key))
    by = {(c.criterion, c.op): c for c in out}
    for (name, op), lo in by.items():
        hi = by.get((name, "max"))
        if op == "min" and hi is not None and lo.value > hi.value:
            raise b.error(
                ("requirements", lo.key),
                f"{lo.value:g} is larger than {hi.key} = {hi.value:g}: no site could meet both",
            )
    return tuple(out)


def _preferences(b: _Builder, raw: Any) -> tuple[Preference, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise b.error(("preferences",), "expected a mapping of criterion: {weight, full_at, zero_at}")
    out: list[Preference] = []
    for key, spec in raw.items():
        key = str(key)
        path = ("preferences", key)
        if key not in CRITERIA:
            raise b.unknown_key(path, key, list(CRITERIA))
        c = CRITERIA[key]
        if not isinstance(spec, dict):
            raise b.error(path, "expected a mapping with 'weight' and breakpoints ('full_at', 'zero_at') or 'scores'")
        for k in spec:
            if k not in PREFERENCE_KEYS:
                raise b.unknown_key((*path, str(k)), str(k), list(PREFERENCE_KEYS))
        if "weight" not in spec:
            raise b.error(path, "missing 'weight' (a number ≥ 0)")
        weight = b.number((*path, "weight"), spec["weight"])
        if weight < 0:
            raise b.error((*path, "weight"), f"weights must not be negative, got {spec['weight']!r}")
        shape = str(spec.get("shape", "linear"))
        if shape not in SHAPES:
            raise b.error((*path, "shape"), f"unknown shape {shape!r}; use one of {', '.join(SHAPES)}")
        if c.kind == "numeric":
            if "scores" in spec:
                raise b.error((*path, "scores"), f"'{key}' is numeric: give 'full_at' and 'zero_at' instead")
            for bp in ("full_at", "zero_at"):
                if bp not in spec:
                    raise b.error(path, f"missing '{bp}' (a number in {_unit_of(c)})")
            full = b.number((*path, "full_at"), spec["full_at"], unit_hint=_unit_of(c))
            zero = b.number((*path, "zero_at"), spec["zero_at"], unit_hint=_unit_of(c))
            if full == zero:
                raise b.error((*path, "full_at"), "full_at and zero_at must differ")
            if full < 0 or zero < 0:
                raise b.error(path, "breakpoints must not be negative")
            out.append(Preference(key, weight, shape, full, zero))
        else:
            scores = spec.get("scores")
            if not isinstance(scores, dict) or not scores:
                raise b.error(path, f"'{key}' is a {c.kind}: give 'scores', e.g. {{value: 1.0, other: 0.5}}")
            table: dict[str, float] = {}
            for k, v in scores.items():
                k = ("true" if k else "false") if isinstance(k, bool) else str(k)
                sv = b.number((*path, "scores", k), v)
                if not 0 <= sv <= 1:
                    raise b.error((*path, "scores", k), f"scores are between 0 and 1, got {v!r}")
                known = CATEGORY_VALUES.get(key)
                if known is not None and k not in known:
                    raise b.error((*path, "scores", k), f"unknown value {k!r}; known values: {', '.join(known)}")
                table[k] = sv
            out.append(Preference(key, weight, "table", scores=table))
    if out and sum(p.weight for p in out) <= 0:
        raise b.error(("preferences",), "all weights are 0: give at least one preference a positive weight")
    return tuple(out)


def _region(b: _Builder, raw: Any) -> Region:
    if raw is None:
        return Region()
    if not isinstance(raw, dict):
        raise b.error(("region",), "expected a mapping")
    for k in raw:
        if k not in REGION_KEYS:
            raise b.unknown_key(("region", str(k)), str(k), list(REGION_KEYS))
    members_only = raw.get("members_only", True)
    if not isinstance(members_only, bool):
        raise b.error(("region", "members_only"), f"expected true or false, got {members_only!r}")

    def codes(key: str, digits: int) -> tuple[str, ...]:
        vals = raw.get(key) or []
        if not isinstance(vals, list):
            vals = [vals]
        out = []
        for v in vals:
            if isinstance(v, int) and not isinstance(v, bool) and len(str(v)) < digits:
                raise b.error(
                    ("region", key),
                    f'YAML read {v!r} as a number and lost its leading zero: quote SCB codes, e.g. "0114" or "01"',
                )
            text = str(v)
            if not (text.isdigit() and len(text) == digits):
                raise b.error(
                    ("region", key), f"{v!r} is not a {digits}-digit SCB code (kommunkod is 4 digits, länskod 2)"
                )
            out.append(text)
        return tuple(out)

    return Region(
        members_only, codes("include_municipalities", 4), codes("exclude_municipalities", 4), codes("counties", 2)
    )


def _parameters(b: _Builder, raw: Any) -> Parameters:
    if raw is None:
        return Parameters()
    if not isinstance(raw, dict):
        raise b.error(("parameters",), "expected a mapping")
    allowed = list(Parameters.__dataclass_fields__)
    values: dict[str, float] = {}
    for k, v in raw.items():
        k = str(k)
        if k not in allowed:
            raise b.unknown_key(("parameters", k), k, allowed)
        values[k] = b.number(("parameters", k), v, unit_hint="metres")
        if values[k] < 0:
            raise b.error(("parameters", k), f"must not be negative, got {v!r}")
    return Parameters(**values)


def parse_profile(text: str, *, where: str = "<profile>", slug: str = "profile", path: Path | None = None) -> Profile:
    """Validate a profile given as YAML text.

    Parameters
    ----------
    text : str
        The YAML document.
    where : str
        What to call it in error messages (usually the file name).
    slug : str
        Short name used for output folders.
    path : pathlib.Path, optional
        The file it came from.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        Naming the line and key of the first mistake, what is wrong and how to fix it.

    Examples
    --------
    >>> p = parse_profile("name: Test\\nrequirements: {min_area_ha: 10}")
    >>> p.requirements[0].describe()
    'Area at least 10 ha'
    """
    b = _Builder(where, text)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProfileError(f"{where}{line}: not valid YAML: {problem}") from None
    if raw is None:
        raise ProfileError(
            f"{where}: the profile is empty; it needs at least 'name' and 'requirements' or 'preferences'"
        )
    if not isinstance(raw, dict):
        raise ProfileError(f"{where}: a profile is a YAML mapping (key: value lines), not a {type(raw).__name__}")
    for k in raw:
        if str(k) not in TOP_KEYS:
            raise b.unknown_key((str(k),), str(k), list(TOP_KEYS))
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise b.error(("name",), "missing: give the profile a name (e.g. the lead's project name)")
    tol = raw.get("near_miss_tolerance", 0.25)
    tol = b.number(("near_miss_tolerance",), tol)
    if not 0 <= tol <= 1:
        raise b.error(("near_miss_tolerance",), f"a fraction between 0 and 1 (0.25 = within 25 %), got {tol!r}")
    lead = raw.get("lead") or {}
    if not isinstance(lead, dict):
        raise b.error(("lead",), "expected a mapping (e.g. reference, contact, confidential)")
    region = _region(b, raw.get("region"))
    parameters = _parameters(b, raw.get("parameters"))
    requirements = _requirements(b, raw.get("requirements"))
    preferences = _preferences(b, raw.get("preferences"))
    if not requirements and not preferences:
        raise b.error((), "the profile has neither 'requirements' nor 'preferences': nothing to match")
    return Profile(
        name=name.strip(),
        slug=slug,
        sector=str(raw.get("sector") or ""),
        description=str(raw.get("description") or "").strip(),
        lead=lead,
        region=region,
        parameters=parameters,
        requirements=requirements,
        preferences=preferences,
        near_miss_tolerance=tol,
        path=path,
    )


def load_profile(path: str | Path) -> Profile:
    """Load and validate a profile from a YAML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.yaml`` file.

    Returns
    -------
    Profile

    Raises
    ------
    ProfileError
        If the file is missing, unreadable or invalid.

    Examples
    --------
    >>> profile = load_profile("scenarios/battery_plant.yaml")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise ProfileError(f"{path}: no such profile file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not a UTF-8 text file; save the profile as UTF-8 YAML") from None
    return parse_profile(text, where=str(path), slug=path.stem, path=path)
