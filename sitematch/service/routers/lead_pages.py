"""The lead process as pages: advisers' lead log and lead page; municipalities' requests and answers;
the figures; and the shortlist an investor opens from a shared link (no account needed).

Every form carries the session's CSRF token (checked by :func:`~sitematch.service.auth.page_caller`);
a form with a mistake comes back with what was typed and a message (4xx), never a 500.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sitematch import schema as s
from sitematch.errors import SitematchError
from sitematch.i18n import N_
from sitematch.leads import LeadBook, LeadError
from sitematch.leads.answers import NOTED, UPDATABLE
from sitematch.leads.model import ANSWER_WORDS, ANSWERS, NEXT, SOURCES, STATUS_WORDS
from sitematch.service import leads as app
from sitematch.service.auth import ADVISER_PAGE, MUNICIPALITY_PAGE, Caller, role
from sitematch.service.confirm import CONFIRM_FIELD, confirm_page, is_confirmed
from sitematch.service.errors import NotFoundError
from sitematch.service.leads import LeadIn, RequestsIn, book, create_lead, kpi_tables, run_lead_match
from sitematch.service.leads import send_requests as send_lead_requests
from sitematch.service.matches import file_headers
from sitematch.service.runs import plain, read_result
from sitematch.service.state import Service, service
from sitematch.service.templating import render, translator

router = APIRouter(include_in_schema=False)
FOLLOWERS_PAGE = role("adviser", "planner", page=True)
#: The fields of an answer form, in order: (name, label, input type).
ANSWER_FIELDS = (
    (s.PRICE_SEK_M2, N_("price SEK/m²"), "number"),
    (s.READY, N_("ready to build (yes/no)"), "text"),
    (s.MIFO_RISK_CLASS, N_("MIFO class 1–4"), "number"),
    ("available_from", N_("available from"), "date"),
    ("grid_capacity_confirmed_mw", N_("grid capacity confirmed by the grid company, MW"), "number"),
    ("grid_confirmed_on", N_("confirmed on"), "date"),
    ("contact_person", N_("contact person"), "text"),
    ("reason", N_("reason (not available)"), "text"),
    ("note", "Kommentar / note", "text"),
)
assert {f for f, _, _ in ANSWER_FIELDS} == set(UPDATABLE) | set(NOTED)


def _lead_context(svc: Service, b: LeadBook, lead_id: str, who: Caller) -> dict[str, Any]:
    lead = app.visible_lead(b, who.user, lead_id)
    matches = b.matches(lead.id)
    latest = read_result(svc.matches_dir / matches[-1]) if matches else None
    planned = app.plan(svc, b, lead, matches[-1]) if matches else []
    requests = [app.municipality_view(r) for r in b.requests(lead_id=lead.id)]
    return {
        "lead": lead,
        "status_words": STATUS_WORDS,
        "next_statuses": NEXT[lead.status],
        "versions": b.profiles(lead.id),
        "matches": matches,
        "latest": latest,
        "planned": planned,
        "requests": requests,
        "shares": b.shares(lead.id),
        "answer_words": ANSWER_WORDS,
        "reply_by": (dt.date.today() + dt.timedelta(days=14)).isoformat(),
        "share_ids": ", ".join(r["plot_id"] for r in (latest or {}).get("ranked", [])[:5]),
    }


def _leads_page(
    request: Request, svc: Service, b: LeadBook, who: Caller, *, form: dict[str, Any] | None = None,
    error: str = "", status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {
        "leads": app.visible_leads(b, who.user),
        "status_words": STATUS_WORDS,
        "sources": SOURCES,
        "profiles": [p.summary() for p in svc.records.profiles(who.user)],
        "form": form or {"source": "direct"},
        "error": error,
    }
    return render(request, "leads.html", context, caller=who, status=status)


@router.get("/leads", response_class=HTMLResponse)
def leads_page(
    request: Request, svc: Service = Depends(service), b: LeadBook = Depends(book), who: Caller = Depends(ADVISER_PAGE)
) -> HTMLResponse:
    return _leads_page(request, svc, b, who)


def _profile_from_form(svc: Service, who: Caller, form: dict[str, str]) -> dict[str, Any]:
    if form.get("profile_id"):
        stored = svc.records.profile(form["profile_id"])
        stored.check(who.user, "profile")
        return dict(stored.data)
    text = form.get("profile_text", "").strip()
    if not text:
        raise LeadError("choose a stored profile or paste one (YAML or JSON)", key="profile")
    from sitematch._yaml import read_yaml
    from sitematch.errors import ProfileError

    data = read_yaml(text, where="the pasted profile", error=ProfileError).data  # JSON is YAML too
    if not isinstance(data, dict):
        raise ProfileError("the pasted profile is not a mapping of keys (name, requirements, preferences…)")
    return data


@router.post("/leads")
async def create_lead_page(
    request: Request, svc: Service = Depends(service), b: LeadBook = Depends(book), who: Caller = Depends(ADVISER_PAGE)
) -> Response:
    raw = await request.form()
    form = {k: str(v)[:20000] for k, v in raw.items() if isinstance(v, str)}
    try:
        body = LeadIn(
            reference=form.get("reference", "").strip() or "-",
            sector=form.get("sector", ""),
            source=form.get("source", "direct"),
            company=form.get("company", ""),
            contact=form.get("contact", ""),
            confidential=form.get("confidential") == "true",
            advisers=[a.strip() for a in form.get("advisers", "").split(",") if a.strip()],
            profile=_profile_from_form(svc, who, form),
        )
        if not form.get("reference", "").strip():
            raise LeadError("a lead needs a reference", key="reference")
        lead = create_lead(svc, b, who.user, body)
    except SitematchError as exc:
        return _leads_page(request, svc, b, who, form=form, error=str(exc), status=422)
    except ValueError as exc:  # pydantic: a field too long
        _ = translator(request, who)
        error = _("check the fields:") + f" {str(exc)[:300]}"
        return _leads_page(request, svc, b, who, form=form, error=error, status=422)
    request.state.audit = {"lead": lead.id, "confidential": lead.confidential}
    return RedirectResponse(f"/leads/{lead.id}", status_code=303)


@router.get("/leads/{lead_id}", response_class=HTMLResponse)
def lead_page(
    request: Request, lead_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER_PAGE),
) -> HTMLResponse:  # fmt: skip
    return render(request, "lead.html", _lead_context(svc, b, lead_id, who), caller=who)


def _lead_action_error(
    request: Request, svc: Service, b: LeadBook, lead_id: str, who: Caller, exc: SitematchError, **typed: Any
) -> HTMLResponse:
    """The lead's page again with the error, and what was typed in the form kept (``typed``)."""
    context = {**_lead_context(svc, b, lead_id, who), "error": str(exc), **typed}
    from sitematch.service.errors import status_of

    return render(request, "lead.html", context, caller=who, status=status_of(exc))


@router.post("/leads/{lead_id}/status")
def lead_status_page(
    request: Request, lead_id: str, status: str = Form(max_length=40), reason: str = Form(default="", max_length=1000),
    svc: Service = Depends(service), b: LeadBook = Depends(book), who: Caller = Depends(ADVISER_PAGE),
) -> Response:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    try:
        b.set_status(lead.id, status, who.user.username, reason)
    except LeadError as exc:
        return _lead_action_error(request, svc, b, lead_id, who, exc)
    request.state.audit = {"lead": lead.id, "status": status}
    return RedirectResponse(f"/leads/{lead.id}", status_code=303)


@router.post("/leads/{lead_id}/match")
async def lead_match_page(
    request: Request, lead_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER_PAGE),
) -> Response:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    try:
        out = await run_lead_match(request, svc, b, who.user, lead)
    except SitematchError as exc:
        return _lead_action_error(request, svc, b, lead_id, who, exc)
    request.state.audit = {"lead": lead.id, "match": out["id"]}
    return RedirectResponse(f"/leads/{lead.id}#requests", status_code=303)


@router.post("/leads/{lead_id}/requests")
async def lead_requests_page(
    request: Request, lead_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER_PAGE),
) -> Response:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    form = await request.form()
    chosen = [str(v) for v in form.getlist("municipality")]
    try:
        body = RequestsIn(reply_by=str(form.get("reply_by", ""))[:20], municipalities=chosen)
        ids = send_lead_requests(svc, b, who.user, lead, body)
    except SitematchError as exc:
        return _lead_action_error(request, svc, b, lead_id, who, exc)
    request.state.audit = {"lead": lead.id, "requests": ids}
    return RedirectResponse(f"/leads/{lead.id}#requests", status_code=303)


@router.post("/leads/{lead_id}/rerank", response_class=HTMLResponse)
async def lead_rerank_page(
    request: Request, lead_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER_PAGE),
) -> HTMLResponse:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    try:
        before = app.compared_match_id(b, lead)
        out = await run_lead_match(request, svc, b, who.user, lead)
    except SitematchError as exc:
        return _lead_action_error(request, svc, b, lead_id, who, exc)
    request.state.audit = {"lead": lead.id, "match": out["id"]}
    context = {**_lead_context(svc, b, lead_id, who), "changes": app.shortlist_changes(svc, before, out["id"])}
    return render(request, "lead.html", context, caller=who)


@router.post("/leads/{lead_id}/shares", response_class=HTMLResponse)
def lead_share_page(
    request: Request, lead_id: str, plot_ids: str = Form(max_length=5000), days: int = Form(default=30),
    svc: Service = Depends(service), b: LeadBook = Depends(book), who: Caller = Depends(ADVISER_PAGE),
) -> HTMLResponse:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    matches = b.matches(lead.id)
    try:
        if not matches:
            raise LeadError("match the lead first", key="match_id")
        ids = [p.strip() for p in plot_ids.replace("\n", ",").split(",") if p.strip()]
        share_id, token = app.share(svc, b, who.user, lead, matches[-1], ids, days)
    except SitematchError as exc:
        return _lead_action_error(request, svc, b, lead_id, who, exc, share_ids=plot_ids, share_days=days)
    request.state.audit = {"lead": lead.id, "share": share_id}
    context = {**_lead_context(svc, b, lead_id, who), "new_link": f"/shared/{token}"}
    return render(request, "lead.html", context, caller=who, status=201)


@router.post("/leads/{lead_id}/shares/{share_id}/revoke")
def lead_revoke_page(
    request: Request, lead_id: str, share_id: str, b: LeadBook = Depends(book), who: Caller = Depends(ADVISER_PAGE),
    confirm: str = Form(default="", alias=CONFIRM_FIELD, max_length=8),
) -> Response:  # fmt: skip
    lead = app.visible_lead(b, who.user, lead_id)
    if not is_confirmed(confirm):  # asks first, naming the link by its sites (404 for no active link)
        found = [sh for sh in b.shares(lead.id) if sh["id"] == share_id and not sh["revoked_at"]]
        if not found:
            raise NotFoundError(f"no active shared link {share_id[:40]!r} for this lead", key="share")
        name = ", ".join(found[0]["plot_ids"])
        return confirm_page(request, who, "revoke_share", name=name, back=f"/leads/{lead.id}#shares")
    with app.found():
        b.revoke_share(lead.id, share_id)
    request.state.audit = {"lead": lead.id, "share": share_id, "revoked": True}
    return RedirectResponse(f"/leads/{lead.id}#shares", status_code=303)


@router.post("/matches/{match_id}/weights")
async def save_weights_page(
    request: Request, match_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(ADVISER_PAGE),
) -> Response:  # fmt: skip
    """The weights tried in the map's what-if, kept as a new version of the lead's profile."""
    import json

    from sitematch.service.errors import ServiceError
    from sitematch.service.matches import visible_match
    from sitematch.service.profiles import parse

    visible_match(svc, who.user, match_id)
    lead_id = b.lead_of_match(match_id)
    if lead_id is None:
        raise ServiceError(
            "this match is not a lead's: record the lead (Leads) and match it there to keep its weights", key="weights"
        )
    lead = app.visible_lead(b, who.user, lead_id)
    form = await request.form()
    try:
        weights = json.loads(str(form.get("weights", ""))[:10000])
        assert isinstance(weights, dict)
    except (ValueError, AssertionError):
        raise ServiceError("weights: expected the what-if panel's weights", key="weights") from None
    data = dict(b.profiles(lead.id)[-1]["data"])
    preferences = dict(data.get("preferences") or {})
    unknown = sorted(set(weights) - set(preferences))
    if unknown:
        raise ServiceError(f"weights: {', '.join(unknown)[:100]} is not a preference of this lead", key="weights")
    for criterion, weight in weights.items():
        entry = preferences[criterion]
        preferences[criterion] = {**entry, "weight": weight} if isinstance(entry, dict) else {"weight": weight}
    data["preferences"] = preferences
    parse(svc, {**data, "lead": {"reference": lead.reference}}, slug="lead")  # a weight below 0 is refused here
    version = b.save_profile(lead.id, data, who.user.username)
    request.state.audit = {"lead": lead.id, "profile_version": version}
    return RedirectResponse(f"/leads/{lead.id}", status_code=303)


# -- municipalities --------------------------------------------------------------------------------


@router.get("/requests", response_class=HTMLResponse)
def requests_page(
    request: Request, b: LeadBook = Depends(book), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> HTMLResponse:
    rows = sorted(
        (app.municipality_view(r) for r in app.requests_for(b, who.user)),
        key=lambda r: (r["answered_at"] is not None, r["reply_by"]),
    )
    notes = b.notifications(f"municipality:{who.user.municipality}") if who.user.municipality else []
    return render(request, "requests.html", {"requests": rows, "notifications": notes[:10]}, caller=who)


def _request_page(
    request: Request, b: LeadBook, who: Caller, request_id: str, *, error: str = "", done: str = "",
    typed: dict[str, dict[str, str]] | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    req = app.municipality_view(app.visible_request(b, who.user, request_id))
    context = {
        "req": req, "answers": ANSWERS, "answer_words": ANSWER_WORDS, "fields": ANSWER_FIELDS,
        "error": error, "done": done, "typed": typed or {},
    }  # fmt: skip
    return render(request, "request.html", context, caller=who, status=status)


@router.get("/requests/{request_id}", response_class=HTMLResponse)
def request_page(
    request: Request, request_id: str, b: LeadBook = Depends(book), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> HTMLResponse:
    return _request_page(request, b, who, request_id)


@router.post("/requests/{request_id}/answers", response_class=HTMLResponse)
async def answer_page(
    request: Request, request_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> Response:  # fmt: skip
    req = app.visible_request(b, who.user, request_id)
    form = await request.form()
    plot_id = str(form.get("plot_id", ""))[:200]
    detail = {f: str(form.get(f, ""))[:1000] for f, _, _ in ANSWER_FIELDS if str(form.get(f, "")).strip()}
    answer = str(form.get("answer", ""))[:40]
    try:
        if answer == "proposed":
            app.check_proposed(svc, req, plot_id)
        b.answer(req.id, plot_id, answer, who.user.username, detail)
    except SitematchError as exc:
        return _request_page(request, b, who, request_id, error=f"{plot_id}: {exc}", typed={plot_id: detail},
                             status=422)  # fmt: skip
    return RedirectResponse(f"/requests/{req.id}#site-{plot_id}", status_code=303)


@router.post("/requests/{request_id}/send", response_class=HTMLResponse)
async def send_answers_page(
    request: Request, request_id: str, svc: Service = Depends(service), b: LeadBook = Depends(book),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:  # fmt: skip
    req = app.visible_request(b, who.user, request_id)
    try:
        stored = await run_in_threadpool(app.apply_answers, svc, req, who.user)
        sent = b.send_answers(req.id, who.user.username)
    except SitematchError as exc:
        from sitematch.service.errors import status_of

        return _request_page(request, b, who, request_id, error=str(exc), status=status_of(exc))
    request.state.audit = {"request": req.id, "answers": sent, "plots": stored}
    _ = translator(request, who)
    new_versions = ", ".join(stored.get("updated", []) + stored.get("inserted", [])) if stored else ""
    done = _("%(n)s answers sent") % {"n": sent}
    if new_versions:
        done += "; " + _("new versions of %(plots)s") % {"plots": new_versions}
    return _request_page(request, b, who, request_id, done=done)


# -- figures ---------------------------------------------------------------------------------------------


@router.get("/kpi", response_class=HTMLResponse)
def kpi_page(
    request: Request, start: str | None = None, end: str | None = None, b: LeadBook = Depends(book),
    who: Caller = Depends(FOLLOWERS_PAGE),
) -> HTMLResponse:  # fmt: skip
    start, end = start or None, end or None
    try:
        tables = kpi_tables(b, start, end)
        error = ""
    except LeadError as exc:
        tables, error = kpi_tables(b, None, None), str(exc)
    rows = {name: [{k: plain(v) for k, v in r.items()} for r in data] for name, data in tables}
    context = {"tables": rows, "start": start or "", "end": end or "", "error": error}
    return render(request, "kpi.html", context, caller=who, status=422 if error else 200)


@router.get("/kpi/{name}.csv")
def kpi_csv(
    name: str, start: str | None = None, end: str | None = None, excel: bool = False, b: LeadBook = Depends(book),
    who: Caller = Depends(FOLLOWERS_PAGE),
) -> Response:  # fmt: skip
    import pandas as pd

    from sitematch._io import spreadsheet_safe
    from sitematch.export.tables import DIALECTS

    tables = dict(kpi_tables(b, start or None, end or None))
    if name not in tables:
        from sitematch.service.errors import NotFoundError

        raise NotFoundError(f"no figures {name[:40]!r}; there are: {', '.join(tables)}")
    options = DIALECTS["excel" if excel else "plain"]
    buffer = io.StringIO()
    spreadsheet_safe(pd.DataFrame(tables[name])).to_csv(
        buffer, index=False, sep=options["sep"], decimal=options["decimal"]
    )
    data = buffer.getvalue().encode(options["encoding"])
    return Response(
        data, media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"', "X-Content-Type-Options": "nosniff"},
    )  # fmt: skip


# -- the investor's link -----------------------------------------------------------------------------------


def _shared(svc: Service, b: LeadBook, token: str, *, log: bool) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with app.found():
        share = b.open_share(token[:100], log=log)
    ranked = {r["plot_id"]: r for r in read_result(svc.matches_dir / share["match_id"])["ranked"]}
    keep = ("plot_id", "municipality", "name", "facts", "score")
    sites = [{k: ranked[p].get(k) for k in keep} | {"order": i + 1} for i, p in enumerate(share["plot_ids"])]
    return share, sites


@router.get("/shared/{token}", response_class=HTMLResponse)
def shared_page(
    request: Request, token: str, svc: Service = Depends(service), b: LeadBook = Depends(book)
) -> HTMLResponse:
    share, sites = _shared(svc, b, token, log=True)
    response = render(request, "shared.html", {"sites": sites, "token": token, "expires": share["expires_at"]})
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/shared/{token}/map.html", response_class=HTMLResponse)
def shared_map(token: str, svc: Service = Depends(service), b: LeadBook = Depends(book)) -> HTMLResponse:
    import geopandas as gpd

    from sitematch.service.maps import plots_map

    share, _ = _shared(svc, b, token, log=False)
    ranked = gpd.read_file(svc.matches_dir / share["match_id"] / "ranking.gpkg", layer="ranked")
    chosen = ranked[ranked[s.PLOT_ID].isin(share["plot_ids"])][[s.PLOT_ID, s.NAME, s.AREA_HA, s.GEOMETRY]]
    headers = {**file_headers("map.html"), "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return HTMLResponse(plots_map(chosen, svc.region), headers=headers)
