"""One evaluation path: requirements (cheapest first), then preferences, then the explanations.

:func:`evaluate` measures, checks and scores a batch of sites. It runs in one of two modes of the
*same* code — the same checks, words, near-miss rule and points (:mod:`sitematch.scoring`):

- **full**: every criterion is measured exactly for every site, and every requirement is checked
  for every site (regional runs: every excluded site lists everything it missed);
- **staged** (large runs): a site stops being measured once it is *decisively* excluded — it
  fails a category or a flag, misses a number by more than the near-miss tolerance, or misses two
  requirements — and searches stop where the exact value can no longer change a result (a
  requirement's threshold plus the tolerance; a preference's ``zero_at``).

The result contract is the same: for every ranked site and every near miss, the same features,
points, score, ``near_miss``, per-requirement outcomes and words. What staged evaluation leaves
out is only about decisively excluded sites: requirements after the deciding one are not checked
(``check_<key>`` empty, ``n_missed`` a lower bound), and a distance beyond its search bound is
``inf`` and worded "more than X km".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch.criteria import Criterion, Registry
from sitematch.errors import LayerError, ProfileError
from sitematch.features import check_sites, empty_like
from sitematch.layers.layerset import LayerSet
from sitematch.measures import MeasureContext
from sitematch.profile import Profile, Requirement
from sitematch.result import (
    CHECK_PREFIX,
    MISSED,
    N_MISSED,
    NEAR_MISS,
    OUTCOMES,
    PASSED,
    RESULT_COLUMNS,
    RESULT_PREFIXES,
    SCORE,
    SHORTFALL,
    SHORTFALL_PREFIX,
    VERIFY,
    WHY_PREFIX,
    points_column,
)
from sitematch.scoring import append_words, check_requirement, near_miss, points

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """In which order requirements are checked, and where searches may stop.

    Attributes
    ----------
    staged : bool
        Early exit and bounded searches (see the module docstring).
    requirements : tuple of Requirement
        In evaluation order: by the criterion's cost tier, then as the profile lists them.
    bounds : mapping of str to float
        Search bound in metres by requirement key (``max_distance_to_rail_m``) and by preference
        criterion; only in staged plans, only for boundable criteria.
    """

    staged: bool
    requirements: tuple[Requirement, ...]
    bounds: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def for_profile(cls, profile: Profile, *, staged: bool) -> Plan:
        """The plan for a profile: cost order from the registry, bounds from thresholds and breakpoints.

        Examples
        --------
        >>> from sitematch.profile import parse_profile
        >>> p = parse_profile("name: x\\nrequirements: {max_distance_to_rail_m: 2000, min_area_ha: 5}")
        >>> plan = Plan.for_profile(p, staged=True)
        >>> [r.key for r in plan.requirements], plan.bounds
        (['min_area_ha', 'max_distance_to_rail_m'], {'max_distance_to_rail_m': 2501.0})
        """
        order = sorted(profile.requirements, key=lambda r: r.criterion.cost or 0)
        bounds: dict[str, float] = {}
        if staged:
            tol = profile.near_miss_tolerance
            for r in order:
                if r.criterion.boundable and r.op == "max":
                    bounds[r.key] = float(r.value) * (1 + tol) + 1.0
            for p in profile.preferences:
                if p.criterion.boundable and p.search_limit is not None:
                    bounds[p.column] = float(p.search_limit) + 1.0
        return cls(staged, tuple(order), bounds)


def check_criteria(profile: Profile, registry: Registry, sites: pd.DataFrame, origin: str) -> None:
    """Refuse a profile whose criteria the layers do not declare, or plots lacking an attribute it reads."""
    for c in profile.criteria:
        if c.name not in registry:
            raise ProfileError(
                f"{profile.path or profile.name}: uses the criterion '{c.name}', which the region {origin} "
                "does not declare; add it to the region's layers.yaml or use another region",
                where=str(profile.path or profile.name),
                key=c.name,
            )
        if not c.measured and c.measure.column not in sites.columns:  # type: ignore[attr-defined]
            raise LayerError(f"{origin}: the plots have no column '{c.measure.column}' for '{c.name}'")  # type: ignore[attr-defined]


def _fresh(sites: gpd.GeoDataFrame, registry: Registry) -> gpd.GeoDataFrame:
    """The sites without any column a previous evaluation wrote: every result is measured anew."""
    stale = set(RESULT_COLUMNS)
    for c in registry.measured():
        stale |= {c.name, *c.measure.extra_columns()}
    drop = [col for col in sites.columns if col in stale or str(col).startswith(RESULT_PREFIXES)]
    out = sites.drop(columns=drop)
    for c in registry:
        if not c.measured and c.measure.column != c.name:  # type: ignore[attr-defined]
            out[c.name] = out[c.measure.column]  # type: ignore[attr-defined]
    return out


class _Measurements:
    """Measures criteria row by row as evaluation needs them, remembering how far each search reached."""

    def __init__(self, sites: gpd.GeoDataFrame, out: gpd.GeoDataFrame, ctx: MeasureContext) -> None:
        self.sites = sites
        self.out = out
        self.ctx = ctx
        self.reach: dict[str, np.ndarray] = {}

    def ensure(self, c: Criterion, rows: np.ndarray, bound: float | None) -> None:
        """Make ``c`` known for ``rows``: exactly, or up to ``bound`` (beyond it: ``inf``)."""
        if not c.measured:
            return
        want = bound if (bound is not None and c.boundable) else np.inf
        reach = self.reach.setdefault(c.name, np.full(len(self.sites), -np.inf))
        todo = reach[rows] < want
        if todo.any() and c.name in self.out:  # a value found within a shorter search is exact already
            found = pd.to_numeric(self.out[c.name].iloc[rows], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            todo &= ~((reach[rows] > -np.inf) & np.isfinite(found))
        if todo.any() or c.name not in self.out:  # measuring no rows still gives the column its dtype
            which = rows[todo]
            measured = c.measure.compute(
                self.sites.iloc[which], self.ctx, max_distance_m=None if np.isinf(want) else want
            )
            for name, values in ((c.name, measured.values), *measured.extra.items()):
                if name not in self.out:
                    self.out[name] = empty_like(values, self.out.index)
                self.out.iloc[which, self.out.columns.get_loc(name)] = (
                    values.array if isinstance(values, pd.Series) else values
                )
        reach[rows] = np.maximum(reach[rows], want)


def _applies(out: pd.DataFrame, req: Requirement, rows: np.ndarray) -> np.ndarray | None:
    """Where a requirement applies: its criterion's ``applies_to`` flag (true where unknown), or everywhere."""
    flag = req.criterion.applies_to
    if not flag or flag not in out.columns:
        return None
    return out[flag].iloc[rows].astype("boolean").fillna(True).to_numpy(dtype=bool)


def evaluate(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    profile: Profile,
    plan: Plan | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """Measure, check and score a batch of sites (no ranking): the per-partition step.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites in EPSG:3006 with the plot columns. Columns a previous evaluation wrote (features,
        scores, checks) are ignored and measured anew.
    layers : LayerSet
        The layers; ``layers.registry`` says how each criterion is measured.
    profile : Profile
        The profile.
    plan : Plan, optional
        Order and bounds (default: a full evaluation, :meth:`Plan.for_profile` with ``staged=False``).
    progress : callable, optional
        Called with each step's name.

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` with features, per-requirement outcomes, points, score, ``passed``,
        ``n_missed``, ``shortfall``, ``near_miss`` and ``missed`` (see :mod:`sitematch.result`).

    Examples
    --------
    >>> from sitematch.profile import load_profile
    >>> layers = LayerSet.from_path("layers")
    >>> scored = evaluate(layers["plots"], layers, load_profile("scenarios/battery_plant.yaml"))
    >>> int(scored["passed"].sum())
    10
    """
    check_sites(sites)
    registry = layers.registry
    check_criteria(profile, registry, sites, layers.origin)
    plan = plan or Plan.for_profile(profile, staged=False)
    step = progress or (lambda _name: None)
    n = len(sites)
    base = _fresh(sites, registry)
    out = base.copy()
    m = _Measurements(base, out, MeasureContext(layers, profile.parameters))
    everyone = np.arange(n)
    if not plan.staged:
        for c in registry.measured():
            step(c.name)
            m.ensure(c, everyone, None)

    tol = profile.near_miss_tolerance
    alive = np.ones(n, dtype=bool)
    n_missed = np.zeros(n, dtype=np.int64)  # requirements failed, or unknown with if_unknown: fail
    n_unknown = np.zeros(n, dtype=np.int64)
    numeric_missed = np.zeros(n, dtype=np.int64)  # known misses of numeric requirements
    worst = np.zeros(n)  # over every miss (inf for unknowns)
    worst_known = np.zeros(n)
    outcome: dict[str, np.ndarray] = {}
    short: dict[str, np.ndarray] = {}
    said: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # rows with words, the words, and if a miss
    for req in plan.requirements:
        step(req.key)
        rows = np.flatnonzero(alive)
        outcome[req.key] = np.full(n, -1, dtype=np.int8)
        short[req.key] = np.full(n, np.nan)
        if not len(rows):
            continue
        bound = plan.bounds.get(req.key)
        m.ensure(req.criterion, rows, bound)
        check = check_requirement(req, out[req.column].iloc[rows], cap=bound, applies=_applies(out, req, rows))
        outcome[req.key][rows] = check.outcome
        short[req.key][rows] = check.shortfall
        wordy = check.words != ""
        said[req.key] = (rows[wordy], check.words[wordy], check.fails[wordy])
        known_miss = check.fails & ~check.unknown
        n_missed[rows] += check.fails
        n_unknown[rows] += check.unknown
        numeric_missed[rows] += known_miss & req.numeric
        worst[rows] = np.maximum(worst[rows], check.shortfall)
        worst_known[rows] = np.maximum(worst_known[rows], np.where(known_miss, check.shortfall, 0.0))
        if plan.staged:  # stop measuring sites that can no longer be ranked or a near miss
            r = rows
            hopeless = (n_missed[r] > 0) & ~near_miss(n_missed[r], n_unknown[r], numeric_missed[r], worst_known[r], tol)
            alive[r[hopeless]] = False

    passed = n_missed == 0
    near = ~passed & near_miss(n_missed, n_unknown, numeric_missed, worst_known, tol)
    scored = np.flatnonzero(passed | near)
    score = np.zeros(n)
    for pref in profile.preferences:
        step(pref.column)
        m.ensure(pref.criterion, scored, plan.bounds.get(pref.column))
        pts = np.full(n, np.nan)
        pts[scored] = points(pref, out[pref.column].iloc[scored], profile.total_weight)
        out[points_column(pref.column)] = pts
        score += np.nan_to_num(pts)
    if not profile.preferences:
        score = np.full(n, 100.0)  # only requirements: every passing site meets them all

    if plan.staged:  # exact values of everything people read about: ranked sites and near misses
        for c in registry.measured():
            m.ensure(c, scored, None)

    missed = np.full(n, "", dtype=object)
    verify = np.full(n, "", dtype=object)
    nothing = (np.empty(0, dtype=np.intp), np.empty(0, dtype=object), np.empty(0, dtype=bool))
    for req in profile.requirements:  # results read in the profile's order
        out[f"{CHECK_PREFIX}{req.key}"] = pd.Categorical.from_codes(outcome[req.key], categories=OUTCOMES)
        out[f"{SHORTFALL_PREFIX}{req.key}"] = short[req.key]
        why = np.full(n, "", dtype=object)
        rows, words, miss = said.get(req.key, nothing)
        why[rows] = words
        missed[rows[miss]] = append_words(missed[rows[miss]], words[miss])
        verify[rows[~miss]] = append_words(verify[rows[~miss]], words[~miss])
        out[f"{WHY_PREFIX}{req.key}"] = why
    out[PASSED] = passed
    out[N_MISSED] = n_missed
    out[SHORTFALL] = worst
    out[NEAR_MISS] = near
    out[MISSED] = pd.Series(missed, index=out.index, dtype="string")
    out[VERIFY] = pd.Series(verify, index=out.index, dtype="string")
    out[SCORE] = np.where(passed, np.round(score, 6), np.nan)
    log.info(
        "%s evaluation of %d sites: %d pass, %d near misses",
        "staged" if plan.staged else "full",
        n,
        passed.sum(),
        near.sum(),
    )
    return out
