"""Reading, validating and holding spatial layers (see :class:`LayerSet`)."""

from sitematch.layers.layerset import LayerSet, validate_layer

__all__ = ["LayerSet", "validate_layer"]
