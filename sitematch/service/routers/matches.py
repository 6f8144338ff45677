"""``/api/matches``: run a match from a stored or posted profile; its ranking, funnel and files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from sitematch.service.auth import ADVISER, Caller, caller
from sitematch.service.errors import ForbiddenError, NotFoundError
from sitematch.service.matches import FILES, file_headers, start_match, summary, visible_match
from sitematch.service.profiles import PROFILE_DOC, parse
from sitematch.service.runs import for_municipality, read_result
from sitematch.service.state import Service, service

router = APIRouter(prefix="/api/matches", tags=["matches"])


class MatchRequest(BaseModel):
    """Which profile to match: a stored one (``profile_id``) or one given here (``profile``)."""

    profile_id: str | None = Field(default=None, max_length=64)
    profile: dict[str, Any] | None = Field(default=None, description=PROFILE_DOC)


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


def _print_pdf(svc: Service, folder: Path) -> Path:
    from sitematch.export.pdf import print_pdf

    result = read_result(folder)
    profile = parse(svc, result["profile"], slug=folder.name)
    html = (folder / "dossier.html").read_text(encoding="utf-8")
    return print_pdf(html, folder / "dossier.pdf", profile, lang=profile.lead.language or "en")  # the dossier's
