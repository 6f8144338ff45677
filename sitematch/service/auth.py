"""Who is asking, and may they: FastAPI dependencies for authentication, roles and CSRF.

Credentials, in the order they are looked at:

- ``Authorization: Bearer smt_…`` — an API token (scripts, QGIS's "API header" authentication);
- ``Authorization: Basic`` with the user name and an API token as the password (QGIS's and GDAL's
  "Basic" authentication);
- the session cookie of a logged-in browser; a request that may change something must then carry
  the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).

No credentials (or wrong ones) is 401 with ``WWW-Authenticate``; the wrong role is 403.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Depends, Request

from sitematch.service.accounts import User
from sitematch.service.errors import ForbiddenError, NotAuthenticatedError
from sitematch.service.state import Service, service

COOKIE = "sitematch_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: the account, how it came in, and its session's CSRF token."""

    user: User
    via: str  # "token" or "session"
    csrf: str = ""


class LoginRequiredError(NotAuthenticatedError):
    """A page was asked for without a login: the answer is the login page (a redirect)."""


def _from_header(svc: Service, header: str) -> User:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        user = svc.accounts.token_user(value)
    elif scheme.lower() == "basic":
        try:
            name, _, token = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise NotAuthenticatedError("the Basic credentials are not base64 of user:token") from None
        user = svc.accounts.token_user(token)
        if user is not None and user.username != name:
            user = None
    else:  # never echo the header: without a scheme its first word is the token itself
        raise NotAuthenticatedError("the Authorization header is not 'Bearer <token>' or 'Basic <base64 user:token>'")
    if user is None:
        raise NotAuthenticatedError("the API token is not valid (revoked, or mistyped); create a new one")
    return user


async def _csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given, expected)


async def optional_caller(request: Request, svc: Service = Depends(service)) -> Caller | None:
    """The caller, or None when the request carries no credentials at all."""
    header = request.headers.get("authorization")
    if header:
        caller = Caller(_from_header(svc, header), "token")
    else:
        cookie = request.cookies.get(COOKIE)
        found = svc.accounts.session(cookie) if cookie else None
        if found is None:
            return None
        caller = Caller(found[0], "session", found[1])
        if request.method not in SAFE_METHODS and not await _csrf_ok(request, caller.csrf):
            raise ForbiddenError(
                "the form's CSRF token is missing or wrong: reload the page and try again", key=CSRF_FIELD
            )
    request.state.username = caller.user.username
    return caller


async def caller(found: Caller | None = Depends(optional_caller)) -> Caller:
    """The authenticated caller; 401 without credentials."""
    if found is None:
        raise NotAuthenticatedError()
    return found


async def page_caller(request: Request, found: Caller | None = Depends(optional_caller)) -> Caller:
    """The logged-in caller of a page; without a login the page answers with the login page."""
    if found is None:
        raise LoginRequiredError("log in to see this page")
    return found


def _kind(user: User) -> str:
    return "municipality" if user.municipality else user.role


def role(*allowed: str, page: bool = False) -> Callable[..., object]:
    """A dependency: the caller, if its role is one of ``allowed`` (``"municipality"`` for any); else 403."""

    async def check(found: Caller = Depends(page_caller if page else caller)) -> Caller:
        if found.user.is_admin or _kind(found.user) in allowed:
            return found
        raise ForbiddenError(f"this needs the role {' or '.join(allowed)}; your account is {found.user.role}")

    return check


def own_municipality(user: User, code: str, what: str) -> None:
    """ForbiddenError (403) unless ``user`` is an admin or the municipality ``code``."""
    if not user.is_admin and user.municipality != code:
        raise ForbiddenError(f"{what} belongs to municipality {code}; your account is {user.role}")


#: The role checks routes use (one each, built once).
ADVISER = role("adviser")
MUNICIPALITY = role("municipality")
ADMIN = role("admin")
ADVISER_PAGE = role("adviser", page=True)
MUNICIPALITY_PAGE = role("municipality", page=True)
ADMIN_PAGE = role("admin", page=True)
PLANNER_PAGE = role("planner", "adviser", page=True)
