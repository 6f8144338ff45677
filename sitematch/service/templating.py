"""Rendering pages: Jinja2 templates (autoescaped), the caller and its CSRF token, a strict CSP.

Pages run no inline script: the Content-Security-Policy allows only the service's own files,
and frames only from the service (the maps).

Pages speak Swedish or English (:mod:`sitematch.i18n`): templates write ``{{ _("English text") }}``
and the words come from the gettext catalogues in the language :func:`page_language` chooses for
the request; ``|number`` and ``|localtime`` format numbers and times for that language.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sitematch.errors import SitematchError
from sitematch.i18n import N_, choose_language, format_number, format_time, translations
from sitematch.service.auth import COOKIE, CSRF_FIELD, Caller

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
#: The language of the page being rendered (set by :func:`render` around rendering).
_page_lang: contextvars.ContextVar[str] = contextvars.ContextVar("page_lang", default="en")


def _gettext(message: str) -> str:
    return translations(_page_lang.get()).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_page_lang.get()).ngettext(singular, plural, n)


#: Codes pages show as words (in the page's language), by column; other values are shown as they are.
CODE_WORDS: dict[str, dict[str, str]] = {
    "zoning": {
        "J": N_("industry"),
        "Z": N_("business"),
        "E": N_("technical facilities"),
        "H": N_("retail"),
        "K": N_("offices"),
        "T": N_("transport"),
        "C": N_("centre"),
        "B": N_("housing"),
    },
    "plan_status": {
        "ingen_plan": N_("no plan"),
        "pagaende": N_("plan in progress"),
        "antagen": N_("adopted"),
        "laga_kraft": N_("in force"),
    },
    "owner": {"kommun": N_("municipality"), "privat": N_("private"), "statlig": N_("state"), "okand": N_("unknown")},
    "status": {"active": N_("active"), "withdrawn": N_("withdrawn")},
}


def code_words(value: Any, column: str) -> str:
    """A code as words in the page's language (zoning ``J`` → "industri (J)"); other values unchanged.

    Examples
    --------
    >>> token = _page_lang.set("sv")
    >>> code_words("J", "zoning"), code_words("laga_kraft", "plan_status"), code_words("X", "zoning")
    ('industri (J)', 'laga kraft', 'X')
    >>> _page_lang.reset(token)
    """
    words = CODE_WORDS.get(column, {}).get(str(value)) if value is not None else None
    if words is None:
        return "" if value is None else str(value)
    said = _gettext(words)
    return f"{said} ({value})" if column == "zoning" else said


templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
templates.env.filters["number"] = lambda value, decimals=1: format_number(value, _page_lang.get(), decimals=decimals)
templates.env.filters["localtime"] = format_time
templates.env.filters["code_words"] = code_words
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
#: The pages each role starts from, in the order the menu shows them.
MENU = {
    "adviser": [
        ("/match", N_("Match a lead")),
        ("/leads", N_("Leads")),
        ("/brownfield", N_("Brownfield")),
        ("/planner/gaps", N_("Gaps")),
        ("/kpi", N_("Figures")),
    ],
    "municipality": [
        ("/municipality", N_("Our plots")),
        ("/municipality/fit", N_("Leads our plots fit")),
        ("/requests", N_("Requests")),
    ],
    "planner": [
        ("/brownfield", N_("Brownfield")),
        ("/planner/gaps", N_("What holds the region back")),
        ("/planner/matrix", N_("Opportunities")),
        ("/planner/sheets", N_("Municipality sheets")),
        ("/kpi", N_("Figures")),
    ],
    "admin": [
        ("/match", N_("Match a lead")),
        ("/leads", N_("Leads")),
        ("/brownfield", N_("Brownfield")),
        ("/planner/gaps", N_("Gaps")),
        ("/kpi", N_("Figures")),
        ("/accounts", N_("Accounts")),
    ],
}


def home(caller: Caller) -> str:
    """The page a role starts from."""
    kind = "municipality" if caller.user.municipality else caller.user.role
    return MENU[kind][0][0]


def page_language(request: Request, caller: Caller | None) -> str:
    """The language of a page: the account's choice, else ``Accept-Language``, else Swedish for municipal staff.

    Municipality and planner accounts read Swedish by default; advisers, admins and visitors
    who are not logged in read English (see :func:`sitematch.i18n.choose_language`).
    """
    user = caller.user if caller else None
    municipal = bool(user and (user.municipality or user.role == "planner"))
    return choose_language(user.language if user else None, request.headers.get("accept-language"), municipal=municipal)


def translator(request: Request, caller: Caller | None) -> Callable[[str], str]:
    """A ``_`` in the request's language, for messages made in Python and shown on a page."""
    return translations(page_language(request, caller)).gettext


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    caller: Caller | None = None,
    status: int = 200,
    lang: str | None = None,
) -> HTMLResponse:
    """A page from template ``name``, with the caller's menu and CSRF token, in ``lang`` (default: the caller's)."""
    kind = None if caller is None else ("municipality" if caller.user.municipality else caller.user.role)
    lang = lang or page_language(request, caller)
    ctx = {
        "lang": lang,
        "user": caller.user if caller else None,
        "menu": MENU.get(kind or "", []),
        "csrf": caller.csrf if caller else "",
        "csrf_field": CSRF_FIELD,
        **context,
    }
    token = _page_lang.set(lang)
    try:  # Starlette renders the template here, in this call
        response = templates.TemplateResponse(request, name, ctx, status_code=status)
    finally:
        _page_lang.reset(token)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Accept-Language, Cookie"
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def session_caller(request: Request) -> Caller | None:
    """The logged-in person of a page's request, for an error page's menu (None without a valid session).

    Only reads: an error page keeps the menu and the log-out form, so a refused form never leaves
    its person on a page with no way on.
    """
    cookie = request.cookies.get(COOKIE)
    svc = getattr(request.app.state, "service", None)
    if not cookie or svc is None:
        return None
    try:
        found = svc.accounts.session(cookie)
    except SitematchError:
        return None
    return None if found is None else Caller(found[0], "session", found[1])


def error_page(request: Request, body: dict[str, Any], status: int, headers: dict[str, str]) -> HTMLResponse:
    """An error as a page (the JSON body's message, never a trace), in the language of the account that asked."""
    lang = None
    username = getattr(request.state, "username", None)  # set once the caller is known
    svc = getattr(request.app.state, "service", None)
    if username and svc is not None:
        with contextlib.suppress(Exception):  # an error page never fails for want of a language
            user = svc.accounts.get(username)
            if user is not None:
                lang = page_language(request, Caller(user, "session"))
    response = render(request, "error.html", {"error": body, "status": status}, caller=session_caller(request),
                      status=status, lang=lang)  # fmt: skip
    for key, value in headers.items():
        if key.lower() != "www-authenticate":
            response.headers[key] = value
    return response
