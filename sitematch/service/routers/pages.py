"""The pages: log in and out, each role's start page, accounts and tokens.

Pages for a role's work are in :mod:`.adviser_pages`, :mod:`.municipality_pages`,
:mod:`.planner_pages` and :mod:`.lead_pages` (the application includes each). Every form that
changes something carries the session's CSRF token; every page runs no inline script.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sitematch import settings
from sitematch.errors import SitematchError
from sitematch.i18n import LANGUAGE_NAMES
from sitematch.service.accounts import iso
from sitematch.service.auth import ADMIN_PAGE, COOKIE, CSRF_FIELD, Caller, page_caller
from sitematch.service.confirm import CONFIRM_FIELD, confirm_page, is_confirmed
from sitematch.service.errors import NotFoundError, status_of
from sitematch.service.logins import LoginsBusyError, TooManyLoginsError
from sitematch.service.state import Service, service
from sitematch.service.templating import home, render, translator

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (never another site: ``//host`` or ``https://``)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


#: The login form's CSRF cookie (double submit: the form carries the same value). There is no
#: session yet, so the token lives in its own short cookie.
LOGIN_COOKIE = "sitematch_login"


def _login_form(
    request: Request, next_: str, *, status: int = 200, headers: dict[str, str] | None = None, **extra: Any
) -> HTMLResponse:
    """The login page with a fresh form token (its cookie set alongside)."""
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", {"next": next_, "login_token": token, **extra}, status=status)
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        secure=settings.service_cookie_secure,
        samesite="strict",
        path="/login",
    )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def own_origin(request: Request) -> str:
    """The origin a browser on this service's pages sends (``scheme://host[:port]``)."""
    return f"{request.url.scheme}://{request.url.netloc}".lower()


def login_posted_here(request: Request, form_token: str) -> bool:
    """Whether a login form came from this service's own login page.

    The form's token must equal its cookie's (a page on another site can read neither), and the
    ``Origin`` header, when the browser sends one, must be this service (or one of
    ``settings.service_allowed_origins``).
    """
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not form_token or not hmac.compare_digest(cookie.encode(), form_token.encode()):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {own_origin(request), *(o.lower() for o in settings.service_allowed_origins)}
    return origin.lower().rstrip("/") in allowed


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_form(request, _safe_next(next) or "")


@router.post("/login")
async def login(
    request: Request,
    username: str = Form(max_length=64),
    password: str = Form(max_length=200),
    next: str = Form(default="", max_length=500),
    form_token: str = Form(default="", alias=CSRF_FIELD, max_length=100),
) -> Response:
    # On the event loop but for the password check: a flood of refused logins never takes the
    # threads that answer everyone else (and the service is not a dependency, which takes one).
    svc: Service = request.app.state.service
    next_ = _safe_next(next) or ""
    if not login_posted_here(request, form_token):
        _ = translator(request, None)
        error = _("The login form was not sent from this site's login page: reload it and log in again.")
        return _login_form(request, next_, status=403, error=error)
    address = request.client.host if request.client else "-"
    try:
        svc.logins.check(username, address)
        await svc.logins.take_slot_soon(address)
    except (TooManyLoginsError, LoginsBusyError) as exc:
        request.state.audit = {"login": "refused", "status": exc.status}
        await asyncio.sleep(settings.service_login_refusal_delay_s)
        return _login_form(request, next_, status=exc.status, headers=exc.headers, error=exc.message,
                           username=username)  # fmt: skip
    try:
        user = await run_in_threadpool(svc.logins.verify, username, password, address)
    finally:
        svc.logins.release_slot()
    if user is None:
        await asyncio.sleep(settings.service_login_refusal_delay_s)
        _ = translator(request, None)
        error = _("Wrong user name or password.")
        return _login_form(request, next_, status=401, error=error, username=username)
    request.state.username = user.username
    session, _csrf = await run_in_threadpool(svc.accounts.start_session, user)
    request.state.audit = {"login": user.username}
    target = next_ or home(Caller(user, "session"))
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
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
    return _accounts(request, svc, who)


def _accounts(request: Request, svc: Service, who: Caller, *, status: int = 200, **extra: Any) -> HTMLResponse:
    """The accounts page; after a refused form, with its error and what was typed (never the password)."""
    # a lock lasts at most service_login_lockout_s (minutes): the time of day says enough
    locked = {name: f"{iso(until)[11:19]} UTC" for name, until in svc.accounts.locked(svc.logins.clock()).items()}
    context = {"accounts": svc.accounts.all(), "locked": locked, "form": {}, **extra}
    return render(request, "accounts.html", context, caller=who, status=status)


@router.post("/accounts/{username}/unlock")
def unlock_account(
    request: Request, username: str, svc: Service = Depends(service), who: Caller = Depends(ADMIN_PAGE)
) -> Response:
    svc.accounts.unlock(username)
    svc.logins.forget_name(username)
    request.state.audit = {"unlock": username[:64]}
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts")
def add_account(
    request: Request,
    username: str = Form(max_length=64),
    account_role: str = Form(alias="role", max_length=20),
    password: str = Form(max_length=200),
    svc: Service = Depends(service),
    who: Caller = Depends(ADMIN_PAGE),
) -> Response:
    try:
        user = svc.accounts.add(username, account_role, password)
    except SitematchError as exc:  # the form again: the message, the menu, what was typed
        typed = {"username": username, "role": account_role}
        return _accounts(request, svc, who, status=status_of(exc), error=exc.message, form=typed)
    request.state.audit = {"account": user.username, "role": user.role}
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/{username}/delete")
def remove_account(
    request: Request,
    username: str,
    confirm: str = Form(default="", alias=CONFIRM_FIELD, max_length=8),
    svc: Service = Depends(service),
    who: Caller = Depends(ADMIN_PAGE),
) -> Response:
    if not is_confirmed(confirm):  # asks first (and 404 for no such account)
        if svc.accounts.get(username) is None:
            raise NotFoundError(f"no account {username[:64]!r}")
        return confirm_page(request, who, "delete_account", name=username, back="/accounts")
    svc.accounts.remove(username)
    request.state.audit = {"account": username}
    return RedirectResponse("/accounts", status_code=303)


def _tokens(request: Request, svc: Service, who: Caller, *, status: int = 200, **extra: Any) -> HTMLResponse:
    context = {
        "tokens": svc.accounts.tokens(who.user.username),
        "token_days": f"{settings.service_token_days:g}",
        "languages": LANGUAGE_NAMES,
        **extra,
    }
    return render(request, "tokens.html", context, caller=who, status=status)


def _token_name(svc: Service, who: Caller, token_id: str) -> str:
    """The name of one of the caller's tokens; NotFoundError (404) if it has no such token."""
    for t in svc.accounts.tokens(who.user.username):
        if t["id"] == token_id:
            return str(t["name"])
    raise NotFoundError(f"no token {token_id[:40]!r} of yours")


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
    return _tokens(request, svc, who, new_token=token)


@router.post("/tokens/{token_id}/rotate", response_class=HTMLResponse)
def rotate_token(
    request: Request,
    token_id: str,
    confirm: str = Form(default="", alias=CONFIRM_FIELD, max_length=8),
    svc: Service = Depends(service),
    who: Caller = Depends(page_caller),
) -> HTMLResponse:
    if not is_confirmed(confirm):
        name = _token_name(svc, who, token_id)
        return confirm_page(request, who, "rotate_token", name=name, back="/tokens")
    new_id, token = svc.accounts.rotate_token(who.user.username, token_id)
    request.state.audit = {"token": new_id, "replaces": token_id[:20]}
    return _tokens(request, svc, who, new_token=token)


@router.post("/language")
def set_language(
    request: Request,
    language: str = Form(default="", max_length=10),
    svc: Service = Depends(service),
    who: Caller = Depends(page_caller),
) -> Response:
    """The account's page language (``sv``, ``en``, or empty: the browser's, else the role's default)."""
    svc.accounts.set_language(who.user.username, language or None)
    request.state.audit = {"language": language or "-"}
    return RedirectResponse("/tokens", status_code=303)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(
    request: Request,
    token_id: str,
    confirm: str = Form(default="", alias=CONFIRM_FIELD, max_length=8),
    svc: Service = Depends(service),
    who: Caller = Depends(page_caller),
) -> Response:
    if not is_confirmed(confirm):
        name = _token_name(svc, who, token_id)
        return confirm_page(request, who, "revoke_token", name=name, back="/tokens")
    svc.accounts.revoke_token(who.user.username, token_id)
    request.state.audit = {"token": token_id}
    return RedirectResponse("/tokens", status_code=303)
