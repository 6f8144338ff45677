"""The adviser's match form: every criterion of the region, the region, the parameters — a whole profile.

The form is a profile written as form fields, with nothing kept aside: :func:`form_values` turns a
validated profile into the fields' values (so a stored profile shows *all* it asks for), and
:func:`profile_data` turns the typed values back into profile data, which the library's one
validation (:func:`sitematch.profile.build_profile`) then checks. The form itself only reads
numbers (``"10,5"`` and ``"3 000"`` are numbers; ``"tio"`` and ``"10 ha"`` are not) and says, next
to each field, what it could not read; every other rule and message is the library's
(:func:`field_of` finds the field a :class:`~sitematch.errors.ProfileError` names).

Field names (``state`` maps each to the list of values typed or ticked):

=============================  ==================================================================
``name``, ``sector``,          the lead's name and text
``description``, ``lead.*``
``req.min_<c>``, ``req.max_<c>``  a numeric requirement (empty: none)
``req.<c>``                    a category's allowed codes (ticked, or typed when it declares none);
                               a flag's ``yes`` / ``no``
``unknown.<c>``                what a requirement on ``c`` does with a site without a value
``pref.<c>.weight`` …          a preference (empty weight: none): ``full_at``, ``zero_at``,
                               ``shape``; ``score.<code>`` (or ``scores``: ``code: score, …``)
``region.*``, ``param.<p>``,   the region, the parameters, the near-miss tolerance, plot assembly
``near_miss_tolerance``,
``assembly.max_gap_m``
=============================  ==================================================================
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sitematch.criteria import Criterion, Registry, format_code
from sitematch.criteria.format import label_of
from sitematch.errors import ProfileError
from sitematch.i18n import N_, format_number, reword, translations
from sitematch.profile import Profile, build_profile
from sitematch.profile.build import LEAD_KEYS, unit_words

#: The values of the form's fields, by field name (a list: check boxes send several).
State = dict[str, list[str]]

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
#: The groups criteria are shown in, in order (see :func:`group_of`).
GROUPS = (
    ("plot", N_("The plot")),
    ("plan", N_("Plan, owner and place")),
    ("flags", N_("Yes or no")),
    ("distances", N_("Distances")),
    ("around", N_("Capacity and surroundings")),
)
#: What a requirement does with a site without a value, in English words (the catalogues translate them).
IF_UNKNOWN_WORDS = {"fail": N_("excluded"), "pass": N_("passes"), "verify": N_("passes, to verify")}
SHAPES = ("linear", "logistic")
REGION_CODES = ("include_municipalities", "exclude_municipalities", "counties")
#: The form's longest text field value kept (longer is refused with a message, not cut silently).
MAX_FIELD_CHARS = 2000
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
#: What separates codes or names typed in one field.
SPLIT = re.compile(r"[\s,;]+")


# -- numbers -----------------------------------------------------------------------------------------
def read_number(text: str) -> float | None:
    """A number as people type it, or None for an empty field; ValueError if it is not one.

    Spaces (thousands) are ignored and a decimal comma is a decimal point; the unit is never typed
    (it is shown next to the field).

    Examples
    --------
    >>> read_number("3 000"), read_number("10,5"), read_number(" "), read_number("-2")
    (3000.0, 10.5, None, -2.0)
    >>> read_number("10 ha")
    Traceback (most recent call last):
    ValueError: not a number
    """
    plain = _SPACES.sub("", text)
    if not plain:
        return None
    plain = plain.replace(",", ".").replace("\u2212", "-")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", plain):
        raise ValueError("not a number")
    value = float(plain)
    if not math.isfinite(value):
        raise ValueError("not a number")
    return value


def show_number(value: Any) -> str:
    """A number as the form shows it: ``10``, ``2.5``, ``400000`` (never ``4e+05``).

    Examples
    --------
    >>> show_number(400000.0), show_number(2.5), show_number(None)
    ('400000', '2.5', '')
    """
    if value is None or value == "":
        return ""
    v = float(value)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _number_error(text: str, unit: str, lang: str = "en") -> str:
    _ = translations(lang).gettext
    said = {"text": text.strip()[:60], "unit": _(unit) if unit else ""}
    if unit:
        return (
            _("“%(text)s” is not a number: write a plain number in %(unit)s (the unit is given), e.g. 10 or 2,5") % said
        )
    return _("“%(text)s” is not a number: write a plain number (the unit is given), e.g. 10 or 2,5") % said


# -- the criteria as the form shows them ----------------------------------------------------------
def group_of(c: Criterion) -> str:
    """The group a criterion is shown in: the plot's own numbers, plan and place, yes/no,
    distances, or what is within reach (capacity, labour)."""
    if c.kind == "category":
        return "plan"
    if c.kind == "flag":
        return "flags"
    if not c.measured:
        return "plot"
    return "distances" if c.unit == "m" else "around"


@dataclass(frozen=True)
class Row:
    """One criterion as the form shows it."""

    name: str
    label: str
    kind: str
    unit: str
    description: str
    default_if_unknown: str
    codes: tuple[tuple[str, str], ...]  # (code, words) of a category's declared values
    typed_codes: bool  # a category without declared values: codes are typed


def rows(registry: Registry, lang: str = "en") -> list[tuple[str, str, list[Row]]]:
    """The registry's criteria by group: ``(group, title, rows)``, groups in :data:`GROUPS` order, in ``lang``."""
    _ = translations(lang).gettext
    by: dict[str, list[Row]] = {g: [] for g, _title in GROUPS}
    for c in registry:
        codes = tuple((v, format_code(c, v, lang)) for v in c.values) if c.kind == "category" else ()
        by[group_of(c)].append(
            Row(
                c.name,
                label_of(c, lang),
                c.kind,
                _(unit_words(c)) if c.kind == "numeric" else "",
                _(c.description) if c.description else "",
                c.if_unknown,
                codes,
                c.kind == "category" and not c.values,
            )
        )
    return [(g, _(title), by[g]) for g, title in GROUPS if by[g]]


# -- profile → form -------------------------------------------------------------------------------
def form_values(profile: Profile, lang: str = "en") -> tuple[State, list[str]]:
    """The form's values for a validated profile: everything it asks for, and notes (in ``lang``) on what
    the form shows differently (one "if unknown" per criterion)."""
    state: State = {"name": [profile.name], "sector": [profile.sector], "description": [profile.description]}
    for k in LEAD_KEYS:
        value = getattr(profile.lead, k)
        if k == "confidential":
            if value:
                state["lead.confidential"] = ["on"]
        elif value:
            state[f"lead.{k}"] = [str(value)]
    notes: list[str] = []
    policies: dict[str, str] = {}
    for r in profile.requirements:
        c = r.criterion
        if r.op in ("min", "max"):
            state[f"req.{r.key}"] = [show_number(r.value)]
        elif r.op == "in":
            state[f"req.{c.name}"] = list(r.value) if c.values else [", ".join(r.value)]
        else:
            state[f"req.{c.name}"] = ["yes" if r.value else "no"]
        if c.name in policies and policies[c.name] != r.if_unknown:
            notes.append(
                translations(lang).gettext(
                    "%(label)s: its requirements had different policies for unknown values; the form shows one"
                )
                % {"label": label_of(c, lang)}
            )
        policies.setdefault(c.name, r.if_unknown)
        if r.if_unknown != c.if_unknown:
            state[f"unknown.{c.name}"] = [r.if_unknown]
    for p in profile.preferences:
        c, key = p.criterion, f"pref.{p.criterion.name}"
        state[f"{key}.weight"] = [show_number(p.weight)]
        if p.shape != "table":
            state[f"{key}.full_at"] = [show_number(p.full_at)]
            state[f"{key}.zero_at"] = [show_number(p.zero_at)]
            state[f"{key}.shape"] = [p.shape]
        elif c.kind == "category" and not c.values:
            state[f"{key}.scores"] = [", ".join(f"{k}: {show_number(v)}" for k, v in p.scores.items())]
        else:
            for k, v in p.scores.items():
                state[f"{key}.score.{k}"] = [show_number(v)]
    region = profile.region
    if region.members_only:
        state["region.members_only"] = ["on"]
    for k in REGION_CODES:
        state[f"region.{k}"] = [", ".join(getattr(region, k))]
    for k in profile.given_parameters:
        state[f"param.{k}"] = [show_number(profile.parameters[k])]
    state["near_miss_tolerance"] = [show_number(profile.near_miss_tolerance)]
    if profile.assembly is not None:
        state["assembly.max_gap_m"] = [show_number(profile.assembly.max_gap_m)]
    return state, notes


def starter_values(registry: Registry, lang: str = "en") -> State:
    """The form's values for a new lead (:data:`STARTER`), its name in ``lang``."""
    state = form_values(build_profile(STARTER, registry=registry, where="the starter profile"))[0]
    state["name"] = [translations(lang).gettext(N_("New lead"))]
    return state


def state_of(items: Iterable[tuple[str, Any]]) -> State:
    """The form's values from a posted form's (name, value) pairs (files and the CSRF token left out)."""
    state: State = {}
    for key, value in items:
        if isinstance(value, str) and key != "csrf_token":
            state.setdefault(key, []).append(value)
    return state


# -- form → profile ----------------------------------------------------------------------------------
def first(state: Mapping[str, list[str]], key: str) -> str:
    """The first value of a field (empty if it was not sent)."""
    values = state.get(key) or [""]
    return values[0]


def profile_data(
    state: Mapping[str, list[str]], registry: Registry, lang: str = "en"
) -> tuple[dict[str, Any], dict[str, str]]:
    """Profile data from the form's values, and what the form could not read, by field name (in ``lang``).

    Only numbers are read here; everything else the profile says is checked by the library.

    Examples
    --------
    >>> from sitematch.criteria import BUILTIN
    >>> data, errors = profile_data({"name": ["Plant"], "req.min_area_ha": ["25"], "req.zoning": ["J"],
    ...                              "pref.area_ha.weight": ["2"], "pref.area_ha.full_at": ["40"],
    ...                              "pref.area_ha.zero_at": ["tio"]}, BUILTIN)
    >>> data["requirements"], list(errors)
    ({'min_area_ha': 25.0, 'zoning': ['J']}, ['pref.area_ha.zero_at'])
    >>> errors["pref.area_ha.zero_at"][:50]
    '“tio” is not a number: write a plain number in hec'
    """
    errors: dict[str, str] = {}
    _ = translations(lang).gettext

    def number(key: str, unit: str = "") -> float | None:
        text = first(state, key)
        try:
            return read_number(text)
        except ValueError:
            errors[key] = _number_error(text, unit, lang)
            return None

    for key, values in state.items():
        if any(len(v) > MAX_FIELD_CHARS for v in values) and key != "paste":
            errors[key] = _("more than %(n)s characters") % {"n": format_number(MAX_FIELD_CHARS, lang, decimals=0)}
    data: dict[str, Any] = {"name": first(state, "name").strip()}
    for key in ("sector", "description"):
        if first(state, key).strip():
            data[key] = first(state, key).strip()
    lead: dict[str, Any] = {k: first(state, f"lead.{k}").strip() for k in LEAD_KEYS if k != "confidential"}
    lead = {k: v for k, v in lead.items() if v}
    if first(state, "lead.confidential"):
        lead["confidential"] = True
    if lead:
        data["lead"] = lead
    reqs: dict[str, Any] = {}
    prefs: dict[str, Any] = {}
    for c in registry:
        unit = unit_words(c) if c.kind == "numeric" else ""
        policy = first(state, f"unknown.{c.name}")
        added: list[str] = []
        if c.kind == "numeric":
            for op in ("min", "max"):
                value = number(f"req.{op}_{c.name}", unit)
                if value is not None:
                    reqs[f"{op}_{c.name}"] = value
                    added.append(f"{op}_{c.name}")
        elif c.kind == "category":
            chosen = state.get(f"req.{c.name}") or []
            codes = [v for text in chosen for v in SPLIT.split(text) if v] if not c.values else list(chosen)
            if codes:
                reqs[c.name] = codes
                added.append(c.name)
        else:
            said = first(state, f"req.{c.name}")
            if said in ("yes", "no"):
                key = c.allowed_key if said == "no" and c.allowed_key else c.name
                reqs[key] = said == "yes"
                added.append(key)
        if policy:
            for key in added:
                reqs[key] = {"value": reqs[key], "if_unknown": policy}
        pref = _preference(state, c, unit, number, errors, lang)
        if pref is not None:
            prefs[c.name] = pref
    if reqs:
        data["requirements"] = reqs
    if prefs:
        data["preferences"] = prefs
    region: dict[str, Any] = {"members_only": bool(first(state, "region.members_only"))}
    for k in REGION_CODES:
        codes = [v for v in SPLIT.split(first(state, f"region.{k}")) if v]
        if codes:
            region[k] = codes
    data["region"] = region
    params = {}
    for p in registry.parameters.values():
        value = number(f"param.{p.name}", N_("metres") if p.unit == "m" else p.unit)
        if value is not None:
            params[p.name] = value
    if params:
        data["parameters"] = params
    tolerance = number("near_miss_tolerance")
    if tolerance is not None:
        data["near_miss_tolerance"] = tolerance
    gap = number("assembly.max_gap_m", N_("metres"))
    if gap is not None:
        data["assembly"] = {"max_gap_m": gap}
    return data, errors


def _preference(
    state: Mapping[str, list[str]], c: Criterion, unit: str, number: Any, errors: dict[str, str], lang: str = "en"
) -> dict[str, Any] | None:
    _ = translations(lang).gettext
    key = f"pref.{c.name}"
    weight = number(f"{key}.weight")
    if c.kind == "numeric":
        parts = {bp: number(f"{key}.{bp}", unit) for bp in ("full_at", "zero_at")}
        given = {k: v for k, v in parts.items() if v is not None}
        if weight is None:
            if given and f"{key}.weight" not in errors:
                errors[f"{key}.weight"] = _(
                    "give a weight (0 leaves it out of the score), or clear full at and zero at"
                )
            return None
        return {"weight": weight, **given, "shape": first(state, f"{key}.shape") or "linear"}
    scores: dict[str, Any] = {}
    if c.kind == "category" and not c.values:
        text = first(state, f"{key}.scores")
        for item in (t for t in re.split(r"[,;\n]+", text) if t.strip()):
            code, sep, score = item.partition(":")
            value: float | None = None
            with contextlib.suppress(ValueError):
                value = read_number(score) if sep else None
            if value is None:
                errors[f"{key}.scores"] = _("“%(item)s”: write code: score, e.g. 0114: 1, 0180: 0,5") % {
                    "item": item.strip()[:40]
                }
                continue
            scores[code.strip()] = value
    else:
        codes = ("true", "false") if c.kind == "flag" else c.values
        for code in codes:
            value = number(f"{key}.score.{code}")
            if value is not None:
                scores[code] = value
    if weight is None:
        if scores and f"{key}.weight" not in errors:
            errors[f"{key}.weight"] = _("give a weight (0 leaves it out of the score), or clear the scores")
        return None
    return {"weight": weight, "scores": scores}


# -- the library's messages, next to their fields -----------------------------------------------------
def field_of(key: str | None, registry: Registry) -> str:
    """The form field a :class:`~sitematch.errors.ProfileError`'s key names (``""``: the form as a whole).

    Examples
    --------
    >>> from sitematch.criteria import BUILTIN
    >>> field_of("requirements.min_area_ha", BUILTIN), field_of("preferences.area_ha.full_at", BUILTIN)
    ('req.min_area_ha', 'pref.area_ha.full_at')
    >>> field_of("requirements.brownfield_allowed", BUILTIN), field_of("region.counties", BUILTIN)
    ('req.brownfield', 'region.counties')
    """
    if not key:
        return ""
    parts = key.split(".")
    head, rest = parts[0], parts[1:]
    if head == "requirements" and rest:
        found = registry.requirement_keys().get(rest[0])
        if found is None:
            return ""
        c, op = found
        if rest[1:2] == ["if_unknown"]:
            return f"unknown.{c.name}"
        return f"req.{rest[0]}" if op in ("min", "max") else f"req.{c.name}"
    if head == "preferences":
        if not rest or rest[0] not in registry:
            return "preferences"
        c = registry[rest[0]]
        if len(rest) == 1:
            return f"pref.{c.name}.weight"
        if rest[1] == "scores":
            if c.kind == "category" and not c.values:
                return f"pref.{c.name}.scores"
            return f"pref.{c.name}.score.{rest[2]}" if len(rest) > 2 else f"pref.{c.name}.weight"
        return f"pref.{c.name}.{rest[1]}"
    if head == "region":
        return f"region.{rest[0]}" if rest else "region.members_only"
    if head == "parameters":
        return f"param.{rest[0]}" if rest else ""
    if head == "lead":
        return f"lead.{rest[0]}" if rest else ""
    if head == "assembly":
        return "assembly.max_gap_m"
    return head if head in ("name", "sector", "description", "near_miss_tolerance") else ""


#: The library's messages about a profile that a form field can show, in English (the catalogues translate them).
PROFILE_SENTENCES = (
    N_("must not be negative, got %(value)s"),
    N_("weights must not be negative, got %(value)s"),
    N_("full_at and zero_at must differ"),
    N_("breakpoints must not be negative"),
    N_("scores are between 0 and 1, got %(value)s"),
    N_("a yes/no criterion scores 'true' and 'false'"),
    N_("all weights are 0: give at least one preference a positive weight"),
    N_("expected at least one allowed value"),
    N_("%(value)s is larger than %(key)s = %(other)s: no site could meet both"),
    N_("%(value)s is not a %(n)s-digit SCB code (kommunkod is 4 digits, länskod 2)"),
    N_("unknown value %(value)s; known values: %(known)s"),
    N_("'%(key)s' is a %(kind)s: give 'scores', e.g. {value: 1.0, other: 0.5}"),
    N_("%(n)s characters; at most %(most)s are allowed"),
    N_("expected true or false, got %(value)s"),
)


def message_of(exc: ProfileError, lang: str = "en") -> str:
    """A ProfileError's message without the "where: 'key': " it starts with (the field shows where), in ``lang``
    when it is one of :data:`PROFILE_SENTENCES`."""
    text = str(exc)
    prefix = f"{exc.where}: '{exc.key}': " if exc.key else f"{exc.where}: "
    return reword(text[len(prefix) :] if exc.where and text.startswith(prefix) else text, PROFILE_SENTENCES, lang)


@dataclass
class View:
    """What the template reads: the typed values, the messages by field, the criteria rows."""

    state: State
    errors: dict[str, str]
    registry: Registry
    lang: str = "en"

    def value(self, key: str) -> str:
        """The (first) value of a field, as typed."""
        return first(self.state, key)

    def values(self, key: str) -> list[str]:
        """Every value of a field (ticked check boxes)."""
        return list(self.state.get(key) or [])

    def on(self, key: str, value: str = "on") -> bool:
        """Whether a check box (or option) is chosen."""
        return value in (self.state.get(key) or [])

    def error(self, key: str) -> str:
        """The message for a field (empty: none)."""
        return self.errors.get(key, "")

    def has_any(self, prefix: str) -> bool:
        """Whether any field starting with ``prefix`` has a value or a message (opens its section)."""
        return any(k.startswith(prefix) and any(v.strip() for v in vs) for k, vs in self.state.items()) or any(
            k.startswith(prefix) for k in self.errors
        )

    def groups(self) -> list[tuple[str, str, list[Row]]]:
        """The criteria by group."""
        return rows(self.registry, self.lang)
