"""Profiles in the service: posted profile data validated with the region's criteria (application
functions the profile, match and lead routes and pages share)."""

from __future__ import annotations

from typing import Any

from sitematch.profile import Profile, build_profile
from sitematch.service.state import Service

#: How an API body's profile field is described in the OpenAPI document.
PROFILE_DOC = "A requirement profile as JSON: its schema is at /api/profiles/schema."


def parse(svc: Service, data: Any, slug: str = "lead") -> Profile:
    """Validate posted profile data with the region's criteria (422 naming the key if it is wrong)."""
    return build_profile(data, where="the profile", slug=slug, registry=svc.registry)
