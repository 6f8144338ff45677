"""``/api/leads`` and ``/api/requests``: the lead log, tailored requests, answers, the figures, and
shortlists shared with the investor.

Advisers create and follow leads; municipalities see and answer the requests sent to them (403 on
another's); admins see everything. A confidential lead's company and contact are in the lead's own
answers only (to its advisers and admins), never in a request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from sitematch import settings
from sitematch.leads import Lead, LeadBook
from sitematch.leads.model import ANSWERS, STATUSES
from sitematch.service import leads as app
from sitematch.service.auth import ADVISER, MUNICIPALITY, Caller, caller, role
from sitematch.service.errors import ServiceError
from sitematch.service.leads import LeadIn, RequestsIn, book, create_lead, kpi_tables, run_lead_match, send_requests
from sitematch.service.profiles import parse
from sitematch.service.runs import plain
from sitematch.service.state import Service, service

router = APIRouter(prefix="/api", tags=["leads"])
FOLLOWERS = role("adviser", "planner")


class StatusIn(BaseModel):
    """A step in the lead's process."""

    status: str = Field(description=f"One of: {', '.join(STATUSES)}")
    reason: str = Field(default="", max_length=1000)


class ProfileIn(BaseModel):
    """A new version of the lead's profile."""

    profile: dict[str, Any]


class AnswerIn(BaseModel):
    """A municipality's answer for one site (a draft until sent)."""

    answer: str = Field(description=f"One of: {', '.join(ANSWERS)}")
    detail: dict[str, Any] = Field(default_factory=dict)


class ShareIn(BaseModel):
    """A shortlist for the investor: the chosen sites of one match, in the adviser's order."""

    match_id: str = Field(max_length=64)
    plot_ids: list[str] = Field(min_length=1, max_length=50)
    days: int = Field(default_factory=lambda: settings.service_share_days, ge=1, le=365)


def lead_view(b: LeadBook, lead: Lead) -> dict[str, Any]:
    """A lead as its advisers see it."""
    return {
        "id": lead.id,
        "reference": lead.reference,
        "company": lead.company,
        "contact": lead.contact,
        "sector": lead.sector,
        "source": lead.source,
        "confidential": lead.confidential,
        "advisers": list(lead.advisers),
        "status": lead.status,
        "created_by": lead.created_by,
        "created_at": lead.created_at,
        "history": [vars(c) for c in lead.history],
        "profile_versions": b.profiles(lead.id),
        "matches": b.matches(lead.id),
        "requests": [app.municipality_view(r) for r in b.requests(lead_id=lead.id)],
        "shares": b.shares(lead.id),
    }


@router.post("/leads", status_code=201, summary="Record a new lead (advisers)")
def create(
    request: Request, body: LeadIn, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> dict[str, Any]:  # fmt: skip
    lead = create_lead(svc, b, who.user, body)
    request.state.audit = {"lead": lead.id, "confidential": lead.confidential}
    return lead_view(b, lead)


@router.get("/leads", summary="The leads you may see, newest first")
def list_leads(b: LeadBook = Depends(book), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return [
        {"id": x.id, "reference": x.reference, "sector": x.sector, "source": x.source, "status": x.status,
         "confidential": x.confidential, "created_at": x.created_at}
        for x in app.visible_leads(b, who.user)
    ]  # fmt: skip


@router.get("/leads/{lead_id}", summary="A lead: status history, profile versions, matches, requests, answers")
def get_lead(lead_id: str, b: LeadBook = Depends(book), who: Caller = Depends(caller)) -> dict[str, Any]:
    return lead_view(b, app.visible_lead(b, who.user, lead_id))


@router.post("/leads/{lead_id}/status", summary="Move the lead in its process (with a reason for lost or paused)")
def set_status(
    request: Request, lead_id: str, body: StatusIn, b: LeadBook = Depends(book), who: Caller = Depends(ADVISER)
) -> dict[str, Any]:
    lead = app.visible_lead(b, who.user, lead_id)
    request.state.audit = {"lead": lead.id, "status": body.status}
    return lead_view(b, b.set_status(lead.id, body.status, who.user.username, body.reason))


@router.put("/leads/{lead_id}/profile", summary="A new version of the lead's profile (earlier ones are kept)")
def put_profile(
    lead_id: str, body: ProfileIn, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> dict[str, Any]:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    parse(svc, {**body.profile, "lead": {"reference": lead.reference}}, slug="lead")
    return {"version": b.save_profile(lead.id, body.profile, who.user.username)}


@router.post("/leads/{lead_id}/matches", status_code=201, summary="Match the lead's latest profile")
async def match_lead(
    request: Request, lead_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> dict[str, Any]:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    out = await run_lead_match(request, svc, b, who.user, lead)
    request.state.audit = {"lead": lead.id, "match": out["id"]}
    return out


@router.get("/leads/{lead_id}/requests/plan", summary="Which municipalities a match would ask, and about what")
def plan_requests(
    lead_id: str, match_id: str | None = None, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> list[dict[str, Any]]:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    matches = b.matches(lead.id)
    chosen = match_id or (matches[-1] if matches else None)
    if chosen is None:
        raise ServiceError("match the lead first: requests are made from a match", key="match_id")
    return [p.to_data() for p in app.plan(svc, b, lead, chosen)]


@router.post("/leads/{lead_id}/requests", status_code=201, summary="Send tailored requests to the municipalities")
def post_requests(
    request: Request, lead_id: str, body: RequestsIn, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> dict[str, Any]:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    ids = send_requests(svc, b, who.user, lead, body)
    request.state.audit = {"lead": lead.id, "requests": ids}
    return {"requests": ids}


@router.post("/leads/{lead_id}/rerank", status_code=201, summary="Match again on the answered data; what changed")
async def rerank(
    request: Request, lead_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> dict[str, Any]:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    before = app.compared_match_id(b, lead)
    out = await run_lead_match(request, svc, b, who.user, lead)
    request.state.audit = {"lead": lead.id, "match": out["id"]}
    return {"match": out, "before": before, "changes": app.shortlist_changes(svc, before, out["id"])}


@router.post("/leads/{lead_id}/shares", status_code=201, summary="A read-only, expiring link to chosen sites")
def share(
    request: Request, lead_id: str, body: ShareIn, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER),
) -> dict[str, Any]:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    share_id, token = app.share(svc, b, who.user, lead, body.match_id, body.plot_ids, body.days)
    request.state.audit = {"lead": lead.id, "share": share_id}
    return {"id": share_id, "link": f"/shared/{token}", "token": token}


@router.delete("/leads/{lead_id}/shares/{share_id}", status_code=204, summary="Withdraw a shared link")
def revoke(
    request: Request, lead_id: str, share_id: str, b: LeadBook = Depends(book), who: Caller = Depends(ADVISER)
) -> Response:
    lead = app.visible_lead(b, who.user, lead_id)
    with app.found():
        b.revoke_share(lead.id, share_id)
    request.state.audit = {"lead": lead.id, "share": share_id, "revoked": True}
    return Response(status_code=204)


@router.get("/requests", summary="Requests sent to your municipality, or those of your leads")
def list_requests(b: LeadBook = Depends(book), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return [app.municipality_view(r) for r in app.requests_for(b, who.user)]


@router.get("/requests/{request_id}", summary="One request with its answers")
def get_request(request_id: str, b: LeadBook = Depends(book), who: Caller = Depends(caller)) -> dict[str, Any]:
    return app.municipality_view(app.visible_request(b, who.user, request_id))


@router.put("/requests/{request_id}/answers/{plot_id:path}", summary="Answer for one site (a draft until sent)")
def put_answer(
    request_id: str, plot_id: str, body: AnswerIn, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(MUNICIPALITY),
) -> dict[str, Any]:  # fmt: skip
    req = app.visible_request(b, who.user, request_id)
    if body.answer == "proposed":
        app.check_proposed(svc, req, plot_id)
    with app.found():
        b.answer(req.id, plot_id, body.answer, who.user.username, body.detail)
    return app.municipality_view(b.request(req.id))


@router.post("/requests/{request_id}/send", summary="Send the drafted answers: updated values become plot versions")
def send_answers(
    request: Request, request_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(MUNICIPALITY),
) -> dict[str, Any]:  # fmt: skip
    req = app.visible_request(b, who.user, request_id)
    stored = app.apply_answers(svc, req, who.user)  # all or nothing, before the answers count as sent
    sent = b.send_answers(req.id, who.user.username)
    request.state.audit = {"request": req.id, "answers": sent, "plots": stored}
    return {"sent": sent, "plots": stored, "request": app.municipality_view(b.request(req.id))}


@router.get("/kpi", summary="The partnership's figures for a period (advisers, planners, admins)")
def figures(
    start: str | None = None, end: str | None = None, b: LeadBook = Depends(book), who: Caller = Depends(FOLLOWERS)
) -> dict[str, Any]:
    return {name: [{k: plain(v) for k, v in r.items()} for r in rows] for name, rows in kpi_tables(b, start, end)}


class ContactIn(BaseModel):
    """An e-mail address for your notifications (your municipality's, for a municipal account)."""

    email: str = Field(max_length=254)


def recipient(user: Any) -> str:
    """Whose notifications an account reads: its municipality's, or its own."""
    return f"municipality:{user.municipality}" if user.municipality else f"user:{user.username}"


@router.post("/me/contacts", status_code=201, summary="Add an e-mail address for your notifications")
def add_contact(body: ContactIn, b: LeadBook = Depends(book), who: Caller = Depends(caller)) -> dict[str, Any]:
    b.add_contact(recipient(who.user), body.email)
    return {"recipient": recipient(who.user), "email": body.email.strip()}


@router.get("/me/notifications", summary="What you were told (requests, answers, reminders), newest first")
def notifications(b: LeadBook = Depends(book), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return b.notifications(recipient(who.user))
