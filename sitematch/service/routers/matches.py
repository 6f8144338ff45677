"""``/api/matches``: run a match from a stored or posted profile; its ranking, funnel and files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sitematch.export import folder_name
from sitematch.profile import Profile
from sitematch.service.accounts import User
from sitematch.service.auth import ADVISER, Caller, caller
from sitematch.service.errors import ForbiddenError, NotFoundError, ServiceError
from sitematch.service.records import StoredMatch
from sitematch.service.routers.profiles import PROFILE_DOC, parse
from sitematch.service.runs import for_municipality, match_in_pool, read_result
from sitematch.service.state import Service, service

router = APIRouter(prefix="/api/matches", tags=["matches"])

#: The files of a match, by name: (media type, whether it is printed on demand).
FILES = {
    "map.html": "text/html; charset=utf-8",
    "dossier.html": "text/html; charset=utf-8",
    "dossier.pdf": "application/pdf",
    "ranking.csv": "text/csv; charset=utf-8",
    "funnel.csv": "text/csv; charset=utf-8",
    "ranking.gpkg": "application/geopackage+sqlite3",
}


class MatchRequest(BaseModel):
    """Which profile to match: a stored one (``profile_id``) or one given here (``profile``)."""

    profile_id: str | None = Field(default=None, max_length=64)
    profile: dict[str, Any] | None = Field(default=None, description=PROFILE_DOC)


def links(match_id: str) -> dict[str, str]:
    """Where a match's parts are."""
    base = f"/api/matches/{match_id}"
    return {
        "self": base,
        "page": f"/matches/{match_id}",
        **{name: f"{base}/files/{name}" for name in FILES},
        "ogc_items": f"/ogc/collections/match-{match_id}/items",
    }


def summary(stored: StoredMatch) -> dict[str, Any]:
    """What a list of matches shows."""
    return {
        "id": stored.id,
        "label": stored.label,
        "name": stored.summary["name"],
        "confidential": stored.confidential,
        "created_by": stored.created_by,
        "created_at": stored.created_at,
        "profile_id": stored.profile_id,
        "counts": stored.summary["counts"],
        "why": stored.summary["why"],
        "links": links(stored.id),
    }


def _prepare(svc: Service, user: User, profile_id: str | None, data: Any) -> tuple[str, Profile, Any, tuple[str, ...]]:
    advisers: tuple[str, ...] = ()
    if profile_id is not None:
        stored = svc.records.profile(profile_id)
        stored.check(user, "profile")
        data, advisers = stored.data, stored.advisers
    elif data is None:
        raise ServiceError("give a stored profile's id (profile_id) or a profile (profile)", key="profile")
    match_id = svc.records.new_match_id()
    return match_id, parse(svc, data, slug=match_id), data, advisers


async def start_match(
    request: Request, svc: Service, user: User, *, profile_id: str | None, data: Any
) -> tuple[StoredMatch, dict[str, Any]]:
    """Run and keep a match of a stored profile or of posted profile data.

    The match runs in the service's worker processes, behind its bounded queue (503 with
    ``Retry-After`` when full); its time limit counts from the request's arrival, and it is
    cancelled if the client goes away (see :mod:`sitematch.service.pool`).
    """
    arrived = getattr(request.state, "arrived", None) or time.monotonic()
    match_id, profile, data, advisers = await run_in_threadpool(_prepare, svc, user, profile_id, data)
    result = await match_in_pool(
        user.username,
        data,
        match_id,
        svc.config.layers,
        svc.config.store,
        svc.matches_dir / match_id,
        arrived=arrived,
        gone=request.is_disconnected,
    )
    stored = StoredMatch(
        match_id,
        profile.lead.confidential,
        user.username,
        advisers,
        profile_id=profile_id,
        label=folder_name(profile),
        summary={"name": profile.name, "counts": result["counts"], "why": result["why"]},
    )
    kept = await run_in_threadpool(svc.records.add_match, stored)
    return kept, result


def visible_match(svc: Service, user: User, match_id: str) -> StoredMatch:
    """A stored match ``user`` may see: 404 if there is none, 403 if it is another's confidential lead."""
    stored = svc.records.match(match_id)
    stored.check(user, "match")
    return stored


@router.post("", status_code=201, summary="Run a match (advisers); the best sites and links to the rest")
async def create(
    request: Request, body: MatchRequest, svc: Service = Depends(service), who: Caller = Depends(ADVISER)
) -> dict[str, Any]:
    stored, result = await start_match(request, svc, who.user, profile_id=body.profile_id, data=body.profile)
    request.state.audit = {"match": stored.id, "profile": stored.profile_id, "confidential": stored.confidential}
    return {**summary(stored), "ranked": result["ranked"][:10], "near_misses": result["near_misses"][:10]}


@router.get("", summary="The matches you may see, newest first")
def list_matches(svc: Service = Depends(service), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return [summary(m) for m in svc.records.matches(who.user)]


@router.get("/{match_id}", summary="A match: every ranked site with its explanation, near misses, funnel")
def get_match(match_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)) -> dict[str, Any]:
    stored = visible_match(svc, who.user, match_id)
    result = read_result(svc.matches_dir / stored.id)
    if who.user.municipality:
        result = for_municipality(result, who.user.municipality)
    return {**summary(stored), "result": result}


@router.get("/{match_id}/files/{name}", summary="A file of a match: map, dossier (HTML, PDF), CSV, GeoPackage")
def get_file(match_id: str, name: str, svc: Service = Depends(service), who: Caller = Depends(caller)) -> FileResponse:
    stored = visible_match(svc, who.user, match_id)
    if who.user.municipality:
        raise ForbiddenError(
            "a match's files show every municipality's sites: a municipality sees its own in the match"
        )
    if name not in FILES:
        raise NotFoundError(f"a match has no file {name[:60]!r}; its files: {', '.join(FILES)}")
    folder = svc.matches_dir / stored.id
    path = folder / name
    if name == "dossier.pdf" and not path.exists():
        path = _print_pdf(svc, folder)
    return FileResponse(
        path,
        media_type=FILES[name],
        filename=f"{stored.label}-{name}",
        headers=file_headers(name),
        content_disposition_type="inline" if name.endswith(".html") else "attachment",  # pages open; data saves
    )


def file_headers(name: str) -> dict[str, str]:
    """Headers of a served file: the map and dossier may only be framed by the service's own pages."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return headers


def _print_pdf(svc: Service, folder: Path) -> Path:
    from sitematch.export.pdf import print_pdf

    result = read_result(folder)
    profile = parse(svc, result["profile"], slug=folder.name)
    html = (folder / "dossier.html").read_text(encoding="utf-8")
    return print_pdf(html, folder / "dossier.pdf", profile, lang=profile.lead.language or "en")  # the dossier's
