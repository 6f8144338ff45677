"""The municipality's pages: its plots on a map and in a table, upload with the report row by row,
withdraw, history. A municipality sees and changes only its own plots; an admin names one (``?code=``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from sitematch import schema as s
from sitematch.errors import UploadError
from sitematch.service.auth import MUNICIPALITY_PAGE, Caller, own_municipality, page_caller
from sitematch.service.errors import ServiceError
from sitematch.service.geojson import redact
from sitematch.service.maps import plots_map
from sitematch.service.routers.matches import file_headers
from sitematch.service.routers.plots import plot_owner, readable, store_plots, store_upload
from sitematch.service.runs import plain
from sitematch.service.state import Service, service
from sitematch.service.templating import render
from sitematch.store import open_store

router = APIRouter(include_in_schema=False)
SHOWN = (s.PLOT_ID, s.NAME, s.AREA_HA, s.ZONING, s.PLAN_STATUS, s.OWNER, "status", "version", "uploaded_at")


def _code(who: Caller, code: str | None) -> str:
    if who.user.municipality:
        return who.user.municipality
    if not code or not (code.isdigit() and len(code) == 4):
        raise ServiceError("name the municipality: /municipality?code=<kommunkod>", key="code")
    return code


def _page(request: Request, svc: Service, who: Caller, code: str, *, status: int = 201, **extra: Any) -> HTMLResponse:
    plots = store_plots(svc, status="all", municipality_code=code)
    rows = [{k: plain(r.get(k)) for k in SHOWN} for r in redact(plots, who.user).to_dict("records")]
    context = {"code": code, "name": svc.region.municipality_names.get(code, code), "plots": rows, **extra}
    return render(request, "municipality.html", context, caller=who, status=status if extra else 200)


@router.get("/municipality", response_class=HTMLResponse)
def municipality_page(
    request: Request,
    code: str | None = None,
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:
    return _page(request, svc, who, _code(who, code))


@router.get("/municipality/map.html", response_class=HTMLResponse)
def municipality_map(
    code: str | None = None, svc: Service = Depends(service), who: Caller = Depends(MUNICIPALITY_PAGE)
) -> HTMLResponse:
    plots = store_plots(svc, status="all", municipality_code=_code(who, code))
    return HTMLResponse(plots_map(plots, svc.region), headers=file_headers("map.html"))


@router.post("/municipality/upload", response_class=HTMLResponse)
async def upload_page(
    request: Request,
    file: UploadFile = File(),
    crs: str = Form(default="", max_length=100),
    accept_valid: bool = Form(default=False),
    repair: bool = Form(default=False),
    code: str | None = Form(default=None, max_length=8),
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> HTMLResponse:
    municipality = _code(who, code)
    try:
        answer = await run_in_threadpool(
            store_upload, svc, who.user, file, None, municipality=municipality, crs=crs, accept_valid=accept_valid,
            repair=repair,
        )  # fmt: skip
    except UploadError as exc:
        report = exc.report.to_json() if exc.report is not None else None
        return _page(request, svc, who, municipality, status=422, refused=str(exc).split("\n")[0],
                     report=json.loads(report) if report else None)  # fmt: skip
    request.state.audit = {k: answer["summary"][k] for k in ("municipality_code", "inserted", "updated")}
    return _page(request, svc, who, municipality, status=201, stored=answer["message"], report=answer["report"])


@router.post("/plots/{plot_id:path}/withdraw")
def withdraw_page(
    request: Request,
    plot_id: str,
    reason: str = Form(default="", max_length=500),
    svc: Service = Depends(service),
    who: Caller = Depends(MUNICIPALITY_PAGE),
) -> Response:
    code = plot_owner(plot_id)
    own_municipality(who.user, code, f"plot {plot_id[:60]!r}")
    open_store(svc.config.store, create=False).withdraw(plot_id, uploader=who.user.username, reason=reason)
    request.state.audit = {"plot": plot_id}
    target = "/municipality" + ("" if who.user.municipality else f"?code={code}")
    return RedirectResponse(target, status_code=303)


@router.get("/plots/{plot_id:path}/history", response_class=HTMLResponse)
def history_page(
    request: Request, plot_id: str, svc: Service = Depends(service), who: Caller = Depends(page_caller)
) -> HTMLResponse:
    code = readable(who.user, plot_id, f"the history of {plot_id[:60]!r}")
    h = open_store(svc.config.store, create=False).history(plot_id).assign(**{s.MUNICIPALITY_CODE: code})
    rows = [{k: plain(v) for k, v in r.items()} for r in redact(h, who.user).to_dict("records")]
    return render(request, "history.html", {"plot_id": plot_id, "versions": rows}, caller=who)
