"""One full evaluation per profile over every site: what every planner question is computed from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.layers.layerset import LayerSet
from sitematch.matching import match
from sitematch.profile import Profile
from sitematch.result import PASSED, MatchResult
from sitematch.scoring import points


def evaluate_profiles(
    profiles: Iterable[Profile],
    layers: LayerSet,
    *,
    sites: gpd.GeoDataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[MatchResult]:
    """Match each profile once over all sites, fully (every requirement checked for every site).

    A profile with ``assembly:`` gets its assembled candidates added to the sites, as every match
    does (see :func:`sitematch.assembly.assembled_sites`); the single plots stay.

    Parameters
    ----------
    profiles : iterable of Profile
    layers : LayerSet
        The region (and, unless ``sites`` is given, its plots).
    sites : geopandas.GeoDataFrame, optional
        Candidate sites; default ``layers["plots"]``.
    progress : callable, optional
        Called with each profile's name as its evaluation starts.

    Returns
    -------
    list of MatchResult
        In the order of ``profiles``.
    """
    base = layers["plots"] if sites is None else sites
    out = []
    for profile in profiles:
        if progress:
            progress(profile.name)
        out.append(match(profile, layers, sites=base, staged=False))  # match adds a profile's assembled sites
    return out


def would_be_scores(result: MatchResult) -> np.ndarray:
    """Every site's score as if it met every requirement (the points of its measured values).

    Uses :func:`sitematch.scoring.points`, the one definition of a preference's points.
    """
    sites = result.sites
    total = result.profile.total_weight
    if not result.profile.preferences:
        return np.full(len(sites), 100.0)
    score = np.zeros(len(sites))
    for pref in result.profile.preferences:
        score += points(pref, sites[pref.column], total)
    return np.round(score, 6)


def would_be_ranks(result: MatchResult, scores: np.ndarray) -> np.ndarray:
    """Each site's rank among the passing sites if it passed too: 1 + passing sites scoring more.

    A passing site keeps its own rank (ties there are broken by plot id).
    """
    passed = result.sites[PASSED].to_numpy(dtype=bool)
    ranked = np.sort(scores[passed])[::-1]
    # passing sites with a strictly higher score: len - (index of first <= score) in descending order
    higher = np.searchsorted(-ranked, -scores, side="left")
    out = (higher + 1).astype(float)
    own = pd.to_numeric(result.sites["rank"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out[passed] = own[passed]
    return out


def site_ids(results: Sequence[MatchResult]) -> pd.Index:
    """Every site id that appears in any result, in first-seen order."""
    ids: dict[str, None] = {}
    for r in results:
        ids.update(dict.fromkeys(r.sites[s.PLOT_ID].astype(str)))
    return pd.Index(list(ids), name=s.PLOT_ID)
