"""The criterion declaration and the registry that holds them.

A :class:`Criterion` is everything sitematch knows about one thing a site is measured by: its
name (with the unit in it), kind, label, unit, allowed values, how it is shown, and **how it is
measured** (a :class:`sitematch.measures.Measure`). Profile validation, feature computation, staged
evaluation, upload validation, the bench reference and every label in the CLI, map and dossier
read these declarations; nothing else lists criteria.

A :class:`Registry` is a set of criteria and the profile parameters their measures use. The
built-in registry is :data:`sitematch.criteria.BUILTIN`; a region's catalogue (``layers.yaml``)
extends it with its own layers' criteria (:meth:`Registry.extended`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sitematch._io import reduce_frozen
from sitematch.errors import CatalogueError
from sitematch.measures import Attribute, Measure

KINDS = ("numeric", "category", "flag")
#: What a requirement does with a site that has no value for its criterion.
IF_UNKNOWN = ("fail", "pass", "verify")

#: Unit suffixes of criterion and parameter names, and the unit people read.
UNIT_SUFFIXES: dict[str, str] = {
    "_sek_m2": "SEK/m²",
    "_m": "m",
    "_mw": "MW",
    "_kv": "kV",
    "_ha": "ha",
    "_min": "min",
    "_share": "share",
    "_population": "inhabitants",
    "_count": "",
    "_class": "",
}


def unit_from_name(name: str) -> str | None:
    """The unit a name's suffix states (``"distance_to_rail_m"`` → ``"m"``), or None if it states none.

    Examples
    --------
    >>> unit_from_name("grid_capacity_mw"), unit_from_name("zoning")
    ('MW', None)
    """
    for suffix, unit in UNIT_SUFFIXES.items():
        if name.endswith(suffix):
            return unit
    return None


@dataclass(frozen=True)
class Criterion:
    """One criterion sites are measured by.

    Parameters
    ----------
    name : str
        The feature column, with its unit as suffix (``_m``, ``_mw``, ``_ha``, ``_sek_m2``).
    kind : str
        ``"numeric"`` (requirements ``min_<name>`` / ``max_<name>``; preferences with breakpoints),
        ``"category"`` (requirement ``<name>: [allowed values]``; preference as a score table) or
        ``"flag"`` (yes/no; requirement ``<name>: true|false``; preference table).
    label : str
        Human label for tables, maps and dossiers.
    measure : Measure
        How the value is measured for every site at once.
    unit : str
        Unit shown to people (``"m"``, ``"MW"``, ``"ha"``); empty for categories and flags.
    higher_is_better : bool
        The usual direction (used to word explanations and to order near misses).
    values : tuple of str
        Allowed values of a category (empty: any value).
    short_label : str
        Column header in narrow tables (the terminal); default the label.
    headline : bool
        Shown as a key fact of every shortlisted site, whether or not the profile uses it.
    display : str
        How numbers are worded: ``"distance"`` (m, km above 1 km), ``"count"`` (thousands
        separated), ``"class"`` ("class 3"), ``"number"`` (one decimal and the unit). Default from
        the unit.
    cost : int, optional
        Cost tier for staged evaluation (0 cheapest); default from the measure.
    allowed_key : str
        For a flag: an extra requirement key meaning "sites with this flag are allowed"
        (``brownfield_allowed: false`` excludes brownfield; ``true`` adds no requirement).
    refusal : str
        Words for a site excluded through ``allowed_key``.
    if_unknown : str
        What a requirement on it does with a site that has no value, unless the profile says:
        ``"fail"`` (excluded, reported as unknown), ``"pass"``, or ``"verify"`` (passes, listed as
        "to verify" — for attributes a municipality may not have filled, such as the price).
    pattern : str
        For a category: a regular expression every value must match (``pattern_example`` shows one).
    applies_to : str
        A flag column: requirements on this criterion apply only to sites where it is true (MIFO
        risk classes apply to brownfield sites; a greenfield plot has no class and is not unknown).
    description : str
        What it measures, for the README and ``sitematch criteria``.
    origin : str
        Where it was declared: ``"built-in"`` or the catalogue file.

    Examples
    --------
    >>> from sitematch.measures import NearestDistance
    >>> c = Criterion("distance_to_school_m", "numeric", "Distance to school", NearestDistance("schools"))
    >>> c.unit, c.cost, c.boundable
    ('m', 1, True)
    """

    name: str
    kind: str
    label: str
    measure: Measure
    unit: str = ""
    higher_is_better: bool = True
    values: tuple[str, ...] = ()
    short_label: str = ""
    headline: bool = False
    display: str = ""
    cost: int | None = None
    allowed_key: str = ""
    refusal: str = ""
    if_unknown: str = "fail"
    applies_to: str = ""
    pattern: str = ""
    pattern_example: str = ""
    description: str = ""
    origin: str = "built-in"

    def __post_init__(self) -> None:
        if self.if_unknown not in IF_UNKNOWN:
            raise ValueError(f"criterion {self.name!r}: if_unknown must be one of {', '.join(IF_UNKNOWN)}")
        if self.kind not in KINDS:
            raise ValueError(f"criterion {self.name!r}: kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.kind == "numeric" and not self.unit:
            object.__setattr__(self, "unit", unit_from_name(self.name) or "")
        if not self.display:
            by_unit = {"m": "distance", "inhabitants": "count"}
            object.__setattr__(self, "display", by_unit.get(self.unit, "number"))
        if not self.short_label:
            object.__setattr__(self, "short_label", self.label)
        if self.cost is None:
            object.__setattr__(self, "cost", self.measure.default_cost())

    @property
    def measured(self) -> bool:
        """True when the value is computed from layers (not a plot's own attribute)."""
        return not isinstance(self.measure, Attribute)

    @property
    def boundable(self) -> bool:
        """Whether a search for this criterion can stop at a distance (see staged evaluation)."""
        return self.measure.boundable

    def spec(self) -> dict[str, object]:
        """The declaration as plain data (what a catalogue would say), for docs and the bench reference."""
        out = {"name": self.name, "kind": self.kind, "label": self.label, "unit": self.unit, **self.measure.spec()}
        if self.applies_to:
            out["applies_to"] = self.applies_to
        return out


@dataclass(frozen=True)
class Parameter:
    """A number a profile may set under ``parameters:`` that shapes how a criterion is measured.

    Examples
    --------
    >>> Parameter("labour_pool_radius_m", 30_000, "Labour pool radius").unit
    'm'
    """

    name: str
    default: float
    label: str
    unit: str = ""
    description: str = ""
    origin: str = "built-in"

    def __post_init__(self) -> None:
        if not self.unit:
            object.__setattr__(self, "unit", unit_from_name(self.name) or "")


@dataclass(frozen=True)
class Registry:
    """Criteria and parameters by name; read-only.

    Examples
    --------
    >>> from sitematch.criteria import BUILTIN
    >>> BUILTIN["area_ha"].label
    'Area'
    >>> "min_area_ha" in BUILTIN.requirement_keys()
    True
    """

    criteria: Mapping[str, Criterion] = field(default_factory=dict)
    parameters: Mapping[str, Parameter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", MappingProxyType(dict(self.criteria)))
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return reduce_frozen(self)

    def __getitem__(self, name: str) -> Criterion:
        return self.criteria[name]

    def __contains__(self, name: object) -> bool:
        return name in self.criteria

    def __iter__(self) -> Iterator[Criterion]:
        return iter(self.criteria.values())

    def __len__(self) -> int:
        return len(self.criteria)

    def measured(self) -> list[Criterion]:
        """The criteria computed from layers, in declaration order."""
        return [c for c in self if c.measured]

    def requirement_keys(self) -> dict[str, tuple[Criterion, str]]:
        """Every requirement key a profile may write → (criterion, op).

        ``op`` is ``"min"``, ``"max"``, ``"in"`` (a category), ``"eq"`` (a flag) or ``"allowed"``
        (a flag's ``allowed_key``).
        """
        keys: dict[str, tuple[Criterion, str]] = {}
        for c in self:
            if c.kind == "numeric":
                keys[f"min_{c.name}"] = (c, "min")
                keys[f"max_{c.name}"] = (c, "max")
            elif c.kind == "category":
                keys[c.name] = (c, "in")
            else:
                keys[c.name] = (c, "eq")
                if c.allowed_key:
                    keys[c.allowed_key] = (c, "allowed")
        return keys

    def defaults(self) -> dict[str, float]:
        """Every parameter's default value."""
        return {p.name: p.default for p in self.parameters.values()}

    def resolve(self, given: Mapping[str, float] | None = None) -> dict[str, float]:
        """Every parameter's value for a measurement: those given, else the default.

        Parameters are resolved once, before measuring; measures then read the result only.

        Examples
        --------
        >>> from sitematch.criteria import BUILTIN
        >>> BUILTIN.resolve({"port_min_depth_m": 12})["port_min_depth_m"]
        12.0
        """
        return {**self.defaults(), **{k: float(v) for k, v in (given or {}).items()}}

    def extended(
        self, criteria: Mapping[str, Criterion], parameters: Mapping[str, Parameter], *, where: str
    ) -> Registry:
        """This registry plus more criteria and parameters (from a catalogue); names must be new.

        Raises
        ------
        CatalogueError
            If a name is already declared.
        """
        for name in criteria:
            if name in self.criteria:
                raise CatalogueError(
                    f"{where}: criterion '{name}' is already declared ({self.criteria[name].origin}); "
                    "give the new criterion another name",
                    where=where,
                    key=f"criteria.{name}",
                )
        for name in parameters:
            if name in self.parameters:
                raise CatalogueError(
                    f"{where}: parameter '{name}' is already declared ({self.parameters[name].origin})",
                    where=where,
                    key=f"parameters.{name}",
                )
        return Registry({**self.criteria, **criteria}, {**self.parameters, **parameters})
