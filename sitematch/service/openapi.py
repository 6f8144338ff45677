"""The service's API definition and its documentation pages, served without the network.

- ``/openapi.json`` is OpenAPI **3.0.3** (as ``/ogc/conformance`` declares with its ``oas30``
  class): FastAPI's 3.1 document, turned into 3.0 (``nullable`` for ``null`` types, boolean
  ``exclusiveMinimum``, one ``example``), with the OGC API Features parameters as the standard
  defines them (``bbox`` an array of 4 or 6 numbers, ``limit`` an integer, form style);
- every operation documents the real error body (:class:`ErrorBody`, what
  :func:`sitematch.service.errors.error_body` writes) for each refusal it can answer with;
- ``/docs`` (Swagger UI) and ``/redoc`` load their scripts from ``/static/vendor/`` (npm packages
  ``swagger-ui-dist`` and ``redoc``, fetched by ``scripts/fetch_docs_assets.py``), never a CDN.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

VENDOR = "/static/vendor"
OPENAPI_VERSION = "3.0.3"
ERROR_SCHEMA = "ErrorBody"

#: What each refusal means, for the documentation.
REFUSALS = {
    "400": "A query parameter that OGC API Features refuses (unknown, or not a valid value)",
    "401": "No credentials, or an API token or session that is not valid",
    "403": "Authenticated, but this account may not do this (role, another municipality, a confidential lead)",
    "404": "No such resource",
    "409": "The change conflicts with what is there",
    "413": "The request body is larger than allowed",
    "415": "The request or the uploaded file is not of a type the route reads",
    "422": "The request does not fit the route, or its content is not valid (the body says where)",
    "429": "Too many attempts: wait as long as Retry-After says",
    "503": "Busy, or out of time: try again after Retry-After seconds",
}


class Problem(BaseModel):
    """One place where a request does not fit its route."""

    where: str = Field(description="the parameter or body field, e.g. query.limit")
    message: str


class ErrorBody(BaseModel):
    """The body of every error response (never a stack trace, a server path or a credential)."""

    error: str = Field(description="the kind of error, e.g. NotFoundError, RequestError, ProfileError")
    message: str = Field(description="what went wrong and what to do, in words")
    status: int = Field(description="the HTTP status, repeated")
    key: str | None = Field(default=None, description="the field or parameter at fault, if one is")
    line: int | None = Field(default=None, description="the line of an uploaded file or profile at fault")
    hint: str | None = Field(default=None, description="how to put it right")
    problems: list[Problem] | None = Field(default=None, description="each place a request does not fit its route")
    report: dict[str, Any] | None = Field(default=None, description="an upload's validation report, row by row")


def refusals(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer with, from how the service's routes refuse.

    Examples
    --------
    >>> refusals("get", "/ogc/collections/{collection_id}/items", {"parameters": [{"in": "path"}]})
    ['400', '401', '403', '404', '429', '503']
    >>> refusals("post", "/api/plots", {"requestBody": {"content": {"multipart/form-data": {}}}})
    ['401', '403', '409', '413', '415', '422', '429', '503']
    """
    codes = {"401", "403", "429"}  # every route needs credentials (429: logins throttled per address)
    if path.startswith("/ogc"):
        codes.add("400")
    else:
        codes.add("422")
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add("404")
    body = operation.get("requestBody")
    if body is not None or method in ("post", "put", "patch", "delete"):
        codes |= {"413", "422"}
        if "multipart/form-data" in body.get("content", {}) if body else False:
            codes |= {"415"}
    if path.startswith("/api/plots") and method in ("post", "put", "patch", "delete"):
        codes |= {"409"}
    if path.startswith(("/api/matches", "/api/plots", "/ogc", "/api/profiles")):
        codes.add("503")  # a match queue or time limit, or a store that is busy
    return sorted(codes)


def _to_30(node: Any) -> Any:
    """A JSON Schema (OpenAPI 3.1) turned into an OpenAPI 3.0 Schema Object, recursively."""
    if isinstance(node, list):
        return [_to_30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_30(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out[key]
            if len(rest) == 1:
                only = rest[0]
                if "$ref" in only:
                    out["allOf"] = [only]
                else:
                    out.update(only)
            else:
                out[key] = rest
            out["nullable"] = True
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if len(types) == 1 else "string"
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound in ("exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(out.get(bound), int | float) and not isinstance(out.get(bound), bool):
            out["minimum" if bound == "exclusiveMinimum" else "maximum"] = out[bound]
            out[bound] = True
    if "examples" in out and isinstance(out["examples"], list):
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    out.pop("contentMediaType", None)
    out.pop("$schema", None)
    return out


#: The OGC API Features parameters as Part 1 and 2 define them.
OGC_PARAMETERS: dict[str, dict[str, Any]] = {
    "bbox": {
        "name": "bbox", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "the lower corner then the upper (4 numbers, or 6 with heights), in the axis order of bbox-crs "
        "(default CRS84: minlon,minlat,maxlon,maxlat)",
        "schema": {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    },
    "limit": {
        "name": "limit", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "features per page (larger values are cut to the server's maximum)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 10},
    },
    "datetime": {
        "name": "datetime", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "an instant or an interval start/end, .. for an open end (plots: their updated date)",
        "schema": {"type": "string"},
    },
    "crs": {
        "name": "crs", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "the CRS of the features, a URI from the collection's crs list (default CRS84)",
        "schema": {"type": "string", "format": "uri"},
    },
    "bbox-crs": {
        "name": "bbox-crs", "in": "query", "required": False, "style": "form", "explode": False,
        "description": "the CRS of bbox, a URI from the collection's crs list (default CRS84)",
        "schema": {"type": "string", "format": "uri"},
    },
}  # fmt: skip
F_PARAMETER = {
    "name": "f", "in": "query", "required": False, "style": "form", "explode": False,
    "description": "the format: json (GeoJSON for features) or html; else the Accept header decides",
    "schema": {"type": "string", "enum": ["json", "html"]},
}  # fmt: skip


def openapi_30(app: FastAPI) -> dict[str, Any]:
    """The service's OpenAPI 3.0.3 document (built once per app)."""
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    doc = _to_30(doc)
    doc["openapi"] = OPENAPI_VERSION
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for name, model in (("Problem", Problem), (ERROR_SCHEMA, ErrorBody)):
        schemas[name] = _to_30(model.model_json_schema(ref_template="#/components/schemas/{model}"))
        schemas[name].pop("$defs", None)
    doc["components"]["securitySchemes"] = {
        "token": {"type": "http", "scheme": "bearer", "description": "an API token (the API tokens page makes one)"},
        "basic": {"type": "http", "scheme": "basic", "description": "your user name, and an API token as the password"},
    }
    doc["security"] = [{"token": []}, {"basic": []}]
    error = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}}}
    for path, operations in doc.get("paths", {}).items():
        for method, operation in operations.items():
            params = operation.get("parameters", [])
            if path.startswith("/ogc"):
                params = [OGC_PARAMETERS.get(p["name"], p) if p.get("in") == "query" else p for p in params]
                if not any(p.get("name") == "f" for p in params):
                    params.append(F_PARAMETER)
                operation["parameters"] = params
                ok = operation.get("responses", {}).get("200")
                if ok is not None:  # JSON (GeoJSON for features, JSON Schema for queryables) or a page
                    media = (
                        "application/geo+json" if "/items" in path
                        else "application/schema+json" if path.endswith("/queryables")
                        else "application/json"
                    )  # fmt: skip
                    ok["content"] = {media: {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's validation error: the service answers with ErrorBody
            for code in refusals(method, path, operation):
                responses[code] = {"description": REFUSALS[code], "content": copy.deepcopy(error)}
                if code in ("429", "503"):
                    responses[code]["headers"] = {
                        "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
                    }
                if code == "401":
                    responses[code]["headers"] = {
                        "WWW-Authenticate": {"description": "the schemes accepted", "schema": {"type": "string"}}
                    }
    return doc


def install(app: FastAPI) -> None:
    """Serve ``/openapi.json`` as OpenAPI 3.0.3, and ``/docs`` and ``/redoc`` from vendored files.

    The app must be made with ``docs_url=None, redoc_url=None``.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_30(app)
        return app.openapi_schema

    # FastAPI's documented way to replace the OpenAPI document is to assign app.openapi; its type says method
    app.openapi = openapi  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} · API",
            swagger_js_url=f"{VENDOR}/swagger-ui-dist/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui-dist/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui-dist/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} · API",
            redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{VENDOR}/swagger-ui-dist/favicon-32x32.png",
            with_google_fonts=False,
        )
