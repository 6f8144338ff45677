"""The service's public base URL, for links in its answers: configured, never taken from ``Host``.

In order: ``settings.service_public_url`` (``$SITEMATCH_PUBLIC_URL``); else, for a request from a
trusted reverse proxy (``$SITEMATCH_TRUSTED_PROXIES``), its ``X-Forwarded-Proto`` and
``X-Forwarded-Host``; else the address the server listens on. A forged ``Host`` header never
reaches a link.
"""

from __future__ import annotations

import re

from fastapi import Request

from sitematch import settings

_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:[0-9]{1,5})?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _listening(request: Request) -> str:
    scheme = request.url.scheme if request.url.scheme in _DEFAULT_PORTS else "http"
    server = request.scope.get("server") or ("127.0.0.1", _DEFAULT_PORTS[scheme])
    host, port = str(server[0]), server[1]
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if port in (None, _DEFAULT_PORTS[scheme]) else f":{port}")


def public_base(request: Request) -> str:
    """The base URL links start with (no trailing slash).

    Examples
    --------
    >>> from starlette.requests import Request
    >>> scope = {"type": "http", "scheme": "http", "server": ("127.0.0.1", 8000), "path": "/",
    ...          "headers": [(b"host", b"evil.example")], "client": ("10.0.0.9", 5555), "query_string": b""}
    >>> public_base(Request(scope))
    'http://127.0.0.1:8000'
    """
    configured = settings.service_public_url
    if configured:
        return configured.rstrip("/")
    client = request.client.host if request.client else None
    if client is not None and client in settings.service_trusted_proxies:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        if proto in _DEFAULT_PORTS and _HOST.fullmatch(host):
            return f"{proto}://{host}"
    return _listening(request)
