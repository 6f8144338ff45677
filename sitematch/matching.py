"""The one library call that answers a lead: profile + layers → ranked, explained sites.

The CLI, the web service and a Dask worker all call these same functions:
:func:`region_mask` → :func:`score_sites` (:func:`sitematch.evaluate.evaluate`) →
:func:`ranked_result` (:func:`sitematch.scoring.rank`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch import settings
from sitematch.assembly import with_assembled
from sitematch.crs import WORKING_CRS
from sitematch.errors import LayerError
from sitematch.evaluate import Plan, evaluate
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Profile
from sitematch.result import IN_REGION, PASSED, RANK, SCORE, UPPER_PREFIX, MatchResult, RunInfo
from sitematch.scoring import rank

log = logging.getLogger(__name__)

#: The upper bound of a score that was not needed exactly.
UPPER_SCORE = f"{UPPER_PREFIX}{SCORE}"


def sitematch_version() -> str:
    """The installed sitematch version ("unknown" when run from a source tree that is not installed)."""
    try:
        return version("sitematch")
    except PackageNotFoundError:
        return "unknown"


def region_mask(sites: pd.DataFrame, layers: LayerSet, profile: Profile) -> np.ndarray:
    """Which sites lie in a municipality the profile's region selects.

    Member municipalities (the ``member`` column of the municipalities layer) by default; plus
    ``include_municipalities``; minus ``exclude_municipalities``; within ``counties`` if given
    (a kommunkod's first two digits are its länskod).
    """
    region = profile.region
    codes = sites[s.MUNICIPALITY_CODE].astype("string")
    mask = np.ones(len(sites), dtype=bool)
    munis = layers.get("municipalities")
    if region.members_only and munis is not None:
        members = set(munis.loc[munis[s.MEMBER].fillna(False).astype(bool), s.MUNICIPALITY_CODE].astype(str))
        mask &= codes.isin(members).fillna(False).to_numpy(dtype=bool)
    if region.counties:
        mask &= codes.str[:2].isin(region.counties).fillna(False).to_numpy(dtype=bool)
    if region.include_municipalities:
        mask |= codes.isin(region.include_municipalities).fillna(False).to_numpy(dtype=bool)
    if region.exclude_municipalities:
        mask &= ~codes.isin(region.exclude_municipalities).fillna(False).to_numpy(dtype=bool)
    return mask


def plan_for(profile: Profile, n_sites: int, staged: bool | None = None) -> Plan:
    """The evaluation plan: staged above :data:`sitematch.settings.staged_above` sites unless told."""
    use_staged = n_sites > settings.staged_above if staged is None else staged
    return Plan.for_profile(profile, staged=use_staged)


def score_sites(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    profile: Profile,
    *,
    staged: bool | None = None,
    plan: Plan | None = None,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """:func:`sitematch.evaluate.evaluate` with the plan chosen by size: the per-partition step.

    ``staged`` forces staged (True) or full (False) evaluation; by default it is staged above
    :data:`sitematch.settings.staged_above` sites. A ready ``plan`` (e.g. the one a Dask driver
    made for every partition) overrides both. Ranked sites and near misses come out the same
    either way.
    """
    return evaluate(sites, layers, profile, plan or plan_for(profile, len(sites), staged), progress=progress)


def match(
    profile: Profile,
    layers: LayerSet,
    *,
    sites: gpd.GeoDataFrame | None = None,
    staged: bool | None = None,
    progress: Callable[[str], None] | None = None,
    exact: str = "top",
) -> MatchResult:
    """Score and rank every candidate site in the profile's region.

    Parameters
    ----------
    profile : Profile
        The lead's requirement profile (see :func:`sitematch.profile.load_profile`).
    layers : LayerSet
        The layers and, unless ``sites`` is given, the plots.
    sites : geopandas.GeoDataFrame, optional
        Candidate sites in EPSG:3006 with the plot columns; default ``layers["plots"]``.
    staged : bool, optional
        Force staged (True) or full (False) evaluation; default by the number of sites.
    progress : callable, optional
        Called with the name of each step as it starts.
    exact : {"top", "all"}
        ``"top"`` (default): large runs are staged — the best ranked sites and the near misses
        are exact in every value, further sites may carry proven bounds (``exact = False``).
        ``"all"``: every site gets every value, score and rank exactly (a full evaluation,
        through the NumPy kernel of :mod:`sitematch.kernel`); ``staged`` must then not be True.

    Returns
    -------
    MatchResult
        All sites in the region with features, points, score, rank and reasons.

    Raises
    ------
    LayerError
        If there are no plots to match.

    Examples
    --------
    >>> from sitematch import LayerSet, load_profile, match
    >>> result = match(load_profile("scenarios/battery_plant.yaml"), LayerSet.from_path("layers"))
    >>> result.ranked["plot_id"].head(2).tolist()
    ['2180:P03', '0480:P05']
    """
    if sites is None:
        if "plots" not in layers:
            raise LayerError(f"{layers.origin}: has no plots to match; upload plots or give a plots layer")
        sites = layers["plots"]
    staged = staged_for(exact, staged)
    step = progress or (lambda _name: None)
    step("region")
    mask = region_mask(sites, layers, profile)
    in_region = with_assembled(sites[mask].reset_index(drop=True), profile)  # plots joined to reach the area
    plan = plan_for(profile, len(in_region), staged)
    scored = evaluate(in_region, layers, profile, plan, progress=step)
    step("rank")
    return ranked_result(profile, scored, layers, plan=plan, sites_total=len(sites), outside_region=int((~mask).sum()))


#: The values of ``exact`` (:func:`match`, ``sitematch match --exact``).
EXACT_MODES = ("top", "all")


def staged_for(exact: str, staged: bool | None = None) -> bool | None:
    """The ``staged`` choice an ``exact`` mode makes: ``"all"`` is a full evaluation.

    Examples
    --------
    >>> staged_for("all"), staged_for("top"), staged_for("top", True)
    (False, None, True)
    """
    if exact not in EXACT_MODES:
        raise ValueError(f"exact must be one of {', '.join(EXACT_MODES)}, not {exact!r}")
    if exact == "all":
        if staged:
            raise ValueError("exact='all' evaluates every site in full; it cannot be staged")
        return False
    return staged


def rankable(scored: pd.DataFrame) -> np.ndarray:
    """Passing sites whose rank is proven: an exact score above every passing site's score interval.

    In a staged run the best :data:`sitematch.settings.exact_top` passing sites always are; a
    passing site whose score is only bounded (``upper_score``) has no rank, nor has any site that
    such a site could outrank.

    Examples
    --------
    >>> frame = pd.DataFrame({"passed": [True, True, True, False], "score": [80.0, 40.0, None, None],
    ...                       "upper_score": [None, None, 50.0, None]})
    >>> rankable(frame).tolist()
    [True, False, False, False]
    """
    passed = scored[PASSED].to_numpy(dtype=bool)
    score = pd.to_numeric(scored[SCORE]).to_numpy(dtype=float, na_value=np.nan)
    ok = passed & ~np.isnan(score)
    if UPPER_SCORE in scored.columns:
        upper = pd.to_numeric(scored[UPPER_SCORE]).to_numpy(dtype=float, na_value=np.nan)
        open_ = passed & np.isnan(score) & ~np.isnan(upper)
        if open_.any():
            ok &= score > upper[open_].max()
    return ok


def ranked_result(
    profile: Profile,
    scored: pd.DataFrame,
    layers: LayerSet,
    *,
    plan: Plan,
    sites_total: int,
    outside_region: int,
    dask_workers: int | None = None,
    dask_partitions: int | None = None,
) -> MatchResult:
    """Rank scored sites (from one process or many partitions) and wrap them as a MatchResult.

    Only proven ranks are given (see :func:`rankable`); further passing sites keep ``<NA>``.
    """
    rows = np.flatnonzero(rankable(scored))  # rank only these: a million plot ids are not read
    proven = pd.DataFrame(
        {PASSED: True, SCORE: scored[SCORE].to_numpy()[rows], s.PLOT_ID: scored[s.PLOT_ID].iloc[rows].to_numpy()},
        index=scored.index[rows],
    )
    ranks = pd.Series(pd.NA, index=scored.index, dtype="Int64")
    ranks.iloc[rows] = rank(proven).to_numpy()
    scored[RANK] = ranks
    scored[IN_REGION] = True
    run = RunInfo(
        sitematch_version=sitematch_version(),
        run_at=RunInfo.now(),
        layers_origin=layers.origin,
        layers_fingerprint=layers.fingerprint(),
        profile_digest=profile.digest(),
        staged=plan.staged,
        sites_total=sites_total,
        search_bounds_m=plan.bounds,
        requirement_order=tuple(r.key for r in plan.requirements),
        municipality_names=layers.municipality_names,
        dask_workers=dask_workers,
        dask_partitions=dask_partitions,
        exact_top=plan.exact_top,
    )
    # the profile's digest, never its name: a lead's name, company or contact is in no log line
    log.info("profile %s: %d of %d sites ranked", profile.digest(), int(scored["passed"].sum()), len(scored))
    return MatchResult(
        profile=profile,
        sites=gpd.GeoDataFrame(scored, geometry=s.GEOMETRY, crs=WORKING_CRS),
        provenance=layers.provenance(),
        run=run,
        outside_region=outside_region,
        registry=layers.registry,
    )
