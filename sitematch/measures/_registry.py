"""Measures registered by name, the way pygeoapi registers providers: one table, filled by modules.

Every module in ``sitematch/measures/`` whose name does not start with ``_`` is imported on first
lookup, and registers its measures with :func:`register`. Adding a measure is adding a module.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from sitematch.measures._base import Measure

M = TypeVar("M", bound="type[Measure]")

#: Measure classes by the name a catalogue uses.
MEASURES: dict[str, type[Measure]] = {}
_discovered = False


def register(cls: M) -> M:
    """Class decorator: make a measure available to catalogues under ``cls.name``."""
    MEASURES[cls.name] = cls
    return cls


def discover() -> dict[str, type[Measure]]:
    """Import every measure module in the package (once) and return the table."""
    global _discovered
    if not _discovered:
        import sitematch.measures as package

        for info in pkgutil.iter_modules(package.__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{info.name}")
        _discovered = True
    return MEASURES
