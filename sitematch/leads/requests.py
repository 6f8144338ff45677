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
from typing import Any

from sitematch import schema as s
from sitematch._io import is_missing
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
    name: str = ""

    def to_data(self) -> dict[str, object]:
        """Plain data for JSON."""
        return {
            "plot_id": self.plot_id,
            "name": self.name,
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


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


def _number(value: Any) -> float | None:
    return None if is_missing(value) else float(value)


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
    ranked = result.ranked
    ranked = ranked[ranked[RANK].notna()]
    if ranked_top is not None:
        ranked = ranked.head(ranked_top)
    names = result.run.municipality
    data = {
        "ranked": [
            {
                "plot_id": str(row[s.PLOT_ID]),
                "municipality_code": str(row[s.MUNICIPALITY_CODE]),
                "municipality": names(row[s.MUNICIPALITY_CODE]),
                "name": _text(row.get(s.NAME)),
                "rank": int(row[RANK]),
                "score": _number(row[SCORE]),
                "to_verify": result.to_verify(row),
            }
            for _, row in ranked.iterrows()
        ],
        "near_misses": [
            {
                "plot_id": str(row[s.PLOT_ID]),
                "municipality_code": str(row[s.MUNICIPALITY_CODE]),
                "municipality": names(row[s.MUNICIPALITY_CODE]),
                "name": _text(row.get(s.NAME)),
                "to_verify": result.to_verify(row),
                "missed": result.misses(row),
            }
            for _, row in result.near_misses.iterrows()
        ],
    }
    return plan_from_data(data, tuple(r.describe() for r in result.profile.requirements))


def plan_from_data(data: dict[str, Any], needs: tuple[str, ...]) -> list[PlannedRequest]:
    """:func:`plan_requests` from a match kept as plain data (the web service's ``result.json``:
    ``ranked`` and ``near_misses`` lists with ``plot_id``, ``municipality_code``, ``municipality``,
    ``rank``, ``score``, ``to_verify``, ``missed``); ``needs`` are the requirements in words."""
    by_code: dict[str, list[RequestSite]] = {}
    names: dict[str, str] = {}
    for row in data.get("ranked", []):
        if row.get("rank") is None:
            continue
        code = str(row["municipality_code"])
        names[code] = str(row.get("municipality") or code)
        by_code.setdefault(code, []).append(
            RequestSite(
                str(row["plot_id"]),
                "ranked",
                int(row["rank"]),
                row.get("score"),
                tuple(row.get("to_verify") or ()),
                (),
                name=str(row.get("name") or ""),
            )
        )
    for row in data.get("near_misses", []):
        code = str(row["municipality_code"])
        names[code] = str(row.get("municipality") or code)
        by_code.setdefault(code, []).append(
            RequestSite(
                str(row["plot_id"]),
                "near_miss",
                None,
                None,
                tuple(row.get("to_verify") or ()),
                tuple(row.get("missed") or ()),
                name=str(row.get("name") or ""),
            )
        )
    return [PlannedRequest(code, names[code], needs, tuple(sites)) for code, sites in sorted(by_code.items())]
