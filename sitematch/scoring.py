"""Scoring: hard requirements that explain themselves, absolute value functions, points, rank.

Everything is a function of one site's own values and the profile: a site's score never depends
on which other sites are in the run (no min–max over today's candidates), so adding or removing a
plot never reorders the others. Ties are broken by ``plot_id``. This module holds the *one*
definition of each rule — a requirement's check and its words, a near miss, a preference's
points — that every evaluation (full, staged, per Dask partition) uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch import settings
from sitematch.criteria import format_code, format_value, format_values
from sitematch.criteria.format import label_of
from sitematch.i18n import translations
from sitematch.profile import Preference, Requirement
from sitematch.schema import FAILED, NOT_APPLICABLE, PASSED, PASSED_CODE, RANK, SCORE, TO_VERIFY, UNKNOWN


def _numeric(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def value_score(pref: Preference, values: pd.Series) -> np.ndarray:
    """Score each value 0–1 with the preference's absolute value function.

    Numeric: 1 at ``full_at``, 0 at ``zero_at``, linear or logistic in between, clamped outside.
    Category/flag: looked up in ``scores`` (unlisted values score 0). Missing values score 0.

    Parameters
    ----------
    pref : Preference
        The preference.
    values : pandas.Series
        The criterion's values for every site.

    Returns
    -------
    numpy.ndarray
        Scores in [0, 1].

    Examples
    --------
    >>> p = Preference("distance_to_rail_m", 1.0, "linear", full_at=1000, zero_at=5000)
    >>> value_score(p, pd.Series([500.0, 3000.0, 9000.0])).tolist()
    [1.0, 0.5, 0.0]
    """
    if pref.shape == "table":
        if pref.criterion.kind == "flag":
            keys = values.astype("boolean").map({True: "true", False: "false"})
        else:
            keys = values.astype("string")
        table = {str(k): float(v) for k, v in pref.scores.items()}
        return keys.map(table).astype("float64").fillna(0.0).to_numpy()
    x = _numeric(values)
    assert pref.full_at is not None and pref.zero_at is not None
    t = np.clip((x - pref.zero_at) / (pref.full_at - pref.zero_at), 0.0, 1.0)
    if pref.shape == "logistic":
        k = settings.logistic_steepness
        lo, hi = 1 / (1 + np.exp(k / 2)), 1 / (1 + np.exp(-k / 2))
        t = (1 / (1 + np.exp(-k * (t - 0.5))) - lo) / (hi - lo)
        t = np.clip(t, 0.0, 1.0)
    return np.nan_to_num(t, nan=0.0)


def points(pref: Preference, values: pd.Series, total_weight: float) -> np.ndarray:
    """The points a preference gives each value: ``100 · weight / total weight · value score``.

    Examples
    --------
    >>> p = Preference("area_ha", 1.0, full_at=20, zero_at=0)
    >>> points(p, pd.Series([10.0]), total_weight=4.0).tolist()
    [12.5]
    """
    if not total_weight:
        return np.zeros(len(values))
    return 100.0 * pref.weight / total_weight * value_score(pref, values)


@dataclass(frozen=True)
class Check:
    """One requirement checked for some sites.

    Attributes
    ----------
    outcome : numpy.ndarray of int8
        Per site, an index into :data:`sitematch.result.OUTCOMES`: passed, failed, unknown (no
        value, and the requirement's ``if_unknown`` is ``fail``), to verify (no value, passes),
        not applicable (the requirement does not apply to the site).
    shortfall : numpy.ndarray of float
        How far short, as a fraction of the threshold: 0 where it passes (a value to verify passes,
        so it is 0 too), inf for a missed category or flag and for an unknown value that excludes.
    words : numpy.ndarray of str
        The miss in words, or what is to verify ("" where it passes).
    """

    outcome: np.ndarray
    shortfall: np.ndarray
    words: np.ndarray

    @property
    def fails(self) -> np.ndarray:
        """The site is excluded by this requirement (failed, or unknown with ``if_unknown: fail``)."""
        return (self.outcome == FAILED) | (self.outcome == UNKNOWN)

    @property
    def unknown(self) -> np.ndarray:
        """The site is excluded because its value is unknown."""
        return self.outcome == UNKNOWN


def _numeric_check(req: Requirement, values: pd.Series, cap: float | None, lang: str = "en") -> tuple[np.ndarray, ...]:
    """Known misses of a min/max requirement: (known, fails, shortfall, words)."""
    crit = req.criterion
    x = _numeric(values)
    t = float(req.value)
    known = ~np.isnan(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        fails = known & ~((x >= t) if req.op == "min" else (x <= t))
        gap = (t - x) if req.op == "min" else (x - t)
        short = np.where(fails, gap / t if t else np.inf, 0.0)
    text = np.full(len(x), "", dtype=object)
    beyond = fails & np.isinf(x)
    measured = fails & np.isfinite(x)
    if lang != "en":
        _ = translations(lang).gettext
        label = label_of(crit, lang)
        need = _need(req, lang)
        if cap is not None:
            text[beyond] = _("%(label)s more than %(value)s, needs %(need)s") % {
                "label": label,
                "value": format_value(crit, cap, lang),
                "need": need,
            }
        else:
            text[beyond] = _("%(label)s: none in the layers (needs %(need)s)") % {"label": label, "need": need}
        said_one = (
            _("%(label)s %(value)s, needs %(need)s (%(gap)s short)")
            if req.op == "min"
            else _("%(label)s %(value)s, needs %(need)s (%(gap)s over)")
        )
        for i in np.flatnonzero(measured):
            words = {
                "label": label,
                "value": format_value(crit, float(x[i]), lang),
                "need": need,
                "gap": format_value(crit, abs(float(x[i]) - t), lang),
            }
            if crit.display == "class":
                text[i] = _("%(label)s %(value)s, needs %(need)s") % words
            else:
                text[i] = said_one % words
        return known, fails, short, text
    need = format_value(crit, t)
    word = "at least" if req.op == "min" else "at most"
    if cap is not None:
        text[beyond] = f"{crit.label} more than {format_value(crit, cap)}, needs {word} {need}"
    else:
        text[beyond] = f"{crit.label}: none in the layers (needs {word} {need})"
    if measured.any():  # words for every distinct failing value at once: no Python loop per site
        v, at = np.unique(x[measured], return_inverse=True)
        said = f"{crit.label} " + pd.Series(format_values(crit, v), dtype=object) + f", needs {word} {need}"
        if crit.display != "class":  # "class 1 short" says nothing; a class is named, not measured
            gap_text = pd.Series(format_values(crit, np.abs(v - t)), dtype=object)
            said = said + " (" + gap_text + (" short)" if req.op == "min" else " over)")
        text[measured] = said.to_numpy(dtype=object)[at]
    return known, fails, short, text


def _need(req: Requirement, lang: str) -> str:
    """What a requirement needs, in words: "at least 20 ha", "one of industri (J)", "yes"."""
    _ = translations(lang).gettext
    crit = req.criterion
    if req.numeric:
        value = format_value(crit, float(req.value), lang)
        return (_("at least %(value)s") if req.op == "min" else _("at most %(value)s")) % {"value": value}
    if req.op == "in":
        codes = ", ".join(format_code(crit, v, lang) for v in sorted(str(v) for v in req.value))
        return _("one of %(values)s") % {"values": codes}
    return _("yes") if bool(req.value) else _("no")


def check_requirement(
    req: Requirement,
    values: pd.Series,
    cap: float | None = None,
    applies: np.ndarray | None = None,
    lang: str = "en",
) -> Check:
    """Check one hard requirement for every site, and word every miss.

    Parameters
    ----------
    req : Requirement
        The requirement.
    values : pandas.Series
        The criterion's values.
    cap : float, optional
        The distance a bounded search stopped at: an infinite value then means "more than cap".
    applies : numpy.ndarray of bool, optional
        Where the requirement applies (its criterion's ``applies_to`` flag); elsewhere the outcome
        is "not applicable" and the site passes. Default: everywhere.
    lang : {"en", "sv"}
        The language of the words (English, vectorised, in a match; Swedish where a miss is shown,
        see :func:`miss_words`).

    Returns
    -------
    Check

    Examples
    --------
    >>> req = Requirement("area_ha", "min", 20.0, "min_area_ha")
    >>> check_requirement(req, pd.Series([25.0, 16.0])).words.tolist()
    ['', 'Area 16 ha, needs at least 20 ha (4 ha short)']
    >>> check_requirement(req, pd.Series([16.5]), lang="sv").words.tolist()
    ['Areal 16,5 ha, behöver minst 20 ha (3,5 ha för lite)']
    >>> price = Requirement("price_sek_m2", "max", 500.0, "max_price_sek_m2")  # unknown: to verify
    >>> check_requirement(price, pd.Series([None, 900.0])).outcome.tolist()
    [3, 1]
    """
    crit = req.criterion
    n = len(values)
    _ = translations(lang).gettext
    label = label_of(crit, lang)
    if req.numeric:
        known, fails, short, text = _numeric_check(req, values, cap, lang)
        need = _need(req, lang)
    elif req.op == "in":
        vals = values.astype("string")
        known = vals.notna().to_numpy()
        fails = known & ~vals.isin({str(v) for v in req.value}).fillna(False).to_numpy(dtype=bool)
        need = _need(req, lang)
        text = np.full(n, "", dtype=object)
        if fails.any():  # words per distinct failing value, not per site
            codes, distinct = pd.factorize(vals[fails])
            said = np.array(
                [
                    _("%(label)s %(value)s, needs %(need)s")
                    % {"label": label, "value": format_code(crit, v, lang), "need": need}
                    for v in distinct
                ],
                dtype=object,
            )
            text[fails] = said[codes]
        short = np.where(fails, np.inf, 0.0)
    else:  # op == "eq": a yes/no flag
        want = bool(req.value)
        flags = values.astype("boolean")
        known = flags.notna().to_numpy()
        fails = known & ~(flags == want).fillna(False).to_numpy(dtype=bool)
        need = _need(req, lang)
        if req.key == crit.allowed_key and crit.refusal:
            msg = _(crit.refusal)
        else:
            msg = _("%(label)s: %(value)s, needs %(need)s") % {
                "label": label,
                "value": _("no") if want else _("yes"),
                "need": need,
            }
        text = np.where(fails, msg, "").astype(object)
        short = np.where(fails, np.inf, 0.0)
    outcome = np.where(fails, FAILED, PASSED_CODE).astype(np.int8)
    unknown = ~known
    if unknown.any() and req.if_unknown != "pass":
        code = UNKNOWN if req.if_unknown == "fail" else TO_VERIFY
        outcome[unknown] = code
        short = np.where(unknown & (code == UNKNOWN), np.inf, short)
        reason = getattr(crit.measure, "unknown_reason", "")
        unknown_words = _("unknown, %(why)s") % {"why": _(reason)} if reason else _("unknown")
        if code != UNKNOWN:
            unknown_words = _("%(unknown)s, to verify") % {"unknown": unknown_words}
        text[unknown] = _("%(label)s: %(unknown)s (needs %(need)s)") % {
            "label": label,
            "unknown": unknown_words,
            "need": need,
        }
    if applies is not None:
        outside = ~np.asarray(applies, dtype=bool)
        outcome[outside] = NOT_APPLICABLE
        short = np.where(outside, 0.0, short)
        text[outside] = ""
    return Check(outcome, np.asarray(short, dtype=float).reshape(n), text)


def miss_words(req: Requirement, value: object, lang: str, cap: float | None = None) -> str:
    """One site's miss (or what to verify) of one requirement in words, in ``lang``; "" where it passes.

    The words a match stores are English (:func:`check_requirement`, vectorised); a page, a map or a
    dossier in another language words the misses it shows again with this, from the site's value.

    Examples
    --------
    >>> miss_words(Requirement("zoning", "in", ("J",), "zoning"), "B", "sv")
    'Användning (planbestämmelse) bostäder (B), behöver en av industri (J)'
    """
    return str(check_requirement(req, pd.Series([value], dtype=object), cap=cap, lang=lang).words[0])


def describe(req: Requirement, lang: str = "en") -> str:
    """A requirement in words, with a category's codes as words ("Zoning (plan use code) one of
    industri / industry (J)"); otherwise :meth:`Requirement.describe`.

    Examples
    --------
    >>> describe(Requirement("plan_status", "in", ("laga_kraft",), "plan_status"))
    'Plan status one of laga kraft (in force)'
    >>> describe(Requirement("plan_status", "in", ("laga_kraft",), "plan_status"), "sv")
    'Planstatus en av laga kraft'
    """
    if req.op == "in":
        if lang != "en":
            return req.describe(lang)
        words = ", ".join(format_code(req.criterion, v) for v in req.value)
        return f"{req.criterion.label} one of {words}"
    return req.describe(lang)


def near_miss(n_missed: np.ndarray, total_shortfall: np.ndarray, tolerance: float) -> np.ndarray:
    """The one definition of a near miss, for sites that miss at least one requirement.

    A near miss is a site whose *total* shortfall — the sum of its relative shortfalls over the
    requirements it misses on a known value — is at most the tolerance, however many requirements
    it misses: 10 % short of the area and 10 % too far from rail is a total of 0.2, a near miss at
    the default tolerance of 0.25. A missed category or flag is infinitely short (it is never
    near). An unknown value that excludes (``if_unknown: fail``) adds nothing to the total — the
    data may still show the site meets it — but it is counted in ``n_missed`` and named as
    unknown. The total only grows as more requirements are checked, so a site beyond the
    tolerance can never become a near miss: what lets staged evaluation stop measuring it.

    Examples
    --------
    >>> near_miss(np.array([1, 2, 2, 1, 0]), np.array([0.1, 0.2, 0.3, np.inf, 0.0]), 0.25).tolist()
    [True, True, False, False, False]
    """
    return (n_missed > 0) & (total_shortfall <= tolerance)


def append_words(existing: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Join two arrays of miss descriptions with "; ", skipping empty ones (vectorised).

    Examples
    --------
    >>> append_words(np.array(["", "a", "b"], dtype=object), np.array(["x", "", "y"], dtype=object)).tolist()
    ['x', 'a', 'b; y']
    """
    out = np.where(existing == "", text, existing)
    both = (existing != "") & (text != "")
    if both.any():  # concatenate only where both say something
        out[both] = existing[both] + "; " + text[both]
    return out


def rank(scored: pd.DataFrame) -> pd.Series:
    """Rank passing sites by score (1 = best), ties broken by ``plot_id``; ``<NA>`` for the rest.

    Parameters
    ----------
    scored : pandas.DataFrame
        Must hold ``score``, ``passed`` and ``plot_id``.

    Returns
    -------
    pandas.Series
        Nullable integer ranks, same index as ``scored``.

    Examples
    --------
    >>> frame = pd.DataFrame({"plot_id": ["b", "a", "c"], "score": [50.0, 50.0, None],
    ...                       "passed": [True, True, False]})
    >>> rank(frame).tolist()
    [2, 1, <NA>]
    """
    passed = scored[scored[PASSED]]
    order = passed.sort_values([SCORE, s.PLOT_ID], ascending=[False, True], kind="mergesort").index
    ranks = pd.Series(pd.NA, index=scored.index, dtype="Int64")
    ranks.loc[order] = np.arange(1, len(order) + 1)
    return ranks.rename(RANK)
