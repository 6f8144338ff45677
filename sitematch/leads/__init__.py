"""The lead as a shared process: a lead log, tailored requests, answers, notifications and figures.

- :mod:`~sitematch.leads.model` — statuses and the steps between them; :class:`Lead`.
- :mod:`~sitematch.leads.requests` — which municipalities to ask about a match, and what.
- :mod:`~sitematch.leads.book` — :class:`LeadBook`, the lead log in the service database.
- :mod:`~sitematch.leads.outbox` — messages written with the change that causes them, sent with retries.
- :mod:`~sitematch.leads.kpi` — the figures the partnership reports.
"""

from sitematch.leads.book import LeadBook, Request, sqlite_connect
from sitematch.leads.model import STATUSES, Lead, LeadError, LeadNotFoundError
from sitematch.leads.outbox import OutboxSender
from sitematch.leads.requests import PlannedRequest, RequestSite, plan_requests

__all__ = [
    "STATUSES",
    "Lead",
    "LeadBook",
    "LeadError",
    "LeadNotFoundError",
    "OutboxSender",
    "PlannedRequest",
    "Request",
    "RequestSite",
    "plan_requests",
    "sqlite_connect",
]
