"""Destructive actions on the pages ask first: delete an account, withdraw a plot, revoke or rotate an
API token, withdraw a shared link.

The rule is held by the server, so it holds without JavaScript: a destructive form sent without
``confirm=yes`` changes nothing and is answered with a page that asks (the same action, its fields
carried, a button that confirms and a link back). With JavaScript, ``static/site.js`` asks the same
question in the browser for a form marked ``data-confirm`` and sends ``confirm=yes`` with it, so one
click and one answer do it. The JSON API is unchanged: a script means what it sends.
"""

from __future__ import annotations

import urllib.parse

from fastapi import Request
from fastapi.responses import HTMLResponse

from sitematch.service.auth import Caller
from sitematch.service.templating import render

#: The form field that says a destructive action was confirmed, and its value.
CONFIRM_FIELD = "confirm"
CONFIRMED = "yes"
#: The actions that ask first (the template words each one).
ACTIONS = ("delete_account", "withdraw_plot", "revoke_token", "rotate_token", "revoke_share")


def is_confirmed(value: str | None) -> bool:
    """Whether a form's ``confirm`` field confirms the action.

    Examples
    --------
    >>> is_confirmed("yes"), is_confirmed(""), is_confirmed(None), is_confirmed("YES")
    (True, False, False, False)
    """
    return value == CONFIRMED


def _own_path(request: Request) -> str:
    """The path the form was sent to, as the browser sent it (percent-encoded), so the page posts back to it."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw:
        return raw.decode("ascii", errors="replace")
    return urllib.parse.quote(request.url.path)


def confirm_page(
    request: Request,
    who: Caller,
    action: str,
    *,
    name: str,
    back: str,
    fields: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page that asks before a destructive action (200; nothing changed yet).

    Parameters
    ----------
    request : fastapi.Request
        The destructive form's request: the page posts back to its path.
    who : Caller
        The logged-in caller (the menu and the CSRF token).
    action : str
        One of :data:`ACTIONS`; the template words the question and the button.
    name : str
        What the action is done to (a user name, a plot id, a token's name), shown escaped.
    back : str
        The page to go back to without doing it (a path on this site).
    fields : dict of str to str, optional
        The form's other fields, carried to the confirmation (e.g. a withdrawal's reason).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    context = {
        "action": action,
        "name": name,
        "target": _own_path(request),
        "back": back if back.startswith("/") and not back.startswith("//") else "/",
        "fields": fields or {},
        "confirm_field": CONFIRM_FIELD,
        "confirmed": CONFIRMED,
    }
    return render(request, "confirm.html", context, caller=who)
