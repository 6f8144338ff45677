"""The planner's pages: what holds the region back (gap summary, kartbild), the municipality sheets,
the opportunity matrix and the brownfield view (map, sorting, filters, CSV).

Each answer is computed once per data change (plots uploaded or withdrawn, profiles changed) and
kept (:mod:`sitematch.service.planner_views`), within the service's time limit and worker slots.
Planners and advisers see the stored profiles the service's visibility rule lets them see.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from sitematch.service import planner_views as v
from sitematch.service.auth import PLANNER_PAGE, Caller
from sitematch.service.errors import NotFoundError
from sitematch.service.matches import file_headers
from sitematch.service.runs import open_layers, run_limited
from sitematch.service.state import Service, service
from sitematch.service.templating import render

router = APIRouter(include_in_schema=False)


def _run(svc: Service, who: Caller, what: str, job: Any) -> Any:
    """``job(layers, profiles, step)`` for the caller's profiles, in a worker slot within the time limit."""
    profiles = v.planner_profiles(svc, who.user)

    def work(step: Any) -> Any:
        layers = open_layers(svc.config.layers, svc.config.store)
        step("layers")
        return job(layers, profiles, step)

    return run_limited(work, what)


async def _in_thread(svc: Service, who: Caller, what: str, job: Any) -> Any:
    return await run_in_threadpool(_run, svc, who, what, job)


def _csv(data: bytes, name: str) -> Response:
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={**file_headers(name), "Content-Disposition": f'attachment; filename="{name}"'},
    )


def gaps(svc: Service, who: Caller) -> dict[str, Any]:
    """The gap summary of the stored profiles the caller may see (kept until the data change)."""
    from sitematch.service.planner_cache import gap_view

    return _run(svc, who, "the gap summary", lambda layers, profiles, step: gap_view(layers, profiles, step))


@router.get("/planner/gaps", response_class=HTMLResponse)
async def gaps_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)
) -> HTMLResponse:
    view = await run_in_threadpool(gaps, svc, who)
    return render(request, "planner_gaps.html", view, caller=who)


@router.get("/planner/kartbild.html", response_class=HTMLResponse)
async def kartbild_map(svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)) -> HTMLResponse:
    page = await _in_thread(svc, who, "the kartbild", v.kartbild_html)
    return HTMLResponse(page, headers=file_headers("kartbild.html"))


@router.get("/planner/sheets", response_class=HTMLResponse)
async def sheets_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)
) -> HTMLResponse:
    view = await _in_thread(
        svc, who, "the municipality sheets", lambda lay, prof, step: gaps_and_codes(lay, prof, step)
    )
    return render(request, "planner_sheets.html", view, caller=who)


def gaps_and_codes(layers: Any, profiles: Any, step: Any) -> dict[str, Any]:
    """The sheets' list: per municipality with sites, its name and figures."""
    from sitematch.service.planner_cache import gap_view

    view = gap_view(layers, profiles, step)
    v.sheets(layers, profiles, step)  # computed with the list, so opening one is immediate
    return {"municipalities": view["municipalities"], "profiles": view["profiles"]}


def _sheet_code(code: str) -> str:
    if not (code.isdigit() and len(code) == 4):
        raise NotFoundError("a municipality sheet is named by its kommunkod: 4 digits, e.g. 1980")
    return code


@router.get("/planner/sheets/{code}.html", response_class=HTMLResponse)
async def sheet_html(code: str, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)) -> HTMLResponse:
    code = _sheet_code(code)
    pages = await _in_thread(svc, who, "the municipality sheets", v.sheets)
    if code not in pages:
        raise NotFoundError(f"no sheet for municipality {code}: it has no sites")
    return HTMLResponse(pages[code], headers=file_headers(f"{code}.html"))


@router.get("/planner/sheets/{code}.pdf")
async def sheet_pdf(code: str, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)) -> Response:
    code = _sheet_code(code)
    data = await _in_thread(svc, who, "the sheet's PDF", lambda lay, prof, step: v.sheet_pdf(lay, prof, code, step))
    if data is None:
        raise NotFoundError(f"no sheet for municipality {code}: it has no sites")
    return Response(
        data,
        media_type="application/pdf",
        headers={**file_headers(f"{code}.pdf"), "Content-Disposition": f'attachment; filename="kommunblad_{code}.pdf"'},
    )


@router.get("/planner/matrix", response_class=HTMLResponse)
async def matrix_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)
) -> HTMLResponse:
    view = await _in_thread(svc, who, "the opportunity matrix", v.matrix)
    return render(request, "planner_matrix.html", {"profiles": view["profiles"], "rows": view["rows"]}, caller=who)


@router.get("/planner/matrix.csv")
async def matrix_csv(svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)) -> Response:
    view = await _in_thread(svc, who, "the opportunity matrix", v.matrix)
    return _csv(v.csv_bytes(view["csv"]), "opportunity_matrix.csv")


@router.get("/planner/matrix.{suffix}")
async def matrix_picture(
    suffix: Literal["png", "svg"], svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)
) -> Response:
    data = await _in_thread(
        svc, who, "the opportunity matrix", lambda lay, prof, step: v.matrix_picture(lay, prof, suffix, step)
    )
    media = "image/png" if suffix == "png" else "image/svg+xml"
    return Response(data, media_type=media, headers=file_headers(f"opportunity_matrix.{suffix}"))


def _brownfield_query(
    municipality: str | None = Query(default=None, max_length=4, pattern=r"^\d{0,4}$"),
    min_area_ha: float | None = Query(default=None, ge=0, le=1e6),
    mifo: int | None = Query(default=None, ge=1, le=4),
    fits: str | None = Query(default=None, max_length=200),
    sort: Literal["plot", "municipality", "area", "mifo", "fits"] = "plot",
) -> dict[str, Any]:
    return {"municipality": municipality or None, "min_area_ha": min_area_ha, "mifo": mifo, "fits": fits or None,
            "sort": sort}  # fmt: skip


@router.get("/brownfield", response_class=HTMLResponse)
async def brownfield_page(
    request: Request,
    query: dict[str, Any] = Depends(_brownfield_query),
    svc: Service = Depends(service),
    who: Caller = Depends(PLANNER_PAGE),
) -> HTMLResponse:
    every = await _in_thread(svc, who, "the brownfield page", v.brownfield_sites)
    sites = v.filter_brownfield(every, **query)
    munis = sorted({(b["code"], b["municipality"]) for b in every}, key=lambda m: m[1])
    profiles = sorted({f["profile"] for b in every for f in b["passes"]})
    context = {"sites": sites, "total": len(every), "query": query, "municipalities": munis, "fit_profiles": profiles,
               "n_profiles": len(v.planner_profiles(svc, who.user)), "sorts": v.BROWNFIELD_SORTS}  # fmt: skip
    return render(request, "brownfield.html", context, caller=who)


@router.get("/brownfield.csv")
async def brownfield_csv(
    query: dict[str, Any] = Depends(_brownfield_query),
    svc: Service = Depends(service),
    who: Caller = Depends(PLANNER_PAGE),
) -> Response:
    every = await _in_thread(svc, who, "the brownfield page", v.brownfield_sites)
    return _csv(v.csv_bytes(v.brownfield_table(v.filter_brownfield(every, **query))), "brownfield.csv")


@router.get("/brownfield/map.html", response_class=HTMLResponse)
async def brownfield_map(svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)) -> HTMLResponse:
    page = await _in_thread(svc, who, "the brownfield map", v.brownfield_map)
    return HTMLResponse(page, headers=file_headers("map.html"))
