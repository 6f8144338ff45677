"""``/api/layers``: the region's layers and where every row comes from; the criteria a profile can use."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from sitematch.layers.region import open_region
from sitematch.service.auth import Caller, caller
from sitematch.service.runs import plain
from sitematch.service.state import Service, service

router = APIRouter(prefix="/api/layers", tags=["layers"])


@router.get("", summary="The layers, their row counts, sources and licences")
def list_layers(svc: Service = Depends(service), _: Caller = Depends(caller)) -> dict[str, Any]:
    layers = open_region(svc.config.layers)
    rows = layers.provenance().to_dict("records")
    return {"origin": layers.origin, "layers": [{k: plain(v) for k, v in r.items()} for r in rows]}


@router.get("/criteria", summary="Every criterion a profile can use on this region")
def list_criteria(svc: Service = Depends(service), _: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return [
        {"name": c.name, "kind": c.kind, "label": c.label, "unit": c.unit, "values": list(c.values),
         "measured_as": c.measure.describe()}
        for c in svc.registry
    ]  # fmt: skip
