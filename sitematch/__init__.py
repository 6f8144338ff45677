"""sitematch: match investor requirement profiles against establishment land in Sweden.

The public API::

    from sitematch import LayerSet, load_profile, match

    layers = LayerSet.from_path("layers/region.gpkg")
    result = match(load_profile("scenarios/battery_plant.yaml"), layers)
    result.ranked.head()
"""

from sitematch.errors import CRSError, LayerError, ProfileError, SitematchError, StoreError, UploadError
from sitematch.layers.layerset import LayerSet
from sitematch.match import match
from sitematch.profile import Profile, load_profile, parse_profile
from sitematch.result import MatchResult

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
