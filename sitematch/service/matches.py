"""Matches in the service: run and keep a match of a stored or posted profile, which matches a user
may see, and how a match and its files are linked and served (application functions the match and
lead routes and pages share)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from sitematch.export import folder_name
from sitematch.profile import Profile
from sitematch.service.accounts import User
from sitematch.service.auth import Caller
from sitematch.service.errors import ServiceError
from sitematch.service.profiles import parse
from sitematch.service.records import StoredMatch
from sitematch.service.runs import match_in_pool
from sitematch.service.state import Service
from sitematch.service.templating import page_language

#: The files of a match, by name: their media type.
FILES = {
    "map.html": "text/html; charset=utf-8",
    "dossier.html": "text/html; charset=utf-8",
    "dossier.pdf": "application/pdf",
    "ranking.csv": "text/csv; charset=utf-8",
    "funnel.csv": "text/csv; charset=utf-8",
    "ranking.gpkg": "application/geopackage+sqlite3",
}


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
        lang=page_language(request, Caller(user, "session")),  # the map's words: the page language of who asked
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


def file_headers(name: str) -> dict[str, str]:
    """Headers of a served file: the map and dossier may only be framed by the service's own pages."""
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"}
    if name.endswith(".html"):
        headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return headers
