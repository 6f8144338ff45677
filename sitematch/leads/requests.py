"""Tailored requests: which municipalities to ask about a lead, and what to ask each.

From one match, a request goes only to the municipalities that have ranked sites or near misses
for the lead — not to every municipality — and lists only that municipality's sites: what the
lead needs, what is still *to verify* for each ranked site (an unknown price, an unassessed MIFO
class), and what each near miss lacks and by how much. What a request carries about the lead is
:meth:`sitematch.leads.model.Lead.public` plus the requirements in words: never the company or
the contact of a confidential lead (the caller decides what else to add for a lead that is not
confidential).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sitematch import schema as s
from sitematch.result import RANK, SCORE, MatchResult


@dataclass(frozen=True)
class RequestSite:
    """One site in a request: a ranked site (``rank`` set) or a near miss (``lacks`` set)."""

    plot_id: str
    kind: str  # "ranked" or "near_miss"
    rank: int | None
    score: float | None
    to_verify: tuple[str, ...]
    lacks: tuple[str, ...]

    def to_data(self) -> dict[str, object]:
        """Plain data for JSON."""
        return {
            "plot_id": self.plot_id,
            "kind": self.kind,
            "rank": self.rank,
            "score": self.score,
            "to_verify": list(self.to_verify),
            "lacks": list(self.lacks),
        }


@dataclass(frozen=True)
class PlannedRequest:
    """What one municipality is asked about one lead."""

    municipality_code: str
    municipality_name: str
    needs: tuple[str, ...]
    sites: tuple[RequestSite, ...]

    @property
    def ranked(self) -> tuple[RequestSite, ...]:
        """The municipality's sites that meet every requirement."""
        return tuple(x for x in self.sites if x.kind == "ranked")

    @property
    def near_misses(self) -> tuple[RequestSite, ...]:
        """The municipality's near misses."""
        return tuple(x for x in self.sites if x.kind == "near_miss")

    def to_data(self) -> dict[str, object]:
        """Plain data for JSON (stored with the request, shown on the municipality's page)."""
        return {
            "municipality_code": self.municipality_code,
            "municipality_name": self.municipality_name,
            "needs": list(self.needs),
            "sites": [x.to_data() for x in self.sites],
        }


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def plan_requests(result: MatchResult, *, ranked_top: int | None = None) -> list[PlannedRequest]:
    """One request per municipality with ranked sites or near misses for the lead.

    Parameters
    ----------
    result : MatchResult
        The lead's match.
    ranked_top : int, optional
        Only the best ``ranked_top`` ranked sites count (default: every ranked site with a rank).

    Returns
    -------
    list of PlannedRequest
        By municipality code; each lists the municipality's ranked sites (best first) then its
        near misses (closest first). Municipalities with neither get no request.
    """
    needs = tuple(r.describe() for r in result.profile.requirements)
    ranked = result.ranked
    ranked = ranked[ranked[RANK].notna()]
    if ranked_top is not None:
        ranked = ranked.head(ranked_top)
    by_code: dict[str, list[RequestSite]] = {}
    for _, row in ranked.iterrows():
        rank = row[RANK]
        by_code.setdefault(str(row[s.MUNICIPALITY_CODE]), []).append(
            RequestSite(
                plot_id=str(row[s.PLOT_ID]),
                kind="ranked",
                rank=int(rank),
                score=_number(row[SCORE]),
                to_verify=tuple(result.to_verify(row)),
                lacks=(),
            )
        )
    for _, row in result.near_misses.iterrows():
        by_code.setdefault(str(row[s.MUNICIPALITY_CODE]), []).append(
            RequestSite(
                plot_id=str(row[s.PLOT_ID]),
                kind="near_miss",
                rank=None,
                score=None,
                to_verify=tuple(result.to_verify(row)),
                lacks=tuple(result.misses(row)),
            )
        )
    return [
        PlannedRequest(code, result.run.municipality(code), needs, tuple(sites))
        for code, sites in sorted(by_code.items())
    ]
