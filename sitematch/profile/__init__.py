"""Investor requirement profiles: the model, one validation, and readers for YAML and JSON.

A profile states **hard requirements** (a site that fails one is excluded, and told by how much)
and **weighted preferences** (absolute value functions between breakpoints the profile states).
Every mistake a user can make gets a :class:`~sitematch.errors.ProfileError` naming the file, the
line and the key, what was wrong and how to fix it.

Example profile::

    name: Battery-component plant
    sector: battery manufacturing
    lead: {reference: BS-2026-114, confidential: true}
    requirements:
      min_area_ha: 25                 # min_<criterion> / max_<criterion>, units in the name
      min_grid_capacity_mw: 40
      zoning: [J]                     # allowed values of a category
      max_distance_to_motorway_junction_m: 5000
      max_distance_to_port_m: 80000
      brownfield_allowed: true
    parameters:
      port_min_depth_m: 6.0           # which ports count for distance_to_port_m
    preferences:
      distance_to_motorway_junction_m: {weight: 3, full_at: 1000, zero_at: 5000}
      grid_capacity_mw: {weight: 4, zero_at: 40, full_at: 120, shape: logistic}
      owner: {weight: 1, scores: {kommun: 1.0, privat: 0.4}}

Modules: :mod:`.model` (Profile, Requirement, Preference, Region, Parameters, Lead),
:mod:`.build` (the validation), :mod:`.reader` (YAML with lines, JSON), :mod:`.jsonschema`.
"""

from sitematch.profile.build import build_profile
from sitematch.profile.jsonschema import profile_schema
from sitematch.profile.model import Assembly, Constraint, Lead, Parameters, Preference, Profile, Region, Requirement
from sitematch.profile.reader import load_profile, parse_profile, parse_profile_json

__all__ = [
    "Assembly",
    "Constraint",
    "Lead",
    "Parameters",
    "Preference",
    "Profile",
    "Region",
    "Requirement",
    "build_profile",
    "load_profile",
    "parse_profile",
    "parse_profile_json",
    "profile_schema",
]
