"""The FastAPI application: routers, request logging and auditing, body limits, error bodies.

:func:`create_app` builds one service over a region, a plot store and a data folder; ``sitematch
serve`` runs it with uvicorn. Every route is a thin delegate into the library; this module only
wires them together and turns every error into a clean answer:

- a :class:`~sitematch.errors.SitematchError` becomes its status (see
  :func:`sitematch.service.errors.status_of`) with a JSON body from its ``to_dict()`` — on a page,
  an HTML page saying the same; a page asked for without a login redirects to the login page;
- a request that does not match a route's parameters is 422 (400 under ``/ogc``, as OGC API asks);
- anything unexpected is logged with a request id and answered 500 naming only that id.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitematch import settings
from sitematch.errors import SitematchError
from sitematch.service import audit, openapi
from sitematch.service.auth import LoginRequiredError
from sitematch.service.errors import TooLargeError, error_body, status_of
from sitematch.service.routers import (
    accounts,
    adviser_pages,
    layers,
    lead_pages,
    leads,
    matches,
    municipality_pages,
    ogc,
    pages,
    planner_pages,
    plots,
    profiles,
)
from sitematch.service.state import Service, ServiceConfig
from sitematch.service.templating import error_page

log = logging.getLogger("sitematch.service")
access = logging.getLogger("sitematch.service.access")

HERE = Path(__file__).parent
#: Largest request body that is not a file upload.
MAX_JSON_BYTES = 2_000_000
#: Room for a multipart form's other fields and boundaries, beyond the file's own limit.
MULTIPART_SLACK = 1_000_000
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def body_limit(scope: Scope) -> int:
    """The most bytes a request's body may have: an upload's limit for a multipart form."""
    headers = dict(scope.get("headers") or [])
    multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
    return settings.upload_max_bytes + MULTIPART_SLACK if multipart else MAX_JSON_BYTES


class Guard:
    """ASGI middleware: a request id, a body limit (413), an access log line, and an audit entry per write."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = secrets.token_hex(6)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["arrived"] = time.monotonic()  # a match's time limit counts from here
        limit, seen, status = body_limit(scope), 0, 500
        started = time.perf_counter()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit, send)
            self._log(scope, 413, started)
            return

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLargeError(f"the request is larger than the {limit:,} bytes allowed")
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, counted, sending)
        finally:
            self._log(scope, status, started)

    def _log(self, scope: Scope, status: int, started: float) -> None:
        state = scope.get("state", {})
        user, path, method = state.get("username"), scope.get("path", ""), scope.get("method", "")
        ms = (time.perf_counter() - started) * 1000
        access.info("%s %s %d %.0fms user=%s id=%s", method, path, status, ms, user or "-", state.get("request_id"))
        if method in WRITE_METHODS:
            audit.record(
                self.service.db, username=user, action=method, target=path, status=status, detail=state.get("audit")
            )


async def _too_large(limit: int, send: Send) -> None:
    response = JSONResponse(error_body(TooLargeError(f"the request is larger than the {limit:,} bytes allowed")), 413)
    await response({"type": "http"}, _nothing, send)


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


def is_page(request: Request) -> bool:
    """Whether a request is for a page (HTML) rather than the JSON API or OGC API."""
    return not request.url.path.startswith(("/api", "/ogc", "/openapi", "/docs", "/redoc", "/healthz"))


def _error_response(request: Request, body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    if is_page(request):
        return error_page(request, body, status, headers)
    return JSONResponse(body, status, headers=headers)


async def on_sitematch_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SitematchError)
    if isinstance(exc, LoginRequiredError) and is_page(request):
        target = urllib.parse.quote(request.url.path)
        return RedirectResponse(f"/login?next={target}", status_code=303)
    status = status_of(exc)
    if status >= 500:
        log.warning("%s %s: %s (id %s)", request.method, request.url.path, exc, request.state.request_id)
    return _error_response(request, error_body(exc), status, getattr(exc, "headers", {}))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))} for e in exc.errors()
    ]
    text = "; ".join(f"{p['where']}: {p['message']}" for p in problems[:5])
    status = 400 if request.url.path.startswith("/ogc") else 422
    body = {"error": "RequestError", "message": f"the request does not fit this route: {text}", "status": status}
    return _error_response(request, {**body, "problems": problems}, status, {})


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if isinstance(exc.__cause__, SitematchError):  # raised while the body was read (e.g. too large)
        return await on_sitematch_error(request, exc.__cause__)
    words = {404: "no such page or route", 405: "this route does not take that method"}
    message = words.get(exc.status_code, str(exc.detail))
    body = {"error": "HTTPError", "message": f"{message}: {request.method} {request.url.path[:200]}"}
    return _error_response(request, {**body, "status": exc.status_code}, exc.status_code, dict(exc.headers or {}))


async def on_unexpected(request: Request, exc: Exception) -> Response:
    rid = getattr(request.state, "request_id", "-")
    log.error("unexpected error in %s %s (id %s)", request.method, request.url.path, rid, exc_info=exc)
    body = {"error": "InternalError", "message": f"an internal error; it was logged with id {rid}", "status": 500}
    return _error_response(request, body, 500, {})


def create_app(config: ServiceConfig | None = None) -> FastAPI:
    """The sitematch web service.

    Parameters
    ----------
    config : ServiceConfig, optional
        Region, plot store, data folder and profiles folder (defaults from :mod:`sitematch.settings`).

    Returns
    -------
    fastapi.FastAPI

    Examples
    --------
    >>> import tempfile
    >>> from fastapi.testclient import TestClient
    >>> data = tempfile.mkdtemp()
    >>> app = create_app(ServiceConfig(store=f"{data}/plots.gpkg", data_dir=Path(data)))
    >>> client = TestClient(app)
    >>> client.get("/healthz").json()
    {'status': 'ok'}
    >>> r = client.get("/api/plots")
    >>> r.status_code, r.json()["error"]
    (401, 'NotAuthenticatedError')
    """
    svc = Service(config or ServiceConfig())
    svc.start()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from sitematch.service.pool import pool

        layers = str(svc.config.layers) if svc.config.layers else None
        pool().warm("warm", {"layers": layers, "store": svc.config.store})  # workers read the region now
        from sitematch.service import priority
        from sitematch.upload._sandbox import lower_priority, start

        lower_priority(settings.service_upload_nice)  # uploads give way to matches when the cores are busy
        start()  # and the upload reader's fork server loads its libraries
        await priority.run_upload(priority.warm_uploads)  # the municipalities' boundaries, read before the first upload
        yield
        pool().close()
        priority.close()

    app = FastAPI(
        lifespan=lifespan,
        title="sitematch",
        version="1",
        description="Site matching for establishment land: matches, plots, profiles, layers; "
        "OGC API Features under /ogc. Authenticate with `Authorization: Bearer <API token>`, or Basic "
        "with your user name and an API token as the password.",
        docs_url=None,
        redoc_url=None,
    )
    openapi.install(app)
    app.state.service = svc
    app.state.outbox = svc.start_outbox()
    routers = (layers.router, profiles.router, matches.router, plots.router, accounts.router, leads.router, ogc.router)
    for router in routers:
        app.include_router(router)
    # The pages (outside the OpenAPI document): each role's work first, then log in/out, accounts, tokens.
    for module in (adviser_pages, municipality_pages, planner_pages, lead_pages, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(SitematchError, on_sitematch_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_middleware(Guard, service=svc)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
