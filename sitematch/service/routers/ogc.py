"""OGC API – Features, Part 1 Core + GeoJSON, under ``/ogc``: the plots, and each stored match's ranked sites.

QGIS ("Add WFS / OGC API – Features layer", URL ``https://<host>/ogc``), GDAL's OAPIF driver and
owslib read it. Collections: ``plots`` (the plot store's active plots; a municipality sees its
own) and ``match-<id>`` for each match the caller may see (a municipality sees its own plots in
it). Output is GeoJSON in CRS84 (longitude, latitude). Items page with ``limit`` and ``offset``
and ``next``/``prev`` links; ``bbox`` (CRS84) and ``datetime`` (plots: their ``updated`` date)
filter them. An invalid or unknown query parameter is answered with 400, as the standard asks.
"""

from __future__ import annotations

import datetime as dt
import math
import urllib.parse
from collections.abc import Callable
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from sitematch import schema as s
from sitematch import settings
from sitematch.service.auth import Caller, caller
from sitematch.service.errors import NotFoundError, ServiceError
from sitematch.service.geojson import CRS84, features, redact
from sitematch.service.routers.matches import visible_match
from sitematch.service.routers.plots import store_plots
from sitematch.service.state import Service, service

router = APIRouter(prefix="/ogc", tags=["OGC API Features"])

GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
ITEM_PARAMETERS = ("bbox", "limit", "offset", "datetime", "f")
PLOTS = "plots"
MATCH_PREFIX = "match-"


class BadParameterError(ServiceError):
    """A query parameter OGC API Features refuses with 400."""

    status = 400


class GeoJSONResponse(JSONResponse):
    """JSON sent as ``application/geo+json``."""

    media_type = GEOJSON


def _url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def _link(request: Request, path: str, rel: str, media: str = "application/json", title: str = "") -> dict[str, str]:
    link = {"href": _url(request, path), "rel": rel, "type": media}
    return {**link, "title": title} if title else link


@router.get("", include_in_schema=False)
@router.get("/", summary="Landing page")
def landing(request: Request, _: Caller = Depends(caller)) -> dict[str, Any]:
    return {
        "title": "sitematch: establishment land",
        "description": "Municipalities' available plots and the ranked sites of stored matches, as OGC API Features.",
        "links": [
            _link(request, "/ogc/", "self", title="this document"),
            _link(request, "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API"),
            _link(request, "/docs", "service-doc", "text/html", "the API documentation"),
            _link(request, "/ogc/conformance", "conformance", title="conformance classes"),
            _link(request, "/ogc/collections", "data", title="the collections"),
        ],
    }


@router.get("/conformance", summary="Conformance classes")
def conformance(_: Caller = Depends(caller)) -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _source(svc: Service, who: Caller, collection_id: str) -> tuple[str, str, Callable[[], gpd.GeoDataFrame]]:
    """A collection's title, description and how to read its features (EPSG:3006 or any CRS)."""
    user = who.user
    if collection_id == PLOTS:
        code = user.municipality
        what = f"municipality {code}'s" if code else "the municipalities'"

        def read_plots() -> gpd.GeoDataFrame:
            return redact(store_plots(svc, municipality_code=code), user)

        return "Available plots", f"{what} available plots (active), from the plot store", read_plots
    if collection_id.startswith(MATCH_PREFIX):
        stored = visible_match(svc, user, collection_id.removeprefix(MATCH_PREFIX))

        def read_ranked() -> gpd.GeoDataFrame:
            gdf = pyogrio.read_dataframe(svc.matches_dir / stored.id / "ranking.gpkg", layer="ranked")
            return gdf[gdf[s.MUNICIPALITY_CODE] == user.municipality] if user.municipality else gdf

        return f"Ranked sites of match {stored.id}", f"{stored.summary['name']}: the sites ranked", read_ranked
    raise NotFoundError(f"no collection {collection_id[:60]!r}; see /ogc/collections")


def _collection(request: Request, cid: str, title: str, description: str, gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    bbox = list(gdf.to_crs(4326).total_bounds) if len(gdf) else [10.0, 55.0, 25.0, 69.1]
    return {
        "id": cid,
        "title": title,
        "description": description,
        "itemType": "feature",
        "crs": [CRS84],
        "extent": {"spatial": {"bbox": [[round(v, 6) for v in bbox]], "crs": CRS84}},
        "links": [
            _link(request, f"/ogc/collections/{cid}", "self"),
            _link(request, f"/ogc/collections/{cid}/items", "items", GEOJSON, "the features"),
        ],
    }


@router.get("/collections", summary="The collections you may see")
def collections(request: Request, svc: Service = Depends(service), who: Caller = Depends(caller)) -> dict[str, Any]:
    ids = [PLOTS] + [MATCH_PREFIX + m.id for m in svc.records.matches(who.user)]
    out = []
    for cid in ids:
        title, description, read = _source(svc, who, cid)
        out.append(_collection(request, cid, title, description, read()))
    return {"links": [_link(request, "/ogc/collections", "self")], "collections": out}


@router.get("/collections/{collection_id}", summary="One collection")
def collection(
    request: Request, collection_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)
) -> dict[str, Any]:
    title, description, read = _source(svc, who, collection_id)
    return _collection(request, collection_id, title, description, read())


def parse_bbox(text: str) -> shapely.Geometry:
    """A ``bbox`` parameter (minlon,minlat,maxlon,maxlat; 6 numbers with heights) as a box; 400 if invalid.

    Examples
    --------
    >>> parse_bbox("16,59,17,60").bounds
    (16.0, 59.0, 17.0, 60.0)
    """
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise BadParameterError("bbox: four numbers, minlon,minlat,maxlon,maxlat (CRS84)", key="bbox")
    x0, y0, x1, y1 = values
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= y1 <= 90):
        raise BadParameterError(
            "bbox: longitudes within ±180, latitudes within ±90, the lower before the upper", key="bbox"
        )
    return shapely.box(x0, y0, x1, y1) if x0 <= x1 else shapely.union(shapely.box(x0, y0, 180, y1),
                                                                       shapely.box(-180, y0, x1, y1))  # fmt: skip


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


def _unknown(request: Request) -> None:
    unknown = [k for k in request.query_params if k not in ITEM_PARAMETERS]
    if unknown:
        raise BadParameterError(f"unknown parameter(s) {', '.join(u[:30] for u in unknown)}; "
                           f"items take {', '.join(ITEM_PARAMETERS)}")  # fmt: skip


@router.get("/collections/{collection_id}/items", summary="Features, a page at a time", response_class=GeoJSONResponse)
def items(
    request: Request,
    collection_id: str,
    bbox: str | None = Query(default=None, description="minlon,minlat,maxlon,maxlat in CRS84"),
    limit: int = Query(default=None, ge=1, description="features per page (at most the server's maximum)"),
    offset: int = Query(default=0, ge=0, description="features to skip (the next link sets it)"),
    datetime: str | None = Query(default=None, description="an instant or interval (plots: their updated date)"),
    svc: Service = Depends(service),
    who: Caller = Depends(caller),
) -> GeoJSONResponse:
    _unknown(request)
    _, _, read = _source(svc, who, collection_id)
    limit = min(limit or settings.service_items_limit, settings.service_items_max_limit)
    gdf = read().to_crs(4326)
    if bbox is not None:
        gdf = gdf[gdf.intersects(parse_bbox(bbox))]
    if datetime is not None and s.UPDATED in gdf:
        start, stop = parse_datetime(datetime)
        updated = gdf[s.UPDATED].astype(str)
        gdf = gdf[(updated >= start if start else True) & (updated <= stop if stop else True)]
    page = gdf.iloc[offset : offset + limit]
    base = f"/ogc/collections/{collection_id}/items"
    rest = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
    query = "&" + urllib.parse.urlencode(rest) if rest else ""
    links = [_link(request, f"{base}?limit={limit}&offset={offset}{query}", "self", GEOJSON)]
    if offset + limit < len(gdf):
        links.append(_link(request, f"{base}?limit={limit}&offset={offset + limit}{query}", "next", GEOJSON))
    if offset > 0:
        links.append(_link(request, f"{base}?limit={limit}&offset={max(0, offset - limit)}{query}", "prev", GEOJSON))
    return GeoJSONResponse(
        {
            "type": "FeatureCollection",
            "features": features(page),
            "numberMatched": len(gdf),
            "numberReturned": len(page),
            "timeStamp": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "links": links,
        }
    )


@router.get(
    "/collections/{collection_id}/items/{feature_id:path}", summary="One feature", response_class=GeoJSONResponse
)
def item(
    request: Request,
    collection_id: str,
    feature_id: str,
    svc: Service = Depends(service),
    who: Caller = Depends(caller),
) -> GeoJSONResponse:
    _, _, read = _source(svc, who, collection_id)
    gdf = read()
    gdf = gdf[gdf[s.PLOT_ID] == feature_id]
    if gdf.empty:
        raise NotFoundError(f"no feature {feature_id[:60]!r} in {collection_id[:60]!r}")
    feature = features(gdf)[0]
    feature["links"] = [
        _link(request, f"/ogc/collections/{collection_id}/items/{urllib.parse.quote(feature_id)}", "self", GEOJSON),
        _link(request, f"/ogc/collections/{collection_id}", "collection"),
    ]
    return GeoJSONResponse(feature)
