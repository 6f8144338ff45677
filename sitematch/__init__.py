"""sitematch: match investor requirement profiles against establishment land in Sweden.

The public API::

    from sitematch import LayerSet, load_profile, match

    layers = LayerSet.from_path("layers/region.gpkg")
    result = match(load_profile("scenarios/battery_plant.yaml"), layers)
    result.ranked.head()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitematch.errors import CRSError, LayerError, ProfileError, SitematchError, StoreError, UploadError
    from sitematch.layers.layerset import LayerSet
    from sitematch.matching import match
    from sitematch.profile import Profile, load_profile, parse_profile
    from sitematch.result import MatchResult

#: Where each public name lives: imported on first use, so ``sitematch --help`` and the errors
#: module do not pay for geopandas.
_PUBLIC = {
    "CRSError": "sitematch.errors",
    "LayerError": "sitematch.errors",
    "ProfileError": "sitematch.errors",
    "SitematchError": "sitematch.errors",
    "StoreError": "sitematch.errors",
    "UploadError": "sitematch.errors",
    "LayerSet": "sitematch.layers.layerset",
    "match": "sitematch.matching",
    "Profile": "sitematch.profile",
    "load_profile": "sitematch.profile",
    "parse_profile": "sitematch.profile",
    "MatchResult": "sitematch.result",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'sitematch' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "LayerError",
    "LayerSet",
    "MatchResult",
    "Profile",
    "ProfileError",
    "SitematchError",
    "StoreError",
    "UploadError",
    "load_profile",
    "match",
    "parse_profile",
]
