"""Why few sites pass: the elimination funnel and the binding requirement of a match.

Computed from any :class:`~sitematch.result.MatchResult` through its per-requirement outcome
columns (``check_<key>``): for each requirement, how many sites it excludes on its own, how many
it alone keeps from the shortlist, and the funnel in evaluation order — all sites → those meeting
the first requirement → those meeting the first two → … → the shortlist.

In a staged run, a site excluded early is not checked against later requirements, so the counts
"on its own" are lower bounds there (``exact`` is False); the funnel itself is exact either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.criteria import format_value
from sitematch.i18n import format_number, translations
from sitematch.profile import Requirement
from sitematch.result import (
    CHECK_PREFIX,
    FAILED,
    N_MISSED,
    NOT_APPLICABLE,
    OUTCOMES,
    PASSED_CODE,
    SHORTFALL_PREFIX,
    TO_VERIFY,
    UNKNOWN,
    MatchResult,
)
from sitematch.scoring import describe

#: Outcomes that keep a site in the running, and those that exclude it.
_KEEPS = tuple(OUTCOMES[i] for i in (PASSED_CODE, TO_VERIFY, NOT_APPLICABLE))
_EXCLUDES = tuple(OUTCOMES[i] for i in (FAILED, UNKNOWN))

FUNNEL_COLUMNS = ("step", "requirement", "key", "excludes", "excludes_share", "only_this", "remaining", "exact")


def _ordered(result: MatchResult) -> list[Requirement]:
    by_key = {r.key: r for r in result.profile.requirements}
    order = [by_key[k] for k in result.run.requirement_order if k in by_key]
    return order + [r for r in result.profile.requirements if r not in order]


def funnel(result: MatchResult) -> pd.DataFrame:
    """The elimination funnel of a match, one row per requirement in evaluation order.

    Parameters
    ----------
    result : MatchResult

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FUNNEL_COLUMNS`: ``excludes`` (sites the requirement excludes on its own),
        ``excludes_share`` (of all sites in the region), ``only_this`` (sites it alone keeps off
        the shortlist), ``remaining`` (sites meeting it and every requirement before it),
        ``exact`` (False where staged evaluation makes the first two lower bounds).

    Examples
    --------
    >>> from sitematch import LayerSet, load_profile, match
    >>> result = match(load_profile("scenarios/data_centre.yaml"), LayerSet.from_path("layers"))
    >>> table = funnel(result)
    >>> int(table["remaining"].iloc[-1]) == len(result.ranked)
    True
    """
    sites = result.sites
    exact = not result.run.staged
    keep = np.ones(len(sites), dtype=bool)
    checks = [f"{CHECK_PREFIX}{r.key}" for r in result.profile.requirements]
    missed_once = (sites[N_MISSED] == 1).to_numpy() & sites[checks].notna().all(axis=1).to_numpy()
    rows = []
    for i, req in enumerate(_ordered(result), start=1):
        outcome = sites[f"{CHECK_PREFIX}{req.key}"].astype("string")
        excluded = outcome.isin(_EXCLUDES).to_numpy(dtype=bool)
        keep &= outcome.isin(_KEEPS).to_numpy(dtype=bool)
        rows.append(
            {
                "step": i,
                "requirement": req.describe(),
                "key": req.key,
                "excludes": int(excluded.sum()),
                "excludes_share": float(excluded.mean()) if len(sites) else 0.0,
                "only_this": int((excluded & missed_once).sum()),
                "remaining": int(keep.sum()),
                "exact": exact,
            }
        )
    return pd.DataFrame(rows, columns=list(FUNNEL_COLUMNS))


@dataclass(frozen=True)
class Binding:
    """The requirement that excludes the most sites, and the site that misses only it by the least.

    ``nearest_gap`` says how far that site misses ("lacks 20 MW", "is 4.4 km too far") and
    ``nearest_site`` names it; both are empty when no site misses only this requirement.
    """

    requirement: Requirement
    excludes: int
    share: float
    sites: int
    exact: bool
    nearest_gap: str
    nearest_site: str = ""
    #: The nearest site's gap in the criterion's unit (None: no such site), for words in another language.
    gap: float | None = None

    def sentence(self, lang: str = "en") -> str:
        """One sentence for people: "Grid capacity … excludes 92 % of the region's 226 sites …" (in ``lang``)."""
        if lang != "en":
            return self._sentence_in(lang)
        at_least = "" if self.exact else "at least "
        share = f"{at_least}{self.share * 100:.0f} %"
        region = f"the region's {self.sites} sites ({self.excludes})"
        text = f"{describe(self.requirement)} excludes {share} of {region} for this lead"
        if self.nearest_gap and self.nearest_site:
            return text + f"; the nearest site that misses only this, {self.nearest_site}, {self.nearest_gap}."
        if self.requirement.numeric and self.exact:  # a staged run does not check every site against all
            return text + "; no site misses only this requirement."
        return text + "."

    def _sentence_in(self, lang: str) -> str:
        _ = translations(lang).gettext
        share = format_number(self.share * 100, lang, decimals=0)
        words = {
            "requirement": describe(self.requirement, lang),
            "share": (_("%(share)s %%") if self.exact else _("at least %(share)s %%")) % {"share": share},
            "sites": format_number(self.sites, lang, decimals=0),
            "excludes": format_number(self.excludes, lang, decimals=0),
        }
        text = (
            _("%(requirement)s excludes %(share)s of the region's %(sites)s sites (%(excludes)s) for this lead") % words
        )
        if self.nearest_gap and self.nearest_site and self.gap is not None:
            gap = _gap_words(self.requirement, self.gap, lang)
            return text + _("; the nearest site that misses only this, %(site)s, %(gap)s.") % {
                "site": self.nearest_site,
                "gap": gap,
            }
        if self.requirement.numeric and self.exact:
            return text + _("; no site misses only this requirement.")
        return text + "."


def _gap_words(req: Requirement, gap: float, lang: str = "en") -> str:
    """How far a site misses a numeric requirement: "lacks 20 MW", "is 4.4 km too far", "is class 2"."""
    _ = translations(lang).gettext
    if req.criterion.display == "class":  # a class is named, not measured: say which the closest has
        closest = float(req.value) - gap if req.op == "min" else float(req.value) + gap
        return _("is %(value)s") % {"value": format_value(req.criterion, closest, lang)}
    words = {"value": format_value(req.criterion, gap, lang)}
    if req.op == "min":
        return _("lacks %(value)s") % words
    return (_("is %(value)s too far") if req.criterion.unit == "m" else _("is %(value)s over")) % words


def binding(result: MatchResult) -> Binding | None:
    """The binding requirement of a match: the one that excludes the most sites on its own.

    Returns None when no requirement excludes any site.

    Examples
    --------
    >>> from sitematch import LayerSet, load_profile, match
    >>> result = match(load_profile("scenarios/data_centre.yaml"), LayerSet.from_path("layers"))
    >>> binding(result).requirement.key
    'min_grid_capacity_mw'
    """
    key = result.binding_key
    if key is None:
        return None
    table = funnel(result).set_index("key")
    req = next(r for r in result.profile.requirements if r.key == key)
    site, gap, amount = _nearest_gap(result, req)
    return Binding(
        req,
        int(table["excludes"][key]),
        float(table["excludes_share"][key]),
        len(result.sites),
        bool(table["exact"][key]),
        gap,
        site,
        amount,
    )


def _nearest_gap(result: MatchResult, req: Requirement) -> tuple[str, str, float | None]:
    """The site that misses ``req`` — and nothing else — by the least, and by how much.

    Returns (the site's name, or its ``plot_id`` when it has none; the gap in words: "lacks 20 MW",
    "is 4.4 km too far"; the gap in the criterion's unit), or two empty strings and None when no site
    misses only ``req`` on a known value.
    A site of a staged run that was not checked against every requirement is not counted.
    """
    if not req.numeric:
        return "", "", None
    sites = result.sites
    checks = [f"{CHECK_PREFIX}{r.key}" for r in result.profile.requirements]
    failed = (sites[f"{CHECK_PREFIX}{req.key}"].astype("string") == OUTCOMES[FAILED]).fillna(False)
    checked = sites[checks].notna().all(axis=1).to_numpy()
    only = failed.to_numpy(dtype=bool) & (sites[N_MISSED] == 1).to_numpy() & checked
    short = pd.to_numeric(sites.loc[only, f"{SHORTFALL_PREFIX}{req.key}"])
    short = short[np.isfinite(short)]
    if short.empty:
        return "", "", None
    frame = pd.DataFrame({"short": short, "id": sites.loc[short.index, s.PLOT_ID]})
    at = frame.sort_values(["short", "id"], kind="mergesort").index[0]
    name = sites.at[at, s.NAME] if s.NAME in sites.columns else None
    who = str(name) if isinstance(name, str) and name.strip() else str(sites.at[at, s.PLOT_ID])
    gap = float(short.loc[at]) * float(req.value)
    return who, _gap_words(req, gap), gap
