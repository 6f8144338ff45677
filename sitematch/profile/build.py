"""One validation for every profile, whatever it was written in: plain data in, :class:`Profile` out.

The YAML reader passes a ``locate`` callback that knows each key's line; JSON (a web form) passes
none. Both get the same messages, naming the key, what was wrong and how to fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sitematch._suggest import did_you_mean
from sitematch.criteria import BUILTIN, IF_UNKNOWN, WRONG_UNIT_SUFFIXES, Criterion, Registry
from sitematch.errors import ProfileError
from sitematch.i18n import LANGUAGES, N_
from sitematch.profile.model import Assembly, Lead, Parameters, Preference, Profile, Region, Requirement

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
    "assembly",
)
ASSEMBLY_KEYS = ("max_gap_m",)
REGION_KEYS = ("members_only", "include_municipalities", "exclude_municipalities", "counties")
PREFERENCE_KEYS = ("weight", "full_at", "zero_at", "shape", "scores")
LEAD_KEYS = ("reference", "via", "company", "contact", "received", "confidential", "language")
#: The long form of a requirement: ``max_price_sek_m2: {value: 800, if_unknown: fail}``.
REQUIREMENT_FORM_KEYS = ("value", "if_unknown")
SHAPES = ("linear", "logistic")
#: Longest text accepted in a profile's free-text fields (name, sector, description, lead).
MAX_TEXT = 2000

Locate = Callable[[tuple[str, ...]], "int | None"]


def unit_words(c: Criterion) -> str:
    """The unit of a criterion as people say it (for "write a plain number in …")."""
    words = {"m": N_("metres"), "MW": "MW", "ha": N_("hectares"), "SEK/m²": N_("SEK per m²"), "min": N_("minutes")}
    return words.get(c.unit, c.unit)


class _Builder:
    def __init__(self, where: str, locate: Locate, registry: Registry) -> None:
        self.where = where
        self.locate = locate
        self.registry = registry
        self.warnings: list[str] = []

    def error(self, path: tuple[str, ...], message: str) -> ProfileError:
        line = self.locate(path)
        loc = f"{self.where}, line {line}" if line else self.where
        key = ".".join(path)
        text = f"{loc}: '{key}': {message}" if key else f"{loc}: {message}"
        return ProfileError(text, where=self.where, key=key or None, line=line)

    def number(self, path: tuple[str, ...], value: Any, *, unit_hint: str = "") -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = ""
            if isinstance(value, str) and any(ch.isalpha() for ch in value):
                hint = f" Write a plain number{' in ' + unit_hint if unit_hint else ''}: the unit is in the key's name."
            raise self.error(path, f"expected a number, got {_short(value)}.{hint}")
        try:
            number = float(value)
        except OverflowError:
            raise self.error(path, "the number is too large") from None
        if not math.isfinite(number):
            raise self.error(path, f"expected a finite number, got {value!r}")
        return number

    def text(self, path: tuple[str, ...], value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, dict | list):
            raise self.error(path, "expected text")
        out = str(value).strip()
        if len(out) > MAX_TEXT:
            raise self.error(path, f"{len(out):,} characters; at most {MAX_TEXT:,} are allowed")
        return out

    def mapping(self, path: tuple[str, ...], value: Any, what: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping ({what})")
        return {str(k): v for k, v in value.items()}

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
        return self.error(path, f"unknown key.{did_you_mean(key, allowed)}")

    def category_value(self, path: tuple[str, ...], c: Criterion, value: Any) -> str:
        """A category value as text, refused if the criterion does not allow it."""
        if isinstance(value, bool | dict | list):
            raise self.error(path, f"expected a value of {c.label}, got {_short(value)}")
        text = str(value)
        if c.pattern and not re.fullmatch(c.pattern, text):
            if isinstance(value, int):
                raise self.error(
                    path,
                    f"{value!r} was read as a number, which loses leading zeros (YAML reads 0114 as 76): "
                    f'quote codes, e.g. "{c.pattern_example}"',
                )
            raise self.error(path, f"{_short(value)} is not a {c.label.lower()} like {c.pattern_example!r}")
        if c.values and text not in c.values:
            raise self.error(path, f"unknown value {_short(value)}; known values: {', '.join(c.values)}")
        return text

    # -- sections --------------------------------------------------------------------------------
    def policy(self, path: tuple[str, ...], value: Any) -> tuple[Any, str]:
        """A requirement's value and if_unknown policy, from ``value`` or ``{value, if_unknown}``."""
        if not isinstance(value, dict):
            return value, ""
        for k in value:
            if k not in REQUIREMENT_FORM_KEYS:
                raise self.unknown_key((*path, str(k)), str(k), list(REQUIREMENT_FORM_KEYS))
        if "value" not in value:
            raise self.error(path, "missing 'value' (the long form is {value: …, if_unknown: fail|pass|verify})")
        policy = value.get("if_unknown", "")
        if "if_unknown" in value and policy not in IF_UNKNOWN:
            raise self.error(
                (*path, "if_unknown"), f"unknown policy {_short(policy)}; use one of {', '.join(IF_UNKNOWN)}"
            )
        return value["value"], str(policy)

    def plausible(self, path: tuple[str, ...], c: Criterion, v: float) -> None:
        """Warn about a threshold implausibly small for its unit (a distance written in km, say)."""
        if c.unit == "m" and 0 < v < 100:
            self.warnings.append(f"{self.where}: '{'.'.join(path)}' is {v:g} m; did you mean {v:g} km = {v * 1000:g}?")
        elif c.unit == "ha" and 0 < v < 0.1:
            self.warnings.append(f"{self.where}: '{'.'.join(path)}' is {v:g} ha = {v * 10_000:g} m²; is that meant?")

    def requirements(self, raw: Any) -> tuple[Requirement, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise self.error(("requirements",), "expected a mapping of requirement: value")
        keys = self.registry.requirement_keys()
        out: list[Requirement] = []
        for key, written in raw.items():
            key = str(key)
            path = ("requirements", key)
            if key not in keys:
                raise self.unknown_key(path, key, list(keys))
            c, op = keys[key]
            value, policy = self.policy(path, written)
            if op in ("min", "max"):
                v = self.number(path, value, unit_hint=unit_words(c))
                if v < 0:
                    raise self.error(path, f"must not be negative, got {value!r}")
                self.plausible(path, c, v)
                out.append(Requirement(c, op, v, key, policy))
            elif op == "in":
                values = value if isinstance(value, list) else [value]
                if not values:
                    raise self.error(path, "expected at least one allowed value")
                texts = [self.category_value(path, c, v) for v in values]
                out.append(Requirement(c, "in", tuple(texts), key, policy))
            else:
                if not isinstance(value, bool):
                    raise self.error(path, f"expected true or false, got {_short(value)}")
                if op == "eq":
                    out.append(Requirement(c, "eq", value, key, policy))
                elif not value:  # "<flag>_allowed: false": sites with the flag are excluded
                    out.append(Requirement(c, "eq", False, key, policy))
        by = {(r.column, r.op): r for r in out}
        for (name, op), lo in by.items():
            hi = by.get((name, "max"))
            if op == "min" and hi is not None and lo.value > hi.value:
                raise self.error(
                    ("requirements", lo.key),
                    f"{lo.value:g} is larger than {hi.key} = {hi.value:g}: no site could meet both",
                )
        return tuple(out)

    def preference(self, key: str, spec: Any) -> Preference:
        path = ("preferences", key)
        c = self.registry[key]
        if not isinstance(spec, dict):
            raise self.error(
                path, "expected a mapping with 'weight' and breakpoints ('full_at', 'zero_at') or 'scores'"
            )
        for k in spec:
            if k not in PREFERENCE_KEYS:
                raise self.unknown_key((*path, str(k)), str(k), list(PREFERENCE_KEYS))
        if "weight" not in spec:
            raise self.error(path, "missing 'weight' (a number ≥ 0)")
        weight = self.number((*path, "weight"), spec["weight"])
        if weight < 0:
            raise self.error((*path, "weight"), f"weights must not be negative, got {spec['weight']!r}")
        shape = str(spec.get("shape", "linear"))
        if shape not in SHAPES:
            raise self.error((*path, "shape"), f"unknown shape {_short(shape)}; use one of {', '.join(SHAPES)}")
        if c.kind == "numeric":
            if "scores" in spec:
                raise self.error((*path, "scores"), f"'{key}' is numeric: give 'full_at' and 'zero_at' instead")
            for bp in ("full_at", "zero_at"):
                if bp not in spec:
                    raise self.error(path, f"missing '{bp}' (a number in {unit_words(c)})")
            full = self.number((*path, "full_at"), spec["full_at"], unit_hint=unit_words(c))
            zero = self.number((*path, "zero_at"), spec["zero_at"], unit_hint=unit_words(c))
            if full == zero:
                raise self.error((*path, "full_at"), "full_at and zero_at must differ")
            if full < 0 or zero < 0:
                raise self.error(path, "breakpoints must not be negative")
            return Preference(c, weight, shape, full, zero)
        for key_ in ("full_at", "zero_at", "shape"):
            if key_ in spec:
                raise self.error((*path, key_), f"'{key}' is a {c.kind}: it scores from 'scores', not breakpoints")
        scores = spec.get("scores")
        if not isinstance(scores, dict) or not scores:
            raise self.error(path, f"'{key}' is a {c.kind}: give 'scores', e.g. {{value: 1.0, other: 0.5}}")
        table: dict[str, float] = {}
        for k, v in scores.items():
            k = ("true" if k else "false") if isinstance(k, bool) else str(k)
            sv = self.number((*path, "scores", k), v)
            if not 0 <= sv <= 1:
                raise self.error((*path, "scores", k), f"scores are between 0 and 1, got {v!r}")
            if c.kind == "flag" and k not in ("true", "false"):
                raise self.error((*path, "scores", k), "a yes/no criterion scores 'true' and 'false'")
            self.category_value((*path, "scores", k), c, k)
            table[k] = sv
        return Preference(c, weight, "table", scores=table)

    def preferences(self, raw: Any) -> tuple[Preference, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise self.error(("preferences",), "expected a mapping of criterion: {weight, full_at, zero_at}")
        out: list[Preference] = []
        for key, spec in raw.items():
            key = str(key)
            if key not in self.registry:
                raise self.unknown_key(("preferences", key), key, list(self.registry.criteria))
            out.append(self.preference(key, spec))
        if out and sum(p.weight for p in out) <= 0:
            raise self.error(("preferences",), "all weights are 0: give at least one preference a positive weight")
        return tuple(out)

    def codes(self, raw: dict[str, Any], key: str, digits: int) -> tuple[str, ...]:
        vals = raw.get(key) or []
        if not isinstance(vals, list):
            vals = [vals]
        out = []
        for v in vals:
            if isinstance(v, int) and not isinstance(v, bool) and len(str(v)) < digits:
                raise self.error(
                    ("region", key),
                    f'{v!r} was read as a number and lost its leading zero: write SCB codes as text: "0114", "01"',
                )
            text = str(v)
            if not (text.isdigit() and len(text) == digits):
                raise self.error(
                    ("region", key),
                    f"{_short(v)} is not a {digits}-digit SCB code (kommunkod is 4 digits, länskod 2)",
                )
            out.append(text)
        return tuple(out)

    def region(self, raw: Any) -> Region:
        if raw is None:
            return Region()
        raw = self.mapping(("region",), raw, "members_only, include_municipalities, …")
        for k in raw:
            if k not in REGION_KEYS:
                raise self.unknown_key(("region", k), k, list(REGION_KEYS))
        members_only = raw.get("members_only", True)
        if not isinstance(members_only, bool):
            raise self.error(("region", "members_only"), f"expected true or false, got {_short(members_only)}")
        return Region(
            members_only,
            self.codes(raw, "include_municipalities", 4),
            self.codes(raw, "exclude_municipalities", 4),
            self.codes(raw, "counties", 2),
        )

    def parameters(self, raw: Any) -> tuple[Parameters, tuple[str, ...]]:
        raw = self.mapping(("parameters",), raw, "parameter: number")
        allowed = list(self.registry.parameters)
        values = self.registry.defaults()
        for k, v in raw.items():
            if k not in allowed:
                raise self.unknown_key(("parameters", k), k, allowed)
            unit = self.registry.parameters[k].unit
            values[k] = self.number(("parameters", k), v, unit_hint="metres" if unit == "m" else unit)
            if values[k] < 0:
                raise self.error(("parameters", k), f"must not be negative, got {v!r}")
        return Parameters(values), tuple(raw)

    def lead(self, raw: Any) -> Lead:
        raw = self.mapping(("lead",), raw, "reference, via, company, contact, received, confidential, language")
        for k in raw:
            if k not in LEAD_KEYS:
                raise self.unknown_key(("lead", k), k, list(LEAD_KEYS))
        confidential = raw.get("confidential", False)
        if not isinstance(confidential, bool):
            raise self.error(("lead", "confidential"), f"expected true or false, got {_short(confidential)}")
        texts = {k: self.text(("lead", k), raw.get(k)) for k in LEAD_KEYS if k != "confidential"}
        texts["language"] = texts["language"].lower()
        if texts["language"] not in ("", *LANGUAGES):  # the dossier's language: sv or en (default en, for an investor)
            raise self.error(("lead", "language"), f"sv (svenska) or en (English), got {_short(raw.get('language'))}")
        return Lead(**texts, confidential=confidential)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_profile(
    raw: Any,
    *,
    registry: Registry | None = None,
    where: str = "<profile>",
    locate: Locate | None = None,
    slug: str = "profile",
    path: Path | None = None,
) -> Profile:
    """Validate a profile given as plain data (parsed YAML or JSON).

    Parameters
    ----------
    raw : object
        The parsed document (a mapping).
    registry : Registry, optional
        The criteria and parameters it may use (default: the built-in ones; a LayerSet's
        ``registry`` adds its catalogue's).
    where : str
        Its name in messages.
    locate : callable, optional
        Gives the line of a key path, for messages.
    slug, path
        Short name for output folders; the file it came from.

    Returns
    -------
    Profile
        Validated and typed.

    Raises
    ------
    ProfileError
        Naming the key (and line) of the first mistake, what is wrong and how to fix it.

    Examples
    --------
    >>> p = build_profile({"name": "Web lead", "requirements": {"min_area_ha": 10}})
    >>> p.requirements[0].describe()
    'Area at least 10 ha'
    """
    b = _Builder(where, locate or (lambda _path: None), registry or BUILTIN)
    if raw is None:
        raise ProfileError(
            f"{where}: the profile is empty; it needs at least 'name' and 'requirements' or 'preferences'", where=where
        )
    if not isinstance(raw, dict):
        raise ProfileError(
            f"{where}: a profile is a mapping (key: value lines), not a {type(raw).__name__}", where=where
        )
    raw = {str(k): v for k, v in raw.items()}
    for k in raw:
        if k not in TOP_KEYS:
            raise b.unknown_key((k,), k, list(TOP_KEYS))
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise b.error(("name",), f"expected text, got {_short(name)}: quote it if it is a number or a date")
    if not isinstance(name, str) or not name.strip():
        raise b.error(("name",), "missing: give the profile a name (e.g. the lead's project name)")
    tol = b.number(("near_miss_tolerance",), raw.get("near_miss_tolerance", 0.25))
    if not 0 <= tol <= 1:
        raise b.error(("near_miss_tolerance",), f"a fraction between 0 and 1 (0.25 = within 25 %), got {tol!r}")
    assembly = _assembly(b, raw.get("assembly"))
    lead = b.lead(raw.get("lead"))
    region = b.region(raw.get("region"))
    parameters, given = b.parameters(raw.get("parameters"))
    requirements = b.requirements(raw.get("requirements"))
    preferences = b.preferences(raw.get("preferences"))
    if not requirements and not preferences:
        raise b.error((), "the profile has neither 'requirements' nor 'preferences': nothing to match")
    return Profile(
        name=b.text(("name",), name),
        slug=slug,
        sector=b.text(("sector",), raw.get("sector")),
        description=b.text(("description",), raw.get("description")),
        lead=lead,
        region=region,
        parameters=parameters,
        requirements=requirements,
        preferences=preferences,
        near_miss_tolerance=tol,
        assembly=assembly,
        path=path,
        given_parameters=given,
        warnings=tuple(b.warnings),
    )


def _assembly(b: _Builder, raw: Any) -> Assembly | None:
    """``assembly: {max_gap_m: 200}``: neighbouring plots offered together (absent: none)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise b.error(("assembly",), f"expected a mapping like {{max_gap_m: 200}}, got {_short(raw)}")
    for k in raw:
        if str(k) not in ASSEMBLY_KEYS:
            raise b.unknown_key(("assembly", str(k)), str(k), list(ASSEMBLY_KEYS))
    gap = b.number(("assembly", "max_gap_m"), raw.get("max_gap_m", 200))
    if not 0 <= gap <= 5000:
        raise b.error(
            ("assembly", "max_gap_m"), f"metres between 0 and 5000 (plots that far apart are not one site), got {gap!r}"
        )
    return Assembly(max_gap_m=float(gap))
