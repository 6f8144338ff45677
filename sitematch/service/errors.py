"""HTTP errors of the service, and the one mapping from sitematch's errors to status codes.

Every error response has the same JSON body, built from :meth:`sitematch.errors.SitematchError.to_dict`::

    {"error": "ProfileError", "message": "...", "status": 422, "key": "...", "line": 3, "hint": "..."}

Never a stack trace: an unexpected exception is logged with a request id, and the body names only
that id. Never a server path or a GDAL message either: :func:`public` scrubs every text of a body
(a path becomes its file name; a GDAL/OGR detail in parentheses is dropped).
"""

from __future__ import annotations

import re
from typing import Any

from sitematch.errors import (
    SitematchError,
    StoreBusyError,
    StoreConflictError,
    StoreError,
    StoreNotFoundError,
)


class ServiceError(SitematchError):
    """An error the service answers with ``status``; ``headers`` go into the response."""

    status: int = 422

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.headers = headers or {}


class NotAuthenticatedError(ServiceError):
    """No credentials, or credentials that are not valid (401)."""

    status = 401

    def __init__(self, message: str = "log in or send an API token: Authorization: Bearer <token>") -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="sitematch"'})


class ForbiddenError(ServiceError, PermissionError):
    """Authenticated, but this account may not do this (403)."""

    status = 403


class NotFoundError(ServiceError, LookupError):
    """No such thing (404)."""

    status = 404


class ConflictError(ServiceError):
    """The change conflicts with what is there (409)."""

    status = 409


class TooLargeError(ServiceError):
    """The request body is larger than allowed (413)."""

    status = 413


class UnsupportedMediaError(ServiceError):
    """The request or the uploaded file is not of a type the route reads (415)."""

    status = 415


class UnavailableError(ServiceError):
    """Try again later: a match ran out of time, or the store is busy (503)."""

    status = 503

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message, headers={"Retry-After": "30"}, **fields)


def status_of(exc: SitematchError) -> int:
    """The HTTP status for an error: the service's own, or by the library error's kind.

    Examples
    --------
    >>> from sitematch.errors import ProfileError, StoreNotFoundError
    >>> status_of(ProfileError("bad")), status_of(StoreNotFoundError("none")), status_of(ForbiddenError("no"))
    (422, 404, 403)
    """
    if isinstance(exc, ServiceError):
        return exc.status
    if isinstance(exc, StoreNotFoundError):
        return 404
    if isinstance(exc, StoreConflictError):
        return 409
    if isinstance(exc, StoreBusyError | StoreError):
        return 503
    return 422


#: First folders of a server path (a route such as ``/api/plots/x`` is left alone).
_ROOTS = "tmp|var|home|root|work|srv|usr|opt|etc|mnt|media|run|proc|dev|sys|data|app|private|Users|lib|bin|nix"
#: An absolute path on the server: keep only its last part.
_PATH = re.compile(rf"(?<![\w.~:/-])/(?:{_ROOTS})(?:/[^\s/'\"():;,<>]+)+/?")
#: A Windows path (``C:\\...``): keep only its last part.
_WINPATH = re.compile(r"\b[A-Za-z]:\\(?:[^\s\\'\"():;,<>]+\\)*([^\s\\'\"():;,<>]+)")
#: A parenthesised detail from GDAL/OGR, SQLite or the OS: what the reader said, not the user's business.
_INTERNAL = re.compile(
    r"\s*\((?:[^()]|\([^()]*\))*?(?:not recognized as|might help|ERROR \d|OGR|GDAL|gdal|sqlite|SQLite|"
    r"file is not a database|\.shx|\.dbf|unable to open|failed to open|No such file|Permission denied|"
    r"errno|Errno|corrupt|unreadable)(?:[^()]|\([^()]*\))*\)"
)


def public(text: str) -> str:
    """``text`` fit for an error body: server paths cut to their file name, GDAL/OS details dropped.

    Examples
    --------
    >>> public("/srv/sitematch/data/plots.gpkg: the store is busy")
    'plots.gpkg: the store is busy'
    >>> public("a.gml: not a readable GML file ('/tmp/x/a.gml' not recognized as being in a supported file "
    ...        "format.); export it again")
    'a.gml: not a readable GML file; export it again'
    >>> public("no such page or route: GET /api/nosuch/x")
    'no such page or route: GET /api/nosuch/x'
    """
    text = _INTERNAL.sub("", text)
    text = _PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], text)
    return _WINPATH.sub(lambda m: m.group(1), text)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return public(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v) for v in value]
    return value


def error_body(exc: SitematchError) -> dict[str, Any]:
    """The JSON body of an error response (every text in it passed through :func:`public`).

    Examples
    --------
    >>> error_body(NotFoundError("no match 'abc'"))
    {'error': 'NotFoundError', 'message': "no match 'abc'", 'status': 404}
    """
    body = exc.to_dict()
    body["status"] = status_of(exc)
    report = getattr(exc, "report", None)
    if report is not None and hasattr(report, "to_json"):
        import json

        body["report"] = json.loads(report.to_json())
    return _scrubbed(body)
