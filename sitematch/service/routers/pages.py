"""The pages: log in and out, each role's start page, accounts and tokens.

Pages for a role's work are in :mod:`.adviser_pages`, :mod:`.municipality_pages` and
:mod:`.planner_pages`; this router includes them. Every form that changes something carries the
session's CSRF token; every page runs no inline script.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sitematch import settings
from sitematch.service.auth import ADMIN_PAGE, COOKIE, Caller, page_caller
from sitematch.service.routers import adviser_pages, lead_pages, municipality_pages, planner_pages
from sitematch.service.state import Service, service
from sitematch.service.templating import home, render

router = APIRouter(include_in_schema=False)
for sub in (adviser_pages.router, municipality_pages.router, planner_pages.router, lead_pages.router):
    router.include_router(sub)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never another site: ``//host`` or ``https://``)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next) or ""})


@router.post("/login")
def login(
    request: Request,
    username: str = Form(max_length=64),
    password: str = Form(max_length=200),
    next: str = Form(default="", max_length=500),
    svc: Service = Depends(service),
) -> Response:
    user = svc.accounts.login(username, password)
    request.state.username = username[:64]
    if user is None:
        context = {"next": _safe_next(next) or "", "error": "Wrong user name or password.", "username": username}
        return render(request, "login.html", context, status=401)
    session, _ = svc.accounts.start_session(user)
    request.state.audit = {"login": user.username}
    target = _safe_next(next) or home(Caller(user, "session"))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        session,
        max_age=int(settings.service_session_hours * 3600),
        httponly=True,
        secure=settings.service_cookie_secure,
        samesite="lax",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, svc: Service = Depends(service), who: Caller = Depends(page_caller)) -> Response:
    svc.accounts.end_session(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def start(who: Caller = Depends(page_caller)) -> Response:
    return RedirectResponse(home(who), status_code=303)


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, svc: Service = Depends(service), who: Caller = Depends(ADMIN_PAGE)) -> HTMLResponse:
    return render(request, "accounts.html", {"accounts": svc.accounts.all()}, caller=who)


@router.post("/accounts")
def add_account(
    request: Request,
    username: str = Form(max_length=64),
    account_role: str = Form(alias="role", max_length=20),
    password: str = Form(max_length=200),
    svc: Service = Depends(service),
    who: Caller = Depends(ADMIN_PAGE),
) -> Response:
    user = svc.accounts.add(username, account_role, password)
    request.state.audit = {"account": user.username, "role": user.role}
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/{username}/delete")
def remove_account(
    request: Request, username: str, svc: Service = Depends(service), who: Caller = Depends(ADMIN_PAGE)
) -> Response:
    svc.accounts.remove(username)
    request.state.audit = {"account": username}
    return RedirectResponse("/accounts", status_code=303)


def _tokens(request: Request, svc: Service, who: Caller, **extra: Any) -> HTMLResponse:
    return render(request, "tokens.html", {"tokens": svc.accounts.tokens(who.user.username), **extra}, caller=who)


@router.get("/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, svc: Service = Depends(service), who: Caller = Depends(page_caller)) -> HTMLResponse:
    return _tokens(request, svc, who)


@router.post("/tokens", response_class=HTMLResponse)
def add_token(
    request: Request,
    name: str = Form(default="token", max_length=100),
    svc: Service = Depends(service),
    who: Caller = Depends(page_caller),
) -> HTMLResponse:
    token_id, token = svc.accounts.create_token(who.user.username, name)
    request.state.audit = {"token": token_id}
    return _tokens(request, svc, who, new_token=token, status=201)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: str, svc: Service = Depends(service), who: Caller = Depends(page_caller)
) -> Response:
    svc.accounts.revoke_token(who.user.username, token_id)
    request.state.audit = {"token": token_id}
    return RedirectResponse("/tokens", status_code=303)
