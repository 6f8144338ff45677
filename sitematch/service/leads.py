"""The lead process in the service: who may see which lead and request, and the steps that touch
the plot store and the matches (application functions the API and the pages share).

Visibility: an adviser sees every lead that is not confidential and the confidential ones they
created or are assigned to; an admin sees all; a municipality sees no lead, only the requests sent
to it — and a request carries the lead's reference, sector and requirements, never its company or
contact.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Hashable, Iterator
from typing import Any

import fastapi
import geopandas as gpd
from fastapi import Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sitematch import schema as s
from sitematch.leads import Lead, LeadBook, LeadNotFoundError, Request, kpi
from sitematch.leads.answers import compare_shortlists, updated_plots
from sitematch.leads.model import SOURCES
from sitematch.leads.requests import PlannedRequest, plan_from_data
from sitematch.service.accounts import User
from sitematch.service.errors import ForbiddenError, NotFoundError, ServiceError
from sitematch.service.matches import start_match, summary
from sitematch.service.profiles import parse
from sitematch.service.records import Lead as Visibility
from sitematch.service.runs import read_result
from sitematch.service.state import Service, service
from sitematch.store import open_store


@contextlib.contextmanager
def found() -> Iterator[None]:
    """Turn "no such lead/request/link" into a 404."""
    try:
        yield
    except LeadNotFoundError as exc:
        raise NotFoundError(str(exc), key=exc.key) from None


def visible_lead(book: LeadBook, user: User, lead_id: str) -> Lead:
    """A lead ``user`` may work on: 404 if there is none, 403 for a municipality or another's confidential lead."""
    if user.municipality is not None:
        raise ForbiddenError("leads are the advisers'; a municipality sees the requests sent to it (/requests)")
    with found():
        lead = book.lead(lead_id)
    Visibility(lead.id, lead.confidential, lead.created_by, lead.advisers).check(user, "lead")
    return lead


def visible_leads(book: LeadBook, user: User) -> list[Lead]:
    """The leads ``user`` may see, newest first."""
    if user.municipality is not None:
        return []
    return [x for x in book.leads() if Visibility(x.id, x.confidential, x.created_by, x.advisers).visible_to(user)]


def visible_request(book: LeadBook, user: User, request_id: str) -> Request:
    """A request ``user`` may see: its municipality's, or one of a lead the adviser may see."""
    with found():
        request = book.request(request_id)
    if user.municipality is not None:
        if user.municipality != request.municipality_code:
            raise ForbiddenError(f"request {request_id} was sent to another municipality")
        return request
    visible_lead(book, user, request.lead_id)
    return request


def requests_for(book: LeadBook, user: User) -> list[Request]:
    """The requests a municipality received, or those of the leads an adviser may see."""
    if user.municipality is not None:
        return book.requests(municipality_code=user.municipality)
    leads = {x.id for x in visible_leads(book, user)}
    return [r for r in book.requests() if r.lead_id in leads]


def municipality_view(request: Request) -> dict[str, Any]:
    """What a municipality reads of a request: the request body (public lead part, needs, its sites) and its answers."""
    return {
        "id": request.id,
        "municipality_code": request.municipality_code,
        "reply_by": request.reply_by,
        "created_at": request.created_at,
        "answered_at": request.answered_at,
        **{k: v for k, v in request.body.items() if k != "municipality_code"},
        "answers": request.answers,
    }


def profile_data(book: LeadBook, lead: Lead) -> dict[str, Any]:
    """The lead's latest profile, with its lead part taken from the lead record."""
    data = dict(book.profiles(lead.id)[-1]["data"])
    data["lead"] = {
        "reference": lead.reference,
        "confidential": lead.confidential,
        **({"company": lead.company} if lead.company else {}),
        **({"contact": lead.contact} if lead.contact else {}),
    }
    if lead.sector and not data.get("sector"):
        data["sector"] = lead.sector
    return data


def plan(svc: Service, book: LeadBook, lead: Lead, match_id: str) -> list[PlannedRequest]:
    """The requests one of the lead's matches calls for (municipalities with ranked sites or near misses)."""
    if match_id not in book.matches(lead.id):
        raise NotFoundError(f"match {match_id} is not one of this lead's matches", key="match_id")
    data = read_result(svc.matches_dir / match_id)
    profile = parse(svc, data["profile"], slug=match_id)
    return plan_from_data(data, tuple(r.describe() for r in profile.requirements))


def current_plots(svc: Service, plot_ids: list[str]) -> gpd.GeoDataFrame:
    """The plots as they stand now, canonical columns: the store's version, else the region's."""
    columns = list(s.PLOTS.column_names)
    stored = open_store(svc.config.store).plots()
    stored = stored[stored[s.PLOT_ID].isin(plot_ids)]
    rest = [p for p in plot_ids if p not in set(stored[s.PLOT_ID])]
    region = svc.region.get("plots")
    frames = [stored]
    if rest and region is not None:
        frames.append(region[region[s.PLOT_ID].isin(rest)])
    import pandas as pd

    both = pd.concat([f[[c for c in columns if c in f.columns] + [s.GEOMETRY]] for f in frames], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=s.GEOMETRY, crs=stored.crs or "EPSG:3006")


def check_proposed(svc: Service, request: Request, plot_id: str) -> None:
    """A proposed plot must be one of the municipality's active plots in the store (uploaded through
    the same validated path as every plot): 422 naming what to do otherwise."""
    if not plot_id.startswith(f"{request.municipality_code}:"):
        raise ServiceError(f"{plot_id[:60]!r} is not one of {request.municipality_code}'s plots", key="plot_id")
    stored = open_store(svc.config.store).plots(municipality_code=request.municipality_code)
    if plot_id not in set(stored[s.PLOT_ID]):
        raise ServiceError(
            f"{plot_id[:60]!r} is not in the plot store: upload it first (Our plots), then propose it", key="plot_id"
        )


def apply_answers(svc: Service, request: Request, user: User) -> dict[str, Any]:
    """Store the updated values of a request's draft answers as new plot versions (one upload, all or
    nothing); the upload's summary, or None when no answer changes a plot attribute."""
    updates = {p: a["detail"] for p, a in request.answers.items() if a["state"] == "draft" and a["answer"] == "updated"}
    if not updates:
        return {}
    plots = updated_plots(current_plots(svc, list(updates)), updates, dt.date.today().isoformat())
    if plots.empty:
        return {}
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    plots[s.SOURCE] = (
        f"municipality answer: {request.municipality_code} request {request.id} by {user.username} at {stamp}"
    )
    plots[s.LICENCE] = plots[s.LICENCE].fillna("the municipality's own data")
    store = open_store(svc.config.store)
    summary = store.upload(
        plots, municipality_code=request.municipality_code, uploader=user.username, filename=f"request {request.id}"
    )
    return {"updated": list(summary.updated), "inserted": list(summary.inserted), "unchanged": list(summary.unchanged)}


def shortlist_changes(svc: Service, before_match: str, after_match: str) -> list[dict[str, Any]]:
    """The ranked sites of ``after_match`` marked against ``before_match`` (new, up, down, same, gone)."""
    keep = ("plot_id", "rank", "score", "municipality_code", "municipality", "name", "to_verify")
    before = read_result(svc.matches_dir / before_match)["ranked"]
    after = read_result(svc.matches_dir / after_match)["ranked"]
    return compare_shortlists(
        [{k: r.get(k) for k in keep} for r in before], [{k: r.get(k) for k in keep} for r in after]
    )


def compared_match_id(book: LeadBook, lead: Lead) -> str:
    """The match a re-ranking is compared with: the one the latest requests were made from, else the
    lead's latest match (422 when the lead has none)."""
    asked = [r.match_id for r in book.requests(lead_id=lead.id)]
    matches = book.matches(lead.id)
    before = asked[-1] if asked else (matches[-1] if matches else None)
    if before is None:
        raise ServiceError("match the lead first", key="match_id")
    return before


def share(
    svc: Service, book: LeadBook, user: User, lead: Lead, match_id: str, plot_ids: list[str], days: int
) -> tuple[str, str]:
    """A link to chosen ranked sites of one of the lead's matches: ``(share id, token)``."""
    if match_id not in book.matches(lead.id):
        raise ServiceError(f"match {match_id[:64]} is not one of this lead's matches", key="match_id")
    ranked = {r["plot_id"] for r in read_result(svc.matches_dir / match_id)["ranked"]}
    outside = [p for p in plot_ids if p not in ranked]
    if outside:
        raise ServiceError(f"{', '.join(outside)[:100]}: not ranked in this match", key="plot_ids")
    with found():
        return book.create_share(lead.id, match_id, plot_ids, user.username, days)


def book(svc: Service = Depends(service)) -> LeadBook:
    """The dependency that gives a route the lead log."""
    return svc.leads


class LeadIn(BaseModel):
    """A new lead: who asks (confidential when needed) and what they need (a profile)."""

    reference: str = Field(min_length=1, max_length=100)
    sector: str = Field(default="", max_length=200)
    source: str = Field(default="direct", description=f"One of: {', '.join(SOURCES)}")
    company: str = Field(default="", max_length=300)
    contact: str = Field(default="", max_length=300)
    confidential: bool = False
    advisers: list[str] = Field(default_factory=list, max_length=20)
    profile: dict[str, Any] = Field(description="A requirement profile (as `sitematch profile schema` describes)")


class RequestsIn(BaseModel):
    """Send requests from one of the lead's matches."""

    match_id: str | None = Field(default=None, max_length=64, description="Default: the lead's latest match")
    reply_by: str = Field(description="YYYY-MM-DD")
    municipalities: list[str] | None = Field(
        default=None, description="Only these of the municipalities with ranked sites or near misses"
    )


def create_lead(svc: Service, b: LeadBook, user: User, body: LeadIn) -> Lead:
    """Check the profile, then record the lead."""
    parse(svc, {**body.profile, "lead": {"reference": body.reference}}, slug="lead")  # refused here, not at match
    with found():
        return b.create_lead(
            user.username, reference=body.reference, sector=body.sector, source=body.source, profile=body.profile,
            company=body.company, contact=body.contact, confidential=body.confidential, advisers=body.advisers,
        )  # fmt: skip


async def run_lead_match(request: fastapi.Request, svc: Service, b: LeadBook, user: User, lead: Lead) -> dict[str, Any]:
    """Match the lead's latest profile on today's data (in the service's match pool) and keep the match
    with the lead."""
    data = await run_in_threadpool(profile_data, b, lead)
    stored, result = await start_match(request, svc, user, profile_id=None, data=data)
    await run_in_threadpool(b.record_match, lead.id, stored.id, user.username)
    return {**summary(stored), "ranked": result["ranked"][:10], "near_misses": result["near_misses"][:10]}


def send_requests(svc: Service, b: LeadBook, user: User, lead: Lead, body: RequestsIn) -> list[str]:
    """Requests to the municipalities the match calls for (or the chosen ones among them)."""
    matches = b.matches(lead.id)
    match_id = body.match_id or (matches[-1] if matches else None)
    if match_id is None:
        raise ServiceError("match the lead first: requests are made from a match", key="match_id")
    planned = plan(svc, b, lead, match_id)
    if body.municipalities is not None:
        unknown = sorted(set(body.municipalities) - {p.municipality_code for p in planned})
        if unknown:
            raise ServiceError(
                f"{', '.join(unknown)[:100]} has no ranked site or near miss in this match", key="municipalities"
            )
        planned = [p for p in planned if p.municipality_code in body.municipalities]
    with found():
        return b.send_requests(lead.id, match_id, planned, body.reply_by, user.username)


def kpi_tables(b: LeadBook, start: str | None, end: str | None) -> list[tuple[str, list[dict[Hashable, Any]]]]:
    """The figures of a period as (name, rows) — for the API, the page and the CSV files."""
    kpi.check_period(start, end)
    leads = [x for x in b.leads() if kpi.in_period(x.created_at, start, end)]
    return [
        ("municipalities", kpi.by_municipality(b.requests(), start, end).to_dict("records")),
        ("sectors", kpi.by_group(leads, "sector").to_dict("records")),
        ("sources", kpi.by_group(leads, "source").to_dict("records")),
        ("leads", kpi.by_lead(leads).drop(columns=["lead_id"]).to_dict("records")),
    ]
