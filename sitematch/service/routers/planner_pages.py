"""The planner's page: brownfield sites, and the stored profiles each passes or nearly passes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from sitematch import schema as s
from sitematch.service.auth import PLANNER_PAGE, Caller
from sitematch.service.runs import fits, open_layers, plain, run_limited
from sitematch.service.state import Service, service
from sitematch.service.templating import render

router = APIRouter(include_in_schema=False)


def brownfield(svc: Service, who: Caller) -> list[dict[str, Any]]:
    """Every brownfield site in the region and the store, with the profiles it passes or nearly passes."""
    profiles = [(p.id, p.profile(svc.registry)) for p in svc.records.profiles(who.user)]

    def work(step: Any) -> list[dict[str, Any]]:
        layers = open_layers(svc.config.layers, svc.config.store)
        plots = layers["plots"]
        sites = plots[plots[s.BROWNFIELD].fillna(False).astype(bool)]
        step("layers")
        found = fits(layers, profiles, sites[s.PLOT_ID].astype(str).tolist(), step)
        names = layers.municipality_names
        return [
            {
                "plot_id": row[s.PLOT_ID],
                "name": plain(row[s.NAME]),
                "municipality": names.get(str(row[s.MUNICIPALITY_CODE]), row[s.MUNICIPALITY_CODE]),
                "area_ha": plain(row[s.AREA_HA]),
                "mifo_risk_class": plain(row[s.MIFO_RISK_CLASS]),
                "passes": [f for f in found[row[s.PLOT_ID]] if f["status"] == "ranked"],
                "nearly": [f for f in found[row[s.PLOT_ID]] if f["status"] == "near miss"],
            }
            for _, row in sites.sort_values(s.PLOT_ID).iterrows()
        ]

    return run_limited(work, "the brownfield page")


@router.get("/brownfield", response_class=HTMLResponse)
async def brownfield_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)
) -> HTMLResponse:
    sites = await run_in_threadpool(brownfield, svc, who)
    n_profiles = len(svc.records.profiles(who.user))
    return render(request, "brownfield.html", {"sites": sites, "n_profiles": n_profiles}, caller=who)


def gaps(svc: Service, who: Caller) -> dict[str, Any]:
    """The gap summary of the stored profiles the caller may see (kept until the data change)."""
    from sitematch.service.planner_cache import gap_view

    profiles = [p.profile(svc.registry) for p in svc.records.profiles(who.user)]

    def work(step: Any) -> dict[str, Any]:
        layers = open_layers(svc.config.layers, svc.config.store)
        step("layers")
        return gap_view(layers, profiles)

    return run_limited(work, "the gap summary")


@router.get("/planner/gaps", response_class=HTMLResponse)
async def gaps_page(
    request: Request, svc: Service = Depends(service), who: Caller = Depends(PLANNER_PAGE)
) -> HTMLResponse:
    view = await run_in_threadpool(gaps, svc, who)
    return render(request, "planner_gaps.html", view, caller=who)
