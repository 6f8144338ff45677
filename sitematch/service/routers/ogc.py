"""OGC API – Features under ``/ogc``: Part 1 Core (GeoJSON, HTML), Part 2 CRS, Part 3 queryables.

QGIS ("Add WFS / OGC API – Features layer", URL ``https://<host>/ogc``), GDAL's OAPIF driver and
owslib read it. Collections: ``plots`` (the plot store's active plots and the region's bundled
ones not in the store; a municipality sees its own) and ``match-<id>`` for each match the caller
may see (a municipality sees its own plots in it). Every resource answers as JSON (GeoJSON for
features) or, with ``f=html`` or ``Accept: text/html``, as a page.

Items page with ``limit`` and ``offset`` and ``next``/``prev`` links; ``bbox`` (in ``bbox-crs``,
default CRS84) and ``datetime`` (plots: their ``updated`` date) filter them, and so do the
collection's queryables (``/collections/{id}/queryables``): ``municipality_code=1980``,
``zoning=J,Z`` (any of), ``plan_status=laga_kraft``, ``ready=true``, and on a match ``rank=..10``
or ``max_rank=10``. ``crs`` names the output CRS (CRS84, EPSG:4326, EPSG:3006–3018); the answer's
``Content-Crs`` header says which. An invalid or unknown query parameter is answered with 400.
Links start with the configured public URL (:mod:`sitematch.service.urls`), never ``Host``.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sitematch import schema as s
from sitematch import settings
from sitematch.service.accounts import User
from sitematch.service.auth import Caller, caller
from sitematch.service.errors import NotFoundError, ServiceError
from sitematch.service.geojson import features, redact
from sitematch.service.matches import visible_match
from sitematch.service.ogc_crs import CRS84, STORAGE_CRS, SUPPORTED, extent_crs84, offered, within_bbox
from sitematch.service.plots import store_plots
from sitematch.service.records import StoredMatch
from sitematch.service.runs import RESULT_FILE
from sitematch.service.state import Service, service
from sitematch.service.templating import render
from sitematch.service.urls import public_base

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
SCHEMA_JSON = "application/schema+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json;version=3.0"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
ITEM_PARAMETERS = ("bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f")
PLOTS = "plots"
MATCH_PREFIX = "match-"
#: Other names a filter may use for a queryable.
ALIASES = {"municipality": s.MUNICIPALITY_CODE, "status": s.PLAN_STATUS, "max_rank": "rank"}
RANK = "rank"

_TEXT = {"type": "string"}
#: The queryables of every collection: property → JSON Schema.
PLOT_QUERYABLES: dict[str, dict[str, Any]] = {
    s.MUNICIPALITY_CODE: {**_TEXT, "title": "kommunkod (alias: municipality)", "pattern": "^[0-9]{4}$"},
    s.ZONING: {**_TEXT, "title": "plan use code: J industry, Z business, E technical, …"},
    s.PLAN_STATUS: {
        **_TEXT,
        "title": "plan status (alias: status)",
        "enum": ["laga_kraft", "antagen", "pagaende", "ingen_plan"],
    },
    s.OWNER: {**_TEXT, "title": "owner", "enum": ["kommun", "privat", "statlig", "okand"]},
    s.READY: {"type": "boolean", "title": "build-ready (byggklar)"},
    s.BROWNFIELD: {"type": "boolean", "title": "former industrial land"},
}
MATCH_QUERYABLES: dict[str, dict[str, Any]] = {
    **PLOT_QUERYABLES,
    RANK: {"type": "integer", "minimum": 1, "title": "rank: N, a range N..M or ..M (alias max_rank=M: rank ≤ M)"},
}


class BadParameterError(ServiceError):
    """A query parameter OGC API Features refuses with 400."""

    status = 400


class GeoJSONResponse(JSONResponse):
    """JSON sent as ``application/geo+json``."""

    media_type = GEOJSON


# -- links and formats ----------------------------------------------------------------------------
def _url(request: Request, path: str) -> str:
    return public_base(request) + path


def _link(request: Request, path: str, rel: str, media: str = JSON, title: str = "") -> dict[str, str]:
    link = {"href": _url(request, path), "rel": rel, "type": media}
    return {**link, "title": title} if title else link


def _with_f(path: str, f: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}f={f}"


def _self_links(request: Request, path: str, media: str = JSON, html: bool = False) -> list[dict[str, str]]:
    """``self`` and ``alternate`` links of a resource in its JSON and its HTML form."""
    json_link = _link(request, _with_f(path, "json"), "alternate" if html else "self", media, "as JSON")
    html_link = _link(request, _with_f(path, "html"), "self" if html else "alternate", HTML, "as HTML")
    return [html_link, json_link] if html else [json_link, html_link]


def _accepted(accept: str) -> list[str]:
    """Media types of an ``Accept`` header, the most wanted first (by ``q``, then order)."""
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, media.lower()))
    return [media for _, _, media in sorted(ranked)]


def wants_html(request: Request) -> bool:
    """Whether to answer with a page: ``f=html``, or ``Accept`` preferring ``text/html`` to JSON.

    Examples
    --------
    >>> from starlette.requests import Request
    >>> def req(qs, accept):
    ...     return Request({"type": "http", "query_string": qs, "headers": [(b"accept", accept)]})
    >>> wants_html(req(b"", b"text/html,application/xhtml+xml,*/*;q=0.8")), wants_html(req(b"", b"*/*"))
    (True, False)
    >>> wants_html(req(b"f=html", b"application/json")), wants_html(req(b"f=json", b"text/html"))
    (True, False)
    """
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("html", "json", "geojson", "jsonschema"):
            raise BadParameterError(f"f: html or json, not {f[:20]!r}", key="f")
        return f == "html"
    for media in _accepted(request.headers.get("accept", "")):
        if media == HTML:
            return True
        if "json" in media or media == "*/*":
            return False
    return False


def _page(request: Request, who: Caller, view: str, title: str, **context: Any) -> HTMLResponse:
    return render(request, "ogc.html", {"view": view, "title": title, **context}, caller=who)


def _no_other_parameters(request: Request, allowed: tuple[str, ...] = ("f",)) -> None:
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:
        raise BadParameterError(f"unknown parameter(s) {', '.join(u[:30] for u in unknown)}; "
                                f"this resource takes {', '.join(allowed)}")  # fmt: skip


# -- landing page and conformance -----------------------------------------------------------------
@router.get("", include_in_schema=False)
@router.get("/", summary="Landing page", response_model=None)
def landing(request: Request, who: Caller = Depends(caller)) -> Response:
    _no_other_parameters(request)
    html = wants_html(request)
    body: dict[str, Any] = {
        "title": "sitematch: establishment land",
        "description": "Municipalities' available plots and the ranked sites of stored matches, as OGC API Features.",
        "links": [
            *_self_links(request, "/ogc/", html=html),
            _link(request, "/openapi.json", "service-desc", OPENAPI_JSON, "the API definition (OpenAPI 3.0)"),
            _link(request, "/docs", "service-doc", HTML, "the API documentation"),
            _link(request, "/ogc/conformance", "conformance", title="conformance classes"),
            _link(request, "/ogc/collections", "data", title="the collections"),
        ],
    }
    if html:
        return _page(request, who, "landing", body["title"], doc=body)
    return JSONResponse(body)


@router.get("/conformance", summary="Conformance classes", response_model=None)
def conformance(request: Request, who: Caller = Depends(caller)) -> Response:
    _no_other_parameters(request)
    if wants_html(request):
        return _page(request, who, "conformance", "Conformance classes", classes=CONFORMANCE)
    return JSONResponse({"conformsTo": CONFORMANCE})


# -- collections ----------------------------------------------------------------------------------
@dataclass
class Source:
    """A collection: its id, title, description, queryables and how to read its features (EPSG:3006)."""

    id: str
    title: str
    description: str
    read: Callable[[], gpd.GeoDataFrame]
    queryables: dict[str, dict[str, Any]] = field(default_factory=lambda: PLOT_QUERYABLES)
    #: The extent to give when there are no features (None: no extent).
    empty_extent: list[float] | None = None


def published_plots(svc: Service, user: User) -> gpd.GeoDataFrame:
    """The plots published to ``user``: the store's active ones and the region's not in the store."""
    code = user.municipality
    stored = store_plots(svc, municipality_code=code)
    bundled = svc.region.get("plots")
    frames = [stored] if not stored.empty else []
    if bundled is not None and not bundled.empty:
        bundled = bundled[~bundled[s.PLOT_ID].isin(set(stored[s.PLOT_ID].astype(str)))]
        if code:
            bundled = bundled[bundled[s.MUNICIPALITY_CODE].astype(str) == code]
        frames.append(bundled.to_crs(stored.crs or bundled.crs))
    if not frames:
        return redact(stored, user)
    gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    gdf = gdf.sort_values(s.PLOT_ID, kind="stable").reset_index(drop=True)
    return redact(gdf, user)


@lru_cache(maxsize=256)
def _lead(folder: Path, mtime: float) -> dict[str, Any]:
    """A stored match's lead (reference, company) from its result file."""
    del mtime  # the cache key: a rewritten file is read again
    try:
        data = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    lead = data.get("profile", {}).get("lead", {})
    return {k: str(lead[k]) for k in ("reference", "company") if lead.get(k)}


def match_title(svc: Service, user: User, stored: StoredMatch) -> tuple[str, str]:
    """A match collection's title and description, naming the lead as far as ``user`` may see it.

    An adviser or admin (who may see the match) reads the lead's name, reference and company; a
    municipality reads the reference only, never the company or the profile's name.
    """
    folder = svc.matches_dir / stored.id
    try:
        mtime = (folder / RESULT_FILE).stat().st_mtime
    except OSError:
        mtime = 0.0
    lead = _lead(folder, mtime)
    reference = lead.get("reference")
    if user.municipality:
        who = f"lead {reference}" if reference else f"match {stored.id}"
        return f"Ranked sites for {who}", f"Your municipality's plots ranked for {who} (match {stored.id})"
    extra = ", ".join(v for v in (reference, lead.get("company")) if v)
    name = str(stored.summary.get("name") or f"match {stored.id}")
    title = f"Ranked sites for {name}" + (f" ({extra})" if extra else "")
    return title, f"{name}: the sites ranked (match {stored.id}, {stored.created_at})"


def _source(svc: Service, who: Caller, collection_id: str) -> Source:
    """A collection the caller may see; 404 for none, 403 for another's confidential lead."""
    user = who.user
    if collection_id == PLOTS:
        what = f"municipality {user.municipality}'s" if user.municipality else "the municipalities'"
        description = f"{what} available plots: the plot store's (active) and the region's bundled ones"
        return Source(PLOTS, "Available plots", description, lambda: published_plots(svc, user))
    if collection_id.startswith(MATCH_PREFIX):
        stored = visible_match(svc, user, collection_id.removeprefix(MATCH_PREFIX))

        def read_ranked() -> gpd.GeoDataFrame:
            gdf = pyogrio.read_dataframe(svc.matches_dir / stored.id / "ranking.gpkg", layer="ranked")
            return gdf[gdf[s.MUNICIPALITY_CODE] == user.municipality] if user.municipality else gdf

        title, description = match_title(svc, user, stored)
        return Source(collection_id, title, description, read_ranked, MATCH_QUERYABLES)
    raise NotFoundError(f"no collection {collection_id[:60]!r}; see /ogc/collections")


def _collection(request: Request, src: Source, gdf: gpd.GeoDataFrame, html: bool = False) -> dict[str, Any]:
    base = f"/ogc/collections/{src.id}"
    out: dict[str, Any] = {
        "id": src.id,
        "title": src.title,
        "description": src.description,
        "itemType": "feature",
        "crs": list(SUPPORTED),
        "storageCrs": STORAGE_CRS,
    }
    bbox = extent_crs84(gdf) or src.empty_extent
    if bbox is not None:
        out["extent"] = {"spatial": {"bbox": [bbox], "crs": CRS84}}
    out["links"] = [
        *_self_links(request, base, html=html),
        _link(request, f"{base}/items", "items", GEOJSON, "the features"),
        _link(request, f"{base}/items?f=html", "items", HTML, "the features as a page"),
        _link(request, f"{base}/queryables", QUERYABLES_REL, SCHEMA_JSON, "the properties to filter on"),
    ]
    return out


def _sources(svc: Service, who: Caller) -> list[Source]:
    ids = [PLOTS] + [MATCH_PREFIX + m.id for m in svc.records.matches(who.user)]
    return [_source(svc, who, cid) for cid in ids]


@router.get("/collections", summary="The collections you may see", response_model=None)
def collections(request: Request, svc: Service = Depends(service), who: Caller = Depends(caller)) -> Response:
    _no_other_parameters(request)
    html = wants_html(request)
    body = {
        "links": _self_links(request, "/ogc/collections", html=html),
        "crs": list(SUPPORTED),  # Part 2: the CRS offered by every collection
        "collections": [_collection(request, src, src.read()) for src in _sources(svc, who)],
    }
    if html:
        return _page(request, who, "collections", "Collections", doc=body)
    return JSONResponse(body)


@router.get("/collections/{collection_id}", summary="One collection", response_model=None)
def collection(
    request: Request, collection_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)
) -> Response:
    _no_other_parameters(request)
    html = wants_html(request)
    src = _source(svc, who, collection_id)
    body = _collection(request, src, src.read(), html)
    if html:
        return _page(request, who, "collection", src.title, doc=body)
    return JSONResponse(body)


@router.get("/collections/{collection_id}/queryables", summary="The properties to filter on", response_model=None)
def queryables(
    request: Request, collection_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)
) -> Response:
    _no_other_parameters(request)
    src = _source(svc, who, collection_id)
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request, f"/ogc/collections/{src.id}/queryables"),
        "type": "object",
        "title": src.title,
        "properties": src.queryables,
        "additionalProperties": False,
    }
    if wants_html(request):
        return _page(request, who, "queryables", f"Queryables of {src.title}", doc=body, collection_id=src.id)
    return JSONResponse(body, media_type=SCHEMA_JSON)


# -- filters --------------------------------------------------------------------------------------
def _day(text: str, end: bool) -> str | None:
    if text in ("", ".."):
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameterError(f"datetime: {text[:40]!r} is not an RFC 3339 date or time", key="datetime") from None
    return stamp.date().isoformat() if not end else stamp.date().isoformat() + "~"


def parse_datetime(text: str) -> tuple[str | None, str | None]:
    """A ``datetime`` parameter (an instant, or ``start/end`` with ``..`` open) as a range of days.

    Examples
    --------
    >>> parse_datetime("2026-01-01/.."), parse_datetime("2026-03-05T10:00:00Z")
    (('2026-01-01', None), ('2026-03-05', '2026-03-05~'))
    """
    if "/" in text:
        start, _, stop = text.partition("/")
        if start in ("", "..") and stop in ("", ".."):
            raise BadParameterError("datetime: an interval needs at least one end", key="datetime")
        return _day(start, False), _day(stop, True)
    return _day(text, False), _day(text, True)


def _rank_range(text: str, name: str) -> tuple[int | None, int | None]:
    """``N``, ``N..M``, ``..M`` or ``N..`` as an inclusive range (``max_rank=M`` is ``..M``).

    Examples
    --------
    >>> _rank_range("3", "rank"), _rank_range("..10", "rank"), _rank_range("2..5", "rank"), _rank_range("7", "max_rank")
    ((3, 3), (None, 10), (2, 5), (None, 7))
    """
    low, sep, high = text.partition("..")
    if name == "max_rank":
        low, sep, high = "", "..", text
    try:
        lo = int(low) if low else None
        hi = int(high) if high else (None if sep else lo)
    except ValueError:
        raise BadParameterError(f"{name}: a whole number, N..M or ..M, not {text[:20]!r}", key=name) from None
    if lo is None and hi is None:
        raise BadParameterError(f"{name}: give at least one end", key=name)
    return lo, hi


def _boolean(text: str, name: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false", "1", "0"):
        raise BadParameterError(f"{name}: true or false, not {text[:20]!r}", key=name)
    return value in ("true", "1")


def filter_properties(gdf: gpd.GeoDataFrame, params: list[tuple[str, str]], src: Source) -> gpd.GeoDataFrame:
    """The rows that pass every property filter (``name=value``; text values comma-separated, any of)."""
    for name, text in params:
        prop = ALIASES.get(name, name)
        schema = src.queryables.get(prop)
        if schema is None:  # the caller checked the names; a plot alias on a match's rank, say
            raise BadParameterError(f"{name} is not a queryable of {src.id}", key=name)
        if prop not in gdf.columns:
            gdf = gdf.iloc[0:0]
            continue
        column = gdf[prop]
        if prop == RANK:
            lo, hi = _rank_range(text, name)
            ranks = pd.to_numeric(column, errors="coerce")
            keep = ranks.notna() & (ranks >= lo if lo is not None else True) & (ranks <= hi if hi is not None else True)
        elif schema["type"] == "boolean":
            keep = column.astype("boolean").fillna(False) == _boolean(text, name)
        else:
            wanted = {v.strip() for v in text.split(",") if v.strip()}
            if not wanted:
                raise BadParameterError(f"{name}: give a value (several comma-separated)", key=name)
            keep = column.astype(str).isin(wanted)
        gdf = gdf[keep.to_numpy(dtype=bool)]
    return gdf


def _filters(request: Request, src: Source) -> list[tuple[str, str]]:
    """The property filters of an items request; 400 naming what is allowed for any other parameter."""
    allowed = set(ITEM_PARAMETERS) | set(src.queryables) | {a for a, p in ALIASES.items() if p in src.queryables}
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:
        raise BadParameterError(
            f"unknown parameter(s) {', '.join(u[:30] for u in unknown)}; items of {src.id} take "
            f"{', '.join(ITEM_PARAMETERS)} and the queryables {', '.join(sorted(allowed - set(ITEM_PARAMETERS)))} "
            f"(see /ogc/collections/{src.id}/queryables)"
        )
    return [(k, v) for k, v in request.query_params.multi_items() if k not in ITEM_PARAMETERS]


# -- features -------------------------------------------------------------------------------------
@router.get("/collections/{collection_id}/items", summary="Features, a page at a time", response_class=GeoJSONResponse)
def items(
    request: Request,
    collection_id: str,
    bbox: str | None = Query(default=None, description="the lower corner then the upper, in bbox-crs"),
    bbox_crs: str | None = Query(default=None, alias="bbox-crs", description="the CRS of bbox (default CRS84)"),
    crs: str | None = Query(default=None, description="the CRS of the features (default CRS84)"),
    limit: int = Query(default=None, ge=1, description="features per page (at most the server's maximum)"),
    offset: int = Query(default=0, ge=0, description="features to skip (the next link sets it)"),
    datetime: str | None = Query(default=None, description="an instant or interval (plots: their updated date)"),
    svc: Service = Depends(service),
    who: Caller = Depends(caller),
) -> Response:
    src = _source(svc, who, collection_id)
    filters = _filters(request, src)
    html = wants_html(request)
    out_crs = offered(crs or CRS84)
    if bbox_crs is not None and bbox is None:
        raise BadParameterError("bbox-crs names the CRS of a bbox: give bbox too", key="bbox-crs")
    limit = min(limit or settings.service_items_limit, settings.service_items_max_limit)
    gdf = src.read()
    if bbox is not None:
        gdf = within_bbox(gdf, bbox, bbox_crs)
    if datetime is not None and s.UPDATED in gdf:
        start, stop = parse_datetime(datetime)
        updated = gdf[s.UPDATED].astype(str)
        gdf = gdf[(updated >= start if start else True) & (updated <= stop if stop else True)]
    gdf = filter_properties(gdf, filters, src)
    page = gdf.iloc[offset : offset + limit]
    base = f"/ogc/collections/{src.id}/items"
    rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit", "f")]
    query = "&" + urllib.parse.urlencode(rest) if rest else ""
    here = f"{base}?limit={limit}&offset={offset}{query}"
    links = [
        *_self_links(request, here, GEOJSON, html=html),
        _link(request, f"/ogc/collections/{src.id}", "collection"),
    ]
    if offset + limit < len(gdf):
        nxt = f"{base}?limit={limit}&offset={offset + limit}{query}"
        links.append(_link(request, _with_f(nxt, "html") if html else nxt, "next", HTML if html else GEOJSON))
    if offset > 0:
        prev = f"{base}?limit={limit}&offset={max(0, offset - limit)}{query}"
        links.append(_link(request, _with_f(prev, "html") if html else prev, "prev", HTML if html else GEOJSON))
    body = {
        "type": "FeatureCollection",
        "features": features(page, crs=None if out_crs.uri == CRS84 else out_crs),
        "numberMatched": len(gdf),
        "numberReturned": len(page),
        "timeStamp": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "links": links,
    }
    if html:
        return _page(request, who, "items", src.title, doc=body, collection_id=src.id, offset=offset,
                     crs=out_crs.uri)  # fmt: skip
    return GeoJSONResponse(body, headers={"Content-Crs": out_crs.header})


@router.get(
    "/collections/{collection_id}/items/{feature_id:path}", summary="One feature", response_class=GeoJSONResponse
)
def item(
    request: Request,
    collection_id: str,
    feature_id: str,
    crs: str | None = Query(default=None, description="the CRS of the feature (default CRS84)"),
    svc: Service = Depends(service),
    who: Caller = Depends(caller),
) -> Response:
    _no_other_parameters(request, ("crs", "f"))
    html = wants_html(request)
    out_crs = offered(crs or CRS84)
    src = _source(svc, who, collection_id)
    gdf = src.read()
    gdf = gdf[gdf[s.PLOT_ID] == feature_id]
    if gdf.empty:
        raise NotFoundError(f"no feature {feature_id[:60]!r} in {collection_id[:60]!r}")
    feature = features(gdf.iloc[:1], crs=None if out_crs.uri == CRS84 else out_crs)[0]
    path = f"/ogc/collections/{src.id}/items/{urllib.parse.quote(feature_id)}"
    feature["links"] = [
        *_self_links(request, path, GEOJSON, html=html),
        _link(request, f"/ogc/collections/{src.id}", "collection"),
    ]
    if html:
        return _page(request, who, "item", f"{feature_id} · {src.title}", doc=feature, collection_id=src.id,
                     crs=out_crs.uri)  # fmt: skip
    return GeoJSONResponse(feature, headers={"Content-Crs": out_crs.header})
