"""The adviser's pages: fill in a whole profile in a form (or paste one), run the match or keep the
profile, and see the map and the ranked table.

The form is :mod:`sitematch.service.forms`. A form the library refuses comes back with 422, a message
next to the field, every typed value and the menu; a busy service (503) keeps the values too.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sitematch.criteria import Parameter
from sitematch.errors import ProfileError
from sitematch.i18n import translations
from sitematch.profile import parse_profile, parse_profile_json
from sitematch.service import forms
from sitematch.service.auth import ADVISER_PAGE, Caller, page_caller
from sitematch.service.errors import ServiceError
from sitematch.service.matches import links, start_match, summary, visible_match
from sitematch.service.profiles import check_advisers, parse
from sitematch.service.runs import for_municipality, in_language, read_result
from sitematch.service.state import Service, service
from sitematch.service.templating import page_language, render

router = APIRouter(include_in_schema=False)

#: Where a pasted profile is said to come from in messages.
PASTED = "the pasted profile"
#: Where the form's profile is said to come from in messages.
FORM = "the form"


def _members(svc: Service) -> dict[str, Any]:
    """The region's municipalities (members and neighbours) and counties, for the region's help text."""
    region = svc.region
    names = dict(region.municipality_names)
    members: list[str] = []
    if region.members is not None and "municipality_code" in region.members:
        members = sorted(set(region.members["municipality_code"].astype(str)))
    counties = region.get("counties")
    county_names: list[tuple[str, str]] = []
    if counties is not None and "county_code" in counties:
        label = "county_name" if "county_name" in counties else "county_code"
        county_names = sorted(zip(counties["county_code"].astype(str), counties[label].astype(str), strict=True))
    return {
        "members": [(c, names.get(c, "")) for c in members],
        "neighbours": sorted((c, n) for c, n in names.items() if c not in set(members)),
        "counties": county_names,
    }


def _form_page(
    request: Request,
    svc: Service,
    who: Caller,
    state: forms.State,
    *,
    picked: str = "",
    errors: dict[str, str] | None = None,
    notes: list[str] | None = None,
    saved: str = "",
    status: int = 200,
) -> HTMLResponse:
    errors = dict(errors or {})
    lang = page_language(request, who)
    _ = translations(lang).gettext
    context = {
        "profiles": [p.summary() for p in svc.records.profiles(who.user)],
        "picked": picked,
        "form": forms.View(state, errors, svc.registry, lang),
        "region": _members(svc),
        "parameters": [(_parameter(p, lang), forms.show_number(p.default)) for p in svc.registry.parameters.values()],
        "if_unknown_words": {k: _(v) for k, v in forms.IF_UNKNOWN_WORDS.items()},
        "shapes": forms.SHAPES,
        "general": errors.pop("", ""),
        "error_count": len(errors),
        "notes": notes or [],
        "saved": saved,
        "matches": [summary(m) for m in svc.records.matches(who.user, limit=10)],
    }
    return render(request, "match.html", context, caller=who, status=status, lang=lang)


def _parameter(p: Parameter, lang: str) -> SimpleNamespace:
    """A parameter as the form shows it: its label and description in ``lang``."""
    _ = translations(lang).gettext
    return SimpleNamespace(
        name=p.name, label=_(p.label), unit=p.unit, description=_(p.description) if p.description else ""
    )


@router.get("/match", response_class=HTMLResponse)
def match_page(
    request: Request,
    profile: str | None = None,
    saved: str | None = None,
    svc: Service = Depends(service),
    who: Caller = Depends(ADVISER_PAGE),
) -> HTMLResponse:
    if not profile:
        return _form_page(request, svc, who, forms.starter_values(svc.registry, page_language(request, who)))
    stored = svc.records.profile(profile)
    stored.check(who.user, "profile")
    lang = page_language(request, who)
    try:
        state, notes = forms.form_values(stored.profile(svc.registry), lang)
        state["save.advisers"] = [", ".join(stored.advisers)]
    except ProfileError as exc:  # kept before the region's criteria changed
        said = translations(lang).gettext("profile %(name)s no longer fits the region's criteria: %(error)s")
        errors = {"": said % {"name": repr(stored.name), "error": exc}}
        return _form_page(request, svc, who, forms.starter_values(svc.registry), errors=errors, status=422)
    return _form_page(request, svc, who, state, picked=profile, notes=notes,
                      saved=stored.name if saved and stored.created_by == who.user.username else "")  # fmt: skip


def _refused(exc: ProfileError, svc: Service, lang: str = "en", where_field: str = "") -> dict[str, str]:
    key = forms.field_of(exc.key, svc.registry) or where_field
    return {key: forms.message_of(exc, lang) if key else str(exc)}


@router.post("/match")
async def post_match_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(ADVISER_PAGE)
) -> Response:
    """The form's three buttons: run the match, keep the profile, fill the form from a pasted profile."""
    posted = await request.form()
    state = forms.state_of(posted.multi_items())
    action = forms.first(state, "action") or "run"
    picked = forms.first(state, "picked")
    if action == "paste":
        return _paste(request, svc, who, state, picked)
    data, errors = forms.profile_data(state, svc.registry, page_language(request, who))
    if errors:
        return _form_page(request, svc, who, state, picked=picked, errors=errors, status=422)
    if action == "save":
        try:
            profile = await run_in_threadpool(parse, svc, data)
        except ProfileError as exc:
            return _form_page(
                request,
                svc,
                who,
                state,
                picked=picked,
                errors=_refused(exc, svc, page_language(request, who)),
                status=422,
            )
        advisers = [a for a in forms.SPLIT.split(forms.first(state, "save.advisers")) if a]
        try:
            check_advisers(svc, advisers)
        except ServiceError as exc:
            return _form_page(request, svc, who, state, picked=picked, errors={"save.advisers": str(exc)}, status=422)
        stored = await run_in_threadpool(
            svc.records.add_profile, profile, created_by=who.user.username, advisers=tuple(advisers)
        )
        request.state.audit = {"profile": stored.id, "confidential": stored.confidential}
        return RedirectResponse(f"/match?profile={stored.id}&saved=1", status_code=303)
    try:
        match, _ = await start_match(request, svc, who.user, profile_id=None, data=data)
    except ProfileError as exc:
        return _form_page(
            request, svc, who, state, picked=picked, errors=_refused(exc, svc, page_language(request, who)), status=422
        )
    except ServiceError as exc:  # busy (503) or out of time: the typed profile stays
        page = _form_page(request, svc, who, state, picked=picked, errors={"": str(exc)}, status=exc.status)
        page.headers.update(exc.headers)
        return page
    request.state.audit = {"match": match.id, "confidential": match.confidential}
    return RedirectResponse(f"/matches/{match.id}", status_code=303)


def _paste(request: Request, svc: Service, who: Caller, state: forms.State, picked: str) -> HTMLResponse:
    """Fill the form from a pasted YAML or JSON profile, read as a profile file is read."""
    text = forms.first(state, "paste")
    try:
        if text.lstrip().startswith("{"):
            profile = parse_profile_json(text, where=PASTED, registry=svc.registry)
        else:
            profile = parse_profile(text, where=PASTED, registry=svc.registry)
    except ProfileError as exc:
        return _form_page(request, svc, who, state, picked=picked, errors={"paste": str(exc)}, status=422)
    lang = page_language(request, who)
    filled, notes = forms.form_values(profile, lang)
    shows = translations(lang).gettext(
        "The form now shows the pasted profile (%(name)s): check it, then run the match or keep it."
    ) % {"name": profile.name}
    notes = [shows, *notes, *profile.warnings]
    return _form_page(request, svc, who, filled, notes=notes)


@router.get("/match/status")
def match_status(_: Caller = Depends(ADVISER_PAGE)) -> JSONResponse:
    """How busy this server's match workers are (for the form's progress line): running and waiting."""
    from sitematch.service.pool import pool

    return JSONResponse(pool().snapshot(), headers={"Cache-Control": "no-store"})


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match_result_page(
    request: Request, match_id: str, svc: Service = Depends(service), who: Caller = Depends(page_caller)
) -> HTMLResponse:
    stored = visible_match(svc, who.user, match_id)
    result = read_result(svc.matches_dir / stored.id)
    if who.user.municipality:
        result = for_municipality(result, who.user.municipality)
    result = in_language(result, page_language(request, who))
    context = {"match": summary(stored), "result": result, "links": links(stored.id), "full": not who.user.municipality}
    return render(request, "result.html", context, caller=who)
