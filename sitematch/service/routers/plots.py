"""``/api/plots``: municipalities upload, check, list, withdraw and trace their plots.

A municipality account changes and traces only its own plots (403 otherwise, and nothing
changes); advisers, planners and admins read every plot. Uploads are validated whole by the
library and stored all or nothing; a refused upload (422, with the report row by row) never
creates or changes the store.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel, Field

from sitematch import schema as s
from sitematch.service.auth import MUNICIPALITY, Caller, caller, own_municipality
from sitematch.service.errors import NotFoundError, ServiceError, UnsupportedMediaError
from sitematch.service.geojson import features, redact
from sitematch.service.plots import plot_owner, readable, store_plots, store_upload, upload_code, with_file
from sitematch.service.priority import run_upload
from sitematch.service.runs import fits, open_layers, plain, run_limited
from sitematch.service.state import Service, service
from sitematch.store import open_store
from sitematch.upload import check_file

router = APIRouter(prefix="/api/plots", tags=["plots"])


class Withdrawal(BaseModel):
    """Why a plot is withdrawn (sold, reserved, …)."""

    reason: str = Field(default="", max_length=500)


def multipart(request: Request) -> None:
    """415 unless the request is a multipart form (as a file upload is)."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise UnsupportedMediaError("send the file as multipart/form-data (a form with a file field named 'file')")


@router.post("", status_code=201, summary="Upload plots (multipart): validated whole, stored all or nothing")
async def upload(
    request: Request,
    who: Caller = Depends(MUNICIPALITY),
    _form: None = Depends(multipart),
    file: UploadFile = File(description="GeoPackage, zipped Shapefile, GeoJSON, CSV, KML, GML or FlatGeobuf"),
    crs: str | None = Form(default=None, max_length=100, description="CRS of a file that declares none"),
    accept_valid: bool = Form(default=False, description="Store the valid rows even if others have problems"),
    repair: bool = Form(default=False, description="Repair invalid polygons (and say so)"),
    municipality: str | None = Form(default=None, max_length=8, description="Kommunkod (admins)"),
    mapping: UploadFile | None = File(default=None, description="YAML mapping your columns to sitematch's"),
    svc: Service = Depends(service),
) -> dict[str, Any]:
    answer = await run_upload(store_upload, svc, who.user, file, mapping, municipality=municipality, crs=crs,
                              accept_valid=accept_valid, repair=repair)  # fmt: skip
    request.state.audit = {k: answer["summary"][k] for k in ("municipality_code", "inserted", "updated")}
    return answer


@router.post("/check", summary="Dry run: validate a file and report every problem by row and field")
async def check(
    who: Caller = Depends(MUNICIPALITY),
    _form: None = Depends(multipart),
    file: UploadFile = File(),
    crs: str | None = Form(default=None, max_length=100),
    repair: bool = Form(default=False),
    municipality: str | None = Form(default=None, max_length=8),
    mapping: UploadFile | None = File(default=None),
    svc: Service = Depends(service),
) -> dict[str, Any]:
    code = upload_code(who.user, municipality)

    def work(path: Path, mapping_path: Path | None) -> dict[str, Any]:
        report = check_file(path, municipality_code=code, crs=crs or None, mapping=mapping_path, repair=repair)
        return json.loads(report.to_json())

    return await run_upload(with_file, svc, file, mapping, work)


@router.get("", summary="Plots as GeoJSON (CRS84); a municipality sees its own")
def list_plots(
    municipality: str | None = None,
    status: Literal["active", "withdrawn", "all"] = "active",
    svc: Service = Depends(service),
    who: Caller = Depends(caller),
) -> dict[str, Any]:
    if who.user.municipality is not None:
        if municipality and municipality != who.user.municipality:
            own_municipality(who.user, municipality, f"municipality {municipality[:8]!r}'s plots")
        municipality = who.user.municipality
    if municipality is not None and not (municipality.isdigit() and len(municipality) == 4):
        raise ServiceError("municipality is a kommunkod: 4 digits, e.g. 1980", key="municipality")
    gdf = store_plots(svc, status=status, municipality_code=municipality)
    return {"type": "FeatureCollection", "features": features(redact(gdf, who.user))}


@router.get("/{plot_id:path}/history", summary="Every version of a plot, oldest first")
def history(plot_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    code = readable(who.user, plot_id, f"the history of {plot_id[:60]!r}")
    h = open_store(svc.config.store).history(plot_id)
    h = redact(h.assign(**{s.MUNICIPALITY_CODE: code}), who.user)
    return [{k: plain(v) for k, v in r.items()} for r in h.to_dict("records")]


@router.post("/{plot_id:path}/withdraw", summary="Withdraw a plot (it stays in the store and its history)")
def withdraw(
    request: Request,
    plot_id: str,
    body: Withdrawal,
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY),
) -> dict[str, Any]:
    own_municipality(who.user, plot_owner(plot_id), f"plot {plot_id[:60]!r}")
    open_store(svc.config.store, create=False).withdraw(plot_id, uploader=who.user.username, reason=body.reason)
    request.state.audit = {"plot": plot_id}
    return {"plot_id": plot_id, "status": "withdrawn"}


@router.get("/{plot_id:path}/fit", summary="How a plot fares against the stored profiles you may see")
def fit(plot_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)) -> dict[str, Any]:
    readable(who.user, plot_id, f"the fit of {plot_id[:60]!r}")
    profiles = [(p.id, p.profile(svc.registry)) for p in svc.records.profiles(who.user)]

    def work(step: Any) -> dict[str, list[dict]]:
        layers = open_layers(svc.config.layers, svc.config.store)
        if plot_id not in set(layers["plots"][s.PLOT_ID]):
            raise NotFoundError(f"no plot {plot_id[:60]!r}")
        step("layers")
        return fits(layers, profiles, [plot_id], step)

    return {"plot_id": plot_id, "profiles": run_limited(work, "the fit")[plot_id]}


@router.get("/{plot_id:path}", summary="One plot as a GeoJSON feature (CRS84)")
def get_plot(plot_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)) -> dict[str, Any]:
    code = readable(who.user, plot_id, f"plot {plot_id[:60]!r}")
    gdf = store_plots(svc, status="all", municipality_code=code)
    gdf = gdf[gdf[s.PLOT_ID] == plot_id]
    if gdf.empty:
        raise NotFoundError(f"no plot {plot_id[:60]!r} in the store")
    return features(redact(gdf, who.user))[0]
