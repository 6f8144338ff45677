"""Profiles in the service: posted profile data validated with the region's criteria (application
functions the profile, match and lead routes and pages share)."""

from __future__ import annotations

from typing import Any

from sitematch.profile import Profile, build_profile
from sitematch.service.errors import ServiceError
from sitematch.service.state import Service

#: How an API body's profile field is described in the OpenAPI document.
PROFILE_DOC = "A requirement profile as JSON: its schema is at /api/profiles/schema."


def parse(svc: Service, data: Any, slug: str = "lead") -> Profile:
    """Validate posted profile data with the region's criteria (422 naming the key if it is wrong)."""
    return build_profile(data, where="the profile", slug=slug, registry=svc.registry)


def check_advisers(svc: Service, names: list[str]) -> None:
    """Refuse (400, on the ``advisers`` field) any name that is not an adviser's account."""
    for name in names:
        user = svc.accounts.get(name)
        if user is None or user.role != "adviser":
            raise ServiceError(f"{name[:64]!r} is not an adviser's account", key="advisers")
