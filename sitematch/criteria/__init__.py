"""The criteria a profile can require or prefer: one registry, read by every stage.

- :class:`Criterion`, :class:`Parameter`, :class:`Registry` — the declarations (:mod:`.model`);
- :data:`BUILTIN` — the built-in ones (:mod:`.builtin`); a region's catalogue adds more;
- :func:`format_value`, :func:`format_values` — words for values, the same everywhere (:mod:`.format`).
"""

from __future__ import annotations

from collections.abc import Mapping

from sitematch.criteria.builtin import BUILTIN
from sitematch.criteria.format import WRONG_UNIT_SUFFIXES, format_code, format_value, format_values
from sitematch.criteria.model import IF_UNKNOWN, KINDS, Criterion, Parameter, Registry, unit_from_name

#: The built-in criteria by name (read-only).
CRITERIA: Mapping[str, Criterion] = BUILTIN.criteria

__all__ = [
    "BUILTIN",
    "CRITERIA",
    "IF_UNKNOWN",
    "KINDS",
    "WRONG_UNIT_SUFFIXES",
    "Criterion",
    "Parameter",
    "Registry",
    "format_code",
    "format_value",
    "format_values",
    "unit_from_name",
]
