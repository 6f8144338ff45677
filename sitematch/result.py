"""The result of matching a profile: every site, its score, its rank, and why.

:class:`MatchResult` is plain data: a GeoDataFrame of all sites considered (in EPSG:3006) plus the
profile and the provenance of the layers used. Exporters (map, tables, dossier) read only this.

Columns of ``MatchResult.sites`` besides the plot's own columns and the feature columns:

``score``
    0–100, the weighted sum of preference scores (NaN for excluded sites).
``rank``
    1 = best among sites that meet every requirement (``<NA>`` for excluded sites).
``passed``
    True when the site meets every hard requirement.
``n_missed``
    How many requirements the site fails.
``shortfall``
    The worst relative shortfall over the failed requirements (0.15 = 15 % short).
``near_miss``
    Fails exactly one numeric requirement by at most the profile's ``near_miss_tolerance``.
``missed``
    The failed requirements in words: "Area 17 ha, needs at least 20 ha (3 ha short)".
``points_<criterion>``
    Points the site earns on each preference (they sum to ``score``).
``in_region``
    The site lies in a municipality the profile's region selects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import pandas as pd

from sitematch import schema as s
from sitematch.criteria import CRITERIA, format_value
from sitematch.profile import Profile

SCORE = "score"
RANK = "rank"
PASSED = "passed"
N_MISSED = "n_missed"
SHORTFALL = "shortfall"
NEAR_MISS = "near_miss"
MISSED = "missed"
IN_REGION = "in_region"
POINTS_PREFIX = "points_"


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
        One row per (layer, source, licence) used, with the row count.
    outside_region : int
        How many sites were left out because their municipality is not in the region.
    """

    profile: Profile
    sites: gpd.GeoDataFrame
    provenance: pd.DataFrame
    outside_region: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    # Views of ``sites`` are computed once: treat ``sites`` as read-only once the result exists.
    @cached_property
    def ranked(self) -> gpd.GeoDataFrame:
        """Sites that meet every requirement, best first."""
        r = self.sites[self.sites[PASSED]]
        return r.sort_values([RANK])

    @cached_property
    def excluded(self) -> gpd.GeoDataFrame:
        """Sites that fail at least one requirement, closest to passing first."""
        e = self.sites[~self.sites[PASSED]]
        return e.sort_values([N_MISSED, SHORTFALL, s.PLOT_ID])

    @cached_property
    def near_misses(self) -> gpd.GeoDataFrame:
        """Excluded sites that fail one numeric requirement by at most the tolerance, closest first."""
        near = self.sites[self.sites[NEAR_MISS].to_numpy(dtype=bool)]
        return near.sort_values([N_MISSED, SHORTFALL, s.PLOT_ID])

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

    def breakdown_row(self, row: pd.Series) -> list[CriterionBreakdown]:
        """The per-preference explanation of one row of :attr:`sites` (see :meth:`breakdown`)."""
        total = self.profile.total_weight or 1.0
        out = []
        for p in self.profile.preferences:
            c = CRITERIA[p.criterion]
            out.append(
                CriterionBreakdown(
                    criterion=p.criterion,
                    label=c.label,
                    value=format_value(c, row.get(p.criterion)),
                    weight=p.weight,
                    points=float(row.get(points_column(p.criterion), 0.0) or 0.0),
                    max_points=100.0 * p.weight / total,
                    value_function=p.describe(),
                )
            )
        return out
