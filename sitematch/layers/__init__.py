"""Reading, validating and holding spatial layers (see :class:`LayerSet`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sitematch.layers.layerset import LayerSet, validate_layer


def __getattr__(name: str) -> Any:  # imported on first use: the CLI's --help does not load geopandas
    if name in ("LayerSet", "validate_layer"):
        from sitematch.layers import layerset

        return getattr(layerset, name)
    raise AttributeError(f"module 'sitematch.layers' has no attribute {name!r}")


__all__ = ["LayerSet", "validate_layer"]
