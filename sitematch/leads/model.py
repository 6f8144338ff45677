"""What a lead is: its statuses, the steps allowed between them, and its errors.

A lead moves through the partnership's process::

    new → searching → requests_sent → shortlist_sent → visit → won
                                                          ↘ lost / paused (from any open status)

``lost`` and ``paused`` need a reason; ``paused`` can go back to ``searching``. Every change is
kept with its date (:class:`StatusChange`), so the figures the partnership reports (time from
request to shortlist, won per sector) come from the history, never from a field overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sitematch.errors import SitematchError
from sitematch.i18n import N_

#: The statuses in process order.
STATUSES = ("new", "searching", "requests_sent", "shortlist_sent", "visit", "won", "lost", "paused")
#: Words for each status (English; pages show them in the reader's language from the catalogues).
STATUS_WORDS = {
    "new": N_("new"),
    "searching": N_("searching"),
    "requests_sent": N_("requests sent"),
    "shortlist_sent": N_("shortlist sent"),
    "visit": N_("visit"),
    "won": N_("won"),
    "lost": N_("lost"),
    "paused": N_("paused"),
}
#: Where each status may go next.
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("searching", "requests_sent", "lost", "paused"),
    "searching": ("requests_sent", "shortlist_sent", "lost", "paused"),
    "requests_sent": ("searching", "shortlist_sent", "lost", "paused"),
    "shortlist_sent": ("requests_sent", "visit", "won", "lost", "paused"),
    "visit": ("shortlist_sent", "won", "lost", "paused"),
    "paused": ("searching", "lost"),
    "won": (),
    "lost": (),
}
#: Statuses that need a reason.
NEEDS_REASON = ("lost", "paused")
#: Where a lead came from.
SOURCES = ("direct", "business_sweden", "fair", "web", "municipality", "other")
#: How a municipality answers for one site of a request.
ANSWERS = ("confirmed", "not_available", "updated", "proposed")
ANSWER_WORDS = {
    "confirmed": N_("confirmed"),
    "not_available": N_("not available"),
    "updated": N_("updated values"),
    "proposed": N_("another plot proposed"),
}


class LeadError(SitematchError, ValueError):
    """A lead, request or answer cannot be recorded as asked (unknown status, step not allowed…)."""


class LeadNotFoundError(LeadError, LookupError):
    """No such lead, request or shared link."""


@dataclass(frozen=True)
class StatusChange:
    """One step in a lead's history."""

    status: str
    at: str
    by: str
    reason: str = ""


@dataclass(frozen=True)
class Lead:
    """A lead as the lead log keeps it.

    ``company`` and ``contact`` are confidential to the lead's advisers and admins when
    ``confidential`` is true: :meth:`public` gives what anyone else (a municipality) may see.
    """

    id: str
    reference: str
    sector: str
    source: str
    confidential: bool
    created_by: str
    created_at: str
    status: str
    company: str = ""
    contact: str = ""
    advisers: tuple[str, ...] = ()
    history: tuple[StatusChange, ...] = field(default=(), repr=False)

    def public(self) -> dict[str, object]:
        """What a municipality may see of the lead: its reference, sector and status.

        Examples
        --------
        >>> lead = Lead("l1", "BS-1", "logistics", "fair", True, "anna", "2026-01-01", "new", company="Acme")
        >>> sorted(lead.public())
        ['id', 'reference', 'sector', 'status']
        """
        return {"id": self.id, "reference": self.reference, "sector": self.sector, "status": self.status}


def check_step(current: str, new: str, reason: str) -> None:
    """Refuse a status change the process does not allow, with what is allowed instead.

    Examples
    --------
    >>> check_step("new", "searching", "")
    >>> check_step("won", "searching", "")
    Traceback (most recent call last):
    ...
    sitematch.leads.model.LeadError: a lead that is 'won' cannot become 'searching' (won is final)
    """
    if new not in STATUSES:
        raise LeadError(f"unknown status {new!r}", hint=f"Use one of: {', '.join(STATUSES)}.")
    allowed = NEXT[current]
    if new not in allowed:
        after = f"allowed: {', '.join(allowed)}" if allowed else f"{current} is final"
        raise LeadError(f"a lead that is {current!r} cannot become {new!r} ({after})")
    if new in NEEDS_REASON and not reason.strip():
        raise LeadError(f"a lead becomes {new!r} only with a reason", key="reason")
