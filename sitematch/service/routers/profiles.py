"""``/api/profiles``: stored profiles (list, get, keep, assign), validation, and the JSON Schema."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, Field

from sitematch.profile import Profile, profile_schema
from sitematch.service.auth import ADMIN, ADVISER, Caller, caller
from sitematch.service.profiles import PROFILE_DOC, check_advisers, parse
from sitematch.service.records import profile_data_for
from sitematch.service.state import Service, service

router = APIRouter(prefix="/api/profiles", tags=["profiles"])


class NewProfile(BaseModel):
    """A profile to keep, and the advisers (besides you) who may see it when it is confidential."""

    profile: dict[str, Any] = Field(description=PROFILE_DOC)
    advisers: list[str] = Field(default_factory=list, max_length=50)


class Advisers(BaseModel):
    """The advisers a stored profile is assigned to."""

    advisers: list[str] = Field(max_length=50)


def described(profile: Profile) -> dict[str, Any]:
    """A validated profile and what it asks for, in words."""
    return {
        "valid": True,
        "name": profile.name,
        "requires": [r.describe() for r in profile.requirements],
        "prefers": [p.describe() for p in profile.preferences],
        "warnings": list(profile.warnings),
        "profile": profile.to_data(),
    }


@router.get("", summary="The stored profiles you may see")
def list_profiles(svc: Service = Depends(service), who: Caller = Depends(caller)) -> list[dict[str, Any]]:
    return [p.summary() for p in svc.records.profiles(who.user)]


@router.get("/schema", summary="The profile's JSON Schema (for editors and forms)")
def schema(svc: Service = Depends(service), _: Caller = Depends(caller)) -> dict[str, Any]:
    return profile_schema(svc.registry)


@router.post("/validate", summary="Check a profile: what it asks for, or the first mistake (422)")
def validate(
    data: dict[str, Any] = Body(description=PROFILE_DOC),
    svc: Service = Depends(service),
    _: Caller = Depends(caller),
) -> dict[str, Any]:
    return described(parse(svc, data))


@router.post("", status_code=201, summary="Keep a profile (advisers)")
def add_profile(
    request: Request, body: NewProfile, svc: Service = Depends(service), who: Caller = Depends(ADVISER)
) -> dict[str, Any]:
    check_advisers(svc, body.advisers)
    stored = svc.records.add_profile(parse(svc, body.profile), created_by=who.user.username,
                                     advisers=tuple(body.advisers))  # fmt: skip
    request.state.audit = {"profile": stored.id, "confidential": stored.confidential}
    return {**stored.summary(), "profile": stored.data}


@router.get("/{profile_id}", summary="A stored profile")
def get_profile(profile_id: str, svc: Service = Depends(service), who: Caller = Depends(caller)) -> dict[str, Any]:
    stored = svc.records.profile(profile_id)
    stored.check(who.user, "profile")
    return {**stored.summary(), "profile": profile_data_for(who.user, stored.data)}


@router.put("/{profile_id}/advisers", summary="Assign a stored profile to advisers (admins)")
def assign(
    request: Request,
    profile_id: str,
    body: Advisers,
    svc: Service = Depends(service),
    _: Caller = Depends(ADMIN),
) -> dict[str, Any]:
    check_advisers(svc, body.advisers)
    stored = svc.records.assign(profile_id, tuple(body.advisers))
    request.state.audit = {"profile": profile_id, "advisers": body.advisers}
    return stored.summary()
