"""The one library call that answers a lead: profile + layers → ranked, explained sites.

The CLI, the web service and a Dask worker all call these same functions:
:func:`select_region` → :func:`sitematch.features.compute_features` →
:func:`sitematch.scoring.evaluate` → :func:`sitematch.scoring.rank`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.crs import WORKING_CRS
from sitematch.errors import LayerError
from sitematch.features import FEATURE_COLUMNS, compute_features
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Profile
from sitematch.result import IN_REGION, RANK, MatchResult
from sitematch.scoring import evaluate, rank
from sitematch.staged import evaluate_staged

#: Above this many sites, :func:`score_sites` evaluates in stages with early exit.
STAGED_ABOVE = 5_000


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


def needed_features(profile: Profile) -> list[str]:
    """Feature columns a profile's requirements and preferences refer to."""
    used = {c.criterion for c in profile.requirements} | {p.criterion for p in profile.preferences}
    return [c for c in FEATURE_COLUMNS if c in used]


def score_sites(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    profile: Profile,
    *,
    columns: Iterable[str] | None = None,
    staged: bool | None = None,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """Features and scores for a batch of sites (no ranking): the per-partition step.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Sites in EPSG:3006 with the plot columns.
    layers : LayerSet
        The infrastructure layers.
    profile : Profile
        The profile.
    columns : iterable of str, optional
        Feature columns to compute; default all (for explanations), at least those the profile uses.
    staged : bool, optional
        Use :func:`sitematch.staged.evaluate_staged` (early exit). Default: above
        :data:`STAGED_ABOVE` sites. Ranked sites and near misses come out the same either way.
    progress : callable, optional
        Called with each step's name.

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` with features, points, score, passed and the reasons for failing.
    """
    if staged or (staged is None and len(sites) > STAGED_ABOVE):
        return evaluate_staged(sites, layers, profile, progress=progress)
    cols = list(FEATURE_COLUMNS) if columns is None else sorted(set(columns) | set(needed_features(profile)))
    feats = compute_features(sites, layers, profile.parameters, columns=cols, progress=progress)
    scored = evaluate(feats, profile)
    return pd.concat([feats, scored], axis=1)


def match(
    profile: Profile,
    layers: LayerSet,
    *,
    sites: gpd.GeoDataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> MatchResult:
    """Score and rank every candidate site in the profile's region.

    Parameters
    ----------
    profile : Profile
        The lead's requirement profile (see :func:`sitematch.profile.load_profile`).
    layers : LayerSet
        Infrastructure layers and, unless ``sites`` is given, the plots.
    sites : geopandas.GeoDataFrame, optional
        Candidate sites in EPSG:3006 with the plot columns; default ``layers["plots"]``.
    progress : callable, optional
        Called with the name of each step as it starts.

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
    >>> result = match(load_profile("scenarios/battery_plant.yaml"), LayerSet.from_path("layers"))  # doctest: +SKIP
    >>> result.ranked[["plot_id", "score"]].head(3)  # doctest: +SKIP
    """
    if sites is None:
        if "plots" not in layers:
            raise LayerError(f"{layers.origin}: has no plots to match; upload plots or give a plots layer")
        sites = layers["plots"]
    step = progress or (lambda _name: None)
    step("region")
    mask = region_mask(sites, layers, profile)
    in_region = sites[mask].reset_index(drop=True)
    scored = score_sites(in_region, layers, profile, progress=step)
    step("rank")
    return ranked_result(profile, scored, layers, outside_region=int((~mask).sum()), meta={"sites": len(sites)})


def ranked_result(
    profile: Profile, scored: pd.DataFrame, layers: LayerSet, *, outside_region: int, meta: dict[str, object]
) -> MatchResult:
    """Rank scored sites (from one process or many partitions) and wrap them as a MatchResult."""
    scored[RANK] = rank(scored)
    scored[IN_REGION] = True
    return MatchResult(
        profile=profile,
        sites=gpd.GeoDataFrame(scored, geometry=s.GEOMETRY, crs=WORKING_CRS),
        provenance=layers.provenance(),
        outside_region=outside_region,
        meta={"layers": layers.origin, **meta},
    )
