"""One evaluation path: requirements (cheapest first), then preferences, then the explanations.

:func:`evaluate` measures, checks and scores a batch of sites. It runs in one of two modes of the
*same* code — the same checks, words, near-miss rule and points (:mod:`sitematch.scoring`):

- **full**: every criterion is measured exactly for every site, and every requirement is checked
  for every site (regional runs: every excluded site lists everything it missed);
- **staged** (large runs): a site stops being measured once it is *decisively* excluded — it
  fails a category or a flag, or its total shortfall (the sum over its misses, see
  :func:`sitematch.scoring.near_miss`) exceeds the near-miss tolerance —
  and searches stop where the exact value can no longer change a result (a
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

from sitematch import kernel, settings
from sitematch import schema as s
from sitematch.criteria import Criterion, Registry
from sitematch.errors import LayerError, ProfileError
from sitematch.features import check_sites
from sitematch.layers.layerset import LayerSet
from sitematch.measures import MeasureContext
from sitematch.profile import Preference, Profile, Requirement
from sitematch.result import (
    CHECK_PREFIX,
    EXACT,
    LOWER_PREFIX,
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
    UPPER_PREFIX,
    VERIFY,
    WHY_PREFIX,
    points_column,
)
from sitematch.scoring import append_words, check_requirement, near_miss, points
from sitematch.screen import Screen, SiteBoxes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """In which order requirements are checked, where searches may stop, and how much is exact.

    Attributes
    ----------
    staged : bool
        Early exit, screening and bounded searches (see the module docstring).
    requirements : tuple of Requirement
        In evaluation order: by the criterion's cost tier, then as the profile lists them.
    bounds : mapping of str to float
        Search bound in metres by requirement key (``max_distance_to_rail_m``) and by preference
        criterion; only in staged plans, only for boundable criteria.
    exact_top : int or None
        Staged plans: how many of the best ranked sites are exact in every value; further ranked
        sites are exact only as far as their rank needs (None: every ranked site is exact).
    """

    staged: bool
    requirements: tuple[Requirement, ...]
    bounds: Mapping[str, float] = field(default_factory=dict)
    exact_top: int | None = None

    @classmethod
    def for_profile(cls, profile: Profile, *, staged: bool, exact_top: int | None = None) -> Plan:
        """The plan for a profile: cost order from the registry, bounds from thresholds and breakpoints.

        ``exact_top`` defaults to :data:`sitematch.settings.exact_top` in staged plans.

        Examples
        --------
        >>> from sitematch.profile import parse_profile
        >>> p = parse_profile("name: x\\nrequirements: {max_distance_to_rail_m: 2000, min_area_ha: 5}")
        >>> plan = Plan.for_profile(p, staged=True, exact_top=500)
        >>> [r.key for r in plan.requirements], plan.bounds, plan.exact_top
        (['min_area_ha', 'max_distance_to_rail_m'], {'max_distance_to_rail_m': 2501.0}, 500)
        """
        order = sorted(profile.requirements, key=lambda r: r.criterion.cost or 0)
        bounds: dict[str, float] = {}
        top = None
        if staged:
            tol = profile.near_miss_tolerance
            for r in order:
                if r.criterion.boundable and r.op == "max":
                    bounds[r.key] = float(r.value) * (1 + tol) + 1.0
            for p in profile.preferences:
                if p.criterion.boundable and p.search_limit is not None:
                    bounds[p.column] = float(p.search_limit) + 1.0
            top = max(int(settings.exact_top if exact_top is None else exact_top), 1)
        return cls(staged, tuple(order), bounds, top)


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


#: Search limits for exact distances are rounded up to these steps (metres): a bounded search
#: costs least when its limit is just above the site's screened upper bound.
_SEARCH_STEPS = 500.0 * 2.0 ** np.arange(0, 13)


def _numbers(values: object) -> np.ndarray:
    """Values as a writable float array (NaN where not a number)."""
    return np.array(pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float, na_value=np.nan))


class _Measurements:
    """Measures criteria site by site as evaluation needs them, and knows what each site's value is.

    Per criterion and site, ``reach`` says how much is known: ``inf`` — the value is exact; a
    distance ``x`` — a search went that far and found nothing (the value is ``inf``, "more than
    x"); ``-inf`` — not measured. Screening (staged plans) adds bounds ``lo <= value <= hi`` from
    the measure's screen, which decide most questions without measuring. Measured values are
    kept in arrays and become columns once, in :meth:`finish`.
    """

    def __init__(self, sites: gpd.GeoDataFrame, ctx: MeasureContext, *, screening: bool) -> None:
        self.sites = sites
        self.geo = gpd.GeoDataFrame(geometry=sites.geometry.values, index=sites.index, crs=sites.crs)
        self.ctx = ctx
        self.screening = screening
        self.reach: dict[str, np.ndarray] = {}
        self.lo: dict[str, np.ndarray] = {}
        self.hi: dict[str, np.ndarray] = {}
        self.cols: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, np.dtype | pd.api.extensions.ExtensionDtype] = {}
        self._screens: dict[str, Screen | None] = {}
        self._boxes: SiteBoxes | None = None

    def _reach(self, c: Criterion) -> np.ndarray:
        if c.name not in self.reach:
            self.reach[c.name] = np.full(len(self.sites), -np.inf)
        return self.reach[c.name]

    def column(self, name: str, rows: np.ndarray) -> pd.Series:
        """A criterion's values for ``rows`` (measured, or the plot's own column)."""
        if name in self.cols:
            return pd.Series(self.cols[name][rows], index=self.sites.index[rows], dtype=self.dtypes[name])
        return self.sites[name].iloc[rows]

    def screen(self, c: Criterion) -> Screen | None:
        """The criterion's screen when screening (built once per layer set), else None."""
        if not (self.screening and c.measured):
            return None
        if c.name not in self._screens:
            self._screens[c.name] = c.measure.screen(self.ctx)
        return self._screens[c.name]

    def bounds(self, c: Criterion, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``lo <= value <= hi`` for ``rows`` (equal where exact; ``lo`` at least a search's reach); None unscreened."""
        scr = self.screen(c)
        if scr is None:
            return None
        n = len(self.sites)
        if c.name not in self.lo:
            self.lo[c.name], self.hi[c.name] = np.full(n, np.nan), np.full(n, np.nan)
        lo, hi = self.lo[c.name], self.hi[c.name]
        missing = rows[np.isnan(lo[rows])]
        if len(missing):
            if self._boxes is None:
                self._boxes = SiteBoxes.of(self.sites.geometry.to_numpy())
            if 4 * len(missing) > n:  # most sites: look up all at once, in the cell order every screen shares
                missing = np.flatnonzero(np.isnan(lo))
            b = scr.bounds(self._boxes if len(missing) == n else self._boxes.take(missing))
            lo[missing], hi[missing] = b.lo, b.hi
            settled = missing[b.exact & (self._reach(c)[missing] < np.inf)]
            if len(settled):  # the screen proves the value: exact without measuring
                self._write(c.name, settled, lo[settled])
                self._reach(c)[settled] = np.inf
        reach = self._reach(c)[rows]
        out_lo, out_hi = lo[rows].copy(), hi[rows].copy()
        known = reach == np.inf
        if known.any():
            v = _numbers(self.cols[c.name][rows[known]])
            out_lo[known], out_hi[known] = v, v
        beyond = np.isfinite(reach)
        out_lo[beyond] = np.maximum(out_lo[beyond], reach[beyond])
        return out_lo, out_hi

    def known(self, c: Criterion, rows: np.ndarray, bound: float | None) -> np.ndarray:
        """Where ``c``'s value for ``rows`` is exact, or known to lie beyond ``bound``."""
        if not c.measured:
            return np.ones(len(rows), dtype=bool)
        want = bound if (bound is not None and c.boundable) else np.inf
        return self._reach(c)[rows] >= want

    def ensure(self, c: Criterion, rows: np.ndarray, bound: float | None) -> None:
        """Make ``c`` known for ``rows``: exactly, or up to ``bound`` (beyond it: ``inf``)."""
        if not c.measured:
            return
        want = bound if (bound is not None and c.boundable) else np.inf
        todo = rows[self._reach(c)[rows] < want]
        if c.name not in self.cols:  # measuring no rows still gives the columns their dtypes
            self._compute(c, todo[:0], want)
        if not len(todo):
            return
        bd = self.bounds(c, todo) if c.boundable else None
        if bd is None:
            self._compute(c, todo, want)
            return
        lo, hi = bd
        beyond = lo > want  # the screen proves nothing is within the bound: as a search would find
        self._write(c.name, todo[beyond], np.full(int(beyond.sum()), np.inf))
        self._reach(c)[todo[beyond]] = want
        todo, hi = todo[~beyond], hi[~beyond]
        step = np.searchsorted(_SEARCH_STEPS, hi)  # each site's search stops just past its upper bound
        for k in np.unique(step):
            limit = min(want, float(_SEARCH_STEPS[k]) if k < len(_SEARCH_STEPS) else np.inf)
            self._compute(c, todo[step == k], limit)

    def _compute(self, c: Criterion, which: np.ndarray, want: float) -> None:
        measured = c.measure.compute(self.geo.iloc[which], self.ctx, max_distance_m=None if np.isinf(want) else want)
        for name, values in ((c.name, measured.values), *measured.extra.items()):
            self._write(name, which, values)
        reach = self._reach(c)
        if np.isinf(want):
            reach[which] = np.inf
        else:  # nothing within the search: "more than want"
            reach[which] = np.where(np.isposinf(_numbers(measured.values)), want, np.inf)

    def _write(self, name: str, which: np.ndarray, values: object) -> None:
        if name not in self.cols:
            dtype = pd.Series(values).dtype
            self.dtypes[name] = dtype
            numeric = dtype == np.float64
            self.cols[name] = np.full(len(self.sites), np.nan if numeric else None, dtype=float if numeric else object)
        if len(which):
            col = self.cols[name]
            if isinstance(values, pd.Series | pd.api.extensions.ExtensionArray):
                na_value = np.nan if col.dtype == float else None
                # pandas takes na_value=None (missing text as None); pandas-stubs allows only non-None scalars
                values = values.to_numpy(dtype=col.dtype, na_value=na_value)  # type: ignore[arg-type]
            col[which] = values

    def finish(self, out: pd.DataFrame) -> None:
        """Write every measured column into ``out``."""
        for name, values in self.cols.items():
            out[name] = _series(values, out.index, self.dtypes[name])


def _series(values: np.ndarray, index: pd.Index, dtype: np.dtype | pd.api.extensions.ExtensionDtype) -> pd.Series:
    """A column from an array; text straight through Arrow (a million names in milliseconds)."""
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and dtype.na_value is pd.NA:
        import pyarrow as pa

        valid = pd.notna(values)
        if 2 * int(valid.sum()) < len(values):  # mostly empty (names of what was measured): convert the few
            few = pa.array(values[valid], pa.large_string(), from_pandas=True)
            arr = few.take(pa.array(np.cumsum(valid) - 1, mask=~valid))
        else:
            arr = pa.array(values, pa.large_string(), from_pandas=True)
        return pd.Series(pd.arrays.ArrowStringArray(arr), index=index)
    return pd.Series(values, index=index, dtype=dtype)


def _applies(out: pd.DataFrame, req: Requirement, rows: np.ndarray) -> np.ndarray | None:
    """Where a requirement applies: its criterion's ``applies_to`` flag (true where unknown), or everywhere."""
    flag = req.criterion.applies_to
    if not flag or flag not in out.columns:
        return None
    return out[flag].iloc[rows].astype("boolean").fillna(True).to_numpy(dtype=bool)


def _requirement_values(m: _Measurements, req: Requirement, rows: np.ndarray, bound: float | None) -> pd.Series:
    """A requirement's criterion for ``rows``, measured only where the screen leaves the check open.

    Where the bounds prove a pass, the bound stands in for the value in the check (it passes,
    with no words); the value itself stays unmeasured.
    """
    c = req.criterion
    bd = m.bounds(c, rows) if req.numeric else None
    if bd is None:
        m.ensure(c, rows, bound)
        return m.column(req.column, rows)
    lo, hi = bd
    settled = (hi <= float(req.value)) if req.op == "max" else (lo >= float(req.value))
    m.ensure(c, rows[~settled], bound)
    values = _numbers(m.cols[req.column][rows])
    values[settled] = (hi if req.op == "max" else lo)[settled]
    return pd.Series(values, index=m.sites.index[rows])


def _point_bounds(
    m: _Measurements, pref: Preference, rows: np.ndarray, bound: float | None, total_weight: float
) -> tuple[np.ndarray, np.ndarray]:
    """The least and most points ``pref`` can give ``rows``: equal where the value (or the screen) decides."""
    c = pref.criterion
    bd = m.bounds(c, rows)
    known = m.known(c, rows, bound)
    if bd is None or known.all():
        m.ensure(c, rows, bound)
        pts = points(pref, m.column(pref.column, rows), total_weight)
        return pts, pts.copy()
    lo, hi = bd
    p_lo = points(pref, pd.Series(lo), total_weight)
    p_hi = points(pref, pd.Series(hi), total_weight)
    if known.any():
        exact = points(pref, m.column(pref.column, rows[known]), total_weight)
        p_lo[known], p_hi[known] = exact, exact
    return np.minimum(p_lo, p_hi), np.maximum(p_lo, p_hi)


def _cut_to_top(
    m: _Measurements, profile: Profile, plan: Plan, rows: np.ndarray, p_lo: np.ndarray, p_hi: np.ndarray
) -> None:
    """Measure preferences exactly only where a site could still be among the ``plan.exact_top`` best.

    ``p_lo``/``p_hi`` (preferences × ``rows``, the passing sites) hold each preference's point
    bounds and are tightened in place. The threshold is the ``exact_top``-th best lower bound of
    the score: a site whose upper bound stays below it cannot reach the top, and its score stays
    an interval. The preference that leaves the most open is refined first, for every site still
    open; the threshold rises and the open set shrinks as bounds tighten, so each preference is
    refined at most once, and every site left open at the end has an exact score.
    """
    top = int(plan.exact_top or len(rows))
    s_lo, s_hi = np.round(p_lo.sum(axis=0), 6), np.round(p_hi.sum(axis=0), 6)
    while True:
        threshold = np.partition(s_lo, len(rows) - top)[len(rows) - top]
        open_ = np.flatnonzero(s_hi >= threshold)
        widths = (p_hi[:, open_] - p_lo[:, open_]).sum(axis=1)
        j = int(np.argmax(widths))
        if widths[j] <= 0:
            return
        pref = profile.preferences[j]
        which = open_[p_hi[j, open_] > p_lo[j, open_]]
        m.ensure(pref.criterion, rows[which], plan.bounds.get(pref.column))
        p_lo[j, which] = p_hi[j, which] = points(pref, m.column(pref.column, rows[which]), profile.total_weight)
        s_lo[which] = np.round(p_lo[:, which].sum(axis=0), 6)
        s_hi[which] = np.round(p_hi[:, which].sum(axis=0), 6)
        log.debug("top %d: %s measured exactly for %d of %d open sites", top, pref.column, len(which), len(open_))


def _best(out: pd.DataFrame, rows: np.ndarray, score: np.ndarray, top: int) -> np.ndarray:
    """The ``top`` best of ``rows`` by score (ties by ``plot_id``), as the ranking orders them."""
    if len(rows) <= top:
        return rows
    cut = np.partition(score[rows], len(rows) - top)[len(rows) - top]
    near_top = rows[score[rows] >= cut]
    frame = pd.DataFrame({"score": score[near_top], "id": out[s.PLOT_ID].iloc[near_top].to_numpy()})
    order = frame.sort_values(["score", "id"], ascending=[False, True], kind="mergesort").index[:top]
    return np.sort(near_top[order])


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
        The layers; ``layers.region.registry`` says how each criterion is measured.
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
        ``n_missed``, ``shortfall``, ``near_miss``, ``missed`` and ``exact`` (see
        :mod:`sitematch.result`); in staged plans also the bounds of what was not measured.

    Examples
    --------
    >>> from sitematch.profile import load_profile
    >>> layers = LayerSet.from_path("layers")
    >>> scored = evaluate(layers["plots"], layers, load_profile("scenarios/battery_plant.yaml"))
    >>> int(scored["passed"].sum()), bool(scored["exact"].all())
    (10, True)
    """
    check_sites(sites)
    registry = layers.region.registry
    check_criteria(profile, registry, sites, layers.origin)
    plan = plan or Plan.for_profile(profile, staged=False)
    step = progress or (lambda _name: None)
    base = _fresh(sites, registry)
    out = base.copy(deep=False)  # copy-on-write: the columns added below leave ``base`` as it is
    m = _Measurements(base, MeasureContext(layers, registry.resolve(profile.parameters)), screening=plan.staged)
    if not plan.staged:
        for c in registry.measured():
            step(c.name)
            m.ensure(c, np.arange(len(sites)), None)
    checked = _check_requirements(m, out, profile, plan, step)
    scores = _score_preferences(m, out, profile, plan, checked, step)
    if plan.staged:  # exact values of everything people read about: the best ranked sites and near misses
        _measure_shown(m, out, registry, plan, checked, scores)
    _write_outcomes(out, profile, checked, scores)
    m.finish(out)
    _label_bounds(m, out, registry, checked.passed & ~scores.exact, scores.lo, scores.hi)
    kernel.forget()  # the sites' edges (sitematch.kernel) served this evaluation only
    log.info(
        "%s evaluation of %d sites: %d pass, %d near misses",
        "staged" if plan.staged else "full",
        len(sites),
        checked.passed.sum(),
        checked.near.sum(),
    )
    return out


@dataclass
class _Checked:
    """What checking the requirements found, per site (the first stage of an evaluation)."""

    #: Per requirement key: the outcome code per site (-1: not checked), and the relative shortfall.
    outcome: dict[str, np.ndarray]
    short: dict[str, np.ndarray]
    #: Per requirement key: the rows with words, the words, and whether each is a miss.
    said: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    #: Requirements failed (or unknown with ``if_unknown: fail``), and the sum of known shortfalls.
    n_missed: np.ndarray
    total: np.ndarray
    passed: np.ndarray
    near: np.ndarray


def _check_requirements(
    m: _Measurements, out: pd.DataFrame, profile: Profile, plan: Plan, step: Callable[[str], None]
) -> _Checked:
    """Check every requirement in the plan's order; in a staged plan, stop at sites that cannot pass or nearly pass."""
    n = len(out)
    tol = profile.near_miss_tolerance
    alive = np.ones(n, dtype=bool)
    n_missed = np.zeros(n, dtype=np.int64)  # requirements failed, or unknown with if_unknown: fail
    total = np.zeros(n)  # the sum of relative shortfalls over known misses (unknowns add nothing)
    outcome: dict[str, np.ndarray] = {}
    short: dict[str, np.ndarray] = {}
    said: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for req in plan.requirements:
        step(req.key)
        rows = np.flatnonzero(alive)
        outcome[req.key] = np.full(n, -1, dtype=np.int8)
        short[req.key] = np.full(n, np.nan)
        if not len(rows):
            continue
        bound = plan.bounds.get(req.key)
        values = _requirement_values(m, req, rows, bound)
        check = check_requirement(req, values, cap=bound, applies=_applies(out, req, rows))
        outcome[req.key][rows] = check.outcome
        short[req.key][rows] = check.shortfall
        wordy = check.words != ""
        said[req.key] = (rows[wordy], check.words[wordy], check.fails[wordy])
        known_miss = check.fails & ~check.unknown
        n_missed[rows] += check.fails
        total[rows] += np.where(known_miss, check.shortfall, 0.0)
        if plan.staged:  # stop measuring sites that can no longer be ranked or a near miss
            hopeless = (n_missed[rows] > 0) & ~near_miss(n_missed[rows], total[rows], tol)
            alive[rows[hopeless]] = False
    passed = n_missed == 0
    near = ~passed & near_miss(n_missed, total, tol)
    return _Checked(outcome, short, said, n_missed, total, passed, near)


@dataclass
class _Scores:
    """Points per preference and site as an interval (equal ends: exact), and the score (the second stage)."""

    lo: np.ndarray
    hi: np.ndarray
    score: np.ndarray
    #: Whether each site's score is exact.
    exact: np.ndarray
    #: The sites that pass.
    winners: np.ndarray


def _score_preferences(
    m: _Measurements, out: pd.DataFrame, profile: Profile, plan: Plan, checked: _Checked, step: Callable[[str], None]
) -> _Scores:
    """Points for the sites that pass or nearly pass; in a staged plan, exact for the best only, bounds for the rest."""
    n = len(out)
    scored = np.flatnonzero(checked.passed | checked.near)
    winners = np.flatnonzero(checked.passed)
    cut = plan.staged and plan.exact_top is not None and len(winners) > plan.exact_top and profile.preferences
    exact_now = np.flatnonzero(checked.near) if cut else scored  # near misses always earn exact points
    p_lo = np.full((len(profile.preferences), n), np.nan)
    p_hi = np.full((len(profile.preferences), n), np.nan)
    for j, pref in enumerate(profile.preferences):
        step(pref.column)
        bound = plan.bounds.get(pref.column)
        m.ensure(pref.criterion, exact_now, bound)
        p_lo[j, exact_now] = p_hi[j, exact_now] = points(pref, m.column(pref.column, exact_now), profile.total_weight)
        if cut:
            p_lo[j, winners], p_hi[j, winners] = _point_bounds(m, pref, winners, bound, profile.total_weight)
    if cut:
        lo_w, hi_w = p_lo[:, winners], p_hi[:, winners]
        _cut_to_top(m, profile, plan, winners, lo_w, hi_w)
        p_lo[:, winners], p_hi[:, winners] = lo_w, hi_w
    settled = p_lo == p_hi
    score = np.zeros(n)
    for j, pref in enumerate(profile.preferences):
        pts = np.where(settled[j], p_lo[j], np.nan)
        out[points_column(pref.column)] = pts
        score += np.nan_to_num(pts)
    if not profile.preferences:
        score = np.full(n, 100.0)  # only requirements: every passing site meets them all
    return _Scores(p_lo, p_hi, score, settled.all(axis=0), winners)


def _measure_shown(
    m: _Measurements, out: pd.DataFrame, registry: Registry, plan: Plan, checked: _Checked, scores: _Scores
) -> None:
    """Measure every criterion exactly where people read about it: the best ranked sites and the near misses."""
    best = _best(out, scores.winners[scores.exact[scores.winners]], scores.score, plan.exact_top or len(out))
    shown = np.union1d(best, np.flatnonzero(checked.near))
    for c in registry.measured():
        m.ensure(c, shown, None)


def _write_outcomes(out: pd.DataFrame, profile: Profile, checked: _Checked, scores: _Scores) -> None:
    """The result's columns: each requirement's outcome, shortfall and words; passed, near misses, score."""
    n = len(out)
    missed = np.full(n, "", dtype=object)
    verify = np.full(n, "", dtype=object)
    said_missed = np.zeros(n, dtype=bool)
    said_verify = np.zeros(n, dtype=bool)
    nothing = (np.empty(0, dtype=np.intp), np.empty(0, dtype=object), np.empty(0, dtype=bool))
    for req in profile.requirements:  # results read in the profile's order
        out[f"{CHECK_PREFIX}{req.key}"] = pd.Categorical.from_codes(
            checked.outcome[req.key], categories=pd.Index(OUTCOMES)
        )
        out[f"{SHORTFALL_PREFIX}{req.key}"] = checked.short[req.key]
        why = np.full(n, "", dtype=object)
        rows, words, miss = checked.said.get(req.key, nothing)
        why[rows] = words
        _add_words(missed, said_missed, rows[miss], words[miss])
        _add_words(verify, said_verify, rows[~miss], words[~miss])
        out[f"{WHY_PREFIX}{req.key}"] = pd.Series(why, index=out.index, dtype=object)
    passed = checked.passed
    out[PASSED] = passed
    out[N_MISSED] = checked.n_missed
    out[SHORTFALL] = np.where(passed, 0.0, checked.total)
    out[NEAR_MISS] = checked.near
    out[MISSED] = _series(missed, out.index, pd.StringDtype())
    out[VERIFY] = _series(verify, out.index, pd.StringDtype())
    out[SCORE] = np.where(passed & scores.exact, np.round(scores.score, 6), np.nan)


def _add_words(text: np.ndarray, said: np.ndarray, rows: np.ndarray, words: np.ndarray) -> None:
    """Append (non-empty) ``words`` to ``text`` at ``rows``, joined with "; " where there is some already."""
    first = ~said[rows]
    text[rows[first]] = words[first]
    more = rows[~first]
    if len(more):
        text[more] = append_words(text[more], words[~first])
    said[rows] = True


def _label_bounds(
    m: _Measurements, out: pd.DataFrame, registry: Registry, open_: np.ndarray, p_lo: np.ndarray, p_hi: np.ndarray
) -> None:
    """Label what is not exact: ``exact`` per row, score intervals, and the bounds of values never measured."""
    exact = ~open_
    for c in registry.measured():
        reach = m.reach[c.name]
        exact &= reach == np.inf
        if c.name in m.lo:
            unmeasured = (reach == -np.inf) & ~np.isnan(m.lo[c.name])
            if unmeasured.any():
                out[LOWER_PREFIX + c.name] = np.where(unmeasured, m.lo[c.name], np.nan)
                out[UPPER_PREFIX + c.name] = np.where(unmeasured, m.hi[c.name], np.nan)
    out[EXACT] = exact
    if open_.any():
        out[LOWER_PREFIX + SCORE] = np.where(open_, np.round(np.sum(p_lo, axis=0), 6), np.nan)
        out[UPPER_PREFIX + SCORE] = np.where(open_, np.round(np.sum(p_hi, axis=0), 6), np.nan)
