"""The figures the partnership reports: answer times per municipality, outcomes per sector and source.

Times are in days (24 h), from the request's creation to its first answer sent. The median is the
middle value (the mean of the two middle ones for an even count); the 90th percentile is the
*nearest-rank* one — the smallest time that at least 90 % of the answered requests beat or meet
(sorted times ``t``, ``t[ceil(0.9 n) - 1]``) — so every figure is a time that really happened and
can be checked by hand. Unanswered requests count as received, not in the times.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from sitematch._io import atomic_target, spreadsheet_safe
from sitematch.leads.book import LeadBook, Request
from sitematch.leads.model import Lead, LeadError

MUNICIPALITY_COLUMNS = ("municipality_code", "requests", "answered", "median_days", "p90_days", "share_confirmed")
GROUP_COLUMNS = ("leads", "shortlists_sent", "won")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def days_between(start: str, end: str) -> float:
    """Days from one ISO time to another.

    Examples
    --------
    >>> days_between("2026-03-01T08:00:00+00:00", "2026-03-02T20:00:00+00:00")
    1.5
    """
    return (_at(end) - _at(start)).total_seconds() / 86400.0


def p90(values: Sequence[float]) -> float:
    """The nearest-rank 90th percentile.

    Examples
    --------
    >>> p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    9
    >>> p90([4.0])
    4.0
    """
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def check_period(start: str | None, end: str | None) -> None:
    """LeadError unless ``start`` and ``end`` are dates (YYYY-MM-DD) with ``start`` not after ``end``."""
    for key, value in (("start", start), ("end", end)):
        if value is not None:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise LeadError(f"{key}: {value[:20]!r} is not a date (YYYY-MM-DD)", key=key) from None
    if start and end and start > end:
        raise LeadError(f"the period starts ({start}) after it ends ({end})", key="start")


def in_period(at: str, start: str | None, end: str | None) -> bool:
    day = at[:10]
    return (start is None or day >= start) and (end is None or day <= end)


def by_municipality(requests: Iterable[Request], start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Per municipality: requests received and answered, median and p90 days to answer, share confirmed.

    Parameters
    ----------
    requests : iterable of Request
        From :meth:`sitematch.leads.LeadBook.requests`.
    start, end : str, optional
        Only requests created on these days or between them (YYYY-MM-DD, inclusive).

    Returns
    -------
    pandas.DataFrame
        One row per municipality (by code); ``share_confirmed`` is the share of the sites answered
        (answers sent) that were confirmed.
    """
    groups: dict[str, list[Request]] = {}
    for r in requests:
        if in_period(r.created_at, start, end):
            groups.setdefault(r.municipality_code, []).append(r)
    rows = []
    for code, reqs in sorted(groups.items()):
        times = [days_between(r.created_at, r.answered_at) for r in reqs if r.answered_at]
        sent = [a for r in reqs for a in r.answers.values() if a["state"] == "sent"]
        confirmed = sum(a["answer"] == "confirmed" for a in sent)
        rows.append(
            {
                "municipality_code": code,
                "requests": len(reqs),
                "answered": len(times),
                "median_days": statistics.median(times) if times else None,
                "p90_days": p90(times) if times else None,
                "share_confirmed": confirmed / len(sent) if sent else None,
            }
        )
    return pd.DataFrame(rows, columns=list(MUNICIPALITY_COLUMNS))


def _reached(lead: Lead, status: str) -> str | None:
    return next((c.at for c in lead.history if c.status == status), None)


def by_group(leads: Iterable[Lead], by: str, start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Per ``sector`` or ``source``: leads, shortlists sent and won (leads created in the period)."""
    if by not in ("sector", "source"):
        raise ValueError("by must be 'sector' or 'source'")
    rows: dict[str, dict[str, int]] = {}
    for lead in leads:
        if not in_period(lead.created_at, start, end):
            continue
        row = rows.setdefault(getattr(lead, by) or "—", dict.fromkeys(GROUP_COLUMNS, 0))
        row["leads"] += 1
        row["shortlists_sent"] += _reached(lead, "shortlist_sent") is not None
        row["won"] += _reached(lead, "won") is not None
    return pd.DataFrame([{by: k, **v} for k, v in sorted(rows.items())], columns=[by, *GROUP_COLUMNS])


def by_lead(leads: Iterable[Lead]) -> pd.DataFrame:
    """Per lead: its reference, status and the days from its first request to its first shortlist."""
    rows = []
    for lead in leads:
        asked, shortlisted = _reached(lead, "requests_sent"), _reached(lead, "shortlist_sent")
        rows.append(
            {
                "lead_id": lead.id,
                "reference": lead.reference,
                "sector": lead.sector,
                "status": lead.status,
                "days_request_to_shortlist": days_between(asked, shortlisted) if asked and shortlisted else None,
            }
        )
    return pd.DataFrame(rows, columns=["lead_id", "reference", "sector", "status", "days_request_to_shortlist"])


def write_report(
    book: LeadBook, folder: Path, *, start: str | None = None, end: str | None = None, dialect: str = "plain"
) -> list[Path]:
    """Write the figures of a period as CSV files (``plain``, or ``excel`` for Excel with Swedish
    settings): ``municipalities.csv``, ``sectors.csv``, ``sources.csv``, ``leads.csv``.

    ``leads.csv`` has each lead's reference, sector, status and days from request to shortlist:
    never a company or a contact.
    """
    from sitematch.export.tables import DIALECTS

    options = DIALECTS[dialect]
    leads = [lead for lead in book.leads() if in_period(lead.created_at, start, end)]
    tables = {
        "municipalities.csv": by_municipality(book.requests(), start, end),
        "sectors.csv": by_group(leads, "sector"),
        "sources.csv": by_group(leads, "source"),
        "leads.csv": by_lead(leads).drop(columns=["lead_id"]),
    }
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        floats = frame.select_dtypes("float").columns
        frame = frame.assign(**{c: frame[c].round(2) for c in floats})
        with atomic_target(folder / name) as tmp:
            spreadsheet_safe(frame).to_csv(
                tmp, index=False, sep=options["sep"], decimal=options["decimal"], encoding=options["encoding"]
            )
        written.append(folder / name)
    return written
