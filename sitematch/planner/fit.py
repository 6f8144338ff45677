"""Reverse matching: which leads (profiles) each site fits, and what it lacks for the others."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sitematch import schema as s
from sitematch.planner.evaluations import would_be_ranks, would_be_scores
from sitematch.planner.shortfalls import requirement_gaps
from sitematch.result import N_MISSED, PASSED, SHORTFALL, MatchResult

#: Columns of :attr:`FitResult.table`.
FIT_COLUMNS = (
    s.PLOT_ID,
    s.MUNICIPALITY_CODE,
    s.AREA_HA,
    "profile",
    "sector",
    "passed",
    "score",
    "rank",
    "ranked_of",
    "n_missed",
    "shortfall",
    "lacks",
)


@dataclass
class FitResult:
    """How each site fares against each profile.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (site, profile), columns :data:`FIT_COLUMNS`. ``score`` and ``rank`` are the
        site's own when it passes, else what it would score and where it would rank among the
        passing sites if it met every requirement; ``ranked_of`` how many sites pass; ``lacks``
        the gaps in words, smallest first, joined with "; ". Per site: fitting profiles first
        (best rank first), then failed ones ordered by how little is missing.
    gaps : pandas.DataFrame
        Every gap, one row per (site, profile, requirement) (see
        :func:`sitematch.planner.requirement_gaps`).
    profiles : list of str
        Profile names, in the order given.
    sectors : dict of str to str
        Each profile's sector.
    confidential : set of str
        Profiles of confidential leads: pages for municipalities name them only by sector.
    """

    table: pd.DataFrame
    gaps: pd.DataFrame
    profiles: list[str]
    sectors: dict[str, str]
    confidential: set[str] = field(default_factory=set)

    def for_site(self, plot_id: str) -> pd.DataFrame:
        """The rows of one site."""
        return self.table[self.table[s.PLOT_ID] == plot_id]


def _order_gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    """Gaps smallest first: relative shortfall, then unknowns and categories (inf) by name."""
    rel = pd.to_numeric(gaps["relative"], errors="coerce").fillna(np.inf)
    return gaps.assign(_rel=rel).sort_values([s.PLOT_ID, "profile", "_rel", "requirement"]).drop(columns="_rel")


def _joined(gaps: pd.DataFrame) -> dict[str, str]:
    """Each site's gaps (sorted by site) joined with "; " (slices of one array: no pandas group per site)."""
    if gaps.empty:
        return {}
    pids = gaps[s.PLOT_ID].to_numpy(dtype=object)
    words = gaps["gap"].to_numpy(dtype=object).tolist()
    cut = np.flatnonzero(pids[1:] != pids[:-1]) + 1
    starts, ends = np.r_[0, cut], np.r_[cut, len(pids)]
    return {pids[a]: "; ".join(words[a:b]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)}


def fit(results: Sequence[MatchResult], plot_ids: Sequence[str] | None = None) -> FitResult:
    """Reverse matching from one full evaluation per profile (see :func:`evaluate_profiles`).

    Parameters
    ----------
    results : sequence of MatchResult
        One full evaluation per profile, over all the region's sites (ranks are among them).
    plot_ids : sequence of str, optional
        The sites asked about; default every site in any result.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> from sitematch import LayerSet, load_profile
    >>> from sitematch.planner import evaluate_profiles
    >>> layers = LayerSet.from_path("layers")
    >>> found = fit(evaluate_profiles([load_profile("scenarios/data_centre.yaml")], layers), ["0181:BF-1"])
    >>> found.table["profile"].tolist()
    ['Data-centre campus']
    """
    wanted = None if plot_ids is None else pd.Index([str(p) for p in plot_ids])
    frames, gap_frames = [], []
    for result in results:
        sites = result.sites
        score = would_be_scores(result)
        rank = would_be_ranks(result, score)
        keep = np.ones(len(sites), dtype=bool) if wanted is None else sites[s.PLOT_ID].astype(str).isin(wanted)
        keep = np.asarray(keep, dtype=bool)
        sub = sites[keep]
        gaps = _order_gaps(requirement_gaps(result, wanted))
        gap_frames.append(gaps)
        lacks = _joined(gaps)
        lacks_of = np.array([lacks.get(p, "") for p in sub[s.PLOT_ID].astype(str)], dtype=object)
        frames.append(
            pd.DataFrame(
                {
                    s.PLOT_ID: sub[s.PLOT_ID].astype(str).to_numpy(),
                    s.MUNICIPALITY_CODE: sub[s.MUNICIPALITY_CODE].astype(str).to_numpy(),
                    s.AREA_HA: pd.to_numeric(sub[s.AREA_HA], errors="coerce").to_numpy(dtype=float),
                    "profile": result.profile.name,
                    "sector": result.profile.sector,
                    "passed": sub[PASSED].to_numpy(dtype=bool),
                    "score": score[keep],
                    "rank": rank[keep],
                    "ranked_of": int(sites[PASSED].sum()),
                    "n_missed": sub[N_MISSED].to_numpy(dtype=int),
                    "shortfall": sub[SHORTFALL].to_numpy(dtype=float),
                    "lacks": lacks_of,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(FIT_COLUMNS))
    if wanted is not None:
        missing = sorted(set(wanted) - set(table[s.PLOT_ID]))
        if missing:
            from sitematch.errors import SitematchError

            shown = ", ".join(repr(m[:40]) for m in missing[:5])
            raise SitematchError(f"no such site in the profiles' regions: {shown}", option="plot_id")
    # a finite order for "how little is missing": misses, then the worst relative shortfall
    table["_short"] = table["shortfall"].replace(np.inf, 1e9)
    table["_pass"] = ~table["passed"]
    table = table.sort_values([s.PLOT_ID, "_pass", "n_missed", "_short", "rank", "profile"], kind="stable")
    table = table.drop(columns=["_short", "_pass"]).reset_index(drop=True)
    return FitResult(
        table=table,
        gaps=pd.concat(gap_frames, ignore_index=True) if gap_frames else pd.DataFrame(),
        profiles=[r.profile.name for r in results],
        sectors={r.profile.name: r.profile.sector for r in results},
        confidential={r.profile.name for r in results if r.profile.lead.confidential},
    )


def opportunity_matrix(found: FitResult) -> pd.DataFrame:
    """Sites × profiles: the score where the site fits the profile, NaN where it does not.

    With it, :func:`misses_matrix` gives how many requirements each site misses per profile.
    """
    t = found.table
    m = t.assign(value=t["score"].where(t["passed"])).pivot(index=s.PLOT_ID, columns="profile", values="value")
    return m.reindex(columns=found.profiles)


def misses_matrix(found: FitResult) -> pd.DataFrame:
    """Sites × profiles: how many requirements each site misses (0 where it fits)."""
    t = found.table
    return t.pivot(index=s.PLOT_ID, columns="profile", values="n_missed").reindex(columns=found.profiles)
