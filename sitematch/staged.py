"""Staged evaluation for large site sets: hard requirements first, cheapest first, early exit.

At national scale most sites fail a cheap attribute requirement (area, zoning, plan status), so
measuring their distance to every railway is wasted work. Staged evaluation checks requirements
from cheapest to dearest and stops measuring a site as soon as it is *decisively* excluded — it
fails a category, fails a number by more than the near-miss tolerance, or fails two requirements.
Distance searches are bounded by what can still change a result (a requirement's threshold plus
the tolerance; a preference's farthest breakpoint).

What stays exact: every ranked site gets the same features, points, score and rank as the full
evaluation, and every near miss is found. What is shorter: a decisively excluded site lists only
the requirements checked before it was excluded (``n_missed`` is a lower bound), and a distance
beyond its search bound reads "more than X".
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from sitematch.features import FEATURE_COLUMNS, compute_features
from sitematch.layers.layerset import LayerSet
from sitematch.profile import Constraint, Profile
from sitematch.result import MISSED, N_MISSED, NEAR_MISS, PASSED, SCORE, SHORTFALL, points_column
from sitematch.scoring import append_words, check_constraint, value_score

#: Features from cheapest to dearest to measure (point layers before line layers and radius sums).
COST_ORDER: tuple[str, ...] = (
    "distance_to_airport_m",
    "distance_to_port_m",
    "distance_to_motorway_junction_m",
    "distance_to_substation_m",
    "grid_capacity_mw",
    "distance_to_freight_terminal_m",
    "distance_to_motorway_m",
    "distance_to_rail_m",
    "labour_pool_population",
)


def _order(constraints: tuple[Constraint, ...]) -> list[Constraint]:
    def cost(c: Constraint) -> int:
        return COST_ORDER.index(c.criterion) + 1 if c.criterion in COST_ORDER else 0

    return sorted(constraints, key=cost)


def _bound(c: Constraint, tolerance: float) -> float | None:
    """How far a distance search must look for this requirement; None for unbounded."""
    if c.criterion.startswith("distance_to_") and c.op == "max":
        return float(c.value) * (1 + tolerance) + 1.0
    return None


def evaluate_staged(
    sites: gpd.GeoDataFrame,
    layers: LayerSet,
    profile: Profile,
    *,
    progress: Callable[[str], None] | None = None,
) -> gpd.GeoDataFrame:
    """Features and scores with early exit: the same contract as :func:`sitematch.match.score_sites`.

    Parameters
    ----------
    sites : geopandas.GeoDataFrame
        Candidate sites, EPSG:3006.
    layers : LayerSet
        The infrastructure layers.
    profile : Profile
        The profile.
    progress : callable, optional
        Called with each step's name.

    Returns
    -------
    geopandas.GeoDataFrame
        ``sites`` with feature columns (NaN where a site was not measured), points, score,
        ``passed``, ``n_missed``, ``shortfall``, ``near_miss`` and ``missed``.
    """
    step = progress or (lambda _name: None)
    n = len(sites)
    out = sites.copy()
    for col in FEATURE_COLUMNS:
        out[col] = np.nan
    tol = profile.near_miss_tolerance
    alive = np.ones(n, dtype=bool)
    n_missed = np.zeros(n, dtype=np.int64)
    numeric_fail = np.zeros(n, dtype=np.int64)
    worst = np.zeros(n)
    texts = np.full(n, "", dtype=object)
    measured: dict[str, np.ndarray] = {}

    def measure(col: str, rows: np.ndarray, bound: float | None) -> None:
        todo = rows if col not in measured else rows[~measured[col][rows]]
        if len(todo):
            feats = compute_features(
                sites.iloc[todo],
                layers,
                profile.parameters,
                columns=[col],
                max_distance_m={col: bound} if bound else None,
            )
            for c in feats.columns.difference(sites.columns):
                if c not in out.columns:
                    out[c] = pd.Series(pd.NA, index=out.index, dtype=feats[c].dtype)
                out.iloc[todo, out.columns.get_loc(c)] = feats[c].to_numpy()
        seen = measured.setdefault(col, np.zeros(n, dtype=bool))
        seen[rows] = True

    for c in _order(profile.requirements):
        step(c.criterion)
        rows = np.flatnonzero(alive)
        if not len(rows):
            break
        bound = _bound(c, tol)
        if c.criterion in FEATURE_COLUMNS:
            measure(c.criterion, rows, bound)
        fails, short, text = check_constraint(c, out[c.criterion].iloc[rows], cap=bound)
        n_missed[rows] += fails
        if c.op in ("min", "max"):
            numeric_fail[rows] += fails
        worst[rows] = np.maximum(worst[rows], short)
        texts[rows] = append_words(texts[rows], text)
        decisive = fails & ((c.op in ("in", "eq")) | (short > tol) | (n_missed[rows] >= 2))
        alive[rows[decisive]] = False

    passed = n_missed == 0
    out[PASSED] = passed
    out[N_MISSED] = n_missed
    out[SHORTFALL] = worst
    out[NEAR_MISS] = (n_missed == 1) & (numeric_fail == 1) & (worst <= tol)
    out[MISSED] = pd.Series(texts, index=out.index, dtype="string")

    keep = np.flatnonzero(passed)
    total = profile.total_weight
    score = np.zeros(n)
    for p in profile.preferences:
        step(p.criterion)
        if p.criterion in FEATURE_COLUMNS:
            measure(p.criterion, keep, None)
        pts = np.zeros(n)
        if total and len(keep):
            pts[keep] = 100.0 * p.weight / total * value_score(p, out[p.criterion].iloc[keep])
        out[points_column(p.criterion)] = pts
        score += pts
    if not profile.preferences:
        score = np.full(n, 100.0)
    out[SCORE] = np.where(passed, np.round(score, 6), np.nan)

    # the rest of the features, for the sites people will read about: ranked and near misses
    shown = np.flatnonzero(passed | out[NEAR_MISS].to_numpy())
    for col in FEATURE_COLUMNS:
        measure(col, shown, None)
    return out
