"""The profile model: what a lead requires and prefers, as typed, validated, read-only objects.

Readers (:mod:`sitematch.profile.reader` for YAML and JSON) build these through one validation
(:mod:`sitematch.profile.build`); the engine reads only these objects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitematch.criteria import BUILTIN, Criterion, format_code, format_value
from sitematch.criteria.format import label_of
from sitematch.i18n import N_, format_number, translations

#: The value functions' shapes in words (the catalogues translate them).
SHAPE_WORDS = {"linear": N_("linear"), "logistic": N_("logistic")}


def _criterion(value: Criterion | str) -> Criterion:
    return value if isinstance(value, Criterion) else BUILTIN[value]


class Parameters(Mapping[str, float]):
    """The numbers that shape how criteria are measured for a profile, by name; read-only.

    Built-in parameters have defaults (see :data:`sitematch.criteria.BUILTIN`); a catalogue may
    declare more. Values are reachable by key or attribute.

    Examples
    --------
    >>> p = Parameters(port_min_depth_m=9.0)
    >>> p.port_min_depth_m, p["labour_pool_radius_m"]
    (9.0, 30000.0)
    """

    __slots__ = ("_values",)
    _values: dict[str, float]

    def __init__(self, values: Mapping[str, float] | None = None, **kwargs: float) -> None:
        merged = BUILTIN.defaults()
        merged.update(values or {})
        merged.update(kwargs)
        object.__setattr__(self, "_values", {k: float(v) for k, v in merged.items()})

    def __getitem__(self, name: str) -> float:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> float:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Parameters are read-only")

    def __reduce__(self) -> tuple[Any, ...]:
        return (Parameters, (dict(self._values),))

    def __repr__(self) -> str:
        return f"Parameters({self._values!r})"


class _OnCriterion:
    """What requirements and preferences share: a criterion, given as one or by a built-in name."""

    criterion: Criterion

    def __post_init__(self) -> None:
        object.__setattr__(self, "criterion", _criterion(self.criterion))

    @property
    def column(self) -> str:
        """The feature column it reads."""
        return self.criterion.name


@dataclass(frozen=True)
class Requirement(_OnCriterion):
    """One hard requirement: ``criterion op value``.

    ``op`` is ``"min"`` (value ≥ threshold), ``"max"`` (value ≤ threshold), ``"in"`` (value in an
    allowed set) or ``"eq"`` (a flag equals true/false). ``key`` is the key as written in the
    profile (``min_area_ha``); it names the requirement's outcome columns in a result.
    ``if_unknown`` says what a site with no value gets: ``"fail"``, ``"pass"`` or ``"verify"``
    (passes, and is listed as "to verify"); by default what the criterion declares.

    Examples
    --------
    >>> Requirement("area_ha", "min", 25.0, "min_area_ha").describe()
    'Area at least 25 ha'
    """

    criterion: Criterion
    op: str
    value: Any
    key: str
    if_unknown: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.if_unknown:
            object.__setattr__(self, "if_unknown", self.criterion.if_unknown)

    @property
    def numeric(self) -> bool:
        """True for ``min`` / ``max`` requirements (which can be missed by an amount)."""
        return self.op in ("min", "max")

    def describe(self, lang: str = "en") -> str:
        """The requirement in words, e.g. ``"Area at least 25 ha"`` (``"Areal minst 25 ha"`` in Swedish)."""
        c = self.criterion
        if lang != "en":
            _ = translations(lang).gettext
            words = {"label": label_of(c, lang), "value": format_value(c, self.value, lang)}
            if self.op == "min":
                return _("%(label)s at least %(value)s") % words
            if self.op == "max":
                return _("%(label)s at most %(value)s") % words
            if self.op == "in":
                values = ", ".join(format_code(c, v, lang) for v in self.value)
                return _("%(label)s one of %(values)s") % {**words, "values": values}
            said = _("yes") if self.value else _("no")
            return f"{words['label']}: {said}"
        if self.op == "min":
            return f"{c.label} at least {format_value(c, self.value)}"
        if self.op == "max":
            return f"{c.label} at most {format_value(c, self.value)}"
        if self.op == "in":
            return f"{c.label} one of {', '.join(map(str, self.value))}"
        return f"{c.label}: {'yes' if self.value else 'no'}"

    def to_data(self) -> Any:
        """The value as a profile writes it (the long form when ``if_unknown`` is not the default)."""
        if self.op == "in":
            value: Any = list(self.value)
        elif self.op == "eq" and self.key == self.criterion.allowed_key:
            value = False
        else:
            value = self.value
        if self.if_unknown != self.criterion.if_unknown:
            return {"value": value, "if_unknown": self.if_unknown}
        return value


#: The old name of :class:`Requirement`.
Constraint = Requirement


@dataclass(frozen=True)
class Preference(_OnCriterion):
    """One weighted preference with an absolute value function.

    Numeric criteria score 1 at ``full_at`` and 0 at ``zero_at`` (either may be the larger),
    linearly or along a logistic S-curve in between; categories and flags score from ``scores``.
    A site with no value for the criterion scores 0 on it.

    Examples
    --------
    >>> Preference("distance_to_rail_m", 2.0, full_at=500, zero_at=5000).describe()
    'Distance to rail line (weight 2): full points at 500 m, none at 5.0 km (linear)'
    """

    criterion: Criterion
    weight: float
    shape: str = "linear"
    full_at: float | None = None
    zero_at: float | None = None
    scores: Mapping[str, float] = field(default_factory=dict)

    @property
    def search_limit(self) -> float | None:
        """Beyond this value the preference scores 0 whatever the value: a search may stop there.

        Only for value functions that fall to 0 as the value grows (``zero_at > full_at``).
        """
        if self.shape == "table" or self.full_at is None or self.zero_at is None:
            return None
        return self.zero_at if self.zero_at > self.full_at else None

    def describe(self, lang: str = "en") -> str:
        """The value function in words (in ``lang``: ``"en"`` or ``"sv"``)."""
        c = self.criterion
        if lang != "en":
            _ = translations(lang).gettext
            label = label_of(c, lang)
            weight = format_number(self.weight, lang, decimals=2)
            if self.scores:
                table = ", ".join(
                    f"{format_code(c, k, lang)}: {format_number(v, lang, decimals=2)}" for k, v in self.scores.items()
                )
                return _("%(label)s (weight %(weight)s): %(table)s") % {
                    "label": label,
                    "weight": weight,
                    "table": table,
                }
            return _("%(label)s (weight %(weight)s): full points at %(full)s, none at %(zero)s (%(shape)s)") % {
                "label": label,
                "weight": weight,
                "full": format_value(c, self.full_at, lang),
                "zero": format_value(c, self.zero_at, lang),
                "shape": _(SHAPE_WORDS.get(self.shape, self.shape)),
            }
        if self.scores:
            table = ", ".join(f"{k}: {v:g}" for k, v in self.scores.items())
            return f"{c.label} (weight {self.weight:g}): {table}"
        return (
            f"{c.label} (weight {self.weight:g}): full points at {format_value(c, self.full_at)}, "
            f"none at {format_value(c, self.zero_at)} ({self.shape})"
        )

    def to_data(self) -> dict[str, Any]:
        """The preference as a profile writes it."""
        if self.shape == "table":
            return {"weight": self.weight, "scores": dict(self.scores)}
        return {"weight": self.weight, "full_at": self.full_at, "zero_at": self.zero_at, "shape": self.shape}


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

    def to_data(self) -> dict[str, Any]:
        """The region as a profile writes it."""
        return {
            "members_only": self.members_only,
            "include_municipalities": list(self.include_municipalities),
            "exclude_municipalities": list(self.exclude_municipalities),
            "counties": list(self.counties),
        }


@dataclass(frozen=True)
class Lead:
    """Who asked: the establishment request behind a profile.

    ``confidential`` leads (NDAs, security-sensitive cases) are marked so on every page of the
    dossier; a lead's ``company`` never goes into file names.
    """

    reference: str = ""
    via: str = ""
    company: str = ""
    contact: str = ""
    received: str = ""
    confidential: bool = False
    #: The dossier's language: ``sv`` or ``en``; empty: English (an investor reads English).
    language: str = ""

    def to_data(self) -> dict[str, Any]:
        """The lead as a profile writes it (empty fields left out)."""
        return {k: v for k, v in self.__dict__.items() if v not in ("", None) and not (k == "confidential" and not v)}


@dataclass(frozen=True)
class Assembly:
    """Plot assembly: neighbouring plots may be offered together to reach the lead's minimum area.

    Two plots join when they are in the same municipality, at most ``max_gap_m`` apart, and
    compatible in zoning and plan status (see :func:`sitematch.planner.assembled_sites`).
    """

    max_gap_m: float = 200.0

    def to_data(self) -> dict[str, Any]:
        """The option as a profile writes it."""
        return {"max_gap_m": self.max_gap_m}


@dataclass(frozen=True)
class Profile:
    """A validated investor requirement profile."""

    name: str
    slug: str
    sector: str = ""
    description: str = ""
    lead: Lead = field(default_factory=Lead)
    region: Region = field(default_factory=Region)
    parameters: Parameters = field(default_factory=Parameters)
    requirements: tuple[Requirement, ...] = ()
    preferences: tuple[Preference, ...] = ()
    near_miss_tolerance: float = 0.25
    assembly: Assembly | None = None
    path: Path | None = None
    given_parameters: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def total_weight(self) -> float:
        """Sum of the preference weights."""
        return sum(p.weight for p in self.preferences)

    @property
    def criteria(self) -> list[Criterion]:
        """Every criterion the profile uses, requirements first, without repeats."""
        seen = {c.criterion.name: c.criterion for c in self.requirements}
        for p in self.preferences:
            seen.setdefault(p.criterion.name, p.criterion)
        return list(seen.values())

    def to_data(self) -> dict[str, Any]:
        """The profile as plain data, as it would be written (YAML or JSON); reads back the same."""
        data = {
            "name": self.name,
            "sector": self.sector,
            "description": self.description,
            "lead": self.lead.to_data(),
            "region": self.region.to_data(),
            "parameters": {k: self.parameters[k] for k in self.given_parameters},
            "requirements": {r.key: r.to_data() for r in self.requirements},
            "preferences": {p.column: p.to_data() for p in self.preferences},
            "near_miss_tolerance": self.near_miss_tolerance,
        }
        if self.assembly is not None:  # only when set: the digests of profiles without it stay as they were
            data["assembly"] = self.assembly.to_data()
        return data

    def digest(self) -> str:
        """A short hash of the profile's content (name and requirements included; file path not)."""
        text = json.dumps(self.to_data(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
