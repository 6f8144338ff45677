"""Rendering pages: Jinja2 templates (autoescaped), the caller and its CSRF token, a strict CSP.

Pages run no inline script: the Content-Security-Policy allows only the service's own files,
and frames only from the service (the maps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from sitematch.errors import SitematchError
from sitematch.service.auth import COOKIE, CSRF_FIELD, Caller

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
if "_" not in templates.env.globals:  # new template text is written {{ _("English text") }}
    templates.env.add_extension("jinja2.ext.i18n")
    templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
#: The pages each role starts from, in the order the menu shows them.
MENU = {
    "adviser": [
        ("/match", "Match a lead"),
        ("/leads", "Leads"),
        ("/brownfield", "Brownfield"),
        ("/planner/gaps", "Gaps"),
        ("/kpi", "Figures"),
    ],
    "municipality": [
        ("/municipality", "Our plots"),
        ("/municipality/fit", "Leads our plots fit"),
        ("/requests", "Förfrågningar"),
    ],
    "planner": [
        ("/brownfield", "Brownfield"),
        ("/planner/gaps", "What holds the region back"),
        ("/planner/matrix", "Opportunities"),
        ("/planner/sheets", "Municipality sheets"),
        ("/kpi", "Figures"),
    ],
    "admin": [
        ("/match", "Match a lead"),
        ("/leads", "Leads"),
        ("/brownfield", "Brownfield"),
        ("/planner/gaps", "Gaps"),
        ("/kpi", "Figures"),
        ("/accounts", "Accounts"),
    ],
}


def home(caller: Caller) -> str:
    """The page a role starts from."""
    kind = "municipality" if caller.user.municipality else caller.user.role
    return MENU[kind][0][0]


def render(
    request: Request, name: str, context: dict[str, Any], *, caller: Caller | None = None, status: int = 200
) -> HTMLResponse:
    """A page from template ``name``, with the caller's menu and CSRF token."""
    kind = None if caller is None else ("municipality" if caller.user.municipality else caller.user.role)
    ctx = {
        "user": caller.user if caller else None,
        "menu": MENU.get(kind or "", []),
        "csrf": caller.csrf if caller else "",
        "csrf_field": CSRF_FIELD,
        **context,
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
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
    """An error as a page (the JSON body's message, never a trace)."""
    response = render(request, "error.html", {"error": body, "status": status}, caller=session_caller(request),
                      status=status)  # fmt: skip
    for key, value in headers.items():
        if key.lower() != "www-authenticate":
            response.headers[key] = value
    return response
