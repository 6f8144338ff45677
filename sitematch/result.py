"""The result of matching a profile: every site, its score, its rank, and why — plus how it was run.

:class:`MatchResult` is plain data: a GeoDataFrame of all sites considered (in EPSG:3006), the
profile, the provenance of the layers used and a typed :class:`RunInfo`. Exporters (map, tables,
dossier) and the web service read only this.

Columns of ``MatchResult.sites`` besides the plot's own columns and the feature columns:

``score``
    0–100, the weighted sum of preference points (NaN for excluded sites).
``rank``
    1 = best among sites that meet every requirement (``<NA>`` for excluded sites).
``passed``
    True when the site meets every hard requirement.
``n_missed``
    How many requirements the site fails (of those checked; see ``check_<key>``).
``shortfall``
    The total shortfall: the sum of the relative shortfalls over the requirements the site
    misses on a known value (0.15 = 15 % short in all; ``inf`` for a missed category or flag;
    an unknown value adds nothing). In a staged run it is a lower bound for a site excluded
    before every requirement was checked.
``near_miss``
    Misses at least one requirement, with a total ``shortfall`` of at most the profile's
    ``near_miss_tolerance`` (see :func:`sitematch.scoring.near_miss`).
``missed``
    The failed requirements in words, joined with "; " (for spreadsheets; use
    :meth:`MatchResult.misses` for a list).
``to_verify``
    Requirements a site passes only because its value is unknown (``if_unknown: verify``): what
    to ask the municipality (:meth:`MatchResult.to_verify` for a list).
``check_<key>``, ``shortfall_<key>``, ``why_<key>``
    For each requirement (by its key in the profile, e.g. ``check_min_area_ha``): ``passed``,
    ``failed``, ``unknown`` (no value; excluded), ``to verify`` (no value; passes),
    ``not applicable`` (e.g. a MIFO class on a greenfield plot), or empty where it was not checked
    (a site already decisively excluded in staged evaluation); the relative shortfall; the words.
``points_<criterion>``
    Points each preference gives (they sum to ``score``); computed for ranked sites and near
    misses, empty for other excluded sites.
``in_region``
    The site lies in a municipality the profile's region selects.
``exact``
    Every value of the row is exact: each criterion, the points, the score and the rank. Always
    true in a full evaluation; in a staged one, true for the best ranked sites
    (:data:`sitematch.settings.exact_top`, recorded as ``run.exact_top``) and the near misses.
    Elsewhere a value is exact, ``inf`` (beyond the search, "more than X km"), empty (not
    measured), or empty with its bounds in ``lower_<criterion>`` / ``upper_<criterion>``.
``lower_score``, ``upper_score``
    For a ranked site beyond the exact top whose score was not needed exactly: the interval
    holding it (``score`` and ``rank`` are then empty). Every such site scores below every site
    with a rank.
``lower_<criterion>``, ``upper_<criterion>``
    Bounds on a criterion's value where the screening rasters decided the question without
    measuring it exactly (the value itself is then empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch._io import reduce_frozen
from sitematch.criteria import BUILTIN, Criterion, Registry, format_value
from sitematch.criteria.format import label_of
from sitematch.profile import Profile

# The result's column names live at the ground (sitematch.schema: the catalogue reader reserves them);
# named here too, where readers of a result look for them.
SCORE = s.SCORE
RANK = s.RANK
PASSED = s.PASSED
N_MISSED = s.N_MISSED
SHORTFALL = s.SHORTFALL
NEAR_MISS = s.NEAR_MISS
MISSED = s.MISSED
VERIFY = s.VERIFY
IN_REGION = s.IN_REGION
EXACT = s.EXACT
LOWER_PREFIX = s.LOWER_PREFIX
UPPER_PREFIX = s.UPPER_PREFIX
POINTS_PREFIX = s.POINTS_PREFIX
CHECK_PREFIX = s.CHECK_PREFIX
SHORTFALL_PREFIX = s.SHORTFALL_PREFIX
WHY_PREFIX = s.WHY_PREFIX
RESULT_COLUMNS = s.RESULT_COLUMNS
RESULT_PREFIXES = s.RESULT_PREFIXES
OUTCOMES = s.OUTCOMES
PASSED_CODE, FAILED, UNKNOWN, TO_VERIFY, NOT_APPLICABLE = (
    s.PASSED_CODE, s.FAILED, s.UNKNOWN, s.TO_VERIFY, s.NOT_APPLICABLE
)  # fmt: skip
_EXCLUDES = (OUTCOMES[FAILED], OUTCOMES[UNKNOWN])


def points_column(criterion: str) -> str:
    """Name of the column holding a preference's points, e.g. ``points_area_ha``."""
    return f"{POINTS_PREFIX}{criterion}"


@dataclass(frozen=True)
class CriterionBreakdown:
    """One line of a site's explanation: a criterion, its value, and what it earned."""

    criterion: str
    label: str
    value: str
    weight: float
    points: float
    max_points: float
    value_function: str


@dataclass(frozen=True)
class RunInfo:
    """How a match was run: enough to tell two answers apart, and to reproduce one.

    Attributes
    ----------
    sitematch_version : str
    run_at : str
        UTC time, ISO 8601, to the second.
    layers_origin : str
        Where the layers came from.
    layers_fingerprint : str
        Hash of the catalogue and the layers (see :meth:`sitematch.layers.LayerSet.fingerprint`).
    profile_digest : str
        Hash of the profile's content (see :meth:`sitematch.profile.Profile.digest`).
    staged : bool
        Whether staged evaluation (early exit, bounded searches) was used.
    sites_total : int
        Sites before the region was selected.
    search_bounds_m : mapping of str to float
        Where staged evaluation stopped a search, by requirement key or preference criterion.
    requirement_order : tuple of str
        Requirement keys in the order they were checked (cheapest first).
    municipality_names : mapping of str to str
        Municipality name by kommunkod, for presentation.
    dask_workers, dask_partitions : int or None
        Set when the match ran on Dask.
    exact_top : int or None
        In a staged run, how many of the best ranked sites are exact in every value (see the
        ``exact`` column); None when every value of every ranked site is exact.
    """

    sitematch_version: str
    run_at: str
    layers_origin: str
    layers_fingerprint: str
    profile_digest: str
    staged: bool
    sites_total: int
    search_bounds_m: Mapping[str, float] = field(default_factory=dict)
    requirement_order: tuple[str, ...] = ()
    municipality_names: Mapping[str, str] = field(default_factory=dict, repr=False)
    dask_workers: int | None = None
    dask_partitions: int | None = None
    exact_top: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "search_bounds_m", MappingProxyType(dict(self.search_bounds_m)))
        object.__setattr__(self, "municipality_names", MappingProxyType(dict(self.municipality_names)))

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return reduce_frozen(self)

    @staticmethod
    def now() -> str:
        """The current UTC time as :attr:`run_at` writes it."""
        return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()

    def municipality(self, code: object) -> str:
        """A municipality's name, or its code when the name is unknown."""
        return self.municipality_names.get(str(code), str(code))


@dataclass
class MatchResult:
    """All sites considered for a profile, scored, ranked and explained.

    Attributes
    ----------
    profile : Profile
        The profile matched.
    sites : geopandas.GeoDataFrame
        Every site in the region (EPSG:3006), with features, points, score, rank and reasons.
        Sites outside the profile's region are not in it.
    provenance : pandas.DataFrame
        One row per (layer, source, licence) used, with the row count and date.
    run : RunInfo
        How the match was run.
    outside_region : int
        How many sites were left out because their municipality is not in the region.
    registry : Registry
        The criteria the layers declared (labels and words for every feature column).
    """

    profile: Profile
    sites: gpd.GeoDataFrame
    provenance: pd.DataFrame
    run: RunInfo
    outside_region: int = 0
    registry: Registry = BUILTIN

    def headline(self) -> list[Criterion]:
        """The criteria shown as key facts of every site (declared ``headline``), in registry order."""
        return [c for c in self.registry if c.headline and c.name in self.sites.columns]

    # Views of ``sites`` are computed once: treat ``sites`` as read-only once the result exists.
    @cached_property
    def ranked(self) -> gpd.GeoDataFrame:
        """Sites that meet every requirement, best first (ranked, then those with a score interval)."""
        r = self.sites[self.sites[PASSED]]
        upper = f"{UPPER_PREFIX}{SCORE}"
        if upper in r.columns:  # staged: past the exact top, by the score or the upper bound of its interval
            best = pd.to_numeric(r[SCORE]).fillna(pd.to_numeric(r[upper]))
            key = pd.DataFrame({"rank": r[RANK], "best": best, "id": r[s.PLOT_ID]}, index=r.index)
            order = key.sort_values(["rank", "best", "id"], ascending=[True, False, True], na_position="last").index
            return r.loc[order]
        return r.sort_values([RANK])

    @cached_property
    def excluded(self) -> gpd.GeoDataFrame:
        """Sites that fail at least one requirement, closest to passing (smallest total shortfall) first."""
        e = self.sites[~self.sites[PASSED]]
        return e.sort_values([SHORTFALL, N_MISSED, s.PLOT_ID])

    def requirement_keys(self) -> list[str]:
        """Requirement keys in evaluation order (then any the run did not record, in profile order)."""
        keys = [r.key for r in self.profile.requirements]
        order = [k for k in self.run.requirement_order if k in keys]
        return order + [k for k in keys if k not in order]

    def excluded_by(self, key: str) -> pd.Series:
        """Per site: the requirement ``key`` excludes it (failed, or unknown with ``if_unknown: fail``)."""
        column = self.sites.get(f"{CHECK_PREFIX}{key}")
        if column is None:
            return pd.Series(False, index=self.sites.index)
        return column.astype("string").isin(_EXCLUDES).fillna(False).astype(bool)

    @cached_property
    def binding_key(self) -> str | None:
        """The binding requirement's key: the one that excludes the most sites on its own (ties: the
        first in evaluation order); None when no requirement excludes any site."""
        best, most = None, 0
        for key in self.requirement_keys():
            count = int(self.excluded_by(key).sum())
            if count > most:
                best, most = key, count
        return best

    @cached_property
    def near_misses(self) -> gpd.GeoDataFrame:
        """Excluded sites whose total shortfall is within the tolerance: those that miss the binding
        requirement first, then by total shortfall (sites missing on unknown values after those
        with known values only within each group)."""
        near = self.sites[self.sites[NEAR_MISS].to_numpy(dtype=bool)]
        return near.loc[self._closest_order(near)]

    def _closest_order(self, frame: pd.DataFrame) -> pd.Index:
        unknown = pd.Series(False, index=frame.index)
        for req_key in self.requirement_keys():
            column = frame.get(f"{CHECK_PREFIX}{req_key}")
            if column is not None:
                unknown |= (column.astype("string") == OUTCOMES[UNKNOWN]).fillna(False).astype(bool)
        binding = self.binding_key
        other = ~self.excluded_by(binding).loc[frame.index] if binding else pd.Series(False, index=frame.index)
        key = pd.DataFrame(
            {
                "other": other.to_numpy(dtype=bool),
                "unknown": unknown.to_numpy(dtype=bool),
                "total": pd.to_numeric(frame[SHORTFALL]).to_numpy(dtype=float),
                "n": frame[N_MISSED].to_numpy(),
                "id": frame[s.PLOT_ID].to_numpy(),
            },
            index=frame.index,
        )
        return key.sort_values(["other", "unknown", "total", "n", "id"], kind="mergesort").index

    def closest(self, n: int = 5) -> gpd.GeoDataFrame:
        """The ``n`` excluded sites closest to passing, so an answer is never a dead end.

        The near misses first (in :attr:`near_misses` order), then — when there are fewer than
        ``n`` — the other excluded sites with a finite total shortfall, smallest first. Each row's
        ``shortfall`` is its distance to passing (the sum of relative shortfalls); its misses in
        words are :meth:`misses`.
        """
        near = self.near_misses.head(n)
        if len(near) >= n:
            return near
        rest = self.excluded[~self.excluded[NEAR_MISS].to_numpy(dtype=bool)]
        rest = rest[np.isfinite(pd.to_numeric(rest[SHORTFALL]).to_numpy(dtype=float))]
        return pd.concat([near, rest.head(n - len(near))])

    def _words(self, row: pd.Series | Mapping[str, Any], outcomes: tuple[str, ...], lang: str = "en") -> list[str]:
        out = []
        for req in self.profile.requirements:
            if row.get(f"{CHECK_PREFIX}{req.key}") in outcomes:
                words = row.get(f"{WHY_PREFIX}{req.key}")
                if isinstance(words, str) and words:
                    out.append(words if lang == "en" else self._words_in(req, row, words, lang))
        return out

    def _words_in(self, req: Any, row: pd.Series | Mapping[str, Any], english: str, lang: str) -> str:
        """A stored (English) miss worded again in ``lang`` from the site's value; the English where the
        value does not say it (a staged run's unmeasured value)."""
        from sitematch.scoring import miss_words  # level 4 like this module; imported when first needed

        value = row.get(req.criterion.name)
        if row.get(f"{CHECK_PREFIX}{req.key}") == "failed" and (value is None or pd.isna(value)):
            return english  # excluded on bounds, its value never measured: only the stored words say how
        said = miss_words(req, value, lang, cap=self.run.search_bounds_m.get(req.key))
        return said or english

    def misses(self, row: pd.Series | Mapping[str, Any], lang: str = "en") -> list[str]:
        """What one site (a row of :attr:`sites`) missed, one entry per failed requirement, in profile order.

        ``lang`` (``"en"``, ``"sv"``): the language of the words (the stored ones are English).
        """
        return self._words(row, ("failed", "unknown"), lang)

    def to_verify(self, row: pd.Series | Mapping[str, Any], lang: str = "en") -> list[str]:
        """What to ask about one site: requirements it passes only because a value is unknown."""
        return self._words(row, ("to verify",), lang)

    def breakdown(self, plot_id: str) -> list[CriterionBreakdown]:
        """The per-preference explanation of one site's score.

        Parameters
        ----------
        plot_id : str
            The site's ``plot_id``.

        Returns
        -------
        list of CriterionBreakdown
            One per preference, in profile order; points sum to the site's score.
        """
        return self.breakdown_row(self.sites.loc[self.sites[s.PLOT_ID] == plot_id].iloc[0])

    def _value_functions(self, lang: str) -> dict[str, str]:
        """Each preference's value function in words, in ``lang`` (worded once per result and language)."""
        cache = self.__dict__.setdefault("_value_function_words", {})
        if lang not in cache:
            cache[lang] = {p.column: p.describe(lang) for p in self.profile.preferences}
        return cache[lang]

    def breakdown_row(self, row: pd.Series | Mapping[str, Any], lang: str = "en") -> list[CriterionBreakdown]:
        """The per-preference explanation of one row of :attr:`sites` (see :meth:`breakdown`), in ``lang``."""
        total = self.profile.total_weight or 1.0
        out = []
        for p in self.profile.preferences:
            pts = row.get(points_column(p.column))
            out.append(
                CriterionBreakdown(
                    criterion=p.column,
                    label=label_of(p.criterion, lang),
                    value=format_value(p.criterion, row.get(p.column), lang),
                    weight=p.weight,
                    points=0.0 if pts is None or pd.isna(pts) else float(pts),
                    max_points=100.0 * p.weight / total,
                    value_function=self._value_functions(lang)[p.column],
                )
            )
        return out
