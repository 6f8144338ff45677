"""The adviser's pages: pick or edit a profile in a form, run the match, see the map and the ranked table."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sitematch.errors import ProfileError
from sitematch.service import forms
from sitematch.service.auth import ADVISER_PAGE, Caller, page_caller
from sitematch.service.matches import links, start_match, summary, visible_match
from sitematch.service.runs import for_municipality, read_result
from sitematch.service.state import Service, service
from sitematch.service.templating import render

router = APIRouter(include_in_schema=False)


def _form_page(
    request: Request, svc: Service, who: Caller, data: dict, *, picked: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    context = {
        "profiles": [p.summary() for p in svc.records.profiles(who.user)],
        "picked": picked,
        "form": forms.fields(data, svc.registry),
        "matches": [summary(m) for m in svc.records.matches(who.user, limit=10)],
        "error": error,
    }
    return render(request, "match.html", context, caller=who, status=status)


@router.get("/match", response_class=HTMLResponse)
def match_page(
    request: Request,
    profile: str | None = None,
    svc: Service = Depends(service),
    who: Caller = Depends(ADVISER_PAGE),
) -> HTMLResponse:
    data = forms.STARTER
    if profile:
        stored = svc.records.profile(profile)
        stored.check(who.user, "profile")
        data = stored.data
    return _form_page(request, svc, who, data, picked=profile or "")


@router.post("/match")
async def run_match_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(ADVISER_PAGE)
) -> Response:
    form = await request.form()
    try:
        base = json.loads(str(form.get("base") or "{}"))
    except json.JSONDecodeError:
        base = forms.STARTER
    data = forms.apply(base if isinstance(base, dict) else forms.STARTER, form)  # type: ignore[arg-type]
    try:
        stored, _ = await start_match(request, svc, who.user, profile_id=None, data=data)
    except ProfileError as exc:
        return _form_page(request, svc, who, data, error=str(exc), status=422)
    request.state.audit = {"match": stored.id, "confidential": stored.confidential}
    return RedirectResponse(f"/matches/{stored.id}", status_code=303)


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match_result_page(
    request: Request, match_id: str, svc: Service = Depends(service), who: Caller = Depends(page_caller)
) -> HTMLResponse:
    stored = visible_match(svc, who.user, match_id)
    result = read_result(svc.matches_dir / stored.id)
    if who.user.municipality:
        result = for_municipality(result, who.user.municipality)
    context = {"match": summary(stored), "result": result, "links": links(stored.id), "full": not who.user.municipality}
    return render(request, "result.html", context, caller=who)
